//! Replays every fuzz input the repository holds through the fuzz targets' invariant
//! checks (`quietwire::fuzzing`), so `cargo test` covers the corpora without a fuzzer:
//!
//! - `fuzz/seeds/<target>/`: seeds derived from the vectors (`fuzz/seed-corpus.py`);
//! - `fuzz/regressions/<target>/`: inputs that once broke an invariant, kept forever;
//! - `fuzz/corpus/<target>/`: a local campaign's corpus, when present (not committed).
//!
//! A panic inside a check names the file that caused it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use quietwire::fuzzing::TARGETS;

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> =
        entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

fn replay(kind: &str) -> Vec<(&'static str, usize, usize)> {
    let mut counts = Vec::new();
    for (name, check) in TARGETS {
        let mut accepted = 0;
        let inputs = files(&fuzz_dir().join(kind).join(name));
        for path in &inputs {
            let data = std::fs::read(path).unwrap();
            let result = std::panic::catch_unwind(|| check(&data));
            match result {
                Ok(true) => accepted += 1,
                Ok(false) => {}
                Err(_) => panic!("{name}: invariant broken by {}", path.display()),
            }
        }
        counts.push((*name, inputs.len(), accepted));
    }
    counts
}

#[test]
fn every_target_has_a_fuzz_binary_and_seeds() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for (name, _) in TARGETS {
        assert!(
            fuzz_dir().join(format!("fuzz_targets/{name}.rs")).is_file(),
            "no fuzz target {name}"
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name} missing from fuzz/Cargo.toml"
        );
    }
    for target in files(&fuzz_dir().join("fuzz_targets")) {
        let stem = target.file_stem().unwrap().to_str().unwrap().to_owned();
        assert!(TARGETS.iter().any(|(n, _)| *n == stem), "fuzz target {stem} has no replay");
    }
}

#[test]
fn seeds_replay_and_each_target_accepts_some() {
    for (name, total, accepted) in replay("seeds") {
        assert!(total > 0, "{name}: no seeds; run python3 fuzz/seed-corpus.py");
        // Valid vectors are among the seeds, so every target must reach its success path.
        assert!(accepted > 0, "{name}: no seed accepted ({total} seeds)");
        assert!(accepted < total, "{name}: every seed accepted; the seeds lack invalid inputs");
    }
}

#[test]
fn regressions_replay() {
    replay("regressions");
}

#[test]
fn local_corpus_replays() {
    replay("corpus");
}

