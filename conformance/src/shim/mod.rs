//! The shim protocol (`spec/16-conformance-shim.md`): how the runner drives an implementation
//! in any language. The runner starts the shim as a child process and speaks JSON lines over
//! its stdin and stdout, one request and one reply per line:
//!
//! ```text
//! → {"id":1,"op":"capabilities","args":{}}
//! ← {"id":1,"result":"ok","value":{"name":"quietwire-py","version":"0.1.0","protocol":1,"suites":[1,2],"features":["cbor","hpke"],"optional":[]}}
//! → {"id":2,"op":"cbor-decode","args":{"input":"00","limits":{"maxInput":64,"maxDepth":4,"maxString":64,"maxItems":16}}}
//! ← {"id":2,"result":"ok","value":{"reencoded":"00"}}
//! → {"id":3,"op":"ratchet-init","args":{…}}
//! ← {"id":3,"result":"unimplemented","feature":"ratchet"}
//! ```
//!
//! - [`client::ShimClient`] is the runner's side: an [`Implementation`](crate::Implementation)
//!   that sends every operation to a shim process as it is, with a timeout per request, and
//!   checks its value against Table 16-1; a shim that crashes, hangs or breaks the protocol
//!   fails the case with a precise message and is restarted for the next case, so nothing is
//!   ever skipped.
//! - [`server::serve`] is the shim side for any [`Implementation`](crate::Implementation): the
//!   built-in shim (`quietwire-conformance-shim`, or `quietwire-conformance shim`) serves the
//!   `quietwire` crate ([`Builtin`](crate::builtin::Builtin)) with it, so that CI exercises the
//!   protocol itself; [`defects`] breaks it on purpose for the tests.
//!
//! The operations are those of [`OPS`], with their arguments and values named like the
//! vector fields and byte strings as lowercase hex: the same JSON objects that
//! [`Implementation::call`](crate::Implementation::call) takes and returns in process.

pub mod client;
pub mod defects;
mod fields;
mod process;
pub mod server;

pub use fields::{Fields, decode_hex, encode_hex, hex};

use serde::{Deserialize, Serialize};

/// The version of the shim protocol this runner speaks.
pub const PROTOCOL_VERSION: u64 = 1;

/// Every op of the protocol and the feature it belongs to (what a shim names in
/// `capabilities` and in its `unimplemented` answers). `capabilities` belongs to no feature.
pub const OPS: &[(&str, &str)] = &[
    ("cbor-decode", "cbor"),
    ("device-record-create", "identity"),
    ("device-record-verify", "identity"),
    ("device-keys-load", "device-keys"),
    ("device-list-create", "device-list"),
    ("device-list-verify", "device-list"),
    ("safety-fingerprint", "safety"),
    ("safety-code", "safety"),
    ("safety-qr-create", "safety"),
    ("safety-qr-verify", "safety"),
    ("did-key-encode", "did-key"),
    ("did-key-decode", "did-key"),
    ("invite-create", "invite"),
    ("invite-verify", "invite"),
    ("invite-encode", "invite"),
    ("invite-link-parse", "invite"),
    ("invite-qr-parse", "invite"),
    ("hpke-seal", "hpke"),
    ("hpke-open", "hpke"),
    ("handshake-initiate", "handshake"),
    ("handshake-listen", "handshake"),
    ("handshake-accept", "handshake"),
    ("reconnect-seal", "reconnect"),
    ("reconnect-open", "reconnect"),
    ("envelope-bucket", "envelope"),
    ("envelope-pad", "envelope"),
    ("envelope-unpad", "envelope"),
    ("envelope-receive", "envelope"),
    ("envelope-decode", "envelope"),
    ("event-decode", "event"),
    ("event-device-record", "event"),
    ("mailbox-prove", "mailbox"),
    ("mailbox-origin", "mailbox"),
    ("mailbox-verify", "mailbox"),
    ("relay-open", "relay"),
    ("relay-handle", "relay"),
    ("relay-frame-decode", "relay"),
    ("ratchet-init", "ratchet"),
    ("ratchet-restore", "ratchet"),
    ("ratchet-encrypt", "ratchet"),
    ("ratchet-encrypt-stream", "ratchet"),
    ("ratchet-decrypt", "ratchet"),
    ("ratchet-decrypt-event", "ratchet"),
    ("ratchet-snapshot", "ratchet"),
    ("session-restore", "ratchet"),
    ("backup-recovery-text", "backup"),
    ("backup-recovery-parse", "backup"),
    ("backup-export", "backup"),
    ("backup-decode", "backup"),
    ("backup-rekey", "backup"),
    ("backup-seek", "backup"),
    ("xbk-confirm-seal", "transfer-confirm"),
    ("xbk-confirm-open", "transfer-confirm"),
];

