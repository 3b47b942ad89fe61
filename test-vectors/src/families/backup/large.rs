//! Whole-file recipes shared by the groups, and the `xbk-export` group: the encryption
//! direction byte for byte.

// Generator code: it indexes files and tables it built itself, so an index out of range is a
// bug of the generator, and the panic fails generation loudly; the case tables are tuples.
#![allow(clippy::indexing_slicing, clippy::type_complexity)]

use quietwire::backup::run::{Split, decode_file};
use quietwire::backup::{CHUNK_CT, DATA, RecoveryKey, Section, section_chunks};

use super::build::{Cache, Spec, build_export, config_of, decode_test, sha256, unlock_of};
use super::{
    DecodeTest, Edit, Export, ExportTest, Ids, Kdf, SectionContent, TransferKey, UnlockJson,
};
use crate::families::flags;
use crate::format::Outcome;
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
    let mut len = 32 + 32 + 16;
    if pin.is_none() {
        len += 32;
    }
    if matches!(who, Who::Pass | Who::Both) {
        len += 16;
    }
    match who {
        Who::Transfer(1) => len += 64,
        Who::Transfer(_) => len += 32,
        _ => {}
    }
    let mut randomness = Vec::new();
    let mut i = 0;
    while randomness.len() < len {
        randomness.extend_from_slice(&seed32(&format!("backup/{name}/rng/{i}")));
        i += 1;
    }
    randomness.truncate(len);
    let pass = matches!(who, Who::Pass | Who::Both);
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

pub(super) fn key_unlock() -> UnlockJson {
    UnlockJson {
        recovery_key: Some(RecoveryKey::from_bytes(&recovery_key()).to_text()),
        ..UnlockJson::default()
    }
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

/// Offset of chunk `i` of section `s` (1-based section).
pub(super) fn chunk_at(offsets: &[usize], s: usize, i: usize) -> u64 {
    (offsets[s - 1] + 1 + i * CHUNK_CT) as u64
}

pub(super) fn ed(op: &str, offset: u64) -> Edit {
    Edit { offset: Some(offset), ..Edit::op(op) }
}

pub(super) fn xor(offset: u64) -> Edit {
    Edit { bytes: Some(vec![1]), ..ed("xor", offset) }
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
    vec![
        Edit { from: Some(a), length: Some(len), ..ed("insertCopy", b + len) },
        Edit { from: Some(b), length: Some(len), ..ed("copy", a) },
        Edit { length: Some(len), ..ed("delete", b) },
    ]
}

pub(super) struct T<'a> {
    pub(super) ids: &'a mut Ids,
    pub(super) cache: &'a mut Cache,
    pub(super) tests: Vec<DecodeTest>,
}

impl T<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add(
        &mut self,
        slug: &str,
        comment: &str,
        f: &[&str],
        e: &Export,
        edits: Vec<Edit>,
        unlock: UnlockJson,
        pin: Option<&str>,
        expect: Option<&'static str>,
    ) -> Result<(), String> {
        let test = decode_test(
            self.ids.next_id(),
            Spec {
                slug: slug.into(),
                comment: comment.into(),
                flags: flags(f),
                export: Some(e.clone()),
                edits,
                unlock,
                pin: pin.map(str::to_owned),
                expect,
                ..Spec::default()
            },
            self.cache,
        )?;
        self.tests.push(test);
        Ok(())
    }

    pub(super) fn spec(&mut self, spec: Spec) -> Result<(), String> {
        let test = decode_test(self.ids.next_id(), spec, self.cache)?;
        self.tests.push(test);
        Ok(())
    }
}

