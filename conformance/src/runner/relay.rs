//! The `relay-session` script (spec/08-mailboxes-and-relay.md §8.6): a connection opened with
//! the group's limits, then one request frame per step; every step must give exactly the
//! vector's reply, error class, close flag and wake.

use quietwire_test_vectors::families::relay::{RelayLimits, SessionTest};
use serde_json::{Value, json};

use super::check::Vector;
use super::{Got, Stop, differs, got_script, hex_differs, step_result};
use crate::implementation::{Handle, Implementation, call_read};
use crate::shim::hex;

/// The origin the welcome vectors open their relay connection with (SHIM-03).
pub(super) const WELCOME_ORIGIN: &str = "wss://relay.example";

pub(super) fn session(v: &Vector<'_>, imp: &mut dyn Implementation) -> Got {
    let limits = v
        .field("limits")
        .cloned()
        .map(serde_json::from_value::<RelayLimits>);
    match (v.typed::<SessionTest>(), limits) {
        (Ok(t), Some(Ok(limits))) => got_script(&t, steps(&limits, &t, imp)),
        (Err(got), _) => got,
        (Ok(_), _) => super::check::mismatch("the group's limits do not load"),
    }
}

/// What a relay did with one frame.
struct Handled {
    reply: Vec<u8>,
    error_class: Option<String>,
    close: bool,
    wake: Option<Vec<u8>>,
}

/// Runs a scripted connection; every step must give exactly the vector's reply, class,
/// close flag and wake.
fn steps(limits: &RelayLimits, t: &SessionTest, imp: &mut dyn Implementation) -> Result<(), Stop> {
    let args = json!({
        "limits": serde_json::to_value(limits).unwrap_or(Value::Null),
        "challenge": hex(&t.challenge),
        "origin": t.origin,
        "unixTime": t.unix_time,
        "millis": t.millis,
    });
    let opened = call_read(imp, "relay-open", args, |f| f.u64("handle"));
    let handle: Handle =
        step_result(0, opened)?.map_err(|c| Stop::Mismatch(format!("open: error {c}")))?;
    for (i, step) in t.steps.iter().enumerate() {
        let index = i + 1;
        let args = json!({
            "handle": handle,
            "request": hex(&step.request),
            "unixTime": step.unix_time,
            "millis": step.millis,
            "storeUnavailable": step.store_unavailable,
        });
        let handled = call_read(imp, "relay-handle", args, |f| {
            Ok(Handled {
                reply: f.bytes("reply")?,
                error_class: f.str_opt("errorClass")?.map(str::to_owned),
                close: f.bool("close")?,
                wake: f.bytes_opt("wake")?,
            })
        });
        let handled = step_result(index, handled)?
            .map_err(|c| Stop::Mismatch(format!("step {index}: harness error {c}")))?;
        let mismatch = differs("error class", &handled.error_class, &step.error_class)
            .or_else(|| hex_differs("reply", &handled.reply, &step.reply))
            .or_else(|| differs("close", &handled.close, &step.close))
            .or_else(|| {
                differs(
                    "wake",
                    &handled.wake.as_ref().map(hex::encode),
                    &step.wake.as_ref().map(hex::encode),
                )
            });
        if let Some(m) = mismatch {
            return Err(Stop::Mismatch(format!("step {index}: {m}")));
        }
    }
    Ok(())
}
