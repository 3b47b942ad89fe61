//! The harness the session tests are written with: one relay connection over a store that
//! can be made to fail, recording every step and checking it against what the test expects.

use quietwire::UnixTime;
use quietwire::mailbox::{MailboxKey, Operation, RelayOrigin};
use quietwire::relay::{
    Connection, Item, ItemId, Limits, MemoryStore, Now, Reply, Request, RequestFrame, ServerFrame,
    blob_id,
};

use super::{Ids, MailboxKeyJson, SessionTest, Step};
use crate::families::material::VECTOR_ORIGIN;
use crate::seeds::seed32;

/// When every connection opens: 2027-01-15T08:16:40Z, 1000 s past an hour, so that the
/// rounding of expiries shows.
pub const T0: u64 = 1_800_001_000;

/// The challenge of every session (the fuzz target `relay_core` uses it too, so the proofs
/// in the vectors are valid seeds).
pub fn challenge() -> [u8; 32] {
    seed32("relay/challenge")
}

/// The relay origin of every session (MBX-05).
#[allow(clippy::expect_used)] // a constant in canonical form, checked by a unit test
pub fn origin() -> RelayOrigin {
    RelayOrigin::parse(VECTOR_ORIGIN).expect("VECTOR_ORIGIN is canonical")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_vector_origin_is_canonical() {
        assert!(quietwire::mailbox::RelayOrigin::parse(super::VECTOR_ORIGIN).is_ok());
    }
}

