//! Shared harness for the relay's integration tests: spawn the real binary on a free
//! loopback port with a temporary data file, and talk to it over WebSocket.
//!
//! Every wait is bounded ([`within`]), so a bug fails a test instead of hanging it.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use quietwire::mailbox::{MailboxKey, Operation};
use quietwire::relay::{Item, Limits, Reply, Request, RequestFrame, ServerFrame};
use rand_core::{TryCryptoRng, TryRng};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// The bound on every wait.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Awaits `fut`, failing the test if it takes longer than [`LIMIT`].
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(LIMIT, fut).await {
        Ok(out) => out,
        Err(_) => panic!("timed out: {what}"),
    }
}

/// A byte stream a WebSocket runs over: plain TCP or TLS.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A self-signed certificate for `127.0.0.1` and `localhost`, made at test time, and its key.
pub struct TestCert {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: rustls_pki_types::CertificateDer<'static>,
}

impl TestCert {
    /// A fresh certificate and key.
    pub fn new() -> TestCert {
        let made = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ])
        .unwrap();
        TestCert {
            cert_pem: made.cert.pem(),
            key_pem: made.signing_key.serialize_pem(),
            der: made.cert.der().clone(),
        }
    }

    /// Writes `cert.pem` and `key.pem` into `dir`; returns their paths.
    pub fn write(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, &self.cert_pem).unwrap();
        std::fs::write(&key, &self.key_pem).unwrap();
        (cert, key)
    }

    /// A TLS connector that trusts exactly this certificate.
    pub fn connector(&self) -> tokio_rustls::TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.der.clone()).unwrap();
        #[allow(deprecated)]
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
    }
}

/// A running relay process.
pub struct Relay {
    pub child: Child,
    pub addr: SocketAddr,
    /// Holds the data directory and the log file.
    pub dir: PathBuf,
    pub tmp: Option<tempfile::TempDir>,
    /// The certificate the relay serves, if it serves TLS.
    pub cert: Option<TestCert>,
}

