//! Wake-ups across connections (`spec/08-mailboxes-and-relay.md`, §8.6: subscribe and
//! wake frames).
//!
//! The hub knows every open connection's outbound queue and which mailboxes each one
//! subscribed to. When a put stores a new item the connection that handled it asks the hub
//! to queue a wake frame on every subscribed connection, itself included. The hub never
//! waits: a subscriber whose queue is full is told to close (a slow client must not hold
//! up the writer or anyone else).
//!
//! The subscription index mirrors the core: a connection records a mailbox here only after
//! its [`quietwire::relay::Connection::is_subscribed`] says so, and the index lives only in
//! memory, for the life of the connection.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use tokio::sync::{Notify, mpsc};

/// A frame on a connection's outbound queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outbound {
    /// A binary frame (a reply, a wake, the welcome).
    Frame(Bytes),
    /// A close frame with a code and a fixed reason; the last thing sent.
    Close(u16, &'static str),
}

/// How the hub reaches one connection.
#[derive(Debug)]
struct Peer {
    queue: mpsc::Sender<Outbound>,
    /// Notified when the connection must close because its queue is full.
    slow: Arc<Notify>,
    subscriptions: BTreeSet<[u8; 32]>,
}

#[derive(Debug, Default)]
struct Inner {
    next: u64,
    peers: BTreeMap<u64, Peer>,
    subscribers: BTreeMap<[u8; 32], BTreeSet<u64>>,
}

/// The registry of open connections and their subscriptions.
#[derive(Debug, Default)]
pub struct Hub {
    inner: Mutex<Inner>,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The lock guards plain maps and is never held across a panic-prone call; recover
        // the data rather than take the relay down.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a connection; returns its hub id (an in-memory handle, never logged).
    pub fn join(&self, queue: mpsc::Sender<Outbound>, slow: Arc<Notify>) -> u64 {
        let mut inner = self.lock();
        let id = inner.next;
        inner.next = inner.next.wrapping_add(1);
        inner.peers.insert(
            id,
            Peer {
                queue,
                slow,
                subscriptions: BTreeSet::new(),
            },
        );
        id
    }

    /// Records that connection `id` is subscribed to `mailbox`.
    pub fn subscribe(&self, id: u64, mailbox: [u8; 32]) {
        let mut inner = self.lock();
        let Some(peer) = inner.peers.get_mut(&id) else {
            return;
        };
        peer.subscriptions.insert(mailbox);
        inner.subscribers.entry(mailbox).or_default().insert(id);
    }

    /// Forgets connection `id` and its subscriptions.
    pub fn leave(&self, id: u64) {
        let mut inner = self.lock();
        let Some(peer) = inner.peers.remove(&id) else {
            return;
        };
        for mailbox in &peer.subscriptions {
            if let Some(ids) = inner.subscribers.get_mut(mailbox) {
                ids.remove(&id);
                if ids.is_empty() {
                    inner.subscribers.remove(mailbox);
                }
            }
        }
    }

    /// Queues `frame` (a wake for `mailbox`) on every connection subscribed to `mailbox`;
    /// returns how many it was queued on. A subscriber whose queue is full is told to close.
    pub fn wake(&self, mailbox: &[u8; 32], frame: &Bytes) -> u64 {
        let inner = self.lock();
        let Some(ids) = inner.subscribers.get(mailbox) else {
            return 0;
        };
        let mut sent = 0u64;
        for peer in ids.iter().filter_map(|id| inner.peers.get(id)) {
            match peer.queue.try_send(Outbound::Frame(frame.clone())) {
                Ok(()) => sent = sent.saturating_add(1),
                Err(mpsc::error::TrySendError::Full(_)) => peer.slow.notify_one(),
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        sent
    }

    /// How many connections are registered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().peers.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn wakes_reach_subscribers_only_and_full_queues_are_told_to_close() {
        let hub = Hub::default();
        let (tx_a, mut rx_a) = mpsc::channel(4);
        let (tx_b, mut rx_b) = mpsc::channel(1);
        let (slow_a, slow_b) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let a = hub.join(tx_a, slow_a.clone());
        let b = hub.join(tx_b, slow_b.clone());
        hub.subscribe(a, [1; 32]);
        hub.subscribe(b, [1; 32]);
        hub.subscribe(b, [2; 32]);
        let frame = Bytes::from_static(b"wake");
        assert_eq!(hub.wake(&[3; 32], &frame), 0);
        assert_eq!(hub.wake(&[2; 32], &frame), 1);
        // b's queue (one frame) is now full: the next wake is dropped for b and b must close.
        assert_eq!(hub.wake(&[1; 32], &frame), 1);
        slow_b.notified().await;
        assert_eq!(rx_a.recv().await.unwrap(), Outbound::Frame(frame.clone()));
        assert_eq!(rx_b.recv().await.unwrap(), Outbound::Frame(frame.clone()));
        hub.leave(b);
        assert_eq!(hub.len(), 1);
        assert_eq!(hub.wake(&[2; 32], &frame), 0);
        assert_eq!(hub.wake(&[1; 32], &frame), 1);
        hub.leave(a);
        assert_eq!(hub.wake(&[1; 32], &frame), 0);
        assert!(hub.lock().subscribers.is_empty());
    }
}
