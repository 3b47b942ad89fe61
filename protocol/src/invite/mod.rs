//! Invites: the intentional way to make a contact.
//!
//! Specified in [`spec/04-contact-establishment.md`](../../spec/04-contact-establishment.md).
//! An invite is signed by the inviter's identity key and carries a one-time HPKE KEM key, a
//! signed ratchet key, relay hints, a bootstrap mailbox and an expiry. It travels as a QR
//! code or as a link whose whole payload sits in the URL fragment, which browsers never send
//! to a server. There is no directory and no contact discovery.
//!
//! ```
//! use quietwire::identity::DeviceKeys;
//! use quietwire::invite::{Invite, InviteParams, SignedInvite};
//! use quietwire::mailbox::MailboxKey;
//! use quietwire::suite::{Suite, SuitePolicy};
//! use quietwire::UnixTime;
//! # use rand_core::{TryRng, TryCryptoRng};
//! # struct Counter(u8);
//! # impl TryRng for Counter { type Error = core::convert::Infallible;
//! #   fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
//! #   fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
//! #   fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> {
//! #     for b in d { self.0 = self.0.wrapping_add(1); *b = self.0; } Ok(()) } }
//! # impl TryCryptoRng for Counter {}
//! # let mut rng = Counter(0); // use a real CSPRNG in applications
//! let device = DeviceKeys::generate(Suite::X25519, &mut rng);
//! let bootstrap = MailboxKey::generate(&mut rng); // keep it: the handshakes arrive there
//! let params = InviteParams {
//!     relay_hints: vec!["wss://relay.example".into()],
//!     mailbox: *bootstrap.id(),
//!     expires: UnixTime(1_800_000_000),
//!     single_use: true,
//! };
//! let (invite, _secrets) = Invite::create(device.identity(), Suite::X25519, params, &mut rng)?;
//! let link = invite.to_link("https://quietwire.invalid/invite")?;
//!
//! // The invitee parses the link and verifies it against its own clock reading.
//! let now = UnixTime(1_700_000_000);
//! let received = SignedInvite::from_link(&link, now, &SuitePolicy::ALL)?;
//! assert_eq!(received.invite().identity_key(), device.identity().public());
//! # Ok::<(), quietwire::Error>(())
//! ```

mod encoding;

pub use encoding::{LINK_PREFIX, MAX_LINK, QR_MAGIC};

use std::collections::BTreeMap;

use rand_core::CryptoRng;

use crate::UnixTime;
use crate::cbor::{self, Int, Limits, Value};
use crate::error::{ErrorClass, Result};
use crate::keys::{
    IdentityKey, IdentityKeyPair, KemPublicKey, KemSecret, X25519PublicKey, X25519Secret,
};
use crate::label::Label;
use crate::schema::{self, Fields};
use crate::suite::{Suite, SuitePolicy};

/// Maximum encoded size of a signed invite.
pub const MAX_INVITE: usize = 4096;
/// Maximum number of relay hints.
pub const MAX_RELAY_HINTS: usize = 4;
/// Maximum length in bytes of one relay hint.
pub const MAX_RELAY_HINT_LEN: usize = 256;

const LIMITS: Limits = Limits::DEFAULT.with_max_input(MAX_INVITE);

mod key {
    pub const SUITE: u64 = 2;
    pub const IDENTITY: u64 = 3;
    pub const KEM: u64 = 4;
    pub const RATCHET: u64 = 5;
    pub const RELAY_HINTS: u64 = 6;
    pub const MAILBOX: u64 = 7;
    pub const EXPIRES: u64 = 8;
    pub const SINGLE_USE: u64 = 9;
    pub const INVITE_ID: u64 = 10;
    pub const KNOWN: &[u64] = &[
        1,
        SUITE,
        IDENTITY,
        KEM,
        RATCHET,
        RELAY_HINTS,
        MAILBOX,
        EXPIRES,
        SINGLE_USE,
        INVITE_ID,
    ];
}

