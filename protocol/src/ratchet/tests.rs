use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};

use super::*;
use crate::cbor;

/// SHA-256 in counter mode: deterministic test randomness.
pub(crate) struct TestRng(pub(crate) u64);

impl TryRng for TestRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> core::result::Result<u32, Infallible> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> core::result::Result<u64, Infallible> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> core::result::Result<(), Infallible> {
        use sha2::{Digest, Sha256};
        for chunk in dst.chunks_mut(32) {
            self.0 += 1;
            let block = Sha256::digest(self.0.to_le_bytes());
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }
}
impl TryCryptoRng for TestRng {}

fn pair() -> (Ratchet, Ratchet, TestRng) {
    let responder_key = X25519Secret::from_bytes(&[7; 32]);
    let a = Ratchet::initiator(&[1; 32], *responder_key.public(), &[2; 32]);
    let b = Ratchet::responder(&[1; 32], responder_key, &[2; 32]);
    (a, b, TestRng(0))
}

fn class<T: fmt::Debug>(r: Result<T>) -> ErrorClass {
    r.unwrap_err().class()
}

#[test]
fn in_order_both_directions_with_several_steps() {
    let (mut a, mut b, mut rng) = pair();
    for round in 0..5u8 {
        for i in 0..3u8 {
            let m = a.encrypt(&[round, i], &mut rng).unwrap();
            assert_eq!(b.decrypt(&m).unwrap(), [round, i]);
        }
        let m = b.encrypt(&[round], &mut rng).unwrap();
        assert_eq!(a.decrypt(&m).unwrap(), [round]);
    }
    assert_eq!(a.skipped_keys() + b.skipped_keys(), 0);
}

#[test]
fn responder_cannot_send_first() {
    let (_, mut b, mut rng) = pair();
    assert!(!b.can_send());
    assert_eq!(
        class(b.encrypt(b"x", &mut rng)),
        ErrorClass::RatchetNoSendingChain
    );
}

#[test]
fn out_of_order_across_a_dh_step_opens_each_once() {
    let (mut a, mut b, mut rng) = pair();
    let m0 = a.encrypt(b"0", &mut rng).unwrap();
    let m1 = a.encrypt(b"1", &mut rng).unwrap();
    let m2 = a.encrypt(b"2", &mut rng).unwrap();
    assert_eq!(b.decrypt(&m0).unwrap(), b"0");
    let r = b.encrypt(b"r", &mut rng).unwrap();
    a.decrypt(&r).unwrap();
    let m3 = a.encrypt(b"3", &mut rng).unwrap(); // new chain; pn = 3
    assert_eq!(b.decrypt(&m3).unwrap(), b"3");
    assert_eq!(b.skipped_keys(), 2);
    assert_eq!(b.decrypt(&m2).unwrap(), b"2");
    assert_eq!(b.decrypt(&m1).unwrap(), b"1");
    assert_eq!(b.skipped_keys(), 0);
    // A replay in the current chain is recognised as such; the previous chain has no
    // stored keys left, so the receiver no longer knows its header key at all.
    assert_eq!(class(b.decrypt(&m3)), ErrorClass::RatchetReplay);
    for m in [&m0, &m1, &m2] {
        assert_eq!(class(b.decrypt(m)), ErrorClass::RatchetHeader);
    }
}

#[test]
fn failures_change_no_state() {
    let (mut a, mut b, mut rng) = pair();
    let m0 = a.encrypt(b"0", &mut rng).unwrap();
    let m1 = a.encrypt(b"1", &mut rng).unwrap();
    b.decrypt(&m1).unwrap();
    let before = b.snapshot();

    let mut body = m0.clone();
    *body.last_mut().unwrap() ^= 1;
    assert_eq!(class(b.decrypt(&body)), ErrorClass::RatchetBody);
    let mut head = m0.clone();
    head[30] ^= 1;
    assert_eq!(class(b.decrypt(&head)), ErrorClass::RatchetHeader);
    assert_eq!(
        class(b.decrypt(&m0[..OVERHEAD - 1])),
        ErrorClass::RatchetFormat
    );
    assert_eq!(class(b.decrypt(&m1)), ErrorClass::RatchetReplay);
    assert_eq!(b.snapshot(), before);
    assert_eq!(b.decrypt(&m0).unwrap(), b"0");
}

