//! The `backup` scripts (spec/10-backup.md): exports byte for byte, decodings in several
//! push splits that must agree, re-keying and seeking. Every file a test needs is first
//! obtained with `backup-export` from its recipe (Table 16-2).

use quietwire_test_vectors::families::backup::{
    self as family, DecodeTest, Export, ExportTest, RekeyTest, SeekTest, UnlockJson,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::check::{Vector, mismatch};
use super::{Got, differs, got, got_failure, hex_differs};
use crate::implementation::{Implementation, OpResult, call_read, slice_count};
use crate::shim::{Fields, hex};

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The splits every decoding runs in: whole, chunk-sized, an irregular pattern, and byte by
/// byte for inputs up to 4 MiB (larger ones take minutes byte by byte in a debug build).
fn splits(len: usize) -> Vec<Vec<usize>> {
    let mut out = vec![vec![], vec![65_552], vec![7, 65_551, 3, 100_000, 1]];
    if len <= 4 << 20 {
        out.push(vec![1]);
    }
    out
}

/// `backup-export`: the file of a recipe.
fn export_file(imp: &mut dyn Implementation, export: &Export) -> OpResult<Vec<u8>> {
    call_read(
        imp,
        "backup-export",
        json!({"export": to_json(export)}),
        |f| f.bytes("file"),
    )
}

/// What a backup decoding observed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Decoded {
    class: Option<String>,
    hidden: Option<String>,
    released_length: u64,
    released_sha256: Vec<u8>,
    kdf_runs: u64,
    /// How many slices the push sizes cut the input into (SHIM-06).
    slices: u64,
}

/// The arguments of a `backup-decode`.
struct Decode<'a> {
    /// The input, as hex once for all the splits.
    input: Value,
    unlock: &'a UnlockJson,
    pin: Option<&'a str>,
    max_chunks: Option<u64>,
    caps: Option<Value>,
    records: bool,
    then_seal: bool,
}

impl Decode<'_> {
    /// `backup-decode` with the push sizes `pushes`.
    fn call(&self, imp: &mut dyn Implementation, pushes: &[usize]) -> OpResult<Decoded> {
        let args = json!({
            "input": self.input.clone(),
            "unlock": to_json(self.unlock),
            "pin": self.pin,
            "maxChunks": self.max_chunks,
            "kdfCaps": self.caps,
            "records": self.records,
            "thenSeal": self.then_seal,
            "pushes": pushes,
        });
        call_read(imp, "backup-decode", args, decoded)
    }
}

fn decoded(f: Fields<'_>) -> Result<Decoded, String> {
    let kdf_runs = f.u64("kdfRuns")?;
    u32::try_from(kdf_runs).map_err(|_| "`kdfRuns` too large")?;
    Ok(Decoded {
        class: f.str_opt("class")?.map(str::to_owned),
        hidden: f.str_opt("hidden")?.map(str::to_owned),
        released_length: f.u64("releasedLength")?,
        released_sha256: f.bytes("releasedSha256")?,
        kdf_runs,
        slices: f.u64("slices")?,
    })
}

/// The input of a decoding test: the file, or the recipe's file after the edits; the hashes
/// are checked so a wrong encoder or edit is reported as such.
fn input(t: &DecodeTest, imp: &mut dyn Implementation) -> Result<Vec<u8>, Got> {
    let bytes = match (&t.file, &t.export) {
        (Some(f), _) => f.clone(),
        (None, Some(e)) => {
            let file = export_file(imp, e).map_err(got_failure)?;
            let sha = Sha256::digest(&file).to_vec();
            if Some(&sha) != t.export_sha256.as_ref() {
                return Err(mismatch("the export's SHA-256 differs"));
            }
            family::apply_edits(&file, &t.edits, Some(e)).map_err(|m| mismatch(&m))?
        }
        _ => return Err(mismatch("test has no input")),
    };
    if Sha256::digest(&bytes).to_vec() != t.input_sha256 {
        return Err(mismatch("the input's SHA-256 differs"));
    }
    Ok(bytes)
}

/// A decoding test (`xbk-container` … `xbk-restore`): `backup-decode` once per split.
pub(super) fn decode(v: &Vector<'_>, imp: &mut dyn Implementation) -> Got {
    match v.typed::<DecodeTest>() {
        Ok(t) => decode_test(&t, imp),
        Err(got) => got,
    }
}

fn decode_test(t: &DecodeTest, imp: &mut dyn Implementation) -> Got {
    let bytes = match input(t, imp) {
        Ok(b) => b,
        Err(g) => return g,
    };
    let d = Decode {
        input: hex(&bytes),
        unlock: &t.unlock,
        pin: t.pin.as_deref(),
        max_chunks: t.max_chunks,
        caps: t.kdf_caps.as_ref().map(to_json),
        records: t.records,
        then_seal: t.then_seal,
    };
    let mut first: Option<Decoded> = None;
    for pushes in splits(bytes.len()) {
        let mut got = match d.call(imp, &pushes) {
            Ok(got) => got,
            Err(f) => return got_failure(f),
        };
        if Some(got.slices) != slice_count(bytes.len(), &pushes) {
            return mismatch(&format!(
                "pushes {pushes:?} cut the {}-byte input into {} slices, not the {} reported (SHIM-06)",
                bytes.len(),
                slice_count(bytes.len(), &pushes).unwrap_or_default(),
                got.slices
            ));
        }
        // Checked; the rest must not depend on the split.
        got.slices = 0;
        if let Some(first) = &first
            && *first != got
        {
            return mismatch(&format!(
                "pushes {pushes:?} give {got:?}, whole gives {first:?}"
            ));
        }
        first.get_or_insert(got);
    }
    let Some(got) = first else {
        return mismatch("no decoding");
    };
    let observed = differs("releasedLength", &got.released_length, &t.released_length)
        .or_else(|| hex_differs("releasedSha256", &got.released_sha256, &t.released_sha256))
        .or_else(|| {
            t.kdf_runs
                .and_then(|want| differs("kdfRuns", &got.kdf_runs, &u64::from(want)))
        });
    match (got.class, observed) {
        (_, Some(m)) => mismatch(&m),
        (Some(class), None) => Got::Rejected(class),
        (None, None) => Got::Accepted {
            mismatch: differs("hidden", &got.hidden, &t.hidden),
        },
    }
}

