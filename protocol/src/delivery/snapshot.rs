//! Durable state of the outbox and the inbox: closed canonical CBOR (`spec/09-delivery.md`
//! §9.6, **[DLV-07]**; CDDL rules `outbox-snapshot` and `inbox-snapshot`).
//!
//! A restored outbox has nothing in flight: a put that was in flight when the snapshot was
//! taken is due again at once (its item id makes the retry harmless, **[RLY-05]**).

use std::collections::{BTreeMap, BTreeSet};

use zeroize::Zeroizing;

use super::inbox::{Inbox, MAX_INBOX};
use super::outbox::{Entry, FailReason, MAX_OUTBOX, Outbox, Queued, RetryPolicy, SendId, Status};
use crate::cbor::{self, Limits, Value};
use crate::envelope::MAX_ENVELOPE;
use crate::error::{ErrorClass, Result};
use crate::schema::{self, Fields};
use crate::time::UnixTime;

mod key {
    pub(super) const POLICY: u64 = 2;
    pub(super) const NEXT: u64 = 3;
    pub(super) const ENTRIES: u64 = 4;
    pub(super) const OUTBOX: &[u64] = &[1, POLICY, NEXT, ENTRIES];
    pub(super) const SEEN: u64 = 2;
    pub(super) const INBOX: &[u64] = &[1, SEEN];
}

mod state {
    pub(super) const WAITING: u64 = 0;
    pub(super) const IN_FLIGHT: u64 = 1;
    pub(super) const STORED: u64 = 2;
    pub(super) const DELIVERED: u64 = 3;
    pub(super) const FAILED: u64 = 4;
}

mod reason {
    pub(super) const EXPIRED: u64 = 0;
    pub(super) const REJECTED: u64 = 1;
    pub(super) const TOO_LARGE: u64 = 2;
    pub(super) const UNREACHABLE: u64 = 3;
    pub(super) const OUTBOX_FULL: u64 = 4;
}

/// Largest outbox snapshot: every entry with the largest envelope.
pub const MAX_OUTBOX_SNAPSHOT: usize = MAX_OUTBOX * (MAX_ENVELOPE + 160) + 64;

const OUTBOX_LIMITS: Limits = Limits {
    max_input: MAX_OUTBOX_SNAPSHOT,
    max_depth: 4,
    max_string: MAX_ENVELOPE as u64,
    max_items: MAX_OUTBOX as u64,
};

const INBOX_LIMITS: Limits = Limits {
    max_input: MAX_INBOX * 32 + 64,
    max_depth: 3,
    max_string: 16,
    max_items: MAX_INBOX as u64,
};

fn uint(v: u64) -> Value {
    Value::uint(v)
}

fn status_value(status: &Status) -> Value {
    Value::Array(match status {
        Status::Queued(Queued::Waiting {
            attempts,
            next_attempt,
        }) => vec![
            uint(state::WAITING),
            uint(u64::from(*attempts)),
            uint(next_attempt.as_secs()),
        ],
        Status::Queued(Queued::InFlight { attempts, deadline }) => vec![
            uint(state::IN_FLIGHT),
            uint(u64::from(*attempts)),
            uint(deadline.as_secs()),
        ],
        Status::Queued(Queued::Stored { expires }) => {
            vec![uint(state::STORED), uint(expires.as_secs())]
        }
        Status::Delivered => vec![uint(state::DELIVERED)],
        Status::Failed(reason) => {
            let mut v = vec![uint(state::FAILED)];
            match reason {
                FailReason::Expired => v.push(uint(reason::EXPIRED)),
                FailReason::Rejected(class) => {
                    v.push(uint(reason::REJECTED));
                    v.push(Value::from(class.as_str()));
                }
                FailReason::TooLarge => v.push(uint(reason::TOO_LARGE)),
                FailReason::Unreachable => v.push(uint(reason::UNREACHABLE)),
                FailReason::OutboxFull => v.push(uint(reason::OUTBOX_FULL)),
            }
            v
        }
    })
}

