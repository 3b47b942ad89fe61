//! The commands that make and show contacts and messages, printed for a terminal: `init`,
//! `whoami`, `invite`, `accept`, `contacts`, `verify`, `send`, `sync` (one pass), `outbox` and
//! `messages`. Every decision is the engine's ([`quietwire_client::Engine`]); this module
//! only formats.

use std::path::Path;

use quietwire::delivery::{Queued, Status};
use quietwire::did_key;
use quietwire::suite::Suite;
use quietwire_client::{AcceptKind, ContactStatus, Engine, FileStore, WebSocket};

use crate::display;
use crate::error::{Fail, Result};
use crate::passphrase;
use crate::print;

/// Opens the identity in `dir` (asking for its passphrase).
pub fn open(dir: &Path, transport: WebSocket) -> Result<Engine> {
    if !FileStore::exists(dir) {
        return Err(Fail::new(format!(
            "no identity here ({}), run `quietwire-client init`",
            dir.display()
        )));
    }
    let passphrase = passphrase::passphrase(false)?;
    let on_wait = Box::new(|| eprintln!("waiting for another quietwire-client process to finish…"));
    Engine::open(FileStore::open_with(dir, &passphrase, on_wait)?, transport)
}

/// `init`: a new identity.
pub fn init(dir: &Path, transport: WebSocket, name: &str, relay: &str, suite: Suite) -> Result<()> {
    Engine::check_profile(name, relay)?;
    if FileStore::exists(dir) {
        return Err(Fail::new(format!(
            "an identity already exists in {}",
            dir.display()
        )));
    }
    let passphrase = passphrase::passphrase(true)?;
    let store = FileStore::create(dir, &passphrase)?;
    let engine = Engine::create(store, transport, name, relay, suite)?;
    println!("created identity {name} in {}", dir.display());
    println!("{}", engine.profile().did());
    Ok(())
}

/// `whoami`.
pub fn whoami(engine: &Engine) {
    let profile = engine.profile();
    println!("name:    {}", profile.name);
    println!("did:key: {}", profile.did());
    println!("relay:   {}", profile.relay);
    println!("suite:   {}", profile.suite.name());
}

/// `invite`: a single-use invite with a new bootstrap mailbox on the own relay.
pub fn invite(engine: &mut Engine, contact: &str, expires_in: u64, show_qr: bool) -> Result<()> {
    let invite = engine.invite(contact, expires_in)?;
    if show_qr {
        match display::qr(&invite.qr) {
            Some(qr) => println!("{qr}"),
            None => eprintln!("(the invite is too large for a QR code; use the link)"),
        }
    }
    eprintln!(
        "Invite for {contact}: single use, valid until {}. Give {contact} the QR code or this link, over a channel you trust (whoever uses it first becomes {contact}):",
        display::time(invite.expires)
    );
    println!("{}", invite.link);
    Ok(())
}

/// `accept`: verifies the invite, starts the session, queues the handshake and sends it.
pub async fn accept(engine: &mut Engine, link: &str, contact: &str) -> Result<()> {
    let accepted = engine.accept(link, contact)?;
    let contact = accepted.contact.as_str();
    let did = did_key::encode(&accepted.identity);
    match accepted.kind {
        AcceptKind::NewSessionPending => println!(
            "{contact} is already your contact ({did}): a new session is started, and your current session stays in use until {contact} answers on the new one; same identity and safety code"
        ),
        AcceptKind::SessionReplaced => println!(
            "{contact} is already your contact: new session with {contact} ({did}), same identity and safety code"
        ),
        AcceptKind::New => println!(
            "new contact {contact} ({did}); compare safety codes with `quietwire-client verify {contact}`"
        ),
    }
    let flushed = engine.flush().await;
    print::notices(engine.take_notices());
    match flushed {
        Ok(()) => {
            println!("handshake queued at the relay; {contact} sees you after their next sync");
            Ok(())
        }
        Err(e) => Err(queued_error(e, "the handshake")),
    }
}

