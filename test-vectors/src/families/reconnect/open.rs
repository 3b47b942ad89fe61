//! The contact's side of `reconnect.json`: opening reconnects, with every check of
//! **[HSK-08]** failing in turn, and the session an opened invite starts.

use quietwire::UnixTime;
use quietwire::cbor::{self, Int, Value};
use quietwire::handshake::{self, reconnect};
use quietwire::suite::{Suite, SuitePolicy};

use super::Change::{Accepted, Allowed, By, Expected, Held, Now};
use super::{EXPIRES, Forge, NOW, Opens, Parties, Sent, randomness};
use crate::families::handshake::forge::sessions_talk;
use crate::families::hpke::flipped;
use crate::seeds::ReplayRng;
use sha2::{Digest, Sha256};

pub(super) fn open_tests(b: &mut Opens<'_, '_>) -> Result<(), String> {
    use Sent::{Bytes, Forged};
    let p = b.p;
    let suite = p.suite;
    // The honest reconnect (the module's, as the seal tests checked), and the session it
    // starts.
    let h = p.forge(&format!("seal-{}", p.name), &Forge::default())?;
    let valid = format!("{} reconnect from the identity held for the mailbox", suite.name());
    b.open("open", &valid, &["Valid"], Bytes(h.clone()), &[], None)?;
    check_session(p, &h)?;
    let stranger = || Forge {
        invite: Some(p.mallory_invite.invite.to_bytes()),
        record: Some(p.mallory_record.to_bytes()),
        ..Forge::default()
    };
    let mallory = p.mallory.identity();
    let in_ciphertext = isize::try_from(suite.hpke_enc_len() + 3).map_err(|e| e.to_string())?;
    crate::rows! { b.open:
        "open-before-expiry", "one second before the invite expires", &["Expired"],
            Bytes(h.clone()), &[Now(EXPIRES - 1)], None;
        "expired", "at the invite's expiry", &["Expired"], Bytes(h.clone()), &[Now(EXPIRES)],
            Some("invite.expired");
        // Identity.
        "other-identity-expected", "the mailbox belongs to another contact", &["Identity"],
            Bytes(h.clone()), &[Expected(mallory)], Some("handshake.identity");
        "invite-of-other-identity", "a stranger's invite with the contact's device record",
            &["Identity"], Forged(Forge::invite(p.mallory_invite.invite.to_bytes())), &[],
            Some("handshake.identity");
        "record-of-other-identity", "the contact's invite with a stranger's device record",
            &["Identity"], Forged(Forge::record(p.mallory_record.to_bytes())), &[],
            Some("handshake.identity");
        "stranger", "a stranger's own invite and record, sealed to the contact: no session",
            &["Identity"], Forged(stranger()), &[], Some("handshake.identity");
        // Tampering and misdirection.
        "wrong-recipient", "opened by a device it was not sealed to", &["Tampered"],
            Bytes(h.clone()), &[By(&p.dave)], Some("hpke.open");
        "info-other-recipient", "sealed to the contact's KEM key with info naming another identity",
            &["Tampered"],
            Forged(Forge { info_identity: Some(p.dave.identity().to_vec()), ..Forge::default() }),
            &[], Some("hpke.open");
        "tampered-tag", "last tag byte flipped", &["Tampered"], Bytes(flipped(&h, -1, 0x01)), &[],
            Some("hpke.open");
        "tampered-ciphertext", "a ciphertext bit flipped", &["Tampered"],
            Bytes(flipped(&h, in_ciphertext, 0x01)), &[],
            Some("hpke.open");
        "tampered-enc", "a bit of the encapsulated key flipped", &["Tampered"],
            Bytes(flipped(&h, 7, 0x01)), &[], Some("hpke.open");
    }
    if suite == Suite::X25519 {
        let low = [[0u8; 32].as_slice(), h.get(32..).unwrap_or_default()].concat();
        crate::rows! { b.open:
            "enc-low-order", "an all-zero encapsulated key", &["Tampered"], Bytes(low), &[],
                Some("hpke.decapsulation");
        }
    }

    // Lengths and padding.
    crate::rows! { b.open:
        "truncated", "one byte short of its bucket", &["Format"],
            Bytes(h.get(..h.len() - 1).unwrap_or_default().to_vec()), &[], Some("handshake.format");
        "not-a-bucket", "one byte more than a bucket", &["Format"],
            Bytes([h.as_slice(), &[0]].concat()),
            &[], Some("handshake.format");
    }
    if suite == Suite::XWing {
        // 1088 is a bucket, but not longer than enc (1120) and the tag.
        crate::rows! { b.open:
            "bucket-too-short", "a bucket (1088) too short for the encapsulated key and the tag",
                &["Format"], Bytes(h.get(..1088).unwrap_or_default().to_vec()), &[],
                Some("handshake.format");
        }
    }

    crate::rows! { b.open:
        "padding-without-start", "the padding lacks its 0x80 start byte", &["Format"],
            Forged(Forge { zero_padding: true, ..Forge::default() }), &[], Some("envelope.padding");
        "payload-extension", "a negative key in the payload is ignored", &["Payload"],
            Forged(Forge::edit(|m| { m.insert(Int::from(-1i64), Value::from("ignored")); })), &[],
            None;
        "payload-version-2", "payload version 2", &["Payload"],
            Forged(Forge::edit(|m| { m.insert(Int::uint(1), Value::uint(2)); })), &[],
            Some("schema.version");
        "payload-unknown-critical", "payload key 4 is not defined", &["Payload"],
            Forged(Forge::edit(|m| { m.insert(Int::uint(4), Value::uint(0)); })), &[],
            Some("schema.unknown_critical");
        "payload-missing-invite", "no invite in the payload", &["Payload"],
            Forged(Forge::edit(|m| { m.remove(&Int::uint(2)); })), &[],
            Some("schema.missing_field");
        "payload-missing-record", "no device record in the payload", &["Payload"],
            Forged(Forge::edit(|m| { m.remove(&Int::uint(3)); })), &[],
            Some("schema.missing_field");
        "payload-invite-wrong-type", "the invite as a text string", &["Payload"],
            Forged(Forge::edit(|m| { m.insert(Int::uint(2), Value::from("invite")); })), &[],
            Some("schema.wrong_type");
        "payload-not-a-map", "the payload is an array", &["Payload"],
            Forged(Forge {
                payload: Some(|_| cbor::encode(&Value::Array(vec![Value::uint(1)]))),
                ..Forge::default()
            }),
            &[], Some("schema.wrong_type");
        "payload-trailing", "a byte after the payload's map", &["Payload"],
            Forged(Forge { payload: Some(|mut p| { p.push(0); p }), ..Forge::default() }), &[],
            Some("cbor.trailing");
        "payload-too-long", "a payload above 8256 bytes (an 8192-byte extension)", &["Payload"],
            Forged(Forge::edit(|m| { m.insert(Int::from(-1i64), Value::Bytes(vec![0; 8192])); })),
            &[], Some("cbor.limit.input");
        "invite-bad-signature", "the invite's signature does not verify", &["Contents"],
            Forged(Forge::edit(|m| flip_last_of(m, 2))), &[], Some("identity.signature");
        "record-bad-signature", "the device record's signature does not verify", &["Contents"],
            Forged(Forge::edit(|m| flip_last_of(m, 3))), &[], Some("identity.signature");
        "invite-not-cbor", "the invite field holds bytes that are not CBOR", &["Contents"],
            Forged(Forge::edit(|m| { m.insert(Int::uint(2), Value::Bytes(vec![0xff])); })), &[],
            Some("cbor.malformed.break");

        // Suites.
        "suite-mismatch",
            "an invite and a device record of another suite, sealed to the contact's KEM key",
            &["SuiteMismatch"],
            Forged(Forge {
                invite: Some(p.alice_other_invite.invite.to_bytes()),
                record: Some(p.alice_other_record.to_bytes()),
                ..Forge::default()
            }),
            &[], Some("handshake.suite");
        "record-other-suite",
            "the invite of the contact's suite with a device record of the other suite",
            &["SuiteMismatch"], Forged(Forge::record(p.alice_other_record.to_bytes())), &[],
            Some("handshake.suite");
        "suite-disallowed", "the contact's policy does not accept the invite's suite",
            &["SuitePolicy"], Bytes(h.clone()), &[Allowed(p.other_suite)],
            Some("suite.disallowed");
    }

    // Check order.
    let mallory_other =
        super::restored(&p.mallory, &format!("{}/mallory-other", p.name), p.other_suite);
    let mallory_other_record = mallory_other.keys().signed_record(0).to_bytes();
    // HSK-08 checks 8 and 9: copies and stale generations (HSK-10).
    let invite_hash: [u8; 32] = Sha256::digest(p.invite.invite.to_bytes()).into();
    crate::rows! { b.open:
        "order-expired-stranger",
            "an expired invite of a stranger: the invite's verification comes before the identity",
            &["CheckOrder"], Forged(stranger()), &[Now(EXPIRES)], Some("invite.expired");
        "order-suite-before-identity",
            "a device record of another suite and another identity: the suite decides",
            &["CheckOrder"], Forged(Forge::record(mallory_other_record)),
            &[], Some("handshake.suite");
        "order-expired-before-identity",
            "expired, and from another contact than the mailbox's: expiry decides", &["CheckOrder"],
            Bytes(h.clone()), &[Expected(mallory), Now(EXPIRES)], Some("invite.expired");
        "copy-of-accepted",
            "a copy of a reconnect whose invite the contact already accepted (kept across restarts until it expires): never a second session",
            &["Replay"], Bytes(h.clone()), &[Accepted(invite_hash)], Some("handshake.replay");
        "other-invite-accepted",
            "the contact accepted another invite of this identity before: this one is new",
            &["Replay"], Bytes(h.clone()), &[Accepted([0x11; 32])], None;
        "generation-equal",
            "a device record of the generation already held: not a newer device (a second restore of the same backup, or a replayed record with a fresh invite)",
            &["Generation"], Bytes(h.clone()), &[Held(1)], Some("handshake.generation");
        "generation-lower",
            "a device record of a lower generation than held: an old backup restored after a newer device",
            &["Generation"], Bytes(h.clone()), &[Held(5)], Some("handshake.generation");
        "order-copy-before-generation",
            "a copy of an accepted reconnect, whose record's generation is now the one held: the copy decides",
            &["CheckOrder"], Bytes(h), &[Accepted(invite_hash), Held(1)], Some("handshake.replay");
    }
    Ok(())
}

