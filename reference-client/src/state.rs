//! The client's local state: identity, contacts with their sessions, pending invites, the
//! outbox and inbox, and the message history.
//!
//! The state holds the protocol's own snapshots (`Session::snapshot`, `spec/07-envelope.md`
//! §7.7; `Outbox::snapshot` and `Inbox::snapshot`, `spec/09-delivery.md`) and the secret
//! seeds of every key (`dangerous_seed`/`dangerous_bytes`, `spec/02-suites-and-labels.md`),
//! serialized as CBOR with serde. It is only ever stored encrypted ([`crate::vault`]).
//!
//! A pending invite is kept as the signed invite's bytes and the seeds of its one-time keys;
//! the protocol's `PendingInvite` is rebuilt from them with `PendingInvite::new` when a
//! handshake arrives (it has no snapshot of its own; invites here are single-use and are
//! dropped once accepted, so its replay set is never needed across runs).

use std::collections::BTreeMap;

use quietwire::UnixTime;
use quietwire::delivery::{Inbox, Outbox, RetryPolicy, SendId};
use quietwire::event::MessageId;
use quietwire::handshake::PendingInvite;
use quietwire::handshake::reconnect::ReconnectGuard;
use quietwire::identity::{DeviceKeys, SignedDeviceRecord};
use quietwire::invite::{InviteSecrets, SignedInvite};
use quietwire::keys::{IdentityKey, IdentityKeyPair, KemSecret, X25519Secret};
use quietwire::mailbox::MailboxKey;
use quietwire::session::Session;
use quietwire::suite::{Suite, SuitePolicy};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Fail, Result};
use crate::notice::Notice;

/// Version of the serialized state inside the encrypted file.
const STATE_VERSION: u32 = 1;

/// Bytes serialized as a CBOR byte string and wiped on drop.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// The bytes as a fixed-size array; a wrong length means a damaged state.
    pub fn array<const N: usize>(&self) -> Result<[u8; N]> {
        self.0.as_slice().try_into().map_err(|_| damaged())
    }
}

/// Only the length: the bytes may be key seeds or session state.
impl core::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Bytes({} bytes)", self.0.len())
    }
}

impl From<&[u8]> for Bytes {
    fn from(bytes: &[u8]) -> Bytes {
        Bytes(bytes.to_vec())
    }
}

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Bytes, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Bytes;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> core::result::Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(
                self,
                v: Vec<u8>,
            ) -> core::result::Result<Bytes, E> {
                Ok(Bytes(v))
            }
        }
        d.deserialize_byte_buf(Visitor)
    }
}

fn damaged() -> Fail {
    Fail::new("damaged state file (inconsistent contents)")
}

/// Which side of the handshake this device was with a contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// This device made the invite.
    Inviter,
    /// This device accepted the contact's invite.
    Acceptor,
}

/// One contact.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Contact {
    /// Local name.
    pub name: String,
    /// The contact's Ed25519 identity key.
    pub identity_key: Bytes,
    /// Whether the safety code was compared.
    pub verified: bool,
    /// `Session::snapshot`.
    pub session: Bytes,
    /// Seed of the mailbox key this device receives the contact's envelopes in.
    pub receive_seed: Bytes,
    /// How the contact was made.
    pub role: Role,
    /// For an acceptor: the outbox message id of the handshake, until the first message of
    /// the contact confirms it.
    pub handshake_id: Option<Bytes>,
    /// When the contact was added (Unix seconds).
    pub added: u64,
    /// The contact's signed device record (`SignedDeviceRecord::to_bytes`) of the highest
    /// generation seen: from the handshake (this device invited) or from the contact's
    /// device-record event (this device accepted; `spec/07-envelope.md` ENV-07). `None`
    /// until one arrived.
    #[serde(default)]
    pub device_record: Option<Bytes>,
    /// The session was restored from a backup: it only decrypts, never encrypts
    /// (`spec/10-backup.md` XBK-24), until a reconnect replaces it.
    #[serde(default)]
    pub stale: bool,
    /// Whether this device's own device record was queued in the current session (ENV-07).
    #[serde(default)]
    pub record_sent: bool,
    /// The invite id of the last reconnect accepted from this contact (kept for state files
    /// of earlier versions; [`Contact::reconnect_accepted`] decides).
    #[serde(default)]
    pub reconnect_invite: Option<Bytes>,
    /// SHA-256 of every unexpired invite accepted through a reconnect of this contact, with
    /// its expiry (HSK-10): a copy of an accepted reconnect starts no second session, also
    /// after a restart.
    #[serde(default)]
    pub reconnect_accepted: Vec<(Bytes, u64)>,
    /// Message ids received while the session could not send (a restored, stale session),
    /// receipted once a session can.
    #[serde(default)]
    pub pending_receipts: Vec<Bytes>,
    /// This device accepted a new invite of this contact while the session above still
    /// works: the new session, which replaces it only once the contact's first message on
    /// it confirms the handshake ([`Contact::confirm_pending`]). Until then every send uses
    /// the session above, and this one only carries its handshake and device record.
    #[serde(default)]
    pub pending: Option<PendingSession>,
    /// This device made a new invite that the contact accepted while an older session
    /// worked: that older session and its receive mailbox, kept to open what the contact
    /// still sends on it until it switches (it does so on this device's first message in
    /// the new session).
    #[serde(default)]
    pub previous: Option<PreviousSession>,
}

