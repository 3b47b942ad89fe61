//! Storage quotas (**[RLY-16]**), with the real process: a connection's uploads beyond
//! `--upload-budget` are refused with `relay.quota`, and writes beyond `--storage-quota`
//! with `relay.storage_full`, which deletes free again and which a restart still knows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Client, Relay, assert_ok, error_of};
use quietwire::mailbox::MailboxKey;
use quietwire::relay::{Request, ServerFrame};

fn put(mailbox: &MailboxKey, item: u8, len: usize) -> Request {
    Request::Put {
        mailbox: *mailbox.id(),
        item: [item; 16],
        envelope: vec![item; len],
        ttl: 3600,
    }
}

fn blob(byte: u8, len: usize) -> Request {
    Request::BlobPut {
        blob: vec![byte; len],
        ttl: 3600,
    }
}

fn refused(frame: &ServerFrame, class: &str) {
    assert_eq!(error_of(frame), (class.to_owned(), false), "{frame:?}");
}

#[tokio::test]
async fn a_connection_cannot_upload_beyond_its_budget() {
    let relay = Relay::start(&["--upload-budget", "3000"]);
    let key = MailboxKey::from_seed(&[1; 32]);
    let mut c = Client::connect(relay.addr).await;
    assert_ok(&c.call(put(&key, 1, 1000)).await);
    assert_ok(&c.call(blob(2, 1000)).await);
    assert_ok(&c.call(put(&key, 3, 1000)).await);
    refused(&c.call(put(&key, 4, 1)).await, "relay.quota");
    refused(&c.call(blob(5, 1)).await, "relay.quota");
    // The connection stays open for everything else.
    let (items, _) = c.fetch(&key).await;
    assert_eq!(items.len(), 2);
    // The budget is the connection's: another one uploads.
    let mut other = Client::connect(relay.addr).await;
    assert_ok(&other.call(put(&key, 4, 1)).await);
}

#[tokio::test]
async fn the_relay_holds_no_more_than_its_storage_quota() {
    let mut relay = Relay::start(&["--storage-quota", "2500"]);
    let key = MailboxKey::from_seed(&[2; 32]);
    let mut c = Client::connect(relay.addr).await;
    assert_ok(&c.call(put(&key, 1, 1000)).await);
    assert_ok(&c.call(blob(2, 1000)).await);
    refused(&c.call(put(&key, 3, 1000)).await, "relay.storage_full");
    refused(&c.call(blob(4, 1000)).await, "relay.storage_full");
    // Another connection is refused too: the quota is the relay's.
    let mut other = Client::connect(relay.addr).await;
    refused(&other.call(put(&key, 3, 1000)).await, "relay.storage_full");
    assert_ok(&other.call(put(&key, 5, 500)).await);

    // A restart counts what the file holds.
    let dir = relay.dir.clone();
    relay.terminate();
    let tmp = relay.tmp.take().unwrap();
    let relay = Relay::start_in(&dir, &["--storage-quota", "2500"]);
    let mut c = Client::connect(relay.addr).await;
    refused(&c.call(put(&key, 3, 1)).await, "relay.storage_full");
    // Deleting frees room.
    assert_eq!(c.drain_mailbox(&key).await.len(), 2);
    assert_ok(&c.call(put(&key, 3, 1000)).await);
    drop(tmp);
}
