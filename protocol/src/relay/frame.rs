//! Relay frames: the canonical CBOR maps carried in WebSocket binary messages
//! (`spec/08-mailboxes-and-relay.md`, §8.6.2–§8.6.3; CDDL rules `relay-request` and
//! `relay-frame`).
//!
//! A client sends [`Request`]s, each with a request id; the relay answers each with a
//! [`ServerFrame::Ok`] or [`ServerFrame::Error`] carrying the same id, and sends two kinds of
//! frames of its own: one [`ServerFrame::Welcome`] when the connection opens (the challenge
//! and the limits) and [`ServerFrame::Wake`] for subscribed mailboxes.
//!
//! ```
//! use quietwire::relay::{Limits, Request, RequestFrame};
//!
//! let frame = RequestFrame {
//!     id: 7,
//!     request: Request::BlobGet { blob_id: [1; 32] },
//! };
//! let bytes = frame.encode();
//! assert_eq!(RequestFrame::decode(&bytes, &Limits::DEFAULT).unwrap(), frame);
//! ```

use core::fmt;

use crate::cbor::{self, Int, Value};
use crate::error::{Error, ErrorClass, Result};
use crate::schema::{self, Fields};

use super::limits::{Limits, MAX_ANNOUNCED_FRAME, MAX_ARRAY};

/// An item id: 16 random bytes chosen by the writer, the same on every retry of one put.
pub type ItemId = [u8; 16];

/// Deepest nesting of a frame (a fetch reply: map, items array, item array).
const MAX_DEPTH: usize = 4;

mod key {
    pub(super) const VERSION: u64 = 1;
    pub(super) const ID: u64 = 2;
    pub(super) const OP: u64 = 3;
    pub(super) const MAILBOX: u64 = 4;
    pub(super) const ITEM: u64 = 5;
    pub(super) const DATA: u64 = 6;
    pub(super) const TTL: u64 = 7;
    pub(super) const PROOF: u64 = 8;
    pub(super) const ITEMS: u64 = 9;
    pub(super) const BLOB_ID: u64 = 10;
    pub(super) const MAX: u64 = 11;

    pub(super) const KIND: u64 = 3;
    pub(super) const CHALLENGE: u64 = 4;
    pub(super) const LIMITS: u64 = 5;
    pub(super) const CLASS: u64 = 6;
    pub(super) const FETCHED: u64 = 7;
    pub(super) const MORE: u64 = 8;
    pub(super) const COUNT: u64 = 9;
    pub(super) const REPLY_BLOB_ID: u64 = 10;
    pub(super) const BLOB: u64 = 11;
    pub(super) const WAKE_MAILBOX: u64 = 12;
    pub(super) const CLOSING: u64 = 13;
    pub(super) const REPLY_OP: u64 = 14;
}

/// The operation of a request (registry: relay operations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Op {
    /// Put an envelope into a mailbox.
    Put,
    /// Fetch a mailbox's items (owner only).
    Fetch,
    /// Delete fetched items (owner only).
    Delete,
    /// Subscribe to wake-ups for a mailbox (owner only).
    Subscribe,
    /// Store an attachment blob.
    BlobPut,
    /// Read an attachment blob by id.
    BlobGet,
}

impl Op {
    /// Every operation, in code order.
    pub const ALL: [Op; 6] = [
        Op::Put,
        Op::Fetch,
        Op::Delete,
        Op::Subscribe,
        Op::BlobPut,
        Op::BlobGet,
    ];

    /// The registry code.
    pub const fn code(self) -> u64 {
        match self {
            Op::Put => 1,
            Op::Fetch => 2,
            Op::Delete => 3,
            Op::Subscribe => 4,
            Op::BlobPut => 5,
            Op::BlobGet => 6,
        }
    }

    /// The operation of a code.
    pub fn from_code(code: u64) -> Option<Op> {
        Op::ALL.into_iter().find(|o| o.code() == code)
    }

