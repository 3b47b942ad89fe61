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

/// [`quietwire::relay::Store::put_item`]; also whether anything changed.
pub(super) fn put_item(
    txn: &WriteTransaction,
    mailbox: &Mailbox,
    item: &Item,
    max_items: u32,
    now: UnixTime,
) -> Result<(PutOutcome, bool), redb::Error> {
    let mut items = txn.open_table(ITEMS)?;
    let mut index = txn.open_table(INDEX)?;
    let mut item_expiry = txn.open_table(ITEM_EXPIRY)?;
    let existing = index.get((*mailbox, item.id))?.map(|seq| seq.value());
    if let Some(seq) = existing {
        let old = items.get((*mailbox, seq))?.map(|v| {
            let (_, expires, envelope) = v.value();
            (expires, envelope == item.envelope.as_slice())
        });
        match old {
            // An expired item is gone whether or not a sweep removed it yet: its id is free
            // again and this put is a new one (as in the library's store).
            Some((expires, _)) if expires <= now.as_secs() => {
                items.remove((*mailbox, seq))?;
                index.remove((*mailbox, item.id))?;
                item_expiry.remove((expires, *mailbox, seq))?;
            }
            // A retried put: the stored expiry becomes the later of the two.
            Some((expires, true)) if item.expires > expires => {
                items.insert(
                    (*mailbox, seq),
                    (item.id, item.expires, item.envelope.as_slice()),
                )?;
                item_expiry.remove((expires, *mailbox, seq))?;
                item_expiry.insert((item.expires, *mailbox, seq), ())?;
                return Ok((PutOutcome::Duplicate, true));
            }
            Some((_, true)) => return Ok((PutOutcome::Duplicate, false)),
            _ => return Ok((PutOutcome::Conflict, false)),
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
        return Ok((PutOutcome::Full, false));
    }
    items.insert(
        (*mailbox, next),
        (item.id, item.expires, item.envelope.as_slice()),
    )?;
    index.insert((*mailbox, item.id), next)?;
    item_expiry.insert((item.expires, *mailbox, next), ())?;
    Ok((PutOutcome::Stored, true))
}

/// [`quietwire::relay::Store::delete`]: the count of unexpired items deleted, and whether
/// anything (expired items included) was removed.
pub(super) fn delete(
    txn: &WriteTransaction,
    mailbox: &Mailbox,
    ids: &[ItemId],
    now: UnixTime,
) -> Result<(u32, bool), redb::Error> {
    let mut items = txn.open_table(ITEMS)?;
    let mut index = txn.open_table(INDEX)?;
    let mut item_expiry = txn.open_table(ITEM_EXPIRY)?;
    let mut count = 0u32;
    let mut changed = false;
    for id in ids {
        let Some(seq) = index.remove((*mailbox, *id))?.map(|s| s.value()) else {
            continue;
        };
        changed = true;
        let expires = items.remove((*mailbox, seq))?.map(|v| v.value().1);
        if let Some(expires) = expires {
            item_expiry.remove((expires, *mailbox, seq))?;
            if expires > now.as_secs() {
                count = count.saturating_add(1);
            }
        }
    }
    Ok((count, changed))
}

/// [`quietwire::relay::Store::put_blob`]; also whether anything changed.
pub(super) fn put_blob(
    txn: &WriteTransaction,
    id: &[u8; 32],
    blob: &[u8],
    expires: u64,
) -> Result<bool, redb::Error> {
    let mut blobs = txn.open_table(BLOBS)?;
    let mut blob_expiry = txn.open_table(BLOB_EXPIRY)?;
    let old = blobs.get(id)?.map(|v| v.value().0);
    match old {
        // Already held with an expiry at least as late.
        Some(old) if old >= expires => return Ok(false),
        Some(old) => {
            blob_expiry.remove((old, *id))?;
        }
        None => {}
    }
    // The id is the blob's hash (the core computed it), so the bytes are the same.
    blobs.insert(id, (expires, blob))?;
    blob_expiry.insert((expires, *id), ())?;
    Ok(true)
}

/// Removes up to [`SWEEP_BATCH`] expired items and blobs; returns how many went and how
/// many expiry entries were found (at [`SWEEP_BATCH`], more may remain).
pub(super) fn sweep_batch(txn: &WriteTransaction, now: u64) -> Result<(u64, usize), redb::Error> {
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
    for key @ (_, mailbox, seq) in &expired_items {
        item_expiry.remove(key)?;
        let id = items.remove((*mailbox, *seq))?.map(|v| v.value().0);
        if let Some(id) = id {
            index.remove((*mailbox, id))?;
            removed = removed.saturating_add(1);
        }
    }
    for key @ (_, id) in &expired_blobs {
        blob_expiry.remove(key)?;
        if blobs.remove(id)?.is_some() {
            removed = removed.saturating_add(1);
        }
    }
    Ok((removed, expired_items.len() + expired_blobs.len()))
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
