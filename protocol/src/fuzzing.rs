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

/// Mailbox proofs, checked for the mailbox and challenge of the `mailbox-verify` vectors
/// (rebuilt from the same named seeds) and the fetch operation. Invariants: a refusal
/// carries a registered class; an accepted proof is refused for every other operation and
/// for another challenge (`mailbox.proof`).
pub fn mailbox_proof(data: &[u8]) -> bool {
    use crate::mailbox::{self, MailboxKey, Operation};
    let key = MailboxKey::from_seed(&vector_seed("mailbox/verify/seed"));
    let challenge = vector_seed("mailbox/verify/challenge");
    match mailbox::verify(key.id(), &challenge, Operation::Fetch, data) {
        Ok(()) => {
            for op in [Operation::Delete, Operation::Subscribe] {
                let other = mailbox::verify(key.id(), &challenge, op, data);
                assert_eq!(other.unwrap_err().class(), ErrorClass::MailboxProof);
            }
            let other = mailbox::verify(key.id(), &[0; 32], Operation::Fetch, data);
            assert_eq!(other.unwrap_err().class(), ErrorClass::MailboxProof);
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
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
    ("envelope", envelope),
    ("event", event),
    ("mailbox_proof", mailbox_proof),
];
