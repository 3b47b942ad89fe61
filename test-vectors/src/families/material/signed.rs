//! What the device-record and invite families share: hand-built bodies of signed structures,
//! the `[body, signature]` pair, the tests of a verify group, and the key-check order cases.

use quietwire::cbor::Int;
use quietwire::suite::SuitePolicy;

use quietwire::label::Label;

use super::cases::Cases;
use super::{canonical_map, key_order_cases, strict_signed_cases};
use crate::families::Ids;
use crate::raw;

/// The fields of a body, each already encoded, that a test may alter.
#[derive(Clone, Debug)]
pub struct Body(pub Vec<(i64, Vec<u8>)>);

impl Body {
    /// The body with field `key` set to the encoded `value` (added if absent).
    pub fn set(mut self, key: i64, value: Vec<u8>) -> Body {
        self.0.retain(|(k, _)| *k != key);
        self.0.push((key, value));
        self
    }

    /// The body with field `key` set to the byte string `bytes` (a key, an id).
    pub fn bytes(self, key: i64, bytes: &[u8]) -> Body {
        self.set(key, raw::bstr(bytes))
    }

    /// The body with field `key` set to the unsigned integer `value`.
    pub fn uint(self, key: i64, value: u64) -> Body {
        self.set(key, raw::head(0, value))
    }

    /// The body without field `key`.
    pub fn remove(mut self, key: i64) -> Body {
        self.0.retain(|(k, _)| *k != key);
        self
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        canonical_map(self.0.clone())
    }

    /// The entries in canonical order, keys encoded, with field `key` replaced by `value`
    /// where it stands: for bodies the encoder refuses to write.
    pub fn entries_with(&self, key: i64, value: Vec<u8>) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut entries = self.0.clone();
        entries.sort_by_key(|(k, _)| Int::from(*k));
        entries
            .into_iter()
            .map(|(k, v)| (raw::key(k), if k == key { value.clone() } else { v }))
            .collect()
    }
}

/// `[body, signature]` from the encoded body and any signature bytes.
pub fn pair(body: &[u8], signature: &[u8]) -> Vec<u8> {
    raw::array(&[raw::bstr(body), raw::bstr(signature)])
}

/// The tests of a verify group under construction and the suite policy they are checked
/// under; each family adds its `case` method.
#[derive(Debug)]
pub struct Verifier<T> {
    /// The file's ids.
    pub ids: Ids,
    /// The verifier's allowed suites.
    pub policy: SuitePolicy,
    /// The tests since the last group.
    pub tests: Vec<T>,
}

impl<T> Verifier<T> {
    /// Starts with every registered suite allowed.
    pub fn new(ids: Ids) -> Verifier<T> {
        Verifier { ids, policy: SuitePolicy::ALL, tests: Vec::new() }
    }

    /// The tests since the last call, for a group.
    pub fn take(&mut self) -> Vec<T> {
        std::mem::take(&mut self.tests)
    }
}

/// The comment of the SUI-05 groups.
pub const STRICT_GROUP: &str = "Strict Ed25519 verification (SUI-05): signatures a plain RFC 8032 or a cofactored verifier accepts, and mixed-order identity keys; every registered suite.";

/// Adds the SUI-05 cases of [`strict_signed_cases`] (a structure `with_key(A)` naming identity
/// key `A`, signed by `seed` under `label`; `body` the honest one) to `b`.
///
/// # Errors
/// If the library disagrees with a case.
pub fn add_strict_cases(
    b: &mut impl Cases<Vec<u8>>,
    seed: &[u8; 32],
    body: &[u8],
    label: Label,
    with_key: &dyn Fn(&[u8; 32]) -> Vec<u8>,
    mixed_name: &str,
) -> Result<(), String> {
    for c in strict_signed_cases(seed, body, label, with_key, mixed_name) {
        b.case(c.slug, c.comment, c.flags, c.signed, c.class)?;
    }
    Ok(())
}

/// Adds the key-order cases of [`key_order_cases`] to `b`, each flagged `CheckOrder`: the
/// faulty keys go into the bodies `xwing()` or `classical()`, signed by `sign`.
///
/// # Errors
/// If the library disagrees with a case.
pub fn add_key_order_cases(
    b: &mut impl Cases<Vec<u8>>,
    (steps, kem_seed, off_curve_comment): ([u8; 3], &str, &str),
    xwing: &dyn Fn() -> Body,
    classical: &dyn Fn() -> Body,
    sign: &dyn Fn(&Body) -> Vec<u8>,
) -> Result<(), String> {
    for c in key_order_cases(steps, kem_seed, off_curve_comment) {
        let base = if c.xwing { xwing() } else { classical() };
        let body = c.fields.iter().fold(base, |b, (k, v)| b.bytes(*k, v));
        b.invalid(c.slug, &c.comment, &["CheckOrder"], sign(&body), c.class)?;
    }
    Ok(())
}
