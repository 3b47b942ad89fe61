//! The built-in implementation's backup operations (spec/10-backup.md), over
//! `quietwire::backup`.

use quietwire::backup::run::{Split, decode_file};
use quietwire::backup::{KdfParams, Methods, RecoveryKey};
use quietwire::keys::KemSecret;
use quietwire::suite::Suite;
use quietwire_test_vectors::families::backup::{
    self as family, Export, Kdf, UnlockJson, build_export, config_of, unlock_of,
};
use quietwire_test_vectors::seeds::ReplayRng;

use crate::implementation::{
    BackupDecode, BackupDecoded, BackupSeek, Failure, OpResult, slice_count,
};

fn bad_input(what: &str) -> Failure {
    Failure::Error {
        class: format!("harness.{what}"),
    }
}

fn class(e: quietwire::Error) -> Failure {
    Failure::Error {
        class: e.class().as_str().to_owned(),
    }
}

pub(crate) fn recovery_text(key: &[u8]) -> OpResult<String> {
    let key: [u8; 32] = key.try_into().map_err(|_| bad_input("key_length"))?;
    Ok(RecoveryKey::from_bytes(&key).to_text())
}

pub(crate) fn recovery_parse(text: &str) -> OpResult<Vec<u8>> {
    RecoveryKey::parse(text)
        .map(|k| k.dangerous_bytes().to_vec())
        .map_err(class)
}

pub(crate) fn export(e: &Export) -> OpResult<Vec<u8>> {
    build_export(e).map_err(|r| match r {
        Ok(c) => Failure::Error { class: c },
        Err(m) => bad_input(&m.replace(' ', "_")),
    })
}

pub(crate) fn decode(d: &BackupDecode<'_>) -> OpResult<BackupDecoded> {
    let slices = slice_count(d.input.len(), d.pushes).ok_or_else(|| bad_input("pushes"))?;
    let unlock = unlock_of(d.unlock).map_err(|_| bad_input("unlock"))?;
    let split = if d.pushes.is_empty() {
        Split::Whole
    } else {
        Split::Pattern(d.pushes.to_vec())
    };
    let mut decoded = decode_file(
        d.input,
        unlock,
        d.pin,
        &config_of(d.max_chunks, d.caps),
        &split,
        d.records,
    );
    let mut class = decoded.error_class().map(str::to_owned);
    if d.then_seal && class.is_none() {
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
    Ok(BackupDecoded {
        hidden: decoded.result.as_ref().ok().map(|h| h.as_str().to_owned()),
        class,
        released_length: decoded.released_len,
        released_sha256: decoded.released_sha256.to_vec(),
        kdf_runs: decoded.kdf_runs,
        slices,
    })
}

fn recovery(hex_key: &str) -> OpResult<RecoveryKey> {
    let bytes: [u8; 32] = hex::decode(hex_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad_input("key"))?;
    Ok(RecoveryKey::from_bytes(&bytes))
}

pub(crate) fn rekey(
    old_prefix: &[u8],
    unlock: &UnlockJson,
    new: &UnlockJson,
    kdf: Option<Kdf>,
    randomness: &[u8],
) -> OpResult<(Vec<u8>, u64)> {
    let methods = match (&new.recovery_key, &new.passphrase, &new.transfer) {
        (Some(k), None, None) => Methods::RecoveryKey(recovery(k)?),
        (None, Some(p), None) => Methods::Passphrase(p.clone()),
        (Some(k), Some(p), None) => Methods::RecoveryKeyAndPassphrase(recovery(k)?, p.clone()),
        (None, None, Some(t)) => {
            let suite = Suite::from_id(t.suite).map_err(class)?;
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
    .map_err(class)?;
    if !rng.finished() {
        return Err(bad_input("randomness_not_drawn_exactly"));
    }
    Ok((rekeyed.prefix, rekeyed.old_header_end))
}

pub(crate) fn seek(file: &[u8], unlock: &UnlockJson, section: u8) -> OpResult<BackupSeek> {
    family::seek_section(file, unlock, section).map_err(|c| Failure::Error { class: c })
}
