//! Invariant checks: Ratchet snapshots and scripted sessions (spec/06-ratchet.md), and
//! session snapshots (spec/07-envelope.md ENV-08).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use super::check_class;
use crate::keys::X25519Secret;
use crate::ratchet::Ratchet;
use crate::session::Session;

/// Ratchet snapshots: an accepted snapshot re-encodes to exactly its input.
pub fn ratchet_snapshot(data: &[u8]) -> bool {
    match Ratchet::from_snapshot(data) {
        Ok(ratchet) => {
            assert_eq!(
                ratchet.snapshot().as_slice(),
                data,
                "snapshot does not round trip"
            );
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Session snapshots (spec/07-envelope.md ENV-08): an accepted snapshot, with or without the
/// peer's identity key, re-encodes to exactly its input.
pub fn session_snapshot(data: &[u8]) -> bool {
    match Session::restore(data) {
        Ok(session) => {
            assert_eq!(
                session.snapshot().as_slice(),
                data,
                "session snapshot does not round trip"
            );
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Deterministic randomness for the session target: SHA-256 in counter mode.
pub(super) struct FuzzRng(pub(super) u64);

impl rand_core::TryRng for FuzzRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        use sha2::Digest;
        for chunk in dst.chunks_mut(32) {
            self.0 += 1;
            let block = sha2::Sha256::digest(self.0.to_le_bytes());
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for FuzzRng {}

/// A two-party session of the classic ratchet driven by the input: each byte pair is one
/// action (send from either side, deliver, duplicate, drop, or deliver a copy with one bit
/// flipped) on the messages in flight. Invariants: every message opens at most once and its
/// first delivery succeeds with its plaintext; a failed decryption (duplicate, tampered)
/// leaves the receiver's snapshot unchanged; every error class is registered.
pub fn ratchet_session(data: &[u8]) -> bool {
    let responder_key = X25519Secret::from_bytes(&[7; 32]);
    let sides = [
        Ratchet::initiator(&[1; 32], *responder_key.public(), &[2; 32]),
        Ratchet::responder(&[1; 32], responder_key, &[2; 32]),
    ];
    session(data, sides)
}

/// As [`ratchet_session`], on the post-quantum ratchet (spec/06-ratchet.md RAT-11 to RAT-14):
/// every DH step also runs ML-KEM-768, whose fields every header carries. Additionally:
/// every message is exactly its plaintext plus `PQ_OVERHEAD` bytes, and each side's snapshot
/// restores to a state that encodes to the same bytes after every action.
pub fn ratchet_pq_session(data: &[u8]) -> bool {
    let responder_key = X25519Secret::from_bytes(&[7; 32]);
    let sides = [
        Ratchet::pq_initiator(&[1; 32], *responder_key.public(), &[2; 32]),
        Ratchet::pq_responder(&[1; 32], responder_key, &[2; 32]),
    ];
    session(data, sides)
}

/// Authentic post-quantum headers with chosen fields (spec/06-ratchet.md RAT-14): the
/// header of a real first message of a new chain (the initiator's first chain if the first
/// byte is even, its second, to a responder holding a KEM key, if odd) is opened, patched
/// by the rest of the input (3-byte patches: a big-endian offset into the 2312-byte header,
/// then the byte written there), sealed again under the responder's header key with the
/// original body, and delivered. Invariants: an unpatched header opens with its plaintext;
/// a patched one that opens gives the same plaintext; a refusal has a registered class and
/// leaves the responder's snapshot unchanged, and the genuine message still opens after it.
pub fn ratchet_pq_header(data: &[u8]) -> bool {
    let mut rng = FuzzRng(0);
    let responder_key = X25519Secret::from_bytes(&[7; 32]);
    let mut a = Ratchet::pq_initiator(&[1; 32], *responder_key.public(), &[2; 32]);
    let mut b = Ratchet::pq_responder(&[1; 32], responder_key, &[2; 32]);
    let mut message = a.encrypt(b"first", &mut rng).unwrap();
    if data.first().is_some_and(|m| m % 2 == 1) {
        b.decrypt(&message).unwrap();
        let reply = b.encrypt(b"reply", &mut rng).unwrap();
        a.decrypt(&reply).unwrap();
        message = a.encrypt(b"second", &mut rng).unwrap();
    }
    let (mut header, body) = b.fuzz_open_new_chain_header(&message).unwrap();
    let original = header.clone();
    for patch in data.get(1..).unwrap_or_default().chunks_exact(3) {
        let at = usize::from(u16::from_be_bytes([patch[0], patch[1]])) % header.len();
        header[at] = patch[2];
    }
    let nonce: [u8; 24] = message[..24].try_into().unwrap();
    let forged = b.fuzz_forge_new_chain(&header, &nonce, &body);
    let want = b.clone().decrypt(&message).unwrap();
    let before = b.snapshot();
    match b.decrypt(&forged) {
        Ok(plaintext) => {
            assert_eq!(
                plaintext, want,
                "a patched header opened to another plaintext"
            );
            true
        }
        Err(e) => {
            check_class(&e);
            assert_ne!(header, original, "the genuine header was refused: {e:?}");
            assert_eq!(b.snapshot(), before, "failure changed state");
            assert_eq!(b.decrypt(&message).unwrap(), want);
            false
        }
    }
}

fn session(data: &[u8], mut sides: [Ratchet; 2]) -> bool {
    struct InFlight {
        to: usize,
        id: usize,
        wire: Vec<u8>,
    }
    let mut rng = FuzzRng(0);
    let pq = sides[0].is_post_quantum();
    let mut in_flight: Vec<InFlight> = Vec::new();
    let mut opened: Vec<bool> = Vec::new();
    for pair in data.chunks(2) {
        let op = pair.first().copied().unwrap_or(0);
        let arg = usize::from(pair.get(1).copied().unwrap_or(0));
        match op % 6 {
            0 | 1 => {
                let from = usize::from(op % 2);
                if sides[from].can_send() {
                    let id = opened.len();
                    let wire = sides[from].encrypt(&id.to_le_bytes(), &mut rng).unwrap();
                    assert_eq!(wire.len(), sides[from].overhead() + id.to_le_bytes().len());
                    opened.push(false);
                    in_flight.push(InFlight {
                        to: 1 - from,
                        id,
                        wire,
                    });
                }
            }
            2..=4 if !in_flight.is_empty() => {
                let index = arg % in_flight.len();
                let duplicate = op % 6 == 3;
                let tamper = op % 6 == 4;
                let message = if duplicate || tamper {
                    let m = &in_flight[index];
                    let mut wire = m.wire.clone();
                    if tamper {
                        // A post-quantum message is 2368 bytes or more: spread the flips.
                        let spread = if pq { 3 } else { 1 };
                        let bit = (usize::from(op / 6) * 256 + arg) * spread;
                        let at = (bit / 8) % wire.len();
                        wire[at] ^= 1 << (bit % 8);
                    }
                    InFlight {
                        to: m.to,
                        id: m.id,
                        wire,
                    }
                } else {
                    in_flight.remove(index)
                };
                let receiver = &mut sides[message.to];
                let before = receiver.snapshot();
                match receiver.decrypt(&message.wire) {
                    Ok(plaintext) => {
                        assert!(!tamper, "a tampered message opened");
                        assert!(!opened[message.id], "message {} opened twice", message.id);
                        assert_eq!(plaintext, message.id.to_le_bytes());
                        opened[message.id] = true;
                    }
                    Err(e) => {
                        check_class(&e);
                        assert!(tamper || opened[message.id], "first delivery failed: {e:?}");
                        assert_eq!(receiver.snapshot(), before, "failure changed state");
                    }
                }
            }
            5 if !in_flight.is_empty() => {
                let index = arg % in_flight.len();
                in_flight.remove(index);
            }
            _ => {}
        }
        if pq {
            for side in &sides {
                let snapshot = side.snapshot();
                let restored = Ratchet::from_snapshot(&snapshot).unwrap();
                assert_eq!(
                    restored.snapshot(),
                    snapshot,
                    "snapshot does not round trip"
                );
            }
        }
    }
    opened.iter().any(|o| *o)
}