/// A session started by accepting a new invite of an existing contact, waiting for the
/// contact's first message on it ([`Contact::pending`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingSession {
    /// `Session::snapshot`.
    pub session: Bytes,
    /// Seed of the mailbox key of the new session.
    pub receive_seed: Bytes,
    /// The outbox message id of the handshake.
    pub handshake_id: Bytes,
}

impl PendingSession {
    /// The session.
    pub fn session(&self) -> Result<Session> {
        Session::restore(&self.session.0).map_err(|_| damaged())
    }

    /// The new session's receive mailbox.
    pub fn receive_mailbox(&self) -> Result<MailboxKey> {
        Ok(MailboxKey::from_seed(&self.receive_seed.array()?))
    }
}

/// The session a new invite's handshake replaced ([`Contact::previous`]): it only decrypts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PreviousSession {
    /// `Session::snapshot`.
    pub session: Bytes,
    /// Seed of its receive mailbox.
    pub receive_seed: Bytes,
    /// The contact wrote on the new session after switching to it: this session goes as
    /// soon as a fetch finds its mailbox empty.
    pub retiring: bool,
}

impl PreviousSession {
    /// The session.
    pub fn session(&self) -> Result<Session> {
        Session::restore(&self.session.0).map_err(|_| damaged())
    }

    /// Its receive mailbox.
    pub fn receive_mailbox(&self) -> Result<MailboxKey> {
        Ok(MailboxKey::from_seed(&self.receive_seed.array()?))
    }
}

impl Contact {
    /// A contact with a new session; what it learns later (its device record) starts empty.
    pub fn new(
        name: String,
        identity: &IdentityKey,
        session: &Session,
        receive_seed: Bytes,
        role: Role,
        now: UnixTime,
    ) -> Contact {
        Contact {
            name,
            identity_key: Bytes::from(&identity.as_bytes()[..]),
            verified: false,
            session: Bytes(session.snapshot().to_vec()),
            receive_seed,
            role,
            handshake_id: None,
            added: now.as_secs(),
            device_record: None,
            stale: false,
            record_sent: false,
            reconnect_invite: None,
            reconnect_accepted: Vec::new(),
            pending_receipts: Vec::new(),
            pending: None,
            previous: None,
        }
    }

    /// The validated identity key.
    pub fn identity(&self) -> Result<IdentityKey> {
        IdentityKey::from_bytes(&self.identity_key.array()?).map_err(|_| damaged())
    }

    /// The session.
    pub fn session(&self) -> Result<Session> {
        Session::restore(&self.session.0).map_err(|_| damaged())
    }

