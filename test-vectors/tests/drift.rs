//! The committed vector files are exactly what the generator produces.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::PathBuf;

#[test]
fn committed_vectors_match_the_generator() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("v1");
    let generated = quietwire_test_vectors::generate_all().expect("generation");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let mut expected: Vec<String> = generated.iter().map(|f| f.name.clone()).collect();
    expected.sort();
    assert_eq!(names, expected, "stray or missing files in test-vectors/v1");
    for file in &generated {
        let committed = std::fs::read_to_string(dir.join(&file.name)).unwrap();
        assert!(
            committed == file.contents,
            "{} differs from the generator: run `cargo run -p quietwire-test-vectors -- generate`",
            file.name
        );
    }
}

#[test]
fn generation_is_deterministic() {
    assert_eq!(
        quietwire_test_vectors::generate_all().unwrap(),
        quietwire_test_vectors::generate_all().unwrap()
    );
}
