//! Session benchmarks: the ratchet's steady state, the ratchet with a DH step per message,
//! and the handshake, each next to vodozemac's Olm (the peer) and to the floor (the
//! primitives it cannot avoid), in one run so the ratios in `BENCHMARKS.md` compare like
//! with like. The post-quantum ratchet (spec/06-ratchet.md §6.18), which every new session
//! runs, is measured next to the classic one, and the ML-KEM-768 work of one of its steps on
//! its own (`pq_step`). `fanout_1k` seals one event for 1, 4 and 16 device sessions.
//!
//! Run: `cargo bench -p quietwire --bench session`
//!
//! Quietwire draws only from a deterministic RNG here; vodozemac draws its own randomness
//! internally (it offers no injection), which it is free to do in a benchmark.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, XChaCha20Poly1305};
use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion, criterion_group, criterion_main};
use hkdf::Hkdf;
use hpke::kem::{X25519HkdfSha256, XWing};
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use quietwire::UnixTime;
use quietwire::envelope::Envelope;
use quietwire::event::{Body, Event};
use quietwire::handshake::{self, PendingInvite};
use quietwire::identity::DeviceKeys;
use quietwire::invite::{Invite, InviteParams};
use quietwire::keys::{IdentityKeyPair, KemSecret, X25519Secret};
use quietwire::label::Label;
use quietwire::ratchet::{self, Ratchet};
use quietwire::session::Session;
use quietwire::suite::{Suite, SuitePolicy};
use sha2::Sha256;
use vodozemac::olm::{Account, OlmMessage, Session as OlmSession, SessionConfig};

mod common;
use common::FixtureRng;

const KIB: usize = 1024;
const AD: [u8; 32] = [9; 32];

// ---------------------------------------------------------------------------------------
// Quietwire fixtures

/// An initiator and a responder ratchet of one session, as the handshake leaves them.
fn ratchets() -> (Ratchet, Ratchet) {
    let key = X25519Secret::from_bytes(&[7; 32]);
    let a = Ratchet::initiator(&[1; 32], *key.public(), &AD);
    let b = Ratchet::responder(&[1; 32], key, &AD);
    (a, b)
}

/// As [`ratchets`], of a post-quantum session (RAT-11), as the handshake now leaves them.
fn pq_ratchets() -> (Ratchet, Ratchet) {
    let key = X25519Secret::from_bytes(&[7; 32]);
    let a = Ratchet::pq_initiator(&[1; 32], *key.public(), &AD);
    let b = Ratchet::pq_responder(&[1; 32], key, &AD);
    (a, b)
}

fn sessions() -> (Session, Session) {
    let (a, b) = ratchets();
    (Session::new(a, [8; 32]), Session::new(b, [9; 32]))
}

fn pq_sessions() -> (Session, Session) {
    let (a, b) = pq_ratchets();
    (Session::new(a, [8; 32]), Session::new(b, [9; 32]))
}

/// The envelope blob of `event` sealed by `session` (not sent): the bytes on the wire.
fn blob_len(session: &Session, event: &Event, rng: &mut FixtureRng) -> usize {
    let sealed = session.clone().seal(event, rng).unwrap();
    Envelope::from_bytes(&sealed).unwrap().blob().len()
}

/// A text event of about 1 KiB encoded.
fn text_event(rng: &mut FixtureRng) -> Event {
    Event::new(
        Body::Text {
            text: "x".repeat(KIB),
            reply_to: None,
        },
        rng,
    )
}

/// One Quietwire message through the session API: seal, parse the envelope, open.
fn session_message(from: &mut Session, to: &mut Session, event: &Event, rng: &mut FixtureRng) {
    let bytes = from.seal(black_box(event), rng).unwrap();
    let envelope = Envelope::from_bytes(&bytes).unwrap();
    black_box(to.open(envelope.blob()).unwrap());
}

fn ratchet_message(from: &mut Ratchet, to: &mut Ratchet, plaintext: &[u8], rng: &mut FixtureRng) {
    let wire = from.encrypt(black_box(plaintext), rng).unwrap();
    black_box(to.decrypt(&wire).unwrap());
}

// ---------------------------------------------------------------------------------------
// vodozemac fixtures

