use super::*;
use crate::identity::{DeviceKeys, SignedDeviceRecord};
use crate::ratchet::tests::TestRng;
use crate::suite::{Suite, SuitePolicy};

fn pair(n: u8) -> IdentityKeyPair {
    IdentityKeyPair::from_seed(&[n; 32])
}

fn keys(ns: &[u8]) -> Vec<IdentityKey> {
    ns.iter().map(|n| *pair(*n).public()).collect()
}

fn class<T: core::fmt::Debug>(r: Result<T>) -> ErrorClass {
    r.unwrap_err().class()
}

/// A body with the given device entries, signed by identity 1: for the faults the encoder
/// refuses to write.
fn forged(entries: Vec<Value>, change: u64) -> Vec<u8> {
    let identity = pair(1);
    let fields = vec![
        (
            key::IDENTITY,
            Value::from(&identity.public().as_bytes()[..]),
        ),
        (key::VERSION, Value::uint(1)),
        (key::DEVICES, Value::Array(entries)),
        (key::CHANGE, Value::uint(change)),
        (key::ISSUED, Value::uint(0)),
    ];
    let body = cbor::encode(&schema::build_map(fields, &BTreeMap::new()));
    schema::signed(&body, &identity.sign(Label::DeviceList, &body))
}

fn entries(ns: &[u8]) -> Vec<Value> {
    keys(ns)
        .iter()
        .map(|k| Value::from(&k.as_bytes()[..]))
        .collect()
}

#[test]
fn an_issued_list_verifies_and_round_trips_with_sorted_devices() {
    let list = SignedDeviceList::issue(
        &pair(1),
        7,
        keys(&[4, 2, 3]),
        ListChange::Removed,
        UnixTime(99),
    )
    .unwrap();
    let bytes = list.to_bytes();
    let back = SignedDeviceList::from_bytes(&bytes).unwrap();
    assert_eq!(back, list);
    assert_eq!(back.to_bytes(), bytes);
    let devices = back.list().devices();
    assert!(
        devices
            .windows(2)
            .all(|w| w[0].as_bytes() < w[1].as_bytes())
    );
    assert_eq!(devices.len(), 3);
    assert_eq!(back.list().version(), 7);
    assert_eq!(back.list().change(), ListChange::Removed);
    assert_eq!(back.list().issued(), UnixTime(99));
}

#[test]
fn the_issuer_refuses_what_a_verifier_would_refuse() {
    let id = pair(1);
    let issue = |devices| SignedDeviceList::issue(&id, 1, devices, ListChange::First, UnixTime(0));
    assert_eq!(class(issue(Vec::new())), ErrorClass::SchemaLength);
    assert_eq!(class(issue(keys(&[2, 3, 2]))), ErrorClass::DeviceDuplicate);
    let seventeen: Vec<u8> = (2..19).collect();
    assert_eq!(class(issue(keys(&seventeen))), ErrorClass::DeviceTooMany);
    assert!(issue(keys(&seventeen[..MAX_DEVICES])).is_ok());
}

#[test]
fn every_list_check_reports_its_class() {
    let mut sorted = keys(&[2, 3]);
    sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let [low, high] = [sorted[0], sorted[1]].map(|k| Value::from(&k.as_bytes()[..]));
    assert!(SignedDeviceList::from_bytes(&forged(vec![low.clone(), high.clone()], 0)).is_ok());
    let cases: Vec<(Vec<u8>, ErrorClass)> = vec![
        (
            forged(vec![high.clone(), low.clone()], 0),
            ErrorClass::DeviceOrder,
        ),
        (
            forged(vec![low.clone(), low.clone()], 0),
            ErrorClass::DeviceDuplicate,
        ),
        (forged(Vec::new(), 0), ErrorClass::SchemaLength),
        (forged(vec![Value::uint(1)], 0), ErrorClass::SchemaWrongType),
        (
            forged(vec![Value::from(&[9u8; 31][..])], 0),
            ErrorClass::SchemaLength,
        ),
        (forged(vec![low.clone()], 4), ErrorClass::SchemaRange),
        (
            forged(entries(&(2..19).collect::<Vec<_>>()), 0),
            ErrorClass::DeviceTooMany,
        ),
        // The change before duplicates.
        // Every field (the change's range included) before the array's contents, the count
        // before the items.
        (forged(entries(&[2; 17]), 9), ErrorClass::SchemaRange),
        (
            forged(vec![Value::uint(1); 17], 0),
            ErrorClass::DeviceTooMany,
        ),
        (
            forged(vec![low.clone(), low.clone()], 9),
            ErrorClass::SchemaRange,
        ),
        // Duplicates before the order, the order before the keys.
        (
            forged(vec![high.clone(), low.clone(), high.clone()], 0),
            ErrorClass::DeviceDuplicate,
        ),
        (
            forged(vec![Value::from(&[0xff; 32][..]), low.clone()], 0),
            ErrorClass::DeviceOrder,
        ),
        (
            forged(vec![Value::from(&[0u8; 32][..]), low], 0),
            ErrorClass::KeyLowOrder,
        ),
        (vec![0x80; MAX_DEVICE_LIST + 1], ErrorClass::CborLimitInput),
    ];
    for (bytes, want) in cases {
        assert_eq!(class(SignedDeviceList::from_bytes(&bytes)), want);
    }
    let mut bad_signature = forged(vec![high], 0);
    if let Some(last) = bad_signature.last_mut() {
        *last ^= 1;
    }
    assert_eq!(
        class(SignedDeviceList::from_bytes(&bad_signature)),
        ErrorClass::IdentitySignature
    );
}

