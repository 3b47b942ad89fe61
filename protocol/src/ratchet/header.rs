//! The ratchet header and its encryption (`spec/06-ratchet.md` RAT-05 and, for the
//! post-quantum ratchet, §6.19; header encryption as in the Double Ratchet specification §4).
//!
//! The plaintext header has a fixed layout per ratchet, so its ciphertext has a fixed size and
//! says nothing about the counters, nor whether a message starts a chain:
//!
//! ```text
//! header    = dh (32) || pn (u32, big-endian) || n (u32, big-endian)       40 bytes
//! pq header = header || kem_key (1184) || kem_ciphertext (1088)          2312 bytes
//! message   = header_nonce (24) || XChaCha20-Poly1305(HK, header_nonce, header,
//!             ["quietwire/v1/ratchet-header", ad]) || body ciphertext
//! ```
//!
//! Header keys are reused for a whole chain, so the header nonce is drawn at random from the
//! injected RNG; 192-bit nonces make a repeat negligible.

use super::pq::{KEM_CIPHERTEXT_LEN, KEM_KEY_LEN};
use crate::aead;
use crate::label::Label;

/// Length of the plaintext header.
pub const HEADER_LEN: usize = 40;
/// Length of the plaintext header of the post-quantum ratchet.
pub const PQ_HEADER_LEN: usize = HEADER_LEN + KEM_KEY_LEN + KEM_CIPHERTEXT_LEN;
/// Length of the header nonce.
pub const HEADER_NONCE_LEN: usize = 24;
/// Length of the encrypted header including its nonce: what precedes the body.
pub const ENCRYPTED_HEADER_LEN: usize = HEADER_NONCE_LEN + HEADER_LEN + aead::TAG_LEN;
/// Length of the encrypted header of the post-quantum ratchet, nonce included.
pub const PQ_ENCRYPTED_HEADER_LEN: usize = HEADER_NONCE_LEN + PQ_HEADER_LEN + aead::TAG_LEN;

/// The counters and ratchet key of a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// The sender's current ratchet public key (unvalidated bytes).
    pub(crate) dh: [u8; 32],
    /// Number of messages in the sender's previous sending chain.
    pub(crate) pn: u32,
    /// Number of this message in the current sending chain.
    pub(crate) n: u32,
}

/// The KEM fields of a post-quantum header, as sent: the chain's encapsulation key and
/// ciphertext (all zero when the chain encapsulated nothing).
#[derive(Clone, Copy)]
pub(crate) struct KemFields<'a> {
    pub(crate) key: &'a [u8; KEM_KEY_LEN],
    pub(crate) ciphertext: &'a [u8; KEM_CIPHERTEXT_LEN],
}

/// The KEM fields of a received post-quantum header (unvalidated bytes).
#[derive(Clone)]
pub(crate) struct ReceivedKem {
    pub(crate) key: Box<[u8; KEM_KEY_LEN]>,
    pub(crate) ciphertext: Box<[u8; KEM_CIPHERTEXT_LEN]>,
}

impl Header {
    fn write(self, kem: Option<KemFields<'_>>) -> Vec<u8> {
        let mut out = Vec::with_capacity(PQ_HEADER_LEN);
        out.extend_from_slice(&self.dh);
        out.extend_from_slice(&self.pn.to_be_bytes());
        out.extend_from_slice(&self.n.to_be_bytes());
        if let Some(kem) = kem {
            out.extend_from_slice(kem.key);
            out.extend_from_slice(kem.ciphertext);
        }
        out
    }