/// An established Olm session: A creates an outbound session to B's one-time key, B
/// creates the inbound session from A's pre-key message, and B replies once so that A
/// sends normal (not pre-key) messages from then on.
fn olm_sessions() -> (OlmSession, OlmSession) {
    let alice = Account::new();
    let mut bob = Account::new();
    bob.generate_one_time_keys(1);
    let otk = *bob.one_time_keys().values().next().unwrap();
    bob.mark_keys_as_published();
    let mut a = alice
        .create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk)
        .unwrap();
    let OlmMessage::PreKey(pre_key) = a.encrypt(b"hello").unwrap() else {
        panic!("the first message of an outbound session is a pre-key message");
    };
    let mut b = bob
        .create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &pre_key)
        .unwrap()
        .session;
    let reply = b.encrypt(b"hi").unwrap();
    a.decrypt(&reply).unwrap();
    (a, b)
}

/// One Olm message over the wire: encrypt, encode to bytes, decode, decrypt.
fn olm_message(from: &mut OlmSession, to: &mut OlmSession, plaintext: &[u8]) {
    let (kind, bytes) = from.encrypt(black_box(plaintext)).unwrap().to_parts();
    let message = OlmMessage::from_parts(kind, &bytes).unwrap();
    black_box(to.decrypt(&message).unwrap());
}

// ---------------------------------------------------------------------------------------
// The floor: the primitives of one message, called directly

/// The header's random nonce in the floor's messages.
const FLOOR_HEADER_NONCE: [u8; 24] = [3; 24];

struct Floor {
    chain_info: Vec<u8>,
    message_key_info: Vec<u8>,
    message_info: Vec<u8>,
    root_info: Vec<u8>,
    header_ad: Vec<u8>,
    body_ad: Vec<u8>,
    header: [u8; 40],
    plaintext: Vec<u8>,
}

impl Floor {
    fn new() -> Floor {
        Floor {
            chain_info: Label::RatchetChain.input(&[]),
            message_key_info: Label::RatchetMessageKey.input(&[]),
            // RAT-03: the message key's expansion is bound to the header's random nonce.
            message_info: Label::RatchetMessage.input(&[&FLOOR_HEADER_NONCE]),
            root_info: Label::RatchetRoot.input(&[]),
            header_ad: Label::RatchetHeader.input(&[&AD]),
            body_ad: Label::RatchetBody.input(&[&AD, &[0; ratchet::ENCRYPTED_HEADER_LEN]]),
            header: [5; 40],
            plaintext: vec![0x61; KIB],
        }
    }

    fn expand(prk: &[u8; 32], info: &[u8], out: &mut [u8]) {
        Hkdf::<Sha256>::from_prk(prk)
            .unwrap()
            .expand(info, out)
            .unwrap();
    }

    /// `KDF_CK` (two expands) and the message key's AEAD key and nonce (one expand).
    fn chain_step(&self, ck: &[u8; 32]) -> ([u8; 32], [u8; 32], [u8; 12]) {
        let mut next = [0; 32];
        let mut mk = [0; 32];
        Self::expand(ck, &self.chain_info, &mut next);
        Self::expand(ck, &self.message_key_info, &mut mk);
        let mut okm = [0; 44];
        Self::expand(&mk, &self.message_info, &mut okm);
        let mut key = [0; 32];
        let mut nonce = [0; 12];
        key.copy_from_slice(&okm[..32]);
        nonce.copy_from_slice(&okm[32..]);
        (next, key, nonce)
    }

    /// One message, sender and receiver: the chain step on each side, XChaCha20-Poly1305
    /// seal and open of the 40-byte header, ChaCha20-Poly1305 seal and open of 1 KiB.
    fn message(&self, ck: &[u8; 32], hk: &[u8; 32]) -> Vec<u8> {
        let header_nonce = FLOOR_HEADER_NONCE;
        // Sender.
        let (_, key, nonce) = self.chain_step(black_box(ck));
        let header = XChaCha20Poly1305::new(&(*hk).into())
            .encrypt(
                &header_nonce.into(),
                Payload {
                    msg: &self.header,
                    aad: &self.header_ad,
                },
            )
            .unwrap();
        let body = ChaCha20Poly1305::new(&key.into())
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: &self.plaintext,
                    aad: &self.body_ad,
                },
            )
            .unwrap();
        // Receiver.
        let opened_header = XChaCha20Poly1305::new(&(*hk).into())
            .decrypt(
                &header_nonce.into(),
                Payload {
                    msg: &header,
                    aad: &self.header_ad,
                },
            )
            .unwrap();
        black_box(opened_header);
        let (_, key, nonce) = self.chain_step(black_box(ck));
        ChaCha20Poly1305::new(&key.into())
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: &body,
                    aad: &self.body_ad,
                },
            )
            .unwrap()
    }

    /// `KDF_RK`: HKDF-SHA256 extract and a 96-byte expand.
    fn root_step(&self, rk: &[u8; 32], dh: &[u8; 32]) -> [u8; 96] {
        let mut okm = [0; 96];
        Hkdf::<Sha256>::new(Some(rk), dh)
            .expand(&self.root_info, &mut okm)
            .unwrap();
        okm
    }
}

