//! What the device-record and invite families share: hand-built bodies of signed structures,
//! the `[body, signature]` pair, the tests of a verify group, and the key-check order cases.

use quietwire::cbor::Int;
use quietwire::suite::SuitePolicy;

use super::{canonical_map, key_order_cases};
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

/// The key-order cases of [`key_order_cases`] as signed structures: slug, comment, the
/// structure signed by `sign`, class. `xwing` and `classical` give the bodies the faulty keys
/// go into.
pub fn key_order_signed(
    steps: [u8; 3],
    kem_seed: &str,
    off_curve_comment: &str,
    xwing: &dyn Fn() -> Body,
    classical: &dyn Fn() -> Body,
    sign: &dyn Fn(&Body) -> Vec<u8>,
) -> Vec<(&'static str, String, Vec<u8>, &'static str)> {
    key_order_cases(steps, kem_seed, off_curve_comment)
        .into_iter()
        .map(|c| {
            let base = if c.xwing { xwing() } else { classical() };
            let body = c.fields.iter().fold(base, |b, (k, v)| b.bytes(*k, v));
            (c.slug, c.comment, sign(&body), c.class)
        })
        .collect()
}
