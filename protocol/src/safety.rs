//! Safety codes: comparing two identities out of band.
//!
//! Specified in [`spec/03-identity.md`](../../spec/03-identity.md), safety codes. Each
//! identity key is stretched into a 64-byte fingerprint by 5,200 iterations of SHA-512. Seven
//! 5-digit groups of each fingerprint (about 116 bits) form that identity's half; the two
//! halves, sorted, make a 70-digit code that both people see identically. The QR form carries
//! 32 bytes of each fingerprint and is compared in constant time.
//!
//! ```
//! use quietwire::keys::IdentityKeyPair;
//! use quietwire::safety::{SafetyCode, SafetyQr};
//!
//! let alice = IdentityKeyPair::from_seed(&[1; 32]);
//! let bob = IdentityKeyPair::from_seed(&[2; 32]);
//! let code = SafetyCode::new(alice.public(), bob.public());
//! assert_eq!(code, SafetyCode::new(bob.public(), alice.public()));
//! assert_eq!(code.to_string().len(), 70 + 13); // 14 groups of 5 digits
//!
//! // Alice shows a QR code, Bob scans it.
//! let qr = SafetyQr::new(alice.public(), bob.public()).to_bytes();
//! SafetyQr::verify_scanned(&qr, bob.public(), alice.public())?;
//! # Ok::<(), quietwire::Error>(())
//! ```

use core::fmt;

use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

use crate::cbor::{self, Limits, Value};
use crate::error::{ErrorClass, Result};
use crate::keys::IdentityKey;
use crate::label::Label;
use crate::schema::{self, Fields};

/// SHA-512 iterations after the initial hash.
pub const ITERATIONS: u32 = 5200;
/// Digit groups per identity.
pub const GROUPS_PER_SIDE: usize = 7;
/// Magic prefix of the QR payload.
pub const QR_MAGIC: &[u8; 4] = b"QWS1";
/// Maximum size of a QR payload.
pub const MAX_QR: usize = 256;

/// The 64-byte fingerprint of one identity key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint([u8; 64]);

impl Fingerprint {
    /// Computes the fingerprint of `key`.
    pub fn of(key: &IdentityKey) -> Fingerprint {
        let key = key.as_bytes();
        let mut hash: [u8; 64] = Sha512::digest(Label::SafetyCode.input(&[key])).into();
        for _ in 0..ITERATIONS {
            let mut hasher = Sha512::new();
            hasher.update(hash);
            hasher.update(key);
            hash = hasher.finalize().into();
        }
        Fingerprint(hash)
    }

    /// The full 64 bytes.
    pub const fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    /// The 32 bytes carried in the QR form.
    pub fn qr_part(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.0.get(..32).unwrap_or(&[0u8; 32]));
        out
    }

    /// This identity's half of the displayed code: 35 digits.
    pub fn digits(&self) -> String {
        let mut out = String::with_capacity(GROUPS_PER_SIDE * 5);
        for chunk in self.0.chunks_exact(5).take(GROUPS_PER_SIDE) {
            let value = chunk.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            out.push_str(&format!("{:05}", value % 100_000));
        }
        out
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", crate::keys::Hex(&self.0))
    }
}

/// The 70-digit safety code of two identities; the same whichever order they are given in.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SafetyCode {
    digits: String,
}

impl SafetyCode {
    /// The safety code of identities `a` and `b`.
    pub fn new(a: &IdentityKey, b: &IdentityKey) -> SafetyCode {
        let (a, b) = (Fingerprint::of(a).digits(), Fingerprint::of(b).digits());
        let digits = if a <= b { a + &b } else { b + &a };
        SafetyCode { digits }
    }

    /// The 70 digits without separators.
    pub fn digits(&self) -> &str {
        &self.digits
    }
}

impl fmt::Display for SafetyCode {
    /// 14 groups of 5 digits separated by single spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.digits.as_bytes().chunks(5).enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(core::str::from_utf8(group).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

/// The QR form of a safety code, as shown by one device.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SafetyQr {
    shower: [u8; 32],
    peer: [u8; 32],
}