    /// The registry name.
    pub const fn name(self) -> &'static str {
        match self {
            Op::Put => "put",
            Op::Fetch => "fetch",
            Op::Delete => "delete",
            Op::Subscribe => "subscribe",
            Op::BlobPut => "blob-put",
            Op::BlobGet => "blob-get",
        }
    }

    /// The keys a request of this operation carries, besides version, id and op; all are
    /// required except `max` of a fetch.
    const fn keys(self) -> &'static [u64] {
        match self {
            Op::Put => &[key::MAILBOX, key::ITEM, key::DATA, key::TTL],
            Op::Fetch => &[key::MAILBOX, key::PROOF, key::MAX],
            Op::Delete => &[key::MAILBOX, key::PROOF, key::ITEMS],
            Op::Subscribe => &[key::MAILBOX, key::PROOF],
            Op::BlobPut => &[key::DATA, key::TTL],
            Op::BlobGet => &[key::BLOB_ID],
        }
    }
}

/// A request, without its id.
#[derive(Clone, PartialEq, Eq)]
pub enum Request {
    /// Put `envelope` into `mailbox` under `item` for `ttl` seconds.
    Put {
        /// The destination mailbox.
        mailbox: [u8; 32],
        /// The writer's item id (idempotency key).
        item: ItemId,
        /// The envelope, opaque to the relay.
        envelope: Vec<u8>,
        /// Seconds the relay keeps the item unless deleted first.
        ttl: u32,
    },
    /// Fetch up to `max` items (the relay's `max_fetch` if absent).
    Fetch {
        /// The mailbox.
        mailbox: [u8; 32],
        /// A fetch proof for this connection's challenge.
        proof: Vec<u8>,
        /// Most items wanted.
        max: Option<u32>,
    },
    /// Delete items.
    Delete {
        /// The mailbox.
        mailbox: [u8; 32],
        /// A delete proof for this connection's challenge.
        proof: Vec<u8>,
        /// The items, 1 to `max_delete` ids (an id named twice counts once).
        items: Vec<ItemId>,
    },
    /// Subscribe to wake-ups.
    Subscribe {
        /// The mailbox.
        mailbox: [u8; 32],
        /// A subscribe proof for this connection's challenge.
        proof: Vec<u8>,
    },
    /// Store an attachment blob for `ttl` seconds.
    BlobPut {
        /// The blob, opaque to the relay.
        blob: Vec<u8>,
        /// Seconds the relay keeps it.
        ttl: u32,
    },
    /// Read an attachment blob.
    BlobGet {
        /// The blob's id (**[RLY-08]**).
        blob_id: [u8; 32],
    },
}

impl Request {
    /// The operation.
    pub const fn op(&self) -> Op {
        match self {
            Request::Put { .. } => Op::Put,
            Request::Fetch { .. } => Op::Fetch,
            Request::Delete { .. } => Op::Delete,
            Request::Subscribe { .. } => Op::Subscribe,
            Request::BlobPut { .. } => Op::BlobPut,
            Request::BlobGet { .. } => Op::BlobGet,
        }
    }
}

impl fmt::Debug for Request {
    /// Lengths only: requests carry mailbox ids and proofs, which logs must not show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Put { envelope, ttl, .. } => f
                .debug_struct("Put")
                .field("envelope_len", &envelope.len())
                .field("ttl", ttl)
                .finish_non_exhaustive(),
            Request::Delete { items, .. } => f
                .debug_struct("Delete")
                .field("items", &items.len())
                .finish_non_exhaustive(),
            Request::BlobPut { blob, ttl } => f
                .debug_struct("BlobPut")
                .field("blob_len", &blob.len())
                .field("ttl", ttl)
                .finish(),
            other => f.debug_struct(other.op().name()).finish_non_exhaustive(),
        }
    }
}

/// A request with its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestFrame {
    /// The request id, 1 ..= 2^32 − 1, echoed in the reply.
    pub id: u32,
    /// The request.
    pub request: Request,
}

/// A request that could not be decoded: the error, and the request id if it could be read
/// (the relay echoes it in its error frame, **[RLY-03]**).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestError {
    /// The request id, if the frame got that far.
    pub id: Option<u32>,
    /// What was wrong.
    pub error: Error,
}

