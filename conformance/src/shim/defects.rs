//! Deliberate defects of the built-in shim, for the tests that prove the runner catches them
//! (`quietwire-conformance-shim --break NAME`); none in normal use.
//!
//! Each defect alters the arguments an operation gets or the answer it gives, around any
//! [`Implementation`]: [`Defects::call`] is what the fixture serves instead of
//! [`Implementation::call`].

use serde_json::{Value, json};

use super::feature_of;
use crate::implementation::{Failure, Implementation, OpResult, unimplemented};

/// Deliberate defects of the test fixture (`--break NAME`); none in normal use.
///
/// | name | defect |
/// |---|---|
/// | `cbor-trailing` | `cbor-decode` accepts the two bytes `0000` (trailing data) |
/// | `safety-order` | `safety-code` depends on the order of the keys |
/// | `invite-expiry` | `invite-verify` ignores `now` |
/// | `no-did-key` | the `did-key` ops answer `unimplemented` |
/// | `undeclared-did-key` | the same, but `capabilities` still lists the `did-key` feature |
/// | `ratchet-replay` | `ratchet-decrypt` "opens" a replayed message to nothing |
/// | `flip-message` | `ratchet-encrypt` flips the last bit of every message |
/// | `wrong-digest` | ratchet replies carry a wrong `snapshotDigest` |
/// | `relay-durability` | `relay-handle` ignores `storeUnavailable` |
/// | `rename-class` | reports `cbor.trailing` as `cbor.trailing_bytes` (for the error map) |
/// | `loose-randomness` | `hpke-seal` pads or cuts `randomness` to the 32 bytes a suite-2 encapsulation draws |
/// | `ignore-pushes` | `backup-decode` decodes the input in one push and says so (`slices` 1) |
/// | `event-commit` | `ratchet-decrypt-event` commits the ratchet before checking the content |
/// | `stderr:OP` | writes a line to standard error when it receives `OP` |
/// | `extra-field:OP` | adds a field `extra` to the value of `OP` |
/// | `crash:OP` | the process exits with status 3 when it receives `OP` |
/// | `hang:OP` | it never answers `OP` |
/// | `garbage:OP` | it answers `OP` with a line that is not JSON |
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Defects(pub Vec<String>);

