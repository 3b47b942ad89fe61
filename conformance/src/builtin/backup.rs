//! The built-in `backup` operations (spec/10-backup.md), over `quietwire::backup`. Recipes,
//! secrets and parameters arrive as the JSON objects of `backup.json` (`export`, `unlock`,
//! `newMethods`, `passphraseKdf`, `kdfCaps`), byte strings as hex.

use quietwire::backup::confirm;
use quietwire::backup::run::{Split, decode_file};
use quietwire::backup::{KdfParams, Methods, RecoveryKey};
use quietwire::keys::KemSecret;
use quietwire::suite::Suite;
use quietwire_test_vectors::families::backup::{
    self as family, Caps, Export, Kdf, UnlockJson, build_export, config_of, unlock_of,
};
use quietwire_test_vectors::seeds::ReplayRng;
use serde_json::{Value, json};

use super::{Dispatched, bad_input, err, no_dispatcher, object, object_opt};
use crate::implementation::{Failure, OpResult, slice_count};
use crate::shim::{Fields, hex};

pub(super) fn call(op: &str, a: Fields<'_>) -> Dispatched {
    Ok(match op {
        "xbk-confirm-seal" => {
            let (suite, seed) = (a.u64("suite")?, a.bytes("transferSeed")?);
            let (code, digest) = (a.bytes("code")?, a.bytes("digest")?);
            let randomness = a.bytes("randomness")?;
            (|| {
                let key = transfer_key(suite, &seed)?;
                let digest = super::key32(&digest)?;
                let mut rng = ReplayRng::new(&[&randomness]);
                let (message, sas) =
                    confirm::seal_confirmation(key.public(), &code, &digest, &mut rng)
                        .map_err(err)?;
                Ok(json!({"message": hex(&message), "sas": sas.to_string()}))
            })()
        }
        "xbk-confirm-open" => {
            let (suite, seed) = (a.u64("suite")?, a.bytes("transferSeed")?);
            let (code, message) = (a.bytes("code")?, a.bytes("message")?);
            let file = a.bytes_opt("fileSha256")?;
            (|| {
                let key = transfer_key(suite, &seed)?;
                let (digest, sas) =
                    confirm::open_confirmation(&key, &code, &message).map_err(err)?;
                if let Some(file) = file {
                    confirm::check_file_digest(&digest, &super::key32(&file)?).map_err(err)?;
                }
                Ok(json!({"digest": hex(&digest), "sas": sas.to_string()}))
            })()
        }
        "backup-recovery-text" => {
            let key = a.bytes("key")?;
            <[u8; 32]>::try_from(key.as_slice())
                .map_err(|_| bad_input("key_length"))
                .map(|key| json!({"text": RecoveryKey::from_bytes(&key).to_text()}))
        }
        "backup-recovery-parse" => RecoveryKey::parse(a.str("text")?)
            .map(|k| json!({"key": hex(k.dangerous_bytes())}))
            .map_err(err),
        "backup-export" => {
            let export: Export = object(a, "export")?;
            build_export(&export)
                .map(|file| json!({"file": hex(&file)}))
                .map_err(|r| match r {
                    Ok(c) => Failure::Error { class: c },
                    Err(m) => bad_input(&m.replace(' ', "_")),
                })
        }
        "backup-decode" => {
            let pushes = a
                .u64_list("pushes")?
                .into_iter()
                .map(|n| usize::try_from(n).map_err(|_| "a push size is too large".to_owned()))
                .collect::<Result<Vec<usize>, String>>()?;
            let decode = Decode {
                input: a.bytes("input")?,
                unlock: object(a, "unlock")?,
                pin: a.str_opt("pin")?,
                max_chunks: a.u64_opt("maxChunks")?,
                caps: object_opt::<Caps>(a, "kdfCaps")?,
                records: a.bool("records")?,
                then_seal: a.bool("thenSeal")?,
                pushes,
            };
            decode.run()
        }
        "backup-rekey" => {
            let unlock: UnlockJson = object(a, "unlock")?;
            let new_methods: UnlockJson = object(a, "newMethods")?;
            rekey(
                &a.bytes("oldPrefix")?,
                &unlock,
                &new_methods,
                object_opt::<Kdf>(a, "passphraseKdf")?,
                &a.bytes("randomness")?,
            )
        }
        "backup-seek" => {
            let unlock: UnlockJson = object(a, "unlock")?;
            let section = u8::try_from(a.u64("section")?).map_err(|_| "section above 255")?;
            family::seek_section(&a.bytes("file")?, &unlock, section)
                .map(|(offsets, chunks, content)| {
                    json!({"offsets": offsets, "chunks": chunks, "content": hex(&content)})
                })
                .map_err(|c| Failure::Error { class: c })
        }
        other => return no_dispatcher(other),
    })
}

