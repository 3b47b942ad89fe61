//! The built-in `reconnect` operations (spec/05-handshake.md §5.8), over
//! `quietwire::handshake::reconnect`.

use quietwire::UnixTime;
use quietwire::handshake::reconnect;
use quietwire::identity::{DeviceKeys, SignedDeviceRecord};
use quietwire::invite::SignedInvite;
use quietwire::keys::{IdentityKey, IdentityKeyPair, KemSecret, X25519Secret};
use quietwire::suite::SuitePolicy;
use quietwire_test_vectors::seeds::ReplayRng;
use serde_json::{Value, json};

use super::{Dispatched, bad_input, err, key32, no_dispatcher, policy, suite};
use crate::implementation::OpResult;
use crate::shim::{Fields, hex};

pub(super) fn call(op: &str, a: Fields<'_>) -> Dispatched {
    let b = |name: &str| a.bytes(name);
    Ok(match op {
        "reconnect-seal" => seal(
            &b("contactRecord")?,
            &b("invite")?,
            &b("record")?,
            &b("randomness")?,
        ),
        "reconnect-open" => {
            let accepted = a
                .str_list("acceptedInvites")?
                .iter()
                .map(|h| hex::decode(h).map_err(|e| format!("acceptedInvites: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            let input = Open {
                suite: a.u64("suite")?,
                identity_seed: b("identitySeed")?,
                kem_seed: b("kemSeed")?,
                ratchet_secret: b("ratchetSecret")?,
                message: b("message")?,
                expected_identity: b("expectedIdentity")?,
                held_generation: a.u64("heldGeneration")?,
                accepted_invites: accepted,
                now: a.u64("now")?,
                allowed_suites: a.u64_list("allowedSuites")?,
            };
            open(&input)
        }
        other => return no_dispatcher(other),
    })
}

/// Seals with exactly the given randomness; the inputs are parsed as a sender holds them
/// (its own invite and record, the contact's verified record), so a parse failure is the
/// harness's, not a protocol class.
fn seal(contact: &[u8], invite: &[u8], record: &[u8], randomness: &[u8]) -> OpResult<Value> {
    let contact = SignedDeviceRecord::from_bytes(contact, &SuitePolicy::ALL)
        .map_err(|_| bad_input("contact_record"))?;
    let invite = SignedInvite::from_bytes(invite, UnixTime(0), &SuitePolicy::ALL)
        .map_err(|_| bad_input("invite"))?;
    let record = SignedDeviceRecord::from_bytes(record, &SuitePolicy::ALL)
        .map_err(|_| bad_input("record"))?;
    let mut rng = ReplayRng::new(&[randomness]);
    let message = reconnect::seal(&contact, &invite, &record, &mut rng).map_err(err)?;
    if !rng.finished() {
        return Err(bad_input("randomness_not_consumed_exactly"));
    }
    Ok(json!({"message": hex(&message)}))
}

/// The contact's inputs to opening a reconnect (`HSK-08`).
struct Open {
    suite: u64,
    identity_seed: Vec<u8>,
    kem_seed: Vec<u8>,
    ratchet_secret: Vec<u8>,
    message: Vec<u8>,
    /// The identity key held for the mailbox the message arrived in.
    expected_identity: Vec<u8>,
    /// The generation of the device record held for that identity (HSK-08 check 9).
    held_generation: u64,
    /// SHA-256 of the invites already accepted through its reconnects (HSK-08 check 8).
    accepted_invites: Vec<Vec<u8>>,
    now: u64,
    allowed_suites: Vec<u64>,
}

/// Opens with the contact's device keys from seeds; the value is the verified invite and
/// device record, as received.
fn open(input: &Open) -> OpResult<Value> {
    let suite = suite(input.suite)?;
    let device = DeviceKeys::from_parts(
        suite,
        IdentityKeyPair::from_seed(&key32(&input.identity_seed)?),
        KemSecret::from_seed(suite, &key32(&input.kem_seed)?),
        X25519Secret::from_bytes(&key32(&input.ratchet_secret)?),
    );
    let expected = IdentityKey::from_bytes(&key32(&input.expected_identity)?)
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
            &input.message,
            UnixTime(input.now),
            &policy(&input.allowed_suites),
        )
        .map_err(err)?;
    Ok(json!({
        "invite": hex(&opened.invite.to_bytes()),
        "record": hex(&opened.record.to_bytes()),
    }))
}