/// What the inviter chooses when creating an invite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteParams {
    /// One to four relay URLs (`wss://` or `ws://`) where the bootstrap mailbox lives.
    pub relay_hints: Vec<String>,
    /// The bootstrap mailbox id the invitee writes its first message to.
    pub mailbox: [u8; 32],
    /// When the invite stops being accepted.
    pub expires: UnixTime,
    /// Whether the invite may start only one session.
    pub single_use: bool,
}

/// The body of an invite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invite {
    suite: Suite,
    identity_key: IdentityKey,
    kem_key: KemPublicKey,
    ratchet_key: X25519PublicKey,
    relay_hints: Vec<String>,
    mailbox: [u8; 32],
    expires: UnixTime,
    single_use: bool,
    invite_id: [u8; 16],
    extensions: BTreeMap<Int, Value>,
}

/// The inviter's secrets for one invite: keep them until the invite expires or is used.
#[derive(Debug)]
pub struct InviteSecrets {
    /// The one-time KEM key pair.
    pub kem: KemSecret,
    /// The signed ratchet key pair.
    pub ratchet: X25519Secret,
}

impl Invite {
    /// Creates and signs an invite. Draws from `rng`, in this order: 16 bytes of invite id,
    /// 32 bytes of KEM seed, 32 bytes of ratchet secret.
    ///
    /// # Errors
    /// The relay hints are checked first, as an invitee checks them (**[INV-02]**), so that
    /// no invite is made that every invitee would refuse; nothing is drawn from `rng` then.
    /// `schema.length` for no hint or more than [`MAX_RELAY_HINTS`]; `invite.relay_hint`
    /// for a hint that [`is_valid_relay_hint`] refuses.
    pub fn create<R: CryptoRng + ?Sized>(
        identity: &IdentityKeyPair,
        suite: Suite,
        params: InviteParams,
        rng: &mut R,
    ) -> Result<(SignedInvite, InviteSecrets)> {
        let hints = &params.relay_hints;
        if hints.is_empty() || hints.len() > MAX_RELAY_HINTS {
            return Err(ErrorClass::SchemaLength.into());
        }
        if !hints.iter().all(|hint| is_valid_relay_hint(hint)) {
            return Err(ErrorClass::InviteRelayHint.into());
        }
        let mut invite_id = [0u8; 16];
        rng.fill_bytes(&mut invite_id);
        let kem = KemSecret::generate(suite, rng);
        let ratchet = X25519Secret::generate(rng);
        let invite = Invite {
            suite,
            identity_key: *identity.public(),
            kem_key: kem.public().clone(),
            ratchet_key: *ratchet.public(),
            relay_hints: params.relay_hints,
            mailbox: params.mailbox,
            expires: params.expires,
            single_use: params.single_use,
            invite_id,
            extensions: BTreeMap::new(),
        };
        Ok((
            SignedInvite::sign(invite, identity),
            InviteSecrets { kem, ratchet },
        ))
    }

    /// Adds a non-critical extension field (negative key); `None` for a non-negative key.
    pub fn with_extension(mut self, key: Int, value: Value) -> Option<Invite> {
        if !key.is_negative() {
            return None;
        }
        self.extensions.insert(key, value);
        Some(self)
    }

    /// The suite every later step of the contact uses.
    pub const fn suite(&self) -> Suite {
        self.suite
    }
    /// The inviter's identity key.
    pub const fn identity_key(&self) -> &IdentityKey {
        &self.identity_key
    }
    /// The one-time HPKE KEM public key.
    pub const fn kem_key(&self) -> &KemPublicKey {
        &self.kem_key
    }
    /// The signed X25519 ratchet public key.
    pub const fn ratchet_key(&self) -> &X25519PublicKey {
        &self.ratchet_key
    }
    /// Relay URLs where the bootstrap mailbox can be reached.
    pub fn relay_hints(&self) -> &[String] {
        &self.relay_hints
    }
    /// The bootstrap mailbox id.
    pub const fn mailbox(&self) -> &[u8; 32] {
        &self.mailbox
    }
    /// The expiry.
    pub const fn expires(&self) -> UnixTime {
        self.expires
    }
    /// Whether the invite may start only one session.
    pub const fn single_use(&self) -> bool {
        self.single_use
    }
    /// The random invite id.
    pub const fn invite_id(&self) -> &[u8; 16] {
        &self.invite_id
    }
    /// Extension fields this implementation does not interpret.
    pub const fn extensions(&self) -> &BTreeMap<Int, Value> {
        &self.extensions
    }

