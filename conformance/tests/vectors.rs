//! The reference implementation passes every vector, and the runner notices a broken one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use quietwire_conformance::builtin::Builtin;
use quietwire_conformance::implementation::{
    DecodedEvent, Failure, Handle, Implementation, InviteCreate, OpResult, RelayHandled, RelayTime,
    Role,
};
use quietwire_conformance::{Outcome, runner};
use quietwire_test_vectors::families::cbor::LimitsJson;
use quietwire_test_vectors::families::device_record::RecordFields;
use quietwire_test_vectors::families::invite::InviteFields;
use quietwire_test_vectors::families::relay::RelayLimits;

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-vectors/v1")
}

fn declared_total() -> usize {
    runner::FILES
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(vector_dir().join(name)).unwrap();
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            json["numberOfTests"].as_u64().unwrap() as usize
        })
        .sum()
}

#[test]
fn builtin_passes_every_vector() {
    let report = runner::run_all(&vector_dir(), &mut Builtin::default()).unwrap();
    assert_eq!(
        report.cases.len(),
        declared_total() + runner::HARNESS_CASES,
        "every declared test and every harness probe must run"
    );
    assert_eq!(
        report
            .cases
            .iter()
            .filter(|c| c.family == "harness")
            .count(),
        runner::HARNESS_CASES
    );
    let failures: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.outcome != Outcome::Pass)
        .map(|c| format!("{} {} {}", c.id, c.slug, c.actual))
        .collect();
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    // Every invalid vector was checked for its exact class.
    assert!(
        report
            .cases
            .iter()
            .any(|c| c.expected.starts_with("error "))
    );
}

/// The built-in implementation with deliberate defects.
struct Broken {
    inner: Builtin,
}

impl Implementation for Broken {
    fn name(&self) -> String {
        "broken fixture".to_owned()
    }
    fn cbor_decode(&mut self, input: &[u8], limits: LimitsJson) -> OpResult<Vec<u8>> {
        // Defect 1: accepts trailing bytes by ignoring everything after the first byte of a
        // two-byte input 0x00 0x00.
        if input == [0x00, 0x00] {
            return Ok(input.to_vec());
        }
        self.inner.cbor_decode(input, limits)
    }
    fn device_record_create(
        &mut self,
        s: u64,
        a: &[u8],
        b: &[u8],
        c: &[u8],
        g: u64,
    ) -> OpResult<Vec<u8>> {
        self.inner.device_record_create(s, a, b, c, g)
    }
    fn device_record_verify(&mut self, r: &[u8], s: &[u64]) -> OpResult<(RecordFields, Vec<u8>)> {
        self.inner.device_record_verify(r, s)
    }
    fn safety_fingerprint(&mut self, k: &[u8]) -> OpResult<Vec<u8>> {
        self.inner.safety_fingerprint(k)
    }
    fn safety_code(&mut self, a: &[u8], b: &[u8]) -> OpResult<String> {
        // Defect 2: not order independent.
        self.inner.safety_code(a, b).map(|code| {
            if a > b {
                code.chars().rev().collect()
            } else {
                code
            }
        })
    }
    fn safety_qr_create(&mut self, o: &[u8], p: &[u8]) -> OpResult<Vec<u8>> {
        self.inner.safety_qr_create(o, p)
    }
    fn safety_qr_verify(&mut self, x: &[u8], o: &[u8], p: &[u8]) -> OpResult<()> {
        self.inner.safety_qr_verify(x, o, p)
    }
    fn did_key_encode(&mut self, k: &[u8]) -> OpResult<String> {
        self.inner.did_key_encode(k)
    }
    fn did_key_decode(&mut self, d: &str) -> OpResult<Vec<u8>> {
        Err(Failure::Unimplemented {
            feature: format!("did-key ({} bytes)", d.len()),
        })
    }
    fn invite_create(&mut self, i: &InviteCreate<'_>) -> OpResult<Vec<u8>> {
        self.inner.invite_create(i)
    }
    fn invite_verify(
        &mut self,
        i: &[u8],
        _now: u64,
        s: &[u64],
    ) -> OpResult<(InviteFields, Vec<u8>)> {
        // Defect 3: never checks expiry.
        self.inner.invite_verify(i, 0, s)
    }
    fn invite_encode(&mut self, i: &[u8], b: &str) -> OpResult<(String, Vec<u8>)> {
        self.inner.invite_encode(i, b)
    }
    fn invite_link_parse(&mut self, l: &str, now: u64, s: &[u64]) -> OpResult<Vec<u8>> {
        self.inner.invite_link_parse(l, now, s)
    }
    fn invite_qr_parse(&mut self, q: &[u8], now: u64, s: &[u64]) -> OpResult<Vec<u8>> {
        self.inner.invite_qr_parse(q, now, s)
    }
    fn ratchet_init(&mut self, r: Role, s: &[u8], a: &[u8], k: &[u8]) -> OpResult<Handle> {
        self.inner.ratchet_init(r, s, a, k)
    }
    fn ratchet_restore(&mut self, s: &[u8]) -> OpResult<Handle> {
        self.inner.ratchet_restore(s)
    }
    fn ratchet_encrypt(&mut self, h: Handle, p: &[u8], r: &[u8]) -> OpResult<Vec<u8>> {
        self.inner.ratchet_encrypt(h, p, r)
    }
    fn ratchet_encrypt_stream(&mut self, h: Handle, c: u32, s: &[u8]) -> OpResult<Vec<u8>> {
        self.inner.ratchet_encrypt_stream(h, c, s)
    }
    fn ratchet_decrypt(&mut self, h: Handle, m: &[u8]) -> OpResult<Vec<u8>> {
        // Defect 4: a message whose key is gone "opens" to nothing instead of failing.
        match self.inner.ratchet_decrypt(h, m) {
            Err(Failure::Error { class }) if class == "ratchet.replay" => Ok(Vec::new()),
            other => other,
        }
    }
    fn ratchet_decrypt_event(&mut self, h: Handle, m: &[u8]) -> OpResult<Vec<u8>> {
        // Defect 6: commits the ratchet before the padding and the event are checked
        // (ENV-09).
        quietwire_conformance::shim::server::committed_event(&mut self.inner, h, m)
    }
    fn ratchet_snapshot(&mut self, h: Handle) -> OpResult<Vec<u8>> {
        self.inner.ratchet_snapshot(h)
    }
    fn event_decode(&mut self, e: &[u8]) -> OpResult<DecodedEvent> {
        self.inner.event_decode(e)
    }
    fn event_device_record(
        &mut self,
        p: &[u8],
        held: Option<u64>,
        r: &[u8],
        s: &[u64],
    ) -> OpResult<u64> {
        // Defect 7: a record of the generation kept replaces it (ENV-07 wants a higher one).
        self.inner
            .event_device_record(p, held.and_then(|g| g.checked_sub(1)), r, s)
    }
    fn relay_open(
        &mut self,
        l: &RelayLimits,
        c: &[u8],
        origin: &str,
        now: RelayTime,
    ) -> OpResult<(Handle, Vec<u8>)> {
        self.inner.relay_open(l, c, origin, now)
    }
    fn relay_handle(
        &mut self,
        h: Handle,
        r: &[u8],
        now: RelayTime,
        _store_unavailable: bool,
    ) -> OpResult<RelayHandled> {
        // Defect 5: writes to a failing store are acknowledged (never durable).
        self.inner.relay_handle(h, r, now, false)
    }
    // relay_frame_decode: not implemented.
}

