//! Key material and forgeries shared by the families: named seeds, malformed keys, and
//! hand-built (possibly non-canonical) signed structures.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use quietwire::ErrorClass;
use quietwire::cbor::Int;
use quietwire::keys::{IdentityKey, IdentityKeyPair, KemSecret};
use quietwire::label::Label;
use quietwire::suite::Suite;
use sha2::{Digest, Sha512};

use crate::raw;
use crate::seeds::seed32;

pub mod cases;
pub mod signed;

/// The relay origin of the mailbox and relay vectors (MBX-05); `quietwire::fuzzing` has the
/// same constant for the fuzz targets seeded from them (a corpus-replay test compares them).
pub const VECTOR_ORIGIN: &str = "wss://relay.example";

/// The identity key pair derived from a name.
pub fn identity(name: &str) -> ([u8; 32], IdentityKeyPair) {
    let seed = seed32(&format!("identity/{name}"));
    (seed, IdentityKeyPair::from_seed(&seed))
}

/// p = 2^255 - 19 plus `k`, little-endian (k < 19 keeps it below 2^255).
fn p_plus(k: u8) -> [u8; 32] {
    let mut p = [0xffu8; 32];
    p[0] = 0xed + k;
    p[31] = 0x7f;
    p
}

/// An Ed25519 encoding `y = p + k` of a valid point: non-canonical.
pub fn ed25519_noncanonical() -> [u8; 32] {
    (0u8..19)
        .map(p_plus)
        .find(|bytes| {
            IdentityKey::from_bytes(bytes).err().map(|e| e.class())
                == Some(ErrorClass::KeyNonCanonical)
        })
        .unwrap_or(p_plus(1))
}

/// 32 little-endian bytes: `first`, zeros, `last`.
fn bytes32(first: u8, last: u8) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[0] = first;
    bytes[31] = last;
    bytes
}

/// The neutral point (0, 1) with the sign bit of x set: decodes, but is not canonical.
pub fn ed25519_negative_zero() -> [u8; 32] {
    bytes32(1, 0x80)
}

/// The neutral point (0, 1): canonical, small order.
pub fn ed25519_identity_point() -> [u8; 32] {
    bytes32(1, 0)
}

/// A point of order 8 (canonical encoding).
pub fn ed25519_order_8() -> [u8; 32] {
    let mut bytes = hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a");
    bytes[31] &= 0x7f;
    bytes
}

/// y = 2 is not the y-coordinate of a curve point.
pub fn ed25519_not_on_curve() -> [u8; 32] {
    bytes32(2, 0)
}

/// X25519 u = 0.
pub fn x25519_zero() -> [u8; 32] {
    [0u8; 32]
}

/// X25519 point of order 8 from the low-order list.
pub fn x25519_order_8() -> [u8; 32] {
    hex32("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")
}

/// X25519 u = p: non-canonical.
pub fn x25519_p() -> [u8; 32] {
    p_plus(0)
}

/// X25519 u = 9 with the top bit set: non-canonical.
pub fn x25519_high_bit() -> [u8; 32] {
    bytes32(9, 0x80)
}

/// The X-Wing public key of the named seed.
fn xwing_key(seed_name: &str) -> Vec<u8> {
    KemSecret::from_seed(Suite::XWing, &seed32(seed_name)).public().as_bytes().to_vec()
}

/// `key` with its X25519 part (after the 1184-byte ML-KEM part) the low-order point u = 0.
fn with_x25519_zero(mut key: Vec<u8>) -> Vec<u8> {
    key.truncate(1184);
    key.extend_from_slice(&[0u8; 32]);
    key
}

/// An X-Wing public key whose first ML-KEM coefficient is 0xfff ≥ q.
pub fn xwing_bad_mlkem(seed_name: &str) -> Vec<u8> {
    let mut key = xwing_key(seed_name);
    if let Some(b) = key.get_mut(0) {
        *b = 0xff;
    }
    if let Some(b) = key.get_mut(1) {
        *b |= 0x0f;
    }
    key
}

/// An X-Wing public key whose X25519 part is the low-order point u = 0.
pub fn xwing_low_order_x25519(seed_name: &str) -> Vec<u8> {
    with_x25519_zero(xwing_key(seed_name))
}

/// 32 bytes from hex.
pub fn hex32(text: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    if let Ok(bytes) = hex::decode(text) {
        for (o, b) in out.iter_mut().zip(bytes) {
            *o = b;
        }
    }
    out
}

/// The map of `entries` (key, encoded value) in canonical key order.
pub fn canonical_map(mut entries: Vec<(i64, Vec<u8>)>) -> Vec<u8> {
    entries.sort_by_key(|(k, _)| Int::from(*k));
    let entries: Vec<(Vec<u8>, Vec<u8>)> =
        entries.into_iter().map(|(k, v)| (raw::key(k), v)).collect();
    raw::map(&entries)
}

/// `[body, signature]` with the signature of `signer` over `[label, body]`.
pub fn signed(body: &[u8], signer: &IdentityKeyPair, label: Label) -> Vec<u8> {
    signed::pair(body, &signer.sign(label, body))
}

