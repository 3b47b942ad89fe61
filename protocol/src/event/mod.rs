//! Events: what travels inside the ratchet (`spec/07-envelope.md`, events; CDDL rule
//! `event`).
//!
//! An event is a canonical CBOR map: version, kind, a random 128-bit message id, whether it
//! is critical, and a body whose shape depends on the kind. Extensions (negative keys) are
//! allowed at the top level and kept; bodies are closed, so that decoding and re-encoding
//! always give the same bytes. A receiver that does not know a
//! kind ignores the event ([`Body::Unknown`]) unless it is critical, which it must refuse
//! (`event.unknown_critical`). Receivers deduplicate by message id.
//!
//! ```
//! use quietwire::event::{Body, Event};
//! # use rand_core::{TryCryptoRng, TryRng};
//! # struct Counter(u8);
//! # impl TryRng for Counter {
//! #     type Error = core::convert::Infallible;
//! #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
//! #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
//! #     fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
//! #         for b in dst { self.0 = self.0.wrapping_add(1); *b = self.0; }
//! #         Ok(())
//! #     }
//! # }
//! # impl TryCryptoRng for Counter {}
//! # let mut rng = Counter(0);
//! let event = Event::new(Body::Text { text: "hi".into(), reply_to: None }, &mut rng);
//! let bytes = event.to_bytes()?;
//! assert_eq!(Event::from_bytes(&bytes)?, event);
//! # Ok::<(), quietwire::Error>(())
//! ```

mod body;

use std::collections::BTreeMap;

use rand_core::CryptoRng;

use crate::cbor::{self, Int, Limits, Value};
use crate::error::{ErrorClass, Result};
use crate::schema::{self, Fields};
pub use body::{AttachmentRef, Body, Kind, MAX_RECEIPT_IDS};

/// Largest encoded event: what fits a ratchet message in the largest bucket, with its
/// padding byte (`65536 − 96 − 1`).
pub const MAX_EVENT: usize = crate::envelope::MAX_BLOB - crate::ratchet::OVERHEAD - 1;

const LIMITS: Limits = Limits {
    max_input: MAX_EVENT,
    max_depth: 6,
    max_string: MAX_EVENT as u64,
    max_items: 256,
};

mod key {
    pub(super) const KIND: u64 = 2;
    pub(super) const ID: u64 = 3;
    pub(super) const CRITICAL: u64 = 4;
    pub(super) const BODY: u64 = 5;
    pub(super) const KNOWN: &[u64] = &[1, KIND, ID, CRITICAL, BODY];
}

/// A message id: 16 random bytes.
pub type MessageId = [u8; 16];

/// One event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    id: MessageId,
    critical: bool,
    body: Body,
    extensions: BTreeMap<Int, Value>,
}

impl Event {
    /// A new, non-critical event with a random message id (16 bytes from `rng`).
    pub fn new<R: CryptoRng + ?Sized>(body: Body, rng: &mut R) -> Event {
        let mut id = [0u8; 16];
        rng.fill_bytes(&mut id);
        Event::with_id(id, body)
    }

    /// A non-critical event with a given message id (a retry of the same send keeps its
    /// id).
    pub fn with_id(id: MessageId, body: Body) -> Event {
        Event {
            id,
            critical: false,
            body,
            extensions: BTreeMap::new(),
        }
    }

    /// Marks the event critical: a receiver that does not know its kind must refuse it
    /// instead of ignoring it. Meant for kinds added after version 1.
    pub fn set_critical(mut self, critical: bool) -> Event {
        self.critical = critical;
        self
    }

    /// The message id.
    pub const fn id(&self) -> &MessageId {
        &self.id
    }

    /// Whether a receiver that does not know the kind must refuse the event.
    pub const fn critical(&self) -> bool {
        self.critical
    }

    /// The body.
    pub const fn body(&self) -> &Body {
        &self.body
    }

    /// Extension fields (negative keys) the event carried.
    pub const fn extensions(&self) -> &BTreeMap<Int, Value> {
        &self.extensions
    }

    /// Decodes an event strictly.
    ///
    /// # Errors
    /// `cbor.*` and `schema.*` for a malformed event or body; `event.kind` for kind 0;
    /// `event.unknown_critical` for a critical event of a kind this implementation does not
    /// know. A non-critical event of an unknown kind decodes to [`Body::Unknown`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Event> {
        let mut f = Fields::new(cbor::decode(bytes, &LIMITS)?, key::KNOWN)?;
        let kind = f.uint(key::KIND)?;
        let id = f.bytes_exact::<16>(key::ID)?;
        let critical = f.bool(key::CRITICAL)?;
        let body_value = f.value(key::BODY)?;
        if kind == 0 {
            return Err(ErrorClass::EventKind.into());
        }
        let body = match Kind::from_id(kind) {
            Some(kind) => Body::decode(kind, body_value)?,
            None if critical => return Err(ErrorClass::EventUnknownCritical.into()),
            None => Body::Unknown {
                kind,
                body: body_value,
            },
        };
        Ok(Event {
            id,
            critical,
            body,
            extensions: f.into_extensions(),
        })
    }

    /// The canonical encoding.
    ///
    /// # Errors
    /// `envelope.too_large` if the event is larger than [`MAX_EVENT`]; the body's own
    /// limits as `schema.length` (so nothing is sent that a receiver would refuse).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let map = schema::build_map(
            vec![
                (key::KIND, Value::uint(self.body.kind_id())),
                (key::ID, Value::from(&self.id[..])),
                (key::CRITICAL, Value::Bool(self.critical)),
                (key::BODY, self.body.encode()?),
            ],
            &self.extensions,
        );
        let bytes = cbor::encode(&map);
        if bytes.len() > MAX_EVENT {
            return Err(ErrorClass::EnvelopeTooLarge.into());
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests;
