//! The relay protocol end to end against the real binary: round trips, ownership, wakes,
//! bad input, limits, and the HTTP endpoints.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Client, Relay, TestRng, assert_ok, error_of, hex, http_get, within};
use futures_util::SinkExt;
use quietwire::mailbox::{MailboxKey, Operation};
use quietwire::relay::{Reply, Request, ServerFrame};
use tokio_tungstenite::tungstenite::Message;

fn key(seed: u8) -> MailboxKey {
    MailboxKey::from_seed(&[seed; 32])
}

#[tokio::test]
async fn put_fetch_delete_round_trip_is_byte_exact() {
    let relay = Relay::start(&[]);
    let mut rng = TestRng(1);
    let owner_key = key(1);
    let mut writer = Client::connect(relay.addr).await;
    let mut owner = Client::connect(relay.addr).await;
    let items: Vec<([u8; 16], Vec<u8>)> = [512, 1000, 70]
        .into_iter()
        .map(|n| (rng.bytes(), rng.vec(n)))
        .collect();
    for (id, envelope) in &items {
        writer.put(*owner_key.id(), *id, envelope.clone()).await;
    }
    // A retried put (same id and bytes) is acknowledged again; other bytes conflict.
    writer
        .put(*owner_key.id(), items[0].0, items[0].1.clone())
        .await;
    let reply = writer
        .call(Request::Put {
            mailbox: *owner_key.id(),
            item: items[0].0,
            envelope: vec![1; 512],
            ttl: 3600,
        })
        .await;
    assert_eq!(error_of(&reply), ("relay.conflict".to_owned(), false));

    let (fetched, more) = owner.fetch(&owner_key).await;
    assert!(!more);
    assert_eq!(fetched.len(), 3);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for (item, (id, envelope)) in fetched.iter().zip(&items) {
        assert_eq!(&item.id, id);
        assert_eq!(&item.envelope, envelope, "byte-exact envelope");
        assert_eq!(item.expires % 3600, 0, "expiry rounded to the hour");
        assert!(item.expires >= now + 3600 && item.expires <= now + 7200);
    }
    let ids = items.iter().map(|(id, _)| *id).collect();
    assert_eq!(owner.delete(&owner_key, ids).await, 3);
    assert!(owner.fetch(&owner_key).await.0.is_empty());
}

#[tokio::test]
async fn only_the_owner_fetches_and_deletes() {
    let relay = Relay::start(&[]);
    let owner_key = key(2);
    let mut a = Client::connect(relay.addr).await;
    let mut b = Client::connect(relay.addr).await;
    a.put(*owner_key.id(), [7; 16], vec![7; 600]).await;
    let delete = |proof: Vec<u8>| Request::Delete {
        mailbox: *owner_key.id(),
        proof,
        items: vec![[7; 16]],
    };
    // A fetch proof does not authorize a delete.
    let wrong_op = owner_key.prove(&a.origin, &a.challenge, Operation::Fetch);
    let reply = a.call(delete(wrong_op)).await;
    assert_eq!(error_of(&reply), ("mailbox.proof".to_owned(), false));
    // A proof for another connection's challenge is refused.
    let other_challenge = owner_key.prove(&b.origin, &b.challenge, Operation::Delete);
    let reply = a.call(delete(other_challenge)).await;
    assert_eq!(error_of(&reply), ("mailbox.proof".to_owned(), false));
    // A proof made on a connection to another relay (which forwarded this relay's
    // challenge) is refused: it names the origin the client dialled (MBX-05).
    let elsewhere = quietwire::mailbox::RelayOrigin::parse("wss://other.example").unwrap();
    let forwarded = owner_key.prove(&elsewhere, &a.challenge, Operation::Delete);
    let reply = a.call(delete(forwarded)).await;
    assert_eq!(error_of(&reply), ("mailbox.origin".to_owned(), false));
    // A proof by another mailbox key does not match the id.
    let other_key = key(3).prove(&a.origin, &a.challenge, Operation::Delete);
    let reply = a.call(delete(other_key)).await;
    assert_eq!(error_of(&reply), ("mailbox.key".to_owned(), false));
    // The same for fetch.
    let reply = a
        .call(Request::Fetch {
            mailbox: *owner_key.id(),
            proof: key(3).prove(&a.origin, &a.challenge, Operation::Fetch),
            max: None,
        })
        .await;
    assert_eq!(error_of(&reply), ("mailbox.key".to_owned(), false));
    // Nothing was deleted; the owner, with its own challenge, deletes.
    assert_eq!(b.fetch(&owner_key).await.0.len(), 1);
    assert_eq!(b.delete(&owner_key, vec![[7; 16]]).await, 1);
    assert_eq!(a.delete(&owner_key, vec![[7; 16]]).await, 0);
}

