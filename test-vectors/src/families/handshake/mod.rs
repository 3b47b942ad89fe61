//! `handshake.json`: accepting an invite (spec/05-handshake.md): reproducible handshake
//! messages, and the inviter's acceptance with single-use, reuse, replay, expiry and every
//! way a handshake is refused.
//!
//! The forged handshakes are built here from the spec's construction with the crate's
//! primitives (HPKE sender, labels, signatures), not with the handshake module, so the
//! vectors check the module against the text.

mod appended;
mod forge;

use appended::appended_accept_tests;
use forge::{Forge, ForgedCase, forged};

use sha2::{Digest, Sha256};

use super::{FlagDef, Ids, file, flags};
use crate::format::{Outcome, VectorFile};
use crate::seeds::{ReplayRng, seed16, seed32};
use quietwire::UnixTime;
use quietwire::cbor::{Int, Value};
use quietwire::handshake::{self, PendingInvite};
use quietwire::identity::DeviceKeys;
use quietwire::invite::{Invite, InviteParams, InviteSecrets, SignedInvite};
use quietwire::keys::{IdentityKeyPair, KemSecret, X25519Secret};
use quietwire::ratchet::Ratchet;
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

/// An inviter: its invite, the invite's secrets and their seeds.
struct Inviter {
    invite: SignedInvite,
    kem_seed: [u8; 32],
    ratchet_secret: [u8; 32],
}

impl Inviter {
    fn new(name: &str, suite: Suite, single_use: bool) -> Inviter {
        let identity = IdentityKeyPair::from_seed(&seed32(&format!("handshake/{name}/identity")));
        let kem_seed = seed32(&format!("handshake/{name}/kem"));
        let ratchet_secret = seed32(&format!("handshake/{name}/ratchet"));
        let mut rng = ReplayRng::new(&[
            &seed16(&format!("handshake/{name}/invite-id")),
            &kem_seed,
            &ratchet_secret,
        ]);
        let params = InviteParams {
            relay_hints: vec!["wss://relay.quietwire.invalid".to_owned()],
            mailbox: seed32(&format!("handshake/{name}/mailbox")),
            expires: UnixTime(EXPIRES),
            single_use,
        };
        let (invite, _) = Invite::create(&identity, suite, params, &mut rng);
        Inviter { invite, kem_seed, ratchet_secret }
    }

    fn pending(&self) -> PendingInvite {
        PendingInvite::new(
            self.invite.clone(),
            InviteSecrets {
                kem: KemSecret::from_seed(self.invite.invite().suite(), &self.kem_seed),
                ratchet: X25519Secret::from_bytes(&self.ratchet_secret),
            },
        )
    }
}

/// An acceptor's device and what it sends.
struct Acceptor {
    suite: Suite,
    identity_seed: [u8; 32],
    kem_seed: [u8; 32],
    ratchet_secret: [u8; 32],
    mailbox: [u8; 32],
}

impl Acceptor {
    fn new(name: &str, suite: Suite) -> Acceptor {
        Acceptor {
            suite,
            identity_seed: seed32(&format!("handshake/{name}/identity")),
            kem_seed: seed32(&format!("handshake/{name}/kem")),
            ratchet_secret: seed32(&format!("handshake/{name}/ratchet")),
            mailbox: seed32(&format!("handshake/{name}/mailbox")),
        }
    }

    fn keys(&self) -> DeviceKeys {
        DeviceKeys::from_parts(
            self.suite,
            IdentityKeyPair::from_seed(&self.identity_seed),
            KemSecret::from_seed(self.suite, &self.kem_seed),
            X25519Secret::from_bytes(&self.ratchet_secret),
        )
    }

    fn randomness(&self, slug: &str, suite: Suite) -> Vec<u8> {
        let mut out = Vec::new();
        while out.len() < suite.hpke_encap_randomness_len() {
            out.extend_from_slice(&seed32(&format!("handshake/{slug}/encap/{}", out.len())));
        }
        out.truncate(suite.hpke_encap_randomness_len());
        out
    }

