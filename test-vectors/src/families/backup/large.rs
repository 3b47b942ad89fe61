//! Whole-file recipes shared by the groups, and the `xbk-export` group: the encryption
//! direction byte for byte.

use quietwire::backup::run::{Split, decode_file};
use quietwire::backup::{CHUNK_CT, DATA, RecoveryKey, Section, section_chunks};

use super::build::{Cache, build_export, config_of, sha256, unlock_of};
use super::{Edit, Export, ExportTest, Ids, Kdf, SectionContent, TransferKey, UnlockJson};
use crate::seeds::seed32;

pub(super) const PASSPHRASE: &str = "correct horse battery staple";
pub(super) const PIN: &str = "2468";
pub(super) const FLOOR: Kdf = Kdf { m: 19_456, t: 2, p: 1 };

pub(super) fn recovery_key() -> [u8; 32] {
    seed32("backup/recovery-key")
}

/// The unlock methods of a recipe.
#[derive(Clone, Copy, Debug)]
pub(super) enum Who {
    Key,
    Pass,
    Both,
    Transfer(u64),
}

pub(super) fn transfer_key(suite: u64) -> TransferKey {
    TransferKey { suite, seed: seed32("backup/transfer").to_vec() }
}

/// A recipe whose generator bytes are derived from `name`, exactly as many as it draws.
pub(super) fn recipe(
    name: &str,
    who: Who,
    pin: Option<&str>,
    sections: Vec<SectionContent>,
) -> Export {
    let pass = matches!(who, Who::Pass | Who::Both);
    // FK, file_id and the PIN salt; PK without a PIN; a passphrase salt; the randomness of
    // the transfer key's encapsulation (X-Wing 64 bytes, X25519 32).
    let transfer = match who {
        Who::Transfer(1) => 64,
        Who::Transfer(_) => 32,
        _ => 0,
    };
    let len = 80 + usize::from(pin.is_none()) * 32 + usize::from(pass) * 16 + transfer;
    let randomness =
        (0..).flat_map(|i| seed32(&format!("backup/{name}/rng/{i}"))).take(len).collect();
    Export {
        randomness,
        recovery_key: matches!(who, Who::Key | Who::Both).then(|| recovery_key().to_vec()),
        passphrase: pass.then(|| PASSPHRASE.to_owned()),
        passphrase_kdf: pass.then_some(FLOOR),
        transfer: match who {
            Who::Transfer(s) => Some(transfer_key(s)),
            _ => None,
        },
        pin: pin.map(str::to_owned),
        pin_kdf: FLOOR,
        max_chunks: None,
        sections,
    }
}

pub(super) fn content(bytes: &[u8]) -> SectionContent {
    SectionContent { content: Some(bytes.to_vec()), ..SectionContent::default() }
}

pub(super) fn stream(name: &str, len: u64) -> SectionContent {
    SectionContent {
        stream_seed: Some(seed32(&format!("backup/stream/{name}")).to_vec()),
        stream_length: Some(len),
        ..SectionContent::default()
    }
}

pub(super) fn empty() -> SectionContent {
    SectionContent::default()
}

/// Sections for container tests: opaque contents of various sizes.
pub(super) fn base_sections() -> Vec<SectionContent> {
    vec![
        content(&seed32("backup/section-1")),
        stream("s2", 3 * DATA as u64 + 100),
        empty(),
        stream("s4", 70_000),
        empty(),
        content(b"s6-ok"),
        empty(),
    ]
}

/// The recipe `name` of the base sections, unlocked by `who`, without a PIN.
pub(super) fn basic(name: &str, who: Who) -> Export {
    recipe(name, who, None, base_sections())
}

/// The recipe `name` of the base sections with section `index + 1` replaced by `section`,
/// unlocked by the recovery key.
pub(super) fn with_section(
    name: &str,
    pin: Option<&str>,
    index: usize,
    section: SectionContent,
) -> Export {
    let mut s = base_sections();
    s[index] = section;
    recipe(name, Who::Key, pin, s)
}

/// The file with a PIN and 100000 bytes of hidden content.
pub(super) fn with_pin() -> Export {
    with_section("pin", Some(PIN), 6, stream("hidden", 100_000))
}

pub(super) fn key_unlock() -> UnlockJson {
    with_key(RecoveryKey::from_bytes(&recovery_key()).to_text())
}

/// Unlocking by the recovery key `text`.
pub(super) fn with_key(text: String) -> UnlockJson {
    UnlockJson { recovery_key: Some(text), ..UnlockJson::default() }
}

