//! Device records and reconnects (`spec/07-envelope.md` ENV-07, `spec/05-handshake.md` §5.8
//! HSK-07 to HSK-09, `spec/10-backup.md` XBK-23 and XBK-24).
//!
//! - **Device records.** Each side of a session sends its signed device record as its first
//!   event (kind 13): the acceptor right after the handshake, the inviter as soon as its
//!   ratchet can send, that is after the acceptor's first message opened
//!   ([`queue_own_record`]). A received record is verified, must be of the contact's identity,
//!   and replaces the stored one only if its generation is higher ([`keep_record`], with the
//!   checks of [`newer_record`]). The record is what a backup needs to reconnect with the
//!   contact later.
//! - **Reconnect, restored side.** A device restored from a backup has new KEM and ratchet
//!   keys and only stale sessions, which never encrypt. For each contact whose device record
//!   it holds, it makes a new single-use invite with its own bootstrap mailbox, seals it with
//!   its new device record to the contact's device KEM key, and puts it into the mailbox it
//!   used to write to ([`send_reconnect`]). The invitation stays pending, linked to the
//!   contact; the handshake that answers it replaces the contact's session
//!   (the engine's fetch step).
//! - **Reconnect, contact side.** An item of a contact's receive mailbox that does not open
//!   with the session is tried as a reconnect from the identity held for that contact
//!   ([`try_open`]); one that opens is accepted like `accept` does: a new receive mailbox, the
//!   handshake through the outbox to the invite's bootstrap mailbox, a new session replacing
//!   the old one, and this device's record as the session's first event ([`accept`]).

use quietwire::ErrorClass;
use quietwire::UnixTime;
use quietwire::envelope::Envelope;
use quietwire::event::{Body, Event, MAX_RECEIPT_IDS};
use quietwire::handshake::{self, reconnect};
use quietwire::identity::{SignedDeviceRecord, newer_record, supersedes};
use quietwire::invite::{Invite, InviteParams};
use quietwire::mailbox::MailboxKey;
use quietwire::session::Session;
use quietwire::suite::SuitePolicy;

use crate::error::{Fail, Result};
use crate::flow::{self, PUT_TTL};
use crate::notice::{Notice, Refusal};
use crate::relay;
use crate::state::{Bytes, Invitation, Role, SendKind, SendMeta, State};
use crate::sys;

/// How long a reconnect invite stays valid: as long as the relay keeps the message that
/// carries it.
pub const RECONNECT_LIFETIME: u64 = PUT_TTL as u64;

/// Queues this device's signed device record to contact `name` as the session's first event,
/// unless it was sent in this session already or the session cannot send yet (the inviter
/// before the acceptor's first message, or a stale session). Does not save.
///
/// # Errors
/// An unknown contact, a damaged state, or a sealing failure.
pub fn queue_own_record(state: &mut State, name: &str, now: UnixTime) -> Result<()> {
    let contact = state.contact(name)?;
    if contact.record_sent || contact.stale || !contact.session()?.can_send() {
        return Ok(());
    }
    let record = state.device.signed_record(state.generation).to_bytes();
    let event = Event::new(Body::DeviceRecord { record }, &mut sys::rng());
    flow::queue_event(state, name, &event, SendKind::DeviceRecord, now)?;
    state.contact_mut(name)?.record_sent = true;
    Ok(())
}

/// Queues delivery receipts for `ids` (and for those held back earlier) to contact `name`,
/// or holds them back while the session cannot send. Does not save.
///
/// # Errors
/// An unknown contact, a damaged state, or a sealing failure.
pub fn queue_receipts(
    state: &mut State,
    name: &str,
    ids: &[[u8; 16]],
    now: UnixTime,
) -> Result<()> {
    let contact = state.contact_mut(name)?;
    contact
        .pending_receipts
        .extend(ids.iter().map(|id| Bytes::from(&id[..])));
    if contact.pending_receipts.is_empty() || contact.stale || !contact.session()?.can_send() {
        return Ok(());
    }
    let held = core::mem::take(&mut contact.pending_receipts);
    let mut all = Vec::with_capacity(held.len());
    for id in &held {
        all.push(id.array::<16>()?);
    }
    let mut rng = sys::rng();
    for chunk in all.chunks(MAX_RECEIPT_IDS) {
        let receipt = Event::new(
            Body::ReceiptDelivered {
                ids: chunk.to_vec(),
            },
            &mut rng,
        );
        flow::queue_event(state, name, &receipt, SendKind::Receipt, now)?;
    }
    Ok(())
}

