//! The strict decoder: accepts deterministic CBOR of the Quietwire subset and nothing else.
//!
//! Checks run in the order given by the spec's decoding algorithm, so an input with several
//! faults always reports the same class in every conforming implementation.

use std::collections::BTreeMap;

use super::value::{Int, Value};
use crate::error::{Error, ErrorClass, Result};

/// The deepest nesting any decoder accepts, whatever its [`Limits::max_depth`] says
/// (**[ENC-08]**): the decoder recurses once per level, so the depth is bounded by a constant
/// rather than by a caller's argument.
pub const MAX_DEPTH: usize = 64;

/// Size and depth limits applied while decoding, before any allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Maximum length in bytes of the whole input.
    pub max_input: usize,
    /// Maximum nesting depth; the top-level item is at depth 1. Values above [`MAX_DEPTH`]
    /// act as [`MAX_DEPTH`].
    pub max_depth: usize,
    /// Maximum length in bytes of one byte or text string.
    pub max_string: u64,
    /// Maximum number of items in one array, or of pairs in one map.
    pub max_items: u64,
}

impl Limits {
    /// Limits of the generic decoder (spec: encoding, default limits).
    pub const DEFAULT: Limits = Limits {
        max_input: 65_536,
        max_depth: 16,
        max_string: 65_536,
        max_items: 1_024,
    };

