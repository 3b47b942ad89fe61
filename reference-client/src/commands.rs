//! The commands that make and show contacts and messages: `init`, `whoami`, `invite`
//! (`spec/04-contact-establishment.md`), `accept` (`spec/05-handshake.md`), `contacts` and
//! `verify` (`spec/03-identity.md`, safety codes and `did:key`), `send`, `sync` (one pass),
//! `outbox` (`spec/09-delivery.md`) and `messages`.

use quietwire::delivery::{Queued, Status};
use quietwire::envelope::Envelope;
use quietwire::event::{Body, Event};
use quietwire::handshake;
use quietwire::identity::DeviceKeys;
use quietwire::invite::{Invite, InviteParams, SignedInvite, is_valid_relay_hint};
use quietwire::mailbox::MailboxKey;
use quietwire::safety::SafetyCode;
use quietwire::session::Session;
use quietwire::suite::{Suite, SuitePolicy};
use quietwire::{ErrorClass, did_key};
use subtle::ConstantTimeEq as _;

use crate::app::Ctx;
use crate::display;
use crate::engine::{self, PUT_TTL, StepError};
use crate::error::{Fail, Result};
use crate::reconnect;
use crate::relay::{self, NetError, Relay};
use crate::state::{
    Bytes, Contact, HistoryEntry, Invitation, PendingSession, Role, SendKind, SendMeta, State,
};
use crate::sys;
use crate::vault::{self, Home};

/// The `quietwire:` base of invite links (`spec/04-contact-establishment.md`).
const APP_BASE: &str = "quietwire:invite";

/// `init`: a new identity.
pub fn init(home: Home, name: &str, relay: &str, suite: Suite) -> Result<()> {
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        return Err(Fail::new("the name must be printable and not empty"));
    }
    if !is_valid_relay_hint(relay) {
        return Err(Fail::new(format!(
            "invalid relay URL {relay:?} (expected wss://HOST[:PORT], or ws://HOST:PORT on a loopback address)"
        )));
    }
    relay::target(relay).map_err(Fail::new)?;
    if home.exists() {
        return Err(Fail::new(format!(
            "an identity already exists in {}",
            home.dir().display()
        )));
    }
    let passphrase = vault::passphrase(true)?;
    let device = DeviceKeys::generate(suite, &mut sys::rng());
    let did = did_key::encode(device.identity().public());
    let dir = home.dir().display().to_string();
    let state = State::new(name.to_owned(), relay.to_owned(), device);
    Ctx::create(home, &passphrase, state)?;
    println!("created identity {name} in {dir}");
    println!("{did}");
    Ok(())
}

/// `whoami`.
pub fn whoami(ctx: &Ctx) {
    let s = &ctx.state;
    println!("name:    {}", s.name);
    println!("did:key: {}", did_key::encode(s.device.identity().public()));
    println!("relay:   {}", s.relay);
    println!("suite:   {}", s.suite.name());
}

/// `invite`: a single-use invite with a new bootstrap mailbox on the own relay.
pub fn invite(ctx: &mut Ctx, contact: &str, expires_in: u64, show_qr: bool) -> Result<()> {
    let now = sys::now();
    ctx.state.check_new_name(contact, now)?;
    let mut rng = sys::rng();
    let bootstrap = MailboxKey::generate(&mut rng);
    let expires = now.saturating_add(expires_in);
    let params = InviteParams {
        relay_hints: vec![ctx.state.relay.clone()],
        mailbox: *bootstrap.id(),
        expires,
        single_use: true,
    };
    let (signed, secrets) = Invite::create(
        ctx.state.device.identity(),
        ctx.state.suite,
        params,
        &mut rng,
    )
    .map_err(|e| {
        Fail::new(format!(
            "cannot make an invite for the relay {:?} ({})",
            ctx.state.relay,
            e.class()
        ))
    })?;
    let link = signed
        .to_link(APP_BASE)
        .map_err(|e| Fail::new(format!("cannot make the invite link ({})", e.class())))?;
    ctx.state.invites.push(Invitation {
        contact: contact.to_owned(),
        invite: Bytes(signed.to_bytes()),
        kem_seed: Bytes(secrets.kem.dangerous_seed().to_vec()),
        ratchet_secret: Bytes(secrets.ratchet.dangerous_bytes().to_vec()),
        bootstrap_seed: Bytes(bootstrap.dangerous_seed().to_vec()),
        expires: expires.as_secs(),
        reconnect: None,
        held: Vec::new(),
    });
    ctx.save()?;
    if show_qr {
        match display::qr(&signed.to_qr()) {
            Some(qr) => println!("{qr}"),
            None => eprintln!("(the invite is too large for a QR code; use the link)"),
        }
    }
    eprintln!(
        "Invite for {contact}: single use, valid until {}. Give {contact} the QR code or this link, over a channel you trust (whoever uses it first becomes {contact}):",
        display::time(expires)
    );
    println!("{link}");
    Ok(())
}

