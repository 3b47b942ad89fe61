//! The shim protocol end to end: the built-in shim passes the vectors through it, and a
//! deliberately broken shim (the built-in shim with test-only `--break` defects) makes the
//! runner fail with precise case ids; crashes, silences and protocol violations fail the case
//! in progress with a message that says what happened, and the shim is started again.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use quietwire_conformance::config::{Config, Selection};
use quietwire_conformance::shim::client::ShimClient;
use quietwire_conformance::{Implementation, Outcome, Report, runner};

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-vectors/v1")
}

fn shim(defects: &[&str]) -> String {
    let mut command = format!("'{}'", env!("CARGO_BIN_EXE_quietwire-conformance-shim"));
    for d in defects {
        command.push_str(&format!(" --break {d}"));
    }
    command
}

fn only(prefixes: &[&str]) -> Selection {
    Selection {
        only: prefixes.iter().map(|p| (*p).to_owned()).collect(),
        config: Config::default(),
    }
}

fn run(defects: &[&str], prefixes: &[&str], timeout: Duration) -> Report {
    let mut client = ShimClient::spawn(&shim(defects), timeout).unwrap();
    runner::run_selected(&vector_dir(), &mut client, &only(prefixes)).unwrap()
}

fn case<'a>(report: &'a Report, family: &str, slug: &str) -> &'a quietwire_conformance::CaseResult {
    report
        .cases
        .iter()
        .find(|c| c.family == family && c.slug == slug)
        .unwrap_or_else(|| panic!("no case {family}/{slug}"))
}

fn not_passed(report: &Report) -> Vec<String> {
    report
        .cases
        .iter()
        .filter(|c| c.outcome != Outcome::Pass)
        .map(|c| format!("{} {} {:?}: {}", c.id, c.slug, c.outcome, c.actual))
        .collect()
}

/// Every family of the runner but the large backup decodings (which take minutes as hex
/// through a pipe in a debug build; `backup_ops_through_the_shim` covers the backup ops). A
/// family added to the runner is included here by itself, so an operation missing from the
/// shim protocol shows as UNIMPLEMENTED and fails this test.
fn families() -> Vec<&'static str> {
    runner::FILES
        .iter()
        .filter_map(|f| f.strip_suffix(".json"))
        .filter(|f| *f != "backup")
        .chain(["harness"])
        .collect()
}

#[test]
fn builtin_shim_passes_every_vector() {
    let report = run(&[], &families(), Duration::from_secs(60));
    assert!(report.cases.len() > 500, "{}", report.cases.len());
    let failed = not_passed(&report);
    assert!(
        failed.is_empty(),
        "through the shim protocol:\n{}",
        failed.join("\n")
    );
    assert!(report.implementation.contains("(shim: "));
}

#[test]
fn backup_ops_through_the_shim() {
    // Small cases of every backup op: recovery keys, an export, decodings (container,
    // header, MAC, stream), re-keying and seeking.
    let ids = [
        "backup/1",
        "backup/2",
        "backup/26",
        "backup/31",
        "backup/55",
        "backup/125",
        "backup/133",
        "backup/226",
        "backup/239",
    ];
    let report = run(&[], &ids, Duration::from_secs(60));
    assert_eq!(report.cases.len(), ids.len());
    let failed = not_passed(&report);
    assert!(!report.cases.is_empty());
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn broken_shim_fails_with_precise_case_ids() {
    let report = run(
        &[
            "cbor-trailing",
            "safety-order",
            "invite-expiry",
            "no-did-key",
            "ratchet-replay",
            "relay-durability",
        ],
        &[
            "cbor",
            "safety_code",
            "did_key",
            "invite",
            "ratchet",
            "relay",
        ],
        Duration::from_secs(60),
    );
    let failed: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| format!("{}/{}", c.family, c.slug))
        .collect();
    let has = |id: &str| failed.iter().any(|f| f == id);
    for id in [
        "cbor/trailing-byte",
        "safety_code/bob-alice",
        "invite/expired-at-boundary",
        "invite/expired-long-ago",
        "ratchet/replay-in-current-chain",
        "relay/store-unavailable",
    ] {
        assert!(has(id), "{id} did not fail: {failed:?}");
    }
    for id in [
        "safety_code/alice-bob",
        "invite/valid-xwing",
        "ratchet/in-order",
        "relay/put-fetch-delete",
    ] {
        assert!(!has(id), "{id} failed: {failed:?}");
    }
    // Precise: the id is family/tcId, and the detail says what differs and how.
    let trailing = case(&report, "cbor", "trailing-byte");
    assert!(trailing.id.starts_with("cbor/"), "{}", trailing.id);
    assert_eq!(trailing.expected, "error cbor.trailing");
    assert_eq!(trailing.actual, "accept");
    assert!(
        trailing
            .transcript
            .iter()
            .any(|l| l.contains("\"op\":\"cbor-decode\"")),
        "the transcript shows the exchange: {:?}",
        trailing.transcript
    );
    let unavailable = case(&report, "relay", "store-unavailable");
    assert!(
        unavailable.actual.contains("step 1: error class None"),
        "{}",
        unavailable.actual
    );
    // A feature the shim does not declare is UNIMPLEMENTED, never a pass.
    assert!(report
        .cases
        .iter()
        .filter(|c| c.family == "did_key")
        .all(|c| c.outcome == Outcome::Unimplemented && c.feature.as_deref() == Some("did-key")));
    let summary = report.summary();
    assert!(
        summary.contains(&format!("Fail {} trailing-byte", trailing.id)),
        "{summary}"
    );
}

