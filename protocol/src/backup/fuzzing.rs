//! Fuzz checks of the backup format (crate feature `fuzzing`), wrapped by the targets
//! `backup_header`, `backup_stream`, `backup_unlock` and `backup_confirm` in `fuzz/` and
//! replayed by
//! `test-vectors/tests/corpus_replay.rs`. Each panics when an invariant breaks.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::header::{self, Header};
use super::run::Split;
use super::{
    Decoder, DecoderConfig, Encoder, Event, ExportOptions, HiddenOutcome, KdfCaps, KdfParams,
    Methods, RecoveryKey, Unlock,
};
use crate::ErrorClass;
use crate::cbor::{self, Limits, Value};
use crate::suite::SuitePolicy;

/// Transfer confirmations (XBK-33), opened with the suite-2 transfer key and the code of the
/// `xbk-confirm-*` vectors (so their messages are valid seeds). Invariants: opening is
/// deterministic; a refusal carries a registered class; an opened confirmation gives a
/// six-digit code, its digest passes the digest check and any other digest fails it.
pub fn confirm(data: &[u8]) -> bool {
    use super::confirm::{check_file_digest, open_confirmation};
    use crate::keys::KemSecret;
    use crate::suite::Suite;
    static KEY: OnceLock<KemSecret> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        let seed: [u8; 32] =
            Sha256::digest(b"quietwire test vectors v1/backup/confirm/x25519").into();
        KemSecret::from_seed(Suite::X25519, &seed)
    });
    const CODE: &[u8] = b"quietwire:transfer#t1.example-code";
    let first = open_confirmation(key, CODE, data);
    let second = open_confirmation(key, CODE, data);
    match (first, second) {
        (Ok((digest, sas)), Ok(again)) => {
            assert_eq!((digest, sas), again, "opening is not deterministic");
            assert_eq!(sas.digits().len(), 6);
            assert!(check_file_digest(&digest, &digest).is_ok());
            let mut other = digest;
            other[0] ^= 1;
            assert_eq!(
                check_file_digest(&digest, &other).unwrap_err().class(),
                ErrorClass::BackupTransferDigest
            );
            true
        }
        (Err(a), Err(b)) => {
            assert_eq!(ErrorClass::from_name(a.class().as_str()), Some(a.class()));
            assert_eq!(a.class(), b.class(), "opening is not deterministic");
            false
        }
        _ => panic!("opening is not deterministic"),
    }
}

/// The recovery key of every fuzz file.
fn key() -> RecoveryKey {
    RecoveryKey::from_bytes(&[0x5a; 32])
}

/// A deterministic generator for the fuzz files: SHA-256 of a seed and a counter.
struct FuzzRng {
    seed: [u8; 32],
    counter: u64,
}

