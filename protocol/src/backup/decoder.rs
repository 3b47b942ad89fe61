//! The push decoder (`XBK-27`, `XBK-28`): a sans-io state machine that takes bytes in any
//! split, checks them in the spec's order and releases plaintext only chunk by chunk after it
//! authenticated. Its memory is bounded by a constant: the header, one chunk, the locked-mode
//! window and a few hash and key states.
//!
//! Call order: [`Decoder::unlock`] at any time (the secret is used once the header and its
//! MAC are in); [`Decoder::push`] input, draining [`Decoder::poll_event`] whenever `push`
//! stops short; [`Decoder::finish`] at the end of the input; `Finished` is the last event.

use std::collections::VecDeque;

use core::fmt;
use zeroize::Zeroizing;

use super::chunk::{self, Stream};
use super::header::{self, Header, MethodSet};
use super::kdf::KdfCaps;
use super::keys::FileKeys;
use super::manifest::{HiddenDigest, Manifest};
use super::unlock::{self, Unlocked};
use super::{
    CHUNK, CHUNK_CT, DATA, DEFAULT_MAX_CHUNKS, MAC_LEN, MAX_MAX_CHUNKS, MIN_MAX_CHUNKS, Section,
    TAIL, TRANSFER_MAX_CHUNKS, Unlock, section_chunks,
};
use crate::error::{Error, ErrorClass, Result};
use crate::suite::SuitePolicy;

/// A reader's configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecoderConfig {
    /// `MAX_CHUNKS`, clamped to 16 ..= 2^32.
    pub max_chunks: u64,
    /// Argon2id caps (at most the spec's).
    pub caps: KdfCaps,
    /// Suites a transfer entry may use.
    pub suites: SuitePolicy,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        DecoderConfig {
            max_chunks: DEFAULT_MAX_CHUNKS,
            caps: KdfCaps::SPEC,
            suites: SuitePolicy::ALL,
        }
    }
}

impl DecoderConfig {
    /// The configuration for a file received by old-device transfer (`XBK-12`): the default
    /// with `MAX_CHUNKS` = [`TRANSFER_MAX_CHUNKS`], so a sender cannot make the new device
    /// read an unbounded stream.
    pub fn transfer() -> Self {
        DecoderConfig {
            max_chunks: TRANSFER_MAX_CHUNKS,
            ..DecoderConfig::default()
        }
    }
}

/// What became of the hidden section (`XBK-26`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HiddenOutcome {
    /// The PIN opened it; its records were released.
    Open,
    /// No PIN was supplied.
    Locked,
    /// A PIN was supplied and did not open it (or there are no hidden chats).
    PinMismatch,
}

impl HiddenOutcome {
    /// The name used in the vectors.
    pub const fn as_str(self) -> &'static str {
        match self {
            HiddenOutcome::Open => "open",
            HiddenOutcome::Locked => "locked",
            HiddenOutcome::PinMismatch => "pin_mismatch",
        }
    }
}

/// An event of the decoder. `Data` borrows the decoder's chunk buffer until the next call.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// The header checked; the file offers these methods.
    HeaderReady {
        /// The unlock methods.
        methods: MethodSet,
    },
    /// The secret unlocked the file and the header MAC verified.
    Unlocked,
    /// A section begins.
    SectionStart {
        /// The section.
        section: Section,
    },
    /// Authenticated content of a section, one chunk's worth.
    Data {
        /// The section.
        section: Section,
        /// The released bytes.
        bytes: &'a [u8],
    },
    /// A section ended after `chunks` chunks.
    SectionEnd {
        /// The section.
        section: Section,
        /// Its chunk count.
        chunks: u64,
    },
    /// The hidden section is read without its key (no PIN, or the PIN did not open it).
    HiddenLocked,
    /// Input bytes consumed so far.
    Progress {
        /// Bytes consumed.
        consumed: u64,
    },
    /// Every check passed and the input ended: the restore may be committed.
    Finished {
        /// The hidden section's outcome.
        hidden: HiddenOutcome,
    },
}

#[derive(Clone, Copy, Debug)]
enum Queued {
    HeaderReady(MethodSet),
    Unlocked,
    SectionStart(Section),
    Data(Section, usize),
    SectionEnd(Section, u64),
    HiddenLocked,
    Progress(u64),
    Finished(HiddenOutcome),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Magic,
    HeaderLen,
    Header(usize),
    Mac,
    Unlock,
    SectionId,
    Chunk,
    Locked,
    End,
    Done,
}

/// The section being read.
struct Reading {
    section: Section,
    stream: Option<Stream>,
    index: u64,
    /// `n`, once the content has ended.
    total: Option<u64>,
}

