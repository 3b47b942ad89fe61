//! The `device-keys-load` group of `device_record.json`: stored device keys
//! (spec/03-identity.md §3.2.1, IDN-07), valid ones that load and re-encode byte for byte,
//! and one refusal per check of the rule, each with its class.

use super::{DeviceRecordGroup, Ids, expect};
use crate::families::material::canonical_map;
use crate::raw;
use crate::seeds::seed32;
use quietwire::identity::{DeviceKeys, MAX_DEVICE_KEYS};
use quietwire::keys::{IdentityKeyPair, KemSecret, X25519Secret};
use quietwire::suite::Suite;

crate::vector_test! {
    /// Loading stored device keys.
    pub struct KeysTest {
        /// The stored `device-keys` bytes.
        keys: hex,
        /// The identity public key the seed derives (valid tests only).
        identity_key: hex?,
        /// The KEM public key the KEM seed derives (valid tests only).
        kem_key: hex?,
        /// The ratchet public key of the ratchet secret (valid tests only).
        ratchet_key: hex?,
    }
}

/// The fields of `device-keys`, as (key, encoded value), to be changed by the cases.
struct Fields(Vec<(i64, Vec<u8>)>);

impl Fields {
    /// The fields of keys of `suite` from the named seeds of `name`.
    fn of(name: &str, suite: Suite) -> Fields {
        let [identity, kem, ratchet] = ["identity", "kem", "ratchet"]
            .map(|part| seed32(&format!("device_record/keys/{name}/{part}")));
        Fields(vec![
            (1, raw::head(0, 1)),
            (2, raw::head(0, suite.id())),
            (3, raw::bstr(&identity)),
            (4, raw::bstr(&kem)),
            (5, raw::bstr(&ratchet)),
        ])
    }

    fn set(mut self, key: i64, value: Vec<u8>) -> Fields {
        self.0.retain(|(k, _)| *k != key);
        self.0.push((key, value));
        self
    }

    fn without(mut self, key: i64) -> Fields {
        self.0.retain(|(k, _)| *k != key);
        self
    }

    fn encode(&self) -> Vec<u8> {
        canonical_map(self.0.clone())
    }
}

/// Builds the tests of the group, in order.
struct Loader<'a> {
    ids: &'a mut Ids,
    tests: Vec<KeysTest>,
}

impl Loader<'_> {
    /// The test of `keys`: refused with `class`, or (`None`) loaded, re-encoded to the same
    /// bytes, and equal to the keys built from the same secrets.
    fn test(
        &mut self,
        slug: &str,
        comment: &str,
        flags: &[&str],
        keys: Vec<u8>,
        class: Option<&str>,
    ) -> Result<(), String> {
        let what = format!("device_record {slug}");
        let loaded = expect(&what, DeviceKeys::from_bytes(&keys), class)?;
        let (mut identity_key, mut kem_key, mut ratchet_key) = (None, None, None);
        if let Some(loaded) = loaded {
            if loaded.to_bytes().as_slice() != keys.as_slice() {
                return Err(format!("{what}: does not re-encode to the same bytes"));
            }
            identity_key = Some(loaded.identity().public().as_bytes().to_vec());
            kem_key = Some(loaded.kem().public().as_bytes().to_vec());
            ratchet_key = Some(loaded.ratchet().public().as_bytes().to_vec());
        }
        let head = self.ids.head(slug, comment, flags, class);
        self.tests.push(KeysTest::new(head, keys, identity_key, kem_key, ratchet_key));
        Ok(())
    }
}

/// The keys of `name` in `suite`, made by the library from the named seeds: the encoding the
/// valid tests carry, checked against the hand-built map.
fn library_keys(name: &str, suite: Suite) -> Result<Vec<u8>, String> {
    let [identity, kem, ratchet] = ["identity", "kem", "ratchet"]
        .map(|part| seed32(&format!("device_record/keys/{name}/{part}")));
    let keys = DeviceKeys::from_parts(
        suite,
        IdentityKeyPair::from_seed(&identity),
        KemSecret::from_seed(suite, &kem),
        X25519Secret::from_bytes(&ratchet),
    );
    let bytes = keys.to_bytes().to_vec();
    if bytes != Fields::of(name, suite).encode() {
        return Err(format!("device_record keys {name}: library encoding differs from IDN-07"));
    }
    Ok(bytes)
}