impl Relay {
    /// Starts a relay serving TLS (`wss://`) with a fresh test certificate.
    pub fn start_tls(args: &[&str]) -> Relay {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let cert = TestCert::new();
        let (cert_path, key_path) = cert.write(&dir);
        let mut all = vec![
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        let mut relay = Relay::start_in(&dir, &all);
        relay.tmp = Some(tmp);
        relay.cert = Some(cert);
        relay
    }

    /// Starts a relay in a fresh temporary directory with extra `args`.
    pub fn start(args: &[&str]) -> Relay {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let mut relay = Relay::start_in(&dir, args);
        relay.tmp = Some(tmp);
        relay
    }

    /// Starts a relay on `dir/data/relay.redb`, logging stdout and stderr to `dir/relay.log`
    /// (appended, so restarts keep earlier output).
    pub fn start_in(dir: &Path, args: &[&str]) -> Relay {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("relay.log"))
            .unwrap();
        let before = std::fs::read_to_string(dir.join("relay.log"))
            .unwrap()
            .matches("listening on ")
            .count();
        let child = Command::new(env!("CARGO_BIN_EXE_quietwire-relay"))
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data")
            .arg(dir.join("data").join("relay.redb"))
            .args(args)
            .env_remove("QUIETWIRE_RELAY_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let mut relay = Relay {
            child,
            addr: "127.0.0.1:0".parse().unwrap(),
            dir: dir.to_path_buf(),
            tmp: None,
            cert: None,
        };
        // Poll the log for the new `listening on` line (polling only; no sleep asserts).
        let deadline = Instant::now() + LIMIT;
        loop {
            let text = std::fs::read_to_string(dir.join("relay.log")).unwrap();
            if let Some(line) = text
                .lines()
                .filter(|l| l.starts_with("listening on "))
                .nth(before)
            {
                relay.addr = line["listening on ".len()..].trim().parse().unwrap();
                return relay;
            }
            if let Some(status) = relay.child.try_wait().unwrap() {
                panic!("relay exited with {status} before listening:\n{text}");
            }
            assert!(Instant::now() < deadline, "relay did not start:\n{text}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The WebSocket URL.
    pub fn url(&self) -> String {
        format!("ws://{}/v1/ws", self.addr)
    }

    /// Everything the relay wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("relay.log")).unwrap()
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        self.wait()
    }

    /// Waits (bounded) for the process to exit.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "relay did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Keeps the directory after the process is gone (for a restart).
    pub fn into_dir(mut self) -> (tempfile::TempDir, PathBuf) {
        self.kill();
        let tmp = self.tmp.take().unwrap();
        (tmp, self.dir.clone())
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One WebSocket client of the relay.
pub struct Client {
    pub ws: WebSocketStream<Box<dyn Stream>>,
    pub challenge: [u8; 32],
    /// The relay origin this client dialled (MBX-05).
    pub origin: quietwire::mailbox::RelayOrigin,
    pub limits: Limits,
    /// The client's own TCP port (what the relay must never log).
    pub local_port: u16,
    next_id: u32,
}

impl Client {
    /// Connects and reads the welcome.
    pub async fn connect(addr: SocketAddr) -> Client {
        Client::connect_with(addr, None).await
    }

    /// Connects with an optional small receive buffer (a client that reads slowly).
    pub async fn connect_with(addr: SocketAddr, recv_buffer: Option<u32>) -> Client {
        let socket = TcpSocket::new_v4().unwrap();
        if let Some(size) = recv_buffer {
            socket.set_recv_buffer_size(size).unwrap();
        }
        let tcp = within("tcp connect", socket.connect(addr)).await.unwrap();
        let local_port = tcp.local_addr().unwrap().port();
        let url = format!("ws://{addr}/v1/ws");
        Client::upgrade(url, Box::new(tcp), local_port).await
    }

    /// Connects over TLS (`wss://`), trusting exactly `cert`, and reads the welcome.
    pub async fn connect_tls(addr: SocketAddr, cert: &TestCert) -> Client {
        let tcp = within("tcp connect", TcpStream::connect(addr))
            .await
            .unwrap();
        let local_port = tcp.local_addr().unwrap().port();
        let name = rustls_pki_types::ServerName::IpAddress(addr.ip().into());
        let tls = within("tls handshake", cert.connector().connect(name, tcp))
            .await
            .unwrap();
        let url = format!("wss://{addr}/v1/ws");
        Client::upgrade(url, Box::new(tls), local_port).await
    }

    /// The WebSocket opening handshake over `stream`, then the welcome.
    async fn upgrade(url: String, stream: Box<dyn Stream>, local_port: u16) -> Client {
        let (ws, _) = within(
            "websocket upgrade",
            tokio_tungstenite::client_async(url.as_str(), stream),
        )
        .await
        .unwrap();
        let mut client = Client {
            ws,
            challenge: [0; 32],
            origin: quietwire::mailbox::RelayOrigin::from_url(&url).unwrap(),
            limits: Limits::DEFAULT,
            local_port,
            next_id: 1,
        };
        match client.recv().await {
            ServerFrame::Welcome { challenge, limits } => {
                client.challenge = challenge;
                client.limits = limits;
            }
            other => panic!("expected a welcome, got {other:?}"),
        }
        client
    }

    /// A fresh request id.
    pub fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Sends raw bytes as one binary message.
    pub async fn send_raw(&mut self, bytes: Vec<u8>) {
        within("send", self.ws.send(Message::Binary(bytes.into())))
            .await
            .unwrap();
    }

    /// The next message of any kind, or `None` once the connection ended.
    pub async fn next_message(&mut self) -> Option<Message> {
        match within("receive", self.ws.next()).await {
            Some(Ok(m)) => Some(m),
            Some(Err(_)) | None => None,
        }
    }

    /// The next relay frame (binary), skipping pings.
    pub async fn recv(&mut self) -> ServerFrame {
        loop {
            match self.next_message().await {
                Some(Message::Binary(b)) => {
                    return ServerFrame::decode(&b, u64::from(self.limits.max_frame)).unwrap();
                }
                Some(Message::Ping(_) | Message::Pong(_)) => {}
                other => panic!("expected a binary frame, got {other:?}"),
            }
        }
    }

    /// Reads until the connection ends (close frame, EOF or reset); returns the binary
    /// frames seen on the way and the close code if there was one. Bounded.
    pub async fn drain_until_closed(&mut self) -> (Vec<ServerFrame>, Option<u16>) {
        let mut frames = Vec::new();
        loop {
            match self.next_message().await {
                Some(Message::Binary(b)) => {
                    frames.push(ServerFrame::decode(&b, u64::from(self.limits.max_frame)).unwrap());
                }
                Some(Message::Close(frame)) => {
                    return (frames, frame.map(|f| u16::from(f.code)));
                }
                Some(_) => {}
                None => return (frames, None),
            }
        }
    }

    /// Sends `request` and returns the relay's answer to it, skipping wakes.
    pub async fn call(&mut self, request: Request) -> ServerFrame {
        let id = self.id();
        self.send_raw(RequestFrame { id, request }.encode()).await;
        loop {
            let frame = self.recv().await;
            match &frame {
                ServerFrame::Wake { .. } => continue,
                ServerFrame::Ok { id: got, .. } | ServerFrame::Error { id: got, .. } => {
                    assert!(*got == id || *got == 0, "reply to {got}, expected {id}");
                    return frame;
                }
                ServerFrame::Welcome { .. } => panic!("second welcome"),
            }
        }
    }

    /// Puts and expects `Stored`.
    pub async fn put(&mut self, mailbox: [u8; 32], item: [u8; 16], envelope: Vec<u8>) {
        let reply = self
            .call(Request::Put {
                mailbox,
                item,
                envelope,
                ttl: 3600,
            })
            .await;
        assert_ok(&reply);
    }

    /// Subscribes to `key`'s mailbox and expects `Subscribed`.
    pub async fn subscribe(&mut self, key: &MailboxKey) {
        let proof = key.prove(&self.origin, &self.challenge, Operation::Subscribe);
        let reply = self
            .call(Request::Subscribe {
                mailbox: *key.id(),
                proof,
            })
            .await;
        assert!(
            matches!(
                reply,
                ServerFrame::Ok {
                    reply: Reply::Subscribed,
                    ..
                }
            ),
            "{reply:?}"
        );
    }

    /// Fetches one page of `key`'s mailbox.
    pub async fn fetch(&mut self, key: &MailboxKey) -> (Vec<Item>, bool) {
        let proof = key.prove(&self.origin, &self.challenge, Operation::Fetch);
        match self
            .call(Request::Fetch {
                mailbox: *key.id(),
                proof,
                max: None,
            })
            .await
        {
            ServerFrame::Ok {
                reply: Reply::Items { items, more },
                ..
            } => (items, more),
            other => panic!("fetch failed: {other:?}"),
        }
    }

    /// Deletes items of `key`'s mailbox; returns the count.
    pub async fn delete(&mut self, key: &MailboxKey, items: Vec<[u8; 16]>) -> u32 {
        let proof = key.prove(&self.origin, &self.challenge, Operation::Delete);
        match self
            .call(Request::Delete {
                mailbox: *key.id(),
                proof,
                items,
            })
            .await
        {
            ServerFrame::Ok {
                reply: Reply::Deleted { count },
                ..
            } => count,
            other => panic!("delete failed: {other:?}"),
        }
    }

    /// Fetches and deletes page after page until the mailbox is empty; returns every item
    /// in order.
    pub async fn drain_mailbox(&mut self, key: &MailboxKey) -> Vec<Item> {
        let mut all = Vec::new();
        loop {
            let (items, more) = self.fetch(key).await;
            if items.is_empty() {
                assert!(!more);
                return all;
            }
            let ids = items.iter().map(|i| i.id).collect::<Vec<_>>();
            assert_eq!(self.delete(key, ids).await as usize, items.len());
            all.extend(items);
        }
    }
}

/// Asserts an `Ok` frame.
pub fn assert_ok(frame: &ServerFrame) {
    assert!(
        matches!(frame, ServerFrame::Ok { .. }),
        "expected Ok, got {frame:?}"
    );
}

/// The class and `closing` flag of an error frame.
pub fn error_of(frame: &ServerFrame) -> (String, bool) {
    match frame {
        ServerFrame::Error { class, closing, .. } => (class.clone(), *closing),
        other => panic!("expected an error frame, got {other:?}"),
    }
}

/// A bare HTTP/1.1 GET; returns the status code and body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    within("http get", async {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n");
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        tcp.read_to_string(&mut response).await.unwrap();
        let status = response
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u16>()
            .unwrap();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    })
    .await
}

/// A deterministic, insecure RNG for tests (SplitMix64).
pub struct TestRng(pub u64);

impl TryRng for TestRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Ok(z ^ (z >> 31))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}

impl TryCryptoRng for TestRng {}

impl TestRng {
    /// `N` bytes.
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let _ = self.try_fill_bytes(&mut out);
        out
    }

    /// `n` bytes.
    pub fn vec(&mut self, n: usize) -> Vec<u8> {
        let mut out = vec![0u8; n];
        let _ = self.try_fill_bytes(&mut out);
        out
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `haystack` contains `needle` (bytes).
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