    fn to_body(&self) -> Vec<u8> {
        let hints = self
            .relay_hints
            .iter()
            .map(|h| Value::from(h.as_str()))
            .collect();
        let fields = vec![
            (key::SUITE, Value::uint(self.suite.id())),
            (
                key::IDENTITY,
                Value::from(&self.identity_key.as_bytes()[..]),
            ),
            (key::KEM, Value::from(self.kem_key.as_bytes())),
            (key::RATCHET, Value::from(&self.ratchet_key.as_bytes()[..])),
            (key::RELAY_HINTS, Value::Array(hints)),
            (key::MAILBOX, Value::from(&self.mailbox[..])),
            (key::EXPIRES, Value::uint(self.expires.as_secs())),
            (key::SINGLE_USE, Value::Bool(self.single_use)),
            (key::INVITE_ID, Value::from(&self.invite_id[..])),
        ];
        cbor::encode(&schema::build_map(fields, &self.extensions))
    }

    fn from_body(body: &[u8], policy: &SuitePolicy) -> Result<Invite> {
        let mut fields = Fields::new(cbor::decode(body, &LIMITS)?, key::KNOWN)?;
        let suite_id = fields.uint(key::SUITE)?;
        let identity = fields.bytes_exact::<32>(key::IDENTITY)?;
        let kem = fields.bytes(key::KEM)?;
        let ratchet = fields.bytes_exact::<32>(key::RATCHET)?;
        let hints = fields.array(key::RELAY_HINTS)?;
        let mailbox = fields.bytes_exact::<32>(key::MAILBOX)?;
        let expires = UnixTime(fields.uint(key::EXPIRES)?);
        let single_use = fields.bool(key::SINGLE_USE)?;
        let invite_id = fields.bytes_exact::<16>(key::INVITE_ID)?;
        if hints.is_empty() || hints.len() > MAX_RELAY_HINTS {
            return Err(ErrorClass::SchemaLength.into());
        }
        let relay_hints = hints
            .into_iter()
            .map(|hint| match hint {
                Value::Text(text) => Ok(text),
                _ => Err(ErrorClass::SchemaWrongType.into()),
            })
            .collect::<Result<Vec<String>>>()?;

        let suite = policy.check(suite_id)?;
        if kem.len() != suite.kem_public_key_len() {
            return Err(ErrorClass::SchemaLength.into());
        }
        let identity_key = IdentityKey::from_bytes(&identity)?;
        let kem_key = KemPublicKey::from_bytes(suite, &kem)?;
        let ratchet_key = X25519PublicKey::from_bytes(&ratchet)?;
        if !relay_hints.iter().all(|hint| is_valid_relay_hint(hint)) {
            return Err(ErrorClass::InviteRelayHint.into());
        }
        Ok(Invite {
            suite,
            identity_key,
            kem_key,
            ratchet_key,
            relay_hints,
            mailbox,
            expires,
            single_use,
            invite_id,
            extensions: fields.into_extensions(),
        })
    }
}

