//! The signed device list: which devices speak for an identity
//! ([`spec/03-identity.md`](../../spec/03-identity.md) §3.6, **DEV-01** .. **DEV-04**).
//!
//! An identity key signs only device lists. A list names, by their Ed25519 device keys, the
//! devices that may speak for the identity (at most [`MAX_DEVICES`]); each device then signs
//! its own device record (version 2, **IDN-02**) with its device key, so the identity key is
//! not needed for daily use and can stay on one device. Lists carry a version that only grows:
//! a contact keeps the list of the highest version and refuses an older or equal one
//! ([`newer_list`], `device.stale`), so a replayed list cannot bring back a removed device.
//!
//! ```
//! use quietwire::identity::{ListChange, SignedDeviceList, newer_list};
//! use quietwire::keys::IdentityKeyPair;
//! use quietwire::UnixTime;
//! use quietwire::ErrorClass;
//!
//! let identity = IdentityKeyPair::from_seed(&[1; 32]);
//! let phone = IdentityKeyPair::from_seed(&[2; 32]);
//! let laptop = IdentityKeyPair::from_seed(&[3; 32]);
//! let devices = vec![*phone.public(), *laptop.public()];
//! let list = SignedDeviceList::issue(&identity, 2, devices, ListChange::Linked, UnixTime(1_800_000_000))?;
//! let bytes = list.to_bytes();
//!
//! // A contact that pinned the identity and holds version 1 takes the new list ...
//! let held = newer_list(&bytes, identity.public(), Some(1))?;
//! assert!(held.list().contains(laptop.public()));
//! // ... and refuses it once it holds version 2.
//! let again = newer_list(&bytes, identity.public(), Some(2)).unwrap_err();
//! assert_eq!(again.class(), ErrorClass::DeviceStale);
//! # Ok::<(), quietwire::Error>(())
//! ```

use std::collections::BTreeMap;

use crate::cbor::{self, Int, Limits, Value};
use crate::error::{ErrorClass, Result};
use crate::keys::{IdentityKey, IdentityKeyPair};
use crate::label::Label;
use crate::schema::{self, Fields};
use crate::time::UnixTime;

/// The most devices a list may name (**DEV-02**); more is `device.too_many`.
pub const MAX_DEVICES: usize = 16;

/// Maximum encoded size of a signed device list (**DEV-02**): a list of [`MAX_DEVICES`]
/// devices is at most 676 bytes, the rest is room for extensions.
pub const MAX_DEVICE_LIST: usize = 2048;

const LIMITS: Limits = Limits::DEFAULT.with_max_input(MAX_DEVICE_LIST);

mod key {
    pub const IDENTITY: u64 = 2;
    pub const VERSION: u64 = 3;
    pub const DEVICES: u64 = 4;
    pub const CHANGE: u64 = 5;
    pub const ISSUED: u64 = 6;
    pub const KNOWN: &[u64] = &[1, IDENTITY, VERSION, DEVICES, CHANGE, ISSUED];
}

/// Why a list was issued (**DEV-01**, Table 3-3). Contacts show it; it changes nothing in
/// verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListChange {
    /// The identity's first list.
    First,
    /// A device was linked (added by a device holding the identity key).
    Linked,
    /// A device was removed.
    Removed,
    /// A device restored the identity from a backup and issued a list of its own.
    Restored,
}

impl ListChange {
    /// The value of field 5.
    pub const fn id(self) -> u64 {
        match self {
            ListChange::First => 0,
            ListChange::Linked => 1,
            ListChange::Removed => 2,
            ListChange::Restored => 3,
        }
    }

    /// The change of a field-5 value.
    ///
    /// # Errors
    /// `schema.range` for a value other than 0 to 3.
    pub fn from_id(id: u64) -> Result<ListChange> {
        match id {
            0 => Ok(ListChange::First),
            1 => Ok(ListChange::Linked),
            2 => Ok(ListChange::Removed),
            3 => Ok(ListChange::Restored),
            _ => Err(ErrorClass::SchemaRange.into()),
        }
    }
}

