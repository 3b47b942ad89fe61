//! The live relay tester: `--list` shows every case without connecting, and every case passes
//! (or is INFORMATIONAL where it needs control the tester does not have) against the
//! reference relay started on loopback. Nothing is skipped: if the relay cannot be built or
//! started, the test fails.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use quietwire::relay::Limits;
use quietwire_conformance::Outcome;
use quietwire_conformance::config::Selection;
use quietwire_conformance::relay_live::{self, Options, Restart};
use quietwire_conformance::relay_process::{
    RelayProcess, TestCertificate, limit_flags, relay_binary,
};

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-vectors/v1")
}

#[test]
fn list_prints_every_case_with_its_requirement() {
    let output = Command::new(env!("CARGO_BIN_EXE_quietwire-conformance"))
        .args(["relay", "--list"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let cases = relay_live::cases(&vector_dir()).unwrap();
    assert!(cases.len() > 100);
    for case in &cases {
        assert!(
            stdout.contains(&format!("{} [{}]", case.id, case.level.as_str())),
            "{} missing",
            case.id
        );
    }
    for rule in 1..=12 {
        assert!(
            stdout.contains(&format!("RLY-{rule:02}/")),
            "no case for RLY-{rule:02}"
        );
    }
    assert!(stdout.contains("requirement: \"A relay MUST NOT let one connection block others.\""));
    assert!(
        stdout.contains("RLY-15/half-open-closed [MUST]"),
        "{stdout}"
    );
    assert!(stdout.contains("RLY-16/upload-budget [MUST]"), "{stdout}");
    assert!(stdout.contains("RLY-04/reference-defaults [SHOULD]"));
    // Selection by prefix.
    let output = Command::new(env!("CARGO_BIN_EXE_quietwire-conformance"))
        .args(["relay", "--list", "--only", "RLY-07"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout
            .lines()
            .filter(|l| !l.starts_with(' '))
            .all(|l| l.starts_with("RLY-07/")),
        "{stdout}"
    );
}

#[test]
fn live_tester_passes_against_the_reference_relay() {
    let binary = relay_binary().expect("the reference relay must build");
    // As in the main job: the relays serve wss:// with a certificate made now, which the
    // tester alone trusts.
    let certificate = TestCertificate::new().unwrap();
    let mut relays: Vec<RelayProcess> = relay_live::script_limits(&vector_dir())
        .unwrap()
        .iter()
        .map(|l| {
            let mut flags = if *l == Limits::DEFAULT {
                Vec::new()
            } else {
                limit_flags(l)
            };
            flags.extend(certificate.flags());
            RelayProcess::start(&binary, flags).expect("the reference relay must start")
        })
        .collect();
    assert!(
        relays.len() >= 2,
        "the scripts use the default and small limits"
    );
    let urls: Vec<String> = relays.iter().map(RelayProcess::url).collect();
    assert!(
        urls.iter().all(|u| u.starts_with("wss://127.0.0.1:")),
        "{urls:?}"
    );
    let report = relay_live::run(
        &vector_dir(),
        Options {
            urls,
            strict: true,
            selection: Selection::default(),
            timeout: Duration::from_secs(20),
            restart: relays.first_mut().map(|r| r as &mut dyn Restart),
            trust: vec![certificate.der.clone()],
        },
    )
    .unwrap();
    let bad: Vec<String> = report
        .cases
        .iter()
        .filter(|c| !matches!(c.outcome, Outcome::Pass | Outcome::Informational))
        .map(|c| {
            format!(
                "{} {:?}: {}\n  {}",
                c.id,
                c.outcome,
                c.actual,
                c.transcript.join("\n  ")
            )
        })
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    let outcome = |id: &str| {
        report
            .cases
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no case {id}"))
            .outcome
            .clone()
    };
    // The scripts of both limit sets ran, and the process-level durability check too.
    assert_eq!(outcome("RLY-05/re-put-same"), Outcome::Pass);
    assert_eq!(outcome("RLY-05/mailbox-full"), Outcome::Pass);
    assert_eq!(outcome("RLY-05/durable-across-restart"), Outcome::Pass);
    assert_eq!(outcome("RLY-11/blind-envelopes"), Outcome::Pass);
    assert_eq!(outcome("RLY-10/rate-limit"), Outcome::Informational);
    assert_eq!(outcome("RLY-01/tls-or-loopback"), Outcome::Pass);
    assert_eq!(outcome("RLY-15/half-open-closed"), Outcome::Pass);
    assert_eq!(outcome("RLY-16/upload-budget"), Outcome::Informational);
    let informational: Vec<&str> = report
        .cases
        .iter()
        .filter(|c| c.outcome == Outcome::Informational)
        .map(|c| c.id.as_str())
        .collect();
    assert!(informational.len() <= 12, "{informational:?}");
    assert!(
        report
            .cases
            .iter()
            .all(|c| c.requirement.is_some() && c.level.is_some())
    );
}

#[test]
fn a_should_not_met_is_non_strict_unless_strict() {
    // The reference relay started with the small limits of relay.json: a valid relay that does
    // not announce the reference defaults (a SHOULD of RLY-04).
    let binary = relay_binary().expect("the reference relay must build");
    let small = relay_live::script_limits(&vector_dir())
        .unwrap()
        .into_iter()
        .find(|l| *l != Limits::DEFAULT)
        .unwrap();
    // Over wss://, trusting the relay's certificate through --ca.
    let certificate = TestCertificate::new().unwrap();
    let mut flags = limit_flags(&small);
    flags.extend(certificate.flags());
    let ca = flags
        .last()
        .map(|_| certificate.flags()[1].clone())
        .unwrap();
    let relay = RelayProcess::start(&binary, flags).unwrap();
    assert!(relay.url().starts_with("wss://"));
    let out = std::env::temp_dir().join(format!("qw-relay-strict-{}", std::process::id()));
    let run = |strict: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_quietwire-conformance"));
        command.args([
            "relay",
            "--url",
            &relay.url(),
            "--ca",
            &ca,
            "--only",
            "RLY-04",
            "--out",
        ]);
        command.arg(&out);
        if strict {
            command.arg("--strict");
        }
        command.output().unwrap()
    };
    let lenient = run(false);
    let stdout = String::from_utf8_lossy(&lenient.stdout);
    assert_eq!(lenient.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("NonStrict RLY-04/reference-defaults"),
        "{stdout}"
    );
    // The scripts of the small group ran on this relay, and enforce its limits.
    assert!(!stdout.contains("Fail "), "{stdout}");
    let strict = run(true);
    let stdout = String::from_utf8_lossy(&strict.stdout);
    assert_eq!(strict.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("Fail RLY-04/reference-defaults"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&out);
}