impl RequestFrame {
    /// Encodes the frame canonically.
    pub fn encode(&self) -> Vec<u8> {
        let mut fields = vec![
            (key::ID, Value::uint(u64::from(self.id))),
            (key::OP, Value::uint(self.request.op().code())),
        ];
        match &self.request {
            Request::Put {
                mailbox,
                item,
                envelope,
                ttl,
            } => fields.extend([
                (key::MAILBOX, Value::from(&mailbox[..])),
                (key::ITEM, Value::from(&item[..])),
                (key::DATA, Value::from(&envelope[..])),
                (key::TTL, Value::uint(u64::from(*ttl))),
            ]),
            Request::Fetch {
                mailbox,
                proof,
                max,
            } => {
                fields.extend([
                    (key::MAILBOX, Value::from(&mailbox[..])),
                    (key::PROOF, Value::from(&proof[..])),
                ]);
                if let Some(max) = max {
                    fields.push((key::MAX, Value::uint(u64::from(*max))));
                }
            }
            Request::Delete {
                mailbox,
                proof,
                items,
            } => fields.extend([
                (key::MAILBOX, Value::from(&mailbox[..])),
                (key::PROOF, Value::from(&proof[..])),
                (
                    key::ITEMS,
                    Value::Array(items.iter().map(|i| Value::from(&i[..])).collect()),
                ),
            ]),
            Request::Subscribe { mailbox, proof } => fields.extend([
                (key::MAILBOX, Value::from(&mailbox[..])),
                (key::PROOF, Value::from(&proof[..])),
            ]),
            Request::BlobPut { blob, ttl } => fields.extend([
                (key::DATA, Value::from(&blob[..])),
                (key::TTL, Value::uint(u64::from(*ttl))),
            ]),
            Request::BlobGet { blob_id } => fields.push((key::BLOB_ID, Value::from(&blob_id[..]))),
        }
        cbor::encode(&schema::build_map(fields, &Default::default()))
    }

    /// Decodes a request frame within `limits`, checking in the order of **[RLY-03]**:
    /// frame size (`relay.frame_too_large`), CBOR (`cbor.*`, with the frame limit as the
    /// input and string limit), a map of version 1 (`schema.*`), the request id
    /// (`schema.*`), the operation (`relay.operation`), then the operation's fields, closed
    /// (`schema.*`). Limits on sizes and counts that are policy (TTL, envelope size, item
    /// count) are the relay core's to check.
    ///
    /// # Errors
    /// A [`RequestError`] with the first failure and, once read, the request id.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<RequestFrame, RequestError> {
        let no_id = |error: Error| RequestError { id: None, error };
        if bytes.len() > limits.max_frame as usize {
            return Err(no_id(ErrorClass::RelayFrameTooLarge.into()));
        }
        let cbor_limits = cbor::Limits {
            max_input: limits.max_frame as usize,
            max_depth: MAX_DEPTH,
            max_string: u64::from(limits.max_frame),
            max_items: u64::from(MAX_ARRAY),
        };
        let value = cbor::decode(bytes, &cbor_limits).map_err(no_id)?;
        let Value::Map(map) = value else {
            return Err(no_id(ErrorClass::SchemaWrongType.into()));
        };
        // Version, then id, then op; every other key is checked against the op.
        let mut head = Fields::nested_closed(
            Value::Map(
                map.iter()
                    .filter(|(k, _)| k.as_u64().is_some_and(|k| k <= key::OP))
                    .map(|(k, v)| (*k, v.clone()))
                    .collect(),
            ),
            &[key::VERSION, key::ID, key::OP],
        )
        .map_err(no_id)?;
        let version = head.uint(key::VERSION).map_err(no_id)?;
        if version != schema::VERSION {
            return Err(no_id(ErrorClass::SchemaVersion.into()));
        }
        let id = head.u32(key::ID).map_err(no_id)?;
        if id == 0 {
            return Err(no_id(ErrorClass::SchemaRange.into()));
        }
        let with_id = |error: Error| RequestError {
            id: Some(id),
            error,
        };
        let op = Op::from_code(head.uint(key::OP).map_err(with_id)?)
            .ok_or_else(|| with_id(ErrorClass::RelayOperation.into()))?;
        let mut known = vec![key::VERSION, key::ID, key::OP];
        known.extend_from_slice(op.keys());
        let mut f = Fields::closed(Value::Map(map), &known).map_err(with_id)?;
        let request = decode_body(op, &mut f).map_err(with_id)?;
        Ok(RequestFrame { id, request })
    }
}

