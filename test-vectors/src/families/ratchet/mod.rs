//! `ratchet.json`: Double Ratchet sessions as scripted steps with checkpoint digests, and
//! snapshot loading (spec/06-ratchet.md).
//!
//! Every step names the side acting, its input, its expected output or error class, and
//! the SHA-256 of that side's snapshot afterwards, so a divergence is caught at the first
//! step where it happens. Failing steps must leave the digest unchanged.

use serde::{Deserialize, Serialize};

use super::hpke::flipped;
use super::{FlagDef, Ids, expect, file, sha256};
use crate::format::VectorFile;
use crate::seeds::{StreamRng, seed32};
use quietwire::envelope;
use quietwire::event::Event;
use quietwire::keys::X25519Secret;
use quietwire::ratchet::{MAX_JUMP, MAX_SKIPPED, MAX_SKIPPED_CHAINS, OVERHEAD, Ratchet};

mod events;
mod header_dh;
mod pq;
mod session;
mod snapshot;

use header_dh::header_dh_sessions;
use snapshot::{appended_snapshot_tests, snapshots, with_counter};

crate::vector_groups! {
    /// Groups of this family.
    pub enum RatchetGroup {
        /// Run the steps of each test in order on two fresh sides (or restored snapshots).
        "ratchet-session" => Session(SessionTest),
        /// Restore a snapshot; a valid one must re-encode to the same bytes.
        "ratchet-snapshot-load" => SnapshotLoad(SnapshotTest),
        /// Restore a session snapshot (ENV-08); a valid one must re-encode to the same bytes.
        "session-snapshot-load" => SessionSnapshotLoad(SessionSnapshotTest),
    }
}

crate::vector_test! {
    /// Restoring a session snapshot (spec/07-envelope.md ENV-08).
    pub struct SessionSnapshotTest {
        /// The `session-snapshot` bytes.
        session_snapshot: hex,
        /// The peer's identity key the snapshot holds (valid tests with key 4 only).
        peer_identity: hex?,
    }
}

/// Which side acts.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The side that sends first (accepted the invite).
    Initiator,
    /// The side that receives first (created the invite).
    Responder,
    /// A copy of a compromised side, restored from the test's `attackerSnapshot` (the
    /// compromise-then-heal script of spec/06-ratchet.md §6.21).
    Attacker,
}

/// One step of a session.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", deny_unknown_fields, rename_all = "camelCase")]
pub enum Step {
    /// Encrypt `plaintext` drawing exactly `randomness` from the RNG; the output must
    /// equal `message` (or the step fails with `errorClass`).
    #[serde(rename = "encrypt", rename_all = "camelCase")]
    Encrypt {
        /// Acting side.
        side: Side,
        /// The plaintext.
        #[serde(with = "crate::format::hex_bytes")]
        plaintext: Vec<u8>,
        /// The bytes the RNG yields, in order.
        #[serde(with = "crate::format::hex_bytes")]
        randomness: Vec<u8>,
        /// Expected ciphertext (absent when the step fails).
        #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::format::hex_opt")]
        message: Option<Vec<u8>>,
        /// Expected error class (absent when the step succeeds).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_class: Option<String>,
        /// SHA-256 of the side's snapshot after the step.
        #[serde(with = "crate::format::hex_bytes")]
        snapshot_digest: Vec<u8>,
    },
    /// Encrypt `count` empty messages and discard them. The RNG yields the blocks
    /// SHA-256(randomnessSeed ‖ u64le(i)) for i = 0, 1, ... in order; `messagesDigest` is
    /// the SHA-256 of the concatenated ciphertexts.
    #[serde(rename = "encrypt-discard", rename_all = "camelCase")]
    EncryptDiscard {
        /// Acting side.
        side: Side,
        /// How many messages.
        count: u32,
        /// Seed of the RNG stream.
        #[serde(with = "crate::format::hex_bytes")]
        randomness_seed: Vec<u8>,
        /// SHA-256 of all ciphertexts concatenated.
        #[serde(with = "crate::format::hex_bytes")]
        messages_digest: Vec<u8>,
        /// SHA-256 of the side's snapshot after the step.
        #[serde(with = "crate::format::hex_bytes")]
        snapshot_digest: Vec<u8>,
    },
    /// Decrypt `message`: expect `plaintext` or `errorClass`.
    #[serde(rename = "decrypt", rename_all = "camelCase")]
    Decrypt {
        /// Acting side.
        side: Side,
        /// The message as delivered.
        #[serde(with = "crate::format::hex_bytes")]
        message: Vec<u8>,
        /// Expected plaintext (absent when the step fails).
        #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::format::hex_opt")]
        plaintext: Option<Vec<u8>>,
        /// Expected error class (absent when the step succeeds).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_class: Option<String>,
        /// SHA-256 of the side's snapshot after the step (unchanged on failure).
        #[serde(with = "crate::format::hex_bytes")]
        snapshot_digest: Vec<u8>,
    },
    /// Open `message` as a blob of one's own mailbox (spec ENV-09): decrypt, remove the
    /// padding, decode the event; expect the `event` (its encoding) or `errorClass`, with
    /// the state committed only when all three succeed.
    #[serde(rename = "decrypt-event", rename_all = "camelCase")]
    DecryptEvent {
        /// Acting side.
        side: Side,
        /// The message as delivered.
        #[serde(with = "crate::format::hex_bytes")]
        message: Vec<u8>,
        /// Expected event encoding (absent when the step fails).
        #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::format::hex_opt")]
        event: Option<Vec<u8>>,
        /// Expected error class (absent when the step succeeds).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_class: Option<String>,
        /// SHA-256 of the side's snapshot after the step (unchanged on failure).
        #[serde(with = "crate::format::hex_bytes")]
        snapshot_digest: Vec<u8>,
    },
}