#[test]
fn crash_fails_the_case_and_the_shim_restarts() {
    let report = run(
        &["crash:safety-code"],
        &["safety_code"],
        Duration::from_secs(60),
    );
    let code = case(&report, "safety_code", "alice-bob");
    assert_eq!(code.outcome, Outcome::Fail);
    assert!(code.actual.contains("shim.crashed"), "{}", code.actual);
    assert!(code.actual.contains("(safety-code)"), "{}", code.actual);
    assert!(code.actual.contains("exit status: 3"), "{}", code.actual);
    // The QR cases, after the crashes, ran on a new process and passed.
    assert!(
        report
            .cases
            .iter()
            .filter(|c| c.group.starts_with("safety-qr"))
            .all(|c| c.outcome == Outcome::Pass)
    );
}

#[test]
fn silence_is_a_timeout() {
    let report = run(
        &["hang:did-key-encode"],
        &["did_key"],
        Duration::from_secs(2),
    );
    let encode: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.group == "did-key-encode")
        .collect();
    assert!(!encode.is_empty());
    for c in encode {
        assert_eq!(c.outcome, Outcome::Fail);
        assert!(
            c.actual.contains("shim.timeout: no reply to request")
                && c.actual.contains("(did-key-encode) within 2 s"),
            "{}",
            c.actual
        );
    }
    assert!(
        report
            .cases
            .iter()
            .filter(|c| c.group == "did-key-decode")
            .all(|c| c.outcome == Outcome::Pass)
    );
}

#[test]
fn anything_but_a_reply_is_a_protocol_error() {
    let report = run(
        &["garbage:envelope-bucket"],
        &["envelope"],
        Duration::from_secs(60),
    );
    let bucket: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.group == "envelope-bucket")
        .collect();
    assert!(!bucket.is_empty());
    for c in bucket {
        assert_eq!(c.outcome, Outcome::Fail, "{}", c.id);
        assert!(
            c.actual.contains("shim.protocol") && c.actual.contains("is not JSON"),
            "{}",
            c.actual
        );
    }
}

#[test]
fn a_lying_state_digest_is_caught() {
    let report = run(&["wrong-digest"], &["ratchet/1"], Duration::from_secs(60));
    let c = case(&report, "ratchet", "in-order");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(c.actual.contains("snapshotDigest"), "{}", c.actual);
}

#[test]
fn error_map_translates_classes() {
    let mut client = ShimClient::spawn(&shim(&["rename-class"]), Duration::from_secs(60)).unwrap();
    let plain = runner::run_selected(&vector_dir(), &mut client, &only(&["cbor"])).unwrap();
    let trailing = case(&plain, "cbor", "trailing-byte");
    assert_eq!(trailing.outcome, Outcome::Fail);
    assert_eq!(trailing.actual, "error cbor.trailing_bytes");
    let mut config = Config::default();
    config
        .error_map
        .insert("cbor.trailing".to_owned(), "cbor.trailing_bytes".to_owned());
    client.set_error_map(&config.error_map);
    let mapped = runner::run_selected(&vector_dir(), &mut client, &only(&["cbor"])).unwrap();
    assert!(mapped.all_passed(), "{:?}", not_passed(&mapped));
    assert!(client.name().starts_with("quietwire"));
}

