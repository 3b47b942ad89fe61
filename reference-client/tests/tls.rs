//! `wss://` (RLY-01): two clients talk through the real relay serving TLS on loopback with a
//! certificate made at test time and trusted through `QUIETWIRE_CA_CERT`; a client that does
//! not trust it cannot connect; `ws://` to a host that is not a loopback address is refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Client, Relay, connect};

/// A self-signed certificate for `127.0.0.1` and `localhost`, written as PEM into `dir`;
/// returns the certificate's and the key's paths.
fn certificate(dir: &std::path::Path) -> (String, String) {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    (
        cert.to_str().unwrap().to_owned(),
        key.to_str().unwrap().to_owned(),
    )
}

#[test]
fn two_clients_talk_through_a_tls_relay() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let relay = Relay::start_with(
        &dir.path().join("relay.redb"),
        "127.0.0.1:0",
        &["--tls-cert", &cert, "--tls-key", &key],
    );
    let url = relay.tls_url();
    let trusting = |name: &str| {
        let mut client = Client::new(dir.path(), name);
        client.env.push(("QUIETWIRE_CA_CERT".into(), cert.clone()));
        client
    };
    let alice = trusting("alice");
    let bob = trusting("bob");
    alice.init("Alice", &url, &["--suite", "x25519"]);
    bob.init("Bob", &url, &["--suite", "x25519"]);
    connect(&alice, "alice", &bob, "bob");
    bob.run(&["send", "alice", "over tls"]).ok();
    assert!(alice.run(&["sync"]).ok().contains("[bob] over tls"));
    alice.run(&["send", "bob", "back over tls"]).ok();
    // The option works as the environment variable does.
    let mut plain_bob = Client::new(dir.path(), "bob");
    plain_bob.env.clear();
    let out = plain_bob.run(&["--ca-cert", &cert, "sync"]).ok();
    assert!(out.contains("[alice] back over tls"), "{out}");

    // Without the CA, the relay's certificate is not trusted: a clear failure, nothing sent.
    let out = plain_bob.run(&["send", "alice", "untrusted"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains(&format!("relay unreachable: {url}: TLS: "))
            && out.stderr.contains("certificate"),
        "{out:?}"
    );
    let out = plain_bob.run(&["sync"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("TLS: "), "{out:?}");
    // A plain WebSocket to the TLS port fails too.
    let carol = Client::new(dir.path(), "carol");
    carol.init("Carol", &relay.url(), &[]);
    let out = carol.run(&["sync"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("relay unreachable"), "{out:?}");
}

#[test]
fn plain_websocket_is_refused_beyond_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let alice = Client::new(dir.path(), "alice");
    for url in ["ws://relay.example:7447", "ws://192.0.2.1:7447"] {
        let out = alice.run(&["init", "--name", "Alice", "--relay", url]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr.trim(),
            format!(
                "quietwire-client: refusing to connect to {url} without TLS: ws:// is only allowed to a relay on a loopback address (spec/08-mailboxes-and-relay.md RLY-01); use wss://"
            )
        );
        assert!(!alice.home.join("state.qw").exists());
    }
    // A restore asked to use such a relay is refused the same way, before anything is made.
    let out = alice.run(&[
        "backup",
        "receive",
        "--relay",
        "ws://192.0.2.1:7447",
        "--no-qr",
        "--wait",
        "5s",
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("refusing to connect to ws://192.0.2.1:7447 without TLS"),
        "{out:?}"
    );
    // Loopback is fine without TLS.
    alice.init("Alice", "ws://[::1]:9", &[]);
}