#[tokio::test]
async fn subscribers_are_woken_by_puts_from_other_connections() {
    let relay = Relay::start(&[]);
    let k = key(4);
    let mut subscriber = Client::connect(relay.addr).await;
    let mut writer = Client::connect(relay.addr).await;
    subscriber.subscribe(&k).await;
    writer.put(*k.id(), [1; 16], vec![1; 512]).await;
    assert_eq!(
        subscriber.recv().await,
        ServerFrame::Wake { mailbox: *k.id() }
    );
    // A connection subscribed to the mailbox it writes to gets its reply, then the wake.
    writer.subscribe(&k).await;
    let id = writer.id();
    writer
        .send_raw(
            quietwire::relay::RequestFrame {
                id,
                request: Request::Put {
                    mailbox: *k.id(),
                    item: [2; 16],
                    envelope: vec![2; 512],
                    ttl: 60,
                },
            }
            .encode(),
        )
        .await;
    assert_eq!(
        writer.recv().await,
        ServerFrame::Ok {
            id,
            reply: Reply::Stored
        }
    );
    assert_eq!(writer.recv().await, ServerFrame::Wake { mailbox: *k.id() });
    assert_eq!(
        subscriber.recv().await,
        ServerFrame::Wake { mailbox: *k.id() }
    );
    // A retried put (same id and bytes) stores nothing and wakes no one: after it and one
    // new put, exactly one wake precedes the answer to the subscriber's next request.
    writer.put(*k.id(), [1; 16], vec![1; 512]).await;
    writer.put(*k.id(), [3; 16], vec![3; 512]).await;
    let id = subscriber.id();
    let fetch = quietwire::relay::RequestFrame {
        id,
        request: Request::Fetch {
            mailbox: *k.id(),
            proof: k.prove(&subscriber.origin, &subscriber.challenge, Operation::Fetch),
            max: None,
        },
    };
    subscriber.send_raw(fetch.encode()).await;
    assert_eq!(
        subscriber.recv().await,
        ServerFrame::Wake { mailbox: *k.id() }
    );
    let ServerFrame::Ok {
        id: got,
        reply: Reply::Items { items, .. },
    } = subscriber.recv().await
    else {
        panic!("expected the fetch answer after one wake")
    };
    assert_eq!((got, items.len()), (id, 3));
}

#[tokio::test]
async fn a_client_close_is_answered_with_a_close() {
    let relay = Relay::start(&[]);
    let mut c = Client::connect(relay.addr).await;
    let close = tokio_tungstenite::tungstenite::protocol::CloseFrame {
        code: 1000.into(),
        reason: "bye".into(),
    };
    within("close", c.ws.close(Some(close))).await.unwrap();
    // The relay completes the closing handshake (a close frame back, not just EOF).
    let (frames, code) = c.drain_until_closed().await;
    assert!(frames.is_empty());
    assert_eq!(code, Some(1000));
}

