//! Runs every vector file against an implementation: the file loop, the `Recorder` that
//! compares each case with its vector, and the family runners by concern (`identity`,
//! `handshake`, `messaging`, `ratchet`, `reconnect`, `backup`), after the harness self-test
//! cases (`harness`).

use std::path::Path;

mod backup;
pub(crate) mod diverge;
mod handshake;
mod harness;
mod identity;
mod messaging;
mod ratchet;
mod reconnect;

use quietwire_test_vectors::families::cbor;
use quietwire_test_vectors::format::{self, Case, Group, Outcome as Expect, VectorFile};

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
        let cases = match *name {
            "cbor.json" => run_file(&text, imp, run_cbor)?,
            "device_record.json" => run_file(&text, imp, identity::run_device_record)?,
            "safety_code.json" => run_file(&text, imp, identity::run_safety)?,
            "did_key.json" => run_file(&text, imp, identity::run_did_key)?,
            "invite.json" => run_file(&text, imp, identity::run_invite)?,
            "invite_encoding.json" => run_file(&text, imp, identity::run_invite_encoding)?,
            "hpke.json" => run_file(&text, imp, handshake::run_hpke)?,
            "handshake.json" => run_file(&text, imp, handshake::run_handshake)?,
            "reconnect.json" => run_file(&text, imp, reconnect::run_reconnect)?,
            "envelope.json" => run_file(&text, imp, messaging::run_envelope)?,
            "event.json" => run_file(&text, imp, messaging::run_event)?,
            "mailbox.json" => run_file(&text, imp, messaging::run_mailbox)?,
            "relay.json" => run_file(&text, imp, messaging::run_relay)?,
            "backup.json" => run_file(&text, imp, backup::run_backup)?,
            _ => run_file(&text, imp, ratchet::run_ratchet)?,
        };
        report.cases.extend(cases);
    }
    Ok(report)
}

type GroupRunner<G> = fn(&G, &mut dyn Implementation, &mut Recorder);

fn run_file<G>(
    text: &str,
    imp: &mut dyn Implementation,
    run: GroupRunner<G>,
) -> Result<Vec<CaseResult>, String>
where
    G: Group + for<'de> serde::Deserialize<'de>,
{
    let file: VectorFile<G> = format::load(text)?;
    let mut recorder = Recorder {
        family: file.family.clone(),
        results: Vec::new(),
        transcript: imp.transcript(),
    };
    for group in &file.test_groups {
        run(group, imp, &mut recorder);
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

/// Turns an operation's answer into [`Got`], checking accepted outputs with `check`.
fn got<T>(result: OpResult<T>, check: impl FnOnce(&T) -> Option<String>) -> Got {
    match result {
        Ok(value) => Got::Accepted {
            mismatch: check(&value),
        },
        Err(Failure::Error { class }) => Got::Rejected(class),
        Err(Failure::Unimplemented { feature }) => Got::Unimplemented(feature),
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

fn run_cbor(group: &cbor::CborGroup, imp: &mut dyn Implementation, rec: &mut Recorder) {
    for t in &group.tests {
        let result = imp.cbor_decode(&t.input, group.limits);
        rec.record(
            &group.kind,
            t,
            got(result, |enc| hex_differs("re-encoding", enc, &t.input)),
        );
    }
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
