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
mod process;
pub mod server;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The version of the shim protocol this runner speaks.
pub const PROTOCOL_VERSION: u64 = 1;

/// Every op of the protocol and the feature it belongs to (what a shim names in
/// `capabilities` and in its `unimplemented` answers). `capabilities` belongs to no feature.
pub const OPS: &[(&str, &str)] = &[
    ("cbor-decode", "cbor"),
    ("device-record-create", "identity"),
    ("device-record-verify", "identity"),
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
    ("backup-recovery-text", "backup"),
    ("backup-recovery-parse", "backup"),
    ("backup-export", "backup"),
    ("backup-decode", "backup"),
    ("backup-rekey", "backup"),
    ("backup-seek", "backup"),
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

/// Reads the fields of an args or value object, with messages that name what is wrong.
#[derive(Clone, Copy, Debug)]
pub struct Fields<'a>(pub &'a Map<String, Value>);

impl<'a> Fields<'a> {
    /// The fields of `value`, which must be an object (`null` reads as an empty object).
    ///
    /// # Errors
    /// If `value` is not an object.
    pub fn of(value: &'a Value) -> Result<Fields<'a>, String> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        match value {
            Value::Object(map) => Ok(Fields(map)),
            Value::Null => Ok(Fields(EMPTY.get_or_init(Map::new))),
            other => Err(format!("expected an object, got {other}")),
        }
    }

    fn get(&self, name: &str) -> Result<&'a Value, String> {
        self.0
            .get(name)
            .ok_or_else(|| format!("missing field `{name}`"))
    }

    /// A byte string: lowercase hex of even length.
    ///
    /// # Errors
    /// If the field is missing or not lowercase hex.
    pub fn bytes(&self, name: &str) -> Result<Vec<u8>, String> {
        let text = self
            .get(name)?
            .as_str()
            .ok_or_else(|| format!("field `{name}` is not a hex string"))?;
        decode_hex(text).ok_or_else(|| match hex::decode(text) {
            Ok(_) => format!("field `{name}` is not lowercase hex"),
            Err(e) => format!("field `{name}`: {e}"),
        })
    }

    /// A byte string, or `None` if the field is absent or `null`.
    ///
    /// # Errors
    /// If the field is present and not lowercase hex.
    pub fn bytes_opt(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.bytes(name).map(Some),
        }
    }

    /// An unsigned integer.
    ///
    /// # Errors
    /// If the field is missing or not an unsigned 64-bit integer.
    pub fn u64(&self, name: &str) -> Result<u64, String> {
        self.get(name)?
            .as_u64()
            .ok_or_else(|| format!("field `{name}` is not an unsigned integer"))
    }

    /// An unsigned integer, or `None` if the field is absent or `null`.
    ///
    /// # Errors
    /// If the field is present and not an unsigned 64-bit integer.
    pub fn u64_opt(&self, name: &str) -> Result<Option<u64>, String> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.u64(name).map(Some),
        }
    }

    /// A boolean.
    ///
    /// # Errors
    /// If the field is missing or not a boolean.
    pub fn bool(&self, name: &str) -> Result<bool, String> {
        self.get(name)?
            .as_bool()
            .ok_or_else(|| format!("field `{name}` is not a boolean"))
    }

    /// A string.
    ///
    /// # Errors
    /// If the field is missing or not a string.
    pub fn str(&self, name: &str) -> Result<&'a str, String> {
        self.get(name)?
            .as_str()
            .ok_or_else(|| format!("field `{name}` is not a string"))
    }

    /// A string, or `None` if the field is absent or `null`.
    ///
    /// # Errors
    /// If the field is present and not a string.
    pub fn str_opt(&self, name: &str) -> Result<Option<&'a str>, String> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.str(name).map(Some),
        }
    }

    /// An array of unsigned integers.
    ///
    /// # Errors
    /// If the field is missing or not such an array.
    pub fn u64_list(&self, name: &str) -> Result<Vec<u64>, String> {
        self.get(name)?
            .as_array()
            .ok_or_else(|| format!("field `{name}` is not an array"))?
            .iter()
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| format!("field `{name}` holds a non-integer"))
            })
            .collect()
    }

    /// An array of strings.
    ///
    /// # Errors
    /// If the field is missing or not such an array.
    pub fn str_list(&self, name: &str) -> Result<Vec<String>, String> {
        self.get(name)?
            .as_array()
            .ok_or_else(|| format!("field `{name}` is not an array"))?
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("field `{name}` holds a non-string"))
            })
            .collect()
    }

    /// A nested object.
    ///
    /// # Errors
    /// If the field is missing or not an object.
    pub fn object(&self, name: &str) -> Result<Fields<'a>, String> {
        match self.get(name)? {
            Value::Object(map) => Ok(Fields(map)),
            _ => Err(format!("field `{name}` is not an object")),
        }
    }
}

/// Lowercase hex, as the protocol writes byte strings.
pub fn hex(bytes: &[u8]) -> Value {
    Value::String(encode_hex(bytes))
}

/// Lowercase hex of `bytes`.
///
/// Byte strings of megabytes (backup files) cross this interface in every run, in process
/// too; plain loops here stay fast in debug builds, where the `hex` crate's generic
/// iterators, compiled into this crate unoptimized, take seconds per file.
pub fn encode_hex(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(2));
    for &b in bytes {
        let (high, low) = (b >> 4, b & 0x0f);
        out.push(if high < 10 {
            b'0' + high
        } else {
            b'a' - 10 + high
        });
        out.push(if low < 10 {
            b'0' + low
        } else {
            b'a' - 10 + low
        });
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The bytes of lowercase hex of even length, `None` for anything else (see [`encode_hex`]).
pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    let mut out = Vec::with_capacity(digits.len() / 2);
    let mut high: Option<u8> = None;
    for &c in digits {
        let n = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        match high.take() {
            None => high = Some(n),
            Some(h) => out.push((h << 4) | n),
        }
    }
    // An odd digit left over: not a byte string.
    high.is_none().then_some(out)
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

    #[test]
    fn fields_are_strict() {
        let v = serde_json::json!({"a": "00ff", "b": "00FF", "n": 3, "t": true, "l": [1, 2]});
        let empty = Map::new();
        let f = Fields::of(&v).unwrap_or(Fields(&empty));
        assert_eq!(f.bytes("a"), Ok(vec![0, 255]));
        assert!(f.bytes("b").is_err_and(|e| e.contains("lowercase")));
        assert!(
            f.bytes("zz")
                .is_err_and(|e| e.contains("missing field `zz`"))
        );
        assert_eq!(f.u64("n"), Ok(3));
        assert_eq!(f.bool("t"), Ok(true));
        assert_eq!(f.u64_list("l"), Ok(vec![1, 2]));
        assert_eq!(f.bytes_opt("none"), Ok(None));
        assert!(f.bytes("t").is_err());
    }

    #[test]
    fn hex_round_trips_and_is_strict() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(encode_hex(&all), hex::encode(&all));
        assert_eq!(decode_hex(&hex::encode(&all)), Some(all));
        assert_eq!(decode_hex(""), Some(Vec::new()));
        for bad in ["0", "0g", "0A", " 00", "000"] {
            assert_eq!(decode_hex(bad), None, "{bad}");
        }
    }
}
