//! The `xbk-header` group: encoding, structure, core and unlock entries of the header.

// Generator code: it indexes files and tables it built itself, so an index out of range is a
// bug of the generator, and the panic fails generation loudly; the case tables are tuples.
#![allow(clippy::indexing_slicing, clippy::type_complexity)]

use quietwire::cbor::{self, Int, Limits, Value};

use super::build::{Cache, Spec, decode_test};
use super::{DecodeTest, Ids};
use crate::raw;

use super::craft::*;
use super::large::{self, Who, recipe};
use crate::families::flags;

pub(super) fn header(ids: &mut Ids, cache: &mut Cache) -> Result<Vec<DecodeTest>, String> {
    let base = recipe("base", Who::Key, None, large::base_sections());
    let p = parts(&base, cache)?;
    let h = p.header.clone();
    // The header is a3 01 01 02 <core> 03 <unlock>; its entries as raw pairs.
    let core_start = 3;
    let core_len = cbor::encode(&p.map()?.get(&u(2)).cloned().unwrap_or(Value::uint(0))).len();
    let core_item = h[core_start..core_start + 1 + core_len].to_vec();
    let unlock_item = h[core_start + 1 + core_len..].to_vec();
    let core_value = core_item[1..].to_vec();
    let raw_map = |entries: &[(&[u8], &[u8])]| {
        let mut out = raw::head(5, entries.len() as u64);
        for (k, v) in entries {
            out.extend_from_slice(k);
            out.extend_from_slice(v);
        }
        out
    };
    let nest = |depth: usize| {
        let mut v = vec![0x00];
        for _ in 0..depth {
            v = [vec![0x81], v].concat();
        }
        v
    };
    let ext = |value: Value| {
        edited(&p, |m| {
            m.insert(Int::nint(0), value);
        })
    };
    let transfer = Value::Map(
        [
            (u(1), Value::uint(2)),
            (u(2), Value::Bytes(vec![9; 32])),
            (u(3), Value::Bytes(vec![0; 48])),
        ]
        .into_iter()
        .collect(),
    );
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
            raw_map(&[(&[1], &[0x18, 1]), (&[2], &core_value), (&[3], &unlock_item[1..])]),
            "cbor.noncanonical.integer";
        "indefinite-map", "an indefinite-length map",
            [vec![0xbf], h[1..].to_vec(), vec![0xff]].concat(), "cbor.noncanonical.indefinite";
        "duplicate-key", "key 1 twice",
            raw_map(&[(&[1], &[1]), (&[1], &[1]), (&[2], &core_value), (&[3], &unlock_item[1..])]),
            "cbor.noncanonical.duplicate_key";
        "unordered-keys", "key 3 before key 2",
            raw_map(&[(&[1], &[1]), (&[3], &unlock_item[1..]), (&[2], &core_value)]),
            "cbor.noncanonical.key_order";
        "depth-5",
            "an extension nested five deep",
            ext(Value::Array(vec![])).map(|_| {
                raw_map(&[
                    (&[1], &[1]),
                    (&[2], &core_value),
                    (&[3], &unlock_item[1..]),
                    (&[0x20], &nest(4)),
                ])
            })?,
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
        "core-trailing",
            "a byte after the core",
            core_edited(&p, |_| {}).and_then(|_| {
                let mut c = core_value.clone();
                let Value::Bytes(mut b) =
                    cbor::decode(&c, &Limits::DEFAULT).map_err(|e| e.to_string())?
                else {
                    return Err("core".to_string());
                };
                b.push(0);
                c = cbor::encode(&Value::Bytes(b));
                Ok(raw_map(&[
                    (&[1], &[1]),
                    (&[2], &c),
                    (&[3], &unlock_item[1..]),
                ]))
            })?,
            "cbor.trailing";
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
        "pin-salt-15",
            "a 15-byte PIN salt",
            core_edited(&p, |c| {
                let mut k = c.get(&u(3)).map(get_map).unwrap_or_default();
                k.insert(u(1), Value::Bytes(vec![2; 15]));
                c.insert(u(3), Value::Map(k));
            })?,
            "schema.length";
        "pin-kdf-key-5",
            "an unknown critical key in the PIN KDF parameters",
            core_edited(&p, |c| {
                let mut k = c.get(&u(3)).map(get_map).unwrap_or_default();
                k.insert(u(5), Value::uint(0));
                c.insert(u(3), Value::Map(k));
            })?,
            "schema.unknown_critical";
        "pin-kdf-t-negative",
            "a negative t",
            core_edited(&p, |c| {
                let mut k = c.get(&u(3)).map(get_map).unwrap_or_default();
                k.insert(u(3), Value::Int(Int::nint(0)));
                c.insert(u(3), Value::Map(k));
            })?,
            "schema.wrong_type";
        "unlock-type-4", "an unlock entry of an undefined type",
            entry_edited(&p, 4, |e| *e = Some(Default::default()))?, "schema.unknown_critical";
        "unlock-empty", "no unlock entry", entry_edited(&p, 1, |e| *e = None)?, "backup.unlock_set";
        "unlock-only-extension",
            "only an extension entry",
            edited(&p, |m| {
                m.insert(
                    u(3),
                    Value::Map(
                        [(Int::nint(0), Value::Map(Default::default()))]
                            .into_iter()
                            .collect(),
                    ),
                );
            })?,
            "backup.unlock_set";
        "transfer-and-recovery",
            "a transfer entry together with a recovery key",
            edited(&p, |m| {
                let mut unlock = m.get(&u(3)).map(get_map).unwrap_or_default();
                unlock.insert(u(3), transfer.clone());
                m.insert(u(3), Value::Map(unlock));
            })?,
            "backup.unlock_set";
        "check-31",
            "a 31-byte check",
            entry_edited(&p, 1, |e| {
                if let Some(e) = e {
                    e.insert(u(1), Value::Bytes(vec![0; 31]));
                }
            })?,
            "schema.length";
        "recovery-key-3", "an unknown key in the recovery entry",
            entry_edited(&p, 1, |e| { if let Some(e) = e { e.insert(u(3), Value::uint(0)); } })?,
            "schema.unknown_critical";
        "no-wrapped", "a recovery entry without its wrapped key",
            entry_edited(&p, 1, |e| { if let Some(e) = e { e.remove(&u(2)); } })?,
            "schema.missing_field";
        "transfer-suite-0", "suite 0 (reserved)", transfer_only(set_transfer(1, Value::uint(0)))?,
            "suite.unknown";
        "transfer-suite-3", "suite 3 (unassigned)", transfer_only(set_transfer(1, Value::uint(3)))?,
            "suite.unknown";
        "transfer-enc-of-suite-1", "suite 2 with an enc of suite 1's length",
            transfer_only(set_transfer(2, Value::Bytes(vec![9; 1120])))?, "schema.length";
        "transfer-ct-47", "a 47-byte sealed file key",
            transfer_only(set_transfer(3, Value::Bytes(vec![0; 47])))?, "schema.length";
    };
    let mut tests = Vec::new();
    for (slug, comment, header, class) in cases {
        let file = prefix(&header);
        let flag = if class.starts_with("backup.unlock_set")
            || slug.starts_with("transfer")
            || slug.starts_with("unlock")
        {
            "UnlockSet"
        } else {
            "HeaderEncoding"
        };
        tests.push(small_test(
            ids,
            cache,
            &format!("header-{slug}"),
            comment,
            &[flag],
            file,
            key_unlock(),
            Some(class),
        )?);
    }
    // Extensions (negative keys) are covered by the MAC and otherwise ignored.
    let extended = edited(&p, |m| {
        m.insert(Int::nint(0), Value::from("ext"));
        let mut unlock = m.get(&u(3)).map(get_map).unwrap_or_default();
        unlock.insert(Int::nint(4), Value::Map(Default::default()));
        if let Some(Value::Map(e)) = unlock.get_mut(&u(1)) {
            e.insert(Int::nint(0), Value::Bool(true));
        }
        m.insert(u(3), Value::Map(unlock));
    })?;
    tests.push(decode_test(ids.next_id(), Spec {
        slug: "header-extensions".into(),
        comment: "negative keys in the header, the unlock map and an entry, under a correct MAC: ignored".into(),
        flags: flags(&["HeaderEncoding"]),
        export: Some(base.clone()),
        edits: reprefix(p.remac(&extended), p.header_end()),
        unlock: key_unlock(),
        hidden: Some("locked"),
        ..Spec::default()
    }, cache)?);
    let core_ext = core_edited(&p, |c| {
        c.insert(Int::nint(0), Value::uint(7));
    })?;
    tests.push(small_test(
        ids,
        cache,
        "header-core-extension",
        "a negative key in the core under a correct MAC: accepted (only a prefix: then truncated)",
        &["HeaderEncoding"],
        p.remac(&core_ext),
        key_unlock(),
        Some("backup.truncated"),
    )?);
    Ok(tests)
}
