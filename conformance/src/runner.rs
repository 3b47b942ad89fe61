//! Runs every vector file against an implementation (spec/16-conformance-shim.md §16.5): the
//! file loop, the `Recorder` that compares each case with its vector, and the one
//! `table` that maps each group type to its operations and checks (`check`), with the
//! dedicated scripts of stateful sequences by concern (`handshake`, `ratchet`, `relay`,
//! `backup`), after the harness self-test cases (`harness`).

use std::path::Path;

mod backup;
mod check;
pub(crate) mod diverge;
mod handshake;
mod harness;
pub(crate) mod ratchet;
mod relay;
mod table;

use quietwire_test_vectors::families::{
    backup as backup_family, cbor, device_record, did_key, envelope, event, handshake as hs, hpke,
    invite, invite_encoding, mailbox, ratchet as ratchet_family, reconnect, relay as relay_family,
    safety_code,
};
use quietwire_test_vectors::format::{self, Case, Group, Outcome as Expect, VectorFile};
use serde_json::Value;

use crate::config::Selection;
use crate::implementation::{Failure, Implementation, OpResult, Transcript};
use crate::report::{CaseResult, Outcome, Report, cap_transcript};

/// The vector files, in run order.
pub const FILES: &[&str] = &[
    "cbor.json",
    "device_record.json",
    "safety_code.json",
    "did_key.json",
    "invite.json",
    "invite_encoding.json",
    "hpke.json",
    "handshake.json",
    "reconnect.json",
    "ratchet.json",
    "envelope.json",
    "event.json",
    "mailbox.json",
    "relay.json",
    "backup.json",
];

/// How many harness self-test cases (`harness/N`, §16.5) a full run reports besides the
/// vectors.
pub const HARNESS_CASES: usize = harness::PROBES.len();

/// The ids of the harness self-test cases (`harness/1`, …).
pub fn harness_case_ids() -> Vec<String> {
    harness::PROBES
        .iter()
        .map(|p| format!("harness/{}", p.tc_id))
        .collect()
}

/// Runs the harness self-test cases, then loads and runs every vector file in `dir`.
///
/// # Errors
/// A message if a file is missing or fails strict loading (unknown fields, wrong counts).
pub fn run_all(dir: &Path, imp: &mut dyn Implementation) -> Result<Report, String> {
    run_selected(dir, imp, &Selection::default())
}

/// Loads every vector file in `dir` and runs the cases `selection` runs: a case it disables is
/// reported `DISABLED` with its reason, without running; a case outside its `--only`
/// prefixes is left out of the report.
///
/// # Errors
/// A message if a file is missing or fails strict loading (unknown fields, wrong counts).
pub fn run_selected(
    dir: &Path,
    imp: &mut dyn Implementation,
    selection: &Selection,
) -> Result<Report, String> {
    let mut report = Report {
        implementation: imp.name(),
        cases: harness::run(imp, selection),
    };
    for name in FILES {
        let path = dir.join(name);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let Some(text) = selection.filter_file(&text, &mut report.cases)? else {
            continue;
        };
        let run = match *name {
            "cbor.json" => run_file::<cbor::CborGroup>,
            "device_record.json" => run_file::<device_record::DeviceRecordGroup>,
            "safety_code.json" => run_file::<safety_code::SafetyGroup>,
            "did_key.json" => run_file::<did_key::DidKeyGroup>,
            "invite.json" => run_file::<invite::InviteGroup>,
            "invite_encoding.json" => run_file::<invite_encoding::EncodingGroup>,
            "hpke.json" => run_file::<hpke::HpkeGroup>,
            "handshake.json" => run_file::<hs::HandshakeGroup>,
            "reconnect.json" => run_file::<reconnect::ReconnectGroup>,
            "envelope.json" => run_file::<envelope::EnvelopeGroup>,
            "event.json" => run_file::<event::EventGroup>,
            "mailbox.json" => run_file::<mailbox::MailboxGroup>,
            "relay.json" => run_file::<relay_family::RelayGroup>,
            "backup.json" => run_file::<backup_family::BackupGroup>,
            _ => run_file::<ratchet_family::RatchetGroup>,
        };
        report.cases.extend(run(&text, imp)?);
    }
    Ok(report)
}

