//! The `xbk-rekey` and `xbk-seek` groups.

use quietwire::backup::run::{Split, decode_file};
use quietwire::backup::{CHUNK_CT, Section};

use super::build::{Cache, apply_edits, config_of, export_options, sha256, unlock_of};
use super::{Edit, Export, Ids, RekeyTest, SeekTest, UnlockJson};
use crate::families::expect;
use crate::seeds::seed32;

use super::craft::parts;
use super::large::*;

pub(super) fn rekey(ids: &mut Ids, cache: &mut Cache) -> Result<Vec<RekeyTest>, String> {
    let pass = basic("pass", Who::Pass);
    let both = basic("both", Who::Both);
    let new_pass = pass_unlock;
    let key_hex = hex::encode(recovery_key());
    let new_both = UnlockJson {
        recovery_key: Some(key_hex.clone()),
        passphrase: Some("new passphrase".into()),
        ..UnlockJson::default()
    };
    let new_key = with_key(key_hex);
    let new_transfer = UnlockJson { transfer: Some(transfer_key(2)), ..UnlockJson::default() };
    let cases: Vec<(&str, &str, &Export, UnlockJson, UnlockJson, Option<&str>)> = crate::tuples! { vec:
        "change-passphrase", "a new passphrase (new salt)", &pass, pass_unlock(PASSPHRASE),
            new_pass("new passphrase"), None;
        "add-recovery-key", "a recovery key added to a passphrase", &pass, pass_unlock(PASSPHRASE),
            new_both, None;
        "remove-recovery-key", "the recovery key removed", &both, key_unlock(),
            new_pass(PASSPHRASE), None;
        "remove-passphrase", "the passphrase removed (no randomness drawn)", &both,
            pass_unlock(PASSPHRASE), new_key, None;
        "refuse-transfer", "a transfer entry is never added by re-keying", &both, key_unlock(),
            new_transfer, Some("backup.unlock_set");
        "wrong-secret", "the old secret is wrong", &pass, pass_unlock("nope"), new_pass("x"),
            Some("backup.no_match");
    };
    let mut tests = Vec::new();
    for (slug, comment, export, unlock, new_methods, class) in cases {
        let p = parts(export, cache)?;
        let file = cache.file(export)?;
        let randomness = if new_methods.passphrase.is_some() && class.is_none() {
            seed32(&format!("backup/rekey/{slug}"))[..16].to_vec()
        } else {
            Vec::new()
        };
        // The new methods as a recipe's: the recovery key's bytes, a passphrase, a transfer key.
        let key = new_methods.recovery_key.as_deref().map(hex::decode).transpose();
        let options = export_options(&Export {
            recovery_key: key.map_err(|e| e.to_string())?,
            passphrase: new_methods.passphrase.clone(),
            transfer: new_methods.transfer.clone(),
            ..export.clone()
        })?;
        let mut rng = crate::seeds::ReplayRng::new(&[&randomness]);
        let got = quietwire::backup::rekey::rekey(
            &file[..p.header_end()],
            unlock_of(&unlock)?,
            &options.methods,
            &quietwire::backup::KdfParams::FLOOR,
            &config_of(None, None),
            &mut rng,
        );
        let ok = expect(&format!("rekey {slug}"), got, class)?;
        if let Some(r) = &ok {
            if !rng.finished() {
                return Err(format!("rekey {slug}: randomness"));
            }
            // The re-keyed file decodes with the new secret.
            let new_file = [r.prefix.clone(), file[p.header_end()..].to_vec()].concat();
            let secret = new_methods.passphrase.as_deref().map_or_else(key_unlock, pass_unlock);
            let config = config_of(None, None);
            let d =
                decode_file(&new_file, unlock_of(&secret)?, None, &config, &Split::CHUNKS, false);
            d.result.map_err(|e| format!("rekey {slug}: {e}"))?;
        }
        let head = ids.head(&format!("rekey-{slug}"), comment, &["Rekey"], class);
        tests.push(RekeyTest::new(
            head,
            export.clone(),
            unlock,
            new_methods,
            Some(FLOOR),
            randomness,
            ok.as_ref().map(|r| r.prefix.clone()),
            ok.as_ref().map(|r| r.old_header_end),
        ));
    }
    Ok(tests)
}

