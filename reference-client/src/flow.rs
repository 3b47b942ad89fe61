//! Moving envelopes (the engine's inner steps): the outbox to the relay, and the relay's items through sessions to the
//! user (`spec/09-delivery.md`, `spec/08-mailboxes-and-relay.md` §8.3, `spec/05-handshake.md`).
//!
//! Sending ([`flush`]): the outbox's due puts go to the relay one at a time; a stored reply
//! is `on_stored`, an error frame `on_rejected` with its class, a broken connection
//! `on_disconnected`. The state is saved after every change.
//!
//! Receiving ([`fetch_all`]): every mailbox this device owns (each pending invite's bootstrap
//! mailbox, each contact's receive mailbox) is fetched with a proof until the relay has no
//! more. A handshake on a bootstrap mailbox makes the contact; other items are opened with
//! the contact's session; message ids already seen are dropped (DLV-06). New texts are
//! printed and answered with a delivery receipt through the outbox; receipts mark sends
//! delivered. The state is saved durably *before* the items are deleted from the relay, so a
//! crash in between causes a second fetch that deduplication drops, never a loss.

use quietwire::delivery::{SendId, Status};
use quietwire::envelope::Envelope;
use quietwire::event::{Body, Event, MessageId};
use quietwire::handshake::Accepted;
use quietwire::handshake::reconnect::Reconnected;
use quietwire::mailbox::{MailboxKey, Operation};
use quietwire::relay::{Item, ItemId, Reply, Request};
use quietwire::session::Session;
use quietwire::suite::SuitePolicy;
use quietwire::{ErrorClass, UnixTime};

use crate::engine::Engine;
use crate::error::{Fail, Result};
use crate::notice::Notice;
use crate::reconnect::{self, Tried};
use crate::relay::{NetError, Relay};
use crate::state::{
    Bytes, Contact, HistoryEntry, Invitation, PreviousSession, Role, SendKind, SendMeta, State,
};
use crate::sys;

/// TTL asked for every put: 7 days (the reference relay allows 14).
pub const PUT_TTL: u32 = 7 * 24 * 3600;

/// A step failed on the network or locally.
#[derive(Debug)]
pub enum StepError {
    /// The relay connection.
    Net(NetError),
    /// Anything else (saving, a damaged state).
    Fail(Fail),
}

impl From<NetError> for StepError {
    fn from(e: NetError) -> StepError {
        StepError::Net(e)
    }
}

impl From<Fail> for StepError {
    fn from(e: Fail) -> StepError {
        StepError::Fail(e)
    }
}

impl From<StepError> for Fail {
    fn from(e: StepError) -> Fail {
        match e {
            StepError::Net(e) => Fail::new(e.to_string()),
            StepError::Fail(e) => e,
        }
    }
}

/// Seals `event` for contact `contact` and queues it in the outbox. Does not save.
///
/// # Errors
/// If the session cannot send yet (the inviter before the contact's first message) or the
/// event does not fit an envelope.
pub fn queue_event(
    state: &mut State,
    contact: &str,
    event: &Event,
    kind: SendKind,
    now: UnixTime,
) -> Result<SendId> {
    let mut rng = sys::rng();
    let reconnecting = state.reconnect_pending(contact);
    let entry = state.contact_mut(contact)?;
    if entry.stale {
        // A session restored from a backup never encrypts (spec/10-backup.md XBK-24).
        return Err(Fail::new(if reconnecting {
            format!(
                "your session with {contact} was restored from a backup and cannot send; waiting for {contact} to answer the reconnect: run sync"
            )
        } else {
            format!(
                "your session with {contact} was restored from a backup and cannot send; make a new invite for {contact}"
            )
        }));
    }
    let mut session = entry.session()?;
    if !session.can_send() {
        return Err(Fail::new(format!(
            "waiting for {contact}'s first message; run sync"
        )));
    }
    let bytes = session.seal(event, &mut rng).map_err(|e| {
        if e.class() == ErrorClass::EnvelopeTooLarge {
            Fail::new("the message is too large for one envelope")
        } else {
            Fail::new(format!("cannot encrypt for {contact} ({})", e.class()))
        }
    })?;
    entry.set_session(&session);
    let mailbox = *session.peer_mailbox();
    // A receipt is never receipted (DLV-06): the relay's acknowledgement delivers it.
    let send = if kind == SendKind::Receipt {
        state
            .outbox
            .push_without_receipt(*event.id(), mailbox, bytes, PUT_TTL, now, &mut rng)
    } else {
        state
            .outbox
            .push(*event.id(), mailbox, bytes, PUT_TTL, now, &mut rng)
    };
    state.sends.insert(
        send.0,
        SendMeta {
            contact: contact.to_owned(),
            kind,
        },
    );
    Ok(send)
}

