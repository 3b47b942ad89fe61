//! Round trips, the check order and the streaming properties of the backup format.

use proptest::prelude::*;

use super::run::{Decoded, Split, decode_file};
use super::*;
use crate::ErrorClass;
use crate::ratchet::tests::TestRng;
use crate::suite::Suite;

/// Fast Argon2id parameters for tests: the floor.
const FAST: KdfParams = KdfParams::FLOOR;

pub(crate) fn options(methods: Methods, pin: Option<&str>) -> ExportOptions {
    let mut options = ExportOptions::new(methods);
    options.passphrase_kdf = FAST;
    options.pin_kdf = FAST;
    options.pin = pin.map(str::to_owned);
    options
}

pub(crate) fn export(options: &ExportOptions, sections: &[&[u8]], seed: u64) -> Vec<u8> {
    let mut rng = TestRng(seed);
    let mut out = Vec::new();
    let mut encoder = Encoder::new(options, &mut rng, &mut out).unwrap();
    for (i, content) in sections.iter().enumerate() {
        if i > 0 {
            encoder.next_section(&mut out).unwrap();
        }
        encoder.write(content, &mut out).unwrap();
    }
    encoder.finish(&mut out).unwrap();
    out
}

fn key() -> RecoveryKey {
    RecoveryKey::from_bytes(&[42; 32])
}

fn with_key() -> Unlock {
    Unlock::RecoveryKey(key().to_text())
}

fn decode(file: &[u8], secret: Unlock, pin: Option<&str>, split: &Split) -> Decoded {
    decode_file(file, secret, pin, &DecoderConfig::default(), split, false)
}

fn class(decoded: &Decoded) -> ErrorClass {
    match &decoded.result {
        Ok(h) => panic!("accepted ({h:?})"),
        Err(e) => e.class(),
    }
}

/// The released content of each section, from a whole-file decoding with the events.
fn sections_of(file: &[u8], secret: Unlock, pin: Option<&str>) -> (Vec<Vec<u8>>, HiddenOutcome) {
    let mut decoder = Decoder::new(DecoderConfig::default());
    decoder.unlock(secret, pin).unwrap();
    let mut out = vec![Vec::new(); 7];
    let mut rest = file;
    let mut finished = None;
    loop {
        let n = decoder.push(rest).unwrap();
        rest = &rest[n..];
        if rest.is_empty() {
            decoder.finish().unwrap();
        }
        while let Some(event) = decoder.poll_event() {
            match event {
                Event::Data { section, bytes } => {
                    out[usize::from(section.id() - 1)].extend_from_slice(bytes)
                }
                Event::Finished { hidden } => finished = Some(hidden),
                _ => {}
            }
        }
        if let Some(hidden) = finished {
            return (out, hidden);
        }
    }
}

#[test]
fn every_unlock_method_round_trips() {
    let content: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    let sections: [&[u8]; 7] = [b"identity", &content, b"", b"chats", b"", b"s", b""];
    let pass = "correct horse battery staple";
    let cases: Vec<(Methods, Unlock)> = vec![
        (Methods::RecoveryKey(key()), with_key()),
        (
            Methods::Passphrase(pass.into()),
            Unlock::Passphrase(pass.into()),
        ),
        (
            Methods::RecoveryKeyAndPassphrase(key(), pass.into()),
            Unlock::Passphrase(pass.into()),
        ),
    ];
    for (methods, unlock) in cases {
        let file = export(&options(methods, None), &sections, 1);
        let (got, hidden) = sections_of(&file, unlock, None);
        assert_eq!(hidden, HiddenOutcome::Locked);
        for (got, want) in got.iter().zip(sections) {
            assert_eq!(got, want);
        }
    }
    for suite in Suite::ALL {
        let device = crate::keys::KemSecret::from_seed(suite, &[5; 32]);
        let methods = Methods::Transfer(device.public().clone());
        let file = export(&options(methods, None), &sections, 2);
        let (got, _) = sections_of(&file, Unlock::Transfer(device), None);
        assert_eq!(got[1], content);
        let other = crate::keys::KemSecret::from_seed(suite, &[6; 32]);
        let wrong = decode(&file, Unlock::Transfer(other), None, &Split::Whole);
        assert_eq!(class(&wrong), ErrorClass::BackupNoMatch);
        assert_eq!(
            class(&decode(&file, with_key(), None, &Split::Whole)),
            ErrorClass::BackupNoEntry
        );
    }
}