fn x25519_keygen(secret: [u8; 32]) -> (x25519_dalek::StaticSecret, x25519_dalek::PublicKey) {
    let secret = x25519_dalek::StaticSecret::from(secret);
    let public = x25519_dalek::PublicKey::from(&secret);
    (secret, public)
}

// ---------------------------------------------------------------------------------------
// Groups

fn steady(c: &mut Criterion) {
    let mut group = c.benchmark_group("steady_1k");
    let mut rng = FixtureRng(0);

    let event = text_event(&mut rng);
    let (mut a, mut b) = sessions();
    session_message(&mut a, &mut b, &event, &mut rng); // the initiator's first DH step
    let sizes = (
        event.to_bytes().unwrap().len(),
        Envelope::from_bytes(&a.clone().seal(&event, &mut rng).unwrap())
            .unwrap()
            .blob()
            .len(),
    );
    eprintln!(
        "steady_1k: event {} bytes encoded, envelope blob {} bytes",
        sizes.0, sizes.1
    );
    group.bench_function("quietwire_session", |bench| {
        bench.iter(|| session_message(&mut a, &mut b, &event, &mut rng));
    });

    let (mut a, mut b) = pq_sessions();
    session_message(&mut a, &mut b, &event, &mut rng); // the initiator's first step
    eprintln!(
        "steady_1k: post-quantum envelope blob {} bytes",
        blob_len(&a, &event, &mut rng)
    );
    group.bench_function("quietwire_pq_session", |bench| {
        bench.iter(|| session_message(&mut a, &mut b, &event, &mut rng));
    });

    let plaintext = vec![0x61; KIB];
    let (mut a, mut b) = ratchets();
    ratchet_message(&mut a, &mut b, &plaintext, &mut rng);
    group.bench_function("quietwire_ratchet", |bench| {
        bench.iter(|| ratchet_message(&mut a, &mut b, &plaintext, &mut rng));
    });

    let (mut a, mut b) = pq_ratchets();
    ratchet_message(&mut a, &mut b, &plaintext, &mut rng);
    group.bench_function("quietwire_pq_ratchet", |bench| {
        bench.iter(|| ratchet_message(&mut a, &mut b, &plaintext, &mut rng));
    });

    let (mut a, mut b) = olm_sessions();
    olm_message(&mut a, &mut b, &plaintext); // B's DH step for A's new ratchet key
    group.bench_function("vodozemac", |bench| {
        bench.iter(|| olm_message(&mut a, &mut b, &plaintext));
    });

    let floor = Floor::new();
    group.bench_function("floor", |bench| {
        bench.iter(|| floor.message(&[1; 32], &[2; 32]));
    });
    // The floor's parts, to see where its time goes.
    group.bench_function("floor_part_hkdf_6_expands", |bench| {
        bench.iter(|| {
            (
                floor.chain_step(black_box(&[1; 32])),
                floor.chain_step(black_box(&[1; 32])),
            )
        });
    });
    group.bench_function("floor_part_chacha20poly1305_1k", |bench| {
        let cipher = || ChaCha20Poly1305::new(&[1; 32].into());
        bench.iter(|| {
            let sealed = cipher()
                .encrypt(
                    &[2; 12].into(),
                    Payload {
                        msg: black_box(&floor.plaintext),
                        aad: &floor.body_ad,
                    },
                )
                .unwrap();
            cipher()
                .decrypt(
                    &[2; 12].into(),
                    Payload {
                        msg: &sealed,
                        aad: &floor.body_ad,
                    },
                )
                .unwrap()
        });
    });
    group.bench_function("floor_part_xchacha20poly1305_header", |bench| {
        let cipher = || XChaCha20Poly1305::new(&[1; 32].into());
        bench.iter(|| {
            let sealed = cipher()
                .encrypt(
                    &[2; 24].into(),
                    Payload {
                        msg: black_box(&floor.header),
                        aad: &floor.header_ad,
                    },
                )
                .unwrap();
            cipher()
                .decrypt(
                    &[2; 24].into(),
                    Payload {
                        msg: &sealed,
                        aad: &floor.header_ad,
                    },
                )
                .unwrap()
        });
    });
    group.finish();
}

