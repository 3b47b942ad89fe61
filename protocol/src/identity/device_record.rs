//! The signed device record (spec/03-identity.md §3.3): version 1 signed by the identity
//! key, version 2 signed by a device key that the identity's device list names (§3.6).

use std::collections::BTreeMap;

use crate::cbor::{self, Int, Limits, Value};
use crate::error::{ErrorClass, Result};
use crate::keys::{IdentityKey, IdentityKeyPair, KemPublicKey, X25519PublicKey};
use crate::label::Label;
use crate::schema::{self, Fields};
use crate::suite::{Suite, SuitePolicy};

use super::DeviceList;

/// Maximum encoded size of a signed device record.
pub const MAX_DEVICE_RECORD: usize = 4096;

const LIMITS: Limits = Limits::DEFAULT.with_max_input(MAX_DEVICE_RECORD);

mod key {
    pub const SUITE: u64 = 2;
    pub const IDENTITY: u64 = 3;
    pub const KEM: u64 = 4;
    pub const RATCHET: u64 = 5;
    pub const GENERATION: u64 = 6;
    pub const DEVICE: u64 = 7;
    pub const KNOWN: &[u64] = &[1, SUITE, IDENTITY, KEM, RATCHET, GENERATION];
    pub const KNOWN_2: &[u64] = &[1, SUITE, IDENTITY, KEM, RATCHET, GENERATION, DEVICE];
}

/// The body of a device record: the keys an identity vouches for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRecord {
    suite: Suite,
    identity_key: IdentityKey,
    kem_key: KemPublicKey,
    ratchet_key: X25519PublicKey,
    generation: u64,
    device_key: Option<IdentityKey>,
    extensions: BTreeMap<Int, Value>,
}

impl DeviceRecord {
    /// A record without extensions. `generation` is the monotonic generation of the
    /// device's record: 0 first, then one more for each record with new keys (see
    /// [`DeviceKeys::signed_record`](super::DeviceKeys::signed_record), **[IDN-06]**).
    pub fn new(
        suite: Suite,
        identity_key: IdentityKey,
        kem_key: KemPublicKey,
        ratchet_key: X25519PublicKey,
        generation: u64,
    ) -> DeviceRecord {
        DeviceRecord {
            suite,
            identity_key,
            kem_key,
            ratchet_key,
            generation,
            device_key: None,
            extensions: BTreeMap::new(),
        }
    }

    /// The record as version 2, signed by the device key `device_key` rather than by the
    /// identity key (**IDN-02**): valid only for a verifier that holds the identity's device
    /// list naming `device_key` (**DEV-04**).
    pub fn with_device_key(mut self, device_key: IdentityKey) -> DeviceRecord {
        self.device_key = Some(device_key);
        self
    }

    /// Adds a non-critical extension field (negative key).
    ///
    /// Returns `None` for a non-negative key, which would be critical.
    pub fn with_extension(mut self, key: Int, value: Value) -> Option<DeviceRecord> {
        if !key.is_negative() {
            return None;
        }
        self.extensions.insert(key, value);
        Some(self)
    }

    /// The suite.
    pub const fn suite(&self) -> Suite {
        self.suite
    }
    /// The identity key that signs the record.
    pub const fn identity_key(&self) -> &IdentityKey {
        &self.identity_key
    }
    /// The device's long-term HPKE KEM public key.
    pub const fn kem_key(&self) -> &KemPublicKey {
        &self.kem_key
    }
    /// The device's X25519 ratchet public key.
    pub const fn ratchet_key(&self) -> &X25519PublicKey {
        &self.ratchet_key
    }
    /// The record's generation counter.
    pub const fn generation(&self) -> u64 {
        self.generation
    }
    /// The device key of a version-2 record, which signs it; `None` for version 1.
    pub const fn device_key(&self) -> Option<&IdentityKey> {
        self.device_key.as_ref()
    }
    /// The structure version: 1 (signed by the identity key) or 2 (by the device key).
    pub const fn version(&self) -> u64 {
        if self.device_key.is_some() { 2 } else { 1 }
    }
    /// The key whose signature the record carries: the device key (version 2) or the
    /// identity key (version 1).
    pub fn signer(&self) -> &IdentityKey {
        self.device_key.as_ref().unwrap_or(&self.identity_key)
    }
    /// Extension fields this implementation does not interpret.
    pub const fn extensions(&self) -> &BTreeMap<Int, Value> {
        &self.extensions
    }

    fn to_body(&self) -> Vec<u8> {
        let fields = vec![
            (key::SUITE, Value::uint(self.suite.id())),
            (
                key::IDENTITY,
                Value::from(&self.identity_key.as_bytes()[..]),
            ),
            (key::KEM, Value::from(self.kem_key.as_bytes())),
            (key::RATCHET, Value::from(&self.ratchet_key.as_bytes()[..])),
            (key::GENERATION, Value::uint(self.generation)),
        ];
        let mut fields = fields;
        if let Some(device) = &self.device_key {
            fields.push((key::DEVICE, Value::from(&device.as_bytes()[..])));
        }
        cbor::encode(&schema::build_map_version(
            self.version(),
            fields,
            &self.extensions,
        ))
    }

