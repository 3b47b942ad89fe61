//! Unlocking a header (`XBK-13`): the caller's secret and PIN, in the spec's order, up to
//! the verified header MAC and the hidden section's key. All KDF work of a decoding is done
//! here, after the whole header checked and before any section byte is read.

use super::header::Header;
use super::kdf::{self, KdfCaps, MAX_PASSPHRASE, MAX_PIN};
use super::keys::{self, FileKeys, Key, TYPE_PASSPHRASE, TYPE_RECOVERY};
use super::{RecoveryKey, Unlock};
use crate::error::{ErrorClass, Result};

/// What unlocking yields: the file's keys, `core_mac`, and the hidden key if a PIN was given.
pub(crate) struct Unlocked {
    pub(crate) keys: FileKeys,
    pub(crate) core_mac: [u8; 32],
    pub(crate) hidden_key: Option<Key>,
}

/// Runs steps 1 to 6 of `XBK-13` for a header whose MAC bytes are `mac`. `kdf_runs` counts
/// the Argon2id evaluations, so tests can prove the caps refused before any work.
///
/// # Errors
/// `backup.recovery_key_format`, `backup.recovery_key_checksum`, `backup.secret_format`,
/// `backup.no_entry`, `backup.kdf_cap`, `backup.no_match`, `hpke.decapsulation`,
/// `backup.header_mac`, in that order.
pub(crate) fn unlock(
    header: &Header,
    mac: &[u8],
    secret: &Unlock,
    pin: Option<&str>,
    caps: &KdfCaps,
    kdf_runs: &mut u32,
) -> Result<Unlocked> {
    // 1. The secret's own format, then the PIN's.
    let recovery = match secret {
        Unlock::RecoveryKey(text) => Some(RecoveryKey::parse(text)?),
        _ => None,
    };
    let passphrase = match secret {
        Unlock::Passphrase(text) => Some(kdf::secret_bytes(text, MAX_PASSPHRASE)?),
        _ => None,
    };
    let pin = pin.map(|p| kdf::secret_bytes(p, MAX_PIN)).transpose()?;
    let entries = &header.entries;
    let file_id = &header.file_id;
    let fk = match secret {
        Unlock::RecoveryKey(_) => {
            // 2., then 4.
            let entry = entries.recovery.as_ref().ok_or(ErrorClass::BackupNoEntry)?;
            let key = recovery.ok_or(ErrorClass::BackupNoEntry)?;
            keys::unwrap(
                file_id,
                key.dangerous_bytes(),
                TYPE_RECOVERY,
                &entry.check,
                &entry.wrapped,
            )?
        }
        Unlock::Passphrase(_) => {
            let entry = entries
                .passphrase
                .as_ref()
                .ok_or(ErrorClass::BackupNoEntry)?;
            let passphrase = passphrase.ok_or(ErrorClass::BackupNoEntry)?;
            // 3. Caps before any work.
            caps.check(&entry.params)?;
            *kdf_runs = kdf_runs.saturating_add(1);
            let u = kdf::argon2id(&passphrase, &entry.salt, &entry.params)?;
            keys::unwrap(
                file_id,
                &u,
                TYPE_PASSPHRASE,
                &entry.wrap.check,
                &entry.wrap.wrapped,
            )?
        }
        Unlock::Transfer(pair) => {
            let entry = entries.transfer.as_ref().ok_or(ErrorClass::BackupNoEntry)?;
            if pair.public().suite() != entry.suite {
                return Err(ErrorClass::BackupNoMatch.into());
            }
            keys::open_transfer(pair, file_id, &entry.enc, &entry.ct)?
        }
    };
    // 5. The header MAC, over the received prefix.
    let file_keys = FileKeys::new(&fk, file_id);
    file_keys.verify_header_mac(&header.prefix(), mac)?;
    // 6. The PIN, with parameters the MAC just authenticated.
    let hidden_key = match pin {
        Some(pin) => {
            caps.check(&header.pin_kdf)?;
            *kdf_runs = kdf_runs.saturating_add(1);
            let pk = kdf::argon2id(&pin, &header.pin_salt, &header.pin_kdf)?;
            Some(file_keys.hidden_key(&pk))
        }
        None => None,
    };
    let core_mac = file_keys.core_mac(&header.core);
    Ok(Unlocked {
        keys: file_keys,
        core_mac,
        hidden_key,
    })
}
