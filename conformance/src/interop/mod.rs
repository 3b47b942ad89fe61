//! Interop runs: two implementations, A and B, play the two sides of scripted conversations,
//! and the runner checks after every step that each side agrees with the expected bytes and
//! state digest, naming the side that diverged.
//!
//! - `handshake/<slug>/<ab|ba>`: the acceptor (A for `ab`) builds its handshake message for an
//!   invite of `handshake.json`; the inviter (the other one) accepts it; both restore their
//!   ratchets from the handshake's snapshots and hold a conversation with a reordered, a lost
//!   then late, and a replayed message. The handshake is checked against the vectors, the
//!   conversation against a reference run of the same script with the built-in
//!   implementation on both sides.
//! - `ratchet/<slug>/<ab|ba>`: every `ratchet-session` script of `ratchet.json`, the
//!   initiator played by A (`ab`) or B (`ba`), each message one side produces decrypted by
//!   the other, with the vector's messages, plaintexts, refusals and snapshot digests checked
//!   after every step.
//!
//! Both assignments of A and B to the two roles are run, as the MLS interop runner does.

mod handshake;
mod script;

use std::path::Path;

use quietwire_test_vectors::families::handshake::{AcceptTest, HandshakeGroup, InitiateTest};
use quietwire_test_vectors::families::ratchet;
use quietwire_test_vectors::format::{self, Case, VectorFile};

use crate::builtin::Builtin;
use crate::config::{Choice, Selection};
use crate::implementation::Implementation;
use crate::report::{CaseResult, Outcome, Report, cap_transcript};
use crate::runner::ratchet as ops;
use handshake::{handshake_case, reference_conversation};
use script::{Assignment, Players, Seen, Stop, Who, play, session_script, side_result};

fn ratchet_case(
    t: &ratchet::SessionTest,
    players: &mut Players<'_>,
    log: &mut Vec<String>,
) -> Result<usize, Stop> {
    let init = |players: &mut Players<'_>, who: Who| {
        let imp = players.get(who);
        let r = match (&t.initiator_snapshot, who) {
            (Some(snapshot), Who::Initiator) => ops::restore(imp, snapshot),
            _ => ops::init(imp, who.role(), t),
        };
        side_result(r, players, who)?.map_err(|class| {
            Stop::Diverged(format!("setup of {}: error {class}", players.who(who)))
        })
    };
    let handles = (
        init(players, Who::Initiator)?,
        init(players, Who::Responder)?,
    );
    let mut steps = session_script(t);
    // The reference run's snapshots explain a diverging digest field by field.
    for (step, seen) in steps.iter_mut().zip(reference_session(t)) {
        if let Some(want) = step.want.as_mut()
            && want.digest == seen.digest
        {
            want.snapshot = seen.snapshot;
        }
    }
    play(players, handles, &steps, log).map(|s| s.len())
}

/// The script of a `ratchet-session` vector played by the built-in implementation on both
/// sides (empty if it cannot be).
fn reference_session(t: &ratchet::SessionTest) -> Vec<Seen> {
    let (mut a, mut b) = (Builtin::default(), Builtin::default());
    let mut players = Players {
        a: &mut a,
        b: &mut b,
        assignment: Assignment::Ab,
    };
    let initiator = match &t.initiator_snapshot {
        Some(snapshot) => ops::restore(players.a, snapshot),
        None => ops::init(players.a, "initiator", t),
    };
    let responder = ops::init(players.b, "responder", t);
    let (Ok(hi), Ok(hr)) = (initiator, responder) else {
        return Vec::new();
    };
    let mut steps = session_script(t);
    for step in &mut steps {
        step.want = None;
    }
    play(&mut players, (hi, hr), &steps, &mut Vec::new()).unwrap_or_default()
}

/// Every interop case id in `dir`, for `--list` and the stale-entry check.
///
/// # Errors
/// A message if a vector file cannot be loaded.
pub fn case_ids(dir: &Path) -> Result<Vec<String>, String> {
    let (pairs, sessions) = load(dir)?;
    let mut ids = Vec::new();
    for (_, acc) in &pairs {
        for assignment in Assignment::BOTH {
            ids.push(format!("handshake/{}/{}", acc.slug, assignment.suffix()));
        }
    }
    for t in &sessions {
        for assignment in Assignment::BOTH {
            ids.push(format!("ratchet/{}/{}", t.slug, assignment.suffix()));
        }
    }
    Ok(ids)
}

type Loaded = (Vec<(InitiateTest, AcceptTest)>, Vec<ratchet::SessionTest>);

fn load(dir: &Path) -> Result<Loaded, String> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let hs: VectorFile<HandshakeGroup> = format::load(&read("handshake.json")?)?;
    let mut initiates = Vec::new();
    let mut accepts = Vec::new();
    for group in hs.test_groups {
        match group {
            HandshakeGroup::Initiate { tests, .. } => initiates.extend(tests),
            HandshakeGroup::Accept { tests, .. } => accepts.extend(tests),
        }
    }
    // An accept vector whose first delivery is accepted, with the initiate vector of the same
    // invite: together they hold both sides' secrets.
    let pairs = accepts
        .into_iter()
        .filter(|a| {
            a.steps
                .first()
                .is_some_and(|s| s.error_class.is_none() && s.snapshot_digest.is_some())
                && a.result == format::Outcome::Valid
        })
        .filter_map(|a| {
            initiates
                .iter()
                .find(|i| {
                    i.invite == a.invite
                        && i.message.as_ref() == a.steps.first().map(|s| &s.message)
                })
                .map(|i| (i.clone(), a))
        })
        .collect();
    let rt: VectorFile<ratchet::RatchetGroup> = format::load(&read("ratchet.json")?)?;
    let sessions = rt
        .test_groups
        .into_iter()
        .flat_map(|g| match g {
            ratchet::RatchetGroup::Session { tests, .. } => tests,
            ratchet::RatchetGroup::SnapshotLoad { .. }
            | ratchet::RatchetGroup::SessionSnapshotLoad { .. } => Vec::new(),
        })
        // A session with an attacker (spec/06-ratchet.md §6.21) checks one implementation
        // against itself, not two against each other: the vector runs cover it.
        .filter(|t: &ratchet::SessionTest| t.attacker_snapshot.is_none())
        .collect();
    Ok((pairs, sessions))
}

