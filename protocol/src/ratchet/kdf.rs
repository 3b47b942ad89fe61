//! Key derivation of the ratchet (`spec/06-ratchet.md`): HKDF-SHA256 with a registered
//! label as `info` for every step.

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::label::Label;

/// A 32-byte symmetric key, wiped on drop.
pub(crate) type Key = Zeroizing<[u8; 32]>;

fn split3(okm: &[u8; 96]) -> (Key, Key, Key) {
    let mut keys = [
        Zeroizing::new([0u8; 32]),
        Zeroizing::new([0u8; 32]),
        Zeroizing::new([0u8; 32]),
    ];
    for (key, chunk) in keys.iter_mut().zip(okm.chunks_exact(32)) {
        key.copy_from_slice(chunk);
    }
    let [a, b, c] = keys;
    (a, b, c)
}

fn expand96(salt: Option<&[u8]>, ikm: &[u8], label: Label) -> (Key, Key, Key) {
    let mut okm = Zeroizing::new([0u8; 96]);
    // 96 bytes is far below HKDF-SHA256's limit of 8160, so expansion cannot fail.
    let _ = Hkdf::<Sha256>::new(salt, ikm).expand(&label.input(&[]), okm.as_mut());
    split3(&okm)
}

/// Splits the session secret into the root key, the initiator's first header key and the
/// responder's first next-header key.
pub(crate) fn init(session_secret: &[u8; 32]) -> (Key, Key, Key) {
    expand96(None, session_secret, Label::RatchetInit)
}

/// `KDF_INIT_PQ`: as [`init`], for a post-quantum ratchet (RAT-11), under its own
/// label so that no key of a post-quantum session is a key of a classic one.
pub(crate) fn init_pq(session_secret: &[u8; 32]) -> (Key, Key, Key) {
    expand96(None, session_secret, Label::RatchetPqInit)
}

/// `KDF_RK`: the next root key, a chain key and the next header key of that chain.
pub(crate) fn root(rk: &[u8; 32], dh: &[u8; 32]) -> (Key, Key, Key) {
    expand96(Some(rk), dh, Label::RatchetRoot)
}

/// `KDF_RK_PQ`: as [`root`], with the KEM shared secret after the DH output in the input
/// keying material (RAT-12).
pub(crate) fn root_pq(rk: &[u8; 32], dh: &[u8; 32], kem: &[u8; 32]) -> (Key, Key, Key) {
    let mut ikm = Zeroizing::new([0u8; 64]);
    let (first, second) = ikm.split_at_mut(32);
    first.copy_from_slice(dh);
    second.copy_from_slice(kem);
    expand96(Some(rk), ikm.as_ref(), Label::RatchetPqRoot)
}

fn expand_from(prk: &[u8; 32], label: Label, context: &[&[u8]], out: &mut [u8]) {
    // A 32-byte PRK is valid for SHA-256 and the outputs are short: neither call can fail.
    if let Ok(hkdf) = Hkdf::<Sha256>::from_prk(prk) {
        let _ = hkdf.expand(&label.input(context), out);
    }
}

/// `KDF_CK`: the next chain key and this step's message key.
pub(crate) fn chain(ck: &[u8; 32]) -> (Key, Key) {
    let mut next = Zeroizing::new([0u8; 32]);
    let mut mk = Zeroizing::new([0u8; 32]);
    expand_from(ck, Label::RatchetChain, &[], next.as_mut());
    expand_from(ck, Label::RatchetMessageKey, &[], mk.as_mut());
    (next, mk)
}

/// The ChaCha20-Poly1305 key and nonce of one message: from its message key and the
/// random nonce of its encrypted header (RAT-03), so that a sender whose chain state was
/// rolled back and reused never encrypts two bodies under one (key, nonce) pair.
pub(crate) fn message(mk: &[u8; 32], header_nonce: &[u8]) -> (Key, [u8; 12]) {
    let mut okm = Zeroizing::new([0u8; 44]);
    expand_from(mk, Label::RatchetMessage, &[header_nonce], okm.as_mut());
    let mut key = Zeroizing::new([0u8; 32]);
    let mut nonce = [0u8; 12];
    let (key_part, nonce_part) = okm.split_at(32);
    key.copy_from_slice(key_part);
    nonce.copy_from_slice(nonce_part);
    (key, nonce)
}
