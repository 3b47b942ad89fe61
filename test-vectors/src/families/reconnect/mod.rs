//! `reconnect.json`: reconnecting after a restore (spec/05-handshake.md §5.8): reproducible
//! reconnect messages, and the contact's opening of them with every way one is refused.
//!
//! The forged messages are built here from the spec's construction with the crate's
//! primitives (HPKE sender, labels, padding), not with the reconnect module, so the vectors
//! check the module against the text; the honest construction is checked to equal the
//! module's output byte for byte.

use super::handshake::forge::{
    Device, Forge, HeldInvite, PayloadMap, Sent, randomness, seal_payload, sender,
};
use super::{FlagDef, Ids, expect, file};
use crate::format::VectorFile;
use crate::seeds::ReplayRng;
use quietwire::UnixTime;
use quietwire::cbor::{Int, Value};
use quietwire::envelope;
use quietwire::handshake::reconnect;
use quietwire::identity::{DeviceKeys, SignedDeviceRecord};
use quietwire::label::Label;
use quietwire::suite::{Suite, SuitePolicy};

mod open;
mod strict;

crate::vector_groups! {
    /// Groups of this family.
    pub enum ReconnectGroup {
        /// The restored device seals `invite` and `record` to `contactRecord`; the RNG yields
        /// exactly `randomness`.
        "reconnect-seal" => Seal(SealTest),
        /// The contact, with its device keys, opens `message` from the contact whose identity
        /// key is `expectedIdentity`, at `now`, with `allowedSuites`.
        "reconnect-open" => Open(OpenTest),
    }
}

crate::vector_test! {
    /// The restored device's side.
    pub struct SealTest {
        /// The contact's signed device record (its KEM key, identity key and suite).
        contact_record: hex,
        /// The restored device's fresh single-use signed invite.
        invite: hex,
        /// The restored device's new signed device record.
        record: hex,
        /// The bytes the RNG yields: the HPKE encapsulation randomness.
        randomness: hex,
        /// The reconnect message (valid tests only).
        message: hex?,
    }
}

crate::vector_test! {
    /// The contact's side.
    pub struct OpenTest {
        /// The suite of the contact's device keys.
        suite: u64,
        /// The contact's Ed25519 seed.
        identity_seed: hex,
        /// The contact's device KEM seed.
        kem_seed: hex,
        /// The contact's X25519 ratchet secret.
        ratchet_secret: hex,
        /// The reconnect message, as found in the mailbox.
        message: hex,
        /// The identity key the contact holds for the mailbox the message arrived in.
        expected_identity: hex,
        /// The generation of the device record the contact holds for that identity (HSK-08
        /// check 9).
        held_generation: u64,
        /// SHA-256 of every unexpired invite the contact already accepted through a reconnect of
        /// that identity (HSK-08 check 8).
        #[serde(with = "crate::format::hex_list")]
        accepted_invites: Vec<Vec<u8>>,
        /// The contact's `now`.
        now: u64,
        /// Suites the contact accepts for the invite and the device record.
        allowed_suites: Vec<u64>,
        /// The opened payload, unpadded (valid tests only).
        payload: hex?,
        /// The verified invite, as received (valid tests only).
        invite: hex?,
        /// The verified device record, as received (valid tests only).
        record: hex?,
    }
}

const FLAGS: &[FlagDef] = crate::flag_defs! {
    Valid: Basic ["HSK-07", "HSK-08"]
        "A reconnect sealed and opened as specified; its invite starts a session.";
    Identity: AuthBypass ["HSK-08", "HSK-09"]
        "An invite or device record that is not of the identity held for the mailbox.";
    Tampered: AuthBypass ["HSK-08", "SUI-08"]
        "A modified or misdirected reconnect, or one bound to another recipient, does not open.";
    Format: Basic ["HSK-08", "ENV-02", "ENV-03"]
        "A message whose length is not a bucket above the suite's overhead, or whose padding is malformed.";
    Payload: MissingStep ["HSK-07", "HSK-08"]
        "A payload outside its schema or limit, or with an extension to ignore.";
    Contents: AuthBypass ["HSK-08", "INV-04", "IDN-05"]
        "The invite or the device record fails its own verification.";
    Expired: Defined ["HSK-08", "INV-05"]
        "The invite has expired at the contact's `now`, or has not yet.";
    SuiteMismatch: WrongPrimitive ["HSK-07", "HSK-08"]
        "An invite or device record of another suite than the contact's device.";
    SuitePolicy: Defined ["HSK-08", "SUI-02"] "The contact's policy does not accept the suite.";
    CheckOrder: Defined ["HSK-08"]
        "Several faults at once: the first check of HSK-08 that fails decides.";
    Replay: AuthBypass ["HSK-08", "HSK-10"]
        "A copy of a reconnect whose invite the contact already accepted must not start a second session.";
    Generation: AuthBypass ["HSK-08", "HSK-10", "IDN-06"]
        "A device record not above the generation held (an old backup, a replayed record) must not replace the session.";
};

