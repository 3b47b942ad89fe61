//! What a relay stores, as a trait its driver implements (`spec/08-mailboxes-and-relay.md`,
//! §8.6.6, **[RLY-09]**), and [`MemoryStore`], an in-memory implementation for tests,
//! fuzzing and simulations.
//!
//! A store holds exactly: per mailbox id, items of (item id, opaque envelope, expiry), and
//! attachment blobs by id with an expiry. No connection data, no time of writing, no
//! counters per client. A method returns only once its write is durable: the relay core
//! acknowledges a put after [`Store::put_item`] returns.

use core::fmt;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::frame::{Item, ItemId};
use crate::time::UnixTime;

/// The store could not complete an operation (I/O failure, full disk, poisoned lock). The
/// relay answers `relay.unavailable`; nothing it acknowledged is affected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreError;

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("store unavailable")
    }
}

impl std::error::Error for StoreError {}

/// What a put did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutOutcome {
    /// The item is new and now durable.
    Stored,
    /// An item with this id and the same envelope was already stored (a retried put); its
    /// expiry is now the later of the two.
    Duplicate,
    /// An item with this id but another envelope is stored.
    Conflict,
    /// The mailbox already holds `max_items` unexpired items.
    Full,
}

/// A page of fetched items.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Fetched {
    /// Unexpired items in the order they were stored.
    pub items: Vec<Item>,
    /// Whether more unexpired items remain beyond this page.
    pub more: bool,
}

/// A relay's durable storage. Every method takes `&self`: a store does its own locking, so a
/// driver may share it between connections.
pub trait Store {
    /// Stores an item unless the mailbox holds `max_items` unexpired items (at `now`);
    /// returns once the write is durable. Idempotent for the same id and envelope, except
    /// that the stored expiry becomes the later of the two (a retried put refreshes it, so
    /// the writer's expiry estimate never outlives the relay's copy, **[RLY-05]**).
    fn put_item(
        &self,
        mailbox: &[u8; 32],
        item: &Item,
        max_items: u32,
        now: UnixTime,
    ) -> Result<PutOutcome, StoreError>;

    /// Up to `max_items` unexpired items of the mailbox, oldest first, whose envelopes
    /// total at most `max_bytes` (always at least one item if any remains).
    fn fetch(
        &self,
        mailbox: &[u8; 32],
        now: UnixTime,
        max_items: usize,
        max_bytes: usize,
    ) -> Result<Fetched, StoreError>;

    /// Deletes the named items; returns how many of them existed unexpired at `now`
    /// (expired ones are removed too, uncounted, so the count does not depend on when
    /// sweeps run).
    fn delete(
        &self,
        mailbox: &[u8; 32],
        items: &[ItemId],
        now: UnixTime,
    ) -> Result<u32, StoreError>;

    /// Stores a blob under its id, keeping the later expiry if it exists.
    fn put_blob(&self, id: &[u8; 32], blob: &[u8], expires: u64) -> Result<(), StoreError>;

    /// An unexpired blob.
    fn get_blob(&self, id: &[u8; 32], now: UnixTime) -> Result<Option<Vec<u8>>, StoreError>;

    /// Deletes everything expired at `now`; returns how many items and blobs went.
    fn sweep(&self, now: UnixTime) -> Result<u64, StoreError>;

    /// Whether `bytes` more of envelope or blob fit the relay's storage quota
    /// (**[RLY-16]**): the bytes of the envelopes and blobs held, expired ones not yet
    /// swept included, plus `bytes`, at most the quota. A store without a quota always has
    /// room (the default).
    fn has_room(&self, bytes: usize) -> Result<bool, StoreError> {
        let _ = bytes;
        Ok(true)
    }
}

#[derive(Default)]
struct Memory {
    /// (mailbox, sequence) → item; the sequence keeps insertion order.
    items: BTreeMap<([u8; 32], u64), Item>,
    /// (mailbox, item id) → sequence.
    index: BTreeMap<([u8; 32], ItemId), u64>,
    blobs: BTreeMap<[u8; 32], (Vec<u8>, u64)>,
    next: u64,
}