/// Whether a relay hint has the shape the spec allows: at most 256 bytes, `wss://` or `ws://`
/// followed by at least one character, and no whitespace or control characters.
pub fn is_valid_relay_hint(hint: &str) -> bool {
    let rest = hint
        .strip_prefix("wss://")
        .or_else(|| hint.strip_prefix("ws://"));
    hint.len() <= MAX_RELAY_HINT_LEN
        && rest.is_some_and(|rest| !rest.is_empty())
        && !hint.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An invite with its identity signature.
///
/// Obtained either by [`Invite::create`] or by one of the verifying decoders, which check
/// the signature and the expiry; holding a `SignedInvite` means both checks passed (for the
/// `now` given at decoding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedInvite {
    invite: Invite,
    body: Vec<u8>,
    signature: [u8; 64],
}

impl SignedInvite {
    /// Signs `invite` with `identity`, which must hold the invite's identity key.
    pub fn sign(invite: Invite, identity: &IdentityKeyPair) -> SignedInvite {
        let body = invite.to_body();
        let signature = identity.sign(Label::Invite, &body);
        SignedInvite {
            invite,
            body,
            signature,
        }
    }

    /// Decodes and verifies an invite at time `now`.
    ///
    /// Checks, in the spec's order: size and canonical CBOR, schema, suite against
    /// `policy`, keys, relay hints, signature, and finally that `now` is before the expiry.
    ///
    /// # Errors
    /// The class of the first failed check.
    pub fn from_bytes(bytes: &[u8], now: UnixTime, policy: &SuitePolicy) -> Result<SignedInvite> {
        let (body, signature) = schema::split_signed(cbor::decode(bytes, &LIMITS)?)?;
        let invite = Invite::from_body(&body, policy)?;
        invite
            .identity_key
            .verify(Label::Invite, &body, &signature)?;
        if now >= invite.expires {
            return Err(ErrorClass::InviteExpired.into());
        }
        Ok(SignedInvite {
            invite,
            body,
            signature,
        })
    }

    /// The verified invite.
    pub const fn invite(&self) -> &Invite {
        &self.invite
    }

    /// The body bytes the signature covers.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The encoding `[body, signature]`.
    pub fn to_bytes(&self) -> Vec<u8> {
        schema::signed(&self.body, &self.signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite(hints: Vec<String>) -> (SignedInvite, IdentityKeyPair) {
        let identity = IdentityKeyPair::from_seed(&[4; 32]);
        let kem = KemSecret::from_seed(Suite::X25519, &[5; 32]);
        let ratchet = X25519Secret::from_bytes(&[6; 32]);
        let invite = Invite {
            suite: Suite::X25519,
            identity_key: *identity.public(),
            kem_key: kem.public().clone(),
            ratchet_key: *ratchet.public(),
            relay_hints: hints,
            mailbox: [7; 32],
            expires: UnixTime(1000),
            single_use: true,
            invite_id: [8; 16],
            extensions: BTreeMap::new(),
        };
        (SignedInvite::sign(invite, &identity), identity)
    }

    fn class(bytes: &[u8], now: u64) -> ErrorClass {
        match SignedInvite::from_bytes(bytes, UnixTime(now), &SuitePolicy::ALL) {
            Ok(_) => panic!("accepted"),
            Err(e) => e.class(),
        }
    }

    #[test]
    fn verifies_round_trips_and_expires() {
        let (signed, _) = invite(vec!["wss://relay.example".into()]);
        let bytes = signed.to_bytes();
        let decoded = SignedInvite::from_bytes(&bytes, UnixTime(999), &SuitePolicy::ALL).unwrap();
        assert_eq!(decoded, signed);
        assert_eq!(decoded.to_bytes(), bytes);
        assert_eq!(class(&bytes, 1000), ErrorClass::InviteExpired);
        let only_xwing = SuitePolicy::only(&[Suite::XWing]);
        let err = SignedInvite::from_bytes(&bytes, UnixTime(0), &only_xwing).unwrap_err();
        assert_eq!(err.class(), ErrorClass::SuiteDisallowed);
    }

    #[test]
    fn rejects_bad_hints_and_signatures() {
        for hint in ["https://relay.example", "wss://", "wss://a b", ""] {
            let (signed, _) = invite(vec![hint.into()]);
            assert_eq!(
                class(&signed.to_bytes(), 0),
                ErrorClass::InviteRelayHint,
                "{hint:?}"
            );
        }
        let (signed, _) = invite(vec![]);
        assert_eq!(class(&signed.to_bytes(), 0), ErrorClass::SchemaLength);
        let (signed, _) = invite(vec!["ws://127.0.0.1:1".into()]);
        let mut bytes = signed.to_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(class(&bytes, 0), ErrorClass::IdentitySignature);
    }

    /// Fails the test if anything is drawn.
    struct NoDraw;
    impl rand_core::TryRng for NoDraw {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
            panic!("drawn")
        }
        fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
            panic!("drawn")
        }
        fn try_fill_bytes(&mut self, _: &mut [u8]) -> core::result::Result<(), Self::Error> {
            panic!("drawn")
        }
    }
    impl rand_core::TryCryptoRng for NoDraw {}

