//! The delivery invariant across a relay crash: bob sends 30 texts while the relay is killed
//! with SIGKILL and restarted on the same data file; every text reaches alice exactly once
//! and bob's outbox ends with every send delivered.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Client, Relay, connect, eventually};

const TEXTS: usize = 30;
const CRASH_AT: usize = 10;
const RESTART_AT: usize = 20;

#[test]
fn every_text_arrives_once_across_a_relay_crash() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("relay.redb");
    let mut relay = Some(Relay::start(&data, "127.0.0.1:0"));
    let url = relay.as_ref().unwrap().url();
    let alice = Client::new(dir.path(), "alice");
    let bob = Client::new(dir.path(), "bob");
    alice.init("Alice", &url, &[]);
    bob.init("Bob", &url, &[]);
    connect(&alice, "alice", &bob, "bob");

    // alice's application output over every sync: each `[bob] ...` line counted.
    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    let mut record = |stdout: &str| {
        for line in stdout.lines() {
            let text = line
                .strip_prefix("[bob] ")
                .unwrap_or_else(|| panic!("{line}"));
            *received.entry(text.to_owned()).or_default() += 1;
        }
    };
    let mut addr = None;
    for i in 0..TEXTS {
        if i == CRASH_AT {
            let (a, _) = relay.take().unwrap().kill();
            addr = Some(a);
        }
        if i == RESTART_AT {
            relay = Some(Relay::start(&data, &addr.unwrap().to_string()));
        }
        let out = bob.run(&["send", "alice", &format!("text {i:02}")]);
        if (CRASH_AT..RESTART_AT).contains(&i) {
            // Durably queued, reported, retried later.
            assert_eq!(out.code, 2, "{out:?}");
            assert!(out.stderr.contains("relay unreachable"), "{out:?}");
            assert!(out.stderr.contains("stays queued"), "{out:?}");
        } else {
            assert_eq!(out.code, 0, "{out:?}");
        }
        // alice syncs now and then, also during the outage (which fails, and changes
        // nothing).
        if i % 7 == 3 {
            let out = alice.run(&["sync"]);
            if (CRASH_AT..RESTART_AT).contains(&i) {
                assert_eq!(out.code, 1);
                assert!(out.stderr.contains("relay unreachable"), "{out:?}");
            } else {
                record(&out.ok());
            }
        }
    }
    // During the outage bob's outbox held the texts as queued, never failed.
    let queued = bob.outbox();
    assert!(queued.iter().all(|l| !l.contains("failed")), "{queued:?}");

    eventually(Duration::from_secs(90), "every send delivered", || {
        record(&alice.run(&["sync"]).ok());
        bob.run(&["sync"]).ok();
        let outbox = bob.outbox();
        (outbox.len() == TEXTS + 1 && outbox.iter().all(|l| l.ends_with("\tdelivered")))
            .then_some(())
    });

    let expected: BTreeMap<String, usize> =
        (0..TEXTS).map(|i| (format!("text {i:02}"), 1)).collect();
    assert_eq!(received, expected);
    let history = alice.run(&["messages", "bob"]).ok();
    let mut texts: Vec<&str> = history
        .lines()
        .map(|l| l.split_once("[bob] ").unwrap().1)
        .collect();
    texts.sort_unstable();
    let wanted: Vec<String> = (0..TEXTS).map(|i| format!("text {i:02}")).collect();
    assert_eq!(texts, wanted);
}

#[test]
fn a_watcher_reconnects_after_the_relay_restarts() {
    use std::io::{BufRead as _, BufReader};
    use std::sync::mpsc;

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("relay.redb");
    let relay = Relay::start(&data, "127.0.0.1:0");
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
    for pipe in [
        Box::new(watch.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(watch.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    let wait_for = |prefix: &str| {
        eventually(Duration::from_secs(60), prefix, || {
            rx.recv_timeout(Duration::from_millis(100))
                .ok()
                .filter(|l| l.starts_with(prefix))
        })
    };
    wait_for("connected to");
    let (addr, _) = relay.kill();
    wait_for("connection to the relay lost");
    let relay = Relay::start(&data, &addr.to_string());
    wait_for("connected to");
    bob.run(&["send", "alice", "after the restart"]).ok();
    assert_eq!(wait_for("[bob]"), "[bob] after the restart");
    let _ = watch.kill();
    let _ = watch.wait();
    drop(relay);
}
