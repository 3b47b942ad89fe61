//! Invariant checks shared by the cargo-fuzz targets in `fuzz/` and the corpus replay test.
//!
//! Compiled only with the `fuzzing` feature. Each function takes arbitrary bytes, runs one
//! decoder on them and **panics** when an invariant breaks, which is how a fuzzer reports
//! a finding. The invariants, for every decoder:
//!
//! - no panic, whatever the input (the decoders themselves never panic; these checks do);
//! - an accepted input re-encodes to exactly the bytes received (spec `ENC-10`), so there
//!   is one encoding per value and nothing is lost or invented in between;
//! - a re-encoded value decodes to the same value;
//! - every error carries a class from the closed registry, named the same way both ways.
//!
//! The functions return whether the input was accepted, so a replay can count coverage. One
//! module per family of targets, as under `fuzz/fuzz_targets/`; [`TARGETS`] lists them all.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod delivery;
mod encoding;
mod envelope;
mod handshake;
mod identity;
mod ratchet;
mod relay;

pub use delivery::{delivery_outbox, delivery_snapshot};
pub use encoding::{cbor_value, did_key};
pub use envelope::{envelope, event};
pub use handshake::{
    HANDSHAKE_NOW, handshake_accept, handshake_inviter, reconnect_contact, reconnect_open,
};
pub use identity::{
    device_keys, device_list, device_record, invite, invite_link, invite_qr, safety_qr,
};
pub use ratchet::{
    ratchet_pq_header, ratchet_pq_session, ratchet_session, ratchet_snapshot, session_snapshot,
};
pub use relay::{
    RELAY_LIMITS, RELAY_T0, RelayRecord, VECTOR_ORIGIN, mailbox_proof, relay_core, relay_input,
    relay_records, relay_request, vector_origin,
};

use crate::{Error, ErrorClass, UnixTime};

/// The `now` used by the invite targets: before every expiry but zero.
pub const FUZZ_NOW: UnixTime = UnixTime(0);

fn check_class(error: &Error) {
    let class = error.class();
    assert_eq!(
        ErrorClass::from_name(class.as_str()),
        Some(class),
        "class {class:?} does not round trip"
    );
}

/// An invariant check: runs one decoder on the input, returns whether it was accepted.
pub type Check = fn(&[u8]) -> bool;

/// Every target, by the name of its file under `fuzz/fuzz_targets/`.
pub const TARGETS: &[(&str, Check)] = &[
    ("cbor_value", cbor_value),
    ("device_record", device_record),
    ("invite", invite),
    ("invite_link", invite_link),
    ("invite_qr", invite_qr),
    ("did_key", did_key),
    ("safety_qr", safety_qr),
    ("ratchet_snapshot", ratchet_snapshot),
    ("ratchet_session", ratchet_session),
    ("ratchet_pq_session", ratchet_pq_session),
    ("ratchet_pq_header", ratchet_pq_header),
    ("handshake_accept", handshake_accept),
    ("reconnect_open", reconnect_open),
    ("envelope", envelope),
    ("event", event),
    ("mailbox_proof", mailbox_proof),
    ("relay_request", relay_request),
    ("relay_core", relay_core),
    ("delivery_snapshot", delivery_snapshot),
    ("delivery_outbox", delivery_outbox),
    ("backup_header", crate::backup::fuzzing::header),
    ("backup_stream", crate::backup::fuzzing::stream),
    ("backup_unlock", crate::backup::fuzzing::unlock),
    ("backup_confirm", crate::backup::fuzzing::confirm),
    ("device_keys", device_keys),
    ("device_list", device_list),
    ("session_snapshot", session_snapshot),
];
