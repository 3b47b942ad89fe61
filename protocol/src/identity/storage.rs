//! The storage encoding of a device's secret keys (`spec/03-identity.md` §3.2.1,
//! **[IDN-07]**; CDDL rule `device-keys`): a closed, versioned map of the suite and the three
//! secrets a device draws when it generates its keys (**[IDN-01]**). Local state, never
//! exchanged: an application stores it only encrypted, next to its session snapshots.

use zeroize::{Zeroize, Zeroizing};

use super::DeviceKeys;
use crate::cbor::{self, Limits, Value};
use crate::error::Result;
use crate::keys::{IdentityKeyPair, KemSecret, X25519Secret};
use crate::schema::{self, Fields};
use crate::suite::Suite;

/// Largest encoded device keys (**[IDN-07]**): the map and its five fields take 110 bytes.
pub const MAX_DEVICE_KEYS: usize = 128;

const LIMITS: Limits = Limits {
    max_input: MAX_DEVICE_KEYS,
    max_depth: 1,
    max_string: 64,
    max_items: 8,
};

mod key {
    pub(super) const SUITE: u64 = 2;
    pub(super) const IDENTITY_SEED: u64 = 3;
    pub(super) const KEM_SEED: u64 = 4;
    pub(super) const RATCHET_SECRET: u64 = 5;
    pub(super) const KNOWN: &[u64] = &[1, SUITE, IDENTITY_SEED, KEM_SEED, RATCHET_SECRET];
}

/// Overwrites every byte string of a decoded value before it is dropped.
fn wipe(value: &mut Value) {
    match value {
        Value::Bytes(b) => b.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Map(map) => map.values_mut().for_each(wipe),
        _ => {}
    }
}

/// A 32-byte secret field, wiped however the call ends.
fn secret(f: &mut Fields, key: u64) -> Result<Zeroizing<[u8; 32]>> {
    let bytes = Zeroizing::new(f.bytes(key)?);
    Ok(Zeroizing::new(schema::fixed::<32>(&bytes)?))
}

