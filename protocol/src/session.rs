//! A session with one contact: the sans-io API above the handshake, the ratchet, envelopes
//! and events (`spec/05-handshake.md`, `spec/06-ratchet.md`, `spec/07-envelope.md`).
//!
//! Call order:
//!
//! 1. Start: the acceptor calls [`crate::handshake::accept_invite`], sends its message in an
//!    envelope to the invite's bootstrap mailbox and keeps
//!    [`Initiated::into_session`](crate::handshake::Initiated::into_session) (which writes to
//!    the invite's mailbox); the inviter calls
//!    [`crate::handshake::PendingInvite::receive_handshake`] and keeps
//!    [`Accepted::into_session`](crate::handshake::Accepted::into_session) (which writes to
//!    the mailbox the acceptor named). Either session knows its peer's identity key
//!    ([`Session::peer_identity`]), from which the app computes the safety code
//!    ([`crate::safety`]).
//! 2. Send: [`Session::seal`] an [`Event`] to envelope bytes for the peer's mailbox, with an
//!    injected RNG. The responder can send after its first successful [`Session::open`].
//! 3. Receive: [`Session::open`] the blob of an envelope fetched from one's own mailbox.
//!    On any error the session is unchanged.
//! 4. Persist: [`Session::snapshot`] after every change, encrypted at rest by the caller;
//!    [`Session::restore`] on start. Never encrypt from an older snapshot than the newest
//!    one used (spec RAT-10).
//!
//! ```
//! use quietwire::UnixTime;
//! use quietwire::envelope::Envelope;
//! use quietwire::event::{Body, Event};
//! use quietwire::handshake::{self, PendingInvite};
//! use quietwire::identity::DeviceKeys;
//! use quietwire::invite::{Invite, InviteParams};
//! use quietwire::mailbox::MailboxKey;
//! use quietwire::session::Session;
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
//! // Bob, the inviter, makes an invite to his bootstrap mailbox.
//! let bob = DeviceKeys::generate(Suite::X25519, &mut rng);
//! let bob_bootstrap = MailboxKey::generate(&mut rng);
//! let params = InviteParams {
//!     relay_hints: vec!["wss://relay.example".to_owned()],
//!     mailbox: *bob_bootstrap.id(),
//!     expires: UnixTime(now.0 + 3600),
//!     single_use: true,
//! };
//! let (invite, secrets) = Invite::create(bob.identity(), Suite::X25519, params, &mut rng)?;
//! let mut bob_pending = PendingInvite::new(invite.clone(), secrets);
//!
//! // Alice, the acceptor, accepts it with her own mailbox; Bob receives her handshake.
//! let alice = DeviceKeys::generate(Suite::X25519, &mut rng);
//! let alice_mailbox = MailboxKey::generate(&mut rng);
//! let started = handshake::accept_invite(&invite, &alice, 0, *alice_mailbox.id(), &mut rng)?;
//! let accepted = bob_pending.receive_handshake(&started.message, now, &SuitePolicy::ALL)?;
//! // Each keeps a session that writes to the other's mailbox and knows the other's identity.
//! let mut alice_session = started.into_session();
//! let mut bob_session = accepted.into_session();
//! assert_eq!(alice_session.peer_mailbox(), invite.invite().mailbox());
//! assert_eq!(alice_session.peer_identity(), Some(bob.identity().public()));
//! assert_eq!(bob_session.peer_identity(), Some(alice.identity().public()));
//!
//! // Alice, the ratchet's initiator, writes first.
//! let hello = Event::new(Body::Text { text: "hello".into(), reply_to: None }, &mut rng);
//! let bytes = alice_session.seal(&hello, &mut rng)?;
//! let envelope = Envelope::from_bytes(&bytes)?; // what the relay stores
//! assert_eq!(envelope.mailbox(), bob_bootstrap.id());
//! assert_eq!(bob_session.open(envelope.blob())?, hello);
//!
//! let snapshot = bob_session.snapshot();
//! let mut bob_session = Session::restore(&snapshot)?;
//! assert_eq!(bob_session.peer_identity(), Some(alice.identity().public())); // key 4 kept
//! let reply = Event::new(Body::WakeUp, &mut rng);
//! let bytes = bob_session.seal(&reply, &mut rng)?;
//! assert_eq!(alice_session.open(Envelope::from_bytes(&bytes)?.blob())?, reply);
//! # Ok::<(), quietwire::Error>(())
//! ```

