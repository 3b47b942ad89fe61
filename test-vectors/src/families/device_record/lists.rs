//! The device-list groups of `device_record.json` (spec/03-identity.md §3.6, DEV-01..DEV-04):
//! issuing lists, verifying and accepting them against a pinned identity and a held version,
//! and version-2 device records verified against a held list.

use super::{DeviceRecordGroup, Ids, RecordFields, VerifyTest, body, expect};
use crate::families::material::cases::{Cases, Named};
use crate::families::material::signed::{Body, add_strict_cases};
use crate::families::material::{self as m, signed};
use crate::raw;
use crate::seeds::seed32;
use quietwire::UnixTime;
use quietwire::identity::{
    ListChange, MAX_DEVICES, SignedDeviceList, SignedDeviceRecord, newer_list,
};
use quietwire::keys::{IdentityKeyPair, KemSecret, X25519Secret};
use quietwire::label::Label;
use quietwire::suite::{Suite, SuitePolicy};

crate::vector_test! {
    /// Issuing a device list from explicit inputs.
    pub struct ListCreateTest {
        /// Ed25519 secret seed of the identity.
        identity_seed: hex,
        /// The list's version.
        version: u64,
        /// The device keys, in the order given to the issuer (not sorted).
        #[serde(with = "crate::format::hex_list")]
        devices: Vec<Vec<u8>>,
        /// The change (Table 3-3).
        change: u64,
        /// The issue time, seconds since the Unix epoch.
        issued: u64,
        /// The expected signed list.
        list: hex,
    }
}

crate::vector_record! {
    /// Fields of an accepted list.
    pub struct ListFields {
        /// Identity key.
        identity_key: hex,
        /// The list's version.
        version: u64,
        /// The device keys, in the list's order.
        #[serde(with = "crate::format::hex_list")]
        devices: Vec<Vec<u8>>,
        /// The change (Table 3-3).
        change: u64,
        /// The issue time.
        issued: u64,
        /// Number of extension fields ignored.
        extensions: usize,
    }
}

crate::vector_test! {
    /// Verifying a device list and deciding whether it replaces the held one (DEV-03).
    pub struct ListVerifyTest {
        /// The signed list.
        list: hex,
        /// The identity key the verifier pinned for the contact.
        pinned_identity: hex,
        /// The version of the list the verifier holds for that identity, if any.
        held_version: ?u64,
        /// The fields of the accepted list (valid tests only).
        expected: ?ListFields,
    }
}

/// A device key of the vectors, by name.
fn device(name: &str) -> IdentityKeyPair {
    IdentityKeyPair::from_seed(&seed32(&format!("device_record/lists/device/{name}")))
}

/// The public keys of the devices `names`, sorted by their bytes.
fn sorted(names: &[&str]) -> Vec<[u8; 32]> {
    let mut keys: Vec<[u8; 32]> = names.iter().map(|n| *device(n).public().as_bytes()).collect();
    keys.sort();
    keys
}

/// A list body, field by field (Table 3-3), with the device entries `devices` as given.
fn list_body(identity: &[u8; 32], version: u64, devices: &[[u8; 32]], change: u64) -> Body {
    let entries: Vec<Vec<u8>> = devices.iter().map(|d| raw::bstr(d)).collect();
    Body(vec![
        (1, raw::head(0, 1)),
        (2, raw::bstr(identity)),
        (3, raw::head(0, version)),
        (4, raw::array(&entries)),
        (5, raw::head(0, change)),
        (6, raw::head(0, 1_800_000_000)),
    ])
}

/// The tests of the `device-list-verify` group under construction, against `pinned` and
/// `held`.
struct Lists<'a> {
    ids: &'a mut Ids,
    pinned: [u8; 32],
    held: Option<u64>,
    tests: Vec<ListVerifyTest>,
}