/// `accept`: verifies the invite, starts the session and queues the handshake.
pub async fn accept(ctx: &mut Ctx, link: &str, contact: &str) -> Result<()> {
    let now = sys::now();
    let signed =
        SignedInvite::from_link(link.trim(), now, &SuitePolicy::ALL).map_err(|e| {
            match e.class() {
                ErrorClass::InviteExpired => {
                    Fail::new("this invite has expired; ask for a new one")
                }
                class => Fail::new(format!("not a valid invite link ({class})")),
            }
        })?;
    let invite = signed.invite();
    if invite.identity_key() == ctx.state.device.identity().public() {
        return Err(Fail::new("this is your own invite"));
    }
    // An invite from an identity that is a contact already (for example one that was
    // restored from a backup without a way to reconnect): a new session with that contact.
    let existing = ctx
        .state
        .contact_by_identity(invite.identity_key())
        .and_then(|i| ctx.state.contacts.get(i))
        .map(|c| c.name.clone());
    if existing.is_none() {
        ctx.state.check_new_name(contact, now)?;
    }
    let contact = existing.as_deref().unwrap_or(contact);
    if invite.suite() != ctx.state.suite {
        return Err(Fail::new(format!(
            "this invite uses suite {} but your identity uses {}",
            invite.suite().name(),
            ctx.state.suite.name()
        )));
    }
    if !invite
        .relay_hints()
        .iter()
        .any(|hint| relay::same_relay(hint, &ctx.state.relay))
    {
        return Err(Fail::new(format!(
            "this invite's relay ({}) is not yours ({}); this client talks to one relay only",
            invite.relay_hints().join(", "),
            ctx.state.relay
        )));
    }
    let mut rng = sys::rng();
    let receive = MailboxKey::generate(&mut rng);
    let initiated = handshake::accept_invite(
        &signed,
        &ctx.state.device,
        ctx.state.generation,
        *receive.id(),
        &mut rng,
    )
    .map_err(|e| Fail::new(format!("cannot start the handshake ({})", e.class())))?;
    let envelope = Envelope::new(*invite.mailbox(), initiated.message)
        .map_err(|e| {
            Fail::new(format!(
                "cannot build the handshake envelope ({})",
                e.class()
            ))
        })?
        .to_bytes();
    let session = Session::new(initiated.ratchet, *invite.mailbox());
    // The handshake is not an event; this id names it in the outbox until the contact's
    // first message confirms it.
    let handshake_id = reconnect::random_id();
    let send = ctx.state.outbox.push(
        handshake_id,
        *invite.mailbox(),
        envelope,
        PUT_TTL,
        now,
        &mut rng,
    );
    ctx.state.sends.insert(
        send.0,
        SendMeta {
            contact: contact.to_owned(),
            kind: SendKind::Handshake,
        },
    );
    let identity = *invite.identity_key();
    let receive_seed = Bytes(receive.dangerous_seed().to_vec());
    let handshake_id = Bytes::from(&handshake_id[..]);
    // A working session with an existing contact stays in use until the contact answers on
    // the new one: an invite that never reaches its maker (used by someone else first,
    // expired, or an old one) must not cut a working, possibly verified, session.
    let keep_old = existing.is_some() && !ctx.state.contact(contact)?.stale;
    if keep_old {
        ctx.state.contact_mut(contact)?.pending = Some(PendingSession {
            session: Bytes(session.snapshot().to_vec()),
            receive_seed,
            handshake_id,
        });
        // The new session's first event is this device's record (ENV-07).
        engine::queue_pending_record(&mut ctx.state, contact, now)?;
    } else if existing.is_some() {
        ctx.state.contact_mut(contact)?.replace_session(
            &session,
            receive_seed,
            Role::Acceptor,
            Some(handshake_id),
        );
    } else {
        let mut entry = Contact::new(
            contact.to_owned(),
            &identity,
            &session,
            receive_seed,
            Role::Acceptor,
            now,
        );
        entry.handshake_id = Some(handshake_id);
        entry.verified = ctx.state.take_unreachable(&identity);
        ctx.state.contacts.push(entry);
    }
    // The acceptor's first event in the session is its device record (ENV-07).
    reconnect::queue_own_record(&mut ctx.state, contact, now)?;
    ctx.save()?;
    if keep_old {
        println!(
            "{contact} is already your contact ({}): a new session is started, and your current session stays in use until {contact} answers on the new one; same identity and safety code",
            did_key::encode(&identity)
        );
    } else if existing.is_some() {
        println!(
            "{contact} is already your contact: new session with {contact} ({}), same identity and safety code",
            did_key::encode(&identity)
        );
    } else {
        println!(
            "new contact {contact} ({}); compare safety codes with `quietwire-client verify {contact}`",
            did_key::encode(&identity)
        );
    }
    match deliver(ctx).await {
        Ok(()) => {
            println!("handshake queued at the relay; {contact} sees you after their next sync");
            Ok(())
        }
        Err(e) => Err(queued_error(e, "the handshake")),
    }
}