use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::cbor::{self, Limits, Value};
use crate::envelope::{self, Envelope};
use crate::error::Result;
use crate::event::Event;
use crate::handshake::{Accepted, Initiated};
use crate::keys::IdentityKey;
use crate::ratchet::{MAX_SNAPSHOT, Ratchet};
use crate::schema::{self, Fields};

/// Largest session snapshot: a ratchet snapshot and the fixed fields.
pub const MAX_SESSION_SNAPSHOT: usize = MAX_SNAPSHOT + 128;

const LIMITS: Limits = Limits {
    max_input: MAX_SESSION_SNAPSHOT,
    max_depth: 1,
    max_string: MAX_SNAPSHOT as u64,
    max_items: 8,
};

mod key {
    pub(super) const RATCHET: u64 = 2;
    pub(super) const PEER_MAILBOX: u64 = 3;
    pub(super) const PEER_IDENTITY: u64 = 4;
    pub(super) const KNOWN: &[u64] = &[1, RATCHET, PEER_MAILBOX, PEER_IDENTITY];
}

/// One side of a session with one contact.
#[derive(Clone)]
pub struct Session {
    ratchet: Ratchet,
    peer_mailbox: [u8; 32],
    peer_identity: Option<IdentityKey>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("ratchet", &self.ratchet)
            .field("peer_identity", &self.peer_identity)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session over `ratchet` that sends to `peer_mailbox`, without its peer's identity
    /// key ([`Session::peer_identity`] is `None`). Sessions started by a handshake know it:
    /// prefer [`Initiated::into_session`](crate::handshake::Initiated::into_session) and
    /// [`Accepted::into_session`](crate::handshake::Accepted::into_session), or
    /// [`Session::with_peer_identity`].
    pub fn new(ratchet: Ratchet, peer_mailbox: [u8; 32]) -> Session {
        Session {
            ratchet,
            peer_mailbox,
            peer_identity: None,
        }
    }

    /// A session over `ratchet` that sends to `peer_mailbox`, with the peer's verified
    /// identity key (the one that signed the peer's device record in the handshake).
    pub fn with_peer_identity(
        ratchet: Ratchet,
        peer_mailbox: [u8; 32],
        peer_identity: IdentityKey,
    ) -> Session {
        Session {
            ratchet,
            peer_mailbox,
            peer_identity: Some(peer_identity),
        }
    }

    /// Where sealed envelopes go.
    pub const fn peer_mailbox(&self) -> &[u8; 32] {
        &self.peer_mailbox
    }

    /// The peer's Ed25519 identity key, if the session knows it: always for sessions made by
    /// the handshake (both sides, reconnects included) and restored from their snapshots,
    /// never for [`Session::new`]. The contact's safety code is
    /// [`SafetyCode::new`](crate::safety::SafetyCode::new) of it and one's own identity key.
    pub const fn peer_identity(&self) -> Option<&IdentityKey> {
        self.peer_identity.as_ref()
    }

    /// Switches to the mailbox a peer announced (a mailbox-announcement event, once its
    /// `valid_from` has passed).
    pub fn set_peer_mailbox(&mut self, mailbox: [u8; 32]) {
        self.peer_mailbox = mailbox;
    }

    /// Whether [`Session::seal`] can send (the responder cannot before its first receipt).
    pub fn can_send(&self) -> bool {
        self.ratchet.can_send()
    }

