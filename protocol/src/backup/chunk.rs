//! One section's STREAM (`XBK-16`): fixed-size ChaCha20-Poly1305 chunks whose nonce is the
//! 11-byte counter and the final flag, and whose associated data binds `core_mac` and the
//! section id. Opening decrypts from the input straight into the chunk buffer; sealing
//! encrypts in place in the output, where the encoder copied the content once.

use chacha20poly1305::aead::inout::InOutBuf;
use chacha20poly1305::{AeadInOut, ChaCha20Poly1305, KeyInit};

use super::keys::Key;
use super::{CHUNK, CHUNK_CT, DATA, Section};
use crate::error::{ErrorClass, Result};
use crate::label::Label;

/// The STREAM of one section: its cipher and associated data.
pub(crate) struct Stream {
    cipher: ChaCha20Poly1305,
    ad: Vec<u8>,
}

/// `u88be(i) ‖ final`.
pub(crate) fn nonce(index: u64, last: bool) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    if let Some(counter) = nonce.get_mut(3..11) {
        counter.copy_from_slice(&index.to_be_bytes());
    }
    if let Some(flag) = nonce.get_mut(11) {
        *flag = u8::from(last);
    }
    nonce
}

impl Stream {
    pub(crate) fn new(key: &Key, core_mac: &[u8; 32], section: Section) -> Stream {
        Stream {
            cipher: ChaCha20Poly1305::new(&(**key).into()),
            ad: Label::XbkChunk.input(&[core_mac, &[section.id()]]),
        }
    }

    /// Seals chunk `index` carrying `data` (at most [`DATA`] bytes) into `slot`
    /// ([`CHUNK_CT`] bytes, which must be zero).
    #[cfg(test)]
    pub(crate) fn seal(&self, index: u64, last: bool, data: &[u8], slot: &mut [u8]) {
        let used = data.len().min(DATA);
        if let Some(head) = slot.get_mut(..2) {
            head.copy_from_slice(&(used as u16).to_be_bytes());
        }
        if let (Some(body), Some(data)) = (slot.get_mut(2..2 + used), data.get(..used)) {
            body.copy_from_slice(data);
        }
        self.seal_in_place(index, last, slot);
    }

    /// Seals chunk `index` whose plaintext (`used`, data, zero padding) already fills the
    /// first [`CHUNK`] bytes of `slot` ([`CHUNK_CT`] bytes); the tag goes after it.
    pub(crate) fn seal_in_place(&self, index: u64, last: bool, slot: &mut [u8]) {
        let Some(chunk) = slot.get_mut(..CHUNK_CT) else {
            return;
        };
        let (plain, tag_out) = chunk.split_at_mut(CHUNK);
        // Encryption fails only for messages beyond 2^38 bytes; a chunk is 64 KiB.
        if let Ok(tag) = self.cipher.encrypt_inout_detached(
            &nonce(index, last).into(),
            &self.ad,
            InOutBuf::from(plain),
        ) {
            tag_out.copy_from_slice(&tag);
        }
    }

    /// Seals chunk `index` with a caller-built plaintext of exactly [`CHUNK`] bytes (the
    /// `used` field included) into `slot`: for crafting invalid files in tests and vectors.
    pub(crate) fn seal_raw(&self, index: u64, last: bool, plain: &[u8], slot: &mut [u8]) {
        let Some(chunk) = slot.get_mut(..CHUNK_CT) else {
            return;
        };
        let (body, tag_out) = chunk.split_at_mut(CHUNK);
        if let Some(plain) = plain.get(..CHUNK) {
            body.copy_from_slice(plain);
        }
        if let Ok(tag) = self.cipher.encrypt_inout_detached(
            &nonce(index, last).into(),
            &self.ad,
            InOutBuf::from(body),
        ) {
            tag_out.copy_from_slice(&tag);
        }
    }

    /// Opens chunk `index` (exactly [`CHUNK_CT`] bytes) into `plain` ([`CHUNK`] bytes);
    /// `false` if it does not authenticate, in which case `plain` holds nothing usable.
    pub(crate) fn open(&self, index: u64, last: bool, chunk: &[u8], plain: &mut [u8]) -> bool {
        let (Some(body), Some(tag)) = (chunk.get(..CHUNK), chunk.get(CHUNK..CHUNK_CT)) else {
            return false;
        };
        let Ok(tag) = <[u8; 16]>::try_from(tag) else {
            return false;
        };
        let Ok(buf) = InOutBuf::new(body, plain) else {
            return false;
        };
        self.cipher
            .decrypt_inout_detached(&nonce(index, last).into(), &self.ad, buf, &tag.into())
            .is_ok()
    }
}

/// The `used` field of an opened chunk (at most `max`) after checking that every byte after
/// the content is zero (`XBK-18` step 4).
///
/// # Errors
/// `backup.padding`.
pub(crate) fn used(plain: &[u8], max: usize) -> Result<usize> {
    let used = match plain.get(..2) {
        Some(&[a, b]) => usize::from(u16::from_be_bytes([a, b])),
        _ => return Err(ErrorClass::BackupPadding.into()),
    };
    let zeros = plain
        .get(2 + used.min(DATA)..)
        .is_some_and(|pad| pad.iter().fold(0u8, |acc, b| acc | b) == 0);
    if used > max || !zeros {
        return Err(ErrorClass::BackupPadding.into());
    }
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    #[test]
    fn nonce_layout() {
        assert_eq!(hex::encode(nonce(5, true)), "000000000000000000000501");
        assert_eq!(
            hex::encode(nonce(u64::from(u32::MAX), false)),
            "00000000000000ffffffff00"
        );
    }

    #[test]
    fn chunks_open_only_at_their_position() {
        let stream = Stream::new(&Zeroizing::new([1; 32]), &[2; 32], Section::Chats);
        let mut out = vec![0u8; CHUNK_CT];
        stream.seal(3, false, b"abc", &mut out);
        let mut plain = vec![0u8; CHUNK];
        assert!(stream.open(3, false, &out, &mut plain));
        assert_eq!(&plain[..5], &[0, 3, b'a', b'b', b'c']);
        assert!(plain[5..].iter().all(|b| *b == 0));
        assert!(!stream.open(3, true, &out, &mut plain));
        assert!(!stream.open(4, false, &out, &mut plain));
        let other = Stream::new(&Zeroizing::new([1; 32]), &[2; 32], Section::Media);
        assert!(!other.open(3, false, &out, &mut plain));
    }
}