pub(super) fn export(ids: &mut Ids, _cache: &mut Cache) -> Result<Vec<ExportTest>, String> {
    let sized = |name: &str, len: u64| {
        let mut s = base_sections();
        s[1] = stream(name, len);
        s
    };
    let mut cases: Vec<(&str, &str, Export, Who, Option<&str>, Option<&str>)> = crate::tuples! { vec:
        "recovery-key", "a recovery key only", recipe("base", Who::Key, None, base_sections()),
            Who::Key, None, None;
        "passphrase", "a passphrase only", recipe("pass", Who::Pass, None, base_sections()),
            Who::Pass, None, None;
        "both", "recovery key and passphrase, decoded by passphrase",
            recipe("both", Who::Both, None, base_sections()), Who::Pass, None, None;
        "transfer-xwing", "a transfer to an X-Wing key",
            recipe("transfer-1", Who::Transfer(1), None, base_sections()), Who::Transfer(1), None,
            None;
        "transfer-x25519", "a transfer to an X25519 key",
            recipe("transfer-2", Who::Transfer(2), None, base_sections()), Who::Transfer(2), None,
            None;
        "with-pin",
            "a chat PIN and hidden content",
            recipe("pin", Who::Key, Some(PIN), {
                let mut s = base_sections();
                s[6] = stream("hidden", 100_000);
                s
            }),
            Who::Key,
            Some(PIN),
            None;
        "empty", "every section empty", recipe("empty", Who::Key, None, vec![empty(); 7]), Who::Key,
            None, None;
        "len-65533", "content of 65533 bytes: one chunk",
            recipe("len-65533", Who::Key, None, sized("len", 65_533)), Who::Key, None, None;
        "len-65534", "content of exactly one chunk: a second chunk with used = 0",
            recipe("len-65534", Who::Key, None, sized("len", 65_534)), Who::Key, None, None;
        "len-65535", "content of 65535 bytes: two chunks",
            recipe("len-65535", Who::Key, None, sized("len", 65_535)), Who::Key, None, None;
        "padme-10", "nine content chunks padded to ten (Padmé)",
            recipe("padme", Who::Key, None, sized("padme", 8 * DATA as u64 + 1)), Who::Key, None,
            None;
    };
    let mut too_large = recipe("too-large", Who::Key, None, sized("too-large", 16 * DATA as u64));
    too_large.max_chunks = Some(16);
    cases.push((
        "too-large",
        "content that needs 17 chunks with MAX_CHUNKS = 16",
        too_large,
        Who::Key,
        None,
        Some("backup.too_large"),
    ));
    let mut empty_pass = recipe("empty-pass", Who::Pass, None, base_sections());
    empty_pass.passphrase = Some(String::new());
    cases.push((
        "empty-passphrase",
        "an empty passphrase",
        empty_pass,
        Who::Pass,
        None,
        Some("backup.secret_format"),
    ));
    let long_pin = recipe(
        "long-pin",
        Who::Key,
        Some("12345678901234567890123456789012345678901234567890123456789012345"),
        base_sections(),
    );
    cases.push(("pin-65", "a 65-byte PIN", long_pin, Who::Key, None, Some("backup.secret_format")));
    let mut low = recipe("low-kdf", Who::Pass, None, base_sections());
    low.passphrase_kdf = Some(Kdf { m: 19_456, t: 1, p: 1 });
    cases.push((
        "passphrase-t-1",
        "passphrase parameters below the floor",
        low,
        Who::Pass,
        None,
        Some("backup.kdf_params"),
    ));
    let mut high = recipe("high-kdf", Who::Key, None, base_sections());
    high.pin_kdf = Kdf { m: 1_048_577, t: 2, p: 1 };
    cases.push((
        "pin-kdf-over-cap",
        "PIN parameters over the caps",
        high,
        Who::Key,
        None,
        Some("backup.kdf_cap"),
    ));
    let mut tests = Vec::new();
    let mut lengths = Vec::new();
    for (slug, comment, export, who, pin, class) in cases {
        let built = build_export(&export);
        let (file, got) = match built {
            Ok(f) => (Some(f), None),
            Err(Ok(c)) => (None, Some(c)),
            Err(Err(m)) => return Err(format!("export {slug}: {m}")),
        };
        if got.as_deref() != class {
            return Err(format!("export {slug}: expected {class:?}, got {got:?}"));
        }
        let (mut released, mut hidden, mut prefix) = (None, None, None);
        if let Some(file) = &file {
            let decoded = decode_file(
                file,
                unlock_of(&unlock_for(who))?,
                pin,
                &config_of(None, None),
                &Split::CHUNKS,
                false,
            );
            let outcome = decoded.result.map_err(|e| format!("export {slug}: decode {e}"))?;
            let concat: Vec<u8> = export
                .sections
                .iter()
                .flat_map(|s| {
                    if pin.is_none() && std::ptr::eq(s, &export.sections[6]) {
                        Vec::new()
                    } else {
                        s.bytes()
                    }
                })
                .collect();
            if decoded.released_sha256.to_vec() != sha256(&concat) {
                return Err(format!("export {slug}: released content differs"));
            }
            released = Some((decoded.released_len, decoded.released_sha256.to_vec()));
            hidden = Some(outcome.as_str().to_owned());
            let (offsets, _) = layout(&export, file);
            prefix = Some(file[..offsets[0]].to_vec());
            lengths.push((slug, file.len()));
        }
        tests.push(ExportTest {
            tc_id: ids.next_id(),
            slug: format!("export-{slug}"),
            comment: comment.into(),
            flags: flags(&["Export"]),
            file_length: file.as_ref().map(|f| f.len() as u64),
            file_sha256: file.as_ref().map(|f| sha256(f)),
            prefix,
            unlock: file.is_some().then(|| unlock_for(who)),
            unlock_pin: file.as_ref().and(pin.map(str::to_owned)),
            released_length: released.as_ref().map(|r| r.0),
            released_sha256: released.map(|r| r.1),
            hidden,
            export,
            result: if class.is_none() { Outcome::Valid } else { Outcome::Invalid },
            error_class: class.map(str::to_owned),
        });
    }
    Ok(tests)
}

pub(super) use super::hidden::hidden;
pub(super) use super::records::restore;
pub use super::rekey_seek::seek_section;
pub(super) use super::rekey_seek::{rekey, seek};
pub(super) use super::stream::{sections, stream_group};