crate::vector_test! {
    /// A scripted session.
    pub struct SessionTest {
        /// The 32-byte secret both sides start from.
        session_secret: hex,
        /// The 32-byte associated data.
        associated_data: hex,
        /// The responder's X25519 ratchet secret; the initiator starts from its public key.
        responder_ratchet_secret: hex,
        /// `true` for a post-quantum session (RAT-11); absent for a classic one.
        post_quantum: ?bool,
        /// When present, the initiator starts from this snapshot instead.
        initiator_snapshot: hex?,
        /// When present, a third state, the `attacker` side, starts from this snapshot (a
        /// side's state taken by an attacker, §6.21).
        attacker_snapshot: hex?,
        /// The steps, in order.
        steps: Vec<Step>,
    }
}

crate::vector_test! {
    /// A snapshot to restore.
    pub struct SnapshotTest {
        /// The snapshot.
        snapshot: hex,
    }
}

const FLAGS: &[FlagDef] = crate::flag_defs! {
    InOrder: Basic ["RAT-01", "RAT-03", "RAT-04"]
        "Messages delivered in order, both directions, with DH steps.";
    OutOfOrder: Basic ["RAT-06", "RAT-07"]
        "Messages delivered out of order, within and across chains.";
    Replay: Malleability ["RAT-09"] "A message delivered again after it was opened.";
    Tampered: AuthBypass ["RAT-05", "RAT-08"]
        "A modified header or body; the state must not change.";
    WrongSession: AuthBypass ["RAT-05"] "A message of another session or associated data.";
    JumpLimit: CanOfWorms ["RAT-07"] "A message that would skip more keys than the limit.";
    Eviction: EdgeCase ["RAT-07"] "The oldest skipped keys are evicted when the store is full.";
    Format: Basic ["RAT-05"] "A message too short to hold a header and a tag.";
    Misuse: Defined ["RAT-02", "RAT-04"]
        "Sending before a sending chain exists, or past the counter's range.";
    Snapshot: Defined ["RAT-10"] "Snapshot encoding, strict decoding and round trip.";
    PostQuantum: Basic ["RAT-11", "RAT-12", "RAT-13", "RAT-14"]
        "A post-quantum session: ML-KEM-768 in every DH step, KEM fields in every header.";
    PostQuantumKem: AuthBypass ["RAT-14"]
        "An authentic header whose KEM fields the receiver must refuse: an invalid encapsulation key, a ciphertext for no key, or no ciphertext for its key.";
    CompromiseHeal: Defined ["RAT-11", "RAT-13", "RAT-14"]
        "The compromise-then-heal script (spec/06-ratchet.md §6.21): an attacker side restored from attackerSnapshot follows the session with the compromised side's X25519 randomness but not its ML-KEM randomness.";
    PostQuantumSnapshot: Defined ["RAT-15"]
        "A version-2 snapshot: encoding, strict decoding, consistency of the KEM state.";
    EventContent: MissingStep ["ENV-09", "RAT-08"]
        "Authentic content that is not a padded, acceptable event: refused, state unchanged, the message still opens as plain ratchet content.";
    SessionSnapshot: Defined ["ENV-08"]
        "A session snapshot with or without the peer's identity key: restored, re-encoded byte for byte.";
    SessionSnapshotSchema: Basic ["ENV-08", "ENC-11", "ENC-12", "ENC-13"]
        "A structural fault of a session snapshot: trailing bytes, version, unknown keys, mistyped or missized fields.";
    SessionSnapshotRatchet: Defined ["ENV-08", "RAT-10"]
        "A session snapshot whose ratchet snapshot RAT-10 refuses.";
    SessionPeerKey: AuthBypass ["ENV-08", "SUI-04"]
        "A session snapshot whose peer identity key is not a valid Ed25519 public key.";
    SessionSnapshotOrder: Defined ["ENV-08"]
        "Several faults in a session snapshot: the rule's check order decides the class.";
};