impl rand_core::TryRng for FuzzRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(32) {
            let mut h = Sha256::new();
            h.update(self.seed);
            h.update(self.counter.to_le_bytes());
            self.counter += 1;
            let out = h.finalize();
            chunk.copy_from_slice(&out[..chunk.len()]);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for FuzzRng {}

fn has_negative_key(value: &Value) -> bool {
    match value {
        Value::Map(m) => m
            .iter()
            .any(|(k, v)| k.is_negative() || has_negative_key(v)),
        Value::Array(items) => items.iter().any(has_negative_key),
        _ => false,
    }
}

/// `backup_header`: a file prefix. A header that decodes re-encodes to exactly its bytes
/// when it carries no extensions (then its core does too), decodes again to the same
/// header, and the streaming decoder reports the same class as the header decoder.
pub fn header(data: &[u8]) -> bool {
    let parsed = (|| {
        header::check_magic(data.get(..4)?).ok()?;
        let len = header::header_len(data.get(4..8)?.try_into().ok()?).ok()?;
        data.get(8..8 + len)
    })();
    let mut decoder = Decoder::new(DecoderConfig::default());
    decoder
        .unlock(Unlock::RecoveryKey(key().to_text()), None)
        .unwrap();
    let pushed = decoder.push(data).map(|_| ());
    let Some(bytes) = parsed else {
        if let Err(e) = pushed {
            assert_eq!(ErrorClass::from_name(e.class().as_str()), Some(e.class()));
        }
        return false;
    };
    match header::decode(bytes, &SuitePolicy::ALL) {
        Ok(h) => {
            let value = cbor::decode(bytes, &Limits::DEFAULT).unwrap();
            // The core is its own item: extensions in one say nothing about the other.
            if !has_negative_key(&value) {
                let again = header::encode_header(&h.core, &h.entries);
                assert_eq!(again, bytes, "header does not re-encode to its input");
            }
            let core_value = cbor::decode(&h.core, &Limits::DEFAULT).unwrap();
            if !has_negative_key(&core_value) {
                let core = header::encode_core(&h.file_id, &h.pin_salt, &h.pin_kdf);
                assert_eq!(core, h.core, "core does not re-encode to its input");
            }
            let back: Header = header::decode(&h.bytes, &SuitePolicy::ALL).unwrap();
            assert_eq!(back, h);
            assert!(
                decoder.header().is_some(),
                "the decoder refused a valid header"
            );
            true
        }
        Err(e) => {
            assert_eq!(
                pushed.unwrap_err().class(),
                e.class(),
                "decoder and header disagree"
            );
            false
        }
    }
}

/// A valid file with content in every section, and that content concatenated.
struct Base {
    file: Vec<u8>,
    visible: Vec<u8>,
    all: Vec<u8>,
}

const PIN: &str = "0000";

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut options = ExportOptions::new(Methods::RecoveryKey(key()));
        options.pin = Some(PIN.to_owned());
        options.pin_kdf = KdfParams::FLOOR;
        let sizes = [40usize, 70_000, 0, 131_070, 5, 65_534, 1_000];
        let mut rng = FuzzRng {
            seed: [1; 32],
            counter: 0,
        };
        let mut file = Vec::new();
        let mut encoder = Encoder::new(&options, &mut rng, &mut file).unwrap();
        let mut all = Vec::new();
        let mut visible = Vec::new();
        for (i, size) in sizes.iter().enumerate() {
            let content: Vec<u8> = (0..*size).map(|j| (j * 7 + i * 31) as u8).collect();
            if i > 0 {
                encoder.next_section(&mut file).unwrap();
            }
            encoder.write(&content, &mut file).unwrap();
            all.extend_from_slice(&content);
            if i < 6 {
                visible.extend_from_slice(&content);
            }
        }
        encoder.finish(&mut file).unwrap();
        Base { file, visible, all }
    })
}

/// Decodes with a recovery key, collecting the released bytes and the event names.
fn decode(
    input: &[u8],
    pin: Option<&str>,
    split: &Split,
) -> (
    Option<ErrorClass>,
    Vec<u8>,
    Vec<String>,
    Option<HiddenOutcome>,
) {
    let decoded = super::run::decode_file(
        input,
        Unlock::RecoveryKey(key().to_text()),
        pin,
        &DecoderConfig::default(),
        split,
        false,
    );
    let class = decoded.result.as_ref().err().map(|e| e.class());
    let hidden = decoded.result.as_ref().ok().copied();
    // The released bytes themselves, from a second, whole decoding.
    let mut released = Vec::new();
    let mut decoder = Decoder::new(DecoderConfig::default());
    decoder
        .unlock(Unlock::RecoveryKey(key().to_text()), pin)
        .unwrap();
    let mut rest = input;
    loop {
        let n = decoder.push(rest);
        while let Some(event) = decoder.poll_event() {
            if let Event::Data { bytes, .. } = event {
                released.extend_from_slice(bytes);
            }
        }
        match n {
            Ok(0) | Err(_) => break,
            Ok(n) => rest = &rest[n..],
        }
    }
    if decoder.error().is_none() {
        let _ = decoder.finish();
        while decoder.poll_event().is_some() {}
    }
    assert_eq!(
        Sha256::digest(&released).to_vec(),
        decoded.released_sha256.to_vec()
    );
    (class, released, decoded.events, hidden)
}

