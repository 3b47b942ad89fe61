//! The key schedule of a file (`XBK-07`), the key-committing wrap of recovery-key and
//! passphrase entries (`XBK-08`) and the HPKE transfer entry (`XBK-12`).

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use rand_core::CryptoRng;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::Section;
use crate::error::{ErrorClass, Result};
use crate::hpke;
use crate::keys::{KemPublicKey, KemSecret};
use crate::label::Label;

/// A 32-byte key, wiped on drop.
pub(crate) type Key = Zeroizing<[u8; 32]>;

/// Unlock entry types (`XBK-06`).
pub(crate) const TYPE_RECOVERY: u8 = 1;
pub(crate) const TYPE_PASSPHRASE: u8 = 2;

/// The file key `FK`. Zeroized on drop, never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct FileKey(pub(crate) [u8; 32]);

impl core::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("FileKey(..)")
    }
}

fn hkdf32(salt: &[u8], ikm: &[u8], info: &[u8]) -> Key {
    let mut out = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's output limit: expansion cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(salt), ikm).expand(info, out.as_mut());
    out
}

fn hmac(key: &[u8; 32], input: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(input);
    mac.finalize().into_bytes().into()
}

/// The keys derived from `FK` and `file_id`.
pub(crate) struct FileKeys {
    mac: Key,
    fk: FileKey,
    file_id: [u8; 32],
}

impl FileKeys {
    pub(crate) fn new(fk: &FileKey, file_id: &[u8; 32]) -> FileKeys {
        FileKeys {
            mac: hkdf32(file_id, &fk.0, &Label::XbkMacKey.input(&[])),
            fk: fk.clone(),
            file_id: *file_id,
        }
    }

    /// The file key itself (re-keying wraps it again).
    pub(crate) fn file_key(&self) -> &FileKey {
        &self.fk
    }

    /// `HMAC(K_mac, LI("quietwire/v1/xbk-header", prefix))`.
    pub(crate) fn header_mac(&self, prefix: &[u8]) -> [u8; 32] {
        hmac(&self.mac, &Label::XbkHeader.input(&[prefix]))
    }

    /// Constant-time check of a received header MAC.
    pub(crate) fn verify_header_mac(&self, prefix: &[u8], received: &[u8]) -> Result<()> {
        if bool::from(self.header_mac(prefix).ct_eq(received)) {
            Ok(())
        } else {
            Err(ErrorClass::BackupHeaderMac.into())
        }
    }

    /// `HMAC(K_mac, LI("quietwire/v1/xbk-core", core))`.
    pub(crate) fn core_mac(&self, core: &[u8]) -> [u8; 32] {
        hmac(&self.mac, &Label::XbkCore.input(&[core]))
    }

    /// `K_sec(s)` for every section but the hidden one.
    pub(crate) fn section_key(&self, section: Section) -> Key {
        hkdf32(
            &self.file_id,
            &self.fk.0,
            &Label::XbkSectionKey.input(&[&[section.id()]]),
        )
    }

    /// `K_sec(7)` from `FK ‖ PK`.
    pub(crate) fn hidden_key(&self, pin_key: &[u8; 32]) -> Key {
        let mut ikm = Zeroizing::new([0u8; 64]);
        let (a, b) = ikm.split_at_mut(32);
        a.copy_from_slice(&self.fk.0);
        b.copy_from_slice(pin_key);
        hkdf32(&self.file_id, ikm.as_ref(), &Label::XbkHiddenKey.input(&[]))
    }
}

/// `check ‖ pad = HKDF(file_id, U, LI("quietwire/v1/xbk-unlock", u8(T)), 64)`.
fn unlock_okm(file_id: &[u8; 32], secret: &[u8; 32], entry_type: u8) -> Zeroizing<[u8; 64]> {
    let mut okm = Zeroizing::new([0u8; 64]);
    let _ = Hkdf::<Sha256>::new(Some(file_id), secret)
        .expand(&Label::XbkUnlock.input(&[&[entry_type]]), okm.as_mut());
    okm
}

fn split(okm: &[u8; 64]) -> ([u8; 32], Key) {
    let mut check = [0u8; 32];
    let mut pad = Zeroizing::new([0u8; 32]);
    let (a, b) = okm.split_at(32);
    check.copy_from_slice(a);
    pad.copy_from_slice(b);
    (check, pad)
}

/// Wraps `FK` for an entry of type `entry_type`: `(check, wrapped)`.
pub(crate) fn wrap(
    fk: &FileKey,
    file_id: &[u8; 32],
    secret: &[u8; 32],
    entry_type: u8,
) -> ([u8; 32], [u8; 32]) {
    let (check, pad) = split(&unlock_okm(file_id, secret, entry_type));
    let mut wrapped = [0u8; 32];
    for ((w, f), p) in wrapped.iter_mut().zip(fk.0.iter()).zip(pad.iter()) {
        *w = f ^ p;
    }
    (check, wrapped)
}

/// Unwraps `FK` after a constant-time comparison of `check`.
///
/// # Errors
/// `backup.no_match` if the secret is not the entry's.
pub(crate) fn unwrap(
    file_id: &[u8; 32],
    secret: &[u8; 32],
    entry_type: u8,
    check: &[u8; 32],
    wrapped: &[u8; 32],
) -> Result<FileKey> {
    let (expected, pad) = split(&unlock_okm(file_id, secret, entry_type));
    if !bool::from(expected.ct_eq(check)) {
        return Err(ErrorClass::BackupNoMatch.into());
    }
    let mut fk = FileKey([0u8; 32]);
    for ((f, w), p) in fk.0.iter_mut().zip(wrapped.iter()).zip(pad.iter()) {
        *f = w ^ p;
    }
    Ok(fk)
}

fn transfer_info(file_id: &[u8; 32]) -> (Vec<u8>, Vec<u8>) {
    (
        Label::XbkTransferInfo.input(&[file_id]),
        Label::XbkTransferAad.input(&[file_id]),
    )
}

/// Seals `FK` to a new device's transfer key: `(enc, ct)`.
///
/// # Errors
/// As [`hpke::Sender::setup`] (never for a validated key).
pub(crate) fn seal_transfer<R: CryptoRng + ?Sized>(
    fk: &FileKey,
    file_id: &[u8; 32],
    recipient: &KemPublicKey,
    rng: &mut R,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let (info, aad) = transfer_info(file_id);
    let sender = hpke::Sender::setup(recipient, &info, rng)?;
    let enc = sender.enc().to_vec();
    Ok((enc, sender.seal(&aad, &fk.0)))
}

/// Opens a transfer entry with the new device's key pair (`XBK-12`).
///
/// # Errors
/// `hpke.decapsulation` if the KEM rejects `enc`; `backup.no_match` if the entry does not
/// open.
pub(crate) fn open_transfer(
    recipient: &KemSecret,
    file_id: &[u8; 32],
    enc: &[u8],
    ct: &[u8],
) -> Result<FileKey> {
    let (info, aad) = transfer_info(file_id);
    let opened = hpke::open(recipient, enc, &info, &aad, ct, &[]).map_err(|e| {
        if e.class() == ErrorClass::HpkeDecapsulation {
            e
        } else {
            ErrorClass::BackupNoMatch.into()
        }
    })?;
    let bytes: [u8; 32] = opened
        .plaintext()
        .try_into()
        .map_err(|_| ErrorClass::BackupNoMatch)?;
    Ok(FileKey(bytes))
}
