//! The signed device record (spec/03-identity.md, device records).

use std::collections::BTreeMap;

use crate::cbor::{self, Int, Limits, Value};
use crate::error::{ErrorClass, Result};
use crate::keys::{IdentityKey, IdentityKeyPair, KemPublicKey, X25519PublicKey};
use crate::label::Label;
use crate::schema::{self, Fields};
use crate::suite::{Suite, SuitePolicy};

/// Maximum encoded size of a signed device record.
pub const MAX_DEVICE_RECORD: usize = 4096;

const LIMITS: Limits = Limits::DEFAULT.with_max_input(MAX_DEVICE_RECORD);

mod key {
    pub const SUITE: u64 = 2;
    pub const IDENTITY: u64 = 3;
    pub const KEM: u64 = 4;
    pub const RATCHET: u64 = 5;
    pub const GENERATION: u64 = 6;
    pub const KNOWN: &[u64] = &[1, SUITE, IDENTITY, KEM, RATCHET, GENERATION];
}

/// The body of a device record: the keys an identity vouches for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRecord {
    suite: Suite,
    identity_key: IdentityKey,
    kem_key: KemPublicKey,
    ratchet_key: X25519PublicKey,
    generation: u64,
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
            extensions: BTreeMap::new(),
        }
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
        cbor::encode(&schema::build_map(fields, &self.extensions))
    }

    fn from_body(body: &[u8], policy: &SuitePolicy) -> Result<DeviceRecord> {
        let mut fields = Fields::new(cbor::decode(body, &LIMITS)?, key::KNOWN)?;
        let suite_id = fields.uint(key::SUITE)?;
        let identity = fields.bytes_exact::<32>(key::IDENTITY)?;
        let kem = fields.bytes(key::KEM)?;
        let ratchet = fields.bytes_exact::<32>(key::RATCHET)?;
        let generation = fields.uint(key::GENERATION)?;
        let suite = policy.check(suite_id)?;
        if kem.len() != suite.kem_public_key_len() {
            return Err(ErrorClass::SchemaLength.into());
        }
        let identity_key = IdentityKey::from_bytes(&identity)?;
        let kem_key = KemPublicKey::from_bytes(suite, &kem)?;
        let ratchet_key = X25519PublicKey::from_bytes(&ratchet)?;
        Ok(DeviceRecord {
            suite,
            identity_key,
            kem_key,
            ratchet_key,
            generation,
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
    /// Signs `record` with `identity`, which must be the record's identity key.
    pub fn sign(record: DeviceRecord, identity: &IdentityKeyPair) -> SignedDeviceRecord {
        let body = record.to_body();
        let signature = identity.sign(Label::DeviceRecord, &body);
        SignedDeviceRecord {
            record,
            body,
            signature,
        }
    }

    /// Decodes and verifies a signed device record.
    ///
    /// Checks, in the spec's order: size and canonical CBOR of the outer array and of the
    /// body, the schema, the suite against `policy`, every key, then the signature.
    ///
    /// # Errors
    /// The class of the first failed check (`cbor.*`, `schema.*`, `suite.*`, `key.*`,
    /// `identity.signature`).
    pub fn from_bytes(bytes: &[u8], policy: &SuitePolicy) -> Result<SignedDeviceRecord> {
        let (body, signature) = schema::split_signed(cbor::decode(bytes, &LIMITS)?)?;
        let record = DeviceRecord::from_body(&body, policy)?;
        record
            .identity_key
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