/// Benchmarks `name`: one message per iteration, the direction turning every time, `first`
/// sending first.
fn turning<S>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    mut first: S,
    mut second: S,
    mut message: impl FnMut(&mut S, &mut S),
) {
    let mut first_turn = true;
    group.bench_function(name, |bench| {
        bench.iter(|| {
            if first_turn {
                message(&mut first, &mut second);
            } else {
                message(&mut second, &mut first);
            }
            first_turn = !first_turn;
        });
    });
}

fn alternating(c: &mut Criterion) {
    let mut group = c.benchmark_group("alternating_1k");
    let mut rng = FixtureRng(1 << 32);

    // After A's first message both sides can send; each message then turns the direction
    // around, so every message carries a new ratchet key (a DH ratchet step).
    let event = text_event(&mut rng);
    for (name, (mut a, mut b)) in [
        ("quietwire_session", sessions()),
        ("quietwire_pq_session", pq_sessions()),
    ] {
        session_message(&mut a, &mut b, &event, &mut rng);
        turning(&mut group, name, b, a, |from, to| {
            session_message(from, to, &event, &mut rng);
        });
    }

    let plaintext = vec![0x61; KIB];
    for (name, (mut a, mut b)) in [
        ("quietwire_pq_ratchet", pq_ratchets()),
        ("quietwire_ratchet", ratchets()),
    ] {
        ratchet_message(&mut a, &mut b, &plaintext, &mut rng);
        turning(&mut group, name, b, a, |from, to| {
            ratchet_message(from, to, &plaintext, &mut rng);
        });
    }

    // After setup B has replied once, so A is next.
    let (a, b) = olm_sessions();
    turning(&mut group, "vodozemac", a, b, |from, to| {
        olm_message(from, to, &plaintext);
    });

    let floor = Floor::new();
    let (_, peer) = x25519_keygen([4; 32]);
    // The floor: one message plus an X25519 key generation and one DH.
    group.bench_function("floor", |bench| {
        bench.iter(|| {
            let (secret, _public) = x25519_keygen(black_box([6; 32]));
            let dh = secret.diffie_hellman(black_box(&peer));
            (floor.message(&[1; 32], &[2; 32]), dh.to_bytes())
        });
    });
    // What a DH ratchet step computes in all: the sender's new key pair and its DH, the
    // receiver's DH, and a `KDF_RK` on each side.
    let (receiver_secret, _) = x25519_keygen([8; 32]);
    group.bench_function("floor_full_dh_step", |bench| {
        bench.iter(|| {
            let (secret, public) = x25519_keygen(black_box([6; 32]));
            let sent = secret.diffie_hellman(black_box(&peer));
            let sender_root = floor.root_step(&[1; 32], sent.as_bytes());
            let received = receiver_secret.diffie_hellman(black_box(&public));
            let receiver_root = floor.root_step(&[1; 32], received.as_bytes());
            (
                floor.message(&[1; 32], &[2; 32]),
                sender_root,
                receiver_root,
            )
        });
    });
    group.finish();
}

fn suite_name(suite: Suite) -> &'static str {
    match suite {
        Suite::XWing => "xwing",
        Suite::X25519 => "x25519",
        _ => "other",
    }
}

fn invite_params() -> InviteParams {
    InviteParams {
        relay_hints: vec!["wss://relay.quietwire.invalid".to_owned()],
        mailbox: [7; 32],
        expires: UnixTime(2_000_000_000),
        single_use: true,
    }
}

