//! The relay's sans-io core: one [`Connection`] per client, driven by frames and time
//! (`spec/08-mailboxes-and-relay.md`, §8.6.5, **[RLY-05]**–**[RLY-08]**).
//!
//! The driver accepts a connection, draws a 32-byte challenge from its CSPRNG, sends
//! [`Connection::welcome`], and then passes every binary frame to [`Connection::handle`]
//! with the current time and its [`Store`]. The result is the reply frame to send, whether
//! to close the connection afterwards, and which mailbox (if any) gained an item, so the
//! driver can send [`ServerFrame::Wake`] to the connections subscribed to it.

use core::fmt;
use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use super::frame::{Item, Reply, Request, RequestFrame, ServerFrame};
use super::limits::{FRAME_OVERHEAD, Limits};
use super::store::{PutOutcome, Store};
use crate::error::ErrorClass;
use crate::label::Label;
use crate::mailbox::{self, Operation};
use crate::time::UnixTime;

/// Expiries are rounded up to a multiple of this many seconds, so that a stored expiry does
/// not tell when an item was written (**[RLY-09]**).
pub const EXPIRY_GRANULARITY: u64 = 3600;

/// The time inputs of a step: wall-clock seconds (for expiries) and a monotonic millisecond
/// counter (for the request rate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Seconds since the epoch.
    pub unix: UnixTime,
    /// Monotonic milliseconds (any origin).
    pub millis: u64,
}

/// The id of an attachment blob: `SHA-256(["quietwire/v1/blob-id", blob])` (**[RLY-08]**).
pub fn blob_id(blob: &[u8]) -> [u8; 32] {
    Sha256::digest(Label::BlobId.input(&[blob])).into()
}

/// The stored expiry of an item or blob written at `now` with `ttl`: `now + ttl` rounded up to
/// the next multiple of [`EXPIRY_GRANULARITY`].
pub fn expiry(now: UnixTime, ttl: u32) -> u64 {
    let at = now.as_secs().saturating_add(u64::from(ttl));
    at.div_ceil(EXPIRY_GRANULARITY)
        .saturating_mul(EXPIRY_GRANULARITY)
}

/// What the driver does after a frame.
#[derive(Clone, PartialEq, Eq)]
pub struct Handled {
    /// The frame to send back.
    pub reply: Vec<u8>,
    /// Close the connection after sending it.
    pub close: bool,
    /// A mailbox that gained an item: wake its subscribers.
    pub wake: Option<[u8; 32]>,
    /// The class of a failed request, for identifier-free counters.
    pub error: Option<ErrorClass>,
}

impl fmt::Debug for Handled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handled")
            .field("reply_len", &self.reply.len())
            .field("close", &self.close)
            .field("wake", &self.wake.is_some())
            .field("error", &self.error)
            .finish()
    }
}

/// A token bucket in thousandths of a request.
#[derive(Clone, Debug)]
struct Bucket {
    milli_tokens: u64,
    last: u64,
}

impl Bucket {
    fn new(limits: &Limits, now: u64) -> Bucket {
        Bucket {
            milli_tokens: u64::from(limits.burst).saturating_mul(1000),
            last: now,
        }
    }

    fn take(&mut self, limits: &Limits, now: u64) -> bool {
        let elapsed = now.saturating_sub(self.last);
        self.last = self.last.max(now);
        let cap = u64::from(limits.burst).saturating_mul(1000);
        self.milli_tokens = self
            .milli_tokens
            .saturating_add(elapsed.saturating_mul(u64::from(limits.rate)))
            .min(cap);
        if self.milli_tokens >= 1000 {
            self.milli_tokens -= 1000;
            true
        } else {
            false
        }
    }
}

/// One client connection's state: its challenge, rate bucket and subscriptions.
pub struct Connection {
    limits: Limits,
    challenge: [u8; 32],
    bucket: Bucket,
    subscriptions: BTreeSet<[u8; 32]>,
    closed: bool,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("subscriptions", &self.subscriptions.len())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A new connection with a fresh `challenge` from the relay's CSPRNG (**[MBX-03]**: one
    /// per connection, never reused).
    pub fn new(limits: Limits, challenge: [u8; 32], now: Now) -> Connection {
        Connection {
            bucket: Bucket::new(&limits, now.millis),
            limits,
            challenge,
            subscriptions: BTreeSet::new(),
            closed: false,
        }
    }

    /// The first frame to send.
    pub fn welcome(&self) -> Vec<u8> {
        ServerFrame::Welcome {
            challenge: self.challenge,
            limits: self.limits,
        }
        .encode()
    }

    /// Whether this connection subscribed to `mailbox`.
    pub fn is_subscribed(&self, mailbox: &[u8; 32]) -> bool {
        self.subscriptions.contains(mailbox)
    }

    /// Whether an earlier frame closed the connection.
    pub const fn is_closed(&self) -> bool {
        self.closed
    }