const NOW: u64 = 1_900_000_000;
const EXPIRES: u64 = NOW + 7 * 86_400;

/// A device from named seeds: `reconnect/<name>/{identity,kem,ratchet}`.
fn device(name: &str, suite: Suite) -> Device {
    Device::new(&format!("reconnect/{name}"), suite)
}

/// The identity of `old` with the new KEM and ratchet keys of `name` of `suite` (a restore,
/// XBK-23).
fn restored(old: &Device, name: &str, suite: Suite) -> Device {
    Device { identity_seed: old.identity_seed, ..device(name, suite) }
}

/// A fresh single-use invite of a restored device: `reconnect/<name>/invite-…`.
fn fresh_invite(name: &str, creator: &Device) -> Result<HeldInvite, String> {
    let seeds = ["id", "kem", "ratchet", "mailbox"].map(|p| format!("reconnect/{name}/invite-{p}"));
    HeldInvite::new(creator, EXPIRES, true, seeds)
}

/// The parties of one suite: the contact, the restored device and a stranger.
struct Parties {
    suite: Suite,
    name: &'static str,
    /// The contact opening the reconnect.
    carol: Device,
    /// Another device of the same suite (a wrong recipient).
    dave: Device,
    /// The restored device (the old identity, new device keys).
    alice: Device,
    /// The restored device's invite for carol.
    invite: HeldInvite,
    /// The contact's device record.
    contact_record: SignedDeviceRecord,
    /// The restored device's new record: generation 1, one above the backed-up record.
    record: SignedDeviceRecord,
    /// A stranger with an identity of its own, its invite and its record.
    mallory: Device,
    mallory_invite: HeldInvite,
    mallory_record: SignedDeviceRecord,
    /// The restored device's invite and record with device keys of the other suite.
    alice_other_invite: HeldInvite,
    alice_other_record: SignedDeviceRecord,
    other_suite: Suite,
}

impl Parties {
    fn new(name: &'static str, suite: Suite) -> Result<Parties, String> {
        let other = if suite == Suite::XWing { Suite::X25519 } else { Suite::XWing };
        let old = device(&format!("{name}/alice"), suite);
        let alice = restored(&old, &format!("{name}/alice-restored"), suite);
        let alice_other = restored(&old, &format!("{name}/alice-restored-other"), other);
        let mallory = device(&format!("{name}/mallory"), suite);
        let carol = device(&format!("{name}/carol"), suite);
        Ok(Parties {
            suite,
            name,
            contact_record: carol.keys().signed_record(0),
            carol,
            dave: device(&format!("{name}/dave"), suite),
            invite: fresh_invite(&format!("{name}/alice-restored"), &alice)?,
            record: alice.keys().signed_record(1),
            alice,
            mallory_invite: fresh_invite(&format!("{name}/mallory"), &mallory)?,
            mallory_record: mallory.keys().signed_record(0),
            mallory,
            alice_other_invite: fresh_invite(
                &format!("{name}/alice-restored-other"),
                &alice_other,
            )?,
            alice_other_record: alice_other.keys().signed_record(1),
            other_suite: other,
        })
    }

