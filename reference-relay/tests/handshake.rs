//! Half-open connections (**[RLY-15]**): a TCP connection that never completes the
//! WebSocket opening handshake is closed after `--handshake-timeout`, and every accepted
//! socket, upgraded or not, counts against `--max-connections`. The real process, raw
//! sockets.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::SocketAddr;

use common::{Client, Relay, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the relay closes `tcp` (EOF or reset), bounded by [`common::LIMIT`]; returns
/// what it sent first.
async fn closed_by_relay(tcp: &mut TcpStream) -> Vec<u8> {
    within("the relay closes the connection", async {
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return got,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
}

/// Whether a WebSocket opening handshake on a new connection succeeds.
async fn upgrade(addr: SocketAddr) -> bool {
    let tcp = TcpStream::connect(addr).await.unwrap();
    within(
        "upgrade",
        tokio_tungstenite::client_async(format!("ws://{addr}/v1/ws"), tcp),
    )
    .await
    .is_ok()
}

#[tokio::test]
async fn a_connection_that_never_upgrades_is_closed() {
    let relay = Relay::start(&["--handshake-timeout", "1"]);
    // Sends nothing at all.
    let mut silent = TcpStream::connect(relay.addr).await.unwrap();
    // Starts a request and never finishes it.
    let mut partial = TcpStream::connect(relay.addr).await.unwrap();
    partial
        .write_all(b"GET /v1/ws HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\n")
        .await
        .unwrap();
    assert!(closed_by_relay(&mut silent).await.is_empty());
    assert!(closed_by_relay(&mut partial).await.is_empty());
    let (_, metrics) = common::http_get(relay.addr, "/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|l| l == "quietwire_relay_handshake_timeouts_total 2"),
        "{metrics}"
    );
    // A connection that completed the handshake is not affected: its idle timeout applies.
    let mut client = Client::connect(relay.addr).await;
    let key = quietwire::mailbox::MailboxKey::from_seed(&[1; 32]);
    client.subscribe(&key).await;
    // Outlive the handshake timeout (not a timing assertion: the connection must simply
    // still be served afterwards).
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    client.put(*key.id(), [1; 16], vec![1; 100]).await;
}

#[tokio::test]
async fn a_tls_connection_that_never_says_hello_is_closed() {
    let relay = Relay::start_tls(&["--handshake-timeout", "1"]);
    let mut silent = TcpStream::connect(relay.addr).await.unwrap();
    assert!(closed_by_relay(&mut silent).await.is_empty());
    // After a TLS handshake, the HTTP request must come within the same time.
    let tcp = TcpStream::connect(relay.addr).await.unwrap();
    let name = rustls_pki_types::ServerName::IpAddress(relay.addr.ip().into());
    let cert = relay.cert.as_ref().unwrap();
    let mut tls = within("tls handshake", cert.connector().connect(name, tcp))
        .await
        .unwrap();
    let mut buf = [0u8; 16];
    let read = within("the relay closes the TLS connection", tls.read(&mut buf)).await;
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}

#[tokio::test]
async fn every_accepted_socket_counts_against_max_connections() {
    let relay = Relay::start(&["--max-connections", "1", "--handshake-timeout", "3"]);
    // A socket that sends nothing takes the only place.
    let mut silent = TcpStream::connect(relay.addr).await.unwrap();
    assert!(
        !upgrade(relay.addr).await,
        "an upgrade was admitted beside a half-open connection at --max-connections 1"
    );
    // The half-open one is closed at its handshake timeout, and its place is free again.
    closed_by_relay(&mut silent).await;
    let mut admitted = false;
    for _ in 0..100 {
        if upgrade(relay.addr).await {
            admitted = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        admitted,
        "the half-open connection's place was not released"
    );
}
