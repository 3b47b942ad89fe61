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

use super::frame::{Item, Op, Reply, Request, RequestFrame, ServerFrame};
use super::limits::{FRAME_OVERHEAD, Limits};
use super::store::{PutOutcome, Store};
use crate::error::ErrorClass;
use crate::label::Label;
use crate::mailbox::{self, Operation, RelayOrigin};
use crate::time::UnixTime;

/// Expiries are rounded up to a multiple of this many seconds, so that a stored expiry does
/// not tell when an item was written (**[RLY-09]**).
pub const EXPIRY_GRANULARITY: u64 = 3600;

/// The most bytes a fetched item takes in a reply besides its envelope: the array head (1),
/// the item id (17), the envelope's length head (at most 9) and the expiry (at most 9).
const ITEM_OVERHEAD: usize = 36;

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
    /// The operation of a request that decoded, for identifier-free counters.
    pub op: Option<Op>,
    /// The mailbox a successful subscribe added, so the driver can index subscribers.
    pub subscribed: Option<[u8; 32]>,
}

impl fmt::Debug for Handled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handled")
            .field("reply_len", &self.reply.len())
            .field("close", &self.close)
            .field("wake", &self.wake.is_some())
            .field("error", &self.error)
            .field("op", &self.op)
            .field("subscribed", &self.subscribed.is_some())
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
    origins: Vec<RelayOrigin>,
    challenge: [u8; 32],
    bucket: Bucket,
    subscriptions: BTreeSet<[u8; 32]>,
    closed: bool,
    /// The upload budget (**[RLY-16]**) and the bytes of puts and blob-puts answered ok.
    budget: Option<u64>,
    uploaded: u64,
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
    /// per connection, never reused). `origins` are the relay's own origins (**[MBX-05]**,
    /// **[RLY-02]**): the proofs of this connection must have been made for one of them.
    pub fn new(
        limits: Limits,
        origins: Vec<RelayOrigin>,
        challenge: [u8; 32],
        now: Now,
    ) -> Connection {
        Connection {
            bucket: Bucket::new(&limits, now.millis),
            limits,
            origins,
            challenge,
            subscriptions: BTreeSet::new(),
            closed: false,
            budget: None,
            uploaded: 0,
        }
    }

    /// Sets the connection's upload budget (**[RLY-16]**): the most bytes of `data` its puts
    /// and blob-puts answered ok may total; a put or blob-put beyond it is refused with
    /// `relay.quota`. Without a budget (the default) a connection may upload without bound.
    #[must_use]
    pub fn with_upload_budget(mut self, bytes: u64) -> Connection {
        self.budget = Some(bytes);
        self
    }

    /// **[RLY-16]**: `len` more bytes fit the connection's upload budget
    /// (`relay.quota`) and the store's quota (`relay.storage_full`).
    fn check_upload<S: Store + ?Sized>(&self, store: &S, len: usize) -> Result<(), ErrorClass> {
        if self
            .budget
            .is_some_and(|budget| self.uploaded.saturating_add(len as u64) > budget)
        {
            return Err(ErrorClass::RelayQuota);
        }
        match store.has_room(len) {
            Ok(true) => Ok(()),
            Ok(false) => Err(ErrorClass::RelayStorageFull),
            Err(_) => Err(ErrorClass::RelayUnavailable),
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
                op: None,
                subscribed: None,
            };
        }
        let request = match RequestFrame::decode(frame, &self.limits) {
            Ok(request) => request,
            Err(e) => {
                let id = e.id.unwrap_or(0);
                let class = e.error.class();
                // An unknown operation is answered and the connection stays open (a client
                // may probe for newer operations), so it costs a token like any request that
                // is answered; any other malformed frame closes the connection.
                if class != ErrorClass::RelayOperation {
                    return self.fail(id, class, true);
                }
                if !self.bucket.take(&self.limits, now.millis) {
                    return self.fail(id, ErrorClass::RelayRate, false);
                }
                return self.fail(id, class, false);
            }
        };
        let id = request.id;
        let op = request.request.op();
        let subscribing = match &request.request {
            Request::Subscribe { mailbox, .. } => Some(*mailbox),
            _ => None,
        };
        let mut handled = if !self.bucket.take(&self.limits, now.millis) {
            self.fail(id, ErrorClass::RelayRate, false)
        } else {
            match self.execute(request.request, store, now) {
                Ok((reply, wake)) => Handled {
                    reply: ServerFrame::Ok { id, reply }.encode(),
                    close: false,
                    wake,
                    error: None,
                    op: None,
                    subscribed: subscribing,
                },
                Err(class) => self.fail(id, class, false),
            }
        };
        handled.op = Some(op);
        handled
    }

    fn fail(&mut self, id: u32, class: ErrorClass, close: bool) -> Handled {
        self.closed |= close;
        Handled {
            reply: ServerFrame::error(id, class, close).encode(),
            close,
            wake: None,
            error: Some(class),
            op: None,
            subscribed: None,
        }
    }

    fn prove(
        &self,
        mailbox: &[u8; 32],
        operation: Operation,
        proof: &[u8],
    ) -> Result<(), ErrorClass> {
        mailbox::verify(mailbox, &self.challenge, &self.origins, operation, proof)
            .map_err(|e| e.class())
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
                self.check_upload(store, envelope.len())?;
                let len = envelope.len() as u64;
                let item = Item {
                    id: item,
                    envelope,
                    expires: expiry(now.unix, ttl),
                };
                let outcome = store
                    .put_item(&mailbox, &item, self.limits.max_items, now.unix)
                    .map_err(unavailable)?;
                if matches!(outcome, PutOutcome::Stored | PutOutcome::Duplicate) {
                    self.uploaded = self.uploaded.saturating_add(len);
                }
                match outcome {
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
                // The envelopes share the frame with the fields around them and with each
                // item's id, length and expiry: keep room for `max` of those.
                let budget = (self.limits.max_frame as usize)
                    .saturating_sub(FRAME_OVERHEAD)
                    .saturating_sub((max as usize).saturating_mul(ITEM_OVERHEAD));
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
                let count = store
                    .delete(&mailbox, &items, now.unix)
                    .map_err(unavailable)?;
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
                self.check_upload(store, blob.len())?;
                let id = blob_id(&blob);
                store
                    .put_blob(&id, &blob, expiry(now.unix, ttl))
                    .map_err(unavailable)?;
                self.uploaded = self.uploaded.saturating_add(blob.len() as u64);
                Ok((Reply::BlobStored { blob_id: id }, None))
            }
            Request::BlobGet { blob_id } => {
                match store.get_blob(&blob_id, now.unix).map_err(unavailable)? {
                    Some(blob) => Ok((Reply::Blob { blob }, None)),
                    None => Err(ErrorClass::RelayNotFound),
                }
            }
        }
    }
}

