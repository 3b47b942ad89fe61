//! `.xbk` throughput beside its floor and its peer, in one run (spec/10-backup.md):
//!
//! - `xbk/encrypt`, `xbk/decrypt`: a file whose chats section holds the data, recovery-key
//!   unlock (HKDF only), through the streaming encoder and the push decoder;
//! - `chacha20poly1305/seal`, `/open`: raw ChaCha20-Poly1305 over the same data in 64 KiB
//!   chunks, out of place, the floor;
//! - `age/encrypt`, `age/decrypt`: the `age` crate (v1, X25519 recipient) on the same data.
//!
//! Sizes 1, 64 and 256 MiB; throughput is the data size over the time. A file carries fixed
//! overhead (23 chunks of padding at least: six visible sections of one chunk, 16 hidden, the
//! manifest) and Padmé rounding of each section's chunk count, which the ratios include; the
//! printed `file/data` ratio says how much. Run:
//!
//! ```text
//! cargo bench -p quietwire --bench backup
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::{Read, Write};

use chacha20poly1305::aead::inout::InOutBuf;
use chacha20poly1305::{AeadInOut, ChaCha20Poly1305, KeyInit};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use quietwire::backup::{
    Decoder, DecoderConfig, Encoder, Event, ExportOptions, Methods, RecoveryKey, Section, Unlock,
};

mod common;
use common::FixtureRng;

const MIB: usize = 1 << 20;
const SIZES: [usize; 3] = [MIB, 64 * MIB, 256 * MIB];
const CHUNK: usize = 65_536;

fn key() -> RecoveryKey {
    RecoveryKey::from_bytes(&[9; 32])
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31)).collect()
}

fn export(data: &[u8], out: &mut Vec<u8>) {
    let options = ExportOptions::new(Methods::RecoveryKey(key()));
    let mut rng = FixtureRng(1);
    let mut encoder = Encoder::new(&options, &mut rng, out).unwrap();
    while encoder.section() != Section::Chats {
        encoder.next_section(out).unwrap();
    }
    encoder.write(data, out).unwrap();
    encoder.finish(out).unwrap();
}

/// Decodes and returns the bytes released (to keep the work observable).
fn decode(file: &[u8], text: &str) -> usize {
    let mut decoder = Decoder::new(DecoderConfig::default());
    decoder
        .unlock(Unlock::RecoveryKey(text.to_owned()), None)
        .unwrap();
    let mut rest = file;
    let mut released = 0;
    let mut done = false;
    while !done {
        let n = decoder.push(rest).unwrap();
        rest = &rest[n..];
        if rest.is_empty() {
            decoder.finish().unwrap();
        }
        while let Some(event) = decoder.poll_event() {
            match event {
                Event::Data { bytes, .. } => released += bytes.len(),
                Event::Finished { .. } => done = true,
                _ => {}
            }
        }
    }
    released
}

fn raw_seal(cipher: &ChaCha20Poly1305, data: &[u8], out: &mut [u8]) {
    for (i, (chunk, dst)) in data
        .chunks(CHUNK)
        .zip(out.chunks_mut(CHUNK + 16))
        .enumerate()
    {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let (body, tag) = dst.split_at_mut(chunk.len());
        let t = cipher
            .encrypt_inout_detached(&nonce.into(), b"", InOutBuf::new(chunk, body).unwrap())
            .unwrap();
        tag[..16].copy_from_slice(&t);
    }
}

fn raw_open(cipher: &ChaCha20Poly1305, sealed: &[u8], out: &mut [u8]) {
    for (i, (chunk, dst)) in sealed
        .chunks(CHUNK + 16)
        .zip(out.chunks_mut(CHUNK))
        .enumerate()
    {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let (body, tag) = chunk.split_at(chunk.len() - 16);
        let tag: [u8; 16] = tag.try_into().unwrap();
        cipher
            .decrypt_inout_detached(
                &nonce.into(),
                b"",
                InOutBuf::new(body, &mut dst[..body.len()]).unwrap(),
                &tag.into(),
            )
            .unwrap();
    }
}

fn age_encrypt(recipient: &age::x25519::Recipient, data: &[u8], out: &mut Vec<u8>) {
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient)).unwrap();
    let mut writer = encryptor.wrap_output(&mut *out).unwrap();
    writer.write_all(data).unwrap();
    writer.finish().unwrap();
}

fn age_decrypt(identity: &age::x25519::Identity, file: &[u8], out: &mut Vec<u8>) {
    let decryptor = age::Decryptor::new(file).unwrap();
    let mut reader = decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .unwrap();
    reader.read_to_end(out).unwrap();
}

