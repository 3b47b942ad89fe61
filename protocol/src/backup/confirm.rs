//! Transfer confirmation: a short authentication string on both screens before a file moves
//! ([`spec/10-backup.md`](../../spec/10-backup.md) §10.5.4, **XBK-32** .. **XBK-34**).
//!
//! Anyone who saw a new device's transfer code can send it a file. Before the old device
//! uploads anything, it seals a **confirmation** to the transfer key naming the SHA-256 of the
//! file it will send; both devices derive a 6-digit code from the HPKE exporter of that seal,
//! which only the two of them know. The person compares the two codes and confirms on each
//! device; the new device then restores only a file whose digest is the confirmed one
//! ([`check_file_digest`]). Someone who photographed the code can send a confirmation of their
//! own, but cannot know the old device's code, so theirs matches with probability 10^-6.
//!
//! ```
//! use quietwire::backup::confirm::{check_file_digest, open_confirmation, seal_confirmation};
//! use quietwire::keys::KemSecret;
//! use quietwire::suite::Suite;
//! # use rand_core::{TryRng, TryCryptoRng};
//! # struct Counter(u8);
//! # impl TryRng for Counter { type Error = core::convert::Infallible;
//! #   fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
//! #   fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
//! #   fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> {
//! #     for b in d { self.0 = self.0.wrapping_add(1); *b = self.0; } Ok(()) } }
//! # impl TryCryptoRng for Counter {}
//! # let mut rng = Counter(0); // use a real CSPRNG in applications
//! let transfer_key = KemSecret::generate(Suite::X25519, &mut rng); // the new device's
//! let code = b"the transfer code exactly as shown";
//! let digest = [7u8; 32]; // SHA-256 of the file the old device will send
//!
//! let (message, old_device_sas) = seal_confirmation(transfer_key.public(), code, &digest, &mut rng)?;
//! let (confirmed, new_device_sas) = open_confirmation(&transfer_key, code, &message)?;
//! assert_eq!(old_device_sas, new_device_sas); // the person compares "123 456" on both screens
//! check_file_digest(&confirmed, &digest)?;
//! # Ok::<(), quietwire::Error>(())
//! ```

use core::fmt;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;

use crate::cbor::{self, Limits, Value};
use crate::error::{ErrorClass, Result};
use crate::hpke;
use crate::keys::{KemPublicKey, KemSecret};
use crate::label::Label;
use crate::schema::{self, Fields};

/// Maximum encoded size of a confirmation message (**XBK-33**): an X-Wing one is 1187 bytes.
pub const MAX_CONFIRMATION: usize = 2048;

const LIMITS: Limits = Limits::DEFAULT.with_max_input(MAX_CONFIRMATION);
const DIGEST: u64 = 2;

/// The 6-digit short authentication string of a confirmation (**XBK-33**). Shown as two
/// groups of three digits (`Display`); compared by people, not by code.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sas(u32);

impl Sas {
    fn of(exported: &[u8; hpke::EXPORT_LEN]) -> Sas {
        let [a, b, c, d, ..] = *exported;
        Sas(u32::from_be_bytes([a, b, c, d]) % 1_000_000)
    }

    /// The six digits, with leading zeros and no space.
    pub fn digits(&self) -> String {
        format!("{:06}", self.0)
    }
}

impl fmt::Display for Sas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03} {:03}", self.0 / 1000, self.0 % 1000)
    }
}

impl fmt::Debug for Sas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sas({self})")
    }
}

fn info(code: &[u8]) -> Vec<u8> {
    Label::XbkConfirmInfo.input(&[code])
}

fn exporter_context() -> Vec<u8> {
    Label::XbkConfirmSas.input(&[])
}

/// The old device's side (**XBK-32**): seals the confirmation of the file whose SHA-256 is
/// `digest` to the transfer key `recipient` of the code `code` (the code's bytes exactly as
/// scanned). Returns the message to put into the code's mailbox and the code to show.
///
/// # Errors
/// As [`hpke::seal`] (`key.*` for an invalid transfer key).
pub fn seal_confirmation<R: CryptoRng + ?Sized>(
    recipient: &KemPublicKey,
    code: &[u8],
    digest: &[u8; 32],
    rng: &mut R,
) -> Result<(Vec<u8>, Sas)> {
    let plaintext = cbor::encode(&schema::build_map(
        vec![(DIGEST, Value::from(&digest[..]))],
        &Default::default(),
    ));
    let sealed = hpke::seal(
        recipient,
        &info(code),
        &[],
        &plaintext,
        &exporter_context(),
        rng,
    )?;
    let message = cbor::encode(&Value::Array(vec![
        Value::from(sealed.enc()),
        Value::from(sealed.ciphertext()),
    ]));
    Ok((message, Sas::of(sealed.exported())))
}

