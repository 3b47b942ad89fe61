//! The handshake that turns an accepted invite into a ratchet session
//! (`spec/05-handshake.md`).
//!
//! The party accepting an invite (the *acceptor*) seals one message with HPKE to the
//! invite's one-time KEM key. Inside are its signed device record, the mailbox the inviter
//! should write to, and an Ed25519 signature over a transcript hash that binds the invite
//! and the HPKE encapsulation. Both sides derive the ratchet's session secret from the HPKE
//! exporter and an X25519 DH between the acceptor's signed ratchet key and the invite's
//! signed ratchet key; the transcript hash becomes the ratchet's associated data. The
//! acceptor is the ratchet's initiator; the inviter confirms its key with its first
//! ratchet message.
//!
//! ```
//! use quietwire::UnixTime;
//! use quietwire::handshake::{self, PendingInvite};
//! use quietwire::identity::DeviceKeys;
//! use quietwire::invite::{Invite, InviteParams};
//! use quietwire::mailbox::MailboxKey;
//! use quietwire::suite::{Suite, SuitePolicy};
//! # use rand_core::{TryCryptoRng, TryRng};
//! # struct Counter(u8);
//! # impl TryRng for Counter {
//! #     type Error = core::convert::Infallible;
//! #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
//! #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
//! #     fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
//! #         for b in dst { self.0 = self.0.wrapping_add(1); *b = self.0; }
//! #         Ok(())
//! #     }
//! # }
//! # impl TryCryptoRng for Counter {}
//! # let mut rng = Counter(0);
//! let now = UnixTime(1_900_000_000);
//! // Bob, the inviter, makes an invite; handshakes arrive in his bootstrap mailbox.
//! let bob = DeviceKeys::generate(Suite::XWing, &mut rng);
//! let bob_bootstrap = MailboxKey::generate(&mut rng);
//! let params = InviteParams {
//!     relay_hints: vec!["wss://relay.example".to_owned()],
//!     mailbox: *bob_bootstrap.id(),
//!     expires: UnixTime(now.0 + 3600),
//!     single_use: true,
//! };
//! let (invite, secrets) = Invite::create(bob.identity(), Suite::XWing, params, &mut rng)?;
//! let mut bob_pending = PendingInvite::new(invite.clone(), secrets);
//!
//! // Alice, the acceptor, accepts it and names the mailbox Bob will write to.
//! let alice = DeviceKeys::generate(Suite::XWing, &mut rng);
//! let alice_mailbox = MailboxKey::generate(&mut rng);
//! let generation = 0; // Alice's device record is her first
//! let started =
//!     handshake::accept_invite(&invite, &alice, generation, *alice_mailbox.id(), &mut rng)?;
//! let mut alice_ratchet = started.ratchet; // the ratchet's initiator: sends first
//!
//! // Bob receives her handshake message from his bootstrap mailbox.
//! let accepted = bob_pending.receive_handshake(&started.message, now, &SuitePolicy::ALL)?;
//! assert_eq!(accepted.peer.record().identity_key(), alice.identity().public());
//! assert_eq!(&accepted.mailbox, alice_mailbox.id());
//! let mut bob_ratchet = accepted.ratchet; // the responder
//!
//! let hello = alice_ratchet.encrypt(b"hello", &mut rng)?;
//! assert_eq!(bob_ratchet.decrypt(&hello)?, b"hello");
//! // A replay of the handshake starts no second session.
//! assert!(bob_pending.receive_handshake(&started.message, now, &SuitePolicy::ALL).is_err());
//! # Ok::<(), quietwire::Error>(())
//! ```

mod payload;
pub mod reconnect;

use core::fmt;
use std::collections::BTreeSet;

use hkdf::Hkdf;
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::envelope;
use crate::error::{ErrorClass, Result};
use crate::hpke::{self, Sender};
use crate::identity::{DeviceKeys, SignedDeviceRecord};
use crate::invite::{InviteSecrets, SignedInvite};
use crate::keys::IdentityKey;
use crate::label::Label;
use crate::ratchet::Ratchet;
use crate::suite::SuitePolicy;
use crate::time::UnixTime;
pub use payload::MAX_PAYLOAD;
use payload::Payload;

