//! Building CBOR byte by byte, including the non-canonical forms the invalid vectors need.

use quietwire::cbor::{self, Value};

/// A head with the shortest argument.
pub fn head(major: u8, arg: u64) -> Vec<u8> {
    cbor::encode(&if major == 1 {
        Value::Int(quietwire::cbor::Int::nint(arg))
    } else {
        // Encode an unsigned integer and patch the major type.
        Value::uint(arg)
    })
    .into_iter()
    .enumerate()
    .map(|(i, b)| if i == 0 { (b & 0x1f) | (major << 5) } else { b })
    .collect()
}

/// A head whose argument uses `width` bytes (1, 2, 4 or 8) even if shorter would do.
pub fn wide_head(major: u8, arg: u64, width: usize) -> Vec<u8> {
    let ai = match width {
        1 => 24,
        2 => 25,
        4 => 26,
        _ => 27,
    };
    let mut out = vec![(major << 5) | ai];
    let bytes = arg.to_be_bytes();
    out.extend_from_slice(bytes.get(8 - width.min(8)..).unwrap_or(&bytes));
    out
}

/// A byte string item.
pub fn bstr(bytes: &[u8]) -> Vec<u8> {
    cbor::encode(&Value::from(bytes))
}

/// A text string item.
pub fn tstr(text: &str) -> Vec<u8> {
    cbor::encode(&Value::from(text))
}

/// A map whose entries are emitted exactly in the given order, with a canonical count head.
pub fn map(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = head(5, entries.len() as u64);
    for (key, value) in entries {
        out.extend_from_slice(key);
        out.extend_from_slice(value);
    }
    out
}

/// An array of already-encoded items.
pub fn array(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = head(4, items.len() as u64);
    for item in items {
        out.extend_from_slice(item);
    }
    out
}

/// The encoding of an integer key.
pub fn key(k: i64) -> Vec<u8> {
    cbor::encode(&Value::Int(k.into()))
}