/// Builds one scenario by running the implementation and recording every step.
struct Scenario {
    slug: String,
    post_quantum: bool,
    sides: (Ratchet, Ratchet),
    secret: [u8; 32],
    ad: [u8; 32],
    responder_secret: [u8; 32],
    initiator_snapshot: Option<Vec<u8>>,
    /// The attacker's copy of a compromised side, and the snapshot it started from.
    attacker: Option<(Ratchet, Vec<u8>)>,
    rng: StreamRng,
    steps: Vec<Step>,
    sent: Vec<Vec<u8>>,
    failures: Vec<String>,
}

/// One step of a session as the case tables write it. Messages are numbered in the order
/// they were sent, from 0 (a failed or discarded encryption sends nothing).
enum Op<'a> {
    /// `side` encrypts the text.
    Enc(Side, &'a str),
    /// `side` decrypts message `n`: its text, or the error class.
    Dec(Side, usize, Result<&'a str, &'a str>),
    /// `side` receives message `n` changed by the function, refused with the class; the
    /// state must not change.
    Forged(Side, usize, fn(&[u8]) -> Vec<u8>, &'a str),
    /// `side` receives these bytes (not sent in this session): their text or error class.
    Bytes(Side, Vec<u8>, Result<&'a str, &'a str>),
    /// `side` encrypts and discards this many empty messages.
    Discard(Side, u32),
    /// `side` cannot encrypt: the error class.
    EncFails(Side, &'a str),
    /// `side` encrypts these bytes (an event padded for a ratchet message, or not: ENV-09).
    EncBytes(Side, Vec<u8>),
    /// `side` opens message `n` as an event: its encoding, or the error class.
    DecEvent(Side, usize, Result<Vec<u8>, &'a str>),
    /// `side` opens message `n` as plain ratchet content, which must be these bytes.
    DecPlain(Side, usize, Vec<u8>),
}

impl Scenario {
    /// A classic session (RAT-01).
    fn new(slug: &str) -> Scenario {
        Scenario::of(slug, false)
    }

    /// A classic session, or a post-quantum one (RAT-11) if `post_quantum`.
    fn of(slug: &str, post_quantum: bool) -> Scenario {
        let secret = seed32(&format!("ratchet/{slug}/session-secret"));
        let ad = seed32(&format!("ratchet/{slug}/associated-data"));
        let responder_secret = seed32(&format!("ratchet/{slug}/responder-ratchet"));
        let responder_key = X25519Secret::from_bytes(&responder_secret);
        let sides = if post_quantum {
            (
                Ratchet::pq_initiator(&secret, *responder_key.public(), &ad),
                Ratchet::pq_responder(&secret, responder_key, &ad),
            )
        } else {
            (
                Ratchet::initiator(&secret, *responder_key.public(), &ad),
                Ratchet::responder(&secret, responder_key, &ad),
            )
        };
        Scenario {
            slug: slug.to_owned(),
            post_quantum,
            sides,
            secret,
            ad,
            responder_secret,
            initiator_snapshot: None,
            attacker: None,
            rng: StreamRng::new(seed32(&format!("ratchet/{slug}/rng"))),
            steps: Vec::new(),
            sent: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// Runs `ops` in order.
    fn run(&mut self, ops: Vec<Op<'_>>) -> Result<(), String> {
        for op in ops {
            match op {
                Op::Enc(side, text) => self.send(side, text).map(drop)?,
                Op::Dec(side, n, expect) => self.deliver(side, n, expect)?,
                Op::Forged(side, n, edit, class) => {
                    let forged = edit(&self.sent(n)?);
                    self.receive(side, forged, false, Err(class))?;
                }
                Op::Bytes(side, bytes, expect) => {
                    self.receive(side, bytes, false, expect.map(str::as_bytes))?;
                }
                Op::Discard(side, count) => self.discard(side, count)?,
                Op::EncFails(side, class) => {
                    self.encrypt(side, b"x".to_vec(), Some(class)).map(drop)?
                }
                Op::EncBytes(side, bytes) => self.encrypt(side, bytes, None).map(drop)?,
                Op::DecEvent(side, n, expect) => {
                    self.receive(side, self.sent(n)?, true, expect.as_deref().map_err(|c| *c))?;
                }
                Op::DecPlain(side, n, bytes) => {
                    self.receive(side, self.sent(n)?, false, Ok(&bytes))?
                }
            }
        }
        Ok(())
    }

    fn snapshot_digest(&self, side: Side) -> Vec<u8> {
        let ratchet = match (side, &self.attacker) {
            (Side::Initiator, _) => &self.sides.0,
            (Side::Responder, _) => &self.sides.1,
            (Side::Attacker, Some((attacker, _))) => attacker,
            (Side::Attacker, None) => return Vec::new(),
        };
        sha256(&ratchet.snapshot())
    }

    /// The attacker takes `side`'s state as it is now.
    fn compromise(&mut self, side: Side) -> Result<(), String> {
        let ratchet = if side == Side::Initiator { &self.sides.0 } else { &self.sides.1 };
        let snapshot = ratchet.snapshot().to_vec();
        let copy = Ratchet::from_snapshot(&snapshot).map_err(|e| format!("{e:?}"))?;
        self.attacker = Some((copy, snapshot));
        Ok(())
    }

    /// The randomness the last step drew (an encryption's), or nothing.
    fn last_randomness(&self) -> Vec<u8> {
        match self.steps.last() {
            Some(Step::Encrypt { randomness, .. }) => randomness.clone(),
            _ => Vec::new(),
        }
    }

    /// The attacker encrypts `text` drawing exactly `randomness`; the message is recorded
    /// in the step but not sent.
    fn attacker_encrypt(&mut self, text: &str, randomness: Vec<u8>) -> Result<(), String> {
        let side = Side::Attacker;
        let before = self.snapshot_digest(side);
        let mut rng = crate::seeds::ReplayRng::new(&[&randomness]);
        let got =
            pick(&mut self.sides, &mut self.attacker, side)?.encrypt(text.as_bytes(), &mut rng);
        if !rng.finished() {
            return Err(format!("ratchet {}: attacker randomness not consumed", self.slug));
        }
        let message = self.check(side, &before, got, None)?;
        self.steps.push(Step::Encrypt {
            side,
            plaintext: text.as_bytes().to_vec(),
            randomness,
            message,
            error_class: None,
            snapshot_digest: self.snapshot_digest(side),
        });
        Ok(())
    }

    fn sent(&self, n: usize) -> Result<Vec<u8>, String> {
        self.sent.get(n).cloned().ok_or_else(|| format!("ratchet {}: no message {n}", self.slug))
    }

    /// Holds `got` to `class` (success when `None`); a failure must leave `side`'s snapshot
    /// digest at `before`, and is recorded for the test's error class.
    fn check<T>(
        &mut self,
        side: Side,
        before: &[u8],
        got: quietwire::Result<T>,
        class: Option<&str>,
    ) -> Result<Option<T>, String> {
        let value = expect(&format!("ratchet {}", self.slug), got, class)?;
        if let Some(class) = class {
            if self.snapshot_digest(side) != before {
                return Err(format!("ratchet {}: a failed step changed the state", self.slug));
            }
            self.failures.push(class.to_owned());
        }
        Ok(value)
    }

    /// Encrypts; returns the index of the message in `sent`.
    fn send(&mut self, side: Side, text: &str) -> Result<usize, String> {
        self.encrypt(side, text.as_bytes().to_vec(), None)
    }

    /// Encrypts `plaintext`, which must succeed when `class` is `None` (the message is
    /// appended to `sent`; its index is returned) and fail with `class` otherwise.
    fn encrypt(
        &mut self,
        side: Side,
        plaintext: Vec<u8>,
        class: Option<&str>,
    ) -> Result<usize, String> {
        let before = self.snapshot_digest(side);
        let got =
            pick(&mut self.sides, &mut self.attacker, side)?.encrypt(&plaintext, &mut self.rng);
        let message = self.check(side, &before, got, class)?;
        self.steps.push(Step::Encrypt {
            side,
            plaintext,
            randomness: self.rng.take_drawn(),
            message: message.clone(),
            error_class: class.map(str::to_owned),
            snapshot_digest: self.snapshot_digest(side),
        });
        self.sent.extend(message);
        Ok(self.sent.len().saturating_sub(1))
    }

    fn discard(&mut self, side: Side, count: u32) -> Result<(), String> {
        let seed = seed32(&format!("ratchet/{}/discard/{}", self.slug, self.steps.len()));
        let mut rng = StreamRng::new(seed);
        let mut all = Vec::new();
        for _ in 0..count {
            let m = pick(&mut self.sides, &mut self.attacker, side)?
                .encrypt(&[], &mut rng)
                .map_err(|e| format!("ratchet {}: discard failed: {e:?}", self.slug))?;
            all.extend_from_slice(&m);
        }
        self.steps.push(Step::EncryptDiscard {
            side,
            count,
            randomness_seed: seed.to_vec(),
            messages_digest: sha256(&all),
            snapshot_digest: self.snapshot_digest(side),
        });
        Ok(())
    }

    /// Delivers `message` to `side`, opened as plain ratchet content, or as an event when
    /// `event` (decrypt, remove the padding, decode: ENV-09), and records the expectation:
    /// the plaintext (or the event's encoding), or the error class.
    fn receive(
        &mut self,
        side: Side,
        message: Vec<u8>,
        event: bool,
        expect: Result<&[u8], &str>,
    ) -> Result<(), String> {
        let before = self.snapshot_digest(side);
        let ratchet = pick(&mut self.sides, &mut self.attacker, side)?;
        let got = if event {
            ratchet
                .decrypt_then(&message, |padded| Event::from_bytes(envelope::unpad(padded)?))
                .and_then(|event| event.to_bytes())
        } else {
            ratchet.decrypt(&message)
        };
        let opened = self.check(side, &before, got, expect.err())?;
        if let (Some(got), Ok(want)) = (&opened, expect)
            && got != want
        {
            return Err(format!("ratchet {}: expected {want:?}, got {got:?}", self.slug));
        }
        let error_class = expect.err().map(str::to_owned);
        let snapshot_digest = self.snapshot_digest(side);
        self.steps.push(if event {
            Step::DecryptEvent { side, message, event: opened, error_class, snapshot_digest }
        } else {
            Step::Decrypt { side, message, plaintext: opened, error_class, snapshot_digest }
        });
        Ok(())
    }

    /// Delivers sent message `n` to `side`: expects its text or the error class.
    fn deliver(&mut self, side: Side, n: usize, expect: Result<&str, &str>) -> Result<(), String> {
        let message = self.sent(n)?;
        self.receive(side, message, false, expect.map(str::as_bytes))
    }

    /// Both sides' snapshots now: [initiator, responder].
    fn snapshots(&self) -> [Vec<u8>; 2] {
        [self.sides.0.snapshot().to_vec(), self.sides.1.snapshot().to_vec()]
    }
}

/// The state of `side`; the attacker's only once a side was compromised.
fn pick<'a>(
    sides: &'a mut (Ratchet, Ratchet),
    attacker: &'a mut Option<(Ratchet, Vec<u8>)>,
    side: Side,
) -> Result<&'a mut Ratchet, String> {
    match side {
        Side::Initiator => Ok(&mut sides.0),
        Side::Responder => Ok(&mut sides.1),
        Side::Attacker => attacker.as_mut().map(|(a, _)| a).ok_or_else(|| "no attacker".into()),
    }
}

/// Builds the session tests of a group, in order.
struct Sessions<'a> {
    ids: &'a mut Ids,
    tests: Vec<SessionTest>,
    /// Both sides' snapshots at the end of the last session: [initiator, responder].
    last: [Vec<u8>; 2],
}

impl Sessions<'_> {
    fn new(ids: &mut Ids) -> Sessions<'_> {
        Sessions { ids, tests: Vec::new(), last: Default::default() }
    }

    /// The test of the scenario `s` as it ran.
    fn push(&mut self, s: Scenario, comment: &str, f: &[&str]) -> Result<(), String> {
        let classes: std::collections::BTreeSet<&String> = s.failures.iter().collect();
        if classes.len() > 1 {
            return Err(format!("ratchet {}: several failure classes {classes:?}", s.slug));
        }
        let class = classes.into_iter().next().map(String::as_str);
        self.last = s.snapshots();
        let head = self.ids.head(&s.slug, comment, f, class);
        let (secret, ad, responder) =
            (s.secret.to_vec(), s.ad.to_vec(), s.responder_secret.to_vec());
        let pq = s.post_quantum.then_some(true);
        let attacker = s.attacker.map(|(_, snapshot)| snapshot);
        let test = SessionTest::new(
            head,
            secret,
            ad,
            responder,
            pq,
            s.initiator_snapshot,
            attacker,
            s.steps,
        );
        self.tests.push(test);
        Ok(())
    }

    /// A classic session `slug` from a fresh start, running `ops`.
    fn run(
        &mut self,
        slug: &str,
        comment: &str,
        f: &[&str],
        ops: Vec<Op<'_>>,
    ) -> Result<(), String> {
        self.run_of(false, slug, comment, f, ops)
    }

    /// A post-quantum session `slug` from a fresh start, running `ops`.
    fn run_pq(
        &mut self,
        slug: &str,
        comment: &str,
        f: &[&str],
        ops: Vec<Op<'_>>,
    ) -> Result<(), String> {
        self.run_of(true, slug, comment, f, ops)
    }

    fn run_of(
        &mut self,
        post_quantum: bool,
        slug: &str,
        comment: &str,
        f: &[&str],
        ops: Vec<Op<'_>>,
    ) -> Result<(), String> {
        let mut s = Scenario::of(slug, post_quantum);
        s.run(ops)?;
        self.push(s, comment, f)
    }
}

