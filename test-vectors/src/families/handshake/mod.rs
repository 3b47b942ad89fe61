//! `handshake.json`: accepting an invite (spec/05-handshake.md): reproducible handshake
//! messages, and the inviter's acceptance with single-use, reuse, replay, expiry and every
//! way a handshake is refused.
//!
//! The forged handshakes are built here from the spec's construction with the crate's
//! primitives (HPKE sender, labels, signatures), not with the handshake module, so the
//! vectors check the module against the text.

mod appended;
pub(crate) mod forge;

use appended::appended_accept_tests;
use forge::{Device, Forge, HeldInvite, Sent, randomness, sender};

use super::hpke::flipped;
use super::{FlagDef, Ids, expect, file, sha256};
use crate::format::VectorFile;
use crate::seeds::ReplayRng;
use quietwire::UnixTime;
use quietwire::cbor::{Int, Value};
use quietwire::handshake::{self, Initiated};
use quietwire::label::Label;
use quietwire::suite::{Suite, SuitePolicy};

crate::vector_groups! {
    /// Groups of this family.
    pub enum HandshakeGroup {
        /// The acceptor builds its handshake message for `invite` with its device keys; the RNG
        /// yields exactly `randomness`.
        "handshake-initiate" => Initiate(InitiateTest),
        /// The inviter, holding `invite` and its secrets, accepts the steps' messages in order.
        "handshake-accept" => Accept(AcceptTest),
    }
}

crate::vector_test! {
    /// The acceptor's side.
    pub struct InitiateTest {
        /// The signed invite being accepted.
        invite: hex,
        /// The acceptor's suite (of its device keys).
        suite: u64,
        /// The acceptor's Ed25519 seed.
        identity_seed: hex,
        /// The acceptor's KEM seed.
        kem_seed: hex,
        /// The acceptor's X25519 ratchet secret (signed in its device record).
        ratchet_secret: hex,
        /// The generation of the acceptor's device record.
        generation: u64,
        /// The acceptor's mailbox.
        mailbox: hex,
        /// The bytes the RNG yields: the HPKE encapsulation randomness.
        randomness: hex,
        /// The handshake message (valid tests only).
        message: hex?,
        /// The transcript hash (valid tests only).
        transcript_hash: hex?,
        /// SHA-256 of the initiator ratchet's snapshot right after the handshake (valid only).
        snapshot_digest: hex?,
    }
}

crate::vector_record! {
    /// One handshake message delivered to the inviter.
    pub struct AcceptStep {
        /// The handshake message.
        message: hex,
        /// The inviter's `now`.
        now: u64,
        /// The acceptor's identity key (accepted steps only).
        peer_identity: hex?,
        /// The acceptor's mailbox (accepted steps only).
        peer_mailbox: hex?,
        /// The transcript hash (accepted steps only).
        transcript_hash: hex?,
        /// SHA-256 of the responder ratchet's snapshot (accepted steps only).
        snapshot_digest: hex?,
        /// Expected error class (refused steps only).
        error_class: ?String,
    }
}

crate::vector_test! {
    /// The inviter's side: a sequence of deliveries to one pending invite.
    pub struct AcceptTest {
        /// The signed invite.
        invite: hex,
        /// The invite's one-time KEM seed.
        kem_seed: hex,
        /// The invite's X25519 ratchet secret.
        ratchet_secret: hex,
        /// Suites the inviter accepts for the acceptor's device record.
        allowed_suites: Vec<u64>,
        /// The deliveries, in order; a refused one changes nothing.
        steps: Vec<AcceptStep>,
    }
}