pub(super) fn seek(ids: &mut Ids, cache: &mut Cache) -> Result<Vec<SeekTest>, String> {
    let base = basic("base", Who::Key);
    let file = cache.file(&base)?;
    let (o, counts) = layout(&base, &file);
    let end = file.len() as u64;
    let manifest_again = copy("insertCopy", o[7] as u64, quietwire::backup::TAIL as u64, end);
    let cases: Vec<(&str, &str, Vec<Edit>, u8, Option<&str>)> = crate::tuples! { vec:
        "section-4", "locate every section and read section 4", vec![], 4, None;
        "section-2", "read section 2 (four chunks)", vec![], 2, None;
        "trailing", "a byte after the manifest: the last 65553 bytes do not start with id 8",
            vec![put("insert", end, vec![0])], 4, Some("backup.section_order");
        "trailing-manifest",
            "the manifest section appended again: it authenticates, the counts do not add up to the length",
            vec![manifest_again], 4, Some("backup.manifest_mismatch");
        "missing-chunk",
            "a chunk of section 2 removed: the manifest is found but the length disagrees",
            vec![delete(chunk_at(&o, 2, 1), CHUNK_CT as u64)], 4, Some("backup.manifest_mismatch");
        "wrong-id", "section 4's id byte changed: found at the computed offset",
            vec![xor(o[3] as u64)], 4, Some("backup.section_order");
        "bad-manifest", "the manifest's tag damaged", vec![xor(end - 1)], 4,
            Some("backup.chunk_auth");
        "short", "a file shorter than its header and a manifest", vec![truncate(o[0] as u64 + 100)],
            4, Some("backup.truncated");
    };
    let mut tests = Vec::new();
    for (slug, comment, edits, section, class) in cases {
        let input = apply_edits(&file, &edits, Some(&base))?;
        let got = seek_section(&input, &key_unlock(), section);
        let (offsets, chunks, digest) = match (&got, class) {
            (Ok(v), None) => (Some(v.0.clone()), Some(v.1.clone()), Some(sha256(&v.2))),
            (Err(c), Some(want)) if c == want => (None, None, None),
            _ => return Err(format!("seek {slug}: got {got:?}")),
        };
        if let Some(off) = &offsets {
            let want: Vec<u64> = o[..7].iter().map(|x| *x as u64).collect();
            if *off != want || chunks.as_ref() != Some(&counts) {
                return Err(format!("seek {slug}: layout"));
            }
            let content = base.sections[usize::from(section) - 1].bytes();
            if digest.as_deref() != Some(sha256(&content).as_slice()) {
                return Err(format!("seek {slug}: content"));
            }
        }
        let head = ids.head(&format!("seek-{slug}"), comment, &["Seek"], class);
        tests.push(SeekTest::new(
            head,
            base.clone(),
            edits,
            input.len() as u64,
            sha256(&input),
            key_unlock(),
            section,
            offsets,
            chunks,
            digest,
        ));
    }
    Ok(tests)
}

/// Seeks `section` in `file` the way a random-access reader does: the id-byte offsets and
/// chunk counts of sections 1 to 7, and the section's content.
///
/// # Errors
/// The class name of the first failure.
pub fn seek_section(
    file: &[u8],
    unlock: &UnlockJson,
    section: u8,
) -> Result<(Vec<u64>, Vec<u64>, Vec<u8>), String> {
    let class = |e: quietwire::Error| e.class().as_str().to_owned();
    let len = file.get(4..8).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])) as usize;
    let end = (40 + len).min(file.len());
    let tail = file.get(file.len().saturating_sub(quietwire::backup::TAIL)..).unwrap_or_default();
    let index = quietwire::backup::seek::SeekIndex::open(
        &file[..end],
        file.len() as u64,
        tail,
        unlock_of(unlock)?,
        None,
        &config_of(None, None),
    )
    .map_err(class)?;
    let sections = Section::CONTENT;
    let offsets: Vec<u64> = sections.iter().map(|s| index.section_offset(*s)).collect();
    let chunks: Vec<u64> = sections.iter().map(|s| index.chunks(*s)).collect();
    let s = Section::from_id(section).ok_or("section")?;
    let at = index.section_offset(s) as usize;
    index.check_section_id(s, *file.get(at).ok_or("id")?).map_err(class)?;
    let mut content = Vec::new();
    for i in 0..index.chunks(s) {
        let at = index.chunk_offset(s, i) as usize;
        let chunk = file.get(at..at + CHUNK_CT).ok_or("chunk")?;
        content.extend_from_slice(&index.open_chunk(s, i, chunk).map_err(class)?);
    }
    Ok((offsets, chunks, content))
}
