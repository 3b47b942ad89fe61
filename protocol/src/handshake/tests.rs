use super::*;
use crate::identity::DeviceKeys;
use crate::invite::{Invite, InviteParams, InviteSecrets};
use crate::keys::{KemSecret, X25519Secret};
use crate::ratchet::tests::TestRng;
use crate::suite::Suite;

const NOW: UnixTime = UnixTime(1_900_000_000);

fn invite(suite: Suite, single_use: bool, rng: &mut TestRng) -> (DeviceKeys, PendingInvite) {
    let inviter = DeviceKeys::generate(suite, rng);
    let params = InviteParams {
        relay_hints: vec!["wss://relay.quietwire.invalid".to_owned()],
        mailbox: [1; 32],
        expires: UnixTime(NOW.0 + 600),
        single_use,
    };
    let (signed, secrets) = Invite::create(inviter.identity(), suite, params, rng).unwrap();
    (inviter, PendingInvite::new(signed, secrets))
}

fn class<T>(r: Result<T>) -> ErrorClass {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.class(),
    }
}

#[test]
fn both_suites_establish_a_session_both_ways() {
    let mut rng = TestRng(1);
    for suite in Suite::ALL {
        let (_, mut pending) = invite(suite, true, &mut rng);
        let acceptor = DeviceKeys::generate(suite, &mut rng);
        let started = accept_invite(pending.invite(), &acceptor, 3, [2; 32], &mut rng).unwrap();
        assert!(started.message.len() > suite.hpke_enc_len());
        let accepted = pending
            .receive_handshake(&started.message, NOW, &SuitePolicy::ALL)
            .unwrap();
        assert_eq!(accepted.transcript_hash, started.transcript_hash);
        assert_eq!(accepted.mailbox, [2; 32]);
        assert_eq!(accepted.peer.record().generation(), 3);
        assert_eq!(
            accepted.peer.record().identity_key(),
            acceptor.identity().public()
        );
        let (mut a, mut b) = (started.ratchet, accepted.ratchet);
        let m = a.encrypt(b"first", &mut rng).unwrap();
        assert_eq!(b.decrypt(&m).unwrap(), b"first");
        // The inviter's reply is its key confirmation.
        let r = b.encrypt(b"reply", &mut rng).unwrap();
        assert_eq!(a.decrypt(&r).unwrap(), b"reply");
    }
}

/// The former names still work, as thin aliases of the role names.
#[test]
#[allow(deprecated)]
fn deprecated_names_are_aliases() {
    let mut rng = TestRng(40);
    let (_, mut pending) = invite(Suite::X25519, true, &mut rng);
    let acceptor = DeviceKeys::generate(Suite::X25519, &mut rng);
    let started = initiate(pending.invite(), &acceptor, 0, [2; 32], &mut rng).unwrap();
    let accepted = pending
        .accept(&started.message, NOW, &SuitePolicy::ALL)
        .unwrap();
    assert_eq!(accepted.transcript_hash, started.transcript_hash);
    assert_eq!(
        class(pending.receive_handshake(&started.message, NOW, &SuitePolicy::ALL)),
        ErrorClass::InviteUsed
    );
}

#[test]
fn single_use_invite_accepts_once() {
    let mut rng = TestRng(2);
    let (_, mut pending) = invite(Suite::X25519, true, &mut rng);
    let first = DeviceKeys::generate(Suite::X25519, &mut rng);
    let second = DeviceKeys::generate(Suite::X25519, &mut rng);
    let m1 = accept_invite(pending.invite(), &first, 0, [2; 32], &mut rng).unwrap();
    let m2 = accept_invite(pending.invite(), &second, 0, [3; 32], &mut rng).unwrap();
    pending
        .receive_handshake(&m1.message, NOW, &SuitePolicy::ALL)
        .unwrap();
    assert_eq!(
        class(pending.receive_handshake(&m2.message, NOW, &SuitePolicy::ALL)),
        ErrorClass::InviteUsed
    );
    assert_eq!(
        class(pending.receive_handshake(&m1.message, NOW, &SuitePolicy::ALL)),
        ErrorClass::InviteUsed
    );
    assert_eq!(pending.accepted(), 1);
}

