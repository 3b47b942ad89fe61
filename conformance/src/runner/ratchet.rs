//! Ratchet sessions (spec/06-ratchet.md): scripted steps with a state digest after each, a
//! divergence explained field by field ([`super::diverge`]); and the calls of the ratchet
//! operations that the scripts here, the divergence replay and the interop runs share.

use quietwire_test_vectors::families::ratchet::{SessionTest, Side, Step};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::check::Vector;
use super::{Got, Stop, diverge, expect_outcome, got_script, step_result};
use crate::implementation::{Handle, Implementation, OpResult, call_read};
use crate::shim::hex;

/// `ratchet-init` of one side (`initiator` or `responder`) of the session of `t`.
///
/// # Errors
/// The failure of the operation.
pub(crate) fn init(imp: &mut dyn Implementation, role: &str, t: &SessionTest) -> OpResult<Handle> {
    let mut args = serde_json::Map::new();
    args.insert("role".into(), json!(role));
    args.insert("sessionSecret".into(), json!(hex(&t.session_secret)));
    args.insert("associatedData".into(), json!(hex(&t.associated_data)));
    args.insert(
        "responderRatchetSecret".into(),
        json!(hex(&t.responder_ratchet_secret)),
    );
    // Sent only for a post-quantum session (RAT-11), so classic sessions keep their request.
    if t.post_quantum == Some(true) {
        args.insert("postQuantum".into(), json!(true));
    }
    let args = Value::Object(args);
    call_read(imp, "ratchet-init", args, |f| f.u64("handle"))
}

/// `ratchet-restore` of a snapshot.
///
/// # Errors
/// The failure of the operation.
pub(crate) fn restore(imp: &mut dyn Implementation, snapshot: &[u8]) -> OpResult<Handle> {
    let args = json!({"snapshot": hex(snapshot)});
    call_read(imp, "ratchet-restore", args, |f| f.u64("handle"))
}

/// `ratchet-snapshot` of a state.
///
/// # Errors
/// The failure of the operation.
pub(crate) fn snapshot(imp: &mut dyn Implementation, handle: Handle) -> OpResult<Vec<u8>> {
    call_read(imp, "ratchet-snapshot", json!({"handle": handle}), |f| {
        f.bytes("snapshot")
    })
}

/// A ratchet operation on a state: its op, its arguments and the value field holding its
/// output (the message, the concatenated messages, the plaintext or the event).
#[derive(Clone, Debug)]
pub(crate) struct Act {
    pub(crate) op: &'static str,
    pub(crate) args: Value,
    pub(crate) output: &'static str,
}

impl Act {
    /// `ratchet-encrypt` with exactly `randomness`.
    pub(crate) fn encrypt(handle: Handle, plaintext: &[u8], randomness: &[u8]) -> Act {
        Act {
            op: "ratchet-encrypt",
            args: json!({"handle": handle, "plaintext": hex(plaintext), "randomness": hex(randomness)}),
            output: "message",
        }
    }

    /// `ratchet-encrypt-stream` of `count` empty messages.
    pub(crate) fn stream(handle: Handle, count: u32, seed: &[u8]) -> Act {
        Act {
            op: "ratchet-encrypt-stream",
            args: json!({"handle": handle, "count": count, "randomnessSeed": hex(seed)}),
            output: "messages",
        }
    }

    /// `ratchet-decrypt`, or `ratchet-decrypt-event` if `event`.
    pub(crate) fn decrypt(handle: Handle, message: &[u8], event: bool) -> Act {
        Act {
            op: if event {
                "ratchet-decrypt-event"
            } else {
                "ratchet-decrypt"
            },
            args: json!({"handle": handle, "message": hex(message)}),
            output: if event { "event" } else { "plaintext" },
        }
    }

