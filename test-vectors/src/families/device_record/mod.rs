//! `device_record.json`: creating and verifying signed device records
//! (spec/03-identity.md, device records).

use super::material::cases::{Cases, Named};
use super::material::signed::{
    Body, STRICT_GROUP, Verifier, add_key_order_cases, add_strict_cases, pair,
};
use super::material::{self as m, canonical_map, signed};
use super::{FlagDef, Ids, expect, file};
use crate::format::VectorFile;
use crate::raw;
use crate::seeds::seed32;
use quietwire::identity::{DeviceKeys, SignedDeviceRecord};
use quietwire::keys::{IdentityKeyPair, KemSecret, X25519Secret};
use quietwire::label::Label;
use quietwire::suite::{Suite, SuitePolicy};

mod keys;
mod lists;

pub use keys::KeysTest;
pub use lists::{ListCreateTest, ListFields, ListVerifyTest};

crate::vector_groups! {
    /// Groups of this family.
    pub enum DeviceRecordGroup {
        /// Build the record from the given secrets; the result must equal `record` byte for byte.
        "device-record-create" => Create(CreateTest),
        /// Decode and verify `record` accepting `allowedSuites`.
        "device-record-verify" => Verify(VerifyTest) {
            /// Suite ids the verifier accepts.
            allowed_suites: Vec<u64>,
        },
        /// Load stored device keys (IDN-07); valid ones must re-encode to the same bytes.
        "device-keys-load" => KeysLoad(KeysTest),
        /// Issue a device list from the given inputs; the result must equal `list`.
        "device-list-create" => ListCreate(ListCreateTest),
        /// Verify `list` and decide whether it replaces the held one (DEV-02, DEV-03).
        "device-list-verify" => ListVerify(ListVerifyTest),
    }
}

crate::vector_test! {
    /// Creating a record from explicit secrets.
    pub struct CreateTest {
        /// Suite id.
        suite: u64,
        /// Ed25519 secret seed (RFC 8032 private key).
        identity_seed: hex,
        /// Seed given to the KEM's DeriveKeyPair.
        kem_seed: hex,
        /// X25519 secret (before clamping).
        ratchet_secret: hex,
        /// Generation counter.
        generation: u64,
        /// The expected signed record.
        record: hex,
    }
}

crate::vector_record! {
    /// Fields of a verified record.
    pub struct RecordFields {
        /// Suite id.
        suite: u64,
        /// Identity public key.
        identity_key: hex,
        /// KEM public key.
        kem_key: hex,
        /// Ratchet public key.
        ratchet_key: hex,
        /// Generation counter.
        generation: u64,
        /// Number of extension fields ignored.
        extensions: usize,
        /// The device key that signs a version-2 record (absent for version 1).
        device_key: hex?,
    }
}

impl RecordFields {
    /// The fields of a verified record.
    fn of(r: &quietwire::identity::DeviceRecord) -> RecordFields {
        RecordFields {
            suite: r.suite().id(),
            identity_key: r.identity_key().as_bytes().to_vec(),
            kem_key: r.kem_key().as_bytes().to_vec(),
            ratchet_key: r.ratchet_key().as_bytes().to_vec(),
            generation: r.generation(),
            extensions: r.extensions().len(),
            device_key: r.device_key().map(|k| k.as_bytes().to_vec()),
        }
    }
}

crate::vector_test! {
    /// Verifying a record.
    pub struct VerifyTest {
        /// The signed record.
        record: hex,
        /// The device list the verifier holds for the record's identity (DEV-04); absent: none.
        device_list: hex?,
        /// The fields a verifier must report (valid tests only).
        expected: ?RecordFields,
    }
}

