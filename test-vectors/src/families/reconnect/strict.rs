//! Strict Ed25519 (SUI-05) in `reconnect.json`: the invite and the device record inside a
//! reconnect carry signatures a plain RFC 8032 or a cofactored verifier accepts, or a
//! mixed-order identity key. Appended after the other open tests, so earlier ids are stable.

use quietwire::cbor::{self, Int, Limits, Value};
use quietwire::label::Label;

use super::Change::Expected;
use super::Sent::Forged;
use super::{Forge, Opens};
use crate::families::material as m;
use crate::raw;

/// The body byte string of a signed `[body, signature]` structure.
fn body_of(signed: &[u8]) -> Result<Vec<u8>, String> {
    match cbor::decode(signed, &Limits::DEFAULT) {
        Ok(Value::Array(items)) => match items.first() {
            Some(Value::Bytes(body)) => Ok(body.clone()),
            _ => Err("signed structure without a body".to_owned()),
        },
        other => Err(format!("signed structure: {other:?}")),
    }
}

/// `body` with its identity key (key 3, in invites and device records) replaced.
fn with_identity(body: &[u8], key: &[u8; 32]) -> Result<Vec<u8>, String> {
    match cbor::decode(body, &Limits::DEFAULT) {
        Ok(Value::Map(mut map)) => {
            map.insert(Int::uint(3), Value::from(&key[..]));
            Ok(cbor::encode(&Value::Map(map)))
        }
        other => Err(format!("body: {other:?}")),
    }
}

pub(super) fn strict_tests(b: &mut Opens<'_, '_>) -> Result<(), String> {
    let p = b.p;
    let seed = p.alice.identity_seed;
    let invite_body = body_of(&p.invite.invite.to_bytes())?;
    let record_body = body_of(&p.record.to_bytes())?;
    let forged_invite = |forge: fn(&_, &[u8; 32], &[u8]) -> [u8; 64]| {
        Forge::invite(m::signed_forged(&invite_body, &seed, Label::Invite, forge))
    };
    let forged_record = |forge: fn(&_, &[u8; 32], &[u8]) -> [u8; 64]| {
        Forge::record(m::signed_forged(&record_body, &seed, Label::DeviceRecord, forge))
    };
    // A non-canonical identity key for which the equation holds: refused by the key check.
    let negative_zero = m::ed25519_negative_zero();
    let mut zero_sig = [0u8; 64];
    zero_sig[0] = 1;
    let nc_invite = raw::array(&[
        raw::bstr(&with_identity(&invite_body, &negative_zero)?),
        raw::bstr(&zero_sig),
    ]);
    crate::rows! { b.open:
        "sui05-invite-small-order-r",
            "the invite's signature has R = neutral point and S = k·a: the cofactorless equation holds, R has small order (SUI-05 step 3)",
            &["Tampered"], Forged(forged_invite(m::sig_small_order_r)), &[],
            Some("identity.signature");
        "sui05-invite-noncanonical-r",
            "the invite's signature has R = neutral point encoded as y = p + 1, S = k·a (SUI-05 step 5)",
            &["Tampered"], Forged(forged_invite(m::sig_noncanonical_r)), &[],
            Some("identity.signature");
        "sui05-record-small-order-r",
            "the device record's signature has R = neutral point and S = k·a (SUI-05 step 3)",
            &["Tampered"], Forged(forged_record(m::sig_small_order_r)), &[],
            Some("identity.signature");
        "sui05-record-noncanonical-r",
            "the device record's signature has R = neutral point encoded as y = p + 1, S = k·a (SUI-05 step 5)",
            &["Tampered"], Forged(forged_record(m::sig_noncanonical_r)), &[],
            Some("identity.signature");
        "sui05-invite-noncanonical-a",
            "the invite's identity key is the neutral point with the sign bit set and its signature R = neutral point, S = 0 satisfies the equation: the key check refuses it",
            &["Tampered"], Forged(Forge::invite(nc_invite)), &[], Some("key.noncanonical");
    }

    // A contact whose identity is a mixed-order key: valid when both signatures satisfy the
    // cofactorless equation, refused when one satisfies only the cofactored one.
    let mixed = m::mixed_order_key(&format!("reconnect/{}/alice", p.name));
    let mixed_invite_body = with_identity(&invite_body, &mixed.public)?;
    let mixed_record_body = with_identity(&record_body, &mixed.public)?;
    let signed = |invite_ok, record_ok| {
        Forged(Forge {
            invite: Some(mixed.signed(&mixed_invite_body, Label::Invite, invite_ok)),
            record: Some(mixed.signed(&mixed_record_body, Label::DeviceRecord, record_ok)),
            ..Forge::default()
        })
    };
    let expected = [Expected(mixed.public)];
    crate::rows! { b.open:
        "sui05-mixed-order-key-valid",
            "the expected identity is a mixed-order key A = [a]B + T (T of order 8); invite and record signatures satisfy the cofactorless equation",
            &["Valid"], signed(true, true), &expected, None;
    }
    for (what, invite_ok) in [("invite", false), ("record", true)] {
        let case = format!("sui05-mixed-order-{what}-cofactored-only");
        let comment = format!(
            "the same mixed-order identity; the {what}'s signature satisfies only the cofactored equation (k ≢ 0 mod 8)"
        );
        let sent = signed(invite_ok, !invite_ok);
        b.open(&case, &comment, &["Tampered"], sent, &expected, Some("identity.signature"))?;
    }
    Ok(())
}