/// Runs every interop case of `dir` selected by `selection` with A and B.
///
/// # Errors
/// A message if a vector file cannot be loaded.
pub fn run(
    dir: &Path,
    a: &mut dyn Implementation,
    b: &mut dyn Implementation,
    selection: &Selection,
) -> Result<Report, String> {
    let (pairs, sessions) = load(dir)?;
    let mut report = Report {
        implementation: format!("A = {}; B = {}", a.name(), b.name()),
        cases: Vec::new(),
    };
    let mut players = Players {
        a,
        b,
        assignment: Assignment::Ab,
    };
    for (init_t, acc_t) in &pairs {
        let reference = reference_conversation(init_t, acc_t);
        for assignment in Assignment::BOTH {
            let id = format!("handshake/{}/{}", acc_t.slug, assignment.suffix());
            let base = base_case(&id, "handshake", "interop-handshake", acc_t);
            players.assignment = assignment;
            let case = match (selection.choose(&id), &reference) {
                (Choice::Excluded, _) => continue,
                (Choice::Disabled(reason), _) => disabled(base, reason),
                (Choice::Run, Err(e)) => CaseResult {
                    actual: format!("the reference run of the conversation failed: {e}"),
                    outcome: Outcome::Fail,
                    ..base
                },
                (Choice::Run, Ok(reference)) => {
                    let mut log = Vec::new();
                    let r = handshake_case(init_t, acc_t, reference, &mut players, &mut log);
                    finish(base, r, log, &mut players)
                }
            };
            report.cases.push(case);
        }
    }
    for t in &sessions {
        for assignment in Assignment::BOTH {
            let id = format!("ratchet/{}/{}", t.slug, assignment.suffix());
            let base = base_case(&id, "ratchet", "interop-ratchet", t);
            players.assignment = assignment;
            let case = match selection.choose(&id) {
                Choice::Excluded => continue,
                Choice::Disabled(reason) => disabled(base, reason),
                Choice::Run => {
                    let mut log = Vec::new();
                    let r = ratchet_case(t, &mut players, &mut log);
                    finish(base, r, log, &mut players)
                }
            };
            report.cases.push(case);
        }
    }
    Ok(report)
}

fn base_case(id: &str, family: &str, group: &str, case: &dyn Case) -> CaseResult {
    let meta = case.meta();
    CaseResult {
        id: id.to_owned(),
        family: family.to_owned(),
        group: group.to_owned(),
        tc_id: meta.tc_id,
        slug: meta.slug.to_owned(),
        flags: meta.flags.to_vec(),
        expected: "both sides agree with the expected bytes and state digests at every step"
            .to_owned(),
        ..CaseResult::default()
    }
}

fn disabled(base: CaseResult, reason: &str) -> CaseResult {
    CaseResult {
        actual: "not run".to_owned(),
        outcome: Outcome::Disabled,
        note: Some(format!("disabled: {reason}")),
        ..base
    }
}

fn finish(
    base: CaseResult,
    result: Result<usize, Stop>,
    mut log: Vec<String>,
    players: &mut Players<'_>,
) -> CaseResult {
    for (label, imp) in [("A", &*players.a), ("B", &*players.b)] {
        if let Some(t) = imp.transcript() {
            log.extend(
                std::mem::take(&mut *t.borrow_mut())
                    .into_iter()
                    .map(|line| format!("{label} {line}")),
            );
        }
    }
    match result {
        Ok(steps) => CaseResult {
            actual: format!("agreement after each of {steps} steps"),
            outcome: Outcome::Pass,
            ..base
        },
        Err(Stop::Diverged(what)) => CaseResult {
            actual: what,
            outcome: Outcome::Fail,
            transcript: cap_transcript(log),
            ..base
        },
        Err(Stop::Unimplemented(feature)) => CaseResult {
            actual: format!("unimplemented {feature}"),
            feature: feature.split_whitespace().next().map(str::to_owned),
            outcome: Outcome::Unimplemented,
            ..base
        },
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    fn vectors() -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-vectors/v1")
    }

    #[test]
    fn builtin_agrees_with_itself() {
        let (mut a, mut b) = (Builtin::default(), Builtin::default());
        let report = run(&vectors(), &mut a, &mut b, &Selection::default());
        let Ok(report) = report else {
            panic!("{report:?}");
        };
        let failed: Vec<String> = report
            .cases
            .iter()
            .filter(|c| c.outcome != Outcome::Pass)
            .map(|c| format!("{}: {}", c.id, c.actual))
            .collect();
        assert!(failed.is_empty(), "{failed:#?}");
        assert!(
            report
                .cases
                .iter()
                .any(|c| c.id == "handshake/accept-xwing/ba")
        );
        assert!(report.cases.iter().any(|c| c.id == "ratchet/eviction/ab"));
        let ids = case_ids(&vectors()).unwrap_or_default();
        assert_eq!(ids.len(), report.cases.len());
    }
}