    /// A reconnect to the contact built from the spec's construction (HSK-07), with `forge`
    /// applied to the honest invite and record.
    fn forge(&self, slug: &str, forge: &Forge) -> Result<Vec<u8>, String> {
        let contact = self.contact_record.record();
        let invite = forge.invite.clone().unwrap_or_else(|| self.invite.invite.to_bytes());
        let record = forge.record.clone().unwrap_or_else(|| self.record.to_bytes());
        let identity = contact.identity_key().as_bytes().to_vec();
        let info_identity = forge.info_identity.clone().unwrap_or(identity);
        let info = Label::ReconnectInfo.input(&[&info_identity]);
        let sender = sender("reconnect", slug, contact.kem_key(), &info)?;
        // The honest payload map: `{1: 1, 2: invite, 3: record}`.
        let mut map = PayloadMap::new();
        map.insert(Int::uint(1), Value::uint(1));
        map.insert(Int::uint(2), Value::from(invite.as_slice()));
        map.insert(Int::uint(3), Value::from(record.as_slice()));
        seal_payload(sender, map, forge)
    }
}

/// A change to the contact's usual opening: at `NOW`, by carol, expecting the restored
/// identity whose record of generation 0 it holds, no reconnect accepted, every suite allowed.
enum Change<'p> {
    /// The contact's `now`.
    Now(u64),
    /// The identity held for the mailbox.
    Expected([u8; 32]),
    /// Another device opens.
    By(&'p Device),
    /// The only suite the contact allows.
    Allowed(Suite),
    /// The SHA-256 of an invite accepted before.
    Accepted([u8; 32]),
    /// The generation held.
    Held(u64),
}

/// Builds the open tests of one suite's parties, with slugs `<case>-<name>`.
struct Opens<'a, 'p> {
    ids: &'a mut Ids,
    tests: &'a mut Vec<OpenTest>,
    p: &'p Parties,
}

impl<'p> Opens<'_, 'p> {
    fn open(
        &mut self,
        case: &str,
        comment: &str,
        f: &[&str],
        sent: Sent,
        changes: &[Change<'p>],
        class: Option<&str>,
    ) -> Result<(), String> {
        let p = self.p;
        let slug = format!("{case}-{}", p.name);
        let message = match sent {
            Sent::Bytes(bytes) => bytes,
            Sent::Forged(forge) => p.forge(&slug, &forge)?,
        };
        let (mut device, mut expected, mut held, mut now) = (&p.carol, p.alice.identity(), 0, NOW);
        let (mut accepted, mut allowed) = (Vec::new(), Suite::ALL.to_vec());
        for change in changes {
            match change {
                Change::Now(t) => now = *t,
                Change::Expected(key) => expected = *key,
                Change::By(d) => device = d,
                Change::Allowed(suite) => allowed = vec![*suite],
                Change::Accepted(hash) => accepted.push(*hash),
                Change::Held(generation) => held = *generation,
            }
        }
        let what = format!("reconnect {slug}");
        let keys = device.keys();
        let expected_key = quietwire::keys::IdentityKey::from_bytes(&expected)
            .map_err(|e| format!("{what}: expected identity: {e}"))?;
        let stored = accepted.iter().map(|h| (*h, UnixTime(u64::MAX)));
        let guard = reconnect::ReconnectGuard::from_parts(expected_key, held, stored)
            .map_err(|e| format!("{what}: guard: {e}"))?;
        let got = guard.open(&keys, &message, UnixTime(now), &SuitePolicy::only(&allowed));
        let opened = expect(&what, got, class)?;
        let payload = opened.as_ref().map(|_| open_payload(&keys, &message));
        let payload = payload.map(|p| p.ok_or(format!("{what}: no payload"))).transpose()?;
        self.tests.push(OpenTest::new(
            self.ids.head(&slug, comment, f, class),
            device.suite.id(),
            device.identity_seed.to_vec(),
            device.kem_seed.to_vec(),
            device.ratchet_secret.to_vec(),
            message,
            expected.to_vec(),
            held,
            accepted.iter().map(|h| h.to_vec()).collect(),
            now,
            allowed.iter().map(|s| s.id()).collect(),
            payload,
            opened.as_ref().map(|o| o.invite.to_bytes()),
            opened.as_ref().map(|o| o.record.to_bytes()),
        ));
        Ok(())
    }
}

