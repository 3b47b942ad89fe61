//! Seeking (`XBK-29`): reading one section of a file of known length without reading the
//! ones before it. The manifest at the end is authenticated first; only then are its counts
//! used as offsets. A seeking reader serves inspection and partial export, never a restore.
//!
//! Call order: [`SeekIndex::open`] with the file's prefix (up to and including the header
//! MAC), its length and its last [`TAIL`] bytes; then [`SeekIndex::section_offset`],
//! [`SeekIndex::check_section_id`] and [`SeekIndex::open_chunk`] for the chunks the caller
//! reads at the offsets it was given.

use core::fmt;

use zeroize::Zeroizing;

use super::chunk::{self, Stream};
use super::decoder::{Decoder, DecoderConfig};
use super::manifest::Manifest;
use super::{CHUNK, CHUNK_CT, DATA, Section, TAIL, Unlock};
use crate::error::{ErrorClass, Result};

/// The authenticated layout of a file and the keys to open its chunks.
pub struct SeekIndex {
    header_end: u64,
    chunks: [u64; 7],
    streams: Vec<(Section, Stream)>,
    manifest: Vec<u8>,
}

impl fmt::Debug for SeekIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeekIndex")
            .field("header_end", &self.header_end)
            .field("chunks", &self.chunks)
            .finish_non_exhaustive()
    }
}

impl SeekIndex {
    /// Checks the prefix (steps 1 to 7 of `XBK-27`), then the manifest at the end of a file
    /// of `file_len` bytes whose last [`TAIL`] bytes are `tail`, and the layout it implies.
    ///
    /// # Errors
    /// The prefix's classes (a prefix without its MAC: `backup.truncated`); then
    /// `backup.truncated`, `backup.section_order`, `backup.chunk_auth`, `backup.padding`,
    /// `cbor.*`, `schema.*`, `backup.manifest_mismatch`.
    pub fn open(
        prefix: &[u8],
        file_len: u64,
        tail: &[u8],
        secret: Unlock,
        pin: Option<&str>,
        config: &DecoderConfig,
    ) -> Result<SeekIndex> {
        let mut decoder = Decoder::new(*config);
        decoder.unlock(secret, pin)?;
        let mut rest = prefix;
        while !rest.is_empty() {
            let n = decoder.push(rest)?;
            rest = rest.get(n..).unwrap_or_default();
            while decoder.poll_event().is_some() {}
            if n == 0 {
                break;
            }
        }
        let (header, unlocked) = decoder.prefix_unlocked()?;
        let header_end = (8 + header.as_bytes().len() + super::MAC_LEN) as u64;
        if file_len < header_end + TAIL as u64 || tail.len() != TAIL {
            return Err(ErrorClass::BackupTruncated.into());
        }
        if tail.first() != Some(&Section::Manifest.id()) {
            return Err(ErrorClass::BackupSectionOrder.into());
        }
        let core_mac = unlocked.core_mac;
        let stream = |s: Section| match s {
            Section::Hidden => unlocked
                .hidden_key
                .as_ref()
                .map(|k| Stream::new(k, &core_mac, s)),
            other => Some(Stream::new(
                &unlocked.keys.section_key(other),
                &core_mac,
                other,
            )),
        };
        let mut plain = Zeroizing::new(vec![0u8; CHUNK]);
        let manifest_stream = stream(Section::Manifest).ok_or(ErrorClass::BackupChunkAuth)?;
        if !manifest_stream.open(0, true, tail.get(1..).unwrap_or_default(), &mut plain) {
            return Err(ErrorClass::BackupChunkAuth.into());
        }
        let used = chunk::used(&plain, DATA - 1)?;
        let content = plain.get(2..2 + used).unwrap_or_default().to_vec();
        let manifest = Manifest::decode(&content)?;
        let mut total = header_end + TAIL as u64;
        for (section, chunks) in Section::CONTENT.iter().zip(manifest.chunks) {
            if !(section.min_chunks()..=config.max_chunks).contains(&chunks) {
                return Err(ErrorClass::BackupManifestMismatch.into());
            }
            total = total.saturating_add(chunks.saturating_mul(CHUNK_CT as u64) + 1);
        }
        if total != file_len {
            return Err(ErrorClass::BackupManifestMismatch.into());
        }
        let streams = Section::CONTENT
            .iter()
            .filter_map(|s| stream(*s).map(|st| (*s, st)))
            .collect();
        Ok(SeekIndex {
            header_end,
            chunks: manifest.chunks,
            streams,
            manifest: content,
        })
    }

    /// The manifest's content (deterministic CBOR of `xbk-manifest`), authenticated.
    pub fn manifest(&self) -> &[u8] {
        &self.manifest
    }

    /// The chunk count of a content section.
    pub fn chunks(&self, section: Section) -> u64 {
        self.chunks
            .get(usize::from(section.id()).wrapping_sub(1))
            .copied()
            .unwrap_or(0)
    }

    /// Offset of a section's id byte.
    pub fn section_offset(&self, section: Section) -> u64 {
        let before: u64 = Section::CONTENT
            .iter()
            .take_while(|s| **s != section)
            .map(|s| 1 + self.chunks(*s) * CHUNK_CT as u64)
            .sum();
        self.header_end + before
    }

    /// Offset of chunk `index` of `section`.
    pub fn chunk_offset(&self, section: Section, index: u64) -> u64 {
        self.section_offset(section) + 1 + index * CHUNK_CT as u64
    }

    /// Checks the id byte found at [`SeekIndex::section_offset`].
    ///
    /// # Errors
    /// `backup.section_order`.
    pub fn check_section_id(&self, section: Section, byte: u8) -> Result<()> {
        if byte == section.id() {
            Ok(())
        } else {
            Err(ErrorClass::BackupSectionOrder.into())
        }
    }

    /// Opens chunk `index` of `section` and returns its content bytes.
    ///
    /// # Errors
    /// `backup.chunk_auth` (also for the hidden section without its PIN, and for an index
    /// beyond the section), `backup.padding`.
    pub fn open_chunk(
        &self,
        section: Section,
        index: u64,
        chunk: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let stream = self
            .streams
            .iter()
            .find(|(s, _)| *s == section)
            .map(|(_, st)| st)
            .ok_or(ErrorClass::BackupChunkAuth)?;
        let n = self.chunks(section);
        let mut plain = Zeroizing::new(vec![0u8; CHUNK]);
        if index >= n || !stream.open(index, index + 1 == n, chunk, &mut plain) {
            return Err(ErrorClass::BackupChunkAuth.into());
        }
        let used = chunk::used(&plain, DATA)?;
        Ok(Zeroizing::new(
            plain.get(2..2 + used).unwrap_or_default().to_vec(),
        ))
    }
}