#[test]
fn minimal_file_layout() {
    let file = export(&options(Methods::RecoveryKey(key()), None), &[], 3);
    let header_len = u32::from_be_bytes(file[4..8].try_into().unwrap()) as usize;
    let header_end = 40 + header_len;
    assert_eq!(file.len(), header_end + 6 * 65_553 + 1_048_833 + 65_553);
    let decoded = decode(&file, with_key(), None, &Split::Whole);
    assert_eq!(decoded.result.unwrap(), HiddenOutcome::Locked);
    assert_eq!(decoded.released_len, 0);
}

#[test]
fn hidden_section_outcomes_and_indistinguishability() {
    let hidden: Vec<u8> = vec![7; 1_048_543];
    let opts = options(Methods::RecoveryKey(key()), Some("1234"));
    let full = export(&opts, &[b"i", b"", b"", b"", b"", b"", &hidden], 4);
    let (got, outcome) = sections_of(&full, with_key(), Some("1234"));
    assert_eq!(outcome, HiddenOutcome::Open);
    assert_eq!(got[6], hidden);
    let (got, outcome) = sections_of(&full, with_key(), Some("9999"));
    assert_eq!(outcome, HiddenOutcome::PinMismatch);
    assert_eq!(got[0], b"i");
    assert!(got[6].is_empty());
    let (_, outcome) = sections_of(&full, with_key(), None);
    assert_eq!(outcome, HiddenOutcome::Locked);
    let empty = export(&opts, &[b"i"], 4);
    assert_eq!(
        empty.len(),
        full.len(),
        "empty and full hidden sections differ in size"
    );
    let (_, outcome) = sections_of(&empty, with_key(), Some("9999"));
    assert_eq!(outcome, HiddenOutcome::PinMismatch);
    // One byte more needs more chunks: the limit of what the padding hides.
    let over = export(
        &opts,
        &[
            b"i",
            b"",
            b"",
            b"",
            b"",
            b"",
            &[hidden.clone(), vec![1]].concat(),
        ],
        4,
    );
    assert!(over.len() > full.len());
    // Damage to the hidden chunk 0: caught by the manifest with or without the PIN.
    let mut damaged = full.clone();
    let hidden_start = full.len() - 65_553 - 16 * 65_552;
    damaged[hidden_start + 10] ^= 1;
    for pin in [None, Some("1234")] {
        assert_eq!(
            class(&decode(&damaged, with_key(), pin, &Split::Whole)),
            ErrorClass::BackupManifestMismatch
        );
    }
    // A later hidden chunk, with the PIN: its AEAD fails.
    let mut later = full.clone();
    later[hidden_start + 65_552 + 10] ^= 1;
    assert_eq!(
        class(&decode(&later, with_key(), Some("1234"), &Split::Whole)),
        ErrorClass::BackupChunkAuth
    );
}

