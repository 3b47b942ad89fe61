//! The `reconnect` family (spec/05-handshake.md §5.8): the restored device's message byte for
//! byte, and the contact's opening with every refusal of `HSK-08`.

use quietwire_test_vectors::families::reconnect::ReconnectGroup;

use super::{Recorder, got, hex_differs};
use crate::implementation::{Implementation, ReconnectOpen, ReconnectSeal};

pub(super) fn run_reconnect(
    group: &ReconnectGroup,
    imp: &mut dyn Implementation,
    rec: &mut Recorder,
) {
    let want = |o: &Option<Vec<u8>>| o.clone().unwrap_or_default();
    match group {
        ReconnectGroup::Seal { tests, .. } => {
            for t in tests {
                let r = imp.reconnect_seal(&ReconnectSeal {
                    contact_record: &t.contact_record,
                    invite: &t.invite,
                    record: &t.record,
                    randomness: &t.randomness,
                });
                rec.record(
                    "reconnect-seal",
                    t,
                    got(r, |message| {
                        hex_differs("message", message, &want(&t.message))
                    }),
                );
            }
        }
        ReconnectGroup::Open { tests, .. } => {
            for t in tests {
                let r = imp.reconnect_open(&ReconnectOpen {
                    suite: t.suite,
                    identity_seed: &t.identity_seed,
                    kem_seed: &t.kem_seed,
                    ratchet_secret: &t.ratchet_secret,
                    message: &t.message,
                    expected_identity: &t.expected_identity,
                    held_generation: t.held_generation,
                    accepted_invites: &t.accepted_invites,
                    now: t.now,
                    allowed_suites: &t.allowed_suites,
                });
                rec.record(
                    "reconnect-open",
                    t,
                    got(r, |(invite, record)| {
                        hex_differs("invite", invite, &want(&t.invite))
                            .or_else(|| hex_differs("record", record, &want(&t.record)))
                    }),
                );
            }
        }
    }
}