/// The body of a device list: the identity, the list's version and its devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceList {
    identity_key: IdentityKey,
    version: u64,
    devices: Vec<IdentityKey>,
    change: ListChange,
    issued: UnixTime,
    extensions: BTreeMap<Int, Value>,
}

impl DeviceList {
    /// A list without extensions. The devices are sorted by their key bytes, as the encoding
    /// requires.
    ///
    /// # Errors
    /// `schema.length` for no device, `device.too_many` for more than [`MAX_DEVICES`],
    /// `device.duplicate` for a device named twice.
    pub fn new(
        identity_key: IdentityKey,
        version: u64,
        mut devices: Vec<IdentityKey>,
        change: ListChange,
        issued: UnixTime,
    ) -> Result<DeviceList> {
        devices.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        check_devices(&devices)?;
        Ok(DeviceList {
            identity_key,
            version,
            devices,
            change,
            issued,
            extensions: BTreeMap::new(),
        })
    }

    /// Adds a non-critical extension field (negative key); `None` for a non-negative key.
    pub fn with_extension(mut self, key: Int, value: Value) -> Option<DeviceList> {
        if !key.is_negative() {
            return None;
        }
        self.extensions.insert(key, value);
        Some(self)
    }

    /// The identity key that signs the list.
    pub const fn identity_key(&self) -> &IdentityKey {
        &self.identity_key
    }
    /// The list's version (**DEV-03**).
    pub const fn version(&self) -> u64 {
        self.version
    }
    /// The device keys, in ascending order of their bytes.
    pub fn devices(&self) -> &[IdentityKey] {
        &self.devices
    }
    /// Whether `device` is on the list.
    pub fn contains(&self, device: &IdentityKey) -> bool {
        self.devices.iter().any(|d| d == device)
    }
    /// Why the list was issued.
    pub const fn change(&self) -> ListChange {
        self.change
    }
    /// When the issuer says it issued the list (its clock; shown, never compared).
    pub const fn issued(&self) -> UnixTime {
        self.issued
    }
    /// Extension fields this implementation does not interpret.
    pub const fn extensions(&self) -> &BTreeMap<Int, Value> {
        &self.extensions
    }

    fn to_body(&self) -> Vec<u8> {
        let devices = self
            .devices
            .iter()
            .map(|d| Value::from(&d.as_bytes()[..]))
            .collect();
        let fields = vec![
            (
                key::IDENTITY,
                Value::from(&self.identity_key.as_bytes()[..]),
            ),
            (key::VERSION, Value::uint(self.version)),
            (key::DEVICES, Value::Array(devices)),
            (key::CHANGE, Value::uint(self.change.id())),
            (key::ISSUED, Value::uint(self.issued.as_secs())),
        ];
        cbor::encode(&schema::build_map(fields, &self.extensions))
    }

    /// Steps 4 to 11 of **DEV-02**.
    fn from_body(body: &[u8]) -> Result<DeviceList> {
        let mut fields = Fields::new(cbor::decode(body, &LIMITS)?, key::KNOWN)?;
        let identity = fields.bytes_exact::<32>(key::IDENTITY)?;
        let version = fields.uint(key::VERSION)?;
        let entries = fields.array(key::DEVICES)?;
        let change = ListChange::from_id(fields.uint(key::CHANGE)?)?;
        let issued = UnixTime(fields.uint(key::ISSUED)?);
        // The contents of the array, after every field (ENC-13 step 4).
        if entries.is_empty() {
            return Err(ErrorClass::SchemaLength.into());
        }
        if entries.len() > MAX_DEVICES {
            return Err(ErrorClass::DeviceTooMany.into());
        }
        let raw = entries
            .into_iter()
            .map(|entry| match entry {
                Value::Bytes(bytes) => schema::fixed::<32>(&bytes),
                _ => Err(ErrorClass::SchemaWrongType.into()),
            })
            .collect::<Result<Vec<[u8; 32]>>>()?;
        if raw
            .iter()
            .enumerate()
            .any(|(i, a)| raw.iter().skip(i + 1).any(|b| a == b))
        {
            return Err(ErrorClass::DeviceDuplicate.into());
        }
        if raw.windows(2).any(|w| w.first() >= w.get(1)) {
            return Err(ErrorClass::DeviceOrder.into());
        }
        let identity_key = IdentityKey::from_bytes(&identity)?;
        let devices = raw
            .iter()
            .map(IdentityKey::from_bytes)
            .collect::<Result<Vec<_>>>()?;
        Ok(DeviceList {
            identity_key,
            version,
            devices,
            change,
            issued,
            extensions: fields.into_extensions(),
        })
    }
}