/// `xbk-export`: the recipe's file byte for byte, then its decoding.
pub(super) fn export(v: &Vector<'_>, imp: &mut dyn Implementation) -> Got {
    let t = match v.typed::<ExportTest>() {
        Ok(t) => t,
        Err(got) => return got,
    };
    match export_file(imp, &t.export) {
        Err(f) => got_failure(f),
        Ok(file) => export_checks(&t, &file, imp),
    }
}

/// A valid export: length, hash and prefix, then its decoding.
fn export_checks(t: &ExportTest, file: &[u8], imp: &mut dyn Implementation) -> Got {
    let len = file.len() as u64;
    let checks = differs("fileLength", &len, &t.file_length.unwrap_or(0))
        .or_else(|| {
            hex_differs(
                "fileSha256",
                &Sha256::digest(file),
                t.file_sha256.as_deref().unwrap_or_default(),
            )
        })
        .or_else(|| {
            let prefix = t.prefix.as_deref().unwrap_or_default();
            hex_differs(
                "prefix",
                file.get(..prefix.len()).unwrap_or_default(),
                prefix,
            )
        });
    if let Some(m) = checks {
        return mismatch(&m);
    }
    let Some(unlock) = &t.unlock else {
        return mismatch("no unlock");
    };
    let d = Decode {
        input: hex(file),
        unlock,
        pin: t.unlock_pin.as_deref(),
        max_chunks: None,
        caps: None,
        records: false,
        then_seal: false,
    };
    match d.call(imp, &[]) {
        Err(f) => got_failure(f),
        Ok(got) => Got::Accepted {
            mismatch: differs("class", &got.class, &None)
                .or_else(|| differs("hidden", &got.hidden, &t.hidden))
                .or_else(|| {
                    differs(
                        "releasedLength",
                        &Some(got.released_length),
                        &t.released_length,
                    )
                })
                .or_else(|| {
                    hex_differs(
                        "releasedSha256",
                        &got.released_sha256,
                        t.released_sha256.as_deref().unwrap_or_default(),
                    )
                }),
        },
    }
}

/// `xbk-rekey`: the recipe's file, then `backup-rekey` of its head (`oldPrefix`).
pub(super) fn rekey(v: &Vector<'_>, imp: &mut dyn Implementation) -> Got {
    let t = match v.typed::<RekeyTest>() {
        Ok(t) => t,
        Err(got) => return got,
    };
    let file = match export_file(imp, &t.export) {
        Ok(file) => file,
        Err(f) => return got_failure(f),
    };
    let len = file
        .get(4..8)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_be_bytes) as usize;
    let end = (40 + len).min(file.len());
    let args = json!({
        "oldPrefix": hex(file.get(..end).unwrap_or_default()),
        "unlock": to_json(&t.unlock),
        "newMethods": to_json(&t.new_methods),
        "passphraseKdf": t.passphrase_kdf.as_ref().map(to_json),
        "randomness": hex(&t.randomness),
    });
    let r = call_read(imp, "backup-rekey", args, |f| {
        Ok((f.bytes("prefix")?, f.u64("oldHeaderEnd")?))
    });
    got(r, |(prefix, old_end)| {
        hex_differs("prefix", prefix, t.prefix.as_deref().unwrap_or_default())
            .or_else(|| differs("oldHeaderEnd", old_end, &t.old_header_end.unwrap_or(0)))
    })
}

/// `xbk-seek`: the recipe's file after the edits, then `backup-seek` of a section.
pub(super) fn seek(v: &Vector<'_>, imp: &mut dyn Implementation) -> Got {
    let t = match v.typed::<SeekTest>() {
        Ok(t) => t,
        Err(got) => return got,
    };
    let file = match export_file(imp, &t.export) {
        Ok(file) => file,
        Err(f) => return got_failure(f),
    };
    let input = match family::apply_edits(&file, &t.edits, Some(&t.export)) {
        Ok(input) => input,
        Err(m) => return mismatch(&m),
    };
    let args = json!({"file": hex(&input), "unlock": to_json(&t.unlock), "section": t.section});
    let r = call_read(imp, "backup-seek", args, |f| {
        Ok((
            f.u64_list("offsets")?,
            f.u64_list("chunks")?,
            f.bytes("content")?,
        ))
    });
    got(r, |(offsets, chunks, content)| {
        differs("offsets", offsets, &t.offsets.clone().unwrap_or_default())
            .or_else(|| differs("chunks", chunks, &t.chunks.clone().unwrap_or_default()))
            .or_else(|| {
                hex_differs(
                    "content digest",
                    &Sha256::digest(content),
                    t.content_sha256.as_deref().unwrap_or_default(),
                )
            })
    })
}
