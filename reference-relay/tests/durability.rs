//! Acknowledged means durable: puts acknowledged before a `kill -9` or a graceful shutdown
//! are all there, byte for byte and once each, after a restart on the same data file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Client, Relay, TestRng, within};
use futures_util::{SinkExt, StreamExt};
use quietwire::mailbox::MailboxKey;
use quietwire::relay::{Reply, Request, RequestFrame, ServerFrame};
use tokio_tungstenite::tungstenite::Message;

/// Limits high enough that a flood of puts is never refused for rate or room.
const ARGS: &[&str] = &[
    "--rate",
    "1000000",
    "--burst",
    "1000000",
    "--max-items",
    "1000000",
];
const WRITERS: u64 = 4;

fn key(i: u64) -> MailboxKey {
    MailboxKey::from_seed(&[(i % 2) as u8 + 1; 32])
}

/// What the writers did: every item sent (mailbox, bytes) and every one acknowledged.
#[derive(Default)]
struct Ledger {
    sent: BTreeMap<[u8; 16], ([u8; 32], Vec<u8>)>,
    acked: BTreeSet<[u8; 16]>,
    refused: usize,
}

/// Puts until the connection ends; records what was sent and what was acknowledged.
async fn writer(mut client: Client, seed: u64, ledger: Arc<Mutex<Ledger>>) {
    let mut rng = TestRng(seed);
    let mailbox = *key(seed).id();
    for n in 0u64.. {
        let item: [u8; 16] = rng.bytes();
        let envelope = rng.vec(512 + (n % 7) as usize * 300);
        ledger
            .lock()
            .unwrap()
            .sent
            .insert(item, (mailbox, envelope.clone()));
        let id = client.id();
        let frame = RequestFrame {
            id,
            request: Request::Put {
                mailbox,
                item,
                envelope,
                ttl: 3600,
            },
        };
        if client
            .ws
            .send(Message::Binary(frame.encode().into()))
            .await
            .is_err()
        {
            return;
        }
        // The reply, or the end of the connection (the relay was killed or shut down).
        let reply = match within("put reply", client.ws.next()).await {
            Some(Ok(Message::Binary(b))) => ServerFrame::decode(&b, u64::MAX).unwrap(),
            _ => return,
        };
        match reply {
            ServerFrame::Ok {
                id: got,
                reply: Reply::Stored,
            } if got == id => {
                ledger.lock().unwrap().acked.insert(item);
            }
            _ => ledger.lock().unwrap().refused += 1,
        }
    }
}

/// Starts the writers and waits (bounded) until at least `count` puts were acknowledged.
async fn load(
    relay: &Relay,
    count: usize,
) -> (Arc<Mutex<Ledger>>, Vec<tokio::task::JoinHandle<()>>) {
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut tasks = Vec::new();
    for seed in 0..WRITERS {
        let client = Client::connect(relay.addr).await;
        tasks.push(tokio::spawn(writer(client, seed, Arc::clone(&ledger))));
    }
    within("enough acknowledged puts", async {
        while ledger.lock().unwrap().acked.len() < count {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    (ledger, tasks)
}

/// Reads both mailboxes to the end on the restarted relay and checks them against the
/// ledger: every acknowledged item present with its bytes, nothing twice, nothing unknown.
async fn check(relay: &Relay, ledger: &Ledger) {
    assert_eq!(ledger.refused, 0, "puts were refused");
    let mut owner = Client::connect(relay.addr).await;
    let mut seen = BTreeSet::new();
    for i in 0..2 {
        let k = key(i);
        for item in owner.drain_mailbox(&k).await {
            assert!(seen.insert(item.id), "an item came back twice");
            let (mailbox, envelope) = ledger.sent.get(&item.id).expect("an item never sent");
            assert_eq!(mailbox, k.id(), "an item in the wrong mailbox");
            assert_eq!(&item.envelope, envelope, "envelope bytes changed");
        }
    }
    let lost = ledger.acked.difference(&seen).count();
    assert_eq!(lost, 0, "{lost} acknowledged items lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_puts_survive_kill_9_under_load() {
    let relay = Relay::start(ARGS);
    let (ledger, tasks) = load(&relay, 1000).await;
    // SIGKILL mid-stream: writers are waiting on replies or sending.
    let (tmp, dir) = relay.into_dir();
    for task in tasks {
        within("writer ends", task).await.unwrap();
    }
    let ledger = Arc::try_unwrap(ledger).ok().unwrap().into_inner().unwrap();
    assert!(ledger.sent.len() >= ledger.acked.len());
    let relay = Relay::start_in(&dir, ARGS);
    check(&relay, &ledger).await;
    drop(relay);
    drop(tmp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_under_load_keeps_everything_and_exits_0() {
    let relay = Relay::start(ARGS);
    let mut idle = Client::connect(relay.addr).await;
    let (ledger, tasks) = load(&relay, 200).await;
    let idle_closed = tokio::spawn(async move { idle.drain_until_closed().await });
    let mut relay = tokio::task::spawn_blocking(move || {
        let mut relay = relay;
        let status = relay.terminate();
        assert!(status.success(), "exit status {status}");
        relay
    })
    .await
    .unwrap();
    for task in tasks {
        within("writer ends", task).await.unwrap();
    }
    // Open connections got a close frame ("going away").
    let (frames, code) = within("idle close", idle_closed).await.unwrap();
    assert!(frames.is_empty());
    assert_eq!(code, Some(1001));
    assert!(
        relay.log().contains("quietwire-relay: stopped"),
        "{}",
        relay.log()
    );
    let ledger = Arc::try_unwrap(ledger).ok().unwrap().into_inner().unwrap();
    // A graceful stop finishes every request in progress: nothing sent is unanswered
    // except at most one put per writer that left after the relay stopped reading.
    assert!(ledger.sent.len() - ledger.acked.len() <= WRITERS as usize);
    let dir = relay.dir.clone();
    relay.kill();
    let tmp = relay_tmp(&mut relay);
    let restarted = Relay::start_in(&dir, ARGS);
    check(&restarted, &ledger).await;
    drop(restarted);
    drop(tmp);
}

/// Takes the temporary directory out of a stopped relay so it outlives the restart.
fn relay_tmp(relay: &mut Relay) -> Option<tempfile::TempDir> {
    std::mem::take(&mut relay.tmp)
}