impl Outbox {
    /// The outbox as closed canonical CBOR. Envelopes are ciphertext, but the snapshot also
    /// shows who is written to; store it encrypted, like all local state.
    pub fn snapshot(&self) -> Zeroizing<Vec<u8>> {
        let p = &self.policy;
        let policy = Value::Array(vec![
            uint(p.initial_backoff),
            uint(p.max_backoff),
            uint(p.ack_timeout),
            uint(p.give_up_after),
        ]);
        let entries = self
            .entries
            .iter()
            .map(|(id, e)| {
                Value::Array(vec![
                    uint(id.0),
                    Value::from(&e.message_id[..]),
                    Value::from(&e.item[..]),
                    Value::from(&e.mailbox[..]),
                    Value::from(&e.envelope[..]),
                    uint(u64::from(e.ttl)),
                    uint(e.created.as_secs()),
                    Value::Bool(e.awaits_receipt),
                    status_value(&e.status),
                ])
            })
            .collect();
        Zeroizing::new(cbor::encode(&schema::build_map(
            vec![
                (key::POLICY, policy),
                (key::NEXT, uint(self.next)),
                (key::ENTRIES, Value::Array(entries)),
            ],
            &Default::default(),
        )))
    }

    /// Restores a snapshot. Puts that were in flight are due again at once (**[DLV-02]**);
    /// everything else is restored as it was, so a snapshot without puts in flight
    /// re-encodes to the same bytes.
    ///
    /// # Errors
    /// `cbor.*` and `schema.*` for a malformed snapshot; `schema.range` for one that
    /// contradicts itself (ids not ascending or not below the next id, more than
    /// [`MAX_OUTBOX`] entries, an envelope kept for a finished send or missing for a queued
    /// one, an unknown error class).
    pub fn restore(bytes: &[u8]) -> Result<Outbox> {
        let mut f = Fields::closed(cbor::decode(bytes, &OUTBOX_LIMITS)?, key::OUTBOX)?;
        let policy = match <[Value; 4]>::try_from(f.array(key::POLICY)?) {
            Ok([a, b, c, d]) => RetryPolicy {
                initial_backoff: as_u64(a)?,
                max_backoff: as_u64(b)?,
                ack_timeout: as_u64(c)?,
                give_up_after: as_u64(d)?,
            },
            Err(_) => return Err(ErrorClass::SchemaLength.into()),
        };
        let next = f.uint(key::NEXT)?;
        let mut entries = BTreeMap::new();
        let mut last = None;
        for value in f.array(key::ENTRIES)? {
            let (id, entry) = decode_entry(value)?;
            if last.is_some_and(|l| id <= l) || id.0 >= next {
                return Err(ErrorClass::SchemaRange.into());
            }
            last = Some(id);
            entries.insert(id, entry);
        }
        if entries.len() > MAX_OUTBOX {
            return Err(ErrorClass::SchemaRange.into());
        }
        Ok(Outbox {
            policy,
            entries,
            next,
        })
    }
}

fn as_u64(v: Value) -> Result<u64> {
    match v {
        Value::Int(i) => i.as_u64().ok_or_else(|| ErrorClass::SchemaWrongType.into()),
        _ => Err(ErrorClass::SchemaWrongType.into()),
    }
}

fn as_u32(v: Value) -> Result<u32> {
    u32::try_from(as_u64(v)?).map_err(|_| ErrorClass::SchemaRange.into())
}

fn as_bytes<const N: usize>(v: Value) -> Result<[u8; N]> {
    match v {
        Value::Bytes(b) => schema::fixed(&b),
        _ => Err(ErrorClass::SchemaWrongType.into()),
    }
}

