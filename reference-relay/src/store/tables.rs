//! The tables and what each store operation does inside a transaction.
//!
//! Writes take an open [`WriteTransaction`] and report whether they changed anything; the
//! writer thread ([`super::writer`]) decides when to commit. Reads open their own read
//! transaction and see the last commit.

use quietwire::UnixTime;
use quietwire::relay::{Fetched, Item, ItemId, PutOutcome};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

type Mailbox = [u8; 32];

pub(super) const ITEMS: TableDefinition<(Mailbox, u64), (ItemId, u64, &[u8])> =
    TableDefinition::new("items");
pub(super) const INDEX: TableDefinition<(Mailbox, ItemId), u64> = TableDefinition::new("index");
pub(super) const ITEM_EXPIRY: TableDefinition<(u64, Mailbox, u64), ()> =
    TableDefinition::new("item_expiry");
pub(super) const BLOBS: TableDefinition<[u8; 32], (u64, &[u8])> = TableDefinition::new("blobs");
pub(super) const BLOB_EXPIRY: TableDefinition<(u64, [u8; 32]), ()> =
    TableDefinition::new("blob_expiry");

/// Most expired entries one sweep transaction removes, so a large sweep never holds the
/// write lock long enough to stall puts.
pub(super) const SWEEP_BATCH: usize = 4096;

/// Creates any missing table.
pub(super) fn create(txn: &WriteTransaction) -> Result<(), redb::Error> {
    txn.open_table(ITEMS)?;
    txn.open_table(INDEX)?;
    txn.open_table(ITEM_EXPIRY)?;
    txn.open_table(BLOBS)?;
    txn.open_table(BLOB_EXPIRY)?;
    Ok(())
}

/// The bytes of every envelope and blob held (expired ones not yet swept included): what
/// the storage quota counts (**[RLY-16]**).
pub(super) fn stored_bytes(db: &Database) -> Result<u64, redb::Error> {
    let txn = db.begin_read()?;
    let mut total = 0u64;
    for entry in txn.open_table(ITEMS)?.iter()? {
        let len = entry?.1.value().2.len();
        total = total.saturating_add(len as u64);
    }
    for entry in txn.open_table(BLOBS)?.iter()? {
        let len = entry?.1.value().1.len();
        total = total.saturating_add(len as u64);
    }
    Ok(total)
}

/// [`quietwire::relay::Store::put_item`]; also whether anything changed and by how many
/// bytes the held envelopes grew (negative when an expired item of the same id went).
pub(super) fn put_item(
    txn: &WriteTransaction,
    mailbox: &Mailbox,
    item: &Item,
    max_items: u32,
    now: UnixTime,
) -> Result<(PutOutcome, bool, i64), redb::Error> {
    let mut items = txn.open_table(ITEMS)?;
    let mut index = txn.open_table(INDEX)?;
    let mut item_expiry = txn.open_table(ITEM_EXPIRY)?;
    let existing = index.get((*mailbox, item.id))?.map(|seq| seq.value());
    let mut delta = 0i64;
    if let Some(seq) = existing {
        let old = items.get((*mailbox, seq))?.map(|v| {
            let (_, expires, envelope) = v.value();
            (
                expires,
                envelope == item.envelope.as_slice(),
                envelope.len(),
            )
        });
        match old {
            // An expired item is gone whether or not a sweep removed it yet: its id is free
            // again and this put is a new one (as in the library's store).
            Some((expires, _, len)) if expires <= now.as_secs() => {
                delta = delta.saturating_sub(len as i64);
                items.remove((*mailbox, seq))?;
                index.remove((*mailbox, item.id))?;
                item_expiry.remove((expires, *mailbox, seq))?;
            }
            // A retried put: the stored expiry becomes the later of the two.
            Some((expires, true, _)) if item.expires > expires => {
                items.insert(
                    (*mailbox, seq),
                    (item.id, item.expires, item.envelope.as_slice()),
                )?;
                item_expiry.remove((expires, *mailbox, seq))?;
                item_expiry.insert((item.expires, *mailbox, seq), ())?;
                return Ok((PutOutcome::Duplicate, true, 0));
            }
            Some((_, true, _)) => return Ok((PutOutcome::Duplicate, false, 0)),
            _ => return Ok((PutOutcome::Conflict, false, 0)),
        }
    }
    let mut live = 0u64;
    let mut next = 0u64;
    for entry in items.range((*mailbox, 0)..=(*mailbox, u64::MAX))? {
        let (key, value) = entry?;
        next = key.value().1.saturating_add(1);
        if value.value().1 > now.as_secs() {
            live = live.saturating_add(1);
        }
    }
    if live >= u64::from(max_items) {
        // An expired item removed above goes only if the batch commits for another write;
        // its bytes count only then (the writer applies the delta only after a commit).
        return Ok((PutOutcome::Full, false, delta));
    }
    items.insert(
        (*mailbox, next),
        (item.id, item.expires, item.envelope.as_slice()),
    )?;
    index.insert((*mailbox, item.id), next)?;
    item_expiry.insert((item.expires, *mailbox, next), ())?;
    let delta = delta.saturating_add(item.envelope.len() as i64);
    Ok((PutOutcome::Stored, true, delta))
}