const FLAGS: &[FlagDef] = crate::flag_defs! {
    Valid: Basic ["HSK-01", "HSK-02", "HSK-03", "HSK-04"]
        "A handshake built and accepted as specified; both sides derive the same session.";
    SingleUse: Defined ["HSK-06"]
        "A single-use invite accepts one handshake and refuses every later one.";
    Replay: AuthBypass ["HSK-06"] "A handshake delivered again starts no second session.";
    Expired: Defined ["HSK-05"] "A handshake arriving when the invite has expired.";
    Format: Basic ["HSK-02", "HSK-05", "ENV-02"]
        "A message whose length is not a bucket, or whose padding is malformed.";
    Tampered: AuthBypass ["HSK-05", "SUI-08"] "A modified or misdirected handshake does not open.";
    Payload: MissingStep ["HSK-02", "HSK-05"]
        "A payload outside its schema, or with an extension to ignore.";
    Record: AuthBypass ["HSK-05", "IDN-03", "SUI-02"]
        "The acceptor's device record fails verification or is of another suite.";
    TranscriptSignature: AuthBypass ["HSK-03", "HSK-05"]
        "The signature does not cover this transcript (another encapsulation).";
    SuiteMismatch: WrongPrimitive ["HSK-01", "HSK-05"]
        "Device keys of another suite than the invite's.";
};

const NOW: u64 = 1_900_000_000;
const EXPIRES: u64 = NOW + 86_400;

/// An inviter's invite, of the device `handshake/<name>`.
fn held_invite(name: &str, suite: Suite, single_use: bool) -> Result<HeldInvite, String> {
    let creator = device(name, suite);
    let seeds = ["invite-id", "kem", "ratchet", "mailbox"].map(|p| format!("handshake/{name}/{p}"));
    HeldInvite::new(&creator, EXPIRES, single_use, seeds)
}

/// An acceptor's (or inviter's) device `handshake/<name>`.
fn device(name: &str, suite: Suite) -> Device {
    Device::new(&format!("handshake/{name}"), suite)
}

/// The handshake of `acceptor` for `inviter` through the handshake module, drawing exactly
/// the randomness of `slug`: `None` when it is refused with `class`.
fn initiate(
    slug: &str,
    inviter: &HeldInvite,
    acceptor: &Device,
    class: Option<&str>,
) -> Result<Option<Initiated>, String> {
    let mut rng =
        ReplayRng::new(&[&randomness("handshake", slug, inviter.invite.invite().suite())]);
    let got =
        handshake::accept_invite(&inviter.invite, &acceptor.keys(), 0, acceptor.mailbox, &mut rng);
    let out = expect(&format!("handshake {slug}: initiate"), got, class)?;
    if out.is_some() && !rng.finished() {
        return Err(format!("handshake {slug}: initiate drew other randomness"));
    }
    Ok(out)
}

/// The honest handshake message of `acceptor` for `inviter`.
fn message(slug: &str, inviter: &HeldInvite, acceptor: &Device) -> Result<Vec<u8>, String> {
    let out = initiate(slug, inviter, acceptor, None)?;
    Ok(out.ok_or_else(|| format!("handshake {slug}: no message"))?.message)
}

/// A handshake built from the spec's construction (HSK-03), with `forge` applied.
fn forged(
    slug: &str,
    acceptor: &Device,
    inviter: &HeldInvite,
    forge: &Forge,
) -> Result<Vec<u8>, String> {
    let invite = inviter.invite.invite();
    let invite_hash = sha256(&inviter.invite.to_bytes());
    let info = Label::HandshakeInfo.input(&[&invite_hash]);
    let sender = sender("handshake", slug, invite.kem_key(), &info)?;
    let keys = acceptor.keys();
    let record = forge.record.clone().unwrap_or_else(|| keys.signed_record(0).to_bytes());
    let signed_enc = forge.sign_enc.clone().unwrap_or_else(|| sender.enc().to_vec());
    let transcript: [&[u8]; 4] = [&invite_hash, &signed_enc, &record, &acceptor.mailbox];
    let th = sha256(&Label::HandshakeTranscript.input(&transcript));
    let signature = match &forge.signature {
        Some(sign) => sign(&Label::HandshakeSignature.input(&[&th])),
        None => keys.identity().sign(Label::HandshakeSignature, &th),
    };
    let mut map = forge::PayloadMap::new();
    map.insert(Int::uint(1), Value::uint(1));
    map.insert(Int::uint(2), Value::from(record.as_slice()));
    map.insert(Int::uint(3), Value::from(&acceptor.mailbox[..]));
    map.insert(Int::uint(4), Value::from(&signature[..]));
    forge::seal_payload(sender, map, forge)
}