/// The push decoder. See the module documentation for the call order.
pub struct Decoder {
    config: DecoderConfig,
    stage: Stage,
    buf: Vec<u8>,
    plain: Zeroizing<Vec<u8>>,
    queue: VecDeque<Queued>,
    consumed: u64,
    ended: bool,
    failed: Option<Error>,
    header: Option<Header>,
    mac: [u8; MAC_LEN],
    secret: Option<Unlock>,
    pin: Option<Zeroizing<String>>,
    unlocked: Option<Unlocked>,
    reading: Reading,
    chunks: [u64; 7],
    digest: HiddenDigest,
    hidden: HiddenOutcome,
    window: Vec<u8>,
    hashed: u64,
    kdf_runs: u32,
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("stage", &self.stage)
            .field("section", &self.reading.section)
            .field("index", &self.reading.index)
            .field("consumed", &self.consumed)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl Decoder {
    /// A decoder waiting for the magic.
    pub fn new(config: DecoderConfig) -> Decoder {
        let config = DecoderConfig {
            max_chunks: config.max_chunks.clamp(MIN_MAX_CHUNKS, MAX_MAX_CHUNKS),
            ..config
        };
        Decoder {
            config,
            stage: Stage::Magic,
            buf: Vec::new(),
            plain: Zeroizing::new(vec![0u8; CHUNK]),
            queue: VecDeque::new(),
            consumed: 0,
            ended: false,
            failed: None,
            header: None,
            mac: [0; MAC_LEN],
            secret: None,
            pin: None,
            unlocked: None,
            reading: Reading {
                section: Section::Identity,
                stream: None,
                index: 0,
                total: None,
            },
            chunks: [0; 7],
            digest: HiddenDigest::start(),
            hidden: HiddenOutcome::Locked,
            window: Vec::new(),
            hashed: 0,
            kdf_runs: 0,
        }
    }

    /// The checked header, once `HeaderReady` was reported.
    pub fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// Input bytes consumed so far (progress: `consumed / file size`).
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Argon2id evaluations this decoder ran (0 when caps refused before any work).
    pub fn kdf_runs(&self) -> u32 {
        self.kdf_runs
    }

    /// The error the decoder stopped with, if any.
    pub fn error(&self) -> Option<Error> {
        self.failed
    }

    /// Supplies the secret and optional chat PIN. They are checked only once the header and
    /// its MAC are complete (`XBK-13`), so this may be called before the first push. A later
    /// call replaces a secret not yet used.
    ///
    /// # Errors
    /// Any class of `XBK-13` if the decoder was waiting for the secret; the decoder's error
    /// if it already failed.
    pub fn unlock(&mut self, secret: Unlock, pin: Option<&str>) -> Result<()> {
        self.check()?;
        if self.unlocked.is_some() {
            return Ok(());
        }
        self.secret = Some(secret);
        self.pin = pin.map(|p| Zeroizing::new(p.to_owned()));
        if self.stage == Stage::Unlock {
            self.try_unlock()?;
        }
        Ok(())
    }

    /// The next event, in file order. Events produced before a failure stay available.
    pub fn poll_event(&mut self) -> Option<Event<'_>> {
        let event = self.queue.pop_front()?;
        Some(match event {
            Queued::HeaderReady(methods) => Event::HeaderReady { methods },
            Queued::Unlocked => Event::Unlocked,
            Queued::SectionStart(section) => Event::SectionStart { section },
            Queued::Data(section, len) => Event::Data {
                section,
                bytes: self.plain.get(2..2 + len).unwrap_or_default(),
            },
            Queued::SectionEnd(section, chunks) => Event::SectionEnd { section, chunks },
            Queued::HiddenLocked => Event::HiddenLocked,
            Queued::Progress(consumed) => Event::Progress { consumed },
            Queued::Finished(hidden) => Event::Finished { hidden },
        })
    }

    /// The header and keys after a prefix was pushed and unlocked (for seeking and
    /// re-keying, which read only the prefix).
    pub(crate) fn prefix_unlocked(&self) -> Result<(&Header, &Unlocked)> {
        self.check()?;
        match (&self.header, &self.unlocked) {
            (Some(header), Some(unlocked)) => Ok((header, unlocked)),
            _ => Err(ErrorClass::BackupTruncated.into()),
        }
    }

    fn check(&self) -> Result<()> {
        self.failed.map_or(Ok(()), Err)
    }

    fn fail(&mut self, error: impl Into<Error>) -> Error {
        let error = error.into();
        self.failed = Some(error);
        error
    }

    fn data_pending(&self) -> bool {
        self.queue.iter().any(|q| matches!(q, Queued::Data(..)))
    }

