//! The `backup` family (spec/10-backup.md): recovery keys, exports byte for byte, decodings
//! in several push splits that must agree, re-keying and seeking.

use quietwire_test_vectors::families::backup::{self as family, BackupGroup, DecodeTest};
use sha2::{Digest, Sha256};

use super::{Got, Recorder, differs, got, hex_differs};
use crate::implementation::{BackupDecode, BackupDecoded, Failure, Implementation, slice_count};

/// The splits every decoding runs in: whole, chunk-sized, an irregular pattern, and byte by
/// byte for inputs up to 4 MiB (larger ones take minutes byte by byte in a debug build).
fn splits(len: usize) -> Vec<Vec<usize>> {
    let mut out = vec![vec![], vec![65_552], vec![7, 65_551, 3, 100_000, 1]];
    if len <= 4 << 20 {
        out.push(vec![1]);
    }
    out
}

/// The input of a decoding test: the file, or the recipe's file after the edits; the hashes
/// are checked so a wrong encoder or edit is reported as such.
fn input(t: &DecodeTest, imp: &mut dyn Implementation) -> Result<Vec<u8>, Got> {
    let bytes = match (&t.file, &t.export) {
        (Some(f), _) => f.clone(),
        (None, Some(e)) => {
            let file = imp.backup_export(e).map_err(failure)?;
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

fn failure(f: Failure) -> Got {
    match f {
        Failure::Error { class } => Got::Rejected(class),
        Failure::Unimplemented { feature } => Got::Unimplemented(feature),
    }
}

fn mismatch(what: &str) -> Got {
    Got::Accepted {
        mismatch: Some(what.to_owned()),
    }
}

fn decode(t: &DecodeTest, imp: &mut dyn Implementation) -> Got {
    let bytes = match input(t, imp) {
        Ok(b) => b,
        Err(g) => return g,
    };
    let mut first: Option<BackupDecoded> = None;
    for pushes in splits(bytes.len()) {
        let d = BackupDecode {
            input: &bytes,
            unlock: &t.unlock,
            pin: t.pin.as_deref(),
            max_chunks: t.max_chunks,
            caps: t.kdf_caps,
            records: t.records,
            then_seal: t.then_seal,
            pushes: &pushes,
        };
        let mut got = match imp.backup_decode(&d) {
            Ok(got) => got,
            Err(f) => return failure(f),
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
                .and_then(|want| differs("kdfRuns", &got.kdf_runs, &want))
        });
    match (got.class, observed) {
        (_, Some(m)) => mismatch(&m),
        (Some(class), None) => Got::Rejected(class),
        (None, None) => Got::Accepted {
            mismatch: differs("hidden", &got.hidden, &t.hidden),
        },
    }
}

pub(super) fn run_backup(group: &BackupGroup, imp: &mut dyn Implementation, rec: &mut Recorder) {
    use BackupGroup as G;
    match group {
        G::RecoveryKey { tests, .. } => {
            for t in tests {
                let r = imp.backup_recovery_parse(&t.text).and_then(|key| {
                    let text = if t.canonical {
                        Some(imp.backup_recovery_text(&key)?)
                    } else {
                        None
                    };
                    Ok((key, text))
                });
                rec.record(
                    "xbk-recovery-key",
                    t,
                    got(r, |(key, text)| {
                        hex_differs("key", key, t.key.as_deref().unwrap_or_default()).or_else(
                            || {
                                text.as_ref()
                                    .and_then(|text| differs("text", text, &t.text))
                            },
                        )
                    }),
                );
            }
        }
        G::Export { tests, .. } => {
            for t in tests {
                let r = imp.backup_export(&t.export);
                let g = match r {
                    Err(f) => failure(f),
                    Ok(file) => export_checks(t, &file, imp),
                };
                rec.record("xbk-export", t, g);
            }
        }
        G::Container { tests, .. }
        | G::Header { tests, .. }
        | G::Kdf { tests, .. }
        | G::Unlock { tests, .. }
        | G::Mac { tests, .. }
        | G::Stream { tests, .. }
        | G::Sections { tests, .. }
        | G::Hidden { tests, .. }
        | G::Restore { tests, .. } => {
            let name = group_name(group);
            for t in tests {
                let g = decode(t, imp);
                rec.record(name, t, g);
            }
        }
        G::Rekey { tests, .. } => {
            for t in tests {
                let g = match imp.backup_export(&t.export) {
                    Err(f) => failure(f),
                    Ok(file) => {
                        let len =
                            file.get(4..8)
                                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                                .map_or(0, u32::from_be_bytes) as usize;
                        let end = (40 + len).min(file.len());
                        let r = imp.backup_rekey(
                            file.get(..end).unwrap_or_default(),
                            &t.unlock,
                            &t.new_methods,
                            t.passphrase_kdf,
                            &t.randomness,
                        );
                        got(r, |(prefix, old_end)| {
                            hex_differs("prefix", prefix, t.prefix.as_deref().unwrap_or_default())
                                .or_else(|| {
                                    differs("oldHeaderEnd", old_end, &t.old_header_end.unwrap_or(0))
                                })
                        })
                    }
                };
                rec.record("xbk-rekey", t, g);
            }
        }
        G::Seek { tests, .. } => {
            for t in tests {
                let g = match imp.backup_export(&t.export) {
                    Err(f) => failure(f),
                    Ok(file) => match family::apply_edits(&file, &t.edits, Some(&t.export)) {
                        Err(m) => mismatch(&m),
                        Ok(input) => {
                            let r = imp.backup_seek(&input, &t.unlock, t.section);
                            got(r, |(offsets, chunks, content)| {
                                differs("offsets", offsets, &t.offsets.clone().unwrap_or_default())
                                    .or_else(|| {
                                        differs(
                                            "chunks",
                                            chunks,
                                            &t.chunks.clone().unwrap_or_default(),
                                        )
                                    })
                                    .or_else(|| {
                                        hex_differs(
                                            "content digest",
                                            &Sha256::digest(content),
                                            t.content_sha256.as_deref().unwrap_or_default(),
                                        )
                                    })
                            })
                        }
                    },
                };
                rec.record("xbk-seek", t, g);
            }
        }
    }
}

fn group_name(group: &BackupGroup) -> &'static str {
    use BackupGroup as G;
    match group {
        G::RecoveryKey { .. } => "xbk-recovery-key",
        G::Export { .. } => "xbk-export",
        G::Container { .. } => "xbk-container",
        G::Header { .. } => "xbk-header",
        G::Kdf { .. } => "xbk-kdf",
        G::Unlock { .. } => "xbk-unlock",
        G::Mac { .. } => "xbk-mac",
        G::Stream { .. } => "xbk-stream",
        G::Sections { .. } => "xbk-sections",
        G::Hidden { .. } => "xbk-hidden",
        G::Restore { .. } => "xbk-restore",
        G::Rekey { .. } => "xbk-rekey",
        G::Seek { .. } => "xbk-seek",
    }
}

/// A valid export: length, hash and prefix, then its decoding.
fn export_checks(t: &family::ExportTest, file: &[u8], imp: &mut dyn Implementation) -> Got {
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
    let d = BackupDecode {
        input: file,
        unlock,
        pin: t.unlock_pin.as_deref(),
        max_chunks: None,
        caps: None,
        records: false,
        then_seal: false,
        pushes: &[],
    };
    match imp.backup_decode(&d) {
        Err(f) => failure(f),
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