#[test]
fn the_command_exits_non_zero_with_the_failing_ids() {
    let out = std::env::temp_dir().join(format!("qw-conformance-shim-test-{}", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_quietwire-conformance"))
        .args(["run", "--only", "cbor", "--shim"])
        .arg(shim(&["cbor-trailing"]))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("trailing-byte (cbor-decode): expected error cbor.trailing, got accept"),
        "{stdout}"
    );
    assert!(stdout.contains("FAIL: 1 case(s) failed"), "{stdout}");
    let vectors: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("vectors.json")).unwrap()).unwrap();
    assert_eq!(vectors["verdict"], "fail");
    assert_eq!(vectors["blocking"].as_array().unwrap().len(), 1);
    for file in [
        "index.json",
        "report.html",
        "summary.md",
        "vectors.junit.xml",
        "vectors.md",
    ] {
        assert!(out.join(file).exists(), "{file}");
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn harness_probes_fail_a_shim_that_skips_the_protocols_own_rules() {
    // A correct shim passes the probes.
    let report = run(&[], &["harness"], Duration::from_secs(60));
    assert_eq!(report.cases.len(), 3);
    assert!(not_passed(&report).is_empty(), "{:?}", not_passed(&report));
    // A shim that hands the implementation whatever randomness it needs fails the two
    // randomness probes; one that ignores `pushes` fails the third.
    let report = run(
        &["loose-randomness", "ignore-pushes"],
        &["harness"],
        Duration::from_secs(60),
    );
    for slug in [
        "randomness-extra-byte",
        "randomness-missing-byte",
        "pushes-zero-size",
    ] {
        let c = case(&report, "harness", slug);
        assert_eq!(c.outcome, Outcome::Fail, "{c:?}");
        assert!(c.actual.starts_with("ok:"), "{c:?}");
    }
}

#[test]
fn a_shim_that_ignores_push_sizes_fails_every_split_decoding() {
    let report = run(&["ignore-pushes"], &["backup/55"], Duration::from_secs(60));
    let c = &report.cases[0];
    assert_eq!(c.outcome, Outcome::Fail, "{c:?}");
    assert!(c.actual.contains("slices"), "{c:?}");
}

#[test]
fn unimplemented_for_a_declared_feature_fails_as_shim_declared_feature() {
    // The shim lists `did-key` in its capabilities but answers `unimplemented`: not an
    // optional gap but a broken promise (SHIM-04).
    let report = run(
        &["undeclared-did-key"],
        &["did_key/1"],
        Duration::from_secs(60),
    );
    let c = &report.cases[0];
    assert_eq!(c.outcome, Outcome::Fail, "{c:?}");
    assert!(c.actual.contains("shim.declared_feature"), "{c:?}");
    // Without the feature in its capabilities, the same answers are an unimplemented gap.
    let report = run(&["no-did-key"], &["did_key/1"], Duration::from_secs(60));
    assert_eq!(
        report.cases[0].outcome,
        Outcome::Unimplemented,
        "{:?}",
        report.cases[0]
    );
}

#[test]
fn value_fields_outside_table_16_1_are_a_protocol_error() {
    let report = run(
        &["extra-field:cbor-decode"],
        &["cbor/1"],
        Duration::from_secs(60),
    );
    let c = &report.cases[0];
    assert_eq!(c.outcome, Outcome::Fail, "{c:?}");
    assert!(
        c.actual.contains("shim.protocol") && c.actual.contains("`extra`"),
        "{c:?}"
    );
}

#[test]
fn stderr_written_during_a_failing_case_is_in_its_transcript() {
    // `flip-message` fails the session at its first encryption, after both ratchet-init
    // requests, during which the shim wrote a diagnostic line.
    let report = run(
        &["stderr:ratchet-init", "flip-message"],
        &["ratchet/1"],
        Duration::from_secs(60),
    );
    let c = &report.cases[0];
    assert_eq!(c.outcome, Outcome::Fail, "{c:?}");
    assert!(
        c.transcript
            .iter()
            .any(|l| l == "stderr: shim diagnostic: received ratchet-init"),
        "{:?}",
        c.transcript
    );
}