/// The wake-up frame for `mailbox`.
pub fn wake(mailbox: &[u8; 32]) -> Vec<u8> {
    ServerFrame::Wake { mailbox: *mailbox }.encode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mailbox::MailboxKey;
    use crate::relay::MemoryStore;

    fn origin() -> RelayOrigin {
        RelayOrigin::parse("wss://relay.example").unwrap()
    }

    const T0: Now = Now {
        unix: UnixTime(1_800_000_000),
        millis: 0,
    };

    fn put(id: u32, mailbox: &[u8; 32], item: u8, envelope: Vec<u8>, ttl: u32) -> Vec<u8> {
        RequestFrame {
            id,
            request: Request::Put {
                mailbox: *mailbox,
                item: [item; 16],
                envelope,
                ttl,
            },
        }
        .encode()
    }

    #[test]
    fn a_fetch_reply_fits_the_announced_frame() {
        // Many one-byte envelopes: the items' own fields, not the envelopes, fill the frame.
        let limits = Limits {
            max_frame: 2048,
            max_envelope: 16,
            max_attachment: 16,
            max_items: 1000,
            max_fetch: 1000,
            rate: 1000,
            burst: 1000,
            ..Limits::DEFAULT
        };
        let store = MemoryStore::new();
        let mut conn = Connection::new(limits, vec![origin()], [5; 32], T0);
        let key = MailboxKey::from_seed(&[1; 32]);
        for i in 0..200u8 {
            let h = conn.handle(
                &put(u32::from(i) + 1, key.id(), i, vec![i], 3600),
                &store,
                T0,
            );
            assert_eq!(h.error, None);
        }
        let fetch = RequestFrame {
            id: 999,
            request: Request::Fetch {
                mailbox: *key.id(),
                proof: key.prove(&origin(), &[5; 32], Operation::Fetch),
                max: None,
            },
        };
        let h = conn.handle(&fetch.encode(), &store, T0);
        assert!(
            h.reply.len() <= limits.max_frame as usize,
            "{}",
            h.reply.len()
        );
        let Ok(ServerFrame::Ok {
            reply: Reply::Items { items, more: true },
            ..
        }) = ServerFrame::decode(&h.reply, limits.max_frame.into())
        else {
            panic!("not a partial fetch")
        };
        assert!(!items.is_empty());
    }

    #[test]
    fn unknown_operations_cost_a_token() {
        let limits = Limits {
            rate: 1,
            burst: 2,
            ..Limits::DEFAULT
        };
        let store = MemoryStore::new();
        let mut conn = Connection::new(limits, vec![origin()], [5; 32], T0);
        // {1: 1, 2: id, 3: 99}
        let unknown = |id: u8| vec![0xa3, 0x01, 0x01, 0x02, id, 0x03, 0x18, 0x63];
        let classes: Vec<_> = (1..=3)
            .map(|id| conn.handle(&unknown(id), &store, T0).error)
            .collect();
        assert_eq!(
            classes,
            [
                Some(ErrorClass::RelayOperation),
                Some(ErrorClass::RelayOperation),
                Some(ErrorClass::RelayRate)
            ]
        );
        assert!(!conn.is_closed());
        let later = Now { millis: 1000, ..T0 };
        assert_eq!(
            conn.handle(&unknown(4), &store, later).error,
            Some(ErrorClass::RelayOperation)
        );
    }

    #[test]
    fn an_expired_item_does_not_hold_its_id() {
        let limits = Limits {
            max_items: 1,
            ..Limits::DEFAULT
        };
        let store = MemoryStore::new();
        let mut conn = Connection::new(limits, vec![origin()], [5; 32], T0);
        let mailbox = [9; 32];
        let first = conn.handle(&put(1, &mailbox, 1, vec![1], 60), &store, T0);
        assert_eq!(first.wake, Some(mailbox));
        // Expired but not swept: the same put again is a new item (woken, counted).
        let later = Now {
            unix: UnixTime(expiry(T0.unix, 60)),
            ..T0
        };
        let again = conn.handle(&put(2, &mailbox, 1, vec![1], 60), &store, later);
        assert_eq!((again.error, again.wake), (None, Some(mailbox)));
        // Another envelope under an expired id is no conflict either; the mailbox is full.
        let conflict = conn.handle(&put(3, &mailbox, 1, vec![2], 60), &store, later);
        assert_eq!(conflict.error, Some(ErrorClass::RelayConflict));
        let other = conn.handle(&put(4, &mailbox, 2, vec![2], 60), &store, later);
        assert_eq!(other.error, Some(ErrorClass::RelayMailboxFull));
    }

    #[test]
    fn uploads_beyond_the_budget_or_the_quota_are_refused() {
        let blob = |id: u32, len: usize| {
            RequestFrame {
                id,
                request: Request::BlobPut {
                    blob: vec![id as u8; len],
                    ttl: 60,
                },
            }
            .encode()
        };
        let store = MemoryStore::new();
        let mut conn =
            Connection::new(Limits::DEFAULT, vec![origin()], [5; 32], T0).with_upload_budget(1500);
        let mailbox = [9; 32];
        assert_eq!(
            conn.handle(&put(1, &mailbox, 1, vec![1; 1000], 60), &store, T0)
                .error,
            None
        );
        assert_eq!(conn.handle(&blob(2, 500), &store, T0).error, None);
        let over = conn.handle(&put(3, &mailbox, 3, vec![3], 60), &store, T0);
        assert_eq!(
            (over.error, over.close, over.wake),
            (Some(ErrorClass::RelayQuota), false, None)
        );
        assert_eq!(
            conn.handle(&blob(4, 1), &store, T0).error,
            Some(ErrorClass::RelayQuota)
        );
        // Refused requests are not counted and store nothing.
        assert_eq!(store.stored_bytes(), 1500);

        let store = MemoryStore::with_quota(1000);
        let mut conn = Connection::new(Limits::DEFAULT, vec![origin()], [5; 32], T0);
        assert_eq!(
            conn.handle(&put(1, &mailbox, 1, vec![1; 600], 60), &store, T0)
                .error,
            None
        );
        let full = conn.handle(&blob(2, 401), &store, T0);
        assert_eq!(
            (full.error, full.close),
            (Some(ErrorClass::RelayStorageFull), false)
        );
        assert_eq!(conn.handle(&blob(3, 400), &store, T0).error, None);
        // The budget comes first.
        let mut tight =
            Connection::new(Limits::DEFAULT, vec![origin()], [5; 32], T0).with_upload_budget(1);
        assert_eq!(
            tight.handle(&blob(4, 2), &store, T0).error,
            Some(ErrorClass::RelayQuota)
        );
        // A failing store fails the quota check.
        store.set_unavailable(true);
        assert_eq!(
            conn.handle(&blob(5, 1), &store, T0).error,
            Some(ErrorClass::RelayUnavailable)
        );
    }
}