impl SafetyQr {
    /// The QR a device with identity `own` shows to verify `peer`.
    pub fn new(own: &IdentityKey, peer: &IdentityKey) -> SafetyQr {
        SafetyQr {
            shower: Fingerprint::of(own).qr_part(),
            peer: Fingerprint::of(peer).qr_part(),
        }
    }

    /// The payload: `"QWS1"` followed by the canonical CBOR map.
    pub fn to_bytes(&self) -> Vec<u8> {
        let map = schema::build_map(
            vec![
                (2, Value::from(&self.shower[..])),
                (3, Value::from(&self.peer[..])),
            ],
            &Default::default(),
        );
        let mut out = QR_MAGIC.to_vec();
        cbor::encode_into(&map, &mut out);
        out
    }

    /// Decodes a scanned payload without comparing it.
    ///
    /// # Errors
    /// `cbor.limit.input` over 256 bytes, `qr.magic`, then `cbor.*` and `schema.*`.
    pub fn from_bytes(payload: &[u8]) -> Result<SafetyQr> {
        if payload.len() > MAX_QR {
            return Err(ErrorClass::CborLimitInput.into());
        }
        let body = payload.strip_prefix(QR_MAGIC).ok_or(ErrorClass::QrMagic)?;
        let mut fields = Fields::new(cbor::decode(body, &Limits::DEFAULT)?, &[1, 2, 3])?;
        let shower = fields.bytes_exact::<32>(2)?;
        let peer = fields.bytes_exact::<32>(3)?;
        Ok(SafetyQr { shower, peer })
    }

    /// Checks a payload scanned from the peer's screen: it must show the peer's fingerprint
    /// as the shower's and ours as the peer's. The comparison is constant time.
    ///
    /// # Errors
    /// The decoding errors of [`SafetyQr::from_bytes`], or `safety.mismatch`.
    pub fn verify_scanned(payload: &[u8], own: &IdentityKey, peer: &IdentityKey) -> Result<()> {
        let scanned = SafetyQr::from_bytes(payload)?;
        let expected = SafetyQr::new(peer, own);
        let matches = scanned.shower.ct_eq(&expected.shower) & scanned.peer.ct_eq(&expected.peer);
        if bool::from(matches) {
            Ok(())
        } else {
            Err(ErrorClass::SafetyMismatch.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::IdentityKeyPair;

    #[test]
    fn code_is_order_independent_and_grouped() {
        let a = IdentityKeyPair::from_seed(&[1; 32]);
        let b = IdentityKeyPair::from_seed(&[2; 32]);
        let code = SafetyCode::new(a.public(), b.public());
        assert_eq!(code, SafetyCode::new(b.public(), a.public()));
        assert_eq!(code.digits().len(), 70);
        assert!(code.digits().bytes().all(|c| c.is_ascii_digit()));
        assert_eq!(code.to_string().split(' ').count(), 14);
    }

    #[test]
    fn qr_matches_only_the_right_pair() {
        let a = IdentityKeyPair::from_seed(&[1; 32]);
        let b = IdentityKeyPair::from_seed(&[2; 32]);
        let c = IdentityKeyPair::from_seed(&[3; 32]);
        let shown = SafetyQr::new(a.public(), b.public()).to_bytes();
        assert!(SafetyQr::verify_scanned(&shown, b.public(), a.public()).is_ok());
        let err = |r: Result<()>| r.map_err(|e| e.class());
        assert_eq!(
            err(SafetyQr::verify_scanned(&shown, a.public(), b.public())),
            Err(ErrorClass::SafetyMismatch)
        );
        assert_eq!(
            err(SafetyQr::verify_scanned(&shown, c.public(), a.public())),
            Err(ErrorClass::SafetyMismatch)
        );
        assert_eq!(
            err(SafetyQr::verify_scanned(b"QWI1", b.public(), a.public())),
            Err(ErrorClass::QrMagic)
        );
    }
}
