//! Self-test cases of the harness (spec/16-conformance-shim.md §16.5, SHIM-06): requests no
//! vector makes, which only a shim that applies the protocol's own rules answers correctly.
//!
//! A shim that hands the implementation more or fewer random bytes than it was given, or that
//! ignores the push sizes of a backup decoding, passes every vector; these cases fail it. They
//! are reported as the family `harness`, ids `harness/1` to `harness/3`.

use quietwire_test_vectors::families::backup::UnlockJson;
use serde_json::{Value, json};

use crate::config::{Choice, Selection};
use crate::implementation::{Failure, Implementation, OpResult};
use crate::report::{CaseResult, Outcome, cap_transcript};
use crate::shim::hex;

/// The randomness an X25519 HPKE encapsulation draws: one 32-byte ephemeral secret.
const X25519_ENCAP_RANDOMNESS: usize = 32;

pub(super) struct Probe {
    pub(super) tc_id: u32,
    slug: &'static str,
    op: &'static str,
    /// The class prefix the shim must answer (SHIM-05, SHIM-06).
    want: &'static str,
    note: &'static str,
}

pub(super) const PROBES: &[Probe] = &[
    Probe {
        tc_id: 1,
        slug: "randomness-extra-byte",
        op: "hpke-seal",
        want: "harness.randomness",
        note: "hpke-seal (suite 2) given 33 random bytes where the encapsulation draws 32: the shim must answer harness.randomness…, not seal",
    },
    Probe {
        tc_id: 2,
        slug: "randomness-missing-byte",
        op: "hpke-seal",
        want: "harness.randomness",
        note: "hpke-seal (suite 2) given 31 random bytes where the encapsulation draws 32: the shim must answer harness.randomness…, not seal with bytes of its own",
    },
    Probe {
        tc_id: 3,
        slug: "pushes-zero-size",
        op: "backup-decode",
        want: "harness.pushes",
        note: "backup-decode with the push sizes [0]: the shim must answer harness.pushes, which only a shim that reads `pushes` does",
    },
];

fn run_probe(probe: &Probe, imp: &mut dyn Implementation) -> OpResult<Value> {
    let hpke = |len: usize| {
        json!({
            "suite": 2,
            "recipientSeed": hex(&[7; 32]),
            "info": hex(b"quietwire harness probe"),
            "aad": "",
            "exporterContext": "",
            "plaintext": hex(b"probe"),
            "randomness": hex(&vec![0x42; len]),
        })
    };
    let args = match probe.tc_id {
        1 => hpke(X25519_ENCAP_RANDOMNESS + 1),
        2 => hpke(X25519_ENCAP_RANDOMNESS - 1),
        _ => {
            let unlock = UnlockJson {
                passphrase: Some("harness probe".to_owned()),
                ..UnlockJson::default()
            };
            json!({
                "input": hex(b"QWB1"),
                "unlock": serde_json::to_value(unlock).unwrap_or(Value::Null),
                "pin": null,
                "maxChunks": null,
                "kdfCaps": null,
                "records": false,
                "thenSeal": false,
                "pushes": [0],
            })
        }
    };
    imp.call(probe.op, args)
}

/// Runs the probes `selection` selects.
pub(crate) fn run(imp: &mut dyn Implementation, selection: &Selection) -> Vec<CaseResult> {
    let transcript = imp.transcript();
    let mut out = Vec::new();
    for probe in PROBES {
        let id = format!("harness/{}", probe.tc_id);
        let base = CaseResult {
            id: id.clone(),
            family: "harness".to_owned(),
            group: "harness-probe".to_owned(),
            tc_id: probe.tc_id,
            slug: probe.slug.to_owned(),
            expected: format!("error {}…", probe.want),
            note: Some(probe.note.to_owned()),
            ..CaseResult::default()
        };
        match selection.choose(&id) {
            Choice::Excluded => continue,
            Choice::Disabled(reason) => {
                out.push(CaseResult {
                    outcome: Outcome::Disabled,
                    actual: "not run".to_owned(),
                    note: Some(reason.to_owned()),
                    ..base
                });
                continue;
            }
            Choice::Run => {}
        }
        let result = run_probe(probe, imp);
        let (outcome, actual, class, feature) = match result {
            Err(Failure::Error { class }) if class.starts_with(probe.want) => {
                (Outcome::Pass, format!("error {class}"), Some(class), None)
            }
            Err(Failure::Error { class }) => {
                (Outcome::Fail, format!("error {class}"), Some(class), None)
            }
            Err(Failure::Unimplemented { feature }) => (
                Outcome::Unimplemented,
                format!("unimplemented {feature}"),
                None,
                feature.split_whitespace().next().map(str::to_owned),
            ),
            Ok(_) => (
                Outcome::Fail,
                format!("ok: {} answered without checking", probe.op),
                None,
                None,
            ),
        };
        let log = transcript
            .as_ref()
            .map(|log| std::mem::take(&mut *log.borrow_mut()))
            .unwrap_or_default();
        out.push(CaseResult {
            transcript: match outcome {
                Outcome::Pass => Vec::new(),
                _ => cap_transcript(log),
            },
            outcome,
            actual,
            class,
            feature,
            ..base
        });
    }
    out
}