/// The unpadded payload of a message that opens (for valid tests and the CDDL check).
fn open_payload(keys: &DeviceKeys, message: &[u8]) -> Option<Vec<u8>> {
    let (enc, ct) = message.split_at_checked(keys.suite().hpke_enc_len())?;
    let info = Label::ReconnectInfo.input(&[keys.identity().public().as_bytes()]);
    let opened = quietwire::hpke::open(keys.kem(), enc, &info, &[], ct, &[]).ok()?;
    envelope::unpad(opened.plaintext()).ok().map(<[u8]>::to_vec)
}

fn seal_tests(ids: &mut Ids, all: &[Parties]) -> Result<Vec<SealTest>, String> {
    let mut tests = Vec::new();
    let mut seal = |slug: &str, comment: &str, f: &[&str], p: &Parties, parts, class| {
        let (invite, record): (&HeldInvite, &SignedDeviceRecord) = parts;
        let randomness = randomness("reconnect", slug, p.suite);
        let mut rng = ReplayRng::new(&[&randomness]);
        let got = reconnect::seal(&p.contact_record, &invite.invite, record, &mut rng);
        let message = expect(&format!("reconnect {slug}"), got, class)?;
        if message.is_some() && !rng.finished() {
            return Err(format!("reconnect {slug}: seal drew other randomness"));
        }
        // The module's message must be the spec's construction.
        if let Some(message) = &message
            && *message != p.forge(slug, &Forge::default())?
        {
            return Err(format!("reconnect {slug}: module and spec construction differ"));
        }
        let head = ids.head(slug, comment, f, class);
        let (contact, invite) = (p.contact_record.to_bytes(), invite.invite.to_bytes());
        tests.push(SealTest::new(head, contact, invite, record.to_bytes(), randomness, message));
        Ok::<(), String>(())
    };
    for p in all {
        let (name, suite) = (p.name, p.suite.name());
        let comment = format!("{suite} contact");
        seal(&format!("seal-{name}"), &comment, &["Valid"], p, (&p.invite, &p.record), None)?;
    }
    for p in all {
        let name = p.name;
        crate::rows! { seal:
            &format!("seal-identity-mismatch-{name}"),
                "an invite of the restored identity with a device record of another",
                &["Identity"], p, (&p.invite, &p.mallory_record), Some("handshake.identity");
            &format!("seal-suite-mismatch-{name}"),
                "an invite and a device record of another suite than the contact's",
                &["SuiteMismatch"], p, (&p.alice_other_invite, &p.alice_other_record),
                Some("handshake.suite");
        }
    }
    Ok(tests)
}

/// Generates `reconnect.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<ReconnectGroup>, String> {
    let mut ids = Ids::default();
    let all = [Parties::new("xwing", Suite::XWing)?, Parties::new("x25519", Suite::X25519)?];
    let seals = seal_tests(&mut ids, &all)?;
    let mut opens = Vec::new();
    for p in &all {
        open::open_tests(&mut Opens { ids: &mut ids, tests: &mut opens, p })?;
    }
    for p in &all {
        strict::strict_tests(&mut Opens { ids: &mut ids, tests: &mut opens, p })?;
    }
    Ok(file(
        "reconnect",
        &[
            "Reconnecting after a restore (spec/05-handshake.md §5.8).",
            "reconnect-seal: the restored device seals `invite` and `record` (its fresh single-use invite and its new device record) to the contact of `contactRecord`; the RNG yields exactly `randomness` (the HPKE encapsulation randomness). The message must equal `message`, or sealing is refused with errorClass.",
            "reconnect-open: the contact's device keys are identitySeed, kemSeed and ratchetSecret of `suite`; it opens `message` found in the mailbox it holds for the identity `expectedIdentity`, whose device record of generation `heldGeneration` it holds and whose reconnect invites of SHA-256 `acceptedInvites` it already accepted, at `now`, with `allowedSuites` (HSK-08, in order). A valid test gives the verified `invite` and `record` as received, and the unpadded `payload`; an invalid one errorClass.",
        ],
        FLAGS,
        crate::groups! { ReconnectGroup:
            Seal("The restored device's reconnect message.", seals);
            Open("The contact's opening.", opens);
        },
    ))
}