    /// The same limits with a different maximum input length.
    pub const fn with_max_input(self, max_input: usize) -> Limits {
        Limits { max_input, ..self }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Decodes exactly one deterministic-CBOR item that spans all of `input`.
///
/// # Errors
/// A `cbor.*` class for any input that is not the canonical encoding of one item within
/// `limits`; the error carries the offset of the offending byte.
pub fn decode(input: &[u8], limits: &Limits) -> Result<Value> {
    if input.len() > limits.max_input {
        return Err(Error::at(ErrorClass::CborLimitInput, limits.max_input));
    }
    let mut reader = Reader {
        input,
        pos: 0,
        limits,
    };
    let value = reader.item(1)?;
    if reader.pos != input.len() {
        return Err(Error::at(ErrorClass::CborTrailing, reader.pos));
    }
    Ok(value)
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    limits: &'a Limits,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.input.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(Error::at(ErrorClass::CborTruncated, self.pos))?;
        let bytes = self
            .input
            .get(self.pos..end)
            .ok_or(Error::at(ErrorClass::CborTruncated, self.input.len()))?;
        self.pos = end;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<u8> {
        let byte = *self
            .input
            .get(self.pos)
            .ok_or(Error::at(ErrorClass::CborTruncated, self.pos))?;
        self.pos += 1;
        Ok(byte)
    }

    /// Reads the head argument for additional information `ai` (< 28) and enforces the
    /// shortest form.
    fn argument(&mut self, ai: u8, start: usize) -> Result<u64> {
        let (value, min) = match ai {
            0..=23 => return Ok(u64::from(ai)),
            24 => (u64::from(self.byte()?), 24),
            25 => (u64::from(u16::from_be_bytes(self.array()?)), 0x100),
            26 => (u64::from(u32::from_be_bytes(self.array()?)), 0x1_0000),
            _ => (u64::from_be_bytes(self.array()?), 0x1_0000_0000),
        };
        if value < min {
            return Err(Error::at(ErrorClass::CborNonMinimal, start));
        }
        Ok(value)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn item(&mut self, depth: usize) -> Result<Value> {
        let start = self.pos;
        let initial = self.byte()?;
        let major = initial >> 5;
        let ai = initial & 0x1f;
        match ai {
            28..=30 => return Err(Error::at(ErrorClass::CborAdditionalInfo, start)),
            31 => {
                let class = match major {
                    2..=5 => ErrorClass::CborIndefinite,
                    7 => ErrorClass::CborBreak,
                    _ => ErrorClass::CborAdditionalInfo,
                };
                return Err(Error::at(class, start));
            }
            _ => {}
        }
        match major {
            7 => {
                return match ai {
                    20 => Ok(Value::Bool(false)),
                    21 => Ok(Value::Bool(true)),
                    25..=27 => Err(Error::at(ErrorClass::CborFloat, start)),
                    _ => Err(Error::at(ErrorClass::CborSimple, start)),
                };
            }
            6 => return Err(Error::at(ErrorClass::CborTag, start)),
            _ => {}
        }
        let arg = self.argument(ai, start)?;
        match major {
            0 => Ok(Value::Int(Int::uint(arg))),
            1 => Ok(Value::Int(Int::nint(arg))),
            2 | 3 => {
                if arg > self.limits.max_string {
                    return Err(Error::at(ErrorClass::CborLimitSize, start));
                }
                let len = usize::try_from(arg)
                    .map_err(|_| Error::at(ErrorClass::CborTruncated, start))?;
                if len > self.remaining() {
                    return Err(Error::at(ErrorClass::CborTruncated, self.input.len()));
                }
                let content_start = self.pos;
                let bytes = self.take(len)?;
                if major == 2 {
                    Ok(Value::Bytes(bytes.to_vec()))
                } else {
                    let text = core::str::from_utf8(bytes).map_err(|e| {
                        Error::at(ErrorClass::CborUtf8, content_start + e.valid_up_to())
                    })?;
                    Ok(Value::Text(text.to_owned()))
                }
            }
            4 => {
                let count = self.container(arg, 1, depth, start)?;
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    items.push(self.item(depth + 1)?);
                }
                Ok(Value::Array(items))
            }
            _ => {
                let count = self.container(arg, 2, depth, start)?;
                let mut map = BTreeMap::new();
                let mut previous: Option<Int> = None;
                for _ in 0..count {
                    let key_start = self.pos;
                    let key = match self.item(depth + 1)? {
                        Value::Int(key) => key,
                        _ => return Err(Error::at(ErrorClass::CborKeyType, key_start)),
                    };
                    if let Some(prev) = previous {
                        if key == prev {
                            return Err(Error::at(ErrorClass::CborDuplicateKey, key_start));
                        }
                        if key < prev {
                            return Err(Error::at(ErrorClass::CborKeyOrder, key_start));
                        }
                    }
                    previous = Some(key);
                    let value = self.item(depth + 1)?;
                    map.insert(key, value);
                }
                Ok(Value::Map(map))
            }
        }
    }

    /// Validates a container header: depth, declared count against the limit and against
    /// the bytes left (each item needs at least one byte), before anything is allocated.
    fn container(
        &self,
        count: u64,
        bytes_per_entry: u64,
        depth: usize,
        start: usize,
    ) -> Result<usize> {
        if depth > self.limits.max_depth.min(MAX_DEPTH) {
            return Err(Error::at(ErrorClass::CborLimitDepth, start));
        }
        if count > self.limits.max_items {
            return Err(Error::at(ErrorClass::CborLimitSize, start));
        }
        let needed = count.saturating_mul(bytes_per_entry);
        if needed > self.remaining() as u64 {
            return Err(Error::at(ErrorClass::CborTruncated, self.input.len()));
        }
        usize::try_from(count).map_err(|_| Error::at(ErrorClass::CborTruncated, start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cbor::encode;

    /// ENC-08: a caller's depth limit above `MAX_DEPTH` cannot make the recursive decoder
    /// overflow its stack (this input crashed the decoder when the caller's limit applied
    /// unbounded).
    #[test]
    fn depth_is_capped_whatever_the_caller_asks() {
        let mut input = vec![0x81u8; 5000];
        input.push(0x00);
        let limits = Limits {
            max_input: 1 << 20,
            max_depth: 100_000,
            max_string: 1 << 20,
            max_items: 1 << 20,
        };
        let err = decode(&input, &limits).unwrap_err();
        assert_eq!(err.class(), ErrorClass::CborLimitDepth);
        // MAX_DEPTH nested arrays decode; one more does not.
        let mut deepest = vec![0x81u8; MAX_DEPTH];
        deepest.push(0x00);
        assert!(decode(&deepest, &limits).is_ok());
        let mut over = vec![0x81u8; MAX_DEPTH + 1];
        over.push(0x00);
        assert_eq!(
            decode(&over, &limits).unwrap_err().class(),
            ErrorClass::CborLimitDepth
        );
    }

    fn class(input: &[u8]) -> ErrorClass {
        match decode(input, &Limits::DEFAULT) {
            Ok(v) => panic!("accepted {input:02x?} as {v:?}"),
            Err(e) => e.class(),
        }
    }

    #[test]
    fn accepts_and_round_trips_canonical_items() {
        let cases: &[&[u8]] = &[
            &[0x00],
            &[0x17],
            &[0x18, 0x18],
            &[0x20],
            &[0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0x40],
            &[0x62, 0xc3, 0xa9],
            &[0x80],
            &[0x82, 0x01, 0x82, 0x02, 0x03],
            &[0xa0],
            &[0xa3, 0x00, 0xf4, 0x18, 0x18, 0xf5, 0x20, 0x60],
        ];
        for case in cases {
            let value =
                decode(case, &Limits::DEFAULT).unwrap_or_else(|e| panic!("{case:02x?}: {e}"));
            assert_eq!(encode(&value), *case);
        }
    }

    #[test]
    fn rejects_each_non_canonical_class() {
        assert_eq!(class(&[]), ErrorClass::CborTruncated);
        assert_eq!(class(&[0x18]), ErrorClass::CborTruncated);
        assert_eq!(class(&[0x42, 0x00]), ErrorClass::CborTruncated);
        assert_eq!(class(&[0x00, 0x00]), ErrorClass::CborTrailing);
        assert_eq!(class(&[0x18, 0x17]), ErrorClass::CborNonMinimal);
        assert_eq!(class(&[0x19, 0x00, 0xff]), ErrorClass::CborNonMinimal);
        assert_eq!(class(&[0x5f, 0xff]), ErrorClass::CborIndefinite);
        assert_eq!(
            class(&[0xa2, 0x02, 0x00, 0x01, 0x00]),
            ErrorClass::CborKeyOrder
        );
        assert_eq!(
            class(&[0xa2, 0x01, 0x00, 0x01, 0x00]),
            ErrorClass::CborDuplicateKey
        );
        assert_eq!(
            class(&[0xa2, 0x20, 0x00, 0x01, 0x00]),
            ErrorClass::CborKeyOrder
        );
        assert_eq!(class(&[0xc1, 0x00]), ErrorClass::CborTag);
        assert_eq!(class(&[0xf9, 0x00, 0x00]), ErrorClass::CborFloat);
        assert_eq!(class(&[0xf6]), ErrorClass::CborSimple);
        assert_eq!(class(&[0xa1, 0x40, 0x00]), ErrorClass::CborKeyType);
        assert_eq!(class(&[0x1c]), ErrorClass::CborAdditionalInfo);
        assert_eq!(class(&[0x1f]), ErrorClass::CborAdditionalInfo);
        assert_eq!(class(&[0xff]), ErrorClass::CborBreak);
        assert_eq!(class(&[0x61, 0xff]), ErrorClass::CborUtf8);
    }

    #[test]
    fn limits_are_checked_before_allocation() {
        // A 2^64-1 element array in 9 bytes: rejected by the item limit, nothing allocated.
        assert_eq!(
            class(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            ErrorClass::CborLimitSize
        );
        // Within the item limit but longer than the input.
        assert_eq!(class(&[0x99, 0x03, 0xff]), ErrorClass::CborTruncated);
        let deep: Vec<u8> = std::iter::repeat_n(0x81, 16).chain([0x00]).collect();
        assert!(decode(&deep, &Limits::DEFAULT).is_ok());
        let too_deep: Vec<u8> = std::iter::repeat_n(0x81, 17).chain([0x00]).collect();
        assert_eq!(class(&too_deep), ErrorClass::CborLimitDepth);
        let small = Limits::DEFAULT.with_max_input(2);
        assert_eq!(
            decode(&[0x00, 0x00, 0x00], &small).map_err(|e| e.class()),
            Err(ErrorClass::CborLimitInput)
        );
    }
}
