//! Deterministic inputs: every secret in the vectors is derived from a name, and the
//! protocol's generators draw from a [`ReplayRng`] that returns given bytes in order.

use core::convert::Infallible;

use rand_core::utils::next_word_via_fill;
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
        ReplayRng { bytes: parts.concat(), pos: 0, overrun: false }
    }

    /// Whether every byte was drawn and no more.
    pub fn finished(&self) -> bool {
        !self.overrun && self.pos == self.bytes.len()
    }
}

impl TryRng for ReplayRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        next_word_via_fill(self)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        next_word_via_fill(self)
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

/// The RNG of stream-driven vector steps: it yields the blocks SHA-256(seed ‖ u64le(i)),
/// i = 0, 1, ..., byte by byte, and records what it handed out.
#[derive(Debug)]
pub struct StreamRng {
    seed: [u8; 32],
    block: u64,
    buffer: Vec<u8>,
    drawn: Vec<u8>,
}

impl StreamRng {
    /// A stream from `seed`.
    pub fn new(seed: [u8; 32]) -> StreamRng {
        StreamRng { seed, block: 0, buffer: Vec::new(), drawn: Vec::new() }
    }

    /// The bytes handed out since the last call.
    pub fn take_drawn(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.drawn)
    }
}

impl TryRng for StreamRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        next_word_via_fill(self)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        next_word_via_fill(self)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for byte in dst {
            if self.buffer.is_empty() {
                let mut h = Sha256::new();
                h.update(self.seed);
                h.update(self.block.to_le_bytes());
                self.block += 1;
                self.buffer = h.finalize().to_vec();
                self.buffer.reverse();
            }
            *byte = self.buffer.pop().unwrap_or(0);
            self.drawn.push(*byte);
        }
        Ok(())
    }
}

impl TryCryptoRng for StreamRng {}
