//! The store's writer thread: every write goes through it, with group commit.
//!
//! Connections hand their writes to one dedicated thread and block until it answers. The
//! thread takes the first waiting write and every other write already queued behind it (up
//! to [`MAX_BATCH`] writes or [`MAX_BATCH_BYTES`]), applies them in arrival order in one
//! redb write transaction, commits it with immediate durability (one `fsync`), and only
//! then answers each of them. Nothing is answered before the commit that holds it is
//! durable, so the core still acknowledges only durable writes; a failed commit fails every
//! write of its batch (`relay.unavailable`), and none of them is stored. A batch whose writes
//! changed nothing (duplicates, deletes of unknown ids) is aborted instead of committed.
//!
//! Compared with one transaction per write from many threads, this removes the convoy on
//! redb's write lock and shares one `fsync` among all the writes that arrived while the
//! previous commit was in progress.
//!
//! Sweeps also run here, in their own bounded transactions, so they never contend with puts
//! for the lock. When the store is dropped the thread finishes every queued write first.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::thread::JoinHandle;

use quietwire::UnixTime;
use quietwire::relay::{Item, ItemId, PutOutcome, StoreError};
use redb::Database;

use super::{fail, tables};

/// Most writes in one transaction.
pub(super) const MAX_BATCH: usize = 256;

/// Most payload bytes (envelopes and blobs) in one transaction.
pub(super) const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;

/// Writes waiting for the thread before submitters block.
const QUEUE: usize = 1024;

/// A write.
#[derive(Debug)]
pub(super) enum Write {
    Put {
        mailbox: [u8; 32],
        item: Item,
        max_items: u32,
        now: UnixTime,
    },
    Delete {
        mailbox: [u8; 32],
        ids: Vec<ItemId>,
        now: UnixTime,
    },
    Blob {
        id: [u8; 32],
        blob: Vec<u8>,
        expires: u64,
    },
    Sweep {
        now: UnixTime,
    },
}

impl Write {
    fn bytes(&self) -> usize {
        match self {
            Write::Put { item, .. } => item.envelope.len(),
            Write::Blob { blob, .. } => blob.len(),
            Write::Delete { ids, .. } => ids.len().saturating_mul(16),
            Write::Sweep { .. } => 0,
        }
    }
}

/// What a write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Done {
    Put(PutOutcome),
    Deleted(u32),
    Blob,
    Swept(u64),
}

struct Job {
    write: Write,
    done: SyncSender<Result<Done, StoreError>>,
}

/// The handle on the writer thread.
pub(super) struct Writer {
    jobs: Option<SyncSender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl core::fmt::Debug for Writer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    /// Starts the thread.
    pub(super) fn spawn(db: Arc<Database>, stored: Arc<AtomicU64>) -> std::io::Result<Writer> {
        let (jobs, queue) = sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run(&db, &queue, &stored))?;
        Ok(Writer {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Hands `write` to the thread and waits until it is durable (or failed).
    pub(super) fn submit(&self, write: Write) -> Result<Done, StoreError> {
        let (done, answer) = sync_channel(1);
        let jobs = self.jobs.as_ref().ok_or(StoreError)?;
        jobs.send(Job { write, done }).map_err(|_| StoreError)?;
        answer.recv().map_err(|_| StoreError)?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the queue lets the thread finish what is queued and stop.
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The thread: batches until the queue closes.
fn run(db: &Database, queue: &Receiver<Job>, stored: &AtomicU64) {
    let mut carried: Option<Job> = None;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None => match queue.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        if let Write::Sweep { now } = first.write {
            let _ = first.done.send(sweep(db, now, stored));
            continue;
        }
        let mut bytes = first.write.bytes();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
            match queue.try_recv() {
                // A sweep runs on its own, after this batch.
                Ok(job) if matches!(job.write, Write::Sweep { .. }) => {
                    carried = Some(job);
                    break;
                }
                Ok(job) => {
                    bytes = bytes.saturating_add(job.write.bytes());
                    batch.push(job);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        commit(db, batch, stored);
    }
}

/// Adds `delta` bytes to the running total of held bytes.
fn account(stored: &AtomicU64, delta: i64) {
    if delta >= 0 {
        stored.fetch_add(delta.unsigned_abs(), Ordering::AcqRel);
    } else {
        let down = delta.unsigned_abs();
        let _ = stored.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            Some(n.saturating_sub(down))
        });
    }
}

/// Applies a batch in one transaction, commits it if it changed anything, then answers.
fn commit(db: &Database, batch: Vec<Job>, stored: &AtomicU64) {
    let results = (|| -> Result<Vec<Done>, redb::Error> {
        let txn = db.begin_write()?;
        let mut changed = false;
        let mut delta = 0i64;
        let mut results = Vec::with_capacity(batch.len());
        for job in &batch {
            let (done, change, bytes) = apply(&txn, &job.write)?;
            changed |= change;
            delta = delta.saturating_add(bytes);
            results.push(done);
        }
        if changed {
            txn.commit()?;
            account(stored, delta);
        } else {
            txn.abort()?;
        }
        Ok(results)
    })();
    match results {
        Ok(results) => {
            for (job, done) in batch.into_iter().zip(results) {
                let _ = job.done.send(Ok(done));
            }
        }
        Err(e) => {
            let error = fail(e);
            for job in batch {
                let _ = job.done.send(Err(error));
            }
        }
    }
}

/// Applies one write: what it did, whether it changed anything, and the change in held
/// bytes.
fn apply(txn: &redb::WriteTransaction, write: &Write) -> Result<(Done, bool, i64), redb::Error> {
    let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    Ok(match write {
        Write::Put {
            mailbox,
            item,
            max_items,
            now,
        } => {
            let (outcome, changed, delta) = tables::put_item(txn, mailbox, item, *max_items, *now)?;
            (Done::Put(outcome), changed, delta)
        }
        Write::Delete { mailbox, ids, now } => {
            let (count, changed, bytes) = tables::delete(txn, mailbox, ids, *now)?;
            (Done::Deleted(count), changed, -signed(bytes))
        }
        Write::Blob { id, blob, expires } => {
            let (changed, added) = tables::put_blob(txn, id, blob, *expires)?;
            (Done::Blob, changed, signed(added))
        }
        // Sweeps never reach a batch (see `run`); answer as if nothing expired.
        Write::Sweep { .. } => (Done::Swept(0), false, 0),
    })
}

/// Sweeps in bounded transactions until nothing expired remains.
fn sweep(db: &Database, now: UnixTime, stored: &AtomicU64) -> Result<Done, StoreError> {
    let mut total = 0u64;
    loop {
        let txn = db.begin_write().map_err(fail)?;
        let (removed, found, bytes) = tables::sweep_batch(&txn, now.as_secs()).map_err(fail)?;
        if found == 0 {
            txn.abort().map_err(fail)?;
            return Ok(Done::Swept(total));
        }
        txn.commit().map_err(fail)?;
        account(stored, -i64::try_from(bytes).unwrap_or(i64::MAX));
        total = total.saturating_add(removed);
        if found < tables::SWEEP_BATCH {
            return Ok(Done::Swept(total));
        }
    }
}
