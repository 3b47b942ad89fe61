//! The per-implementation configuration through the command line: disabled cases are reported
//! with their reason, optional features do not fail the run, and `stale` finds entries that
//! match nothing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "qw-conformance-config-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn conformance(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quietwire-conformance"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn stale_finds_planted_entries() {
    let dir = temp("stale");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        concat!(
            "[disabled]\n",
            "\"cbor/1\" = \"a vector case\"\n",
            "\"RLY-05/*\" = \"live relay cases\"\n",
            "\"ratchet/in-order/ab\" = \"an interop case\"\n",
            "\"cbor/99999\" = \"planted: no such case\"\n",
            "[errorMap]\n",
            "\"cbor.trailing\" = \"trailing\"\n",
            "\"no.such.class\" = \"planted\"\n",
        ),
    )
    .unwrap();
    let output = conformance(&["stale", "--config", config.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("stale: [disabled] \"cbor/99999\" matches no case"),
        "{stdout}"
    );
    assert!(
        stdout.contains("stale: [errorMap] \"no.such.class\""),
        "{stdout}"
    );
    assert_eq!(stdout.matches("stale:").count(), 2, "{stdout}");

    std::fs::write(&config, "[disabled]\n\"cbor/1\" = \"fine\"\n").unwrap();
    let output = conformance(&["stale", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    // The Python shim's configuration is not stale either.
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/config.toml");
    let output = conformance(&["stale", "--config", python.to_str().unwrap()]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn disabled_cases_are_reported_with_their_reason() {
    let dir = temp("disabled");
    let config = dir.join("config.toml");
    std::fs::write(&config, "[disabled]\n\"cbor/1\" = \"known issue #12\"\n").unwrap();
    let out = dir.join("reports");
    let output = conformance(&[
        "run",
        "--only",
        "cbor",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("Disabled cbor/1 "), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("vectors.json")).unwrap()).unwrap();
    let case = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "cbor/1")
        .unwrap();
    assert_eq!(case["outcome"], "DISABLED");
    assert_eq!(case["note"], "disabled: known issue #12");
    assert_eq!(json["counts"]["DISABLED"], 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unimplemented_fails_unless_optional() {
    let dir = temp("optional");
    let shim = format!(
        "'{}' --break no-did-key",
        env!("CARGO_BIN_EXE_quietwire-conformance-shim")
    );
    let out = dir.join("reports");
    let output = conformance(&[
        "run",
        "--only",
        "did_key",
        "--shim",
        &shim,
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("unimplemented without being declared optional"),
        "{stdout}"
    );
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        "[optional]\n\"did-key\" = \"not in this implementation\"\n",
    )
    .unwrap();
    let output = conformance(&[
        "run",
        "--only",
        "did_key",
        "--shim",
        &shim,
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("optional features (unimplemented without failing): did-key"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
