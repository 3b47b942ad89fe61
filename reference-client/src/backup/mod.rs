//! Backups (`spec/10-backup.md`): exporting the engine's state as an `.xbk` file, reading one
//! back (streaming, authenticated chunks only), restoring it as a new engine that reconnects
//! with every contact, and the old-device transfer through the relay ([`transfer`]).
//!
//! ```text
//! export:   state ─ records (write) ─ Encoder ─ chunk by chunk ─ FILE.tmp ─ fsync, rename ─ FILE
//! restore:  FILE ─ pieces ─ Reader: Decoder (authenticated chunks only) ─ Restore (checked,
//!           staged) ─ Decoded ─ Engine::restore_backup: same identity, new keys,
//!           generation + 1, stale sessions, history ─ one reconnect per contact ─ outbox
//! ```
//!
//! The engine never asks for a secret itself: an export takes its unlock methods
//! ([`quietwire::backup::Methods`]: a recovery key, a passphrase, or both), and a [`Reader`]
//! calls the app's [`read::Ask`] once the file's header says which methods it offers. Progress
//! goes to a [`Progress`] the app supplies ([`Silent`] shows none).
//!
//! ```no_run
//! # fn demo(engine: &quietwire_client::Engine) -> quietwire_client::Result<()> {
//! use quietwire::backup::{ExportOptions, Methods, RecoveryKey};
//! use quietwire_client::backup::{self, Reader, Secret, Silent};
//! use quietwire_client::{Engine, MemoryStore, WebSocket};
//!
//! let key = RecoveryKey::generate(&mut quietwire_client::sys::rng());
//! let text = key.to_text(); // shown to the user once
//! let options = ExportOptions::new(Methods::RecoveryKey(key));
//! engine.export_backup("alice.xbk".as_ref(), &options, &mut Silent)?;
//!
//! // On a new device:
//! let ask = Box::new(move |_methods| Ok(Secret::recovery_key(text.clone().into())));
//! let mut reader = Reader::asking(ask, Box::new(Silent));
//! backup::read_file("alice.xbk".as_ref(), &mut reader)?;
//! let (mut restored, report) =
//!     Engine::restore_backup(MemoryStore::new(), WebSocket::new(), reader.finish()?, None)?;
//! println!("restored {} contact(s)", report.contacts);
//! # Ok(()) }
//! ```

pub mod read;
pub mod restore;
pub mod secret;
pub mod transfer;
pub mod write;

use std::fs::File;
use std::io::Read as _;
use std::path::Path;

use quietwire::backup::ExportOptions;

pub use read::{Decoded, Reader};
pub use restore::RestoreReport;
pub use secret::{Method, Secret};
pub use write::Summary;

use crate::engine::Engine;
use crate::error::{Fail, Result};

/// Bytes read from a backup file at a time.
const PIECE: usize = 64 * 1024;

/// Where a long backup operation reports how far it got. Every method does nothing by
/// default.
pub trait Progress {
    /// `done` bytes so far.
    fn set(&mut self, done: u64) {
        let _ = done;
    }

    /// `n` more bytes.
    fn add(&mut self, n: u64) {
        let _ = n;
    }

    /// The part being worked on (a section's name).
    fn note(&mut self, what: &str) {
        let _ = what;
    }

    /// Done.
    fn finish(&mut self) {}
}

/// No progress shown.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Progress for Silent {}

impl Engine {
    /// Writes a backup of this identity to `path`, which must not exist: written to a
    /// temporary file next to it, flushed and renamed only once complete.
    ///
    /// # Errors
    /// An existing file, an unwritable directory, a passphrase the format refuses, or a
    /// damaged state.
    pub fn export_backup(
        &self,
        path: &Path,
        options: &ExportOptions,
        progress: &mut dyn Progress,
    ) -> Result<Summary> {
        write::write(&self.state, options, path, progress)
    }
}

/// Reads the whole file `path` through `reader` (then [`Reader::finish`] says whether it was
/// a complete, authentic backup).
///
/// # Errors
/// The file cannot be read, or the reader failed (a wrong secret, a damaged file).
pub fn read_file(path: &Path, reader: &mut Reader) -> Result<()> {
    let mut input =
        File::open(path).map_err(|e| Fail::new(format!("cannot open {}: {e}", path.display())))?;
    let mut piece = vec![0u8; PIECE];
    loop {
        let n = input
            .read(&mut piece)
            .map_err(|e| Fail::new(format!("cannot read {}: {e}", path.display())))?;
        if n == 0 {
            return Ok(());
        }
        reader.push(piece.get(..n).unwrap_or_default())?;
    }
}
