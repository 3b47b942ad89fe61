//! Invites under adverse conditions: a bootstrap mailbox full of junk, and an invite from
//! someone who is already a contact.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Client, Relay, connect, invite_mailbox, put_junk};

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

/// Accepting a new invite of a contact keeps the working (here verified) session until the
/// contact answers on the new one: an invite that someone else used first leaves it intact,
/// and a real one switches both sides without losing what was written on the old session.
#[test]
fn a_new_invite_of_a_contact_keeps_the_old_session_until_the_contact_answers() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(&dir.path().join("relay.redb"), "127.0.0.1:0");
    let url = relay.url();
    let alice = Client::new(dir.path(), "alice");
    let bob = Client::new(dir.path(), "bob");
    let carol = Client::new(dir.path(), "carol");
    for (client, name) in [(&alice, "Alice"), (&bob, "Bob"), (&carol, "Carol")] {
        client.init(name, &url, &["--suite", "x25519"]);
    }
    connect(&alice, "alice", &bob, "bob");
    bob.run(&["send", "alice", "one"]).ok();
    assert!(alice.run(&["sync"]).ok().contains("[bob] one"));
    alice.run(&["send", "bob", "two"]).ok();
    assert!(bob.run(&["sync"]).ok().contains("[alice] two"));
    let shown = bob.run(&["verify", "alice"]).ok();
    let code = shown.lines().nth(1).unwrap().to_owned();
    bob.run(&["verify", "alice", "--code", &code]).ok();

    // An invite of alice's that carol used first: bob's handshake never reaches alice.
    let link = alice.invite("someone");
    carol.run(&["accept", &link, "--name", "alice"]).ok();
    let out = bob.run(&["accept", &link, "--name", "ignored"]).ok();
    assert!(
        out.contains("alice is already your contact")
            && out.contains("your current session stays in use until alice answers"),
        "{out}"
    );
    let contacts = bob.run(&["contacts"]).ok();
    assert!(
        contacts.starts_with("alice\tverified\t")
            && contacts.contains("new session started, waiting for the contact's answer"),
        "{contacts}"
    );
    assert!(
        alice
            .run(&["sync"])
            .ok()
            .contains("someone accepted your invite")
    );
    // bob still writes on the session alice has.
    bob.run(&["send", "alice", "still here"]).ok();
    let out = alice.run(&["sync"]).ok();
    assert!(out.contains("[bob] still here"), "{out}");
    alice.run(&["send", "bob", "still here too"]).ok();
    let out = bob.run(&["sync"]).ok();
    assert!(out.contains("[alice] still here too"), "{out}");
    assert!(!out.contains("answered on the new session"), "{out}");

    // A new invite that alice gets.
    let link = alice.invite("bob again");
    bob.run(&["accept", &link, "--name", "ignored"]).ok();
    bob.run(&["send", "alice", "on the old session"]).ok();
    let out = alice.run(&["sync"]).ok();
    assert!(
        out.contains("bob accepted your invite: new session with bob")
            && out.contains("[bob] on the old session"),
        "{out}"
    );
    // Written on the old session after alice switched: still opened.
    bob.run(&["send", "alice", "old session, late"]).ok();
    assert!(
        alice
            .run(&["sync"])
            .ok()
            .contains("[bob] old session, late")
    );
    // alice's first message on the new session confirms it at bob's.
    alice.run(&["send", "bob", "on the new session"]).ok();
    let out = bob.run(&["sync"]).ok();
    assert!(
        out.contains("[alice] on the new session")
            && out.contains("alice answered on the new session, which now replaces the old one"),
        "{out}"
    );
    let contacts = bob.run(&["contacts"]).ok();
    assert!(
        contacts.starts_with("alice\tverified\t") && !contacts.contains("waiting"),
        "{contacts}"
    );
    let outbox = bob.outbox();
    assert_eq!(
        outbox
            .iter()
            .filter(|l| l.contains("\talice\thandshake\tdelivered"))
            .count(),
        2,
        "{outbox:?}"
    );
    bob.run(&["send", "alice", "after the switch"]).ok();
    let out = alice.run(&["sync"]).ok();
    assert!(out.contains("[bob] after the switch"), "{out}");
    // The old session is gone once its mailbox is empty; both sides keep talking.
    alice.run(&["sync"]).ok();
    alice.run(&["send", "bob", "last"]).ok();
    assert!(bob.run(&["sync"]).ok().contains("[alice] last"));
}