/// Seals this device's signed device record as the first event of contact `name`'s pending
/// session ([`Contact::pending`], ENV-07) and queues it. Does not save.
///
/// # Errors
/// No pending session, a damaged state, or a sealing failure.
pub fn queue_pending_record(state: &mut State, name: &str, now: UnixTime) -> Result<()> {
    let mut rng = sys::rng();
    let record = state.device.signed_record(state.generation).to_bytes();
    let event = Event::new(Body::DeviceRecord { record }, &mut rng);
    let pending = state
        .contact_mut(name)?
        .pending
        .as_mut()
        .ok_or_else(|| Fail::new("internal error: no pending session"))?;
    let mut session = pending.session()?;
    let bytes = session
        .seal(&event, &mut rng)
        .map_err(|e| Fail::new(format!("cannot encrypt for {name} ({})", e.class())))?;
    pending.session = Bytes(session.snapshot().to_vec());
    let mailbox = *session.peer_mailbox();
    let send = state
        .outbox
        .push(*event.id(), mailbox, bytes, PUT_TTL, now, &mut rng);
    state.sends.insert(
        send.0,
        SendMeta {
            contact: name.to_owned(),
            kind: SendKind::DeviceRecord,
        },
    );
    Ok(())
}

/// What a flush did.
#[derive(Debug, Default)]
pub struct Flushed {
    /// Puts the relay stored.
    pub stored: usize,
}

/// Sends every due put, saving after each reply. On a lost connection the put in flight is
/// handed back to the outbox for a retry, the state saved, and the error returned.
pub async fn flush(ctx: &mut Engine, relay: &mut Relay) -> Result<Flushed, StepError> {
    let mut rng = sys::rng();
    let mut flushed = Flushed::default();
    ctx.state.outbox.handle_timeout(sys::now(), &mut rng);
    while let Some(put) = ctx.state.outbox.poll_transmit(sys::now()) {
        let send = put.send;
        let result = relay
            .request(Request::Put {
                mailbox: put.mailbox,
                item: put.item,
                envelope: put.envelope,
                ttl: put.ttl,
            })
            .await;
        let now = sys::now();
        match result {
            Ok(Reply::Stored) => {
                ctx.state.outbox.on_stored(send, now);
                flushed.stored = flushed.stored.saturating_add(1);
                finish_receipt(&mut ctx.state, send);
            }
            Err(NetError::Refused { class }) => {
                // A class this version does not know (a newer relay) is retried.
                let class = ErrorClass::from_name(&class).unwrap_or(ErrorClass::RelayUnavailable);
                ctx.state.outbox.on_rejected(send, class, now, &mut rng);
                if let Some(Status::Failed(reason)) = ctx.state.outbox.status(send)
                    && let Some((meta, id)) = ctx.state.send_info(send)
                {
                    let notice = Notice::SendFailed {
                        contact: meta.contact.clone(),
                        id,
                        reason,
                    };
                    ctx.state.notices.push(notice);
                }
            }
            other => {
                ctx.state.outbox.on_disconnected(now, &mut rng);
                ctx.save()?;
                return Err(match other {
                    Err(e) => e.into(),
                    Ok(_) => NetError::Lost("unexpected reply to a put".into()).into(),
                });
            }
        }
        ctx.save()?;
    }
    Ok(flushed)
}

/// A receipt is delivered once the relay stored it (it was pushed without expecting a
/// receipt of its own); it is then forgotten, so the outbox lists the user's messages only.
fn finish_receipt(state: &mut State, send: SendId) {
    let Some((meta, _)) = state.send_info(send) else {
        return;
    };
    if meta.kind == SendKind::Receipt && state.outbox.forget(send) {
        state.sends.remove(&send.0);
    }
}