#[test]
fn stream_attacks_fail() {
    let content = vec![9u8; 3 * 65_534 + 10];
    let opts = options(Methods::RecoveryKey(key()), None);
    let file = export(&opts, &[b"id", &content], 5);
    let header_end = 40 + u32::from_be_bytes(file[4..8].try_into().unwrap()) as usize;
    let s2 = header_end + 65_553; // section 2's id byte
    let chunk = |i: usize| s2 + 1 + i * 65_552..s2 + 1 + (i + 1) * 65_552;
    let mut swapped = file.clone();
    let (a, b) = (file[chunk(0)].to_vec(), file[chunk(1)].to_vec());
    swapped[chunk(0)].copy_from_slice(&b);
    swapped[chunk(1)].copy_from_slice(&a);
    let mut flipped = file.clone();
    flipped[chunk(2).start + 100] ^= 0x80;
    let truncated_inside = file[..chunk(1).start + 5].to_vec();
    let truncated_at = file[..chunk(1).start].to_vec();
    let trailing = [file.clone(), vec![0]].concat();
    let mut wrong_section = file.clone();
    wrong_section[s2] = 3;
    for (name, input, want) in [
        ("swapped", swapped, ErrorClass::BackupChunkAuth),
        ("flipped", flipped, ErrorClass::BackupChunkAuth),
        ("inside", truncated_inside, ErrorClass::BackupTruncated),
        ("at", truncated_at, ErrorClass::BackupTruncated),
        (
            "trailing-locked",
            trailing.clone(),
            ErrorClass::BackupSectionOrder,
        ),
        ("order", wrong_section, ErrorClass::BackupSectionOrder),
    ] {
        let decoded = decode(&input, with_key(), None, &Split::Whole);
        assert_eq!(class(&decoded), want, "{name}");
    }
    // With the hidden section open, the end of the manifest is known: trailing data.
    let with_pin = options(Methods::RecoveryKey(key()), Some("12"));
    let file_pin = export(&with_pin, &[b"id"], 5);
    let trailing = [file_pin, vec![0]].concat();
    let decoded = decode(&trailing, with_key(), Some("12"), &Split::Bytewise);
    assert_eq!(class(&decoded), ErrorClass::BackupTrailing);
    // Released before the failure: exactly the chunks that authenticated.
    let mut flipped = file.clone();
    flipped[chunk(2).start + 100] ^= 0x80;
    let decoded = decode(&flipped, with_key(), None, &Split::Bytewise);
    assert_eq!(decoded.released_len, 2 + 2 * 65_534);
}

#[test]
fn check_order_and_kdf_caps() {
    let opts = options(Methods::Passphrase("pw".into()), None);
    let file = export(&opts, &[], 6);
    let header_end = 40 + u32::from_be_bytes(file[4..8].try_into().unwrap()) as usize;
    // Inside the MAC: truncated, whatever the secret.
    let cut = &file[..header_end - 1];
    let decoded = decode(cut, Unlock::Passphrase("wrong".into()), None, &Split::Whole);
    assert_eq!(class(&decoded), ErrorClass::BackupTruncated);
    assert_eq!(decoded.kdf_runs, 0);
    // Lower caps refuse before any Argon2id work.
    let config = DecoderConfig {
        caps: KdfCaps::lowered(1024, 16, 16, u64::MAX),
        ..DecoderConfig::default()
    };
    let decoded = decode_file(
        &file,
        Unlock::Passphrase("pw".into()),
        None,
        &config,
        &Split::Whole,
        false,
    );
    assert_eq!(class(&decoded), ErrorClass::BackupKdfCap);
    assert_eq!(decoded.kdf_runs, 0);
    let decoded = decode(&file, Unlock::Passphrase("pW".into()), None, &Split::Whole);
    assert_eq!(class(&decoded), ErrorClass::BackupNoMatch);
    assert_eq!(decoded.kdf_runs, 1);
    let decoded = decode(
        &file,
        Unlock::Passphrase(String::new()),
        None,
        &Split::Whole,
    );
    assert_eq!(class(&decoded), ErrorClass::BackupSecretFormat);
    let decoded = decode(&file, with_key(), None, &Split::Whole);
    assert_eq!(class(&decoded), ErrorClass::BackupNoEntry);
    // A changed header byte with the MAC left: the MAC refuses it.
    let mut changed = file.clone();
    // The first m = 19456 (`02 19 4c 00`) is the PIN's, in the core: still valid, different.
    let m = changed
        .windows(4)
        .position(|w| w == [0x02, 0x19, 0x4c, 0x00])
        .unwrap();
    changed[m + 3] ^= 1;
    let decoded = decode(
        &changed,
        Unlock::Passphrase("pw".into()),
        None,
        &Split::Whole,
    );
    assert_eq!(class(&decoded), ErrorClass::BackupHeaderMac);
}

