//! Tests of the post-quantum ratchet (spec/06-ratchet.md §6.18 to §6.22).

use super::tests::TestRng;
use super::*;

fn pq_pair() -> (Ratchet, Ratchet, TestRng) {
    let responder_key = X25519Secret::from_bytes(&[7; 32]);
    let a = Ratchet::pq_initiator(&[1; 32], *responder_key.public(), &[2; 32]);
    let b = Ratchet::pq_responder(&[1; 32], responder_key, &[2; 32]);
    (a, b, TestRng(0))
}

/// An RNG that counts the bytes drawn from an inner one.
struct Counting<'a>(&'a mut TestRng, usize);

impl rand_core::TryRng for Counting<'_> {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
        self.1 += 4;
        self.0.try_next_u32()
    }
    fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
        self.1 += 8;
        self.0.try_next_u64()
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> core::result::Result<(), Self::Error> {
        self.1 += dst.len();
        self.0.try_fill_bytes(dst)
    }
}
impl rand_core::TryCryptoRng for Counting<'_> {}

/// Encrypts and returns the message and the number of random bytes drawn.
fn encrypt_counting(r: &mut Ratchet, plaintext: &[u8], rng: &mut TestRng) -> (Vec<u8>, usize) {
    let mut counting = Counting(rng, 0);
    let m = r.encrypt(plaintext, &mut counting).unwrap();
    let drawn = counting.1;
    (m, drawn)
}

#[test]
fn pq_messages_have_a_fixed_overhead_and_draw_the_specified_randomness() {
    let (mut a, mut b, mut rng) = pq_pair();
    assert!(a.is_post_quantum() && b.is_post_quantum());
    assert_eq!(a.overhead(), PQ_OVERHEAD);
    assert_eq!(PQ_OVERHEAD, 2368);
    // The initiator's first sending half: X25519 (32) and a KEM key pair (64), nothing to
    // encapsulate to yet; then the header nonce (24).
    let (m, drawn) = encrypt_counting(&mut a, b"one", &mut rng);
    assert_eq!((m.len(), drawn), (3 + PQ_OVERHEAD, 32 + 64 + 24));
    let (m2, drawn) = encrypt_counting(&mut a, b"two", &mut rng);
    assert_eq!((m2.len(), drawn), (3 + PQ_OVERHEAD, 24));
    assert_eq!(b.decrypt(&m2).unwrap(), b"two");
    assert_eq!(b.decrypt(&m).unwrap(), b"one");
    // The responder's first sending half also encapsulates to the initiator's key (32).
    let (reply, drawn) = encrypt_counting(&mut b, b"", &mut rng);
    assert_eq!((reply.len(), drawn), (PQ_OVERHEAD, 32 + 64 + 32 + 24));
    assert_eq!(a.decrypt(&reply).unwrap(), b"");
    let (m3, drawn) = encrypt_counting(&mut a, b"three", &mut rng);
    assert_eq!(drawn, 32 + 64 + 32 + 24);
    assert_eq!(b.decrypt(&m3).unwrap(), b"three");
}

#[test]
fn pq_sessions_survive_loss_and_reordering_across_steps() {
    let (mut a, mut b, mut rng) = pq_pair();
    let mut late = Vec::new();
    for round in 0..6u8 {
        let first = a.encrypt(&[round, 0], &mut rng).unwrap();
        let second = a.encrypt(&[round, 1], &mut rng).unwrap();
        // The chain's first message is late: the second runs the step, with the same KEM
        // fields.
        assert_eq!(b.decrypt(&second).unwrap(), [round, 1]);
        late.push((first, [round, 0]));
        let lost = b.encrypt(&[round, 2], &mut rng).unwrap();
        drop(lost);
        let reply = b.encrypt(&[round, 3], &mut rng).unwrap();
        assert_eq!(a.decrypt(&reply).unwrap(), [round, 3]);
    }
    for (message, plaintext) in late.iter().rev() {
        assert_eq!(b.decrypt(message).unwrap(), plaintext);
    }
}

#[test]
fn pq_and_classic_sessions_do_not_interoperate() {
    let responder_key = X25519Secret::from_bytes(&[7; 32]);
    let mut rng = TestRng(0);
    let mut pq = Ratchet::pq_initiator(&[1; 32], *responder_key.public(), &[2; 32]);
    let mut classic = Ratchet::responder(&[1; 32], responder_key.clone(), &[2; 32]);
    let m = pq.encrypt(b"x", &mut rng).unwrap();
    assert_eq!(
        classic.decrypt(&m).unwrap_err().class(),
        ErrorClass::RatchetHeader
    );
    let mut classic = Ratchet::initiator(&[1; 32], *responder_key.public(), &[2; 32]);
    let mut pq = Ratchet::pq_responder(&[1; 32], responder_key, &[2; 32]);
    let m = classic.encrypt(b"x", &mut rng).unwrap();
    // Too short for a post-quantum header.
    assert_eq!(
        pq.decrypt(&m).unwrap_err().class(),
        ErrorClass::RatchetFormat
    );
}

