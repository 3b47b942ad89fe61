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
