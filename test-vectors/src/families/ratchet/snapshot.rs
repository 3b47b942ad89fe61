//! `ratchet-snapshot-load` tests: snapshots that restore and re-encode byte for byte, and
//! the snapshots a restore must refuse (spec/06-ratchet.md RAT-10).

use super::{Scenario, Side, SnapshotTest};
use crate::families::{Ids, expect, material};
use quietwire::cbor::{self, Int, Limits, Value};
use quietwire::ratchet::Ratchet;

/// A snapshot with the unsigned field `key` replaced.
pub(super) fn with_counter(snapshot: &[u8], key: u64, value: u64) -> Result<Vec<u8>, String> {
    let key = i64::try_from(key).map_err(|e| e.to_string())?;
    with_field(snapshot, key, Some(Value::uint(value)))
}

/// A snapshot with the field `key` replaced (or removed, for `None`).
fn with_field(snapshot: &[u8], key: i64, value: Option<Value>) -> Result<Vec<u8>, String> {
    let limits = Limits { max_input: 1 << 20, max_depth: 4, max_string: 64, max_items: 8192 };
    let Ok(Value::Map(mut map)) = cbor::decode(snapshot, &limits) else {
        return Err("snapshot is not a map".to_owned());
    };
    let k = Int::from(key);
    match value {
        Some(v) => map.insert(k, v),
        None => map.remove(&k),
    };
    Ok(cbor::encode(&Value::Map(map)))
}

/// The snapshot tests of the first release: the two final states of the scripted sessions,
/// then the faults a restore must refuse.
pub(super) fn snapshots(ids: &mut Ids, base: &[Vec<u8>; 2]) -> Result<Vec<SnapshotTest>, String> {
    let mut tests = Vec::new();
    for (name, snap) in [("initiator", &base[0]), ("responder", &base[1])] {
        let restored = Ratchet::from_snapshot(snap).map_err(|e| format!("{e:?}"))?;
        if restored.snapshot().as_slice() != snap.as_slice() {
            return Err("snapshot does not round trip".to_owned());
        }
        let head = ids.head(
            &format!("valid-{name}"),
            "The final state of a session; must re-encode to the same bytes.",
            &["Snapshot"],
            None,
        );
        tests.push(SnapshotTest::new(head, snap.clone()));
    }
    let responder = &base[1];
    let mut trailing = responder.clone();
    trailing.push(0x00);
    let mut invalid =
        |slug: &str, comment: &str, snapshot: Vec<u8>, class: &str| -> Result<(), String> {
            expect(
                &format!("ratchet snapshot {slug}"),
                Ratchet::from_snapshot(&snapshot),
                Some(class),
            )?;
            let head = ids.head(slug, comment, &["Snapshot"], Some(class));
            tests.push(SnapshotTest::new(head, snapshot));
            Ok(())
        };
    crate::rows! { invalid:
        "trailing-byte", "A byte after the map.", trailing, "cbor.trailing";
        "version-2", "An unknown version.", with_counter(responder, 1, 2)?, "schema.version";
        "counter-too-large", "A receive counter of 2^32.", with_counter(responder, 9, 1 << 32)?,
            "schema.range";
        "unknown-critical-key", "Key 17 is not defined.", with_counter(responder, 17, 0)?,
            "schema.unknown_critical";
        "extension-key", "Snapshots are closed: even a negative key is refused.",
            with_field(responder, -1, Some(Value::uint(0)))?, "schema.unknown_critical";
        "root-key-missing", "No root key.", with_field(responder, 5, None)?, "schema.missing_field";
    }
    crate::rows! { invalid:
        "root-key-short", "A 31-byte root key.",
            with_field(responder, 5, Some(Value::Bytes(vec![0; 31])))?, "schema.length";
    }
    invalid(
        "peer-key-low-order",
        "The stored peer ratchet key is a point of order 8.",
        with_field(responder, 4, Some(Value::Bytes(material::x25519_order_8().to_vec())))?,
        "key.low_order",
    )?;
    crate::rows! { invalid:
        "send-flag-not-bool", "The pending-step flag as an integer.",
            with_field(responder, 15, Some(Value::uint(1)))?, "schema.wrong_type";
        "receiving-chain-without-header-key", "A receiving chain key without its header key.",
            with_field(responder, 12, None)?, "ratchet.state";
        "sending-chain-without-header-key", "A sending chain key without its header key.",
            with_field(responder, 11, None)?, "ratchet.state";
        "counter-without-chain", "A receive counter but no receiving chain.",
            with_field(&with_field(responder, 7, None)?, 12, None)?, "ratchet.state";
    }
    Ok(tests)
}

