//! The streaming encoder (`XBK-30`): draws the file's randomness, writes the header and its
//! MAC, then each section's chunks as soon as their content is available, then the
//! manifest. Its memory is one chunk of pending content plus hash and key state.

use core::fmt;

use rand_core::CryptoRng;
use zeroize::{Zeroize, Zeroizing};

use super::chunk::Stream;
use super::header::{self, Entries, PassphraseEntry, TransferEntry, Wrap};
use super::kdf::{self, KdfCaps, KdfParams, MAX_PASSPHRASE, MAX_PIN, SALT_LEN};
use super::keys::{self, FileKey, FileKeys, Key, TYPE_PASSPHRASE, TYPE_RECOVERY};
use super::manifest::{HiddenDigest, Manifest};
use super::restore::Record;
use super::{
    CHUNK_CT, DATA, DEFAULT_MAX_CHUNKS, MAX_MAX_CHUNKS, MIN_MAX_CHUNKS, RecoveryKey, Section,
    section_chunks,
};
use crate::error::{Error, ErrorClass, Result};
use crate::keys::KemPublicKey;

/// Where the encoder writes: it asks for room for each piece (a chunk, the header) and fills
/// it in place, so a `Vec<u8>` is written without copies and a sink that flushes the previous
/// piece on each call keeps the memory of a whole export at one chunk.
pub trait Output {
    /// Appends `len` zero bytes and returns them to be filled.
    fn extend_zeroed(&mut self, len: usize) -> &mut [u8];

    /// Appends the concatenation of `parts`, then zeros up to `len` bytes in all, and returns
    /// the `len` appended bytes (to be sealed in place).
    fn extend_from_parts(&mut self, parts: &[&[u8]], len: usize) -> &mut [u8] {
        let slot = self.extend_zeroed(len);
        let mut at = 0;
        for part in parts {
            if let Some(dst) = slot.get_mut(at..at + part.len()) {
                dst.copy_from_slice(part);
            }
            at += part.len();
        }
        slot
    }
}

impl Output for Vec<u8> {
    fn extend_zeroed(&mut self, len: usize) -> &mut [u8] {
        let start = self.len();
        self.resize(start + len, 0);
        self.get_mut(start..).unwrap_or_default()
    }

    fn extend_from_parts(&mut self, parts: &[&[u8]], len: usize) -> &mut [u8] {
        let start = self.len();
        for part in parts {
            self.extend_from_slice(part);
        }
        self.resize(start + len, 0);
        self.get_mut(start..).unwrap_or_default()
    }
}

fn put<O: Output + ?Sized>(out: &mut O, bytes: &[u8]) {
    let slot = out.extend_zeroed(bytes.len());
    if slot.len() == bytes.len() {
        slot.copy_from_slice(bytes);
    }
}

/// The unlock methods of a new file: the valid sets of `XBK-06`.
pub enum Methods {
    /// A recovery key only (the default).
    RecoveryKey(RecoveryKey),
    /// A passphrase only.
    Passphrase(String),
    /// Both: either unlocks the file.
    RecoveryKeyAndPassphrase(RecoveryKey, String),
    /// Old-device transfer: only the new device's transfer key opens the file.
    Transfer(KemPublicKey),
}

impl Drop for Methods {
    fn drop(&mut self) {
        match self {
            Methods::Passphrase(p) | Methods::RecoveryKeyAndPassphrase(_, p) => p.zeroize(),
            Methods::RecoveryKey(_) | Methods::Transfer(_) => {}
        }
    }
}

impl fmt::Debug for Methods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Methods::RecoveryKey(_) => "RecoveryKey",
            Methods::Passphrase(_) => "Passphrase",
            Methods::RecoveryKeyAndPassphrase(..) => "RecoveryKeyAndPassphrase",
            Methods::Transfer(_) => "Transfer",
        };
        write!(f, "Methods::{name}(..)")
    }
}

impl Methods {
    fn recovery(&self) -> Option<&RecoveryKey> {
        match self {
            Methods::RecoveryKey(k) | Methods::RecoveryKeyAndPassphrase(k, _) => Some(k),
            _ => None,
        }
    }

    fn passphrase(&self) -> Option<&str> {
        match self {
            Methods::Passphrase(p) | Methods::RecoveryKeyAndPassphrase(_, p) => Some(p),
            _ => None,
        }
    }
}

