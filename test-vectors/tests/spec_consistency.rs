//! The vectors, the error-class registry and the spec agree with each other.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::PathBuf;

fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec")
}

/// The committed vector files (the drift test proves they are what the generator produces).
fn committed_vectors() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("v1");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_str().unwrap().to_owned(),
                std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect()
}

fn spec_text() -> String {
    let mut text = String::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(spec_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for path in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
    {
        text.push_str(&std::fs::read_to_string(path).unwrap());
    }
    text
}

#[test]
fn every_spec_ref_names_an_existing_rule() {
    let spec = spec_text();
    let mut missing = BTreeSet::new();
    for (name, contents) in committed_vectors() {
        let json: serde_json::Value = serde_json::from_str(&contents).unwrap();
        for note in json["notes"].as_object().unwrap().values() {
            for rule in note["specRef"].as_array().unwrap() {
                let rule = rule.as_str().unwrap();
                if !spec.contains(&format!("**[{rule}]**")) {
                    missing.insert(format!("{}: {rule}", name));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "spec rules cited by vectors but not defined: {missing:?}"
    );
}

#[test]
fn error_registry_table_matches_the_implementation() {
    let registry = std::fs::read_to_string(spec_dir().join("14-registries.md")).unwrap();
    let mut in_table = false;
    let mut spec_classes = Vec::new();
    for line in registry.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if cells.first() == Some(&"class") && cells.get(1) == Some(&"fault") {
            in_table = true;
            continue;
        }
        if in_table {
            if !line.trim_start().starts_with('|') {
                break;
            }
            if cells
                .first()
                .is_some_and(|c| c.starts_with("---") || c.starts_with(":--"))
            {
                continue;
            }
            let class = cells.first().unwrap().trim_matches('`').to_owned();
            let fault = (*cells.get(1).unwrap()).to_owned();
            spec_classes.push((class, fault));
        }
    }
    let implemented: Vec<(String, String)> = quietwire::ErrorClass::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), c.fault().as_str().to_owned()))
        .collect();
    let spec_set: BTreeSet<_> = spec_classes.iter().cloned().collect();
    let impl_set: BTreeSet<_> = implemented.iter().cloned().collect();
    assert_eq!(
        spec_classes.len(),
        spec_set.len(),
        "duplicate rows in the registry"
    );
    assert_eq!(
        spec_set.difference(&impl_set).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "in the spec registry but not implemented (or with another fault)"
    );
    assert_eq!(
        impl_set.difference(&spec_set).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "implemented but missing from the spec registry"
    );
}

#[test]
fn every_error_class_is_exercised_by_a_vector() {
    let mut used = BTreeSet::new();
    for (_, contents) in committed_vectors() {
        for line in contents.lines() {
            if let Some(rest) = line.trim().strip_prefix("\"errorClass\": \"") {
                used.insert(rest.trim_end_matches(['"', ',']).to_owned());
            }
        }
    }
    let unused: Vec<&str> = quietwire::ErrorClass::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !used.contains(*c))
        .collect();
    assert!(
        unused.is_empty(),
        "error classes without a negative vector: {unused:?}"
    );
}

#[test]
fn labels_are_registered_in_the_spec() {
    let spec = spec_text();
    for label in quietwire::label::Label::ALL {
        assert!(
            spec.contains(label.as_str()),
            "label {} missing from the spec",
            label.as_str()
        );
    }
}