/// The acceptor's result: the message to send to the invite's bootstrap mailbox and the
/// initiator side of the session. Send [`Initiated::message`], then keep
/// [`Initiated::into_session`] (defined with [`Session`](crate::session::Session)).
pub struct Initiated {
    /// `enc ‖ ciphertext`: what goes into the envelope.
    pub message: Vec<u8>,
    /// The transcript hash, also the ratchet's associated data.
    pub transcript_hash: [u8; 32],
    /// The ratchet, ready to send.
    pub ratchet: Ratchet,
    /// The inviter's identity key (the invite's signer).
    pub peer_identity: IdentityKey,
    /// The invite's mailbox, where the session writes.
    pub peer_mailbox: [u8; 32],
}

impl fmt::Debug for Initiated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Initiated")
            .field("message_len", &self.message.len())
            .finish_non_exhaustive()
    }
}

/// The inviter's result for an accepted handshake; keep [`Accepted::into_session`] (defined
/// with [`Session`](crate::session::Session)).
pub struct Accepted {
    /// The acceptor's verified device record.
    pub peer: SignedDeviceRecord,
    /// The mailbox to write to.
    pub mailbox: [u8; 32],
    /// The transcript hash, also the ratchet's associated data.
    pub transcript_hash: [u8; 32],
    /// The ratchet, ready to receive (it sends after its first receipt).
    pub ratchet: Ratchet,
}

impl fmt::Debug for Accepted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accepted")
            .field("peer", &self.peer.record().identity_key())
            .finish_non_exhaustive()
    }
}

/// The acceptor's side (`spec/05-handshake.md` §5.2): starts a session by accepting
/// `invite` (already verified, for example by [`SignedInvite::from_bytes`] at the current
/// time) with this device's keys and signed record of `generation`. Draws only the HPKE
/// encapsulation randomness from `rng`. The acceptor is the ratchet's initiator (§5.3),
/// hence [`Initiated`]; the inviter completes the handshake with
/// [`PendingInvite::receive_handshake`].
///
/// `generation` is the current generation of this device's record (see
/// [`DeviceKeys::signed_record`], **[IDN-06]**): 0 until the device rotates its keys.
/// `mailbox` is the id of the acceptor's own receive mailbox, where the inviter will write
/// ([`MailboxKey::id`](crate::mailbox::MailboxKey::id)).
///
/// The message is padded to a bucket (`spec/07-envelope.md`), so it is ready for an
/// envelope to the invite's bootstrap mailbox.
///
/// # Errors
/// `handshake.suite` if the device's suite is not the invite's; `key.low_order` if the
/// DH with the invite's ratchet key is not contributory (a validated key cannot cause it).
pub fn accept_invite<R: CryptoRng + ?Sized>(
    invite: &SignedInvite,
    device: &DeviceKeys,
    generation: u64,
    mailbox: [u8; 32],
    rng: &mut R,
) -> Result<Initiated> {
    if device.suite() != invite.invite().suite() {
        return Err(ErrorClass::HandshakeSuite.into());
    }
    let invite_hash = invite_hash(invite);
    let dh = device
        .ratchet()
        .diffie_hellman(invite.invite().ratchet_key())?;
    let sender = Sender::setup(
        invite.invite().kem_key(),
        &Label::HandshakeInfo.input(&[&invite_hash]),
        rng,
    )?;
    let record = device.signed_record(generation).to_bytes();
    let th = transcript_hash(&invite_hash, sender.enc(), &record, &mailbox);
    let exported = sender.export(&Label::HandshakeExport.input(&[&invite_hash]));
    let payload = Payload {
        record,
        mailbox,
        signature: device.identity().sign(Label::HandshakeSignature, &th),
        extensions: Default::default(),
    };
    let overhead = sender.enc().len() + crate::aead::TAG_LEN;
    let padded = envelope::pad(&payload.encode(), overhead)?;
    let mut message = sender.enc().to_vec();
    message.extend_from_slice(&sender.seal(&[], &padded));
    let session_secret = session_secret(&exported, &dh, &th);
    Ok(Initiated {
        message,
        transcript_hash: th,
        // Every new session runs the post-quantum ratchet (spec/06 RAT-11).
        ratchet: Ratchet::pq_initiator(&session_secret, *invite.invite().ratchet_key(), &th),
        peer_identity: *invite.invite().identity_key(),
        peer_mailbox: *invite.invite().mailbox(),
    })
}