#[tokio::test]
async fn non_cbor_frame_closes_that_connection_only() {
    let relay = Relay::start(&[]);
    let mut bystander = Client::connect(relay.addr).await;
    let mut bad = Client::connect(relay.addr).await;
    bad.send_raw(vec![0xff, 0x00, 0x13]).await;
    let (frames, code) = bad.drain_until_closed().await;
    assert_eq!(frames.len(), 1, "{frames:?}");
    let (class, closing) = error_of(&frames[0]);
    assert!(class.starts_with("cbor."), "{class}");
    assert!(closing);
    assert_eq!(code, Some(1008));
    bystander.put(*key(5).id(), [5; 16], vec![5; 512]).await;
}

#[tokio::test]
async fn oversized_frames_are_refused_and_close() {
    let relay = Relay::start(&[]);
    let mut c = Client::connect(relay.addr).await;
    let max = c.limits.max_frame as usize;
    c.send_raw(vec![0xa0; max + 1]).await;
    let (frames, code) = c.drain_until_closed().await;
    assert_eq!(frames.len(), 1);
    assert_eq!(
        error_of(&frames[0]),
        ("relay.frame_too_large".to_owned(), true)
    );
    assert_eq!(code, Some(1008));
    // Beyond twice the frame limit the WebSocket layer cuts the connection, no error frame.
    let mut c = Client::connect(relay.addr).await;
    let _ = within(
        "send",
        c.ws.send(Message::Binary(vec![0; 2 * max + 1].into())),
    )
    .await;
    // (Usually with close code 1009; a reset may overtake the close frame.)
    let (frames, _) = c.drain_until_closed().await;
    assert!(frames.is_empty(), "{frames:?}");
    // The relay still serves.
    Client::connect(relay.addr)
        .await
        .put(*key(6).id(), [6; 16], vec![6; 512])
        .await;
}

#[tokio::test]
async fn unknown_operation_is_answered_and_the_connection_stays_open() {
    let relay = Relay::start(&[]);
    let mut c = Client::connect(relay.addr).await;
    // {1: 1, 2: 5, 3: 99}: version 1, request id 5, operation 99.
    c.send_raw(vec![0xa3, 0x01, 0x01, 0x02, 0x05, 0x03, 0x18, 0x63])
        .await;
    let frame = c.recv().await;
    assert_eq!(
        frame,
        ServerFrame::Error {
            id: 5,
            class: "relay.operation".to_owned(),
            closing: false
        }
    );
    c.put(*key(7).id(), [7; 16], vec![7; 512]).await;
}

#[tokio::test]
async fn text_frames_close_the_connection() {
    let relay = Relay::start(&[]);
    let mut c = Client::connect(relay.addr).await;
    within("send", c.ws.send(Message::text("hello")))
        .await
        .unwrap();
    let (frames, code) = c.drain_until_closed().await;
    assert!(frames.is_empty());
    assert_eq!(code, Some(1003));
}

#[tokio::test]
async fn invalid_ttls_are_refused() {
    let relay = Relay::start(&[]);
    let mut c = Client::connect(relay.addr).await;
    let max_ttl = c.limits.max_ttl;
    for ttl in [0, max_ttl + 1] {
        let reply = c
            .call(Request::Put {
                mailbox: *key(8).id(),
                item: [8; 16],
                envelope: vec![8; 512],
                ttl,
            })
            .await;
        assert_eq!(error_of(&reply), ("relay.ttl".to_owned(), false));
    }
    let reply = c
        .call(Request::BlobPut {
            blob: vec![1; 10],
            ttl: 0,
        })
        .await;
    assert_eq!(error_of(&reply), ("relay.ttl".to_owned(), false));
    // Blobs round trip by their id.
    let reply = c
        .call(Request::BlobPut {
            blob: vec![1; 10],
            ttl: max_ttl,
        })
        .await;
    let ServerFrame::Ok {
        reply: Reply::BlobStored { blob_id },
        ..
    } = reply
    else {
        panic!("{reply:?}")
    };
    let reply = c.call(Request::BlobGet { blob_id }).await;
    assert!(
        matches!(&reply, ServerFrame::Ok { reply: Reply::Blob { blob }, .. } if blob == &vec![1; 10]),
        "{reply:?}"
    );
}