#[test]
fn reusable_invite_accepts_many_but_no_replay() {
    let mut rng = TestRng(3);
    let (_, mut pending) = invite(Suite::XWing, false, &mut rng);
    let first = DeviceKeys::generate(Suite::XWing, &mut rng);
    let second = DeviceKeys::generate(Suite::XWing, &mut rng);
    let m1 = accept_invite(pending.invite(), &first, 0, [2; 32], &mut rng).unwrap();
    let m2 = accept_invite(pending.invite(), &second, 0, [3; 32], &mut rng).unwrap();
    pending
        .receive_handshake(&m1.message, NOW, &SuitePolicy::ALL)
        .unwrap();
    pending
        .receive_handshake(&m2.message, NOW, &SuitePolicy::ALL)
        .unwrap();
    assert_eq!(
        class(pending.receive_handshake(&m1.message, NOW, &SuitePolicy::ALL)),
        ErrorClass::HandshakeReplay
    );
    assert_eq!(pending.accepted(), 2);
}

/// HSK-05 step 4: a replay is refused on its `enc` before any public-key work, so a
/// recorded handshake with its ciphertext altered is `handshake.replay`, not `hpke.open`.
#[test]
fn a_replay_is_refused_before_any_public_key_work() {
    let mut rng = TestRng(31);
    let (_, mut pending) = invite(Suite::XWing, false, &mut rng);
    let acceptor = DeviceKeys::generate(Suite::XWing, &mut rng);
    let m = accept_invite(pending.invite(), &acceptor, 0, [2; 32], &mut rng).unwrap();
    pending
        .receive_handshake(&m.message, NOW, &SuitePolicy::ALL)
        .unwrap();
    let mut altered = m.message.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    assert_eq!(
        class(pending.receive_handshake(&altered, NOW, &SuitePolicy::ALL)),
        ErrorClass::HandshakeReplay
    );
}

/// HSK-06: the accepted set survives a restart of the inviter through
/// `accepted_hashes` / `with_accepted`: a replay after the restart is still refused, and a
/// used single-use invite stays used.
#[test]
fn the_accepted_set_survives_a_restart() {
    let mut rng = TestRng(32);
    let inviter = DeviceKeys::generate(Suite::X25519, &mut rng);
    let params = || InviteParams {
        relay_hints: vec!["wss://relay.quietwire.invalid".to_owned()],
        mailbox: [1; 32],
        expires: UnixTime(NOW.0 + 600),
        single_use: false,
    };
    let (signed, secrets) =
        Invite::create(inviter.identity(), Suite::X25519, params(), &mut rng).unwrap();
    let kem_seed = secrets.kem.dangerous_seed();
    let ratchet_secret = secrets.ratchet.dangerous_bytes();
    let reload = || InviteSecrets {
        kem: KemSecret::from_seed(Suite::X25519, &kem_seed),
        ratchet: X25519Secret::from_bytes(&ratchet_secret),
    };
    let mut pending = PendingInvite::new(signed.clone(), secrets);
    let acceptor = DeviceKeys::generate(Suite::X25519, &mut rng);
    let m = accept_invite(pending.invite(), &acceptor, 0, [2; 32], &mut rng).unwrap();
    pending
        .receive_handshake(&m.message, NOW, &SuitePolicy::ALL)
        .unwrap();
    let stored = pending.accepted_hashes();
    assert_eq!(stored.len(), 1);
    drop(pending);
    // The inviter restarts with the invite, its secrets and the stored set.
    let mut restarted = PendingInvite::with_accepted(signed.clone(), reload(), stored.clone());
    assert_eq!(
        class(restarted.receive_handshake(&m.message, NOW, &SuitePolicy::ALL)),
        ErrorClass::HandshakeReplay
    );
    // Without the stored set, the same replay would start a second session.
    let mut forgetful = PendingInvite::new(signed, reload());
    assert!(
        forgetful
            .receive_handshake(&m.message, NOW, &SuitePolicy::ALL)
            .is_ok()
    );
}

#[test]
fn failures_change_nothing() {
    let mut rng = TestRng(4);
    let (_, mut pending) = invite(Suite::X25519, true, &mut rng);
    let acceptor = DeviceKeys::generate(Suite::X25519, &mut rng);
    let good = accept_invite(pending.invite(), &acceptor, 0, [2; 32], &mut rng).unwrap();
    let expires = pending.invite().invite().expires();
    assert_eq!(
        class(pending.receive_handshake(&good.message, expires, &SuitePolicy::ALL)),
        ErrorClass::InviteExpired
    );
    let short = &good.message[..Suite::X25519.hpke_enc_len() + 15];
    assert_eq!(
        class(pending.receive_handshake(short, NOW, &SuitePolicy::ALL)),
        ErrorClass::HandshakeFormat
    );
    let mut flipped = good.message.clone();
    *flipped.last_mut().unwrap() ^= 1;
    assert_eq!(
        class(pending.receive_handshake(&flipped, NOW, &SuitePolicy::ALL)),
        ErrorClass::HpkeOpen
    );
    assert_eq!(
        class(pending.receive_handshake(&good.message, NOW, &SuitePolicy::only(&[Suite::XWing]))),
        ErrorClass::SuiteDisallowed
    );
    assert_eq!(pending.accepted(), 0);
    pending
        .receive_handshake(&good.message, NOW, &SuitePolicy::ALL)
        .unwrap();
}