/// A store in memory: durable only as long as the process (tests, fuzzing, simulations).
/// It can be switched to failing every operation ([`MemoryStore::set_unavailable`]), as a
/// store whose disk is gone would.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Memory>,
    unavailable: AtomicBool,
    quota: Option<u64>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// An empty store with a storage quota of `quota` bytes ([`Store::has_room`]).
    pub fn with_quota(quota: u64) -> MemoryStore {
        MemoryStore {
            quota: Some(quota),
            ..MemoryStore::default()
        }
    }

    /// The bytes of the envelopes and blobs held, expired ones not yet swept included.
    pub fn stored_bytes(&self) -> u64 {
        self.inspect()
            .map(|m| {
                let items = m.items.values().map(|i| i.envelope.len() as u64);
                let blobs = m.blobs.values().map(|(b, _)| b.len() as u64);
                items.chain(blobs).fold(0u64, u64::saturating_add)
            })
            .unwrap_or(0)
    }

    /// While `unavailable`, every [`Store`] operation fails with [`StoreError`] and changes
    /// nothing.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Whether the store is switched to failing.
    pub fn is_unavailable(&self) -> bool {
        self.unavailable.load(Ordering::SeqCst)
    }

    /// The data, for a [`Store`] operation: refused while unavailable.
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Memory>, StoreError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError);
        }
        self.inspect()
    }

    /// The data, for inspection by tests whatever the switch says.
    fn inspect(&self) -> Result<std::sync::MutexGuard<'_, Memory>, StoreError> {
        self.inner.lock().map_err(|_| StoreError)
    }

    /// Every stored item of a mailbox, expired or not (for tests and invariant checks).
    pub fn items(&self, mailbox: &[u8; 32]) -> Vec<Item> {
        self.inspect()
            .map(|m| {
                m.items
                    .range((*mailbox, 0)..=(*mailbox, u64::MAX))
                    .map(|(_, i)| i.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many items and blobs the store holds.
    pub fn len(&self) -> usize {
        self.inspect()
            .map(|m| m.items.len() + m.blobs.len())
            .unwrap_or(0)
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Store for MemoryStore {
    fn put_item(
        &self,
        mailbox: &[u8; 32],
        item: &Item,
        max_items: u32,
        now: UnixTime,
    ) -> Result<PutOutcome, StoreError> {
        let mut m = self.lock()?;
        if let Some(seq) = m.index.get(&(*mailbox, item.id)).copied() {
            match m.items.get_mut(&(*mailbox, seq)) {
                // An expired item is gone whether or not a sweep removed it yet: its id is
                // free again and the put is a new one (counted, and waking subscribers), so
                // the outcome never depends on when sweeps run.
                Some(old) if old.expires <= now.as_secs() => {
                    m.items.remove(&(*mailbox, seq));
                    m.index.remove(&(*mailbox, item.id));
                }
                Some(old) if old.envelope == item.envelope => {
                    old.expires = old.expires.max(item.expires);
                    return Ok(PutOutcome::Duplicate);
                }
                _ => return Ok(PutOutcome::Conflict),
            }
        }
        let live = m
            .items
            .range((*mailbox, 0)..=(*mailbox, u64::MAX))
            .filter(|(_, i)| i.expires > now.as_secs())
            .count();
        if live >= max_items as usize {
            return Ok(PutOutcome::Full);
        }
        let seq = m.next;
        m.next = m.next.saturating_add(1);
        m.items.insert((*mailbox, seq), item.clone());
        m.index.insert((*mailbox, item.id), seq);
        Ok(PutOutcome::Stored)
    }

    fn fetch(
        &self,
        mailbox: &[u8; 32],
        now: UnixTime,
        max_items: usize,
        max_bytes: usize,
    ) -> Result<Fetched, StoreError> {
        let m = self.lock()?;
        let mut fetched = Fetched::default();
        let mut bytes = 0usize;
        for item in m
            .items
            .range((*mailbox, 0)..=(*mailbox, u64::MAX))
            .map(|(_, i)| i)
            .filter(|i| i.expires > now.as_secs())
        {
            let next = bytes.saturating_add(item.envelope.len());
            if fetched.items.len() >= max_items || (!fetched.items.is_empty() && next > max_bytes) {
                fetched.more = true;
                break;
            }
            bytes = next;
            fetched.items.push(item.clone());
        }
        Ok(fetched)
    }

    fn delete(
        &self,
        mailbox: &[u8; 32],
        items: &[ItemId],
        now: UnixTime,
    ) -> Result<u32, StoreError> {
        let mut m = self.lock()?;
        let mut count = 0u32;
        for id in items {
            if let Some(seq) = m.index.remove(&(*mailbox, *id))
                && let Some(item) = m.items.remove(&(*mailbox, seq))
                && item.expires > now.as_secs()
            {
                count = count.saturating_add(1);
            }
        }
        Ok(count)
    }

    fn put_blob(&self, id: &[u8; 32], blob: &[u8], expires: u64) -> Result<(), StoreError> {
        let mut m = self.lock()?;
        let entry = m.blobs.entry(*id).or_insert_with(|| (blob.to_vec(), 0));
        entry.1 = entry.1.max(expires);
        Ok(())
    }

    fn get_blob(&self, id: &[u8; 32], now: UnixTime) -> Result<Option<Vec<u8>>, StoreError> {
        let m = self.lock()?;
        Ok(m.blobs
            .get(id)
            .filter(|(_, expires)| *expires > now.as_secs())
            .map(|(b, _)| b.clone()))
    }

    fn has_room(&self, bytes: usize) -> Result<bool, StoreError> {
        let m = self.lock()?;
        let held = m
            .items
            .values()
            .map(|i| i.envelope.len() as u64)
            .chain(m.blobs.values().map(|(b, _)| b.len() as u64))
            .fold(0u64, u64::saturating_add);
        Ok(self
            .quota
            .is_none_or(|quota| held.saturating_add(bytes as u64) <= quota))
    }

    fn sweep(&self, now: UnixTime) -> Result<u64, StoreError> {
        let mut m = self.lock()?;
        let now = now.as_secs();
        let expired: Vec<([u8; 32], u64, ItemId)> = m
            .items
            .iter()
            .filter(|(_, i)| i.expires <= now)
            .map(|((mb, seq), i)| (*mb, *seq, i.id))
            .collect();
        for (mailbox, seq, id) in &expired {
            m.items.remove(&(*mailbox, *seq));
            m.index.remove(&(*mailbox, *id));
        }
        let before = m.blobs.len();
        m.blobs.retain(|_, (_, expires)| *expires > now);
        Ok((expired.len() as u64).saturating_add(before.saturating_sub(m.blobs.len()) as u64))
    }
}
