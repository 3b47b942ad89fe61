//! The structure layer above [`crate::cbor`]: typed access to integer-keyed maps with the
//! spec's rules for versions, critical and extension keys, and exact error classes
//! (spec/01-encoding.md, structures).

use std::collections::BTreeMap;

use crate::cbor::{Int, Value};
use crate::error::{ErrorClass, Result};

/// The only structure version defined so far.
pub(crate) const VERSION: u64 = 1;
const VERSION_KEY: u64 = 1;

/// The fields of a decoded map, consumed one by one in ascending key order.
pub(crate) struct Fields {
    map: BTreeMap<Int, Value>,
}

impl Fields {
    /// Checks that `value` is a map of the current version whose non-negative keys are all in
    /// `known` (which must include the version key 1).
    pub(crate) fn new(value: Value, known: &[u64]) -> Result<Fields> {
        let (_, fields) = Fields::of_versions(value, &[(VERSION, known)])?;
        Ok(fields)
    }

    /// Like [`Fields::new`] for a structure with several defined versions, each with its
    /// own keys: the version read, and the fields.
    pub(crate) fn versions(value: Value, versions: &[(u64, &[u64])]) -> Result<(u64, Fields)> {
        Fields::of_versions(value, versions)
    }

    fn of_versions(value: Value, versions: &[(u64, &[u64])]) -> Result<(u64, Fields)> {
        let Value::Map(map) = value else {
            return Err(ErrorClass::SchemaWrongType.into());
        };
        let mut fields = Fields { map };
        let version = fields.uint(VERSION_KEY)?;
        let Some((_, known)) = versions.iter().find(|(v, _)| *v == version) else {
            return Err(ErrorClass::SchemaVersion.into());
        };
        if fields
            .map
            .keys()
            .any(|k| k.as_u64().is_some_and(|k| !known.contains(&k)))
        {
            return Err(ErrorClass::SchemaUnknownCritical.into());
        }
        Ok((version, fields))
    }

    /// Like [`Fields::closed`] for a closed structure with several defined versions: the
    /// version read, and the fields.
    pub(crate) fn closed_versions(
        value: Value,
        versions: &[(u64, &[u64])],
    ) -> Result<(u64, Fields)> {
        let (version, fields) = Fields::of_versions(value, versions)?;
        if fields.map.keys().any(|k| k.is_negative()) {
            return Err(ErrorClass::SchemaUnknownCritical.into());
        }
        Ok((version, fields))
    }

    /// A closed map nested in a versioned structure (it has no version key of its own):
    /// every key must be in `known`; negative keys are refused like unknown critical ones.
    pub(crate) fn nested_closed(value: Value, known: &[u64]) -> Result<Fields> {
        let Value::Map(map) = value else {
            return Err(ErrorClass::SchemaWrongType.into());
        };
        if map
            .keys()
            .any(|k| k.as_u64().is_none_or(|k| !known.contains(&k)))
        {
            return Err(ErrorClass::SchemaUnknownCritical.into());
        }
        Ok(Fields { map })
    }

    /// Whether `key` is present.
    pub(crate) fn has(&self, key: u64) -> bool {
        self.map.contains_key(&Int::uint(key))
    }

    /// A text string of at most `max` bytes.
    pub(crate) fn text(&mut self, key: u64, max: usize) -> Result<String> {
        match self.take(key)? {
            Value::Text(text) if text.len() <= max => Ok(text),
            Value::Text(_) => Err(ErrorClass::SchemaLength.into()),
            _ => Err(ErrorClass::SchemaWrongType.into()),
        }
    }

    /// Any value (checked by the caller).
    pub(crate) fn value(&mut self, key: u64) -> Result<Value> {
        self.take(key)
    }

    /// Like [`Fields::new`] for closed structures (local state such as snapshots), which
    /// carry no extensions: a negative key is refused like an unknown critical one.
    pub(crate) fn closed(value: Value, known: &[u64]) -> Result<Fields> {
        let fields = Fields::new(value, known)?;
        if fields.map.keys().any(|k| k.is_negative()) {
            return Err(ErrorClass::SchemaUnknownCritical.into());
        }
        Ok(fields)
    }