fn decode_body(op: Op, f: &mut Fields) -> Result<Request> {
    let nonempty = |bytes: Vec<u8>| {
        if bytes.is_empty() {
            Err(Error::from(ErrorClass::SchemaLength))
        } else {
            Ok(bytes)
        }
    };
    Ok(match op {
        Op::Put => Request::Put {
            mailbox: f.bytes_exact(key::MAILBOX)?,
            item: f.bytes_exact(key::ITEM)?,
            envelope: nonempty(f.bytes(key::DATA)?)?,
            ttl: f.u32(key::TTL)?,
        },
        Op::Fetch => {
            let mailbox = f.bytes_exact(key::MAILBOX)?;
            let proof = f.bytes(key::PROOF)?;
            let max = if f.has(key::MAX) {
                Some(f.u32(key::MAX)?)
            } else {
                None
            };
            Request::Fetch {
                mailbox,
                proof,
                max,
            }
        }
        Op::Delete => {
            let mailbox = f.bytes_exact(key::MAILBOX)?;
            let proof = f.bytes(key::PROOF)?;
            let items = f
                .array(key::ITEMS)?
                .into_iter()
                .map(|v| match v {
                    Value::Bytes(b) => schema::fixed::<16>(&b),
                    _ => Err(ErrorClass::SchemaWrongType.into()),
                })
                .collect::<Result<Vec<_>>>()?;
            if items.is_empty() {
                return Err(ErrorClass::SchemaLength.into());
            }
            Request::Delete {
                mailbox,
                proof,
                items,
            }
        }
        Op::Subscribe => Request::Subscribe {
            mailbox: f.bytes_exact(key::MAILBOX)?,
            proof: f.bytes(key::PROOF)?,
        },
        Op::BlobPut => Request::BlobPut {
            blob: nonempty(f.bytes(key::DATA)?)?,
            ttl: f.u32(key::TTL)?,
        },
        Op::BlobGet => Request::BlobGet {
            blob_id: f.bytes_exact(key::BLOB_ID)?,
        },
    })
}

/// One stored item as a fetch returns it.
#[derive(Clone, PartialEq, Eq)]
pub struct Item {
    /// The writer's item id.
    pub id: ItemId,
    /// The envelope, byte for byte as put.
    pub envelope: Vec<u8>,
    /// When the relay drops it (seconds since the epoch, rounded up to the hour).
    pub expires: u64,
}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Item")
            .field("envelope_len", &self.envelope.len())
            .finish_non_exhaustive()
    }
}

/// The result of a successful request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A put is durable (or was already: the same item id and envelope).
    Stored,
    /// Fetched items, oldest first; `more` if the mailbox holds others.
    Items {
        /// The items.
        items: Vec<Item>,
        /// Whether more unexpired items remain.
        more: bool,
    },
    /// How many of the named items existed and are now deleted.
    Deleted {
        /// The count.
        count: u32,
    },
    /// The subscription is active for the rest of the connection.
    Subscribed,
    /// A blob is durable under this id.
    BlobStored {
        /// The id (**[RLY-08]**).
        blob_id: [u8; 32],
    },
    /// A blob's bytes.
    Blob {
        /// The blob.
        blob: Vec<u8>,
    },
}

impl Reply {
    /// The operation this reply answers.
    pub const fn op(&self) -> Op {
        match self {
            Reply::Stored => Op::Put,
            Reply::Items { .. } => Op::Fetch,
            Reply::Deleted { .. } => Op::Delete,
            Reply::Subscribed => Op::Subscribe,
            Reply::BlobStored { .. } => Op::BlobPut,
            Reply::Blob { .. } => Op::BlobGet,
        }
    }
}

/// A frame from the relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerFrame {
    /// First frame of every connection.
    Welcome {
        /// The connection's challenge for mailbox proofs (**[MBX-02]**).
        challenge: [u8; 32],
        /// The relay's limits.
        limits: Limits,
    },
    /// A request succeeded.
    Ok {
        /// The request's id.
        id: u32,
        /// The result.
        reply: Reply,
    },
    /// A request failed.
    Error {
        /// The request's id, or 0 if the frame was too malformed to read it.
        id: u32,
        /// The registry class (kept as text: a newer relay may send a class this version
        /// does not know).
        class: String,
        /// Whether the relay closes the connection after this frame.
        closing: bool,
    },
    /// An item arrived in a subscribed mailbox.
    Wake {
        /// The mailbox.
        mailbox: [u8; 32],
    },
}