/// `backup_stream`: input starting with `QWB1` is a file; anything else is a script of
/// edits to a valid file (byte 0: bit 0 decodes with the PIN; then 4-byte edits: op, offset
/// (16 bits, scaled to the file), value). Every split gives the same class, events and
/// released bytes; the released bytes are a prefix of the original content; a success
/// releases exactly the original content.
pub fn stream(data: &[u8]) -> bool {
    let pattern: Vec<usize> = data
        .iter()
        .take(4)
        .map(|b| 1 + usize::from(*b) * 257)
        .collect();
    if data.starts_with(b"QWB1") || data.is_empty() {
        let whole = decode(data, None, &Split::Whole);
        let split = decode(data, None, &Split::Pattern(pattern));
        assert_eq!(whole.0, split.0);
        assert_eq!(whole.1, split.1);
        assert_eq!(whole.2, split.2);
        return whole.0.is_none();
    }
    let base = base();
    let with_pin = data[0] & 1 == 1;
    let mut file = base.file.clone();
    let mut changed = false;
    for edit in data[1..].chunks_exact(4) {
        let len = file.len().max(1);
        let at = (usize::from(u16::from_be_bytes([edit[1], edit[2]])) * len) >> 16;
        match edit[0] % 4 {
            0 => {
                if let Some(b) = file.get_mut(at) {
                    *b ^= edit[3] | 1;
                    changed = true;
                }
            }
            1 => {
                file.truncate(at);
                changed = true;
            }
            2 => {
                file.insert(at.min(file.len()), edit[3]);
                changed = true;
            }
            _ => {
                if at < file.len() {
                    file.remove(at);
                    changed = true;
                }
            }
        }
    }
    let pin = with_pin.then_some(PIN);
    let expected = if with_pin { &base.all } else { &base.visible };
    let whole = decode(&file, pin, &Split::Whole);
    let split = decode(&file, pin, &Split::Pattern(pattern));
    assert_eq!(whole.0, split.0, "class depends on the split");
    assert_eq!(whole.1, split.1, "released bytes depend on the split");
    assert_eq!(whole.2, split.2, "events depend on the split");
    assert!(
        expected.starts_with(&whole.1),
        "released bytes that are not the original content"
    );
    match whole.0 {
        None => {
            assert_eq!(&whole.1, expected, "a success released other content");
            let want = if with_pin {
                HiddenOutcome::Open
            } else {
                HiddenOutcome::Locked
            };
            assert_eq!(whole.3, Some(want));
            true
        }
        Some(class) => {
            assert!(changed, "the unchanged file failed with {class}");
            false
        }
    }
}