/// Former name of [`accept_invite`], which the acceptor calls.
///
/// # Errors
/// As [`accept_invite`].
#[deprecated(note = "renamed `handshake::accept_invite` (the acceptor's side, spec/05 §5.2)")]
pub fn initiate<R: CryptoRng + ?Sized>(
    invite: &SignedInvite,
    device: &DeviceKeys,
    generation: u64,
    mailbox: [u8; 32],
    rng: &mut R,
) -> Result<Initiated> {
    accept_invite(invite, device, generation, mailbox, rng)
}

/// An invite the inviter has published, with its secrets and what it has accepted so far.
/// Keep it until the invite expires (or, for a single-use invite, is used).
pub struct PendingInvite {
    invite: SignedInvite,
    invite_hash: [u8; 32],
    secrets: InviteSecrets,
    /// SHA-256 of the `enc` of every accepted handshake.
    accepted: BTreeSet<[u8; 32]>,
}

impl PendingInvite {
    /// Tracks a freshly created invite.
    pub fn new(invite: SignedInvite, secrets: InviteSecrets) -> PendingInvite {
        PendingInvite {
            invite_hash: invite_hash(&invite),
            invite,
            secrets,
            accepted: BTreeSet::new(),
        }
    }

    /// Tracks an invite that already accepted the handshakes whose `enc` hashes are
    /// `accepted` (from [`PendingInvite::accepted_hashes`] of an earlier run): an inviter
    /// that restarts keeps refusing their replays (**[HSK-06]**), and a single-use invite
    /// stays used.
    pub fn with_accepted(
        invite: SignedInvite,
        secrets: InviteSecrets,
        accepted: impl IntoIterator<Item = [u8; 32]>,
    ) -> PendingInvite {
        PendingInvite {
            accepted: accepted.into_iter().collect(),
            ..PendingInvite::new(invite, secrets)
        }
    }

    /// The SHA-256 of the `enc` of every handshake this invite accepted, in ascending order:
    /// what the inviter stores with the invite so that [`PendingInvite::with_accepted`]
    /// restores it after a restart (**[HSK-06]**). They reveal nothing but how many
    /// handshakes were accepted.
    pub fn accepted_hashes(&self) -> Vec<[u8; 32]> {
        self.accepted.iter().copied().collect()
    }

    /// The invite.
    pub const fn invite(&self) -> &SignedInvite {
        &self.invite
    }

    /// How many handshakes this invite has accepted.
    pub fn accepted(&self) -> usize {
        self.accepted.len()
    }