#[test]
fn a_tampered_new_chain_changes_no_state() {
    let (mut a, mut b, mut rng) = pair();
    b.decrypt(&a.encrypt(b"0", &mut rng).unwrap()).unwrap();
    a.decrypt(&b.encrypt(b"r", &mut rng).unwrap()).unwrap();
    let step = a.encrypt(b"new chain", &mut rng).unwrap();
    let before = b.snapshot();
    let mut body = step.clone();
    *body.last_mut().unwrap() ^= 0x80;
    assert_eq!(class(b.decrypt(&body)), ErrorClass::RatchetBody);
    assert_eq!(b.snapshot(), before);
    assert_eq!(b.decrypt(&step).unwrap(), b"new chain");
}

#[test]
fn jump_limit_is_exact() {
    let (mut a, mut b, mut rng) = pair();
    let mut last = Vec::new();
    for _ in 0..=MAX_JUMP + 1 {
        last = a.encrypt(b"m", &mut rng).unwrap();
    }
    // The last message is number MAX_JUMP + 1: opening it skips MAX_JUMP + 1 keys.
    let before = b.snapshot();
    assert_eq!(class(b.decrypt(&last)), ErrorClass::RatchetJumpLimit);
    assert_eq!(b.snapshot(), before);

    let (mut a, mut b, mut rng) = pair();
    for _ in 0..=MAX_JUMP {
        last = a.encrypt(b"m", &mut rng).unwrap();
    }
    assert_eq!(b.decrypt(&last).unwrap(), b"m");
    assert_eq!(b.skipped_keys(), MAX_JUMP as usize);
}

#[test]
fn oldest_skipped_keys_are_evicted() {
    let (mut a, mut b, mut rng) = pair();
    let first = a.encrypt(b"first", &mut rng).unwrap();
    let second = a.encrypt(b"second", &mut rng).unwrap();
    let mut last = Vec::new();
    for _ in 0..MAX_JUMP - 1 {
        last = a.encrypt(b"m", &mut rng).unwrap();
    }
    // `last` is number MAX_JUMP: opening it stores keys 0 .. MAX_JUMP - 1, a full store.
    b.decrypt(&last).unwrap();
    assert_eq!(b.skipped_keys(), MAX_SKIPPED);
    b.decrypt(&a.encrypt(b"next", &mut rng).unwrap()).unwrap();
    a.decrypt(&b.encrypt(b"r", &mut rng).unwrap()).unwrap();
    let m = a.encrypt(b"x", &mut rng).unwrap();
    let m2 = a.encrypt(b"y", &mut rng).unwrap();
    b.decrypt(&m2).unwrap(); // one more skipped key (new chain's number 0): one eviction
    assert_eq!(b.skipped_keys(), MAX_SKIPPED);
    assert_eq!(class(b.decrypt(&first)), ErrorClass::RatchetReplay);
    assert_eq!(b.decrypt(&second).unwrap(), b"second");
    assert_eq!(b.decrypt(&m).unwrap(), b"x");
}

#[test]
fn snapshots_round_trip_and_resume() {
    let (mut a, mut b, mut rng) = pair();
    let m0 = a.encrypt(b"0", &mut rng).unwrap();
    let m1 = a.encrypt(b"1", &mut rng).unwrap();
    b.decrypt(&m1).unwrap();
    let snap = b.snapshot();
    let mut restored = Ratchet::from_snapshot(&snap).unwrap();
    assert_eq!(restored.snapshot(), snap);
    assert_eq!(restored.decrypt(&m0).unwrap(), b"0");
    let r = restored.encrypt(b"r", &mut rng).unwrap();
    assert_eq!(a.decrypt(&r).unwrap(), b"r");
    let a_snap = a.snapshot();
    assert_eq!(Ratchet::from_snapshot(&a_snap).unwrap().snapshot(), a_snap);
}

