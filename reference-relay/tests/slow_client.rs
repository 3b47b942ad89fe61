//! A client that does not read cannot hold up anyone else: its outbound queue fills, the
//! relay closes it, and other connections are answered promptly throughout.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::{Client, Relay, TestRng, http_get, within};
use futures_util::SinkExt;
use quietwire::mailbox::{MailboxKey, Operation};
use quietwire::relay::{Request, RequestFrame};
use tokio_tungstenite::tungstenite::Message;

/// What "promptly" means for the other connections' requests.
const PROMPT: Duration = Duration::from_secs(3);

async fn slow_closes(relay: &Relay) -> usize {
    let (_, metrics) = http_get(relay.addr, "/metrics").await;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("quietwire_relay_connections_closed_total{reason=\"slow\"} "))
        .unwrap()
        .parse()
        .unwrap()
}

/// The subscriber stops reading. Its mailbox fills with large envelopes from a writer
/// (each put also queues a wake for it) and it keeps asking for them (each fetch reply is
/// about a megabyte), so its kernel buffers and then its queue of `--send-queue` frames fill
/// within a few requests. The relay must close it rather than wait, while the writer's puts
/// and a bystander's requests keep being answered promptly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_never_reads_is_closed_and_blocks_no_one() {
    let relay = Relay::start(&[
        "--send-queue",
        "4",
        "--rate",
        "1000000",
        "--burst",
        "1000000",
    ]);
    let mailbox = MailboxKey::from_seed(&[1; 32]);
    let other = MailboxKey::from_seed(&[2; 32]);
    let mut rng = TestRng(7);
    // A small receive window, so the kernel holds little on the sleeper's behalf.
    let mut sleeper = Client::connect_with(relay.addr, Some(4096)).await;
    sleeper.subscribe(&mailbox).await;
    let proof = mailbox.prove(&sleeper.origin, &sleeper.challenge, Operation::Fetch);
    // From here on the sleeper reads nothing.
    let mut writer = Client::connect(relay.addr).await;
    let mut bystander = Client::connect(relay.addr).await;
    let max = writer.limits.max_envelope as usize;
    for _ in 0..40 {
        let put = writer.put(*mailbox.id(), rng.bytes(), rng.vec(max));
        tokio::time::timeout(PROMPT, put)
            .await
            .expect("a put was held up");
    }
    within("the relay closes the sleeper", async {
        let mut sent = 0u32;
        while slow_closes(&relay).await == 0 {
            // Keep asking (while the connection takes requests), keep writing, and check
            // that others are served promptly.
            if sent < 1000 {
                let id = sleeper.id();
                let fetch = RequestFrame {
                    id,
                    request: Request::Fetch {
                        mailbox: *mailbox.id(),
                        proof: proof.clone(),
                        max: None,
                    },
                };
                let send = sleeper.ws.send(Message::Binary(fetch.encode().into()));
                match tokio::time::timeout(PROMPT, send).await {
                    Ok(Ok(())) => sent += 1,
                    _ => sent = u32::MAX,
                }
            }
            let put = writer.put(*mailbox.id(), rng.bytes(), rng.vec(512));
            tokio::time::timeout(PROMPT, put)
                .await
                .expect("the writer was held up");
            let put = bystander.put(*other.id(), rng.bytes(), vec![3; 512]);
            tokio::time::timeout(PROMPT, put)
                .await
                .expect("a bystander was held up");
        }
    })
    .await;
    // The sleeper's connection ends once it reads what was already on the wire.
    let (frames, _) = sleeper.drain_until_closed().await;
    assert!(!frames.is_empty());
    // Everyone else is still served.
    let (items, _) = tokio::time::timeout(PROMPT, bystander.fetch(&other))
        .await
        .expect("fetch held up");
    assert!(!items.is_empty());
    writer.put(*mailbox.id(), rng.bytes(), vec![4; 512]).await;
    assert_eq!(slow_closes(&relay).await, 1);
}

/// How many fetches the pipelining clients below send before reading anything.
const PIPELINED: u32 = 120;

