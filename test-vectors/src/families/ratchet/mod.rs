//! `ratchet.json`: Double Ratchet sessions as scripted steps with checkpoint digests, and
//! snapshot loading (spec/06-ratchet.md).
//!
//! Every step names the side acting, its input, its expected output or error class, and
//! the SHA-256 of that side's snapshot afterwards, so a divergence is caught at the first
//! step where it happens. Failing steps must leave the digest unchanged.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{FlagDef, Ids, file, flags};
use crate::format::{Outcome, VectorFile};
use crate::seeds::{StreamRng, seed32};
use quietwire::keys::X25519Secret;
use quietwire::ratchet::{MAX_JUMP, MAX_SKIPPED, MAX_SKIPPED_CHAINS, Ratchet};

mod events;
mod header_dh;
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[serde(with = "crate::format::hex_opt")]
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[serde(with = "crate::format::hex_opt")]
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[serde(with = "crate::format::hex_opt")]
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
        /// When present, the initiator starts from this snapshot instead.
        initiator_snapshot: hex?,
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
    EventContent: MissingStep ["ENV-09", "RAT-08"]
        "Authentic content that is not a padded, acceptable event: refused, state unchanged, the message still opens as plain ratchet content.";
};

fn digest(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// Builds one scenario by running the implementation and recording every step.
struct Scenario {
    slug: String,
    sides: (Ratchet, Ratchet),
    secret: [u8; 32],
    ad: [u8; 32],
    responder_secret: [u8; 32],
    initiator_snapshot: Option<Vec<u8>>,
    rng: StreamRng,
    steps: Vec<Step>,
    sent: Vec<Vec<u8>>,
    failures: Vec<String>,
}

impl Scenario {
    fn new(slug: &str) -> Scenario {
        let secret = seed32(&format!("ratchet/{slug}/session-secret"));
        let ad = seed32(&format!("ratchet/{slug}/associated-data"));
        let responder_secret = seed32(&format!("ratchet/{slug}/responder-ratchet"));
        let responder_key = X25519Secret::from_bytes(&responder_secret);
        let sides = (
            Ratchet::initiator(&secret, *responder_key.public(), &ad),
            Ratchet::responder(&secret, responder_key, &ad),
        );
        Scenario {
            slug: slug.to_owned(),
            sides,
            secret,
            ad,
            responder_secret,
            initiator_snapshot: None,
            rng: StreamRng::new(seed32(&format!("ratchet/{slug}/rng"))),
            steps: Vec::new(),
            sent: Vec::new(),
            failures: Vec::new(),
        }
    }

    fn snapshot_digest(&self, side: Side) -> Vec<u8> {
        let ratchet = match side {
            Side::Initiator => &self.sides.0,
            Side::Responder => &self.sides.1,
        };
        digest(&ratchet.snapshot())
    }

    fn sent(&self, index: usize) -> Result<Vec<u8>, String> {
        self.sent
            .get(index)
            .cloned()
            .ok_or_else(|| format!("ratchet {}: no message {index}", self.slug))
    }

    /// Encrypts; returns the index of the message in `sent`.
    fn send(&mut self, side: Side, text: &str) -> Result<usize, String> {
        self.send_bytes(side, text.as_bytes().to_vec())
    }

    /// Encrypts `plaintext`; returns the index of the message in `sent`.
    fn send_bytes(&mut self, side: Side, plaintext: Vec<u8>) -> Result<usize, String> {
        let message = pick(&mut self.sides, side)
            .encrypt(&plaintext, &mut self.rng)
            .map_err(|e| format!("ratchet {}: encrypt failed: {e:?}", self.slug))?;
        let randomness = self.rng.take_drawn();
        self.steps.push(Step::Encrypt {
            side,
            plaintext,
            randomness,
            message: Some(message.clone()),
            error_class: None,
            snapshot_digest: self.snapshot_digest(side),
        });
        self.sent.push(message);
        Ok(self.sent.len() - 1)
    }

    fn send_fails(&mut self, side: Side, class: &str) -> Result<(), String> {
        let before = self.snapshot_digest(side);
        match pick(&mut self.sides, side).encrypt(b"x", &mut self.rng) {
            Err(e) if e.class().as_str() == class => {}
            other => {
                return Err(format!("ratchet {}: expected {class}, got {other:?}", self.slug));
            }
        }
        let randomness = self.rng.take_drawn();
        if self.snapshot_digest(side) != before {
            return Err(format!("ratchet {}: failed encrypt changed state", self.slug));
        }
        self.steps.push(Step::Encrypt {
            side,
            plaintext: b"x".to_vec(),
            randomness,
            message: None,
            error_class: Some(class.to_owned()),
            snapshot_digest: before,
        });
        self.failures.push(class.to_owned());
        Ok(())
    }

    fn discard(&mut self, side: Side, count: u32) -> Result<(), String> {
        let seed = seed32(&format!("ratchet/{}/discard/{}", self.slug, self.steps.len()));
        let mut rng = StreamRng::new(seed);
        let mut all = Vec::new();
        for _ in 0..count {
            let m = pick(&mut self.sides, side)
                .encrypt(&[], &mut rng)
                .map_err(|e| format!("ratchet {}: discard failed: {e:?}", self.slug))?;
            all.extend_from_slice(&m);
        }
        self.steps.push(Step::EncryptDiscard {
            side,
            count,
            randomness_seed: seed.to_vec(),
            messages_digest: digest(&all),
            snapshot_digest: self.snapshot_digest(side),
        });
        Ok(())
    }

    /// Delivers `message` to `side` and records the expectation.
    fn deliver_bytes(
        &mut self,
        side: Side,
        message: Vec<u8>,
        expect: Result<&str, &str>,
    ) -> Result<(), String> {
        let before = self.snapshot_digest(side);
        let got = pick(&mut self.sides, side).decrypt(&message);
        let (plaintext, error_class) = match (got, expect) {
            (Ok(p), Ok(text)) if p == text.as_bytes() => (Some(p), None),
            (Err(e), Err(class)) if e.class().as_str() == class => {
                if self.snapshot_digest(side) != before {
                    return Err(format!("ratchet {}: failed decrypt changed state", self.slug));
                }
                self.failures.push(class.to_owned());
                (None, Some(class.to_owned()))
            }
            (got, expect) => {
                return Err(format!("ratchet {}: expected {expect:?}, got {got:?}", self.slug));
            }
        };
        self.steps.push(Step::Decrypt {
            side,
            message,
            plaintext,
            error_class,
            snapshot_digest: self.snapshot_digest(side),
        });
        Ok(())
    }

    fn deliver(
        &mut self,
        side: Side,
        sent: usize,
        expect: Result<&str, &str>,
    ) -> Result<(), String> {
        let message = self.sent(sent)?;
        self.deliver_bytes(side, message, expect)
    }

    /// Both sides' snapshots now: [initiator, responder].
    fn snapshots(&self) -> [Vec<u8>; 2] {
        [self.sides.0.snapshot().to_vec(), self.sides.1.snapshot().to_vec()]
    }

    fn finish(self, ids: &mut Ids, comment: &str, flag: &[&str]) -> Result<SessionTest, String> {
        let classes: std::collections::BTreeSet<&String> = self.failures.iter().collect();
        if classes.len() > 1 {
            return Err(format!("ratchet {}: several failure classes {classes:?}", self.slug));
        }
        let error_class = classes.into_iter().next().cloned();
        Ok(SessionTest {
            tc_id: ids.next_id(),
            slug: self.slug.clone(),
            comment: comment.to_owned(),
            flags: flags(flag),
            session_secret: self.secret.to_vec(),
            associated_data: self.ad.to_vec(),
            responder_ratchet_secret: self.responder_secret.to_vec(),
            initiator_snapshot: self.initiator_snapshot,
            result: if error_class.is_some() { Outcome::Invalid } else { Outcome::Valid },
            error_class,
            steps: self.steps,
        })
    }
}

fn pick(sides: &mut (Ratchet, Ratchet), side: Side) -> &mut Ratchet {
    match side {
        Side::Initiator => &mut sides.0,
        Side::Responder => &mut sides.1,
    }
}

use Side::{Initiator as I, Responder as R};

/// The scripted sessions, and the final snapshots of one of them for the load tests.
fn sessions(ids: &mut Ids) -> Result<(Vec<SessionTest>, [Vec<u8>; 2]), String> {
    let mut tests = Vec::new();

    let mut s = Scenario::new("in-order");
    for round in 0..3 {
        for i in 0..2 {
            let m = s.send(I, &format!("i{round}.{i}"))?;
            s.deliver(R, m, Ok(&format!("i{round}.{i}")))?;
        }
        let m = s.send(R, &format!("r{round}"))?;
        s.deliver(I, m, Ok(&format!("r{round}")))?;
    }
    tests.push(s.finish(ids, "Alternating directions: a DH step at every turn.", &["InOrder"])?);

    let mut s = Scenario::new("out-of-order-one-chain");
    for i in 0..4 {
        s.send(I, &format!("m{i}"))?; // message i is sent message i
    }
    for i in [2, 0, 3, 1] {
        s.deliver(R, i, Ok(&format!("m{i}")))?;
    }
    tests.push(s.finish(
        ids,
        "Four messages of one chain delivered as 2, 0, 3, 1.",
        &["OutOfOrder"],
    )?);

    let mut s = Scenario::new("out-of-order-across-steps");
    let m0 = s.send(I, "m0")?;
    let m1 = s.send(I, "m1")?;
    let m2 = s.send(I, "m2")?;
    s.deliver(R, m0, Ok("m0"))?;
    let r0 = s.send(R, "r0")?;
    s.deliver(I, r0, Ok("r0"))?;
    let m3 = s.send(I, "m3")?;
    crate::rows! { s.deliver:
        R, m3, Ok("m3");
        R, m2, Ok("m2");
        R, m1, Ok("m1");
    }
    let base = s.snapshots();
    tests.push(s.finish(
        ids,
        "Late messages of the previous chain open after a DH step.",
        &["OutOfOrder"],
    )?);

    let mut s = Scenario::new("replay-in-current-chain");
    let m0 = s.send(I, "m0")?;
    crate::rows! { s.deliver:
        R, m0, Ok("m0");
        R, m0, Err("ratchet.replay");
    }
    tests.push(s.finish(
        ids,
        "The same message twice: the second delivery is refused.",
        &["Replay"],
    )?);

    let mut s = Scenario::new("replay-of-skipped-key");
    let m0 = s.send(I, "m0")?;
    let m1 = s.send(I, "m1")?;
    crate::rows! { s.deliver:
        R, m1, Ok("m1");
        R, m0, Ok("m0");
        R, m0, Err("ratchet.replay");
    }
    tests.push(s.finish(ids, "A skipped key is deleted once used.", &["Replay", "OutOfOrder"])?);

    let mut s = Scenario::new("replay-of-forgotten-chain");
    let m0 = s.send(I, "m0")?;
    s.deliver(R, m0, Ok("m0"))?;
    let r0 = s.send(R, "r0")?;
    s.deliver(I, r0, Ok("r0"))?;
    let m1 = s.send(I, "m1")?;
    crate::rows! { s.deliver:
        R, m1, Ok("m1");
        R, m0, Err("ratchet.header");
    }
    tests.push(s.finish(
        ids,
        "A message of a chain with no stored keys left: its header key is gone, so it cannot be told from a foreign message.",
        &["Replay"],
    )?);

    let mut s = Scenario::new("tampered-header");
    let m0 = s.send(I, "m0")?;
    let mut bad = s.sent(m0)?;
    if let Some(b) = bad.get_mut(30) {
        *b ^= 0x01;
    }
    s.deliver_bytes(R, bad, Err("ratchet.header"))?;
    s.deliver(R, m0, Ok("m0"))?;
    tests.push(s.finish(
        ids,
        "One bit of the encrypted header flipped; the original still opens.",
        &["Tampered"],
    )?);

    let mut s = Scenario::new("tampered-body");
    let m0 = s.send(I, "m0")?;
    let mut bad = s.sent(m0)?;
    if let Some(b) = bad.last_mut() {
        *b ^= 0x80;
    }
    s.deliver_bytes(R, bad, Err("ratchet.body"))?;
    s.deliver(R, m0, Ok("m0"))?;
    tests.push(s.finish(
        ids,
        "One bit of the body tag flipped; the original still opens.",
        &["Tampered"],
    )?);

    let mut s = Scenario::new("tampered-body-on-dh-step");
    let m0 = s.send(I, "m0")?;
    s.deliver(R, m0, Ok("m0"))?;
    let r0 = s.send(R, "r0")?;
    let mut bad = s.sent(r0)?;
    if let Some(b) = bad.last_mut() {
        *b ^= 0x01;
    }
    s.deliver_bytes(I, bad, Err("ratchet.body"))?;
    s.deliver(I, r0, Ok("r0"))?;
    tests.push(s.finish(
        ids,
        "A forged body on the message that starts a new chain commits no DH step.",
        &["Tampered"],
    )?);

    let mut s = Scenario::new("truncated");
    let m0 = s.send(I, "m0")?;
    let mut short = s.sent(m0)?;
    short.truncate(quietwire::ratchet::OVERHEAD - 1);
    s.deliver_bytes(R, short, Err("ratchet.format"))?;
    tests.push(s.finish(ids, "One byte shorter than header and tag.", &["Format"])?);

    let mut s = Scenario::new("foreign-message");
    let other = {
        let mut o = Scenario::new("foreign-message/other-session");
        let m = o.send(I, "elsewhere")?;
        o.sent(m)?
    };
    s.deliver_bytes(R, other, Err("ratchet.header"))?;
    tests.push(s.finish(ids, "A message of another session.", &["WrongSession"])?);

    let mut s = Scenario::new("responder-sends-first");
    s.send_fails(R, "ratchet.no_sending_chain")?;
    tests.push(s.finish(
        ids,
        "The responder has no sending chain before its first receipt.",
        &["Misuse"],
    )?);

    let mut s = Scenario::new("jump-limit-exceeded");
    s.discard(I, MAX_JUMP + 1)?;
    let last = s.send(I, "too far")?;
    s.deliver(R, last, Err("ratchet.jump_limit"))?;
    tests.push(s.finish(
        ids,
        "Message number MAX_JUMP + 1 of a fresh chain skips one key too many.",
        &["JumpLimit"],
    )?);

    let mut s = Scenario::new("jump-limit-reached");
    s.discard(I, MAX_JUMP)?;
    let last = s.send(I, "just in reach")?;
    s.deliver(R, last, Ok("just in reach"))?;
    tests.push(s.finish(
        ids,
        "Message number MAX_JUMP skips exactly MAX_JUMP keys: accepted.",
        &["JumpLimit"],
    )?);

    let mut s = Scenario::new("eviction");
    let first = s.send(I, "first")?;
    let second = s.send(I, "second")?;
    let skipped = u32::try_from(MAX_SKIPPED).map_err(|e| e.to_string())? - 2;
    s.discard(I, skipped)?;
    let fill = s.send(I, "fills the store")?;
    s.deliver(R, fill, Ok("fills the store"))?;
    let next = s.send(I, "next")?;
    s.deliver(R, next, Ok("next"))?;
    let r0 = s.send(R, "r0")?;
    s.deliver(I, r0, Ok("r0"))?;
    let _late = s.send(I, "x")?;
    let y = s.send(I, "y")?;
    crate::rows! { s.deliver:
        R, y, Ok("y");
        R, first, Err("ratchet.replay");
        R, second, Ok("second");
    }
    tests.push(s.finish(
        ids,
        "MAX_SKIPPED keys stored, then one more: the oldest (message 0) is evicted, message 1 still opens.",
        &["Eviction"],
    )?);

    let mut s = Scenario::new("counter-exhausted");
    let m0 = s.send(I, "m0")?;
    s.deliver(R, m0, Ok("m0"))?;
    let exhausted = with_counter(&s.sides.0.snapshot(), 8, u64::from(u32::MAX))?;
    s.sides.0 = Ratchet::from_snapshot(&exhausted).map_err(|e| format!("{e:?}"))?;
    s.initiator_snapshot = Some(exhausted);
    s.steps.clear();
    s.sent.clear();
    s.send_fails(I, "ratchet.exhausted")?;
    tests.push(s.finish(
        ids,
        "The initiator starts from a snapshot whose sending counter is 2^32 - 1.",
        &["Misuse", "Snapshot"],
    )?);

    Ok((tests, base))
}

/// Sessions added after the first release of the file; their ids follow the snapshot tests
/// so that earlier ids stay stable.
fn later_sessions(ids: &mut Ids) -> Result<Vec<SessionTest>, String> {
    let mut tests = Vec::new();
    for (slug, extra, expect, comment) in crate::tuples! {
        "jump-limit-previous-chain-exceeded",
            1,
            Err("ratchet.jump_limit"),
            "The first message of a new chain whose previous counter would leave MAX_JUMP + 1 keys of the old chain to store.";
        "jump-limit-previous-chain-reached",
            0,
            Ok("new chain"),
            "The previous counter leaves exactly MAX_JUMP keys of the old chain to store: accepted.";
    } {
        let mut s = Scenario::new(slug);
        let m0 = s.send(I, "m0")?;
        s.deliver(R, m0, Ok("m0"))?;
        let r0 = s.send(R, "r0")?;
        s.discard(I, MAX_JUMP + extra)?;
        s.deliver(I, r0, Ok("r0"))?;
        let next = s.send(I, "new chain")?;
        s.deliver(R, next, expect)?;
        tests.push(s.finish(ids, comment, &["JumpLimit"])?);
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
    crate::rows! { s.deliver:
        R, first, Err("ratchet.header");
        R, second, Ok("lost 1");
    }
    tests.push(s.finish(
        ids,
        "MAX_SKIPPED_CHAINS + 1 chains each leave one skipped key: the oldest chain's key is evicted with its header key, the next chain's key still opens.",
        &["Eviction"],
    )?);
    Ok(tests)
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
    Ok(file(
        "ratchet",
        &[
            "Double Ratchet with header encryption (spec/06-ratchet.md).",
            "ratchet-session: the responder starts from responderRatchetSecret, the initiator from its public key (or initiatorSnapshot); run the steps in order.",
            "After every step the acting side's snapshot must hash to snapshotDigest; a failing step must not change it.",
            "ratchet-snapshot-load: restore the snapshot; a valid one must re-encode to the same bytes.",
        ],
        FLAGS,
        vec![
            RatchetGroup::Session {
                comment: "Scripted sessions.".to_owned(),
                tests: session_tests,
            },
            RatchetGroup::SnapshotLoad {
                comment: "Snapshot decoding.".to_owned(),
                tests: snapshot_tests,
            },
            RatchetGroup::Session {
                comment: "Limits across chains.".to_owned(),
                tests: later_tests,
            },
            RatchetGroup::SnapshotLoad {
                comment: "Snapshot consistency added later (RAT-10 step 7).".to_owned(),
                tests: appended_snapshots,
            },
            RatchetGroup::Session {
                comment: "Headers whose dh fails validation (RAT-06 step 2.3).".to_owned(),
                tests: header_dh_tests,
            },
            RatchetGroup::Session {
                comment: "Opening events: content refused after the ratchet opened it commits nothing (ENV-09).".to_owned(),
                tests: event_tests,
            },
        ],
    ))
}