/// Connects and flushes the outbox.
pub async fn deliver(ctx: &mut Ctx) -> Result<(), StepError> {
    let mut relay = Relay::connect(&ctx.state.relay).await?;
    let result = engine::flush(ctx, &mut relay).await;
    relay.close().await;
    result.map(|_| ())
}

/// The failure of a flush after something was queued: exit status 2 if the relay could not
/// be reached (it stays queued).
pub fn queued_error(e: StepError, what: &str) -> Fail {
    match e {
        StepError::Net(e @ (NetError::Unreachable(_) | NetError::Lost(_))) => Fail::queued(
            format!("{e}; {what} stays queued and the next send or sync retries it"),
        ),
        other => other.into(),
    }
}

/// `contacts`.
pub fn contacts(ctx: &Ctx) -> Result<()> {
    if ctx.state.contacts.is_empty()
        && ctx.state.invites.is_empty()
        && ctx.state.unreachable.is_empty()
    {
        println!(
            "no contacts yet: `quietwire-client invite --name NAME` or `accept LINK --name NAME`"
        );
    }
    let own = ctx.state.device.identity().public();
    for contact in &ctx.state.contacts {
        let peer = contact.identity()?;
        let code = SafetyCode::new(own, &peer).to_string();
        let short: Vec<&str> = code.split(' ').take(4).collect();
        let restored = if contact.pending.is_some() {
            "\tnew session started, waiting for the contact's answer"
        } else if !contact.stale {
            ""
        } else if ctx.state.reconnect_pending(&contact.name) {
            "\trestored from a backup: waiting for the reconnect"
        } else {
            "\trestored from a backup: needs a new invite to send"
        };
        println!(
            "{}\t{}\t{}\tsafety {} …{restored}",
            contact.name,
            if contact.verified {
                "verified"
            } else {
                "unverified"
            },
            did_key::encode(&peer),
            short.join(" ")
        );
    }
    for invite in &ctx.state.invites {
        let what = if invite.reconnect.is_some() {
            "reconnect sent, waiting for the answer"
        } else {
            "invited, not accepted yet"
        };
        println!(
            "{}\t{what} (invite valid until {})",
            invite.contact,
            display::time(quietwire::UnixTime(invite.expires))
        );
    }
    for lost in &ctx.state.unreachable {
        let peer = quietwire::keys::IdentityKey::from_bytes(&lost.identity_key.array()?)
            .map_err(|_| Fail::new("damaged state file (inconsistent contents)"))?;
        println!(
            "{}\trestored from a backup without a device record: make a new invite\t{}",
            lost.name,
            did_key::encode(&peer)
        );
    }
    Ok(())
}

/// `verify`: shows the safety code, or compares a code and marks the contact verified.
pub fn verify(ctx: &mut Ctx, name: &str, code: Option<&str>) -> Result<()> {
    let own = *ctx.state.device.identity().public();
    let contact = ctx.state.contact_mut(name)?;
    let expected = SafetyCode::new(&own, &contact.identity()?);
    let Some(code) = code else {
        println!("safety code with {name}:");
        println!("{expected}");
        println!(
            "compare it with {name} in person or on a trusted channel, then run `quietwire-client verify {name} --code \"...\"`"
        );
        return Ok(());
    };
    let given: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let matches: bool = given.len() == expected.digits().len()
        && bool::from(given.as_bytes().ct_eq(expected.digits().as_bytes()));
    if !matches {
        return Err(Fail::new(format!(
            "the safety code does NOT match {name}'s; {name} stays unverified"
        )));
    }
    contact.verified = true;
    ctx.save()?;
    println!("{name} is verified");
    Ok(())
}