/// The count and uniqueness rules of **DEV-02** for sorted devices.
fn check_devices(devices: &[IdentityKey]) -> Result<()> {
    if devices.is_empty() {
        return Err(ErrorClass::SchemaLength.into());
    }
    if devices.len() > MAX_DEVICES {
        return Err(ErrorClass::DeviceTooMany.into());
    }
    if devices.windows(2).any(|w| w.first() == w.get(1)) {
        return Err(ErrorClass::DeviceDuplicate.into());
    }
    Ok(())
}

/// A device list with the identity's signature, as issued or as received.
///
/// The body bytes are kept exactly as received: the signature is verified over them and
/// [`SignedDeviceList::to_bytes`] reproduces the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedDeviceList {
    list: DeviceList,
    body: Vec<u8>,
    signature: [u8; 64],
}

impl SignedDeviceList {
    /// Issues a list signed by `identity` naming `devices` (in any order).
    ///
    /// # Errors
    /// The errors of [`DeviceList::new`].
    pub fn issue(
        identity: &IdentityKeyPair,
        version: u64,
        devices: Vec<IdentityKey>,
        change: ListChange,
        issued: UnixTime,
    ) -> Result<SignedDeviceList> {
        let list = DeviceList::new(*identity.public(), version, devices, change, issued)?;
        Ok(SignedDeviceList::sign(list, identity))
    }

    /// Signs `list` with `identity`, which must be the list's identity key (a list signed by
    /// another key does not verify).
    pub fn sign(list: DeviceList, identity: &IdentityKeyPair) -> SignedDeviceList {
        let body = list.to_body();
        let signature = identity.sign(Label::DeviceList, &body);
        SignedDeviceList {
            list,
            body,
            signature,
        }
    }

    /// Decodes and verifies a signed device list (**DEV-02**), in the spec's order: size,
    /// canonical CBOR of the array and of the body, the schema, the device count, the change,
    /// duplicates and order of the devices, every key, then the signature.
    ///
    /// # Errors
    /// The class of the first failed check (`cbor.*`, `schema.*`, `device.too_many`,
    /// `device.duplicate`, `device.order`, `key.*`, `identity.signature`).
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedDeviceList> {
        let (body, signature) = schema::split_signed(cbor::decode(bytes, &LIMITS)?)?;
        let list = DeviceList::from_body(&body)?;
        list.identity_key
            .verify(Label::DeviceList, &body, &signature)?;
        Ok(SignedDeviceList {
            list,
            body,
            signature,
        })
    }

    /// The verified list.
    pub const fn list(&self) -> &DeviceList {
        &self.list
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

/// Decides whether the device list `bytes` replaces the list held for the identity `pinned`,
/// of version `held` (`None`: no list held yet), in the order of **DEV-03**: verification
/// (**DEV-02**), the identity against `pinned`, the version against `held`. Returns the list
/// to hold.
///
/// # Errors
/// The classes of [`SignedDeviceList::from_bytes`]; `identity.mismatch` for a list of
/// another identity; `device.stale` for a version not above `held`. Each means: keep the
/// list held.
pub fn newer_list(
    bytes: &[u8],
    pinned: &IdentityKey,
    held: Option<u64>,
) -> Result<SignedDeviceList> {
    let list = SignedDeviceList::from_bytes(bytes)?;
    if list.list.identity_key != *pinned {
        return Err(ErrorClass::IdentityMismatch.into());
    }
    if held.is_some_and(|held| list.list.version <= held) {
        return Err(ErrorClass::DeviceStale.into());
    }
    Ok(list)
}

#[cfg(test)]
#[path = "device_list_tests.rs"]
mod tests;