/// Snapshot tests added after the first release, so their ids follow every other test.
pub(super) fn appended_snapshot_tests(ids: &mut Ids) -> Result<Vec<SnapshotTest>, String> {
    // A receiver holding skipped keys: messages 0 and 1 of the first chain are skipped.
    let mut s = Scenario::new("snapshot-duplicate-skipped");
    crate::rows! { s.send:
        Side::Initiator, "0";
        Side::Initiator, "1";
    }
    let m2 = s.send(Side::Initiator, "2")?;
    s.deliver(Side::Responder, m2, Ok("2"))?;
    let [_, responder] = s.snapshots();
    let limits = Limits { max_input: 1 << 20, max_depth: 4, max_string: 64, max_items: 8192 };
    let Ok(Value::Map(map)) = cbor::decode(&responder, &limits) else {
        return Err("snapshot is not a map".to_owned());
    };
    let Some(Value::Array(items)) = map.get(&Int::uint(16)) else {
        return Err("snapshot without skipped keys".to_owned());
    };
    let first = items.first().cloned().ok_or("no skipped key")?;
    let Value::Array(first_parts) = first.clone() else {
        return Err("skipped entry is not an array".to_owned());
    };
    let entry_with = |index: usize, value: Value| {
        let mut parts = first_parts.clone();
        if let Some(slot) = parts.get_mut(index) {
            *slot = value;
        }
        Value::Array(parts)
    };
    let with_items = |items: Vec<Value>| with_field(&responder, 16, Some(Value::Array(items)));
    let mut tests = Vec::new();
    let mut push = |slug: &str, comment: &str, snapshot: Vec<u8>, class: Option<&str>| {
        let got = Ratchet::from_snapshot(&snapshot);
        let restored = expect(&format!("ratchet snapshot {slug}"), got, class)?;
        if restored.is_some_and(|r| r.snapshot().as_slice() != snapshot.as_slice()) {
            return Err(format!("ratchet snapshot {slug}: does not round-trip"));
        }
        let head = ids.head(slug, comment, &["Snapshot"], class);
        tests.push(SnapshotTest::new(head, snapshot));
        Ok(())
    };
    crate::rows! { push:
        "valid-with-skipped-keys",
            "A receiver holding the skipped keys of messages 0 and 1 of its receiving chain.",
            responder.clone(), None;
    }
    let mut doubled = items.clone();
    doubled.push(first.clone());
    push(
        "skipped-duplicate-entry",
        "The first skipped entry (HK, 0, MK) stored twice: the match of RAT-06 would not be unique.",
        with_items(doubled)?,
        Some("ratchet.state"),
    )?;
    let mut other_mk = items.clone();
    other_mk.insert(1, entry_with(2, Value::Bytes(vec![0x55; 32])));
    crate::rows! { push:
        "skipped-duplicate-header-key-and-number",
            "Two entries with the same header key and n = 0 but different message keys.",
            with_items(other_mk)?, Some("ratchet.state");
    }
    let mut other_chain = items.clone();
    other_chain.push(entry_with(0, Value::Bytes(vec![0x66; 32])));
    crate::rows! { push:
        "skipped-same-number-other-header-key",
            "n = 0 again under another header key: a key of another chain, not a duplicate.",
            with_items(other_chain)?, None;
    }
    Ok(tests)
}

/// A 32-byte field of a snapshot.
pub(super) fn snapshot_key(snapshot: &[u8], key: u64) -> Result<[u8; 32], String> {
    match cbor::decode(snapshot, &Limits::DEFAULT.with_max_input(1 << 20)) {
        Ok(Value::Map(map)) => match map.get(&Int::uint(key)) {
            Some(Value::Bytes(b)) => {
                b.as_slice().try_into().map_err(|_| format!("snapshot key {key} is not 32 bytes"))
            }
            _ => Err(format!("snapshot without key {key}")),
        },
        _ => Err("snapshot is not a map".to_owned()),
    }
}