    /// Parses a header of exactly [`HEADER_LEN`] bytes (`pq` false) or
    /// [`PQ_HEADER_LEN`] bytes (`pq` true).
    fn read(bytes: &[u8], pq: bool) -> Option<(Header, Option<ReceivedKem>)> {
        let (dh, rest) = bytes.split_first_chunk::<32>()?;
        let (pn, rest) = rest.split_first_chunk::<4>()?;
        let (n, rest) = rest.split_first_chunk::<4>()?;
        let header = Header {
            dh: *dh,
            pn: u32::from_be_bytes(*pn),
            n: u32::from_be_bytes(*n),
        };
        if !pq {
            return rest.is_empty().then_some((header, None));
        }
        let (key, rest) = rest.split_first_chunk::<KEM_KEY_LEN>()?;
        let ciphertext: &[u8; KEM_CIPHERTEXT_LEN] = rest.try_into().ok()?;
        let kem = ReceivedKem {
            key: Box::new(*key),
            ciphertext: Box::new(*ciphertext),
        };
        Some((header, Some(kem)))
    }
}

/// The associated data of a header: the session's associated data under the header label.
fn header_ad(ad: &[u8]) -> Vec<u8> {
    Label::RatchetHeader.input(&[ad])
}

/// Encrypts a header, with the KEM fields for a post-quantum ratchet; returns
/// `header_nonce || ciphertext`.
pub(crate) fn seal(
    hk: &[u8; 32],
    nonce: &[u8; HEADER_NONCE_LEN],
    header: Header,
    kem: Option<KemFields<'_>>,
    ad: &[u8],
) -> Vec<u8> {
    let sealed = aead::xseal(hk, nonce, &header_ad(ad), &header.write(kem));
    let mut out = Vec::with_capacity(HEADER_NONCE_LEN + sealed.len());
    out.extend_from_slice(nonce);
    out.extend_from_slice(&sealed);
    out
}

/// Tries to decrypt an encrypted header (exactly [`ENCRYPTED_HEADER_LEN`] bytes, or
/// [`PQ_ENCRYPTED_HEADER_LEN`] if `pq`) with `hk`.
pub(crate) fn open(
    hk: &[u8; 32],
    encrypted: &[u8],
    ad: &[u8],
    pq: bool,
) -> Option<(Header, Option<ReceivedKem>)> {
    let (nonce, ciphertext) = encrypted.split_first_chunk::<HEADER_NONCE_LEN>()?;
    Header::read(&aead::xopen(hk, nonce, &header_ad(ad), ciphertext)?, pq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_binds_key_and_ad() {
        let header = Header {
            dh: [7; 32],
            pn: 3,
            n: 0x0102_0304,
        };
        let sealed = seal(&[1; 32], &[2; 24], header, None, b"ad");
        assert_eq!(sealed.len(), ENCRYPTED_HEADER_LEN);
        let opened = |hk: &[u8; 32], ad: &[u8], pq| open(hk, &sealed, ad, pq).map(|(h, _)| h);
        assert_eq!(opened(&[1; 32], b"ad", false), Some(header));
        assert_eq!(opened(&[9; 32], b"ad", false), None);
        assert_eq!(opened(&[1; 32], b"other", false), None);
        // A classic header is not a post-quantum one.
        assert_eq!(opened(&[1; 32], b"ad", true), None);
        assert_eq!(&header.write(None)[32..], &[0, 0, 0, 3, 1, 2, 3, 4]);
    }

    #[test]
    fn pq_header_carries_the_kem_fields() {
        let header = Header {
            dh: [7; 32],
            pn: 1,
            n: 2,
        };
        let (key, ciphertext) = ([5; KEM_KEY_LEN], [6; KEM_CIPHERTEXT_LEN]);
        let kem = KemFields {
            key: &key,
            ciphertext: &ciphertext,
        };
        let sealed = seal(&[1; 32], &[2; 24], header, Some(kem), b"ad");
        assert_eq!(sealed.len(), PQ_ENCRYPTED_HEADER_LEN);
        let (got, fields) = open(&[1; 32], &sealed, b"ad", true).unwrap();
        let fields = fields.unwrap();
        assert_eq!(got, header);
        assert_eq!((*fields.key, *fields.ciphertext), (key, ciphertext));
        assert!(open(&[1; 32], &sealed, b"ad", false).is_none());
    }
}
