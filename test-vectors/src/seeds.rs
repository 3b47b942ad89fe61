//! Deterministic inputs: every secret in the vectors is derived from a name, and the
//! protocol's generators draw from a [`ReplayRng`] that returns given bytes in order.

use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};
use sha2::{Digest, Sha256};

/// 32 bytes derived from a name: SHA-256("quietwire test vectors v1/" ‖ name).
pub fn seed32(name: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"quietwire test vectors v1/");
    hasher.update(name.as_bytes());
    hasher.finalize().into()
}

/// The first 16 bytes of [`seed32`].
pub fn seed16(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    out.copy_from_slice(seed32(name).get(..16).unwrap_or(&[0u8; 16]));
    out
}

/// An RNG that returns the given bytes in order, then zeros; [`ReplayRng::finished`] tells
/// whether exactly all of them were drawn. Only for reproducing vectors.
#[derive(Debug)]
pub struct ReplayRng {
    bytes: Vec<u8>,
    pos: usize,
    overrun: bool,
}

impl ReplayRng {
    /// An RNG replaying the concatenation of `parts`.
    pub fn new(parts: &[&[u8]]) -> ReplayRng {
        ReplayRng {
            bytes: parts.concat(),
            pos: 0,
            overrun: false,
        }
    }

    /// Whether every byte was drawn and no more.
    pub fn finished(&self) -> bool {
        !self.overrun && self.pos == self.bytes.len()
    }
}

impl TryRng for ReplayRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for byte in dst {
            match self.bytes.get(self.pos) {
                Some(b) => {
                    *byte = *b;
                    self.pos += 1;
                }
                None => {
                    *byte = 0;
                    self.overrun = true;
                }
            }
        }
        Ok(())
    }
}

impl TryCryptoRng for ReplayRng {}