/// `send`: seals a text, queues it, and flushes the outbox.
pub async fn send(ctx: &mut Ctx, name: &str, text: &str) -> Result<()> {
    let now = sys::now();
    let event = Event::new(
        Body::Text {
            text: text.to_owned(),
            reply_to: None,
        },
        &mut sys::rng(),
    );
    // A session without this device's record yet (one made before this client sent them)
    // gets it first.
    reconnect::queue_own_record(&mut ctx.state, name, now)?;
    let send = engine::queue_event(&mut ctx.state, name, &event, SendKind::Text, now)?;
    ctx.state.history.push(HistoryEntry {
        contact: name.to_owned(),
        outgoing: true,
        message_id: Bytes::from(&event.id()[..]),
        text: text.to_owned(),
        at: now.as_secs(),
    });
    ctx.save()?;
    let short = display::short_id(event.id());
    let result = deliver(ctx).await;
    match (result, ctx.state.outbox.status(send)) {
        (_, Some(Status::Failed(reason))) => Err(Fail::new(format!(
            "message {short} to {name} failed: {reason}"
        ))),
        (Ok(()), Some(Status::Queued(Queued::Stored { expires }))) => {
            println!(
                "message {short} to {name}: queued at relay (kept until {}); delivered once {name} syncs",
                display::time(expires)
            );
            Ok(())
        }
        (Ok(()), _) => {
            println!("message {short} to {name}: queued for a retry");
            Ok(())
        }
        (Err(e), _) => Err(queued_error(e, &format!("message {short}"))),
    }
}

/// `sync` without `--watch`: flush, fetch everything, flush the receipts.
pub async fn sync(ctx: &mut Ctx) -> Result<()> {
    let mut relay = Relay::connect(&ctx.state.relay)
        .await
        .map_err(|e| Fail::new(e.to_string()))?;
    let result = sync_pass(ctx, &mut relay).await;
    relay.close().await;
    let texts = result?;
    let pending = pending_sends(&ctx.state);
    eprintln!(
        "sync done: {texts} new message(s), {pending} send(s) waiting for a receipt or retry"
    );
    Ok(())
}

/// One pass over an open connection; returns how many texts arrived.
pub async fn sync_pass(ctx: &mut Ctx, relay: &mut Relay) -> Result<usize, StepError> {
    engine::flush(ctx, relay).await?;
    let texts = engine::fetch_all(ctx, relay).await?;
    engine::flush(ctx, relay).await?;
    ctx.state.outbox.handle_timeout(sys::now(), &mut sys::rng());
    ctx.save()?;
    Ok(texts)
}

fn pending_sends(state: &State) -> usize {
    state
        .outbox
        .iter()
        .filter(|(.., status)| status.is_pending())
        .count()
}

/// `outbox`.
pub fn outbox(ctx: &Ctx) {
    let state = &ctx.state;
    if state.outbox.is_empty() {
        println!("the outbox is empty");
    }
    for (send, id, _, status) in state.outbox.iter() {
        let (contact, kind) = state
            .sends
            .get(&send.0)
            .map_or(("?", "?"), |m| (m.contact.as_str(), m.kind.name()));
        println!(
            "{}\t{contact}\t{kind}\t{}",
            display::short_id(id),
            status_text(&status)
        );
    }
}

fn status_text(status: &Status) -> String {
    match status {
        Status::Queued(Queued::Waiting {
            attempts,
            next_attempt,
        }) => format!(
            "queued: waiting (attempts {attempts}, next at {})",
            display::time(*next_attempt)
        ),
        Status::Queued(Queued::InFlight { .. }) => "queued: in flight".to_owned(),
        Status::Queued(Queued::Stored { expires }) => {
            format!("queued: stored at relay until {}", display::time(*expires))
        }
        Status::Delivered => "delivered".to_owned(),
        Status::Failed(reason) => format!("failed: {reason}"),
    }
}

/// `messages`.
pub fn messages(ctx: &Ctx, contact: Option<&str>) -> Result<()> {
    let state = &ctx.state;
    if let Some(name) = contact {
        state.contact(name)?;
    }
    for entry in &state.history {
        if contact.is_some_and(|c| c != entry.contact) {
            continue;
        }
        let when = display::time(quietwire::UnixTime(entry.at));
        let text = display::sanitize(&entry.text);
        if entry.outgoing {
            let id = entry.message_id.array::<16>()?;
            let status = state
                .outbox
                .iter()
                .find(|(_, mid, ..)| **mid == id)
                .map_or_else(|| "sent".to_owned(), |(.., s)| status_text(&s));
            println!("{when}  you -> {}: {text}  [{status}]", entry.contact);
        } else {
            println!("{when}  [{}] {text}", entry.contact);
        }
    }
    Ok(())
}
