//! Backups (`spec/10-backup.md`): `backup export`, `backup import`, `backup rekey`, and the
//! old-device transfer through the relay (`backup receive` on the new device, `backup send`
//! on the old one, [`transfer`]).
//!
//! ```text
//! export:   state ─ records (write) ─ Encoder ─ chunk by chunk ─ FILE.tmp ─ fsync, rename ─ FILE
//! import:   FILE ─ 64 KiB reads ─ Decoder (authenticated chunks only) ─ Restore (checked,
//!           staged) ─ Finished ─ new state: same identity, new keys, generation + 1,
//!           stale sessions, history ─ one reconnect per contact ─ outbox ─ relay
//! rekey:    FILE ─ full check ─ new header (recovery key / passphrase) ─ FILE.tmp
//!           = new prefix ‖ old sections ─ fsync, rename ─ FILE
//! ```
//!
//! A backup opens with a recovery key (the default, printed once), a passphrase (Argon2id with
//! the format's default cost, 256 MiB and 3 passes), or both; a transfer backup opens only
//! with the new device's transfer key. Secrets come from `QUIETWIRE_RECOVERY_KEY`,
//! `QUIETWIRE_BACKUP_PASSPHRASE` and `QUIETWIRE_BACKUP_NEW_PASSPHRASE`, or a prompt.

mod secret;
pub mod transfer;

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::path::Path;

use quietwire::backup::{
    DecoderConfig, ExportOptions, KdfParams, MAX_HEADER, Methods, RecoveryKey,
};

use crate::commands::queued_error;
use crate::error::{Fail, Result};
use crate::passphrase;
use crate::progress::{self, Progress};
use crate::sys;
use quietwire::did_key;
use quietwire_client::backup::restore::Sent;
use quietwire_client::backup::write::AtomicFile;
use quietwire_client::backup::{Reader, RestoreReport, Summary, read_file};
use quietwire_client::{Engine, FileStore, WebSocket};
use secret::{ENV_NEW_PASSPHRASE, ENV_PASSPHRASE, show_recovery_key};

/// Bytes read from a backup file at a time.
const PIECE: usize = 64 * 1024;

/// `backup export FILE`: a new recovery key (unless `no_recovery_key`) and, with
/// `passphrase`, a passphrase too.
pub fn export(engine: &Engine, file: &Path, passphrase: bool, no_recovery_key: bool) -> Result<()> {
    let recovery = (!no_recovery_key).then(|| RecoveryKey::generate(&mut sys::rng()));
    let methods = match (recovery.clone(), passphrase) {
        (Some(key), false) => Methods::RecoveryKey(key),
        (Some(key), true) => Methods::RecoveryKeyAndPassphrase(
            key,
            (*secret::new_passphrase(ENV_PASSPHRASE)?).clone(),
        ),
        (None, true) => Methods::Passphrase((*secret::new_passphrase(ENV_PASSPHRASE)?).clone()),
        (None, false) => {
            return Err(Fail::new(
                "--no-recovery-key needs --passphrase: the backup must open with something",
            ));
        }
    };
    let summary = engine.export_backup(
        file,
        &ExportOptions::new(methods),
        &mut Progress::new("export", None),
    )?;
    report(&summary);
    println!(
        "wrote {} ({})",
        file.display(),
        progress::size(summary.bytes)
    );
    if let Some(key) = &recovery {
        show_recovery_key(key);
    }
    Ok(())
}

/// A reader that asks for the secret (environment or terminal), with a progress bar.
fn asking(what: &str, total: Option<u64>) -> Reader {
    Reader::asking(
        Box::new(secret::ask_unlock),
        Box::new(Progress::new(what, total)),
    )
}

/// What a restore says: the identity, and per contact whether its reconnect is on its way.
fn restored(report: &RestoreReport) {
    println!(
        "restored {} ({}) from the backup: {} contact(s), {} message(s); new device keys, device record generation {}",
        report.name,
        did_key::encode(&report.identity),
        report.contacts,
        report.messages,
        report.generation
    );
    for (name, sent) in &report.reconnects {
        match sent {
            Sent::Queued => println!(
                "{name}: reconnecting: a new invite, sealed to {name}'s device, is on its way; the session resumes once {name} syncs and you sync again"
            ),
            Sent::OtherSuite => println!(
                "{name}: uses another suite than this identity: make a new invite for {name} (`quietwire-client invite --name {name}`)"
            ),
        }
    }
    for name in &report.unreachable {
        println!(
            "{name}: the backup has no device record of {name} (no message from {name} had arrived when it was made): make a new invite (`quietwire-client invite --name \"{name}\"`)"
        );
    }
    eprintln!(
        "compare a safety code with a contact (`quietwire-client verify NAME`) to confirm this is your own identity"
    );
}