    /// The handshake message, through the handshake module.
    fn initiate(&self, slug: &str, inviter: &Inviter) -> Result<handshake::Initiated, String> {
        let randomness = self.randomness(slug, inviter.invite.invite().suite());
        let mut rng = ReplayRng::new(&[&randomness]);
        let out = handshake::initiate(&inviter.invite, &self.keys(), 0, self.mailbox, &mut rng)
            .map_err(|e| format!("handshake {slug}: initiate: {e}"))?;
        if !rng.finished() {
            return Err(format!("handshake {slug}: initiate drew other randomness"));
        }
        Ok(out)
    }
}

fn digest(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// Runs deliveries against one pending invite, recording each outcome.
struct AcceptScript<'a> {
    slug: String,
    inviter: &'a Inviter,
    pending: PendingInvite,
    allowed: Vec<Suite>,
    steps: Vec<AcceptStep>,
    failures: Vec<String>,
}

impl<'a> AcceptScript<'a> {
    fn new(slug: &str, inviter: &'a Inviter, allowed: &[Suite]) -> AcceptScript<'a> {
        AcceptScript {
            slug: slug.to_owned(),
            inviter,
            pending: inviter.pending(),
            allowed: allowed.to_vec(),
            steps: Vec::new(),
            failures: Vec::new(),
        }
    }

    fn deliver(&mut self, message: Vec<u8>, now: u64, expect: Option<&str>) -> Result<(), String> {
        let before = self.pending.accepted();
        let got = self.pending.accept(&message, UnixTime(now), &SuitePolicy::only(&self.allowed));
        let step = match (got, expect) {
            (Ok(accepted), None) => AcceptStep {
                message,
                now,
                peer_identity: Some(accepted.peer.record().identity_key().as_bytes().to_vec()),
                peer_mailbox: Some(accepted.mailbox.to_vec()),
                transcript_hash: Some(accepted.transcript_hash.to_vec()),
                snapshot_digest: Some(digest(&accepted.ratchet.snapshot())),
                error_class: None,
            },
            (Err(e), Some(class)) if e.class().as_str() == class => {
                if self.pending.accepted() != before {
                    return Err(format!("handshake {}: a refusal changed state", self.slug));
                }
                self.failures.push(class.to_owned());
                AcceptStep {
                    message,
                    now,
                    peer_identity: None,
                    peer_mailbox: None,
                    transcript_hash: None,
                    snapshot_digest: None,
                    error_class: Some(class.to_owned()),
                }
            }
            (got, expect) => {
                return Err(format!(
                    "handshake {}: expected {expect:?}, got {:?}",
                    self.slug,
                    got.map(|_| "accepted")
                ));
            }
        };
        self.steps.push(step);
        Ok(())
    }

    fn finish(self, ids: &mut Ids, comment: &str, f: &[&str]) -> Result<AcceptTest, String> {
        let classes: std::collections::BTreeSet<&String> = self.failures.iter().collect();
        if classes.len() > 1 {
            return Err(format!("handshake {}: several classes", self.slug));
        }
        let error_class = classes.into_iter().next().cloned();
        Ok(AcceptTest {
            tc_id: ids.next_id(),
            slug: self.slug,
            comment: comment.to_owned(),
            flags: flags(f),
            invite: self.inviter.invite.to_bytes(),
            kem_seed: self.inviter.kem_seed.to_vec(),
            ratchet_secret: self.inviter.ratchet_secret.to_vec(),
            allowed_suites: self.allowed.iter().map(|s| s.id()).collect(),
            steps: self.steps,
            result: if error_class.is_some() { Outcome::Invalid } else { Outcome::Valid },
            error_class,
        })
    }
}

fn initiate_tests(
    ids: &mut Ids,
    inviters: &[(&str, &Inviter)],
) -> Result<Vec<InitiateTest>, String> {
    let mut tests = Vec::new();
    for (name, inviter) in inviters {
        let suite = inviter.invite.invite().suite();
        let slug = format!("initiate-{name}");
        let acceptor = Acceptor::new(&format!("{name}/alice"), suite);
        let out = acceptor.initiate(&slug, inviter)?;
        let honest = forged(&slug, &acceptor, inviter, Forge::default());
        if honest != out.message {
            return Err(format!("handshake {slug}: module and spec construction differ"));
        }
        let head = ids.head(&slug, &format!("{} invite", suite.name()), &["Valid"], None);
        tests.push(InitiateTest::new(
            head,
            inviter.invite.to_bytes(),
            suite.id(),
            acceptor.identity_seed.to_vec(),
            acceptor.kem_seed.to_vec(),
            acceptor.ratchet_secret.to_vec(),
            0,
            acceptor.mailbox.to_vec(),
            acceptor.randomness(&slug, suite),
            Some(out.message),
            Some(out.transcript_hash.to_vec()),
            Some(digest(&out.ratchet.snapshot())),
        ));
    }
    // Device keys of the other suite.
    let (_, inviter) = inviters.first().ok_or("no inviter")?;
    let acceptor = Acceptor::new("xwing/mallory", Suite::X25519);
    let slug = "initiate-suite-mismatch";
    let randomness = acceptor.randomness(slug, inviter.invite.invite().suite());
    let mut rng = ReplayRng::new(&[&randomness]);
    match handshake::initiate(&inviter.invite, &acceptor.keys(), 0, acceptor.mailbox, &mut rng) {
        Err(e) if e.class().as_str() == "handshake.suite" => {}
        other => return Err(format!("handshake {slug}: {:?}", other.map(|_| "ok"))),
    }
    let head = ids.head(
        slug,
        "classical device keys for a hybrid invite",
        &["SuiteMismatch"],
        Some("handshake.suite"),
    );
    tests.push(InitiateTest::new(
        head,
        inviter.invite.to_bytes(),
        Suite::X25519.id(),
        acceptor.identity_seed.to_vec(),
        acceptor.kem_seed.to_vec(),
        acceptor.ratchet_secret.to_vec(),
        0,
        acceptor.mailbox.to_vec(),
        randomness,
        None,
        None,
        None,
    ));
    Ok(tests)
}

/// Generates `handshake.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<HandshakeGroup>, String> {
    let mut ids = Ids::default();
    let xwing = Inviter::new("xwing", Suite::XWing, true);
    let x25519 = Inviter::new("x25519", Suite::X25519, false);
    let initiates = initiate_tests(&mut ids, &[("xwing", &xwing), ("x25519", &x25519)])?;
    let all = [Suite::XWing, Suite::X25519];
    let mut accepts = Vec::new();

