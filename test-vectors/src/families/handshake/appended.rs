//! Accept tests added after the first release, so their ids follow every other test.

use super::forge::{Forge, ForgedCase, forged};
use super::{AcceptScript, AcceptTest, Acceptor, Inviter, NOW};
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
    inviters: &[(&str, &Inviter)],
) -> Result<(), String> {
    let all = [Suite::XWing, Suite::X25519];
    for (name, inviter) in inviters {
        let suite = inviter.invite.invite().suite();
        let alice = Acceptor::new(&format!("{name}/alice"), suite);
        let keys = alice.keys();
        let a_scalar = m::secret_scalar(&alice.identity_seed);
        let a_public = *keys.identity().public().as_bytes();
        let kem = keys.kem().public().as_bytes().to_vec();
        let ratchet = *keys.ratchet().public().as_bytes();
        let identity = keys.identity();
        let mixed = m::mixed_order_key(&format!("handshake/{name}/alice"));
        let mixed_record = mixed.signed(
            &record_body(suite, &mixed.public, &kem, &ratchet),
            Label::DeviceRecord,
            true,
        );
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
        let signed_record = |identity_key: &[u8; 32], kem: &[u8], ratchet: &[u8; 32]| {
            m::signed(
                &record_body(suite, identity_key, kem, ratchet),
                identity,
                Label::DeviceRecord,
            )
        };
        let mixed_for_sign = m::mixed_order_key(&format!("handshake/{name}/alice"));
        let mixed_for_sign_bad = m::mixed_order_key(&format!("handshake/{name}/alice"));
        let cases: Vec<ForgedCase> = crate::tuples! { vec:
            "sui05-small-order-r",
                "the transcript signature has R = neutral point and S = k·a: the cofactorless equation holds, R has small order (SUI-05 step 3)",
                &["TranscriptSignature"],
                Forge {
                    signature: Some(Box::new(move |input: &[u8]| {
                        m::sig_small_order_r(&a_scalar, &a_public, input)
                    })),
                    ..Forge::default()
                },
                Some("identity.signature");
            "sui05-noncanonical-r",
                "the transcript signature has R = neutral point encoded as y = p + 1, S = k·a (SUI-05 step 5)",
                &["TranscriptSignature"],
                Forge {
                    signature: Some(Box::new(move |input: &[u8]| {
                        m::sig_noncanonical_r(&a_scalar, &a_public, input)
                    })),
                    ..Forge::default()
                },
                Some("identity.signature");
            "sui05-noncanonical-a",
                "the record's identity key is the neutral point with the sign bit set; record and transcript signatures R = neutral point, S = 0 satisfy the equation: the record's key check refuses it",
                &["Record"],
                Forge {
                    record: Some(nc_record),
                    signature: Some(Box::new(move |_: &[u8]| zero_sig)),
                    ..Forge::default()
                },
                Some("key.noncanonical");
            "sui05-mixed-order-key-valid",
                "a record with a mixed-order identity key A = [a]B + T (T of order 8), record and transcript signatures satisfying the cofactorless equation: accepted",
                &["Valid"],
                Forge {
                    record: Some(mixed_record.clone()),
                    signature: Some(Box::new(move |input: &[u8]| {
                        mixed_for_sign.sign(input, true)
                    })),
                    ..Forge::default()
                },
                None;
            "sui05-mixed-order-key-cofactored-only",
                "the same mixed-order record; the transcript signature satisfies only the cofactored equation (k ≢ 0 mod 8)",
                &["TranscriptSignature"],
                Forge {
                    record: Some(mixed_record),
                    signature: Some(Box::new(move |input: &[u8]| {
                        mixed_for_sign_bad.sign(input, false)
                    })),
                    ..Forge::default()
                },
                Some("identity.signature");
            "payload-over-long",
                "a payload of more than 4352 bytes (a 4400-byte extension), correctly padded and sealed: the payload's decoding limit",
                &["Payload"],
                Forge::edit(|m| {
                        m.insert(Int::from(-1i64), Value::from(&[0u8; 4400][..]));
                    }),
                Some("cbor.limit.input");
            "record-identity-key-noncanonical",
                "the acceptor's record, validly signed, carries an identity key with y >= p",
                &["Record"],
                Forge::record(signed_record(&m::ed25519_noncanonical(), &kem, &ratchet)),
                Some("key.noncanonical");
            "record-identity-key-low-order",
                "the acceptor's record carries an identity key of order 8", &["Record"],
                Forge::record(signed_record(&m::ed25519_order_8(), &kem, &ratchet)),
                Some("key.low_order");
            "record-kem-key-invalid",
                "the acceptor's record, validly signed, carries an invalid KEM key (X-Wing: an ML-KEM coefficient >= q; classical: u = 0)",
                &["Record"],
                Forge::record(signed_record(&a_public, &bad_kem, &ratchet)),
                Some(if suite == Suite::XWing {
                    "key.invalid"
                } else {
                    "key.low_order"
                });
            "record-ratchet-key-low-order",
                "the acceptor's record, validly signed, carries a ratchet key of order 8",
                &["Record"], Forge::record(signed_record(&a_public, &kem, &m::x25519_order_8())),
                Some("key.low_order");
            "record-ratchet-key-noncanonical",
                "the acceptor's record, validly signed, carries a ratchet key u = p", &["Record"],
                Forge::record(signed_record(&a_public, &kem, &m::x25519_p())),
                Some("key.noncanonical");
        };
        for (case, comment, f, forge, expect) in cases {
            let slug = format!("{case}-{name}");
            let message = forged(&slug, &alice, inviter, forge);
            let mut s = AcceptScript::new(&slug, inviter, &all);
            s.deliver(message, NOW, expect)?;
            accepts.push(s.finish(ids, comment, f)?);
        }

        // The KEM's rejection of `enc`: suite 2 refuses a small-order share
        // (`hpke.decapsulation`); X-Wing never rejects, so the AEAD fails (SUI-08).
        let a = alice.initiate(&format!("initiate-{name}"), inviter)?.message;
        let enc_len = suite.hpke_enc_len();
        let share_start = enc_len.saturating_sub(32);
        let mut zero_share = a.clone();
        if let Some(share) = zero_share.get_mut(share_start..enc_len) {
            share.fill(0);
        }
        let (slug, comment, class) = if suite == Suite::X25519 {
            (
                format!("hpke-decapsulation-{name}"),
                "the encapsulated key is u = 0: the X25519 shared secret is all zero and decapsulation fails",
                "hpke.decapsulation",
            )
        } else {
            (
                format!("xwing-share-zero-{name}"),
                "the X25519 share of the X-Wing enc is u = 0: X-Wing does not reject, the AEAD fails",
                "hpke.open",
            )
        };
        let mut s = AcceptScript::new(&slug, inviter, &all);
        s.deliver(zero_share, NOW, Some(class))?;
        accepts.push(s.finish(ids, comment, &["Tampered"])?);
    }
    Ok(())
}
