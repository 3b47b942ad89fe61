//! `ratchet-snapshot-load` tests: snapshots that restore and re-encode byte for byte, and
//! the snapshots a restore must refuse (spec/06-ratchet.md RAT-10).

use std::collections::BTreeMap;

use super::Op::{Dec, Enc};
use super::{I, R, Scenario, SnapshotTest};
use crate::families::{Ids, expect, material};
use quietwire::cbor::{self, Int, Limits, Value};
use quietwire::ratchet::Ratchet;

/// A snapshot with the unsigned field `key` replaced.
pub(super) fn with_counter(snapshot: &[u8], key: u64, value: u64) -> Result<Vec<u8>, String> {
    let key = i64::try_from(key).map_err(|e| e.to_string())?;
    with_field(snapshot, key, Some(Value::uint(value)))
}

/// The map of a snapshot.
pub(super) fn snapshot_map(snapshot: &[u8]) -> Result<BTreeMap<Int, Value>, String> {
    let limits = Limits { max_input: 1 << 20, max_depth: 4, max_string: 2048, max_items: 8192 };
    match cbor::decode(snapshot, &limits) {
        Ok(Value::Map(map)) => Ok(map),
        _ => Err("snapshot is not a map".to_owned()),
    }
}

/// A snapshot with the field `key` replaced (or removed, for `None`).
pub(super) fn with_field(
    snapshot: &[u8],
    key: i64,
    value: Option<Value>,
) -> Result<Vec<u8>, String> {
    let mut map = snapshot_map(snapshot)?;
    let k = Int::from(key);
    match value {
        Some(v) => map.insert(k, v),
        None => map.remove(&k),
    };
    Ok(cbor::encode(&Value::Map(map)))
}

/// Builds the snapshot tests of a group, in order.
pub(super) struct Snapshots<'a> {
    pub(super) ids: &'a mut Ids,
    pub(super) tests: Vec<SnapshotTest>,
    /// The flag of every test.
    pub(super) flag: &'static str,
}

impl Snapshots<'_> {
    /// The test of `snapshot`: refused with `class`, or (`None`) restored and re-encoded to
    /// the same bytes.
    pub(super) fn test(
        &mut self,
        slug: &str,
        comment: &str,
        snapshot: Vec<u8>,
        class: Option<&str>,
    ) -> Result<(), String> {
        let got = Ratchet::from_snapshot(&snapshot);
        let restored = expect(&format!("ratchet snapshot {slug}"), got, class)?;
        if restored.is_some_and(|r| r.snapshot().as_slice() != snapshot.as_slice()) {
            return Err(format!("ratchet snapshot {slug}: does not round-trip"));
        }
        let head = self.ids.head(slug, comment, &[self.flag], class);
        self.tests.push(SnapshotTest::new(head, snapshot));
        Ok(())
    }
}

/// The snapshot tests of the first release: the two final states of the scripted sessions,
/// then the faults a restore must refuse.
pub(super) fn snapshots(ids: &mut Ids, base: &[Vec<u8>; 2]) -> Result<Vec<SnapshotTest>, String> {
    let mut b = Snapshots { ids, tests: Vec::new(), flag: "Snapshot" };
    let final_state = "The final state of a session; must re-encode to the same bytes.";
    let [initiator, responder] = base;
    let low_order = Value::Bytes(material::x25519_order_8().to_vec());
    crate::rows! { b.test:
        "valid-initiator", final_state, initiator.clone(), None;
        "valid-responder", final_state, responder.clone(), None;
        "trailing-byte", "A byte after the map.", [responder.as_slice(), &[0x00]].concat(),
            Some("cbor.trailing");
        "version-3", "An unknown version (1 and 2 are defined, RAT-15).",
            with_counter(responder, 1, 3)?, Some("schema.version");
        "counter-too-large", "A receive counter of 2^32.", with_counter(responder, 9, 1 << 32)?,
            Some("schema.range");
        "unknown-critical-key", "Key 17 is not defined.", with_counter(responder, 17, 0)?,
            Some("schema.unknown_critical");
        "extension-key", "Snapshots are closed: even a negative key is refused.",
            with_field(responder, -1, Some(Value::uint(0)))?, Some("schema.unknown_critical");
        "root-key-missing", "No root key.", with_field(responder, 5, None)?,
            Some("schema.missing_field");
        "root-key-short", "A 31-byte root key.",
            with_field(responder, 5, Some(Value::Bytes(vec![0; 31])))?, Some("schema.length");
        "peer-key-low-order", "The stored peer ratchet key is a point of order 8.",
            with_field(responder, 4, Some(low_order))?, Some("key.low_order");
        "send-flag-not-bool", "The pending-step flag as an integer.",
            with_field(responder, 15, Some(Value::uint(1)))?, Some("schema.wrong_type");
        "receiving-chain-without-header-key", "A receiving chain key without its header key.",
            with_field(responder, 12, None)?, Some("ratchet.state");
        "sending-chain-without-header-key", "A sending chain key without its header key.",
            with_field(responder, 11, None)?, Some("ratchet.state");
        "counter-without-chain", "A receive counter but no receiving chain.",
            with_field(&with_field(responder, 7, None)?, 12, None)?, Some("ratchet.state");
    }
    Ok(b.tests)
}

/// Snapshot tests added after the first release, so their ids follow every other test.
pub(super) fn appended_snapshot_tests(ids: &mut Ids) -> Result<Vec<SnapshotTest>, String> {
    // A receiver holding skipped keys: messages 0 and 1 of the first chain are skipped.
    let mut s = Scenario::new("snapshot-duplicate-skipped");
    s.run(vec![Enc(I, "0"), Enc(I, "1"), Enc(I, "2"), Dec(R, 2, Ok("2"))])?;
    let [_, responder] = s.snapshots();
    let Some(Value::Array(items)) = snapshot_map(&responder)?.remove(&Int::uint(16)) else {
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
    let doubled = [items.as_slice(), std::slice::from_ref(&first)].concat();
    let mut other_mk = items.clone();
    other_mk.insert(1, entry_with(2, Value::Bytes(vec![0x55; 32])));
    let other_chain = [items.as_slice(), &[entry_with(0, Value::Bytes(vec![0x66; 32]))]].concat();
    let mut b = Snapshots { ids, tests: Vec::new(), flag: "Snapshot" };
    crate::rows! { b.test:
        "valid-with-skipped-keys",
            "A receiver holding the skipped keys of messages 0 and 1 of its receiving chain.",
            responder.clone(), None;
        "skipped-duplicate-entry",
            "The first skipped entry (HK, 0, MK) stored twice: the match of RAT-06 would not be unique.",
            with_items(doubled)?, Some("ratchet.state");
        "skipped-duplicate-header-key-and-number",
            "Two entries with the same header key and n = 0 but different message keys.",
            with_items(other_mk)?, Some("ratchet.state");
        "skipped-same-number-other-header-key",
            "n = 0 again under another header key: a key of another chain, not a duplicate.",
            with_items(other_chain)?, None;
    }
    Ok(b.tests)
}

/// A 32-byte field of a snapshot.
pub(super) fn snapshot_key(snapshot: &[u8], key: u64) -> Result<[u8; 32], String> {
    match snapshot_map(snapshot)?.get(&Int::uint(key)) {
        Some(Value::Bytes(b)) => {
            b.as_slice().try_into().map_err(|_| format!("snapshot key {key} is not 32 bytes"))
        }
        _ => Err(format!("snapshot without key {key}")),
    }
}