    /// Handles one binary frame. After a reply with `close` set, the driver sends it and
    /// closes; frames handled after that get an empty reply (send nothing) and `close`.
    pub fn handle<S: Store + ?Sized>(&mut self, frame: &[u8], store: &S, now: Now) -> Handled {
        if self.closed {
            return Handled {
                reply: Vec::new(),
                close: true,
                wake: None,
                error: None,
            };
        }
        let request = match RequestFrame::decode(frame, &self.limits) {
            Ok(request) => request,
            Err(e) => {
                // An unknown operation is answered and the connection stays open (a client
                // may probe for newer operations); any other malformed frame closes it.
                let close = e.error.class() != ErrorClass::RelayOperation;
                return self.fail(e.id.unwrap_or(0), e.error.class(), close);
            }
        };
        let id = request.id;
        if !self.bucket.take(&self.limits, now.millis) {
            return self.fail(id, ErrorClass::RelayRate, false);
        }
        match self.execute(request.request, store, now) {
            Ok((reply, wake)) => Handled {
                reply: ServerFrame::Ok { id, reply }.encode(),
                close: false,
                wake,
                error: None,
            },
            Err(class) => self.fail(id, class, false),
        }
    }

    fn fail(&mut self, id: u32, class: ErrorClass, close: bool) -> Handled {
        self.closed |= close;
        Handled {
            reply: ServerFrame::error(id, class, close).encode(),
            close,
            wake: None,
            error: Some(class),
        }
    }

    fn prove(
        &self,
        mailbox: &[u8; 32],
        operation: Operation,
        proof: &[u8],
    ) -> Result<(), ErrorClass> {
        mailbox::verify(mailbox, &self.challenge, operation, proof).map_err(|e| e.class())
    }

    fn check_ttl(&self, ttl: u32) -> Result<(), ErrorClass> {
        if ttl == 0 || ttl > self.limits.max_ttl {
            Err(ErrorClass::RelayTtl)
        } else {
            Ok(())
        }
    }

    fn execute<S: Store + ?Sized>(
        &mut self,
        request: Request,
        store: &S,
        now: Now,
    ) -> Result<(Reply, Option<[u8; 32]>), ErrorClass> {
        let unavailable = |_| ErrorClass::RelayUnavailable;
        match request {
            Request::Put {
                mailbox,
                item,
                envelope,
                ttl,
            } => {
                if envelope.len() > self.limits.max_envelope as usize {
                    return Err(ErrorClass::RelayTooLarge);
                }
                self.check_ttl(ttl)?;
                let item = Item {
                    id: item,
                    envelope,
                    expires: expiry(now.unix, ttl),
                };
                match store
                    .put_item(&mailbox, &item, self.limits.max_items, now.unix)
                    .map_err(unavailable)?
                {
                    PutOutcome::Stored => Ok((Reply::Stored, Some(mailbox))),
                    PutOutcome::Duplicate => Ok((Reply::Stored, None)),
                    PutOutcome::Conflict => Err(ErrorClass::RelayConflict),
                    PutOutcome::Full => Err(ErrorClass::RelayMailboxFull),
                }
            }
            Request::Fetch {
                mailbox,
                proof,
                max,
            } => {
                let max = max.unwrap_or(self.limits.max_fetch);
                if max == 0 || max > self.limits.max_fetch {
                    return Err(ErrorClass::SchemaRange);
                }
                self.prove(&mailbox, Operation::Fetch, &proof)?;
                let budget = (self.limits.max_frame as usize).saturating_sub(FRAME_OVERHEAD);
                let fetched = store
                    .fetch(&mailbox, now.unix, max as usize, budget)
                    .map_err(unavailable)?;
                Ok((
                    Reply::Items {
                        items: fetched.items,
                        more: fetched.more,
                    },
                    None,
                ))
            }
            Request::Delete {
                mailbox,
                proof,
                items,
            } => {
                if items.len() > self.limits.max_delete as usize {
                    return Err(ErrorClass::SchemaLength);
                }
                self.prove(&mailbox, Operation::Delete, &proof)?;
                let count = store.delete(&mailbox, &items).map_err(unavailable)?;
                Ok((Reply::Deleted { count }, None))
            }
            Request::Subscribe { mailbox, proof } => {
                if !self.subscriptions.contains(&mailbox)
                    && self.subscriptions.len() >= self.limits.max_subscriptions as usize
                {
                    return Err(ErrorClass::RelaySubscriptions);
                }
                self.prove(&mailbox, Operation::Subscribe, &proof)?;
                self.subscriptions.insert(mailbox);
                Ok((Reply::Subscribed, None))
            }
            Request::BlobPut { blob, ttl } => {
                if blob.len() > self.limits.max_attachment as usize {
                    return Err(ErrorClass::RelayTooLarge);
                }
                self.check_ttl(ttl)?;
                let id = blob_id(&blob);
                store
                    .put_blob(&id, &blob, expiry(now.unix, ttl))
                    .map_err(unavailable)?;
                Ok((Reply::BlobStored { blob_id: id }, None))
            }
            Request::BlobGet { blob_id } => match store
                .get_blob(&blob_id, now.unix)
                .map_err(unavailable)?
            {
                Some(blob) => Ok((Reply::Blob { blob }, None)),
                None => Err(ErrorClass::RelayNotFound),
            },
        }
    }
}

/// The wake-up frame for `mailbox`.
pub fn wake(mailbox: &[u8; 32]) -> Vec<u8> {
    ServerFrame::Wake { mailbox: *mailbox }.encode()
}
