//! Writing a backup: the state as the records of `spec/10-backup.md` §10.9, streamed through
//! the encoder chunk by chunk into a temporary file next to the target, which is flushed to
//! disk and renamed over the target only once complete.
//!
//! What goes where:
//!
//! | section | records |
//! |---|---|
//! | identity | the identity seed and key, and the generation of this device's record |
//! | contacts | each contact whose signed device record is known: a local id, the record, the name, the verified flag, the mailbox this device writes to, the relay |
//! | sessions | each of those contacts' session snapshot, unchanged (a restore marks it stale) |
//! | chats | one chat per contact, and every text of the history as a message with its event |
//! | media | nothing (this client sends texts only) |
//! | settings | `name`, `relay`, `suite`; per contact the seed of the mailbox this device receives in (`quietwire-client/receive-mailbox`), so that a restored device can still fetch what was in flight; contacts without a device record by name, identity and verified flag (`quietwire-client/unreachable-contact`) |
//! | hidden | nothing (no hidden chats in this client) |

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use quietwire::backup::restore::{Contact as ContactRecord, Id, Message, Record};
use quietwire::backup::{Encoder, ExportOptions, Output, Section};
use quietwire::cbor::{Int, Value};
use quietwire::event::{Body, Event};
use quietwire::invite::is_valid_relay_hint;
use quietwire::{Error, ErrorClass};
use rand_core::Rng as _;
use zeroize::{Zeroize as _, Zeroizing};

use super::Progress;
use crate::error::{Fail, Result};
use crate::state::State;
use crate::sys;

/// Setting: the user's own name (text).
pub const SETTING_NAME: &str = "name";
/// Setting: the relay URL (text).
pub const SETTING_RELAY: &str = "relay";
/// Setting: the identity's suite id (unsigned integer).
pub const SETTING_SUITE: &str = "suite";
/// Setting, one per contact: `[contact id, seed of the mailbox this device receives in]`.
pub const SETTING_RECEIVE: &str = "quietwire-client/receive-mailbox";
/// Setting, one per contact without a device record: `{1: name, 2: identity key, 3:
/// verified}`.
pub const SETTING_UNREACHABLE: &str = "quietwire-client/unreachable-contact";

/// What an export wrote.
#[derive(Debug, Default)]
pub struct Summary {
    /// Contacts written with their device record and session.
    pub contacts: Vec<String>,
    /// Contacts without a device record: written by name and identity only.
    pub without_record: Vec<String>,
    /// Messages written.
    pub messages: usize,
    /// Size of the file.
    pub bytes: u64,
}

/// A file written under a temporary name in the target's directory and renamed over the
/// target by [`AtomicFile::commit`]; dropped uncommitted, the temporary file is removed.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: PathBuf,
    target: PathBuf,
    file: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file for `target` (owner-only on Unix).
    ///
    /// # Errors
    /// The directory is not writable.
    pub fn create(target: &Path) -> Result<AtomicFile> {
        let mut suffix = [0u8; 8];
        sys::rng().fill_bytes(&mut suffix);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "backup".to_owned());
        let tmp = dir_of(target).join(format!(".{name}.{}.tmp", hex::encode(suffix)));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let file = options
            .open(&tmp)
            .map_err(|e| Fail::new(format!("cannot create {}: {e}", tmp.display())))?;
        Ok(AtomicFile {
            tmp,
            target: target.to_path_buf(),
            file: Some(BufWriter::new(file)),
        })
    }

    /// The writer of the temporary file.
    ///
    /// # Errors
    /// After [`AtomicFile::commit`] failed half-way.
    pub fn writer(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("the file is closed"))
    }

    /// Flushes the file to disk, renames it over the target and flushes the directory.
    ///
    /// # Errors
    /// Any I/O failure; the target is then unchanged.
    pub fn commit(mut self) -> Result<()> {
        let result = (|| {
            let file = self
                .file
                .take()
                .ok_or_else(|| io::Error::other("the file is closed"))?;
            let file = file.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            drop(file);
            fs::rename(&self.tmp, &self.target)?;
            File::open(dir_of(&self.target))?.sync_all()
        })();
        result.map_err(|e| Fail::new(format!("cannot write {}: {e}", self.target.display())))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.tmp.exists() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The directory a path lives in (`.` for a bare file name).
pub fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The encoder's [`Output`]: each piece it asks for is written to the file when it asks for
/// the next one, so an export holds one chunk in memory, whatever its size.
struct Sink<'a> {
    file: &'a mut AtomicFile,
    piece: Zeroizing<Vec<u8>>,
    written: u64,
    error: Option<io::Error>,
    progress: &'a mut dyn Progress,
}

