//! Invites under adverse conditions: a bootstrap mailbox full of junk, and an invite from
//! someone who is already a contact.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Client, Relay, invite_mailbox, put_junk};

/// 40 well-formed envelopes that are not handshakes, put into the invite's bootstrap mailbox
/// before the acceptor's handshake (more than one fetch of the relay's 32 items), do not keep
/// the handshake from the inviter: the contact is made, the acceptor's text arrives, and the
/// junk is dropped once the session cannot open it.
#[test]
fn junk_in_the_bootstrap_mailbox_does_not_stall_an_invite() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(&dir.path().join("relay.redb"), "127.0.0.1:0");
    let url = relay.url();
    let alice = Client::new(dir.path(), "alice");
    let bob = Client::new(dir.path(), "bob");
    alice.init("Alice", &url, &["--suite", "x25519"]);
    bob.init("Bob", &url, &["--suite", "x25519"]);

    let link = alice.invite("bob");
    put_junk(&url, invite_mailbox(&link), 40);
    let out = bob.run(&["accept", &link, "--name", "alice"]).ok();
    assert!(out.contains("handshake queued at the relay"), "{out}");
    bob.run(&["send", "alice", "hello behind the junk"]).ok();

    let out = alice.run(&["sync"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("bob accepted your invite"), "{out:?}");
    assert!(
        out.stdout.contains("[bob] hello behind the junk"),
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains("dropped 40 item(s) in bob's mailbox that could not be opened"),
        "{out:?}"
    );
    // The inviter can answer, and the acceptor's handshake is confirmed.
    alice.run(&["send", "bob", "got it"]).ok();
    let out = bob.run(&["sync"]).ok();
    assert!(out.contains("[alice] got it"), "{out}");
    let outbox = bob.outbox();
    assert!(
        outbox
            .iter()
            .any(|l| l.contains("\talice\thandshake\tdelivered")),
        "{outbox:?}"
    );
    // Nothing is left in the mailbox: a second sync finds nothing new.
    let out = alice.run(&["sync"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stderr.contains("dropped"), "{out:?}");
}
