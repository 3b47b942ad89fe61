//! Every vector file validates against its JSON Schema in `test-vectors/schemas/`, and the
//! schemas reject the faults they exist to catch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Value, json};

fn schema_for(family: &str) -> jsonschema::Validator {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("schemas/{family}.schema.json"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::draft202012::new(&schema).unwrap()
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

/// The committed files (the drift test proves they are what the generator produces),
/// parsed once per test binary.
fn generated() -> Vec<(String, Value)> {
    static FILES: OnceLock<Vec<(String, Value)>> = OnceLock::new();
    FILES
        .get_or_init(|| {
            quietwire_test_vectors::committed_files()
                .unwrap()
                .iter()
                .map(|file| {
                    let json: Value = serde_json::from_str(&file.contents).unwrap();
                    (json["family"].as_str().unwrap().to_owned(), json)
                })
                .collect()
        })
        .clone()
}

#[test]
fn every_file_validates_against_its_schema() {
    let files = generated();
    assert_eq!(files.len(), 15, "one file per family");
    for (family, json) in &files {
        let schema_id = json["schema"].as_str().unwrap();
        assert_eq!(schema_id, format!("quietwire-vectors/v1/{family}.schema.json"));
        let found = errors(&schema_for(family), json);
        assert!(found.is_empty(), "{family}: {found:#?}");
    }
}

#[test]
fn every_schema_file_belongs_to_a_family() {
    let families: Vec<String> = generated().into_iter().map(|(f, _)| f).collect();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let family = name.strip_suffix(".schema.json").unwrap();
        assert!(families.iter().any(|f| f == family), "stale schema {name}");
    }
}

/// Applies `mutate` to the first test of the first group of `family` and returns the errors.
fn mutated(family: &str, mutate: impl FnOnce(&mut Value)) -> Vec<String> {
    let (_, mut json) = generated().into_iter().find(|(f, _)| f == family).unwrap();
    mutate(&mut json);
    errors(&schema_for(family), &json)
}

#[test]
fn schemas_reject_malformed_files() {
    // An unknown field in a test.
    assert!(!mutated("cbor", |j| j["testGroups"][0]["tests"][0]["surprise"] = json!(1)).is_empty());
    // An invalid test without its error class.
    assert!(
        !mutated("cbor", |j| {
            let test = &mut j["testGroups"][0]["tests"][0];
            test["result"] = json!("invalid");
            test.as_object_mut().unwrap().remove("errorClass");
        })
        .is_empty()
    );
    // A valid test that names an error class.
    assert!(
        !mutated("cbor", |j| j["testGroups"][0]["tests"][0]["errorClass"] = json!("cbor.trailing"))
            .is_empty()
    );
    // Hex with an odd number of digits, or upper case.
    assert!(!mutated("cbor", |j| j["testGroups"][0]["tests"][0]["input"] = json!("0")).is_empty());
    assert!(
        !mutated("did_key", |j| j["testGroups"][0]["tests"][0]["key"] = json!("AB".repeat(32)))
            .is_empty()
    );
    // A note without a spec reference.
    assert!(
        !mutated("invite", |j| {
            let note = j["notes"].as_object_mut().unwrap().values_mut().next().unwrap();
            note["specRef"] = json!([]);
        })
        .is_empty()
    );
    // A group of an unknown type.
    assert!(
        !mutated("invite", |j| j["testGroups"][0]["type"] = json!("invite-frobnicate")).is_empty()
    );
    // A backup decoding test with both a whole file and a recipe; an edit without its offset.
    assert!(
        !mutated("backup", |j| {
            let groups = j["testGroups"].as_array_mut().unwrap();
            let group = groups.iter_mut().find(|g| g["type"] == "xbk-stream").unwrap();
            group["tests"][0]["file"] = json!("00");
        })
        .is_empty()
    );
    assert!(
        !mutated("backup", |j| {
            let groups = j["testGroups"].as_array_mut().unwrap();
            let group = groups.iter_mut().find(|g| g["type"] == "xbk-stream").unwrap();
            group["tests"][0]["edits"][0].as_object_mut().unwrap().remove("length");
        })
        .is_empty()
    );
    // A file claiming another family.
    assert!(!mutated("safety_code", |j| j["family"] = json!("invite")).is_empty());
    // A relay step that both fails and wakes a mailbox; a relay limit of 0.
    assert!(
        !mutated("relay", |j| {
            let step = &mut j["testGroups"][1]["tests"][0]["steps"][0];
            step["errorClass"] = json!("relay.rate");
            step["wake"] = json!("00".repeat(32));
        })
        .is_empty()
    );
    assert!(!mutated("relay", |j| j["testGroups"][1]["limits"]["rate"] = json!(0)).is_empty());
}
