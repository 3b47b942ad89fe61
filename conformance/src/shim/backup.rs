//! The `backup` ops of the shim protocol (spec/10-backup.md): both sides. Recipes, secrets and
//! parameters travel as the JSON objects of `backup.json` (`export`, `unlock`, `newMethods`,
//! `passphraseKdf`, `kdfCaps`), byte strings as hex.

use quietwire_test_vectors::families::backup::{Caps, Export, Kdf, UnlockJson};
use serde_json::{Value, json};

use super::{Fields, hex};
use crate::implementation::{BackupDecode, BackupDecoded, BackupSeek, Failure, Implementation};

type Dispatched = Result<Result<Value, Failure>, String>;

fn object<T: serde::de::DeserializeOwned>(a: Fields<'_>, name: &str) -> Result<T, String> {
    let value = Value::Object(a.object(name)?.0.clone());
    serde_json::from_value(value).map_err(|e| format!("`{name}`: {e}"))
}

fn object_opt<T: serde::de::DeserializeOwned>(
    a: Fields<'_>,
    name: &str,
) -> Result<Option<T>, String> {
    match a.0.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => object(a, name).map(Some),
    }
}

/// The shim side: answers a `backup-*` op, or `None` for any other op.
pub(super) fn dispatch(
    imp: &mut dyn Implementation,
    op: &str,
    a: Fields<'_>,
) -> Option<Dispatched> {
    let run = || -> Dispatched {
        Ok(match op {
            "backup-recovery-text" => imp
                .backup_recovery_text(&a.bytes("key")?)
                .map(|text| json!({"text": text})),
            "backup-recovery-parse" => imp
                .backup_recovery_parse(a.str("text")?)
                .map(|key| json!({"key": hex(&key)})),
            "backup-export" => {
                let export: Export = object(a, "export")?;
                imp.backup_export(&export)
                    .map(|file| json!({"file": hex(&file)}))
            }
            "backup-decode" => {
                let input = a.bytes("input")?;
                let unlock: UnlockJson = object(a, "unlock")?;
                let pushes = a
                    .u64_list("pushes")?
                    .into_iter()
                    .map(|n| usize::try_from(n).map_err(|_| "a push size is too large".to_owned()))
                    .collect::<Result<Vec<usize>, String>>()?;
                let decode = BackupDecode {
                    input: &input,
                    unlock: &unlock,
                    pin: a.str_opt("pin")?,
                    max_chunks: a.u64_opt("maxChunks")?,
                    caps: object_opt::<Caps>(a, "kdfCaps")?,
                    records: a.bool("records")?,
                    then_seal: a.bool("thenSeal")?,
                    pushes: &pushes,
                };
                imp.backup_decode(&decode).map(|d| {
                    json!({
                        "class": d.class,
                        "hidden": d.hidden,
                        "releasedLength": d.released_length,
                        "releasedSha256": hex(&d.released_sha256),
                        "kdfRuns": d.kdf_runs,
                        "slices": d.slices,
                    })
                })
            }
            "backup-rekey" => {
                let unlock: UnlockJson = object(a, "unlock")?;
                let new_methods: UnlockJson = object(a, "newMethods")?;
                imp.backup_rekey(
                    &a.bytes("oldPrefix")?,
                    &unlock,
                    &new_methods,
                    object_opt::<Kdf>(a, "passphraseKdf")?,
                    &a.bytes("randomness")?,
                )
                .map(|(prefix, end)| json!({"prefix": hex(&prefix), "oldHeaderEnd": end}))
            }
            "backup-seek" => {
                let unlock: UnlockJson = object(a, "unlock")?;
                let section = u8::try_from(a.u64("section")?).map_err(|_| "section above 255")?;
                imp.backup_seek(&a.bytes("file")?, &unlock, section)
                    .map(|(offsets, chunks, content)| {
                        json!({"offsets": offsets, "chunks": chunks, "content": hex(&content)})
                    })
            }
            other => return Err(format!("`{other}` is not a backup op")),
        })
    };
    op.starts_with("backup-").then(run)
}

/// The runner side: the args of each op and the reading of its value.
pub(super) mod client {
    use super::{
        BackupDecode, BackupDecoded, BackupSeek, Export, Fields, Kdf, UnlockJson, Value, hex, json,
    };

    fn to_json<T: serde::Serialize>(value: &T) -> Value {
        serde_json::to_value(value).unwrap_or(Value::Null)
    }

    pub(in crate::shim) fn export_args(export: &Export) -> Value {
        json!({"export": to_json(export)})
    }

    pub(in crate::shim) fn decode_args(d: &BackupDecode<'_>) -> Value {
        json!({
            "input": hex(d.input),
            "unlock": to_json(d.unlock),
            "pin": d.pin,
            "maxChunks": d.max_chunks,
            "kdfCaps": d.caps.as_ref().map(to_json),
            "records": d.records,
            "thenSeal": d.then_seal,
            "pushes": d.pushes,
        })
    }

    pub(in crate::shim) fn decoded(f: Fields<'_>) -> Result<BackupDecoded, String> {
        let kdf_runs = u32::try_from(f.u64("kdfRuns")?).map_err(|_| "`kdfRuns` too large")?;
        Ok(BackupDecoded {
            class: f.str_opt("class")?.map(str::to_owned),
            hidden: f.str_opt("hidden")?.map(str::to_owned),
            released_length: f.u64("releasedLength")?,
            released_sha256: f.bytes("releasedSha256")?,
            kdf_runs,
            slices: f.u64("slices")?,
        })
    }

    pub(in crate::shim) fn rekey_args(
        old_prefix: &[u8],
        unlock: &UnlockJson,
        new_methods: &UnlockJson,
        passphrase_kdf: Option<Kdf>,
        randomness: &[u8],
    ) -> Value {
        json!({
            "oldPrefix": hex(old_prefix),
            "unlock": to_json(unlock),
            "newMethods": to_json(new_methods),
            "passphraseKdf": passphrase_kdf.as_ref().map(to_json),
            "randomness": hex(randomness),
        })
    }

    pub(in crate::shim) fn seek_args(file: &[u8], unlock: &UnlockJson, section: u8) -> Value {
        json!({"file": hex(file), "unlock": to_json(unlock), "section": section})
    }

    pub(in crate::shim) fn seek(f: Fields<'_>) -> Result<BackupSeek, String> {
        Ok((
            f.u64_list("offsets")?,
            f.u64_list("chunks")?,
            f.bytes("content")?,
        ))
    }
}
