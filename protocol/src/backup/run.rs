//! A driver that decodes a whole file held in memory, pushing it in a chosen split, with or
//! without the restore layer: what the vectors, the conformance shim and the fuzz targets
//! run. It records what `XBK-28` makes observable: the released plaintext's length and
//! SHA-256 at success or failure, the class, the hidden outcome. Applications that hold a
//! file in memory call [`restore_slice`].

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

/// Decodes and restores a whole file held in memory: [`decode_file`] in one push with the
/// restore layer. What it returns is committed: every check of `XBK-27` passed.
///
/// ```
/// use quietwire::backup::restore::Record;
/// use quietwire::backup::{DecoderConfig, Encoder, ExportOptions, Methods, RecoveryKey, Section,
///     Unlock, run};
/// use quietwire::identity::DeviceKeys;
/// use quietwire::suite::Suite;
/// # use rand_core::{TryCryptoRng, TryRng};
/// # struct Counter(u8);
/// # impl TryRng for Counter {
/// #     type Error = core::convert::Infallible;
/// #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
/// #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
/// #     fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
/// #         for b in dst { self.0 = self.0.wrapping_add(1); *b = self.0; }
/// #         Ok(())
/// #     }
/// # }
/// # impl TryCryptoRng for Counter {}
/// # let mut rng = Counter(0);
/// let device = DeviceKeys::generate(Suite::X25519, &mut rng);
/// let key = RecoveryKey::generate(&mut rng);
/// let text = key.to_text();
/// let mut file = Vec::new();
/// let options = ExportOptions::new(Methods::RecoveryKey(key));
/// let mut encoder = Encoder::new(&options, &mut rng, &mut file)?;
/// encoder.write_record(Section::Identity, &Record::identity(device.identity(), 4), &mut file)?;
/// encoder.finish(&mut file)?;
///
/// let config = DecoderConfig::default();
/// let restored = run::restore_slice(&file, Unlock::RecoveryKey(text), None, &config)?;
/// assert_eq!(restored.identity.public(), device.identity().public());
/// assert_eq!(restored.generation, 4);
/// # Ok::<(), quietwire::Error>(())
/// ```
///
/// # Errors
/// The first failing check of `XBK-27`, the restore layer's included.
pub fn restore_slice(
    file: &[u8],
    secret: Unlock,
    pin: Option<&str>,
    config: &DecoderConfig,
) -> Result<Restored> {
    let decoded = decode_file(file, secret, pin, config, &Split::Whole, true);
    decoded.result?;
    decoded
        .restored
        .ok_or_else(|| Error::new(crate::ErrorClass::BackupIdentityCount))
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
