//! The container prefix and header (`XBK-01` to `XBK-06`): magic, header length, the
//! canonical-CBOR header with its core and unlock entries, checked in the spec's order.

use std::collections::BTreeMap;

use super::kdf::{KdfParams, SALT_LEN};
use super::{MAGIC, MAX_HEADER};
use crate::cbor::{self, Int, Limits, Value};
use crate::error::{ErrorClass, Result};
use crate::schema::Fields;
use crate::suite::{Suite, SuitePolicy};

const HEADER_LIMITS: Limits = Limits {
    max_input: MAX_HEADER,
    max_depth: 4,
    max_string: 4096,
    max_items: 16,
};

const CORE_LIMITS: Limits = Limits {
    max_input: 4096,
    max_depth: 3,
    max_string: 64,
    max_items: 16,
};

/// A recovery-key or passphrase entry's `check` and `wrapped` (`XBK-08`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Wrap {
    pub(crate) check: [u8; 32],
    pub(crate) wrapped: [u8; 32],
}

/// A passphrase entry: salt, parameters and the wrap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PassphraseEntry {
    pub(crate) salt: [u8; SALT_LEN],
    pub(crate) params: KdfParams,
    pub(crate) wrap: Wrap,
}

/// A transfer entry: HPKE to the new device (`XBK-12`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TransferEntry {
    pub(crate) suite: Suite,
    pub(crate) enc: Vec<u8>,
    pub(crate) ct: Vec<u8>,
}

/// The unlock entries of a header (`XBK-06`), with any extension entries kept as received.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Entries {
    pub(crate) recovery: Option<Wrap>,
    pub(crate) passphrase: Option<PassphraseEntry>,
    pub(crate) transfer: Option<TransferEntry>,
}

/// Which unlock methods a file offers, reported before any secret is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MethodSet {
    /// A recovery-key entry.
    pub recovery_key: bool,
    /// A passphrase entry.
    pub passphrase: bool,
    /// A transfer entry, and the suite of the key it needs.
    pub transfer: Option<Suite>,
}

/// A decoded, checked header (`XBK-03`): the bytes as received and the fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub(crate) bytes: Vec<u8>,
    pub(crate) core: Vec<u8>,
    pub(crate) file_id: [u8; 32],
    pub(crate) pin_salt: [u8; SALT_LEN],
    pub(crate) pin_kdf: KdfParams,
    pub(crate) entries: Entries,
}

impl Header {
    /// The methods this file can be unlocked with.
    pub fn methods(&self) -> MethodSet {
        MethodSet {
            recovery_key: self.entries.recovery.is_some(),
            passphrase: self.entries.passphrase.is_some(),
            transfer: self.entries.transfer.as_ref().map(|t| t.suite),
        }
    }

    /// The file id: random, the HKDF salt of every key of the file.
    pub fn file_id(&self) -> &[u8; 32] {
        &self.file_id
    }

    /// The Argon2id parameters of the chat PIN.
    pub fn pin_kdf(&self) -> KdfParams {
        self.pin_kdf
    }

    /// The header bytes as received.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// `MAGIC ‖ u32be(header_len) ‖ header`: what the header MAC covers.
    pub(crate) fn prefix(&self) -> Vec<u8> {
        prefix(&self.bytes)
    }
}

/// `MAGIC ‖ u32be(len) ‖ header`.
pub(crate) fn prefix(header: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + header.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&(header.len() as u32).to_be_bytes());
    out.extend_from_slice(header);
    out
}

/// Checks the magic (`XBK-01`); `bytes` holds the first four bytes of the file.
pub(crate) fn check_magic(bytes: &[u8]) -> Result<()> {
    match bytes {
        b"QWB1" => Ok(()),
        [b'Q', b'W', b'B', b'2'..=b'9'] => Err(ErrorClass::BackupVersion.into()),
        _ => Err(ErrorClass::BackupMagic.into()),
    }
}

/// Reads `header_len` (`XBK-02`).
pub(crate) fn header_len(bytes: [u8; 4]) -> Result<usize> {
    let len = u32::from_be_bytes(bytes) as usize;
    if len > MAX_HEADER {
        return Err(ErrorClass::CborLimitInput.into());
    }
    Ok(len)
}

