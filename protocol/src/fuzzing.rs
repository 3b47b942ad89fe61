//! Invariant checks shared by the cargo-fuzz targets in `fuzz/` and the corpus replay test.
//!
//! Compiled only with the `fuzzing` feature. Each function takes arbitrary bytes, runs one
//! decoder on them and **panics** when an invariant breaks, which is how a fuzzer reports
//! a finding. The invariants, for every decoder:
//!
//! - no panic, whatever the input (the decoders themselves never panic; these checks do);
//! - an accepted input re-encodes to exactly the bytes received (spec `ENC-10`), so there
//!   is one encoding per value and nothing is lost or invented in between;
//! - a re-encoded value decodes to the same value;
//! - every error carries a class from the closed registry, named the same way both ways.
//!
//! The functions return whether the input was accepted, so a replay can count coverage.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use crate::cbor::{self, Limits};
use crate::did_key;
use crate::handshake::PendingInvite;
use crate::identity::SignedDeviceRecord;
use crate::invite::SignedInvite;
use crate::invite::{Invite, InviteParams};
use crate::keys::IdentityKeyPair;
use crate::keys::X25519Secret;
use crate::ratchet::Ratchet;
use crate::safety::SafetyQr;
use crate::suite::Suite;
use crate::suite::SuitePolicy;
use crate::{Error, ErrorClass, UnixTime};

/// The `now` used by the invite targets: before every expiry but zero.
pub const FUZZ_NOW: UnixTime = UnixTime(0);

/// The base a fuzzed link is re-encoded with when its own base is not kept.
const LINK_BASE: &str = "https://quietwire.invalid/invite";

fn check_class(error: &Error) {
    let class = error.class();
    assert_eq!(
        ErrorClass::from_name(class.as_str()),
        Some(class),
        "class {class:?} does not round trip"
    );
}