#[test]
fn a_transfer_reader_caps_chunks_at_the_transfer_size() {
    let config = DecoderConfig::transfer();
    assert_eq!(config.max_chunks, TRANSFER_MAX_CHUNKS);
    assert!(config.max_chunks < DEFAULT_MAX_CHUNKS);
    assert_eq!(
        (config.caps, config.suites),
        (
            DecoderConfig::default().caps,
            DecoderConfig::default().suites
        )
    );
    // 2048 pieces of 1 MiB (the reference relay's max_attachment) fit, less the header and
    // the manifest: every section of a file a transfer can carry.
    assert!(
        TRANSFER_MAX_CHUNKS * CHUNK_CT as u64 >= 2048 * 1024 * 1024 - (TAIL + MAX_HEADER) as u64
    );
    // The cap is enforced as any MAX_CHUNKS: one chunk over is backup.chunk_limit (here
    // with the cap scaled down to 16, since 2^15 chunks are 2 GiB).
    let content = vec![1u8; 16 * 65_534];
    let opts = options(Methods::RecoveryKey(key()), None);
    let file = export(&opts, &[b"i", &content], 7);
    let scaled = DecoderConfig {
        max_chunks: 16,
        ..DecoderConfig::transfer()
    };
    let decoded = decode_file(&file, with_key(), None, &scaled, &Split::Whole, false);
    assert_eq!(class(&decoded), ErrorClass::BackupChunkLimit);
}

#[test]
fn chunk_limit_is_a_policy() {
    let content = vec![1u8; 16 * 65_534];
    let opts = options(Methods::RecoveryKey(key()), None);
    let file = export(&opts, &[b"i", &content], 7);
    let config = DecoderConfig {
        max_chunks: 16,
        ..DecoderConfig::default()
    };
    let decoded = decode_file(&file, with_key(), None, &config, &Split::Whole, false);
    assert_eq!(class(&decoded), ErrorClass::BackupChunkLimit);
    let mut small = options(Methods::RecoveryKey(key()), None);
    small.max_chunks = 16;
    let mut rng = TestRng(1);
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&small, &mut rng, &mut out).unwrap();
    encoder.write(&content, &mut out).unwrap();
    assert_eq!(
        encoder.next_section(&mut out).unwrap_err().class(),
        ErrorClass::BackupTooLarge
    );
    assert_eq!(
        encoder.write(b"x", &mut out).unwrap_err().class(),
        ErrorClass::BackupTooLarge
    );
}

#[test]
fn rekey_rewrites_only_the_header() {
    let opts = options(Methods::RecoveryKey(key()), None);
    let file = export(&opts, &[b"identity", b"contacts"], 8);
    let header_end = 40 + u32::from_be_bytes(file[4..8].try_into().unwrap()) as usize;
    let mut rng = TestRng(99);
    let rekeyed = rekey::rekey(
        &file[..header_end],
        with_key(),
        &Methods::Passphrase("new".into()),
        &FAST,
        &DecoderConfig::default(),
        &mut rng,
    )
    .unwrap();
    assert_eq!(rekeyed.old_header_end, header_end as u64);
    let new = [rekeyed.prefix.clone(), file[header_end..].to_vec()].concat();
    let (got, _) = sections_of(&new, Unlock::Passphrase("new".into()), None);
    assert_eq!(got[1], b"contacts");
    assert_eq!(
        class(&decode(&new, with_key(), None, &Split::Whole)),
        ErrorClass::BackupNoEntry
    );
    let device = crate::keys::KemSecret::from_seed(Suite::X25519, &[1; 32]);
    let refused = rekey::rekey(
        &file[..header_end],
        with_key(),
        &Methods::Transfer(device.public().clone()),
        &FAST,
        &DecoderConfig::default(),
        &mut rng,
    );
    assert_eq!(refused.unwrap_err().class(), ErrorClass::BackupUnlockSet);
}