#[test]
fn broken_implementation_fails_with_precise_case_ids() {
    let report = runner::run_all(
        &vector_dir(),
        &mut Broken {
            inner: Builtin::default(),
        },
    )
    .unwrap();
    assert!(!report.all_passed());
    let failed: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| format!("{}/{}", c.family, c.slug))
        .collect();
    let has = |id: &str| failed.iter().any(|f| f == id);
    assert!(has("cbor/trailing-byte"), "{failed:?}");
    assert!(has("safety_code/bob-alice"), "{failed:?}");
    assert!(has("invite/expired-at-boundary"), "{failed:?}");
    assert!(has("invite/expired-long-ago"), "{failed:?}");
    assert!(has("ratchet/replay-in-current-chain"), "{failed:?}");
    assert!(has("ratchet/eviction"), "{failed:?}");
    assert!(has("relay/store-unavailable"), "{failed:?}");
    assert!(has("ratchet/event-unpadded-first-message"), "{failed:?}");
    assert!(has("ratchet/event-schema-new-chain"), "{failed:?}");
    assert!(has("event/equal-generation-other-keys"), "{failed:?}");
    // Cases unaffected by the defects still pass.
    assert!(!has("safety_code/alice-bob"));
    assert!(!has("invite/valid-xwing"));
    assert!(!has("ratchet/in-order"));
    assert!(!has("ratchet/replay-of-forgotten-chain"));
    assert!(!has("relay/put-fetch-delete"));
    assert!(!has("ratchet/event-open"));
    assert!(!has("event/lower-generation"));
    assert!(!has("event/other-identity"));
    // A divergence is explained field by field, with the step's operation and side.
    let diverged = report
        .cases
        .iter()
        .find(|c| c.family == "ratchet" && c.slug == "event-unpadded-first-message")
        .unwrap();
    assert!(
        diverged
            .actual
            .contains("step 1 (decrypt-event by responder): snapshot digest")
            && diverged.actual.contains("field 5 (RK): expected"),
        "{}",
        diverged.actual
    );
    let case = |slug: &str| {
        report
            .cases
            .iter()
            .find(|c| c.family == "relay" && c.slug == slug)
            .unwrap()
    };
    assert!(
        case("store-unavailable")
            .actual
            .contains("step 1: error class None"),
        "{:?}",
        case("store-unavailable")
    );
    assert_eq!(case("frame-wake").outcome, Outcome::Unimplemented);
    let unimplemented = report.count(&Outcome::Unimplemented);
    assert!(
        unimplemented > 0
            && report
                .cases
                .iter()
                .filter(|c| c.family == "did_key")
                .all(|c| c.outcome != Outcome::Pass)
    );
    let summary = report.summary();
    assert!(summary.contains("Fail cbor/"), "{summary}");
    assert!(summary.contains("Unimplemented did_key/"), "{summary}");
}
