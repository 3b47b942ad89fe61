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

mod script;

use std::path::Path;

use quietwire_test_vectors::families::handshake::{self, AcceptTest, InitiateTest};
use quietwire_test_vectors::families::ratchet;
use quietwire_test_vectors::format::{self, Case, VectorFile};
use sha2::{Digest, Sha256};

use crate::builtin::Builtin;
use crate::config::{Choice, Selection};
use crate::implementation::{HandshakeInitiate, Implementation, Role};
use crate::report::{CaseResult, Outcome, Report, cap_transcript};
use script::{
    Assignment, Players, Seen, Stop, Who, conversation, play, session_script, short, side_result,
};

fn ratchet_case(
    t: &ratchet::SessionTest,
    players: &mut Players<'_>,
    log: &mut Vec<String>,
) -> Result<usize, Stop> {
    let init = |players: &mut Players<'_>, who: Who| {
        let role = match who {
            Who::Initiator => Role::Initiator,
            Who::Responder => Role::Responder,
        };
        let imp = players.get(who);
        let r = match (&t.initiator_snapshot, who) {
            (Some(snapshot), Who::Initiator) => imp.ratchet_restore(snapshot),
            _ => imp.ratchet_init(
                role,
                &t.session_secret,
                &t.associated_data,
                &t.responder_ratchet_secret,
            ),
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
        Some(snapshot) => players.a.ratchet_restore(snapshot),
        None => players.a.ratchet_init(
            Role::Initiator,
            &t.session_secret,
            &t.associated_data,
            &t.responder_ratchet_secret,
        ),
    };
    let responder = players.b.ratchet_init(
        Role::Responder,
        &t.session_secret,
        &t.associated_data,
        &t.responder_ratchet_secret,
    );
    let (Ok(hi), Ok(hr)) = (initiator, responder) else {
        return Vec::new();
    };
    let mut steps = session_script(t);
    for step in &mut steps {
        step.want = None;
    }
    play(&mut players, (hi, hr), &steps, &mut Vec::new()).unwrap_or_default()
}

/// The handshake of an initiate vector and an accept vector of the same invite, then the
/// conversation; returns the number of steps.
fn handshake_case(
    init_t: &InitiateTest,
    acc_t: &AcceptTest,
    reference: &[Seen],
    players: &mut Players<'_>,
    log: &mut Vec<String>,
) -> Result<usize, Stop> {
    let (snap_i, snap_r) = handshake_steps(init_t, acc_t, players, log)?;
    let restore = |players: &mut Players<'_>, who: Who, snapshot: &[u8]| {
        let r = players.get(who).ratchet_restore(snapshot);
        side_result(r, players, who)?.map_err(|class| {
            Stop::Diverged(format!(
                "{} cannot restore its ratchet from the handshake's snapshot: error {class}",
                players.who(who)
            ))
        })
    };
    let agreed = |stop: Stop| match stop {
        Stop::Unimplemented(m) => {
            Stop::Unimplemented(format!("{m}, after both sides agreed on the handshake"))
        }
        other => other,
    };
    let handles = (
        restore(players, Who::Initiator, &snap_i).map_err(agreed)?,
        restore(players, Who::Responder, &snap_r).map_err(agreed)?,
    );
    let mut steps = conversation(&acc_t.slug);
    for (step, want) in steps.iter_mut().zip(reference) {
        step.want = Some(want.clone());
    }
    play(players, handles, &steps, log).map(|s| s.len() + 2)
}

