//! Accept tests added after the first release, so their ids follow every other test.

use super::forge::{Forge, HeldInvite, Sent};
use super::{AcceptTest, Accepts, device, message};
use crate::families::{Ids, material as m};
use crate::raw;
use quietwire::cbor::{Int, Value};
use quietwire::label::Label;
use quietwire::suite::Suite;

/// A device record body of `suite` with the given keys, generation 0 (IDN-02).
fn record_body(suite: Suite, identity: &[u8; 32], kem: &[u8], ratchet: &[u8; 32]) -> Vec<u8> {
    m::canonical_map(vec![
        (1, raw::head(0, 1)),
        (2, raw::head(0, suite.id())),
        (3, raw::bstr(identity)),
        (4, raw::bstr(kem)),
        (5, raw::bstr(ratchet)),
        (6, raw::head(0, 0)),
    ])
}

/// Accept tests added after the first release of the family, so their ids follow the others:
/// strict Ed25519 (SUI-05) on the transcript signature, an over-long payload, a KEM that
/// rejects `enc`, and key faults inside the acceptor's device record.
pub(super) fn appended_accept_tests(
    ids: &mut Ids,
    accepts: &mut Vec<AcceptTest>,
    inviters: &[(&str, &HeldInvite)],
) -> Result<(), String> {
    use Sent::{Bytes, Forged};
    for &(name, inviter) in inviters {
        let suite = inviter.invite.invite().suite();
        let alice = device(&format!("{name}/alice"), suite);
        let keys = alice.keys();
        let a_scalar = m::secret_scalar(&alice.identity_seed);
        let a_public = *keys.identity().public().as_bytes();
        let kem = keys.kem().public().as_bytes().to_vec();
        let ratchet = *keys.ratchet().public().as_bytes();
        let identity = keys.identity();
        let mixed = m::mixed_order_key(&format!("handshake/{name}/alice"));
        let mixed_body = record_body(suite, &mixed.public, &kem, &ratchet);
        let mixed_record = mixed.signed(&mixed_body, Label::DeviceRecord, true);
        let mut zero_sig = [0u8; 64];
        zero_sig[0] = 1;
        let negative_zero = m::ed25519_negative_zero();
        let nc_record = raw::array(&[
            raw::bstr(&record_body(suite, &negative_zero, &kem, &ratchet)),
            raw::bstr(&zero_sig),
        ]);
        let bad_kem = if suite == Suite::XWing {
            m::xwing_bad_mlkem(&format!("handshake/{name}/alice/kem"))
        } else {
            m::x25519_zero().to_vec()
        };
        // The acceptor's record with other keys, validly signed by its identity key.
        let record = |key: &[u8; 32], kem: &[u8], ratchet: &[u8; 32]| {
            Forged(Forge::record(m::signed(
                &record_body(suite, key, kem, ratchet),
                identity,
                Label::DeviceRecord,
            )))
        };
        let mixed_ok = m::mixed_order_key(&format!("handshake/{name}/alice"));
        let mixed_bad = m::mixed_order_key(&format!("handshake/{name}/alice"));
        let bad_kem_class = if suite == Suite::XWing { "key.invalid" } else { "key.low_order" };

        // The KEM's rejection of `enc`: suite 2 refuses a small-order share
        // (`hpke.decapsulation`); X-Wing never rejects, so the AEAD fails (SUI-08).
        let a = message(&format!("initiate-{name}"), inviter, &alice)?;
        let enc_len = suite.hpke_enc_len();
        let share_start = enc_len.saturating_sub(32);
        let mut zero_share = a.clone();
        if let Some(share) = zero_share.get_mut(share_start..enc_len) {
            share.fill(0);
        }

        let mut s = Accepts { ids: &mut *ids, tests: &mut *accepts, name, inviter, alice };
        crate::rows! { s.one:
            "sui05-small-order-r",
                "the transcript signature has R = neutral point and S = k·a: the cofactorless equation holds, R has small order (SUI-05 step 3)",
                &["TranscriptSignature"],
                Forged(Forge::signed(move |x| m::sig_small_order_r(&a_scalar, &a_public, x))),
                Some("identity.signature");
            "sui05-noncanonical-r",
                "the transcript signature has R = neutral point encoded as y = p + 1, S = k·a (SUI-05 step 5)",
                &["TranscriptSignature"],
                Forged(Forge::signed(move |x| m::sig_noncanonical_r(&a_scalar, &a_public, x))),
                Some("identity.signature");
            "sui05-noncanonical-a",
                "the record's identity key is the neutral point with the sign bit set; record and transcript signatures R = neutral point, S = 0 satisfy the equation: the record's key check refuses it",
                &["Record"], Forged(Forge::record_signed(nc_record, move |_| zero_sig)),
                Some("key.noncanonical");
            "sui05-mixed-order-key-valid",
                "a record with a mixed-order identity key A = [a]B + T (T of order 8), record and transcript signatures satisfying the cofactorless equation: accepted",
                &["Valid"],
                Forged(Forge::record_signed(mixed_record.clone(), move |x| mixed_ok.sign(x, true))),
                None;
            "sui05-mixed-order-key-cofactored-only",
                "the same mixed-order record; the transcript signature satisfies only the cofactored equation (k ≢ 0 mod 8)",
                &["TranscriptSignature"],
                Forged(Forge::record_signed(mixed_record, move |x| mixed_bad.sign(x, false))),
                Some("identity.signature");
            "payload-over-long",
                "a payload of more than 4352 bytes (a 4400-byte extension), correctly padded and sealed: the payload's decoding limit",
                &["Payload"],
                Forged(Forge::edit(|m| {
                    m.insert(Int::from(-1i64), Value::Bytes(vec![0; 4400]));
                })),
                Some("cbor.limit.input");
            "record-identity-key-noncanonical",
                "the acceptor's record, validly signed, carries an identity key with y >= p",
                &["Record"], record(&m::ed25519_noncanonical(), &kem, &ratchet),
                Some("key.noncanonical");
            "record-identity-key-low-order",
                "the acceptor's record carries an identity key of order 8", &["Record"],
                record(&m::ed25519_order_8(), &kem, &ratchet), Some("key.low_order");
            "record-kem-key-invalid",
                "the acceptor's record, validly signed, carries an invalid KEM key (X-Wing: an ML-KEM coefficient >= q; classical: u = 0)",
                &["Record"], record(&a_public, &bad_kem, &ratchet), Some(bad_kem_class);
            "record-ratchet-key-low-order",
                "the acceptor's record, validly signed, carries a ratchet key of order 8",
                &["Record"], record(&a_public, &kem, &m::x25519_order_8()), Some("key.low_order");
            "record-ratchet-key-noncanonical",
                "the acceptor's record, validly signed, carries a ratchet key u = p", &["Record"],
                record(&a_public, &kem, &m::x25519_p()), Some("key.noncanonical");
        }
        if suite == Suite::X25519 {
            crate::rows! { s.one:
                "hpke-decapsulation",
                    "the encapsulated key is u = 0: the X25519 shared secret is all zero and decapsulation fails",
                    &["Tampered"], Bytes(zero_share), Some("hpke.decapsulation");
            }
        } else {
            crate::rows! { s.one:
                "xwing-share-zero",
                    "the X25519 share of the X-Wing enc is u = 0: X-Wing does not reject, the AEAD fails",
                    &["Tampered"], Bytes(zero_share), Some("hpke.open");
            }
        }
    }
    Ok(())
}
