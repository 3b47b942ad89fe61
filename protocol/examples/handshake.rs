//! Two devices make contact and talk, entirely in memory: an invite travels as a link, the
//! handshake message and every event travel as envelopes (what a relay would store), and both
//! people compare a safety code. The "relay" here is a `Vec` of envelope bytes; this crate
//! never does I/O, so a real application moves the same bytes over its own transport
//! (spec/04-contact-establishment.md, spec/05-handshake.md, spec/06-ratchet.md,
//! spec/07-envelope.md, spec/03-identity.md).
//!
//! ```text
//! cargo run -p quietwire --example handshake
//! ```
//!
//! Randomness is the operating system's (`getrandom`, a dev-dependency only: the library takes
//! any `rand_core::CryptoRng` as an argument), so keys, mailboxes and the safety code differ on
//! every run. Time is an argument too: the example fixes "now" instead of reading a clock.

use quietwire::UnixTime;
use quietwire::envelope::Envelope;
use quietwire::event::{Body, Event};
use quietwire::handshake::{self, PendingInvite};
use quietwire::identity::DeviceKeys;
use quietwire::invite::{Invite, InviteParams, SignedInvite};
use quietwire::safety::SafetyCode;
use quietwire::session::Session;
use quietwire::suite::{Suite, SuitePolicy};
use rand_core::{CryptoRng, UnwrapErr};

/// A fresh mailbox id: 32 random bytes.
fn mailbox<R: CryptoRng>(rng: &mut R) -> [u8; 32] {
    let mut id = [0u8; 32];
    rng.fill_bytes(&mut id);
    id
}

/// The text of a text event (other kinds are not sent here).
fn text(event: &Event) -> &str {
    match event.body() {
        Body::Text { text, .. } => text,
        _ => "(not a text)",
    }
}

fn main() -> Result<(), quietwire::Error> {
    let mut rng = UnwrapErr(getrandom::SysRng);
    // The caller's clock: the library only ever receives the time as an argument.
    let now = UnixTime(1_900_000_000);

    // Bob makes a single-use invite with a fresh bootstrap mailbox on his relay and shares it
    // as a link (or as a QR code: `invite.to_qr()`). He keeps the invite's secrets.
    let bob = DeviceKeys::generate(Suite::XWing, &mut rng);
    let params = InviteParams {
        relay_hints: vec!["wss://relay.example".to_owned()],
        mailbox: mailbox(&mut rng),
        expires: UnixTime(now.0 + 24 * 3600),
        single_use: true,
    };
    let (invite, secrets) = Invite::create(bob.identity(), Suite::XWing, params, &mut rng)?;
    let link = invite.to_link("quietwire:invite")?;
    let mut pending = PendingInvite::new(invite, secrets);
    println!("bob's invite link: {} bytes", link.len());

    // Alice opens the link (verifying signature, expiry and suite), picks the mailbox Bob
    // will write to, and starts the handshake. Its message goes in an envelope to the
    // invite's bootstrap mailbox.
    let invite = SignedInvite::from_link(&link, now, &SuitePolicy::ALL)?;
    let alice = DeviceKeys::generate(invite.invite().suite(), &mut rng);
    let alice_mailbox = mailbox(&mut rng);
    let started = handshake::accept_invite(&invite, &alice, 0, alice_mailbox, &mut rng)?;
    let bootstrap = *invite.invite().mailbox();
    let mut relay = vec![Envelope::new(bootstrap, started.message.clone())?.to_bytes()];
    // Her session writes to the invite's mailbox and knows Bob's identity key.
    let mut alice_session = started.into_session();

    // Bob fetches the envelope from his bootstrap mailbox and accepts the handshake: he learns
    // Alice's signed device record and where to write to her.
    let fetched = Envelope::receive(&relay.remove(0), &bootstrap)?;
    let accepted = pending.receive_handshake(fetched.blob(), now, &SuitePolicy::ALL)?;
    let alice_identity = *accepted.peer.record().identity_key();
    let mut bob_session = accepted.into_session();
    assert_eq!(bob_session.peer_identity(), Some(&alice_identity));
    println!(
        "bob accepted alice, {}",
        quietwire::did_key::encode(&alice_identity)
    );
    // The invite was single-use: a replayed handshake message starts no second session.
    assert!(
        pending
            .receive_handshake(fetched.blob(), now, &SuitePolicy::ALL)
            .is_err()
    );

    // A few messages both ways. Alice, the ratchet's initiator, speaks first; Bob can send
    // once he has opened her first message.
    for line in ["hello bob", "this is alice"] {
        let event = Event::new(
            Body::Text {
                text: line.to_owned(),
                reply_to: None,
            },
            &mut rng,
        );
        relay.push(alice_session.seal(&event, &mut rng)?);
    }
    for bytes in relay.drain(..) {
        let event = bob_session.open_envelope(&bytes, &bootstrap)?;
        println!("bob got:   {}", text(&event));
    }
    let reply = Event::new(
        Body::Text {
            text: "hi alice".to_owned(),
            reply_to: None,
        },
        &mut rng,
    );
    let bytes = bob_session.seal(&reply, &mut rng)?;
    let event = alice_session.open_envelope(&bytes, &alice_mailbox)?;
    println!("alice got: {}", text(&event));

    // Sessions persist as snapshots (encrypted at rest by the application).
    let snapshot = bob_session.snapshot();
    let mut bob_session = Session::restore(&snapshot)?;
    let later = Event::new(Body::WakeUp, &mut rng);
    let bytes = bob_session.seal(&later, &mut rng)?;
    assert_eq!(alice_session.open_envelope(&bytes, &alice_mailbox)?, later);

    // Both compare the same safety code out of band (in person, or by scanning a QR code).
    let at_alice = SafetyCode::new(alice.identity().public(), invite.invite().identity_key());
    let at_bob = SafetyCode::new(bob.identity().public(), &alice_identity);
    assert_eq!(at_alice, at_bob);
    println!("safety code: {at_alice}");
    Ok(())
}
