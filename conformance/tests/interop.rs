//! Interop runs: the built-in implementation and the built-in shim agree on every scripted
//! conversation in both role assignments, and a planted divergence names the side.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::time::Duration;

use quietwire_conformance::builtin::Builtin;
use quietwire_conformance::config::Selection;
use quietwire_conformance::interop;
use quietwire_conformance::shim::client::ShimClient;
use quietwire_conformance::{Outcome, Report};

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-vectors/v1")
}

fn run(b_defects: &[&str], selection: &Selection) -> Report {
    let mut command = format!("'{}'", env!("CARGO_BIN_EXE_quietwire-conformance-shim"));
    for d in b_defects {
        command.push_str(&format!(" --break {d}"));
    }
    let mut b = ShimClient::spawn(&command, Duration::from_secs(60)).unwrap();
    interop::run(&vector_dir(), &mut Builtin::default(), &mut b, selection).unwrap()
}

#[test]
fn builtin_and_shim_agree_on_every_script() {
    let report = run(&[], &Selection::default());
    let ids = interop::case_ids(&vector_dir()).unwrap();
    assert_eq!(report.cases.len(), ids.len());
    assert!(ids.iter().any(|i| i == "handshake/accept-x25519/ba"));
    assert!(
        ids.iter()
            .any(|i| i == "ratchet/out-of-order-across-steps/ab")
    );
    let failed: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.outcome != Outcome::Pass)
        .map(|c| format!("{}: {}", c.id, c.actual))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert!(report.implementation.starts_with("A = quietwire"));
}

#[test]
fn a_planted_divergence_names_the_side() {
    let selection = Selection {
        only: vec![
            "ratchet/in-order".to_owned(),
            "handshake/accept-xwing".to_owned(),
        ],
        ..Selection::default()
    };
    // B flips a bit of every message it encrypts.
    let report = run(&["flip-message"], &selection);
    let case = |id: &str| {
        report
            .cases
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no case {id}"))
    };
    let ab = case("ratchet/in-order/ab");
    assert_eq!(ab.outcome, Outcome::Fail);
    assert!(
        ab.actual.contains("encrypt by the responder (B: "),
        "{}",
        ab.actual
    );
    assert!(ab.actual.starts_with("step 4 "), "{}", ab.actual);
    let ba = case("ratchet/in-order/ba");
    assert_eq!(ba.outcome, Outcome::Fail);
    assert!(
        ba.actual.contains("encrypt by the initiator (B: "),
        "{}",
        ba.actual
    );
    assert!(ba.actual.starts_with("step 0 "), "{}", ba.actual);
    assert!(!ba.transcript.is_empty(), "a failure keeps the transcript");
    // In the conversation after the handshake, B's first message diverges.
    let hs = case("handshake/accept-xwing/ab");
    assert_eq!(hs.outcome, Outcome::Fail);
    assert!(hs.actual.contains("(B: "), "{}", hs.actual);
}

#[test]
fn a_diverging_state_is_explained_field_by_field() {
    let selection = Selection {
        only: vec!["ratchet/event-unpadded-first-message".to_owned()],
        ..Selection::default()
    };
    // B commits its ratchet before it checks the padding: the refusal itself agrees, the
    // state does not.
    let report = run(&["event-commit"], &selection);
    let ab = report
        .cases
        .iter()
        .find(|c| c.id == "ratchet/event-unpadded-first-message/ab")
        .unwrap();
    assert_eq!(ab.outcome, Outcome::Fail);
    assert!(
        ab.actual
            .starts_with("step 1 (decrypt-event by the responder (B: ")
            && ab.actual.contains("its state diverged")
            && ab.actual.contains("field 5 (RK): expected "),
        "{}",
        ab.actual
    );
}
