//! Key material and forgeries shared by the families: named seeds, malformed keys, and
//! hand-built (possibly non-canonical) signed structures.

use quietwire::ErrorClass;
use quietwire::cbor::Int;
use quietwire::keys::{IdentityKey, IdentityKeyPair, KemSecret};
use quietwire::label::Label;
use quietwire::suite::Suite;

use crate::raw;
use crate::seeds::seed32;

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

/// The neutral point (0, 1) with the sign bit of x set: decodes, but is not canonical.
pub fn ed25519_negative_zero() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[0] = 1;
    bytes[31] = 0x80;
    bytes
}

/// The neutral point (0, 1): canonical, small order.
pub fn ed25519_identity_point() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[0] = 1;
    bytes
}

/// A point of order 8 (canonical encoding).
pub fn ed25519_order_8() -> [u8; 32] {
    let mut bytes = hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a");
    bytes[31] &= 0x7f;
    bytes
}

/// y = 2 is not the y-coordinate of a curve point.
pub fn ed25519_not_on_curve() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[0] = 2;
    bytes
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
    let mut bytes = [0u8; 32];
    bytes[0] = 9;
    bytes[31] = 0x80;
    bytes
}

/// An X-Wing public key whose first ML-KEM coefficient is 0xfff ≥ q.
pub fn xwing_bad_mlkem(seed_name: &str) -> Vec<u8> {
    let mut key = KemSecret::from_seed(Suite::XWing, &seed32(seed_name))
        .public()
        .as_bytes()
        .to_vec();
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
    let mut key = KemSecret::from_seed(Suite::XWing, &seed32(seed_name))
        .public()
        .as_bytes()
        .to_vec();
    key.truncate(1184);
    key.extend_from_slice(&[0u8; 32]);
    key
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
    let signature = signer.sign(label, body);
    raw::array(&[raw::bstr(body), raw::bstr(&signature)])
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
pub fn flip_last(mut bytes: Vec<u8>) -> Vec<u8> {
    if let Some(b) = bytes.last_mut() {
        *b ^= 0x01;
    }
    bytes
}
