//! Domain-separation labels.
//!
//! Specified in [`spec/02-suites-and-labels.md`](../../spec/02-suites-and-labels.md). Every
//! signature, KDF, HPKE `info` and MAC input is the canonical CBOR array
//! `[label, context...]`, so no two purposes and no two splits of a context can produce
//! the same bytes.

use crate::cbor::{self, Value};

/// A registered, versioned label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Label {
    /// Signature over a device record body.
    DeviceRecord,
    /// Signature over an invite body.
    Invite,
    /// Initial hash of a safety-code fingerprint.
    SafetyCode,
}

impl Label {
    /// Every registered label.
    pub const ALL: [Label; 3] = [Label::DeviceRecord, Label::Invite, Label::SafetyCode];

    /// The label string of the registry.
    pub const fn as_str(self) -> &'static str {
        match self {
            Label::DeviceRecord => "quietwire/v1/device-record",
            Label::Invite => "quietwire/v1/invite",
            Label::SafetyCode => "quietwire/v1/safety-code",
        }
    }

    /// The labeled input `[label, context...]` with byte-string context items.
    pub fn input(self, context: &[&[u8]]) -> Vec<u8> {
        let mut items = Vec::with_capacity(context.len() + 1);
        items.push(Value::from(self.as_str()));
        items.extend(context.iter().map(|c| Value::from(*c)));
        cbor::encode(&Value::Array(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labeled_input_is_a_cbor_array() {
        let input = Label::Invite.input(&[b"ab"]);
        let mut expected = vec![0x82, 0x73];
        expected.extend_from_slice(b"quietwire/v1/invite");
        expected.extend_from_slice(&[0x42, b'a', b'b']);
        assert_eq!(input, expected);
    }
}
