//! Two clients and the real relay on loopback: contact establishment, texts both ways,
//! end-to-end receipts, safety codes, history, and `sync --watch`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use common::{Client, Relay, connect, eventually};

#[test]
fn texts_travel_both_ways_and_receipts_mark_them_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(&dir.path().join("relay.redb"), "127.0.0.1:0");
    let alice = Client::new(dir.path(), "alice");
    let bob = Client::new(dir.path(), "bob");
    alice.init("Alice", &relay.url(), &[]);
    bob.init("Bob", &relay.url(), &[]);

    let link = alice.invite("bob");
    bob.run(&["accept", &link, "--name", "alice"]).ok();
    // The inviter learns of the contact from the handshake.
    let out = alice.run(&["sync"]).ok();
    assert!(out.contains("bob accepted your invite"), "{out}");
    let contacts = alice.run(&["contacts"]).ok();
    assert!(
        contacts.starts_with("bob\tunverified\tdid:key:z6Mk"),
        "{contacts}"
    );

    // A single-use invite is gone once used.
    let again = Client::new(dir.path(), "carol");
    again.init("Carol", &relay.url(), &[]);
    again.run(&["accept", &link, "--name", "alice"]).ok();
    alice.run(&["sync"]).ok();
    assert_eq!(alice.run(&["contacts"]).ok().lines().count(), 1);

    // The acceptor's first event is its device record (ENV-07): once the inviter opened it,
    // its ratchet can send too, and its own record is its first event in turn.
    let outbox = alice.outbox();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert!(
        outbox[0].contains("\tbob\tdevice record\tqueued: stored at relay"),
        "{outbox:?}"
    );

    let out = bob.run(&["send", "alice", "hello alice"]).ok();
    assert!(out.contains("queued at relay"), "{out}");
    let out = alice.run(&["sync"]).ok();
    assert_eq!(out.trim(), "[bob] hello alice");
    let out = alice.run(&["send", "bob", "hi bob"]).ok();
    assert!(out.contains("queued at relay"), "{out}");

    // Bob gets the text and alice's receipt for his; alice gets bob's receipt.
    let out = bob.run(&["sync"]).ok();
    assert_eq!(out.trim(), "[alice] hi bob");
    alice.run(&["sync"]).ok();

    let bob_outbox = bob.outbox();
    assert_eq!(bob_outbox.len(), 2, "{bob_outbox:?}");
    assert!(bob_outbox[0].contains("\talice\thandshake\tdelivered"));
    assert!(bob_outbox[1].contains("\talice\ttext\tdelivered"));
    let alice_outbox = alice.outbox();
    assert_eq!(alice_outbox.len(), 1, "{alice_outbox:?}");
    assert!(alice_outbox[0].ends_with("\tbob\ttext\tdelivered"));

    let history = alice.run(&["messages", "bob"]).ok();
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 2, "{history}");
    assert!(lines[0].ends_with("[bob] hello alice"));
    assert!(lines[1].ends_with("you -> bob: hi bob  [delivered]"));
    let history = bob.run(&["messages"]).ok();
    assert!(history.contains("you -> alice: hello alice  [delivered]"));
    assert!(history.contains("[alice] hi bob"));

    // Nothing is fetched twice.
    assert_eq!(alice.run(&["sync"]).ok(), "");
    assert_eq!(bob.run(&["sync"]).ok(), "");

    // Safety codes: both sides see the same code; comparing marks the contact verified.
    let shown = alice.run(&["verify", "bob"]).ok();
    let code = shown.lines().nth(1).unwrap().to_owned();
    assert_eq!(code.len(), 70 + 13);
    assert!(bob.run(&["verify", "alice"]).ok().contains(&code));
    // The same code with its first digit changed.
    let first = if code.starts_with('1') { '2' } else { '1' };
    let wrong = format!("{first}{}", &code[1..]);
    let refused = bob.run(&["verify", "alice", "--code", &wrong]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("does NOT match"), "{refused:?}");
    bob.run(&["verify", "alice", "--code", &code]).ok();
    assert!(bob.run(&["contacts"]).ok().starts_with("alice\tverified\t"));

    // Failures are one clear line and a non-zero status.
    let unknown = bob.run(&["send", "mallory", "hi"]);
    assert_eq!(unknown.code, 1);
    assert_eq!(
        unknown.stderr.trim(),
        "quietwire-client: unknown contact mallory (see `quietwire-client contacts`)"
    );
}

#[test]
fn watch_prints_messages_as_they_arrive_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(&dir.path().join("relay.redb"), "127.0.0.1:0");
    let alice = Client::new(dir.path(), "alice");
    let bob = Client::new(dir.path(), "bob");
    alice.init("Alice", &relay.url(), &["--suite", "x25519"]);
    bob.init("Bob", &relay.url(), &["--suite", "x25519"]);
    connect(&alice, "alice", &bob, "bob");

    let mut watch = alice
        .command(&["sync", "--watch"], &alice.passphrase)
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = watch.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (etx, erx) = mpsc::channel();
    let stderr = watch.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if etx.send(line).is_err() {
                break;
            }
        }
    });
    // Wait until the watcher is connected (subscribed after its first step).
    eventually(Duration::from_secs(30), "the watcher to connect", || {
        erx.try_recv()
            .ok()
            .filter(|l| l.starts_with("connected to"))
    });

    // Another process may send while the watcher runs (the lock is held per step).
    for i in 0..3 {
        bob.run(&["send", "alice", &format!("live {i}")]).ok();
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the watcher printed the message");
        assert_eq!(line, format!("[bob] live {i}"));
    }
    // The watcher sent receipts: bob's texts end delivered.
    eventually(Duration::from_secs(30), "receipts at bob", || {
        bob.run(&["sync"]).ok();
        let outbox = bob.outbox();
        outbox
            .iter()
            .all(|l| l.ends_with("\tdelivered"))
            .then_some(())
    });
    // alice can reply from another terminal while the watcher runs.
    alice.run(&["send", "bob", "from the other terminal"]).ok();
    assert_eq!(
        bob.run(&["sync"]).ok().trim(),
        "[alice] from the other terminal"
    );

    let status = Command::new("kill")
        .args(["-INT", &watch.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = eventually(Duration::from_secs(30), "the watcher to stop", || {
        watch.try_wait().unwrap()
    });
    assert!(code.success(), "{code:?}");
}
