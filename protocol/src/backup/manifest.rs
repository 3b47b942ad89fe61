//! The manifest (`XBK-19`): the content of section 8, the chunk count of every section and
//! the digest of the hidden section's bytes, authenticated like every section.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::cbor::{self, Int, Limits, Value};
use crate::error::{ErrorClass, Result};
use crate::schema::Fields;

const LIMITS: Limits = Limits {
    max_input: super::DATA - 1,
    max_depth: 2,
    max_string: 64,
    max_items: 16,
};

/// The decoded manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Manifest {
    /// Chunks of sections 1 to 7.
    pub(crate) chunks: [u64; 7],
    /// `SHA-256(u8(7) ‖ chunk_0 ‖ … ‖ chunk_{n−1})` of the hidden section.
    pub(crate) hidden_digest: [u8; 32],
}

impl Manifest {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let counts = self.chunks.iter().map(|c| Value::uint(*c)).collect();
        cbor::encode(&Value::Map(
            [
                (Int::uint(1), Value::uint(1)),
                (Int::uint(2), Value::Array(counts)),
                (Int::uint(3), Value::Bytes(self.hidden_digest.to_vec())),
            ]
            .into_iter()
            .collect(),
        ))
    }

    /// Decodes the manifest content (structure only).
    ///
    /// # Errors
    /// `cbor.*`, `schema.*`.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Manifest> {
        let mut f = Fields::new(cbor::decode(bytes, &LIMITS)?, &[1, 2, 3])?;
        let items = f.array(2)?;
        if items.len() != 7 {
            return Err(ErrorClass::SchemaLength.into());
        }
        let mut chunks = [0u64; 7];
        for (slot, item) in chunks.iter_mut().zip(items) {
            *slot = match item {
                Value::Int(i) => i.as_u64().ok_or(ErrorClass::SchemaWrongType)?,
                _ => return Err(ErrorClass::SchemaWrongType.into()),
            };
        }
        let hidden_digest = f.bytes_exact::<32>(3)?;
        Ok(Manifest {
            chunks,
            hidden_digest,
        })
    }

    /// Compares with what was read: every count, then the hidden digest (constant time).
    ///
    /// # Errors
    /// `backup.manifest_mismatch`.
    pub(crate) fn check(&self, chunks: &[u64; 7], hidden_digest: &[u8; 32]) -> Result<()> {
        if self.chunks != *chunks || !bool::from(self.hidden_digest.ct_eq(hidden_digest)) {
            return Err(ErrorClass::BackupManifestMismatch.into());
        }
        Ok(())
    }
}

/// The running digest of the hidden section.
#[derive(Clone, Debug, Default)]
pub(crate) struct HiddenDigest(Sha256);

impl HiddenDigest {
    pub(crate) fn start() -> HiddenDigest {
        let mut hasher = Sha256::new();
        hasher.update([super::Section::Hidden.id()]);
        HiddenDigest(hasher)
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub(crate) fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}