use Op::{Dec, Discard, Enc, EncFails, Forged};
use Side::{Initiator as I, Responder as R};

/// Three rounds of two messages from the initiator and a reply, each delivered at once.
fn alternating(s: &mut Scenario) -> Result<(), String> {
    for round in 0..3 {
        for i in 0..2 {
            let m = s.send(I, &format!("i{round}.{i}"))?;
            s.deliver(R, m, Ok(&format!("i{round}.{i}")))?;
        }
        let m = s.send(R, &format!("r{round}"))?;
        s.deliver(I, m, Ok(&format!("r{round}")))?;
    }
    Ok(())
}

/// The scripted sessions, and the final snapshots of one of them for the load tests.
fn sessions(ids: &mut Ids) -> Result<(Vec<SessionTest>, [Vec<u8>; 2]), String> {
    let mut b = Sessions::new(ids);

    let mut s = Scenario::new("in-order");
    alternating(&mut s)?;
    b.push(s, "Alternating directions: a DH step at every turn.", &["InOrder"])?;

    crate::rows! { b.run:
        "out-of-order-one-chain", "Four messages of one chain delivered as 2, 0, 3, 1.",
            &["OutOfOrder"],
            vec![Enc(I, "m0"), Enc(I, "m1"), Enc(I, "m2"), Enc(I, "m3"),
                Dec(R, 2, Ok("m2")), Dec(R, 0, Ok("m0")), Dec(R, 3, Ok("m3")), Dec(R, 1, Ok("m1"))];
        "out-of-order-across-steps", "Late messages of the previous chain open after a DH step.",
            &["OutOfOrder"],
            vec![Enc(I, "m0"), Enc(I, "m1"), Enc(I, "m2"), Dec(R, 0, Ok("m0")), Enc(R, "r0"),
                Dec(I, 3, Ok("r0")), Enc(I, "m3"), Dec(R, 4, Ok("m3")), Dec(R, 2, Ok("m2")),
                Dec(R, 1, Ok("m1"))];
    }
    // The final snapshots of the session above, for the snapshot-load tests.
    let base = b.last.clone();

    let skipped = u32::try_from(MAX_SKIPPED).map_err(|e| e.to_string())? - 2;
    let mut other = Scenario::new("foreign-message/other-session");
    let elsewhere = other.send(I, "elsewhere")?;
    let foreign = other.sent(elsewhere)?;
    crate::rows! { b.run:
        "replay-in-current-chain", "The same message twice: the second delivery is refused.",
            &["Replay"], vec![Enc(I, "m0"), Dec(R, 0, Ok("m0")), Dec(R, 0, Err("ratchet.replay"))];
        "replay-of-skipped-key", "A skipped key is deleted once used.", &["Replay", "OutOfOrder"],
            vec![Enc(I, "m0"), Enc(I, "m1"), Dec(R, 1, Ok("m1")), Dec(R, 0, Ok("m0")),
                Dec(R, 0, Err("ratchet.replay"))];
        "replay-of-forgotten-chain",
            "A message of a chain with no stored keys left: its header key is gone, so it cannot be told from a foreign message.",
            &["Replay"],
            vec![Enc(I, "m0"), Dec(R, 0, Ok("m0")), Enc(R, "r0"), Dec(I, 1, Ok("r0")),
                Enc(I, "m1"), Dec(R, 2, Ok("m1")), Dec(R, 0, Err("ratchet.header"))];
        "tampered-header", "One bit of the encrypted header flipped; the original still opens.",
            &["Tampered"],
            vec![Enc(I, "m0"), Forged(R, 0, |m| flipped(m, 30, 0x01), "ratchet.header"),
                Dec(R, 0, Ok("m0"))];
        "tampered-body", "One bit of the body tag flipped; the original still opens.",
            &["Tampered"],
            vec![Enc(I, "m0"), Forged(R, 0, |m| flipped(m, -1, 0x80), "ratchet.body"),
                Dec(R, 0, Ok("m0"))];
        "tampered-body-on-dh-step",
            "A forged body on the message that starts a new chain commits no DH step.",
            &["Tampered"],
            vec![Enc(I, "m0"), Dec(R, 0, Ok("m0")), Enc(R, "r0"),
                Forged(I, 1, |m| flipped(m, -1, 0x01), "ratchet.body"), Dec(I, 1, Ok("r0"))];
        "truncated", "One byte shorter than header and tag.", &["Format"],
            vec![Enc(I, "m0"),
                Forged(R, 0, |m| m.get(..OVERHEAD - 1).unwrap_or(m).to_vec(), "ratchet.format")];
        "foreign-message", "A message of another session.", &["WrongSession"],
            vec![Op::Bytes(R, foreign, Err("ratchet.header"))];
        "responder-sends-first", "The responder has no sending chain before its first receipt.",
            &["Misuse"], vec![EncFails(R, "ratchet.no_sending_chain")];
        "jump-limit-exceeded",
            "Message number MAX_JUMP + 1 of a fresh chain skips one key too many.", &["JumpLimit"],
            vec![Discard(I, MAX_JUMP + 1), Enc(I, "too far"), Dec(R, 0, Err("ratchet.jump_limit"))];
        "jump-limit-reached", "Message number MAX_JUMP skips exactly MAX_JUMP keys: accepted.",
            &["JumpLimit"],
            vec![Discard(I, MAX_JUMP), Enc(I, "just in reach"), Dec(R, 0, Ok("just in reach"))];
        "eviction",
            "MAX_SKIPPED keys stored, then one more: the oldest (message 0) is evicted, message 1 still opens.",
            &["Eviction"],
            vec![Enc(I, "first"), Enc(I, "second"), Discard(I, skipped),
                Enc(I, "fills the store"), Dec(R, 2, Ok("fills the store")),
                Enc(I, "next"), Dec(R, 3, Ok("next")), Enc(R, "r0"), Dec(I, 4, Ok("r0")),
                Enc(I, "x"), Enc(I, "y"), Dec(R, 6, Ok("y")),
                Dec(R, 0, Err("ratchet.replay")), Dec(R, 1, Ok("second"))];
    }

    let mut s = Scenario::new("counter-exhausted");
    let m0 = s.send(I, "m0")?;
    s.deliver(R, m0, Ok("m0"))?;
    let exhausted = with_counter(&s.sides.0.snapshot(), 8, u64::from(u32::MAX))?;
    s.sides.0 = Ratchet::from_snapshot(&exhausted).map_err(|e| format!("{e:?}"))?;
    s.initiator_snapshot = Some(exhausted);
    s.steps.clear();
    s.sent.clear();
    s.run(vec![EncFails(I, "ratchet.exhausted")])?;
    b.push(
        s,
        "The initiator starts from a snapshot whose sending counter is 2^32 - 1.",
        &["Misuse", "Snapshot"],
    )?;

    Ok((b.tests, base))
}

