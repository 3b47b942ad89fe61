//! Argon2id parameters, their validity and caps (`XBK-05`), and the text secrets they
//! stretch: passphrases and chat PINs as UTF-8 of their NFC form (`XBK-11`).

use argon2::{Algorithm, Argon2, Params, Version};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::error::{ErrorClass, Result};

/// Length of an Argon2id salt.
pub const SALT_LEN: usize = 16;
/// Longest passphrase in bytes after normalization.
pub const MAX_PASSPHRASE: usize = 1024;
/// Longest chat PIN in bytes after normalization.
pub const MAX_PIN: usize = 64;

/// The spec's caps: `m ≤ 1 GiB`, `t ≤ 16`, `p ≤ 16`, `m·t ≤ 4 GiB·pass`.
const CAP_M: u64 = 1_048_576;
const CAP_T: u64 = 16;
const CAP_P: u64 = 16;
const CAP_MT: u64 = 4_194_304;

/// Argon2id cost parameters: memory `m` in KiB, passes `t`, lanes `p`. Held as decoded
/// (any CBOR unsigned integer) until [`KdfParams::check_valid`] passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m: u64,
    /// Passes.
    pub t: u64,
    /// Lanes.
    pub p: u64,
}

impl KdfParams {
    /// What an encoder writes unless configured: 256 MiB, 3 passes, 1 lane.
    pub const DEFAULT: KdfParams = KdfParams {
        m: 262_144,
        t: 3,
        p: 1,
    };

    /// The version-1 floor: 19 MiB, 2 passes, 1 lane (OWASP's minimum).
    pub const FLOOR: KdfParams = KdfParams {
        m: 19_456,
        t: 2,
        p: 1,
    };

    /// Validity (`XBK-05`, first part): `1 ≤ p < 2^24`, `2 ≤ t < 2^32`, `19456 ≤ m < 2^32`,
    /// `m ≥ 8p`, in that order.
    ///
    /// # Errors
    /// `backup.kdf_params`.
    pub fn check_valid(&self) -> Result<()> {
        let valid = (1..=0x00ff_ffff).contains(&self.p)
            && (2..=0xffff_ffff).contains(&self.t)
            && (19_456..=0xffff_ffff).contains(&self.m)
            && self.m >= self.p.saturating_mul(8);
        if valid {
            Ok(())
        } else {
            Err(ErrorClass::BackupKdfParams.into())
        }
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams::DEFAULT
    }
}

/// The most Argon2id work a reader accepts (`XBK-05`, second part). A caller may lower the
/// spec's caps, never raise them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfCaps {
    m: u64,
    t: u64,
    p: u64,
    mt: u64,
}

impl KdfCaps {
    /// The spec's caps: `m ≤ 1048576` KiB, `t ≤ 16`, `p ≤ 16`, `m·t ≤ 4194304`.
    pub const SPEC: KdfCaps = KdfCaps {
        m: CAP_M,
        t: CAP_T,
        p: CAP_P,
        mt: CAP_MT,
    };

    /// Caps lowered to the given values (each clamped to the spec's).
    pub fn lowered(m: u64, t: u64, p: u64, mt: u64) -> KdfCaps {
        KdfCaps {
            m: m.min(CAP_M),
            t: t.min(CAP_T),
            p: p.min(CAP_P),
            mt: mt.min(CAP_MT),
        }
    }

    /// Refuses parameters above the caps, before any work.
    ///
    /// # Errors
    /// `backup.kdf_cap`.
    pub fn check(&self, params: &KdfParams) -> Result<()> {
        let within = params.m <= self.m
            && params.t <= self.t
            && params.p <= self.p
            && params.m.saturating_mul(params.t) <= self.mt;
        if within {
            Ok(())
        } else {
            Err(ErrorClass::BackupKdfCap.into())
        }
    }
}

impl Default for KdfCaps {
    fn default() -> Self {
        KdfCaps::SPEC
    }
}

