//! Invariant checks: CBOR and `did:key` (spec/01-encoding.md, spec/03-identity.md).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use super::check_class;
use crate::cbor::{self, Limits};
use crate::did_key;

/// Generic canonical CBOR: decode with the default limits; an accepted item re-encodes to
/// the input byte for byte and decodes again to the same value.
pub fn cbor_value(data: &[u8]) -> bool {
    match cbor::decode(data, &Limits::DEFAULT) {
        Ok(value) => {
            let encoded = cbor::encode(&value);
            assert_eq!(encoded, data, "decode -> encode is not the identity");
            assert_eq!(
                cbor::decode(&encoded, &Limits::DEFAULT).as_ref(),
                Ok(&value)
            );
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// `did:key` strings: an accepted string is the one canonical encoding of its key.
pub fn did_key(data: &[u8]) -> bool {
    let Ok(text) = core::str::from_utf8(data) else {
        return false;
    };
    match did_key::decode(text) {
        Ok(key) => {
            assert_eq!(did_key::encode(&key), text, "did:key is not canonical");
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}