/// Runs the operations in turn, `rounds` times, and returns each one's median time: on a
/// loaded machine, interleaving keeps a change of load from favouring one side.
#[allow(clippy::disallowed_types, clippy::disallowed_methods)] // a benchmark measures time
fn paired(rounds: usize, ops: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let mut times = vec![Vec::new(); ops.len()];
    for _ in 0..rounds {
        for (op, t) in ops.iter_mut().zip(times.iter_mut()) {
            let start = std::time::Instant::now();
            op();
            t.push(start.elapsed().as_secs_f64());
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect()
}

fn throughput(c: &mut Criterion) {
    let text = key().to_text();
    let cipher = ChaCha20Poly1305::new(&[7u8; 32].into());
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public();
    for size in SIZES {
        let input = data(size);
        let mut file = Vec::with_capacity(size + size / 8 + 4 * MIB);
        export(&input, &mut file);
        assert_eq!(decode(&file, &text), size);
        eprintln!(
            "xbk {} MiB: file {} bytes, file/data {:.3}",
            size / MIB,
            file.len(),
            file.len() as f64 / size as f64
        );
        let mut sealed = vec![0u8; size / CHUNK * (CHUNK + 16)];
        raw_seal(&cipher, &input, &mut sealed);
        let mut opened = vec![0u8; size];
        let mut age_file = Vec::with_capacity(size + size / 8);
        age_encrypt(&recipient, &input, &mut age_file);
        let mut age_out = Vec::with_capacity(size);

        {
            let rounds = (64 * MIB / size).clamp(15, 30);
            let mut out = Vec::with_capacity(file.len());
            let mut age_enc = Vec::with_capacity(age_file.len());
            let mut sealed_again = vec![0u8; sealed.len()];
            let medians = paired(
                rounds,
                &mut [
                    &mut || {
                        out.clear();
                        export(&input, &mut out);
                    },
                    &mut || raw_seal(&cipher, &input, &mut sealed_again),
                    &mut || {
                        age_enc.clear();
                        age_encrypt(&recipient, &input, &mut age_enc);
                    },
                    &mut || {
                        std::hint::black_box(decode(&file, &text));
                    },
                    &mut || raw_open(&cipher, &sealed, &mut opened),
                    &mut || {
                        age_out.clear();
                        age_decrypt(&identity, &age_file, &mut age_out);
                    },
                ],
            );
            let mibs = |t: f64| size as f64 / MIB as f64 / t;
            eprintln!(
                "paired {} MiB ({rounds} rounds, medians): encrypt xbk {:.0} MiB/s, raw {:.0}, age {:.0} \
                 -> xbk/raw {:.2}, xbk/age {:.2}; decrypt xbk {:.0} MiB/s, raw {:.0}, age {:.0} \
                 -> xbk/raw {:.2}, xbk/age {:.2}",
                size / MIB,
                mibs(medians[0]),
                mibs(medians[1]),
                mibs(medians[2]),
                medians[1] / medians[0],
                medians[2] / medians[0],
                mibs(medians[3]),
                mibs(medians[4]),
                mibs(medians[5]),
                medians[4] / medians[3],
                medians[5] / medians[3],
            );
        }

        let mut group = c.benchmark_group(format!("backup-{}MiB", size / MIB));
        group.throughput(Throughput::Bytes(size as u64));
        group.sample_size(10);
        if size > MIB {
            group.warm_up_time(std::time::Duration::from_millis(500));
            group.measurement_time(std::time::Duration::from_secs(4));
        }
        let mut out = Vec::with_capacity(file.len());
        group.bench_function(BenchmarkId::new("xbk/encrypt", size / MIB), |b| {
            b.iter(|| {
                out.clear();
                export(&input, &mut out);
            })
        });
        group.bench_function(BenchmarkId::new("chacha20poly1305/seal", size / MIB), |b| {
            b.iter(|| raw_seal(&cipher, &input, &mut sealed))
        });
        group.bench_function(BenchmarkId::new("age/encrypt", size / MIB), |b| {
            b.iter(|| {
                age_file.clear();
                age_encrypt(&recipient, &input, &mut age_file);
            })
        });
        group.bench_function(BenchmarkId::new("xbk/decrypt", size / MIB), |b| {
            b.iter(|| decode(&file, &text))
        });
        group.bench_function(BenchmarkId::new("chacha20poly1305/open", size / MIB), |b| {
            b.iter(|| raw_open(&cipher, &sealed, &mut opened))
        });
        group.bench_function(BenchmarkId::new("age/decrypt", size / MIB), |b| {
            b.iter(|| {
                age_out.clear();
                age_decrypt(&identity, &age_file, &mut age_out);
            })
        });
        group.finish();
    }
}

criterion_group!(benches, throughput);
criterion_main!(benches);
