//! Crafting inputs from real exports: taking a file apart, editing its header (re-encoded
//! canonically) and, where a test needs it, a correct MAC computed with the file key (the first
//! 32 generator bytes of the recipe).

use quietwire::backup::{MAGIC, hazmat};
use quietwire::cbor::{self, Int, Limits, Value};

use super::Export;
use super::build::{Cache, core_of, file_keys, header_of};

/// A decoded CBOR map.
pub(super) type Map = std::collections::BTreeMap<Int, Value>;

/// A real export taken apart: header bytes, MAC, the rest, and the key material.
pub(super) struct Parts {
    pub(super) header: Vec<u8>,
    pub(super) mac: Vec<u8>,
    pub(super) fk: [u8; 32],
    pub(super) file_id: [u8; 32],
}

pub(super) fn parts(e: &Export, cache: &mut Cache) -> Result<Parts, String> {
    let file = cache.file(e)?;
    let header = header_of(&file)?.to_vec();
    let end = 8 + header.len();
    let mac = file.get(end..end + 32).ok_or("mac")?.to_vec();
    let (fk, file_id) = file_keys(e)?;
    Ok(Parts { header, mac, fk, file_id })
}

pub(super) fn prefix(header: &[u8]) -> Vec<u8> {
    [&MAGIC[..], &(header.len() as u32).to_be_bytes(), header].concat()
}

impl Parts {
    /// `prefix ‖ correct MAC` of a crafted header.
    pub(super) fn remac(&self, header: &[u8]) -> Vec<u8> {
        let p = prefix(header);
        let mac = hazmat::header_mac(&self.fk, &self.file_id, &p);
        [p, mac.to_vec()].concat()
    }

    pub(super) fn map(&self) -> Result<Map, String> {
        match cbor::decode(&self.header, &Limits::DEFAULT).map_err(|e| e.to_string())? {
            Value::Map(m) => Ok(m),
            _ => Err("header not a map".into()),
        }
    }

    pub(super) fn header_end(&self) -> usize {
        8 + self.header.len() + 32
    }
}

pub(super) fn get_map(v: &Value) -> Map {
    match v {
        Value::Map(m) => m.clone(),
        _ => Default::default(),
    }
}

pub(super) fn u(k: u64) -> Int {
    Int::uint(k)
}

/// The header with a change applied to its decoded map (re-encoded canonically).
pub(super) fn edited(p: &Parts, f: impl FnOnce(&mut Map)) -> Result<Vec<u8>, String> {
    let mut m = p.map()?;
    f(&mut m);
    Ok(cbor::encode(&Value::Map(m)))
}

/// The header with its core's map changed.
pub(super) fn core_edited(p: &Parts, f: impl FnOnce(&mut Map)) -> Result<Vec<u8>, String> {
    let core = core_of(&p.header)?;
    let mut c = get_map(&cbor::decode(&core, &Limits::DEFAULT).map_err(|e| e.to_string())?);
    f(&mut c);
    let core = cbor::encode(&Value::Map(c));
    edited(p, |m| {
        m.insert(u(2), Value::Bytes(core));
    })
}

/// The header with its unlock map changed.
pub(super) fn unlock_edited(p: &Parts, f: impl FnOnce(&mut Map)) -> Result<Vec<u8>, String> {
    edited(p, |m| {
        let mut unlock = m.get(&u(3)).map(get_map).unwrap_or_default();
        f(&mut unlock);
        m.insert(u(3), Value::Map(unlock));
    })
}

/// The header with unlock entry `entry` changed (`None`: removed).
pub(super) fn entry_edited(
    p: &Parts,
    entry: u64,
    f: impl FnOnce(&mut Option<Map>),
) -> Result<Vec<u8>, String> {
    unlock_edited(p, |unlock| {
        let mut e = unlock.get(&u(entry)).map(get_map);
        f(&mut e);
        match e {
            Some(e) => unlock.insert(u(entry), Value::Map(e)),
            None => unlock.remove(&u(entry)),
        };
    })
}

/// The header with the fields of its unlock entry `entry` (if present) changed.
pub(super) fn in_entry(p: &Parts, entry: u64, f: impl FnOnce(&mut Map)) -> Result<Vec<u8>, String> {
    entry_edited(p, entry, |e| {
        if let Some(e) = e {
            f(e);
        }
    })
}

/// Edits replacing a file's prefix and MAC (the first `old_end` bytes) by `new`.
pub(super) fn reprefix(new: Vec<u8>, old_end: usize) -> Vec<super::Edit> {
    vec![
        super::Edit { offset: Some(0), length: Some(old_end as u64), ..super::Edit::op("delete") },
        super::Edit { offset: Some(0), bytes: Some(new), ..super::Edit::op("insert") },
    ]
}

/// The header with the PIN's Argon2id parameters in its core changed.
pub(super) fn pin_kdf_edited(p: &Parts, f: impl FnOnce(&mut Map)) -> Result<Vec<u8>, String> {
    core_edited(p, |c| {
        let mut k = c.get(&u(3)).map(get_map).unwrap_or_default();
        f(&mut k);
        c.insert(u(3), Value::Map(k));
    })
}

/// Sets `m`, `t` and `p` (keys 2 to 4) of a parameter map.
fn set_params(k: &mut Map, m: u64, t: u64, p: u64) {
    k.insert(u(2), Value::uint(m));
    k.insert(u(3), Value::uint(t));
    k.insert(u(4), Value::uint(p));
}

pub(super) fn with_pass_params(p: &Parts, m: u64, t: u64, pp: u64) -> Result<Vec<u8>, String> {
    in_entry(p, 2, |e| set_params(e, m, t, pp))
}

pub(super) fn with_pin_params(p: &Parts, m: u64, t: u64, pp: u64) -> Result<Vec<u8>, String> {
    pin_kdf_edited(p, |k| set_params(k, m, t, pp))
}