    fn take(&mut self, key: u64) -> Result<Value> {
        self.map
            .remove(&Int::uint(key))
            .ok_or_else(|| ErrorClass::SchemaMissingField.into())
    }

    pub(crate) fn uint(&mut self, key: u64) -> Result<u64> {
        match self.take(key)? {
            Value::Int(int) => int
                .as_u64()
                .ok_or_else(|| ErrorClass::SchemaWrongType.into()),
            _ => Err(ErrorClass::SchemaWrongType.into()),
        }
    }

    pub(crate) fn bool(&mut self, key: u64) -> Result<bool> {
        match self.take(key)? {
            Value::Bool(b) => Ok(b),
            _ => Err(ErrorClass::SchemaWrongType.into()),
        }
    }

    pub(crate) fn bytes(&mut self, key: u64) -> Result<Vec<u8>> {
        match self.take(key)? {
            Value::Bytes(bytes) => Ok(bytes),
            _ => Err(ErrorClass::SchemaWrongType.into()),
        }
    }

    pub(crate) fn bytes_exact<const N: usize>(&mut self, key: u64) -> Result<[u8; N]> {
        fixed(&self.bytes(key)?)
    }

    /// A byte string of exactly `N` bytes under `key`, or `None` if the key is absent.
    pub(crate) fn optional_bytes_exact<const N: usize>(
        &mut self,
        key: u64,
    ) -> Result<Option<[u8; N]>> {
        if self.map.contains_key(&Int::uint(key)) {
            self.bytes_exact(key).map(Some)
        } else {
            Ok(None)
        }
    }

    /// An unsigned integer that must fit in 32 bits.
    pub(crate) fn u32(&mut self, key: u64) -> Result<u32> {
        u32::try_from(self.uint(key)?).map_err(|_| ErrorClass::SchemaRange.into())
    }

    pub(crate) fn array(&mut self, key: u64) -> Result<Vec<Value>> {
        match self.take(key)? {
            Value::Array(items) => Ok(items),
            _ => Err(ErrorClass::SchemaWrongType.into()),
        }
    }

    /// The fields not consumed: only negative (extension) keys remain once every known
    /// field has been read.
    pub(crate) fn into_extensions(self) -> BTreeMap<Int, Value> {
        self.map
    }
}

/// Copies a byte string of exactly `N` bytes.
pub(crate) fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N]> {
    <[u8; N]>::try_from(bytes).map_err(|_| ErrorClass::SchemaLength.into())
}

/// Splits a signed structure `[body: bstr, signature: bstr .size 64]`.
pub(crate) fn split_signed(value: Value) -> Result<(Vec<u8>, [u8; 64])> {
    let Value::Array(items) = value else {
        return Err(ErrorClass::SchemaWrongType.into());
    };
    let [body, signature]: [Value; 2] = items.try_into().map_err(|_| ErrorClass::SchemaLength)?;
    let (Value::Bytes(body), Value::Bytes(signature)) = (body, signature) else {
        return Err(ErrorClass::SchemaWrongType.into());
    };
    Ok((body, fixed(&signature)?))
}

/// Builds the map of a structure: the version, the given fields and the extensions.
pub(crate) fn build_map(fields: Vec<(u64, Value)>, extensions: &BTreeMap<Int, Value>) -> Value {
    build_map_version(VERSION, fields, extensions)
}

/// Like [`build_map`] for a structure of another version than [`VERSION`].
pub(crate) fn build_map_version(
    version: u64,
    fields: Vec<(u64, Value)>,
    extensions: &BTreeMap<Int, Value>,
) -> Value {
    let mut map = extensions.clone();
    map.insert(Int::uint(VERSION_KEY), Value::uint(version));
    for (key, value) in fields {
        map.insert(Int::uint(key), value);
    }
    Value::Map(map)
}

/// Encodes `[body, signature]`.
pub(crate) fn signed(body: &[u8], signature: &[u8; 64]) -> Vec<u8> {
    crate::cbor::encode(&Value::Array(vec![
        Value::from(body),
        Value::from(&signature[..]),
    ]))
}