/// The committed seeds are exactly what `fuzz/seed-corpus.py` derives from the vectors.
#[test]
fn seeds_match_the_vectors() {
    use sha2::{Digest, Sha256};
    /// (vector family, field, whether the field is hex).
    type Source = (&'static str, &'static str, bool);
    let sources: &[(&str, &[Source])] = &[
        ("cbor_value", &[("cbor", "input", true)]),
        ("device_record", &[("device_record", "record", true)]),
        ("invite", &[("invite", "invite", true), ("invite_encoding", "invite", true)]),
        ("invite_link", &[("invite_encoding", "link", false)]),
        ("invite_qr", &[("invite_encoding", "qr", true)]),
        ("did_key", &[("did_key", "did", false)]),
        ("safety_qr", &[("safety_code", "payload", true)]),
        (
            "ratchet_snapshot",
            &[("ratchet", "snapshot", true), ("ratchet", "initiatorSnapshot", true)],
        ),
        ("session_snapshot", &[("ratchet", "sessionSnapshot", true)]),
        ("device_keys", &[("device_record", "keys", true)]),
        ("device_list", &[("device_record", "list", true)]),
        ("backup_confirm", &[("backup", "message", true)]),
        ("handshake_accept", &[("handshake", "message", true)]),
        ("reconnect_open", &[("reconnect", "message", true)]),
        ("envelope", &[("envelope", "envelope", true), ("envelope", "padded", true)]),
        ("event", &[("event", "event", true)]),
        ("mailbox_proof", &[("mailbox", "proof", true)]),
        ("backup_header", &[("backup", "file", true)]),
        ("backup_stream", &[("backup", "file", true)]),
        (
            "relay_request",
            &[
                ("relay", "steps.request", true),
                ("relay", "steps.reply", true),
                ("relay", "welcome", true),
                ("relay", "frame", true),
            ],
        ),
    ];
    // ratchet_session, ratchet_pq_session, ratchet_pq_header, delivery_outbox and
    // backup_unlock take action scripts and delivery_snapshot takes local state, all seeded
    // by hand in fuzz/seed-corpus.py; relay_core's seeds are derived below.
    assert_eq!(sources.len() + 7, TARGETS.len());
    // The committed files: the drift test proves they are what the generator produces.
    let read = |family: &str| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("v1/{family}.json"));
        std::fs::read_to_string(path).unwrap()
    };
    for (target, fields) in sources {
        let mut expected = std::collections::BTreeSet::new();
        for (family, field, is_hex) in *fields {
            let json: serde_json::Value = serde_json::from_str(&read(family)).unwrap();
            // A field "steps.<name>" is read from every step of a test.
            let (in_steps, name) = match field.strip_prefix("steps.") {
                Some(name) => (true, name),
                None => (false, *field),
            };
            for group in json["testGroups"].as_array().unwrap() {
                for test in group["tests"].as_array().unwrap() {
                    let holders: Vec<&serde_json::Value> = if in_steps {
                        test["steps"].as_array().map(|s| s.iter().collect()).unwrap_or_default()
                    } else {
                        vec![test]
                    };
                    for value in holders.iter().filter_map(|h| h[name].as_str()) {
                        let blob = if *is_hex {
                            hex::decode(value).unwrap()
                        } else {
                            value.as_bytes().to_vec()
                        };
                        expected.insert(
                            hex::encode(Sha256::digest(&blob)).get(..16).unwrap().to_owned(),
                        );
                    }
                }
            }
        }
        let present: std::collections::BTreeSet<String> =
            files(&fuzz_dir().join("seeds").join(target))
                .iter()
                .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
                .collect();
        assert_eq!(present, expected, "{target}: seeds are stale; run python3 fuzz/seed-corpus.py");
    }
    // relay_core: every scripted connection of relay.json as one input.
    let json: serde_json::Value = serde_json::from_str(&read("relay")).unwrap();
    let mut expected = std::collections::BTreeSet::new();
    for group in json["testGroups"].as_array().unwrap() {
        if group["type"] != "relay-session" {
            continue;
        }
        for test in group["tests"].as_array().unwrap() {
            let (mut unix, mut millis) =
                (test["unixTime"].as_u64().unwrap(), test["millis"].as_u64().unwrap());
            let mut steps = Vec::new();
            for step in test["steps"].as_array().unwrap() {
                let (u, m) = (step["unixTime"].as_u64().unwrap(), step["millis"].as_u64().unwrap());
                let unavailable = step["storeUnavailable"].as_bool().unwrap_or(false);
                let request = hex::decode(step["request"].as_str().unwrap()).unwrap();
                steps.push((u - unix, m - millis, unavailable, request));
                (unix, millis) = (u, m);
            }
            let steps: Vec<(u64, u64, bool, &[u8])> =
                steps.iter().map(|(u, m, s, r)| (*u, *m, *s, r.as_slice())).collect();
            let input = quietwire::fuzzing::relay_input(&steps);
            expected.insert(hex::encode(Sha256::digest(&input)).get(..16).unwrap().to_owned());
        }
    }
    let present: std::collections::BTreeSet<String> = files(&fuzz_dir().join("seeds/relay_core"))
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(present, expected, "relay_core: seeds are stale; run python3 fuzz/seed-corpus.py");
}

/// The handshake target's inviter is the vectors' reusable x25519 inviter, so the vectors'
/// messages for it are valid seeds.
#[test]
fn the_handshake_target_uses_the_vectors_inviter() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("v1/handshake.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let invite = json["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tests"].as_array().unwrap())
        .find(|t| t["slug"] == "accept-x25519")
        .unwrap()["invite"]
        .as_str()
        .unwrap()
        .to_owned();
    let inviter = quietwire::fuzzing::handshake_inviter();
    assert_eq!(hex::encode(inviter.invite().to_bytes()), invite);
}

/// The fuzz targets rebuild the vectors' relay origin from their own constant.
#[test]
fn the_fuzz_targets_use_the_vectors_relay_origin() {
    assert_eq!(
        quietwire::fuzzing::VECTOR_ORIGIN,
        quietwire_test_vectors::families::material::VECTOR_ORIGIN
    );
}
