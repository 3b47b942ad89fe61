//! The receiver's inbox: the message ids it has handed to the application, so that a
//! message fetched twice (a retried put, a delete that did not reach the relay) reaches the
//! application once (`spec/09-delivery.md` §9.5, **[DLV-06]**).

use core::fmt;
use std::collections::{BTreeMap, BTreeSet};

use crate::event::MessageId;
use crate::time::UnixTime;

/// Most message ids an inbox remembers.
pub const MAX_INBOX: usize = 65_536;

/// How long an id is remembered, in seconds: longer than a relay keeps an item (14 days by
/// default) plus a sender's give-up window (7 days), so any copy of a message arrives while
/// its id is still remembered.
pub const RETENTION: u64 = 30 * 24 * 3600;

/// Message ids seen, each with the time until which it is remembered.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Inbox {
    pub(crate) seen: BTreeMap<MessageId, UnixTime>,
    pub(crate) by_time: BTreeSet<(UnixTime, MessageId)>,
}

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("remembered", &self.seen.len())
            .finish()
    }
}

impl Inbox {
    /// An empty inbox.
    pub fn new() -> Inbox {
        Inbox::default()
    }

    /// Whether `id` is new at `now`; if so it is remembered until `now + RETENTION`. Ids
    /// past their retention are forgotten first, then the oldest beyond [`MAX_INBOX`].
    pub fn first_delivery(&mut self, id: &MessageId, now: UnixTime) -> bool {
        self.expire(now);
        if self.seen.contains_key(id) {
            return false;
        }
        while self.seen.len() >= MAX_INBOX {
            let Some(oldest) = self.by_time.pop_first() else {
                break;
            };
            self.seen.remove(&oldest.1);
        }
        let until = now.saturating_add(RETENTION);
        self.seen.insert(*id, until);
        self.by_time.insert((until, *id));
        true
    }

    /// Whether `id` is remembered.
    pub fn contains(&self, id: &MessageId) -> bool {
        self.seen.contains_key(id)
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    fn expire(&mut self, now: UnixTime) {
        while let Some(first) = self.by_time.first().copied() {
            if first.0 > now {
                break;
            }
            self.by_time.pop_first();
            self.seen.remove(&first.1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_id_is_delivered_once_within_retention() {
        let mut inbox = Inbox::new();
        let t = UnixTime(1000);
        assert!(inbox.first_delivery(&[1; 16], t));
        assert!(!inbox.first_delivery(&[1; 16], t.saturating_add(RETENTION - 1)));
        assert!(inbox.first_delivery(&[2; 16], t));
        // Past retention the id is forgotten.
        assert!(inbox.first_delivery(&[1; 16], t.saturating_add(RETENTION)));
    }

    #[test]
    fn capacity_evicts_the_oldest() {
        let mut inbox = Inbox::new();
        for i in 0..MAX_INBOX as u64 + 1 {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&i.to_be_bytes());
            assert!(inbox.first_delivery(&id, UnixTime(i)));
        }
        assert_eq!(inbox.len(), MAX_INBOX);
        assert!(!inbox.contains(&[0; 16]));
    }
}
