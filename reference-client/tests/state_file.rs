//! The local state at rest and the failures a user meets without a relay: a wrong
//! passphrase, no identity, an expired invite, an unreachable relay.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use common::{Client, eventually};

/// A loopback URL where nothing listens.
fn dead_relay() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("ws://{addr}")
}

#[test]
fn the_state_file_is_encrypted_and_the_passphrase_checked() {
    let dir = tempfile::tempdir().unwrap();
    let alice = Client::new(dir.path(), "alice");
    let relay = dead_relay();
    let out = alice
        .run(&["init", "--name", "AliceLiddell", "--relay", &relay])
        .ok();
    let did = out.lines().last().unwrap().to_owned();
    assert!(did.starts_with("did:key:z6Mk"), "{out}");
    // invite needs no relay; it stores the contact's name and the invite's secrets.
    alice.invite("BobTheContact");

    let whoami = alice.run(&["whoami"]).ok();
    assert!(whoami.contains("AliceLiddell") && whoami.contains(&did));

    let wrong = alice.run_with(&["whoami"], "not the passphrase");
    assert_eq!(wrong.code, 1);
    assert_eq!(
        wrong.stderr.trim(),
        "quietwire-client: wrong passphrase or damaged state file"
    );
    assert!(wrong.stdout.is_empty());

    let bytes = std::fs::read(alice.home.join("state.qw")).unwrap();
    let base58 = did.strip_prefix("did:key:").unwrap();
    for needle in [
        "AliceLiddell",
        "BobTheContact",
        did.as_str(),
        base58,
        relay.as_str(),
    ] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} appears in the state file"
        );
    }
    // A damaged file is refused with the same message, and never half-read.
    let mut damaged = bytes.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    std::fs::write(alice.home.join("state.qw"), &damaged).unwrap();
    let out = alice.run(&["whoami"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("wrong passphrase or damaged state file")
    );
    std::fs::write(alice.home.join("state.qw"), &bytes).unwrap();
    alice.run(&["whoami"]).ok();

    // No identity is a different failure.
    let nobody = Client::new(dir.path(), "nobody");
    let out = nobody.run(&["whoami"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("no identity here")
            && out.stderr.contains("run `quietwire-client init`"),
        "{out:?}"
    );
    // init refuses to overwrite.
    let again = alice.run(&["init", "--name", "x", "--relay", &relay]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("an identity already exists"));
}

#[test]
fn expired_invites_and_unreachable_relays_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let relay = dead_relay();
    let alice = Client::new(dir.path(), "alice");
    let bob = Client::new(dir.path(), "bob");
    alice.init("Alice", &relay, &[]);
    bob.init("Bob", &relay, &[]);

    let made = Instant::now();
    let out = alice
        .run(&["invite", "--name", "bob", "--expires-in", "1s", "--no-qr"])
        .ok();
    let link = out.lines().last().unwrap().to_owned();
    // Precondition, not an assertion: let the invite's one second (whole seconds) pass.
    eventually(
        Duration::from_secs(10),
        "the invite's lifetime to pass",
        || (made.elapsed() > Duration::from_millis(2100)).then_some(()),
    );
    let refused = bob.run(&["accept", &link, "--name", "alice"]);
    assert_eq!(refused.code, 1);
    assert_eq!(
        refused.stderr.trim(),
        "quietwire-client: this invite has expired; ask for a new one"
    );

    let bad = bob.run(&["accept", "quietwire:invite#i1.AAAA", "--name", "x"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("not a valid invite link"), "{bad:?}");

    // Accepting with the relay down: the contact exists, the handshake is queued (status 2).
    let link = alice.invite("bob");
    let out = bob.run(&["accept", &link, "--name", "alice"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("relay unreachable"), "{out:?}");
    // The handshake, then the acceptor's device record as its first event (ENV-07).
    let outbox = bob.outbox();
    assert_eq!(outbox.len(), 2, "{outbox:?}");
    assert!(
        outbox[0].contains("\talice\thandshake\tqueued: waiting"),
        "{outbox:?}"
    );
    assert!(
        outbox[1].contains("\talice\tdevice record\tqueued: waiting"),
        "{outbox:?}"
    );

    let out = alice.run(&["sync"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("relay unreachable"), "{out:?}");
}