/// HPKE base mode with the `hpke` crate alone: set up the sender, export, seal; set up the
/// receiver, open, export. The receiver's private key is derived beforehand.
fn hpke_seal_open<K: Kem>(
    pk: &K::PublicKey,
    sk: &K::PrivateKey,
    info: &[u8],
    plaintext: &[u8],
    rng: &mut FixtureRng,
) -> (Vec<u8>, [u8; 32]) {
    use hpke::aead::ChaCha20Poly1305 as HpkeChaCha;
    use hpke::kdf::HkdfSha256;
    let (enc, mut sender) =
        hpke::setup_sender_with_rng::<HpkeChaCha, HkdfSha256, K>(&OpModeS::Base, pk, info, rng)
            .unwrap();
    let mut sent_export = [0; 32];
    sender.export(b"export", &mut sent_export).unwrap();
    let ciphertext = sender.seal(plaintext, &[]).unwrap();
    let enc = K::EncappedKey::from_bytes(&enc.to_bytes()).unwrap();
    let mut receiver =
        hpke::setup_receiver::<HpkeChaCha, HkdfSha256, K>(&OpModeR::Base, sk, &enc, info).unwrap();
    let opened = receiver.open(&ciphertext, &[]).unwrap();
    let mut exported = [0; 32];
    receiver.export(b"export", &mut exported).unwrap();
    (opened, exported)
}

fn handshake_group(c: &mut Criterion, suite: Suite) {
    let name = suite_name(suite);
    let mut group = c.benchmark_group(format!("handshake/{name}"));
    let now = UnixTime(1_900_000_000);
    let inviter = IdentityKeyPair::from_seed(&[1; 32]);
    let acceptor = DeviceKeys::from_parts(
        suite,
        IdentityKeyPair::from_seed(&[4; 32]),
        KemSecret::from_seed(suite, &[5; 32]),
        X25519Secret::from_bytes(&[6; 32]),
    );
    // The same invite every iteration (a fresh RNG of the same seed), built untimed.
    let fresh_invite = || {
        let (invite, secrets) =
            Invite::create(&inviter, suite, invite_params(), &mut FixtureRng(100)).unwrap();
        PendingInvite::new(invite, secrets)
    };
    let mut rng = FixtureRng(2 << 32);

    let mut sample = fresh_invite();
    let started =
        handshake::accept_invite(sample.invite(), &acceptor, 0, [2; 32], &mut rng).unwrap();
    sample
        .receive_handshake(&started.message, now, &SuitePolicy::ALL)
        .unwrap();
    let payload_len = started.message.len() - suite.hpke_enc_len() - 16;
    eprintln!(
        "handshake/{name}: message {} bytes, HPKE plaintext {payload_len} bytes",
        started.message.len()
    );

    group.bench_function("quietwire", |bench| {
        bench.iter_batched(
            fresh_invite,
            |mut pending| {
                let started =
                    handshake::accept_invite(pending.invite(), &acceptor, 0, [2; 32], &mut rng)
                        .unwrap();
                let accepted = pending
                    .receive_handshake(black_box(&started.message), now, &SuitePolicy::ALL)
                    .unwrap();
                (started, accepted)
            },
            BatchSize::SmallInput,
        );
    });

    // The floor, one primitive at a time: HPKE seal+open of the payload's size, two X25519
    // DHs, one Ed25519 signature and two strict verifications.
    let plaintext = vec![0x61; payload_len];
    let info = Label::HandshakeInfo.input(&[&[0; 32]]);
    match suite {
        Suite::XWing => {
            let (sk, pk) = XWing::derive_keypair(&[5; 32]);
            group.bench_function("floor_hpke_seal_open", |bench| {
                bench.iter(|| hpke_seal_open::<XWing>(&pk, &sk, &info, &plaintext, &mut rng));
            });
        }
        _ => {
            let (sk, pk) = X25519HkdfSha256::derive_keypair(&[5; 32]);
            group.bench_function("floor_hpke_seal_open", |bench| {
                bench.iter(|| {
                    hpke_seal_open::<X25519HkdfSha256>(&pk, &sk, &info, &plaintext, &mut rng)
                });
            });
        }
    }
    let (secret, _) = x25519_keygen([6; 32]);
    let (_, peer) = x25519_keygen([7; 32]);
    group.bench_function("floor_x25519_dh", |bench| {
        bench.iter(|| secret.diffie_hellman(black_box(&peer)).to_bytes());
    });
    let signing = ed25519_dalek::SigningKey::from_bytes(&[4; 32]);
    let transcript = Label::HandshakeSignature.input(&[&[0; 32]]);
    let record = acceptor.signed_record(0);
    let record_input = Label::DeviceRecord.input(&[record.body()]);
    group.bench_function("floor_ed25519_sign_transcript", |bench| {
        bench.iter(|| ed25519_dalek::Signer::sign(&signing, black_box(&transcript)));
    });
    let public = signing.verifying_key();
    let transcript_signature = ed25519_dalek::Signer::sign(&signing, &transcript);
    let record_signature = ed25519_dalek::Signer::sign(&signing, &record_input);
    group.bench_function("floor_ed25519_verify_strict_record", |bench| {
        bench.iter(|| {
            public
                .verify_strict(black_box(&record_input), &record_signature)
                .unwrap()
        });
    });
    group.bench_function("floor_ed25519_verify_strict_transcript", |bench| {
        bench.iter(|| {
            public
                .verify_strict(black_box(&transcript), &transcript_signature)
                .unwrap()
        });
    });

    // Work the handshake does beyond the floor, measured so the gap can be
    // accounted for: `accept_invite` signs the device record afresh, and `hpke::open` derives
    // the one-time KEM key pair from its stored seed.
    group.bench_function("extra_ed25519_sign_record", |bench| {
        bench.iter(|| ed25519_dalek::Signer::sign(&signing, black_box(&record_input)));
    });
    group.bench_function("extra_kem_derive_keypair", |bench| {
        bench.iter(|| match suite {
            Suite::XWing => {
                black_box(XWing::derive_keypair(black_box(&[5; 32])));
            }
            _ => {
                black_box(X25519HkdfSha256::derive_keypair(black_box(&[5; 32])));
            }
        });
    });
    group.finish();
}