/// What an export says about the contacts it wrote.
fn report(summary: &Summary) {
    eprintln!(
        "backed up {} contact(s) and {} message(s)",
        summary.contacts.len(),
        summary.messages
    );
    for name in &summary.without_record {
        eprintln!(
            "{name}: no device record yet (nothing from {name} has arrived since you connected), so a restore cannot reconnect: it keeps {name}'s name and identity only, without history, and you will need a new invite with {name}; sync and export again to include {name} fully"
        );
    }
}

/// The prefix of a backup file: magic, header length, header and header MAC (shorter if the
/// file is; the re-keying then reports the truncation).
fn read_prefix(file: &Path) -> Result<Vec<u8>> {
    let input =
        File::open(file).map_err(|e| Fail::new(format!("cannot open {}: {e}", file.display())))?;
    let mut prefix = Vec::new();
    let mut input = input.take(8);
    input
        .read_to_end(&mut prefix)
        .map_err(|e| Fail::new(format!("cannot read {}: {e}", file.display())))?;
    let len = prefix
        .get(4..8)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_be_bytes);
    let rest = u64::from(len).min(MAX_HEADER as u64) + 32;
    let mut input = input.into_inner().take(rest);
    input
        .read_to_end(&mut prefix)
        .map_err(|e| Fail::new(format!("cannot read {}: {e}", file.display())))?;
    Ok(prefix)
}

fn file_size(file: &Path) -> Result<u64> {
    std::fs::metadata(file)
        .map(|m| m.len())
        .map_err(|e| Fail::new(format!("cannot open {}: {e}", file.display())))
}

/// `backup import FILE` into a home without a state.
pub async fn import(
    home: &Path,
    transport: WebSocket,
    file: &Path,
    relay: Option<&str>,
) -> Result<()> {
    if FileStore::exists(home) {
        return Err(Fail::new(format!(
            "an identity already exists in {}: import into a new home (--home DIR)",
            home.display()
        )));
    }
    let size = file_size(file)?;
    let mut reader = asking("import", Some(size));
    read_file(file, &mut reader)?;
    let decoded = reader.finish()?;
    eprintln!("the backup checked; choose the passphrase of this device's state");
    let passphrase = passphrase::passphrase(true)?;
    let store = FileStore::create(home, &passphrase)?;
    let (mut engine, report) = Engine::restore_backup(store, transport, decoded, relay)?;
    restored(&report);
    send_reconnects(&mut engine).await
}

/// Sends the reconnects a restore queued (if any).
async fn send_reconnects(engine: &mut Engine) -> Result<()> {
    if engine.outbox().is_empty() {
        return Ok(());
    }
    let flushed = engine.flush().await;
    crate::print::notices(engine.take_notices());
    match flushed {
        Ok(()) => {
            println!("reconnects sent; run `quietwire-client sync` after your contacts synced");
            Ok(())
        }
        Err(e) => Err(queued_error(e, "every reconnect")),
    }
}

/// What `backup rekey` changes.
#[derive(Clone, Copy, Debug, Default)]
pub struct RekeyOptions {
    /// Set a new passphrase.
    pub new_passphrase: bool,
    /// Generate a new recovery key.
    pub new_recovery_key: bool,
    /// Remove the passphrase.
    pub drop_passphrase: bool,
    /// Remove the recovery key.
    pub drop_recovery_key: bool,
}