    fn need(&self) -> usize {
        match self.stage {
            Stage::Magic | Stage::HeaderLen => 4,
            Stage::Header(len) => len,
            Stage::Mac => MAC_LEN,
            Stage::SectionId => 1,
            Stage::Chunk => CHUNK_CT,
            Stage::Unlock | Stage::Locked | Stage::End | Stage::Done => 0,
        }
    }

    /// Consumes a prefix of `input` and returns its length. It stops early while a `Data`
    /// event waits to be polled, while the decoder waits for [`Decoder::unlock`], and after
    /// [`Decoder::finish`]; call again with the rest.
    ///
    /// # Errors
    /// The first failing check of `XBK-27`; the same error on every later call.
    pub fn push(&mut self, input: &[u8]) -> Result<usize> {
        self.check()?;
        let mut pos = 0;
        while pos < input.len() && !self.ended && !self.data_pending() {
            let rest = input.get(pos..).unwrap_or_default();
            let used = match self.stage {
                Stage::Unlock | Stage::Done => break,
                Stage::End => return Err(self.fail(ErrorClass::BackupTrailing)),
                Stage::Locked => self.locked_input(rest, true),
                _ => self.unit_input(rest),
            };
            pos += used.inspect_err(|e| self.failed = Some(*e))?;
        }
        Ok(pos)
    }

    /// Feeds bytes toward the current fixed-size unit; processes it when complete.
    fn unit_input(&mut self, rest: &[u8]) -> Result<usize> {
        let need = self.need();
        if self.buf.is_empty() && rest.len() >= need {
            let unit = rest.get(..need).unwrap_or_default();
            self.consumed += need as u64;
            self.unit(unit)?;
            return Ok(need);
        }
        let take = (need - self.buf.len()).min(rest.len());
        self.buf
            .extend_from_slice(rest.get(..take).unwrap_or_default());
        self.consumed += take as u64;
        if self.buf.len() == need {
            let unit = core::mem::take(&mut self.buf);
            let result = self.unit(&unit);
            self.buf = unit;
            self.buf.clear();
            result?;
        }
        Ok(take)
    }

    fn unit(&mut self, bytes: &[u8]) -> Result<()> {
        match self.stage {
            Stage::Magic => {
                header::check_magic(bytes)?;
                self.stage = Stage::HeaderLen;
            }
            Stage::HeaderLen => {
                let len = header::header_len(bytes.try_into().unwrap_or_default())?;
                self.stage = Stage::Header(len);
                if len == 0 {
                    self.unit(&[])?;
                }
            }
            Stage::Header(_) => {
                let header = header::decode(bytes, &self.config.suites)?;
                self.queue.push_back(Queued::HeaderReady(header.methods()));
                self.header = Some(header);
                self.stage = Stage::Mac;
            }
            Stage::Mac => {
                self.mac.copy_from_slice(bytes);
                self.stage = Stage::Unlock;
                if self.secret.is_some() {
                    self.try_unlock()?;
                }
            }
            Stage::SectionId => self.section_id(bytes.first().copied().unwrap_or(0))?,
            Stage::Chunk => self.chunk(bytes)?,
            Stage::Unlock | Stage::Locked | Stage::End | Stage::Done => {}
        }
        Ok(())
    }

    fn try_unlock(&mut self) -> Result<()> {
        let (Some(header), Some(secret)) = (&self.header, &self.secret) else {
            return Ok(());
        };
        let pin = self.pin.as_deref().map(String::as_str);
        let result = unlock::unlock(
            header,
            &self.mac,
            secret,
            pin,
            &self.config.caps,
            &mut self.kdf_runs,
        );
        self.secret = None;
        self.pin = None;
        let unlocked = result.map_err(|e| self.fail(e))?;
        self.unlocked = Some(unlocked);
        self.queue.push_back(Queued::Unlocked);
        self.reading.section = Section::Identity;
        self.stage = Stage::SectionId;
        if self.ended {
            self.end_of_input()?;
        }
        Ok(())
    }

    fn keys(&self) -> Option<&FileKeys> {
        self.unlocked.as_ref().map(|u| &u.keys)
    }

    fn section_id(&mut self, id: u8) -> Result<()> {
        let section = self.reading.section;
        if id != section.id() {
            return Err(ErrorClass::BackupSectionOrder.into());
        }
        self.queue.push_back(Queued::SectionStart(section));
        let core_mac = self
            .unlocked
            .as_ref()
            .map(|u| u.core_mac)
            .unwrap_or_default();
        let key = match section {
            Section::Hidden => self.unlocked.as_ref().and_then(|u| u.hidden_key.clone()),
            other => self.keys().map(|k| k.section_key(other)),
        };
        self.reading.stream = key.map(|k| Stream::new(&k, &core_mac, section));
        self.reading.index = 0;
        self.reading.total = None;
        if section == Section::Hidden && self.reading.stream.is_none() {
            self.hidden = HiddenOutcome::Locked;
            self.enter_locked();
            return Ok(());
        }
        self.stage = Stage::Chunk;
        Ok(())
    }

