//! Producing files from recipes, applying edits, and running the implementation to fill in
//! a test's observations (checked against the class the generator expects).

use std::collections::HashMap;

use quietwire::backup::run::{Split, decode_file};
use quietwire::backup::{
    DecoderConfig, Encoder, ExportOptions, KdfCaps, KdfParams, Methods, RecoveryKey, Unlock,
};
use quietwire::keys::KemSecret;
use quietwire::suite::Suite;
use sha2::{Digest, Sha256};

use super::{Caps, DecodeTest, Edit, Export, Ids, Kdf, SectionContent, TransferKey, UnlockJson};
use crate::seeds::ReplayRng;

pub(super) use crate::families::sha256;

/// `SHA-256(seed ‖ u64le(0)) ‖ SHA-256(seed ‖ u64le(1)) ‖ …`, cut to `length` bytes.
pub fn stream_bytes(seed: &[u8], length: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(length as usize);
    let mut j = 0u64;
    while (out.len() as u64) < length {
        let mut h = Sha256::new();
        h.update(seed);
        h.update(j.to_le_bytes());
        out.extend_from_slice(&h.finalize());
        j += 1;
    }
    out.truncate(length as usize);
    out
}

impl SectionContent {
    /// The section's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = self.content.clone().unwrap_or_default();
        if let (Some(seed), Some(len)) = (&self.stream_seed, self.stream_length) {
            out.extend_from_slice(&stream_bytes(seed, len));
        }
        out
    }
}

impl From<Kdf> for KdfParams {
    fn from(k: Kdf) -> KdfParams {
        KdfParams { m: k.m, t: k.t, p: k.p }
    }
}

pub(super) fn transfer_pair(t: &TransferKey) -> Result<KemSecret, String> {
    let suite = Suite::from_id(t.suite).map_err(|e| e.to_string())?;
    let seed: [u8; 32] = t.seed.as_slice().try_into().map_err(|_| "seed length")?;
    Ok(KemSecret::from_seed(suite, &seed))
}

/// The encoder options of a recipe.
///
/// # Errors
/// A message for a recipe without methods or with a malformed key.
pub fn export_options(e: &Export) -> Result<ExportOptions, String> {
    let key = e
        .recovery_key
        .as_ref()
        .map(|k| -> Result<RecoveryKey, String> {
            let bytes: [u8; 32] = k.as_slice().try_into().map_err(|_| "key length")?;
            Ok(RecoveryKey::from_bytes(&bytes))
        })
        .transpose()?;
    let methods = match (key, &e.passphrase, &e.transfer) {
        (Some(k), None, None) => Methods::RecoveryKey(k),
        (None, Some(p), None) => Methods::Passphrase(p.clone()),
        (Some(k), Some(p), None) => Methods::RecoveryKeyAndPassphrase(k, p.clone()),
        (None, None, Some(t)) => Methods::Transfer(transfer_pair(t)?.public().clone()),
        _ => return Err("recipe: no valid set of methods".into()),
    };
    let mut options = ExportOptions::new(methods);
    options.passphrase_kdf = e.passphrase_kdf.map_or(KdfParams::FLOOR, Into::into);
    options.pin_kdf = e.pin_kdf.into();
    options.pin = e.pin.clone();
    if let Some(max) = e.max_chunks {
        options.max_chunks = max;
    }
    Ok(options)
}

/// Encodes a recipe: the file, or the class the encoder refused it with.
///
/// # Errors
/// `Err(Ok(class))` for a refusal; `Err(Err(message))` for a broken recipe or a generator
/// that was not drawn exactly.
pub fn build_export(e: &Export) -> Result<Vec<u8>, Result<String, String>> {
    let options = export_options(e).map_err(Err)?;
    let mut rng = ReplayRng::new(&[&e.randomness]);
    let mut out = Vec::new();
    let class = |err: quietwire::Error| Ok(err.class().as_str().to_owned());
    let mut encoder = Encoder::new(&options, &mut rng, &mut out).map_err(class)?;
    for (i, section) in e.sections.iter().enumerate() {
        if i > 0 {
            encoder.next_section(&mut out).map_err(class)?;
        }
        encoder.write(&section.bytes(), &mut out).map_err(class)?;
    }
    encoder.finish(&mut out).map_err(class)?;
    if !rng.finished() {
        return Err(Err("recipe: randomness not drawn exactly".into()));
    }
    Ok(out)
}