/// Inputs of a backup decoding (`XBK-27`, `XBK-28`).
struct Decode<'a> {
    input: Vec<u8>,
    unlock: UnlockJson,
    pin: Option<&'a str>,
    /// The reader's `MAX_CHUNKS`, if not the default.
    max_chunks: Option<u64>,
    /// The reader's lowered Argon2id caps.
    caps: Option<Caps>,
    /// Whether the restore layer checks the records.
    records: bool,
    /// After a successful restore, encrypt with its first session and report that class.
    then_seal: bool,
    /// Push sizes, repeated; empty: the whole input in one push.
    pushes: Vec<usize>,
}

impl Decode<'_> {
    /// Decodes the input as pushed; a decoding failure is an observation (`class`), not an
    /// error of the operation.
    fn run(&self) -> OpResult<Value> {
        let slices =
            slice_count(self.input.len(), &self.pushes).ok_or_else(|| bad_input("pushes"))?;
        let unlock = unlock_of(&self.unlock).map_err(|_| bad_input("unlock"))?;
        let split = if self.pushes.is_empty() {
            Split::Whole
        } else {
            Split::Pattern(self.pushes.clone())
        };
        let mut decoded = decode_file(
            &self.input,
            unlock,
            self.pin,
            &config_of(self.max_chunks, self.caps),
            &split,
            self.records,
        );
        let mut class = decoded.error_class().map(str::to_owned);
        if self.then_seal && class.is_none() {
            let session = decoded
                .restored
                .as_mut()
                .and_then(|r| r.sessions.first_mut())
                .ok_or_else(|| bad_input("no_session"))?;
            let event = quietwire::event::Event::with_id([0; 16], quietwire::event::Body::WakeUp);
            class = session
                .seal(&event)
                .err()
                .map(|e| e.class().as_str().to_owned());
        }
        Ok(json!({
            "class": class,
            "hidden": decoded.result.as_ref().ok().map(|h| h.as_str().to_owned()),
            "releasedLength": decoded.released_len,
            "releasedSha256": hex(&decoded.released_sha256),
            "kdfRuns": decoded.kdf_runs,
            "slices": slices,
        }))
    }
}

fn recovery(hex_key: &str) -> OpResult<RecoveryKey> {
    let bytes: [u8; 32] = hex::decode(hex_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad_input("key"))?;
    Ok(RecoveryKey::from_bytes(&bytes))
}

/// Re-keys the file whose prefix and header MAC are `old_prefix` (`XBK-31`).
fn rekey(
    old_prefix: &[u8],
    unlock: &UnlockJson,
    new: &UnlockJson,
    kdf: Option<Kdf>,
    randomness: &[u8],
) -> OpResult<Value> {
    let methods = match (&new.recovery_key, &new.passphrase, &new.transfer) {
        (Some(k), None, None) => Methods::RecoveryKey(recovery(k)?),
        (None, Some(p), None) => Methods::Passphrase(p.clone()),
        (Some(k), Some(p), None) => Methods::RecoveryKeyAndPassphrase(recovery(k)?, p.clone()),
        (None, None, Some(t)) => {
            let suite = Suite::from_id(t.suite).map_err(err)?;
            let seed: [u8; 32] = t
                .seed
                .as_slice()
                .try_into()
                .map_err(|_| bad_input("seed"))?;
            Methods::Transfer(KemSecret::from_seed(suite, &seed).public().clone())
        }
        _ => return Err(bad_input("methods")),
    };
    let params = kdf.map_or(KdfParams::FLOOR, Into::into);
    let mut rng = ReplayRng::new(&[randomness]);
    let rekeyed = quietwire::backup::rekey::rekey(
        old_prefix,
        unlock_of(unlock).map_err(|_| bad_input("unlock"))?,
        &methods,
        &params,
        &config_of(None, None),
        &mut rng,
    )
    .map_err(err)?;
    if !rng.finished() {
        return Err(bad_input("randomness_not_drawn_exactly"));
    }
    Ok(json!({"prefix": hex(&rekeyed.prefix), "oldHeaderEnd": rekeyed.old_header_end}))
}

/// The transfer key pair of `suite` derived from `seed` (`DeriveKeyPair`).
fn transfer_key(suite: u64, seed: &[u8]) -> OpResult<KemSecret> {
    let suite = Suite::from_id(suite).map_err(err)?;
    Ok(KemSecret::from_seed(suite, &super::key32(seed)?))
}