    /// Starts over with a new session from a new handshake: the session, the receive
    /// mailbox and the role are replaced, and the session is no longer stale; a pending or
    /// previous session is forgotten. The identity, name, verified flag and device record
    /// stay.
    pub fn replace_session(
        &mut self,
        session: &Session,
        receive_seed: Bytes,
        role: Role,
        handshake_id: Option<Bytes>,
    ) {
        self.set_session(session);
        self.receive_seed = receive_seed;
        self.role = role;
        self.handshake_id = handshake_id;
        self.stale = false;
        self.record_sent = false;
        self.pending = None;
        self.previous = None;
    }

    /// The contact answered on the pending session: it replaces the current one. Returns
    /// the handshake's outbox message id (now delivered), or `None` without a pending
    /// session.
    pub fn confirm_pending(&mut self, session: &Session) -> Option<Bytes> {
        let pending = self.pending.take()?;
        self.replace_session(session, pending.receive_seed, Role::Acceptor, None);
        // Its device record went out with the handshake.
        self.record_sent = true;
        Some(pending.handshake_id)
    }

    /// Stores the session's new snapshot.
    pub fn set_session(&mut self, session: &Session) {
        self.session = Bytes(session.snapshot().to_vec());
    }

    /// The receive mailbox's key.
    pub fn receive_mailbox(&self) -> Result<MailboxKey> {
        Ok(MailboxKey::from_seed(&self.receive_seed.array()?))
    }

    /// The contact's verified device record, if one is known.
    /// The contact's reconnect guard (HSK-10): its identity, the generation of the device
    /// record held for it (0 when none is held: a restore always raises it above 0), and the
    /// reconnect invites accepted so far.
    pub fn reconnect_guard(&self) -> Result<ReconnectGuard> {
        let generation = self.device_record()?.map_or(0, |r| r.record().generation());
        let accepted = self
            .reconnect_accepted
            .iter()
            .map(|(hash, expires)| Ok((hash.array::<32>()?, UnixTime(*expires))))
            .collect::<Result<Vec<_>>>()?;
        ReconnectGuard::from_parts(self.identity()?, generation, accepted).map_err(|_| damaged())
    }

    /// Stores what `guard` remembers of accepted reconnects.
    pub fn keep_reconnect_guard(&mut self, guard: &ReconnectGuard) {
        self.reconnect_accepted = guard
            .accepted()
            .map(|(hash, expires)| (Bytes(hash.to_vec()), expires.0))
            .collect();
    }

    pub fn device_record(&self) -> Result<Option<SignedDeviceRecord>> {
        self.device_record
            .as_ref()
            .map(|bytes| {
                SignedDeviceRecord::from_bytes(&bytes.0, &SuitePolicy::ALL).map_err(|_| damaged())
            })
            .transpose()
    }
}

/// A contact restored from a backup that held no device record for it: known by name and
/// identity only, with no session and no history. A new invite makes it a contact again
/// (and keeps its verified flag if the identity is the same).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Unreachable {
    /// Local name.
    pub name: String,
    /// The contact's Ed25519 identity key.
    pub identity_key: Bytes,
    /// Whether the safety code was compared.
    pub verified: bool,
}

/// An invite this device published and that no one accepted yet.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Invitation {
    /// The name the contact gets once the invite is accepted.
    pub contact: String,
    /// `SignedInvite::to_bytes`.
    pub invite: Bytes,
    /// Seed of the one-time KEM key.
    pub kem_seed: Bytes,
    /// The signed ratchet secret.
    pub ratchet_secret: Bytes,
    /// Seed of the bootstrap mailbox key.
    pub bootstrap_seed: Bytes,
    /// Expiry (Unix seconds).
    pub expires: u64,
    /// For a reconnect after a restore (`spec/05-handshake.md` §5.8): the outbox message id
    /// of the sealed invite sent to the existing contact named `contact`, whose session the
    /// handshake replaces. `None` for an invite to a new contact.
    #[serde(default)]
    pub reconnect: Option<Bytes>,
    /// Envelopes of the bootstrap mailbox that did not open as the handshake, oldest first:
    /// taken off the relay so that they cannot hide the handshake behind a full fetch window,
    /// and kept here (at most [`MAX_HELD`] of them, [`MAX_HELD_BYTES`] in all; the oldest go
    /// first) because the acceptor's first messages look the same as junk until the
    /// handshake gives the session that opens them.
    #[serde(default)]
    pub held: Vec<Bytes>,
}

