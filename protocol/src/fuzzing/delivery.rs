//! Invariant checks: Outbox and inbox snapshots (spec/09-delivery.md).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use super::check_class;
use super::ratchet::FuzzRng;
use crate::{ErrorClass, UnixTime};

/// Outbox and inbox snapshots (`spec/09-delivery.md`, **[DLV-07]**): an accepted snapshot
/// restores to a state whose snapshot restores to the same state, and a snapshot without
/// puts in flight re-encodes to exactly the input.
pub fn delivery_snapshot(data: &[u8]) -> bool {
    use crate::delivery::{Inbox, Outbox, Queued, Status};
    let (selector, data) = match data.split_first() {
        Some((s, rest)) => (*s, rest),
        None => return false,
    };
    if selector & 1 == 0 {
        match Outbox::restore(data) {
            Ok(outbox) => {
                let again = Outbox::restore(&outbox.snapshot()).expect("own snapshot refused");
                assert!(again == outbox, "snapshot -> restore is not stable");
                let in_flight = outbox.iter().any(|(_, _, _, s)| {
                    matches!(s, Status::Queued(Queued::Waiting { next_attempt, .. }) if next_attempt.as_secs() == 0)
                });
                if !in_flight {
                    assert_eq!(
                        &outbox.snapshot()[..],
                        data,
                        "restore -> snapshot changed bytes"
                    );
                }
                true
            }
            Err(e) => {
                check_class(&e);
                false
            }
        }
    } else {
        match Inbox::restore(data) {
            Ok(inbox) => {
                assert_eq!(inbox.snapshot(), data, "restore -> snapshot changed bytes");
                true
            }
            Err(e) => {
                check_class(&e);
                false
            }
        }
    }
}

/// The outbox state machine driven by fuzzer-chosen events (`spec/09-delivery.md`,
/// **[DLV-01]**–**[DLV-05]**). Invariants after every event: a timer exists exactly when
/// some send is queued, and is never in the past of a send's own step; a delivered send
/// stays delivered and was receipted; a failed send changes only to delivered; a put is
/// never in flight twice; restoring a snapshot keeps every finished status.
pub fn delivery_outbox(data: &[u8]) -> bool {
    use crate::delivery::{Outbox, Queued, RetryPolicy, SendId, Status};
    use std::collections::{BTreeMap, BTreeSet};

    const CLASSES: [ErrorClass; 6] = [
        ErrorClass::RelayRate,
        ErrorClass::RelayUnavailable,
        ErrorClass::RelayMailboxFull,
        ErrorClass::RelayTooLarge,
        ErrorClass::RelayTtl,
        ErrorClass::RelayConflict,
    ];
    let policy = RetryPolicy {
        initial_backoff: 2,
        max_backoff: 60,
        ack_timeout: 10,
        give_up_after: 3600,
    };
    let mut rng = FuzzRng(0);
    let mut outbox = Outbox::new(policy);
    let mut now = UnixTime(1_000_000);
    let mut sends: Vec<(SendId, [u8; 16])> = Vec::new();
    let mut receipted: BTreeSet<[u8; 16]> = BTreeSet::new();
    let mut in_flight: BTreeSet<SendId> = BTreeSet::new();
    let mut finished: BTreeMap<SendId, Status> = BTreeMap::new();
    let pick = |b: u8, sends: &Vec<(SendId, [u8; 16])>| {
        (!sends.is_empty()).then(|| sends[usize::from(b) % sends.len()])
    };
    for pair in data.chunks(2) {
        let (op, arg) = (pair[0], pair.get(1).copied().unwrap_or(0));
        match op % 9 {
            0 if sends.len() < 64 => {
                let id = [arg; 16];
                let len = if arg == 255 { 70_000 } else { 512 };
                let send = outbox.push(id, [1; 32], vec![arg; len], 600, now, &mut rng);
                sends.push((send, id));
            }
            1 => {
                if let Some(t) = outbox.poll_transmit(now) {
                    assert!(in_flight.insert(t.send), "a put was in flight twice");
                }
            }
            2 => {
                if let Some((send, _)) = pick(arg, &sends) {
                    outbox.on_stored(send, now);
                    in_flight.remove(&send);
                }
            }
            3 => {
                if let Some((send, _)) = pick(arg, &sends) {
                    let class = CLASSES[usize::from(arg) % CLASSES.len()];
                    outbox.on_rejected(send, class, now, &mut rng);
                    in_flight.remove(&send);
                }
            }
            4 => {
                outbox.on_disconnected(now, &mut rng);
                in_flight.clear();
            }
            5 => {
                if let Some((_, id)) = pick(arg, &sends) {
                    outbox.on_receipt(&id, now);
                    receipted.insert(id);
                }
            }
            6 => {
                outbox.handle_timeout(now, &mut rng);
                in_flight.retain(|s| {
                    matches!(
                        outbox.status(*s),
                        Some(Status::Queued(Queued::InFlight { .. }))
                    )
                });
            }
            7 => now = now.saturating_add(u64::from(arg) * u64::from(arg)),
            _ => {
                outbox = Outbox::restore(&outbox.snapshot()).expect("own snapshot refused");
                in_flight.clear();
            }
        }
        let mut queued = 0;
        for (send, id) in &sends {
            let status = outbox.status(*send).expect("a send vanished");
            match status {
                Status::Delivered => assert!(receipted.contains(id), "delivered without receipt"),
                Status::Failed(_) => {}
                Status::Queued(_) => queued += 1,
            }
            if let Some(before) = finished.get(send) {
                assert!(
                    status == *before || status == Status::Delivered,
                    "a finished send changed: {before:?} -> {status:?}"
                );
            }
            if !status.is_pending() {
                finished.insert(*send, status);
            }
        }
        assert_eq!(
            outbox.poll_timeout().is_some(),
            queued > 0,
            "stranded or phantom timer"
        );
    }
    !sends.is_empty()
}