impl Cases<Vec<u8>> for Lists<'_> {
    fn test(&mut self, n: Named<'_>, list: Vec<u8>, class: Option<&str>) -> Result<(), String> {
        let pinned = quietwire::keys::IdentityKey::from_bytes(&self.pinned)
            .map_err(|e| format!("device list {}: pinned key: {e}", n.slug))?;
        let got = newer_list(&list, &pinned, self.held);
        let accepted = expect(&format!("device list {}", n.slug), got, class)?;
        if accepted.as_ref().is_some_and(|a| a.to_bytes() != list) {
            return Err(format!("device list {}: does not round-trip", n.slug));
        }
        let expected = accepted.map(|a| {
            let l = a.list();
            ListFields {
                identity_key: l.identity_key().as_bytes().to_vec(),
                version: l.version(),
                devices: l.devices().iter().map(|d| d.as_bytes().to_vec()).collect(),
                change: l.change().id(),
                issued: l.issued().as_secs(),
                extensions: l.extensions().len(),
            }
        });
        // Every slug of these groups starts with `list-` (the SUI-05 rows are shared with
        // the record groups, and slugs are unique in a file).
        let slug = match n.slug.strip_prefix("list-") {
            Some(_) => n.slug.to_owned(),
            None => format!("list-{}", n.slug),
        };
        let head = self.ids.head(&slug, n.comment, n.flags, class);
        self.tests.push(ListVerifyTest::new(head, list, self.pinned.to_vec(), self.held, expected));
        Ok(())
    }
}

/// The `device-list-create` group.
fn create(ids: &mut Ids) -> Result<DeviceRecordGroup, String> {
    let mut tests = Vec::new();
    for (slug, version, names, change, issued) in [
        ("list-create-first", 1u64, &["phone"][..], ListChange::First, 1_800_000_000u64),
        (
            "list-create-linked-unsorted",
            2,
            &["phone", "laptop", "tablet"][..],
            ListChange::Linked,
            1_800_003_600,
        ),
        ("list-create-restored", 1 << 20, &["restored"][..], ListChange::Restored, 1_900_000_000),
    ] {
        let identity_seed = seed32(&format!("device_record/lists/{slug}/identity"));
        let identity = IdentityKeyPair::from_seed(&identity_seed);
        let devices: Vec<_> = names.iter().map(|n| *device(n).public()).collect();
        let list =
            SignedDeviceList::issue(&identity, version, devices.clone(), change, UnixTime(issued))
                .map_err(|e| format!("device list {slug}: {e}"))?
                .to_bytes();
        let mut hand =
            list_body(identity.public().as_bytes(), version, &sorted(names), change.id());
        hand = hand.uint(6, issued);
        if signed(&hand.encode(), &identity, Label::DeviceList) != list {
            return Err(format!("device list {slug}: library encoding differs from DEV-01"));
        }
        let comment =
            format!("{} device(s), change {}, version {version}", names.len(), change.id());
        let head = ids.head(slug, &comment, &["ListValid"], None);
        let devices = devices.iter().map(|d| d.as_bytes().to_vec()).collect();
        tests.push(ListCreateTest::new(
            head,
            identity_seed.to_vec(),
            version,
            devices,
            change.id(),
            issued,
            list,
        ));
    }
    Ok(DeviceRecordGroup::ListCreate {
        comment: "Issuing a device list (DEV-01): the devices are given unsorted and the list sorts them; Ed25519 signing is deterministic, so the list is reproducible byte for byte.".to_owned(),
        tests,
    })
}

