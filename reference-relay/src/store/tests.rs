//! The redb store against a fake clock: order, duplicates, expiry, sweeps, restarts, group
//! commit under concurrency, and agreement with the library's `MemoryStore`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use quietwire::UnixTime;
use quietwire::relay::{Fetched, Item, MemoryStore, PutOutcome, Store};
use redb::{ReadableDatabase, ReadableTableMetadata};

use super::RedbStore;
use super::tables::{INDEX, ITEM_EXPIRY, ITEMS, SWEEP_BATCH};

const HOUR: u64 = 3600;
const T0: u64 = 1_800_000_000;

fn open() -> (tempfile::TempDir, RedbStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(&dir.path().join("relay.redb")).unwrap();
    (dir, store)
}

fn item(id: u8, expires: u64, len: usize) -> Item {
    Item {
        id: [id; 16],
        envelope: vec![id; len],
        expires,
    }
}

fn ids(fetched: &Fetched) -> Vec<u8> {
    fetched.items.iter().map(|i| i.id[0]).collect()
}

#[test]
fn put_fetch_delete_in_order_and_byte_exact() {
    let (_dir, s) = open();
    let mb = [1; 32];
    let now = UnixTime(T0);
    for id in [5, 3, 9] {
        let put = s.put_item(&mb, &item(id, T0 + HOUR, 600), 10, now);
        assert_eq!(put.unwrap(), PutOutcome::Stored);
    }
    let f = s.fetch(&mb, now, 10, usize::MAX).unwrap();
    assert_eq!(ids(&f), [5, 3, 9]);
    assert_eq!(f.items[1], item(3, T0 + HOUR, 600));
    assert!(!f.more);
    // Other mailboxes are separate.
    assert!(
        s.fetch(&[2; 32], now, 10, usize::MAX)
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(s.delete(&mb, &[[3; 16], [3; 16], [7; 16]], now).unwrap(), 1);
    assert_eq!(s.delete(&[2; 32], &[[5; 16]], now).unwrap(), 0);
    assert_eq!(ids(&s.fetch(&mb, now, 10, usize::MAX).unwrap()), [5, 9]);
    // A put after the newest was deleted still sorts last.
    s.delete(&mb, &[[9; 16]], now).unwrap();
    s.put_item(&mb, &item(1, T0 + HOUR, 600), 10, now).unwrap();
    assert_eq!(ids(&s.fetch(&mb, now, 10, usize::MAX).unwrap()), [5, 1]);
    // Deleting an expired, unswept item removes it but does not count it (RLY-06).
    let later = UnixTime(T0 + HOUR);
    assert_eq!(s.delete(&mb, &[[5; 16], [1; 16]], later).unwrap(), 0);
    assert!(s.fetch(&mb, now, 10, usize::MAX).unwrap().items.is_empty());
}

#[test]
fn duplicates_conflicts_and_full_mailboxes() {
    let (_dir, s) = open();
    let mb = [1; 32];
    let now = UnixTime(T0);
    let a = item(1, T0 + HOUR, 600);
    assert_eq!(s.put_item(&mb, &a, 2, now).unwrap(), PutOutcome::Stored);
    assert_eq!(s.put_item(&mb, &a, 2, now).unwrap(), PutOutcome::Duplicate);
    let mut other = a.clone();
    other.envelope[0] ^= 1;
    assert_eq!(
        s.put_item(&mb, &other, 2, now).unwrap(),
        PutOutcome::Conflict
    );
    s.put_item(&mb, &item(2, T0 + HOUR, 600), 2, now).unwrap();
    assert_eq!(
        s.put_item(&mb, &item(3, T0 + HOUR, 600), 2, now).unwrap(),
        PutOutcome::Full
    );
    // Expired items do not count against the limit.
    let later = UnixTime(T0 + HOUR);
    assert_eq!(
        s.put_item(&mb, &item(3, T0 + 2 * HOUR, 600), 2, later)
            .unwrap(),
        PutOutcome::Stored
    );
}

#[test]
fn a_retried_put_keeps_the_later_expiry_and_an_expired_id_is_free() {
    let (_dir, s) = open();
    let mb = [1; 32];
    let now = UnixTime(T0);
    s.put_item(&mb, &item(1, T0 + HOUR, 600), 10, now).unwrap();
    s.put_item(&mb, &item(2, T0 + 3 * HOUR, 600), 10, now)
        .unwrap();
    let retry = item(1, T0 + 2 * HOUR, 600);
    assert_eq!(
        s.put_item(&mb, &retry, 10, now).unwrap(),
        PutOutcome::Duplicate
    );
    // An earlier expiry changes nothing.
    let early = item(1, T0 + HOUR, 600);
    assert_eq!(
        s.put_item(&mb, &early, 10, now).unwrap(),
        PutOutcome::Duplicate
    );
    let f = s.fetch(&mb, UnixTime(T0 + HOUR), 10, usize::MAX).unwrap();
    assert_eq!(f.items, vec![retry, item(2, T0 + 3 * HOUR, 600)]);
    // The sweep follows the new expiry.
    assert_eq!(s.sweep(UnixTime(T0 + HOUR)).unwrap(), 0);
    assert_eq!(s.sweep(UnixTime(T0 + 2 * HOUR)).unwrap(), 1);
    // Put again after expiry (swept or not), the id is a new item, after the others.
    s.put_item(&mb, &item(3, T0 + HOUR, 600), 10, now).unwrap();
    let at = UnixTime(T0 + 2 * HOUR);
    let other = item(3, T0 + 4 * HOUR, 700);
    assert_eq!(s.put_item(&mb, &other, 10, at).unwrap(), PutOutcome::Stored);
    s.put_item(&mb, &item(1, T0 + 4 * HOUR, 600), 10, at)
        .unwrap();
    let f = s.fetch(&mb, at, 10, usize::MAX).unwrap();
    assert_eq!(ids(&f), [2, 3, 1]);
    assert_eq!(s.sweep(UnixTime(T0 + 4 * HOUR)).unwrap(), 3);
}

#[test]
fn fetch_pages_by_count_and_bytes_and_never_returns_expired_items() {
    let (_dir, s) = open();
    let mb = [1; 32];
    let now = UnixTime(T0);
    s.put_item(&mb, &item(1, T0 + HOUR, 600), 10, now).unwrap();
    s.put_item(&mb, &item(2, T0 + 2 * HOUR, 600), 10, now)
        .unwrap();
    s.put_item(&mb, &item(3, T0 + HOUR, 600), 10, now).unwrap();
    s.put_item(&mb, &item(4, T0 + 2 * HOUR, 600), 10, now)
        .unwrap();
    let page = s.fetch(&mb, now, 2, usize::MAX).unwrap();
    assert_eq!((ids(&page), page.more), (vec![1, 2], true));
    // The byte budget stops a page, but a page always holds at least one item.
    let page = s.fetch(&mb, now, 10, 1000).unwrap();
    assert_eq!((ids(&page), page.more), (vec![1], true));
    let page = s.fetch(&mb, now, 10, 1).unwrap();
    assert_eq!(ids(&page), [1]);
    // At its expiry an item is gone from fetches, swept or not.
    for at in [T0 + HOUR, T0 + HOUR + 1] {
        let page = s.fetch(&mb, UnixTime(at), 10, usize::MAX).unwrap();
        assert_eq!((ids(&page), page.more), (vec![2, 4], false));
    }
    assert!(
        s.fetch(&mb, UnixTime(T0 + 2 * HOUR), 10, usize::MAX)
            .unwrap()
            .items
            .is_empty()
    );
}

#[test]
fn sweep_removes_exactly_what_expired() {
    let (_dir, s) = open();
    let now = UnixTime(T0);
    for (mb, id, expires) in [(1, 1, T0 + HOUR), (1, 2, T0 + 3 * HOUR), (2, 3, T0 + HOUR)] {
        s.put_item(&[mb; 32], &item(id, expires, 512), 10, now)
            .unwrap();
    }
    s.put_blob(&[7; 32], b"short", T0 + HOUR).unwrap();
    s.put_blob(&[8; 32], b"long", T0 + HOUR).unwrap();
    // Extending a blob's expiry moves it in the expiry index.
    s.put_blob(&[8; 32], b"long", T0 + 3 * HOUR).unwrap();
    s.put_blob(&[8; 32], b"long", T0 + 2 * HOUR).unwrap();

    assert_eq!(s.sweep(UnixTime(T0 + HOUR - 1)).unwrap(), 0);
    assert_eq!(s.sweep(UnixTime(T0 + HOUR)).unwrap(), 3);
    assert_eq!(s.sweep(UnixTime(T0 + HOUR)).unwrap(), 0);
    assert_eq!(ids(&s.fetch(&[1; 32], now, 10, usize::MAX).unwrap()), [2]);
    assert!(
        s.fetch(&[2; 32], now, 10, usize::MAX)
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(s.get_blob(&[7; 32], now).unwrap(), None);
    assert_eq!(s.get_blob(&[8; 32], now).unwrap().unwrap(), b"long");
    // A swept item's id is free again (its index entry went with it).
    assert_eq!(
        s.put_item(&[2; 32], &item(3, T0 + 2 * HOUR, 512), 10, now)
            .unwrap(),
        PutOutcome::Stored
    );
    assert_eq!(s.sweep(UnixTime(T0 + 3 * HOUR)).unwrap(), 3);
    assert!(
        s.fetch(&[1; 32], now, 10, usize::MAX)
            .unwrap()
            .items
            .is_empty()
    );
}

#[test]
fn sweep_runs_in_batches() {
    let (_dir, s) = open();
    let now = UnixTime(T0);
    let n = SWEEP_BATCH + 10;
    let txn = s.db.begin_write().unwrap();
    {
        let mut items = txn.open_table(ITEMS).unwrap();
        let mut index = txn.open_table(INDEX).unwrap();
        let mut exp = txn.open_table(ITEM_EXPIRY).unwrap();
        for seq in 0..n as u64 {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&seq.to_be_bytes());
            items
                .insert(([1; 32], seq), (id, T0, &[0u8; 4][..]))
                .unwrap();
            index.insert(([1; 32], id), seq).unwrap();
            exp.insert((T0, [1; 32], seq), ()).unwrap();
        }
    }
    txn.commit().unwrap();
    assert_eq!(s.sweep(now).unwrap(), n as u64);
    let txn = s.db.begin_read().unwrap();
    assert_eq!(txn.open_table(ITEMS).unwrap().len().unwrap(), 0);
    assert_eq!(txn.open_table(INDEX).unwrap().len().unwrap(), 0);
    assert_eq!(txn.open_table(ITEM_EXPIRY).unwrap().len().unwrap(), 0);
}

#[test]
fn blobs_expire_and_reopen_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relay.redb");
    {
        let s = RedbStore::open(&path).unwrap();
        s.put_blob(&[7; 32], b"blob", T0 + HOUR).unwrap();
        s.put_item(&[1; 32], &item(1, T0 + HOUR, 700), 10, UnixTime(T0))
            .unwrap();
        assert_eq!(s.get_blob(&[7; 32], UnixTime(T0 + HOUR)).unwrap(), None);
    }
    let s = RedbStore::open(&path).unwrap();
    assert_eq!(
        s.get_blob(&[7; 32], UnixTime(T0)).unwrap().unwrap(),
        b"blob"
    );
    let f = s.fetch(&[1; 32], UnixTime(T0), 10, usize::MAX).unwrap();
    assert_eq!(f.items, vec![item(1, T0 + HOUR, 700)]);
}

