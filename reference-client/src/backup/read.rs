//! Reading a backup: bytes pushed through the protocol's streaming decoder (which releases
//! only authenticated content) into its staging restore (which checks every record), with
//! progress, and one clear message per kind of failure: a wrong secret is never reported as a
//! damaged file, nor the other way round (`spec/10-backup.md` §10.11, §10.12).
//!
//! Nothing is committed before the decoder reports the end of a complete, authenticated
//! file: a failure at any point leaves nothing behind.

use std::collections::BTreeMap;

use quietwire::backup::restore::{Id, Restore, Restored};
use quietwire::backup::{Decoder, DecoderConfig, Event, MethodSet, Section, Unlock};
use quietwire::keys::KemSecret;
use quietwire::{Error, ErrorClass, Fault};
use zeroize::Zeroizing;

use super::Progress;
use super::secret::{Method, Secret};
use crate::error::{Fail, Result};

/// A completely read and checked backup.
pub struct Decoded {
    /// The records, the identity and the hidden outcome.
    pub restored: Restored,
    /// The session snapshots by contact id, from the restore's stale sessions; the client
    /// stores each with its contact marked stale (XBK-24: decrypt only).
    pub sessions: BTreeMap<Id, Zeroizing<Vec<u8>>>,
}

impl core::fmt::Debug for Decoded {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decoded")
            .field("restored", &self.restored)
            .finish_non_exhaustive()
    }
}

/// Asks for the secret of a backup that offers the given methods (a prompt, a form, the
/// environment), once its header is read.
pub type Ask = Box<dyn FnMut(MethodSet) -> Result<Secret>>;

/// Where the secret comes from.
enum Source {
    /// Asked once the header tells which methods the file has.
    Ask(Ask),
    /// Given already (to the decoder).
    Given,
}

/// A backup being read.
pub struct Reader {
    decoder: Decoder,
    restore: Restore,
    progress: Box<dyn Progress>,
    source: Source,
    method: Method,
    secret: Option<Secret>,
    methods: Option<MethodSet>,
    finished: bool,
}

impl core::fmt::Debug for Reader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reader")
            .field("decoder", &self.decoder)
            .finish_non_exhaustive()
    }
}

impl Reader {
    fn new(progress: Box<dyn Progress>, source: Source, method: Method) -> Reader {
        Reader {
            decoder: Decoder::new(DecoderConfig::default()),
            restore: Restore::new(),
            progress,
            source,
            method,
            secret: None,
            methods: None,
            finished: false,
        }
    }

    /// A reader that calls `ask` for the recovery key or passphrase once the header is in.
    #[must_use]
    pub fn asking(ask: Ask, progress: Box<dyn Progress>) -> Reader {
        Reader::new(progress, Source::Ask(ask), Method::RecoveryKey)
    }

    /// A reader for a transfer to this device, opened with its transfer key pair.
    #[must_use]
    pub fn transfer(key: KemSecret, progress: Box<dyn Progress>) -> Reader {
        let mut reader = Reader::new(progress, Source::Given, Method::Transfer);
        // A transfer carries at most TRANSFER_MAX_CHUNKS chunks per section (XBK-12).
        reader.decoder = Decoder::new(DecoderConfig::transfer());
        // Stored until the header is in; a fresh decoder cannot fail here.
        let _ = reader.decoder.unlock(Unlock::Transfer(key), None);
        reader
    }

    /// Takes the secret the file was opened with (after the header was read).
    #[must_use]
    pub fn take_secret(&mut self) -> Option<Secret> {
        self.secret.take()
    }

    /// The unlock methods of the file (after the header was read).
    pub fn methods(&self) -> Option<MethodSet> {
        self.methods
    }

    /// Pushes the next bytes of the file.
    ///
    /// # Errors
    /// The first failure, as a message for the user; every later call fails too.
    pub fn push(&mut self, mut input: &[u8]) -> Result<()> {
        while !input.is_empty() {
            let used = self.decoder.push(input).map_err(|e| self.failure(e))?;
            input = input.get(used..).unwrap_or_default();
            let events = self.drain()?;
            if used == 0 && events == 0 {
                return Err(Fail::new(
                    "internal error: the backup decoder made no progress",
                ));
            }
        }
        Ok(())
    }

    /// Ends the input: succeeds only for a complete file whose every check passed.
    ///
    /// # Errors
    /// A truncated or damaged file, or one whose secret never came.
    pub fn finish(mut self) -> Result<Decoded> {
        self.decoder.finish().map_err(|e| self.failure(e))?;
        self.drain()?;
        self.progress.finish();
        if !self.finished {
            return Err(damaged("it ends too early (backup.truncated)"));
        }
        let mut restored = self
            .restore
            .commit()
            .ok_or_else(|| damaged("its identity section is missing (backup.identity_count)"))?;
        let sessions = core::mem::take(&mut restored.sessions)
            .into_iter()
            .map(|s| (*s.contact(), s.snapshot()))
            .collect();
        Ok(Decoded { restored, sessions })
    }

