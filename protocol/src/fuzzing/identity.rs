//! Invariant checks: Device records, invites, invite links and QR payloads, safety-code QR payloads (spec/03-identity.md, spec/04-contact-establishment.md).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use super::FUZZ_NOW;
use super::check_class;
use crate::cbor::{self, Limits};
use crate::identity::{DeviceKeys, MAX_DEVICES, SignedDeviceList, SignedDeviceRecord, newer_list};
use crate::invite::SignedInvite;
use crate::safety::SafetyQr;
use crate::suite::SuitePolicy;
use crate::{ErrorClass, UnixTime};

/// The base a fuzzed link is re-encoded with when its own base is not kept.
const LINK_BASE: &str = "https://quietwire.invalid/invite";

/// Stored device keys (IDN-07): accepted bytes re-encode exactly, and the keys sign a device
/// record that verifies.
pub fn device_keys(data: &[u8]) -> bool {
    match DeviceKeys::from_bytes(data) {
        Ok(keys) => {
            assert_eq!(
                keys.to_bytes().as_slice(),
                data,
                "device keys do not round trip"
            );
            let record = keys.signed_record(0).to_bytes();
            let verified = SignedDeviceRecord::from_bytes(&record, &SuitePolicy::ALL);
            assert!(verified.is_ok(), "loaded keys sign an invalid record");
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Signed device lists (DEV-02, DEV-03): accepted bytes re-encode exactly; the devices are
/// 1 to 16, strictly ascending; the list is accepted for its own identity over any lower held
/// version and refused as stale at its own version or above.
pub fn device_list(data: &[u8]) -> bool {
    match SignedDeviceList::from_bytes(data) {
        Ok(signed) => {
            assert_eq!(
                signed.to_bytes(),
                data,
                "device list does not re-encode to its input"
            );
            let list = signed.list();
            let devices = list.devices();
            assert!(!devices.is_empty() && devices.len() <= MAX_DEVICES);
            assert!(
                devices
                    .windows(2)
                    .all(|w| w[0].as_bytes() < w[1].as_bytes()),
                "devices not strictly ascending"
            );
            assert!(devices.iter().all(|d| list.contains(d)));
            let identity = list.identity_key();
            let version = list.version();
            assert!(newer_list(data, identity, None).is_ok());
            if let Some(lower) = version.checked_sub(1) {
                assert!(newer_list(data, identity, Some(lower)).is_ok());
            }
            for held in [version, version.saturating_add(1)] {
                let stale = newer_list(data, identity, Some(held)).unwrap_err();
                assert_eq!(stale.class(), ErrorClass::DeviceStale);
            }
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Signed device records: accepted bytes re-encode exactly, the body is the signed body,
/// and a record accepted under every suite is refused or accepted consistently under a
/// policy that excludes its own suite.
pub fn device_record(data: &[u8]) -> bool {
    match SignedDeviceRecord::from_bytes(data, &SuitePolicy::ALL) {
        Ok(record) => {
            assert_eq!(
                record.to_bytes(),
                data,
                "device record does not re-encode to its input"
            );
            let again =
                SignedDeviceRecord::from_bytes(&record.to_bytes(), &SuitePolicy::ALL).unwrap();
            assert_eq!(again.record(), record.record());
            assert_eq!(again.body(), record.body());
            let suite = record.record().suite();
            let others: Vec<_> = crate::suite::Suite::ALL
                .into_iter()
                .filter(|s| *s != suite)
                .collect();
            let refused =
                SignedDeviceRecord::from_bytes(data, &SuitePolicy::only(&others)).unwrap_err();
            assert_eq!(refused.class(), ErrorClass::SuiteDisallowed);
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Signed invites at [`FUZZ_NOW`]: accepted bytes re-encode exactly; the same invite is
/// expired exactly at its expiry and valid one second before; its QR and link forms parse
/// back to the same invite.
pub fn invite(data: &[u8]) -> bool {
    match SignedInvite::from_bytes(data, FUZZ_NOW, &SuitePolicy::ALL) {
        Ok(invite) => {
            assert_eq!(
                invite.to_bytes(),
                data,
                "invite does not re-encode to its input"
            );
            let expires = invite.invite().expires();
            let at_expiry = SignedInvite::from_bytes(data, expires, &SuitePolicy::ALL).unwrap_err();
            assert_eq!(at_expiry.class(), ErrorClass::InviteExpired);
            let before = UnixTime(expires.0.saturating_sub(1));
            assert!(SignedInvite::from_bytes(data, before, &SuitePolicy::ALL).is_ok());
            let from_qr =
                SignedInvite::from_qr(&invite.to_qr(), FUZZ_NOW, &SuitePolicy::ALL).unwrap();
            assert_eq!(from_qr, invite);
            let from_link = SignedInvite::from_link(
                &invite.to_link(LINK_BASE).unwrap(),
                FUZZ_NOW,
                &SuitePolicy::ALL,
            )
            .unwrap();
            assert_eq!(from_link, invite);
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Invite links: an accepted link is reproduced exactly from its base and invite.
pub fn invite_link(data: &[u8]) -> bool {
    let Ok(link) = core::str::from_utf8(data) else {
        return false;
    };
    match SignedInvite::from_link(link, FUZZ_NOW, &SuitePolicy::ALL) {
        Ok(invite) => {
            let (base, _) = link.split_once('#').unwrap();
            assert_eq!(
                invite.to_link(base).unwrap(),
                link,
                "link does not re-encode to its input"
            );
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Invite QR payloads: an accepted payload re-encodes exactly.
pub fn invite_qr(data: &[u8]) -> bool {
    match SignedInvite::from_qr(data, FUZZ_NOW, &SuitePolicy::ALL) {
        Ok(invite) => {
            assert_eq!(
                invite.to_qr(),
                data,
                "QR payload does not re-encode to its input"
            );
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Safety-code QR payloads: the map is canonical (checked through the CBOR layer), and the
/// decoded pair re-encodes to a payload that decodes to the same pair. Extensions are
/// dropped on re-encoding, so the payload itself is compared only when it has none.
pub fn safety_qr(data: &[u8]) -> bool {
    match SafetyQr::from_bytes(data) {
        Ok(qr) => {
            let body = data.strip_prefix(b"QWS1").unwrap();
            assert_eq!(
                cbor::encode(&cbor::decode(body, &Limits::DEFAULT).unwrap()),
                body
            );
            let encoded = qr.to_bytes();
            assert_eq!(SafetyQr::from_bytes(&encoded), Ok(qr));
            if encoded.len() == data.len() {
                assert_eq!(encoded, data);
            }
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}