/// The redb store and the library's in-memory store answer a long deterministic
/// sequence of operations identically.
#[test]
fn agrees_with_the_memory_store() {
    let (_dir, s) = open();
    let m = MemoryStore::new();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for step in 0..1500 {
        let mb = [next(3) as u8; 32];
        let now = UnixTime(T0 + step * 60);
        match next(10) {
            0..=4 => {
                let id = next(12) as u8;
                let it = Item {
                    id: [id; 16],
                    envelope: vec![id ^ (next(2) as u8); 512 + next(3) as usize],
                    expires: T0 + (1 + next(8)) * HOUR,
                };
                let outcome = s.put_item(&mb, &it, 6, now);
                assert_eq!(outcome, m.put_item(&mb, &it, 6, now), "step {step}");
            }
            5 | 6 => {
                let (max, bytes) = (1 + next(5) as usize, 600 * (1 + next(4) as usize));
                let fetched = s.fetch(&mb, now, max, bytes);
                assert_eq!(fetched, m.fetch(&mb, now, max, bytes), "step {step}");
            }
            7 => {
                let del = [[next(12) as u8; 16], [next(12) as u8; 16]];
                assert_eq!(
                    s.delete(&mb, &del, now),
                    m.delete(&mb, &del, now),
                    "step {step}"
                );
            }
            8 => {
                let blob = [next(4) as u8; 8];
                let (id, expires) = ([blob[0]; 32], T0 + (1 + next(8)) * HOUR);
                s.put_blob(&id, &blob, expires).unwrap();
                m.put_blob(&id, &blob, expires).unwrap();
                let id = [next(4) as u8; 32];
                assert_eq!(s.get_blob(&id, now), m.get_blob(&id, now), "step {step}");
            }
            _ => assert_eq!(s.sweep(now), m.sweep(now), "step {step}"),
        }
    }
}