mod kind {
    pub(super) const WELCOME: u64 = 0;
    pub(super) const OK: u64 = 1;
    pub(super) const ERROR: u64 = 2;
    pub(super) const WAKE: u64 = 3;
}

/// Longest error class text.
const MAX_CLASS: usize = 64;

impl ServerFrame {
    /// An error frame for `class`.
    pub fn error(id: u32, class: ErrorClass, closing: bool) -> ServerFrame {
        ServerFrame::Error {
            id,
            class: class.as_str().to_owned(),
            closing,
        }
    }

    /// Encodes the frame canonically.
    pub fn encode(&self) -> Vec<u8> {
        let mut fields = Vec::new();
        match self {
            ServerFrame::Welcome { challenge, limits } => fields.extend([
                (key::ID, Value::uint(0)),
                (key::KIND, Value::uint(kind::WELCOME)),
                (key::CHALLENGE, Value::from(&challenge[..])),
                (key::LIMITS, limits.to_value()),
            ]),
            ServerFrame::Ok { id, reply } => {
                fields.extend([
                    (key::ID, Value::uint(u64::from(*id))),
                    (key::KIND, Value::uint(kind::OK)),
                    (key::REPLY_OP, Value::uint(reply.op().code())),
                ]);
                match reply {
                    Reply::Stored | Reply::Subscribed => {}
                    Reply::Items { items, more } => fields.extend([
                        (
                            key::FETCHED,
                            Value::Array(
                                items
                                    .iter()
                                    .map(|i| {
                                        Value::Array(vec![
                                            Value::from(&i.id[..]),
                                            Value::from(&i.envelope[..]),
                                            Value::uint(i.expires),
                                        ])
                                    })
                                    .collect(),
                            ),
                        ),
                        (key::MORE, Value::Bool(*more)),
                    ]),
                    Reply::Deleted { count } => {
                        fields.push((key::COUNT, Value::uint(u64::from(*count))));
                    }
                    Reply::BlobStored { blob_id } => {
                        fields.push((key::REPLY_BLOB_ID, Value::from(&blob_id[..])));
                    }
                    Reply::Blob { blob } => fields.push((key::BLOB, Value::from(&blob[..]))),
                }
            }
            ServerFrame::Error { id, class, closing } => fields.extend([
                (key::ID, Value::uint(u64::from(*id))),
                (key::KIND, Value::uint(kind::ERROR)),
                (key::CLASS, Value::Text(class.clone())),
                (key::CLOSING, Value::Bool(*closing)),
            ]),
            ServerFrame::Wake { mailbox } => fields.extend([
                (key::ID, Value::uint(0)),
                (key::KIND, Value::uint(kind::WAKE)),
                (key::WAKE_MAILBOX, Value::from(&mailbox[..])),
            ]),
        }
        cbor::encode(&schema::build_map(fields, &Default::default()))
    }