/// The header of a file: the bytes its length field (bytes 4 to 7) counts after it.
pub(super) fn header_of(file: &[u8]) -> Result<&[u8], String> {
    let len = u32::from_be_bytes(file.get(4..8).ok_or("short")?.try_into().map_err(|_| "len")?);
    file.get(8..8 + len as usize).ok_or_else(|| "header".to_owned())
}

/// The core of a header (key 2): the bytes of its byte string.
pub(super) fn core_of(header: &[u8]) -> Result<Vec<u8>, String> {
    use quietwire::cbor::{Int, Limits, Value, decode};
    match decode(header, &Limits::DEFAULT) {
        Ok(Value::Map(m)) => match m.get(&Int::uint(2)) {
            Some(Value::Bytes(b)) => Ok(b.clone()),
            _ => Err("core".into()),
        },
        _ => Err("header".into()),
    }
}

/// The file key `FK` and the `file_id` of a recipe: its first 64 generator bytes.
pub(super) fn file_keys(e: &Export) -> Result<([u8; 32], [u8; 32]), String> {
    let rng = &e.randomness;
    let fk: [u8; 32] = rng.get(..32).ok_or("rng")?.try_into().map_err(|_| "fk")?;
    let file_id: [u8; 32] = rng.get(32..64).ok_or("rng")?.try_into().map_err(|_| "id")?;
    Ok((fk, file_id))
}

/// The keys a `seal` edit needs: `FK`, `file_id`, `PK` from the recipe, the core from the
/// file's header.
fn seal_chunk(file: &[u8], e: &Export, edit: &Edit) -> Result<Vec<u8>, String> {
    let rng = &e.randomness;
    let (fk, file_id) = file_keys(e)?;
    let salt: [u8; 16] = rng.get(64..80).ok_or("rng")?.try_into().map_err(|_| "salt")?;
    let pin_key: [u8; 32] = match &e.pin {
        Some(pin) => quietwire::backup::hazmat::pin_key(pin, &salt, &e.pin_kdf.into())
            .map_err(|x| x.to_string())?,
        None => rng.get(80..112).ok_or("rng")?.try_into().map_err(|_| "pk")?,
    };
    let core = core_of(header_of(file)?)?;
    let section =
        quietwire::backup::Section::from_id(edit.section.unwrap_or(0)).ok_or("seal: section")?;
    let (index, last) = (edit.index.unwrap_or(0), edit.last.unwrap_or(false));
    let plain = edit.bytes.as_deref().unwrap_or_default();
    use quietwire::backup::hazmat::seal_chunk;
    Ok(seal_chunk(&fk, &file_id, &core, &pin_key, section, index, last, plain))
}

