//! The sender's outbox: every send's state and the transitions of `spec/09-delivery.md`
//! §9.2–§9.4 (**[DLV-01]**–**[DLV-05]**).

use core::fmt;
use std::collections::BTreeMap;

use rand_core::CryptoRng;

use crate::envelope::MAX_ENVELOPE;
use crate::error::ErrorClass;
use crate::event::MessageId;
use crate::relay::ItemId;
use crate::time::UnixTime;

/// Most sends an outbox holds, finished ones included (**[DLV-05]**).
pub const MAX_OUTBOX: usize = 4096;

/// When and how often to retry (**[DLV-03]**). All durations in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Backoff before the second attempt; it doubles with every failed attempt.
    pub initial_backoff: u64,
    /// Largest backoff.
    pub max_backoff: u64,
    /// An attempt without a reply for this long counts as failed.
    pub ack_timeout: u64,
    /// A send the relay has not stored this long after it was pushed fails as unreachable.
    pub give_up_after: u64,
}

impl RetryPolicy {
    /// The reference client's policy: 2 s doubling to 5 min, 30 s per attempt, 7 days.
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        initial_backoff: 2,
        max_backoff: 300,
        ack_timeout: 30,
        give_up_after: 7 * 24 * 3600,
    };

    /// The backoff after `attempts` failed attempts (at least 1), before jitter:
    /// `min(max_backoff, initial_backoff · 2^(attempts − 1))`.
    pub fn backoff(&self, attempts: u32) -> u64 {
        let doublings = attempts.saturating_sub(1).min(32);
        self.initial_backoff
            .saturating_mul(1u64 << doublings)
            .min(self.max_backoff)
            .max(1)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::DEFAULT
    }
}

/// A send's handle in its outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SendId(pub u64);

/// Why a send failed (**[DLV-04]**).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailReason {
    /// The relay stored it, but its TTL ran out before a receipt arrived.
    Expired,
    /// The relay refused it for good, with this class.
    Rejected(ErrorClass),
    /// Larger than the relay (or the protocol) accepts.
    TooLarge,
    /// No relay stored it before the give-up deadline.
    Unreachable,
    /// The outbox already held [`MAX_OUTBOX`] queued sends.
    OutboxFull,
}

impl FailReason {
    /// A short stable name: `expired`, `rejected`, `too_large`, `unreachable`.
    pub const fn name(self) -> &'static str {
        match self {
            FailReason::Expired => "expired",
            FailReason::Rejected(_) => "rejected",
            FailReason::TooLarge => "too_large",
            FailReason::Unreachable => "unreachable",
            FailReason::OutboxFull => "outbox_full",
        }
    }
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailReason::Rejected(class) => write!(f, "rejected ({class})"),
            other => f.write_str(other.name()),
        }
    }
}

/// The ways a send is queued; each has the time of its next step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queued {
    /// Waiting for its next attempt.
    Waiting {
        /// Attempts made so far.
        attempts: u32,
        /// When the next attempt is due.
        next_attempt: UnixTime,
    },
    /// Sent; waiting for the relay's reply until `deadline`.
    InFlight {
        /// Attempts made so far, this one included.
        attempts: u32,
        /// When the attempt counts as failed.
        deadline: UnixTime,
    },
    /// Durably stored by the relay; waiting for a receipt until `expires`.
    Stored {
        /// When the relay drops it.
        expires: UnixTime,
    },
}

/// A send's outcome so far: exactly one of the three of **[DLV-01]**.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// On its way; see [`Queued`].
    Queued(Queued),
    /// A receipt arrived.
    Delivered,
    /// It will not be delivered.
    Failed(FailReason),
}

impl Status {
    /// Whether the status can still change by itself (it is queued).
    pub const fn is_pending(&self) -> bool {
        matches!(self, Status::Queued(_))
    }
}

/// A put to send now.
#[derive(Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The send it belongs to.
    pub send: SendId,
    /// The destination mailbox.
    pub mailbox: [u8; 32],
    /// The relay item id: the same on every attempt.
    pub item: ItemId,
    /// The envelope.
    pub envelope: Vec<u8>,
    /// The TTL to ask for.
    pub ttl: u32,
}

impl fmt::Debug for Transmit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transmit")
            .field("send", &self.send)
            .field("envelope_len", &self.envelope.len())
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// One send.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) message_id: MessageId,
    pub(crate) item: ItemId,
    pub(crate) mailbox: [u8; 32],
    /// Emptied once the send is finished.
    pub(crate) envelope: Vec<u8>,
    pub(crate) ttl: u32,
    pub(crate) created: UnixTime,
    /// Whether only a receipt makes it delivered (else the relay's acknowledgement does).
    pub(crate) awaits_receipt: bool,
    pub(crate) status: Status,
}