/// Generic canonical CBOR: decode with the default limits; an accepted item re-encodes to
/// the input byte for byte and decodes again to the same value.
pub fn cbor_value(data: &[u8]) -> bool {
    match cbor::decode(data, &Limits::DEFAULT) {
        Ok(value) => {
            let encoded = cbor::encode(&value);
            assert_eq!(encoded, data, "decode -> encode is not the identity");
            assert_eq!(
                cbor::decode(&encoded, &Limits::DEFAULT).as_ref(),
                Ok(&value)
            );
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Signed device records: accepted bytes re-encode exactly, the body is the signed body,
/// and a record accepted under every suite is refused or accepted consistently under a
/// policy that excludes its own suite.
pub fn device_record(data: &[u8]) -> bool {
    match SignedDeviceRecord::from_bytes(data, &SuitePolicy::ALL) {
        Ok(record) => {
            assert_eq!(
                record.to_bytes(),
                data,
                "device record does not re-encode to its input"
            );
            let again =
                SignedDeviceRecord::from_bytes(&record.to_bytes(), &SuitePolicy::ALL).unwrap();
            assert_eq!(again.record(), record.record());
            assert_eq!(again.body(), record.body());
            let suite = record.record().suite();
            let others: Vec<_> = crate::suite::Suite::ALL
                .into_iter()
                .filter(|s| *s != suite)
                .collect();
            let refused =
                SignedDeviceRecord::from_bytes(data, &SuitePolicy::only(&others)).unwrap_err();
            assert_eq!(refused.class(), ErrorClass::SuiteDisallowed);
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Signed invites at [`FUZZ_NOW`]: accepted bytes re-encode exactly; the same invite is
/// expired exactly at its expiry and valid one second before; its QR and link forms parse
/// back to the same invite.
pub fn invite(data: &[u8]) -> bool {
    match SignedInvite::from_bytes(data, FUZZ_NOW, &SuitePolicy::ALL) {
        Ok(invite) => {
            assert_eq!(
                invite.to_bytes(),
                data,
                "invite does not re-encode to its input"
            );
            let expires = invite.invite().expires();
            let at_expiry = SignedInvite::from_bytes(data, expires, &SuitePolicy::ALL).unwrap_err();
            assert_eq!(at_expiry.class(), ErrorClass::InviteExpired);
            let before = UnixTime(expires.0.saturating_sub(1));
            assert!(SignedInvite::from_bytes(data, before, &SuitePolicy::ALL).is_ok());
            let from_qr =
                SignedInvite::from_qr(&invite.to_qr(), FUZZ_NOW, &SuitePolicy::ALL).unwrap();
            assert_eq!(from_qr, invite);
            let from_link =
                SignedInvite::from_link(&invite.to_link(LINK_BASE), FUZZ_NOW, &SuitePolicy::ALL)
                    .unwrap();
            assert_eq!(from_link, invite);
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Invite links: an accepted link is reproduced exactly from its base and invite.
pub fn invite_link(data: &[u8]) -> bool {
    let Ok(link) = core::str::from_utf8(data) else {
        return false;
    };
    match SignedInvite::from_link(link, FUZZ_NOW, &SuitePolicy::ALL) {
        Ok(invite) => {
            let (base, _) = link.split_once('#').unwrap();
            assert_eq!(
                invite.to_link(base),
                link,
                "link does not re-encode to its input"
            );
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Invite QR payloads: an accepted payload re-encodes exactly.
pub fn invite_qr(data: &[u8]) -> bool {
    match SignedInvite::from_qr(data, FUZZ_NOW, &SuitePolicy::ALL) {
        Ok(invite) => {
            assert_eq!(
                invite.to_qr(),
                data,
                "QR payload does not re-encode to its input"
            );
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// `did:key` strings: an accepted string is the one canonical encoding of its key.
pub fn did_key(data: &[u8]) -> bool {
    let Ok(text) = core::str::from_utf8(data) else {
        return false;
    };
    match did_key::decode(text) {
        Ok(key) => {
            assert_eq!(did_key::encode(&key), text, "did:key is not canonical");
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Safety-code QR payloads: the map is canonical (checked through the CBOR layer), and the
/// decoded pair re-encodes to a payload that decodes to the same pair. Extensions are
/// dropped on re-encoding, so the payload itself is compared only when it has none.
pub fn safety_qr(data: &[u8]) -> bool {
    match SafetyQr::from_bytes(data) {
        Ok(qr) => {
            let body = data.strip_prefix(b"QWS1").unwrap();
            assert_eq!(
                cbor::encode(&cbor::decode(body, &Limits::DEFAULT).unwrap()),
                body
            );
            let encoded = qr.to_bytes();
            assert_eq!(SafetyQr::from_bytes(&encoded), Ok(qr));
            if encoded.len() == data.len() {
                assert_eq!(encoded, data);
            }
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Ratchet snapshots: an accepted snapshot re-encodes to exactly its input.
pub fn ratchet_snapshot(data: &[u8]) -> bool {
    match Ratchet::from_snapshot(data) {
        Ok(ratchet) => {
            assert_eq!(
                ratchet.snapshot().as_slice(),
                data,
                "snapshot does not round trip"
            );
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Deterministic randomness for the session target: SHA-256 in counter mode.
struct FuzzRng(u64);

impl rand_core::TryRng for FuzzRng {
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
        use sha2::Digest;
        for chunk in dst.chunks_mut(32) {
            self.0 += 1;
            let block = sha2::Sha256::digest(self.0.to_le_bytes());
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for FuzzRng {}

/// A two-party session driven by the input: each byte pair is one action (send from
/// either side, deliver, duplicate, drop, or deliver a copy with one bit flipped) on the
/// messages in flight. Invariants: every message opens at most once and its first
/// delivery succeeds with its plaintext; a failed decryption (duplicate, tampered)
/// leaves the receiver's snapshot unchanged; every error class is registered.
pub fn ratchet_session(data: &[u8]) -> bool {
    struct InFlight {
        to: usize,
        id: usize,
        wire: Vec<u8>,
    }
    let mut rng = FuzzRng(0);
    let responder_key = X25519Secret::from_bytes(&[7; 32]);
    let mut sides = [
        Ratchet::initiator(&[1; 32], *responder_key.public(), &[2; 32]),
        Ratchet::responder(&[1; 32], responder_key, &[2; 32]),
    ];
    let mut in_flight: Vec<InFlight> = Vec::new();
    let mut opened: Vec<bool> = Vec::new();
    for pair in data.chunks(2) {
        let op = pair.first().copied().unwrap_or(0);
        let arg = usize::from(pair.get(1).copied().unwrap_or(0));
        match op % 6 {
            0 | 1 => {
                let from = usize::from(op % 2);
                if sides[from].can_send() {
                    let id = opened.len();
                    let wire = sides[from].encrypt(&id.to_le_bytes(), &mut rng).unwrap();
                    opened.push(false);
                    in_flight.push(InFlight {
                        to: 1 - from,
                        id,
                        wire,
                    });
                }
            }
            2..=4 if !in_flight.is_empty() => {
                let index = arg % in_flight.len();
                let duplicate = op % 6 == 3;
                let tamper = op % 6 == 4;
                let message = if duplicate || tamper {
                    let m = &in_flight[index];
                    let mut wire = m.wire.clone();
                    if tamper {
                        let bit = usize::from(op / 6) * 256 + arg;
                        let at = (bit / 8) % wire.len();
                        wire[at] ^= 1 << (bit % 8);
                    }
                    InFlight {
                        to: m.to,
                        id: m.id,
                        wire,
                    }
                } else {
                    in_flight.remove(index)
                };
                let receiver = &mut sides[message.to];
                let before = receiver.snapshot();
                match receiver.decrypt(&message.wire) {
                    Ok(plaintext) => {
                        assert!(!tamper, "a tampered message opened");
                        assert!(!opened[message.id], "message {} opened twice", message.id);
                        assert_eq!(plaintext, message.id.to_le_bytes());
                        opened[message.id] = true;
                    }
                    Err(e) => {
                        check_class(&e);
                        assert!(tamper || opened[message.id], "first delivery failed: {e:?}");
                        assert_eq!(receiver.snapshot(), before, "failure changed state");
                    }
                }
            }
            5 if !in_flight.is_empty() => {
                let index = arg % in_flight.len();
                in_flight.remove(index);
            }
            _ => {}
        }
    }
    opened.iter().any(|o| *o)
}

/// 32 bytes named like the test vectors' seeds: SHA-256("quietwire test vectors v1/" ‖ name).
fn vector_seed(name: &str) -> [u8; 32] {
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
    let (invite, secrets) = Invite::create(&identity, Suite::X25519, params, &mut rng);
    PendingInvite::new(invite, secrets)
}

/// The inviter's side of a handshake: a fresh reusable invite accepts the input as a
/// handshake message. Invariants: a refusal changes nothing and carries a registered class;
/// an accepted handshake is counted once, is refused as a replay the second time, and its
/// responder's snapshot round-trips.
pub fn handshake_accept(data: &[u8]) -> bool {
    let mut pending = handshake_inviter();
    match pending.accept(data, HANDSHAKE_NOW, &SuitePolicy::ALL) {
        Ok(accepted) => {
            assert_eq!(pending.accepted(), 1);
            let snapshot = accepted.ratchet.snapshot();
            let restored = Ratchet::from_snapshot(&snapshot).unwrap();
            assert_eq!(restored.snapshot(), snapshot);
            let again = pending.accept(data, HANDSHAKE_NOW, &SuitePolicy::ALL);
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
    use crate::handshake::{initiate, reconnect};
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
            initiate(&opened.invite, &contact, 0, [0; 32], &mut rng).unwrap();
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

/// Envelopes and padding: an accepted envelope re-encodes to the input and its blob is a
/// bucket; independently, padding removal either fails with `envelope.padding` or finds
/// content that, followed by `0x80` and zeros, is exactly the input.
pub fn envelope(data: &[u8]) -> bool {
    use crate::envelope::{self as env, Envelope};
    if let Ok(content) = env::unpad(data) {
        assert_eq!(data.get(content.len()), Some(&0x80));
        assert!(data.iter().skip(content.len() + 1).all(|b| *b == 0));
    }
    match Envelope::from_bytes(data) {
        Ok(decoded) => {
            assert_eq!(
                decoded.to_bytes(),
                data,
                "decode -> encode is not the identity"
            );
            assert!(env::is_bucket(decoded.blob().len()));
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Events: an accepted event re-encodes to exactly the input and decodes again to the same
/// event; a refusal carries a registered class.
pub fn event(data: &[u8]) -> bool {
    use crate::event::Event;
    match Event::from_bytes(data) {
        Ok(decoded) => {
            let encoded = decoded.to_bytes().unwrap();
            assert_eq!(encoded, data, "decode -> encode is not the identity");
            assert_eq!(Event::from_bytes(&encoded).unwrap(), decoded);
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// The relay origin of the vectors (`mailbox.json`, `relay.json`).
pub const VECTOR_ORIGIN: &str = "wss://relay.example";

/// [`VECTOR_ORIGIN`] as a [`RelayOrigin`](crate::mailbox::RelayOrigin).
pub fn vector_origin() -> crate::mailbox::RelayOrigin {
    crate::mailbox::RelayOrigin::from_canonical_const(VECTOR_ORIGIN)
}

/// Mailbox proofs, checked for the mailbox, challenge and origin of the `mailbox-verify`
/// vectors (rebuilt from the same named seeds) and the fetch operation. Invariants: a refusal
/// carries a registered class; an accepted proof is refused for every other operation and
/// for another challenge (`mailbox.proof`), and by a relay of another origin
/// (`mailbox.origin`).
pub fn mailbox_proof(data: &[u8]) -> bool {
    use crate::mailbox::{self, MailboxKey, Operation, RelayOrigin};
    let key = MailboxKey::from_seed(&vector_seed("mailbox/verify/seed"));
    let challenge = vector_seed("mailbox/verify/challenge");
    let origins = [vector_origin()];
    match mailbox::verify(key.id(), &challenge, &origins, Operation::Fetch, data) {
        Ok(()) => {
            for op in [Operation::Delete, Operation::Subscribe] {
                let other = mailbox::verify(key.id(), &challenge, &origins, op, data);
                assert_eq!(other.unwrap_err().class(), ErrorClass::MailboxProof);
            }
            let other = mailbox::verify(key.id(), &[0; 32], &origins, Operation::Fetch, data);
            assert_eq!(other.unwrap_err().class(), ErrorClass::MailboxProof);
            let elsewhere = RelayOrigin::parse("wss://other.example").map(|o| [o]);
            if let Ok(elsewhere) = elsewhere {
                let other =
                    mailbox::verify(key.id(), &challenge, &elsewhere, Operation::Fetch, data);
                assert_eq!(other.unwrap_err().class(), ErrorClass::MailboxOrigin);
            }
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Relay frames in both directions. A request the relay decodes (with the default limits)
/// re-encodes to exactly the input and decodes again to the same request; a refusal carries a
/// registered class. A frame a client decodes (at the largest announceable size) re-encodes to
/// exactly the input, except a welcome announcing limits the client ignores (then the
/// re-encoding, without them, decodes to the same frame).
pub fn relay_request(data: &[u8]) -> bool {
    use crate::relay::limits::MAX_ANNOUNCED_FRAME;
    use crate::relay::{Limits, RequestFrame, ServerFrame};
    let request = match RequestFrame::decode(data, &Limits::DEFAULT) {
        Ok(request) => {
            let encoded = request.encode();
            assert_eq!(
                encoded, data,
                "request decode -> encode is not the identity"
            );
            assert_eq!(
                RequestFrame::decode(&encoded, &Limits::DEFAULT).unwrap(),
                request
            );
            true
        }
        Err(e) => {
            check_class(&e.error);
            false
        }
    };
    let frame = match ServerFrame::decode(data, MAX_ANNOUNCED_FRAME) {
        Ok(frame) => {
            let encoded = frame.encode();
            assert_eq!(
                ServerFrame::decode(&encoded, MAX_ANNOUNCED_FRAME).unwrap(),
                frame
            );
            let ignored_limits = match (
                &frame,
                cbor::decode(data, &cbor::Limits::DEFAULT.with_max_input(data.len())),
            ) {
                (ServerFrame::Welcome { .. }, Ok(cbor::Value::Map(map))) => !matches!(
                    map.get(&cbor::Int::uint(5)),
                    Some(cbor::Value::Map(limits)) if limits.len() == 10
                ),
                _ => false,
            };
            if !ignored_limits {
                assert_eq!(encoded, data, "frame decode -> encode is not the identity");
            }
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    };
    request || frame
}

/// The limits of the `relay_core` target: small, so that every limit is reached in a few
/// frames.
pub const RELAY_LIMITS: crate::relay::Limits = crate::relay::Limits {
    max_frame: 4096,
    max_envelope: 2048,
    max_attachment: 2048,
    max_items: 3,
    max_ttl: 7200,
    max_fetch: 2,
    max_delete: 4,
    rate: 2,
    burst: 4,
    max_subscriptions: 2,
};

/// When the `relay_core` connection opens: the `T0` of `test-vectors/v1/relay.json`.
pub const RELAY_T0: u64 = 1_800_001_000;

/// One frame of a `relay_core` input and the time that passes before it.
#[derive(Clone, Copy, Debug)]
pub struct RelayRecord<'a> {
    /// Seconds to advance the wall clock, a multiple of 1800 up to 12600.
    pub seconds: u64,
    /// Milliseconds to advance the monotonic clock, a multiple of 125 up to 1875.
    pub millis: u64,
    /// Whether the store fails during this frame.
    pub store_unavailable: bool,
    /// The frame.
    pub frame: &'a [u8],
}

/// Splits a `relay_core` input into records: a tag byte (bits 0-3: milliseconds / 125;
/// bits 4-6: seconds / 1800; bit 7: the store fails), a big-endian 16-bit length and that
/// many bytes of frame (fewer at the end of the input).
pub fn relay_records(data: &[u8]) -> Vec<RelayRecord<'_>> {
    let mut records = Vec::new();
    let mut rest = data;
    while let Some((&tag, tail)) = rest.split_first() {
        let len = match tail {
            [hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
            _ => 0,
        };
        let body = tail.get(2..).unwrap_or_default();
        let (frame, after) = body.split_at(len.min(body.len()));
        records.push(RelayRecord {
            seconds: u64::from((tag >> 4) & 7) * 1800,
            millis: u64::from(tag & 0x0f) * 125,
            store_unavailable: tag & 0x80 != 0,
            frame,
        });
        rest = after;
    }
    records
}

/// The `relay_core` input of a scripted connection of `relay.json`: each step as
/// `(seconds, millis, store unavailable, request)`, its times relative to the step before (the
/// first to the connection's opening), rounded up to the record's units and capped at their
/// largest. `fuzz/seed-corpus.py` writes the same bytes.
pub fn relay_input(steps: &[(u64, u64, bool, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (seconds, millis, unavailable, frame) in steps {
        let s = seconds.div_ceil(1800).min(7) as u8;
        let m = millis.div_ceil(125).min(15) as u8;
        out.push(s << 4 | m | if *unavailable { 0x80 } else { 0 });
        let len = u16::try_from(frame.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&frame[..usize::from(len)]);
    }
    out
}

/// One relay connection ([`RELAY_LIMITS`], the challenge of `relay.json`, opened at
/// [`RELAY_T0`]) over a memory store, fed the frames of [`relay_records`] with advancing time.
/// Invariants: every reply until the connection closes is one ok or error frame that decodes
/// with the announced `max_frame`, re-encodes exactly, and echoes the request id when the
/// request got that far; an ok answers the request's operation and only decodable requests;
/// an error carries the registered class the core reports and closes exactly for the
/// malformed frames other than unknown operations; after a closing reply every reply is
/// empty; a wake follows only a stored put, for its mailbox; a fetch returns only items that
/// were acknowledged in that mailbox with those bytes, unexpired, with expiries on the hour,
/// at most `max` of them; a blob comes back as put; and no mailbox ever holds more than
/// `max_items` unexpired items.
pub fn relay_core(data: &[u8]) -> bool {
    use std::collections::{BTreeMap, BTreeSet};

    use crate::relay::{
        Connection, ItemId, Now, Reply, Request, RequestFrame, ServerFrame, blob_id,
    };
    let limits = RELAY_LIMITS;
    let max_frame = u64::from(limits.max_frame);
    let mut now = Now {
        unix: UnixTime(RELAY_T0),
        millis: 0,
    };
    let store = crate::relay::MemoryStore::new();
    let origins = vec![vector_origin()];
    let mut conn = Connection::new(limits, origins, vector_seed("relay/challenge"), now);
    assert!(matches!(
        ServerFrame::decode(&conn.welcome(), max_frame),
        Ok(ServerFrame::Welcome { limits: l, .. }) if l == limits
    ));
    let mut acknowledged: BTreeMap<([u8; 32], ItemId), Vec<u8>> = BTreeMap::new();
    let mut blobs: BTreeMap<[u8; 32], Vec<u8>> = BTreeMap::new();
    let mut mailboxes: BTreeSet<[u8; 32]> = BTreeSet::new();
    let mut closed = false;
    let mut any_ok = false;
    for record in relay_records(data) {
        now.unix = now.unix.saturating_add(record.seconds);
        now.millis += record.millis;
        let decoded = RequestFrame::decode(record.frame, &limits);
        store.set_unavailable(record.store_unavailable);
        let handled = conn.handle(record.frame, &store, now);
        store.set_unavailable(false);
        if closed {
            assert!(
                handled.reply.is_empty(),
                "a reply after the connection closed"
            );
            assert!(handled.close && handled.error.is_none() && handled.wake.is_none());
            continue;
        }
        let reply = ServerFrame::decode(&handled.reply, max_frame).expect("the reply decodes");
        assert_eq!(reply.encode(), handled.reply, "the reply is not canonical");
        let echo = match &decoded {
            Ok(r) => r.id,
            Err(e) => e.id.unwrap_or(0),
        };
        match &reply {
            ServerFrame::Ok { id, reply } => {
                any_ok = true;
                assert_eq!(*id, echo, "the reply does not echo the request id");
                assert!(handled.error.is_none() && !handled.close);
                let request = &decoded
                    .as_ref()
                    .expect("ok for a malformed request")
                    .request;
                assert_eq!(reply.op(), request.op());
                if let Some(woken) = handled.wake {
                    assert!(matches!(request, Request::Put { mailbox, .. } if *mailbox == woken));
                }
                match (request, reply) {
                    (
                        Request::Put {
                            mailbox,
                            item,
                            envelope,
                            ..
                        },
                        _,
                    ) => {
                        acknowledged.insert((*mailbox, *item), envelope.clone());
                        mailboxes.insert(*mailbox);
                    }
                    (Request::Fetch { mailbox, max, .. }, Reply::Items { items, .. }) => {
                        assert!(items.len() <= max.unwrap_or(limits.max_fetch) as usize);
                        for item in items {
                            assert_eq!(
                                acknowledged.get(&(*mailbox, item.id)),
                                Some(&item.envelope),
                                "a fetch returned an item that was not put"
                            );
                            assert!(item.expires > now.unix.as_secs(), "an expired item");
                            assert_eq!(item.expires % crate::relay::core::EXPIRY_GRANULARITY, 0);
                        }
                    }
                    (Request::Delete { items, .. }, Reply::Deleted { count }) => {
                        assert!(*count as usize <= items.len());
                    }
                    (Request::BlobPut { blob, .. }, Reply::BlobStored { blob_id: id }) => {
                        assert_eq!(*id, blob_id(blob));
                        blobs.insert(*id, blob.clone());
                    }
                    (Request::BlobGet { blob_id }, Reply::Blob { blob }) => {
                        assert_eq!(blobs.get(blob_id), Some(blob), "a blob that was not put");
                    }
                    _ => {}
                }
            }
            ServerFrame::Error { id, class, closing } => {
                assert_eq!(*id, echo, "the error does not echo the request id");
                assert_eq!(Some(class.as_str()), handled.error.map(ErrorClass::as_str));
                assert!(
                    ErrorClass::from_name(class).is_some(),
                    "unregistered class {class}"
                );
                assert_eq!(*closing, handled.close);
                let malformed = decoded
                    .as_ref()
                    .is_err_and(|e| e.error.class() != ErrorClass::RelayOperation);
                assert_eq!(handled.close, malformed, "closing for {class}");
                assert!(handled.wake.is_none(), "a failed request woke a mailbox");
                closed = handled.close;
            }
            other => panic!("an answer that is not ok or error: {other:?}"),
        }
        for mailbox in &mailboxes {
            let live = store
                .items(mailbox)
                .iter()
                .filter(|i| i.expires > now.unix.as_secs())
                .count();
            assert!(
                live <= limits.max_items as usize,
                "{live} items in a mailbox"
            );
        }
    }
    any_ok
}

/// An invariant check: runs one decoder on the input, returns whether it was accepted.
pub type Check = fn(&[u8]) -> bool;

/// Every target, by the name of its file under `fuzz/fuzz_targets/`.
pub const TARGETS: &[(&str, Check)] = &[
    ("cbor_value", cbor_value),
    ("device_record", device_record),
    ("invite", invite),
    ("invite_link", invite_link),
    ("invite_qr", invite_qr),
    ("did_key", did_key),
    ("safety_qr", safety_qr),
    ("ratchet_snapshot", ratchet_snapshot),
    ("ratchet_session", ratchet_session),
    ("handshake_accept", handshake_accept),
    ("reconnect_open", reconnect_open),
    ("envelope", envelope),
    ("event", event),
    ("mailbox_proof", mailbox_proof),
    ("relay_request", relay_request),
    ("relay_core", relay_core),
    ("delivery_snapshot", delivery_snapshot),
    ("delivery_outbox", delivery_outbox),
    ("backup_header", crate::backup::fuzzing::header),
    ("backup_stream", crate::backup::fuzzing::stream),
    ("backup_unlock", crate::backup::fuzzing::unlock),
];

/// Outbox and inbox snapshots (`spec/09-delivery.md`, **[DLV-07]**): an accepted snapshot
/// restores to a state whose snapshot restores to the same state, and a snapshot without
/// puts in flight re-encodes to exactly the input.
pub fn delivery_snapshot(data: &[u8]) -> bool {
    use crate::delivery::{Inbox, Outbox, Queued, Status};
    let (selector, data) = match data.split_first() {
        Some((s, rest)) => (*s, rest),
        None => return false,
    };
    if selector & 1 == 0 {
        match Outbox::restore(data) {
            Ok(outbox) => {
                let again = Outbox::restore(&outbox.snapshot()).expect("own snapshot refused");
                assert!(again == outbox, "snapshot -> restore is not stable");
                let in_flight = outbox.iter().any(|(_, _, _, s)| {
                    matches!(s, Status::Queued(Queued::Waiting { next_attempt, .. }) if next_attempt.as_secs() == 0)
                });
                if !in_flight {
                    assert_eq!(
                        &outbox.snapshot()[..],
                        data,
                        "restore -> snapshot changed bytes"
                    );
                }
                true
            }
            Err(e) => {
                check_class(&e);
                false
            }
        }
    } else {
        match Inbox::restore(data) {
            Ok(inbox) => {
                assert_eq!(inbox.snapshot(), data, "restore -> snapshot changed bytes");
                true
            }
            Err(e) => {
                check_class(&e);
                false
            }
        }
    }
}

/// The outbox state machine driven by fuzzer-chosen events (`spec/09-delivery.md`,
/// **[DLV-01]**–**[DLV-05]**). Invariants after every event: a timer exists exactly when
/// some send is queued, and is never in the past of a send's own step; a delivered send
/// stays delivered and was receipted; a failed send changes only to delivered; a put is
/// never in flight twice; restoring a snapshot keeps every finished status.
pub fn delivery_outbox(data: &[u8]) -> bool {
    use crate::delivery::{Outbox, Queued, RetryPolicy, SendId, Status};
    use std::collections::{BTreeMap, BTreeSet};

    const CLASSES: [ErrorClass; 6] = [
        ErrorClass::RelayRate,
        ErrorClass::RelayUnavailable,
        ErrorClass::RelayMailboxFull,
        ErrorClass::RelayTooLarge,
        ErrorClass::RelayTtl,
        ErrorClass::RelayConflict,
    ];
    let policy = RetryPolicy {
        initial_backoff: 2,
        max_backoff: 60,
        ack_timeout: 10,
        give_up_after: 3600,
    };
    let mut rng = FuzzRng(0);
    let mut outbox = Outbox::new(policy);
    let mut now = UnixTime(1_000_000);
    let mut sends: Vec<(SendId, [u8; 16])> = Vec::new();
    let mut receipted: BTreeSet<[u8; 16]> = BTreeSet::new();
    let mut in_flight: BTreeSet<SendId> = BTreeSet::new();
    let mut finished: BTreeMap<SendId, Status> = BTreeMap::new();
    let pick = |b: u8, sends: &Vec<(SendId, [u8; 16])>| {
        (!sends.is_empty()).then(|| sends[usize::from(b) % sends.len()])
    };
    for pair in data.chunks(2) {
        let (op, arg) = (pair[0], pair.get(1).copied().unwrap_or(0));
        match op % 9 {
            0 if sends.len() < 64 => {
                let id = [arg; 16];
                let len = if arg == 255 { 70_000 } else { 512 };
                let send = outbox.push(id, [1; 32], vec![arg; len], 600, now, &mut rng);
                sends.push((send, id));
            }
            1 => {
                if let Some(t) = outbox.poll_transmit(now) {
                    assert!(in_flight.insert(t.send), "a put was in flight twice");
                }
            }
            2 => {
                if let Some((send, _)) = pick(arg, &sends) {
                    outbox.on_stored(send, now);
                    in_flight.remove(&send);
                }
            }
            3 => {
                if let Some((send, _)) = pick(arg, &sends) {
                    let class = CLASSES[usize::from(arg) % CLASSES.len()];
                    outbox.on_rejected(send, class, now, &mut rng);
                    in_flight.remove(&send);
                }
            }
            4 => {
                outbox.on_disconnected(now, &mut rng);
                in_flight.clear();
            }
            5 => {
                if let Some((_, id)) = pick(arg, &sends) {
                    outbox.on_receipt(&id, now);
                    receipted.insert(id);
                }
            }
            6 => {
                outbox.handle_timeout(now, &mut rng);
                in_flight.retain(|s| {
                    matches!(
                        outbox.status(*s),
                        Some(Status::Queued(Queued::InFlight { .. }))
                    )
                });
            }
            7 => now = now.saturating_add(u64::from(arg) * u64::from(arg)),
            _ => {
                outbox = Outbox::restore(&outbox.snapshot()).expect("own snapshot refused");
                in_flight.clear();
            }
        }
        let mut queued = 0;
        for (send, id) in &sends {
            let status = outbox.status(*send).expect("a send vanished");
            match status {
                Status::Delivered => assert!(receipted.contains(id), "delivered without receipt"),
                Status::Failed(_) => {}
                Status::Queued(_) => queued += 1,
            }
            if let Some(before) = finished.get(send) {
                assert!(
                    status == *before || status == Status::Delivered,
                    "a finished send changed: {before:?} -> {status:?}"
                );
            }
            if !status.is_pending() {
                finished.insert(*send, status);
            }
        }
        assert_eq!(
            outbox.poll_timeout().is_some(),
            queued > 0,
            "stranded or phantom timer"
        );
    }
    !sends.is_empty()
}