/// One delivery: the message, the inviter's `now`, the expected class.
type Delivery<'c> = (Sent, u64, Option<&'c str>);

/// Builds the accept tests of one inviter, each a script of deliveries to a fresh pending
/// invite, with slugs `<case>-<name>`.
struct Accepts<'a> {
    ids: &'a mut Ids,
    tests: &'a mut Vec<AcceptTest>,
    name: &'a str,
    inviter: &'a HeldInvite,
    /// The acceptor whose handshakes are forged.
    alice: Device,
}

impl Accepts<'_> {
    /// A test delivering `deliveries` in order, with `allowed` suites; a refused delivery
    /// must change nothing, and every refusal of one test has the same class.
    fn script(
        &mut self,
        case: &str,
        comment: &str,
        f: &[&str],
        allowed: &[Suite],
        deliveries: Vec<Delivery<'_>>,
    ) -> Result<(), String> {
        let slug = format!("{case}-{}", self.name);
        let what = format!("handshake {slug}");
        let mut pending = self.inviter.pending();
        let mut steps = Vec::new();
        let mut classes = std::collections::BTreeSet::new();
        for (sent, now, class) in deliveries {
            let message = match sent {
                Sent::Bytes(bytes) => bytes,
                Sent::Forged(forge) => forged(&slug, &self.alice, self.inviter, &forge)?,
            };
            let before = pending.accepted();
            let got =
                pending.receive_handshake(&message, UnixTime(now), &SuitePolicy::only(allowed));
            let accepted = expect(&what, got, class)?;
            if accepted.is_none() && pending.accepted() != before {
                return Err(format!("{what}: a refusal changed state"));
            }
            classes.extend(class);
            let a = accepted.as_ref();
            steps.push(AcceptStep {
                message,
                now,
                peer_identity: a.map(|a| a.peer.record().identity_key().as_bytes().to_vec()),
                peer_mailbox: a.map(|a| a.mailbox.to_vec()),
                transcript_hash: a.map(|a| a.transcript_hash.to_vec()),
                snapshot_digest: a.map(|a| sha256(&a.ratchet.snapshot())),
                error_class: class.map(str::to_owned),
            });
        }
        if classes.len() > 1 {
            return Err(format!("{what}: several classes"));
        }
        let head = self.ids.head(&slug, comment, f, classes.into_iter().next());
        let (held, suites) = (self.inviter, allowed.iter().map(|s| s.id()).collect());
        let (kem, ratchet) = (held.kem_seed.to_vec(), held.ratchet_secret.to_vec());
        let test = AcceptTest::new(head, held.invite.to_bytes(), kem, ratchet, suites, steps);
        self.tests.push(test);
        Ok(())
    }

    /// A test of one delivery at `NOW`, every suite allowed.
    fn one(
        &mut self,
        case: &str,
        comment: &str,
        f: &[&str],
        sent: Sent,
        class: Option<&str>,
    ) -> Result<(), String> {
        self.script(case, comment, f, &Suite::ALL, vec![(sent, NOW, class)])
    }
}