/// The groups of device lists and of version-2 records, appended to the file.
pub(super) fn groups(ids: &mut Ids) -> Result<Vec<DeviceRecordGroup>, String> {
    let create = create(ids)?;
    let (alice_seed, alice) = m::identity("device_record/lists/alice");
    let (_, mallory) = m::identity("device_record/lists/mallory");
    let a = *alice.public().as_bytes();
    let two = sorted(&["phone", "laptop"]);
    let base = || list_body(&a, 4, &two, ListChange::Linked.id());
    let sign = |b: &Body| signed(&b.encode(), &alice, Label::DeviceList);
    let devices =
        |names: &[&str]| {
            sign(&base().set(
                4,
                raw::array(&sorted(names).iter().map(|d| raw::bstr(d)).collect::<Vec<_>>()),
            ))
        };
    let entries = |keys: &[&[u8]]| {
        sign(&base().set(4, raw::array(&keys.iter().map(|k| raw::bstr(k)).collect::<Vec<_>>())))
    };
    let sixteen: Vec<String> = (0..MAX_DEVICES).map(|i| format!("d{i}")).collect();
    let seventeen: Vec<String> = (0..=MAX_DEVICES).map(|i| format!("d{i}")).collect();
    let [low, high]: [[u8; 32]; 2] =
        two.clone().try_into().map_err(|_| "device list: two devices expected".to_owned())?;

    let mut b = Lists { ids, pinned: a, held: None, tests: Vec::new() };
    let (v, s, d) = (&["ListValid"][..], &["ListSchema"][..], &["ListDevices"][..]);
    crate::rows! { b.valid:
        "list-valid", "two devices, nothing held yet", v, sign(&base());
        "list-valid-one-device", "a single device", v, devices(&["phone"]);
        "list-valid-max-devices", "MAX_DEVICES = 16 devices", v, devices(&names(&sixteen));
        "list-valid-version-max", "version 2^64 - 1", v, sign(&base().uint(3, u64::MAX));
        "list-valid-each-change-3", "change 3 (restored)", v, sign(&base().uint(5, 3));
        "list-valid-extension", "an extension field -1 is kept and signed", &["ListValid", "Extension"],
            sign(&base().bytes(-1, b"ext"));
    }
    crate::rows! { b.invalid:
        "list-too-many-devices", "17 devices: over MAX_DEVICES", d,
            devices(&names(&seventeen)), "device.too_many";
        "list-duplicate-device", "the same device twice", d, entries(&[&low, &low]),
            "device.duplicate";
        "list-duplicate-device-apart", "a device at the start and at the end of three", d,
            entries(&[&low, &high, &low]), "device.duplicate";
        "list-unsorted-devices", "two devices in descending order", d, entries(&[&high, &low]),
            "device.order";
        "list-no-device", "an empty device array", s, entries(&[]), "schema.length";
        "list-device-short", "a 31-byte device key", s, entries(&[&[9u8; 31]]), "schema.length";
        "order-fields-before-device-items", "an integer device entry and no issue time: the fields first", &["CheckOrder"],
            sign(&base().set(4, raw::array(&[raw::head(0, 1)])).remove(6)), "schema.missing_field";
        "list-device-not-bstr", "a device entry that is an integer", s,
            sign(&base().set(4, raw::array(&[raw::head(0, 1)]))), "schema.wrong_type";
        "list-devices-not-array", "field 4 is a byte string", s,
            sign(&base().bytes(4, &low)), "schema.wrong_type";
        "list-change-unknown", "change 4 is not defined", s, sign(&base().uint(5, 4)),
            "schema.range";
        "list-change-missing", "no change field", s, sign(&base().remove(5)),
            "schema.missing_field";
        "list-issued-missing", "no issue time", s, sign(&base().remove(6)),
            "schema.missing_field";
        "list-version-text", "the list's version as a text string", s,
            sign(&base().set(3, raw::tstr("4"))), "schema.wrong_type";
        "list-identity-missing", "no identity key", s, sign(&base().remove(2)),
            "schema.missing_field";
        "list-structure-version-2", "structure version 2 is not defined", s,
            sign(&base().uint(1, 2)), "schema.version";
        "list-unknown-critical-key", "an unknown key 7", s, sign(&base().uint(7, 0)),
            "schema.unknown_critical";
        "list-body-not-map", "the body is an array", s,
            signed(&raw::array(&[raw::head(0, 1)]), &alice, Label::DeviceList), "schema.wrong_type";
        "list-oversized", "over MAX_DEVICE_LIST = 2048 bytes (a 2000-byte extension)", &["ListLimits"],
            sign(&base().bytes(-1, &[0u8; 2000])), "cbor.limit.input";
        "list-body-unsorted-keys", "keys 3 and 2 swapped, correctly signed", &["NonCanonical"],
            signed(&raw::map(&{
                let mut e = base().entries_with(3, raw::head(0, 4));
                e.swap(1, 2);
                e
            }), &alice, Label::DeviceList), "cbor.noncanonical.key_order";
        "list-identity-low-order", "the identity key is a point of order 8", &["WeakKey"],
            sign(&base().bytes(2, &m::ed25519_order_8())), "key.low_order";
        "list-device-low-order", "a device key that is the neutral point", &["WeakKey"],
            entries(&[&m::ed25519_identity_point()]), "key.low_order";
        "list-device-noncanonical", "a device key with y >= p", &["NonCanonicalKey"],
            entries(&[&m::ed25519_noncanonical()]), "key.noncanonical";
        "list-device-not-on-curve", "a device key off the curve", &["InvalidKey"],
            entries(&[&m::ed25519_not_on_curve()]), "key.invalid";
        "list-wrong-signer", "a list naming Alice signed by Mallory", &["Signature"],
            signed(&base().encode(), &mallory, Label::DeviceList), "identity.signature";
        "list-wrong-label", "signed with the device-record label", &["Signature"],
            signed(&base().encode(), &alice, Label::DeviceRecord), "identity.signature";
        "list-signature-bit-flipped", "one bit of the signature flipped", &["Signature"],
            m::xor_last(sign(&base()), 0x01), "identity.signature";
        "list-other-identity", "Mallory's own valid list, for a contact who pinned Alice",
            &["ListAccept"], signed(&list_body(mallory.public().as_bytes(), 9, &two, 1).encode(), &mallory, Label::DeviceList),
            "identity.mismatch";
        "order-change-before-count", "17 devices and change 9: every field before the array's contents", &["CheckOrder"],
            sign(&base().set(4, raw::array(&sorted(&names(&seventeen)).iter().map(|d| raw::bstr(d)).collect::<Vec<_>>())).uint(5, 9)),
            "schema.range";
        "order-change-before-duplicates", "a duplicate device and change 9: the change first",
            &["CheckOrder"], sign(&base().set(4, raw::array(&[raw::bstr(&low), raw::bstr(&low)])).uint(5, 9)),
            "schema.range";
        "order-duplicate-before-order", "three devices, unsorted with a duplicate", &["CheckOrder"],
            entries(&[&high, &low, &high]), "device.duplicate";
        "order-order-before-keys", "a key off the curve before a lower valid one", &["CheckOrder"],
            entries(&[&[0xffu8; 32], &low]), "device.order";
        "order-identity-before-devices", "a low-order identity key and a low-order device key",
            &["CheckOrder"], sign(&base().bytes(2, &m::ed25519_noncanonical()).set(4, raw::array(&[raw::bstr(&m::ed25519_identity_point())]))),
            "key.noncanonical";
        "order-keys-before-signature", "a low-order device key and a wrong signer", &["CheckOrder"],
            signed(&base().set(4, raw::array(&[raw::bstr(&m::ed25519_order_8())])).encode(), &mallory, Label::DeviceList),
            "key.low_order";
        "order-signature-before-identity", "Mallory's list with a bad signature for a contact who pinned Alice",
            &["CheckOrder"], m::xor_last(signed(&list_body(mallory.public().as_bytes(), 9, &two, 1).encode(), &mallory, Label::DeviceList), 0x01),
            "identity.signature";
    }
    let fresh = DeviceRecordGroup::ListVerify {
        comment: "Device lists for a contact who pinned Alice's identity and holds no list yet (DEV-02, DEV-03).".to_owned(),
        tests: std::mem::take(&mut b.tests),
    };
    // SUI-05: the one valid case is signed by a mixed-order identity key, which the contact
    // pinned.
    b.pinned = m::mixed_order_key("device_record/lists/alice").public;
    let with_key = |key: &[u8; 32]| base().bytes(2, key).encode();
    add_strict_cases(
        &mut b,
        &alice_seed,
        &base().encode(),
        Label::DeviceList,
        &with_key,
        "device_record/lists/alice",
    )?;
    let strict = DeviceRecordGroup::ListVerify {
        comment: "Strict Ed25519 verification of device lists (SUI-05), for a contact who pinned the mixed-order identity key of the valid case and holds no list.".to_owned(),
        tests: std::mem::take(&mut b.tests),
    };
    b.pinned = a;

    b.held = Some(4);
    crate::rows! { b.case:
        "held-lower-accepted", "version 5 while holding 4", v, sign(&base().uint(3, 5)), None;
        "held-equal-stale", "the held version again", &["ListAccept"], sign(&base()), Some("device.stale");
        "held-higher-stale", "version 3 while holding 4: a replayed old list", &["ListAccept"],
            sign(&base().uint(3, 3)), Some("device.stale");
        "order-identity-before-version", "Mallory's list of version 9 while holding Alice's 4",
            &["CheckOrder"], signed(&list_body(mallory.public().as_bytes(), 9, &two, 1).encode(), &mallory, Label::DeviceList),
            Some("identity.mismatch");
        "order-verification-before-version", "an older list with 17 devices", &["CheckOrder"],
            sign(&base().uint(3, 1).set(4, raw::array(&sorted(&names(&seventeen)).iter().map(|d| raw::bstr(d)).collect::<Vec<_>>()))),
            Some("device.too_many");
    }
    let held = DeviceRecordGroup::ListVerify {
        comment: "Device lists for a contact who pinned Alice's identity and holds her list of version 4 (DEV-03).".to_owned(),
        tests: b.tests,
    };
    let records = records(b.ids, &alice)?;
    Ok(vec![create, fresh, strict, held, records])
}

