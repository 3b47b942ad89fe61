//! The relay serves `wss://` itself with `--tls-cert` and `--tls-key` (**[RLY-01]**): the
//! real process, a certificate made at test time, and clients that trust exactly it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::{Command, Stdio};

use common::{Client, Relay, TestCert, TestRng, within};
use quietwire::mailbox::MailboxKey;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn serves_the_relay_protocol_over_tls() {
    let relay = Relay::start_tls(&[]);
    let cert = relay.cert.as_ref().unwrap();
    let key = MailboxKey::from_seed(&[1; 32]);
    let mut rng = TestRng(1);
    let mut owner = Client::connect_tls(relay.addr, cert).await;
    owner.subscribe(&key).await;
    let mut writer = Client::connect_tls(relay.addr, cert).await;
    let envelope = rng.vec(700);
    writer.put(*key.id(), rng.bytes(), envelope.clone()).await;
    let items = owner.drain_mailbox(&key).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].envelope, envelope);
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_fails_the_handshake() {
    let relay = Relay::start_tls(&[]);
    let stranger = TestCert::new();
    let tcp = TcpStream::connect(relay.addr).await.unwrap();
    let name = rustls_pki_types::ServerName::IpAddress(relay.addr.ip().into());
    let result = within("tls handshake", stranger.connector().connect(name, tcp)).await;
    assert!(result.is_err(), "a certificate nobody trusts was accepted");
    // The relay goes on serving clients that trust it.
    Client::connect_tls(relay.addr, relay.cert.as_ref().unwrap()).await;
}

#[tokio::test]
async fn plain_websocket_is_not_served_on_a_tls_port() {
    let relay = Relay::start_tls(&[]);
    let mut tcp = TcpStream::connect(relay.addr).await.unwrap();
    let url = format!("ws://{}/v1/ws", relay.addr);
    tcp.flush().await.unwrap();
    let result = within("plain upgrade", tokio_tungstenite::client_async(url, tcp)).await;
    assert!(
        result.is_err(),
        "a plain WebSocket was served on the TLS port"
    );
}

/// Starts the relay with `args` and expects it to refuse to start: exit status 2 and a
/// message naming `flag`.
fn refuses(args: &[&str], flag: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_quietwire-relay"))
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--data")
        .arg(tmp.path().join("relay.redb"))
        .args(args)
        .env_remove("QUIETWIRE_RELAY_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(flag), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening on"));
}

#[test]
fn refuses_to_start_with_unusable_tls_files() {
    let tmp = tempfile::tempdir().unwrap();
    let cert = TestCert::new();
    let (cert_path, key_path) = cert.write(tmp.path());
    let (c, k) = (cert_path.to_str().unwrap(), key_path.to_str().unwrap());
    let missing = tmp.path().join("missing.pem");
    let missing = missing.to_str().unwrap();
    refuses(&["--tls-cert", c, "--tls-key", missing], "--tls-key");
    refuses(&["--tls-cert", missing, "--tls-key", k], "--tls-cert");
    // The key file holds a certificate, the certificate file a key.
    refuses(&["--tls-cert", k, "--tls-key", c], "--tls-");
    // A key that is not the certificate's.
    let other = TestCert::new();
    let other_key = tmp.path().join("other-key.pem");
    std::fs::write(&other_key, &other.key_pem).unwrap();
    refuses(
        &["--tls-cert", c, "--tls-key", other_key.to_str().unwrap()],
        "--tls-",
    );
    // One file without the other.
    let out = Command::new(env!("CARGO_BIN_EXE_quietwire-relay"))
        .args(["--listen", "127.0.0.1:0", "--tls-cert", c])
        .arg("--data")
        .arg(tmp.path().join("relay.redb"))
        .output()
        .unwrap();
    assert!(!out.status.success());
}