fn initiate_tests(
    ids: &mut Ids,
    inviters: &[(&str, &HeldInvite)],
) -> Result<Vec<InitiateTest>, String> {
    let mut tests = Vec::new();
    let mut test = |slug: &str,
                    comment: &str,
                    f: &[&str],
                    (inviter, acceptor): (&HeldInvite, &Device),
                    class: Option<&str>| {
        let out = initiate(slug, inviter, acceptor, class)?;
        if let Some(out) = &out
            && forged(slug, acceptor, inviter, &Forge::default())? != out.message
        {
            return Err(format!("handshake {slug}: module and spec construction differ"));
        }
        let head = ids.head(slug, comment, f, class);
        let randomness = randomness("handshake", slug, inviter.invite.invite().suite());
        tests.push(InitiateTest::new(
            head,
            inviter.invite.to_bytes(),
            acceptor.suite.id(),
            acceptor.identity_seed.to_vec(),
            acceptor.kem_seed.to_vec(),
            acceptor.ratchet_secret.to_vec(),
            0,
            acceptor.mailbox.to_vec(),
            randomness,
            out.as_ref().map(|o| o.message.clone()),
            out.as_ref().map(|o| o.transcript_hash.to_vec()),
            out.as_ref().map(|o| sha256(&o.ratchet.snapshot())),
        ));
        Ok::<(), String>(())
    };
    for &(name, inviter) in inviters {
        let suite = inviter.invite.invite().suite();
        let acceptor = device(&format!("{name}/alice"), suite);
        let comment = format!("{} invite", suite.name());
        test(&format!("initiate-{name}"), &comment, &["Valid"], (inviter, &acceptor), None)?;
    }
    // Device keys of the other suite.
    let &(_, inviter) = inviters.first().ok_or("no inviter")?;
    crate::rows! { test:
        "initiate-suite-mismatch", "classical device keys for a hybrid invite", &["SuiteMismatch"],
            (inviter, &device("xwing/mallory", Suite::X25519)), Some("handshake.suite");
    }
    Ok(tests)
}

