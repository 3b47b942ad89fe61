//! The `.xbk` backup format: streaming, key-committing, with recovery key, passphrase,
//! old-device transfer and hidden chats.
//!
//! Specified in [`spec/10-backup.md`](../../spec/10-backup.md) (rules `XBK-01` to `XBK-31`).
//! A file is
//!
//! ```text
//! "QWB1" ‖ u32be(header_len) ‖ header (canonical CBOR) ‖ header_mac (32)
//!        ‖ section 1 ‖ … ‖ section 7 (hidden) ‖ section 8 (manifest)
//! section = id (1 byte) ‖ chunk 0 ‖ … ‖ chunk n−1          every chunk 65552 bytes
//! ```
//!
//! A random file key `FK` is wrapped once per unlock method ([`Methods`]): a generated
//! [`RecoveryKey`] (the default), a passphrase (Argon2id, [`KdfParams`], capped by
//! [`KdfCaps`] before any work) or the HPKE key of a new device (old-device transfer). The
//! header MAC, keyed from `FK`, commits to the key and to every header byte. Every section is
//! a STREAM of fixed-size ChaCha20-Poly1305 chunks whose nonce carries the chunk counter and a
//! final flag and whose associated data binds the file's core and the section id. The hidden
//! section's key also needs the chat PIN; it is always present, at least 1 MiB, and reads as
//! "locked" whether it is empty or the PIN is wrong.
//!
//! Everything here is sans-io: the [`Encoder`] appends bytes to a caller's buffer, the
//! [`Decoder`] takes pushed bytes and returns [`Event`]s, releasing only authenticated
//! plaintext, one chunk at a time, in memory bounded by a constant. [`restore`] checks the
//! records inside the sections and stages them until the decoder finishes; [`seek`] reads a
//! section through the manifest; [`rekey`] rewrites only the header.
//!
//! ```
//! use quietwire::backup::{self, Decoder, DecoderConfig, Encoder, ExportOptions, Event,
//!     HiddenOutcome, Methods, RecoveryKey, Section, Unlock};
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
//! let key = RecoveryKey::generate(&mut rng);
//! let text = key.to_text(); // shown to the user: 12 groups of 5 characters
//!
//! let mut file = Vec::new();
//! let options = ExportOptions::new(Methods::RecoveryKey(key));
//! let mut encoder = Encoder::new(&options, &mut rng, &mut file)?;
//! encoder.write(b"section 1 content", &mut file)?; // records, in practice
//! encoder.finish(&mut file)?; // sections 2 to 7 empty, then the manifest
//!
//! let mut decoder = Decoder::new(DecoderConfig::default());
//! decoder.unlock(Unlock::RecoveryKey(text), None);
//! let mut input = &file[..];
//! let mut identity = Vec::new();
//! let mut finished = None;
//! loop {
//!     let n = decoder.push(input)?;
//!     input = &input[n..];
//!     if input.is_empty() {
//!         decoder.finish()?;
//!     }
//!     while let Some(event) = decoder.poll_event() {
//!         match event {
//!             Event::Data { section: Section::Identity, bytes } => identity.extend_from_slice(bytes),
//!             Event::Finished { hidden } => finished = Some(hidden),
//!             _ => {}
//!         }
//!     }
//!     if finished.is_some() { break; }
//! }
//! assert_eq!(identity, b"section 1 content");
//! assert_eq!(finished, Some(HiddenOutcome::Locked));
//! # Ok::<(), quietwire::Error>(())
//! ```

mod chunk;
pub mod confirm;
mod decoder;
mod encoder;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod hazmat;
mod header;
mod kdf;
mod keys;
mod manifest;
mod recovery;
pub mod rekey;
pub mod restore;
pub mod run;
pub mod seek;
#[cfg(test)]
mod tests;
mod unlock;

pub use decoder::{Decoder, DecoderConfig, Event, HiddenOutcome};
pub use encoder::{Encoder, ExportOptions, Methods, Output};
pub use header::{Header, MethodSet};
pub use kdf::{KdfCaps, KdfParams};
pub use recovery::RecoveryKey;

use crate::keys::KemSecret;

