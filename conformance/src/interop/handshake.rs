//! The handshake cases of interop runs (spec/05-handshake.md, spec/16-conformance-shim.md
//! SHIM-10): the acceptor builds its handshake message for an invite of `handshake.json`,
//! the inviter accepts it, both checked against the vectors; then both restore their
//! ratchets from the handshake's snapshots and hold a conversation, checked against the same
//! script played by the built-in implementation on both sides.

use quietwire_test_vectors::families::handshake::{AcceptTest, InitiateTest};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::script::{
    Act, Assignment, Players, Seen, Stop, Who, conversation, play, short, side_result,
};
use crate::builtin::Builtin;
use crate::implementation::call_read;
use crate::runner::ratchet as ops;
use crate::shim::hex;

/// The handshake of an initiate vector and an accept vector of the same invite, then the
/// conversation; returns the number of steps.
pub(super) fn handshake_case(
    init_t: &InitiateTest,
    acc_t: &AcceptTest,
    reference: &[Seen],
    players: &mut Players<'_>,
    log: &mut Vec<String>,
) -> Result<usize, Stop> {
    let (snap_i, snap_r) = handshake_steps(init_t, acc_t, players, log)?;
    let restore = |players: &mut Players<'_>, who: Who, snapshot: &[u8]| {
        let r = ops::restore(players.get(who), snapshot);
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

/// What the inviter learns from an accepted handshake.
struct Accepted {
    peer_identity: Vec<u8>,
    peer_mailbox: Vec<u8>,
    transcript_hash: Vec<u8>,
    snapshot: Vec<u8>,
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
    let args = json!({
        "invite": hex(&init_t.invite),
        "suite": init_t.suite,
        "identitySeed": hex(&init_t.identity_seed),
        "kemSeed": hex(&init_t.kem_seed),
        "ratchetSecret": hex(&init_t.ratchet_secret),
        "generation": init_t.generation,
        "mailbox": hex(&init_t.mailbox),
        "randomness": hex(&init_t.randomness),
    });
    let r = call_read(
        players.get(Who::Initiator),
        "handshake-initiate",
        args,
        |f| {
            Ok((
                f.bytes("message")?,
                f.bytes("transcriptHash")?,
                f.bytes("snapshot")?,
            ))
        },
    );
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
    let args = json!({
        "invite": hex(&acc_t.invite),
        "kemSeed": hex(&acc_t.kem_seed),
        "ratchetSecret": hex(&acc_t.ratchet_secret),
    });
    let r = call_read(players.get(Who::Responder), "handshake-listen", args, |f| {
        f.u64("handle")
    });
    let handle = side_result(r, players, Who::Responder)?
        .map_err(|c| diverged(players, Who::Responder, 2, format!("listen: error {c}")))?;
    let args = json!({
        "handle": handle,
        "message": hex(&message),
        "now": step.now,
        "allowedSuites": acc_t.allowed_suites,
    });
    let r = call_read(players.get(Who::Responder), "handshake-accept", args, |f| {
        Ok(Accepted {
            peer_identity: f.bytes("peerIdentity")?,
            peer_mailbox: f.bytes("peerMailbox")?,
            transcript_hash: f.bytes("transcriptHash")?,
            snapshot: f.bytes("snapshot")?,
        })
    });
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
pub(super) fn reference_conversation(
    init_t: &InitiateTest,
    acc_t: &AcceptTest,
) -> Result<Vec<Seen>, String> {
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
    let hi = ops::restore(players.a, &snap_i).map_err(|f| format!("{f:?}"))?;
    let hr = ops::restore(players.b, &snap_r).map_err(|f| format!("{f:?}"))?;
    let script = conversation(&acc_t.slug);
    let seen = play(&mut players, (hi, hr), &script, &mut log).map_err(stopped)?;
    // Every encryption of the script succeeds in the reference run; otherwise two
    // implementations that fail alike would agree on nothing worth checking.
    for (index, (step, seen)) in script.iter().zip(&seen).enumerate() {
        if let (Act::Encrypt { .. }, Err(class)) = (&step.act, &seen.result) {
            return Err(format!(
                "the reference cannot play conversation step {index}: {class}"
            ));
        }
    }
    Ok(seen)
}