fn decode_entry(value: Value) -> Result<(SendId, Entry)> {
    let Value::Array(items) = value else {
        return Err(ErrorClass::SchemaWrongType.into());
    };
    let [
        id,
        message_id,
        item,
        mailbox,
        envelope,
        ttl,
        created,
        awaits_receipt,
        status,
    ]: [Value; 9] = items.try_into().map_err(|_| ErrorClass::SchemaLength)?;
    let Value::Bool(awaits_receipt) = awaits_receipt else {
        return Err(ErrorClass::SchemaWrongType.into());
    };
    let Value::Bytes(envelope) = envelope else {
        return Err(ErrorClass::SchemaWrongType.into());
    };
    let status = decode_status(status)?;
    let consistent = if status.is_pending() {
        !envelope.is_empty() && envelope.len() <= MAX_ENVELOPE
    } else {
        envelope.is_empty()
    };
    if !consistent {
        return Err(ErrorClass::SchemaRange.into());
    }
    Ok((
        SendId(as_u64(id)?),
        Entry {
            message_id: as_bytes(message_id)?,
            item: as_bytes(item)?,
            mailbox: as_bytes(mailbox)?,
            envelope,
            ttl: as_u32(ttl)?,
            created: UnixTime(as_u64(created)?),
            awaits_receipt,
            status,
        },
    ))
}

fn decode_status(value: Value) -> Result<Status> {
    let Value::Array(items) = value else {
        return Err(ErrorClass::SchemaWrongType.into());
    };
    let mut items = items.into_iter();
    let mut next = || items.next().ok_or(ErrorClass::SchemaLength);
    let status = match as_u64(next()?)? {
        state::WAITING => Status::Queued(Queued::Waiting {
            attempts: as_u32(next()?)?,
            next_attempt: UnixTime(as_u64(next()?)?),
        }),
        state::IN_FLIGHT => {
            let attempts = as_u32(next()?)?;
            let _deadline = as_u64(next()?)?;
            // Whether the put arrived is unknown: it is due again at once (DLV-02).
            Status::Queued(Queued::Waiting {
                attempts,
                next_attempt: UnixTime(0),
            })
        }
        state::STORED => Status::Queued(Queued::Stored {
            expires: UnixTime(as_u64(next()?)?),
        }),
        state::DELIVERED => Status::Delivered,
        state::FAILED => Status::Failed(match as_u64(next()?)? {
            reason::EXPIRED => FailReason::Expired,
            reason::REJECTED => {
                let Value::Text(name) = next()? else {
                    return Err(ErrorClass::SchemaWrongType.into());
                };
                FailReason::Rejected(ErrorClass::from_name(&name).ok_or(ErrorClass::SchemaRange)?)
            }
            reason::TOO_LARGE => FailReason::TooLarge,
            reason::UNREACHABLE => FailReason::Unreachable,
            reason::OUTBOX_FULL => FailReason::OutboxFull,
            _ => return Err(ErrorClass::SchemaRange.into()),
        }),
        _ => return Err(ErrorClass::SchemaRange.into()),
    };
    if next().is_ok() {
        return Err(ErrorClass::SchemaLength.into());
    }
    Ok(status)
}

impl Inbox {
    /// The remembered ids as closed canonical CBOR, in id order.
    pub fn snapshot(&self) -> Vec<u8> {
        let seen = self
            .seen
            .iter()
            .map(|(id, until)| Value::Array(vec![Value::from(&id[..]), uint(until.as_secs())]))
            .collect();
        cbor::encode(&schema::build_map(
            vec![(key::SEEN, Value::Array(seen))],
            &Default::default(),
        ))
    }

    /// Restores a snapshot.
    ///
    /// # Errors
    /// `cbor.*` and `schema.*`; `schema.range` if ids are not strictly ascending.
    pub fn restore(bytes: &[u8]) -> Result<Inbox> {
        let mut f = Fields::closed(cbor::decode(bytes, &INBOX_LIMITS)?, key::INBOX)?;
        let mut inbox = Inbox {
            seen: BTreeMap::new(),
            by_time: BTreeSet::new(),
        };
        let mut last: Option<[u8; 16]> = None;
        for value in f.array(key::SEEN)? {
            let Value::Array(pair) = value else {
                return Err(ErrorClass::SchemaWrongType.into());
            };
            let [id, until]: [Value; 2] = pair.try_into().map_err(|_| ErrorClass::SchemaLength)?;
            let id: [u8; 16] = as_bytes(id)?;
            let until = UnixTime(as_u64(until)?);
            if last.is_some_and(|l| id <= l) {
                return Err(ErrorClass::SchemaRange.into());
            }
            last = Some(id);
            inbox.seen.insert(id, until);
            inbox.by_time.insert((until, id));
        }
        Ok(inbox)
    }
}