/// The fields of every value (Table 16-1), in the order of the table: `capabilities`, then
/// [`OPS`]. A value with a field missing or any other top-level field fails with
/// `shim.protocol` (SHIM-03).
pub const VALUES: &[(&str, &[&str])] = &[
    (
        "capabilities",
        &[
            "name", "version", "protocol", "suites", "features", "optional",
        ],
    ),
    ("cbor-decode", &["reencoded"]),
    ("device-record-create", &["record"]),
    ("device-record-verify", &["fields", "reencoded"]),
    (
        "device-keys-load",
        &["keys", "identityKey", "kemKey", "ratchetKey"],
    ),
    ("device-list-create", &["list"]),
    ("device-list-verify", &["fields", "reencoded"]),
    ("safety-fingerprint", &["fingerprint"]),
    ("safety-code", &["code"]),
    ("safety-qr-create", &["payload"]),
    ("safety-qr-verify", &[]),
    ("did-key-encode", &["did"]),
    ("did-key-decode", &["key"]),
    ("invite-create", &["invite"]),
    ("invite-verify", &["fields", "reencoded"]),
    ("invite-encode", &["link", "qr"]),
    ("invite-link-parse", &["invite"]),
    ("invite-qr-parse", &["invite"]),
    ("hpke-seal", &["enc", "ciphertext", "exported"]),
    ("hpke-open", &["plaintext", "exported"]),
    (
        "handshake-initiate",
        &["message", "transcriptHash", "snapshot", "snapshotDigest"],
    ),
    ("handshake-listen", &["handle"]),
    (
        "handshake-accept",
        &[
            "peerIdentity",
            "peerMailbox",
            "transcriptHash",
            "snapshot",
            "snapshotDigest",
        ],
    ),
    ("reconnect-seal", &["message"]),
    ("reconnect-open", &["invite", "record"]),
    ("envelope-bucket", &["bucket"]),
    ("envelope-pad", &["padded"]),
    ("envelope-unpad", &["content"]),
    ("envelope-receive", &["blob"]),
    ("envelope-decode", &["mailbox", "blob"]),
    (
        "event-decode",
        &["kind", "messageId", "critical", "known", "reencoded"],
    ),
    ("event-device-record", &["generation"]),
    ("mailbox-prove", &["publicKey", "mailbox", "proof"]),
    ("mailbox-origin", &["origin"]),
    ("mailbox-verify", &[]),
    ("relay-open", &["handle", "welcome"]),
    ("relay-handle", &["reply", "errorClass", "close", "wake"]),
    ("relay-frame-decode", &["kind", "reencoded"]),
    ("ratchet-init", &["handle", "snapshotDigest"]),
    ("ratchet-restore", &["handle", "snapshotDigest"]),
    ("ratchet-encrypt", &["message", "snapshotDigest"]),
    ("ratchet-encrypt-stream", &["messages", "snapshotDigest"]),
    ("ratchet-decrypt", &["plaintext", "snapshotDigest"]),
    ("ratchet-decrypt-event", &["event", "snapshotDigest"]),
    ("ratchet-snapshot", &["snapshot", "snapshotDigest"]),
    ("session-restore", &["sessionSnapshot", "peerIdentity"]),
    ("backup-recovery-text", &["text"]),
    ("backup-recovery-parse", &["key"]),
    ("backup-export", &["file"]),
    (
        "backup-decode",
        &[
            "class",
            "hidden",
            "releasedLength",
            "releasedSha256",
            "kdfRuns",
            "slices",
        ],
    ),
    ("backup-rekey", &["prefix", "oldHeaderEnd"]),
    ("backup-seek", &["offsets", "chunks", "content"]),
    ("xbk-confirm-seal", &["message", "sas"]),
    ("xbk-confirm-open", &["digest", "sas"]),
];

/// The fields of the value of `op` (Table 16-1), if the protocol defines `op`.
pub fn value_fields(op: &str) -> Option<&'static [&'static str]> {
    VALUES.iter().find(|(o, _)| *o == op).map(|(_, f)| *f)
}

/// The feature of an op, if the protocol defines the op.
pub fn feature_of(op: &str) -> Option<&'static str> {
    OPS.iter().find(|(o, _)| *o == op).map(|(_, f)| *f)
}

/// Every feature, in the order of [`OPS`].
pub fn features() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (_, feature) in OPS {
        if !out.contains(feature) {
            out.push(feature);
        }
    }
    out
}

