//! The built-in `hpke` and `handshake` operations (spec/02-suites-and-labels.md,
//! spec/05-handshake.md).

use quietwire::UnixTime;
use quietwire::handshake::{self, PendingInvite};
use quietwire::hpke;
use quietwire::identity::DeviceKeys;
use quietwire::invite::{InviteSecrets, SignedInvite};
use quietwire::keys::{IdentityKeyPair, KemSecret, X25519Secret};
use quietwire::suite::SuitePolicy;
use quietwire_test_vectors::seeds::ReplayRng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Builtin, Dispatched, bad_input, err, key32, no_dispatcher, policy, suite};
use crate::implementation::OpResult;
use crate::shim::{Fields, hex};

pub(super) fn call(b: &mut Builtin, op: &str, a: Fields<'_>) -> Dispatched {
    Ok(match op {
        "hpke-seal" => {
            let context = Context::of(a)?;
            let (plaintext, randomness) = (a.bytes("plaintext")?, a.bytes("randomness")?);
            seal(&context, &plaintext, &randomness)
        }
        "hpke-open" => {
            let context = Context::of(a)?;
            let (enc, ciphertext) = (a.bytes("enc")?, a.bytes("ciphertext")?);
            open(&context, &enc, &ciphertext)
        }
        "handshake-initiate" => initiate(a)?,
        "handshake-listen" => {
            let (invite, kem_seed) = (a.bytes("invite")?, a.bytes("kemSeed")?);
            let ratchet_secret = a.bytes("ratchetSecret")?;
            (|| {
                let invite = SignedInvite::from_bytes(&invite, UnixTime(0), &SuitePolicy::ALL)
                    .map_err(|_| bad_input("invite"))?;
                let secrets = InviteSecrets {
                    kem: KemSecret::from_seed(invite.invite().suite(), &key32(&kem_seed)?),
                    ratchet: X25519Secret::from_bytes(&key32(&ratchet_secret)?),
                };
                let handle = b.next();
                b.invites
                    .insert(handle, PendingInvite::new(invite, secrets));
                Ok(json!({"handle": handle}))
            })()
        }
        "handshake-accept" => {
            let (handle, message) = (a.u64("handle")?, a.bytes("message")?);
            let (now, allowed) = (a.u64("now")?, a.u64_list("allowedSuites")?);
            (|| {
                let pending = b
                    .invites
                    .get_mut(&handle)
                    .ok_or_else(|| bad_input("handle"))?;
                let accepted = pending
                    .receive_handshake(&message, UnixTime(now), &policy(&allowed))
                    .map_err(err)?;
                let snapshot = accepted.ratchet.snapshot();
                Ok(json!({
                    "peerIdentity": hex(accepted.peer.record().identity_key().as_bytes()),
                    "peerMailbox": hex(&accepted.mailbox),
                    "transcriptHash": hex(&accepted.transcript_hash),
                    "snapshot": hex(&snapshot),
                    "snapshotDigest": hex(&Sha256::digest(&snapshot)),
                }))
            })()
        }
        other => return no_dispatcher(other),
    })
}

/// The context of an HPKE operation: the recipient's key pair from its seed, and the inputs
/// both directions share.
struct Context {
    suite: u64,
    recipient_seed: Vec<u8>,
    info: Vec<u8>,
    aad: Vec<u8>,
    exporter_context: Vec<u8>,
}

impl Context {
    fn of(a: Fields<'_>) -> Result<Context, String> {
        Ok(Context {
            recipient_seed: a.bytes("recipientSeed")?,
            info: a.bytes("info")?,
            aad: a.bytes("aad")?,
            exporter_context: a.bytes("exporterContext")?,
            suite: a.u64("suite")?,
        })
    }

    fn recipient(&self) -> OpResult<KemSecret> {
        Ok(KemSecret::from_seed(
            suite(self.suite)?,
            &key32(&self.recipient_seed)?,
        ))
    }
}

/// HPKE base-mode seal with the RNG yielding exactly `randomness`.
fn seal(c: &Context, plaintext: &[u8], randomness: &[u8]) -> OpResult<Value> {
    let recipient = c.recipient()?;
    let mut rng = ReplayRng::new(&[randomness]);
    let sealed = hpke::seal(
        recipient.public(),
        &c.info,
        &c.aad,
        plaintext,
        &c.exporter_context,
        &mut rng,
    )
    .map_err(err)?;
    if !rng.finished() {
        return Err(bad_input("randomness_not_consumed_exactly"));
    }
    Ok(json!({
        "enc": hex(sealed.enc()),
        "ciphertext": hex(sealed.ciphertext()),
        "exported": hex(sealed.exported()),
    }))
}

fn open(c: &Context, enc: &[u8], ciphertext: &[u8]) -> OpResult<Value> {
    let recipient = c.recipient()?;
    let opened = hpke::open(
        &recipient,
        enc,
        &c.info,
        &c.aad,
        ciphertext,
        &c.exporter_context,
    )
    .map_err(err)?;
    Ok(json!({"plaintext": hex(opened.plaintext()), "exported": hex(opened.exported())}))
}

/// `handshake-initiate`: the acceptor's handshake message with the RNG yielding exactly
/// `randomness`.
fn initiate(a: Fields<'_>) -> Result<OpResult<Value>, String> {
    let b = |name: &str| a.bytes(name);
    let (invite, identity_seed, kem_seed, ratchet_secret, mailbox, randomness) = (
        b("invite")?,
        b("identitySeed")?,
        b("kemSeed")?,
        b("ratchetSecret")?,
        b("mailbox")?,
        b("randomness")?,
    );
    let (suite_id, generation) = (a.u64("suite")?, a.u64("generation")?);
    Ok((|| {
        let invite = SignedInvite::from_bytes(&invite, UnixTime(0), &SuitePolicy::ALL)
            .map_err(|_| bad_input("invite"))?;
        let suite = suite(suite_id)?;
        let device = DeviceKeys::from_parts(
            suite,
            IdentityKeyPair::from_seed(&key32(&identity_seed)?),
            KemSecret::from_seed(suite, &key32(&kem_seed)?),
            X25519Secret::from_bytes(&key32(&ratchet_secret)?),
        );
        let mut rng = ReplayRng::new(&[&randomness]);
        let started =
            handshake::accept_invite(&invite, &device, generation, key32(&mailbox)?, &mut rng)
                .map_err(err)?;
        if !rng.finished() {
            return Err(bad_input("randomness_not_consumed_exactly"));
        }
        let snapshot = started.ratchet.snapshot();
        Ok(json!({
            "message": hex(&started.message),
            "transcriptHash": hex(&started.transcript_hash),
            "snapshot": hex(&snapshot),
            "snapshotDigest": hex(&Sha256::digest(&snapshot)),
        }))
    })())
}