const FLAGS: &[FlagDef] = crate::flag_defs! {
    Valid: Basic ["IDN-02", "IDN-03"] "A well-formed record signed by its identity key.";
    Extension: Defined ["ENC-12"]
        "A negative (non-critical) key must be ignored, and the signature still covers it.";
    Signature: AuthBypass ["IDN-03", "SUI-05"]
        "The signature does not verify: wrong key, wrong label or altered bytes.";
    Malleability: Malleability ["SUI-05"]
        "A signature with S not reduced modulo L must be rejected by strict verification.";
    WeakKey: AuthBypass ["SUI-04", "SUI-06"] "A public key of small order.";
    NonCanonicalKey: Malleability ["SUI-04", "SUI-06"] "A public key in a non-canonical encoding.";
    InvalidKey: Basic ["SUI-04", "SUI-07"] "A public key that is not a valid key of its type.";
    Suite: Defined ["SUI-01", "SUI-02"] "An unknown suite, or one the verifier does not accept.";
    Schema: Basic ["ENC-11", "ENC-12", "ENC-13", "ENC-14"]
        "A structural fault: version, missing, unknown critical, wrongly typed or sized fields.";
    NonCanonical: Malleability ["ENC-14"]
        "A body or envelope that is not deterministic CBOR, even though signed.";
    Limits: CanOfWorms ["IDN-04"] "Over the record's size limit.";
    CheckOrder: Defined ["IDN-05"]
        "Several faults at once: the spec's check order decides the class.";
    KeysValid: Basic ["IDN-07"]
        "Stored device keys that load, derive their public keys and re-encode byte for byte.";
    KeysCanonical: Malleability ["IDN-07", "ENC-01"]
        "Stored device keys that are not the canonical encoding of the map.";
    KeysLimits: CanOfWorms ["IDN-07"] "Over a decoding limit of stored device keys.";
    KeysSchema: Basic ["IDN-07", "ENC-11", "ENC-12", "ENC-13"]
        "A structural fault of stored device keys: version, unknown, missing, mistyped or missized fields.";
    KeysSuite: Defined ["IDN-07", "SUI-01"] "Stored device keys of an unregistered suite.";
    KeysOrder: Defined ["IDN-07"]
        "Several faults in stored device keys: the rule's check order decides the class.";
    ListValid: Basic ["DEV-01", "DEV-02", "DEV-03"]
        "A well-formed device list signed by its identity key and accepted.";
    ListSchema: Basic ["DEV-02", "ENC-11", "ENC-12", "ENC-13"]
        "A structural fault of a device list: version, unknown, missing, mistyped or missized fields.";
    ListDevices: Defined ["DEV-02"]
        "A device list with too many devices, a device named twice, or devices out of order.";
    ListLimits: CanOfWorms ["DEV-02"] "Over the device list's size limit.";
    ListAccept: Defined ["DEV-03"]
        "A valid list refused by the contact: another identity, or a version not above the held one.";
    RecordV2: Basic ["IDN-02", "IDN-05", "DEV-04"]
        "A version-2 record signed by a device key that the held device list names.";
    NotListed: AuthBypass ["DEV-04"]
        "A device record whose signer the held device list does not certify.";
};

/// The body of a record, field by field (spec/03-identity.md).
fn body(
    suite: Suite,
    identity: &IdentityKeyPair,
    kem: &[u8],
    ratchet: &[u8; 32],
    generation: u64,
) -> Body {
    Body(vec![
        (1, raw::head(0, 1)),
        (2, raw::head(0, suite.id())),
        (3, raw::bstr(identity.public().as_bytes())),
        (4, raw::bstr(kem)),
        (5, raw::bstr(ratchet)),
        (6, raw::head(0, generation)),
    ])
}

impl Cases<Vec<u8>> for Verifier<VerifyTest> {
    /// A test of `record`: valid (`class` `None`) ones must round-trip and list their fields.
    fn test(&mut self, n: Named<'_>, record: Vec<u8>, class: Option<&str>) -> Result<(), String> {
        let got = SignedDeviceRecord::from_bytes(&record, &self.policy);
        let decoded = expect(&format!("device_record {}", n.slug), got, class)?;
        if decoded.as_ref().is_some_and(|d| d.to_bytes() != record) {
            return Err(format!("device_record {}: does not round-trip", n.slug));
        }
        let expected = decoded.map(|d| RecordFields::of(d.record()));
        let head = n.head(&mut self.ids, class);
        self.tests.push(VerifyTest::new(head, record, None, expected));
        Ok(())
    }
}

impl Verifier<VerifyTest> {
    fn group(&mut self, comment: &str, allowed: &[u64]) -> DeviceRecordGroup {
        let (comment, allowed_suites) = (comment.to_owned(), allowed.to_vec());
        DeviceRecordGroup::Verify { comment, allowed_suites, tests: self.take() }
    }
}