#[test]
fn seeking_reads_a_section_through_the_manifest() {
    let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let opts = options(Methods::RecoveryKey(key()), None);
    let file = export(&opts, &[b"i", b"", b"", &content], 9);
    let header_end = 40 + u32::from_be_bytes(file[4..8].try_into().unwrap()) as usize;
    let tail = &file[file.len() - TAIL..];
    let index = seek::SeekIndex::open(
        &file[..header_end],
        file.len() as u64,
        tail,
        with_key(),
        None,
        &DecoderConfig::default(),
    )
    .unwrap();
    let offset = index.section_offset(Section::Chats) as usize;
    index
        .check_section_id(Section::Chats, file[offset])
        .unwrap();
    let mut got = Vec::new();
    for i in 0..index.chunks(Section::Chats) {
        let at = index.chunk_offset(Section::Chats, i) as usize;
        got.extend_from_slice(
            &index
                .open_chunk(Section::Chats, i, &file[at..at + CHUNK_CT])
                .unwrap(),
        );
    }
    assert_eq!(got, content);
    let longer = seek::SeekIndex::open(
        &file[..header_end],
        file.len() as u64 + 1,
        tail,
        with_key(),
        None,
        &DecoderConfig::default(),
    );
    assert_eq!(
        longer.unwrap_err().class(),
        ErrorClass::BackupManifestMismatch
    );
}

#[test]
fn restore_stages_records_and_sessions_are_stale() {
    use crate::keys::IdentityKeyPair;
    use restore::Record;
    let identity = IdentityKeyPair::from_seed(&[3; 32]);
    let record = Record::Identity {
        seed: identity.dangerous_seed(),
        key: *identity.public().as_bytes(),
        generation: 2,
    };
    let setting = Record::Setting {
        name: "theme".into(),
        value: crate::cbor::Value::from("dark"),
    };
    let opts = options(Methods::RecoveryKey(key()), None);
    let id_bytes = record.to_bytes().unwrap();
    let set_bytes = setting.to_bytes().unwrap();
    let file = export(&opts, &[&id_bytes, b"", b"", b"", b"", &set_bytes], 10);
    let decoded = decode_file(
        &file,
        with_key(),
        None,
        &DecoderConfig::default(),
        &Split::Whole,
        true,
    );
    let restored = decoded.restored.unwrap();
    assert_eq!(restored.generation, 2);
    assert_eq!(restored.identity.public(), identity.public());
    assert_eq!(restored.records.len(), 1);
    // Debug output carries no secret.
    let printed = format!(
        "{:?} {restored:?}",
        options(Methods::Passphrase("hunter2".into()), Some("9876"))
    );
    assert!(!printed.contains("hunter2") && !printed.contains("9876"));
    // No identity: refused at the end of section 1.
    let none = export(&opts, &[], 10);
    let decoded = decode_file(
        &none,
        with_key(),
        None,
        &DecoderConfig::default(),
        &Split::Whole,
        true,
    );
    assert_eq!(class(&decoded), ErrorClass::BackupIdentityCount);
}