impl DeviceKeys {
    /// The canonical encoding of these keys (`device-keys`, **[IDN-07]**): the suite, the
    /// identity seed, the KEM seed and the ratchet secret. It holds every secret of the
    /// device: store it only encrypted. [`DeviceKeys::from_bytes`] gives the same keys back,
    /// and encoding them again gives the same bytes.
    ///
    /// ```
    /// use quietwire::identity::DeviceKeys;
    /// use quietwire::suite::Suite;
    /// # use rand_core::{TryCryptoRng, TryRng};
    /// # struct Counter(u8);
    /// # impl TryRng for Counter {
    /// #     type Error = core::convert::Infallible;
    /// #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
    /// #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
    /// #     fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
    /// #         for b in dst { self.0 = self.0.wrapping_add(1); *b = self.0; }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # impl TryCryptoRng for Counter {}
    /// # let mut rng = Counter(0);
    /// let device = DeviceKeys::generate(Suite::XWing, &mut rng);
    /// let stored = device.to_bytes(); // Zeroizing<Vec<u8>>: encrypt it before it leaves memory
    ///
    /// let loaded = DeviceKeys::from_bytes(&stored)?;
    /// assert_eq!(loaded.identity().public(), device.identity().public());
    /// assert_eq!(loaded.kem().public(), device.kem().public());
    /// assert_eq!(loaded.to_bytes(), stored);
    /// # Ok::<(), quietwire::Error>(())
    /// ```
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let identity = self.identity.dangerous_seed();
        let kem = self.kem.dangerous_seed();
        let ratchet = self.ratchet.dangerous_bytes();
        let mut map = schema::build_map(
            vec![
                (key::SUITE, Value::uint(self.suite.id())),
                (key::IDENTITY_SEED, Value::from(&identity[..])),
                (key::KEM_SEED, Value::from(&kem[..])),
                (key::RATCHET_SECRET, Value::from(&ratchet[..])),
            ],
            &Default::default(),
        );
        let out = Zeroizing::new(cbor::encode(&map));
        wipe(&mut map);
        out
    }

    /// Decodes keys stored with [`DeviceKeys::to_bytes`], with the checks of **[IDN-07]** in
    /// their order: the map is closed (no extension keys) and every secret is 32 bytes. The
    /// public keys are derived again from the secrets.
    ///
    /// # Errors
    /// `cbor.*` (`cbor.limit.input` for more than [`MAX_DEVICE_KEYS`] bytes); `schema.*` for
    /// a malformed map (`schema.unknown_critical` for any key other than 1 to 5,
    /// `schema.length` for a secret that is not 32 bytes); `suite.unknown` for a suite id
    /// that is not registered.
    pub fn from_bytes(bytes: &[u8]) -> Result<DeviceKeys> {
        let mut value = cbor::decode(bytes, &LIMITS)?;
        let result = Self::from_value(value.clone());
        wipe(&mut value);
        result
    }

    fn from_value(value: Value) -> Result<DeviceKeys> {
        let mut f = Fields::closed(value, key::KNOWN)?;
        let suite = f.uint(key::SUITE)?;
        let identity = secret(&mut f, key::IDENTITY_SEED)?;
        let kem = secret(&mut f, key::KEM_SEED)?;
        let ratchet = secret(&mut f, key::RATCHET_SECRET)?;
        let suite = Suite::from_id(suite)?;
        Ok(DeviceKeys {
            suite,
            identity: IdentityKeyPair::from_seed(&identity),
            kem: KemSecret::from_seed(suite, &kem),
            ratchet: X25519Secret::from_bytes(&ratchet),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorClass;
    use crate::cbor::Int;

    fn keys(suite: Suite) -> DeviceKeys {
        DeviceKeys::from_parts(
            suite,
            IdentityKeyPair::from_seed(&[1; 32]),
            KemSecret::from_seed(suite, &[2; 32]),
            X25519Secret::from_bytes(&[3; 32]),
        )
    }

    fn map_of(bytes: &[u8]) -> std::collections::BTreeMap<Int, Value> {
        match cbor::decode(bytes, &LIMITS).unwrap() {
            Value::Map(map) => map,
            _ => panic!("not a map"),
        }
    }

    fn class(bytes: &[u8]) -> ErrorClass {
        DeviceKeys::from_bytes(bytes).unwrap_err().class()
    }

    fn with(bytes: &[u8], key: i64, value: Option<Value>) -> Vec<u8> {
        let mut map = map_of(bytes);
        match value {
            Some(v) => map.insert(Int::from(key), v),
            None => map.remove(&Int::from(key)),
        };
        cbor::encode(&Value::Map(map))
    }

    #[test]
    fn round_trips_byte_for_byte_in_both_suites() {
        for suite in Suite::ALL {
            let original = keys(suite);
            let bytes = original.to_bytes();
            assert!(bytes.len() <= MAX_DEVICE_KEYS);
            let loaded = DeviceKeys::from_bytes(&bytes).unwrap();
            assert_eq!(loaded.suite(), suite);
            assert_eq!(loaded.identity().public(), original.identity().public());
            assert_eq!(loaded.kem().public(), original.kem().public());
            assert_eq!(loaded.ratchet().public(), original.ratchet().public());
            assert_eq!(loaded.to_bytes(), bytes);
            assert_eq!(
                loaded.signed_record(0).to_bytes(),
                original.signed_record(0).to_bytes()
            );
        }
        // The layout: a map of 5, version 1, suite, then the three secrets in key order.
        let bytes = keys(Suite::X25519).to_bytes();
        assert_eq!(bytes.len(), 110);
        assert_eq!(&bytes[..7], &[0xa5, 0x01, 0x01, 0x02, 0x02, 0x03, 0x58]);
    }

    #[test]
    fn every_check_has_its_class_in_order() {
        let good = keys(Suite::X25519).to_bytes().to_vec();
        let cases: Vec<(Vec<u8>, ErrorClass)> = vec![
            (vec![0; MAX_DEVICE_KEYS + 1], ErrorClass::CborLimitInput),
            ([&good[..], &[0]].concat(), ErrorClass::CborTrailing),
            (cbor::encode(&Value::uint(1)), ErrorClass::SchemaWrongType),
            (with(&good, 1, None), ErrorClass::SchemaMissingField),
            (
                with(&good, 1, Some(Value::uint(2))),
                ErrorClass::SchemaVersion,
            ),
            (
                with(&good, 6, Some(Value::uint(0))),
                ErrorClass::SchemaUnknownCritical,
            ),
            (
                with(&good, -1, Some(Value::uint(0))),
                ErrorClass::SchemaUnknownCritical,
            ),
            (with(&good, 2, None), ErrorClass::SchemaMissingField),
            (
                with(&good, 2, Some(Value::from("x"))),
                ErrorClass::SchemaWrongType,
            ),
            (with(&good, 4, None), ErrorClass::SchemaMissingField),
            (
                with(&good, 5, Some(Value::uint(3))),
                ErrorClass::SchemaWrongType,
            ),
            (
                with(&good, 3, Some(Value::from(&[1u8; 31][..]))),
                ErrorClass::SchemaLength,
            ),
            (
                with(&good, 5, Some(Value::from(&[1u8; 33][..]))),
                ErrorClass::SchemaLength,
            ),
            (
                with(&good, 2, Some(Value::uint(3))),
                ErrorClass::SuiteUnknown,
            ),
            // The structure is checked before the suite.
            (
                with(&with(&good, 2, Some(Value::uint(3))), 4, None),
                ErrorClass::SchemaMissingField,
            ),
            // A 65-byte string in an input within max_input.
            (
                with(
                    &with(&with(&good, 4, None), 5, None),
                    3,
                    Some(Value::from(&[1u8; 65][..])),
                ),
                ErrorClass::CborLimitSize,
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(class(&bytes), want, "{bytes:02x?}");
        }
    }

    #[test]
    fn nothing_secret_prints() {
        let device = keys(Suite::X25519);
        let printed = format!("{device:?}");
        for secret in ["0101", "0202", "0303"] {
            assert!(!printed.contains(&secret.repeat(8)), "{printed}");
        }
    }
}