pub(super) fn pass_unlock(p: &str) -> UnlockJson {
    UnlockJson { passphrase: Some(p.into()), ..UnlockJson::default() }
}

pub(super) fn unlock_for(who: Who) -> UnlockJson {
    match who {
        Who::Key | Who::Both => key_unlock(),
        Who::Pass => pass_unlock(PASSPHRASE),
        Who::Transfer(s) => UnlockJson { transfer: Some(transfer_key(s)), ..UnlockJson::default() },
    }
}

/// Offsets of the id bytes of sections 1 to 8 and the chunk counts of 1 to 7.
pub(super) fn layout(e: &Export, file: &[u8]) -> (Vec<usize>, Vec<u64>) {
    let len = file.get(4..8).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let mut at = 40 + len as usize;
    let mut offsets = Vec::new();
    let mut chunks = Vec::new();
    for (section, c) in Section::CONTENT.iter().zip(&e.sections) {
        let k = c.bytes().len() as u64 / DATA as u64 + 1;
        let n = section_chunks(*section, k);
        offsets.push(at);
        chunks.push(n);
        at += 1 + n as usize * CHUNK_CT;
    }
    offsets.push(at);
    (offsets, chunks)
}

impl Cache {
    /// The offsets of the id bytes of sections 1 to 8 in the file of `e` (see [`layout`]).
    pub(super) fn offsets(&mut self, e: &Export) -> Result<Vec<usize>, String> {
        Ok(layout(e, &self.file(e)?).0)
    }
}

/// Offset of chunk `i` of section `s` (1-based section).
pub(super) fn chunk_at(offsets: &[usize], s: usize, i: usize) -> u64 {
    (offsets[s - 1] + 1 + i * CHUNK_CT) as u64
}

pub(super) fn ed(op: &str, offset: u64) -> Edit {
    Edit { offset: Some(offset), ..Edit::op(op) }
}

/// `bytes` written over (`replace`), inserted at (`insert`) or xored onto (`xor`) `offset`.
pub(super) fn put(op: &str, offset: u64, bytes: Vec<u8>) -> Edit {
    Edit { bytes: Some(bytes), ..ed(op, offset) }
}

/// `length` bytes from `from` copied over (`copy`) or inserted at (`insertCopy`) `offset`.
pub(super) fn copy(op: &str, from: u64, length: u64, offset: u64) -> Edit {
    Edit { from: Some(from), length: Some(length), ..ed(op, offset) }
}

/// `length` bytes deleted at `offset`.
pub(super) fn delete(offset: u64, length: u64) -> Edit {
    Edit { length: Some(length), ..ed("delete", offset) }
}

pub(super) fn xor(offset: u64) -> Edit {
    put("xor", offset, vec![1])
}

pub(super) fn truncate(len: u64) -> Edit {
    Edit { length: Some(len), ..Edit::op("truncate") }
}

pub(super) fn seal(offset: u64, section: u8, index: u64, last: bool, plain: Vec<u8>) -> Edit {
    Edit {
        bytes: Some(plain),
        section: Some(section),
        index: Some(index),
        last: Some(last),
        ..ed("seal", offset)
    }
}

pub(super) fn plain(used: u16, data: &[u8]) -> Vec<u8> {
    [used.to_be_bytes().to_vec(), data.to_vec()].concat()
}

/// Swaps two equal-length ranges `a < b` with two copies through an inserted duplicate.
pub(super) fn swap(a: u64, b: u64, len: u64) -> Vec<Edit> {
    vec![copy("insertCopy", a, len, b + len), copy("copy", b, len, a), delete(b, len)]
}

/// `e` changed by `f`.
fn changed(mut e: Export, f: impl FnOnce(&mut Export)) -> Export {
    f(&mut e);
    e
}