    for (name, inviter) in [("xwing", &xwing), ("x25519", &x25519)] {
        let suite = inviter.invite.invite().suite();
        let alice = Acceptor::new(&format!("{name}/alice"), suite);
        let bob = Acceptor::new(&format!("{name}/bob"), suite);
        let a = alice.initiate(&format!("initiate-{name}"), inviter)?.message;
        let b = bob.initiate(&format!("{name}-bob"), inviter)?.message;
        let mut s = AcceptScript::new(&format!("accept-{name}"), inviter, &all);
        s.deliver(a.clone(), NOW, None)?;
        accepts.push(s.finish(&mut ids, "the acceptor's handshake is accepted", &["Valid"])?);

        if inviter.invite.invite().single_use() {
            let mut s = AcceptScript::new(&format!("single-use-{name}"), inviter, &all);
            crate::rows! { s.deliver:
                a.clone(), NOW, None;
                b.clone(), NOW, Some("invite.used");
                a.clone(), NOW, Some("invite.used");
            }
            accepts.push(s.finish(
                &mut ids,
                "after one accepted handshake, another acceptor and a replay are refused",
                &["SingleUse"],
            )?);
        } else {
            let mut s = AcceptScript::new(&format!("reusable-{name}"), inviter, &all);
            crate::rows! { s.deliver:
                a.clone(), NOW, None;
                b.clone(), NOW, None;
                a.clone(), NOW, Some("handshake.replay");
            }
            accepts.push(s.finish(
                &mut ids,
                "a reusable invite accepts two acceptors and refuses a replay",
                &["Replay"],
            )?);
        }

        let mut s = AcceptScript::new(&format!("expired-{name}"), inviter, &all);
        crate::rows! { s.deliver:
            a.clone(), EXPIRES, Some("invite.expired");
            a.clone(), EXPIRES - 1, None;
        }
        accepts.push(s.finish(
            &mut ids,
            "refused at the expiry, accepted one second before",
            &["Expired"],
        )?);

        let enc_len = suite.hpke_enc_len();
        let mut s = AcceptScript::new(&format!("truncated-{name}"), inviter, &all);
        crate::rows! { s.deliver:
            a.get(..enc_len + 15).unwrap_or_default().to_vec(), NOW, Some("handshake.format");
        }
        accepts.push(s.finish(&mut ids, "the encapsulated key and 15 bytes", &["Format"])?);

        let mut longer = a.clone();
        longer.push(0);
        let mut s = AcceptScript::new(&format!("not-a-bucket-{name}"), inviter, &all);
        s.deliver(longer, NOW, Some("handshake.format"))?;
        accepts.push(s.finish(&mut ids, "one byte more than a bucket", &["Format"])?);

        let mut tampered = a.clone();
        if let Some(byte) = tampered.last_mut() {
            *byte ^= 0x01;
        }
        let mut s = AcceptScript::new(&format!("tampered-tag-{name}"), inviter, &all);
        s.deliver(tampered, NOW, Some("hpke.open"))?;
        accepts.push(s.finish(&mut ids, "last tag byte flipped", &["Tampered"])?);

        let mut tampered = a.clone();
        if let Some(byte) = tampered.get_mut(7) {
            *byte ^= 0x01;
        }
        let mut s = AcceptScript::new(&format!("tampered-enc-{name}"), inviter, &all);
        s.deliver(tampered, NOW, Some("hpke.open"))?;
        accepts.push(s.finish(&mut ids, "a bit of the encapsulated key flipped", &["Tampered"])?);

        let other = Inviter::new(&format!("{name}-other"), suite, false);
        let misdirected = Acceptor::new(&format!("{name}/carol"), suite)
            .initiate(&format!("{name}-misdirected"), &other)?
            .message;
        let mut s = AcceptScript::new(&format!("other-invite-{name}"), inviter, &all);
        s.deliver(misdirected, NOW, Some("hpke.open"))?;
        accepts.push(s.finish(&mut ids, "a handshake for another invite", &["Tampered"])?);

        let cases: [ForgedCase; 7] = crate::tuples! {
            "payload-version-2", "payload version 2", &["Payload"],
                Forge::edit(|m| { m.insert(Int::uint(1), Value::uint(2)); }),
                Some("schema.version");
            "payload-missing-mailbox", "no mailbox in the payload", &["Payload"],
                Forge::edit(|m| { m.remove(&Int::uint(3)); }), Some("schema.missing_field");
            "payload-unknown-critical", "payload key 5 is not defined", &["Payload"],
                Forge::edit(|m| { m.insert(Int::uint(5), Value::uint(0)); }),
                Some("schema.unknown_critical");
            "payload-extension", "a negative key in the payload is ignored", &["Payload"],
                Forge::edit(|m| { m.insert(Int::from(-1i64), Value::from("ignored")); }), None;
            "padding-without-start", "the padding lacks its 0x80 start byte", &["Format"],
                Forge { zero_padding: true, ..Forge::default() }, Some("envelope.padding");
            "transcript-other-enc", "the signature covers another encapsulated key",
                &["TranscriptSignature"],
                Forge { sign_enc: Some(vec![0x55; suite.hpke_enc_len()]), ..Forge::default() },
                Some("identity.signature");
            "record-bad-signature",
                "the device record's signature does not verify",
                &["Record"],
                Forge::record({
                        let mut r = alice.keys().signed_record(0).to_bytes();
                        if let Some(byte) = r.last_mut() {
                            *byte ^= 0x01;
                        }
                        r
                    }),
                Some("identity.signature");
        };
        for (case, comment, f, forge, expect) in cases {
            let slug = format!("{case}-{name}");
            let message = forged(&slug, &alice, inviter, forge);
            let mut s = AcceptScript::new(&slug, inviter, &all);
            s.deliver(message, NOW, expect)?;
            accepts.push(s.finish(&mut ids, comment, f)?);
        }

        let other_suite = if suite == Suite::XWing { Suite::X25519 } else { Suite::XWing };
        let slug = format!("record-other-suite-{name}");
        let foreign = Acceptor::new(&format!("{name}/dave"), other_suite);
        let message = forged(
            &slug,
            &alice,
            inviter,
            Forge::record(foreign.keys().signed_record(0).to_bytes()),
        );
        let mut s = AcceptScript::new(&slug, inviter, &all);
        s.deliver(message, NOW, Some("handshake.suite"))?;
        accepts.push(s.finish(
            &mut ids,
            "a valid device record of the other suite",
            &["Record"],
        )?);

        let mut s =
            AcceptScript::new(&format!("record-suite-disallowed-{name}"), inviter, &[other_suite]);
        s.deliver(a.clone(), NOW, Some("suite.disallowed"))?;
        accepts.push(s.finish(
            &mut ids,
            "the inviter's policy does not accept the record's suite",
            &["Record"],
        )?);
    }