/// The sender's outbox (**[DLV-02]**). Keep it durable: snapshot it after every change
/// ([`Outbox::snapshot`]) and restore it after a restart ([`Outbox::restore`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Outbox {
    pub(crate) policy: RetryPolicy,
    pub(crate) entries: BTreeMap<SendId, Entry>,
    pub(crate) next: u64,
}

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// An empty outbox.
    pub fn new(policy: RetryPolicy) -> Outbox {
        Outbox {
            policy,
            entries: BTreeMap::new(),
            next: 1,
        }
    }

    /// The retry policy.
    pub const fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Queues an envelope for `mailbox`, to be kept `ttl` seconds by the relay. Draws the
    /// 16-byte relay item id from `rng`. A send that can never fit a relay (longer than
    /// the largest envelope, or empty) fails at once with [`FailReason::TooLarge`]; when
    /// the outbox is full, the oldest finished send is forgotten first, and if none is
    /// finished the new send fails as [`FailReason::OutboxFull`], so it is never silently
    /// dropped.
    pub fn push<R: CryptoRng + ?Sized>(
        &mut self,
        message_id: MessageId,
        mailbox: [u8; 32],
        envelope: Vec<u8>,
        ttl: u32,
        now: UnixTime,
        rng: &mut R,
    ) -> SendId {
        self.insert(message_id, mailbox, envelope, ttl, now, true, rng)
    }

    /// Like [`Outbox::push`], for a send that no receipt will ever answer (a receipt
    /// itself, **[DLV-06]**): the relay's acknowledgement of a durable write makes it
    /// delivered (**[DLV-04]**).
    pub fn push_without_receipt<R: CryptoRng + ?Sized>(
        &mut self,
        message_id: MessageId,
        mailbox: [u8; 32],
        envelope: Vec<u8>,
        ttl: u32,
        now: UnixTime,
        rng: &mut R,
    ) -> SendId {
        self.insert(message_id, mailbox, envelope, ttl, now, false, rng)
    }

    #[allow(clippy::too_many_arguments)]
    fn insert<R: CryptoRng + ?Sized>(
        &mut self,
        message_id: MessageId,
        mailbox: [u8; 32],
        envelope: Vec<u8>,
        ttl: u32,
        now: UnixTime,
        awaits_receipt: bool,
        rng: &mut R,
    ) -> SendId {
        let mut item = [0u8; 16];
        rng.fill_bytes(&mut item);
        let mut status = Status::Queued(Queued::Waiting {
            attempts: 0,
            next_attempt: now,
        });
        if envelope.len() > MAX_ENVELOPE || envelope.is_empty() {
            status = Status::Failed(FailReason::TooLarge);
        } else if self.entries.len() >= MAX_OUTBOX && !self.forget_oldest_finished() {
            status = Status::Failed(FailReason::OutboxFull);
        }
        let id = SendId(self.next);
        self.next = self.next.saturating_add(1);
        let finished = !status.is_pending();
        self.entries.insert(
            id,
            Entry {
                message_id,
                item,
                mailbox,
                envelope: if finished { Vec::new() } else { envelope },
                ttl,
                created: now,
                awaits_receipt,
                status,
            },
        );
        id
    }

    fn forget_oldest_finished(&mut self) -> bool {
        let oldest = self
            .entries
            .iter()
            .find(|(_, e)| !e.status.is_pending())
            .map(|(id, _)| *id);
        oldest.is_some_and(|id| self.entries.remove(&id).is_some())
    }

    /// The next put that is due at `now`, marked in flight; `None` if none is due.
    pub fn poll_transmit(&mut self, now: UnixTime) -> Option<Transmit> {
        let ack_timeout = self.policy.ack_timeout;
        let (id, entry) = self.entries.iter_mut().find(|(_, e)| {
            matches!(e.status, Status::Queued(Queued::Waiting { next_attempt, .. }) if next_attempt <= now)
        })?;
        let Status::Queued(Queued::Waiting { attempts, .. }) = entry.status else {
            return None;
        };
        entry.status = Status::Queued(Queued::InFlight {
            attempts: attempts.saturating_add(1),
            deadline: now.saturating_add(ack_timeout),
        });
        Some(Transmit {
            send: *id,
            mailbox: entry.mailbox,
            item: entry.item,
            envelope: entry.envelope.clone(),
            ttl: entry.ttl,
        })
    }

    /// The relay acknowledged a durable write of `send`'s put (a late acknowledgement of an
    /// attempt that already timed out counts too): stored until its TTL runs out, or
    /// delivered if no receipt is expected. Ignored for finished sends.
    pub fn on_stored(&mut self, send: SendId, now: UnixTime) {
        if let Some(entry) = self.entries.get_mut(&send)
            && matches!(
                entry.status,
                Status::Queued(Queued::Waiting { .. } | Queued::InFlight { .. })
            )
        {
            entry.status = if entry.awaits_receipt {
                Status::Queued(Queued::Stored {
                    expires: now.saturating_add(u64::from(entry.ttl)),
                })
            } else {
                Status::Delivered
            };
            finish(entry);
        }
    }

    /// The relay refused `send`'s put with `class` (**[DLV-04]**): sizes fail as too large;
    /// `relay.rate`, `relay.unavailable` and `relay.mailbox_full` are retried with backoff;
    /// every other class fails as rejected. Ignored unless the send is in flight.
    pub fn on_rejected<R: CryptoRng + ?Sized>(
        &mut self,
        send: SendId,
        class: ErrorClass,
        now: UnixTime,
        rng: &mut R,
    ) {
        let policy = self.policy;
        let Some(entry) = self.entries.get_mut(&send) else {
            return;
        };
        let Status::Queued(Queued::InFlight { attempts, .. }) = entry.status else {
            return;
        };
        entry.status = match class {
            ErrorClass::RelayTooLarge
            | ErrorClass::RelayFrameTooLarge
            | ErrorClass::EnvelopeTooLarge => Status::Failed(FailReason::TooLarge),
            ErrorClass::RelayRate | ErrorClass::RelayUnavailable | ErrorClass::RelayMailboxFull => {
                retry(&policy, entry.created, attempts, now, rng)
            }
            other => Status::Failed(FailReason::Rejected(other)),
        };
        finish(entry);
    }

    /// The connection to the relay is gone: every put in flight is retried with backoff (it
    /// may have been stored; the retry's item id makes that harmless).
    pub fn on_disconnected<R: CryptoRng + ?Sized>(&mut self, now: UnixTime, rng: &mut R) {
        let policy = self.policy;
        for entry in self.entries.values_mut() {
            if let Status::Queued(Queued::InFlight { attempts, .. }) = entry.status {
                entry.status = retry(&policy, entry.created, attempts, now, rng);
                finish(entry);
            }
        }
    }

    /// A receipt for `message_id` arrived: its sends are delivered, whatever their state (a
    /// receipt is proof, even after a send was given up). Returns the first send it
    /// delivered.
    pub fn on_receipt(&mut self, message_id: &MessageId, _now: UnixTime) -> Option<SendId> {
        let mut first = None;
        for (id, entry) in &mut self.entries {
            if &entry.message_id == message_id && entry.status != Status::Delivered {
                entry.status = Status::Delivered;
                finish(entry);
                first = first.or(Some(*id));
            }
        }
        first
    }

    /// Moves every send whose timer is due at `now`: attempts past their deadline are
    /// retried, waiting sends past the give-up deadline fail as unreachable, stored sends
    /// past their expiry fail as expired.
    pub fn handle_timeout<R: CryptoRng + ?Sized>(&mut self, now: UnixTime, rng: &mut R) {
        let policy = self.policy;
        for entry in self.entries.values_mut() {
            let give_up = entry.created.saturating_add(policy.give_up_after);
            match entry.status {
                Status::Queued(Queued::InFlight { attempts, deadline }) if deadline <= now => {
                    entry.status = retry(&policy, entry.created, attempts, now, rng);
                }
                Status::Queued(Queued::Waiting { .. }) if give_up <= now => {
                    entry.status = Status::Failed(FailReason::Unreachable);
                }
                Status::Queued(Queued::Stored { expires }) if expires <= now => {
                    entry.status = Status::Failed(FailReason::Expired);
                }
                _ => {}
            }
            finish(entry);
        }
    }

    /// The earliest time at which [`Outbox::handle_timeout`] or [`Outbox::poll_transmit`]
    /// has something to do; `None` only if no send is queued (**[DLV-02]**).
    pub fn poll_timeout(&self) -> Option<UnixTime> {
        self.entries
            .values()
            .filter_map(|e| self.next_step(e))
            .min()
    }

    /// When a queued send moves next.
    fn next_step(&self, entry: &Entry) -> Option<UnixTime> {
        match entry.status {
            Status::Queued(Queued::Waiting { next_attempt, .. }) => {
                Some(next_attempt.min(entry.created.saturating_add(self.policy.give_up_after)))
            }
            Status::Queued(Queued::InFlight { deadline, .. }) => Some(deadline),
            Status::Queued(Queued::Stored { expires }) => Some(expires),
            Status::Delivered | Status::Failed(_) => None,
        }
    }

    /// A send's status.
    pub fn status(&self, send: SendId) -> Option<Status> {
        self.entries.get(&send).map(|e| e.status)
    }

    /// Every send with its message id, destination mailbox and status, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = (SendId, &MessageId, &[u8; 32], Status)> {
        self.entries
            .iter()
            .map(|(id, e)| (*id, &e.message_id, &e.mailbox, e.status))
    }

    /// How many sends the outbox holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets a finished send; returns whether it did (a queued send is never forgotten).
    pub fn forget(&mut self, send: SendId) -> bool {
        if self
            .entries
            .get(&send)
            .is_some_and(|e| !e.status.is_pending())
        {
            self.entries.remove(&send).is_some()
        } else {
            false
        }
    }
}

