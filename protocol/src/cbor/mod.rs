//! Deterministic CBOR: the strict subset every Quietwire structure is encoded in.
//!
//! Specified in [`spec/01-encoding.md`](../../spec/01-encoding.md). The data model is a
//! subset of RFC 8949: unsigned and negative integers, byte strings, UTF-8 text strings,
//! arrays, maps with integer keys, and the booleans. Encoding follows the core deterministic
//! rules of RFC 8949 §4.2.1 (shortest heads, definite lengths, keys sorted by their encoded
//! bytes). The decoder accepts *only* that encoding, so `decode` then `encode` reproduces the
//! input byte for byte, and it checks every declared size against [`Limits`] and against the
//! remaining input *before* allocating.
//!
//! General-purpose CBOR crates decode liberally (non-minimal heads, unsorted keys, indefinite
//! lengths); signatures and MACs over such inputs become ambiguous, so this module checks
//! canonical form while it parses rather than after.
//!
//! ```
//! use quietwire::cbor::{self, Limits, Value};
//!
//! let bytes = [0xa2, 0x01, 0x01, 0x20, 0x43, 0x61, 0x62, 0x63]; // {1: 1, -1: h'616263'}
//! let value = cbor::decode(&bytes, &Limits::DEFAULT)?;
//! assert_eq!(cbor::encode(&value), bytes);
//!
//! // The same map with its keys in the wrong order is rejected.
//! let unsorted = [0xa2, 0x20, 0x43, 0x61, 0x62, 0x63, 0x01, 0x01];
//! let err = cbor::decode(&unsorted, &Limits::DEFAULT).unwrap_err();
//! assert_eq!(err.class().as_str(), "cbor.noncanonical.key_order");
//! # Ok::<(), quietwire::Error>(())
//! ```

mod decode;
mod encode;
mod value;

pub use decode::{Limits, MAX_DEPTH, decode};
pub use encode::{encode, encode_into};
pub use value::{Int, Value};
