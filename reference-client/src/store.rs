//! Where the engine keeps its state: the [`Store`] trait, the encrypted state file
//! ([`FileStore`], the default) and an in-memory store for tests and examples
//! ([`MemoryStore`]).
//!
//! The state is one client-private blob (identity keys, contacts with their session snapshots,
//! invites, the outbox and inbox, history; `spec/07-envelope.md` §7.7 and `spec/09-delivery.md`
//! say only that it must be stored encrypted and durably). The engine saves it after every
//! change and before it tells the relay it may forget anything (`spec/09-delivery.md`: a crash
//! causes a second fetch that deduplication drops, never a loss), and it never encrypts from
//! a state older than the newest one it used (`spec/06-ratchet.md` RAT-10). A store must
//! therefore make [`Store::save`] durable before it returns, and must not hand back an older
//! state than the last one saved.
//!
//! A store that several processes share (the state file) also serialises them: the engine
//! holds it between [`Store::acquire`] and [`Store::release`], and reloads the state after
//! each acquire, so that a long-running watch lets a `send` from another process run between
//! its steps.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::{Fail, Result};
use crate::vault::{self, Home, Key, Lock};

/// Durable storage of the engine's state blob (`Send + Sync`, so that an engine and the futures
/// of its operations are `Send`).
pub trait Store: Send + Sync {
    /// The last state saved, or `None` if none was ever saved here.
    ///
    /// # Errors
    /// The state cannot be read or decrypted.
    fn load(&mut self) -> Result<Option<Zeroizing<Vec<u8>>>>;

    /// Replaces the state with `state`, durably, before returning.
    ///
    /// # Errors
    /// The state cannot be written; the engine then stops the operation, and the previous
    /// state stays the one in force.
    fn save(&mut self, state: &[u8]) -> Result<()>;

    /// Lets other processes use the store until [`Store::acquire`]; the engine neither
    /// loads nor saves in between. The default does nothing.
    fn release(&mut self) {}

    /// Takes the store back after [`Store::release`]; the engine loads the state again.
    /// The default does nothing.
    ///
    /// # Errors
    /// The store cannot be taken back (another process keeps it).
    fn acquire(&mut self) -> Result<()> {
        Ok(())
    }
}

/// The state in memory only: lost when dropped. For tests and examples.
#[derive(Default)]
pub struct MemoryStore {
    state: Option<Zeroizing<Vec<u8>>>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }
}

impl core::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("saved", &self.state.is_some())
            .finish()
    }
}

impl Store for MemoryStore {
    fn load(&mut self) -> Result<Option<Zeroizing<Vec<u8>>>> {
        Ok(self.state.clone())
    }

    fn save(&mut self, state: &[u8]) -> Result<()> {
        self.state = Some(Zeroizing::new(state.to_vec()));
        Ok(())
    }
}

/// The encrypted state file `DIR/state.qw` (XChaCha20-Poly1305 under an Argon2id key of the
/// passphrase; the format is in [`crate::vault`]'s overview), written atomically, with the
/// exclusive process lock `DIR/state.lock` held from [`FileStore::open`] or
/// [`FileStore::create`] on, except between [`Store::release`] and [`Store::acquire`].
pub struct FileStore {
    home: Home,
    key: Key,
    lock: Option<Lock>,
    on_wait: OnWait,
    /// The plaintext read by `open`, handed out by the first `load`.
    first: Option<Zeroizing<Vec<u8>>>,
}

impl core::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.home.dir())
            .field("locked", &self.lock.is_some())
            .finish_non_exhaustive()
    }
}

/// Called once when taking the process lock waits for more than a second (another process
/// holds it); the command-line client says so on standard error.
pub type OnWait = Box<dyn FnMut() + Send + Sync>;

impl FileStore {
    /// Whether `dir` holds a state file.
    #[must_use]
    pub fn exists(dir: &Path) -> bool {
        Home::new(dir.to_path_buf()).exists()
    }

    /// Locks `dir` and decrypts its state file with `passphrase`.
    ///
    /// # Errors
    /// No state file in `dir`, a wrong passphrase, a damaged file, or a lock another process
    /// holds for more than a minute.
    pub fn open(dir: impl Into<PathBuf>, passphrase: &str) -> Result<FileStore> {
        FileStore::open_with(dir, passphrase, Box::new(|| {}))
    }

    /// [`FileStore::open`], calling `on_wait` whenever taking the lock takes a while.
    ///
    /// # Errors
    /// As [`FileStore::open`].
    pub fn open_with(
        dir: impl Into<PathBuf>,
        passphrase: &str,
        mut on_wait: OnWait,
    ) -> Result<FileStore> {
        let home = Home::new(dir.into());
        if !home.exists() {
            return Err(Fail::new(format!(
                "no identity here ({})",
                home.dir().display()
            )));
        }
        let lock = home.lock(&mut *on_wait)?;
        let (plain, key) = home.read(passphrase)?;
        Ok(FileStore {
            home,
            key,
            lock: Some(lock),
            on_wait,
            first: Some(plain),
        })
    }

    /// Creates `dir` if needed and locks it, for a state file under a new key derived from
    /// `passphrase` (nothing is written until the first save).
    ///
    /// # Errors
    /// A state file exists in `dir`, or `dir` cannot be created or locked.
    pub fn create(dir: impl Into<PathBuf>, passphrase: &str) -> Result<FileStore> {
        let home = Home::new(dir.into());
        home.create()?;
        let mut on_wait: OnWait = Box::new(|| {});
        let lock = home.lock(&mut *on_wait)?;
        if home.exists() {
            return Err(Fail::new(format!(
                "an identity already exists in {}",
                home.dir().display()
            )));
        }
        let key = vault::new_key(passphrase)?;
        Ok(FileStore {
            home,
            key,
            lock: Some(lock),
            on_wait,
            first: None,
        })
    }

    /// The directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.home.dir()
    }
}

impl Store for FileStore {
    fn load(&mut self) -> Result<Option<Zeroizing<Vec<u8>>>> {
        if let Some(first) = self.first.take() {
            return Ok(Some(first));
        }
        if !self.home.exists() {
            return Ok(None);
        }
        self.home.reread(&self.key).map(Some)
    }

    fn save(&mut self, state: &[u8]) -> Result<()> {
        if self.lock.is_none() {
            return Err(Fail::new("internal error: saving without the lock"));
        }
        self.first = None;
        self.home.write(&self.key, state)
    }

    fn release(&mut self) {
        self.lock = None;
        self.first = None;
    }

    fn acquire(&mut self) -> Result<()> {
        if self.lock.is_none() {
            self.lock = Some(self.home.lock(&mut *self.on_wait)?);
        }
        Ok(())
    }
}
