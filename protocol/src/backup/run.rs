//! A driver that decodes a whole file held in memory, pushing it in a chosen split, with or
//! without the restore layer: what the vectors, the conformance shim and the fuzz targets
//! run. It records what `XBK-28` makes observable: the released plaintext's length and
//! SHA-256 at success or failure, the class, the hidden outcome.

use sha2::{Digest, Sha256};

use super::decoder::{Decoder, DecoderConfig, Event, HiddenOutcome};
use super::restore::{Restore, Restored};
use super::{CHUNK_CT, Unlock};
use crate::error::{Error, Result};

/// How the input is split into pushes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Split {
    /// One push of everything.
    Whole,
    /// One byte per push.
    Bytewise,
    /// Pushes of a fixed size.
    Every(usize),
    /// Pushes of the given sizes in turn, repeated.
    Pattern(Vec<usize>),
}

impl Split {
    /// Chunk-sized pushes.
    pub const CHUNKS: Split = Split::Every(CHUNK_CT);

    fn size(&self, push: usize) -> usize {
        match self {
            Split::Whole => usize::MAX,
            Split::Bytewise => 1,
            Split::Every(n) => (*n).max(1),
            Split::Pattern(p) if p.is_empty() => usize::MAX,
            Split::Pattern(p) => p.get(push % p.len()).copied().unwrap_or(1).max(1),
        }
    }
}

/// The observable outcome of a decoding.
#[derive(Debug)]
pub struct Decoded {
    /// The hidden outcome on success, or the first error.
    pub result: Result<HiddenOutcome>,
    /// Bytes of plaintext released (all `Data` events).
    pub released_len: u64,
    /// SHA-256 of the released plaintext.
    pub released_sha256: [u8; 32],
    /// Argon2id evaluations the decoder ran.
    pub kdf_runs: u32,
    /// The restored data, when the restore layer ran and everything passed.
    pub restored: Option<Restored>,
    /// The events, by name (`Data` without its bytes), for comparing splits.
    pub events: Vec<String>,
}

impl Decoded {
    /// The class name of a failure, if any.
    pub fn error_class(&self) -> Option<&'static str> {
        self.result.as_ref().err().map(|e| e.class().as_str())
    }
}

/// Decodes `file` with `secret` and `pin`, pushed as `split`, then signals the end; with
/// `restore`, the restore layer checks the records and a success commits them.
pub fn decode_file(
    file: &[u8],
    secret: Unlock,
    pin: Option<&str>,
    config: &DecoderConfig,
    split: &Split,
    restore: bool,
) -> Decoded {
    let mut decoder = Decoder::new(*config);
    let mut staging = restore.then(Restore::new);
    let mut hasher = Sha256::new();
    let mut released = 0u64;
    let mut events = Vec::new();
    let mut drain = |decoder: &mut Decoder, staging: &mut Option<Restore>| -> Result<()> {
        while let Some(event) = decoder.poll_event() {
            if let Event::Data { bytes, .. } = &event {
                hasher.update(bytes);
                released += bytes.len() as u64;
            }
            events.push(name(&event));
            if let Some(staging) = staging.as_mut() {
                staging.handle(&event)?;
            }
        }
        Ok(())
    };
    let result = (|| -> Result<()> {
        decoder.unlock(secret, pin)?;
        let mut rest = file;
        let mut push = 0usize;
        while !rest.is_empty() {
            let size = split.size(push).min(rest.len());
            push += 1;
            let mut piece = rest.get(..size).unwrap_or_default();
            rest = rest.get(size..).unwrap_or_default();
            while !piece.is_empty() {
                let pushed = decoder.push(piece);
                drain(&mut decoder, &mut staging)?;
                let n = pushed?;
                piece = piece.get(n..).unwrap_or_default();
                if n == 0 {
                    // Only a decoder waiting for a secret stops without an event; the
                    // secret is set above, so this does not happen.
                    break;
                }
            }
        }
        let finished = decoder.finish();
        drain(&mut decoder, &mut staging)?;
        finished
    })();
    let outcome = match result {
        Ok(()) => decoder_outcome(&events),
        Err(e) => Err(e),
    };
    let restored = match (&outcome, staging) {
        (Ok(_), Some(staging)) => staging.commit(),
        _ => None,
    };
    Decoded {
        result: outcome,
        released_len: released,
        released_sha256: hasher.finalize().into(),
        kdf_runs: decoder.kdf_runs(),
        restored,
        events,
    }
}

fn decoder_outcome(events: &[String]) -> Result<HiddenOutcome> {
    let outcome = events.last().and_then(|e| match e.as_str() {
        "Finished(open)" => Some(HiddenOutcome::Open),
        "Finished(locked)" => Some(HiddenOutcome::Locked),
        "Finished(pin_mismatch)" => Some(HiddenOutcome::PinMismatch),
        _ => None,
    });
    outcome.ok_or_else(|| Error::new(crate::ErrorClass::BackupTruncated))
}

fn name(event: &Event<'_>) -> String {
    match event {
        Event::HeaderReady { .. } => "HeaderReady".into(),
        Event::Unlocked => "Unlocked".into(),
        Event::SectionStart { section } => format!("SectionStart({})", section.id()),
        Event::Data { section, bytes } => format!("Data({}, {})", section.id(), bytes.len()),
        Event::SectionEnd { section, chunks } => {
            format!("SectionEnd({}, {chunks})", section.id())
        }
        Event::HiddenLocked => "HiddenLocked".into(),
        Event::Progress { consumed } => format!("Progress({consumed})"),
        Event::Finished { hidden } => format!("Finished({})", hidden.as_str()),
    }
}