#[test]
fn suites_must_match() {
    let mut rng = TestRng(5);
    let (_, pending) = invite(Suite::XWing, true, &mut rng);
    let acceptor = DeviceKeys::generate(Suite::X25519, &mut rng);
    assert_eq!(
        class(accept_invite(
            pending.invite(),
            &acceptor,
            0,
            [2; 32],
            &mut rng
        )),
        ErrorClass::HandshakeSuite
    );
}

#[test]
fn a_handshake_for_another_invite_does_not_open() {
    let mut rng = TestRng(6);
    let (_, mut one) = invite(Suite::X25519, false, &mut rng);
    let (_, other) = invite(Suite::X25519, false, &mut rng);
    let acceptor = DeviceKeys::generate(Suite::X25519, &mut rng);
    let m = accept_invite(other.invite(), &acceptor, 0, [2; 32], &mut rng).unwrap();
    assert_eq!(
        class(one.receive_handshake(&m.message, NOW, &SuitePolicy::ALL)),
        ErrorClass::HpkeOpen
    );
}

/// A restored device (same identity, new device keys) reconnects with a contact: the contact
/// opens the reconnect, accepts its invite, and the new session works both ways.
#[test]
fn a_restored_device_reconnects_through_a_sealed_invite() {
    let mut rng = TestRng(40);
    for suite in Suite::ALL {
        let contact = DeviceKeys::generate(suite, &mut rng);
        let contact_record = contact.signed_record(1);
        let old = DeviceKeys::generate(suite, &mut rng);
        // The restored device: the old identity seed, new KEM and ratchet keys.
        let restored = DeviceKeys::from_parts(
            suite,
            crate::keys::IdentityKeyPair::from_seed(&old.identity().dangerous_seed()),
            crate::keys::KemSecret::generate(suite, &mut rng),
            crate::keys::X25519Secret::generate(&mut rng),
        );
        let params = InviteParams {
            relay_hints: vec!["wss://relay.quietwire.invalid".to_owned()],
            mailbox: [8; 32],
            expires: UnixTime(NOW.0 + 600),
            single_use: true,
        };
        let (invite, secrets) =
            Invite::create(restored.identity(), suite, params, &mut rng).unwrap();
        let mut pending = PendingInvite::new(invite.clone(), secrets);
        let message = reconnect::seal(
            &contact_record,
            &invite,
            &restored.signed_record(2),
            &mut rng,
        )
        .unwrap();
        assert!(envelope::is_bucket(message.len()));

        let opened = reconnect::open(
            &contact,
            &message,
            old.identity().public(),
            NOW,
            &SuitePolicy::ALL,
        )
        .unwrap();
        assert_eq!(opened.record.record().generation(), 2);
        let started = accept_invite(&opened.invite, &contact, 1, [9; 32], &mut rng).unwrap();
        let accepted = pending
            .receive_handshake(&started.message, NOW, &SuitePolicy::ALL)
            .unwrap();
        assert_eq!(
            accepted.peer.record().identity_key(),
            contact.identity().public()
        );
        let (mut a, mut b) = (started.ratchet, accepted.ratchet);
        let m = a.encrypt(b"again", &mut rng).unwrap();
        assert_eq!(&b.decrypt(&m).unwrap()[..], b"again");

        // Refusals, each with its class and nothing learned.
        let stranger = DeviceKeys::generate(suite, &mut rng);
        assert_eq!(
            class(reconnect::open(
                &contact,
                &message,
                stranger.identity().public(),
                NOW,
                &SuitePolicy::ALL
            )),
            ErrorClass::HandshakeIdentity
        );
        assert_eq!(
            class(reconnect::open(
                &stranger,
                &message,
                old.identity().public(),
                NOW,
                &SuitePolicy::ALL
            )),
            ErrorClass::HpkeOpen
        );
        assert_eq!(
            class(reconnect::open(
                &contact,
                &message,
                old.identity().public(),
                UnixTime(NOW.0 + 600),
                &SuitePolicy::ALL
            )),
            ErrorClass::InviteExpired
        );
        let mut tampered = message.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(
            class(reconnect::open(
                &contact,
                &tampered,
                old.identity().public(),
                NOW,
                &SuitePolicy::ALL
            )),
            ErrorClass::HpkeOpen
        );
        assert_eq!(
            class(reconnect::open(
                &contact,
                &message[..message.len() - 1],
                old.identity().public(),
                NOW,
                &SuitePolicy::ALL
            )),
            ErrorClass::HandshakeFormat
        );
        // An invite of one identity with a record of another is refused when sealing.
        assert_eq!(
            class(reconnect::seal(
                &contact_record,
                &invite,
                &stranger.signed_record(1),
                &mut rng
            )),
            ErrorClass::HandshakeIdentity
        );
    }
}

