//! What `handshake.json` and `reconnect.json` share: devices and invites from named seeds,
//! and messages forged from the spec's constructions (spec/05-handshake.md HSK-03 and HSK-07)
//! with the crate's primitives, with one deliberate fault each.

use std::collections::BTreeMap;

use crate::families::hpke::encap_randomness;
use crate::seeds::{ReplayRng, seed16, seed32};
use quietwire::UnixTime;
use quietwire::cbor::{self, Int, Value};
use quietwire::envelope;
use quietwire::handshake::{Initiated, PendingInvite};
use quietwire::hpke::Sender;
use quietwire::identity::DeviceKeys;
use quietwire::invite::{Invite, InviteParams, InviteSecrets, SignedInvite};
use quietwire::keys::{IdentityKeyPair, KemPublicKey, KemSecret, X25519Secret};
use quietwire::suite::{Suite, SuitePolicy};

/// A device from named seeds: `{prefix}/identity`, `{prefix}/kem`, `{prefix}/ratchet` and
/// its mailbox `{prefix}/mailbox`.
#[derive(Clone)]
pub(crate) struct Device {
    pub(crate) suite: Suite,
    pub(crate) identity_seed: [u8; 32],
    pub(crate) kem_seed: [u8; 32],
    pub(crate) ratchet_secret: [u8; 32],
    pub(crate) mailbox: [u8; 32],
}

impl Device {
    pub(crate) fn new(prefix: &str, suite: Suite) -> Device {
        Device {
            suite,
            identity_seed: seed32(&format!("{prefix}/identity")),
            kem_seed: seed32(&format!("{prefix}/kem")),
            ratchet_secret: seed32(&format!("{prefix}/ratchet")),
            mailbox: seed32(&format!("{prefix}/mailbox")),
        }
    }

    pub(crate) fn keys(&self) -> DeviceKeys {
        DeviceKeys::from_parts(
            self.suite,
            IdentityKeyPair::from_seed(&self.identity_seed),
            KemSecret::from_seed(self.suite, &self.kem_seed),
            X25519Secret::from_bytes(&self.ratchet_secret),
        )
    }

    /// The public identity key.
    pub(crate) fn identity(&self) -> [u8; 32] {
        *self.keys().identity().public().as_bytes()
    }
}

/// A signed invite as its creator holds it: with the seeds of its secrets.
pub(crate) struct HeldInvite {
    pub(crate) invite: SignedInvite,
    pub(crate) kem_seed: [u8; 32],
    pub(crate) ratchet_secret: [u8; 32],
}

impl HeldInvite {
    /// An invite of `creator`, expiring at `expires`; `seeds` are the seed labels of its id,
    /// its KEM seed, its ratchet secret and its mailbox.
    pub(crate) fn new(
        creator: &Device,
        expires: u64,
        single_use: bool,
        seeds: [String; 4],
    ) -> Result<HeldInvite, String> {
        let [id, kem, ratchet, mailbox] = seeds;
        let (kem_seed, ratchet_secret) = (seed32(&kem), seed32(&ratchet));
        let mut rng = ReplayRng::new(&[&seed16(&id), &kem_seed, &ratchet_secret]);
        let params = InviteParams {
            relay_hints: vec!["wss://relay.quietwire.invalid".to_owned()],
            mailbox: seed32(&mailbox),
            expires: UnixTime(expires),
            single_use,
        };
        let identity = IdentityKeyPair::from_seed(&creator.identity_seed);
        let (invite, _) = Invite::create(&identity, creator.suite, params, &mut rng)
            .map_err(|e| format!("invite {id}: {}", e.class()))?;
        Ok(HeldInvite { invite, kem_seed, ratchet_secret })
    }

    pub(crate) fn pending(&self) -> PendingInvite {
        PendingInvite::new(
            self.invite.clone(),
            InviteSecrets {
                kem: KemSecret::from_seed(self.invite.invite().suite(), &self.kem_seed),
                ratchet: X25519Secret::from_bytes(&self.ratchet_secret),
            },
        )
    }
}

/// Signs a labeled transcript input.
pub(crate) type TranscriptSigner = dyn Fn(&[u8]) -> [u8; 64];

/// A payload map of a handshake or reconnect.
pub(crate) type PayloadMap = BTreeMap<Int, Value>;

/// What a forged message changes relative to the honest construction (each family uses the
/// faults its message can have).
#[derive(Default)]
pub(crate) struct Forge {
    /// Device record bytes to send instead of the honest record.
    pub(crate) record: Option<Vec<u8>>,
    /// Invite bytes to send instead of the honest invite (reconnect).
    pub(crate) invite: Option<Vec<u8>>,
    /// Sign a transcript with this `enc` instead of the real one (handshake).
    pub(crate) sign_enc: Option<Vec<u8>>,
    /// Signs the labeled transcript input instead of the acceptor's identity key (handshake).
    pub(crate) signature: Option<Box<TranscriptSigner>>,
    /// Bind `info` to this identity key instead of the recipient's (reconnect).
    pub(crate) info_identity: Option<Vec<u8>>,
    /// Edits to the payload map before encoding.
    pub(crate) edit: Option<fn(&mut PayloadMap)>,
    /// Raw payload bytes instead of the map's encoding.
    pub(crate) payload: Option<fn(Vec<u8>) -> Vec<u8>>,
    /// Pad with zeros only, without the 0x80 that starts the padding.
    pub(crate) zero_padding: bool,
}