/// Flips the last byte of the byte string at `key` of the payload map (a signature's end).
fn flip_last_of(map: &mut super::PayloadMap, key: u64) {
    if let Some(Value::Bytes(b)) = map.get_mut(&Int::uint(key))
        && let Some(byte) = b.last_mut()
    {
        *byte ^= 0x01;
    }
}

/// The contact accepts the opened invite and the restored device accepts its handshake:
/// both ratchets talk (HSK-08, then chapter 5 as usual).
fn check_session(p: &Parties, message: &[u8]) -> Result<(), String> {
    let name = p.name;
    let contact = p.carol.keys();
    let expected = quietwire::keys::IdentityKey::from_bytes(&p.alice.identity())
        .map_err(|e| format!("reconnect {name}: {e}"))?;
    let opened = reconnect::open(&contact, message, &expected, UnixTime(NOW), &SuitePolicy::ALL)
        .map_err(|e| format!("reconnect {name}: open: {e}"))?;
    let randomness = randomness("reconnect", &format!("session-{name}"), p.suite);
    let mut rng = ReplayRng::new(&[&randomness]);
    let started = handshake::accept_invite(&opened.invite, &contact, 0, [0x42; 32], &mut rng)
        .map_err(|e| format!("reconnect {name}: initiate: {e}"))?;
    let peer = sessions_talk(&format!("reconnect {name}"), &p.invite, started, NOW)?;
    if peer != contact.identity().public().as_bytes() {
        return Err(format!("reconnect {name}: the acceptor is not the contact"));
    }
    Ok(())
}