#[test]
fn snapshot_decoding_is_strict() {
    let (a, _, _) = pair();
    let snap = a.snapshot();
    let mut trailing = snap.to_vec();
    trailing.push(0);
    assert_eq!(
        class(Ratchet::from_snapshot(&trailing)),
        ErrorClass::CborTrailing
    );
    let value = cbor::decode(&snap, &cbor::Limits::DEFAULT).unwrap();
    let cbor::Value::Map(mut map) = value else {
        panic!()
    };
    map.insert(
        cbor::Int::uint(8),
        cbor::Value::uint(u64::from(u32::MAX) + 1),
    );
    let over = cbor::encode(&cbor::Value::Map(map.clone()));
    assert_eq!(
        class(Ratchet::from_snapshot(&over)),
        ErrorClass::SchemaRange
    );
    map.insert(cbor::Int::uint(99), cbor::Value::uint(0));
    let unknown = cbor::encode(&cbor::Value::Map(map));
    assert_eq!(
        class(Ratchet::from_snapshot(&unknown)),
        ErrorClass::SchemaUnknownCritical
    );
}

#[test]
fn wrong_session_is_a_header_failure() {
    let (mut a, _, mut rng) = pair();
    let other_key = X25519Secret::from_bytes(&[8; 32]);
    let mut other = Ratchet::responder(&[3; 32], other_key, &[2; 32]);
    let m = a.encrypt(b"x", &mut rng).unwrap();
    assert_eq!(class(other.decrypt(&m)), ErrorClass::RatchetHeader);
    // Same secret, different associated data: also refused.
    let key = X25519Secret::from_bytes(&[7; 32]);
    let mut other_ad = Ratchet::responder(&[1; 32], key, &[5; 32]);
    assert_eq!(class(other_ad.decrypt(&m)), ErrorClass::RatchetHeader);
}

#[test]
fn ciphertexts_show_no_counters() {
    let (mut a, _, mut rng) = pair();
    let m0 = a.encrypt(b"same", &mut rng).unwrap();
    let m1 = a.encrypt(b"same", &mut rng).unwrap();
    assert_eq!(m0.len(), m1.len());
    assert_eq!(m0.len(), OVERHEAD + 4);
    assert_ne!(m0[..ENCRYPTED_HEADER_LEN], m1[..ENCRYPTED_HEADER_LEN]);
}

#[test]
fn debug_shows_no_secrets() {
    let (a, _, _) = pair();
    let text = format!("{a:?}");
    assert!(text.starts_with("Ratchet {"));
    assert!(!text.contains("rk"));
}

/// RAT-03: a sender whose state was rolled back (the same snapshot restored twice) and
/// encrypts two different plaintexts with fresh header nonces must not reuse the body's
/// ChaCha20-Poly1305 key and nonce: the two bodies' keystreams differ.
#[test]
fn a_rolled_back_sender_never_reuses_a_body_key_and_nonce() {
    let (mut a, mut b, mut rng) = pair();
    let m = a.encrypt(b"first", &mut rng).unwrap();
    b.decrypt(&m).unwrap();
    let snapshot = a.snapshot();
    let mut first = Ratchet::from_snapshot(&snapshot).unwrap();
    let mut second = Ratchet::from_snapshot(&snapshot).unwrap();
    let p1 = [0x00u8; 64];
    let p2 = [0xffu8; 64];
    let c1 = first.encrypt(&p1, &mut TestRng(1000)).unwrap();
    let c2 = second.encrypt(&p2, &mut TestRng(2000)).unwrap();
    // Both bodies decrypt for the receiver (the rollback is not detectable by it) ...
    let mut b2 = Ratchet::from_snapshot(&b.snapshot()).unwrap();
    assert_eq!(b.decrypt(&c1).unwrap(), p1);
    assert_eq!(b2.decrypt(&c2).unwrap(), p2);
    // ... but their keystreams are independent: XOR of the ciphertext bodies is not the
    // XOR of the plaintexts, which it would be under a repeated (key, nonce).
    let body = |c: &[u8]| c[header::ENCRYPTED_HEADER_LEN..][..64].to_vec();
    let xor_c: Vec<u8> = body(&c1)
        .iter()
        .zip(body(&c2))
        .map(|(x, y)| x ^ y)
        .collect();
    let xor_p: Vec<u8> = p1.iter().zip(p2).map(|(x, y)| x ^ y).collect();
    assert_ne!(xor_c, xor_p);
}
