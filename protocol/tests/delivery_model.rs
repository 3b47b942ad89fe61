//! The delivery invariant (`spec/09-delivery.md`, **[DLV-01]**), checked on a model of the
//! whole path: a sender's [`Outbox`], the real relay core ([`Connection`] over a
//! [`MemoryStore`]), and a receiver that fetches, deduplicates with an [`Inbox`], and sends
//! receipts back through its own outbox.
//!
//! Proptest explores random histories of sends, relay crashes and restarts, lost replies,
//! client restarts from their durable snapshots, fetches without deletes (so items are
//! delivered twice), and jumps in time. After every step:
//!
//! - every send is in exactly one of the three outcomes, and a queued send always has a
//!   timer ([`Outbox::poll_timeout`]);
//! - the application never receives a message twice, and a send is delivered only if the
//!   application received it;
//! - nothing the relay acknowledged is lost: it is in the store, was received, or its
//!   expiry passed.
//!
//! Then the network heals and time runs on; every send must end delivered or failed with
//! a reason, and every acknowledged, unexpired send delivered.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use quietwire::UnixTime;
use quietwire::delivery::{FailReason, Inbox, Outbox, Queued, RetryPolicy, SendId, Status};
use quietwire::event::MessageId;
use quietwire::mailbox::{MailboxKey, Operation};
use quietwire::relay::{
    Connection, Limits, MemoryStore, Now, Reply, Request, RequestFrame, ServerFrame,
};

mod common;
use common::TestRng;

const POLICY: RetryPolicy = RetryPolicy {
    initial_backoff: 2,
    max_backoff: 300,
    ack_timeout: 30,
    give_up_after: 2 * 24 * 3600,
};
const TTL: u32 = 24 * 3600;
const TEXT: u8 = 1;
const RECEIPT: u8 = 2;

/// The relay's origin, which the client dials and every proof names.
fn origin() -> quietwire::mailbox::RelayOrigin {
    quietwire::mailbox::RelayOrigin::parse("wss://relay.example").unwrap()
}

/// An envelope of the model: a tag and a message id, padded (the relay is blind to it).
fn envelope(tag: u8, id: &MessageId) -> Vec<u8> {
    let mut e = vec![tag];
    e.extend_from_slice(id);
    e.resize(512, 0);
    e
}

fn parse(envelope: &[u8]) -> (u8, MessageId) {
    (envelope[0], envelope[1..17].try_into().unwrap())
}

#[derive(Clone, Debug)]
enum Action {
    Send,
    /// The sender transmits what is due; the relay's reply may be lost.
    SenderPump {
        lose_reply: bool,
    },
    /// The receiver fetches; it may skip the delete (so it sees the items again) or lose the
    /// delete's reply.
    ReceiverSync {
        delete: bool,
    },
    /// The receiver transmits its due receipts.
    ReceiverPump {
        lose_reply: bool,
    },
    /// The sender fetches receipts.
    SenderFetch,
    /// The relay process dies: connections drop, the durable store survives.
    RelayCrash,
    RelayRestart,
    /// A client restarts from its last durable snapshot.
    SenderRestart,
    ReceiverRestart,
    Advance(u64),
    Timers,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => Just(Action::Send),
        4 => any::<bool>().prop_map(|lose_reply| Action::SenderPump { lose_reply }),
        3 => any::<bool>().prop_map(|delete| Action::ReceiverSync { delete }),
        3 => any::<bool>().prop_map(|lose_reply| Action::ReceiverPump { lose_reply }),
        2 => Just(Action::SenderFetch),
        1 => Just(Action::RelayCrash),
        2 => Just(Action::RelayRestart),
        1 => Just(Action::SenderRestart),
        1 => Just(Action::ReceiverRestart),
        2 => prop_oneof![0..120u64, 0..4000u64, 0..200_000u64].prop_map(Action::Advance),
        2 => Just(Action::Timers),
    ]
}

/// One side's relay connection.
struct Link {
    conn: Connection,
    challenge: [u8; 32],
}

struct World {
    rng: TestRng,
    now: UnixTime,
    millis: u64,
    store: MemoryStore,
    relay_up: bool,
    next_request: u32,
    // Sender.
    outbox: Outbox,
    outbox_disk: Vec<u8>,
    sender_link: Option<Link>,
    sender_mailbox: MailboxKey,
    sent: BTreeMap<SendId, MessageId>,
    /// Sends whose put the relay acknowledged (seen by the sender).
    acked: BTreeMap<SendId, UnixTime>,
    // Receiver.
    receipts: Outbox,
    receipts_disk: Vec<u8>,
    inbox: Inbox,
    inbox_disk: Vec<u8>,
    receiver_link: Option<Link>,
    receiver_mailbox: MailboxKey,
    app: Vec<MessageId>,
}

