//! The relay's durable store: [`quietwire::relay::Store`] on a redb database
//! (`spec/08-mailboxes-and-relay.md`, §8.6.6, **[RLY-09]**: what a relay stores).
//!
//! One file, five tables, and nothing else:
//!
//! | table | key | value |
//! |---|---|---|
//! | `items` | (mailbox id, sequence) | (item id, expiry, envelope) |
//! | `index` | (mailbox id, item id) | sequence |
//! | `item_expiry` | (expiry, mailbox id, sequence) | () |
//! | `blobs` | blob id | (expiry, blob) |
//! | `blob_expiry` | (expiry, blob id) | () |
//!
//! The sequence orders a mailbox's items for fetching (oldest first). It counts **per
//! mailbox** (one more than the mailbox's newest item) rather than globally, so the file keeps
//! the order of each mailbox's items, as the spec requires, but not the order in which
//! different mailboxes were written to: a global write counter would let whoever reads the
//! file line up writes across mailboxes. Expiries are those the core computed, rounded up to
//! the hour. The two expiry tables let a sweep find what expired without scanning every
//! item.
//!
//! Writes (puts, deletes, blob puts, sweeps) go through one writer thread with group commit
//! ([`writer`]): a write returns only once the redb transaction holding it was committed
//! with the default [`redb::Durability::Immediate`] (checksummed commit slot, `fsync`), so
//! the core acknowledges only durable writes. Reads (fetch, blob-get) read the last commit
//! directly. Every method blocks: call them from `tokio::task::spawn_blocking`.
//!
//! - [`tables`]: the table definitions and each operation inside a transaction.
//! - [`writer`]: the writer thread and its batches.

mod tables;
mod writer;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

use std::sync::atomic::{AtomicU64, Ordering};

use quietwire::UnixTime;
use quietwire::relay::{Fetched, Item, ItemId, PutOutcome, Store, StoreError};
use redb::Database;

use crate::log;
use writer::{Done, Write, Writer};

/// A redb-backed relay store.
pub struct RedbStore {
    db: Arc<Database>,
    writer: Writer,
    /// The bytes of the envelopes and blobs held (counted at open, kept by the writer).
    stored: Arc<AtomicU64>,
    /// The storage quota, if any (**[RLY-16]**).
    quota: Option<u64>,
}

impl core::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RedbStore").finish_non_exhaustive()
    }
}

/// The kind of a redb failure, for an identifier-free log line.
fn kind(e: &redb::Error) -> &'static str {
    match e {
        redb::Error::Io(_) | redb::Error::PreviousIo => "i/o",
        redb::Error::Corrupted(_) => "corrupted",
        redb::Error::DatabaseAlreadyOpen => "already open",
        redb::Error::ValueTooLarge(_) => "value too large",
        redb::Error::UpgradeRequired(_) => "upgrade required",
        _ => "internal",
    }
}

/// Logs a store failure (its kind only) and turns it into the core's [`StoreError`].
fn fail<E: Into<redb::Error>>(e: E) -> StoreError {
    log::info_detail("store error", kind(&e.into()));
    StoreError
}

/// A write answered with the wrong kind of result (cannot happen; treated as a failure).
fn mismatch() -> StoreError {
    log::info_detail("store error", "internal");
    StoreError
}

impl RedbStore {
    /// Opens (or creates) the database at `path`, creates any missing table and starts the
    /// writer thread. Opening after a crash recovers the last committed transaction.
    ///
    /// # Errors
    /// Any redb error: the file cannot be created or locked, or is not a redb database; an
    /// I/O error if the writer thread cannot be started.
    pub fn open(path: &Path) -> Result<RedbStore, redb::Error> {
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        tables::create(&txn)?;
        txn.commit()?;
        let stored = Arc::new(AtomicU64::new(tables::stored_bytes(&db)?));
        let db = Arc::new(db);
        let writer = Writer::spawn(Arc::clone(&db), Arc::clone(&stored))?;
        Ok(RedbStore {
            db,
            writer,
            stored,
            quota: None,
        })
    }

    /// Sets the storage quota: a write that would bring the bytes of the envelopes and
    /// blobs held above `quota` is refused (**[RLY-16]**).
    pub fn with_quota(mut self, quota: Option<u64>) -> RedbStore {
        self.quota = quota;
        self
    }

    /// The bytes of the envelopes and blobs held, expired ones not yet swept included.
    pub fn stored_bytes(&self) -> u64 {
        self.stored.load(Ordering::Acquire)
    }
}

impl Store for RedbStore {
    fn put_item(
        &self,
        mailbox: &[u8; 32],
        item: &Item,
        max_items: u32,
        now: UnixTime,
    ) -> Result<PutOutcome, StoreError> {
        let write = Write::Put {
            mailbox: *mailbox,
            item: item.clone(),
            max_items,
            now,
        };
        match self.writer.submit(write)? {
            Done::Put(outcome) => Ok(outcome),
            _ => Err(mismatch()),
        }
    }

    fn fetch(
        &self,
        mailbox: &[u8; 32],
        now: UnixTime,
        max_items: usize,
        max_bytes: usize,
    ) -> Result<Fetched, StoreError> {
        tables::fetch(&self.db, mailbox, now, max_items, max_bytes).map_err(fail)
    }

    fn delete(&self, mailbox: &[u8; 32], ids: &[ItemId], now: UnixTime) -> Result<u32, StoreError> {
        let write = Write::Delete {
            mailbox: *mailbox,
            ids: ids.to_vec(),
            now,
        };
        match self.writer.submit(write)? {
            Done::Deleted(count) => Ok(count),
            _ => Err(mismatch()),
        }
    }

    fn put_blob(&self, id: &[u8; 32], blob: &[u8], expires: u64) -> Result<(), StoreError> {
        let write = Write::Blob {
            id: *id,
            blob: blob.to_vec(),
            expires,
        };
        match self.writer.submit(write)? {
            Done::Blob => Ok(()),
            _ => Err(mismatch()),
        }
    }

    fn get_blob(&self, id: &[u8; 32], now: UnixTime) -> Result<Option<Vec<u8>>, StoreError> {
        tables::get_blob(&self.db, id, now).map_err(fail)
    }

    fn has_room(&self, bytes: usize) -> Result<bool, StoreError> {
        Ok(self
            .quota
            .is_none_or(|quota| self.stored_bytes().saturating_add(bytes as u64) <= quota))
    }

    fn sweep(&self, now: UnixTime) -> Result<u64, StoreError> {
        match self.writer.submit(Write::Sweep { now })? {
            Done::Swept(removed) => Ok(removed),
            _ => Err(mismatch()),
        }
    }
}
