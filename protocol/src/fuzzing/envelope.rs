//! Invariant checks: Envelopes and events (spec/07-envelope.md).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use super::check_class;

/// Envelopes and padding: an accepted envelope re-encodes to the input and its blob is a
/// bucket; independently, padding removal either fails with `envelope.padding` or finds
/// content that, followed by `0x80` and zeros, is exactly the input.
pub fn envelope(data: &[u8]) -> bool {
    use crate::envelope::{self as env, Envelope};
    if let Ok(content) = env::unpad(data) {
        assert_eq!(data.get(content.len()), Some(&0x80));
        assert!(data.iter().skip(content.len() + 1).all(|b| *b == 0));
    }
    match Envelope::from_bytes(data) {
        Ok(decoded) => {
            assert_eq!(
                decoded.to_bytes(),
                data,
                "decode -> encode is not the identity"
            );
            assert!(env::is_bucket(decoded.blob().len()));
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Events: an accepted event re-encodes to exactly the input and decodes again to the same
/// event; a refusal carries a registered class.
pub fn event(data: &[u8]) -> bool {
    use crate::event::Event;
    match Event::from_bytes(data) {
        Ok(decoded) => {
            let encoded = decoded.to_bytes().unwrap();
            assert_eq!(encoded, data, "decode -> encode is not the identity");
            assert_eq!(Event::from_bytes(&encoded).unwrap(), decoded);
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}