/// A device record received from contact `name` (an event of kind 13): kept if it verifies,
/// is of the contact's identity, and is newer than the one held (ENV-07, checked by
/// [`newer_record`]). Does not save.
///
/// # Errors
/// An unknown contact or a damaged state (an ignored record is reported, not an error).
pub fn on_device_record(state: &mut State, name: &str, bytes: &[u8]) -> Result<()> {
    let had = state.contact(name)?.device_record.is_some();
    match keep_bytes(state, name, bytes)? {
        Ok(generation) if had => state.notices.push(Notice::DeviceRecordUpdated {
            contact: name.to_owned(),
            generation,
        }),
        Ok(_) => {}
        Err(class) => state.notices.push(Notice::DeviceRecordIgnored {
            contact: name.to_owned(),
            class,
        }),
    }
    Ok(())
}

/// Stores `record` for contact `name` if it is of the contact's identity and of a higher
/// generation than the one held (or none is held); returns whether it did.
///
/// # Errors
/// An unknown contact or a damaged state.
pub fn keep_record(state: &mut State, name: &str, record: &SignedDeviceRecord) -> Result<bool> {
    let contact = state.contact_mut(name)?;
    let held = contact.device_record()?.map(|r| r.record().generation());
    if supersedes(record, &contact.identity()?, held).is_err() {
        return Ok(false);
    }
    contact.device_record = Some(Bytes(record.to_bytes()));
    Ok(true)
}

/// Stores the device record `bytes` for contact `name` if [`newer_record`] keeps it; returns
/// its generation, or the class for which it was ignored.
fn keep_bytes(
    state: &mut State,
    name: &str,
    bytes: &[u8],
) -> Result<core::result::Result<u64, ErrorClass>> {
    let contact = state.contact_mut(name)?;
    let held = contact.device_record()?.map(|r| r.record().generation());
    match newer_record(bytes, &SuitePolicy::ALL, &contact.identity()?, held) {
        Ok(record) => {
            contact.device_record = Some(Bytes(record.to_bytes()));
            Ok(Ok(record.record().generation()))
        }
        Err(e) => Ok(Err(e.class())),
    }
}

/// What a restore's reconnect did for one contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// The sealed invite is in the outbox.
    Queued,
    /// The contact's device record is of another suite than this identity.
    OtherSuite,
}

/// Makes a reconnect to contact `name`, whose device record is known, through `mailbox` (the
/// contact's receive mailbox, where this identity used to write): a new single-use invite
/// with a fresh bootstrap mailbox, sealed with this device's record to the contact's device
/// KEM key, queued in the outbox; the invitation is kept pending and linked to the contact.
/// Does not save.
///
/// # Errors
/// No device record held for the contact, a damaged state, or a sealing failure.
pub fn send_reconnect(
    state: &mut State,
    name: &str,
    mailbox: [u8; 32],
    now: UnixTime,
) -> Result<Sent> {
    let record = state
        .contact(name)?
        .device_record()?
        .ok_or_else(|| Fail::new(format!("no device record of {name} to reconnect with")))?;
    if record.record().suite() != state.suite {
        return Ok(Sent::OtherSuite);
    }
    let mut rng = sys::rng();
    let bootstrap = MailboxKey::generate(&mut rng);
    let expires = now.saturating_add(RECONNECT_LIFETIME);
    let params = InviteParams {
        relay_hints: vec![state.relay.clone()],
        mailbox: *bootstrap.id(),
        expires,
        single_use: true,
    };
    let (signed, secrets) = Invite::create(state.device.identity(), state.suite, params, &mut rng)
        .map_err(|e| {
            Fail::new(format!(
                "cannot make the reconnect invite for the relay {:?} ({})",
                state.relay,
                e.class()
            ))
        })?;
    let own = state.device.signed_record(state.generation);
    let message = reconnect::seal(&record, &signed, &own, &mut rng).map_err(|e| {
        Fail::new(format!(
            "cannot seal the reconnect to {name} ({})",
            e.class()
        ))
    })?;
    let envelope = Envelope::new(mailbox, message)
        .map_err(|e| {
            Fail::new(format!(
                "cannot build the reconnect envelope ({})",
                e.class()
            ))
        })?
        .to_bytes();
    // Not an event: this id names the send until the contact's handshake confirms it.
    let id = random_id();
    let send = state
        .outbox
        .push(id, mailbox, envelope, PUT_TTL, now, &mut rng);
    state.sends.insert(
        send.0,
        SendMeta {
            contact: name.to_owned(),
            kind: SendKind::Reconnect,
        },
    );
    state.invites.push(Invitation {
        contact: name.to_owned(),
        invite: Bytes(signed.to_bytes()),
        kem_seed: Bytes(secrets.kem.dangerous_seed().to_vec()),
        ratchet_secret: Bytes(secrets.ratchet.dangerous_bytes().to_vec()),
        bootstrap_seed: Bytes(bootstrap.dangerous_seed().to_vec()),
        expires: expires.as_secs(),
        reconnect: Some(Bytes::from(&id[..])),
        held: Vec::new(),
    });
    Ok(Sent::Queued)
}