/// Most envelopes kept per pending invite ([`Invitation::held`]).
pub const MAX_HELD: usize = 64;
/// Most bytes of envelopes kept per pending invite ([`Invitation::held`]).
pub const MAX_HELD_BYTES: usize = 1024 * 1024;

impl Invitation {
    /// Keeps `envelope` among the held items, dropping the oldest ones beyond the bounds;
    /// returns how many were dropped.
    pub fn hold(&mut self, envelope: &[u8]) -> usize {
        self.held.push(Bytes::from(envelope));
        let mut dropped = 0;
        while self.held.len() > MAX_HELD
            || self.held.iter().map(|b| b.0.len()).sum::<usize>() > MAX_HELD_BYTES
        {
            if self.held.is_empty() {
                break;
            }
            self.held.remove(0);
            dropped += 1;
        }
        dropped
    }

    /// The bootstrap mailbox's key.
    pub fn bootstrap(&self) -> Result<MailboxKey> {
        Ok(MailboxKey::from_seed(&self.bootstrap_seed.array()?))
    }

    /// Rebuilds the protocol's pending invite; `None` once the invite has expired.
    pub fn pending(&self, suite: Suite, now: UnixTime) -> Result<Option<PendingInvite>> {
        if now.as_secs() >= self.expires {
            return Ok(None);
        }
        let invite =
            SignedInvite::from_bytes(&self.invite.0, now, &SuitePolicy::ALL).map_err(|e| {
                if e.class() == quietwire::ErrorClass::InviteExpired {
                    Fail::new("invite expired")
                } else {
                    damaged()
                }
            })?;
        let secrets = InviteSecrets {
            kem: KemSecret::from_seed(suite, &self.kem_seed.array()?),
            ratchet: X25519Secret::from_bytes(&self.ratchet_secret.array()?),
        };
        Ok(Some(PendingInvite::new(invite, secrets)))
    }
}

/// What a send in the outbox carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SendKind {
    /// The handshake message of an accepted invite.
    Handshake,
    /// A text message.
    Text,
    /// A delivery receipt.
    Receipt,
    /// This device's signed device record (event kind 13, `spec/07-envelope.md` ENV-07).
    DeviceRecord,
    /// A reconnect: a new invite sealed to the contact after a restore
    /// (`spec/05-handshake.md` §5.8).
    Reconnect,
}

impl SendKind {
    /// The name shown by `outbox`.
    pub const fn name(self) -> &'static str {
        match self {
            SendKind::Handshake => "handshake",
            SendKind::Text => "text",
            SendKind::Receipt => "receipt",
            SendKind::DeviceRecord => "device record",
            SendKind::Reconnect => "reconnect",
        }
    }
}

/// What the client knows about one outbox send beyond the outbox itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SendMeta {
    /// The contact it goes to.
    pub contact: String,
    /// What it is.
    pub kind: SendKind,
}

/// One message of the history.
/// Its `Debug` leaves the text out.
#[derive(Clone, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The contact.
    pub contact: String,
    /// Sent by this device.
    pub outgoing: bool,
    /// The message id.
    pub message_id: Bytes,
    /// The text.
    pub text: String,
    /// When it was sent or received (Unix seconds).
    pub at: u64,
}

impl core::fmt::Debug for HistoryEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HistoryEntry")
            .field("contact", &self.contact)
            .field("outgoing", &self.outgoing)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// Everything the client keeps, as stored.
#[derive(Debug, Serialize, Deserialize)]
pub struct Stored {
    version: u32,
    name: String,
    relay: String,
    suite: u64,
    identity_seed: Bytes,
    kem_seed: Bytes,
    ratchet_secret: Bytes,
    contacts: Vec<Contact>,
    invites: Vec<Invitation>,
    outbox: Bytes,
    inbox: Bytes,
    sends: BTreeMap<u64, SendMeta>,
    history: Vec<HistoryEntry>,
    #[serde(default)]
    generation: u64,
    #[serde(default)]
    unreachable: Vec<Unreachable>,
}