/// What an export needs besides the section contents. Its `Debug` shows no secret.
pub struct ExportOptions {
    /// The unlock methods.
    pub methods: Methods,
    /// Argon2id parameters of the passphrase entry.
    pub passphrase_kdf: KdfParams,
    /// The chat PIN that locks the hidden section; without one its key is random.
    pub pin: Option<String>,
    /// Argon2id parameters of the PIN (written in the core either way).
    pub pin_kdf: KdfParams,
    /// Most chunks per section (`MAX_CHUNKS`); keep the default for files every reader opens.
    pub max_chunks: u64,
}

impl fmt::Debug for ExportOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportOptions")
            .field("methods", &self.methods)
            .field("passphrase_kdf", &self.passphrase_kdf)
            .field("pin", &self.pin.as_ref().map(|_| ".."))
            .field("pin_kdf", &self.pin_kdf)
            .field("max_chunks", &self.max_chunks)
            .finish()
    }
}

impl Drop for ExportOptions {
    fn drop(&mut self) {
        if let Some(pin) = self.pin.as_mut() {
            pin.zeroize();
        }
    }
}

impl ExportOptions {
    /// Options with the default parameters and no chat PIN.
    pub fn new(methods: Methods) -> ExportOptions {
        ExportOptions {
            methods,
            passphrase_kdf: KdfParams::DEFAULT,
            pin: None,
            pin_kdf: KdfParams::DEFAULT,
            max_chunks: DEFAULT_MAX_CHUNKS,
        }
    }
}