/// Loads a vector file strictly as its group type `G` (its cases, counts and classes), then
/// runs every test as the [`table`] says for its group type, reading the vector as JSON.
fn run_file<G>(text: &str, imp: &mut dyn Implementation) -> Result<Vec<CaseResult>, String>
where
    G: Group + for<'de> serde::Deserialize<'de>,
{
    let file: VectorFile<G> = format::load(text)?;
    let raw: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let raw_groups = raw
        .get("testGroups")
        .and_then(Value::as_array)
        .ok_or("a vector file without testGroups")?;
    let mut recorder = Recorder {
        family: file.family.clone(),
        results: Vec::new(),
        transcript: imp.transcript(),
    };
    for (group, raw_group) in file.test_groups.iter().zip(raw_groups) {
        let raw_group = raw_group
            .as_object()
            .ok_or("a group that is not an object")?;
        let kind = raw_group
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let spec = table::spec(kind).ok_or_else(|| {
            format!(
                "{}: group type `{kind}` has no entry in the runner's table",
                file.family
            )
        })?;
        let raw_tests = raw_group
            .get("tests")
            .and_then(Value::as_array)
            .ok_or("a group without tests")?;
        for (case, raw_test) in group.cases().into_iter().zip(raw_tests) {
            let test = raw_test.as_object().ok_or("a test that is not an object")?;
            let vector = check::Vector {
                group: raw_group,
                test,
            };
            let got = spec.run(&vector, imp);
            recorder.record(kind, case, got);
        }
    }
    Ok(recorder.results)
}

/// Collects results and compares them with the vector's expectation.
struct Recorder {
    family: String,
    results: Vec<CaseResult>,
    /// The implementation's log of exchanges, drained at every case.
    transcript: Option<Transcript>,
}

/// What an operation produced, reduced to what the vector can check.
enum Got {
    /// Accepted; `mismatch` describes any output that differs from the vector.
    Accepted { mismatch: Option<String> },
    /// Rejected with a class.
    Rejected(String),
    /// Not implemented.
    Unimplemented(String),
}

impl Recorder {
    fn record(&mut self, group: &str, case: &dyn Case, got: Got) {
        let meta = case.meta();
        let expected = match (meta.result, meta.error_class) {
            (Expect::Invalid, Some(class)) => format!("error {class}"),
            (Expect::Acceptable, _) => "accept or reject".to_owned(),
            _ => "accept".to_owned(),
        };
        let (outcome, actual) = match (&got, meta.result, meta.error_class) {
            (Got::Unimplemented(feature), _, _) => {
                (Outcome::Unimplemented, format!("unimplemented {feature}"))
            }
            (Got::Accepted { mismatch: None }, Expect::Valid | Expect::Acceptable, _) => {
                (Outcome::Pass, "accept".to_owned())
            }
            (Got::Accepted { mismatch: Some(m) }, _, _) => {
                (Outcome::Fail, format!("accept with {m}"))
            }
            (Got::Accepted { mismatch: None }, Expect::Invalid, _) => {
                (Outcome::Fail, "accept".to_owned())
            }
            (Got::Rejected(class), Expect::Invalid, Some(want)) if class == want => {
                (Outcome::Pass, format!("error {class}"))
            }
            (Got::Rejected(class), Expect::Acceptable, _) => {
                (Outcome::Pass, format!("error {class}"))
            }
            (Got::Rejected(class), _, _) => (Outcome::Fail, format!("error {class}")),
        };
        let transcript = self
            .transcript
            .as_ref()
            .map(|log| std::mem::take(&mut *log.borrow_mut()))
            .unwrap_or_default();
        self.results.push(CaseResult {
            id: format!("{}/{}", self.family, meta.tc_id),
            family: self.family.clone(),
            group: group.to_owned(),
            tc_id: meta.tc_id,
            slug: meta.slug.to_owned(),
            flags: meta.flags.to_vec(),
            expected,
            actual,
            class: match &got {
                Got::Rejected(class) => Some(class.clone()),
                _ => None,
            },
            feature: match &got {
                Got::Unimplemented(feature) => feature.split_whitespace().next().map(str::to_owned),
                _ => None,
            },
            transcript: match outcome {
                Outcome::Pass => Vec::new(),
                _ => cap_transcript(transcript),
            },
            outcome,
            ..CaseResult::default()
        });
    }
}

