//! `event.json`, group `event-device-record`: which device record a receiver keeps from a
//! `device-record` event (spec/07-envelope.md ENV-07, spec/03-identity.md IDN-06).

use super::super::material::{self as m, flip_last, signed_forged};
use super::super::{Ids, expect};
use crate::seeds::seed32;
use quietwire::identity::{DeviceKeys, newer_record};
use quietwire::keys::{KemSecret, X25519Secret};
use quietwire::label::Label;
use quietwire::suite::{Suite, SuitePolicy};

crate::vector_test! {
    /// A device record received from the session peer.
    pub struct DeviceRecordTest {
        /// The session peer's identity key.
        peer_identity: hex,
        /// The generation of the record kept for the contact (absent: none kept).
        held_generation: ?u64,
        /// The signed device record the event carries.
        record: hex,
        /// The generation of the record kept afterwards: the received one (valid tests only).
        generation: ?u64,
    }
}

/// A device of identity `who`, its KEM and ratchet keys named by `keys`.
fn device(suite: Suite, who: &str, keys: &str) -> ([u8; 32], DeviceKeys) {
    let (seed, identity) = m::identity(&format!("event/{who}"));
    let kem = KemSecret::from_seed(suite, &seed32(&format!("event/{who}/{keys}/kem")));
    let ratchet = X25519Secret::from_bytes(&seed32(&format!("event/{who}/{keys}/ratchet")));
    (seed, DeviceKeys::from_parts(suite, identity, kem, ratchet))
}

/// Builds the tests of one group, checking each against the library.
struct Tests<'a> {
    ids: &'a mut Ids,
    policy: SuitePolicy,
    tests: Vec<DeviceRecordTest>,
}

impl Tests<'_> {
    fn push(
        &mut self,
        slug: &str,
        comment: &str,
        f: &[&str],
        held: Option<u64>,
        record: Vec<u8>,
        class: Option<&str>,
    ) -> Result<(), String> {
        let peer = *m::identity("event/peer").1.public();
        let got = newer_record(&record, &self.policy, &peer, held);
        let kept = expect(&format!("event device record {slug}"), got, class)?;
        let generation = kept.map(|r| r.record().generation());
        let head = self.ids.head(slug, comment, f, class);
        self.tests.push(DeviceRecordTest::new(
            head,
            peer.as_bytes().to_vec(),
            held,
            record,
            generation,
        ));
        Ok(())
    }
}

/// The group whose receiver allows every registered suite.
pub(super) fn all_suites(ids: &mut Ids) -> Result<Vec<DeviceRecordTest>, String> {
    let mut t = Tests { ids, policy: SuitePolicy::ALL, tests: Vec::new() };
    let (peer_seed, peer) = device(Suite::XWing, "peer", "a");
    let (_, peer_b) = device(Suite::XWing, "peer", "b");
    let (_, other) = device(Suite::XWing, "other", "a");
    let kept = &["RecordKept"];
    let ignored = &["RecordIgnored"];
    let order = &["RecordIgnored", "CheckOrder"];

    crate::rows! { t.push:
        "first-record", "the first record of the session, none kept yet: kept", kept, None,
            peer.signed_record(0).to_bytes(), None;
        "higher-generation", "generation 2 where 1 is kept: kept", kept, Some(1),
            peer.signed_record(2).to_bytes(), None;
        "first-record-high-generation",
            "none kept yet: any verified generation is kept, however high", kept, None,
            peer.signed_record(u64::MAX).to_bytes(), None;
        "lower-generation", "generation 2 where 3 is kept: ignored", ignored, Some(3),
            peer.signed_record(2).to_bytes(), Some("identity.generation");
    }
    let genuine = peer.signed_record(3);
    let mut truncated = peer.signed_record(3).to_bytes();
    truncated.pop();
    crate::rows! { t.push:
        "equal-generation-other-keys",
            "generation 2 where 2 is kept, with other KEM and ratchet keys than the kept record: not newer, ignored",
            ignored, Some(2), peer_b.signed_record(2).to_bytes(), Some("identity.generation");
        "other-identity", "a valid record of another identity, of a higher generation: ignored",
            ignored, Some(1), other.signed_record(5).to_bytes(), Some("identity.mismatch");
        "other-identity-before-generation",
            "another identity and a lower generation: the identity is checked first", order,
            Some(4), other.signed_record(0).to_bytes(), Some("identity.mismatch");
        "bad-signature",
            "the peer's record of a higher generation with one signature bit flipped: ignored",
            ignored, Some(1), flip_last(peer.signed_record(9).to_bytes()),
            Some("identity.signature");
        "bad-signature-before-identity",
            "another identity's record with a bad signature and a lower generation: verification comes first",
            order, Some(5), flip_last(other.signed_record(0).to_bytes()),
            Some("identity.signature");
        "small-order-r",
            "the peer's body with a signature whose R is of small order (accepted by plain RFC 8032 verification, refused by SUI-05): ignored",
            ignored, Some(1),
            signed_forged(genuine.body(), &peer_seed, Label::DeviceRecord, m::sig_small_order_r),
            Some("identity.signature");
        "truncated", "the peer's record cut by one byte: ignored", ignored, Some(1), truncated,
            Some("cbor.truncated");
    }
    Ok(t.tests)
}

/// The group whose receiver allows only the default suite (1).
pub(super) fn default_suite_only(ids: &mut Ids) -> Result<Vec<DeviceRecordTest>, String> {
    let mut t = Tests { ids, policy: SuitePolicy::only(&[Suite::XWing]), tests: Vec::new() };
    let (_, classic) = device(Suite::X25519, "peer", "classic");
    crate::rows! { t.push:
        "suite-disallowed",
            "the peer's valid record of suite 2, newer, where the receiver allows only suite 1: ignored",
            &["RecordIgnored"], Some(0), classic.signed_record(1).to_bytes(),
            Some("suite.disallowed");
    }
    Ok(t.tests)
}