/// Sessions added after the first release of the file; their ids follow the snapshot tests
/// so that earlier ids stay stable.
fn later_sessions(ids: &mut Ids) -> Result<Vec<SessionTest>, String> {
    let mut b = Sessions::new(ids);
    for (slug, extra, expect, comment) in crate::tuples! {
        "jump-limit-previous-chain-exceeded", 1, Err("ratchet.jump_limit"),
            "The first message of a new chain whose previous counter would leave MAX_JUMP + 1 keys of the old chain to store.";
        "jump-limit-previous-chain-reached", 0, Ok("new chain"),
            "The previous counter leaves exactly MAX_JUMP keys of the old chain to store: accepted.";
    } {
        crate::rows! { b.run:
            slug, comment, &["JumpLimit"],
                vec![Enc(I, "m0"), Dec(R, 0, Ok("m0")), Enc(R, "r0"), Discard(I, MAX_JUMP + extra),
                    Dec(I, 1, Ok("r0")), Enc(I, "new chain"), Dec(R, 2, expect)];
        }
    }

    let mut s = Scenario::new("eviction-of-chains");
    let mut lost = Vec::new();
    for round in 0..=MAX_SKIPPED_CHAINS {
        lost.push(s.send(I, &format!("lost {round}"))?);
        let kept = s.send(I, &format!("kept {round}"))?;
        s.deliver(R, kept, Ok(&format!("kept {round}")))?;
        let reply = s.send(R, &format!("reply {round}"))?;
        s.deliver(I, reply, Ok(&format!("reply {round}")))?;
    }
    let first = *lost.first().ok_or("no rounds")?;
    let second = *lost.get(1).ok_or("one round")?;
    s.run(vec![Dec(R, first, Err("ratchet.header")), Dec(R, second, Ok("lost 1"))])?;
    b.push(
        s,
        "MAX_SKIPPED_CHAINS + 1 chains each leave one skipped key: the oldest chain's key is evicted with its header key, the next chain's key still opens.",
        &["Eviction"],
    )?;
    Ok(b.tests)
}