#[tokio::test]
async fn bursts_above_the_rate_are_refused_per_connection() {
    let relay = Relay::start(&["--rate", "1", "--burst", "3"]);
    let mut greedy = Client::connect(relay.addr).await;
    let mut other = Client::connect(relay.addr).await;
    assert_eq!((greedy.limits.rate, greedy.limits.burst), (1, 3));
    let n = 10u8;
    // Pipelined: all requests leave before any reply is read.
    for i in 0..n {
        let id = greedy.id();
        let frame = quietwire::relay::RequestFrame {
            id,
            request: Request::Put {
                mailbox: *key(9).id(),
                item: [i; 16],
                envelope: vec![i; 512],
                ttl: 3600,
            },
        };
        greedy.send_raw(frame.encode()).await;
    }
    let mut refused = 0;
    for _ in 0..n {
        match greedy.recv().await {
            ServerFrame::Ok { .. } => {}
            frame => {
                assert_eq!(error_of(&frame), ("relay.rate".to_owned(), false));
                refused += 1;
            }
        }
    }
    assert!(refused >= 5, "only {refused} of {n} refused");
    // Another connection has its own bucket.
    other.put(*key(9).id(), [99; 16], vec![9; 512]).await;
}

#[tokio::test]
async fn connection_limit_and_idle_timeout() {
    let relay = Relay::start(&["--max-connections", "1", "--idle-timeout", "1"]);
    let mut first = Client::connect(relay.addr).await;
    // The second upgrade is refused while the first is open.
    let tcp = tokio::net::TcpStream::connect(relay.addr).await.unwrap();
    let refused = within(
        "refused upgrade",
        tokio_tungstenite::client_async(relay.url(), tcp),
    )
    .await;
    assert!(refused.is_err());
    // Silence closes the first after the idle timeout (bounded wait, not a sleep).
    let (_, code) = first.drain_until_closed().await;
    assert_eq!(code, Some(1000));
    // Its slot is free again (the relay releases it as the connection ends).
    let mut again = None;
    for _ in 0..100 {
        let tcp = tokio::net::TcpStream::connect(relay.addr).await.unwrap();
        if let Ok((ws, _)) = tokio_tungstenite::client_async(relay.url(), tcp).await {
            again = Some(ws);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(again.is_some());
}

#[tokio::test]
async fn health_and_metrics_answer_without_identifiers() {
    let relay = Relay::start(&[]);
    let (status, body) = http_get(relay.addr, "/health").await;
    assert_eq!((status, body.as_str()), (200, "{\"status\":\"ok\"}"));
    let k = key(10);
    let mut c = Client::connect(relay.addr).await;
    c.put(*k.id(), [10; 16], vec![10; 512]).await;
    let reply = c
        .call(Request::Put {
            mailbox: *k.id(),
            item: [11; 16],
            envelope: vec![10; 512],
            ttl: 0,
        })
        .await;
    assert_ok(
        &c.call(Request::BlobPut {
            blob: vec![3; 3],
            ttl: 60,
        })
        .await,
    );
    assert_eq!(error_of(&reply).0, "relay.ttl");
    let (status, text) = http_get(relay.addr, "/metrics").await;
    assert_eq!(status, 200);
    for line in [
        "quietwire_relay_connections_open 1",
        "quietwire_relay_connections_total 1",
        "quietwire_relay_requests_total{op=\"put\"} 2",
        "quietwire_relay_requests_total{op=\"blob-put\"} 1",
        "quietwire_relay_errors_total{class=\"relay.ttl\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
    }
    assert!(text.contains("\nquietwire_relay_sweeps_total "));
    assert!(!text.contains(&hex(k.id())));
    assert!(!text.contains("127.0.0.1"));
    assert!(!text.contains(&c.local_port.to_string()));
}
