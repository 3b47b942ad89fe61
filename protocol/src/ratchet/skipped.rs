//! The store of skipped message keys (`spec/06-ratchet.md`, limits).
//!
//! Keys are kept in arrival order; when the store would exceed
//! [`MAX_SKIPPED`](super::MAX_SKIPPED) entries or
//! [`MAX_SKIPPED_CHAINS`](super::MAX_SKIPPED_CHAINS) chains, the oldest are evicted. Each entry is
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

    /// Appends new entries, then evicts the oldest until at most `max` entries of at most
    /// `max_chains` chains remain. Entries of one chain are contiguous: a chain only gains
    /// entries while it is the current receiving chain, and a DH step stores the rest of the
    /// old chain before any key of the new one.
    pub(crate) fn extend(&mut self, new: Vec<Skipped>, max: usize, max_chains: usize) {
        self.entries.extend(new);
        while self.entries.len() > max {
            self.entries.pop_front();
        }
        while self.chains() > max_chains {
            let Some(oldest) = self.entries.front().map(|e| e.hk.clone()) else {
                break;
            };
            while self
                .entries
                .front()
                .is_some_and(|e| bool::from(e.hk.ct_eq(&oldest[..])))
            {
                self.entries.pop_front();
            }
        }
    }

    /// The number of runs of entries with the same header key (the number of chains when
    /// entries of a chain are contiguous, as [`SkippedKeys::extend`] keeps them).
    pub(crate) fn chains(&self) -> usize {
        let mut count = 0;
        let mut previous: Option<&Key> = None;
        for entry in &self.entries {
            if previous.is_none_or(|p| !bool::from(p.ct_eq(&entry.hk[..]))) {
                count += 1;
            }
            previous = Some(&entry.hk);
        }
        count
    }

    pub(crate) fn push_back(&mut self, entry: Skipped) {
        self.entries.push_back(entry);
    }
}