/// Every mailbox this device owns: the receive mailboxes of replaced sessions still kept,
/// each contact's receive mailbox, those of pending sessions, then the bootstrap mailboxes of
/// pending invites. Receive mailboxes come first so that what a contact sent to
/// a restored session is fetched before a reconnect's handshake replaces that mailbox.
pub fn owned_mailboxes(state: &State) -> Result<Vec<MailboxKey>> {
    let mut keys: Vec<MailboxKey> = Vec::new();
    // What a contact still sent on a replaced session is fetched before the new session's.
    for contact in &state.contacts {
        if let Some(previous) = &contact.previous {
            keys.push(previous.receive_mailbox()?);
        }
    }
    for contact in &state.contacts {
        keys.push(contact.receive_mailbox()?);
    }
    for contact in &state.contacts {
        if let Some(pending) = &contact.pending {
            keys.push(pending.receive_mailbox()?);
        }
    }
    for invite in &state.invites {
        let key = invite.bootstrap()?;
        if !keys.iter().any(|k| k.id() == key.id()) {
            keys.push(key);
        }
    }
    Ok(keys)
}

fn mailbox_key(state: &State, id: &[u8; 32]) -> Result<Option<MailboxKey>> {
    Ok(owned_mailboxes(state)?.into_iter().find(|k| k.id() == id))
}

/// Fetches every owned mailbox until empty; returns how many new texts arrived.
pub async fn fetch_all(ctx: &mut Engine, relay: &mut Relay) -> Result<usize, StepError> {
    let ids: Vec<[u8; 32]> = owned_mailboxes(&ctx.state)?
        .iter()
        .map(|k| *k.id())
        .collect();
    let mut texts = 0;
    for id in ids {
        texts += fetch_mailbox(ctx, relay, &id).await?;
    }
    Ok(texts)
}

/// Fetches one mailbox until the relay has no more (or nothing more can be processed yet).
pub async fn fetch_mailbox(
    ctx: &mut Engine,
    relay: &mut Relay,
    id: &[u8; 32],
) -> Result<usize, StepError> {
    let mut fetched = 0usize;
    let mut texts = 0;
    loop {
        // Ownership may move from a pending invite to a contact between batches.
        let Some(key) = mailbox_key(&ctx.state, id)? else {
            return Ok(texts);
        };
        let proof = relay.prove(&key, Operation::Fetch);
        let reply = relay
            .request(Request::Fetch {
                mailbox: *id,
                proof,
                max: None,
            })
            .await?;
        let Reply::Items { items, more } = reply else {
            return Err(NetError::Lost("unexpected reply to a fetch".into()).into());
        };
        fetched = fetched.saturating_add(items.len());
        if more {
            ctx.state.notices.push(Notice::Fetching { items: fetched });
        }
        let (done, new_texts) = process(ctx, id, &items)?;
        texts += new_texts;
        // Saved by `process`: only now may the relay forget the items.
        let max_delete = usize::try_from(relay.limits().max_delete)
            .unwrap_or(1)
            .max(1);
        for chunk in done.chunks(max_delete) {
            let Some(key) = mailbox_key(&ctx.state, id)? else {
                break;
            };
            let proof = relay.prove(&key, Operation::Delete);
            relay
                .request(Request::Delete {
                    mailbox: *id,
                    proof,
                    items: chunk.to_vec(),
                })
                .await?;
        }
        if !more || done.is_empty() {
            return Ok(texts);
        }
    }
}

/// Processes one fetched batch of mailbox `id`, saves the state, and returns the item ids
/// that may be deleted and the number of new texts.
fn process(ctx: &mut Engine, id: &[u8; 32], items: &[Item]) -> Result<(Vec<ItemId>, usize)> {
    let now = sys::now();
    let mut handled = vec![false; items.len()];
    let mut done: Vec<ItemId> = Vec::new();
    let held = accept_handshake(&mut ctx.state, id, items, &mut handled, &mut done, now)?;
    let texts = open_items(
        &mut ctx.state,
        id,
        &held,
        items,
        &mut handled,
        &mut done,
        now,
    )?;
    ctx.save()?;
    Ok((done, texts))
}

