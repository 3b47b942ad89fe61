//! The limits a relay enforces and announces (`spec/08-mailboxes-and-relay.md`, §8.6.4,
//! **[RLY-04]**).
//!
//! A relay sends its limits in the welcome frame; a client keeps every request within them.
//! The defaults are those of the reference relay.

use crate::cbor::{Int, Value};
use crate::envelope::MAX_ENVELOPE;
use crate::error::{ErrorClass, Result};

/// The largest `max_frame` a client accepts in an announcement (16 MiB + 4 KiB).
pub const MAX_ANNOUNCED_FRAME: u64 = 16 * 1024 * 1024 + 4096;

/// Room a frame needs around its payload (request or response fields).
pub const FRAME_OVERHEAD: usize = 1024;

/// Most items of any array in a frame, and so the largest `max_fetch` and `max_delete` a
/// relay may announce (**[RLY-04]**).
pub const MAX_ARRAY: u32 = 1024;

mod key {
    pub(super) const MAX_FRAME: u64 = 1;
    pub(super) const MAX_ENVELOPE: u64 = 2;
    pub(super) const MAX_ATTACHMENT: u64 = 3;
    pub(super) const MAX_ITEMS: u64 = 4;
    pub(super) const MAX_TTL: u64 = 5;
    pub(super) const MAX_FETCH: u64 = 6;
    pub(super) const MAX_DELETE: u64 = 7;
    pub(super) const RATE: u64 = 8;
    pub(super) const BURST: u64 = 9;
    pub(super) const MAX_SUBSCRIPTIONS: u64 = 10;
}

/// What a relay allows. Every field is announced and enforced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame in either direction, in bytes.
    pub max_frame: u32,
    /// Largest envelope a put may carry, in bytes.
    pub max_envelope: u32,
    /// Largest attachment blob, in bytes.
    pub max_attachment: u32,
    /// Most unexpired items one mailbox holds.
    pub max_items: u32,
    /// Longest TTL of an item or blob, in seconds.
    pub max_ttl: u32,
    /// Most items one fetch returns.
    pub max_fetch: u32,
    /// Most item ids one delete names.
    pub max_delete: u32,
    /// Sustained requests per second per connection.
    pub rate: u32,
    /// Requests a connection may make at once above the sustained rate.
    pub burst: u32,
    /// Most mailboxes one connection subscribes to.
    pub max_subscriptions: u32,
}

impl Limits {
    /// The reference relay's limits.
    pub const DEFAULT: Limits = Limits {
        max_frame: 1024 * 1024 + FRAME_OVERHEAD as u32,
        max_envelope: MAX_ENVELOPE as u32,
        max_attachment: 1024 * 1024,
        max_items: 1000,
        max_ttl: 14 * 24 * 3600,
        max_fetch: 32,
        max_delete: 64,
        rate: 50,
        burst: 100,
        max_subscriptions: 64,
    };

    fn fields(&self) -> [(u64, u32); 10] {
        [
            (key::MAX_FRAME, self.max_frame),
            (key::MAX_ENVELOPE, self.max_envelope),
            (key::MAX_ATTACHMENT, self.max_attachment),
            (key::MAX_ITEMS, self.max_items),
            (key::MAX_TTL, self.max_ttl),
            (key::MAX_FETCH, self.max_fetch),
            (key::MAX_DELETE, self.max_delete),
            (key::RATE, self.rate),
            (key::BURST, self.burst),
            (key::MAX_SUBSCRIPTIONS, self.max_subscriptions),
        ]
    }

    /// Whether the limits are coherent: every one at least 1, the largest envelope and
    /// attachment fit a frame with its overhead, `max_frame` is at most
    /// [`MAX_ANNOUNCED_FRAME`], and `max_fetch` and `max_delete` at most [`MAX_ARRAY`].
    pub fn is_valid(&self) -> bool {
        let fits =
            |payload: u32| u64::from(payload) + FRAME_OVERHEAD as u64 <= u64::from(self.max_frame);
        self.fields().iter().all(|(_, v)| *v >= 1)
            && u64::from(self.max_frame) <= MAX_ANNOUNCED_FRAME
            && fits(self.max_envelope)
            && fits(self.max_attachment)
            && self.max_fetch <= MAX_ARRAY
            && self.max_delete <= MAX_ARRAY
    }

    pub(crate) fn to_value(self) -> Value {
        Value::Map(
            self.fields()
                .into_iter()
                .map(|(k, v)| (Int::uint(k), Value::uint(u64::from(v))))
                .collect(),
        )
    }

    /// Reads an announcement. Unknown keys are ignored (**[RLY-04]**: later versions may
    /// announce more limits); every known key is required.
    pub(crate) fn from_value(value: Value) -> Result<Limits> {
        let Value::Map(mut map) = value else {
            return Err(ErrorClass::SchemaWrongType.into());
        };
        let mut take = |k: u64| -> Result<u32> {
            match map.remove(&Int::uint(k)) {
                None => Err(ErrorClass::SchemaMissingField.into()),
                Some(Value::Int(i)) => i
                    .as_u64()
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| ErrorClass::SchemaRange.into()),
                Some(_) => Err(ErrorClass::SchemaWrongType.into()),
            }
        };
        let limits = Limits {
            max_frame: take(key::MAX_FRAME)?,
            max_envelope: take(key::MAX_ENVELOPE)?,
            max_attachment: take(key::MAX_ATTACHMENT)?,
            max_items: take(key::MAX_ITEMS)?,
            max_ttl: take(key::MAX_TTL)?,
            max_fetch: take(key::MAX_FETCH)?,
            max_delete: take(key::MAX_DELETE)?,
            rate: take(key::RATE)?,
            burst: take(key::BURST)?,
            max_subscriptions: take(key::MAX_SUBSCRIPTIONS)?,
        };
        if !limits.is_valid() {
            return Err(ErrorClass::SchemaRange.into());
        }
        Ok(limits)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_round_trip() {
        assert!(Limits::DEFAULT.is_valid());
        let back = Limits::from_value(Limits::DEFAULT.to_value()).unwrap();
        assert_eq!(back, Limits::DEFAULT);
    }

    #[test]
    fn incoherent_announcements_are_refused() {
        let mut l = Limits::DEFAULT;
        l.max_frame = l.max_envelope; // no room for the frame's own fields
        assert!(!l.is_valid());
        let mut l = Limits::DEFAULT;
        l.rate = 0;
        assert_eq!(
            Limits::from_value(l.to_value()).unwrap_err().class(),
            ErrorClass::SchemaRange
        );
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let Value::Map(mut map) = Limits::DEFAULT.to_value() else {
            unreachable!()
        };
        map.insert(Int::uint(99), Value::uint(5));
        assert_eq!(
            Limits::from_value(Value::Map(map)).unwrap(),
            Limits::DEFAULT
        );
    }
}
