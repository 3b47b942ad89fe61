//! The end of the input (`XBK-20`, `XBK-26` step 3): a decoding succeeds only here.

use super::{Decoder, Queued, Stage};
use crate::backup::chunk::{self, Stream};
use crate::backup::manifest::Manifest;
use crate::backup::{CHUNK_CT, DATA, HIDDEN_MIN_CHUNKS, Section, TAIL, padme};
use crate::error::{ErrorClass, Result};

impl Decoder {
    /// Signals the end of the input. On success the last event is `Finished`; while the
    /// decoder still waits for [`Decoder::unlock`], the end is remembered and the checks run
    /// once the secret arrives.
    ///
    /// # Errors
    /// `backup.truncated` for input that ends inside the file; in locked mode, the manifest
    /// checks of `XBK-26`; the decoder's error if it already failed.
    pub fn finish(&mut self) -> Result<()> {
        self.check()?;
        if self.ended {
            return Ok(());
        }
        self.ended = true;
        self.end_of_input()
    }

    pub(super) fn end_of_input(&mut self) -> Result<()> {
        let result = match self.stage {
            Stage::Unlock if self.secret.is_none() && self.unlocked.is_none() => return Ok(()),
            Stage::Locked => self.locked_end(),
            Stage::End => {
                self.queue.push_back(Queued::Finished(self.hidden));
                self.stage = Stage::Done;
                Ok(())
            }
            Stage::Done => Ok(()),
            _ => Err(ErrorClass::BackupTruncated.into()),
        };
        result.map_err(|e| self.fail(e))
    }

    /// Locked mode at the end: the last `TAIL` bytes are the manifest section; everything
    /// before them is the hidden section, which only the manifest authenticates.
    fn locked_end(&mut self) -> Result<()> {
        let window_len = self.window.len();
        if (self.hashed + window_len as u64) < TAIL as u64 {
            return Err(ErrorClass::BackupTruncated.into());
        }
        let spill = window_len.saturating_sub(TAIL);
        self.digest
            .update(self.window.get(..spill).unwrap_or_default());
        let hidden_bytes = self.hashed + spill as u64;
        let tail = self.window.get(spill..).unwrap_or_default();
        if tail.first() != Some(&Section::Manifest.id()) {
            return Err(ErrorClass::BackupSectionOrder.into());
        }
        let key = self
            .keys()
            .map(|k| k.section_key(Section::Manifest))
            .ok_or(ErrorClass::BackupChunkAuth)?;
        let core_mac = self
            .unlocked
            .as_ref()
            .map(|u| u.core_mac)
            .unwrap_or_default();
        let stream = Stream::new(&key, &core_mac, Section::Manifest);
        let chunk = tail.get(1..).unwrap_or_default();
        let plain = self.plain.as_mut_slice();
        if chunk.len() != CHUNK_CT || !stream.open(0, true, chunk, plain) {
            return Err(ErrorClass::BackupChunkAuth.into());
        }
        let used = chunk::used(&self.plain, DATA - 1)?;
        let manifest = Manifest::decode(self.plain.get(2..2 + used).unwrap_or_default())?;
        let hidden_chunks = manifest.chunks.get(6).copied().unwrap_or(0);
        let shape_ok = hidden_chunks >= HIDDEN_MIN_CHUNKS
            && padme(hidden_chunks) == hidden_chunks
            && hidden_chunks.checked_mul(CHUNK_CT as u64) == Some(hidden_bytes);
        if !shape_ok {
            return Err(ErrorClass::BackupManifestMismatch.into());
        }
        let mut read = self.chunks;
        if let Some(slot) = read.get_mut(6) {
            *slot = hidden_chunks;
        }
        let digest = core::mem::take(&mut self.digest).finish();
        manifest.check(&read, &digest)?;
        self.chunks = read;
        self.queue.push_back(Queued::Finished(self.hidden));
        self.stage = Stage::Done;
        Ok(())
    }
}