/// Applies edits in order; `export` is the recipe of the file (for `seal`).
///
/// # Errors
/// A message for an edit out of range or of an unknown op.
pub fn apply_edits(
    file: &[u8],
    edits: &[Edit],
    export: Option<&Export>,
) -> Result<Vec<u8>, String> {
    let mut out = file.to_vec();
    for edit in edits {
        let at = edit.offset.unwrap_or(0) as usize;
        let bytes = edit.bytes.clone().unwrap_or_default();
        let len = edit.length.unwrap_or(0) as usize;
        let from = edit.from.unwrap_or(0) as usize;
        let total = out.len();
        let range = |start: usize, n: usize| {
            (start.checked_add(n).is_some_and(|end| end <= total))
                .then_some(start..start + n)
                .ok_or(format!("edit {edit:?} out of range"))
        };
        let copied = || range(from, len).map(|r| out.get(r).unwrap_or_default().to_vec());
        // Every op replaces a range of the file with new bytes.
        let (r, new) = match edit.op.as_str() {
            "xor" => {
                let r = range(at, bytes.len())?;
                let old = out.get(r.clone()).unwrap_or_default();
                let xored = old.iter().zip(&bytes).map(|(o, b)| o ^ b).collect();
                (r, xored)
            }
            "replace" => (range(at, bytes.len())?, bytes),
            "insert" => (range(at, 0)?, bytes),
            "delete" => (range(at, len)?, Vec::new()),
            "truncate" => (range(0, len).map(|_| len..total)?, Vec::new()),
            "copy" => (range(at, len)?, copied()?),
            "insertCopy" => (range(at, 0)?, copied()?),
            "seal" => {
                let chunk = seal_chunk(&out, export.ok_or("seal without a recipe")?, edit)?;
                (range(at, chunk.len())?, chunk)
            }
            other => return Err(format!("unknown edit op {other}")),
        };
        out.splice(r, new);
    }
    Ok(out)
}

/// The secret of a test.
///
/// # Errors
/// A message for a malformed secret description.
pub fn unlock_of(u: &UnlockJson) -> Result<Unlock, String> {
    match (&u.recovery_key, &u.passphrase, &u.transfer) {
        (Some(text), None, None) => Ok(Unlock::RecoveryKey(text.clone())),
        (None, Some(p), None) => Ok(Unlock::Passphrase(p.clone())),
        (None, None, Some(t)) => Ok(Unlock::Transfer(transfer_pair(t)?)),
        _ => Err("unlock: exactly one secret".into()),
    }
}

/// The reader configuration of a test.
pub fn config_of(max_chunks: Option<u64>, caps: Option<Caps>) -> DecoderConfig {
    let mut config = DecoderConfig::default();
    if let Some(max) = max_chunks {
        config.max_chunks = max;
    }
    if let Some(c) = caps {
        config.caps = KdfCaps::lowered(c.m, c.t, c.p, c.mt);
    }
    config
}

/// Exports cached by recipe: many tests edit the same file.
#[derive(Default)]
pub(super) struct Cache(HashMap<String, Vec<u8>>);

impl Cache {
    pub(super) fn file(&mut self, e: &Export) -> Result<Vec<u8>, String> {
        let key = serde_json::to_string(e).map_err(|x| x.to_string())?;
        if let Some(f) = self.0.get(&key) {
            return Ok(f.clone());
        }
        let f = build_export(e).map_err(|r| format!("export refused: {r:?}"))?;
        self.0.insert(key, f.clone());
        Ok(f)
    }
}

/// The inputs of a decoding test: the file (whole, or a recipe and edits), the secret and
/// the reader's configuration, with the outcome the generator expects.
#[derive(Clone, Debug, Default)]
pub(super) struct Spec {
    pub file: Option<Vec<u8>>,
    pub export: Option<Export>,
    pub edits: Vec<Edit>,
    pub unlock: UnlockJson,
    pub pin: Option<String>,
    pub max_chunks: Option<u64>,
    pub caps: Option<Caps>,
    pub records: bool,
    pub then_seal: bool,
    pub pin_kdf_runs: bool,
    /// The class the generator expects (`None`: valid).
    pub expect: Option<&'static str>,
    /// The hidden outcome the generator expects for a valid test.
    pub hidden: Option<&'static str>,
}

impl Spec {
    /// A small input given whole.
    pub(super) fn file(file: Vec<u8>, unlock: UnlockJson, expect: Option<&'static str>) -> Spec {
        Spec { file: Some(file), unlock, expect, ..Spec::default() }
    }

    /// The file of recipe `e` changed by `edits`.
    pub(super) fn export(e: &Export, edits: Vec<Edit>, unlock: UnlockJson) -> Spec {
        Spec { export: Some(e.clone()), edits, unlock, ..Spec::default() }
    }
}