fn bytes(b: &[u8]) -> Value {
    Value::Bytes(b.to_vec())
}

fn map(entries: Vec<(u64, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Int::uint(k), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn kdf_map(salt: &[u8; SALT_LEN], params: &KdfParams) -> Vec<(u64, Value)> {
    vec![
        (1, bytes(salt)),
        (2, Value::uint(params.m)),
        (3, Value::uint(params.t)),
        (4, Value::uint(params.p)),
    ]
}

/// Encodes a core: version, file id, PIN KDF parameters.
pub(crate) fn encode_core(file_id: &[u8; 32], pin_salt: &[u8; 16], pin: &KdfParams) -> Vec<u8> {
    cbor::encode(&map(vec![
        (1, Value::uint(1)),
        (2, bytes(file_id)),
        (3, map(kdf_map(pin_salt, pin))),
    ]))
}

/// Encodes a header from its core bytes and entries.
pub(crate) fn encode_header(core: &[u8], entries: &Entries) -> Vec<u8> {
    let mut unlock = Vec::new();
    if let Some(w) = &entries.recovery {
        unlock.push((1, map(vec![(1, bytes(&w.check)), (2, bytes(&w.wrapped))])));
    }
    if let Some(p) = &entries.passphrase {
        let mut fields = kdf_map(&p.salt, &p.params);
        fields.push((5, bytes(&p.wrap.check)));
        fields.push((6, bytes(&p.wrap.wrapped)));
        unlock.push((2, map(fields)));
    }
    if let Some(t) = &entries.transfer {
        unlock.push((
            3,
            map(vec![
                (1, Value::uint(t.suite.id())),
                (2, bytes(&t.enc)),
                (3, bytes(&t.ct)),
            ]),
        ));
    }
    cbor::encode(&map(vec![
        (1, Value::uint(1)),
        (2, bytes(core)),
        (3, map(unlock)),
    ]))
}

/// A version-less nested map: unknown non-negative keys are critical, negative ones are
/// ignored extensions.
pub(crate) fn nested(value: Value, known: &[u64]) -> Result<Fields> {
    let Value::Map(mut entries) = value else {
        return Err(ErrorClass::SchemaWrongType.into());
    };
    if entries
        .keys()
        .any(|k| k.as_u64().is_some_and(|k| !known.contains(&k)))
    {
        return Err(ErrorClass::SchemaUnknownCritical.into());
    }
    entries.retain(|k, _| !k.is_negative());
    Fields::nested_closed(Value::Map(entries), known)
}

fn kdf_fields(f: &mut Fields) -> Result<([u8; SALT_LEN], KdfParams)> {
    let salt = f.bytes_exact::<SALT_LEN>(1)?;
    let m = f.uint(2)?;
    let t = f.uint(3)?;
    let p = f.uint(4)?;
    Ok((salt, KdfParams { m, t, p }))
}

fn wrap_fields(f: &mut Fields, check: u64, wrapped: u64) -> Result<Wrap> {
    Ok(Wrap {
        check: f.bytes_exact::<32>(check)?,
        wrapped: f.bytes_exact::<32>(wrapped)?,
    })
}

/// Decodes and checks a complete header (`XBK-03` to `XBK-06`), in the spec's order.
///
/// # Errors
/// `cbor.*`, `schema.*`, `backup.kdf_params`, `suite.*`, `backup.unlock_set`.
pub(crate) fn decode(bytes: &[u8], suites: &SuitePolicy) -> Result<Header> {
    let value = cbor::decode(bytes, &HEADER_LIMITS)?;
    let mut f = Fields::new(value, &[1, 2, 3])?;
    let core = f.bytes(2)?;
    let unlock = match f.value(3)? {
        Value::Map(m) => m,
        _ => return Err(ErrorClass::SchemaWrongType.into()),
    };
    // The core, as its own input.
    let mut c = Fields::new(cbor::decode(&core, &CORE_LIMITS)?, &[1, 2, 3])?;
    let file_id = c.bytes_exact::<32>(2)?;
    let mut k = nested(c.value(3)?, &[1, 2, 3, 4])?;
    let (pin_salt, pin_kdf) = kdf_fields(&mut k)?;
    pin_kdf.check_valid()?;
    // The unlock map.
    if unlock
        .keys()
        .any(|k| k.as_u64().is_some_and(|k| !(1..=3).contains(&k)))
    {
        return Err(ErrorClass::SchemaUnknownCritical.into());
    }
    let mut unlock = Fields::nested_closed(
        Value::Map(
            unlock
                .into_iter()
                .filter(|(k, _)| !k.is_negative())
                .collect(),
        ),
        &[1, 2, 3],
    )?;
    let mut entries = Entries::default();
    if unlock.has(1) {
        let mut e = nested(unlock.value(1)?, &[1, 2])?;
        entries.recovery = Some(wrap_fields(&mut e, 1, 2)?);
    }
    if unlock.has(2) {
        let mut e = nested(unlock.value(2)?, &[1, 2, 3, 4, 5, 6])?;
        let (salt, params) = kdf_fields(&mut e)?;
        let wrap = wrap_fields(&mut e, 5, 6)?;
        params.check_valid()?;
        entries.passphrase = Some(PassphraseEntry { salt, params, wrap });
    }
    if unlock.has(3) {
        let mut e = nested(unlock.value(3)?, &[1, 2, 3])?;
        let suite = e.uint(1)?;
        let enc = e.bytes(2)?;
        let ct = e.bytes_exact::<48>(3)?.to_vec();
        let suite = suites.check(suite)?;
        if enc.len() != suite.hpke_enc_len() {
            return Err(ErrorClass::SchemaLength.into());
        }
        entries.transfer = Some(TransferEntry { suite, enc, ct });
    }
    let any = entries.recovery.is_some() || entries.passphrase.is_some();
    match (&entries.transfer, any) {
        (None, false) | (Some(_), true) => return Err(ErrorClass::BackupUnlockSet.into()),
        _ => {}
    }
    Ok(Header {
        bytes: bytes.to_vec(),
        core,
        file_id,
        pin_salt,
        pin_kdf,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magics() {
        assert!(check_magic(b"QWB1").is_ok());
        for (m, class) in [
            (b"QWB2", ErrorClass::BackupVersion),
            (b"QWB9", ErrorClass::BackupVersion),
            (b"QWB0", ErrorClass::BackupMagic),
            (b"qwb1", ErrorClass::BackupMagic),
            (b"QWI1", ErrorClass::BackupMagic),
        ] {
            assert_eq!(check_magic(m).unwrap_err().class(), class);
        }
        assert_eq!(header_len([0, 1, 0, 0]).unwrap(), 65_536);
        assert_eq!(
            header_len([0, 1, 0, 1]).unwrap_err().class(),
            ErrorClass::CborLimitInput
        );
    }

    #[test]
    fn header_round_trip_and_sets() {
        let core = encode_core(&[1; 32], &[2; 16], &KdfParams::FLOOR);
        let wrap = Wrap {
            check: [3; 32],
            wrapped: [4; 32],
        };
        let entries = Entries {
            recovery: Some(wrap.clone()),
            ..Entries::default()
        };
        let bytes = encode_header(&core, &entries);
        let header = decode(&bytes, &SuitePolicy::ALL).unwrap();
        assert_eq!(header.entries, entries);
        assert_eq!(header.core, core);
        assert_eq!(encode_header(&header.core, &header.entries), bytes);
        let empty = encode_header(&core, &Entries::default());
        assert_eq!(
            decode(&empty, &SuitePolicy::ALL).unwrap_err().class(),
            ErrorClass::BackupUnlockSet
        );
        let mixed = Entries {
            recovery: Some(wrap),
            transfer: Some(TransferEntry {
                suite: Suite::X25519,
                enc: vec![9; 32],
                ct: vec![0; 48],
            }),
            ..Entries::default()
        };
        assert_eq!(
            decode(&encode_header(&core, &mixed), &SuitePolicy::ALL)
                .unwrap_err()
                .class(),
            ErrorClass::BackupUnlockSet
        );
    }
}