    fn from_body(body: &[u8], policy: &SuitePolicy) -> Result<DeviceRecord> {
        let (version, mut fields) = Fields::versions(
            cbor::decode(body, &LIMITS)?,
            &[(1, key::KNOWN), (2, key::KNOWN_2)],
        )?;
        let suite_id = fields.uint(key::SUITE)?;
        let identity = fields.bytes_exact::<32>(key::IDENTITY)?;
        let kem = fields.bytes(key::KEM)?;
        let ratchet = fields.bytes_exact::<32>(key::RATCHET)?;
        let generation = fields.uint(key::GENERATION)?;
        let device = match version {
            2 => Some(fields.bytes_exact::<32>(key::DEVICE)?),
            _ => None,
        };
        let suite = policy.check(suite_id)?;
        if kem.len() != suite.kem_public_key_len() {
            return Err(ErrorClass::SchemaLength.into());
        }
        let identity_key = IdentityKey::from_bytes(&identity)?;
        let kem_key = KemPublicKey::from_bytes(suite, &kem)?;
        let ratchet_key = X25519PublicKey::from_bytes(&ratchet)?;
        let device_key = device.as_ref().map(IdentityKey::from_bytes).transpose()?;
        Ok(DeviceRecord {
            suite,
            identity_key,
            kem_key,
            ratchet_key,
            generation,
            device_key,
            extensions: fields.into_extensions(),
        })
    }
}

/// A device record with its identity signature, as received or as created.
///
/// The body bytes are kept exactly as received: the signature is verified over them and
/// [`SignedDeviceRecord::to_bytes`] reproduces the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedDeviceRecord {
    record: DeviceRecord,
    body: Vec<u8>,
    signature: [u8; 64],
}

impl SignedDeviceRecord {
    /// Signs `record` with `signer`, which must be the record's [`DeviceRecord::signer`]:
    /// the identity key for version 1, the device key for version 2 (a record signed by
    /// another key does not verify).
    pub fn sign(record: DeviceRecord, signer: &IdentityKeyPair) -> SignedDeviceRecord {
        let body = record.to_body();
        let signature = signer.sign(Label::DeviceRecord, &body);
        SignedDeviceRecord {
            record,
            body,
            signature,
        }
    }

    /// Decodes and verifies a signed device record of an identity for which the verifier
    /// holds no device list (**IDN-05**): a version-2 record is refused with
    /// `device.not_listed`, since nothing certifies its device key.
    ///
    /// Checks, in the spec's order: size and canonical CBOR of the outer array and of the
    /// body, the schema, the suite against `policy`, every key, the list, then the signature.
    ///
    /// # Errors
    /// The class of the first failed check (`cbor.*`, `schema.*`, `suite.*`, `key.*`,
    /// `device.not_listed`, `identity.signature`).
    pub fn from_bytes(bytes: &[u8], policy: &SuitePolicy) -> Result<SignedDeviceRecord> {
        SignedDeviceRecord::verify(bytes, policy, None)
    }

    /// Decodes and verifies a signed device record when the verifier holds `list`
    /// (**IDN-05**, **DEV-04**): a record of `list`'s identity must be of version 2 with a
    /// device key that `list` names; a record of another identity is checked as if no list
    /// were held (version 1 only).
    ///
    /// # Errors
    /// As [`SignedDeviceRecord::from_bytes`]; `device.not_listed` for a version-1 record of
    /// `list`'s identity, a device key not on `list`, or a version-2 record of another
    /// identity.
    pub fn from_bytes_listed(
        bytes: &[u8],
        policy: &SuitePolicy,
        list: &DeviceList,
    ) -> Result<SignedDeviceRecord> {
        SignedDeviceRecord::verify(bytes, policy, Some(list))
    }

    fn verify(
        bytes: &[u8],
        policy: &SuitePolicy,
        list: Option<&DeviceList>,
    ) -> Result<SignedDeviceRecord> {
        let (body, signature) = schema::split_signed(cbor::decode(bytes, &LIMITS)?)?;
        let record = DeviceRecord::from_body(&body, policy)?;
        // A list of another identity is not held for this record's identity.
        let held = list.filter(|list| *list.identity_key() == record.identity_key);
        let listed = match (held, &record.device_key) {
            (None, None) => true,
            (Some(list), Some(device)) => list.contains(device),
            _ => false,
        };
        if !listed {
            return Err(ErrorClass::DeviceNotListed.into());
        }
        record
            .signer()
            .verify(Label::DeviceRecord, &body, &signature)?;
        Ok(SignedDeviceRecord {
            record,
            body,
            signature,
        })
    }

    /// The verified record.
    pub const fn record(&self) -> &DeviceRecord {
        &self.record
    }

    /// The body bytes the signature covers.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The encoding `[body, signature]`.
    pub fn to_bytes(&self) -> Vec<u8> {
        schema::signed(&self.body, &self.signature)
    }
}