/// [`quietwire::relay::Store::delete`]: the count of unexpired items deleted, whether
/// anything (expired items included) was removed, and the bytes of the removed envelopes.
pub(super) fn delete(
    txn: &WriteTransaction,
    mailbox: &Mailbox,
    ids: &[ItemId],
    now: UnixTime,
) -> Result<(u32, bool, u64), redb::Error> {
    let mut items = txn.open_table(ITEMS)?;
    let mut index = txn.open_table(INDEX)?;
    let mut item_expiry = txn.open_table(ITEM_EXPIRY)?;
    let mut count = 0u32;
    let mut changed = false;
    let mut bytes = 0u64;
    for id in ids {
        let Some(seq) = index.remove((*mailbox, *id))?.map(|s| s.value()) else {
            continue;
        };
        changed = true;
        let removed = items
            .remove((*mailbox, seq))?
            .map(|v| (v.value().1, v.value().2.len()));
        if let Some((expires, len)) = removed {
            bytes = bytes.saturating_add(len as u64);
            item_expiry.remove((expires, *mailbox, seq))?;
            if expires > now.as_secs() {
                count = count.saturating_add(1);
            }
        }
    }
    Ok((count, changed, bytes))
}

/// [`quietwire::relay::Store::put_blob`]; also whether anything changed and the bytes added
/// (the blob's length if it was not held).
pub(super) fn put_blob(
    txn: &WriteTransaction,
    id: &[u8; 32],
    blob: &[u8],
    expires: u64,
) -> Result<(bool, u64), redb::Error> {
    let mut blobs = txn.open_table(BLOBS)?;
    let mut blob_expiry = txn.open_table(BLOB_EXPIRY)?;
    let old = blobs.get(id)?.map(|v| v.value().0);
    match old {
        // Already held with an expiry at least as late.
        Some(old) if old >= expires => return Ok((false, 0)),
        Some(old) => {
            blob_expiry.remove((old, *id))?;
        }
        None => {}
    }
    let added = if old.is_some() { 0 } else { blob.len() as u64 };
    // The id is the blob's hash (the core computed it), so the bytes are the same.
    blobs.insert(id, (expires, blob))?;
    blob_expiry.insert((expires, *id), ())?;
    Ok((true, added))
}

/// Removes up to [`SWEEP_BATCH`] expired items and blobs; returns how many went, how many
/// expiry entries were found (at [`SWEEP_BATCH`], more may remain) and the bytes removed.
pub(super) fn sweep_batch(
    txn: &WriteTransaction,
    now: u64,
) -> Result<(u64, usize, u64), redb::Error> {
    let mut item_expiry = txn.open_table(ITEM_EXPIRY)?;
    let mut items = txn.open_table(ITEMS)?;
    let mut index = txn.open_table(INDEX)?;
    let mut blob_expiry = txn.open_table(BLOB_EXPIRY)?;
    let mut blobs = txn.open_table(BLOBS)?;
    let expired_items = item_expiry
        .range(..=(now, [u8::MAX; 32], u64::MAX))?
        .take(SWEEP_BATCH)
        .map(|entry| entry.map(|(k, _)| k.value()))
        .collect::<Result<Vec<_>, _>>()?;
    let room = SWEEP_BATCH.saturating_sub(expired_items.len());
    let expired_blobs = blob_expiry
        .range(..=(now, [u8::MAX; 32]))?
        .take(room)
        .map(|entry| entry.map(|(k, _)| k.value()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut removed = 0u64;
    let mut bytes = 0u64;
    for key @ (_, mailbox, seq) in &expired_items {
        item_expiry.remove(key)?;
        let gone = items
            .remove((*mailbox, *seq))?
            .map(|v| (v.value().0, v.value().2.len()));
        if let Some((id, len)) = gone {
            index.remove((*mailbox, id))?;
            removed = removed.saturating_add(1);
            bytes = bytes.saturating_add(len as u64);
        }
    }
    for key @ (_, id) in &expired_blobs {
        blob_expiry.remove(key)?;
        if let Some(len) = blobs.remove(id)?.map(|v| v.value().1.len()) {
            removed = removed.saturating_add(1);
            bytes = bytes.saturating_add(len as u64);
        }
    }
    Ok((removed, expired_items.len() + expired_blobs.len(), bytes))
}

/// [`quietwire::relay::Store::fetch`], from the last commit.
pub(super) fn fetch(
    db: &Database,
    mailbox: &Mailbox,
    now: UnixTime,
    max_items: usize,
    max_bytes: usize,
) -> Result<Fetched, redb::Error> {
    let txn = db.begin_read()?;
    let items = txn.open_table(ITEMS)?;
    let mut fetched = Fetched::default();
    let mut bytes = 0usize;
    for entry in items.range((*mailbox, 0)..=(*mailbox, u64::MAX))? {
        let (_, value) = entry?;
        let (id, expires, envelope) = value.value();
        if expires <= now.as_secs() {
            continue;
        }
        let next = bytes.saturating_add(envelope.len());
        if fetched.items.len() >= max_items || (!fetched.items.is_empty() && next > max_bytes) {
            fetched.more = true;
            break;
        }
        bytes = next;
        fetched.items.push(Item {
            id,
            envelope: envelope.to_vec(),
            expires,
        });
    }
    Ok(fetched)
}

/// [`quietwire::relay::Store::get_blob`], from the last commit.
pub(super) fn get_blob(
    db: &Database,
    id: &[u8; 32],
    now: UnixTime,
) -> Result<Option<Vec<u8>>, redb::Error> {
    let txn = db.begin_read()?;
    let blobs = txn.open_table(BLOBS)?;
    let blob = blobs.get(id)?.and_then(|v| {
        let (expires, blob) = v.value();
        (expires > now.as_secs()).then(|| blob.to_vec())
    });
    Ok(blob)
}