/// Generates `ratchet.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<RatchetGroup>, String> {
    let mut ids = Ids::default();
    let (session_tests, base) = sessions(&mut ids)?;
    let snapshot_tests = snapshots(&mut ids, &base)?;
    let later_tests = later_sessions(&mut ids)?;
    let appended_snapshots = appended_snapshot_tests(&mut ids)?;
    let header_dh_tests = header_dh_sessions(&mut ids)?;
    let event_tests = events::sessions(&mut ids)?;
    let session_snapshot_tests = session::session_snapshots(&mut ids)?;
    let (pq_session_tests, pq_base) = pq::sessions(&mut ids)?;
    let pq_snapshot_tests = pq::snapshots(&mut ids, &pq_base)?;
    Ok(file(
        "ratchet",
        &[
            "Double Ratchet with header encryption (spec/06-ratchet.md).",
            "ratchet-session: the responder starts from responderRatchetSecret, the initiator from its public key (or initiatorSnapshot); run the steps in order. With postQuantum, both sides run the post-quantum ratchet (RAT-11).",
            "After every step the acting side's snapshot must hash to snapshotDigest; a failing step must not change it.",
            "ratchet-snapshot-load: restore the snapshot; a valid one must re-encode to the same bytes.",
            "session-snapshot-load: restore the session snapshot (spec/07-envelope.md ENV-08); `sessionSnapshot` must re-encode to the same bytes and hold `peerIdentity` (absent: none).",
        ],
        FLAGS,
        crate::groups! { RatchetGroup:
            Session("Scripted sessions.", session_tests);
            SnapshotLoad("Snapshot decoding.", snapshot_tests);
            Session("Limits across chains.", later_tests);
            SnapshotLoad("Snapshot consistency added later (RAT-10 step 7).", appended_snapshots);
            Session("Headers whose dh fails validation (RAT-06 step 2.3).", header_dh_tests);
            Session(
                "Opening events: content refused after the ratchet opened it commits nothing (ENV-09).",
                event_tests);
            SessionSnapshotLoad(
                "Session snapshots (ENV-08): the ratchet snapshot, the peer's mailbox and the optional peer identity key.",
                session_snapshot_tests);
            Session(
                "Post-quantum sessions (RAT-11 to RAT-14): ML-KEM-768 in every DH step.",
                pq_session_tests);
            SnapshotLoad("Post-quantum snapshots (RAT-15, version 2).", pq_snapshot_tests);
        },
    ))
}
