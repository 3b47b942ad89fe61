//! The decoded CBOR data model.

use std::collections::BTreeMap;

/// A CBOR integer in the range −2⁶⁴ ..= 2⁶⁴−1 (major types 0 and 1).
///
/// The derived ordering is the canonical map-key order of RFC 8949 §4.2.1: all non-negative
/// integers ascending, then all negative integers by ascending magnitude (−1, −2, ...),
/// which is exactly the bytewise order of their shortest encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Int {
    negative: bool,
    /// The head argument: the value itself, or `-1 - value` when negative.
    arg: u64,
}

impl Int {
    /// A non-negative integer.
    pub const fn uint(value: u64) -> Self {
        Int {
            negative: false,
            arg: value,
        }
    }

    /// The negative integer `-1 - arg` (CBOR major type 1 with argument `arg`).
    pub const fn nint(arg: u64) -> Self {
        Int {
            negative: true,
            arg,
        }
    }

    /// Whether the integer is negative.
    pub const fn is_negative(self) -> bool {
        self.negative
    }

    /// The head argument of the encoding.
    pub const fn arg(self) -> u64 {
        self.arg
    }

    /// The value, if it is non-negative.
    pub const fn as_u64(self) -> Option<u64> {
        if self.negative { None } else { Some(self.arg) }
    }

    /// The value as an `i128` (always exact).
    pub const fn as_i128(self) -> i128 {
        if self.negative {
            -1 - self.arg as i128
        } else {
            self.arg as i128
        }
    }
}

impl From<u64> for Int {
    fn from(value: u64) -> Self {
        Int::uint(value)
    }
}

impl From<i64> for Int {
    fn from(value: i64) -> Self {
        if value < 0 {
            // -1 - value is in 0 ..= i64::MAX for every negative value.
            Int::nint(value.unsigned_abs() - 1)
        } else {
            Int::uint(value.unsigned_abs())
        }
    }
}

/// A decoded CBOR item of the Quietwire subset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// An integer (major type 0 or 1).
    Int(Int),
    /// A byte string (major type 2).
    Bytes(Vec<u8>),
    /// A UTF-8 text string (major type 3).
    Text(String),
    /// An array (major type 4).
    Array(Vec<Value>),
    /// A map with integer keys (major type 5), kept in canonical key order.
    Map(BTreeMap<Int, Value>),
    /// `false` or `true` (simple values 20 and 21).
    Bool(bool),
}

impl Value {
    /// A non-negative integer value.
    pub const fn uint(value: u64) -> Value {
        Value::Int(Int::uint(value))
    }

    /// Short name of the item's type, for diagnostics.
    pub const fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Bytes(_) => "bstr",
            Value::Text(_) => "tstr",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Bool(_) => "bool",
        }
    }
}

impl From<&[u8]> for Value {
    fn from(bytes: &[u8]) -> Self {
        Value::Bytes(bytes.to_vec())
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_owned())
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Bool(value)
    }
}

impl From<u64> for Value {
    fn from(value: u64) -> Self {
        Value::uint(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_order_is_canonical_key_order() {
        let mut keys = [
            Int::from(-1i64),
            Int::uint(24),
            Int::uint(0),
            Int::from(-25i64),
            Int::uint(23),
        ];
        keys.sort();
        let values: Vec<i128> = keys.iter().map(|k| k.as_i128()).collect();
        assert_eq!(values, [0, 23, 24, -1, -25]);
    }

    #[test]
    fn i64_conversion_is_exact() {
        assert_eq!(Int::from(i64::MIN).as_i128(), i128::from(i64::MIN));
        assert_eq!(Int::from(-1i64), Int::nint(0));
        assert_eq!(Int::from(5i64), Int::uint(5));
    }
}