#[test]
fn a_list_replaces_the_held_one_only_for_its_identity_and_a_higher_version() {
    let list = SignedDeviceList::issue(&pair(1), 5, keys(&[2]), ListChange::Linked, UnixTime(0))
        .unwrap()
        .to_bytes();
    let pinned = *pair(1).public();
    assert!(newer_list(&list, &pinned, None).is_ok());
    assert!(newer_list(&list, &pinned, Some(4)).is_ok());
    for held in [5, 6, u64::MAX] {
        assert_eq!(
            class(newer_list(&list, &pinned, Some(held))),
            ErrorClass::DeviceStale
        );
    }
    // Another identity is refused before the version is looked at.
    assert_eq!(
        class(newer_list(&list, pair(9).public(), Some(9))),
        ErrorClass::IdentityMismatch
    );
}

#[test]
fn a_version_2_record_is_valid_only_with_a_list_that_names_its_device() {
    let mut rng = TestRng(11);
    let keys_of_device = DeviceKeys::generate(Suite::X25519, &mut rng);
    let identity = keys_of_device.identity();
    let (phone, laptop) = (pair(2), pair(3));
    let record = |device: &IdentityKeyPair| {
        let body = keys_of_device
            .signed_record(0)
            .record()
            .clone()
            .with_device_key(*device.public());
        SignedDeviceRecord::sign(body, device).to_bytes()
    };
    let list = |devices| {
        SignedDeviceList::issue(identity, 1, devices, ListChange::First, UnixTime(0)).unwrap()
    };
    let both = list(vec![*phone.public(), *laptop.public()]);
    let phone_only = list(vec![*phone.public()]);
    let all = SuitePolicy::ALL;
    let laptop_record = record(&laptop);
    let verified =
        SignedDeviceRecord::from_bytes_listed(&laptop_record, &all, both.list()).unwrap();
    assert_eq!(verified.record().version(), 2);
    assert_eq!(verified.record().device_key(), Some(laptop.public()));
    assert_eq!(verified.to_bytes(), laptop_record);
    // Removed from the list: refused, whatever its signature.
    let removed = SignedDeviceRecord::from_bytes_listed(&laptop_record, &all, phone_only.list());
    assert_eq!(class(removed), ErrorClass::DeviceNotListed);
    // No list held: nothing certifies the device key.
    assert_eq!(
        class(SignedDeviceRecord::from_bytes(&laptop_record, &all)),
        ErrorClass::DeviceNotListed
    );
    // Once a list is held, a version-1 record (signed by the identity key) is refused too.
    let v1 = keys_of_device.signed_record(0).to_bytes();
    assert!(SignedDeviceRecord::from_bytes(&v1, &all).is_ok());
    assert_eq!(
        class(SignedDeviceRecord::from_bytes_listed(
            &v1,
            &all,
            both.list()
        )),
        ErrorClass::DeviceNotListed
    );
    // A list of another identity is not held for Alice: her version-2 record is not
    // certified, her version-1 record is checked as with no list.
    let foreign_v1 = SignedDeviceList::issue(
        &pair(8),
        1,
        vec![*laptop.public()],
        ListChange::First,
        UnixTime(0),
    )
    .unwrap();
    assert!(SignedDeviceRecord::from_bytes_listed(&v1, &all, foreign_v1.list()).is_ok());
    let foreign = SignedDeviceList::issue(
        &pair(8),
        1,
        vec![*laptop.public()],
        ListChange::First,
        UnixTime(0),
    )
    .unwrap();
    assert_eq!(
        class(SignedDeviceRecord::from_bytes_listed(
            &laptop_record,
            &all,
            foreign.list()
        )),
        ErrorClass::DeviceNotListed
    );
    // A listed device key that did not sign the record: the signature fails.
    let body = keys_of_device
        .signed_record(0)
        .record()
        .clone()
        .with_device_key(*laptop.public());
    let signed_by_phone = SignedDeviceRecord::sign(body, &phone).to_bytes();
    assert_eq!(
        class(SignedDeviceRecord::from_bytes_listed(
            &signed_by_phone,
            &all,
            both.list()
        )),
        ErrorClass::IdentitySignature
    );
}