/// The outcome of an operation that failed.
fn got_failure(failure: Failure) -> Got {
    match failure {
        Failure::Error { class } => Got::Rejected(class),
        Failure::Unimplemented { feature } => Got::Unimplemented(feature),
    }
}

/// Turns an operation's answer into [`Got`], checking accepted outputs with `check`.
fn got<T>(result: OpResult<T>, check: impl FnOnce(&T) -> Option<String>) -> Got {
    match result {
        Ok(value) => Got::Accepted {
            mismatch: check(&value),
        },
        Err(failure) => got_failure(failure),
    }
}

/// The outcome of a script that ran to its end (`Ok`), or stopped early.
fn got_script(t: &dyn Case, result: Result<(), Stop>) -> Got {
    match result {
        Ok(()) => match t.meta().error_class {
            Some(class) => Got::Rejected(class.to_owned()),
            None => Got::Accepted { mismatch: None },
        },
        Err(Stop::Mismatch(m)) => Got::Accepted { mismatch: Some(m) },
        Err(Stop::Unimplemented(f)) => Got::Unimplemented(f),
    }
}

fn differs<T: PartialEq + std::fmt::Debug>(what: &str, got: &T, want: &T) -> Option<String> {
    (got != want).then(|| format!("{what} {got:?} (vector has {want:?})"))
}

fn hex_differs(what: &str, got: &[u8], want: &[u8]) -> Option<String> {
    (got != want).then(|| {
        format!(
            "{what} {} (vector has {})",
            hex::encode(got),
            hex::encode(want)
        )
    })
}

/// Why a session stopped early: a step that disagreed, or an unimplemented operation.
enum Stop {
    Mismatch(String),
    Unimplemented(String),
}

fn step_result<T>(index: usize, result: OpResult<T>) -> Result<Result<T, String>, Stop> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(Failure::Error { class }) => Ok(Err(class)),
        Err(Failure::Unimplemented { feature }) => {
            Err(Stop::Unimplemented(format!("{feature} (step {index})")))
        }
    }
}

/// Compares a step's outcome; `step` names the step in messages (`3 (decrypt by responder)`,
/// 0-based as in the vector's `steps` array).
fn expect_outcome<T: PartialEq>(
    step: &str,
    got: Result<T, String>,
    want_value: Option<&T>,
    want_class: Option<&String>,
    show: impl Fn(&T) -> String,
) -> Result<(), Stop> {
    match (got, want_value, want_class) {
        (Ok(v), Some(w), _) if v == *w => Ok(()),
        (Err(c), _, Some(w)) if c == *w => Ok(()),
        (Ok(v), _, _) => Err(Stop::Mismatch(format!("step {step}: got {}", show(&v)))),
        (Err(c), _, _) => Err(Stop::Mismatch(format!("step {step}: got error {c}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::check::Run;
    use super::table::GROUPS;
    use crate::shim::feature_of;

    #[test]
    fn every_entry_names_known_ops_and_earlier_values() {
        let mut groups: Vec<&str> = GROUPS.iter().map(|g| g.group).collect();
        groups.sort_unstable();
        groups.dedup();
        assert_eq!(groups.len(), GROUPS.len(), "a group type is listed twice");
        for spec in GROUPS {
            let Run::Ops(ops) = spec.run else { continue };
            for (index, op) in ops.iter().enumerate() {
                assert!(
                    feature_of(op.op).is_some(),
                    "{}: unknown op {}",
                    spec.group,
                    op.op
                );
                for arg in op.args {
                    if let super::check::Arg::Value(_, from, _) = arg {
                        assert!(
                            *from < index,
                            "{}: {} uses a later value",
                            spec.group,
                            op.op
                        );
                    }
                }
            }
        }
    }
}