impl Sink<'_> {
    fn flush_piece(&mut self) {
        if self.error.is_none() && !self.piece.is_empty() {
            let result = self
                .file
                .writer()
                .and_then(|w| w.write_all(self.piece.as_slice()));
            match result {
                Ok(()) => {
                    self.written = self.written.saturating_add(self.piece.len() as u64);
                    self.progress.set(self.written);
                }
                Err(e) => self.error = Some(e),
            }
        }
        // The piece held plaintext before it was sealed in place.
        self.piece.zeroize();
    }
}

impl Output for Sink<'_> {
    fn extend_zeroed(&mut self, len: usize) -> &mut [u8] {
        self.flush_piece();
        self.piece.resize(len, 0);
        self.piece.as_mut_slice()
    }
}

/// Writes the backup of `state` to `path` (which must not exist) with `options`, showing
/// progress.
///
/// # Errors
/// An existing file, an unwritable directory, a passphrase the format refuses, a damaged
/// state.
pub fn write(
    state: &State,
    options: &ExportOptions,
    path: &Path,
    progress: &mut dyn Progress,
) -> Result<Summary> {
    if path.exists() {
        return Err(Fail::new(format!(
            "{} already exists; choose another name (a backup is never overwritten)",
            path.display()
        )));
    }
    let mut file = AtomicFile::create(path)?;
    let mut sink = Sink {
        file: &mut file,
        piece: Zeroizing::new(Vec::new()),
        written: 0,
        error: None,
        progress,
    };
    let result = encode(state, options, &mut sink);
    sink.flush_piece();
    sink.progress.finish();
    if let Some(e) = sink.error.take() {
        return Err(Fail::new(format!("cannot write {}: {e}", path.display())));
    }
    let bytes = sink.written;
    let mut summary = result?;
    summary.bytes = bytes;
    file.commit()?;
    Ok(summary)
}

fn encoder_error(e: Error) -> Fail {
    match e.class() {
        ErrorClass::BackupSecretFormat => {
            Fail::new("the backup passphrase must be 1 to 1024 bytes (after Unicode NFC)")
        }
        ErrorClass::BackupTooLarge => Fail::new("the history is too large for one backup file"),
        class => Fail::new(format!("cannot write the backup ({class})")),
    }
}

/// Appends one record to the open section.
fn put(encoder: &mut Encoder, sink: &mut Sink<'_>, record: &Record) -> Result<()> {
    let bytes = record.to_bytes().map_err(encoder_error)?;
    encoder.write(&bytes, sink).map_err(encoder_error)
}

fn next(encoder: &mut Encoder, sink: &mut Sink<'_>) -> Result<()> {
    encoder.next_section(sink).map_err(encoder_error)?;
    let note = match encoder.section() {
        Section::Identity => "identity",
        Section::Contacts => "contacts",
        Section::Sessions => "sessions",
        Section::Chats => "chats",
        Section::Media => "media",
        Section::Settings => "settings",
        Section::Hidden | Section::Manifest => "padding",
    };
    sink.progress.note(note);
    Ok(())
}

fn random_id() -> Id {
    crate::reconnect::random_id()
}

fn setting(name: &str, value: Value) -> Record {
    Record::Setting {
        name: name.to_owned(),
        value,
    }
}