    /// Handles every queued event; returns how many there were.
    fn drain(&mut self) -> Result<usize> {
        let mut count = 0;
        let mut header = None;
        {
            let Reader {
                decoder,
                restore,
                progress,
                finished,
                ..
            } = self;
            while let Some(event) = decoder.poll_event() {
                count += 1;
                match &event {
                    Event::HeaderReady { methods } => header = Some(*methods),
                    Event::Progress { consumed } => progress.set(*consumed),
                    Event::SectionStart { section } => progress.note(section_name(*section)),
                    Event::Finished { .. } => *finished = true,
                    _ => {}
                }
                if let Err(e) = restore.handle(&event) {
                    return Err(damaged(&format!("its content is invalid ({})", e.class())));
                }
            }
        }
        if let Some(methods) = header {
            self.methods = Some(methods);
            if let Source::Ask(ask) = &mut self.source {
                let secret = ask(methods)?;
                self.method = secret.method;
                let unlock = secret.unlock();
                self.secret = Some(secret);
                self.decoder
                    .unlock(unlock, None)
                    .map_err(|e| self.failure(e))?;
            } else if methods.transfer.is_none() {
                return Err(Fail::new(
                    "this is not a transfer backup for this device (it opens with a recovery key or passphrase: use `quietwire-client backup import`)",
                ));
            }
        }
        Ok(count)
    }

    /// The message for a decoder failure.
    fn failure(&self, e: Error) -> Fail {
        let has = |m: Option<MethodSet>, want: Method| {
            m.is_none_or(|m| match want {
                Method::RecoveryKey => m.recovery_key,
                Method::Passphrase => m.passphrase,
                Method::Transfer => m.transfer.is_some(),
            })
        };
        match e.class() {
            ErrorClass::BackupMagic => Fail::new("this file is not a Quietwire backup (.xbk)"),
            ErrorClass::BackupVersion => Fail::new(
                "this backup was made by a newer version of Quietwire; update this client",
            ),
            ErrorClass::BackupRecoveryKeyFormat => Fail::new(
                "that is not a recovery key: it has 12 groups of 5 letters and digits (XXXXX-XXXXX-…)",
            ),
            ErrorClass::BackupRecoveryKeyChecksum => Fail::new(
                "the recovery key has a typo (its checksum does not match): check every group",
            ),
            ErrorClass::BackupSecretFormat => {
                Fail::new("the passphrase is empty or longer than 1024 bytes")
            }
            ErrorClass::BackupNoEntry if !has(self.methods, self.method) => {
                Fail::new(match self.method {
                    Method::RecoveryKey => {
                        "this backup has no recovery key: open it with its passphrase"
                    }
                    Method::Passphrase => {
                        "this backup has no passphrase: open it with its recovery key"
                    }
                    Method::Transfer => "this backup was not made for a transfer",
                })
            }
            ErrorClass::BackupNoMatch => Fail::new(match self.method {
                Method::RecoveryKey => {
                    "wrong recovery key: it does not open this backup (nothing was restored)"
                }
                Method::Passphrase => {
                    "wrong passphrase: it does not open this backup (nothing was restored)"
                }
                Method::Transfer => "this transfer was made for another device's key",
            }),
            ErrorClass::BackupKdfCap => Fail::new(
                "this backup asks for more passphrase-stretching work than this client allows (1 GiB, 16 passes): damaged or hostile file",
            ),
            ErrorClass::BackupTruncated => damaged("it ends too early (backup.truncated)"),
            ErrorClass::BackupChunkLimit => {
                damaged("a section is larger than this client accepts (backup.chunk_limit)")
            }
            class => match class.fault() {
                Fault::Policy | Fault::Misuse => {
                    Fail::new(format!("cannot read the backup ({class})"))
                }
                // A cut file is often seen only at its end, as a section or manifest that
                // does not match.
                _ => damaged(&format!("it was modified or cut short ({class})")),
            },
        }
    }
}

/// The message for a damaged file.
fn damaged(why: &str) -> Fail {
    Fail::new(format!(
        "the backup file is damaged: {why}; nothing was restored"
    ))
}

fn section_name(section: Section) -> &'static str {
    match section {
        Section::Identity => "identity",
        Section::Contacts => "contacts",
        Section::Sessions => "sessions",
        Section::Chats => "chats",
        Section::Media => "media",
        Section::Settings => "settings",
        Section::Hidden => "hidden chats",
        Section::Manifest => "manifest",
    }
}