/// Generates `device_record.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<DeviceRecordGroup>, String> {
    let mut ids = Ids::default();
    let mut create = Vec::new();
    for (slug, suite, generation) in [
        ("create-xwing", Suite::XWing, 0u64),
        ("create-x25519", Suite::X25519, 0),
        ("create-x25519-generation-7", Suite::X25519, 7),
    ] {
        let [identity_seed, kem_seed, ratchet_secret] = ["identity", "kem", "ratchet"]
            .map(|part| seed32(&format!("device_record/{slug}/{part}")));
        let keys = DeviceKeys::from_parts(
            suite,
            IdentityKeyPair::from_seed(&identity_seed),
            KemSecret::from_seed(suite, &kem_seed),
            X25519Secret::from_bytes(&ratchet_secret),
        );
        let record = keys.signed_record(generation).to_bytes();
        // Cross-check the library's encoder against the hand-built body of the spec.
        let (kem, ratchet) = (keys.kem().public(), keys.ratchet().public());
        let body = body(suite, keys.identity(), kem.as_bytes(), ratchet.as_bytes(), generation);
        if signed(&body.encode(), keys.identity(), Label::DeviceRecord) != record {
            return Err(format!("device_record {slug}: library encoding differs from the spec's"));
        }
        let comment = format!("{} record, generation {generation}", suite.name());
        let head = ids.head(slug, &comment, &["Valid"], None);
        let [identity, kem, ratchet] =
            [identity_seed, kem_seed, ratchet_secret].map(|s| s.to_vec());
        create.push(CreateTest::new(head, suite.id(), identity, kem, ratchet, generation, record));
    }
    let create = DeviceRecordGroup::Create {
        comment: "Key generation is deterministic from the secrets and Ed25519 signing is deterministic, so the record is reproducible byte for byte.".to_owned(),
        tests: create,
    };

    let (alice_seed, alice) = m::identity("device_record/alice");
    let (_, mallory) = m::identity("device_record/mallory");
    let xwing_kem = KemSecret::from_seed(Suite::XWing, &seed32("device_record/alice/kem-xwing"));
    let x25519_kem = KemSecret::from_seed(Suite::X25519, &seed32("device_record/alice/kem-x25519"));
    let ratchet = X25519Secret::from_bytes(&seed32("device_record/alice/ratchet"));
    let ratchet = ratchet.public();
    let xw = || body(Suite::XWing, &alice, xwing_kem.public().as_bytes(), ratchet.as_bytes(), 0);
    let cl = || body(Suite::X25519, &alice, x25519_kem.public().as_bytes(), ratchet.as_bytes(), 3);
    let sign = |body: &Body| signed(&body.encode(), &alice, Label::DeviceRecord);
    let sign_raw = |body: &[u8]| signed(body, &alice, Label::DeviceRecord);
    // The classical record with field `field` set to the key `key`.
    let key = |field, key: &[u8]| sign(&cl().bytes(field, key));

    let mut b = Verifier::new(ids);
    crate::rows! { b.valid:
        "valid-xwing", "default suite", &["Valid"], sign(&xw());
        "valid-x25519", "classical suite", &["Valid"], sign(&cl());
        "valid-generation-max", "generation 2^64-1", &["Valid"], sign(&cl().uint(6, u64::MAX));
        "valid-extension", "an extension field -1 is ignored", &["Valid", "Extension"],
            sign(&cl().bytes(-1, b"ext"));
        "valid-extensions-nested", "extensions -1 and -300 holding nested items",
            &["Valid", "Extension"],
            sign(&cl().set(-1, raw::array(&[raw::head(0, 1)]))
                .set(-300, canonical_map(vec![(1, raw::head(0, 2))])));
    }

    let sig = &["Signature"];
    let good = sign(&cl());
    let flipped_sig = m::xor_last(good.clone(), 0x80);
    let body = cl().encode();
    let alice_sig = alice.sign(Label::DeviceRecord, &body);
    let altered = m::flip_last(body.clone()); // generation 3 -> 2
    crate::rows! { b.invalid:
        "signature-bit-flipped", "one bit of the signature flipped", sig, flipped_sig,
            "identity.signature";
        "signature-wrong-label", "signed with the invite label", sig,
            signed(&body, &alice, Label::Invite), "identity.signature";
        "signature-other-identity", "signed by a different identity than the one inside", sig,
            signed(&body, &mallory, Label::DeviceRecord), "identity.signature";
        "signature-s-not-reduced", "S + L instead of S", &["Signature", "Malleability"],
            pair(&body, &m::malleate_s(&alice_sig)), "identity.signature";
        "signature-zero", "an all-zero signature", sig, pair(&body, &[0u8; 64]),
            "identity.signature";
        "body-altered-after-signing", "generation changed after signing", sig,
            pair(&altered, &alice_sig), "identity.signature";
    }

    let (weak, nck, inv) = (&["WeakKey"], &["NonCanonicalKey"], &["InvalidKey"]);
    crate::rows! { b.invalid:
        "identity-key-low-order", "identity key is the neutral point", weak,
            key(3, &m::ed25519_identity_point()), "key.low_order";
        "identity-key-order-8", "identity key is a point of order 8", weak,
            key(3, &m::ed25519_order_8()), "key.low_order";
        "identity-key-noncanonical-y", "identity key with y >= p", nck,
            key(3, &m::ed25519_noncanonical()), "key.noncanonical";
        "identity-key-negative-zero", "x = 0 with the sign bit set", nck,
            key(3, &m::ed25519_negative_zero()), "key.noncanonical";
        "identity-key-not-on-curve", "y = 2 is not on the curve", inv,
            key(3, &m::ed25519_not_on_curve()), "key.invalid";
        "ratchet-key-zero", "ratchet key u = 0", weak, key(5, &m::x25519_zero()), "key.low_order";
        "ratchet-key-order-8", "ratchet key of order 8", weak, key(5, &m::x25519_order_8()),
            "key.low_order";
        "ratchet-key-p", "ratchet key u = p", nck, key(5, &m::x25519_p()), "key.noncanonical";
        "ratchet-key-high-bit", "ratchet key with the top bit set", nck,
            key(5, &m::x25519_high_bit()), "key.noncanonical";
        "kem-key-x25519-zero", "classical KEM key u = 0", weak, key(4, &m::x25519_zero()),
            "key.low_order";
        "kem-key-xwing-mlkem-invalid", "ML-KEM part with a coefficient >= q", inv,
            sign(&xw().bytes(4, &m::xwing_bad_mlkem("device_record/alice/kem-xwing"))),
            "key.invalid";
        "kem-key-xwing-x25519-zero", "X-Wing key whose X25519 part is u = 0", weak,
            sign(&xw().bytes(4, &m::xwing_low_order_x25519("device_record/alice/kem-xwing"))),
            "key.low_order";
        "kem-key-length-for-suite", "an X-Wing-sized key in a classical record", &["Schema"],
            key(4, xwing_kem.public().as_bytes()), "schema.length";
        "kem-key-short", "a 31-byte classical KEM key", &["Schema"], key(4, &[9u8; 31]),
            "schema.length";
        "suite-unknown", "suite 3 is not registered", &["Suite"], sign(&cl().uint(2, 3)),
            "suite.unknown";
        "suite-zero", "suite 0 is reserved", &["Suite"], sign(&cl().uint(2, 0)), "suite.unknown";
    }

    let s = &["Schema"];
    crate::rows! { b.invalid:
        "version-3", "version 3 is not defined", s, sign(&cl().uint(1, 3)), "schema.version";
        "version-missing", "no version field", s, sign(&cl().remove(1)), "schema.missing_field";
        "version-tstr", "version as a text string", s, sign(&cl().set(1, raw::tstr("1"))),
            "schema.wrong_type";
        "unknown-critical-key", "an unknown non-negative key 7", s, sign(&cl().uint(7, 0)),
            "schema.unknown_critical";
        "unknown-critical-key-0", "an unknown key 0", s, sign(&cl().uint(0, 0)),
            "schema.unknown_critical";
        "generation-missing", "no generation", s, sign(&cl().remove(6)), "schema.missing_field";
        "identity-key-missing", "no identity key", s, sign(&cl().remove(3)), "schema.missing_field";
        "generation-negative", "generation -1", s, sign(&cl().set(6, raw::key(-1))),
            "schema.wrong_type";
        "identity-key-tstr", "identity key as text", s, sign(&cl().set(3, raw::tstr("key"))),
            "schema.wrong_type";
        "identity-key-short", "a 31-byte identity key", s, key(3, &[1u8; 31]), "schema.length";
        "ratchet-key-long", "a 33-byte ratchet key", s, key(5, &[9u8; 33]), "schema.length";
        "body-not-map", "the body is an array", s, sign_raw(&raw::array(&[raw::head(0, 1)])),
            "schema.wrong_type";
        "outer-not-array", "the record is a map", s, canonical_map(vec![(0, raw::bstr(&body))]),
            "schema.wrong_type";
        "outer-three-items", "an array of three", s,
            raw::array(&[raw::bstr(&body), raw::bstr(&alice_sig), raw::head(0, 0)]),
            "schema.length";
        "outer-body-not-bstr", "the body is embedded as a map, not a byte string", s,
            raw::array(&[body.clone(), raw::bstr(&alice_sig)]), "schema.wrong_type";
        "signature-short", "a 63-byte signature", s, pair(&body, &[0u8; 63]), "schema.length";
    }

    let nc = &["NonCanonical"];
    let mut swapped = cl().entries_with(6, raw::head(0, 3));
    swapped.swap(0, 1);
    let trailing_body = [body.clone(), vec![0x00]].concat();
    let indefinite = [vec![0x9f], raw::bstr(&body), raw::bstr(&alice_sig), vec![0xff]].concat();
    crate::rows! { b.invalid:
        "body-nonminimal-integer", "generation 3 with a one-byte argument, correctly signed", nc,
            sign_raw(&raw::map(&cl().entries_with(6, raw::wide_head(0, 3, 1)))),
            "cbor.noncanonical.integer";
        "body-unsorted-keys", "keys 2 and 1 swapped, correctly signed", nc,
            sign_raw(&raw::map(&swapped)), "cbor.noncanonical.key_order";
        "body-trailing-byte", "a byte after the body map, correctly signed", nc,
            sign_raw(&trailing_body), "cbor.trailing";
        "outer-trailing-byte", "a byte after the record", nc, [good, vec![0x00]].concat(),
            "cbor.trailing";
        "outer-indefinite-array", "the outer array with indefinite length", nc, indefinite,
            "cbor.noncanonical.indefinite";
        "oversized", "a record over 4096 bytes (a 4000-byte extension)", &["Limits"],
            sign(&cl().bytes(-1, &[0u8; 4000])), "cbor.limit.input";
        "order-key-before-signature",
            "a low-order ratchet key and a bad signature: keys are checked first", &["CheckOrder"],
            signed(&cl().bytes(5, &m::x25519_zero()).encode(), &mallory, Label::DeviceRecord),
            "key.low_order";
        "order-suite-before-keys",
            "an unknown suite and a low-order identity key: the suite is checked first",
            &["CheckOrder"], sign(&cl().uint(2, 9).bytes(3, &m::ed25519_identity_point())),
            "suite.unknown";
        "order-version-before-unknown-key", "version 3 with an unknown critical key",
            &["CheckOrder"], sign(&cl().uint(1, 3).uint(8, 0)), "schema.version";
    }
    let all = b.group("Verifier accepting every registered suite.", &[1, 2]);

    b.policy = SuitePolicy::only(&[Suite::XWing]);
    crate::rows! { b.case:
        "policy-xwing-only-accepts-xwing", "the default suite under a default-only policy",
            &["Valid"], sign(&xw()), None;
        "policy-xwing-only-refuses-x25519", "a classical record under a default-only policy",
            &["Suite"], sign(&cl()), Some("suite.disallowed");
    }
    let strict = b.group("Verifier accepting only the default suite.", &[1]);

    b.policy = SuitePolicy::ALL;
    let with_key = |key: &[u8; 32]| cl().bytes(3, key).encode();
    add_strict_cases(
        &mut b,
        &alice_seed,
        &body,
        Label::DeviceRecord,
        &with_key,
        "device_record/alice",
    )?;
    let sui05 = b.group(STRICT_GROUP, &[1, 2]);
    let off_curve = "an identity key off the curve and an X-Wing key with a low-order X25519 part";
    add_key_order_cases(
        &mut b,
        ([10, 11, 12], "device_record/alice/kem-xwing", off_curve),
        &xw,
        &cl,
        &sign,
    )?;
    let key_order = b.group(
        "The order of the key checks (IDN-05 steps 10 to 12); every registered suite.",
        &[1, 2],
    );
    let keys_load = keys::group(&mut b.ids)?;
    let lists = lists::groups(&mut b.ids)?;

    Ok(file(
        "device_record",
        &[
            "Signed device records (spec/03-identity.md).",
            "device-record-create: derive the keys from the given secrets and sign; the output must equal `record`.",
            "device-record-verify: decode and verify `record` with the group's allowed suites; valid tests list the fields.",
            "device-keys-load: load the stored device keys `keys` (IDN-07); valid ones must re-encode to `keys` and derive identityKey, kemKey and ratchetKey.",
            "device-list-create: issue a device list (DEV-01) from the given inputs; the output must equal `list`.",
            "device-list-verify: verify `list` (DEV-02) and accept it for `pinnedIdentity` over `heldVersion` (DEV-03); valid tests list the fields.",
            "device-record-verify with `deviceList`: the verifier holds that list for the identity its field 2 names (DEV-04); absent: no list held.",
        ],
        FLAGS,
        [vec![create, all, strict, sui05, key_order, keys_load], lists].concat(),
    ))
}