/// The tests of version-2 records against Alice's list of her phone and laptop.
fn records(ids: &mut Ids, alice: &IdentityKeyPair) -> Result<DeviceRecordGroup, String> {
    let (phone, laptop, lost) = (device("phone"), device("laptop"), device("lost"));
    let list = SignedDeviceList::issue(
        alice,
        4,
        vec![*phone.public(), *laptop.public()],
        ListChange::Removed,
        UnixTime(1_800_000_000),
    )
    .map_err(|e| format!("device list: {e}"))?;
    let list_bytes = list.to_bytes();
    let kem = KemSecret::from_seed(Suite::X25519, &seed32("device_record/lists/laptop/kem"));
    let xwing = KemSecret::from_seed(Suite::XWing, &seed32("device_record/lists/laptop/kem-xwing"));
    let ratchet = X25519Secret::from_bytes(&seed32("device_record/lists/laptop/ratchet"));
    let r = *ratchet.public().as_bytes();
    let v2 = |dev: &IdentityKeyPair| {
        body(Suite::X25519, alice, kem.public().as_bytes(), &r, 1)
            .uint(1, 2)
            .bytes(7, dev.public().as_bytes())
    };
    let v2x = |dev: &IdentityKeyPair| {
        body(Suite::XWing, alice, xwing.public().as_bytes(), &r, 0)
            .uint(1, 2)
            .bytes(7, dev.public().as_bytes())
    };
    let by = |b: Body, signer: &IdentityKeyPair| signed(&b.encode(), signer, Label::DeviceRecord);
    let mut b = Records { ids, list: Some(list_bytes.clone()), tests: Vec::new() };
    let (v, n) = (&["RecordV2"][..], &["NotListed"][..]);
    crate::rows! { b.case:
        "v2-listed-x25519", "Alice's laptop, on her list, signs its record", v, by(v2(&laptop), &laptop), None;
        "v2-listed-xwing", "the same in suite 1", v, by(v2x(&laptop), &laptop), None;
        "v2-revoked-device", "a device removed from the list still sending its record", n,
            by(v2(&lost), &lost), Some("device.not_listed");
        "v2-v1-record-with-list", "a version-1 record of Alice, signed by her identity key, once a list is held", n,
            by(body(Suite::X25519, alice, kem.public().as_bytes(), &r, 1), alice), Some("device.not_listed");
        "v2-signed-by-identity", "a version-2 record of the laptop signed by the identity key", &["Signature"],
            by(v2(&laptop), alice), Some("identity.signature");
        "v2-signed-by-other-device", "the laptop's record signed by the phone", &["Signature"],
            by(v2(&laptop), &phone), Some("identity.signature");
        "v2-device-key-missing", "version 2 without field 7", &["Schema"],
            by(v2(&laptop).remove(7), &laptop), Some("schema.missing_field");
        "v2-device-key-short", "a 31-byte device key", &["Schema"],
            by(v2(&laptop).bytes(7, &[1u8; 31]), &laptop), Some("schema.length");
        "v2-unknown-key-8", "version 2 with an unknown key 8", &["Schema"],
            by(v2(&laptop).uint(8, 0), &laptop), Some("schema.unknown_critical");
        "v2-device-key-low-order", "a device key of order 8", &["WeakKey"],
            by(v2(&laptop).bytes(7, &m::ed25519_order_8()), &laptop), Some("key.low_order");
        "order-ratchet-key-before-device-key", "a low-order ratchet key and a non-canonical device key",
            &["CheckOrder"], by(v2(&laptop).bytes(5, &m::x25519_zero()).bytes(7, &m::ed25519_noncanonical()), &laptop),
            Some("key.low_order");
        "order-device-key-before-list", "a device not on the list with a low-order key", &["CheckOrder"],
            by(v2(&lost).bytes(7, &m::ed25519_identity_point()), &lost), Some("key.low_order");
        "order-list-before-signature", "a revoked device with a bad signature", &["CheckOrder"],
            m::xor_last(by(v2(&lost), &lost), 0x01), Some("device.not_listed");
    }
    b.list = Some(
        SignedDeviceList::issue(
            &m::identity("device_record/lists/mallory").1,
            4,
            vec![*laptop.public()],
            ListChange::First,
            UnixTime(0),
        )
        .map_err(|e| format!("device list: {e}"))?
        .to_bytes(),
    );
    crate::rows! { b.case:
        "v2-list-of-other-identity", "Alice's laptop against Mallory's list naming the same device key", n,
            by(v2(&laptop), &laptop), Some("device.not_listed");
        "v1-list-of-other-identity", "a version-1 record of Alice while only Mallory's list is held: valid", &["Valid"],
            by(body(Suite::X25519, alice, kem.public().as_bytes(), &r, 1), alice), None;
    }
    b.list = None;
    crate::rows! { b.case:
        "v2-without-list", "Alice's laptop when no list of Alice is held", n,
            by(v2(&laptop), &laptop), Some("device.not_listed");
        "v1-without-list", "a version-1 record when no list is held stays valid", &["Valid"],
            by(body(Suite::X25519, alice, kem.public().as_bytes(), &r, 1), alice), None;
    }
    Ok(DeviceRecordGroup::Verify {
        comment: "Version-2 device records (IDN-02, IDN-05, DEV-04): verified against the device list in `deviceList` (Alice's phone and laptop), or with no list held when it is absent; every registered suite.".to_owned(),
        allowed_suites: vec![1, 2],
        tests: b.tests,
    })
}

/// The tests of version-2 records, each against `list` (or none).
struct Records<'a> {
    ids: &'a mut Ids,
    list: Option<Vec<u8>>,
    tests: Vec<VerifyTest>,
}

impl Cases<Vec<u8>> for Records<'_> {
    fn test(&mut self, n: Named<'_>, record: Vec<u8>, class: Option<&str>) -> Result<(), String> {
        let policy = SuitePolicy::ALL;
        let got = match &self.list {
            Some(list) => {
                let list = SignedDeviceList::from_bytes(list).map_err(|e| format!("list: {e}"))?;
                SignedDeviceRecord::from_bytes_listed(&record, &policy, list.list())
            }
            None => SignedDeviceRecord::from_bytes(&record, &policy),
        };
        let decoded = expect(&format!("device_record {}", n.slug), got, class)?;
        if decoded.as_ref().is_some_and(|d| d.to_bytes() != record) {
            return Err(format!("device_record {}: does not round-trip", n.slug));
        }
        let expected = decoded.map(|d| RecordFields::of(d.record()));
        let head = n.head(self.ids, class);
        self.tests.push(VerifyTest::new(head, record, self.list.clone(), expected));
        Ok(())
    }
}

/// The names as `&str`.
fn names(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}