/// What an item that did not open with a contact's session turned out to be.
#[derive(Debug)]
pub enum Tried {
    /// Not a reconnect from this contact: junk, or a message of an older session.
    Nothing,
    /// A copy of a reconnect already accepted.
    Copy,
    /// A new reconnect from the contact, verified.
    Reconnect(Box<reconnect::Reconnected>),
}

/// Tries an item of contact `name`'s receive mailbox `mailbox` as a reconnect sealed to
/// this device by the identity held for the contact (HSK-08).
pub fn try_open(
    state: &mut State,
    name: &str,
    envelope: &[u8],
    mailbox: &[u8; 32],
    now: UnixTime,
) -> Tried {
    let Ok(contact) = state.contact(name) else {
        return Tried::Nothing;
    };
    let (Ok(envelope), Ok(guard)) = (
        Envelope::receive(envelope, mailbox),
        contact.reconnect_guard(),
    ) else {
        return Tried::Nothing;
    };
    match guard.open(&state.device, envelope.blob(), now, &SuitePolicy::ALL) {
        Ok(opened) => Tried::Reconnect(Box::new(opened)),
        // A copy of a reconnect already accepted (HSK-08 check 8).
        Err(e) if e.class() == ErrorClass::HandshakeReplay => Tried::Copy,
        Err(e) => {
            // Sealed to this device but refused: tell the user why; anything else is junk.
            let why = match e.class() {
                ErrorClass::HandshakeGeneration => Some(Refusal::OldGeneration {
                    held: guard.generation(),
                }),
                ErrorClass::InviteExpired => Some(Refusal::Expired),
                class @ (ErrorClass::HandshakeIdentity | ErrorClass::HandshakeSuite) => {
                    Some(Refusal::NotTheContact(class))
                }
                _ => None,
            };
            if let Some(why) = why {
                state.notices.push(Notice::ReconnectRefused {
                    contact: name.to_owned(),
                    why,
                });
            }
            Tried::Nothing
        }
    }
}

/// Accepts a verified reconnect from contact `name`: a new receive mailbox, the handshake
/// queued to the invite's bootstrap mailbox, a new session replacing the old one (this device
/// is the acceptor and may send at once), the newer device record kept, and this device's
/// record queued as the session's first event. Does not save.
///
/// # Errors
/// An unknown contact, a damaged state, or a handshake failure.
pub fn accept(
    state: &mut State,
    name: &str,
    opened: &reconnect::Reconnected,
    now: UnixTime,
) -> Result<()> {
    let invite = opened.invite.invite();
    if !invite
        .relay_hints()
        .iter()
        .any(|hint| relay::same_relay(hint, &state.relay))
    {
        state.notices.push(Notice::ReconnectRefused {
            contact: name.to_owned(),
            why: Refusal::OtherRelay {
                hints: invite.relay_hints().to_vec(),
            },
        });
        return Ok(());
    }
    let mut rng = sys::rng();
    let receive = MailboxKey::generate(&mut rng);
    let initiated = handshake::accept_invite(
        &opened.invite,
        &state.device,
        state.generation,
        *receive.id(),
        &mut rng,
    )
    .map_err(|e| Fail::new(format!("cannot answer {name}'s reconnect ({})", e.class())))?;
    let bootstrap = *invite.mailbox();
    let envelope = Envelope::new(bootstrap, initiated.message)
        .map_err(|e| {
            Fail::new(format!(
                "cannot build the handshake envelope ({})",
                e.class()
            ))
        })?
        .to_bytes();
    let handshake_id = random_id();
    let send = state
        .outbox
        .push(handshake_id, bootstrap, envelope, PUT_TTL, now, &mut rng);
    state.sends.insert(
        send.0,
        SendMeta {
            contact: name.to_owned(),
            kind: SendKind::Handshake,
        },
    );
    let session = Session::new(initiated.ratchet, bootstrap);
    let contact = state.contact_mut(name)?;
    contact.replace_session(
        &session,
        Bytes(receive.dangerous_seed().to_vec()),
        Role::Acceptor,
        Some(Bytes::from(&handshake_id[..])),
    );
    contact.reconnect_invite = Some(Bytes::from(&invite.invite_id()[..]));
    let mut guard = contact.reconnect_guard()?;
    guard.commit(opened, now);
    contact.keep_reconnect_guard(&guard);
    let identity = contact.identity()?;
    let _newer = keep_record(state, name, &opened.record)?;
    state.notices.push(Notice::ContactRestored {
        contact: name.to_owned(),
        identity,
        generation: opened.record.record().generation(),
    });
    queue_own_record(state, name, now)?;
    queue_receipts(state, name, &[], now)
}

/// A random 16-byte id for a send that is not an event (handshakes and reconnects).
pub fn random_id() -> [u8; 16] {
    let mut id = [0u8; 16];
    rand_core::Rng::fill_bytes(&mut sys::rng(), &mut id);
    id
}
