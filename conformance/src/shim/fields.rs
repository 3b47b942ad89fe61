//! Reading and writing the fields of an operation's arguments and value
//! (spec/16-conformance-shim.md SHIM-03): byte strings as lowercase hex of even length,
//! integers as exact unsigned 64-bit numbers, text, booleans, `null` for an absent optional
//! value; every error names the field.

use serde_json::{Map, Value};

/// Reads the fields of an args or value object, with messages that name what is wrong.
#[derive(Clone, Copy, Debug)]
pub struct Fields<'a>(pub &'a Map<String, Value>);

impl<'a> Fields<'a> {
    /// The fields of `value`, which must be an object (`null` reads as an empty object).
    ///
    /// # Errors
    /// If `value` is not an object.
    pub fn of(value: &'a Value) -> Result<Fields<'a>, String> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        match value {
            Value::Object(map) => Ok(Fields(map)),
            Value::Null => Ok(Fields(EMPTY.get_or_init(Map::new))),
            other => Err(format!("expected an object, got {other}")),
        }
    }

    fn get(&self, name: &str) -> Result<&'a Value, String> {
        self.0
            .get(name)
            .ok_or_else(|| format!("missing field `{name}`"))
    }

    /// A byte string: lowercase hex of even length.
    ///
    /// # Errors
    /// If the field is missing or not lowercase hex.
    pub fn bytes(&self, name: &str) -> Result<Vec<u8>, String> {
        let text = self
            .get(name)?
            .as_str()
            .ok_or_else(|| format!("field `{name}` is not a hex string"))?;
        decode_hex(text).ok_or_else(|| match hex::decode(text) {
            Ok(_) => format!("field `{name}` is not lowercase hex"),
            Err(e) => format!("field `{name}`: {e}"),
        })
    }

    /// A byte string, or `None` if the field is absent or `null`.
    ///
    /// # Errors
    /// If the field is present and not lowercase hex.
    pub fn bytes_opt(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.bytes(name).map(Some),
        }
    }

    /// An unsigned integer.
    ///
    /// # Errors
    /// If the field is missing or not an unsigned 64-bit integer.
    pub fn u64(&self, name: &str) -> Result<u64, String> {
        self.get(name)?
            .as_u64()
            .ok_or_else(|| format!("field `{name}` is not an unsigned integer"))
    }

    /// An unsigned integer, or `None` if the field is absent or `null`.
    ///
    /// # Errors
    /// If the field is present and not an unsigned 64-bit integer.
    pub fn u64_opt(&self, name: &str) -> Result<Option<u64>, String> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.u64(name).map(Some),
        }
    }

    /// A boolean.
    ///
    /// # Errors
    /// If the field is missing or not a boolean.
    pub fn bool(&self, name: &str) -> Result<bool, String> {
        self.get(name)?
            .as_bool()
            .ok_or_else(|| format!("field `{name}` is not a boolean"))
    }

    /// A boolean, or `None` if the field is absent or `null`.
    ///
    /// # Errors
    /// If the field is present and not a boolean.
    pub fn bool_opt(&self, name: &str) -> Result<Option<bool>, String> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.bool(name).map(Some),
        }
    }

    /// A string.
    ///
    /// # Errors
    /// If the field is missing or not a string.
    pub fn str(&self, name: &str) -> Result<&'a str, String> {
        self.get(name)?
            .as_str()
            .ok_or_else(|| format!("field `{name}` is not a string"))
    }

    /// A string, or `None` if the field is absent or `null`.
    ///
    /// # Errors
    /// If the field is present and not a string.
    pub fn str_opt(&self, name: &str) -> Result<Option<&'a str>, String> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.str(name).map(Some),
        }
    }

    /// An array of unsigned integers.
    ///
    /// # Errors
    /// If the field is missing or not such an array.
    pub fn u64_list(&self, name: &str) -> Result<Vec<u64>, String> {
        self.get(name)?
            .as_array()
            .ok_or_else(|| format!("field `{name}` is not an array"))?
            .iter()
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| format!("field `{name}` holds a non-integer"))
            })
            .collect()
    }

    /// An array of hex byte strings.
    ///
    /// # Errors
    /// If the field is missing or not such an array.
    pub fn bytes_list(&self, name: &str) -> Result<Vec<Vec<u8>>, String> {
        self.str_list(name)?
            .iter()
            .map(|t| decode_hex(t).ok_or_else(|| format!("field `{name}` holds a non-hex string")))
            .collect()
    }

    /// An array of strings.
    ///
    /// # Errors
    /// If the field is missing or not such an array.
    pub fn str_list(&self, name: &str) -> Result<Vec<String>, String> {
        self.get(name)?
            .as_array()
            .ok_or_else(|| format!("field `{name}` is not an array"))?
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("field `{name}` holds a non-string"))
            })
            .collect()
    }

    /// A nested object.
    ///
    /// # Errors
    /// If the field is missing or not an object.
    pub fn object(&self, name: &str) -> Result<Fields<'a>, String> {
        match self.get(name)? {
            Value::Object(map) => Ok(Fields(map)),
            _ => Err(format!("field `{name}` is not an object")),
        }
    }
}

/// Lowercase hex, as the protocol writes byte strings.
pub fn hex(bytes: &[u8]) -> Value {
    Value::String(encode_hex(bytes))
}

/// Lowercase hex of `bytes`.
///
/// Byte strings of megabytes (backup files) cross this interface in every run, in process
/// too; plain loops here stay fast in debug builds, where the `hex` crate's generic
/// iterators, compiled into this crate unoptimized, take seconds per file.
pub fn encode_hex(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(2));
    for &b in bytes {
        let (high, low) = (b >> 4, b & 0x0f);
        out.push(if high < 10 {
            b'0' + high
        } else {
            b'a' - 10 + high
        });
        out.push(if low < 10 {
            b'0' + low
        } else {
            b'a' - 10 + low
        });
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The bytes of lowercase hex of even length, `None` for anything else (see [`encode_hex`]).
pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    let mut out = Vec::with_capacity(digits.len() / 2);
    let mut high: Option<u8> = None;
    for &c in digits {
        let n = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        match high.take() {
            None => high = Some(n),
            Some(h) => out.push((h << 4) | n),
        }
    }
    // An odd digit left over: not a byte string.
    high.is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_strict() {
        let v = serde_json::json!({"a": "00ff", "b": "00FF", "n": 3, "t": true, "l": [1, 2]});
        let empty = Map::new();
        let f = Fields::of(&v).unwrap_or(Fields(&empty));
        assert_eq!(f.bytes("a"), Ok(vec![0, 255]));
        assert!(f.bytes("b").is_err_and(|e| e.contains("lowercase")));
        assert!(
            f.bytes("zz")
                .is_err_and(|e| e.contains("missing field `zz`"))
        );
        assert_eq!(f.u64("n"), Ok(3));
        assert_eq!(f.bool("t"), Ok(true));
        assert_eq!(f.u64_list("l"), Ok(vec![1, 2]));
        assert_eq!(f.bytes_opt("none"), Ok(None));
        assert!(f.bytes("t").is_err());
    }

    #[test]
    fn hex_round_trips_and_is_strict() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(encode_hex(&all), hex::encode(&all));
        assert_eq!(decode_hex(&hex::encode(&all)), Some(all));
        assert_eq!(decode_hex(""), Some(Vec::new()));
        for bad in ["0", "0g", "0A", " 00", "000"] {
            assert_eq!(decode_hex(bad), None, "{bad}");
        }
    }
}
