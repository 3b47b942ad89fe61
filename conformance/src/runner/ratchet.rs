//! Ratchet sessions and snapshots (spec/06-ratchet.md): scripted steps with a state digest
//! after each, a divergence explained field by field ([`super::diverge`]).

use quietwire_test_vectors::families::ratchet::{self, Side, Step};
use sha2::{Digest, Sha256};

use super::{Got, Recorder, Stop, diverge, expect_outcome, got, hex_differs, step_result};
use crate::implementation::{Handle, Implementation, Role};

pub(super) fn run_ratchet(
    group: &ratchet::RatchetGroup,
    imp: &mut dyn Implementation,
    rec: &mut Recorder,
) {
    use ratchet::RatchetGroup as G;
    match group {
        G::Session { tests, .. } => {
            for t in tests {
                rec.record("ratchet-session", t, run_session(t, imp));
            }
        }
        G::SnapshotLoad { tests, .. } => {
            for t in tests {
                let result = imp
                    .ratchet_restore(&t.snapshot)
                    .and_then(|handle| imp.ratchet_snapshot(handle));
                rec.record(
                    "ratchet-snapshot-load",
                    t,
                    got(result, |bytes| {
                        hex_differs("re-encoding", bytes, &t.snapshot)
                    }),
                );
            }
        }
    }
}

pub(super) fn run_session(t: &ratchet::SessionTest, imp: &mut dyn Implementation) -> Got {
    match session_steps(t, imp) {
        Ok(()) => match &t.error_class {
            Some(class) => Got::Rejected(class.clone()),
            None => Got::Accepted { mismatch: None },
        },
        Err(Stop::Mismatch(m)) => Got::Accepted { mismatch: Some(m) },
        Err(Stop::Unimplemented(f)) => Got::Unimplemented(f),
    }
}

fn session_steps(t: &ratchet::SessionTest, imp: &mut dyn Implementation) -> Result<(), Stop> {
    let init = |imp: &mut dyn Implementation, role| {
        imp.ratchet_init(
            role,
            &t.session_secret,
            &t.associated_data,
            &t.responder_ratchet_secret,
        )
    };
    let initiator = match &t.initiator_snapshot {
        Some(snapshot) => imp.ratchet_restore(snapshot),
        None => init(imp, Role::Initiator),
    };
    let handles: [Handle; 2] = [
        step_result(0, initiator)?
            .map_err(|c| Stop::Mismatch(format!("initiator setup: error {c}")))?,
        step_result(0, init(imp, Role::Responder))?
            .map_err(|c| Stop::Mismatch(format!("responder setup: error {c}")))?,
    ];
    let handle = |side: &Side| match side {
        Side::Initiator => handles[0],
        Side::Responder => handles[1],
    };
    let hex = |b: &Vec<u8>| hex::encode(b);
    for (index, step) in t.steps.iter().enumerate() {
        let name = format!("{index} ({})", diverge::step_name(step));
        let (side, digest) = match step {
            Step::Encrypt {
                side,
                plaintext,
                randomness,
                message,
                error_class,
                snapshot_digest,
            } => {
                let got = step_result(
                    index,
                    imp.ratchet_encrypt(handle(side), plaintext, randomness),
                )?;
                expect_outcome(&name, got, message.as_ref(), error_class.as_ref(), hex)?;
                (side, snapshot_digest)
            }
            Step::EncryptDiscard {
                side,
                count,
                randomness_seed,
                messages_digest,
                snapshot_digest,
            } => {
                let got = step_result(
                    index,
                    imp.ratchet_encrypt_stream(handle(side), *count, randomness_seed),
                )?
                .map(|all| Sha256::digest(all).to_vec());
                expect_outcome(&name, got, Some(messages_digest), None, hex)?;
                (side, snapshot_digest)
            }
            Step::Decrypt {
                side,
                message,
                plaintext,
                error_class,
                snapshot_digest,
            } => {
                let got = step_result(index, imp.ratchet_decrypt(handle(side), message))?;
                expect_outcome(&name, got, plaintext.as_ref(), error_class.as_ref(), hex)?;
                (side, snapshot_digest)
            }
            Step::DecryptEvent {
                side,
                message,
                event,
                error_class,
                snapshot_digest,
            } => {
                let got = step_result(index, imp.ratchet_decrypt_event(handle(side), message))?;
                expect_outcome(&name, got, event.as_ref(), error_class.as_ref(), hex)?;
                (side, snapshot_digest)
            }
        };
        let snapshot = step_result(index, imp.ratchet_snapshot(handle(side)))?
            .map_err(|c| Stop::Mismatch(format!("step {index}: snapshot failed: {c}")))?;
        let got = Sha256::digest(&snapshot).to_vec();
        if got != *digest {
            let fields = diverge::reference_snapshot(t, index)
                .filter(|s| Sha256::digest(s).to_vec() == *digest)
                .map_or_else(
                    || "the reference does not reach the vector's digest".to_owned(),
                    |want| diverge::snapshot_diff(&want, &snapshot),
                );
            return Err(Stop::Mismatch(format!(
                "step {index} ({}): snapshot digest {} instead of {}; {fields}",
                diverge::step_name(step),
                hex::encode(got),
                hex::encode(digest)
            )));
        }
    }
    Ok(())
}
