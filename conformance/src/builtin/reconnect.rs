//! The built-in implementation's reconnect operations (spec/05-handshake.md §5.8), over
//! `quietwire::handshake::reconnect`.

use quietwire::UnixTime;
use quietwire::handshake::reconnect;
use quietwire::identity::{DeviceKeys, SignedDeviceRecord};
use quietwire::invite::SignedInvite;
use quietwire::keys::{IdentityKey, IdentityKeyPair, KemSecret, X25519Secret};
use quietwire::suite::SuitePolicy;
use quietwire_test_vectors::seeds::ReplayRng;

use super::{bad_input, err, key32, policy, suite};
use crate::implementation::{OpResult, ReconnectOpen, ReconnectOpened, ReconnectSeal};

/// Seals with exactly the given randomness; the inputs are parsed as a sender holds them
/// (its own invite and record, the contact's verified record), so a parse failure is the
/// harness's, not a protocol class.
pub(super) fn seal(input: &ReconnectSeal<'_>) -> OpResult<Vec<u8>> {
    let contact = SignedDeviceRecord::from_bytes(input.contact_record, &SuitePolicy::ALL)
        .map_err(|_| bad_input("contact_record"))?;
    let invite = SignedInvite::from_bytes(input.invite, UnixTime(0), &SuitePolicy::ALL)
        .map_err(|_| bad_input("invite"))?;
    let record = SignedDeviceRecord::from_bytes(input.record, &SuitePolicy::ALL)
        .map_err(|_| bad_input("record"))?;
    let mut rng = ReplayRng::new(&[input.randomness]);
    let message = reconnect::seal(&contact, &invite, &record, &mut rng).map_err(err)?;
    if !rng.finished() {
        return Err(bad_input("randomness_not_consumed_exactly"));
    }
    Ok(message)
}

/// Opens with the contact's device keys from seeds.
pub(super) fn open(input: &ReconnectOpen<'_>) -> OpResult<ReconnectOpened> {
    let suite = suite(input.suite)?;
    let device = DeviceKeys::from_parts(
        suite,
        IdentityKeyPair::from_seed(&key32(input.identity_seed)?),
        KemSecret::from_seed(suite, &key32(input.kem_seed)?),
        X25519Secret::from_bytes(&key32(input.ratchet_secret)?),
    );
    let expected = IdentityKey::from_bytes(&key32(input.expected_identity)?)
        .map_err(|_| bad_input("expected_identity"))?;
    let accepted = input
        .accepted_invites
        .iter()
        .map(|h| key32(h).map(|h| (h, UnixTime(u64::MAX))))
        .collect::<OpResult<Vec<_>>>()?;
    let guard = reconnect::ReconnectGuard::from_parts(expected, input.held_generation, accepted)
        .map_err(|_| bad_input("accepted_invites"))?;
    let opened = guard
        .open(
            &device,
            input.message,
            UnixTime(input.now),
            &policy(input.allowed_suites),
        )
        .map_err(err)?;
    Ok((opened.invite.to_bytes(), opened.record.to_bytes()))
}