/// The first four bytes of every version-1 file (`XBK-01`).
pub const MAGIC: [u8; 4] = *b"QWB1";
/// Largest `header_len` (`XBK-02`).
pub const MAX_HEADER: usize = 65_536;
/// Length of the header MAC (HMAC-SHA256).
pub const MAC_LEN: usize = 32;
/// Plaintext bytes of every chunk: the 2-byte `used` field and [`DATA`] bytes.
pub const CHUNK: usize = 65_536;
/// Content bytes one chunk can carry.
pub const DATA: usize = 65_534;
/// Ciphertext bytes of every chunk: [`CHUNK`] and the 16-byte tag.
pub const CHUNK_CT: usize = 65_552;
/// Bytes of the manifest section: its id byte and its one chunk.
pub const TAIL: usize = 1 + CHUNK_CT;
/// Most chunks per section a reader accepts unless configured otherwise (`XBK-17`).
pub const DEFAULT_MAX_CHUNKS: u64 = 1 << 24;
/// Most chunks per section of a file received by old-device transfer (`XBK-12`): 2^15
/// chunks, 2 GiB of ciphertext, the most a transfer through a relay carries (2048 blobs of
/// the reference relay's 1 MiB).
pub const TRANSFER_MAX_CHUNKS: u64 = 1 << 15;
/// Smallest `MAX_CHUNKS` a reader may configure.
pub const MIN_MAX_CHUNKS: u64 = 16;
/// Largest `MAX_CHUNKS` a reader may configure.
pub const MAX_MAX_CHUNKS: u64 = 1 << 32;
/// Largest record of a section (`XBK-21`).
pub const MAX_RECORD: usize = 524_288;
/// Least number of chunks of the hidden section: 1 MiB of padding capacity (`XBK-26`).
pub const HIDDEN_MIN_CHUNKS: u64 = 16;

/// The eight sections of a file, in file order (`XBK-15`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    /// 1: the identity record.
    Identity,
    /// 2: contacts.
    Contacts,
    /// 3: sessions, restored as stale (`XBK-24`).
    Sessions,
    /// 4: chats and messages.
    Chats,
    /// 5: media references.
    Media,
    /// 6: settings.
    Settings,
    /// 7: hidden chats, keyed with the chat PIN too (`XBK-26`).
    Hidden,
    /// 8: the manifest (`XBK-19`).
    Manifest,
}

impl Section {
    /// Sections 1 to 7, which carry content.
    pub const CONTENT: [Section; 7] = [
        Section::Identity,
        Section::Contacts,
        Section::Sessions,
        Section::Chats,
        Section::Media,
        Section::Settings,
        Section::Hidden,
    ];

    /// The section id byte.
    pub const fn id(self) -> u8 {
        match self {
            Section::Identity => 1,
            Section::Contacts => 2,
            Section::Sessions => 3,
            Section::Chats => 4,
            Section::Media => 5,
            Section::Settings => 6,
            Section::Hidden => 7,
            Section::Manifest => 8,
        }
    }

    /// The section of an id byte.
    pub const fn from_id(id: u8) -> Option<Section> {
        match id {
            1 => Some(Section::Identity),
            2 => Some(Section::Contacts),
            3 => Some(Section::Sessions),
            4 => Some(Section::Chats),
            5 => Some(Section::Media),
            6 => Some(Section::Settings),
            7 => Some(Section::Hidden),
            8 => Some(Section::Manifest),
            _ => None,
        }
    }

    /// The section after this one.
    pub const fn next(self) -> Option<Section> {
        Section::from_id(self.id() + 1)
    }

    /// `MIN_CHUNKS(s)`: 1, or 16 for the hidden section.
    pub const fn min_chunks(self) -> u64 {
        match self {
            Section::Hidden => HIDDEN_MIN_CHUNKS,
            _ => 1,
        }
    }
}

/// `n = max(MIN_CHUNKS(s), Padmé(k))`: the chunks of a section whose content takes `k`
/// content chunks (`XBK-17`).
pub fn section_chunks(section: Section, k: u64) -> u64 {
    padme(k).max(section.min_chunks())
}

/// Padmé (spec/07-envelope.md `ENV-02`) on 64-bit counts.
pub(crate) const fn padme(len: u64) -> u64 {
    if len < 2 {
        return len;
    }
    let e = u64::BITS - 1 - len.leading_zeros();
    let s = u32::BITS - e.leading_zeros();
    let last_bits = e - s;
    let mask = (1u64 << last_bits) - 1;
    (len + mask) & !mask
}

/// The secret a reader unlocks a file with (`XBK-13`).
pub enum Unlock {
    /// A recovery key as the user typed it (`XBK-10`).
    RecoveryKey(String),
    /// A passphrase (`XBK-11`).
    Passphrase(String),
    /// The new device's transfer key pair (`XBK-12`).
    Transfer(KemSecret),
}

impl core::fmt::Debug for Unlock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let method = match self {
            Unlock::RecoveryKey(_) => "RecoveryKey",
            Unlock::Passphrase(_) => "Passphrase",
            Unlock::Transfer(_) => "Transfer",
        };
        write!(f, "Unlock::{method}(..)")
    }
}

impl Drop for Unlock {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        match self {
            Unlock::RecoveryKey(s) | Unlock::Passphrase(s) => s.zeroize(),
            Unlock::Transfer(_) => {}
        }
    }
}
