//! The sealed payload of a handshake message (`spec/05-handshake.md`, payload; CDDL rule
//! `handshake-payload`).

use std::collections::BTreeMap;

use crate::cbor::{self, Int, Limits, Value};
use crate::error::Result;
use crate::schema::{self, Fields};

/// Largest encoded payload: a device record (at most 4096 bytes) and the fixed fields.
pub const MAX_PAYLOAD: usize = 4096 + 256;

const LIMITS: Limits = Limits::DEFAULT.with_max_input(MAX_PAYLOAD);

mod key {
    pub(super) const RECORD: u64 = 2;
    pub(super) const MAILBOX: u64 = 3;
    pub(super) const SIGNATURE: u64 = 4;
    pub(super) const KNOWN: &[u64] = &[1, RECORD, MAILBOX, SIGNATURE];
}

/// What the acceptor tells the inviter, inside HPKE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Payload {
    /// The acceptor's signed device record, as bytes (verified by the caller).
    pub(crate) record: Vec<u8>,
    /// The mailbox the inviter writes to.
    pub(crate) mailbox: [u8; 32],
    /// The acceptor's signature over the transcript hash.
    pub(crate) signature: [u8; 64],
    /// Non-critical extensions, ignored.
    pub(crate) extensions: BTreeMap<Int, Value>,
}

impl Payload {
    pub(crate) fn decode(bytes: &[u8]) -> Result<Payload> {
        let mut f = Fields::new(cbor::decode(bytes, &LIMITS)?, key::KNOWN)?;
        let record = f.bytes(key::RECORD)?;
        let mailbox = f.bytes_exact::<32>(key::MAILBOX)?;
        let signature = f.bytes_exact::<64>(key::SIGNATURE)?;
        Ok(Payload {
            record,
            mailbox,
            signature,
            extensions: f.into_extensions(),
        })
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        cbor::encode(&schema::build_map(
            vec![
                (key::RECORD, Value::from(self.record.as_slice())),
                (key::MAILBOX, Value::from(&self.mailbox[..])),
                (key::SIGNATURE, Value::from(&self.signature[..])),
            ],
            &self.extensions,
        ))
    }
}