/// The acceptor initiates, the inviter accepts; returns (initiator snapshot, responder
/// snapshot).
fn handshake_steps(
    init_t: &InitiateTest,
    acc_t: &AcceptTest,
    players: &mut Players<'_>,
    log: &mut Vec<String>,
) -> Result<(Vec<u8>, Vec<u8>), Stop> {
    let diverged = |players: &Players<'_>, who: Who, step: usize, what: String| {
        Stop::Diverged(format!(
            "handshake step {step} ({}): {what}",
            players.who(who)
        ))
    };
    let input = HandshakeInitiate {
        invite: &init_t.invite,
        suite: init_t.suite,
        identity_seed: &init_t.identity_seed,
        kem_seed: &init_t.kem_seed,
        ratchet_secret: &init_t.ratchet_secret,
        generation: init_t.generation,
        mailbox: &init_t.mailbox,
        randomness: &init_t.randomness,
    };
    let r = players.get(Who::Initiator).handshake_initiate(&input);
    let (message, th, snap_i) = side_result(r, players, Who::Initiator)?
        .map_err(|c| diverged(players, Who::Initiator, 1, format!("error {c}")))?;
    log.push(format!(
        "handshake step 1: initiator builds the handshake message -> {}",
        short(&message)
    ));
    let want = |o: &Option<Vec<u8>>| o.clone().unwrap_or_default();
    for (what, got, wanted) in [
        ("message", message.clone(), want(&init_t.message)),
        ("transcript hash", th.clone(), want(&init_t.transcript_hash)),
        (
            "snapshot digest",
            Sha256::digest(&snap_i).to_vec(),
            want(&init_t.snapshot_digest),
        ),
    ] {
        if got != wanted {
            return Err(diverged(
                players,
                Who::Initiator,
                1,
                format!(
                    "{what} {} differs from the vector's {}",
                    short(&got),
                    short(&wanted)
                ),
            ));
        }
    }
    let step = acc_t
        .steps
        .first()
        .ok_or_else(|| Stop::Diverged(format!("the accept vector {} has no step", acc_t.slug)))?;
    let inviter = players.get(Who::Responder);
    let r = inviter.handshake_listen(&acc_t.invite, &acc_t.kem_seed, &acc_t.ratchet_secret);
    let handle = side_result(r, players, Who::Responder)?
        .map_err(|c| diverged(players, Who::Responder, 2, format!("listen: error {c}")))?;
    let r = players.get(Who::Responder).handshake_accept(
        handle,
        &message,
        step.now,
        &acc_t.allowed_suites,
    );
    let accepted = side_result(r, players, Who::Responder)?.map_err(|c| {
        diverged(
            players,
            Who::Responder,
            2,
            format!("refused the initiator's message: error {c}"),
        )
    })?;
    log.push("handshake step 2: responder accepts it".to_owned());
    for (what, got, wanted) in [
        (
            "peer identity",
            accepted.peer_identity.clone(),
            want(&step.peer_identity),
        ),
        (
            "peer mailbox",
            accepted.peer_mailbox.clone(),
            want(&step.peer_mailbox),
        ),
        ("transcript hash", accepted.transcript_hash.clone(), th),
        (
            "snapshot digest",
            Sha256::digest(&accepted.snapshot).to_vec(),
            want(&step.snapshot_digest),
        ),
    ] {
        if got != wanted {
            return Err(diverged(
                players,
                Who::Responder,
                2,
                format!(
                    "{what} {} differs from the expected {}",
                    short(&got),
                    short(&wanted)
                ),
            ));
        }
    }
    Ok((snap_i, accepted.snapshot))
}

/// The conversation after a handshake, played by the built-in implementation on both sides.
fn reference_conversation(init_t: &InitiateTest, acc_t: &AcceptTest) -> Result<Vec<Seen>, String> {
    let (mut a, mut b) = (Builtin::default(), Builtin::default());
    let mut players = Players {
        a: &mut a,
        b: &mut b,
        assignment: Assignment::Ab,
    };
    let mut log = Vec::new();
    let stopped = |s: Stop| match s {
        Stop::Diverged(m) | Stop::Unimplemented(m) => m,
    };
    let (snap_i, snap_r) =
        handshake_steps(init_t, acc_t, &mut players, &mut log).map_err(stopped)?;
    let hi = players
        .a
        .ratchet_restore(&snap_i)
        .map_err(|f| format!("{f:?}"))?;
    let hr = players
        .b
        .ratchet_restore(&snap_r)
        .map_err(|f| format!("{f:?}"))?;
    play(&mut players, (hi, hr), &conversation(&acc_t.slug), &mut log).map_err(stopped)
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
    let hs: VectorFile<handshake::HandshakeGroup> = format::load(&read("handshake.json")?)?;
    let mut initiates = Vec::new();
    let mut accepts = Vec::new();
    for group in hs.test_groups {
        match group {
            handshake::HandshakeGroup::Initiate { tests, .. } => initiates.extend(tests),
            handshake::HandshakeGroup::Accept { tests, .. } => accepts.extend(tests),
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
            ratchet::RatchetGroup::SnapshotLoad { .. } => Vec::new(),
        })
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
