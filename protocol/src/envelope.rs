//! Envelopes and padding (`spec/07-envelope.md`): the only bytes a relay sees.
//!
//! An envelope is a canonical CBOR map of a version, the destination mailbox id and one
//! opaque blob. The blob is a handshake message or a ratchet message, and its length is
//! always a *bucket*: one minimum size ([`MIN_BUCKET`]) shared by every small message, and
//! above it the lengths Padmé (Nikitin et al., PETS 2019) allows, which leak at most
//! O(log log n) bits of the length. Padding happens inside the encryption: the sender pads
//! the plaintext with [`pad`] so that plaintext, padding and the encryption's fixed overhead
//! fill a bucket exactly, and the receiver removes it with [`unpad`] after authenticating.
//!
//! ```
//! use quietwire::envelope::{self, Envelope};
//! use quietwire::mailbox::MailboxKey;
//! # use rand_core::{TryCryptoRng, TryRng};
//! # struct Counter(u8);
//! # impl TryRng for Counter {
//! #     type Error = core::convert::Infallible;
//! #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
//! #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
//! #     fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
//! #         for b in dst { self.0 = self.0.wrapping_add(1); *b = self.0; }
//! #         Ok(())
//! #     }
//! # }
//! # impl TryCryptoRng for Counter {}
//! # let mut rng = Counter(0);
//!
//! // A ratchet message adds 96 bytes to its plaintext.
//! let padded = envelope::pad(b"hello", 96)?;
//! assert_eq!(padded.len() + 96, envelope::MIN_BUCKET);
//! assert_eq!(envelope::unpad(&padded)?, b"hello");
//!
//! let mailbox = MailboxKey::generate(&mut rng); // the recipient's; senders know its id only
//! let sealed = vec![0u8; envelope::MIN_BUCKET]; // stands for the encrypted message
//! let bytes = Envelope::new(*mailbox.id(), sealed)?.to_bytes();
//! let back = Envelope::from_bytes(&bytes)?;
//! assert_eq!(back.mailbox(), mailbox.id());
//! # Ok::<(), quietwire::Error>(())
//! ```

use crate::cbor::{self, Limits, Value};
use crate::error::{ErrorClass, Result};
use crate::schema::{self, Fields};

/// The smallest blob: every message up to this size is padded to it.
pub const MIN_BUCKET: usize = 512;
/// The largest blob. Larger content travels as attachments (chapter 8).
pub const MAX_BLOB: usize = 65536;
/// The largest encoded envelope: the blob and the map around it.
pub const MAX_ENVELOPE: usize = MAX_BLOB + 64;

/// The byte that starts the padding (ISO/IEC 7816-4): content ‖ 0x80 ‖ 0x00*.
const PAD_START: u8 = 0x80;

const LIMITS: Limits = Limits {
    max_input: MAX_ENVELOPE,
    max_depth: 1,
    max_string: MAX_BLOB as u64,
    max_items: 8,
};

mod key {
    pub(super) const MAILBOX: u64 = 2;
    pub(super) const BLOB: u64 = 3;
    pub(super) const KNOWN: &[u64] = &[1, MAILBOX, BLOB];
}

/// Padmé: the length `len` rounded up so that only its top `⌊log2 ⌊log2 len⌋⌋ + 1` bits
/// may be non-zero.
pub const fn padme(len: usize) -> usize {
    if len < 2 {
        return len;
    }
    let e = usize::BITS - 1 - len.leading_zeros(); // ⌊log2 len⌋
    let s = u32::BITS - e.leading_zeros(); // ⌊log2 e⌋ + 1
    let last_bits = e - s;
    let mask = (1usize << last_bits) - 1;
    (len + mask) & !mask
}

/// The bucket a blob of at least `len` bytes is padded to, or `None` above [`MAX_BLOB`].
pub const fn bucket(len: usize) -> Option<usize> {
    let size = if len <= MIN_BUCKET {
        MIN_BUCKET
    } else {
        padme(len)
    };
    if size <= MAX_BLOB { Some(size) } else { None }
}

/// Whether `len` is a bucket: the length of every blob.
pub const fn is_bucket(len: usize) -> bool {
    len >= MIN_BUCKET && len <= MAX_BLOB && padme(len) == len
}

/// Pads `content` so that `overhead` bytes (what the encryption adds) plus the result fill
/// a bucket exactly: `content ‖ 0x80 ‖ 0x00…`.
///
/// # Errors
/// `envelope.too_large` if even the largest bucket cannot hold it.
pub fn pad(content: &[u8], overhead: usize) -> Result<Vec<u8>> {
    let needed = overhead
        .checked_add(content.len())
        .and_then(|n| n.checked_add(1))
        .ok_or(ErrorClass::EnvelopeTooLarge)?;
    let size = bucket(needed).ok_or(ErrorClass::EnvelopeTooLarge)?;
    let mut padded = Vec::with_capacity(size - overhead);
    padded.extend_from_slice(content);
    padded.push(PAD_START);
    padded.resize(size - overhead, 0);
    Ok(padded)
}

/// Removes the padding of [`pad`].
///
/// # Errors
/// `envelope.padding` if the bytes do not end in `0x80 0x00*`.
pub fn unpad(padded: &[u8]) -> Result<&[u8]> {
    let end = padded
        .iter()
        .rposition(|b| *b != 0)
        .ok_or(ErrorClass::EnvelopePadding)?;
    match padded.split_at_checked(end) {
        Some((content, [PAD_START, ..])) => Ok(content),
        _ => Err(ErrorClass::EnvelopePadding.into()),
    }
}