/// The decoding tests of a group, in the order they are added (which numbers them).
pub(super) struct T<'a> {
    pub(super) ids: &'a mut Ids,
    pub(super) cache: &'a mut Cache,
    pub(super) tests: Vec<DecodeTest>,
}

impl<'a> T<'a> {
    pub(super) fn new(ids: &'a mut Ids, cache: &'a mut Cache) -> T<'a> {
        T { ids, cache, tests: Vec::new() }
    }

    /// Runs `spec` through the implementation and adds the test with its observations.
    ///
    /// # Errors
    /// If the implementation's result differs from `spec.expect`, or splits disagree.
    pub(super) fn spec(
        &mut self,
        slug: &str,
        comment: &str,
        flags: &[&str],
        spec: Spec,
    ) -> Result<(), String> {
        let (input, export_sha256) = match (&spec.file, &spec.export) {
            (Some(f), None) => (f.clone(), None),
            (None, Some(e)) => {
                let f = self.cache.file(e)?;
                (apply_edits(&f, &spec.edits, Some(e))?, Some(sha256(&f)))
            }
            _ => return Err(format!("{slug}: file or export")),
        };
        let config = config_of(spec.max_chunks, spec.caps);
        let run = |split: &Split| -> Result<_, String> {
            let unlock = unlock_of(&spec.unlock)?;
            Ok(decode_file(&input, unlock, spec.pin.as_deref(), &config, split, spec.records))
        };
        let mut decoded = run(&Split::CHUNKS)?;
        if input.len() < 300_000 {
            let other = run(&Split::Bytewise)?;
            if other.events != decoded.events || other.error_class() != decoded.error_class() {
                return Err(format!("{slug}: splits disagree"));
            }
        }
        let mut class = decoded.error_class().map(str::to_owned);
        if spec.then_seal {
            let restored = decoded.restored.as_mut().ok_or("thenSeal without restore")?;
            let session = restored.sessions.first_mut().ok_or("no session")?;
            let event = quietwire::event::Event::with_id([0; 16], quietwire::event::Body::WakeUp);
            class = session.seal(&event).err().map(|e| e.class().as_str().to_owned());
        }
        if class.as_deref() != spec.expect {
            return Err(format!("{slug}: expected {:?}, got {class:?}", spec.expect));
        }
        let hidden = decoded.result.as_ref().ok().map(|h| h.as_str());
        if class.is_none() && spec.hidden.is_some() && hidden != spec.hidden {
            return Err(format!("{slug}: hidden {hidden:?}"));
        }
        let head = self.ids.head(slug, comment, flags, spec.expect);
        self.tests.push(DecodeTest::new(
            head,
            spec.file,
            spec.export,
            export_sha256,
            spec.edits,
            input.len() as u64,
            sha256(&input),
            spec.unlock,
            spec.pin,
            spec.max_chunks,
            spec.caps,
            spec.records,
            spec.then_seal,
            spec.pin_kdf_runs.then_some(decoded.kdf_runs),
            decoded.released_len,
            decoded.released_sha256.to_vec(),
            if class.is_none() { hidden.map(str::to_owned) } else { None },
        ));
        Ok(())
    }

    /// A small input given whole, refused with `class` (every small input is).
    pub(super) fn small(
        &mut self,
        slug: &str,
        comment: &str,
        flags: &[&str],
        file: Vec<u8>,
        unlock: UnlockJson,
        class: &'static str,
    ) -> Result<(), String> {
        self.spec(slug, comment, flags, Spec::file(file, unlock, Some(class)))
    }

    /// The file of recipe `e` changed by `edits`, decoded with the recovery key and `pin`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add(
        &mut self,
        slug: &str,
        comment: &str,
        flags: &[&str],
        e: &Export,
        edits: Vec<Edit>,
        pin: Option<&str>,
        expect: Option<&'static str>,
    ) -> Result<(), String> {
        let pin = pin.map(str::to_owned);
        let spec = Spec { pin, expect, ..Spec::export(e, edits, super::large::key_unlock()) };
        self.spec(slug, comment, flags, spec)
    }
}