impl Forge {
    /// Edits the payload map before encoding.
    pub(crate) fn edit(edit: fn(&mut PayloadMap)) -> Forge {
        Forge { edit: Some(edit), ..Forge::default() }
    }

    /// Sends `record` instead of the honest device record.
    pub(crate) fn record(record: Vec<u8>) -> Forge {
        Forge { record: Some(record), ..Forge::default() }
    }

    /// Sends `invite` instead of the honest invite.
    pub(crate) fn invite(invite: Vec<u8>) -> Forge {
        Forge { invite: Some(invite), ..Forge::default() }
    }

    /// Signs the transcript with `sign` instead of the acceptor's identity key.
    pub(crate) fn signed(sign: impl Fn(&[u8]) -> [u8; 64] + 'static) -> Forge {
        Forge { signature: Some(Box::new(sign)), ..Forge::default() }
    }

    /// Sends `record` and signs the transcript with `sign`.
    pub(crate) fn record_signed(
        record: Vec<u8>,
        sign: impl Fn(&[u8]) -> [u8; 64] + 'static,
    ) -> Forge {
        Forge { record: Some(record), ..Forge::signed(sign) }
    }
}

/// The message a case delivers: given bytes, or a forgery of the honest construction.
pub(crate) enum Sent {
    /// These bytes.
    Bytes(Vec<u8>),
    /// The honest construction with a fault.
    Forged(Forge),
}

/// The HPKE encapsulation randomness of the message `slug` of `family`.
pub(crate) fn randomness(family: &str, slug: &str, suite: Suite) -> Vec<u8> {
    encap_randomness(&format!("{family}/{slug}/encap"), suite)
}

/// The HPKE sender of a message to `recipient` with `info`, drawing the randomness of
/// `slug`.
pub(crate) fn sender(
    family: &str,
    slug: &str,
    recipient: &KemPublicKey,
    info: &[u8],
) -> Result<Sender, String> {
    let mut rng = ReplayRng::new(&[&randomness(family, slug, recipient.suite())]);
    let sender = Sender::setup(recipient, info, &mut rng)
        .map_err(|e| format!("{family} {slug}: setup: {e}"))?;
    if !rng.finished() {
        return Err(format!("{family} {slug}: sealing drew other randomness"));
    }
    Ok(sender)
}

/// Seals the payload `map` as both constructions do, with `forge`'s payload faults: encode,
/// pad to a bucket above `enc` and the tag, seal with empty associated data, prefix `enc`.
pub(crate) fn seal_payload(
    sender: Sender,
    mut map: PayloadMap,
    forge: &Forge,
) -> Result<Vec<u8>, String> {
    if let Some(edit) = forge.edit {
        edit(&mut map);
    }
    let mut payload = cbor::encode(&Value::Map(map));
    if let Some(raw) = forge.payload {
        payload = raw(payload);
    }
    let overhead = sender.enc().len() + 16;
    let mut padded = envelope::pad(&payload, overhead).map_err(|e| format!("pad: {e}"))?;
    if forge.zero_padding
        && let Some(start) = padded.get_mut(payload.len())
    {
        *start = 0;
    }
    let mut message = sender.enc().to_vec();
    message.extend_from_slice(&sender.seal(&[], &padded));
    Ok(message)
}

/// The creator of `held` accepts the handshake `started` at `now`, and both ratchets talk: a
/// message of the initiator opens at the responder. Returns the acceptor's identity key as
/// the creator accepted it.
pub(crate) fn sessions_talk(
    what: &str,
    held: &HeldInvite,
    started: Initiated,
    now: u64,
) -> Result<Vec<u8>, String> {
    let accepted = held
        .pending()
        .receive_handshake(&started.message, UnixTime(now), &SuitePolicy::ALL)
        .map_err(|e| format!("{what}: accept: {e}"))?;
    let (mut a, mut b) = (started.ratchet, accepted.ratchet);
    let mut rng = ReplayRng::new(&[&[7u8; 56]]);
    let m = a.encrypt(b"hello", &mut rng).map_err(|e| format!("{what}: {e}"))?;
    if b.decrypt(&m).ok().as_deref() != Some(b"hello".as_slice()) {
        return Err(format!("{what}: the sessions do not agree"));
    }
    Ok(accepted.peer.record().identity_key().as_bytes().to_vec())
}