/// The `device-keys-load` group.
pub(super) fn group(ids: &mut Ids) -> Result<DeviceRecordGroup, String> {
    let xwing = library_keys("xwing", Suite::XWing)?;
    let x25519 = library_keys("x25519", Suite::X25519)?;
    let f = || Fields::of("x25519", Suite::X25519);
    let over = MAX_DEVICE_KEYS + 1;
    // The valid classical keys with the suite written in two bytes (0x18 0x02).
    let wide_suite = f().set(2, raw::wide_head(0, 2, 1)).encode();
    // Keys 1..5 written in the order 1, 3, 2, 4, 5.
    let mut misordered = raw::head(5, 5);
    for k in [1, 3, 2, 4, 5] {
        misordered.extend_from_slice(&raw::key(k));
        misordered.extend_from_slice(
            &f().0.iter().find(|(key, _)| *key == k).map(|(_, v)| v.clone()).unwrap_or_default(),
        );
    }
    let (schema, limits, order) = (&["KeysSchema"][..], &["KeysLimits"][..], &["KeysOrder"][..]);
    let mut b = Loader { ids, tests: Vec::new() };
    crate::rows! { b.test:
        "keys-valid-xwing", "stored keys of suite 1: load, derive, re-encode", &["KeysValid"],
            xwing, None;
        "keys-valid-x25519", "stored keys of suite 2", &["KeysValid"], x25519.clone(), None;
        "keys-trailing-byte", "a byte after the map", &["KeysCanonical"],
            [x25519.as_slice(), &[0x00]].concat(), Some("cbor.trailing");
        "keys-suite-wide-integer", "the suite as 0x18 0x02: not the canonical encoding",
            &["KeysCanonical"], wide_suite, Some("cbor.noncanonical.integer");
        "keys-key-order", "key 3 before key 2", &["KeysCanonical"], misordered,
            Some("cbor.noncanonical.key_order");
        "keys-over-max-input", "129 bytes: over MAX_DEVICE_KEYS, refused before decoding", limits,
            vec![0xa5; over], Some("cbor.limit.input");
        "keys-secret-over-max-string",
            "a 65-byte identity seed (keys 4 and 5 left out, so the input is within max_input): over max_string",
            limits, f().without(4).without(5).set(3, raw::bstr(&[7; 65])).encode(),
            Some("cbor.limit.size");
        "keys-nested-array", "the KEM seed as an array: deeper than max_depth 1", limits,
            f().set(4, raw::array(&[raw::head(0, 1)])).encode(), Some("cbor.limit.depth");
        "keys-not-a-map", "an array instead of the map", schema,
            raw::array(&[raw::head(0, 1)]), Some("schema.wrong_type");
        "keys-version-missing", "no key 1", schema, f().without(1).encode(),
            Some("schema.missing_field");
        "keys-version-2", "version 2", schema, f().set(1, raw::head(0, 2)).encode(),
            Some("schema.version");
        "keys-unknown-key", "key 6 is not defined", schema,
            f().set(6, raw::head(0, 0)).encode(), Some("schema.unknown_critical");
        "keys-extension-key", "the map is closed: even a negative key is refused", schema,
            f().set(-1, raw::head(0, 0)).encode(), Some("schema.unknown_critical");
        "keys-suite-missing", "no suite", schema, f().without(2).encode(),
            Some("schema.missing_field");
        "keys-suite-text", "the suite as a text string", schema,
            f().set(2, raw::tstr("x25519")).encode(), Some("schema.wrong_type");
        "keys-identity-seed-missing", "no identity seed", schema, f().without(3).encode(),
            Some("schema.missing_field");
        "keys-identity-seed-short", "a 31-byte identity seed", schema,
            f().set(3, raw::bstr(&[7; 31])).encode(), Some("schema.length");
        "keys-kem-seed-text", "the KEM seed as a text string", schema,
            f().set(4, raw::tstr("seed")).encode(), Some("schema.wrong_type");
        "keys-ratchet-secret-missing", "no ratchet secret", schema, f().without(5).encode(),
            Some("schema.missing_field");
        "keys-ratchet-secret-long", "a 33-byte ratchet secret", schema,
            f().set(5, raw::bstr(&[7; 33])).encode(), Some("schema.length");
        "keys-suite-unknown", "suite 3 is not registered", &["KeysSuite"],
            f().set(2, raw::head(0, 3)).encode(), Some("suite.unknown");
        "keys-order-suite-after-fields", "an unknown suite and a short ratchet secret: the fields are checked first",
            order, f().set(2, raw::head(0, 3)).set(5, raw::bstr(&[7; 31])).encode(),
            Some("schema.length");
        "keys-order-unknown-key-before-fields", "an unknown key and no identity seed: unknown keys are checked first",
            order, f().set(9, raw::head(0, 0)).without(3).encode(), Some("schema.unknown_critical");
    }
    Ok(DeviceRecordGroup::KeysLoad {
        comment: "Stored device keys (IDN-07): valid ones load, derive the listed public keys and re-encode to the same bytes; the others fail with the class of the first failing check.".to_owned(),
        tests: b.tests,
    })
}