/// Streams every section of `state` through a new encoder into `sink`.
fn encode(state: &State, options: &ExportOptions, sink: &mut Sink<'_>) -> Result<Summary> {
    let mut rng = sys::rng();
    let mut encoder = Encoder::new(options, &mut rng, sink).map_err(encoder_error)?;
    let mut summary = Summary::default();
    sink.progress.note("identity");
    let identity = state.device.identity();
    put(
        &mut encoder,
        sink,
        &Record::Identity {
            seed: identity.dangerous_seed(),
            key: *identity.public().as_bytes(),
            generation: state.generation,
        },
    )?;

    // Contacts: only those whose device record is known can be records (the record is part
    // of the contact's body); the others are kept as settings below.
    next(&mut encoder, sink)?;
    let relay_hints: Vec<String> = [state.relay.clone()]
        .into_iter()
        .filter(|h| is_valid_relay_hint(h))
        .collect();
    let mut ids: BTreeMap<String, Id> = BTreeMap::new();
    for contact in &state.contacts {
        let Some(record) = &contact.device_record else {
            summary.without_record.push(contact.name.clone());
            continue;
        };
        let id = random_id();
        let session = contact.session()?;
        put(
            &mut encoder,
            sink,
            &Record::Contact(ContactRecord {
                id,
                device_record: record.0.clone(),
                name: contact.name.clone(),
                verified: contact.verified,
                mailbox: Some(*session.peer_mailbox()),
                relay_hints: relay_hints.clone(),
            }),
        )?;
        ids.insert(contact.name.clone(), id);
        summary.contacts.push(contact.name.clone());
    }

    next(&mut encoder, sink)?;
    for contact in &state.contacts {
        if let Some(id) = ids.get(&contact.name) {
            put(
                &mut encoder,
                sink,
                &Record::Session {
                    contact: *id,
                    snapshot: Zeroizing::new(contact.session.0.clone()),
                },
            )?;
        }
    }

    // One chat per contact, then the history in order.
    next(&mut encoder, sink)?;
    let mut chats: BTreeMap<String, Id> = BTreeMap::new();
    for (name, id) in &ids {
        let chat = random_id();
        put(
            &mut encoder,
            sink,
            &Record::Chat {
                id: chat,
                members: vec![*id],
                title: None,
            },
        )?;
        chats.insert(name.clone(), chat);
    }
    let mut seen: BTreeSet<[u8; 16]> = BTreeSet::new();
    for entry in &state.history {
        let (Some(chat), Some(contact)) = (chats.get(&entry.contact), ids.get(&entry.contact))
        else {
            continue;
        };
        let id = entry.message_id.array::<16>()?;
        if !seen.insert(id) {
            continue;
        }
        let event = Event::with_id(
            id,
            Body::Text {
                text: entry.text.clone(),
                reply_to: None,
            },
        )
        .to_bytes()
        .map_err(encoder_error)?;
        put(
            &mut encoder,
            sink,
            &Record::Message(Message {
                chat: *chat,
                id,
                sent: entry.outgoing,
                time: entry.at,
                event,
                sender: (!entry.outgoing).then_some(*contact),
            }),
        )?;
        summary.messages += 1;
    }

    next(&mut encoder, sink)?; // media: none
    next(&mut encoder, sink)?;
    put(
        &mut encoder,
        sink,
        &setting(SETTING_NAME, Value::Text(state.name.clone())),
    )?;
    put(
        &mut encoder,
        sink,
        &setting(SETTING_RELAY, Value::Text(state.relay.clone())),
    )?;
    put(
        &mut encoder,
        sink,
        &setting(SETTING_SUITE, Value::uint(state.suite.id())),
    )?;
    for contact in &state.contacts {
        if let Some(id) = ids.get(&contact.name) {
            let value = Value::Array(vec![
                Value::Bytes(id.to_vec()),
                Value::Bytes(contact.receive_seed.0.clone()),
            ]);
            put(&mut encoder, sink, &setting(SETTING_RECEIVE, value))?;
        }
    }
    let unreachable = state
        .contacts
        .iter()
        .filter(|c| c.device_record.is_none())
        .map(|c| (&c.name, &c.identity_key, c.verified))
        .chain(
            state
                .unreachable
                .iter()
                .map(|u| (&u.name, &u.identity_key, u.verified)),
        );
    for (name, identity, verified) in unreachable {
        let value = Value::Map(BTreeMap::from([
            (Int::uint(1), Value::Text(name.clone())),
            (Int::uint(2), Value::Bytes(identity.0.clone())),
            (Int::uint(3), Value::Bool(verified)),
        ]));
        put(&mut encoder, sink, &setting(SETTING_UNREACHABLE, value))?;
    }
    next(&mut encoder, sink)?; // hidden: none
    encoder.finish(sink).map_err(encoder_error)?;
    Ok(summary)
}