/// A signature with `L` added to `S`: the same equation holds, but S is not reduced.
pub fn malleate_s(signature: &[u8; 64]) -> [u8; 64] {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut out = *signature;
    let mut carry = 0u16;
    for (o, l) in out.iter_mut().skip(32).zip(L) {
        let sum = u16::from(*o) + u16::from(l) + carry;
        *o = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    out
}

/// Flips one bit of the last byte.
pub fn flip_last(bytes: Vec<u8>) -> Vec<u8> {
    xor_last(bytes, 0x01)
}

/// The last byte XORed with `mask`.
pub fn xor_last(mut bytes: Vec<u8>, mask: u8) -> Vec<u8> {
    if let Some(b) = bytes.last_mut() {
        *b ^= mask;
    }
    bytes
}

// ---------------------------------------------------------------------------
// Strict Ed25519 (SUI-05) forgeries: signatures a plain RFC 8032 or a cofactored verifier
// accepts but the strict rules refuse, and mixed-order identity keys.

/// The secret scalar `a` of an RFC 8032 seed (the clamped low half of SHA-512(seed)).
pub fn secret_scalar(seed: &[u8; 32]) -> Scalar {
    let h = Sha512::digest(seed);
    let mut a = [0u8; 32];
    for (o, b) in a.iter_mut().zip(h.iter()) {
        *o = *b;
    }
    a[0] &= 248;
    a[31] &= 127;
    a[31] |= 64;
    Scalar::from_bytes_mod_order(a)
}

/// `k = SHA-512(R ‖ A ‖ M) mod L`.
fn challenge(r: &[u8; 32], public: &[u8; 32], message: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r);
    h.update(public);
    h.update(message);
    wide_scalar(h)
}

/// The digest of `h` reduced modulo L.
fn wide_scalar(h: Sha512) -> Scalar {
    let mut wide = [0u8; 64];
    for (o, b) in wide.iter_mut().zip(h.finalize().iter()) {
        *o = *b;
    }
    Scalar::from_bytes_mod_order_wide(&wide)
}

fn sig_of(r: &[u8; 32], s: &Scalar) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(r);
    out[32..].copy_from_slice(s.as_bytes());
    out
}

/// A signature with `R` the neutral point (small order) and `S = k·a`: the cofactorless
/// equation holds (`[S]B − [k]A` is the neutral point, encoded as `R`), so only SUI-05 step 3
/// (R of small order) refuses it. A plain RFC 8032 verifier accepts it.
pub fn sig_small_order_r(a: &Scalar, public: &[u8; 32], message: &[u8]) -> [u8; 64] {
    let r = ed25519_identity_point();
    sig_of(&r, &(challenge(&r, public, message) * a))
}

/// A signature whose `R` is the non-canonical encoding `y = p + 1` of the neutral point and
/// `S = k·a` with `k` hashed over those bytes: `[S]B − [k]A` is the neutral point, equal to
/// `R` as a point but not as bytes. Refused by SUI-05 (steps 3 and 5); a verifier that
/// compares decoded points (as cofactored, ZIP-215-style verifiers do) accepts it.
pub fn sig_noncanonical_r(a: &Scalar, public: &[u8; 32], message: &[u8]) -> [u8; 64] {
    let r = p_plus(1);
    sig_of(&r, &(challenge(&r, public, message) * a))
}

/// A mixed-order identity key `A = [a]B + T` (T of order 8): not of small order, so valid
/// under SUI-04, with the secret scalar `a` of its prime-order part.
#[derive(Debug)]
pub struct MixedKey {
    /// The secret scalar of the prime-order part.
    pub a: Scalar,
    /// The canonical encoding of `A`.
    pub public: [u8; 32],
    name: String,
}

/// The mixed-order key named `name`.
pub fn mixed_order_key(name: &str) -> MixedKey {
    let a = secret_scalar(&seed32(&format!("mixed-order/{name}")));
    let torsion = CompressedEdwardsY(ed25519_order_8()).decompress().unwrap_or_default();
    let public = (EdwardsPoint::mul_base(&a) + torsion).compress().to_bytes();
    MixedKey { a, public, name: name.to_owned() }
}

impl MixedKey {
    /// Signs `message` with nonce `R = [r]B` and `S = r + k·a`. The cofactored equation always
    /// holds; the cofactorless one (`[S]B − [k]A = R − [k]T`) holds exactly when `k ≡ 0 mod 8`.
    /// `strict_valid` picks a deterministic nonce for which it holds (a signature SUI-05
    /// accepts) or fails (one only a cofactored verifier accepts).
    pub fn sign(&self, message: &[u8], strict_valid: bool) -> [u8; 64] {
        let mut counter = 0u32;
        loop {
            let mut h = Sha512::new();
            h.update(self.name.as_bytes());
            h.update(counter.to_be_bytes());
            h.update(message);
            let r = wide_scalar(h);
            let big_r = EdwardsPoint::mul_base(&r).compress().to_bytes();
            let k = challenge(&big_r, &self.public, message);
            if k.as_bytes()[0].is_multiple_of(8) == strict_valid {
                return sig_of(&big_r, &(r + k * self.a));
            }
            counter += 1;
        }
    }

    /// `[body, signature]` with a signature over `[label, body]`.
    pub fn signed(&self, body: &[u8], label: Label, strict_valid: bool) -> Vec<u8> {
        signed::pair(body, &self.sign(&label.input(&[body]), strict_valid))
    }
}

/// `[body, signature]` over `[label, body]` with a forged signature `forge(a, A, M)`.
pub fn signed_forged(
    body: &[u8],
    seed: &[u8; 32],
    label: Label,
    forge: fn(&Scalar, &[u8; 32], &[u8]) -> [u8; 64],
) -> Vec<u8> {
    let public = IdentityKeyPair::from_seed(seed).public().as_bytes().to_owned();
    signed::pair(body, &forge(&secret_scalar(seed), &public, &label.input(&[body])))
}

/// An X-Wing key with both parts bad: an ML-KEM coefficient ≥ q and the X25519 part u = 0.
pub fn xwing_both_bad(seed_name: &str) -> Vec<u8> {
    with_x25519_zero(xwing_bad_mlkem(seed_name))
}