    /// Decodes a relay frame of at most `max_frame` bytes (the announced limit, or
    /// [`MAX_ANNOUNCED_FRAME`] before the welcome). Frames are closed: unknown keys are
    /// refused.
    ///
    /// # Errors
    /// `relay.frame_too_large`, `cbor.*`, `schema.*`; `relay.operation` for a reply to an
    /// unknown operation.
    pub fn decode(bytes: &[u8], max_frame: u64) -> Result<ServerFrame> {
        let max = max_frame.min(MAX_ANNOUNCED_FRAME);
        if bytes.len() as u64 > max {
            return Err(ErrorClass::RelayFrameTooLarge.into());
        }
        let limits = cbor::Limits {
            max_input: usize::try_from(max).unwrap_or(usize::MAX),
            max_depth: MAX_DEPTH,
            max_string: max,
            max_items: u64::from(MAX_ARRAY),
        };
        let value = cbor::decode(bytes, &limits)?;
        let Value::Map(map) = &value else {
            return Err(ErrorClass::SchemaWrongType.into());
        };
        let kind = match map.get(&Int::uint(key::KIND)) {
            Some(Value::Int(k)) => k.as_u64().ok_or(ErrorClass::SchemaWrongType)?,
            Some(_) => return Err(ErrorClass::SchemaWrongType.into()),
            None => return Err(ErrorClass::SchemaMissingField.into()),
        };
        let base = [key::VERSION, key::ID, key::KIND];
        let known = |extra: &[u64]| [&base[..], extra].concat();
        let unsolicited = |f: &mut Fields| -> Result<()> {
            if f.uint(key::ID)? != 0 {
                return Err(ErrorClass::SchemaRange.into());
            }
            Ok(())
        };
        match kind {
            kind::WELCOME => {
                let mut f = Fields::closed(value, &known(&[key::CHALLENGE, key::LIMITS]))?;
                unsolicited(&mut f)?;
                Ok(ServerFrame::Welcome {
                    challenge: f.bytes_exact(key::CHALLENGE)?,
                    limits: Limits::from_value(f.value(key::LIMITS)?)?,
                })
            }
            kind::WAKE => {
                let mut f = Fields::closed(value, &known(&[key::WAKE_MAILBOX]))?;
                unsolicited(&mut f)?;
                Ok(ServerFrame::Wake {
                    mailbox: f.bytes_exact(key::WAKE_MAILBOX)?,
                })
            }
            kind::ERROR => {
                let mut f = Fields::closed(value, &known(&[key::CLASS, key::CLOSING]))?;
                Ok(ServerFrame::Error {
                    id: f.u32(key::ID)?,
                    class: f.text(key::CLASS, MAX_CLASS)?,
                    closing: f.bool(key::CLOSING)?,
                })
            }
            kind::OK => {
                let op = match map.get(&Int::uint(key::REPLY_OP)) {
                    Some(Value::Int(k)) => k
                        .as_u64()
                        .and_then(Op::from_code)
                        .ok_or(ErrorClass::RelayOperation)?,
                    Some(_) => return Err(ErrorClass::SchemaWrongType.into()),
                    None => return Err(ErrorClass::SchemaMissingField.into()),
                };
                let extra: &[u64] = match op {
                    Op::Put | Op::Subscribe => &[],
                    Op::Fetch => &[key::FETCHED, key::MORE],
                    Op::Delete => &[key::COUNT],
                    Op::BlobPut => &[key::REPLY_BLOB_ID],
                    Op::BlobGet => &[key::BLOB],
                };
                let mut f = Fields::closed(value, &known(&[&[key::REPLY_OP], extra].concat()))?;
                let id = f.u32(key::ID)?;
                if id == 0 {
                    return Err(ErrorClass::SchemaRange.into());
                }
                let reply = match op {
                    Op::Put => Reply::Stored,
                    Op::Subscribe => Reply::Subscribed,
                    Op::Fetch => Reply::Items {
                        items: f
                            .array(key::FETCHED)?
                            .into_iter()
                            .map(decode_item)
                            .collect::<Result<_>>()?,
                        more: f.bool(key::MORE)?,
                    },
                    Op::Delete => Reply::Deleted {
                        count: f.u32(key::COUNT)?,
                    },
                    Op::BlobPut => Reply::BlobStored {
                        blob_id: f.bytes_exact(key::REPLY_BLOB_ID)?,
                    },
                    Op::BlobGet => Reply::Blob {
                        blob: f.bytes(key::BLOB)?,
                    },
                };
                Ok(ServerFrame::Ok { id, reply })
            }
            _ => Err(ErrorClass::SchemaRange.into()),
        }
    }
}

fn decode_item(value: Value) -> Result<Item> {
    let Value::Array(parts) = value else {
        return Err(ErrorClass::SchemaWrongType.into());
    };
    let [id, envelope, expires]: [Value; 3] =
        parts.try_into().map_err(|_| ErrorClass::SchemaLength)?;
    match (id, envelope, expires) {
        (Value::Bytes(id), Value::Bytes(envelope), Value::Int(expires)) => Ok(Item {
            id: schema::fixed(&id)?,
            envelope,
            expires: expires.as_u64().ok_or(ErrorClass::SchemaWrongType)?,
        }),
        _ => Err(ErrorClass::SchemaWrongType.into()),
    }
}