/// The new device's side (**XBK-33**): opens a confirmation with the transfer key pair of the
/// code `code`. Returns the digest of the file to accept and the code to show.
///
/// # Errors
/// In the order of **XBK-33**: `cbor.*` (over [`MAX_CONFIRMATION`] bytes:
/// `cbor.limit.input`), `schema.*` for the array, `hpke.encapsulation`, `hpke.decapsulation`,
/// `hpke.open` (another key, another code, an altered message), then `cbor.*` and `schema.*`
/// for the sealed map.
pub fn open_confirmation(
    recipient: &KemSecret,
    code: &[u8],
    message: &[u8],
) -> Result<([u8; 32], Sas)> {
    let Value::Array(items) = cbor::decode(message, &LIMITS)? else {
        return Err(ErrorClass::SchemaWrongType.into());
    };
    let [enc, ct]: [Value; 2] = items.try_into().map_err(|_| ErrorClass::SchemaLength)?;
    let (Value::Bytes(enc), Value::Bytes(ct)) = (enc, ct) else {
        return Err(ErrorClass::SchemaWrongType.into());
    };
    let opened = hpke::open(recipient, &enc, &info(code), &[], &ct, &exporter_context())?;
    let mut fields = Fields::new(cbor::decode(opened.plaintext(), &LIMITS)?, &[1, DIGEST])?;
    let digest = fields.bytes_exact::<32>(DIGEST)?;
    Ok((digest, Sas::of(opened.exported())))
}

/// **XBK-34**: the SHA-256 `received` of the whole file received by transfer against the
/// confirmed `digest`, in constant time.
///
/// # Errors
/// `backup.transfer_digest` if they differ: the file is not the one confirmed.
pub fn check_file_digest(digest: &[u8; 32], received: &[u8; 32]) -> Result<()> {
    if bool::from(digest.ct_eq(received)) {
        Ok(())
    } else {
        Err(ErrorClass::BackupTransferDigest.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratchet::tests::TestRng;
    use crate::suite::Suite;

    #[test]
    fn both_sides_derive_the_same_code_and_the_digest_travels() {
        for suite in Suite::ALL {
            let mut rng = TestRng(21);
            let key = KemSecret::generate(suite, &mut rng);
            let (message, sas) =
                seal_confirmation(key.public(), b"code", &[3; 32], &mut rng).unwrap();
            assert!(message.len() <= MAX_CONFIRMATION);
            let (digest, opened) = open_confirmation(&key, b"code", &message).unwrap();
            assert_eq!((digest, opened), ([3; 32], sas));
            assert_eq!(sas.digits().len(), 6);
            assert_eq!(sas.to_string().len(), 7);
        }
    }

    #[test]
    fn another_code_another_key_or_an_altered_message_does_not_open() {
        let mut rng = TestRng(22);
        let key = KemSecret::generate(Suite::X25519, &mut rng);
        let other = KemSecret::generate(Suite::X25519, &mut rng);
        let (message, _) = seal_confirmation(key.public(), b"code", &[3; 32], &mut rng).unwrap();
        let class = |r: Result<([u8; 32], Sas)>| r.unwrap_err().class();
        assert_eq!(
            class(open_confirmation(&key, b"other code", &message)),
            ErrorClass::HpkeOpen
        );
        assert_eq!(
            class(open_confirmation(&other, b"code", &message)),
            ErrorClass::HpkeOpen
        );
        let mut altered = message.clone();
        if let Some(last) = altered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(
            class(open_confirmation(&key, b"code", &altered)),
            ErrorClass::HpkeOpen
        );
        assert_eq!(
            class(open_confirmation(
                &key,
                b"code",
                &[0x80; MAX_CONFIRMATION + 1]
            )),
            ErrorClass::CborLimitInput
        );
    }

    #[test]
    fn only_the_confirmed_digest_is_accepted() {
        assert!(check_file_digest(&[1; 32], &[1; 32]).is_ok());
        let mut other = [1; 32];
        other[31] = 2;
        assert_eq!(
            check_file_digest(&[1; 32], &other).unwrap_err().class(),
            ErrorClass::BackupTransferDigest
        );
    }

    #[test]
    fn the_code_is_shown_with_leading_zeros() {
        assert_eq!(Sas(42).to_string(), "000 042");
        assert_eq!(Sas(42).digits(), "000042");
        assert_eq!(Sas(999_999).to_string(), "999 999");
    }
}
