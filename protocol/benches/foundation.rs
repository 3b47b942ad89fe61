//! Foundation benchmarks: canonical CBOR, device-record and invite verification, safety
//! codes, each next to the primitive floor it cannot beat, in one run so the ratios in
//! `BENCHMARKS.md` compare like with like.
//!
//! Run: `cargo bench -p quietwire --bench foundation`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use quietwire::UnixTime;
use quietwire::cbor::{self, Limits};
use quietwire::identity::{DeviceKeys, SignedDeviceRecord};
use quietwire::invite::{Invite, InviteParams, SignedInvite};
use quietwire::keys::{IdentityKeyPair, KemSecret, X25519Secret};
use quietwire::label::Label;
use quietwire::safety::{Fingerprint, SafetyCode};
use quietwire::suite::{Suite, SuitePolicy};
use sha2::{Digest, Sha512};

mod common;
use common::FixtureRng;

fn device(suite: Suite) -> DeviceKeys {
    DeviceKeys::from_parts(
        suite,
        IdentityKeyPair::from_seed(&[1; 32]),
        KemSecret::from_seed(suite, &[2; 32]),
        X25519Secret::from_bytes(&[3; 32]),
    )
}

fn invite(suite: Suite) -> SignedInvite {
    let params = InviteParams {
        relay_hints: vec!["wss://relay.quietwire.invalid".to_owned()],
        mailbox: [7; 32],
        expires: UnixTime(2_000_000_000),
        single_use: true,
    };
    Invite::create(device(suite).identity(), suite, params, &mut FixtureRng(0))
        .unwrap()
        .0
}

fn suite_name(suite: Suite) -> &'static str {
    match suite {
        Suite::XWing => "xwing",
        Suite::X25519 => "x25519",
        _ => "other",
    }
}

fn cbor_codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("cbor");
    let record = device(Suite::XWing).signed_record(0).to_bytes();
    let invite = invite(Suite::XWing).to_bytes();
    for (name, bytes) in [("device_record", record), ("invite", invite)] {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("decode", name), &bytes, |b, bytes| {
            b.iter(|| cbor::decode(black_box(bytes), &Limits::DEFAULT).unwrap());
        });
        let value = cbor::decode(&bytes, &Limits::DEFAULT).unwrap();
        group.bench_with_input(BenchmarkId::new("encode", name), &value, |b, value| {
            b.iter(|| cbor::encode(black_box(value)));
        });
        // Floor: touching every byte once.
        group.bench_with_input(BenchmarkId::new("floor_copy", name), &bytes, |b, bytes| {
            b.iter(|| black_box(bytes).to_vec());
        });
    }
    group.finish();
}

fn verification(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify");
    for suite in Suite::ALL {
        let record = device(suite).signed_record(0);
        let bytes = record.to_bytes();
        group.bench_with_input(
            BenchmarkId::new("device_record", suite_name(suite)),
            &bytes,
            |b, bytes| {
                b.iter(|| {
                    SignedDeviceRecord::from_bytes(black_box(bytes), &SuitePolicy::ALL).unwrap()
                });
            },
        );
        let invite = invite(suite).to_bytes();
        group.bench_with_input(
            BenchmarkId::new("invite", suite_name(suite)),
            &invite,
            |b, bytes| {
                b.iter(|| {
                    SignedInvite::from_bytes(
                        black_box(bytes),
                        UnixTime(1_000_000_000),
                        &SuitePolicy::ALL,
                    )
                    .unwrap()
                });
            },
        );
    }
    // Floor: one strict Ed25519 verification over the same labelled input a record needs.
    let identity = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
    let record = device(Suite::XWing).signed_record(0);
    let input = Label::DeviceRecord.input(&[record.body()]);
    let signature = ed25519_dalek::Signer::sign(&identity, &input);
    let public = identity.verifying_key();
    group.bench_function("floor_ed25519_verify_strict", |b| {
        b.iter(|| {
            public
                .verify_strict(black_box(&input), black_box(&signature))
                .unwrap()
        });
    });
    group.finish();
}

fn safety(c: &mut Criterion) {
    let mut group = c.benchmark_group("safety");
    let a = *device(Suite::XWing).identity().public();
    let b_key = *IdentityKeyPair::from_seed(&[9; 32]).public();
    group.bench_function("fingerprint", |b| b.iter(|| Fingerprint::of(black_box(&a))));
    group.bench_function("safety_code", |b| {
        b.iter(|| SafetyCode::new(black_box(&a), black_box(&b_key)))
    });
    // Floor: the 5201 SHA-512 compressions a fingerprint is made of.
    let key = *a.as_bytes();
    group.bench_function("floor_sha512_chain", |b| {
        b.iter(|| {
            let mut hash: [u8; 64] = Sha512::digest(black_box(&key)).into();
            for _ in 0..5200 {
                let mut hasher = Sha512::new();
                hasher.update(hash);
                hasher.update(key);
                hash = hasher.finalize().into();
            }
            hash
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = cbor_codec, verification, safety
}
criterion_main!(benches);