/// The cost of a post-quantum step: one message that starts a new chain (the sending half
/// with its ML-KEM-768 key generation and encapsulation, the receiving half with its key
/// check and decapsulation), classic and post-quantum, and the ML-KEM-768 operations alone.
fn pq_step(c: &mut Criterion) {
    use ml_kem::kem::{Decapsulate, KeyExport};
    use ml_kem::{DecapsulationKey, EncapsulationKey, MlKem768};

    let mut group = c.benchmark_group("pq_step");
    let mut rng = FixtureRng(2 << 32);
    let plaintext = vec![0x61; KIB];
    // Each iteration: B replies to A (a new chain: a DH step, and in a post-quantum session
    // a KEM step), from a cloned state so every iteration does the same work.
    for (name, (mut a, mut b)) in [
        ("classic_new_chain", ratchets()),
        ("pq_new_chain", pq_ratchets()),
    ] {
        ratchet_message(&mut a, &mut b, &plaintext, &mut rng);
        group.bench_function(name, |bench| {
            bench.iter_batched(
                || (b.clone(), a.clone()),
                |(mut from, mut to)| ratchet_message(&mut from, &mut to, &plaintext, &mut rng),
                BatchSize::SmallInput,
            );
        });
    }
    // The floor of the KEM part: key generation from a seed, the encapsulation key check,
    // deterministic encapsulation, decapsulation.
    group.bench_function("floor_mlkem768_keygen_check_encaps_decaps", |bench| {
        bench.iter(|| {
            let dk = DecapsulationKey::<MlKem768>::from_seed(black_box([5u8; 64]).into());
            let ek_bytes = dk.encapsulation_key().to_bytes();
            let ek = EncapsulationKey::<MlKem768>::new(&ek_bytes).unwrap();
            let (ct, ss) = ek.encapsulate_deterministic(&black_box([6u8; 32]).into());
            (dk.decapsulate(&ct), ss)
        });
    });
    group.finish();
}

/// Fan-out (issue: one message to a contact with several devices, 03-identity.md §3.6): the
/// same 1 KiB event sealed once per device session, for 1, 4 and 16 devices
/// (`MAX_DEVICES`), each session post-quantum and in its steady state. The ratio to
/// N × `devices_1` is the cost of fan-out beyond N independent seals.
fn fanout(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout_1k");
    let mut rng = FixtureRng(0);
    let event = text_event(&mut rng);
    for devices in [1usize, 4, 16] {
        let mut senders: Vec<Session> = (0..devices)
            .map(|_| {
                let (mut a, mut b) = pq_sessions();
                session_message(&mut a, &mut b, &event, &mut rng); // the first step
                a
            })
            .collect();
        group.bench_function(format!("devices_{devices}"), |bench| {
            bench.iter(|| {
                for sender in &mut senders {
                    black_box(sender.seal(black_box(&event), &mut rng).unwrap());
                }
            });
        });
    }
    group.finish();
}

fn handshakes(c: &mut Criterion) {
    for suite in Suite::ALL {
        handshake_group(c, suite);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = steady, alternating, pq_step, fanout, handshakes
}
criterion_main!(benches);