/// `Encoder::write_record` writes exactly what framing the records by hand and writing them
/// section by section writes; refused records change nothing; the sessions of a restore keep
/// their peer identity.
#[test]
fn records_written_by_the_encoder_equal_hand_framed_content() {
    use crate::keys::{IdentityKeyPair, X25519Secret};
    use crate::ratchet::Ratchet;
    use crate::session::Session;
    use restore::Record;
    let identity = IdentityKeyPair::from_seed(&[3; 32]);
    let peer = IdentityKeyPair::from_seed(&[4; 32]);
    let device = crate::identity::DeviceKeys::from_parts(
        Suite::X25519,
        IdentityKeyPair::from_seed(&[4; 32]),
        crate::keys::KemSecret::from_seed(Suite::X25519, &[5; 32]),
        X25519Secret::from_bytes(&[6; 32]),
    );
    let ratchet = Ratchet::initiator(
        &[1; 32],
        *X25519Secret::from_bytes(&[7; 32]).public(),
        &[2; 32],
    );
    let session = Session::with_peer_identity(ratchet, [8; 32], *peer.public());
    let contact_id = [9; 16];
    let records = [
        (Section::Identity, Record::identity(&identity, 2)),
        (
            Section::Contacts,
            Record::contact(contact_id, &device.signed_record(0), "Peer", false),
        ),
        (Section::Sessions, Record::session(contact_id, &session)),
        (
            Section::Settings,
            Record::Setting {
                name: "theme".into(),
                value: crate::cbor::Value::from("dark"),
            },
        ),
    ];
    let opts = options(Methods::RecoveryKey(key()), None);
    let mut rng = TestRng(10);
    let mut file = Vec::new();
    let mut encoder = Encoder::new(&opts, &mut rng, &mut file).unwrap();
    for (section, record) in &records {
        encoder.write_record(*section, record, &mut file).unwrap();
        // Refused: nothing is written and the encoder goes on.
        let len = file.len();
        let wrong_kind = encoder.write_record(Section::Hidden, &records[0].1, &mut file);
        assert_eq!(
            wrong_kind.unwrap_err().class(),
            ErrorClass::BackupRecordKind
        );
        if *section > Section::Identity {
            let backwards = encoder.write_record(Section::Identity, &records[0].1, &mut file);
            assert_eq!(
                backwards.unwrap_err().class(),
                ErrorClass::BackupSectionOrder
            );
        }
        let manifest = encoder.write_record(Section::Manifest, record, &mut file);
        assert_eq!(
            manifest.unwrap_err().class(),
            ErrorClass::BackupSectionOrder
        );
        assert_eq!(file.len(), len);
        assert_eq!(encoder.section(), *section);
    }
    encoder.finish(&mut file).unwrap();
    let framed = |i: usize| records[i].1.to_bytes().unwrap().to_vec();
    let by_hand = export(
        &opts,
        &[&framed(0), &framed(1), &framed(2), b"", b"", &framed(3)],
        10,
    );
    assert_eq!(file, by_hand);
    let restored = run::restore_slice(&file, with_key(), None, &DecoderConfig::default()).unwrap();
    assert_eq!(restored.identity.public(), identity.public());
    assert_eq!(restored.generation, 2);
    assert_eq!(restored.sessions.len(), 1);
    assert_eq!(restored.sessions[0].peer_identity(), Some(peer.public()));
    assert_eq!(
        restored.records,
        vec![records[1].clone(), records[3].clone()]
    );
    // A file that does not restore reports the class of a decoding with the restore layer.
    let cut = &file[..file.len() - 1];
    let refused = run::restore_slice(cut, with_key(), None, &DecoderConfig::default());
    let config = DecoderConfig::default();
    let decoded = decode_file(cut, with_key(), None, &config, &Split::Whole, true);
    assert_eq!(refused.unwrap_err().class(), class(&decoded));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Contents of every size class around the chunk boundaries round-trip, and every split
    /// of the input gives the same events.
    #[test]
    fn contents_round_trip_in_any_split(
        sizes in proptest::collection::vec(
            prop_oneof![
                Just(0usize), Just(1), Just(65_533), Just(65_534), Just(65_535), Just(65_536),
                Just(2 * 65_534), Just(2 * 65_534 + 1), 0usize..140_000
            ],
            7,
        ),
        fill in any::<u8>(),
        pattern in proptest::collection::vec(1usize..70_000, 1..6),
    ) {
        let contents: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(i, n)| (0..*n).map(|j| fill ^ (j as u8) ^ (i as u8)).collect())
            .collect();
        let refs: Vec<&[u8]> = contents.iter().map(Vec::as_slice).collect();
        let opts = options(Methods::RecoveryKey(key()), Some("0000"));
        let file = export(&opts, &refs, 11);
        let (got, outcome) = sections_of(&file, with_key(), Some("0000"));
        prop_assert_eq!(outcome, HiddenOutcome::Open);
        prop_assert_eq!(&got, &contents);
        let whole = decode(&file, with_key(), Some("0000"), &Split::Whole);
        let split = decode(&file, with_key(), Some("0000"), &Split::Pattern(pattern.clone()));
        prop_assert_eq!(&whole.events, &split.events);
        prop_assert_eq!(whole.released_sha256, split.released_sha256);
        // A truncation at a random point fails the same way in both splits.
        let cut = &file[..file.len() - 1 - pattern[0] % 70_000];
        let a = decode(cut, with_key(), None, &Split::Whole);
        let b = decode(cut, with_key(), None, &Split::Pattern(pattern));
        prop_assert_eq!(a.error_class(), b.error_class());
        prop_assert_eq!(a.released_sha256, b.released_sha256);
        prop_assert_eq!(&a.events, &b.events);
    }
}