/// The state in use: the stored fields, with the outbox and inbox decoded.
pub struct State {
    /// The user's own name.
    pub name: String,
    /// The relay URL (`ws://` or `wss://`).
    pub relay: String,
    /// The identity's suite.
    pub suite: Suite,
    /// The device's keys.
    pub device: DeviceKeys,
    /// Contacts, in the order they were added.
    pub contacts: Vec<Contact>,
    /// Pending invites.
    pub invites: Vec<Invitation>,
    /// The delivery outbox.
    pub outbox: Outbox,
    /// Message ids already handed to the user.
    pub inbox: Inbox,
    /// Per-send metadata, by `SendId`.
    pub sends: BTreeMap<u64, SendMeta>,
    /// Received and sent texts.
    pub history: Vec<HistoryEntry>,
    /// Generation of this device's signed device record: 0 for a new identity, one more
    /// than the backup's for a restored one (`spec/10-backup.md` XBK-23).
    pub generation: u64,
    /// Contacts restored without a device record, waiting for a new invite.
    pub unreachable: Vec<Unreachable>,
    /// What happened since the app last took them ([`crate::Engine::take_notices`]); never
    /// saved.
    pub notices: Vec<Notice>,
}

impl core::fmt::Debug for State {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("State")
            .field("contacts", &self.contacts.len())
            .finish_non_exhaustive()
    }
}

impl State {
    /// A new identity.
    pub fn new(name: String, relay: String, device: DeviceKeys) -> State {
        State {
            name,
            relay,
            suite: device.suite(),
            device,
            contacts: Vec::new(),
            invites: Vec::new(),
            outbox: Outbox::new(RetryPolicy::DEFAULT),
            inbox: Inbox::new(),
            sends: BTreeMap::new(),
            history: Vec::new(),
            generation: 0,
            unreachable: Vec::new(),
            notices: Vec::new(),
        }
    }

    /// Decodes the decrypted state file.
    pub fn decode(bytes: &[u8]) -> Result<State> {
        let stored: Stored = ciborium::from_reader(bytes).map_err(|_| damaged())?;
        if stored.version != STATE_VERSION {
            return Err(Fail::new(format!(
                "state version {} is not supported by this client",
                stored.version
            )));
        }
        let suite = Suite::from_id(stored.suite).map_err(|_| damaged())?;
        let device = DeviceKeys::from_parts(
            suite,
            IdentityKeyPair::from_seed(&stored.identity_seed.array()?),
            KemSecret::from_seed(suite, &stored.kem_seed.array()?),
            X25519Secret::from_bytes(&stored.ratchet_secret.array()?),
        );
        Ok(State {
            name: stored.name.clone(),
            relay: stored.relay.clone(),
            suite,
            device,
            outbox: Outbox::restore(&stored.outbox.0).map_err(|_| damaged())?,
            inbox: Inbox::restore(&stored.inbox.0).map_err(|_| damaged())?,
            contacts: stored.contacts.clone(),
            invites: stored.invites.clone(),
            sends: stored.sends.clone(),
            history: stored.history.clone(),
            generation: stored.generation,
            unreachable: stored.unreachable.clone(),
            notices: Vec::new(),
        })
    }

    /// Encodes the state for the state file.
    pub fn encode(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        // Forget metadata of sends the outbox itself forgot.
        let live: std::collections::BTreeSet<u64> =
            self.outbox.iter().map(|(id, ..)| id.0).collect();
        self.sends.retain(|id, _| live.contains(id));
        let stored = Stored {
            version: STATE_VERSION,
            name: self.name.clone(),
            relay: self.relay.clone(),
            suite: self.suite.id(),
            identity_seed: Bytes(self.device.identity().dangerous_seed().to_vec()),
            kem_seed: Bytes(self.device.kem().dangerous_seed().to_vec()),
            ratchet_secret: Bytes(self.device.ratchet().dangerous_bytes().to_vec()),
            contacts: self.contacts.clone(),
            invites: self.invites.clone(),
            outbox: Bytes(self.outbox.snapshot().to_vec()),
            inbox: Bytes(self.inbox.snapshot()),
            sends: self.sends.clone(),
            history: self.history.clone(),
            generation: self.generation,
            unreachable: self.unreachable.clone(),
        };
        let mut out = Zeroizing::new(Vec::new());
        ciborium::into_writer(&stored, &mut *out)
            .map_err(|_| Fail::new("internal error: cannot encode the state"))?;
        Ok(out)
    }