/// What a shim says about itself in answer to `capabilities`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// The implementation's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The shim protocol version it speaks (1).
    pub protocol: u64,
    /// The suite ids it implements.
    pub suites: Vec<u64>,
    /// The features it implements: an `unimplemented` answer for one of them is a failure.
    pub features: Vec<String>,
    /// Features it does not implement by design: their cases do not fail the run.
    #[serde(default)]
    pub optional: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows of Table 16-1 of the spec.
    fn table_16_1() -> impl Iterator<Item = &'static str> {
        include_str!("../../../spec/16-conformance-shim.md")
            .lines()
            .skip_while(|l| !l.starts_with("| op | feature |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
    }

    /// The classes of Table 16-3 of the spec.
    fn table_16_3() -> Vec<String> {
        include_str!("../../../spec/16-conformance-shim.md")
            .lines()
            .skip_while(|l| !l.starts_with("| class | reported by |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .filter_map(|l| l.split('`').nth(1).map(str::to_owned))
            .collect()
    }

    /// Every `shim.*` and `harness.*` class a source text names (at the start of a string
    /// literal when `quoted`).
    fn classes_in(text: &str, quoted: bool) -> Vec<String> {
        let mut found = Vec::new();
        for prefix in ["shim.", "harness."] {
            let needle = if quoted {
                format!("\"{prefix}")
            } else {
                prefix.to_owned()
            };
            for (at, _) in text.match_indices(&needle) {
                let start = at + needle.len() - prefix.len();
                let name: String = text
                    .get(start..)
                    .unwrap_or_default()
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_' || *c == '.')
                    .collect();
                found.push(name);
            }
        }
        found
    }

    #[test]
    fn table_16_3_registers_every_harness_class_the_runner_and_the_shims_report() {
        let table = table_16_3();
        assert!(
            table.contains(&"shim.declared_feature".to_owned()),
            "{table:?}"
        );
        // What the runner and the built-in shim report (string literals in conformance/src),
        // and what the Python shim reports.
        let sources: Vec<(&str, &str, bool)> = vec![
            ("shim/mod.rs", include_str!("mod.rs"), true),
            ("shim/client.rs", include_str!("client.rs"), true),
            ("shim/server.rs", include_str!("server.rs"), true),
            (
                "runner/harness.rs",
                include_str!("../runner/harness.rs"),
                true,
            ),
            ("builtin.rs", include_str!("../builtin.rs"), true),
            (
                "implementation.rs",
                include_str!("../implementation.rs"),
                true,
            ),
            (
                "python/shim.py",
                include_str!("../../python/shim.py"),
                false,
            ),
        ];
        let mut used = Vec::new();
        for (file, text, quoted) in sources {
            for class in classes_in(text, quoted) {
                // File names, and this test's own needles.
                if ["shim.md", "shim.py", "shim.", "harness."].contains(&class.as_str()) {
                    continue;
                }
                assert!(
                    table.contains(&class),
                    "{file} reports `{class}`, which Table 16-3 does not register"
                );
                used.push(class);
            }
        }
        for class in &table {
            assert!(
                used.contains(class),
                "Table 16-3 registers `{class}`, which neither the runner nor a shim reports"
            );
        }
    }

    #[test]
    fn every_op_has_a_known_feature() {
        let features = features();
        assert!(features.contains(&"cbor") && features.contains(&"ratchet"));
        assert_eq!(feature_of("hpke-open"), Some("hpke"));
        assert_eq!(feature_of("capabilities"), None);
        let mut ops: Vec<&str> = OPS.iter().map(|(o, _)| *o).collect();
        ops.sort_unstable();
        ops.dedup();
        assert_eq!(ops.len(), OPS.len(), "an op is listed twice");
    }

    #[test]
    fn the_spec_lists_every_op_with_its_feature() {
        let rows: Vec<(String, String)> = table_16_1()
            .filter_map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                let op = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                let feature = cells.get(2)?.trim_matches('`');
                Some((op.to_owned(), feature.to_owned()))
            })
            .filter(|(op, _)| op != "capabilities")
            .collect();
        let ops: Vec<(String, String)> = OPS
            .iter()
            .map(|(o, f)| ((*o).to_owned(), (*f).to_owned()))
            .collect();
        assert_eq!(
            rows, ops,
            "Table 16-1 and OPS must list the same ops, features and order"
        );
    }

    #[test]
    fn the_spec_lists_every_value_field() {
        let rows: Vec<(String, Vec<String>)> = table_16_1()
            .filter_map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                let op = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                let value = cells.get(4)?;
                let names = value
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_owned)
                    .collect();
                Some((op.to_owned(), names))
            })
            .collect();
        let values: Vec<(String, Vec<String>)> = VALUES
            .iter()
            .map(|(o, f)| ((*o).to_owned(), f.iter().map(|s| (*s).to_owned()).collect()))
            .collect();
        assert_eq!(
            rows, values,
            "Table 16-1 and VALUES must list the same value fields"
        );
        let ops: Vec<&str> = VALUES.iter().skip(1).map(|(o, _)| *o).collect();
        let listed: Vec<&str> = OPS.iter().map(|(o, _)| *o).collect();
        assert_eq!(ops, listed);
    }
}