    /// The operation of a vector's step.
    pub(crate) fn of_step(step: &Step, handle: Handle) -> Act {
        match step {
            Step::Encrypt {
                plaintext,
                randomness,
                ..
            } => Act::encrypt(handle, plaintext, randomness),
            Step::EncryptDiscard {
                count,
                randomness_seed,
                ..
            } => Act::stream(handle, *count, randomness_seed),
            Step::Decrypt { message, .. } => Act::decrypt(handle, message, false),
            Step::DecryptEvent { message, .. } => Act::decrypt(handle, message, true),
        }
    }

    /// Calls the operation; returns its output.
    ///
    /// # Errors
    /// The failure of the operation.
    pub(crate) fn call(self, imp: &mut dyn Implementation) -> OpResult<Vec<u8>> {
        let output = self.output;
        call_read(imp, self.op, self.args, |f| f.bytes(output))
    }
}

/// The side a step acts on.
pub(super) const fn side(step: &Step) -> &Side {
    match step {
        Step::Encrypt { side, .. }
        | Step::EncryptDiscard { side, .. }
        | Step::Decrypt { side, .. }
        | Step::DecryptEvent { side, .. } => side,
    }
}

/// The script of a `ratchet-session` test (Table 16-2): both sides set up, then per step
/// its operation and `ratchet-snapshot`, checked against the vector's output or class and
/// state digest.
pub(super) fn session(v: &Vector<'_>, imp: &mut dyn Implementation) -> Got {
    match v.typed::<SessionTest>() {
        Ok(t) => got_script(&t, session_steps(&t, imp)),
        Err(got) => got,
    }
}

fn session_steps(t: &SessionTest, imp: &mut dyn Implementation) -> Result<(), Stop> {
    let initiator = match &t.initiator_snapshot {
        Some(s) => restore(imp, s),
        None => init(imp, "initiator", t),
    };
    let handles: [Handle; 2] = [
        step_result(0, initiator)?
            .map_err(|c| Stop::Mismatch(format!("initiator setup: error {c}")))?,
        step_result(0, init(imp, "responder", t))?
            .map_err(|c| Stop::Mismatch(format!("responder setup: error {c}")))?,
    ];
    // The attacker's copy of a compromised side (spec/06-ratchet.md §6.21), if the test has one.
    let attacker = match &t.attacker_snapshot {
        Some(s) => Some(
            step_result(0, restore(imp, s))?
                .map_err(|c| Stop::Mismatch(format!("attacker setup: error {c}")))?,
        ),
        None => None,
    };
    let handle = |side: &Side| match side {
        Side::Initiator => Ok(handles[0]),
        Side::Responder => Ok(handles[1]),
        Side::Attacker => attacker
            .ok_or_else(|| Stop::Mismatch("a step of the attacker, who has no snapshot".into())),
    };
    let hex = |b: &Vec<u8>| hex::encode(b);
    for (index, step) in t.steps.iter().enumerate() {
        let name = format!("{index} ({})", diverge::step_name(step));
        let acting = handle(side(step))?;
        let got = step_result(index, Act::of_step(step, acting).call(imp))?;
        let digest = match step {
            Step::Encrypt {
                message,
                error_class,
                snapshot_digest,
                ..
            } => {
                expect_outcome(&name, got, message.as_ref(), error_class.as_ref(), hex)?;
                snapshot_digest
            }
            Step::EncryptDiscard {
                messages_digest,
                snapshot_digest,
                ..
            } => {
                let got = got.map(|all| Sha256::digest(all).to_vec());
                expect_outcome(&name, got, Some(messages_digest), None, hex)?;
                snapshot_digest
            }
            Step::Decrypt {
                plaintext,
                error_class,
                snapshot_digest,
                ..
            } => {
                expect_outcome(&name, got, plaintext.as_ref(), error_class.as_ref(), hex)?;
                snapshot_digest
            }
            Step::DecryptEvent {
                event,
                error_class,
                snapshot_digest,
                ..
            } => {
                expect_outcome(&name, got, event.as_ref(), error_class.as_ref(), hex)?;
                snapshot_digest
            }
        };
        let snapshot = step_result(index, snapshot(imp, acting))?
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