/// HSK-08 checks 8 and 9, HSK-10: a copy of an accepted reconnect is refused even after the
/// receiver restarts (the guard is stored and rebuilt), and a reconnect whose device record
/// is not of a higher generation than the one held (an old backup restored again, or a
/// second reconnect with the same record) never replaces the session.
#[test]
fn the_reconnect_guard_refuses_copies_and_stale_generations() {
    let mut rng = TestRng(41);
    let suite = Suite::X25519;
    let contact = DeviceKeys::generate(suite, &mut rng);
    let contact_record = contact.signed_record(1);
    let old = DeviceKeys::generate(suite, &mut rng);
    let restored = DeviceKeys::from_parts(
        suite,
        crate::keys::IdentityKeyPair::from_seed(&old.identity().dangerous_seed()),
        crate::keys::KemSecret::generate(suite, &mut rng),
        crate::keys::X25519Secret::generate(&mut rng),
    );
    let reconnect_with = |generation: u64, rng: &mut TestRng| {
        let params = InviteParams {
            relay_hints: vec!["wss://relay.quietwire.invalid".to_owned()],
            mailbox: [8; 32],
            expires: UnixTime(NOW.0 + 600),
            single_use: true,
        };
        let (invite, _) = Invite::create(restored.identity(), suite, params, rng).unwrap();
        reconnect::seal(
            &contact_record,
            &invite,
            &restored.signed_record(generation),
            rng,
        )
        .unwrap()
    };
    // The contact holds the old device's record of generation 1.
    let mut guard = reconnect::ReconnectGuard::new(*old.identity().public(), 1);
    let first = reconnect_with(2, &mut rng);
    let opened = guard
        .open(&contact, &first, NOW, &SuitePolicy::ALL)
        .unwrap();
    guard.commit(&opened, NOW);
    assert_eq!(guard.generation(), 2);
    // A copy of the accepted reconnect.
    assert_eq!(
        class(guard.open(&contact, &first, NOW, &SuitePolicy::ALL)),
        ErrorClass::HandshakeReplay
    );
    // ... also after a restart, from the stored parts.
    let stored: Vec<_> = guard.accepted().collect();
    let restarted =
        reconnect::ReconnectGuard::from_parts(*guard.identity(), guard.generation(), stored)
            .unwrap();
    assert_eq!(
        class(restarted.open(&contact, &first, NOW, &SuitePolicy::ALL)),
        ErrorClass::HandshakeReplay
    );
    // A new invite with a record of the held generation, and one of a lower generation.
    for generation in [2, 1] {
        let stale = reconnect_with(generation, &mut rng);
        assert_eq!(
            class(restarted.open(&contact, &stale, NOW, &SuitePolicy::ALL)),
            ErrorClass::HandshakeGeneration
        );
    }
    // A higher generation is accepted.
    let newer = reconnect_with(3, &mut rng);
    assert!(
        restarted
            .open(&contact, &newer, NOW, &SuitePolicy::ALL)
            .is_ok()
    );
    // Once the accepted invite expired, its entry is dropped at the next commit.
    let mut guard = restarted;
    let opened = guard
        .open(&contact, &newer, NOW, &SuitePolicy::ALL)
        .unwrap();
    guard.commit(&opened, UnixTime(NOW.0 + 600));
    assert_eq!(guard.accepted().count(), 1);
    // The stored set is bounded.
    let many = (0..=reconnect::MAX_ACCEPTED_RECONNECTS as u8).map(|i| ([i; 32], NOW));
    assert_eq!(
        reconnect::ReconnectGuard::from_parts(*guard.identity(), 0, many)
            .unwrap_err()
            .class(),
        ErrorClass::SchemaLength
    );
}