#[test]
fn pq_snapshots_round_trip_at_every_stage() {
    let (mut a, mut b, mut rng) = pq_pair();
    let check = |r: &Ratchet| {
        let s = r.snapshot();
        let restored = Ratchet::from_snapshot(&s).unwrap();
        assert!(restored.is_post_quantum());
        assert_eq!(*restored.snapshot(), *s);
        // Key 1, the version: 2 for a post-quantum session.
        assert_eq!(s.get(1..3), Some(&[0x01, 0x02][..]));
    };
    check(&a);
    check(&b);
    for round in 0..3u8 {
        let m = a.encrypt(&[round], &mut rng).unwrap();
        check(&a);
        let mut b2 = Ratchet::from_snapshot(&b.snapshot()).unwrap();
        assert_eq!(b2.decrypt(&m).unwrap(), [round]);
        assert_eq!(b.decrypt(&m).unwrap(), [round]);
        check(&b);
        // A restored state continues exactly like the original.
        let mut rng2 = TestRng(1000 + u64::from(round));
        let mut rng3 = TestRng(1000 + u64::from(round));
        let mut b3 = Ratchet::from_snapshot(&b.snapshot()).unwrap();
        let reply = b.encrypt(&[round, 1], &mut rng2).unwrap();
        assert_eq!(b3.encrypt(&[round, 1], &mut rng3).unwrap(), reply);
        check(&b);
        assert_eq!(a.decrypt(&reply).unwrap(), [round, 1]);
        check(&a);
    }
}

#[test]
fn pq_failed_decryption_changes_nothing() {
    let (mut a, mut b, mut rng) = pq_pair();
    let m = a.encrypt(b"hi", &mut rng).unwrap();
    let before = b.snapshot();
    let mut forged = m.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert_eq!(
        b.decrypt(&forged).unwrap_err().class(),
        ErrorClass::RatchetBody
    );
    assert_eq!(*b.snapshot(), *before);
    assert_eq!(
        b.decrypt(&m[..PQ_OVERHEAD - 1]).unwrap_err().class(),
        ErrorClass::RatchetFormat
    );
    assert_eq!(*b.snapshot(), *before);
    assert_eq!(b.decrypt(&m).unwrap(), b"hi");
}

/// Replays `bytes` as randomness, replacing every byte drawn at a position in `unknown`
/// with another: the attacker of §6.21 knows every X25519 secret and header nonce, but not
/// the ML-KEM seeds and encapsulation randomness.
struct Replay {
    bytes: Vec<u8>,
    at: usize,
    unknown: core::ops::Range<usize>,
}

impl rand_core::TryRng for Replay {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
        unreachable!()
    }
    fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
        unreachable!()
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> core::result::Result<(), Self::Error> {
        for b in dst {
            let guessed = self.unknown.contains(&self.at);
            *b = self.bytes[self.at] ^ if guessed { 0x5a } else { 0 };
            self.at += 1;
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for Replay {}

/// Runs the compromise-then-heal script of §6.21 on a classic or post-quantum pair: the
/// attacker takes the responder's snapshot, then follows the session with every X25519
/// secret and nonce the responder draws (as an adversary who breaks X25519 would) but
/// without its ML-KEM randomness. Returns, per message the initiator sends after the
/// compromise, whether the attacker's copy of the responder opens it.
fn attacker_reads(pq: bool) -> Vec<bool> {
    let responder_key = X25519Secret::from_bytes(&[7; 32]);
    let (mut a, mut b) = if pq {
        (
            Ratchet::pq_initiator(&[1; 32], *responder_key.public(), &[2; 32]),
            Ratchet::pq_responder(&[1; 32], responder_key, &[2; 32]),
        )
    } else {
        (
            Ratchet::initiator(&[1; 32], *responder_key.public(), &[2; 32]),
            Ratchet::responder(&[1; 32], responder_key, &[2; 32]),
        )
    };
    let mut rng = TestRng(0);
    // A conversation, then the compromise of the responder.
    for round in 0..2u8 {
        let m = a.encrypt(&[round], &mut rng).unwrap();
        b.decrypt(&m).unwrap();
        let r = b.encrypt(&[round], &mut rng).unwrap();
        a.decrypt(&r).unwrap();
    }
    let mut attacker = Ratchet::from_snapshot(&b.snapshot()).unwrap();
    let mut reads = Vec::new();
    for round in 0..3u8 {
        // The initiator's new chain: it encapsulates to the responder's current key, which
        // the snapshot holds in the first round.
        let m = a.encrypt(&[round, 9], &mut rng).unwrap();
        reads.push(attacker.decrypt(&m).is_ok());
        b.decrypt(&m).unwrap();
        // The responder's reply; the attacker replays its DH secret and header nonce.
        let mut drawn = TestRng(500 + u64::from(round));
        let mut probe = Counting(&mut drawn, 0);
        let reply = b.encrypt(&[round, 8], &mut probe).unwrap();
        let count = probe.1;
        let mut again = TestRng(500 + u64::from(round));
        let mut bytes = vec![0; count];
        rand_core::TryRng::try_fill_bytes(&mut again, &mut bytes).unwrap();
        // Draws of a sending half: X25519 (32), then ML-KEM seed (64) and encapsulation
        // (32), then the header nonce.
        let unknown = if pq { 32..128 } else { 0..0 };
        let mut replay = Replay {
            bytes,
            at: 0,
            unknown,
        };
        let _ = attacker.encrypt(&[round, 8], &mut replay);
        a.decrypt(&reply).unwrap();
    }
    reads
}

#[test]
fn a_quantum_attacker_with_an_old_snapshot_is_locked_out_after_one_round_trip() {
    // Classic: knowing every X25519 secret, the attacker follows the session for ever.
    assert_eq!(attacker_reads(false), [true, true, true]);
    // Post-quantum: the responder's next sending half encapsulates to the initiator's key
    // with randomness the attacker lacks; the initiator's chain after it is out of reach.
    assert_eq!(attacker_reads(true), [true, false, false]);
}
