//! Two people chat through a local relay, with the client engine.
//!
//! ```text
//! cargo run -p quietwire-relay -- --listen 127.0.0.1:7447 --data /tmp/relay &
//! cargo run -p quietwire-client --example chat -- ws://127.0.0.1:7447
//! ```
//!
//! Alice and Bob each get an identity (kept in memory here; an app would use a `FileStore`).
//! Alice makes an invite, Bob accepts it, and both compare the safety code. Then they
//! exchange texts, each one queued durably, flushed to the relay, fetched by a sync, and
//! receipted, so the sender sees it delivered.

use quietwire::delivery::Status;
use quietwire::suite::Suite;
use quietwire_client::{Engine, Error, MemoryStore, Notice, WebSocket};

/// The conversation, as lines to print.
pub async fn run(relay: &str) -> Result<Vec<String>, Error> {
    let mut log = Vec::new();
    let new = |name: &str| {
        Engine::create(
            MemoryStore::new(),
            WebSocket::new(),
            name,
            relay,
            Suite::XWing,
        )
    };
    let mut alice = new("alice")?;
    let mut bob = new("bob")?;
    log.push(format!("alice is {}", alice.profile().did()));
    log.push(format!("bob is {}", bob.profile().did()));

    // Alice hands Bob a single-use invite over a channel they trust (a QR code, in person).
    let invite = alice.invite("bob", 600)?;
    let accepted = bob.accept(&invite.link, "alice")?;
    log.push(format!("bob accepted alice's invite ({:?})", accepted.kind));
    bob.flush().await?; // the handshake, to the invite's mailbox
    show(&mut log, "alice", alice.sync().await?.notices);

    // Both read out the safety code; the same digits on both sides mean no one is in between.
    let code = alice.safety_code("bob")?;
    assert_eq!(code, bob.safety_code("alice")?);
    alice.verify("bob", &code.to_string())?;
    bob.verify("alice", code.digits())?;
    log.push(format!("safety code {code}: verified on both sides"));

    // The inviter can send once the acceptor's first message arrived (its device record,
    // sent with the handshake): Bob writes first.
    let hello = bob.queue_text("alice", "Hello Alice, it's Bob.")?;
    bob.flush().await?;
    show(&mut log, "alice", alice.sync().await?.notices);
    let reply = alice.queue_text("bob", "Hi Bob! Got your message.")?;
    alice.flush().await?;
    show(&mut log, "bob", bob.sync().await?.notices);
    // Each sync also sent receipts; one more sync on each side collects them.
    show(&mut log, "alice", alice.sync().await?.notices);
    show(&mut log, "bob", bob.sync().await?.notices);
    log.push(format!(
        "bob's hello: {}; alice's reply: {}",
        status(bob.send_status(hello.send)),
        status(alice.send_status(reply.send))
    ));
    for message in alice.messages(Some("bob"))? {
        let who = if message.outgoing { "alice" } else { "bob" };
        log.push(format!("history: {who}: {}", message.text));
    }
    Ok(log)
}

/// Adds what `who` was told.
fn show(log: &mut Vec<String>, who: &str, notices: Vec<Notice>) {
    for notice in notices {
        match notice {
            Notice::Text { contact, text, .. } => {
                log.push(format!("{who} received from {contact}: {text}"));
            }
            Notice::ContactAdded { contact, .. } => {
                log.push(format!("{who} has a new contact: {contact}"));
            }
            other => log.push(format!("{who}: {other:?}")),
        }
    }
}

fn status(status: Option<Status>) -> String {
    match status {
        Some(Status::Delivered) => "delivered".to_owned(),
        Some(other) => format!("{other:?}"),
        None => "forgotten".to_owned(),
    }
}

#[allow(dead_code)] // the test includes this file and calls `run` only
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let relay = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:7447".to_owned());
    match run(&relay).await {
        Ok(log) => {
            for line in log {
                println!("{line}");
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("chat: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
