//! The `xbk-header` group: encoding, structure, core and unlock entries of the header.

use quietwire::cbor::{self, Int, Limits, Value};

use super::build::{Cache, Spec, T};
use super::craft::*;
use super::large::{Who, basic, key_unlock};
use super::{DecodeTest, Ids};
use crate::raw;

pub(super) fn header(ids: &mut Ids, cache: &mut Cache) -> Result<Vec<DecodeTest>, String> {
    let base = basic("base", Who::Key);
    let p = parts(&base, cache)?;
    let h = p.header.clone();
    // The header is a3 01 01 02 <core> 03 <unlock>; its entries as raw pairs.
    let core_len = cbor::encode(&p.map()?.get(&u(2)).cloned().unwrap_or(Value::uint(0))).len();
    let (core_v, unl) = (&h[4..4 + core_len], &h[5 + core_len..]);
    let raw_map = |entries: &[(&[u8], &[u8])]| {
        raw::map(&entries.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect::<Vec<_>>())
    };
    let nest = |depth: usize| {
        let mut v = vec![0x00];
        for _ in 0..depth {
            v = [vec![0x81], v].concat();
        }
        v
    };
    let core_trailing = match cbor::decode(core_v, &Limits::DEFAULT).map_err(|e| e.to_string())? {
        Value::Bytes(b) => cbor::encode(&Value::Bytes([b, vec![0]].concat())),
        _ => return Err("core".into()),
    };
    let ext = |value: Value| {
        edited(&p, |m| {
            m.insert(Int::nint(0), value);
        })
    };
    let transfer = Value::Map(Map::from([
        (u(1), Value::uint(2)),
        (u(2), Value::Bytes(vec![9; 32])),
        (u(3), Value::Bytes(vec![0; 48])),
    ]));
    let transfer_only = |t: Value| {
        edited(&p, |m| {
            m.insert(u(3), Value::Map([(u(3), t)].into_iter().collect()));
        })
    };
    let set_transfer = |k: u64, v: Value| {
        let mut t = get_map(&transfer);
        t.insert(u(k), v);
        Value::Map(t)
    };
    type Case = (&'static str, &'static str, Vec<u8>, &'static str);
    let cases: Vec<Case> = crate::tuples! { vec:
        "noncanonical-integer", "the version as 0x18 0x01",
            raw_map(&[(&[1], &[0x18, 1]), (&[2], core_v), (&[3], unl)]),
            "cbor.noncanonical.integer";
        "indefinite-map", "an indefinite-length map",
            [vec![0xbf], h[1..].to_vec(), vec![0xff]].concat(), "cbor.noncanonical.indefinite";
        "duplicate-key", "key 1 twice",
            raw_map(&[(&[1], &[1]), (&[1], &[1]), (&[2], core_v), (&[3], unl)]),
            "cbor.noncanonical.duplicate_key";
        "unordered-keys", "key 3 before key 2",
            raw_map(&[(&[1], &[1]), (&[3], unl), (&[2], core_v)]), "cbor.noncanonical.key_order";
        "depth-5", "an extension nested five deep",
            raw_map(&[(&[1], &[1]), (&[2], core_v), (&[3], unl), (&[0x20], &nest(4))]),
            "cbor.limit.depth";
        "string-4097", "a string over 4096 bytes", ext(Value::Bytes(vec![0; 4097]))?,
            "cbor.limit.size";
        "items-17", "an array of 17 items", ext(Value::Array(vec![Value::uint(0); 17]))?,
            "cbor.limit.size";
        "trailing-byte", "a byte after the map", [h.clone(), vec![0]].concat(), "cbor.trailing";
        "not-a-map", "an array", raw::array(&[vec![1]]), "schema.wrong_type";
        "version-2", "version 2", edited(&p, |m| { m.insert(u(1), Value::uint(2)); })?,
            "schema.version";
        "no-version", "no version", edited(&p, |m| { m.remove(&u(1)); })?, "schema.missing_field";
        "no-core", "no core", edited(&p, |m| { m.remove(&u(2)); })?, "schema.missing_field";
        "no-unlock", "no unlock map", edited(&p, |m| { m.remove(&u(3)); })?, "schema.missing_field";
        "key-4", "an unknown critical key", edited(&p, |m| { m.insert(u(4), Value::uint(0)); })?,
            "schema.unknown_critical";
        "core-not-bytes", "the core as a map",
            edited(&p, |m| { m.insert(u(2), Value::Map(Default::default())); })?,
            "schema.wrong_type";
        "unlock-not-map", "the unlock map as bytes",
            edited(&p, |m| { m.insert(u(3), Value::Bytes(vec![])); })?, "schema.wrong_type";
        "core-not-cbor", "a core that is not CBOR",
            edited(&p, |m| { m.insert(u(2), Value::Bytes(vec![0xff])); })?, "cbor.malformed.break";
        "core-trailing", "a byte after the core",
            raw_map(&[(&[1], &[1]), (&[2], &core_trailing), (&[3], unl)]), "cbor.trailing";
        "core-string-65", "a core string over 64 bytes",
            core_edited(&p, |c| { c.insert(Int::nint(0), Value::Bytes(vec![0; 65])); })?,
            "cbor.limit.size";
        "core-version-2", "core version 2",
            core_edited(&p, |c| { c.insert(u(1), Value::uint(2)); })?, "schema.version";
        "file-id-31", "a 31-byte file id",
            core_edited(&p, |c| { c.insert(u(2), Value::Bytes(vec![1; 31])); })?, "schema.length";
        "core-key-4", "an unknown critical key in the core",
            core_edited(&p, |c| { c.insert(u(4), Value::uint(0)); })?, "schema.unknown_critical";
        "no-pin-kdf", "no PIN KDF parameters", core_edited(&p, |c| { c.remove(&u(3)); })?,
            "schema.missing_field";
        "pin-salt-15", "a 15-byte PIN salt",
            pin_kdf_edited(&p, |k| { k.insert(u(1), Value::Bytes(vec![2; 15])); })?,
            "schema.length";
        "pin-kdf-key-5", "an unknown critical key in the PIN KDF parameters",
            pin_kdf_edited(&p, |k| { k.insert(u(5), Value::uint(0)); })?, "schema.unknown_critical";
        "pin-kdf-t-negative", "a negative t",
            pin_kdf_edited(&p, |k| { k.insert(u(3), Value::Int(Int::nint(0))); })?,
            "schema.wrong_type";
        "unlock-type-4", "an unlock entry of an undefined type",
            entry_edited(&p, 4, |e| *e = Some(Default::default()))?, "schema.unknown_critical";
        "unlock-empty", "no unlock entry", entry_edited(&p, 1, |e| *e = None)?, "backup.unlock_set";
        "unlock-only-extension", "only an extension entry",
            unlock_edited(&p, |x| *x = [(Int::nint(0), Value::Map(Map::new()))].into())?,
            "backup.unlock_set";
        "transfer-and-recovery", "a transfer entry together with a recovery key",
            unlock_edited(&p, |x| { x.insert(u(3), transfer.clone()); })?, "backup.unlock_set";
        "check-31", "a 31-byte check",
            in_entry(&p, 1, |e| { e.insert(u(1), Value::Bytes(vec![0; 31])); })?, "schema.length";
        "recovery-key-3", "an unknown key in the recovery entry",
            in_entry(&p, 1, |e| { e.insert(u(3), Value::uint(0)); })?, "schema.unknown_critical";
        "no-wrapped", "a recovery entry without its wrapped key",
            in_entry(&p, 1, |e| { e.remove(&u(2)); })?, "schema.missing_field";
        "transfer-suite-0", "suite 0 (reserved)", transfer_only(set_transfer(1, Value::uint(0)))?,
            "suite.unknown";
        "transfer-suite-3", "suite 3 (unassigned)", transfer_only(set_transfer(1, Value::uint(3)))?,
            "suite.unknown";
        "transfer-enc-of-suite-1", "suite 2 with an enc of suite 1's length",
            transfer_only(set_transfer(2, Value::Bytes(vec![9; 1120])))?, "schema.length";
        "transfer-ct-47", "a 47-byte sealed file key",
            transfer_only(set_transfer(3, Value::Bytes(vec![0; 47])))?, "schema.length";
    };
    let mut t = T::new(ids, cache);
    for (slug, comment, header, class) in cases {
        let unlock_set = class == "backup.unlock_set"
            || slug.starts_with("transfer")
            || slug.starts_with("unlock");
        let flag = if unlock_set { "UnlockSet" } else { "HeaderEncoding" };
        t.small(&format!("header-{slug}"), comment, &[flag], prefix(&header), key_unlock(), class)?;
    }
    // Extensions (negative keys) are covered by the MAC and otherwise ignored.
    let extended = edited(&p, |m| {
        m.insert(Int::nint(0), Value::from("ext"));
        let mut unlock = m.get(&u(3)).map(get_map).unwrap_or_default();
        unlock.insert(Int::nint(4), Value::Map(Map::new()));
        if let Some(Value::Map(e)) = unlock.get_mut(&u(1)) {
            e.insert(Int::nint(0), Value::Bool(true));
        }
        m.insert(u(3), Value::Map(unlock));
    })?;
    let edits = reprefix(p.remac(&extended), p.header_end());
    t.spec(
        "header-extensions",
        "negative keys in the header, the unlock map and an entry, under a correct MAC: ignored",
        &["HeaderEncoding"],
        Spec { hidden: Some("locked"), ..Spec::export(&base, edits, key_unlock()) },
    )?;
    let core_ext = core_edited(&p, |c| {
        c.insert(Int::nint(0), Value::uint(7));
    })?;
    t.small(
        "header-core-extension",
        "a negative key in the core under a correct MAC: accepted (only a prefix: then truncated)",
        &["HeaderEncoding"],
        p.remac(&core_ext),
        key_unlock(),
        "backup.truncated",
    )?;
    Ok(t.tests)
}
