//! Peak memory of the `.xbk` encoder and decoder, independent of the file's size
//! (spec/10-backup.md `XBK-28`, `XBK-30`). The encoder's output is piped chunk by chunk into
//! the decoder, so the process holds one chunk of each and never the file; compare the
//! maximum resident set size across sizes:
//!
//! ```text
//! cargo build --release -p quietwire --example backup_memory
//! /usr/bin/time -v target/release/examples/backup_memory 1
//! /usr/bin/time -v target/release/examples/backup_memory 256
//! ```

use quietwire::backup::{
    Decoder, DecoderConfig, Encoder, Event, ExportOptions, HiddenOutcome, Methods, Output,
    RecoveryKey, Section, Unlock,
};

const MIB: usize = 1 << 20;

struct Counter(u64);

impl rand_core::TryRng for Counter {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1);
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for b in dst {
            *b = self.try_next_u64()? as u8;
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for Counter {}

/// An [`Output`] that hands each piece the encoder wrote to a decoder when the encoder asks
/// for room for the next one.
struct Pipe {
    decoder: Decoder,
    piece: Vec<u8>,
    written: usize,
    released: usize,
    finished: Option<HiddenOutcome>,
    error: Option<quietwire::Error>,
}

impl Pipe {
    fn deliver(&mut self) {
        let piece = core::mem::take(&mut self.piece);
        let mut rest = piece.as_slice();
        self.written += rest.len();
        while !rest.is_empty() && self.error.is_none() {
            match self.decoder.push(rest) {
                Ok(n) => rest = rest.get(n..).unwrap_or_default(),
                Err(e) => self.error = Some(e),
            }
            self.drain();
        }
        self.piece = piece;
        self.piece.clear();
    }

    fn drain(&mut self) {
        while let Some(event) = self.decoder.poll_event() {
            match event {
                Event::Data { bytes, .. } => self.released += bytes.len(),
                Event::Finished { hidden } => self.finished = Some(hidden),
                _ => {}
            }
        }
    }
}

impl Output for Pipe {
    fn extend_zeroed(&mut self, len: usize) -> &mut [u8] {
        self.deliver();
        self.piece.resize(len, 0);
        &mut self.piece
    }
}

fn main() -> Result<(), quietwire::Error> {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let key = RecoveryKey::from_bytes(&[9; 32]);
    let mut pipe = Pipe {
        decoder: Decoder::new(DecoderConfig::default()),
        piece: Vec::new(),
        written: 0,
        released: 0,
        finished: None,
        error: None,
    };
    pipe.decoder
        .unlock(Unlock::RecoveryKey(key.to_text()), None)?;
    let options = ExportOptions::new(Methods::RecoveryKey(key));
    let mut encoder = Encoder::new(&options, &mut Counter(1), &mut pipe)?;
    while encoder.section() != Section::Chats {
        encoder.next_section(&mut pipe)?;
    }
    let data = vec![0x5au8; MIB];
    for _ in 0..mib {
        encoder.write(&data, &mut pipe)?;
    }
    encoder.finish(&mut pipe)?;
    pipe.deliver();
    if let Some(e) = pipe.error {
        return Err(e);
    }
    pipe.decoder.finish()?;
    pipe.drain();
    println!(
        "{mib} MiB: file {} bytes, released {} bytes, {:?}",
        pipe.written, pipe.released, pipe.finished
    );
    Ok(())
}
