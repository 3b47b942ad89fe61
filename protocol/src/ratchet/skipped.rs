//! The store of skipped message keys (`spec/06-ratchet.md`, limits).
//!
//! Keys are kept in arrival order; when the store would exceed
//! [`MAX_SKIPPED`](super::MAX_SKIPPED) entries, the oldest are evicted. Each entry is
//! indexed by the header key of its chain and its message number.

use std::collections::VecDeque;

use subtle::ConstantTimeEq;

use super::kdf::Key;

/// One skipped message key.
#[derive(Clone)]
pub(crate) struct Skipped {
    pub(crate) hk: Key,
    pub(crate) n: u32,
    pub(crate) mk: Key,
}

/// The skipped keys of every receiving chain, oldest first.
#[derive(Clone, Default)]
pub(crate) struct SkippedKeys {
    entries: VecDeque<Skipped>,
}

impl SkippedKeys {
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Skipped> {
        self.entries.iter()
    }

    /// The distinct header keys of stored entries, newest chain first.
    pub(crate) fn header_keys(&self) -> Vec<&Key> {
        let mut keys: Vec<&Key> = Vec::new();
        for entry in self.entries.iter().rev() {
            if !keys.iter().any(|k| bool::from(k.ct_eq(&entry.hk[..]))) {
                keys.push(&entry.hk);
            }
        }
        keys
    }

    /// Index of the entry for message `n` of the chain with header key `hk`.
    pub(crate) fn position(&self, hk: &[u8; 32], n: u32) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.n == n && bool::from(e.hk.ct_eq(hk)))
    }

    pub(crate) fn get(&self, index: usize) -> Option<&Skipped> {
        self.entries.get(index)
    }

    pub(crate) fn remove(&mut self, index: usize) -> Option<Skipped> {
        self.entries.remove(index)
    }

    /// Appends new entries, then evicts the oldest until at most `max` remain.
    pub(crate) fn extend(&mut self, new: Vec<Skipped>, max: usize) {
        self.entries.extend(new);
        while self.entries.len() > max {
            self.entries.pop_front();
        }
    }

    pub(crate) fn push_back(&mut self, entry: Skipped) {
        self.entries.push_back(entry);
    }
}
