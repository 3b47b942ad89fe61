//! The reference implementation passes every vector, and the runner notices a broken one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use quietwire_conformance::builtin::Builtin;
use quietwire_conformance::implementation::{Failure, Implementation, OpResult};
use quietwire_conformance::shim::feature_of;
use quietwire_conformance::{Outcome, runner};
use serde_json::{Value, json};

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-vectors/v1")
}

fn declared_total() -> usize {
    runner::FILES
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(vector_dir().join(name)).unwrap();
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            json["numberOfTests"].as_u64().unwrap() as usize
        })
        .sum()
}

#[test]
fn builtin_passes_every_vector() {
    let report = runner::run_all(&vector_dir(), &mut Builtin::default()).unwrap();
    assert_eq!(
        report.cases.len(),
        declared_total() + runner::HARNESS_CASES,
        "every declared test and every harness probe must run"
    );
    assert_eq!(
        report
            .cases
            .iter()
            .filter(|c| c.family == "harness")
            .count(),
        runner::HARNESS_CASES
    );
    let failures: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.outcome != Outcome::Pass)
        .map(|c| format!("{} {} {}", c.id, c.slug, c.actual))
        .collect();
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    // Every invalid vector was checked for its exact class.
    assert!(
        report
            .cases
            .iter()
            .any(|c| c.expected.starts_with("error "))
    );
}

/// The built-in implementation with deliberate defects.
struct Broken {
    inner: Builtin,
}

impl Implementation for Broken {
    fn name(&self) -> String {
        "broken fixture".to_owned()
    }
    fn call(&mut self, op: &str, mut args: Value) -> OpResult<Value> {
        match op {
            // Defect 1: accepts trailing bytes by ignoring everything after the first byte of
            // a two-byte input 0x00 0x00.
            "cbor-decode" if args["input"] == "0000" => Ok(json!({"reencoded": "0000"})),
            // Defect 2: not order independent.
            "safety-code" => {
                let swapped = args["identityKeyA"].as_str() > args["identityKeyB"].as_str();
                self.inner.call(op, args).map(|mut value| {
                    if swapped {
                        let code: String = value["code"].as_str().unwrap().chars().rev().collect();
                        value["code"] = json!(code);
                    }
                    value
                })
            }
            "did-key-decode" => Err(Failure::Unimplemented {
                feature: format!("did-key ({} bytes)", args["did"].as_str().unwrap().len()),
            }),
            // Defect 3: never checks expiry.
            "invite-verify" => {
                args["now"] = json!(0);
                self.inner.call(op, args)
            }
            // Defect 4: a message whose key is gone "opens" to nothing instead of failing.
            "ratchet-decrypt" => match self.inner.call(op, args) {
                Err(Failure::Error { class }) if class == "ratchet.replay" => {
                    Ok(json!({"plaintext": ""}))
                }
                other => other,
            },
            // Defect 6: commits the ratchet before the padding and the event are checked
            // (ENV-09).
            "ratchet-decrypt-event" => {
                quietwire_conformance::shim::server::committed_event(&mut self.inner, &args)
            }
            // Defect 7: a record of the generation kept replaces it (ENV-07 wants a higher
            // one).
            "event-device-record" => {
                let held = args["heldGeneration"].as_u64();
                args["heldGeneration"] = json!(held.and_then(|g| g.checked_sub(1)));
                self.inner.call(op, args)
            }
            // Defect 5: writes to a failing store are acknowledged (never durable).
            "relay-handle" => {
                args["storeUnavailable"] = json!(false);
                self.inner.call(op, args)
            }
            // Not implemented: relay-frame-decode, and the features below.
            "relay-frame-decode" => Err(Failure::Unimplemented {
                feature: "relay".to_owned(),
            }),
            _ => match feature_of(op) {
                Some(
                    feature @ ("hpke" | "envelope" | "mailbox" | "handshake" | "reconnect"
                    | "backup"),
                ) => Err(Failure::Unimplemented {
                    feature: feature.to_owned(),
                }),
                _ => self.inner.call(op, args),
            },
        }
    }
}

#[test]
fn broken_implementation_fails_with_precise_case_ids() {
    let report = runner::run_all(
        &vector_dir(),
        &mut Broken {
            inner: Builtin::default(),
        },
    )
    .unwrap();
    assert!(!report.all_passed());
    let failed: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| format!("{}/{}", c.family, c.slug))
        .collect();
    let has = |id: &str| failed.iter().any(|f| f == id);
    assert!(has("cbor/trailing-byte"), "{failed:?}");
    assert!(has("safety_code/bob-alice"), "{failed:?}");
    assert!(has("invite/expired-at-boundary"), "{failed:?}");
    assert!(has("invite/expired-long-ago"), "{failed:?}");
    assert!(has("ratchet/replay-in-current-chain"), "{failed:?}");
    assert!(has("ratchet/eviction"), "{failed:?}");
    assert!(has("relay/store-unavailable"), "{failed:?}");
    assert!(has("ratchet/event-unpadded-first-message"), "{failed:?}");
    assert!(has("ratchet/event-schema-new-chain"), "{failed:?}");
    assert!(has("event/equal-generation-other-keys"), "{failed:?}");
    // Cases unaffected by the defects still pass.
    assert!(!has("safety_code/alice-bob"));
    assert!(!has("invite/valid-xwing"));
    assert!(!has("ratchet/in-order"));
    assert!(!has("ratchet/replay-of-forgotten-chain"));
    assert!(!has("relay/put-fetch-delete"));
    assert!(!has("ratchet/event-open"));
    assert!(!has("event/lower-generation"));
    assert!(!has("event/other-identity"));
    // A divergence is explained field by field, with the step's operation and side.
    let diverged = report
        .cases
        .iter()
        .find(|c| c.family == "ratchet" && c.slug == "event-unpadded-first-message")
        .unwrap();
    assert!(
        diverged
            .actual
            .contains("step 1 (decrypt-event by responder): snapshot digest")
            && diverged.actual.contains("field 5 (RK): expected"),
        "{}",
        diverged.actual
    );
    let case = |slug: &str| {
        report
            .cases
            .iter()
            .find(|c| c.family == "relay" && c.slug == slug)
            .unwrap()
    };
    assert!(
        case("store-unavailable")
            .actual
            .contains("step 1: error class None"),
        "{:?}",
        case("store-unavailable")
    );
    assert_eq!(case("frame-wake").outcome, Outcome::Unimplemented);
    let unimplemented = report.count(&Outcome::Unimplemented);
    assert!(
        unimplemented > 0
            && report
                .cases
                .iter()
                .filter(|c| c.family == "did_key")
                .all(|c| c.outcome != Outcome::Pass)
    );
    let summary = report.summary();
    assert!(summary.contains("Fail cbor/"), "{summary}");
    assert!(summary.contains("Unimplemented did_key/"), "{summary}");
}