impl World {
    fn new(seed: u64) -> World {
        let outbox = Outbox::new(POLICY);
        let receipts = Outbox::new(POLICY);
        World {
            rng: TestRng(seed),
            now: UnixTime(1_800_000_000),
            millis: 0,
            store: MemoryStore::new(),
            relay_up: true,
            next_request: 1,
            outbox_disk: outbox.snapshot().to_vec(),
            outbox,
            sender_link: None,
            sender_mailbox: MailboxKey::from_seed(&[1; 32]),
            sent: BTreeMap::new(),
            acked: BTreeMap::new(),
            receipts_disk: receipts.snapshot().to_vec(),
            receipts,
            inbox: Inbox::new(),
            inbox_disk: Inbox::new().snapshot(),
            receiver_link: None,
            receiver_mailbox: MailboxKey::from_seed(&[2; 32]),
            app: Vec::new(),
        }
    }

    fn clock(&self) -> Now {
        Now {
            unix: self.now,
            millis: self.millis,
        }
    }

    /// One request over a link (connecting if needed); `None` if the relay is down.
    fn request(&mut self, sender: bool, request: Request) -> Option<ServerFrame> {
        self.request_noop(sender)?;
        let link = if sender {
            self.sender_link.as_mut()?
        } else {
            self.receiver_link.as_mut()?
        };
        let id = self.next_request;
        self.next_request += 1;
        // Keep well inside the rate limit: the model is about delivery, not rate.
        self.millis += 1000;
        let frame = RequestFrame { id, request }.encode();
        let handled = link.conn.handle(
            &frame,
            &self.store,
            Now {
                unix: self.now,
                millis: self.millis,
            },
        );
        let reply =
            ServerFrame::decode(&handled.reply, u64::from(Limits::DEFAULT.max_frame)).unwrap();
        match &reply {
            ServerFrame::Ok { id: got, .. } | ServerFrame::Error { id: got, .. } => {
                assert_eq!(*got, id)
            }
            other => panic!("unexpected {other:?}"),
        }
        Some(reply)
    }

    fn challenge(&self, sender: bool) -> Option<[u8; 32]> {
        if sender {
            self.sender_link.as_ref().map(|l| l.challenge)
        } else {
            self.receiver_link.as_ref().map(|l| l.challenge)
        }
    }