    appended_accept_tests(&mut ids, &mut accepts, &[("xwing", &xwing), ("x25519", &x25519)])?;

    // Both sides agree: the initiator's and the responder's ratchets talk.
    for (name, inviter) in [("xwing", &xwing), ("x25519", &x25519)] {
        let suite = inviter.invite.invite().suite();
        let alice = Acceptor::new(&format!("{name}/alice"), suite);
        let started = alice.initiate(&format!("initiate-{name}"), inviter)?;
        let mut pending = inviter.pending();
        let accepted = pending
            .accept(&started.message, UnixTime(NOW), &SuitePolicy::ALL)
            .map_err(|e| format!("handshake {name}: {e}"))?;
        let (mut a, mut b): (Ratchet, Ratchet) = (started.ratchet, accepted.ratchet);
        let mut rng = ReplayRng::new(&[&[7u8; 56]]);
        let m = a.encrypt(b"hello", &mut rng).map_err(|e| format!("handshake {name}: {e}"))?;
        if b.decrypt(&m).ok().as_deref() != Some(b"hello".as_slice()) {
            return Err(format!("handshake {name}: the sessions do not agree"));
        }
    }

    Ok(file(
        "handshake",
        &[
            "Accepting an invite (spec/05-handshake.md).",
            "handshake-initiate: build the acceptor's device keys from identitySeed, kemSeed and ratchetSecret of `suite`, sign its record with `generation`, and accept `invite` with `mailbox`; the RNG yields exactly `randomness` (the HPKE encapsulation randomness). message, transcriptHash and the SHA-256 of the initiator ratchet's snapshot must match.",
            "handshake-accept: the inviter holds `invite` with the KEM key pair of kemSeed and the ratchet secret ratchetSecret, and accepts the steps' messages in order at their `now` with `allowedSuites`; each step is accepted with the given peer fields and responder snapshot digest, or refused with errorClass, changing nothing.",
        ],
        FLAGS,
        vec![
            HandshakeGroup::Initiate {
                comment: "The acceptor's handshake message.".to_owned(),
                tests: initiates,
            },
            HandshakeGroup::Accept {
                comment: "The inviter's acceptance.".to_owned(),
                tests: accepts,
            },
        ],
    ))
}
