//! `session-snapshot-load` tests: session snapshots (spec/07-envelope.md ENV-08) with and
//! without the peer's identity key, and one refusal per check of the rule.

use std::collections::BTreeMap;

use super::SessionSnapshotTest;
use crate::families::{Ids, expect, material};
use crate::seeds::seed32;
use quietwire::cbor::{self, Int, Limits, Value};
use quietwire::keys::{IdentityKeyPair, X25519Secret};
use quietwire::ratchet::Ratchet;
use quietwire::session::Session;

/// The map of a session snapshot.
fn map_of(snapshot: &[u8]) -> Result<BTreeMap<Int, Value>, String> {
    let limits = Limits { max_input: 1 << 20, max_depth: 1, max_string: 1 << 20, max_items: 16 };
    match cbor::decode(snapshot, &limits) {
        Ok(Value::Map(map)) => Ok(map),
        _ => Err("session snapshot is not a map".to_owned()),
    }
}

/// `snapshot` with `key` set to `value` (removed for `None`).
fn with(snapshot: &[u8], key: i64, value: Option<Value>) -> Result<Vec<u8>, String> {
    let mut map = map_of(snapshot)?;
    match value {
        Some(v) => map.insert(Int::from(key), v),
        None => map.remove(&Int::from(key)),
    };
    Ok(cbor::encode(&Value::Map(map)))
}

fn bytes(b: &[u8]) -> Option<Value> {
    Some(Value::from(b))
}

/// Builds the tests of the group, in order.
struct Snapshots<'a> {
    ids: &'a mut Ids,
    tests: Vec<SessionSnapshotTest>,
}

impl Snapshots<'_> {
    /// The test of `snapshot`: refused with `class`, or (`None`) restored and re-encoded to
    /// the same bytes, with the peer identity it holds.
    fn test(
        &mut self,
        slug: &str,
        comment: &str,
        flags: &[&str],
        snapshot: Vec<u8>,
        class: Option<&str>,
    ) -> Result<(), String> {
        let got = Session::restore(&snapshot);
        let restored = expect(&format!("session snapshot {slug}"), got, class)?;
        let mut peer_identity = None;
        if let Some(session) = restored {
            if session.snapshot().as_slice() != snapshot.as_slice() {
                return Err(format!("session snapshot {slug}: does not round-trip"));
            }
            peer_identity = session.peer_identity().map(|k| k.as_bytes().to_vec());
        }
        let head = self.ids.head(slug, comment, flags, class);
        self.tests.push(SessionSnapshotTest::new(head, snapshot, peer_identity));
        Ok(())
    }
}

/// The session snapshot tests, appended after every other test of the file.
pub(super) fn session_snapshots(ids: &mut Ids) -> Result<Vec<SessionSnapshotTest>, String> {
    let peer_ratchet = X25519Secret::from_bytes(&seed32("ratchet/session-snapshot/peer-ratchet"));
    let ratchet = Ratchet::initiator(
        &seed32("ratchet/session-snapshot/session-secret"),
        *peer_ratchet.public(),
        &seed32("ratchet/session-snapshot/ad"),
    );
    let mailbox = seed32("ratchet/session-snapshot/peer-mailbox");
    let peer = IdentityKeyPair::from_seed(&seed32("ratchet/session-snapshot/peer-identity"));
    let without = Session::new(ratchet.clone(), mailbox).snapshot().to_vec();
    let known = Session::with_peer_identity(ratchet, mailbox, *peer.public()).snapshot().to_vec();
    if with(&without, 4, bytes(peer.public().as_bytes()))? != known {
        return Err("session snapshot: key 4 is not the only difference".to_owned());
    }
    // A ratchet snapshot that RAT-10 refuses: a message counter without a sending chain.
    let Some(Value::Bytes(inner)) = map_of(&known)?.remove(&Int::uint(2)) else {
        return Err("session snapshot without key 2".to_owned());
    };
    let bad_ratchet = super::snapshot::with_counter(&inner, 8, 5)?;
    let bad_ratchet = |s: &[u8]| with(s, 2, bytes(&bad_ratchet));
    let (valid, schema) = (&["SessionSnapshot"][..], &["SessionSnapshotSchema"][..]);
    let (key, order) = (&["SessionPeerKey"][..], &["SessionSnapshotOrder"][..]);
    let mut b = Snapshots { ids, tests: Vec::new() };
    crate::rows! { b.test:
        "session-without-peer-identity",
            "keys 1 to 3 only: a session that does not know its peer (valid, as before key 4)",
            valid, without.clone(), None;
        "session-with-peer-identity", "key 4 holds the peer's identity key", valid,
            known.clone(), None;
        "session-trailing-byte", "a byte after the map", schema,
            [known.as_slice(), &[0x00]].concat(), Some("cbor.trailing");
        "session-version-2", "version 2", schema, with(&known, 1, Some(Value::uint(2)))?,
            Some("schema.version");
        "session-unknown-key", "key 5 is not defined", schema,
            with(&known, 5, Some(Value::uint(0)))?, Some("schema.unknown_critical");
        "session-extension-key", "the map is closed: even a negative key is refused", schema,
            with(&known, -1, Some(Value::uint(0)))?, Some("schema.unknown_critical");
        "session-mailbox-short", "a 31-byte peer mailbox", schema,
            with(&known, 3, bytes(&[3; 31]))?, Some("schema.length");
        "session-peer-identity-text", "key 4 as a text string", schema,
            with(&known, 4, Some(Value::from("peer")))?, Some("schema.wrong_type");
        "session-peer-identity-short", "a 31-byte peer identity key", schema,
            with(&known, 4, bytes(&[9; 31]))?, Some("schema.length");
        "session-peer-identity-long", "a 33-byte peer identity key", schema,
            with(&known, 4, bytes(&[9; 33]))?, Some("schema.length");
        "session-peer-identity-not-on-curve", "key 4 is not a curve point", key,
            with(&known, 4, bytes(&material::ed25519_not_on_curve()))?, Some("key.invalid");
        "session-peer-identity-noncanonical", "key 4 in a non-canonical encoding", key,
            with(&known, 4, bytes(&material::ed25519_noncanonical()))?, Some("key.noncanonical");
        "session-peer-identity-low-order", "key 4 is a point of order 8", key,
            with(&known, 4, bytes(&material::ed25519_order_8()))?, Some("key.low_order");
        "session-ratchet-inconsistent", "the ratchet snapshot counts messages without a sending chain",
            &["SessionSnapshotRatchet"], bad_ratchet(&known)?, Some("ratchet.state");
        "session-order-length-before-ratchet",
            "a 31-byte key 4 and a refused ratchet snapshot: the fields are checked first",
            order, with(&bad_ratchet(&known)?, 4, bytes(&[9; 31]))?, Some("schema.length");
        "session-order-ratchet-before-key",
            "a low-order key 4 and a refused ratchet snapshot: the ratchet is restored first",
            order, with(&bad_ratchet(&known)?, 4, bytes(&material::ed25519_order_8()))?,
            Some("ratchet.state");
    }
    Ok(b.tests)
}