    /// Transmits every due put of one side's outbox.
    fn pump(&mut self, sender: bool, lose_reply: bool) {
        loop {
            let now = self.now;
            let outbox = if sender {
                &mut self.outbox
            } else {
                &mut self.receipts
            };
            let Some(t) = outbox.poll_transmit(now) else {
                break;
            };
            let reply = self.request(
                sender,
                Request::Put {
                    mailbox: t.mailbox,
                    item: t.item,
                    envelope: t.envelope,
                    ttl: t.ttl,
                },
            );
            let outbox = if sender {
                &mut self.outbox
            } else {
                &mut self.receipts
            };
            match reply {
                None => outbox.on_disconnected(now, &mut self.rng),
                Some(_) if lose_reply => break, // stays in flight until its deadline
                Some(ServerFrame::Ok {
                    reply: Reply::Stored,
                    ..
                }) => {
                    outbox.on_stored(t.send, now);
                    if sender {
                        self.acked
                            .insert(t.send, now.saturating_add(u64::from(TTL)));
                    }
                }
                Some(ServerFrame::Error { class, .. }) => {
                    let class = quietwire::ErrorClass::from_name(&class).unwrap();
                    outbox.on_rejected(t.send, class, now, &mut self.rng)
                }
                Some(other) => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Fetches one page of one side's mailbox: the items' ids and envelopes.
    fn fetch(&mut self, sender: bool) -> Option<Vec<([u8; 16], Vec<u8>)>> {
        // Connect first so the proof is for this connection's challenge.
        self.request_noop(sender)?;
        let challenge = self.challenge(sender)?;
        let key = if sender {
            &self.sender_mailbox
        } else {
            &self.receiver_mailbox
        };
        let request = Request::Fetch {
            mailbox: *key.id(),
            proof: key.prove(&origin(), &challenge, Operation::Fetch),
            max: None,
        };
        match self.request(sender, request)? {
            ServerFrame::Ok {
                reply: Reply::Items { items, .. },
                ..
            } => Some(items.into_iter().map(|i| (i.id, i.envelope)).collect()),
            other => panic!("fetch failed: {other:?}"),
        }
    }

    fn request_noop(&mut self, sender: bool) -> Option<()> {
        let link = if sender {
            &mut self.sender_link
        } else {
            &mut self.receiver_link
        };
        if link.is_none() {
            let new = if self.relay_up {
                let mut challenge = [0u8; 32];
                self.rng.fill_bytes(&mut challenge);
                Some(Link {
                    conn: Connection::new(Limits::DEFAULT, vec![origin()], challenge, self.clock()),
                    challenge,
                })
            } else {
                None
            };
            if sender {
                self.sender_link = new;
            } else {
                self.receiver_link = new;
            }
        }
        self.challenge(sender).map(|_| ())
    }

    fn delete(&mut self, sender: bool, ids: Vec<[u8; 16]>) {
        for chunk in ids.chunks(Limits::DEFAULT.max_delete as usize) {
            let Some(challenge) = self.challenge(sender) else {
                return;
            };
            let key = if sender {
                &self.sender_mailbox
            } else {
                &self.receiver_mailbox
            };
            let request = Request::Delete {
                mailbox: *key.id(),
                proof: key.prove(&origin(), &challenge, Operation::Delete),
                items: chunk.to_vec(),
            };
            match self.request(sender, request) {
                Some(ServerFrame::Ok { .. }) | None => {}
                Some(other) => panic!("delete failed: {other:?}"),
            }
        }
    }

    fn step(&mut self, action: &Action) {
        let now = self.now;
        match action {
            Action::Send => {
                let mut id = [0u8; 16];
                self.rng.fill_bytes(&mut id);
                let send = self.outbox.push(
                    id,
                    *self.receiver_mailbox.id(),
                    envelope(TEXT, &id),
                    TTL,
                    now,
                    &mut self.rng,
                );
                self.sent.insert(send, id);
            }
            Action::SenderPump { lose_reply } => self.pump(true, *lose_reply),
            Action::ReceiverPump { lose_reply } => self.pump(false, *lose_reply),
            Action::ReceiverSync { delete } => {
                if let Some(items) = self.fetch(false) {
                    let mut processed = Vec::new();
                    for (item, env) in items {
                        let (tag, id) = parse(&env);
                        assert_eq!(tag, TEXT);
                        if self.inbox.first_delivery(&id, now) {
                            self.app.push(id);
                            let mut receipt_id = [0u8; 16];
                            self.rng.fill_bytes(&mut receipt_id);
                            self.receipts.push_without_receipt(
                                receipt_id,
                                *self.sender_mailbox.id(),
                                envelope(RECEIPT, &id),
                                TTL,
                                now,
                                &mut self.rng,
                            );
                        }
                        processed.push(item);
                    }
                    // Durable first, then delete (a crash in between means a duplicate
                    // fetch, never a loss).
                    self.persist();
                    if *delete {
                        self.delete(false, processed);
                    }
                }
            }
            Action::SenderFetch => {
                if let Some(items) = self.fetch(true) {
                    let mut processed = Vec::new();
                    for (item, env) in items {
                        let (tag, of) = parse(&env);
                        assert_eq!(tag, RECEIPT);
                        self.outbox.on_receipt(&of, now);
                        processed.push(item);
                    }
                    self.persist();
                    self.delete(true, processed);
                }
            }
            Action::RelayCrash => {
                self.relay_up = false;
                if self.sender_link.take().is_some() {
                    self.outbox.on_disconnected(now, &mut self.rng);
                }
                if self.receiver_link.take().is_some() {
                    self.receipts.on_disconnected(now, &mut self.rng);
                }
            }
            Action::RelayRestart => self.relay_up = true,
            Action::SenderRestart => {
                self.outbox = Outbox::restore(&self.outbox_disk).unwrap();
                self.sender_link = None;
            }
            Action::ReceiverRestart => {
                self.receipts = Outbox::restore(&self.receipts_disk).unwrap();
                self.inbox = Inbox::restore(&self.inbox_disk).unwrap();
                self.receiver_link = None;
            }
            Action::Advance(secs) => {
                self.now = self.now.saturating_add(*secs);
                self.millis += secs * 1000;
            }
            Action::Timers => {
                self.outbox.handle_timeout(now, &mut self.rng);
                self.receipts.handle_timeout(now, &mut self.rng);
            }
        }
        self.persist();
    }

    fn persist(&mut self) {
        self.outbox_disk = self.outbox.snapshot().to_vec();
        self.receipts_disk = self.receipts.snapshot().to_vec();
        self.inbox_disk = self.inbox.snapshot();
    }

    fn check(&self) {
        // Exactly-once to the application.
        let unique: BTreeSet<_> = self.app.iter().collect();
        assert_eq!(
            unique.len(),
            self.app.len(),
            "a message reached the app twice"
        );
        let sent: BTreeSet<_> = self.sent.values().collect();
        assert!(
            unique.is_subset(&sent),
            "the app received a message never sent"
        );
        for outbox in [&self.outbox, &self.receipts] {
            let queued = outbox.iter().filter(|(_, _, _, s)| s.is_pending()).count();
            assert_eq!(
                outbox.poll_timeout().is_some(),
                queued > 0,
                "a queued send without a timer is stranded"
            );
        }
        for (send, id) in &self.sent {
            let status = self.outbox.status(*send).expect("a send vanished");
            if status == Status::Delivered {
                assert!(self.app.contains(id), "delivered but never received");
            }
            // Nothing acknowledged is lost: stored at the relay, received, or expired.
            if let Some(expires) = self.acked.get(send) {
                let stored = self
                    .store
                    .items(self.receiver_mailbox.id())
                    .iter()
                    .any(|i| parse(&i.envelope).1 == *id && i.expires > self.now.as_secs());
                assert!(
                    stored || self.app.contains(id) || *expires <= self.now,
                    "an acknowledged send was lost"
                );
            }
        }
    }

    /// Heals the network and runs the clock until nothing is queued.
    fn settle(&mut self) {
        self.relay_up = true;
        for _ in 0..10_000 {
            for action in [
                Action::Timers,
                Action::SenderPump { lose_reply: false },
                Action::ReceiverSync { delete: true },
                Action::ReceiverPump { lose_reply: false },
                Action::SenderFetch,
            ] {
                self.step(&action);
                self.check();
            }
            let next = [self.outbox.poll_timeout(), self.receipts.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                None => return,
                Some(t) => {
                    let secs = t.as_secs().saturating_sub(self.now.as_secs()).max(1);
                    self.step(&Action::Advance(secs));
                }
            }
        }
        panic!("the outboxes never settled");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_send_ends_delivered_queued_or_failed(
        seed in any::<u64>(),
        actions in proptest::collection::vec(action(), 1..80),
    ) {
        let mut world = World::new(seed);
        for action in &actions {
            world.step(action);
            world.check();
        }
        world.settle();
        for (send, id) in &world.sent {
            let status = world.outbox.status(*send).unwrap();
            match status {
                Status::Delivered => prop_assert!(world.app.contains(id)),
                Status::Failed(FailReason::Expired | FailReason::Unreachable) => {}
                Status::Failed(other) => prop_assert!(false, "unexpected failure {other}"),
                Status::Queued(q) => prop_assert!(false, "still queued after settling: {q:?}"),
            }
            // A send the relay acknowledged and that did not expire was delivered.
            if let Some(expires) = world.acked.get(send)
                && status != Status::Delivered
            {
                prop_assert!(*expires <= world.now, "acknowledged, unexpired, not delivered");
            }
        }
    }
}

/// Without faults every send is delivered, with one put per send and no duplicates.
#[test]
fn a_healthy_path_delivers_everything_once() {
    let mut world = World::new(7);
    for _ in 0..20 {
        world.step(&Action::Send);
    }
    world.settle();
    assert_eq!(world.app.len(), 20);
    for send in world.sent.keys() {
        assert_eq!(world.outbox.status(*send), Some(Status::Delivered));
    }
    assert!(world.store.is_empty());
}

/// A relay that is down until past the give-up deadline makes every send fail as
/// unreachable, explicitly, rather than stay queued forever.
#[test]
fn an_unreachable_relay_ends_in_explicit_failure() {
    let mut world = World::new(9);
    world.step(&Action::RelayCrash);
    for _ in 0..5 {
        world.step(&Action::Send);
    }
    for _ in 0..100_000 {
        world.step(&Action::SenderPump { lose_reply: false });
        world.step(&Action::Timers);
        world.check();
        match world.outbox.poll_timeout() {
            None => break,
            Some(t) => {
                let secs = t.as_secs().saturating_sub(world.now.as_secs()).max(1);
                world.step(&Action::Advance(secs));
            }
        }
    }
    for send in world.sent.keys() {
        assert_eq!(
            world.outbox.status(*send),
            Some(Status::Failed(FailReason::Unreachable))
        );
    }
    assert!(world.app.is_empty());
}

/// A lost acknowledgement makes the sender retry; the retry reuses the item id, so the
/// relay stores the envelope once and the receiver sees it once.
#[test]
fn a_lost_ack_is_retried_without_a_duplicate() {
    let mut world = World::new(11);
    world.step(&Action::Send);
    world.step(&Action::SenderPump { lose_reply: true });
    let send = *world.sent.keys().next().unwrap();
    assert!(matches!(
        world.outbox.status(send),
        Some(Status::Queued(Queued::InFlight { .. }))
    ));
    world.step(&Action::Advance(31));
    world.step(&Action::Timers);
    world.step(&Action::Advance(400));
    world.step(&Action::SenderPump { lose_reply: false });
    assert_eq!(world.store.items(world.receiver_mailbox.id()).len(), 1);
    world.settle();
    assert_eq!(world.app.len(), 1);
    assert_eq!(world.outbox.status(send), Some(Status::Delivered));
}