/// The status after a failed attempt: waiting for a jittered backoff, or unreachable if the
/// next attempt would come after the give-up deadline.
fn retry<R: CryptoRng + ?Sized>(
    policy: &RetryPolicy,
    created: UnixTime,
    attempts: u32,
    now: UnixTime,
    rng: &mut R,
) -> Status {
    let backoff = policy.backoff(attempts);
    // Equal jitter: half fixed, half uniform, so retries of many clients spread out.
    let half = backoff / 2;
    let jitter = rng.next_u64() % backoff.saturating_sub(half).saturating_add(1);
    let next = now.saturating_add(half.saturating_add(jitter).max(1));
    if next >= created.saturating_add(policy.give_up_after) {
        Status::Failed(FailReason::Unreachable)
    } else {
        Status::Queued(Queued::Waiting {
            attempts,
            next_attempt: next,
        })
    }
}

/// Drops the envelope of a finished send.
fn finish(entry: &mut Entry) {
    if !entry.status.is_pending() {
        entry.envelope = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratchet::tests::TestRng;

    const T0: UnixTime = UnixTime(1_800_000_000);

    fn outbox_with_one() -> (Outbox, SendId, TestRng) {
        let mut rng = TestRng(1);
        let mut outbox = Outbox::new(RetryPolicy::DEFAULT);
        let send = outbox.push([1; 16], [2; 32], vec![7; 600], 3600, T0, &mut rng);
        (outbox, send, rng)
    }

    #[test]
    fn retries_reuse_the_item_id_and_back_off_with_jitter() {
        let (mut outbox, send, mut rng) = outbox_with_one();
        let first = outbox.poll_transmit(T0).unwrap();
        assert!(
            outbox.poll_transmit(T0).is_none(),
            "in flight: nothing more is due"
        );
        outbox.on_rejected(send, ErrorClass::RelayUnavailable, T0, &mut rng);
        let Some(Status::Queued(Queued::Waiting {
            attempts: 1,
            next_attempt,
        })) = outbox.status(send)
        else {
            panic!("not waiting: {:?}", outbox.status(send));
        };
        // Backoff after one attempt is 2 s; equal jitter puts the retry in [1, 2] s.
        assert!(next_attempt >= T0.saturating_add(1) && next_attempt <= T0.saturating_add(2));
        assert_eq!(outbox.poll_timeout(), Some(next_attempt));
        assert!(outbox.poll_transmit(T0).is_none());
        let second = outbox.poll_transmit(next_attempt).unwrap();
        assert_eq!(second.item, first.item);
        assert_eq!(second.envelope, first.envelope);
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let p = RetryPolicy::DEFAULT;
        assert_eq!(
            (1..=10).map(|a| p.backoff(a)).collect::<Vec<_>>(),
            [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
        );
        assert_eq!(p.backoff(u32::MAX), 300);
    }

    #[test]
    fn a_send_without_receipt_is_delivered_when_stored() {
        let mut rng = TestRng(3);
        let mut outbox = Outbox::new(RetryPolicy::DEFAULT);
        let send = outbox.push_without_receipt([1; 16], [2; 32], vec![7; 600], 60, T0, &mut rng);
        outbox.poll_transmit(T0).unwrap();
        outbox.on_stored(send, T0);
        assert_eq!(outbox.status(send), Some(Status::Delivered));
        assert_eq!(outbox.poll_timeout(), None);
        let restored = Outbox::restore(&outbox.snapshot()).unwrap();
        assert!(restored == outbox);
    }

    #[test]
    fn permanent_refusals_fail_with_their_reason() {
        for (class, reason) in [
            (ErrorClass::RelayTooLarge, FailReason::TooLarge),
            (
                ErrorClass::RelayTtl,
                FailReason::Rejected(ErrorClass::RelayTtl),
            ),
            (
                ErrorClass::RelayConflict,
                FailReason::Rejected(ErrorClass::RelayConflict),
            ),
        ] {
            let (mut outbox, send, mut rng) = outbox_with_one();
            outbox.poll_transmit(T0).unwrap();
            outbox.on_rejected(send, class, T0, &mut rng);
            assert_eq!(outbox.status(send), Some(Status::Failed(reason)));
            assert_eq!(outbox.poll_timeout(), None);
        }
    }

    #[test]
    fn stored_sends_expire_without_a_receipt_and_receipts_win() {
        let (mut outbox, send, mut rng) = outbox_with_one();
        outbox.poll_transmit(T0).unwrap();
        outbox.on_stored(send, T0);
        let expires = T0.saturating_add(3600);
        assert_eq!(outbox.poll_timeout(), Some(expires));
        outbox.handle_timeout(expires, &mut rng);
        assert_eq!(
            outbox.status(send),
            Some(Status::Failed(FailReason::Expired))
        );
        // A late receipt is proof of delivery.
        assert_eq!(outbox.on_receipt(&[1; 16], expires), Some(send));
        assert_eq!(outbox.status(send), Some(Status::Delivered));
    }

    #[test]
    fn an_unacknowledged_attempt_times_out_and_is_retried() {
        let (mut outbox, send, mut rng) = outbox_with_one();
        outbox.poll_transmit(T0).unwrap();
        let deadline = T0.saturating_add(RetryPolicy::DEFAULT.ack_timeout);
        assert_eq!(outbox.poll_timeout(), Some(deadline));
        outbox.handle_timeout(deadline, &mut rng);
        assert!(matches!(
            outbox.status(send),
            Some(Status::Queued(Queued::Waiting { attempts: 1, .. }))
        ));
    }

    #[test]
    fn oversized_and_overflowing_sends_fail_at_once() {
        let mut rng = TestRng(2);
        let mut outbox = Outbox::new(RetryPolicy::DEFAULT);
        let big = outbox.push(
            [1; 16],
            [2; 32],
            vec![0; MAX_ENVELOPE + 1],
            60,
            T0,
            &mut rng,
        );
        assert_eq!(
            outbox.status(big),
            Some(Status::Failed(FailReason::TooLarge))
        );
        assert!(outbox.forget(big));
        for i in 0..MAX_OUTBOX {
            outbox.push([i as u8; 16], [2; 32], vec![0; 1], 60, T0, &mut rng);
        }
        let over = outbox.push([0; 16], [2; 32], vec![0; 1], 60, T0, &mut rng);
        assert_eq!(
            outbox.status(over),
            Some(Status::Failed(FailReason::OutboxFull))
        );
        assert_eq!(outbox.len(), MAX_OUTBOX + 1);
    }

    #[test]
    fn snapshots_round_trip_and_in_flight_becomes_due() {
        let (mut outbox, send, mut rng) = outbox_with_one();
        let other = outbox.push([3; 16], [4; 32], vec![1; 700], 60, T0, &mut rng);
        outbox.poll_transmit(T0).unwrap();
        outbox.on_stored(send, T0);
        outbox.poll_transmit(T0).unwrap();
        let restored = Outbox::restore(&outbox.snapshot()).unwrap();
        assert_eq!(restored.status(send), outbox.status(send));
        assert_eq!(
            restored.status(other),
            Some(Status::Queued(Queued::Waiting {
                attempts: 1,
                next_attempt: UnixTime(0)
            }))
        );
        let again = Outbox::restore(&restored.snapshot()).unwrap();
        assert!(again == restored);
    }

    #[test]
    fn inconsistent_snapshots_are_refused() {
        let (mut outbox, send, mut rng) = outbox_with_one();
        outbox.poll_transmit(T0).unwrap();
        outbox.on_rejected(send, ErrorClass::RelayTtl, T0, &mut rng);
        // A finished send that still carries an envelope.
        let mut forged = outbox.clone();
        if let Some(e) = forged.entries.get_mut(&send) {
            e.envelope = vec![1];
        }
        assert_eq!(
            Outbox::restore(&forged.snapshot()).unwrap_err().class(),
            ErrorClass::SchemaRange
        );
        // An id at or above the next id.
        let mut forged = outbox.clone();
        forged.next = 1;
        assert_eq!(
            Outbox::restore(&forged.snapshot()).unwrap_err().class(),
            ErrorClass::SchemaRange
        );
    }
}