    /// The inviter's side (`spec/05-handshake.md` §5.4): checks and accepts one handshake
    /// message an acceptor made with [`accept_invite`], at `now`. On any error nothing
    /// changes.
    ///
    /// # Errors
    /// In the spec's order: `invite.expired`; `invite.used` (a single-use invite that
    /// already accepted one); `handshake.format`; `handshake.replay` (an `enc` this invite
    /// accepted before, refused before any public-key work); `hpke.*`; `envelope.padding`;
    /// `cbor.*` and `schema.*` for the payload; the device record's classes (`cbor.*`,
    /// `schema.*`, `suite.*`, `key.*`, `identity.signature`); `handshake.suite`;
    /// `identity.signature` for the transcript signature; `key.low_order`.
    pub fn receive_handshake(
        &mut self,
        message: &[u8],
        now: UnixTime,
        policy: &SuitePolicy,
    ) -> Result<Accepted> {
        let invite = self.invite.invite();
        if now >= invite.expires() {
            return Err(ErrorClass::InviteExpired.into());
        }
        if invite.single_use() && !self.accepted.is_empty() {
            return Err(ErrorClass::InviteUsed.into());
        }
        let suite = invite.suite();
        let enc_len = suite.hpke_enc_len();
        if !envelope::is_bucket(message.len()) || message.len() <= enc_len + crate::aead::TAG_LEN {
            return Err(ErrorClass::HandshakeFormat.into());
        }
        let (enc, ciphertext) = message.split_at(enc_len);
        // A replay is refused before any public-key work (HSK-05 step 4): repeating an
        // accepted handshake costs the inviter one hash, not a decapsulation and a signature
        // check.
        let id: [u8; 32] = Sha256::digest(enc).into();
        if self.accepted.contains(&id) {
            return Err(ErrorClass::HandshakeReplay.into());
        }
        let invite_hash = self.invite_hash;
        let opened = hpke::open(
            &self.secrets.kem,
            enc,
            &Label::HandshakeInfo.input(&[&invite_hash]),
            &[],
            ciphertext,
            &Label::HandshakeExport.input(&[&invite_hash]),
        )?;
        let payload = Payload::decode(envelope::unpad(opened.plaintext())?)?;
        let peer = SignedDeviceRecord::from_bytes(&payload.record, policy)?;
        if peer.record().suite() != suite {
            return Err(ErrorClass::HandshakeSuite.into());
        }
        let th = transcript_hash(&invite_hash, enc, &payload.record, &payload.mailbox);
        peer.record()
            .identity_key()
            .verify(Label::HandshakeSignature, &th, &payload.signature)?;
        let dh = self
            .secrets
            .ratchet
            .diffie_hellman(peer.record().ratchet_key())?;
        let session_secret = session_secret(opened.exported(), &dh, &th);
        let ratchet = Ratchet::pq_responder(&session_secret, self.secrets.ratchet.clone(), &th);
        self.accepted.insert(id);
        Ok(Accepted {
            peer,
            mailbox: payload.mailbox,
            transcript_hash: th,
            ratchet,
        })
    }

    /// Former name of [`PendingInvite::receive_handshake`], which the inviter calls.
    ///
    /// # Errors
    /// As [`PendingInvite::receive_handshake`].
    #[deprecated(
        note = "renamed `PendingInvite::receive_handshake` (the inviter's side, spec/05 §5.4)"
    )]
    pub fn accept(
        &mut self,
        message: &[u8],
        now: UnixTime,
        policy: &SuitePolicy,
    ) -> Result<Accepted> {
        self.receive_handshake(message, now, policy)
    }
}

impl fmt::Debug for PendingInvite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingInvite")
            .field(
                "invite_id",
                &crate::keys::Hex(self.invite.invite().invite_id()).to_string(),
            )
            .field("accepted", &self.accepted.len())
            .finish_non_exhaustive()
    }
}

/// `SHA-256` of the signed invite's bytes.
fn invite_hash(invite: &SignedInvite) -> [u8; 32] {
    Sha256::digest(invite.to_bytes()).into()
}

/// `TH = SHA-256(["quietwire/v1/handshake-transcript", invite_hash, enc, record, mailbox])`.
fn transcript_hash(
    invite_hash: &[u8; 32],
    enc: &[u8],
    record: &[u8],
    mailbox: &[u8; 32],
) -> [u8; 32] {
    Sha256::digest(Label::HandshakeTranscript.input(&[invite_hash, enc, record, mailbox])).into()
}

/// `SK = HKDF(salt = exported, ikm = dh, info = ["quietwire/v1/handshake-session", TH], 32)`.
fn session_secret(exported: &[u8; 32], dh: &[u8; 32], th: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut sk = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's output limit, so expansion cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(exported), dh)
        .expand(&Label::HandshakeSession.input(&[th]), sk.as_mut());
    sk
}

#[cfg(test)]
mod tests;