    #[test]
    fn create_refuses_hints_an_invitee_refuses() {
        let identity = IdentityKeyPair::from_seed(&[4; 32]);
        let create = |hints: &[&str]| {
            let params = InviteParams {
                relay_hints: hints.iter().map(|h| (*h).to_owned()).collect(),
                mailbox: [7; 32],
                expires: UnixTime(1000),
                single_use: true,
            };
            Invite::create(&identity, Suite::X25519, params, &mut NoDraw).map(|_| ())
        };
        let too_long = format!("wss://{}", "a".repeat(251));
        for hint in [
            "https://relay.example",
            "wss://",
            "wss://a b",
            "wss://relay.example\n",
            "WSS://relay.example",
            "",
            too_long.as_str(),
        ] {
            let err = create(&["wss://good.example", hint]).unwrap_err();
            assert_eq!(err.class(), ErrorClass::InviteRelayHint, "{hint:?}");
            // The same hint in an invite made without the check: the invitee refuses it so.
            let (signed, _) = invite(vec![hint.into()]);
            assert_eq!(class(&signed.to_bytes(), 0), err.class(), "{hint:?}");
        }
        assert_eq!(create(&[]).unwrap_err().class(), ErrorClass::SchemaLength);
        let five = ["wss://a", "wss://b", "wss://c", "wss://d", "wss://e"];
        assert_eq!(create(&five).unwrap_err().class(), ErrorClass::SchemaLength);
    }

    #[test]
    fn to_link_refuses_links_an_invitee_refuses() {
        let (signed, _) = invite(vec!["wss://relay.example".into()]);
        for base in [
            "https://quietwire.invalid/invite",
            "https://x",
            "quietwire:invite",
        ] {
            let link = signed.to_link(base).unwrap();
            assert_eq!(
                SignedInvite::from_link(&link, UnixTime(0), &SuitePolicy::ALL).unwrap(),
                signed
            );
        }
        let long = format!("https://{}", "a".repeat(MAX_LINK));
        for (base, expected) in [
            ("", ErrorClass::LinkFormat),
            ("http://quietwire.invalid/invite", ErrorClass::LinkFormat),
            ("HTTPS://quietwire.invalid/invite", ErrorClass::LinkFormat),
            ("https://", ErrorClass::LinkFormat),
            ("https://x/invite?a=b", ErrorClass::LinkFormat),
            ("https://x/invite#", ErrorClass::LinkFormat),
            ("quietwire:contact", ErrorClass::LinkFormat),
            (long.as_str(), ErrorClass::LinkLength),
        ] {
            assert_eq!(
                signed.to_link(base).unwrap_err().class(),
                expected,
                "{base:?}"
            );
            // What the invitee's parser says of the link an unchecked encoder would write.
            let unchecked = format!(
                "{base}#{LINK_PREFIX}{}",
                base64::Engine::encode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    signed.to_bytes()
                )
            );
            let parsed = SignedInvite::from_link(&unchecked, UnixTime(0), &SuitePolicy::ALL);
            assert_eq!(parsed.unwrap_err().class(), expected, "{base:?}");
        }
    }
}
