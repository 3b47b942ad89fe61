//! The `handshake-accept` script (spec/05-handshake.md): the inviter listens with its invite,
//! then accepts the script's messages in turn; each step is accepted with the vector's
//! outputs or refused with its class. Its operations and checks are the table's vocabulary,
//! applied to each step (the step's fields first, then the test's).

use serde_json::Value;

use super::check::Arg::Same;
use super::check::Kind::{Bytes, Sha256};
use super::check::{Check, Op, Vector, args, compare, like, op, readable, same};
use super::{Got, Stop, got_script, step_result};
use crate::implementation::Implementation;

/// `handshake-listen` with the test's invite and secrets.
const LISTEN: Op = op(
    "handshake-listen",
    &[Same("invite"), Same("kemSeed"), Same("ratchetSecret")],
    &[],
);

/// `handshake-accept` of a step's message at its `now`, with the test's allowed suites.
const ACCEPT: Op = op(
    "handshake-accept",
    &[
        Same("handle"),
        Same("message"),
        Same("now"),
        Same("allowedSuites"),
    ],
    ACCEPTED,
);

/// What an accepted step must give.
const ACCEPTED: &[Check] = &[
    same("peerIdentity", Bytes),
    same("peerMailbox", Bytes),
    same("transcriptHash", Bytes),
    like("snapshot", Sha256, "snapshotDigest"),
];

pub(super) fn accept(v: &Vector<'_>, imp: &mut dyn Implementation) -> Got {
    match v.typed::<quietwire_test_vectors::families::handshake::AcceptTest>() {
        Ok(t) => got_script(&t, accept_steps(v, imp)),
        Err(got) => got,
    }
}

fn accept_steps(v: &Vector<'_>, imp: &mut dyn Implementation) -> Result<(), Stop> {
    let listened = imp.call(LISTEN.op, args(&LISTEN, v, &[]));
    let handle = step_result(0, listened)?
        .map_err(|c| Stop::Mismatch(format!("listen: error {c}")))?
        .get("handle")
        .cloned()
        .unwrap_or(Value::Null);
    let steps = v.test.get("steps").and_then(Value::as_array);
    for (i, step) in steps.into_iter().flatten().enumerate() {
        let index = i + 1;
        let mut step = step.as_object().cloned().unwrap_or_default();
        step.insert("handle".to_owned(), handle.clone());
        // The step's fields, then the test's (`allowedSuites`).
        let at = Vector {
            group: v.test,
            test: &step,
        };
        let answer = imp
            .call(ACCEPT.op, args(&ACCEPT, &at, &[]))
            .and_then(|value| readable(&ACCEPT, &value).map(|()| value));
        let want_class = step.get("errorClass").and_then(Value::as_str);
        match (step_result(index, answer)?, want_class) {
            (Ok(value), None) => {
                if let Some(m) = compare(&value, &at, &[], ACCEPT.checks) {
                    return Err(Stop::Mismatch(format!("step {index}: {m}")));
                }
            }
            (Err(c), Some(want)) if c == want => {}
            (Ok(_), _) => return Err(Stop::Mismatch(format!("step {index}: accepted"))),
            (Err(c), _) => return Err(Stop::Mismatch(format!("step {index}: got error {c}"))),
        }
    }
    Ok(())
}