/// Generates `handshake.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<HandshakeGroup>, String> {
    use Sent::{Bytes, Forged};
    let mut ids = Ids::default();
    let xwing = held_invite("xwing", Suite::XWing, true)?;
    let x25519 = held_invite("x25519", Suite::X25519, false)?;
    let inviters = [("xwing", &xwing), ("x25519", &x25519)];
    let initiates = initiate_tests(&mut ids, &inviters)?;
    let mut accepts = Vec::new();

    for (name, inviter) in inviters {
        let suite = inviter.invite.invite().suite();
        let alice = device(&format!("{name}/alice"), suite);
        let bob = device(&format!("{name}/bob"), suite);
        let a = message(&format!("initiate-{name}"), inviter, &alice)?;
        let b = message(&format!("{name}-bob"), inviter, &bob)?;
        let other = held_invite(&format!("{name}-other"), suite, false)?;
        let carol = device(&format!("{name}/carol"), suite);
        let misdirected = message(&format!("{name}-misdirected"), &other, &carol)?;
        let enc_len = suite.hpke_enc_len();
        let bad_record = flipped(&alice.keys().signed_record(0).to_bytes(), -1, 0x01);
        let other_suite = if suite == Suite::XWing { Suite::X25519 } else { Suite::XWing };
        let foreign = device(&format!("{name}/dave"), other_suite).keys().signed_record(0);
        let mut s = Accepts { ids: &mut ids, tests: &mut accepts, name, inviter, alice };
        let all = &Suite::ALL;
        crate::rows! { s.script:
            "accept", "the acceptor's handshake is accepted", &["Valid"], all,
                vec![(Bytes(a.clone()), NOW, None)];
        }
        if inviter.invite.invite().single_use() {
            crate::rows! { s.script:
                "single-use",
                    "after one accepted handshake, another acceptor and a replay are refused",
                    &["SingleUse"], all,
                    vec![(Bytes(a.clone()), NOW, None),
                        (Bytes(b.clone()), NOW, Some("invite.used")),
                        (Bytes(a.clone()), NOW, Some("invite.used"))];
            }
        } else {
            crate::rows! { s.script:
                "reusable", "a reusable invite accepts two acceptors and refuses a replay",
                    &["Replay"], all,
                    vec![(Bytes(a.clone()), NOW, None), (Bytes(b.clone()), NOW, None),
                        (Bytes(a.clone()), NOW, Some("handshake.replay"))];
            }
        }
        crate::rows! { s.script:
            "expired", "refused at the expiry, accepted one second before", &["Expired"], all,
                vec![(Bytes(a.clone()), EXPIRES, Some("invite.expired")),
                    (Bytes(a.clone()), EXPIRES - 1, None)];
        }
        crate::rows! { s.one:
            "truncated", "the encapsulated key and 15 bytes", &["Format"],
                Bytes(a.get(..enc_len + 15).unwrap_or_default().to_vec()), Some("handshake.format");
            "not-a-bucket", "one byte more than a bucket", &["Format"],
                Bytes([a.as_slice(), &[0]].concat()),
                Some("handshake.format");
            "tampered-tag", "last tag byte flipped", &["Tampered"], Bytes(flipped(&a, -1, 0x01)),
                Some("hpke.open");
            "tampered-enc", "a bit of the encapsulated key flipped", &["Tampered"],
                Bytes(flipped(&a, 7, 0x01)), Some("hpke.open");
            "other-invite", "a handshake for another invite", &["Tampered"], Bytes(misdirected),
                Some("hpke.open");
            "payload-version-2", "payload version 2", &["Payload"],
                Forged(Forge::edit(|m| { m.insert(Int::uint(1), Value::uint(2)); })),
                Some("schema.version");
            "payload-missing-mailbox", "no mailbox in the payload", &["Payload"],
                Forged(Forge::edit(|m| { m.remove(&Int::uint(3)); })), Some("schema.missing_field");
            "payload-unknown-critical", "payload key 5 is not defined", &["Payload"],
                Forged(Forge::edit(|m| { m.insert(Int::uint(5), Value::uint(0)); })),
                Some("schema.unknown_critical");
            "payload-extension", "a negative key in the payload is ignored", &["Payload"],
                Forged(Forge::edit(|m| { m.insert(Int::from(-1i64), Value::from("ignored")); })),
                None;
            "padding-without-start", "the padding lacks its 0x80 start byte", &["Format"],
                Forged(Forge { zero_padding: true, ..Forge::default() }), Some("envelope.padding");
            "transcript-other-enc", "the signature covers another encapsulated key",
                &["TranscriptSignature"],
                Forged(Forge { sign_enc: Some(vec![0x55; enc_len]), ..Forge::default() }),
                Some("identity.signature");
            "record-bad-signature", "the device record's signature does not verify", &["Record"],
                Forged(Forge::record(bad_record)), Some("identity.signature");
            "record-other-suite", "a valid device record of the other suite", &["Record"],
                Forged(Forge::record(foreign.to_bytes())), Some("handshake.suite");
        }
        crate::rows! { s.script:
            "record-suite-disallowed", "the inviter's policy does not accept the record's suite",
                &["Record"], &[other_suite],
                vec![(Bytes(a.clone()), NOW, Some("suite.disallowed"))];
        }
    }

    appended_accept_tests(&mut ids, &mut accepts, &inviters)?;

    // Both sides agree: the initiator's and the responder's ratchets talk.
    for (name, inviter) in inviters {
        let alice = device(&format!("{name}/alice"), inviter.invite.invite().suite());
        let slug = format!("initiate-{name}");
        let started = initiate(&slug, inviter, &alice, None)?.ok_or("no handshake")?;
        forge::sessions_talk(&format!("handshake {name}"), inviter, started, NOW)?;
    }

    Ok(file(
        "handshake",
        &[
            "Accepting an invite (spec/05-handshake.md).",
            "handshake-initiate: build the acceptor's device keys from identitySeed, kemSeed and ratchetSecret of `suite`, sign its record with `generation`, and accept `invite` with `mailbox`; the RNG yields exactly `randomness` (the HPKE encapsulation randomness). message, transcriptHash and the SHA-256 of the initiator ratchet's snapshot must match.",
            "handshake-accept: the inviter holds `invite` with the KEM key pair of kemSeed and the ratchet secret ratchetSecret, and accepts the steps' messages in order at their `now` with `allowedSuites`; each step is accepted with the given peer fields and responder snapshot digest, or refused with errorClass, changing nothing.",
        ],
        FLAGS,
        crate::groups! { HandshakeGroup:
            Initiate("The acceptor's handshake message.", initiates);
            Accept("The inviter's acceptance.", accepts);
        },
    ))
}