pub(super) fn export(ids: &mut Ids, _cache: &mut Cache) -> Result<Vec<ExportTest>, String> {
    let sized = |name: &str, stream_name: &str, len: u64| {
        with_section(name, None, 1, stream(stream_name, len))
    };
    let long_pin = "12345678901234567890123456789012345678901234567890123456789012345";
    let below_floor = Some(Kdf { t: 1, ..FLOOR });
    let cases: Vec<(&str, &str, Export, Who, Option<&str>, Option<&str>)> = crate::tuples! { vec:
        "recovery-key", "a recovery key only", basic("base", Who::Key), Who::Key, None, None;
        "passphrase", "a passphrase only", basic("pass", Who::Pass), Who::Pass, None, None;
        "both", "recovery key and passphrase, decoded by passphrase", basic("both", Who::Both),
            Who::Pass, None, None;
        "transfer-xwing", "a transfer to an X-Wing key", basic("transfer-1", Who::Transfer(1)),
            Who::Transfer(1), None, None;
        "transfer-x25519", "a transfer to an X25519 key", basic("transfer-2", Who::Transfer(2)),
            Who::Transfer(2), None, None;
        "with-pin", "a chat PIN and hidden content", with_pin(), Who::Key, Some(PIN), None;
        "empty", "every section empty", recipe("empty", Who::Key, None, vec![empty(); 7]), Who::Key,
            None, None;
        "len-65533", "content of 65533 bytes: one chunk", sized("len-65533", "len", 65_533),
            Who::Key, None, None;
        "len-65534", "content of exactly one chunk: a second chunk with used = 0",
            sized("len-65534", "len", 65_534), Who::Key, None, None;
        "len-65535", "content of 65535 bytes: two chunks", sized("len-65535", "len", 65_535),
            Who::Key, None, None;
        "padme-10", "nine content chunks padded to ten (Padmé)",
            sized("padme", "padme", 8 * DATA as u64 + 1), Who::Key, None, None;
        "too-large", "content that needs 17 chunks with MAX_CHUNKS = 16",
            changed(sized("too-large", "too-large", 16 * DATA as u64), |e| e.max_chunks = Some(16)),
            Who::Key, None, Some("backup.too_large");
        "empty-passphrase", "an empty passphrase",
            changed(basic("empty-pass", Who::Pass), |e| e.passphrase = Some(String::new())),
            Who::Pass, None, Some("backup.secret_format");
        "pin-65", "a 65-byte PIN", recipe("long-pin", Who::Key, Some(long_pin), base_sections()),
            Who::Key, None, Some("backup.secret_format");
        "passphrase-t-1", "passphrase parameters below the floor",
            changed(basic("low-kdf", Who::Pass), |e| e.passphrase_kdf = below_floor),
            Who::Pass, None, Some("backup.kdf_params");
        "pin-kdf-over-cap", "PIN parameters over the caps",
            changed(basic("high-kdf", Who::Key), |e| e.pin_kdf = Kdf { m: 1_048_577, ..FLOOR }),
            Who::Key, None, Some("backup.kdf_cap");
    };
    let mut tests = Vec::new();
    for (slug, comment, export, who, pin, class) in cases {
        let file = match build_export(&export) {
            Ok(f) => Some(f),
            Err(Ok(c)) if Some(c.as_str()) == class => None,
            Err(Ok(c)) => return Err(format!("export {slug}: expected {class:?}, got {c}")),
            Err(Err(m)) => return Err(format!("export {slug}: {m}")),
        };
        if file.is_some() && class.is_some() {
            return Err(format!("export {slug}: expected {class:?}, got success"));
        }
        let (mut released, mut hidden, mut prefix) = (None, None, None);
        if let Some(file) = &file {
            let unlock = unlock_of(&unlock_for(who))?;
            let config = config_of(None, None);
            let decoded = decode_file(file, unlock, pin, &config, &Split::CHUNKS, false);
            let outcome = decoded.result.map_err(|e| format!("export {slug}: decode {e}"))?;
            // Without the PIN the hidden section (the seventh) is not released.
            let shown = if pin.is_none() { 6 } else { 7 };
            let concat: Vec<u8> =
                export.sections.iter().take(shown).flat_map(|s| s.bytes()).collect();
            if decoded.released_sha256.to_vec() != sha256(&concat) {
                return Err(format!("export {slug}: released content differs"));
            }
            released = Some((decoded.released_len, decoded.released_sha256.to_vec()));
            hidden = Some(outcome.as_str().to_owned());
            prefix = Some(file[..layout(&export, file).0[0]].to_vec());
        }
        let head = ids.head(&format!("export-{slug}"), comment, &["Export"], class);
        tests.push(ExportTest::new(
            head,
            export,
            file.as_ref().map(|f| f.len() as u64),
            file.as_ref().map(|f| sha256(f)),
            prefix,
            file.is_some().then(|| unlock_for(who)),
            file.as_ref().and(pin.map(str::to_owned)),
            released.as_ref().map(|r| r.0),
            released.map(|r| r.1),
            hidden,
        ));
    }
    Ok(tests)
}