/// `backup_unlock`: byte 0 picks the methods (recovery key, passphrase, both, X25519
/// transfer), bytes 1 and 2 the passphrase's Argon2id parameters (always within the floor
/// and the caps), byte 3 the reader's lowered memory cap, byte 4 a byte of the prefix to
/// flip (255: none), the rest the passphrase and PIN. The right secret unlocks; a wrong
/// one is `no_match`; parameters above the reader's caps are refused with no Argon2id
/// work; a changed prefix never unlocks.
pub fn unlock(data: &[u8]) -> bool {
    if data.len() < 5 {
        return false;
    }
    let method = data[0] % 4;
    let params = KdfParams {
        m: 19_456 + 8 * u64::from(data[1] % 64),
        t: 2 + u64::from(data[2] & 1),
        p: 1 + u64::from((data[2] >> 1) & 1),
    };
    let cap_m = 19_456 + 8 * u64::from(data[3] % 64);
    let flip = data[4];
    let text = &data[5..];
    let (pass, pin) = text.split_at(text.len() / 2);
    let passphrase = format!("p{}", String::from_utf8_lossy(pass));
    let pin = (!pin.is_empty()).then(|| String::from_utf8_lossy(pin).into_owned());
    let transfer = crate::keys::KemSecret::from_seed(crate::suite::Suite::X25519, &[7; 32]);
    let methods = match method {
        0 => Methods::RecoveryKey(key()),
        1 => Methods::Passphrase(passphrase.clone()),
        2 => Methods::RecoveryKeyAndPassphrase(key(), passphrase.clone()),
        _ => Methods::Transfer(transfer.public().clone()),
    };
    let mut options = ExportOptions::new(methods);
    options.passphrase_kdf = params;
    options.pin_kdf = KdfParams::FLOOR;
    let mut rng = FuzzRng {
        seed: Sha256::digest(data).into(),
        counter: 0,
    };
    let mut out = Vec::new();
    if Encoder::new(&options, &mut rng, &mut out).is_err() {
        return false;
    }
    out.pop(); // section 1's id byte: keep the prefix and the MAC only
    let secret = |right: bool| match method {
        0 => Unlock::RecoveryKey(if right {
            key().to_text()
        } else {
            RecoveryKey::from_bytes(&[0xa5; 32]).to_text()
        }),
        1 | 2 => Unlock::Passphrase(if right {
            passphrase.clone()
        } else {
            format!("{passphrase}!")
        }),
        _ => Unlock::Transfer(if right {
            crate::keys::KemSecret::from_seed(crate::suite::Suite::X25519, &[7; 32])
        } else {
            crate::keys::KemSecret::from_seed(crate::suite::Suite::X25519, &[8; 32])
        }),
    };
    let run = |input: &[u8], secret: Unlock, caps: KdfCaps| {
        let mut decoder = Decoder::new(DecoderConfig {
            caps,
            ..DecoderConfig::default()
        });
        let _ = decoder.unlock(secret, pin.as_deref());
        let _ = decoder.push(input);
        let _ = decoder.finish();
        let mut unlocked = false;
        while let Some(event) = decoder.poll_event() {
            unlocked |= event == Event::Unlocked;
        }
        (
            decoder.error().map(|e| e.class()),
            unlocked,
            decoder.kdf_runs(),
        )
    };
    let pin_ok = pin
        .as_deref()
        .is_none_or(|p| !p.is_empty() && p.nfc_len() <= 64);
    let (class, unlocked, _) = run(&out, secret(true), KdfCaps::SPEC);
    if pin_ok {
        assert!(unlocked, "the right secret did not unlock: {class:?}");
        assert_eq!(class, Some(ErrorClass::BackupTruncated));
    } else {
        assert_eq!(class, Some(ErrorClass::BackupSecretFormat));
        return false;
    }
    let (class, unlocked, _) = run(&out, secret(false), KdfCaps::SPEC);
    assert!(!unlocked);
    assert_eq!(class, Some(ErrorClass::BackupNoMatch));
    if method == 1 || method == 2 {
        let caps = KdfCaps::lowered(cap_m, 16, 16, u64::MAX);
        let (class, unlocked, runs) = run(&out, secret(true), caps);
        if params.m > cap_m {
            assert_eq!(class, Some(ErrorClass::BackupKdfCap));
            assert_eq!(runs, 0, "Argon2id ran before the caps refused");
            assert!(!unlocked);
        } else {
            assert!(unlocked);
        }
    }
    let at = usize::from(flip) * out.len() / 256;
    if let Some(b) = out.get_mut(at) {
        *b ^= 0x01;
        let (_, unlocked, _) = run(&out, secret(true), KdfCaps::SPEC);
        assert!(!unlocked, "a changed prefix unlocked");
    }
    true
}

trait NfcLen {
    fn nfc_len(&self) -> usize;
}

impl NfcLen for str {
    fn nfc_len(&self) -> usize {
        use unicode_normalization::UnicodeNormalization;
        self.nfc().map(char::len_utf8).sum()
    }
}