/// `backup rekey FILE`: checks the whole file with its current secret, then rewrites only its
/// header with the new unlock methods (`spec/10-backup.md` XBK-31) and replaces it atomically.
pub fn rekey(file: &Path, options: RekeyOptions) -> Result<()> {
    let RekeyOptions {
        new_passphrase,
        new_recovery_key,
        drop_passphrase,
        drop_recovery_key,
    } = options;
    if !(new_passphrase || new_recovery_key || drop_passphrase || drop_recovery_key) {
        return Err(Fail::new(
            "say what to change: --new-passphrase, --new-recovery-key, --drop-passphrase or --drop-recovery-key",
        ));
    }
    let size = file_size(file)?;
    let mut reader = asking("checking", Some(size));
    read_file(file, &mut reader)?;
    let (Some(secret), Some(methods)) = (reader.take_secret(), reader.methods()) else {
        // The header is incomplete: finishing reports how.
        reader.finish()?;
        return Err(Fail::new("internal error: no secret was asked"));
    };
    reader.finish()?;
    let prefix = read_prefix(file)?;

    let recovery = if new_recovery_key {
        Some((RecoveryKey::generate(&mut sys::rng()), true))
    } else if methods.recovery_key && !drop_recovery_key {
        let key = secret.as_recovery_key().ok_or_else(|| {
            Fail::new(
                "this backup also opens with a recovery key, which re-keying keeps only when you unlock with it: set QUIETWIRE_RECOVERY_KEY, or add --new-recovery-key or --drop-recovery-key",
            )
        })?;
        Some((key, false))
    } else {
        None
    };
    let passphrase = if new_passphrase {
        Some(((*secret::new_passphrase(ENV_NEW_PASSPHRASE)?).clone(), true))
    } else if methods.passphrase && !drop_passphrase {
        let passphrase = secret.as_passphrase().ok_or_else(|| {
            Fail::new(format!(
                "this backup also opens with a passphrase, which re-keying keeps only when you unlock with it: set {ENV_PASSPHRASE}, or add --new-passphrase or --drop-passphrase"
            ))
        })?;
        Some((passphrase, false))
    } else {
        None
    };
    let mut now_opens = Vec::new();
    if let Some((_, new)) = &recovery {
        now_opens.push(if *new {
            "a new recovery key"
        } else {
            "the same recovery key"
        });
    }
    if let Some((_, new)) = &passphrase {
        now_opens.push(if *new {
            "a new passphrase"
        } else {
            "the same passphrase"
        });
    }
    let methods = match (recovery.clone(), passphrase) {
        (Some((key, _)), Some((p, _))) => Methods::RecoveryKeyAndPassphrase(key, p),
        (Some((key, _)), None) => Methods::RecoveryKey(key),
        (None, Some((p, _))) => Methods::Passphrase(p),
        (None, None) => {
            return Err(Fail::new(
                "the backup would open with nothing: keep or set a recovery key or a passphrase",
            ));
        }
    };
    let rekeyed = quietwire::backup::rekey::rekey(
        &prefix,
        secret.unlock(),
        &methods,
        &KdfParams::DEFAULT,
        &DecoderConfig::default(),
        &mut sys::rng(),
    )
    .map_err(|e| Fail::new(format!("cannot re-key the backup ({})", e.class())))?;

    // The new prefix, then every byte after the old header unchanged.
    let mut out = AtomicFile::create(file)?;
    let mut progress = Progress::new("rekey", Some(size));
    let mut input =
        File::open(file).map_err(|e| Fail::new(format!("cannot open {}: {e}", file.display())))?;
    let mut piece = vec![0u8; PIECE];
    let copy = (|| -> std::io::Result<()> {
        let writer = out.writer()?;
        writer.write_all(&rekeyed.prefix)?;
        std::io::copy(
            &mut (&mut input).take(rekeyed.old_header_end),
            &mut std::io::sink(),
        )?;
        loop {
            let n = input.read(&mut piece)?;
            if n == 0 {
                return Ok(());
            }
            writer.write_all(piece.get(..n).unwrap_or_default())?;
            progress.add(n as u64);
        }
    })();
    copy.map_err(|e| Fail::new(format!("cannot write {}: {e}", file.display())))?;
    progress.finish();
    out.commit()?;
    println!(
        "re-keyed {}: it now opens with {}",
        file.display(),
        now_opens.join(" and ")
    );
    if let Some((key, true)) = &recovery {
        show_recovery_key(key);
    }
    eprintln!(
        "re-keying keeps the file's key: whoever could open the file before and kept its key still can; export a new backup to cut them off"
    );
    Ok(())
}