    /// The contact named `name`.
    pub fn contact(&self, name: &str) -> Result<&Contact> {
        self.contacts
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| unknown_contact(name))
    }

    /// The contact named `name`, mutably.
    pub fn contact_mut(&mut self, name: &str) -> Result<&mut Contact> {
        self.contacts
            .iter_mut()
            .find(|c| c.name == name)
            .ok_or_else(|| unknown_contact(name))
    }

    /// Fails if `name` is taken by a contact or a pending invite. Forgets expired invites
    /// first (their names are free again).
    pub fn check_new_name(&mut self, name: &str, now: UnixTime) -> Result<()> {
        self.invites.retain(|i| i.expires > now.as_secs());
        if name.trim().is_empty() || name.chars().any(char::is_control) || name.len() > 64 {
            return Err(Fail::new(
                "a contact name must be 1 to 64 printable characters",
            ));
        }
        // A contact restored from a backup may be invited again under its name; its
        // handshake then replaces its session.
        if self.contacts.iter().any(|c| c.name == name && !c.stale) {
            return Err(Fail::new(format!("a contact named {name} already exists")));
        }
        if self.invites.iter().any(|i| i.contact == name) {
            return Err(Fail::new(format!(
                "a pending invite for {name} already exists"
            )));
        }
        Ok(())
    }

    /// Forgets the contact restored without a device record whose identity is `identity`,
    /// now that it is a contact again; returns whether it was verified.
    pub fn take_unreachable(&mut self, identity: &IdentityKey) -> bool {
        let mut verified = false;
        self.unreachable.retain(|u| {
            let same = u.identity_key.0 == identity.as_bytes();
            verified |= same && u.verified;
            !same
        });
        verified
    }

    /// The position of the contact whose identity key is `identity`.
    pub fn contact_by_identity(&self, identity: &IdentityKey) -> Option<usize> {
        self.contacts
            .iter()
            .position(|c| c.identity_key.0 == identity.as_bytes())
    }

    /// `wanted`, or `wanted (2)`, `wanted (3)`, … if a contact has that name.
    pub fn free_name(&self, wanted: &str) -> String {
        let mut name = wanted.to_owned();
        let mut i = 2u32;
        while self.contacts.iter().any(|c| c.name == name) {
            name = format!("{wanted} ({i})");
            i = i.saturating_add(1);
        }
        name
    }

    /// The pending reconnect invitation for contact `name`, if any.
    pub fn reconnect_pending(&self, name: &str) -> bool {
        self.invites
            .iter()
            .any(|i| i.contact == name && i.reconnect.is_some())
    }

    /// The metadata and message id of an outbox send.
    pub fn send_info(&self, send: SendId) -> Option<(&SendMeta, MessageId)> {
        let meta = self.sends.get(&send.0)?;
        let id = self
            .outbox
            .iter()
            .find(|(id, ..)| *id == send)
            .map(|(_, mid, ..)| *mid)?;
        Some((meta, id))
    }
}

fn unknown_contact(name: &str) -> Fail {
    Fail::new(format!(
        "unknown contact {name} (see `quietwire-client contacts`)"
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn state_round_trips() {
        let mut rng = crate::sys::rng();
        let device = DeviceKeys::generate(Suite::X25519, &mut rng);
        let public = *device.identity().public();
        let mut state = State::new("alice".into(), "ws://127.0.0.1:1".into(), device);
        state.history.push(HistoryEntry {
            contact: "bob".into(),
            outgoing: true,
            message_id: Bytes(vec![1; 16]),
            text: "hi".into(),
            at: 5,
        });
        let bytes = state.encode().unwrap();
        let back = State::decode(&bytes).unwrap();
        assert_eq!(back.name, "alice");
        assert_eq!(back.device.identity().public(), &public);
        assert_eq!(back.history.len(), 1);
        assert!(State::decode(&bytes[..bytes.len() / 2]).is_err());
    }
}
