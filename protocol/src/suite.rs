//! Cipher suites: one id names every primitive of a session.
//!
//! Specified in [`spec/02-suites-and-labels.md`](../../spec/02-suites-and-labels.md). There is
//! no negotiation: the suite is fixed by a signed invite or device record, so an attacker
//! cannot downgrade it. A receiver may still refuse a known suite by local policy
//! ([`SuitePolicy`]); that refusal is an explicit `suite.disallowed` error, never a silent
//! fallback.

use crate::error::{ErrorClass, Result};

/// A registered cipher suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Suite {
    /// Suite 1, the default: HPKE with the hybrid X-Wing KEM (X25519 + ML-KEM-768),
    /// HKDF-SHA256, ChaCha20-Poly1305; Ed25519 identities; X25519 ratchet.
    XWing,
    /// Suite 2, classical: HPKE with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
    /// ChaCha20-Poly1305; Ed25519 identities; X25519 ratchet.
    X25519,
}

impl Suite {
    /// Every registered suite, in id order.
    pub const ALL: [Suite; 2] = [Suite::XWing, Suite::X25519];

    /// The suite implementations use unless configured otherwise.
    pub const DEFAULT: Suite = Suite::XWing;

    /// The registry id.
    pub const fn id(self) -> u64 {
        match self {
            Suite::XWing => 1,
            Suite::X25519 => 2,
        }
    }

    /// The registry name.
    pub const fn name(self) -> &'static str {
        match self {
            Suite::XWing => "QW1-XWING-HKDFSHA256-CHACHA20POLY1305",
            Suite::X25519 => "QW1-X25519-HKDFSHA256-CHACHA20POLY1305",
        }
    }

    /// Looks a suite up by id.
    ///
    /// # Errors
    /// `suite.unknown` for an id that is not in the registry.
    pub fn from_id(id: u64) -> Result<Suite> {
        match id {
            1 => Ok(Suite::XWing),
            2 => Ok(Suite::X25519),
            _ => Err(ErrorClass::SuiteUnknown.into()),
        }
    }

    /// The HPKE KEM identifier (RFC 9180 §7.1 registry).
    pub const fn hpke_kem_id(self) -> u16 {
        match self {
            Suite::XWing => 0x647a,
            Suite::X25519 => 0x0020,
        }
    }

    /// Length in bytes of the suite's HPKE KEM public key.
    pub const fn kem_public_key_len(self) -> usize {
        match self {
            Suite::XWing => 1216,
            Suite::X25519 => 32,
        }
    }

    /// Length in bytes of the HPKE encapsulated key (`enc`, RFC 9180 `Nenc`).
    pub const fn hpke_enc_len(self) -> usize {
        match self {
            Suite::XWing => 1120,
            Suite::X25519 => 32,
        }
    }

    /// Bytes an HPKE encapsulation draws from the RNG: X-Wing's `eseed`, or the X25519
    /// ephemeral key's `ikmE` (RFC 9180 §7.1.3).
    pub const fn hpke_encap_randomness_len(self) -> usize {
        match self {
            Suite::XWing => 64,
            Suite::X25519 => 32,
        }
    }
}

/// The set of suites a verifier accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuitePolicy {
    xwing: bool,
    x25519: bool,
}

impl SuitePolicy {
    /// Accept every registered suite.
    pub const ALL: SuitePolicy = SuitePolicy {
        xwing: true,
        x25519: true,
    };

    /// Accept only the given suites.
    pub fn only(suites: &[Suite]) -> SuitePolicy {
        SuitePolicy {
            xwing: suites.contains(&Suite::XWing),
            x25519: suites.contains(&Suite::X25519),
        }
    }

    /// Whether `suite` is accepted.
    pub const fn allows(&self, suite: Suite) -> bool {
        match suite {
            Suite::XWing => self.xwing,
            Suite::X25519 => self.x25519,
        }
    }

    /// Resolves a suite id under this policy.
    ///
    /// # Errors
    /// `suite.unknown` for an unregistered id, `suite.disallowed` for a refused suite.
    pub fn check(&self, id: u64) -> Result<Suite> {
        let suite = Suite::from_id(id)?;
        if self.allows(suite) {
            Ok(suite)
        } else {
            Err(ErrorClass::SuiteDisallowed.into())
        }
    }
}

impl Default for SuitePolicy {
    fn default() -> Self {
        SuitePolicy::ALL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_policy_refuses_explicitly() {
        for suite in Suite::ALL {
            assert_eq!(Suite::from_id(suite.id()), Ok(suite));
        }
        assert_eq!(
            Suite::from_id(0).map_err(|e| e.class()),
            Err(ErrorClass::SuiteUnknown)
        );
        let only_default = SuitePolicy::only(&[Suite::XWing]);
        assert_eq!(only_default.check(1), Ok(Suite::XWing));
        assert_eq!(
            only_default.check(2).map_err(|e| e.class()),
            Err(ErrorClass::SuiteDisallowed)
        );
        assert_eq!(
            only_default.check(3).map_err(|e| e.class()),
            Err(ErrorClass::SuiteUnknown)
        );
    }
}
