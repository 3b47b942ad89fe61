//! The loader rejects every kind of malformed vector file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use quietwire_test_vectors::families::cbor::CborGroup;
use quietwire_test_vectors::format::load;

fn base() -> serde_json::Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/v1/cbor.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn loads(value: &serde_json::Value) -> Result<(), String> {
    load::<CborGroup>(&value.to_string()).map(|_| ())
}

#[test]
fn accepts_the_committed_file() {
    loads(&base()).unwrap();
}

#[test]
fn rejects_unknown_fields_at_every_level() {
    let mut top = base();
    top["extra"] = 1.into();
    assert!(loads(&top).unwrap_err().contains("unknown field"));
    let mut group = base();
    group["testGroups"][0]["extra"] = 1.into();
    assert!(loads(&group).unwrap_err().contains("unknown field"));
    let mut test = base();
    test["testGroups"][0]["tests"][0]["extra"] = 1.into();
    assert!(loads(&test).unwrap_err().contains("unknown field"));
    let mut note = base();
    note["notes"]["Canonical"]["extra"] = 1.into();
    assert!(loads(&note).unwrap_err().contains("unknown field"));
}

#[test]
fn rejects_count_mismatch() {
    let mut file = base();
    let n = file["numberOfTests"].as_u64().unwrap();
    file["numberOfTests"] = (n + 1).into();
    assert!(loads(&file).unwrap_err().contains("numberOfTests"));
}

#[test]
fn rejects_duplicate_ids_and_slugs() {
    let mut ids = base();
    ids["testGroups"][0]["tests"][1]["tcId"] = ids["testGroups"][0]["tests"][0]["tcId"].clone();
    assert!(loads(&ids).unwrap_err().contains("duplicate tcId"));
    let mut slugs = base();
    slugs["testGroups"][0]["tests"][1]["slug"] = slugs["testGroups"][0]["tests"][0]["slug"].clone();
    assert!(loads(&slugs).unwrap_err().contains("duplicate slug"));
}

#[test]
fn rejects_bad_flags_and_classes() {
    let mut flag = base();
    flag["testGroups"][0]["tests"][0]["flags"] = serde_json::json!(["NoSuchFlag"]);
    assert!(loads(&flag).unwrap_err().contains("undefined flag"));
    let invalid_index = base()["testGroups"][0]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .position(|t| t["result"] == "invalid")
        .unwrap();
    let mut unknown = base();
    unknown["testGroups"][0]["tests"][invalid_index]["errorClass"] = "cbor.nonsense".into();
    assert!(loads(&unknown).unwrap_err().contains("unknown error class"));
    let mut missing = base();
    missing["testGroups"][0]["tests"][invalid_index].as_object_mut().unwrap().remove("errorClass");
    assert!(loads(&missing).unwrap_err().contains("no errorClass"));
    let mut superfluous = base();
    superfluous["testGroups"][0]["tests"][0]["errorClass"] = "cbor.trailing".into();
    assert!(loads(&superfluous).unwrap_err().contains("not invalid"));
    let mut acceptable = base();
    acceptable["testGroups"][0]["tests"][0]["result"] = "acceptable".into();
    acceptable["testGroups"][0]["tests"][0]["flags"] = serde_json::json!([]);
    assert!(loads(&acceptable).unwrap_err().contains("no flag"));
}

#[test]
fn rejects_uppercase_hex() {
    let mut file = base();
    file["testGroups"][0]["tests"][2]["input"] = "1818".to_uppercase().replace("18", "AB").into();
    assert!(loads(&file).unwrap_err().contains("lowercase"));
}

/// Slugs name tests in reports and in the runner's selections, so no two tests of a file share
/// one (spec/15-test-vectors.md §15.1).
#[test]
fn slugs_are_unique_in_every_file() {
    for file in quietwire_test_vectors::committed_files().unwrap() {
        let json: serde_json::Value = serde_json::from_str(&file.contents).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for group in json["testGroups"].as_array().unwrap() {
            for test in group["tests"].as_array().unwrap() {
                let slug = test["slug"].as_str().unwrap();
                assert!(seen.insert(slug.to_owned()), "{}: duplicate slug {slug}", file.name);
            }
        }
    }
}