/// An envelope: where a blob goes, and the blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    mailbox: [u8; 32],
    blob: Vec<u8>,
}

impl Envelope {
    /// An envelope for `blob`, which must already be padded to a bucket.
    ///
    /// # Errors
    /// `envelope.bucket` if the blob's length is not a bucket.
    pub fn new(mailbox: [u8; 32], blob: Vec<u8>) -> Result<Envelope> {
        if !is_bucket(blob.len()) {
            return Err(ErrorClass::EnvelopeBucket.into());
        }
        Ok(Envelope { mailbox, blob })
    }

    /// Decodes an envelope strictly. Relays and receivers run the same checks.
    ///
    /// # Errors
    /// `cbor.*` and `schema.*` for a malformed map (negative keys are refused: envelopes
    /// carry no extensions a relay could read), `envelope.bucket` for a blob whose length is
    /// not a bucket.
    pub fn from_bytes(bytes: &[u8]) -> Result<Envelope> {
        let mut f = Fields::closed(cbor::decode(bytes, &LIMITS)?, key::KNOWN)?;
        let mailbox = f.bytes_exact::<32>(key::MAILBOX)?;
        let blob = f.bytes(key::BLOB)?;
        Envelope::new(mailbox, blob)
    }

    /// Decodes an envelope fetched from `mailbox` and checks that it was addressed there, so
    /// a relay that misroutes an envelope is caught before any decryption.
    ///
    /// # Errors
    /// As [`Envelope::from_bytes`], then `envelope.mailbox` if the envelope names another
    /// mailbox.
    pub fn receive(bytes: &[u8], mailbox: &[u8; 32]) -> Result<Envelope> {
        let envelope = Envelope::from_bytes(bytes)?;
        if &envelope.mailbox != mailbox {
            return Err(ErrorClass::EnvelopeMailbox.into());
        }
        Ok(envelope)
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        cbor::encode(&schema::build_map(
            vec![
                (key::MAILBOX, Value::from(&self.mailbox[..])),
                (key::BLOB, Value::from(self.blob.as_slice())),
            ],
            &Default::default(),
        ))
    }

    /// The destination mailbox id.
    pub const fn mailbox(&self) -> &[u8; 32] {
        &self.mailbox
    }

    /// The opaque blob.
    pub fn blob(&self) -> &[u8] {
        &self.blob
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padme_matches_the_paper() {
        // Table values: lengths whose Padmé size is known.
        for (len, padded) in [
            (0, 0),
            (1, 1),
            (2, 2),
            (3, 3),
            (9, 10),
            (100, 104),
            (513, 544),
            (1000, 1024),
            (1025, 1088),
            (65535, 65536),
            (100_000, 100_352),
        ] {
            assert_eq!(padme(len), padded, "padme({len})");
        }
    }

    #[test]
    fn padme_overhead_is_bounded_and_idempotent() {
        for len in 1..70_000usize {
            let p = padme(len);
            assert!(p >= len);
            assert_eq!(padme(p), p);
            // At most about 12% overhead (the paper's bound) above small sizes.
            if len > 256 {
                assert!((p - len) * 100 <= len * 12, "padme({len}) = {p}");
            }
        }
    }

    #[test]
    fn pad_fills_a_bucket_and_unpads() {
        for overhead in [96usize, 48, 1136] {
            for len in [0usize, 1, 100, 415, 416, 417, 2000, 60_000] {
                let content = vec![0xab; len];
                let Ok(padded) = pad(&content, overhead) else {
                    assert!(overhead + len + 1 > MAX_BLOB);
                    continue;
                };
                assert!(is_bucket(padded.len() + overhead));
                assert_eq!(unpad(&padded).unwrap(), &content[..]);
            }
        }
        assert_eq!(
            pad(&vec![0; MAX_BLOB], 0).unwrap_err().class(),
            ErrorClass::EnvelopeTooLarge
        );
    }

    #[test]
    fn content_ending_in_zeros_survives() {
        let content = [1, 0, 0x80, 0, 0];
        let padded = pad(&content, 96).unwrap();
        assert_eq!(unpad(&padded).unwrap(), &content);
    }

    #[test]
    fn bad_padding_is_refused() {
        for bad in [&[][..], &[0, 0], &[1, 2, 3], &[0x80, 1], &[0x81, 0]] {
            assert_eq!(
                unpad(bad).unwrap_err().class(),
                ErrorClass::EnvelopePadding,
                "{bad:?}"
            );
        }
        assert_eq!(unpad(&[0x80]).unwrap(), b"");
    }

    #[test]
    fn envelope_round_trip_and_bucket_check() {
        let env = Envelope::new([3; 32], vec![9; 544]).unwrap();
        assert_eq!(Envelope::from_bytes(&env.to_bytes()).unwrap(), env);
        assert_eq!(
            Envelope::new([3; 32], vec![9; 529]).unwrap_err().class(),
            ErrorClass::EnvelopeBucket
        );
        assert_eq!(
            Envelope::new([3; 32], vec![9; 256]).unwrap_err().class(),
            ErrorClass::EnvelopeBucket
        );
    }
}
