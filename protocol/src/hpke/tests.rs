use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};

use super::*;
use crate::ratchet::tests::TestRng;

/// Yields exactly the given bytes, then fails the test if asked for more.
struct Fixed(Vec<u8>);

impl TryRng for Fixed {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> core::result::Result<u32, Infallible> {
        panic!("unexpected next_u32")
    }
    fn try_next_u64(&mut self) -> core::result::Result<u64, Infallible> {
        panic!("unexpected next_u64")
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> core::result::Result<(), Infallible> {
        assert!(dst.len() <= self.0.len(), "RNG exhausted");
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}
impl TryCryptoRng for Fixed {}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// RFC 9180 Appendix A.2.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, base
/// mode, sequence number 0.
#[test]
fn rfc9180_a_2_1_base_mode() {
    let ikm_r: [u8; 32] = hex("1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df")
        .try_into()
        .unwrap();
    let ikm_e = hex("909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b");
    let pk_rm = hex("4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a");
    let pk_em = hex("1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a");
    let info = hex("4f6465206f6e2061204772656369616e2055726e");
    let pt = hex("4265617574792069732074727574682c20747275746820626561757479");
    let aad = hex("436f756e742d30");
    let ct = hex(
        "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28",
    );

    let recipient = KemSecret::from_seed(Suite::X25519, &ikm_r);
    assert_eq!(recipient.public().as_bytes(), &pk_rm[..]);

    let mut rng = Fixed(ikm_e);
    let sealed = seal(recipient.public(), &info, &aad, &pt, b"", &mut rng).unwrap();
    assert!(rng.0.is_empty(), "the X25519 suite draws exactly ikmE");
    assert_eq!(sealed.enc(), &pk_em[..]);
    assert_eq!(sealed.ciphertext(), &ct[..]);

    let opened = open(&recipient, &pk_em, &info, &aad, &ct, b"").unwrap();
    assert_eq!(opened.plaintext(), &pt[..]);
    assert_eq!(opened.exported(), sealed.exported());
}

#[test]
fn round_trip_and_failures_in_both_suites() {
    let mut rng = TestRng(100);
    for suite in Suite::ALL {
        let recipient = KemSecret::generate(suite, &mut rng);
        let sealed = seal(recipient.public(), b"i", b"a", b"message", b"ctx", &mut rng).unwrap();
        assert_eq!(sealed.enc().len(), suite.hpke_enc_len());
        assert_eq!(sealed.ciphertext().len(), b"message".len() + 16);
        let opened = open(
            &recipient,
            sealed.enc(),
            b"i",
            b"a",
            sealed.ciphertext(),
            b"ctx",
        )
        .unwrap();
        assert_eq!(opened.plaintext(), b"message");
        assert_eq!(opened.exported(), sealed.exported());

        let class = |r: Result<Opened>| r.unwrap_err().class();
        let (enc, ct) = (sealed.enc(), sealed.ciphertext());
        assert_eq!(
            class(open(&recipient, enc, b"j", b"a", ct, b"ctx")),
            ErrorClass::HpkeOpen
        );
        assert_eq!(
            class(open(&recipient, enc, b"i", b"b", ct, b"ctx")),
            ErrorClass::HpkeOpen
        );
        let mut bad_ct = ct.to_vec();
        bad_ct[0] ^= 1;
        assert_eq!(
            class(open(&recipient, enc, b"i", b"a", &bad_ct, b"ctx")),
            ErrorClass::HpkeOpen
        );
        let mut bad_enc = enc.to_vec();
        bad_enc[3] ^= 1;
        assert_eq!(
            class(open(&recipient, &bad_enc, b"i", b"a", ct, b"ctx")),
            ErrorClass::HpkeOpen
        );
        assert_eq!(
            class(open(&recipient, &enc[1..], b"i", b"a", ct, b"ctx")),
            ErrorClass::HpkeEncapsulation
        );
        let other = KemSecret::generate(suite, &mut rng);
        assert_eq!(
            class(open(&other, enc, b"i", b"a", ct, b"ctx")),
            ErrorClass::HpkeOpen
        );
        // The exported secret depends on the exporter context.
        let again = open(&recipient, enc, b"i", b"a", ct, b"other").unwrap();
        assert_ne!(again.exported(), sealed.exported());
    }
}

#[test]
fn x25519_share_of_small_order_is_rejected() {
    let recipient = KemSecret::from_seed(Suite::X25519, &[5; 32]);
    let sealed = seal(recipient.public(), b"", b"", b"x", b"", &mut TestRng(1)).unwrap();
    for share in [[0u8; 32], {
        let mut one = [0u8; 32];
        one[0] = 1;
        one
    }] {
        let err = open(&recipient, &share, b"", b"", sealed.ciphertext(), b"").unwrap_err();
        assert_eq!(err.class(), ErrorClass::HpkeDecapsulation);
    }
}

#[test]
fn xwing_draws_its_encapsulation_seed() {
    let recipient = KemSecret::from_seed(Suite::XWing, &[9; 32]);
    let mut a = Fixed(vec![0x42; 64]);
    let mut b = Fixed(vec![0x42; 64]);
    let first = seal(recipient.public(), b"", b"", b"x", b"", &mut a).unwrap();
    let second = seal(recipient.public(), b"", b"", b"x", b"", &mut b).unwrap();
    assert!(a.0.is_empty());
    assert_eq!(first.enc(), second.enc());
    assert_eq!(first.ciphertext(), second.ciphertext());
}
