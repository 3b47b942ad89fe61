//! The local state at rest and the failures a user meets without a relay: a wrong
//! passphrase, no identity, an expired invite, an unreachable relay.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use common::{Client, eventually};

/// A loopback URL where nothing listens.
fn dead_relay() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("ws://{addr}")
}

#[test]
fn the_state_file_is_encrypted_and_the_passphrase_checked() {
    let dir = tempfile::tempdir().unwrap();
    let alice = Client::new(dir.path(), "alice");
    let relay = dead_relay();
    let out = alice
        .run(&["init", "--name", "AliceLiddell", "--relay", &relay])
        .ok();
    let did = out.lines().last().unwrap().to_owned();
    assert!(did.starts_with("did:key:z6Mk"), "{out}");
    // invite needs no relay; it stores the contact's name and the invite's secrets.
    alice.invite("BobTheContact");

    let whoami = alice.run(&["whoami"]).ok();
    assert!(whoami.contains("AliceLiddell") && whoami.contains(&did));

    let wrong = alice.run_with(&["whoami"], "not the passphrase");
    assert_eq!(wrong.code, 1);
    assert_eq!(
        wrong.stderr.trim(),
        "quietwire-client: wrong passphrase or damaged state file"
    );
    assert!(wrong.stdout.is_empty());

    let bytes = std::fs::read(alice.home.join("state.qw")).unwrap();
    let base58 = did.strip_prefix("did:key:").unwrap();
    for needle in [
        "AliceLiddell",
        "BobTheContact",
        did.as_str(),
        base58,
        relay.as_str(),
    ] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} appears in the state file"
        );
    }
    // A damaged file is refused with the same message, and never half-read.
    let mut damaged = bytes.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    std::fs::write(alice.home.join("state.qw"), &damaged).unwrap();
    let out = alice.run(&["whoami"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("wrong passphrase or damaged state file")
    );
    std::fs::write(alice.home.join("state.qw"), &bytes).unwrap();
    alice.run(&["whoami"]).ok();

    // No identity is a different failure.
    let nobody = Client::new(dir.path(), "nobody");
    let out = nobody.run(&["whoami"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("no identity here")
            && out.stderr.contains("run `quietwire-client init`"),
        "{out:?}"
    );
    // init refuses to overwrite.
    let again = alice.run(&["init", "--name", "x", "--relay", &relay]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("an identity already exists"));
}

#[test]
fn expired_invites_and_unreachable_relays_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let relay = dead_relay();
    let alice = Client::new(dir.path(), "alice");
    let bob = Client::new(dir.path(), "bob");
    alice.init("Alice", &relay, &[]);
    bob.init("Bob", &relay, &[]);

    let made = Instant::now();
    let out = alice
        .run(&["invite", "--name", "bob", "--expires-in", "1s", "--no-qr"])
        .ok();
    let link = out.lines().last().unwrap().to_owned();
    // Precondition, not an assertion: let the invite's one second (whole seconds) pass.
    eventually(
        Duration::from_secs(10),
        "the invite's lifetime to pass",
        || (made.elapsed() > Duration::from_millis(2100)).then_some(()),
    );
    let refused = bob.run(&["accept", &link, "--name", "alice"]);
    assert_eq!(refused.code, 1);
    assert_eq!(
        refused.stderr.trim(),
        "quietwire-client: this invite has expired; ask for a new one"
    );

    let bad = bob.run(&["accept", "quietwire:invite#i1.AAAA", "--name", "x"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("not a valid invite link"), "{bad:?}");

    // Accepting with the relay down: the contact exists, the handshake is queued (status 2).
    let link = alice.invite("bob");
    let out = bob.run(&["accept", &link, "--name", "alice"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("relay unreachable"), "{out:?}");
    // The handshake, then the acceptor's device record as its first event (ENV-07).
    let outbox = bob.outbox();
    assert_eq!(outbox.len(), 2, "{outbox:?}");
    assert!(
        outbox[0].contains("\talice\thandshake\tqueued: waiting"),
        "{outbox:?}"
    );
    assert!(
        outbox[1].contains("\talice\tdevice record\tqueued: waiting"),
        "{outbox:?}"
    );

    let out = alice.run(&["sync"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("relay unreachable"), "{out:?}");
}

/// Offsets of the state file's header: magic, version, Argon2id m/t/p, salt, nonce.
const PARAMS: std::ops::Range<usize> = 9..21;
const SALT: std::ops::Range<usize> = 21..37;
const HEADER_LEN: usize = 61;

fn header_params(bytes: &[u8]) -> [u32; 3] {
    let p = &bytes[PARAMS];
    [0, 4, 8].map(|i| u32::from_be_bytes(p[i..i + 4].try_into().unwrap()))
}

fn argon2id(passphrase: &str, salt: &[u8], [m, t, p]: [u32; 3]) -> [u8; 32] {
    let params = argon2::Params::new(m, t, p, Some(32)).unwrap();
    let mut key = [0u8; 32];
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .unwrap();
    key
}

/// New state files use the backup format's Argon2id defaults (256 MiB, 3 passes, 1 lane), and
/// a file whose parameters are below the floor is refused, even though it is otherwise valid
/// (here: the real state, re-encrypted by the test under 64 KiB and 1 pass).
#[test]
fn weak_argon2id_parameters_are_refused() {
    use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
    use chacha20poly1305::{XChaCha20Poly1305, XNonce};

    let dir = tempfile::tempdir().unwrap();
    let alice = Client::new(dir.path(), "alice");
    alice.init("Alice", &dead_relay(), &[]);
    let path = alice.home.join("state.qw");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(header_params(&bytes), [262_144, 3, 1]);

    // Decrypt the real state and write it again under weak parameters.
    let (header, ciphertext) = bytes.split_at(HEADER_LEN);
    let nonce = XNonce::from(<[u8; 24]>::try_from(&header[37..61]).unwrap());
    let key = argon2id(&alice.passphrase, &header[SALT], header_params(&bytes));
    let plaintext = XChaCha20Poly1305::new_from_slice(&key)
        .unwrap()
        .decrypt(
            &nonce,
            Payload {
                msg: ciphertext,
                aad: header,
            },
        )
        .unwrap();
    let weak: [u32; 3] = [64, 1, 1];
    let mut header = header.to_vec();
    for (i, word) in weak.iter().enumerate() {
        header[9 + 4 * i..13 + 4 * i].copy_from_slice(&word.to_be_bytes());
    }
    let key = argon2id(&alice.passphrase, &header[SALT], weak);
    let mut crafted = header.clone();
    crafted.extend(
        XChaCha20Poly1305::new_from_slice(&key)
            .unwrap()
            .encrypt(
                &nonce,
                Payload {
                    msg: &plaintext,
                    aad: &header,
                },
            )
            .unwrap(),
    );
    std::fs::write(&path, &crafted).unwrap();
    let out = alice.run(&["whoami"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        "quietwire-client: the state file's Argon2id parameters (64 KiB, 1 passes, 1 lanes) are below this client's minimum (19456 KiB, 2 passes, 1 lane); refusing it: a file this weak was not written by this client and may have been planted or downgraded"
    );
    assert!(out.stdout.is_empty());
    // The file is left as it was.
    assert_eq!(std::fs::read(&path).unwrap(), crafted);
}

/// The passphrase is NFC-normalized: typed with a precomposed or a combining accent, it is
/// the same passphrase.
#[test]
fn the_passphrase_is_nfc_normalized() {
    let dir = tempfile::tempdir().unwrap();
    let composed = Client {
        home: dir.path().join("alice"),
        passphrase: "caf\u{e9} au lait".into(),
        env: Vec::new(),
    };
    composed.init("Alice", &dead_relay(), &[]);
    let out = composed.run_with(&["whoami"], "cafe\u{301} au lait").ok();
    assert!(out.contains("Alice"), "{out}");
    let wrong = composed.run_with(&["whoami"], "cafe au lait");
    assert_eq!(wrong.code, 1);
}
