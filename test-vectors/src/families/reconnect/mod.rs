//! `reconnect.json`: reconnecting after a restore (spec/05-handshake.md §5.8): reproducible
//! reconnect messages, and the contact's opening of them with every way one is refused.
//!
//! The forged messages are built here from the spec's construction with the crate's
//! primitives (HPKE sender, labels, padding), not with the reconnect module, so the vectors
//! check the module against the text; the honest construction is checked to equal the
//! module's output byte for byte.

use std::collections::BTreeMap;

use super::{FlagDef, Ids, file, flags};
use crate::format::{Outcome, VectorFile};
use crate::seeds::{ReplayRng, seed16, seed32};
use quietwire::UnixTime;
use quietwire::cbor::{self, Int, Value};
use quietwire::envelope;
use quietwire::handshake::{PendingInvite, reconnect};
use quietwire::hpke::Sender;
use quietwire::identity::{DeviceKeys, SignedDeviceRecord};
use quietwire::invite::{Invite, InviteParams, InviteSecrets, SignedInvite};
use quietwire::keys::{IdentityKeyPair, KemSecret, X25519Secret};
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
#[derive(Clone)]
struct Device {
    suite: Suite,
    identity_seed: [u8; 32],
    kem_seed: [u8; 32],
    ratchet_secret: [u8; 32],
}

impl Device {
    fn new(name: &str, suite: Suite) -> Device {
        Device {
            suite,
            identity_seed: seed32(&format!("reconnect/{name}/identity")),
            kem_seed: seed32(&format!("reconnect/{name}/kem")),
            ratchet_secret: seed32(&format!("reconnect/{name}/ratchet")),
        }
    }