    fn enter_locked(&mut self) {
        self.queue.push_back(Queued::HiddenLocked);
        self.stage = Stage::Locked;
    }

    fn chunk(&mut self, bytes: &[u8]) -> Result<()> {
        let section = self.reading.section;
        let index = self.reading.index;
        let Some(stream) = &self.reading.stream else {
            return Err(ErrorClass::BackupChunkAuth.into());
        };
        let plain = self.plain.as_mut_slice();
        let last = match (self.reading.total, section) {
            (_, Section::Manifest) | (Some(_), _) => {
                let last = self.reading.total.is_none_or(|n| index + 1 == n);
                stream.open(index, last, bytes, plain).then_some(last)
            }
            (None, _) => {
                if stream.open(index, false, bytes, plain) {
                    Some(false)
                } else if stream.open(index, true, bytes, plain) {
                    Some(true)
                } else {
                    None
                }
            }
        };
        let Some(last) = last else {
            if section == Section::Hidden && index == 0 {
                // A wrong PIN, or a damaged chunk 0: the manifest decides (XBK-26).
                self.hidden = HiddenOutcome::PinMismatch;
                self.enter_locked();
                return self.locked_input(bytes, false).map(|_| ());
            }
            return Err(ErrorClass::BackupChunkAuth.into());
        };
        if section == Section::Hidden {
            self.digest.update(bytes);
        }
        // Step 4: the used field and the padding.
        let limit = if section == Section::Manifest {
            DATA - 1
        } else {
            DATA
        };
        let used = chunk::used(&self.plain, limit)?;
        let ended = self.reading.total.is_some();
        if ended && used != 0 {
            return Err(ErrorClass::BackupPadding.into());
        }
        if section == Section::Manifest {
            return self.manifest(used);
        }
        // Step 5: where the content ends.
        if !ended && used < DATA {
            self.reading.total = Some(section_chunks(section, index + 1));
        }
        if last && self.reading.total.is_none_or(|n| index + 1 != n) {
            return Err(ErrorClass::BackupPadding.into());
        }
        // Step 6: release.
        if used > 0 {
            self.queue.push_back(Queued::Data(section, used));
        }
        self.queue.push_back(Queued::Progress(self.consumed));
        self.reading.index += 1;
        if last {
            self.section_end(section, index + 1);
        } else if self.reading.index >= self.config.max_chunks {
            return Err(ErrorClass::BackupChunkLimit.into());
        }
        Ok(())
    }

    fn section_end(&mut self, section: Section, chunks: u64) {
        if section == Section::Hidden {
            self.hidden = HiddenOutcome::Open;
        }
        if let Some(slot) = self.chunks.get_mut(usize::from(section.id() - 1)) {
            *slot = chunks;
        }
        self.queue.push_back(Queued::SectionEnd(section, chunks));
        if let Some(next) = section.next() {
            self.reading.section = next;
            self.stage = Stage::SectionId;
        }
    }

    /// The manifest's content (opened mode): decode and compare, then only the end may come.
    fn manifest(&mut self, used: usize) -> Result<()> {
        let content = self.plain.get(2..2 + used).unwrap_or_default();
        let manifest = Manifest::decode(content)?;
        let digest = core::mem::take(&mut self.digest).finish();
        manifest.check(&self.chunks, &digest)?;
        self.queue.push_back(Queued::Progress(self.consumed));
        self.stage = Stage::End;
        Ok(())
    }

    /// Locked mode: keep the last `TAIL` bytes, hash everything that falls out of the window.
    /// `fresh` tells whether the bytes are new input (rather than the chunk 0 a PIN failed
    /// to open, already counted).
    fn locked_input(&mut self, rest: &[u8], fresh: bool) -> Result<usize> {
        let room = 2 * TAIL - self.window.len();
        let take = room.min(rest.len());
        self.window
            .extend_from_slice(rest.get(..take).unwrap_or_default());
        if fresh {
            self.consumed += take as u64;
        }
        let limit = self
            .config
            .max_chunks
            .saturating_mul(CHUNK_CT as u64)
            .saturating_add(TAIL as u64);
        if self.hashed + self.window.len() as u64 > limit {
            return Err(ErrorClass::BackupChunkLimit.into());
        }
        if self.window.len() == 2 * TAIL {
            let spill = self.window.len() - TAIL;
            self.digest
                .update(self.window.get(..spill).unwrap_or_default());
            self.window.drain(..spill);
            self.hashed += spill as u64;
            self.queue.push_back(Queued::Progress(self.consumed));
        }
        Ok(take)
    }
}

mod end;
