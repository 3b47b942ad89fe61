//! The contact's side of `reconnect.json`: opening reconnects, with every check of
//! **[HSK-08]** failing in turn, and the session an opened invite starts.

use quietwire::UnixTime;
use quietwire::cbor::{self, Int, Value};
use quietwire::handshake::{self, reconnect};
use quietwire::suite::{Suite, SuitePolicy};

use super::{EXPIRES, Forge, NOW, OpenTest, Opening, Parties, forged, randomness};
use crate::families::Ids;
use crate::seeds::ReplayRng;
use sha2::{Digest, Sha256};

/// A forged-payload case: slug part, comment, flags, the forgery, the expected class.
type ForgedCase =
    (&'static str, &'static str, &'static [&'static str], Forge, Option<&'static str>);

pub(super) fn open_tests(ids: &mut Ids, p: &Parties) -> Result<Vec<OpenTest>, String> {
    let name = p.name;
    let suite = p.suite;
    let mut tests = Vec::new();
    let honest = p.honest(&format!("seal-{name}"))?;

    // The honest reconnect, and the session it starts.
    tests.push(Opening::new(p, honest.clone()).test(
        ids,
        &format!("open-{name}"),
        &format!("{} reconnect from the identity held for the mailbox", suite.name()),
        &["Valid"],
        None,
    )?);
    check_session(p, &honest)?;

    let mut o = Opening::new(p, honest.clone());
    o.now = EXPIRES - 1;
    tests.push(o.test(
        ids,
        &format!("open-before-expiry-{name}"),
        "one second before the invite expires",
        &["Expired"],
        None,
    )?);
    let mut o = Opening::new(p, honest.clone());
    o.now = EXPIRES;
    tests.push(o.test(
        ids,
        &format!("expired-{name}"),
        "at the invite's expiry",
        &["Expired"],
        Some("invite.expired"),
    )?);

    // Identity.
    let mut o = Opening::new(p, honest.clone());
    o.expected = p.mallory.identity();
    tests.push(o.test(
        ids,
        &format!("other-identity-expected-{name}"),
        "the mailbox belongs to another contact",
        &["Identity"],
        Some("handshake.identity"),
    )?);
    let slug = format!("invite-of-other-identity-{name}");
    let message = p.forge(&slug, Forge::invite(p.mallory_invite.invite.to_bytes()))?;
    tests.push(Opening::new(p, message).test(
        ids,
        &slug,
        "a stranger's invite with the contact's device record",
        &["Identity"],
        Some("handshake.identity"),
    )?);
    let slug = format!("record-of-other-identity-{name}");
    let message = p.forge(&slug, Forge::record(p.mallory_record().to_bytes()))?;
    tests.push(Opening::new(p, message).test(
        ids,
        &slug,
        "the contact's invite with a stranger's device record",
        &["Identity"],
        Some("handshake.identity"),
    )?);
    let slug = format!("stranger-{name}");
    let message = p.forge(
        &slug,
        Forge {
            invite: Some(p.mallory_invite.invite.to_bytes()),
            record: Some(p.mallory_record().to_bytes()),
            ..Forge::default()
        },
    )?;
    tests.push(Opening::new(p, message).test(
        ids,
        &slug,
        "a stranger's own invite and record, sealed to the contact: no session",
        &["Identity"],
        Some("handshake.identity"),
    )?);

    // Tampering and misdirection.
    let mut o = Opening::new(p, honest.clone());
    o.device = &p.dave;
    tests.push(o.test(
        ids,
        &format!("wrong-recipient-{name}"),
        "opened by a device it was not sealed to",
        &["Tampered"],
        Some("hpke.open"),
    )?);
    let slug = format!("info-other-recipient-{name}");
    let message = p.forge(
        &slug,
        Forge { info_identity: Some(p.dave.identity().to_vec()), ..Forge::default() },
    )?;
    tests.push(Opening::new(p, message).test(
        ids,
        &slug,
        "sealed to the contact's KEM key with info naming another identity",
        &["Tampered"],
        Some("hpke.open"),
    )?);
    let mut tampered = honest.clone();
    if let Some(byte) = tampered.last_mut() {
        *byte ^= 0x01;
    }
    tests.push(Opening::new(p, tampered).test(
        ids,
        &format!("tampered-tag-{name}"),
        "last tag byte flipped",
        &["Tampered"],
        Some("hpke.open"),
    )?);
    let mut tampered = honest.clone();
    if let Some(byte) = tampered.get_mut(suite.hpke_enc_len() + 3) {
        *byte ^= 0x01;
    }
    tests.push(Opening::new(p, tampered).test(
        ids,
        &format!("tampered-ciphertext-{name}"),
        "a ciphertext bit flipped",
        &["Tampered"],
        Some("hpke.open"),
    )?);
    let mut tampered = honest.clone();
    if let Some(byte) = tampered.get_mut(7) {
        *byte ^= 0x01;
    }
    tests.push(Opening::new(p, tampered).test(
        ids,
        &format!("tampered-enc-{name}"),
        "a bit of the encapsulated key flipped",
        &["Tampered"],
        Some("hpke.open"),
    )?);
    if suite == Suite::X25519 {
        let mut low = honest.clone();
        if let Some(enc) = low.get_mut(..32) {
            enc.fill(0);
        }
        tests.push(Opening::new(p, low).test(
            ids,
            &format!("enc-low-order-{name}"),
            "an all-zero encapsulated key",
            &["Tampered"],
            Some("hpke.decapsulation"),
        )?);
    }

    // Lengths and padding.
    tests.push(Opening::new(p, honest.get(..honest.len() - 1).unwrap_or_default().to_vec()).test(
        ids,
        &format!("truncated-{name}"),
        "one byte short of its bucket",
        &["Format"],
        Some("handshake.format"),
    )?);
    let mut longer = honest.clone();
    longer.push(0);
    tests.push(Opening::new(p, longer).test(
        ids,
        &format!("not-a-bucket-{name}"),
        "one byte more than a bucket",
        &["Format"],
        Some("handshake.format"),
    )?);
    if suite == Suite::XWing {
        // 1088 is a bucket, but not longer than enc (1120) and the tag.
        tests.push(Opening::new(p, honest.get(..1088).unwrap_or_default().to_vec()).test(
            ids,
            &format!("bucket-too-short-{name}"),
            "a bucket (1088) too short for the encapsulated key and the tag",
            &["Format"],
            Some("handshake.format"),
        )?);
    }

    let cases: [ForgedCase; 13] = crate::tuples! {
        "padding-without-start", "the padding lacks its 0x80 start byte", &["Format"],
            Forge { zero_padding: true, ..Forge::default() }, Some("envelope.padding");
        "payload-extension", "a negative key in the payload is ignored", &["Payload"],
            Forge::edit(|m| { m.insert(Int::from(-1i64), Value::from("ignored")); }), None;
        "payload-version-2", "payload version 2", &["Payload"],
            Forge::edit(|m| { m.insert(Int::uint(1), Value::uint(2)); }), Some("schema.version");
        "payload-unknown-critical", "payload key 4 is not defined", &["Payload"],
            Forge::edit(|m| { m.insert(Int::uint(4), Value::uint(0)); }),
            Some("schema.unknown_critical");
        "payload-missing-invite", "no invite in the payload", &["Payload"],
            Forge::edit(|m| { m.remove(&Int::uint(2)); }), Some("schema.missing_field");
        "payload-missing-record", "no device record in the payload", &["Payload"],
            Forge::edit(|m| { m.remove(&Int::uint(3)); }), Some("schema.missing_field");
        "payload-invite-wrong-type", "the invite as a text string", &["Payload"],
            Forge::edit(|m| { m.insert(Int::uint(2), Value::from("invite")); }),
            Some("schema.wrong_type");
        "payload-not-a-map",
            "the payload is an array",
            &["Payload"],
            Forge {
                payload: Some(|_| cbor::encode(&Value::Array(vec![Value::uint(1)]))),
                ..Forge::default()
            },
            Some("schema.wrong_type");
        "payload-trailing", "a byte after the payload's map", &["Payload"],
            Forge { payload: Some(|mut p| { p.push(0); p }), ..Forge::default() },
            Some("cbor.trailing");
        "payload-too-long", "a payload above 8256 bytes (an 8192-byte extension)", &["Payload"],
            Forge::edit(|m| { m.insert(Int::from(-1i64), Value::Bytes(vec![0; 8192])); }),
            Some("cbor.limit.input");
        "invite-bad-signature",
            "the invite's signature does not verify",
            &["Contents"],
            Forge::edit(|m| {
                    if let Some(Value::Bytes(b)) = m.get_mut(&Int::uint(2))
                        && let Some(byte) = b.last_mut()
                    {
                        *byte ^= 0x01;
                    }
                }),
            Some("identity.signature");
        "record-bad-signature",
            "the device record's signature does not verify",
            &["Contents"],
            Forge::edit(|m| {
                    if let Some(Value::Bytes(b)) = m.get_mut(&Int::uint(3))
                        && let Some(byte) = b.last_mut()
                    {
                        *byte ^= 0x01;
                    }
                }),
            Some("identity.signature");
        "invite-not-cbor", "the invite field holds bytes that are not CBOR", &["Contents"],
            Forge::edit(|m| { m.insert(Int::uint(2), Value::Bytes(vec![0xff])); }),
            Some("cbor.malformed.break");
    };
    for (case, comment, f, forge, expect) in cases {
        let slug = format!("{case}-{name}");
        let message = p.forge(&slug, forge)?;
        tests.push(Opening::new(p, message).test(ids, &slug, comment, f, expect)?);
    }

    // Suites.
    let slug = format!("suite-mismatch-{name}");
    let message = forged(
        &slug,
        &p.contact_record(),
        &p.alice_other_invite.invite,
        &p.alice_other_record(),
        Forge::default(),
    )?;
    tests.push(Opening::new(p, message).test(
        ids,
        &slug,
        "an invite and a device record of another suite, sealed to the contact's KEM key",
        &["SuiteMismatch"],
        Some("handshake.suite"),
    )?);
    let slug = format!("record-other-suite-{name}");
    let message = p.forge(&slug, Forge::record(p.alice_other_record().to_bytes()))?;
    tests.push(Opening::new(p, message).test(
        ids,
        &slug,
        "the invite of the contact's suite with a device record of the other suite",
        &["SuiteMismatch"],
        Some("handshake.suite"),
    )?);
    let mut o = Opening::new(p, honest.clone());
    o.allowed = vec![p.other_suite()];
    tests.push(o.test(
        ids,
        &format!("suite-disallowed-{name}"),
        "the contact's policy does not accept the invite's suite",
        &["SuitePolicy"],
        Some("suite.disallowed"),
    )?);

    // Check order.
    let slug = format!("order-expired-stranger-{name}");
    let message = p.forge(
        &slug,
        Forge {
            invite: Some(p.mallory_invite.invite.to_bytes()),
            record: Some(p.mallory_record().to_bytes()),
            ..Forge::default()
        },
    )?;
    let mut o = Opening::new(p, message);
    o.now = EXPIRES;
    tests.push(o.test(
        ids,
        &slug,
        "an expired invite of a stranger: the invite's verification comes before the identity",
        &["CheckOrder"],
        Some("invite.expired"),
    )?);
    let slug = format!("order-suite-before-identity-{name}");
    let mallory_other = p.mallory.restored(&format!("{name}/mallory-other"), p.other_suite());
    let message =
        p.forge(&slug, Forge::record(mallory_other.keys().signed_record(0).to_bytes()))?;
    tests.push(Opening::new(p, message).test(
        ids,
        &slug,
        "a device record of another suite and another identity: the suite decides",
        &["CheckOrder"],
        Some("handshake.suite"),
    )?);
    let mut o = Opening::new(p, honest.clone());
    o.expected = p.mallory.identity();
    o.now = EXPIRES;
    tests.push(o.test(
        ids,
        &format!("order-expired-before-identity-{name}"),
        "expired, and from another contact than the mailbox's: expiry decides",
        &["CheckOrder"],
        Some("invite.expired"),
    )?);

    // HSK-08 checks 8 and 9: copies and stale generations (HSK-10).
    let invite_hash: [u8; 32] = Sha256::digest(p.invite.invite.to_bytes()).into();
    let mut o = Opening::new(p, honest.clone());
    o.accepted = vec![invite_hash];
    tests.push(o.test(
        ids,
        &format!("copy-of-accepted-{name}"),
        "a copy of a reconnect whose invite the contact already accepted (kept across restarts until it expires): never a second session",
        &["Replay"],
        Some("handshake.replay"),
    )?);
    let mut o = Opening::new(p, honest.clone());
    o.accepted = vec![[0x11; 32]];
    tests.push(o.test(
        ids,
        &format!("other-invite-accepted-{name}"),
        "the contact accepted another invite of this identity before: this one is new",
        &["Replay"],
        None,
    )?);
    let mut o = Opening::new(p, honest.clone());
    o.held_generation = 1;
    tests.push(o.test(
        ids,
        &format!("generation-equal-{name}"),
        "a device record of the generation already held: not a newer device (a second restore of the same backup, or a replayed record with a fresh invite)",
        &["Generation"],
        Some("handshake.generation"),
    )?);
    let mut o = Opening::new(p, honest.clone());
    o.held_generation = 5;
    tests.push(o.test(
        ids,
        &format!("generation-lower-{name}"),
        "a device record of a lower generation than held: an old backup restored after a newer device",
        &["Generation"],
        Some("handshake.generation"),
    )?);
    let mut o = Opening::new(p, honest);
    o.accepted = vec![invite_hash];
    o.held_generation = 1;
    tests.push(o.test(
        ids,
        &format!("order-copy-before-generation-{name}"),
        "a copy of an accepted reconnect, whose record's generation is now the one held: the copy decides",
        &["CheckOrder"],
        Some("handshake.replay"),
    )?);
    Ok(tests)
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
    let randomness = randomness(&format!("session-{name}"), p.suite);
    let mut rng = ReplayRng::new(&[&randomness]);
    let started = handshake::initiate(&opened.invite, &contact, 0, [0x42; 32], &mut rng)
        .map_err(|e| format!("reconnect {name}: initiate: {e}"))?;
    let mut pending = p.invite.pending();
    let accepted = pending
        .accept(&started.message, UnixTime(NOW), &SuitePolicy::ALL)
        .map_err(|e| format!("reconnect {name}: accept: {e}"))?;
    if accepted.peer.record().identity_key().as_bytes() != contact.identity().public().as_bytes() {
        return Err(format!("reconnect {name}: the acceptor is not the contact"));
    }
    let (mut a, mut b) = (started.ratchet, accepted.ratchet);
    let mut rng = ReplayRng::new(&[&[7u8; 56]]);
    let m = a.encrypt(b"again", &mut rng).map_err(|e| format!("reconnect {name}: {e}"))?;
    if b.decrypt(&m).ok().as_deref() != Some(b"again".as_slice()) {
        return Err(format!("reconnect {name}: the sessions do not agree"));
    }
    Ok(())
}
