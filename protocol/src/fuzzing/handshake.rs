//! Invariant checks: Handshakes and reconnects (spec/05-handshake.md).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use super::check_class;
use crate::handshake::PendingInvite;
use crate::identity::SignedDeviceRecord;
use crate::invite::SignedInvite;
use crate::invite::{Invite, InviteParams};
use crate::keys::IdentityKeyPair;
use crate::keys::X25519Secret;
use crate::ratchet::Ratchet;
use crate::suite::Suite;
use crate::suite::SuitePolicy;
use crate::{ErrorClass, UnixTime};

/// 32 bytes named like the test vectors' seeds: SHA-256("quietwire test vectors v1/" ‖ name).
pub(super) fn vector_seed(name: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"quietwire test vectors v1/");
    hasher.update(name.as_bytes());
    hasher.finalize().into()
}

/// Yields the given bytes in order (then zeros).
struct Replay(Vec<u8>);

impl rand_core::TryRng for Replay {
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
        for b in dst {
            *b = if self.0.is_empty() {
                0
            } else {
                self.0.remove(0)
            };
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Replay {}

/// The `now` of the handshake target: the test vectors' `now`.
pub const HANDSHAKE_NOW: UnixTime = UnixTime(1_900_000_000);

/// The inviter of the handshake target: the reusable `x25519` inviter of
/// `test-vectors/v1/handshake.json`, rebuilt from the same named seeds, so the vectors'
/// handshakes for it are valid seeds.
pub fn handshake_inviter() -> PendingInvite {
    let identity = IdentityKeyPair::from_seed(&vector_seed("handshake/x25519/identity"));
    let kem = vector_seed("handshake/x25519/kem");
    let ratchet = vector_seed("handshake/x25519/ratchet");
    let invite_id = vector_seed("handshake/x25519/invite-id");
    let mut rng = Replay([&invite_id[..16], &kem[..], &ratchet[..]].concat());
    let params = InviteParams {
        relay_hints: vec!["wss://relay.quietwire.invalid".to_owned()],
        mailbox: vector_seed("handshake/x25519/mailbox"),
        expires: UnixTime(HANDSHAKE_NOW.0 + 86_400),
        single_use: false,
    };
    let (invite, secrets) = Invite::create(&identity, Suite::X25519, params, &mut rng)
        .expect("the vectors' inviter has a valid hint");
    PendingInvite::new(invite, secrets)
}

/// The inviter's side of a handshake: a fresh reusable invite accepts the input as a
/// handshake message. Invariants: a refusal changes nothing and carries a registered class;
/// an accepted handshake is counted once, is refused as a replay the second time, and its
/// responder's snapshot round-trips.
pub fn handshake_accept(data: &[u8]) -> bool {
    let mut pending = handshake_inviter();
    match pending.receive_handshake(data, HANDSHAKE_NOW, &SuitePolicy::ALL) {
        Ok(accepted) => {
            assert_eq!(pending.accepted(), 1);
            let snapshot = accepted.ratchet.snapshot();
            let restored = Ratchet::from_snapshot(&snapshot).unwrap();
            assert_eq!(restored.snapshot(), snapshot);
            let again = pending.receive_handshake(data, HANDSHAKE_NOW, &SuitePolicy::ALL);
            assert_eq!(
                again.map(|_| ()).unwrap_err().class(),
                ErrorClass::HandshakeReplay
            );
            assert_eq!(pending.accepted(), 1);
            true
        }
        Err(e) => {
            check_class(&e);
            assert_eq!(pending.accepted(), 0, "a refusal changed state");
            false
        }
    }
}

/// The contact of the reconnect target: the `x25519` contact of
/// `test-vectors/v1/reconnect.json` and the identity it holds for the mailbox (the restored
/// device's), rebuilt from the same named seeds, so the vectors' reconnects are valid seeds.
pub fn reconnect_contact() -> (crate::identity::DeviceKeys, crate::keys::IdentityKey) {
    let suite = Suite::X25519;
    let contact = crate::identity::DeviceKeys::from_parts(
        suite,
        IdentityKeyPair::from_seed(&vector_seed("reconnect/x25519/carol/identity")),
        crate::keys::KemSecret::from_seed(suite, &vector_seed("reconnect/x25519/carol/kem")),
        X25519Secret::from_bytes(&vector_seed("reconnect/x25519/carol/ratchet")),
    );
    let expected =
        *IdentityKeyPair::from_seed(&vector_seed("reconnect/x25519/alice/identity")).public();
    (contact, expected)
}

/// The contact's side of a reconnect (`spec/05-handshake.md` **[HSK-08]**). Invariants:
/// opening is deterministic and a refusal carries a registered class; an opened reconnect
/// holds an invite and a device record of the expected identity and the contact's suite,
/// each verifying again from the bytes it re-encodes to, and the contact can accept the
/// invite with its device keys.
pub fn reconnect_open(data: &[u8]) -> bool {
    use crate::handshake::{accept_invite, reconnect};
    let (contact, expected) = reconnect_contact();
    let open = || reconnect::open(&contact, data, &expected, HANDSHAKE_NOW, &SuitePolicy::ALL);
    match open() {
        Ok(opened) => {
            let (invite, record) = (opened.invite.to_bytes(), opened.record.to_bytes());
            assert_eq!(opened.invite.invite().identity_key(), &expected);
            assert_eq!(opened.record.record().identity_key(), &expected);
            assert_eq!(opened.invite.invite().suite(), contact.suite());
            assert_eq!(opened.record.record().suite(), contact.suite());
            let again = open().unwrap();
            assert_eq!(again.invite.to_bytes(), invite);
            assert_eq!(again.record.to_bytes(), record);
            let reread = SignedInvite::from_bytes(&invite, HANDSHAKE_NOW, &SuitePolicy::ALL);
            assert_eq!(reread.unwrap().to_bytes(), invite);
            let reread = SignedDeviceRecord::from_bytes(&record, &SuitePolicy::ALL);
            assert_eq!(reread.unwrap().to_bytes(), record);
            let mut rng = Replay(vec![0x5a; 32]);
            accept_invite(&opened.invite, &contact, 0, [0; 32], &mut rng).unwrap();
            // The guard (HSK-08 checks 8 and 9, HSK-10): it opens what `open` opens unless
            // the held generation is not below the record's; once committed, the same
            // message is a copy (handshake.replay), whatever the restart in between.
            let generation = opened.record.record().generation();
            let guard = reconnect::ReconnectGuard::new(expected, 0);
            let fresh = guard.open(&contact, data, HANDSHAKE_NOW, &SuitePolicy::ALL);
            if generation == 0 {
                assert_eq!(fresh.unwrap_err().class(), ErrorClass::HandshakeGeneration);
            } else {
                let mut guard = guard;
                guard.commit(&fresh.unwrap(), HANDSHAKE_NOW);
                assert_eq!(guard.generation(), generation);
                let restarted = reconnect::ReconnectGuard::from_parts(
                    *guard.identity(),
                    guard.generation(),
                    guard.accepted().collect::<Vec<_>>(),
                )
                .unwrap();
                let copy = restarted.open(&contact, data, HANDSHAKE_NOW, &SuitePolicy::ALL);
                assert_eq!(copy.unwrap_err().class(), ErrorClass::HandshakeReplay);
            }
            true
        }
        Err(e) => {
            check_class(&e);
            let again = open().map(|_| ()).unwrap_err();
            assert_eq!(again.class(), e.class(), "opening is not deterministic");
            false
        }
    }
}