    /// Encodes, pads and encrypts `event`, and wraps it in an envelope for the peer's
    /// mailbox. On error nothing changes.
    ///
    /// # Errors
    /// `envelope.too_large` for an event that fits no bucket; the ratchet's misuse classes
    /// (`ratchet.no_sending_chain`, `ratchet.exhausted`).
    pub fn seal<R: CryptoRng + ?Sized>(&mut self, event: &Event, rng: &mut R) -> Result<Vec<u8>> {
        let bytes = Zeroizing::new(event.to_bytes()?);
        // The padding fills the bucket after this session's ratchet overhead (ENV-03).
        let padded = Zeroizing::new(envelope::pad(&bytes, self.ratchet.overhead())?);
        let blob = self.ratchet.encrypt(&padded, rng)?;
        Ok(Envelope::new(self.peer_mailbox, blob)?.to_bytes())
    }

    /// Decrypts the blob of an envelope from one's own mailbox to its event. On any error
    /// the session is exactly as before.
    ///
    /// # Errors
    /// The ratchet's classes (`ratchet.*`, `key.*`), then `envelope.padding`, then the
    /// event's (`cbor.*`, `schema.*`, `event.*`).
    pub fn open(&mut self, blob: &[u8]) -> Result<Event> {
        self.ratchet
            .decrypt_then(blob, |padded| Event::from_bytes(envelope::unpad(padded)?))
    }

    /// Decodes an envelope fetched from `own_mailbox` and opens its blob
    /// ([`Envelope::receive`], then [`Session::open`]). On any error the session is unchanged.
    ///
    /// # Errors
    /// `cbor.*`, `schema.*`, `envelope.bucket` and `envelope.mailbox` for the envelope, then
    /// as [`Session::open`].
    pub fn open_envelope(&mut self, envelope: &[u8], own_mailbox: &[u8; 32]) -> Result<Event> {
        let envelope = Envelope::receive(envelope, own_mailbox)?;
        self.open(envelope.blob())
    }

    /// The canonical snapshot (`session-snapshot`, spec ENV-08): the ratchet's snapshot, the
    /// peer's mailbox and, when the session knows it, the peer's identity key. It holds every
    /// secret of the session: store it only encrypted.
    pub fn snapshot(&self) -> Zeroizing<Vec<u8>> {
        let ratchet = self.ratchet.snapshot();
        let mut fields = vec![
            (key::RATCHET, Value::from(ratchet.as_slice())),
            (key::PEER_MAILBOX, Value::from(&self.peer_mailbox[..])),
        ];
        if let Some(identity) = &self.peer_identity {
            fields.push((key::PEER_IDENTITY, Value::from(&identity.as_bytes()[..])));
        }
        Zeroizing::new(cbor::encode(&schema::build_map(
            fields,
            &Default::default(),
        )))
    }

    /// Restores a session from [`Session::snapshot`], with the checks of spec ENV-08 in
    /// their order. Snapshots without key 4 (written before sessions kept their peer's
    /// identity, or by [`Session::new`]) restore with no peer identity.
    ///
    /// # Errors
    /// `cbor.*` and `schema.*` for a malformed snapshot (closed: no extension keys); the
    /// ratchet snapshot's classes; `key.invalid`, `key.noncanonical` or `key.low_order` for
    /// a peer identity key that is not a valid Ed25519 public key.
    pub fn restore(snapshot: &[u8]) -> Result<Session> {
        let mut f = Fields::closed(cbor::decode(snapshot, &LIMITS)?, key::KNOWN)?;
        let ratchet = Zeroizing::new(f.bytes(key::RATCHET)?);
        let peer_mailbox = f.bytes_exact::<32>(key::PEER_MAILBOX)?;
        let peer_identity = f.optional_bytes_exact::<32>(key::PEER_IDENTITY)?;
        let ratchet = Ratchet::from_snapshot(&ratchet)?;
        let peer_identity = peer_identity
            .as_ref()
            .map(IdentityKey::from_bytes)
            .transpose()?;
        Ok(Session {
            ratchet,
            peer_mailbox,
            peer_identity,
        })
    }
}