/// The streaming encoder. Call order: [`Encoder::new`] (writes the header), then for each
/// section in order [`Encoder::write`] its content and [`Encoder::next_section`], and
/// finally [`Encoder::finish`], which closes the open section, writes the remaining
/// sections empty and then the manifest. Every method appends to the caller's [`Output`].
/// After an error while writing the encoder refuses everything with the same error and the
/// output is incomplete: discard it.
///
/// Applications write records rather than raw content: [`Encoder::write_record`] frames a
/// [`Record`] as `u32be(len) ‖ xbk-record` (`XBK-21`) and writes it into the section it
/// names, moving on through the sections in between; the example of
/// [`restore`](super::restore) writes a whole backup this way and reads it back.
pub struct Encoder {
    keys: FileKeys,
    core_mac: [u8; 32],
    hidden_key: Key,
    section: Section,
    stream: Stream,
    index: u64,
    pending: Zeroizing<Vec<u8>>,
    chunks: [u64; 7],
    hidden: HiddenDigest,
    max_chunks: u64,
    failed: Option<Error>,
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder")
            .field("section", &self.section)
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl Encoder {
    /// Checks the options, draws the file's randomness (`XBK-30`, in the spec's order), runs
    /// the KDFs and writes the prefix and header MAC to `out`; section 1 is then open.
    ///
    /// # Errors
    /// `backup.secret_format` for a passphrase or PIN outside `XBK-11`; `backup.kdf_params`
    /// or `backup.kdf_cap` for KDF parameters below the floor or above the caps.
    pub fn new<R: CryptoRng + ?Sized, O: Output + ?Sized>(
        options: &ExportOptions,
        rng: &mut R,
        out: &mut O,
    ) -> Result<Encoder> {
        let passphrase = options
            .methods
            .passphrase()
            .map(|p| kdf::secret_bytes(p, MAX_PASSPHRASE))
            .transpose()?;
        let pin = options
            .pin
            .as_ref()
            .map(|p| kdf::secret_bytes(p, MAX_PIN))
            .transpose()?;
        for params in [&options.pin_kdf, &options.passphrase_kdf] {
            params.check_valid()?;
            KdfCaps::SPEC.check(params)?;
        }
        let mut fk = FileKey([0u8; 32]);
        rng.fill_bytes(&mut fk.0);
        let mut file_id = [0u8; 32];
        rng.fill_bytes(&mut file_id);
        let mut pin_salt = [0u8; SALT_LEN];
        rng.fill_bytes(&mut pin_salt);
        let pin_key = match &pin {
            Some(pin) => kdf::argon2id(pin, &pin_salt, &options.pin_kdf)?,
            None => {
                let mut key = Zeroizing::new([0u8; 32]);
                rng.fill_bytes(key.as_mut());
                key
            }
        };
        let mut entries = Entries::default();
        if let Some(key) = options.methods.recovery() {
            let (check, wrapped) = keys::wrap(&fk, &file_id, key.dangerous_bytes(), TYPE_RECOVERY);
            entries.recovery = Some(Wrap { check, wrapped });
        }
        if let Some(passphrase) = &passphrase {
            let mut salt = [0u8; SALT_LEN];
            rng.fill_bytes(&mut salt);
            let secret = kdf::argon2id(passphrase, &salt, &options.passphrase_kdf)?;
            let (check, wrapped) = keys::wrap(&fk, &file_id, &secret, TYPE_PASSPHRASE);
            entries.passphrase = Some(PassphraseEntry {
                salt,
                params: options.passphrase_kdf,
                wrap: Wrap { check, wrapped },
            });
        }
        if let Methods::Transfer(recipient) = &options.methods {
            let (enc, ct) = keys::seal_transfer(&fk, &file_id, recipient, rng)?;
            entries.transfer = Some(TransferEntry {
                suite: recipient.suite(),
                enc,
                ct,
            });
        }
        let core = header::encode_core(&file_id, &pin_salt, &options.pin_kdf);
        let prefix = header::prefix(&header::encode_header(&core, &entries));
        let keys = FileKeys::new(&fk, &file_id);
        put(out, &prefix);
        put(out, &keys.header_mac(&prefix));
        let core_mac = keys.core_mac(&core);
        let hidden_key = keys.hidden_key(&pin_key);
        let stream = Stream::new(
            &keys.section_key(Section::Identity),
            &core_mac,
            Section::Identity,
        );
        put(out, &[Section::Identity.id()]);
        Ok(Encoder {
            keys,
            core_mac,
            hidden_key,
            section: Section::Identity,
            stream,
            index: 0,
            pending: Zeroizing::new(Vec::with_capacity(DATA)),
            chunks: [0; 7],
            hidden: HiddenDigest::start(),
            max_chunks: options.max_chunks.clamp(MIN_MAX_CHUNKS, MAX_MAX_CHUNKS),
            failed: None,
        })
    }

    /// The section [`Encoder::write`] writes to.
    pub fn section(&self) -> Section {
        self.section
    }

    fn check(&self) -> Result<()> {
        self.failed.map_or(Ok(()), Err)
    }

    fn fail(&mut self, class: ErrorClass) -> Error {
        let error = Error::new(class);
        self.failed = Some(error);
        error
    }

    /// Seals the next chunk of the open section.
    fn emit<O: Output + ?Sized>(&mut self, last: bool, data: &[u8], out: &mut O) -> Result<()> {
        if self.index >= self.max_chunks {
            return Err(self.fail(ErrorClass::BackupTooLarge));
        }
        let data = data.get(..DATA.min(data.len())).unwrap_or_default();
        let used = (data.len() as u16).to_be_bytes();
        let slot = out.extend_from_parts(&[&used, data], CHUNK_CT);
        self.stream.seal_in_place(self.index, last, slot);
        if self.section == Section::Hidden {
            self.hidden.update(slot);
        }
        self.index += 1;
        Ok(())
    }

    /// Appends content to the open section; every full chunk is written at once.
    ///
    /// # Errors
    /// `backup.too_large` when the content needs more than `MAX_CHUNKS` chunks.
    pub fn write<O: Output + ?Sized>(&mut self, mut data: &[u8], out: &mut O) -> Result<()> {
        self.check()?;
        if !self.pending.is_empty() {
            let take = (DATA - self.pending.len()).min(data.len());
            let (head, rest) = data.split_at(take);
            self.pending.extend_from_slice(head);
            data = rest;
            if self.pending.len() < DATA {
                return Ok(());
            }
            let full = core::mem::take(&mut *self.pending);
            let result = self.emit(false, &full, out);
            *self.pending = full;
            self.pending.zeroize();
            self.pending.clear();
            result?;
        }
        while let Some((chunk, rest)) = data.split_at_checked(DATA) {
            self.emit(false, chunk, out)?;
            data = rest;
        }
        self.pending.extend_from_slice(data);
        Ok(())
    }

    /// Writes `record` into `section`, framed as `u32be(len) ‖ xbk-record` (`XBK-21`). If
    /// `section` comes after the open one, the sections in between are closed first (empty if
    /// nothing was written to them), as [`Encoder::next_section`] does; records of one
    /// section are written in the order of the calls. A refused record writes nothing and
    /// leaves the encoder as it was.
    ///
    /// ```
    /// use quietwire::backup::restore::Record;
    /// use quietwire::backup::{Encoder, ExportOptions, Methods, RecoveryKey, Section};
    /// use quietwire::cbor::Value;
    /// use quietwire::identity::DeviceKeys;
    /// use quietwire::suite::Suite;
    /// # use rand_core::{TryCryptoRng, TryRng};
    /// # struct Counter(u8);
    /// # impl TryRng for Counter {
    /// #     type Error = core::convert::Infallible;
    /// #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
    /// #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
    /// #     fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
    /// #         for b in dst { self.0 = self.0.wrapping_add(1); *b = self.0; }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # impl TryCryptoRng for Counter {}
    /// # let mut rng = Counter(0);
    /// let device = DeviceKeys::generate(Suite::X25519, &mut rng);
    /// let options = ExportOptions::new(Methods::RecoveryKey(RecoveryKey::generate(&mut rng)));
    /// let mut file = Vec::new();
    /// let mut encoder = Encoder::new(&options, &mut rng, &mut file)?;
    /// encoder.write_record(Section::Identity, &Record::identity(device.identity(), 0), &mut file)?;
    /// let theme = Record::Setting { name: "theme".into(), value: Value::from("dark") };
    /// encoder.write_record(Section::Settings, &theme, &mut file)?; // sections 2 to 5 empty
    /// // A record goes only where XBK-22 allows it, and sections only forward.
    /// let again = encoder.write_record(Section::Contacts, &theme, &mut file);
    /// assert_eq!(again.unwrap_err().class().as_str(), "backup.section_order");
    /// encoder.finish(&mut file)?;
    /// # Ok::<(), quietwire::Error>(())
    /// ```
    ///
    /// # Errors
    /// Without writing anything: `backup.section_order` if `section` is before the open
    /// section or is the manifest; `backup.record_kind` if the record's kind is not allowed
    /// in `section` (`XBK-22`); [`Record::to_bytes`]'s classes (`backup.record_length` for a
    /// record over `MAX_RECORD`). While writing: `backup.too_large`.
    pub fn write_record<O: Output + ?Sized>(
        &mut self,
        section: Section,
        record: &Record,
        out: &mut O,
    ) -> Result<()> {
        self.check()?;
        if section == Section::Manifest || section < self.section {
            return Err(ErrorClass::BackupSectionOrder.into());
        }
        if !Record::allowed(record.kind(), section) {
            return Err(ErrorClass::BackupRecordKind.into());
        }
        let framed = record.to_bytes()?;
        while self.section < section {
            self.next_section(out)?;
        }
        self.write(&framed, out)
    }

    /// Closes the open section (its last content chunk and padding chunks) and opens the
    /// next one. After the hidden section, use [`Encoder::finish`].
    ///
    /// # Errors
    /// `backup.too_large`.
    pub fn next_section<O: Output + ?Sized>(&mut self, out: &mut O) -> Result<()> {
        self.check()?;
        self.close(out)?;
        if let Some(next) = self.section.next().filter(|s| *s != Section::Manifest) {
            self.open(next, out);
        }
        Ok(())
    }

    fn close<O: Output + ?Sized>(&mut self, out: &mut O) -> Result<()> {
        let n = section_chunks(self.section, self.index + 1);
        if n > self.max_chunks {
            return Err(self.fail(ErrorClass::BackupTooLarge));
        }
        let last = std::mem::take(&mut *self.pending);
        let result = self.emit(self.index + 1 == n, &last, out);
        *self.pending = last;
        self.pending.zeroize();
        self.pending.clear();
        result?;
        while self.index < n {
            self.emit(self.index + 1 == n, &[], out)?;
        }
        if let Some(slot) = self.chunks.get_mut(usize::from(self.section.id() - 1)) {
            *slot = n;
        }
        Ok(())
    }

    fn open<O: Output + ?Sized>(&mut self, section: Section, out: &mut O) {
        let key = match section {
            Section::Hidden => self.hidden_key.clone(),
            other => self.keys.section_key(other),
        };
        self.stream = Stream::new(&key, &self.core_mac, section);
        self.section = section;
        self.index = 0;
        put(out, &[section.id()]);
    }

    /// Closes the open section, writes every remaining section empty and the manifest.
    ///
    /// # Errors
    /// `backup.too_large`.
    pub fn finish<O: Output + ?Sized>(mut self, out: &mut O) -> Result<()> {
        self.check()?;
        while self.section != Section::Hidden {
            self.next_section(out)?;
        }
        self.close(out)?;
        let hidden = core::mem::take(&mut self.hidden).finish();
        let manifest = Manifest {
            chunks: self.chunks,
            hidden_digest: hidden,
        };
        self.open(Section::Manifest, out);
        self.emit(true, &manifest.encode(), out)
    }
}
