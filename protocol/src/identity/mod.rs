//! Device identities and signed device records.
//!
//! Specified in [`spec/03-identity.md`](../../spec/03-identity.md). A device generates its
//! Ed25519 identity key itself, from the injected RNG; no server ever sees the secret. The
//! identity signs a [`DeviceRecord`] binding it to the device's HPKE KEM key and X25519
//! ratchet key. A device stores its secret keys with [`DeviceKeys::to_bytes`] and loads them
//! with [`DeviceKeys::from_bytes`] (**[IDN-07]**), encrypted at rest by the application.
//!
//! ```
//! use quietwire::identity::{DeviceKeys, SignedDeviceRecord};
//! use quietwire::suite::{Suite, SuitePolicy};
//! # use rand_core::{TryRng, TryCryptoRng};
//! # struct Counter(u8);
//! # impl TryRng for Counter { type Error = core::convert::Infallible;
//! #   fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
//! #   fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
//! #   fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> {
//! #     for b in d { self.0 = self.0.wrapping_add(1); *b = self.0; } Ok(()) } }
//! # impl TryCryptoRng for Counter {}
//! # let mut rng = Counter(0); // use a real CSPRNG in applications
//! let device = DeviceKeys::generate(Suite::X25519, &mut rng);
//! let generation = 0; // a device's first record; +1 for each record with new keys
//! let record = device.signed_record(generation);
//! let bytes = record.to_bytes();
//!
//! // A peer decodes and verifies the record in one step.
//! let received = SignedDeviceRecord::from_bytes(&bytes, &SuitePolicy::ALL)?;
//! assert_eq!(received.record().identity_key(), device.identity().public());
//! assert_eq!(received.to_bytes(), bytes);
//! # Ok::<(), quietwire::Error>(())
//! ```

mod device_list;
mod device_record;
mod storage;
mod update;

pub use device_list::{
    DeviceList, ListChange, MAX_DEVICE_LIST, MAX_DEVICES, SignedDeviceList, newer_list,
};
pub use device_record::{DeviceRecord, MAX_DEVICE_RECORD, SignedDeviceRecord};
pub use storage::MAX_DEVICE_KEYS;
pub use update::{newer_record, supersedes};

use rand_core::CryptoRng;

use crate::keys::{IdentityKeyPair, KemSecret, X25519Secret};
use crate::suite::Suite;

/// The secret keys of one device: identity, long-term KEM and ratchet keys. Its `Debug`
/// shows only public keys; every secret wipes itself on drop. Stored with
/// [`DeviceKeys::to_bytes`], loaded with [`DeviceKeys::from_bytes`].
#[derive(Debug)]
pub struct DeviceKeys {
    suite: Suite,
    identity: IdentityKeyPair,
    kem: KemSecret,
    ratchet: X25519Secret,
}

impl DeviceKeys {
    /// Generates every key of a device. Draws, in this order, 32 bytes for the identity
    /// seed, 32 bytes for the KEM seed and 32 bytes for the ratchet secret, so that vectors
    /// can be reproduced from a seeded RNG.
    pub fn generate<R: CryptoRng + ?Sized>(suite: Suite, rng: &mut R) -> DeviceKeys {
        let identity = IdentityKeyPair::generate(rng);
        let kem = KemSecret::generate(suite, rng);
        let ratchet = X25519Secret::generate(rng);
        DeviceKeys {
            suite,
            identity,
            kem,
            ratchet,
        }
    }

    /// Reassembles a device from its parts (for restore).
    pub fn from_parts(
        suite: Suite,
        identity: IdentityKeyPair,
        kem: KemSecret,
        ratchet: X25519Secret,
    ) -> DeviceKeys {
        DeviceKeys {
            suite,
            identity,
            kem,
            ratchet,
        }
    }

    /// The device's suite.
    pub const fn suite(&self) -> Suite {
        self.suite
    }

    /// The identity key pair.
    pub const fn identity(&self) -> &IdentityKeyPair {
        &self.identity
    }

    /// The long-term KEM key pair.
    pub const fn kem(&self) -> &KemSecret {
        &self.kem
    }

    /// The ratchet key pair.
    pub const fn ratchet(&self) -> &X25519Secret {
        &self.ratchet
    }

    /// The device record for these keys, signed by the identity key.
    ///
    /// `generation` is the record's generation (`spec/03-identity.md` §3.3.3, **[IDN-06]**):
    /// 0 for a device's first record, one more each time the device signs a record with new
    /// KEM or ratchet keys. Contacts keep the record of the highest generation they have seen
    /// and ignore older or equal ones (`spec/07-envelope.md`, **[ENV-07]**), so store it with
    /// the keys and never reuse or lower it.
    pub fn signed_record(&self, generation: u64) -> SignedDeviceRecord {
        let record = DeviceRecord::new(
            self.suite,
            *self.identity.public(),
            self.kem.public().clone(),
            *self.ratchet.public(),
            generation,
        );
        SignedDeviceRecord::sign(record, &self.identity)
    }
}