/// On a pending invite's bootstrap mailbox: tries every item as the handshake (a retried
/// handshake may have been stored after the acceptor's first texts), and on success turns
/// the invite into a contact whose receive mailbox is the bootstrap mailbox (MBX-04), or, for
/// a reconnect, gives the existing contact that new session and mailbox; it then returns the
/// envelopes held from earlier batches, for the new session to open first.
///
/// While no handshake is found, the items that did not open as one are moved off the relay
/// into the invite's held envelopes ([`Invitation::hold`]), so that junk in the mailbox (any
/// well-formed envelope: anyone may put into a mailbox whose id they know) can never keep the
/// handshake out of the relay's fetch window.
fn accept_handshake(
    state: &mut State,
    id: &[u8; 32],
    items: &[Item],
    handled: &mut [bool],
    done: &mut Vec<ItemId>,
    now: UnixTime,
) -> Result<Vec<Bytes>> {
    let mut position = None;
    for (i, invite) in state.invites.iter().enumerate() {
        if invite.bootstrap()?.id() == id {
            position = Some(i);
        }
    }
    let Some(position) = position else {
        return Ok(Vec::new());
    };
    let Some(invitation) = state.invites.get(position).cloned() else {
        return Ok(Vec::new());
    };
    let Some(mut pending) = invitation.pending(state.suite, now)? else {
        state.notices.push(Notice::InviteExpired {
            contact: invitation.contact.clone(),
            reconnect: invitation.reconnect.is_some(),
        });
        state.invites.remove(position);
        for (flag, item) in handled.iter_mut().zip(items) {
            *flag = true;
            done.push(item.id);
        }
        return Ok(Vec::new());
    };
    let mut installed = false;
    for (flag, item) in handled.iter_mut().zip(items) {
        let Ok(envelope) = Envelope::receive(&item.envelope, id) else {
            // Not even an envelope for this mailbox: junk.
            *flag = true;
            done.push(item.id);
            continue;
        };
        let Ok(accepted) = pending.receive_handshake(envelope.blob(), now, &SuitePolicy::ALL)
        else {
            continue;
        };
        *flag = true;
        done.push(item.id);
        installed = match &invitation.reconnect {
            Some(send) => reconnected(state, &invitation, send, accepted, now)?,
            None => {
                new_contact(state, &invitation, accepted, now)?;
                true
            }
        };
        if installed {
            state.invites.remove(position);
            break;
        }
    }
    if installed {
        return Ok(invitation.held);
    }
    // No handshake yet: hold what is left, so that the next fetch sees further items.
    let Some(pending_invite) = state.invites.get_mut(position) else {
        return Ok(Vec::new());
    };
    let mut dropped = 0usize;
    for (flag, item) in handled.iter_mut().zip(items) {
        if *flag {
            continue;
        }
        *flag = true;
        done.push(item.id);
        dropped += pending_invite.hold(&item.envelope);
    }
    if dropped > 0 {
        state.notices.push(Notice::InviteMailboxOverflow {
            contact: invitation.contact.clone(),
            dropped,
        });
    }
    Ok(Vec::new())
}

/// The handshake of an invite to a new contact: the contact, with the acceptor's record. An
/// identity that is a contact already (one restored from a backup, invited again) gets the new
/// session instead.
fn new_contact(
    state: &mut State,
    invitation: &Invitation,
    accepted: Accepted,
    now: UnixTime,
) -> Result<()> {
    let identity = *accepted.peer.record().identity_key();
    let session = Session::new(accepted.ratchet, accepted.mailbox);
    if let Some(index) = state.contact_by_identity(&identity)
        && let Some(contact) = state.contacts.get_mut(index)
    {
        // The contact may still write on the old session until it sees this device's first
        // message on the new one: keep it for opening.
        let previous = (!contact.stale).then(|| PreviousSession {
            session: contact.session.clone(),
            receive_seed: contact.receive_seed.clone(),
            retiring: false,
        });
        contact.replace_session(
            &session,
            invitation.bootstrap_seed.clone(),
            Role::Inviter,
            None,
        );
        contact.previous = previous;
        let name = contact.name.clone();
        let _newer = reconnect::keep_record(state, &name, &accepted.peer)?;
        state.notices.push(Notice::SessionReplaced {
            contact: name,
            identity,
        });
        return Ok(());
    }
    let name = state.free_name(&invitation.contact);
    let mut contact = Contact::new(
        name.clone(),
        &identity,
        &session,
        invitation.bootstrap_seed.clone(),
        Role::Inviter,
        now,
    );
    contact.device_record = Some(Bytes(accepted.peer.to_bytes()));
    contact.verified = state.take_unreachable(&identity);
    state.contacts.push(contact);
    state.notices.push(Notice::ContactAdded {
        contact: name,
        identity,
    });
    Ok(())
}