/// What a step must do.
#[derive(Clone, Copy, Debug)]
pub enum Want {
    /// Succeed.
    Ok,
    /// Fail with this class; the connection stays open.
    Fail(&'static str),
    /// Fail with this class and close the connection.
    Close(&'static str),
    /// Nothing: the connection is already closed.
    Closed,
}

/// One scripted connection.
pub struct Script {
    /// Milliseconds the clock advances before each step (0: only [`Script::at`] moves it).
    tick: u64,
    limits: Limits,
    conn: Connection,
    store: MemoryStore,
    now: Now,
    steps: Vec<Step>,
    keys: Vec<MailboxKeyJson>,
    next_id: u32,
    slug: String,
}

impl Script {
    /// A connection opened at [`T0`], millisecond 0.
    pub fn new(slug: &str, limits: Limits) -> Script {
        let now = Now { unix: UnixTime(T0), millis: 0 };
        Script {
            tick: 0,
            limits,
            conn: Connection::new(limits, vec![origin()], challenge(), now),
            store: MemoryStore::new(),
            now,
            steps: Vec::new(),
            keys: Vec::new(),
            next_id: 0,
            slug: slug.to_owned(),
        }
    }

    /// A connection as [`Script::new`] whose clock advances `tick` milliseconds before each
    /// step, which refills as many tokens as the relay's rate gives.
    pub fn ticking(slug: &str, limits: Limits, tick: u64) -> Script {
        Script { tick, ..Script::new(slug, limits) }
    }

    /// A connection as [`Script::new`], with an upload budget and a store with a quota
    /// (**[RLY-16]**).
    pub fn with_quotas(slug: &str, limits: Limits, budget: u64, quota: u64) -> Script {
        let s = Script::new(slug, limits);
        Script {
            conn: s.conn.with_upload_budget(budget),
            store: MemoryStore::with_quota(quota),
            ..s
        }
    }

    /// The mailbox key named `name` (shared by every test), recorded in `mailboxKeys`.
    pub fn key(&mut self, name: &str) -> MailboxKey {
        let seed = seed32(&format!("relay/mailbox/{name}"));
        let key = MailboxKey::from_seed(&seed);
        if !self.keys.iter().any(|k| k.seed == seed) {
            self.keys.push(MailboxKeyJson { seed: seed.to_vec(), mailbox: key.id().to_vec() });
        }
        key
    }

    /// A proof for this connection's challenge.
    pub fn prove(key: &MailboxKey, operation: Operation) -> Vec<u8> {
        key.prove(&origin(), &challenge(), operation)
    }

    /// Sets the time of the following steps: seconds after [`T0`] and monotonic millis.
    pub fn at(&mut self, seconds: u64, millis: u64) {
        self.now = Now { unix: UnixTime(T0 + seconds), millis };
    }

    /// Sets the wall-clock time of the following steps: seconds after [`T0`].
    pub fn at_seconds(&mut self, seconds: u64) {
        self.now.unix = UnixTime(T0 + seconds);
    }

    /// Seconds after [`T0`] at which an item put now with `ttl` expires.
    pub fn expiry_offset(&self, ttl: u32) -> u64 {
        quietwire::relay::expiry(self.now.unix, ttl) - T0
    }

    /// The next request id.
    pub fn next_id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    /// Sends `request` with the next id.
    pub fn send(&mut self, request: Request, want: Want) -> Result<Sent, String> {
        let id = self.next_id();
        self.raw(RequestFrame { id, request }.encode(), want)
    }

    /// Sends `request` with the next id while the store fails.
    pub fn send_unavailable(&mut self, request: Request, want: Want) -> Result<Sent, String> {
        self.store.set_unavailable(true);
        let sent = self.send(request, want);
        self.store.set_unavailable(false);
        sent
    }

    /// Sends raw frame bytes.
    pub fn raw(&mut self, request: Vec<u8>, want: Want) -> Result<Sent, String> {
        self.now.millis += self.tick;
        let handled = self.conn.handle(&request, &self.store, self.now);
        let index = self.steps.len();
        let fail = |what: String| format!("relay {} step {index}: {what}", self.slug);
        let class = handled.error.map(|c| c.as_str());
        let ok = match want {
            Want::Ok => class.is_none() && !handled.close && !handled.reply.is_empty(),
            Want::Fail(c) => class == Some(c) && !handled.close,
            Want::Close(c) => class == Some(c) && handled.close,
            Want::Closed => class.is_none() && handled.close && handled.reply.is_empty(),
        };
        if !ok {
            return Err(fail(format!("expected {want:?}, got {handled:?} {class:?}")));
        }
        let frame = if handled.reply.is_empty() {
            None
        } else {
            let frame = ServerFrame::decode(&handled.reply, self.limits.max_frame.into())
                .map_err(|e| fail(format!("reply does not decode: {e}")))?;
            if frame.encode() != handled.reply {
                return Err(fail("reply is not canonical".to_owned()));
            }
            let echo = match RequestFrame::decode(&request, &self.limits) {
                Ok(r) => r.id,
                Err(e) => e.id.unwrap_or(0),
            };
            let id = match &frame {
                ServerFrame::Ok { id, .. } | ServerFrame::Error { id, .. } => *id,
                _ => return Err(fail(format!("reply {frame:?} is not an answer"))),
            };
            if id != echo {
                return Err(fail(format!("reply id {id}, request id {echo}")));
            }
            match (&frame, class) {
                (ServerFrame::Ok { .. }, None) => {}
                (ServerFrame::Error { class: c, closing, .. }, Some(want))
                    if c == want && *closing == handled.close => {}
                _ => return Err(fail(format!("reply {frame:?} for class {class:?}"))),
            }
            Some(frame)
        };
        self.steps.push(Step {
            unix_time: self.now.unix.as_secs(),
            millis: self.now.millis,
            store_unavailable: self.store.is_unavailable(),
            request,
            reply: handled.reply,
            error_class: class.map(str::to_owned),
            close: handled.close,
            wake: handled.wake.map(|m| m.to_vec()),
        });
        Ok(Sent { frame, wake: handled.wake, step: index, slug: self.slug.clone() })
    }

    /// Puts `envelope` into `mailbox` under `item`, expecting it stored and a wake iff
    /// `new`; returns the seconds after [`T0`] at which the item expires.
    pub fn put(
        &mut self,
        mailbox: &[u8; 32],
        item: ItemId,
        envelope: &[u8],
        ttl: u32,
        new: bool,
    ) -> Result<u64, String> {
        let request = Request::Put { mailbox: *mailbox, item, envelope: envelope.to_vec(), ttl };
        let sent = self.send(request, Want::Ok)?;
        sent.expect_reply(&Reply::Stored)?;
        sent.expect_wake(new.then_some(*mailbox))?;
        Ok(self.expiry_offset(ttl))
    }

    /// Fetches with a valid proof and expects exactly `items` (id, envelope, expiry offset
    /// from [`T0`]) and `more`.
    pub fn fetch(
        &mut self,
        key: &MailboxKey,
        max: Option<u32>,
        items: &[(ItemId, &[u8], u64)],
        more: bool,
    ) -> Result<(), String> {
        let sent = self.send(fetch_request(key, max), Want::Ok)?;
        sent.expect_reply(&Reply::Items {
            items: items
                .iter()
                .map(|(id, envelope, expires)| Item {
                    id: *id,
                    envelope: envelope.to_vec(),
                    expires: T0 + expires,
                })
                .collect(),
            more,
        })
    }

    /// Deletes with a valid proof and expects `count`.
    pub fn delete(&mut self, key: &MailboxKey, items: &[ItemId], count: u32) -> Result<(), String> {
        let sent = self.send(delete_request(key, items), Want::Ok)?;
        sent.expect_reply(&Reply::Deleted { count })
    }

    /// Stores `blob` with `ttl`, expecting its id.
    pub fn blob_put(&mut self, blob: &[u8], ttl: u32) -> Result<Sent, String> {
        let sent = self.send(Request::BlobPut { blob: blob.to_vec(), ttl }, Want::Ok)?;
        sent.expect_reply(&Reply::BlobStored { blob_id: blob_id(blob) })?;
        Ok(sent)
    }

    /// Subscribes with a valid proof.
    pub fn subscribe(&mut self, key: &MailboxKey) -> Result<(), String> {
        let sent = self.send(subscribe_request(key), Want::Ok)?;
        sent.expect_reply(&Reply::Subscribed)
    }

    /// The finished test.
    pub fn finish(self, ids: &mut Ids, comment: &str, f: &[&str]) -> Result<SessionTest, String> {
        let mut classes: Vec<&String> =
            self.steps.iter().filter_map(|s| s.error_class.as_ref()).collect();
        classes.dedup();
        if classes.len() > 1 {
            return Err(format!("relay {}: several classes {classes:?}", self.slug));
        }
        let head = ids.head(&self.slug, comment, f, classes.first().map(|c| c.as_str()));
        let (challenge, origin) = (challenge().to_vec(), VECTOR_ORIGIN.to_owned());
        Ok(SessionTest::new(head, challenge, origin, T0, 0, self.keys, self.steps))
    }
}

/// A fetch of `key`'s mailbox with a valid proof.
pub fn fetch_request(key: &MailboxKey, max: Option<u32>) -> Request {
    Request::Fetch { mailbox: *key.id(), proof: Script::prove(key, Operation::Fetch), max }
}

/// A delete of `items` from `key`'s mailbox with a valid proof.
pub fn delete_request(key: &MailboxKey, items: &[ItemId]) -> Request {
    let proof = Script::prove(key, Operation::Delete);
    Request::Delete { mailbox: *key.id(), proof, items: items.to_vec() }
}

/// A subscription to `key`'s mailbox with a valid proof.
pub fn subscribe_request(key: &MailboxKey) -> Request {
    Request::Subscribe { mailbox: *key.id(), proof: Script::prove(key, Operation::Subscribe) }
}

/// The outcome of one step.
#[derive(Debug)]
pub struct Sent {
    /// The decoded reply.
    pub frame: Option<ServerFrame>,
    /// The mailbox woken.
    pub wake: Option<[u8; 32]>,
    step: usize,
    slug: String,
}

impl Sent {
    /// Checks the reply of a successful step.
    pub fn expect_reply(&self, want: &Reply) -> Result<(), String> {
        match &self.frame {
            Some(ServerFrame::Ok { reply, .. }) if reply == want => Ok(()),
            other => Err(format!(
                "relay {} step {}: expected {want:?}, got {other:?}",
                self.slug, self.step
            )),
        }
    }

    /// Checks the wake.
    pub fn expect_wake(&self, want: Option<[u8; 32]>) -> Result<(), String> {
        if self.wake == want {
            Ok(())
        } else {
            Err(format!(
                "relay {} step {}: wake {:?}, expected {want:?}",
                self.slug,
                self.step,
                self.wake.map(hex::encode)
            ))
        }
    }
}
