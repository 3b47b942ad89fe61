//! Two parties under random interleavings, losses, duplicates and reorders (within the
//! limits): every message the receiver gets opens exactly once, with its plaintext, in any
//! order; every other delivery is refused and leaves the state unchanged.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use quietwire::ErrorClass;
use quietwire::keys::X25519Secret;
use quietwire::ratchet::Ratchet;

mod common;
use common::TestRng;

#[derive(Clone, Debug)]
enum Action {
    /// Side 0 (initiator) or 1 (responder) sends a new message.
    Send(usize),
    /// Deliver the in-flight message at this index (modulo the count), keeping a copy
    /// in flight when `duplicate` is set.
    Deliver { index: usize, duplicate: bool },
    /// Lose the in-flight message at this index.
    Drop(usize),
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (0usize..2).prop_map(Action::Send),
        4 => (any::<usize>(), any::<bool>()).prop_map(|(index, duplicate)| Action::Deliver { index, duplicate }),
        1 => any::<usize>().prop_map(Action::Drop),
    ]
}

struct Message {
    to: usize,
    id: usize,
    wire: Vec<u8>,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_message_opens_exactly_once(actions in proptest::collection::vec(action(), 1..120), seed in any::<u64>()) {
        let mut rng = TestRng(seed);
        let responder_key = X25519Secret::from_bytes(&[7; 32]);
        let mut sides = [
            Ratchet::initiator(&[1; 32], *responder_key.public(), &[2; 32]),
            Ratchet::responder(&[1; 32], responder_key, &[2; 32]),
        ];
        let mut in_flight: Vec<Message> = Vec::new();
        let mut opened: Vec<bool> = Vec::new();
        let mut plaintexts: Vec<Vec<u8>> = Vec::new();
        for action in actions {
            match action {
                Action::Send(from) => {
                    if !sides[from].can_send() {
                        continue;
                    }
                    let id = plaintexts.len();
                    let plaintext = format!("message {id} from {from}").into_bytes();
                    let wire = sides[from].encrypt(&plaintext, &mut rng).unwrap();
                    plaintexts.push(plaintext);
                    opened.push(false);
                    in_flight.push(Message { to: 1 - from, id, wire });
                }
                Action::Deliver { index, duplicate } => {
                    if in_flight.is_empty() {
                        continue;
                    }
                    let index = index % in_flight.len();
                    let message = if duplicate {
                        let m = &in_flight[index];
                        Message { to: m.to, id: m.id, wire: m.wire.clone() }
                    } else {
                        in_flight.remove(index)
                    };
                    let receiver = &mut sides[message.to];
                    let before = receiver.snapshot();
                    match receiver.decrypt(&message.wire) {
                        Ok(plaintext) => {
                            prop_assert!(!opened[message.id], "message {} opened twice", message.id);
                            prop_assert_eq!(&plaintext, &plaintexts[message.id]);
                            opened[message.id] = true;
                        }
                        Err(e) => {
                            prop_assert!(opened[message.id], "first delivery of {} failed: {e:?}", message.id);
                            prop_assert!(
                                matches!(e.class(), ErrorClass::RatchetReplay | ErrorClass::RatchetHeader),
                                "unexpected class {:?}", e.class()
                            );
                            prop_assert_eq!(receiver.snapshot(), before, "a failed decryption changed state");
                        }
                    }
                }
                Action::Drop(index) => {
                    if !in_flight.is_empty() {
                        let index = index % in_flight.len();
                        in_flight.remove(index);
                    }
                }
            }
        }
        // Everything still in flight opens now, each exactly once.
        for message in in_flight {
            let result = sides[message.to].decrypt(&message.wire);
            if opened[message.id] {
                prop_assert!(result.is_err());
            } else {
                prop_assert_eq!(result.unwrap(), plaintexts[message.id].clone());
                opened[message.id] = true;
            }
        }
    }
}
