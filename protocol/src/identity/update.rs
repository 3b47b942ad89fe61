//! A peer's device record received in a session: which one to keep
//! ([`spec/07-envelope.md`](../../spec/07-envelope.md) **ENV-07**,
//! [`spec/03-identity.md`](../../spec/03-identity.md) **IDN-06**).
//!
//! Each side of a session sends its signed device record as a `device-record` event, first
//! in the session and again after each new generation. The receiver keeps, per contact, the
//! verified record of the highest generation; [`newer_record`] makes that decision with the
//! spec's checks in the spec's order, so that every implementation names the same reason
//! for ignoring a record. An ignored record does not make the event fail: the event is still
//! delivered and receipted.
//!
//! ```
//! use quietwire::identity::{DeviceKeys, newer_record};
//! use quietwire::suite::{Suite, SuitePolicy};
//! use quietwire::ErrorClass;
//! # use rand_core::{TryRng, TryCryptoRng};
//! # struct Counter(u8);
//! # impl TryRng for Counter { type Error = core::convert::Infallible;
//! #   fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
//! #   fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
//! #   fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> {
//! #     for b in d { self.0 = self.0.wrapping_add(1); *b = self.0; } Ok(()) } }
//! # impl TryCryptoRng for Counter {}
//! # let mut rng = Counter(0); // use a real CSPRNG in applications
//! let peer = DeviceKeys::generate(Suite::X25519, &mut rng);
//! let identity = *peer.identity().public();
//! let first = peer.signed_record(0).to_bytes();
//!
//! // Nothing held yet: the verified record is kept.
//! let kept = newer_record(&first, &SuitePolicy::ALL, &identity, None)?;
//! assert_eq!(kept.record().generation(), 0);
//!
//! // The same generation again is ignored, and says why.
//! let again = newer_record(&first, &SuitePolicy::ALL, &identity, Some(0));
//! assert_eq!(again.unwrap_err().class(), ErrorClass::IdentityGeneration);
//! # Ok::<(), quietwire::Error>(())
//! ```

use super::SignedDeviceRecord;
use crate::ErrorClass;
use crate::error::Result;
use crate::keys::IdentityKey;
use crate::suite::SuitePolicy;

/// Decides whether the device record `bytes`, received from the session peer whose identity
/// key is `peer`, replaces the record kept for that contact, of generation `held` (`None`:
/// no record kept yet). Returns the record to keep.
///
/// Checks, in the order of **ENV-07**: the record's decoding and verification (**IDN-05**,
/// under `policy`), then its identity key against `peer`, then its generation against
/// `held`.
///
/// # Errors
/// The classes of [`SignedDeviceRecord::from_bytes`] (`cbor.*`, `schema.*`, `suite.*`,
/// `key.*`, `identity.signature`); `identity.mismatch` for a record of another identity;
/// `identity.generation` for a generation not above `held`. Each means: ignore the record,
/// keep the one held, and still deliver the event.
pub fn newer_record(
    bytes: &[u8],
    policy: &SuitePolicy,
    peer: &IdentityKey,
    held: Option<u64>,
) -> Result<SignedDeviceRecord> {
    let record = SignedDeviceRecord::from_bytes(bytes, policy)?;
    supersedes(&record, peer, held)?;
    Ok(record)
}

/// The checks of [`newer_record`] after verification, for a record already verified (for
/// instance one taken from a handshake or a reconnect, which verified it): its identity key
/// against `peer`, then its generation against `held`.
///
/// # Errors
/// `identity.mismatch` for a record of another identity; `identity.generation` for a
/// generation not above `held`.
pub fn supersedes(
    record: &SignedDeviceRecord,
    peer: &IdentityKey,
    held: Option<u64>,
) -> Result<()> {
    if record.record().identity_key() != peer {
        return Err(ErrorClass::IdentityMismatch.into());
    }
    if held.is_some_and(|held| record.record().generation() <= held) {
        return Err(ErrorClass::IdentityGeneration.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::DeviceKeys;
    use crate::ratchet::tests::TestRng;
    use crate::suite::Suite;

    #[test]
    fn only_a_verified_record_of_the_peer_and_a_higher_generation_is_kept() {
        let mut rng = TestRng(3);
        let peer = DeviceKeys::generate(Suite::X25519, &mut rng);
        let other = DeviceKeys::generate(Suite::X25519, &mut rng);
        let id = *peer.identity().public();
        let all = SuitePolicy::ALL;
        let g2 = peer.signed_record(2).to_bytes();
        assert_eq!(
            newer_record(&g2, &all, &id, Some(1))
                .unwrap()
                .record()
                .generation(),
            2
        );
        for held in [2, 3, u64::MAX] {
            assert_eq!(
                newer_record(&g2, &all, &id, Some(held))
                    .unwrap_err()
                    .class(),
                ErrorClass::IdentityGeneration
            );
        }
        // Another identity is refused before the generation is looked at.
        let foreign = other.signed_record(9).to_bytes();
        assert_eq!(
            newer_record(&foreign, &all, &id, Some(9))
                .unwrap_err()
                .class(),
            ErrorClass::IdentityMismatch
        );
        // A record that does not verify is refused before the identity is compared.
        let mut forged = foreign.clone();
        if let Some(last) = forged.last_mut() {
            *last ^= 1;
        }
        assert_eq!(
            newer_record(&forged, &all, &id, None).unwrap_err().class(),
            ErrorClass::IdentitySignature
        );
    }

    #[test]
    fn a_verified_record_supersedes_only_for_its_identity_and_a_higher_generation() {
        let mut rng = TestRng(5);
        let peer = DeviceKeys::generate(Suite::X25519, &mut rng);
        let other = DeviceKeys::generate(Suite::X25519, &mut rng);
        let id = *peer.identity().public();
        let g3 = peer.signed_record(3);
        assert!(supersedes(&g3, &id, None).is_ok());
        assert!(supersedes(&g3, &id, Some(2)).is_ok());
        assert_eq!(
            supersedes(&g3, &id, Some(3)).unwrap_err().class(),
            ErrorClass::IdentityGeneration
        );
        assert_eq!(
            supersedes(&other.signed_record(9), &id, Some(3))
                .unwrap_err()
                .class(),
            ErrorClass::IdentityMismatch
        );
    }
}