// The sessions the handshake starts (defined here, so that the handshake does not depend on
// the session layer above it).
impl Initiated {
    /// The acceptor's session: the ratchet, writing to the invite's mailbox, with the
    /// inviter's identity key ([`Session::peer_identity`]). Send [`Initiated::message`]
    /// first.
    pub fn into_session(self) -> Session {
        Session::with_peer_identity(self.ratchet, self.peer_mailbox, self.peer_identity)
    }
}

impl Accepted {
    /// The inviter's session: the ratchet, writing to the mailbox the acceptor named, with the
    /// acceptor's verified identity key ([`Session::peer_identity`]).
    pub fn into_session(self) -> Session {
        let identity = *self.peer.record().identity_key();
        Session::with_peer_identity(self.ratchet, self.mailbox, identity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorClass;
    use crate::event::Body;
    use crate::keys::X25519Secret;
    use crate::ratchet::tests::TestRng;

    fn pair() -> (Session, Session, Ratchet, TestRng) {
        let key = X25519Secret::from_bytes(&[7; 32]);
        let a = Ratchet::initiator(&[1; 32], *key.public(), &[2; 32]);
        let b = Ratchet::responder(&[1; 32], key, &[2; 32]);
        let raw = a.clone();
        (
            Session::new(a, [8; 32]),
            Session::new(b, [9; 32]),
            raw,
            TestRng(0),
        )
    }

    fn text(t: &str, rng: &mut TestRng) -> Event {
        Event::new(
            Body::Text {
                text: t.to_owned(),
                reply_to: None,
            },
            rng,
        )
    }

    #[test]
    fn events_travel_both_ways_in_bucketed_envelopes() {
        let (mut a, mut b, _, mut rng) = pair();
        assert!(!b.can_send());
        for round in 0..3 {
            let e = text(&format!("a{round}"), &mut rng);
            let env = Envelope::from_bytes(&a.seal(&e, &mut rng).unwrap()).unwrap();
            assert_eq!(env.mailbox(), &[8; 32]);
            assert_eq!(env.blob().len(), envelope::MIN_BUCKET);
            assert_eq!(b.open(env.blob()).unwrap(), e);
            let r = text(&"r".repeat(1000), &mut rng);
            let env = Envelope::from_bytes(&b.seal(&r, &mut rng).unwrap()).unwrap();
            assert_eq!(env.blob().len(), 1152);
            assert_eq!(a.open(env.blob()).unwrap(), r);
        }
    }

    #[test]
    fn refused_content_changes_nothing() {
        let (_, mut b, mut raw, mut rng) = pair();
        // Authentic but unpadded: the ratchet opens it, the session refuses it.
        let unpadded = raw.encrypt(&[1, 2, 3], &mut rng).unwrap();
        let before = b.snapshot();
        assert_eq!(
            b.open(&unpadded).unwrap_err().class(),
            ErrorClass::EnvelopePadding
        );
        assert_eq!(b.snapshot(), before);
        // Authentic, padded, but not an event.
        let padded = envelope::pad(&[0xfe], crate::ratchet::OVERHEAD).unwrap();
        let junk = raw.encrypt(&padded, &mut rng).unwrap();
        assert_eq!(
            b.open(&junk).unwrap_err().class(),
            ErrorClass::CborAdditionalInfo
        );
        assert_eq!(b.snapshot(), before);
    }

    #[test]
    fn misrouted_envelopes_are_refused_before_decryption() {
        let (mut a, mut b, _, mut rng) = pair();
        let e = text("to the right mailbox", &mut rng);
        let bytes = a.seal(&e, &mut rng).unwrap();
        let before = b.snapshot();
        assert_eq!(
            b.open_envelope(&bytes, &[7; 32]).unwrap_err().class(),
            ErrorClass::EnvelopeMailbox
        );
        assert_eq!(b.snapshot(), before);
        assert_eq!(b.open_envelope(&bytes, &[8; 32]).unwrap(), e);
    }

    #[test]
    fn snapshots_round_trip_and_are_closed() {
        let (a, _, _, _) = pair();
        let snapshot = a.snapshot();
        let restored = Session::restore(&snapshot).unwrap();
        assert_eq!(restored.snapshot(), snapshot);
        let mut bad = snapshot.to_vec();
        bad.push(0);
        assert_eq!(
            Session::restore(&bad).unwrap_err().class(),
            ErrorClass::CborTrailing
        );
    }

    /// `snapshot` with key 4 set to `value`.
    fn with_key_4(snapshot: &[u8], value: Value) -> Vec<u8> {
        let Value::Map(mut map) = cbor::decode(snapshot, &LIMITS).unwrap() else {
            panic!("not a map")
        };
        map.insert(cbor::Int::uint(key::PEER_IDENTITY), value);
        cbor::encode(&Value::Map(map))
    }

    #[test]
    fn the_peer_identity_is_kept_in_snapshots_and_checked_on_restore() {
        let (a, _, raw, _) = pair();
        let peer = *crate::keys::IdentityKeyPair::from_seed(&[5; 32]).public();
        let known = Session::with_peer_identity(raw, [8; 32], peer);
        assert_eq!(known.peer_identity(), Some(&peer));
        let snapshot = known.snapshot();
        let restored = Session::restore(&snapshot).unwrap();
        assert_eq!(restored.peer_identity(), Some(&peer));
        assert_eq!(restored.snapshot(), snapshot);
        // Without key 4: no identity, and exactly the bytes of before (keys 1 to 3).
        let old = a.snapshot();
        assert_eq!(a.peer_identity(), None);
        let restored = Session::restore(&old).unwrap();
        assert_eq!(restored.peer_identity(), None);
        assert_eq!(restored.snapshot(), old);
        assert_eq!(
            with_key_4(&old, Value::from(&peer.as_bytes()[..])),
            snapshot.to_vec()
        );
        // Key 4 faults, each with its class.
        let class = |bytes: Vec<u8>| Session::restore(&bytes).unwrap_err().class();
        assert_eq!(
            class(with_key_4(&old, Value::from(&[0u8; 31][..]))),
            ErrorClass::SchemaLength
        );
        assert_eq!(
            class(with_key_4(&old, Value::uint(1))),
            ErrorClass::SchemaWrongType
        );
        let mut not_on_curve = [0u8; 32];
        not_on_curve[0] = 2;
        assert_eq!(
            class(with_key_4(&old, Value::from(&not_on_curve[..]))),
            ErrorClass::KeyInvalid
        );
        let mut identity_point = [0u8; 32];
        identity_point[0] = 1;
        assert_eq!(
            class(with_key_4(&old, Value::from(&identity_point[..]))),
            ErrorClass::KeyLowOrder
        );
        // Key 5 is still unknown.
        let Value::Map(mut map) = cbor::decode(&old, &LIMITS).unwrap() else {
            panic!("not a map")
        };
        map.insert(cbor::Int::uint(5), Value::uint(0));
        assert_eq!(
            class(cbor::encode(&Value::Map(map))),
            ErrorClass::SchemaUnknownCritical
        );
    }

    #[test]
    fn too_large_events_are_refused_before_anything_changes() {
        let (mut a, _, _, mut rng) = pair();
        let before = a.snapshot();
        let big = text(&"x".repeat(70_000), &mut rng);
        assert_eq!(
            a.seal(&big, &mut rng).unwrap_err().class(),
            ErrorClass::EnvelopeTooLarge
        );
        assert_eq!(a.snapshot(), before);
    }
}