/// A passphrase (`max` = [`MAX_PASSPHRASE`]) or PIN (`max` = [`MAX_PIN`]) as the bytes the
/// KDF takes: UTF-8 of the NFC normalization, 1 to `max` bytes.
///
/// # Errors
/// `backup.secret_format` for an empty or too long secret.
pub(crate) fn secret_bytes(text: &str, max: usize) -> Result<Zeroizing<Vec<u8>>> {
    let normalized: Zeroizing<String> = Zeroizing::new(text.nfc().collect());
    let bytes = Zeroizing::new(normalized.as_bytes().to_vec());
    if bytes.is_empty() || bytes.len() > max {
        return Err(ErrorClass::BackupSecretFormat.into());
    }
    Ok(bytes)
}

/// Argon2id (RFC 9106, version 0x13) with a 32-byte tag, empty secret and associated data.
/// The caller has checked validity and caps.
///
/// # Errors
/// `backup.kdf_params` if the parameters do not fit the implementation (cannot happen for
/// valid parameters).
pub(crate) fn argon2id(
    secret: &[u8],
    salt: &[u8; SALT_LEN],
    params: &KdfParams,
) -> Result<Zeroizing<[u8; 32]>> {
    let fit = |v: u64| u32::try_from(v).map_err(|_| ErrorClass::BackupKdfParams);
    let params = Params::new(fit(params.m)?, fit(params.t)?, fit(params.p)?, Some(32))
        .map_err(|_| ErrorClass::BackupKdfParams)?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(secret, salt, out.as_mut())
        .map_err(|_| ErrorClass::BackupKdfParams)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_and_caps() {
        assert!(KdfParams::FLOOR.check_valid().is_ok());
        assert!(KdfParams::DEFAULT.check_valid().is_ok());
        for bad in [
            KdfParams {
                p: 0,
                ..KdfParams::FLOOR
            },
            KdfParams {
                t: 1,
                ..KdfParams::FLOOR
            },
            KdfParams {
                m: 19_455,
                ..KdfParams::FLOOR
            },
            KdfParams {
                m: 1 << 32,
                ..KdfParams::FLOOR
            },
            KdfParams {
                m: 19_456,
                p: 2_433,
                t: 2,
            },
        ] {
            assert_eq!(
                bad.check_valid().unwrap_err().class(),
                ErrorClass::BackupKdfParams
            );
        }
        let caps = KdfCaps::SPEC;
        assert!(
            caps.check(&KdfParams {
                m: CAP_M,
                t: 4,
                p: 16
            })
            .is_ok()
        );
        for over in [
            KdfParams {
                m: CAP_M + 1,
                t: 2,
                p: 1,
            },
            KdfParams {
                m: 19_456,
                t: 17,
                p: 1,
            },
            KdfParams {
                m: 19_456,
                t: 2,
                p: 17,
            },
            KdfParams {
                m: 262_145,
                t: 16,
                p: 1,
            },
        ] {
            assert_eq!(
                caps.check(&over).unwrap_err().class(),
                ErrorClass::BackupKdfCap
            );
        }
        let low = KdfCaps::lowered(65_536, 3, 1, u64::MAX);
        assert!(low.check(&KdfParams::DEFAULT).is_err());
        assert_eq!(KdfCaps::lowered(u64::MAX, 99, 99, u64::MAX), KdfCaps::SPEC);
    }

    #[test]
    fn secrets_are_nfc_and_bounded() {
        let composed = secret_bytes("caf\u{e9}", MAX_PASSPHRASE).unwrap();
        let decomposed = secret_bytes("cafe\u{301}", MAX_PASSPHRASE).unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(
            secret_bytes("", MAX_PIN).unwrap_err().class(),
            ErrorClass::BackupSecretFormat
        );
        assert!(secret_bytes(&"x".repeat(64), MAX_PIN).is_ok());
        assert!(secret_bytes(&"x".repeat(65), MAX_PIN).is_err());
        assert!(secret_bytes(&"x".repeat(1025), MAX_PASSPHRASE).is_err());
    }
}
