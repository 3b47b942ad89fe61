//! `did:key` encoding of identity keys.
//!
//! Specified in [`spec/03-identity.md`](../../spec/03-identity.md), did:key. An Ed25519
//! identity key is written `did:key:z` followed by the base58btc encoding of the multicodec
//! prefix `0xed 0x01` and the 32 key bytes. Parsing is strict: one canonical string per key.
//!
//! ```
//! use quietwire::did_key;
//! use quietwire::keys::IdentityKeyPair;
//!
//! let key = *IdentityKeyPair::from_seed(&[5; 32]).public();
//! let did = did_key::encode(&key);
//! assert!(did.starts_with("did:key:z6Mk"));
//! assert_eq!(did_key::decode(&did)?, key);
//! # Ok::<(), quietwire::Error>(())
//! ```

use crate::error::{ErrorClass, Result};
use crate::keys::IdentityKey;

/// The scheme and method prefix.
pub const PREFIX: &str = "did:key:";
/// The multicodec prefix of an Ed25519 public key.
pub const ED25519_MULTICODEC: [u8; 2] = [0xed, 0x01];
/// Longest accepted input, in bytes.
pub const MAX_LEN: usize = 128;

/// Encodes an identity key as a `did:key`.
pub fn encode(key: &IdentityKey) -> String {
    let mut raw = Vec::with_capacity(34);
    raw.extend_from_slice(&ED25519_MULTICODEC);
    raw.extend_from_slice(key.as_bytes());
    format!("{PREFIX}z{}", bs58::encode(raw).into_string())
}

/// Decodes and validates a `did:key`.
///
/// # Errors
/// In order: `didkey.length` (over 128 bytes), `didkey.scheme`, `didkey.multibase`,
/// `didkey.base58` (invalid or non-canonical), `didkey.length` (not 34 decoded bytes),
/// `didkey.multicodec`, then the `key.*` classes of [`IdentityKey::from_bytes`].
pub fn decode(did: &str) -> Result<IdentityKey> {
    if did.len() > MAX_LEN {
        return Err(ErrorClass::DidKeyLength.into());
    }
    let rest = did.strip_prefix(PREFIX).ok_or(ErrorClass::DidKeyScheme)?;
    let encoded = rest.strip_prefix('z').ok_or(ErrorClass::DidKeyMultibase)?;
    let raw = bs58::decode(encoded)
        .into_vec()
        .map_err(|_| ErrorClass::DidKeyBase58)?;
    if encoded.is_empty() || bs58::encode(&raw).into_string() != encoded {
        return Err(ErrorClass::DidKeyBase58.into());
    }
    let raw: [u8; 34] = raw.try_into().map_err(|_| ErrorClass::DidKeyLength)?;
    let (codec, key) = raw.split_at(2);
    if codec != ED25519_MULTICODEC {
        return Err(ErrorClass::DidKeyMulticodec.into());
    }
    IdentityKey::from_bytes(&crate::schema::fixed(key)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(did: &str) -> ErrorClass {
        decode(did)
            .map(|_| ())
            .map_err(|e| e.class())
            .err()
            .unwrap_or_else(|| panic!("accepted {did}"))
    }

    #[test]
    fn rejects_each_class() {
        let key = *crate::keys::IdentityKeyPair::from_seed(&[5; 32]).public();
        let did = encode(&key);
        assert_eq!(
            class(&format!("did:web:{}", &did[8..])),
            ErrorClass::DidKeyScheme
        );
        assert_eq!(
            class(&did.replacen(":z", ":m", 1)),
            ErrorClass::DidKeyMultibase
        );
        assert_eq!(
            class(&did.replacen("z6Mk", "z0Mk", 1)),
            ErrorClass::DidKeyBase58
        );
        assert_eq!(class("did:key:z"), ErrorClass::DidKeyBase58);
        assert_eq!(class("did:key:z6Mk"), ErrorClass::DidKeyLength);
        assert_eq!(class(&"x".repeat(129)), ErrorClass::DidKeyLength);
        let mut raw = vec![0xe7, 0x01];
        raw.extend_from_slice(key.as_bytes());
        assert_eq!(
            class(&format!("did:key:z{}", bs58::encode(raw).into_string())),
            ErrorClass::DidKeyMulticodec
        );
    }
}
