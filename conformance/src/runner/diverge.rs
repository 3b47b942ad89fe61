//! Locating a divergence in a ratchet session (spec/16-conformance-shim.md SHIM-07, §16.5):
//! when a step's snapshot digest differs, the reference implementation replays the script to
//! that step and the two snapshots are compared field by field (spec/06-ratchet.md RAT-10),
//! so the report names the state field that diverged, not only two digests.

use quietwire::cbor::{self, Int, Limits, Value};
use quietwire_test_vectors::families::ratchet::{SessionTest, Side, Step};

use super::ratchet::{self, Act};
use crate::builtin::Builtin;
use crate::implementation::Handle;

/// Decoding limits for snapshots in reports: the largest snapshot and its nesting.
const SNAPSHOT_LIMITS: Limits = Limits {
    max_input: 1 << 20,
    max_depth: 3,
    max_string: 1 << 20,
    max_items: 1 << 14,
};

/// The names of the ratchet snapshot's fields (RAT-10, and RAT-15 for keys 17 to 19).
fn field_name(key: Int) -> &'static str {
    match key.as_u64() {
        Some(1) => "version",
        Some(2) => "AD",
        Some(3) => "DHs (own ratchet secret)",
        Some(4) => "DHr (peer ratchet key)",
        Some(5) => "RK",
        Some(6) => "CKs",
        Some(7) => "CKr",
        Some(8) => "Ns",
        Some(9) => "Nr",
        Some(10) => "PN",
        Some(11) => "HKs",
        Some(12) => "HKr",
        Some(13) => "NHKs",
        Some(14) => "NHKr",
        Some(15) => "DH step pending",
        Some(16) => "skipped message keys",
        Some(17) => "KEMs (own ML-KEM-768 seed)",
        Some(18) => "KEMr (peer ML-KEM-768 encapsulation key)",
        Some(19) => "KEMct (the sending chain's ML-KEM ciphertext)",
        _ => "unknown field",
    }
}

/// The operation and side of a step, as reports name them: `decrypt by responder`.
pub(super) fn step_name(step: &Step) -> String {
    let (op, side) = match step {
        Step::Encrypt { side, .. } => ("encrypt", side),
        Step::EncryptDiscard { side, .. } => ("encrypt-discard", side),
        Step::Decrypt { side, .. } => ("decrypt", side),
        Step::DecryptEvent { side, .. } => ("decrypt-event", side),
    };
    format!("{op} by {}", side_name(side))
}

const fn side_name(side: &Side) -> &'static str {
    match side {
        Side::Initiator => "initiator",
        Side::Responder => "responder",
        Side::Attacker => "attacker",
    }
}

/// The reference implementation's snapshot of the side acting in step `upto` after that step,
/// replaying `t` from its start; `None` if the reference cannot replay it.
pub(super) fn reference_snapshot(t: &SessionTest, upto: usize) -> Option<Vec<u8>> {
    let mut imp = Builtin::default();
    let initiator = match &t.initiator_snapshot {
        Some(s) => ratchet::restore(&mut imp, s).ok()?,
        None => ratchet::init(&mut imp, "initiator", t).ok()?,
    };
    let responder = ratchet::init(&mut imp, "responder", t).ok()?;
    let attacker = match &t.attacker_snapshot {
        Some(s) => Some(ratchet::restore(&mut imp, s).ok()?),
        None => None,
    };
    let handle = |side: &Side| -> Option<Handle> {
        match side {
            Side::Initiator => Some(initiator),
            Side::Responder => Some(responder),
            Side::Attacker => attacker,
        }
    };
    let mut acting = None;
    for step in t.steps.iter().take(upto.checked_add(1)?) {
        // Outcomes were checked by the run under test; the replay only follows the script.
        let side = handle(ratchet::side(step))?;
        let _ = Act::of_step(step, side).call(&mut imp);
        acting = Some(side);
    }
    ratchet::snapshot(&mut imp, acting?).ok()
}

/// The fields in which two ratchet snapshots differ, one per line, or a note that they do
/// not decode as snapshots.
pub(crate) fn snapshot_diff(expected: &[u8], actual: &[u8]) -> String {
    let decode = |b: &[u8]| match cbor::decode(b, &SNAPSHOT_LIMITS) {
        Ok(Value::Map(map)) => Some(map),
        _ => None,
    };
    let (Some(want), Some(got)) = (decode(expected), decode(actual)) else {
        return format!(
            "the snapshots do not both decode as maps (expected {}, got {})",
            short(expected),
            short(actual)
        );
    };
    let mut keys: Vec<&Int> = want.keys().chain(got.keys()).collect();
    keys.sort();
    keys.dedup();
    let lines: Vec<String> = keys
        .into_iter()
        .filter_map(|key| {
            let (w, g) = (want.get(key), got.get(key));
            (w != g).then(|| {
                format!(
                    "field {} ({}): expected {}, got {}",
                    key.as_i128(),
                    field_name(*key),
                    show(w),
                    show(g)
                )
            })
        })
        .collect();
    if lines.is_empty() {
        "the snapshots decode to the same fields (their encodings differ)".to_owned()
    } else {
        lines.join("; ")
    }
}

fn show(value: Option<&Value>) -> String {
    match value {
        None => "absent".to_owned(),
        Some(Value::Array(items)) => format!(
            "{} entries, SHA-256 {}",
            items.len(),
            short(&sha(&cbor::encode(&Value::Array(items.clone()))))
        ),
        Some(v) => match v {
            Value::Bytes(b) => short(b),
            other => cbor_text(other),
        },
    }
}

fn cbor_text(value: &Value) -> String {
    match value {
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.as_i128().to_string(),
        other => short(&cbor::encode(other)),
    }
}

fn sha(bytes: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).to_vec()
}

fn short(bytes: &[u8]) -> String {
    let h = hex::encode(bytes);
    match h.get(..16) {
        Some(head) if h.len() > 16 => format!("{head}…"),
        _ => h,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use quietwire::keys::X25519Secret;
    use quietwire::ratchet::Ratchet;

    #[test]
    fn a_diff_names_the_fields_that_differ() {
        let key = X25519Secret::from_bytes(&[7; 32]);
        let r = Ratchet::responder(&[1; 32], key, &[2; 32]);
        let mut other = r.clone();
        let mut i = Ratchet::initiator(
            &[1; 32],
            *X25519Secret::from_bytes(&[7; 32]).public(),
            &[2; 32],
        );
        let mut rng = quietwire_test_vectors::seeds::ReplayRng::new(&[&[9; 56]]);
        let m = i.encrypt(b"x", &mut rng).unwrap();
        other.decrypt(&m).unwrap();
        let diff = snapshot_diff(&r.snapshot(), &other.snapshot());
        assert!(diff.contains("field 9 (Nr): expected 0, got 1"), "{diff}");
        assert!(diff.contains("(RK)"), "{diff}");
        assert!(!diff.contains("(AD)"), "{diff}");
        assert_eq!(
            snapshot_diff(&r.snapshot(), &r.snapshot()),
            "the snapshots decode to the same fields (their encodings differ)"
        );
    }
}