/// The handshake that answers a reconnect (this device was restored from a backup): if it is
/// from the contact's identity, the contact gets the new session, the bootstrap mailbox as
/// its receive mailbox and the newer device record, and the reconnect send is delivered.
/// Returns whether it was installed.
fn reconnected(
    state: &mut State,
    invitation: &Invitation,
    send: &Bytes,
    accepted: Accepted,
    now: UnixTime,
) -> Result<bool> {
    let name = invitation.contact.as_str();
    let identity = *accepted.peer.record().identity_key();
    let contact = state.contact_mut(name)?;
    if contact.identity()? != identity {
        state.notices.push(Notice::ReconnectFromStranger {
            contact: name.to_owned(),
            identity,
        });
        return Ok(false);
    }
    let session = Session::new(accepted.ratchet, accepted.mailbox);
    contact.replace_session(
        &session,
        invitation.bootstrap_seed.clone(),
        Role::Inviter,
        None,
    );
    let _newer = reconnect::keep_record(state, name, &accepted.peer)?;
    state.outbox.on_receipt(&send.array()?, now);
    state.notices.push(Notice::ReconnectAnswered {
        contact: name.to_owned(),
        identity,
    });
    Ok(true)
}

/// On a contact's receive mailbox: opens the envelopes `held` before the handshake, then
/// every item not handled yet; an item that does not open is tried as a reconnect from the
/// contact.
fn open_items(
    state: &mut State,
    id: &[u8; 32],
    held: &[Bytes],
    items: &[Item],
    handled: &mut [bool],
    done: &mut Vec<ItemId>,
    now: UnixTime,
) -> Result<usize> {
    let mut found = None;
    for (i, contact) in state.contacts.iter().enumerate() {
        if contact.receive_mailbox()?.id() == id {
            found = Some((i, Slot::Current));
        } else if let Some(previous) = &contact.previous
            && previous.receive_mailbox()?.id() == id
        {
            found = Some((i, Slot::Previous));
        } else if let Some(pending) = &contact.pending
            && pending.receive_mailbox()?.id() == id
        {
            found = Some((i, Slot::Pending));
        }
    }
    let Some((index, slot)) = found else {
        return Ok(0); // still a pending invite: leave the items for later
    };
    let Some(contact) = state.contacts.get_mut(index) else {
        return Ok(0);
    };
    let name = contact.name.clone();
    let mut session = match (slot, &contact.previous, &contact.pending) {
        (Slot::Previous, Some(previous), _) => {
            if previous.retiring && items.is_empty() && held.is_empty() {
                // The contact writes on the new session and nothing is left here.
                contact.previous = None;
                return Ok(0);
            }
            previous.session()?
        }
        (Slot::Pending, _, Some(pending)) => pending.session()?,
        _ => contact.session()?,
    };
    let mut opened_any = false;
    let mut switched = false;
    let mut handshake_id = if slot == Slot::Current {
        contact.handshake_id.clone()
    } else {
        None
    };
    let mut received: Vec<MessageId> = Vec::new();
    let mut reconnect: Option<Box<Reconnected>> = None;
    let mut dropped = 0usize;
    let mut texts = 0usize;
    let fetched = handled
        .iter_mut()
        .zip(items)
        .filter_map(|(flag, item)| {
            if *flag {
                return None;
            }
            *flag = true;
            done.push(item.id);
            Some(item.envelope.as_slice())
        })
        .collect::<Vec<&[u8]>>();
    for envelope in held.iter().map(|b| b.0.as_slice()).chain(fetched) {
        let event = match session.open_envelope(envelope, id) {
            Ok(event) => event,
            // A copy of something already opened: drop silently.
            Err(e) if e.class() == ErrorClass::RatchetReplay => continue,
            Err(_) if slot != Slot::Current => {
                dropped += 1;
                continue;
            }
            Err(_) => {
                match reconnect::try_open(state, &name, envelope, id, now) {
                    Tried::Reconnect(opened) if reconnect.is_none() => reconnect = Some(opened),
                    Tried::Copy => {}
                    _ => dropped += 1,
                }
                continue;
            }
        };
        opened_any = true;
        // On the current session, anything but the device record that opens a session
        // (ENV-07) shows that the contact switched to it.
        switched |= slot == Slot::Current && !matches!(event.body(), Body::DeviceRecord { .. });
        // Anything from the contact confirms our handshake.
        if let Some(h) = handshake_id.take() {
            state.outbox.on_receipt(&h.array()?, now);
        }
        if !state.inbox.first_delivery(event.id(), now) {
            continue;
        }
        match event.body() {
            Body::Text { text, .. } => {
                state.notices.push(Notice::Text {
                    contact: name.clone(),
                    id: *event.id(),
                    text: text.clone(),
                    at: now,
                });
                state.history.push(HistoryEntry {
                    contact: name.clone(),
                    outgoing: false,
                    message_id: Bytes::from(&event.id()[..]),
                    text: text.clone(),
                    at: now.as_secs(),
                });
                texts += 1;
            }
            // No receipt for a receipt (DLV-06).
            Body::ReceiptDelivered { ids } => {
                for id in ids {
                    if let Some(send) = state.outbox.on_receipt(id, now) {
                        finish_device_record(state, send);
                    }
                }
                continue;
            }
            Body::ReceiptRead { .. } => continue,
            Body::DeviceRecord { record } => {
                reconnect::on_device_record(state, &name, record)?;
            }
            // Other kinds are not used by this client (unknown kinds are ignorable), but
            // they are delivered, so they are receipted too.
            _ => {}
        }
        received.push(*event.id());
    }
    if dropped > 0 {
        state.notices.push(Notice::Undecryptable {
            contact: name.clone(),
            count: dropped,
        });
    }
    if let Some(contact) = state.contacts.get_mut(index) {
        match slot {
            Slot::Current => {
                contact.set_session(&session);
                contact.handshake_id = handshake_id;
                if switched && let Some(previous) = contact.previous.as_mut() {
                    previous.retiring = true;
                }
            }
            Slot::Previous => {
                if let Some(previous) = contact.previous.as_mut() {
                    previous.session = Bytes(session.snapshot().to_vec());
                }
            }
            Slot::Pending if opened_any => {
                if let Some(h) = contact.confirm_pending(&session) {
                    state.outbox.on_receipt(&h.array()?, now);
                    state.notices.push(Notice::PendingSessionConfirmed {
                        contact: name.clone(),
                    });
                }
            }
            Slot::Pending => {
                if let Some(pending) = contact.pending.as_mut() {
                    pending.session = Bytes(session.snapshot().to_vec());
                }
            }
        }
    }
    match reconnect {
        // The new session replaces this one; the receipts go through it.
        Some(opened) => reconnect::accept(state, &name, &opened, now)?,
        // The session's first event, as soon as it can send (ENV-07).
        None => reconnect::queue_own_record(state, &name, now)?,
    }
    reconnect::queue_receipts(state, &name, &received, now)?;
    Ok(texts)
}

/// Which of a contact's sessions a mailbox belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// The session in use.
    Current,
    /// A session a new invite's handshake replaced, kept for opening.
    Previous,
    /// A session this device started by accepting a new invite, not confirmed yet.
    Pending,
}

/// A device-record event is delivered once the contact's receipt came: it is then
/// forgotten, so the outbox lists the user's messages.
fn finish_device_record(state: &mut State, send: SendId) {
    let Some((meta, _)) = state.send_info(send) else {
        return;
    };
    if meta.kind == SendKind::DeviceRecord
        && state.outbox.status(send) == Some(Status::Delivered)
        && state.outbox.forget(send)
    {
        state.sends.remove(&send.0);
    }
}
