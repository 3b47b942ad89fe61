//! What the device-record and invite families share: hand-built bodies of signed structures,
//! the `[body, signature]` pair, the tests of a verify group, and the key-check order cases.

use quietwire::cbor::Int;
use quietwire::suite::SuitePolicy;

use quietwire::label::Label;

use super::cases::Cases;
use super::{self as m, canonical_map};
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

/// Adds the SUI-05 cases of a signed structure (a device record, an invite) to `b`:
/// signatures a plain RFC 8032 or a cofactored verifier accepts over the honest `body` signed
/// by `seed` under `label`, a non-canonical key for which the equation holds, and the
/// mixed-order key `mixed_name` signing `with_key(A)`, the body naming identity key `A`, both
/// ways.
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
    let mut zero_sig = [0u8; 64];
    zero_sig[0] = 1;
    let mixed = m::mixed_order_key(mixed_name);
    let forged: &[&str] = &["Signature", "Malleability"];
    let neutral = pair(&with_key(&m::ed25519_negative_zero()), &zero_sig);
    let mixed_signed = |strict| mixed.signed(&with_key(&mixed.public), label, strict);
    let forge = |f| m::signed_forged(body, seed, label, f);
    crate::rows! { b.case:
        "sui05-small-order-r",
            "R is the neutral point and S = k·a: the cofactorless equation holds, R has small order (SUI-05 step 3); a plain RFC 8032 verifier accepts it",
            forged, forge(m::sig_small_order_r), Some("identity.signature");
        "sui05-noncanonical-r",
            "R is the neutral point encoded as y = p + 1 and S = k·a over those bytes: equal to [S]B − [k]A as a point, not as bytes (SUI-05 step 5)",
            forged, forge(m::sig_noncanonical_r), Some("identity.signature");
        "sui05-noncanonical-a-equation-holds",
            "A is the neutral point with the sign bit set (non-canonical) and the signature is R = neutral point, S = 0, for which [S]B − [k]A = R: the key check refuses A first",
            &["NonCanonicalKey", "CheckOrder"], neutral, Some("key.noncanonical");
        "sui05-mixed-order-key-valid",
            "A = [a]B + T with T of order 8 is not of small order (SUI-04 accepts it); the signature satisfies the cofactorless equation (k ≡ 0 mod 8)",
            &["Valid"], mixed_signed(true), None;
        "sui05-mixed-order-key-cofactored-only",
            "the same mixed-order key, signature S = r + k·a with k ≢ 0 mod 8: only the cofactored equation [8][S]B = [8]R + [8][k]A holds (SUI-05 step 5)",
            forged, mixed_signed(false), Some("identity.signature");
    }
    Ok(())
}

/// Adds the cases of the key-check order (IDN-05 steps 10 to 12, INV-04 steps 11 to 13) to
/// `b`, each flagged `CheckOrder`: fields 3 (identity key), 4 (KEM key) and 5 (ratchet key)
/// of the bodies `classical()` or `xwing()` replaced by faulty keys, signed by `sign`, refused
/// with the class of the first check. The keys are checked at `steps` (in that order);
/// `kem_seed` names the X-Wing KEM key, `off_curve_comment` is the comment of the identity key
/// off the curve.
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
    let [id, kem, ratchet] = steps;
    // `base` with the fields replaced by byte strings, signed.
    let with = |base: Body, fields: [(i64, Vec<u8>); 2]| {
        sign(&fields.iter().fold(base, |b, (k, v)| b.bytes(*k, v)))
    };
    let (cl, co) = (|fields| with(classical(), fields), &["CheckOrder"]);
    crate::rows! { b.invalid:
        "order-identity-key-before-kem-key",
            &format!("a non-canonical identity key and a low-order KEM key: step {id} before step {kem}"),
            co, cl([(3, m::ed25519_noncanonical().to_vec()), (4, m::x25519_zero().to_vec())]),
            "key.noncanonical";
        "order-kem-key-before-ratchet-key",
            &format!("a low-order KEM key and a non-canonical ratchet key: step {kem} before step {ratchet}"),
            co, cl([(4, m::x25519_zero().to_vec()), (5, m::x25519_p().to_vec())]), "key.low_order";
        "order-kem-key-noncanonical-before-ratchet-key",
            &format!("a non-canonical KEM key and a low-order ratchet key: step {kem} before step {ratchet}"),
            co, cl([(4, m::x25519_high_bit().to_vec()), (5, m::x25519_order_8().to_vec())]),
            "key.noncanonical";
        "order-identity-key-before-ratchet-key",
            &format!("a low-order identity key and a non-canonical ratchet key: step {id} before step {ratchet}"),
            co, cl([(3, m::ed25519_order_8().to_vec()), (5, m::x25519_high_bit().to_vec())]),
            "key.low_order";
        "order-identity-key-invalid-before-kem-key", off_curve_comment, co,
            with(xwing(), [(3, m::ed25519_not_on_curve().to_vec()),
                (4, m::xwing_low_order_x25519(kem_seed))]),
            "key.invalid";
        "order-xwing-mlkem-before-x25519-part",
            "an X-Wing key whose ML-KEM part is invalid and whose X25519 part is u = 0, and a low-order ratchet key: the ML-KEM part is checked first (SUI-07)",
            co, with(xwing(), [(4, m::xwing_both_bad(kem_seed)), (5, m::x25519_zero().to_vec())]),
            "key.invalid";
    }
    Ok(())
}