/// A relay with a queue of four frames (and the `extra` flags), one full-size envelope in a
/// mailbox, and a client with a 4 KiB receive window that has sent [`PIPELINED`] fetches of
/// it without reading anything.
struct Pipelined {
    relay: Relay,
    writer: Client,
    client: Client,
    mailbox: MailboxKey,
    ids: Vec<u32>,
    max: usize,
}

async fn pipelined_fetches(extra: &[&str], seed: u8) -> Pipelined {
    let mut args = vec![
        "--send-queue",
        "4",
        "--rate",
        "1000000",
        "--burst",
        "1000000",
    ];
    args.extend_from_slice(extra);
    let relay = Relay::start(&args);
    let mailbox = MailboxKey::from_seed(&[seed; 32]);
    let mut rng = TestRng(u64::from(seed));
    let mut writer = Client::connect(relay.addr).await;
    let max = writer.limits.max_envelope as usize;
    writer.put(*mailbox.id(), rng.bytes(), rng.vec(max)).await;
    let mut client = Client::connect_with(relay.addr, Some(4096)).await;
    let proof = mailbox.prove(&client.origin, &client.challenge, Operation::Fetch);
    let mut ids = Vec::new();
    for _ in 0..PIPELINED {
        let id = client.id();
        ids.push(id);
        let fetch = RequestFrame {
            id,
            request: Request::Fetch {
                mailbox: *mailbox.id(),
                proof: proof.clone(),
                max: None,
            },
        };
        within(
            "a pipelined request is accepted",
            client.ws.send(Message::Binary(fetch.encode().into())),
        )
        .await
        .unwrap();
    }
    Pipelined {
        relay,
        writer,
        client,
        mailbox,
        ids,
        max,
    }
}

/// A client that pipelines many requests and reads the replies only afterwards is not a
/// slow client. With a queue of four frames and a small receive window, the replies (about
/// 7.5 MiB of envelopes, above Linux's default largest send buffer of 4 MiB) cannot all
/// wait in the kernel or the queue, so the relay must stop reading the client's requests
/// until it reads (**[RLY-12]**) rather than close it.
/// Every request is then answered, in order, and the connection stays open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_pipelines_and_reads_late_is_served_in_full() {
    let Pipelined {
        relay,
        client: mut reader,
        mailbox,
        ids,
        max,
        ..
    } = pipelined_fetches(&[], 5).await;
    // Let the relay run into the full queue and the full socket before anything is read.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for id in ids {
        match within("a pipelined reply", reader.recv()).await {
            quietwire::relay::ServerFrame::Ok {
                id: got,
                reply: quietwire::relay::Reply::Items { items, .. },
            } => {
                assert_eq!(got, id);
                assert_eq!(items.len(), 1);
                assert_eq!(items[0].envelope.len(), max);
            }
            other => panic!("request {id}: {other:?}"),
        }
    }
    let (items, _) = within("the connection is still served", reader.fetch(&mailbox)).await;
    assert_eq!(items.len(), 1);
    assert_eq!(slow_closes(&relay).await, 0);
}

/// The same pipelining client that never reads is closed as slow once a reply has waited
/// `--reply-wait` for room, with no subscription (hence no wake) involved, and the relay
/// stopped reading its requests meanwhile: fewer replies reach it than it asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_pipelines_and_never_reads_is_closed_after_the_reply_wait() {
    let Pipelined {
        relay,
        mut writer,
        client: mut sleeper,
        mailbox,
        ..
    } = pipelined_fetches(&["--reply-wait", "1"], 6).await;
    within("the relay closes the sleeper", async {
        while slow_closes(&relay).await == 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    // What reaches the sleeper is at most what the kernel held when the relay closed (the
    // relay had stopped reading its requests, so the close may be a reset that discards even
    // that): never all its replies.
    let (frames, _) = sleeper.drain_until_closed().await;
    assert!(
        frames.len() < PIPELINED as usize,
        "{} replies",
        frames.len()
    );
    // Others are still served.
    let (items, _) = within("a fetch on another connection", writer.fetch(&mailbox)).await;
    assert_eq!(items.len(), 1);
}
