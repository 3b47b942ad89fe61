//! # Quietwire test vectors
//!
//! The generator, strict loader and data types of the golden vectors in `test-vectors/v1/`
//! (format: `spec/15-test-vectors.md`). Every file is produced deterministically from named
//! seeds by `cargo run -p quietwire-test-vectors -- generate`; a test regenerates them and
//! compares byte for byte, so the committed files are exactly what this code produces.
//! Nothing here reads a clock: every `now` is a field of the vector.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The field forms of `vector_test!` and `vector_record!` name their serde helpers by this
// crate's name, which resolves here too.
extern crate self as quietwire_test_vectors;

pub mod diag;
pub mod families;
pub mod format;
pub mod raw;
pub mod seeds;

use serde::Serialize;

/// Directory of the vector files, relative to the workspace root.
pub const VECTOR_DIR: &str = "test-vectors/v1";
/// Directory of the JSON Schemas, relative to the workspace root.
pub const SCHEMA_DIR: &str = "test-vectors/schemas";

/// One generated file: its name and its exact contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// File name inside [`VECTOR_DIR`].
    pub name: String,
    /// Pretty-printed JSON with a trailing newline.
    pub contents: String,
}

/// The committed vector files of this crate's `v1/` directory as [`GeneratedFile`]s (name
/// and contents), sorted by name: what the tests read (the drift test proves they are exactly
/// what [`generate_all`] produces).
///
/// # Errors
/// An I/O error reading the directory or a file.
pub fn committed_files() -> std::io::Result<Vec<GeneratedFile>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("v1");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.ends_with(".json") {
            let name = name.to_owned();
            files.push(GeneratedFile { contents: std::fs::read_to_string(&path)?, name });
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// Serializes a vector file the one way the repository stores it.
///
/// # Errors
/// A serialization error message (never expected for these types).
pub fn to_json<T: Serialize>(value: &T) -> Result<String, String> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}

/// Generates every vector file.
///
/// # Errors
/// A message naming the family whose generation or self-consistency check failed.
pub fn generate_all() -> Result<Vec<GeneratedFile>, String> {
    let mut files = Vec::new();
    for (name, contents) in [
        ("cbor.json", to_json(&families::cbor::generate()?)?),
        ("device_record.json", to_json(&families::device_record::generate()?)?),
        ("safety_code.json", to_json(&families::safety_code::generate()?)?),
        ("did_key.json", to_json(&families::did_key::generate()?)?),
        ("invite.json", to_json(&families::invite::generate()?)?),
        ("invite_encoding.json", to_json(&families::invite_encoding::generate()?)?),
        ("hpke.json", to_json(&families::hpke::generate()?)?),
        ("ratchet.json", to_json(&families::ratchet::generate()?)?),
        ("envelope.json", to_json(&families::envelope::generate()?)?),
        ("event.json", to_json(&families::event::generate()?)?),
        ("mailbox.json", to_json(&families::mailbox::generate()?)?),
        ("handshake.json", to_json(&families::handshake::generate()?)?),
        ("relay.json", to_json(&families::relay::generate()?)?),
        ("reconnect.json", to_json(&families::reconnect::generate()?)?),
        ("backup.json", to_json(&families::backup::generate()?)?),
    ] {
        files.push(GeneratedFile { name: name.to_owned(), contents });
    }
    Ok(files)
}
