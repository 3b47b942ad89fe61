//! The recovery key (`XBK-09`, `XBK-10`): 256 random bits shown as 60 Crockford base32
//! characters in twelve groups of five, the last 44 bits a checksum that catches typos.

use core::fmt;

use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{ErrorClass, Result};
use crate::label::Label;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of the text form without separators.
const CHARS: usize = 60;
/// Bits of the checksum.
const CHECK_BITS: usize = 44;

/// A 32-byte recovery key. Zeroized on drop; its `Debug` prints nothing secret.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct RecoveryKey([u8; 32]);

impl RecoveryKey {
    /// Draws a key from the injected generator.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> RecoveryKey {
        let mut key = RecoveryKey([0u8; 32]);
        rng.fill_bytes(&mut key.0);
        key
    }

    /// A key from its bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> RecoveryKey {
        RecoveryKey(*bytes)
    }

    /// The key bytes (the unlock secret `U`), for unlocking only.
    pub fn dangerous_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The text shown to the user: `XXXXX-XXXXX-…` (71 characters).
    pub fn to_text(&self) -> String {
        let bits = self.bit_source();
        let mut out = String::with_capacity(71);
        for i in 0..CHARS {
            if i > 0 && i % 5 == 0 {
                out.push('-');
            }
            let value = read_bits(bits.as_ref(), i * 5, 5);
            let ch = ALPHABET.get(usize::from(value)).copied().unwrap_or(b'0');
            out.push(char::from(ch));
        }
        out
    }

    /// Parses a typed key (`XBK-10`): spaces and `-` removed, lower case folded, `O` read as
    /// `0` and `I`, `L` as `1`; then exactly 60 characters of the alphabet and a matching
    /// checksum.
    ///
    /// # Errors
    /// `backup.recovery_key_format`, then `backup.recovery_key_checksum`.
    pub fn parse(text: &str) -> Result<RecoveryKey> {
        let mut values = Zeroizing::new(Vec::with_capacity(CHARS));
        for ch in text.chars() {
            let ch = match ch.to_ascii_uppercase() {
                ' ' | '-' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            };
            let value = u8::try_from(ch)
                .ok()
                .and_then(|b| ALPHABET.iter().position(|a| *a == b))
                .ok_or(ErrorClass::BackupRecoveryKeyFormat)?;
            values.push(value as u8);
            if values.len() > CHARS {
                return Err(ErrorClass::BackupRecoveryKeyFormat.into());
            }
        }
        if values.len() != CHARS {
            return Err(ErrorClass::BackupRecoveryKeyFormat.into());
        }
        let mut bits = Zeroizing::new([0u8; 38]);
        for (i, value) in values.iter().enumerate() {
            write_bits(bits.as_mut(), i * 5, 5, *value);
        }
        let mut key = RecoveryKey([0u8; 32]);
        key.0.copy_from_slice(bits.get(..32).unwrap_or(&[0u8; 32]));
        let expected = key.bit_source();
        let mut same = subtle::Choice::from(1);
        for i in 0..CHECK_BITS {
            let got = read_bits(bits.as_ref(), 256 + i, 1);
            let want = read_bits(expected.as_ref(), 256 + i, 1);
            same &= got.ct_eq(&want);
        }
        if !bool::from(same) {
            return Err(ErrorClass::BackupRecoveryKeyChecksum.into());
        }
        Ok(key)
    }

    /// `key ‖ c` with `c` the first 6 bytes of the checksum hash: the first 300 bits are `v`.
    fn bit_source(&self) -> Zeroizing<[u8; 38]> {
        let digest = Sha256::digest(Label::XbkRecoveryChecksum.input(&[&self.0]));
        let mut out = Zeroizing::new([0u8; 38]);
        let (key, check) = out.split_at_mut(32);
        key.copy_from_slice(&self.0);
        check.copy_from_slice(digest.get(..6).unwrap_or(&[0u8; 6]));
        out
    }
}

impl fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryKey(..)")
    }
}

/// `count` (≤ 8) bits of `bytes` from bit `start`, big-endian bit order.
fn read_bits(bytes: &[u8], start: usize, count: usize) -> u8 {
    let mut value = 0u8;
    for bit in start..start + count {
        let byte = bytes.get(bit / 8).copied().unwrap_or(0);
        value = (value << 1) | ((byte >> (7 - bit % 8)) & 1);
    }
    value
}

fn write_bits(bytes: &mut [u8], start: usize, count: usize, value: u8) {
    for (j, bit) in (start..start + count).enumerate() {
        if (value >> (count - 1 - j)) & 1 == 1
            && let Some(byte) = bytes.get_mut(bit / 8)
        {
            *byte |= 1 << (7 - bit % 8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "000G4-0R40M-30E20-9185G-R38E1-W8124-GK2GA-HC5RR-34D1P-70X3R-FSKVP-YJR3G";

    fn example() -> RecoveryKey {
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        RecoveryKey::from_bytes(&bytes)
    }

    #[test]
    fn the_spec_example() {
        let key = example();
        assert_eq!(
            hex::encode(&key.bit_source()[32..]),
            "99eede96070c",
            "checksum bytes"
        );
        assert_eq!(key.to_text(), EXAMPLE);
        assert_eq!(RecoveryKey::parse(EXAMPLE).unwrap().0, key.0);
    }

    #[test]
    fn parsing_normalizes_and_detects_typos() {
        let lower = EXAMPLE.to_lowercase().replace('-', " ");
        assert_eq!(RecoveryKey::parse(&lower).unwrap().0, example().0);
        let with_o = EXAMPLE.replacen('0', "O", 3);
        assert!(RecoveryKey::parse(&with_o).is_ok());
        let class = |t: &str| RecoveryKey::parse(t).unwrap_err().class();
        assert_eq!(class(&EXAMPLE[..70]), ErrorClass::BackupRecoveryKeyFormat);
        assert_eq!(
            class(&EXAMPLE.replacen('G', "U", 1)),
            ErrorClass::BackupRecoveryKeyFormat
        );
        assert_eq!(
            class(&format!("{EXAMPLE}0")),
            ErrorClass::BackupRecoveryKeyFormat
        );
        let substituted = EXAMPLE.replacen("0R40M", "0R41M", 1);
        assert_eq!(class(&substituted), ErrorClass::BackupRecoveryKeyChecksum);
        let transposed = EXAMPLE.replacen("0R40M", "0R04M", 1);
        assert_eq!(class(&transposed), ErrorClass::BackupRecoveryKeyChecksum);
        assert_eq!(format!("{:?}", example()), "RecoveryKey(..)");
    }
}
