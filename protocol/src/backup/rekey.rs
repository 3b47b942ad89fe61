//! Re-keying (`XBK-31`): changing the passphrase, or adding or removing the recovery key or
//! the passphrase, rewrites only the header. The core, the file key and every byte after the
//! old header MAC stay as they are, so the caller writes the new prefix and then copies the
//! old file from [`Rekeyed::old_header_end`] on.

use rand_core::CryptoRng;

use super::decoder::{Decoder, DecoderConfig};
use super::header::{self, Entries, PassphraseEntry, Wrap};
use super::kdf::{self, KdfCaps, KdfParams, MAX_PASSPHRASE, SALT_LEN};
use super::keys::{self, FileKeys, TYPE_PASSPHRASE, TYPE_RECOVERY};
use super::{MAC_LEN, Methods, Unlock};
use crate::error::{ErrorClass, Result};

/// The result of [`rekey`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rekeyed {
    /// `MAGIC ‖ header_len ‖ header ‖ header_mac` of the new file.
    pub prefix: Vec<u8>,
    /// Where the old file's sections begin: copy from here to the end unchanged.
    pub old_header_end: u64,
}

/// Unlocks the file whose prefix (through the header MAC) is `old_prefix` with `secret`
/// (all of `XBK-13`), and writes a header with the unlock entries of `methods`, drawing only
/// a new passphrase salt.
///
/// # Errors
/// The classes of the prefix and of unlocking; `backup.unlock_set` for a transfer entry
/// (a transfer is always a fresh export); `backup.secret_format`, `backup.kdf_params` and
/// `backup.kdf_cap` for the new passphrase and its parameters.
pub fn rekey<R: CryptoRng + ?Sized>(
    old_prefix: &[u8],
    secret: Unlock,
    methods: &Methods,
    passphrase_kdf: &KdfParams,
    config: &DecoderConfig,
    rng: &mut R,
) -> Result<Rekeyed> {
    let mut decoder = Decoder::new(*config);
    decoder.unlock(secret, None)?;
    let mut rest = old_prefix;
    while !rest.is_empty() {
        let n = decoder.push(rest)?;
        rest = rest.get(n..).unwrap_or_default();
        while decoder.poll_event().is_some() {}
        if n == 0 {
            break;
        }
    }
    let (old, unlocked) = decoder.prefix_unlocked()?;
    let (recovery, passphrase) = match methods {
        Methods::RecoveryKey(k) => (Some(k), None),
        Methods::Passphrase(p) => (None, Some(p)),
        Methods::RecoveryKeyAndPassphrase(k, p) => (Some(k), Some(p)),
        Methods::Transfer(_) => return Err(ErrorClass::BackupUnlockSet.into()),
    };
    let passphrase = passphrase
        .map(|p| kdf::secret_bytes(p, MAX_PASSPHRASE))
        .transpose()?;
    let fk = unlocked.keys.file_key();
    let file_id = &old.file_id;
    let mut entries = Entries::default();
    if let Some(key) = recovery {
        let (check, wrapped) = keys::wrap(fk, file_id, key.dangerous_bytes(), TYPE_RECOVERY);
        entries.recovery = Some(Wrap { check, wrapped });
    }
    if let Some(passphrase) = passphrase {
        passphrase_kdf.check_valid()?;
        KdfCaps::SPEC.check(passphrase_kdf)?;
        let mut salt = [0u8; SALT_LEN];
        rng.fill_bytes(&mut salt);
        let u = kdf::argon2id(&passphrase, &salt, passphrase_kdf)?;
        let (check, wrapped) = keys::wrap(fk, file_id, &u, TYPE_PASSPHRASE);
        entries.passphrase = Some(PassphraseEntry {
            salt,
            params: *passphrase_kdf,
            wrap: Wrap { check, wrapped },
        });
    }
    let mut prefix = header::prefix(&header::encode_header(&old.core, &entries));
    let mac = FileKeys::new(fk, file_id).header_mac(&prefix);
    prefix.extend_from_slice(&mac);
    Ok(Rekeyed {
        prefix,
        old_header_end: (8 + old.as_bytes().len() + MAC_LEN) as u64,
    })
}