/// The failure of a flush after something was queued: exit status 2 if the relay could not
/// be reached (it stays queued).
pub fn queued_error(e: Fail, what: &str) -> Fail {
    if e.is_queued() {
        Fail::queued(format!(
            "{e}; {what} stays queued and the next send or sync retries it"
        ))
    } else {
        e
    }
}

/// `contacts`.
pub fn contacts(engine: &Engine) -> Result<()> {
    let list = engine.contacts()?;
    if list.is_empty() {
        println!(
            "no contacts yet: `quietwire-client invite --name NAME` or `accept LINK --name NAME`"
        );
    }
    for contact in list {
        let did = contact.identity.as_ref().map(did_key::encode);
        let did = did.as_deref().unwrap_or_default();
        let restored = match contact.status {
            ContactStatus::Invited { expires, reconnect } => {
                let what = if reconnect {
                    "reconnect sent, waiting for the answer"
                } else {
                    "invited, not accepted yet"
                };
                println!(
                    "{}\t{what} (invite valid until {})",
                    contact.name,
                    display::time(expires)
                );
                continue;
            }
            ContactStatus::Unreachable => {
                println!(
                    "{}\trestored from a backup without a device record: make a new invite\t{did}",
                    contact.name
                );
                continue;
            }
            ContactStatus::NewSessionPending => {
                "\tnew session started, waiting for the contact's answer"
            }
            ContactStatus::AwaitingReconnect => {
                "\trestored from a backup: waiting for the reconnect"
            }
            ContactStatus::NeedsInvite => "\trestored from a backup: needs a new invite to send",
            ContactStatus::Ready => "",
        };
        let code = contact.safety_code.unwrap_or_default();
        let short: Vec<&str> = code.split(' ').take(4).collect();
        println!(
            "{}\t{}\t{did}\tsafety {} …{restored}",
            contact.name,
            if contact.verified {
                "verified"
            } else {
                "unverified"
            },
            short.join(" ")
        );
    }
    Ok(())
}

/// `verify`: shows the safety code, or compares a code and marks the contact verified.
pub fn verify(engine: &mut Engine, name: &str, code: Option<&str>) -> Result<()> {
    let Some(code) = code else {
        let expected = engine.safety_code(name)?;
        println!("safety code with {name}:");
        println!("{expected}");
        println!(
            "compare it with {name} in person or on a trusted channel, then run `quietwire-client verify {name} --code \"...\"`"
        );
        return Ok(());
    };
    engine.verify(name, code)?;
    println!("{name} is verified");
    Ok(())
}

/// `send`: seals a text, queues it, and flushes the outbox.
pub async fn send(engine: &mut Engine, name: &str, text: &str) -> Result<()> {
    let outgoing = engine.queue_text(name, text)?;
    let short = display::short_id(&outgoing.id);
    let result = engine.flush().await;
    print::notices(engine.take_notices());
    match (result, engine.send_status(outgoing.send)) {
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
pub async fn sync(engine: &mut Engine) -> Result<()> {
    let result = engine.sync().await;
    print::notices(engine.take_notices());
    let synced = result?;
    print::notices(synced.notices);
    eprintln!(
        "sync done: {} new message(s), {} send(s) waiting for a receipt or retry",
        synced.texts, synced.pending
    );
    Ok(())
}

/// `outbox`.
pub fn outbox(engine: &Engine) {
    let outbox = engine.outbox();
    if outbox.is_empty() {
        println!("the outbox is empty");
    }
    for entry in outbox {
        println!(
            "{}\t{}\t{}\t{}",
            display::short_id(&entry.id),
            entry.contact.as_deref().unwrap_or("?"),
            entry.kind,
            status_text(&entry.status)
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
pub fn messages(engine: &Engine, contact: Option<&str>) -> Result<()> {
    for message in engine.messages(contact)? {
        let when = display::time(message.at);
        let text = display::sanitize(&message.text);
        if message.outgoing {
            let status = message
                .status
                .as_ref()
                .map_or_else(|| "sent".to_owned(), status_text);
            println!("{when}  you -> {}: {text}  [{status}]", message.contact);
        } else {
            println!("{when}  [{}] {text}", message.contact);
        }
    }
    Ok(())
}
