//! Primitives for crafting files that the [`Encoder`](super::Encoder) never writes: headers
//! with edited fields under a correct MAC, chunks with arbitrary content. They exist for the
//! test vectors and tests; an application has no use for them. Anyone holding a file key can
//! compute all of this, so nothing here weakens a file.

use super::chunk::Stream;
use super::keys::{self, FileKey, FileKeys};
use super::{CHUNK, Section};

/// The header MAC of `prefix` (`MAGIC ‖ header_len ‖ header`) under the file key `fk`.
pub fn header_mac(fk: &[u8; 32], file_id: &[u8; 32], prefix: &[u8]) -> [u8; 32] {
    FileKeys::new(&FileKey(*fk), file_id).header_mac(prefix)
}

/// `(check, wrapped)` of a recovery-key (type 1) or passphrase (type 2) entry for the unlock
/// secret `secret` (`XBK-08`).
pub fn wrap(
    fk: &[u8; 32],
    file_id: &[u8; 32],
    secret: &[u8; 32],
    entry_type: u8,
) -> ([u8; 32], [u8; 32]) {
    keys::wrap(&FileKey(*fk), file_id, secret, entry_type)
}

/// Chunk `index` of `section` with the raw plaintext `plain` ([`CHUNK`] bytes: `used`,
/// data, padding). The hidden section's key needs `pin_key` (`PK`).
#[allow(clippy::too_many_arguments)]
pub fn seal_chunk(
    fk: &[u8; 32],
    file_id: &[u8; 32],
    core: &[u8],
    pin_key: &[u8; 32],
    section: Section,
    index: u64,
    last: bool,
    plain: &[u8],
) -> Vec<u8> {
    let keys = FileKeys::new(&FileKey(*fk), file_id);
    let key = match section {
        Section::Hidden => keys.hidden_key(pin_key),
        other => keys.section_key(other),
    };
    let stream = Stream::new(&key, &keys.core_mac(core), section);
    let mut out = vec![0u8; super::CHUNK_CT];
    let mut padded = plain.to_vec();
    padded.resize(CHUNK, 0);
    stream.seal_raw(index, last, &padded, &mut out);
    out
}

/// Argon2id of a PIN as the hidden section's key needs it (`XBK-26`), or of a passphrase.
///
/// # Errors
/// `backup.secret_format`, `backup.kdf_params`.
pub fn pin_key(pin: &str, salt: &[u8; 16], params: &super::KdfParams) -> crate::Result<[u8; 32]> {
    params.check_valid()?;
    let bytes = super::kdf::secret_bytes(pin, super::kdf::MAX_PIN)?;
    Ok(*super::kdf::argon2id(&bytes, salt, params)?)
}