    /// The same identity with new KEM and ratchet keys of `suite` (a restore, XBK-23).
    fn restored(&self, name: &str, suite: Suite) -> Device {
        Device {
            suite,
            identity_seed: self.identity_seed,
            kem_seed: seed32(&format!("reconnect/{name}/kem")),
            ratchet_secret: seed32(&format!("reconnect/{name}/ratchet")),
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

    fn identity(&self) -> [u8; 32] {
        *self.keys().identity().public().as_bytes()
    }
}

/// A fresh single-use invite of a restored device, with its secrets' seeds.
struct FreshInvite {
    invite: SignedInvite,
    kem_seed: [u8; 32],
    ratchet_secret: [u8; 32],
}

impl FreshInvite {
    fn new(name: &str, device: &Device) -> FreshInvite {
        let kem_seed = seed32(&format!("reconnect/{name}/invite-kem"));
        let ratchet_secret = seed32(&format!("reconnect/{name}/invite-ratchet"));
        let mut rng = ReplayRng::new(&[
            &seed16(&format!("reconnect/{name}/invite-id")),
            &kem_seed,
            &ratchet_secret,
        ]);
        let params = InviteParams {
            relay_hints: vec!["wss://relay.quietwire.invalid".to_owned()],
            mailbox: seed32(&format!("reconnect/{name}/invite-mailbox")),
            expires: UnixTime(EXPIRES),
            single_use: true,
        };
        let identity = IdentityKeyPair::from_seed(&device.identity_seed);
        let (invite, _) = Invite::create(&identity, device.suite, params, &mut rng);
        FreshInvite { invite, kem_seed, ratchet_secret }
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

fn randomness(slug: &str, suite: Suite) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < suite.hpke_encap_randomness_len() {
        out.extend_from_slice(&seed32(&format!("reconnect/{slug}/encap/{}", out.len())));
    }
    out.truncate(suite.hpke_encap_randomness_len());
    out
}

/// What a forged reconnect changes relative to the honest construction.
#[derive(Default)]
struct Forge {
    /// Invite bytes to send instead of the honest invite.
    invite: Option<Vec<u8>>,
    /// Device record bytes to send instead of the honest record.
    record: Option<Vec<u8>>,
    /// Edits to the payload map before encoding.
    edit: Option<fn(&mut BTreeMap<Int, Value>)>,
    /// Raw payload bytes instead of the map.
    payload: Option<fn(Vec<u8>) -> Vec<u8>>,
    /// Bind `info` to this identity key instead of the recipient's.
    info_identity: Option<Vec<u8>>,
    /// Pad with zeros only, without the 0x80 that starts the padding.
    zero_padding: bool,
}

impl Forge {
    /// Edits the payload map before encoding.
    fn edit(edit: fn(&mut BTreeMap<Int, Value>)) -> Forge {
        Forge { edit: Some(edit), ..Forge::default() }
    }

    /// Sends `record` instead of the honest device record.
    fn record(record: Vec<u8>) -> Forge {
        Forge { record: Some(record), ..Forge::default() }
    }

    /// Sends `invite` instead of the honest invite.
    fn invite(invite: Vec<u8>) -> Forge {
        Forge { invite: Some(invite), ..Forge::default() }
    }
}

/// The honest payload map: `{1: 1, 2: invite, 3: record}`.
fn payload_map(invite: &[u8], record: &[u8]) -> BTreeMap<Int, Value> {
    let mut map = BTreeMap::new();
    map.insert(Int::uint(1), Value::uint(1));
    map.insert(Int::uint(2), Value::from(invite));
    map.insert(Int::uint(3), Value::from(record));
    map
}

/// A reconnect built from the spec's construction (HSK-07), with `forge` applied.
fn forged(
    slug: &str,
    contact: &SignedDeviceRecord,
    invite: &SignedInvite,
    record: &SignedDeviceRecord,
    forge: Forge,
) -> Result<Vec<u8>, String> {
    let contact = contact.record();
    let invite = forge.invite.unwrap_or_else(|| invite.to_bytes());
    let record = forge.record.unwrap_or_else(|| record.to_bytes());
    let info_identity =
        forge.info_identity.unwrap_or_else(|| contact.identity_key().as_bytes().to_vec());
    let randomness = randomness(slug, contact.suite());
    let mut rng = ReplayRng::new(&[&randomness]);
    let sender =
        Sender::setup(contact.kem_key(), &Label::ReconnectInfo.input(&[&info_identity]), &mut rng)
            .map_err(|e| format!("reconnect {slug}: setup: {e}"))?;
    let mut map = payload_map(&invite, &record);
    if let Some(edit) = forge.edit {
        edit(&mut map);
    }
    let mut payload = cbor::encode(&Value::Map(map));
    if let Some(raw) = forge.payload {
        payload = raw(payload);
    }
    let overhead = sender.enc().len() + 16;
    let mut padded =
        envelope::pad(&payload, overhead).map_err(|e| format!("reconnect {slug}: pad: {e}"))?;
    if forge.zero_padding
        && let Some(start) = padded.get_mut(payload.len())
    {
        *start = 0;
    }
    let mut message = sender.enc().to_vec();
    message.extend_from_slice(&sender.seal(&[], &padded));
    if !rng.finished() {
        return Err(format!("reconnect {slug}: sealing drew other randomness"));
    }
    Ok(message)
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
    invite: FreshInvite,
    /// A stranger with an identity of its own.
    mallory: Device,
    mallory_invite: FreshInvite,
    /// The restored device with device keys of the other suite, and its invite.
    alice_other: Device,
    alice_other_invite: FreshInvite,
}

impl Parties {
    fn new(name: &'static str, suite: Suite) -> Parties {
        let other = if suite == Suite::XWing { Suite::X25519 } else { Suite::XWing };
        let old = Device::new(&format!("{name}/alice"), suite);
        let alice = old.restored(&format!("{name}/alice-restored"), suite);
        let alice_other = old.restored(&format!("{name}/alice-restored-other"), other);
        let mallory = Device::new(&format!("{name}/mallory"), suite);
        Parties {
            suite,
            name,
            carol: Device::new(&format!("{name}/carol"), suite),
            dave: Device::new(&format!("{name}/dave"), suite),
            invite: FreshInvite::new(&format!("{name}/alice-restored"), &alice),
            alice,
            mallory_invite: FreshInvite::new(&format!("{name}/mallory"), &mallory),
            mallory,
            alice_other_invite: FreshInvite::new(
                &format!("{name}/alice-restored-other"),
                &alice_other,
            ),
            alice_other,
        }
    }

    fn other_suite(&self) -> Suite {
        self.alice_other.suite
    }

    fn contact_record(&self) -> SignedDeviceRecord {
        self.carol.keys().signed_record(0)
    }

    /// The restored device's new record: generation 1, one above the backed-up record.
    fn record(&self) -> SignedDeviceRecord {
        self.alice.keys().signed_record(1)
    }

    fn mallory_record(&self) -> SignedDeviceRecord {
        self.mallory.keys().signed_record(0)
    }

    fn alice_other_record(&self) -> SignedDeviceRecord {
        self.alice_other.keys().signed_record(1)
    }

    /// The honest reconnect, through the reconnect module, checked against the spec's
    /// construction.
    fn honest(&self, slug: &str) -> Result<Vec<u8>, String> {
        let randomness = randomness(slug, self.suite);
        let mut rng = ReplayRng::new(&[&randomness]);
        let message =
            reconnect::seal(&self.contact_record(), &self.invite.invite, &self.record(), &mut rng)
                .map_err(|e| format!("reconnect {slug}: seal: {e}"))?;
        if !rng.finished() {
            return Err(format!("reconnect {slug}: seal drew other randomness"));
        }
        let spec = self.forge(slug, Forge::default())?;
        if spec != message {
            return Err(format!("reconnect {slug}: module and spec construction differ"));
        }
        Ok(message)
    }

    fn forge(&self, slug: &str, forge: Forge) -> Result<Vec<u8>, String> {
        forged(slug, &self.contact_record(), &self.invite.invite, &self.record(), forge)
    }
}

/// One opening: who opens what, and what it expects.
struct Opening<'a> {
    device: &'a Device,
    message: Vec<u8>,
    expected: [u8; 32],
    held_generation: u64,
    accepted: Vec<[u8; 32]>,
    now: u64,
    allowed: Vec<Suite>,
}

impl<'a> Opening<'a> {
    fn new(p: &'a Parties, message: Vec<u8>) -> Opening<'a> {
        Opening {
            device: &p.carol,
            message,
            expected: p.alice.identity(),
            // The contact holds the backed-up record (generation 0); the restored device's
            // is one above.
            held_generation: 0,
            accepted: Vec::new(),
            now: NOW,
            allowed: Suite::ALL.to_vec(),
        }
    }

    fn test(
        self,
        ids: &mut Ids,
        slug: &str,
        comment: &str,
        f: &[&str],
        expect: Option<&str>,
    ) -> Result<OpenTest, String> {
        let keys = self.device.keys();
        let expected = quietwire::keys::IdentityKey::from_bytes(&self.expected)
            .map_err(|e| format!("reconnect {slug}: expected identity: {e}"))?;
        let guard = reconnect::ReconnectGuard::from_parts(
            expected,
            self.held_generation,
            self.accepted.iter().map(|h| (*h, UnixTime(u64::MAX))),
        )
        .map_err(|e| format!("reconnect {slug}: guard: {e}"))?;
        let got =
            guard.open(&keys, &self.message, UnixTime(self.now), &SuitePolicy::only(&self.allowed));
        let (payload, invite, record, error_class) = match (got, expect) {
            (Ok(opened), None) => {
                let invite = opened.invite.to_bytes();
                let record = opened.record.to_bytes();
                let payload = open_payload(&keys, &self.message)
                    .ok_or_else(|| format!("reconnect {slug}: payload does not open"))?;
                (Some(payload), Some(invite), Some(record), None)
            }
            (Err(e), Some(class)) if e.class().as_str() == class => {
                (None, None, None, Some(class.to_owned()))
            }
            (got, expect) => {
                return Err(format!(
                    "reconnect {slug}: expected {expect:?}, got {:?}",
                    got.map(|_| "opened").map_err(|e| e.class().as_str())
                ));
            }
        };
        Ok(OpenTest {
            tc_id: ids.next_id(),
            slug: slug.to_owned(),
            comment: comment.to_owned(),
            flags: flags(f),
            suite: self.device.suite.id(),
            identity_seed: self.device.identity_seed.to_vec(),
            kem_seed: self.device.kem_seed.to_vec(),
            ratchet_secret: self.device.ratchet_secret.to_vec(),
            message: self.message,
            expected_identity: self.expected.to_vec(),
            held_generation: self.held_generation,
            accepted_invites: self.accepted.iter().map(|h| h.to_vec()).collect(),
            now: self.now,
            allowed_suites: self.allowed.iter().map(|s| s.id()).collect(),
            payload,
            invite,
            record,
            result: if error_class.is_some() { Outcome::Invalid } else { Outcome::Valid },
            error_class,
        })
    }
}

/// The unpadded payload of a message that opens (for valid tests and the CDDL check).
fn open_payload(keys: &DeviceKeys, message: &[u8]) -> Option<Vec<u8>> {
    let (enc, ct) = message.split_at_checked(keys.suite().hpke_enc_len())?;
    let opened = quietwire::hpke::open(
        keys.kem(),
        enc,
        &Label::ReconnectInfo.input(&[keys.identity().public().as_bytes()]),
        &[],
        ct,
        &[],
    )
    .ok()?;
    envelope::unpad(opened.plaintext()).ok().map(<[u8]>::to_vec)
}

fn seal_test(
    ids: &mut Ids,
    slug: &str,
    comment: &str,
    f: &[&str],
    (contact, invite, record): (&SignedDeviceRecord, &SignedInvite, &SignedDeviceRecord),
    expect: Option<&str>,
) -> Result<SealTest, String> {
    let randomness = randomness(slug, contact.record().suite());
    let mut rng = ReplayRng::new(&[&randomness]);
    let got = reconnect::seal(contact, invite, record, &mut rng);
    let (message, error_class) = match (got, expect) {
        (Ok(message), None) => {
            if !rng.finished() {
                return Err(format!("reconnect {slug}: seal drew other randomness"));
            }
            (Some(message), None)
        }
        (Err(e), Some(class)) if e.class().as_str() == class => (None, Some(class.to_owned())),
        (got, expect) => {
            return Err(format!(
                "reconnect {slug}: expected {expect:?}, got {:?}",
                got.map(|_| "sealed").map_err(|e| e.class().as_str())
            ));
        }
    };
    Ok(SealTest {
        tc_id: ids.next_id(),
        slug: slug.to_owned(),
        comment: comment.to_owned(),
        flags: flags(f),
        contact_record: contact.to_bytes(),
        invite: invite.to_bytes(),
        record: record.to_bytes(),
        randomness,
        message,
        result: if error_class.is_some() { Outcome::Invalid } else { Outcome::Valid },
        error_class,
    })
}

fn seal_tests(ids: &mut Ids, all: &[Parties]) -> Result<Vec<SealTest>, String> {
    let mut tests = Vec::new();
    for p in all {
        let name = p.name;
        let slug = format!("seal-{name}");
        let t = seal_test(
            ids,
            &slug,
            &format!("{} contact", p.suite.name()),
            &["Valid"],
            (&p.contact_record(), &p.invite.invite, &p.record()),
            None,
        )?;
        if t.message.as_deref() != Some(p.honest(&slug)?.as_slice()) {
            return Err(format!("reconnect {slug}: differs from the honest message"));
        }
        tests.push(t);
    }
    for p in all {
        let name = p.name;
        tests.push(seal_test(
            ids,
            &format!("seal-identity-mismatch-{name}"),
            "an invite of the restored identity with a device record of another",
            &["Identity"],
            (&p.contact_record(), &p.invite.invite, &p.mallory_record()),
            Some("handshake.identity"),
        )?);
        tests.push(seal_test(
            ids,
            &format!("seal-suite-mismatch-{name}"),
            "an invite and a device record of another suite than the contact's",
            &["SuiteMismatch"],
            (&p.contact_record(), &p.alice_other_invite.invite, &p.alice_other_record()),
            Some("handshake.suite"),
        )?);
    }
    Ok(tests)
}

/// Generates `reconnect.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<ReconnectGroup>, String> {
    let mut ids = Ids::default();
    let all = [Parties::new("xwing", Suite::XWing), Parties::new("x25519", Suite::X25519)];
    let seals = seal_tests(&mut ids, &all)?;
    let mut opens = Vec::new();
    for p in &all {
        opens.extend(open::open_tests(&mut ids, p)?);
    }
    for p in &all {
        opens.extend(strict::strict_tests(&mut ids, p)?);
    }
    Ok(file(
        "reconnect",
        &[
            "Reconnecting after a restore (spec/05-handshake.md §5.8).",
            "reconnect-seal: the restored device seals `invite` and `record` (its fresh single-use invite and its new device record) to the contact of `contactRecord`; the RNG yields exactly `randomness` (the HPKE encapsulation randomness). The message must equal `message`, or sealing is refused with errorClass.",
            "reconnect-open: the contact's device keys are identitySeed, kemSeed and ratchetSecret of `suite`; it opens `message` found in the mailbox it holds for the identity `expectedIdentity`, whose device record of generation `heldGeneration` it holds and whose reconnect invites of SHA-256 `acceptedInvites` it already accepted, at `now`, with `allowedSuites` (HSK-08, in order). A valid test gives the verified `invite` and `record` as received, and the unpadded `payload`; an invalid one errorClass.",
        ],
        FLAGS,
        vec![
            ReconnectGroup::Seal {
                comment: "The restored device's reconnect message.".to_owned(),
                tests: seals,
            },
            ReconnectGroup::Open { comment: "The contact's opening.".to_owned(), tests: opens },
        ],
    ))
}