impl Defects {
    /// The defect names this fixture knows (those with `:OP` take an op name).
    pub const KNOWN: &'static [&'static str] = &[
        "cbor-trailing",
        "safety-order",
        "invite-expiry",
        "no-did-key",
        "undeclared-did-key",
        "ratchet-replay",
        "flip-message",
        "wrong-digest",
        "relay-durability",
        "rename-class",
        "loose-randomness",
        "ignore-pushes",
        "event-commit",
        "stderr:",
        "extra-field:",
        "crash:",
        "hang:",
        "garbage:",
    ];

    /// Checks every name.
    ///
    /// # Errors
    /// The first unknown name.
    pub fn new(names: Vec<String>) -> Result<Defects, String> {
        for name in &names {
            let known = Defects::KNOWN.iter().any(|k| match k.strip_suffix(':') {
                Some(prefix) => name
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.strip_prefix(':'))
                    .is_some_and(|op| feature_of(op).is_some() || op == "capabilities"),
                None => name == k,
            });
            if !known {
                return Err(format!(
                    "unknown defect `{name}` (known: {})",
                    Defects::KNOWN.join(", ")
                ));
            }
        }
        Ok(Defects(names))
    }

    pub(super) fn has(&self, name: &str) -> bool {
        self.0.iter().any(|n| n == name)
    }

    /// Whether the defect `kind:OP` is set for `op`.
    pub(super) fn on(&self, kind: &str, op: &str) -> bool {
        self.0
            .iter()
            .any(|n| n.strip_prefix(kind).and_then(|r| r.strip_prefix(':')) == Some(op))
    }

    /// Calls `op` on `imp` with these defects.
    ///
    /// # Errors
    /// The failure of the operation, as the defects alter it.
    pub fn call(&self, imp: &mut dyn Implementation, op: &str, args: Value) -> OpResult<Value> {
        if (self.has("no-did-key") || self.has("undeclared-did-key"))
            && feature_of(op) == Some("did-key")
        {
            return unimplemented("did-key");
        }
        let args = self.arguments(op, args);
        let text = |name: &str| args.get(name).and_then(Value::as_str).unwrap_or_default();
        let swapped = text("identityKeyA") > text("identityKeyB");
        let mut answer = match op {
            "cbor-decode" if self.has("cbor-trailing") && text("input") == "0000" => {
                Ok(json!({"reencoded": "0000"}))
            }
            "ratchet-decrypt" if self.has("ratchet-replay") => replayed(imp, args),
            "ratchet-decrypt-event" if self.has("event-commit") => committed_event(imp, &args),
            _ => imp.call(op, args),
        };
        match &mut answer {
            Err(Failure::Error { class })
                if self.has("rename-class") && class == "cbor.trailing" =>
            {
                "cbor.trailing_bytes".clone_into(class);
            }
            Err(_) => {}
            Ok(value) => self.value(op, value, swapped),
        }
        answer
    }

    /// The arguments as `invite-expiry`, `relay-durability`, `ignore-pushes` and
    /// `loose-randomness` alter them: `now` 0, the store available, no push sizes, and the
    /// randomness padded or cut to the 32 bytes a suite-2 encapsulation draws.
    fn arguments(&self, op: &str, mut args: Value) -> Value {
        let Value::Object(map) = &mut args else {
            return args;
        };
        match op {
            "invite-verify" if self.has("invite-expiry") && map.contains_key("now") => {
                map.insert("now".to_owned(), json!(0));
            }
            "relay-handle" if self.has("relay-durability") => {
                map.insert("storeUnavailable".to_owned(), json!(false));
            }
            "backup-decode" if self.has("ignore-pushes") && map.contains_key("pushes") => {
                map.insert("pushes".to_owned(), json!([]));
            }
            "hpke-seal" if self.has("loose-randomness") => {
                if let Some(Value::String(r)) = map.get_mut("randomness") {
                    r.truncate(64);
                    while r.len() < 64 {
                        r.push('0');
                    }
                }
            }
            _ => {}
        }
        args
    }

    /// The value as `no-did-key`, `safety-order`, `flip-message` and `wrong-digest` alter it.
    fn value(&self, op: &str, value: &mut Value, swapped: bool) {
        let Value::Object(map) = value else {
            return;
        };
        if op == "capabilities"
            && self.has("no-did-key")
            && let Some(Value::Array(features)) = map.get_mut("features")
        {
            features.retain(|f| f != "did-key");
        }
        if op == "safety-code"
            && self.has("safety-order")
            && swapped
            && let Some(Value::String(code)) = map.get_mut("code")
        {
            *code = code.chars().rev().collect();
        }
        if op == "ratchet-encrypt" && self.has("flip-message") {
            flip(map.get_mut("message"), |bytes| bytes.last_mut());
        }
        if op.starts_with("ratchet-") && self.has("wrong-digest") {
            flip(map.get_mut("snapshotDigest"), |bytes| bytes.first_mut());
        }
    }
}

/// Flips the lowest bit of the byte `at` picks in a hex field.
fn flip(field: Option<&mut Value>, at: impl FnOnce(&mut Vec<u8>) -> Option<&mut u8>) {
    if let Some(Value::String(text)) = field
        && let Ok(mut bytes) = hex::decode(&*text)
    {
        if let Some(b) = at(&mut bytes) {
            *b ^= 1;
        }
        *text = hex::encode(bytes);
    }
}

/// The `ratchet-replay` defect: a replayed message "opens" to nothing.
fn replayed(imp: &mut dyn Implementation, args: Value) -> OpResult<Value> {
    let handle = args.get("handle").cloned().unwrap_or(Value::Null);
    match imp.call("ratchet-decrypt", args) {
        Err(Failure::Error { class }) if class == "ratchet.replay" => {
            let snapshot = imp.call("ratchet-snapshot", json!({"handle": handle}))?;
            let digest = snapshot.get("snapshotDigest").cloned();
            Ok(json!({"plaintext": "", "snapshotDigest": digest}))
        }
        other => other,
    }
}

/// The `event-commit` defect: decrypts with `ratchet-decrypt`, which commits, and only then
/// removes the padding (`envelope-unpad`) and decodes the event (`event-decode`), an order
/// ENV-09 forbids. Public for the in-process fixtures of the conformance tests, which plant
/// the same defect.
///
/// # Errors
/// The failure of the decryption, the unpadding or the event decoding.
pub fn committed_event(imp: &mut dyn Implementation, args: &Value) -> OpResult<Value> {
    let field = |value: &Value, name: &str| value.get(name).cloned().unwrap_or(Value::Null);
    let decrypt = json!({"handle": field(args, "handle"), "message": field(args, "message")});
    let decrypted = imp.call("ratchet-decrypt", decrypt)?;
    let unpadded = imp.call(
        "envelope-unpad",
        json!({"padded": field(&decrypted, "plaintext")}),
    )?;
    let event = imp.call(
        "event-decode",
        json!({"event": field(&unpadded, "content")}),
    )?;
    Ok(json!({
        "event": field(&event, "reencoded"),
        "snapshotDigest": field(&decrypted, "snapshotDigest"),
    }))
}
