//! The ratchet header and its encryption (`spec/06-ratchet.md`, header encryption as in the
//! Double Ratchet specification §4).
//!
//! The plaintext header has a fixed layout, so its ciphertext has a fixed size and says
//! nothing about the counters:
//!
//! ```text
//! header    = dh (32) || pn (u32, big-endian) || n (u32, big-endian)       40 bytes
//! message   = header_nonce (24) || XChaCha20-Poly1305(HK, header_nonce, header,
//!             ["quietwire/v1/ratchet-header", ad]) (56) || body ciphertext
//! ```
//!
//! Header keys are reused for a whole chain, so the header nonce is drawn at random from the
//! injected RNG; 192-bit nonces make a repeat negligible.

use crate::aead;
use crate::label::Label;

/// Length of the plaintext header.
pub const HEADER_LEN: usize = 40;
/// Length of the header nonce.
pub const HEADER_NONCE_LEN: usize = 24;
/// Length of the encrypted header including its nonce: what precedes the body.
pub const ENCRYPTED_HEADER_LEN: usize = HEADER_NONCE_LEN + HEADER_LEN + aead::TAG_LEN;

/// A decrypted header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// The sender's current ratchet public key (unvalidated bytes).
    pub(crate) dh: [u8; 32],
    /// Number of messages in the sender's previous sending chain.
    pub(crate) pn: u32,
    /// Number of this message in the current sending chain.
    pub(crate) n: u32,
}

impl Header {
    fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let (dh, counters) = out.split_at_mut(32);
        dh.copy_from_slice(&self.dh);
        let (pn, n) = counters.split_at_mut(4);
        pn.copy_from_slice(&self.pn.to_be_bytes());
        n.copy_from_slice(&self.n.to_be_bytes());
        out
    }

    fn from_bytes(bytes: &[u8]) -> Option<Header> {
        let (dh, rest) = bytes.split_first_chunk::<32>()?;
        let (pn, rest) = rest.split_first_chunk::<4>()?;
        let n: &[u8; 4] = rest.try_into().ok()?;
        Some(Header {
            dh: *dh,
            pn: u32::from_be_bytes(*pn),
            n: u32::from_be_bytes(*n),
        })
    }
}

/// The associated data of a header: the session's associated data under the header label.
fn header_ad(ad: &[u8]) -> Vec<u8> {
    Label::RatchetHeader.input(&[ad])
}

/// Encrypts a header; returns `header_nonce || ciphertext`.
pub(crate) fn seal(
    hk: &[u8; 32],
    nonce: &[u8; HEADER_NONCE_LEN],
    header: Header,
    ad: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(ENCRYPTED_HEADER_LEN);
    out.extend_from_slice(nonce);
    out.extend_from_slice(&aead::xseal(hk, nonce, &header_ad(ad), &header.to_bytes()));
    out
}

/// Tries to decrypt an encrypted header (exactly [`ENCRYPTED_HEADER_LEN`] bytes) with `hk`.
pub(crate) fn open(
    hk: &[u8; 32],
    encrypted: &[u8; ENCRYPTED_HEADER_LEN],
    ad: &[u8],
) -> Option<Header> {
    let (nonce, ciphertext) = encrypted.split_first_chunk::<HEADER_NONCE_LEN>()?;
    Header::from_bytes(&aead::xopen(hk, nonce, &header_ad(ad), ciphertext)?)
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
        let sealed = seal(&[1; 32], &[2; 24], header, b"ad");
        let sealed: [u8; ENCRYPTED_HEADER_LEN] = sealed.try_into().unwrap();
        assert_eq!(open(&[1; 32], &sealed, b"ad"), Some(header));
        assert_eq!(open(&[9; 32], &sealed, b"ad"), None);
        assert_eq!(open(&[1; 32], &sealed, b"other"), None);
        assert_eq!(&header.to_bytes()[32..], &[0, 0, 0, 3, 1, 2, 3, 4]);
    }
}