/// Many threads writing at once: every write is answered after its (shared) commit, each
/// outcome is that of the writes applied one after the other, and a restart sees them all.
#[test]
fn concurrent_writes_share_commits_and_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relay.redb");
    let s = Arc::new(RedbStore::open(&path).unwrap());
    let now = UnixTime(T0);
    let threads: Vec<_> = (0..8u8)
        .map(|t| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                let mut outcomes = Vec::new();
                for i in 0..40u8 {
                    // Each thread its own mailbox, plus one item id every thread writes.
                    let mb = [t; 32];
                    let own = Item {
                        id: [i; 16],
                        envelope: vec![t ^ i; 600],
                        expires: T0 + HOUR,
                    };
                    assert_eq!(
                        s.put_item(&mb, &own, 1000, now).unwrap(),
                        PutOutcome::Stored
                    );
                    outcomes.push(s.put_item(&[99; 32], &item(i, T0 + HOUR, 512), 1000, now));
                }
                outcomes
            })
        })
        .collect();
    let mut stored = 0;
    for t in threads {
        for outcome in t.join().unwrap() {
            match outcome.unwrap() {
                PutOutcome::Stored => stored += 1,
                PutOutcome::Duplicate => {}
                other => panic!("{other:?}"),
            }
        }
    }
    // Each shared id was stored exactly once, whatever batch it landed in.
    assert_eq!(stored, 40);
    drop(s);
    let s = RedbStore::open(&path).unwrap();
    for t in 0..8u8 {
        let f = s.fetch(&[t; 32], now, 1000, usize::MAX).unwrap();
        assert_eq!(ids(&f), (0..40).collect::<Vec<u8>>());
        assert!(f.items.iter().all(|i| i.envelope == vec![t ^ i.id[0]; 600]));
    }
    assert_eq!(
        s.fetch(&[99; 32], now, 1000, usize::MAX)
            .unwrap()
            .items
            .len(),
        40
    );
}
