//! A minimal relay client for the live tester: one WebSocket connection, its welcome, and
//! frames in and out with timeouts. It checks nothing by itself beyond what it must to read
//! the relay's answers; the cases decide what is right.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use quietwire::mailbox::{MailboxKey, Operation, RelayOrigin};
use quietwire::relay::{Limits, Request, RequestFrame, ServerFrame};
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// A byte stream a WebSocket runs over: TCP, or TLS over TCP for `wss://`.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

type Ws = WebSocketStream<Box<dyn Stream>>;

/// The TLS client configuration for `wss://` URLs: trusts exactly the certificates given
/// to [`trust`].
static TLS: RwLock<Option<Arc<rustls::ClientConfig>>> = RwLock::new(None);

/// Trusts exactly `certificates` (and no system root) for every `wss://` connection made
/// after this call.
///
/// # Errors
/// If a certificate cannot be parsed as a trust anchor.
pub fn trust(certificates: &[CertificateDer<'static>]) -> Result<(), String> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates {
        roots
            .add(certificate.clone())
            .map_err(|e| format!("trusted certificate: {e}"))?;
    }
    // The ring provider (see reference-relay/src/tls.rs for why).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut slot = TLS
        .write()
        .map_err(|_| "TLS configuration lock".to_owned())?;
    *slot = Some(Arc::new(config));
    Ok(())
}

/// The scheme, host and port of a `ws://` or `wss://` URL.
pub(crate) fn endpoint(url: &str) -> Result<(bool, String, String), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("not a ws:// or wss:// URL: {url}"))?;
    let tls = match scheme {
        "ws" => false,
        "wss" => true,
        _ => return Err(format!("not a ws:// or wss:// URL: {url}")),
    };
    let host_port = rest.split('/').next().unwrap_or_default();
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']').unwrap_or((v6, ""));
            (host.to_owned(), after.strip_prefix(':').unwrap_or_default())
        }
        None => match host_port.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p),
            None => (host_port.to_owned(), ""),
        },
    };
    let port = if port.is_empty() {
        if tls { "443" } else { "80" }
    } else {
        port
    };
    Ok((tls, host, port.to_owned()))
}

/// A TCP connection to the host and port of `url`, nothing sent.
pub(crate) async fn tcp(url: &str) -> Result<TcpStream, String> {
    let (_, host, port) = endpoint(url)?;
    let address = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    TcpStream::connect(&address)
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))
}

/// TCP, then TLS for `wss://`, then the WebSocket opening handshake.
async fn open_ws(url: &str) -> Result<Ws, String> {
    let (tls, host, _) = endpoint(url)?;
    let tcp = tcp(url).await?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Stream> = if tls {
        let config = TLS
            .read()
            .ok()
            .and_then(|c| c.clone())
            .ok_or_else(|| format!("{url}: wss:// needs a trusted certificate (--ca)"))?;
        let name =
            ServerName::try_from(host.clone()).map_err(|e| format!("{url}: server name: {e}"))?;
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake with {url}: {e}"))?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    tokio_tungstenite::client_async(url, stream)
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| format!("cannot connect to {url}: {e}"))
}

/// What arrived on a connection.
#[derive(Debug)]
pub(crate) enum Got {
    /// A binary message.
    Binary(Vec<u8>),
    /// A text message.
    Text(String),
    /// The connection closed (a close frame, end of stream or a transport error).
    Closed(String),
    /// Nothing arrived in time.
    Timeout,
}

/// The WebSocket URL of a relay URL (**[RLY-01]**): a URL without a path, or with the path
/// `/`, gets `/v1/ws`; any other path is used as it is.
pub fn websocket_url(url: &str) -> String {
    let trimmed = url.trim();
    let after_scheme = trimmed.split_once("://").map_or(trimmed, |(_, rest)| rest);
    match after_scheme.find('/') {
        None => format!("{trimmed}/v1/ws"),
        Some(i) if after_scheme.get(i..) == Some("/") => format!("{trimmed}v1/ws"),
        Some(_) => trimmed.to_owned(),
    }
}

/// Whether the host of a `ws://` URL is a loopback address.
pub(crate) fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host_port = rest.split('/').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.rsplit_once(':').map_or(host_port, |(h, _)| h),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Opens a WebSocket connection without reading anything.
pub(crate) async fn connect(url: &str, timeout: Duration) -> Result<Ws, String> {
    match tokio::time::timeout(timeout, open_ws(url)).await {
        Ok(Ok(ws)) => Ok(ws),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!(
            "no WebSocket connection to {url} within {timeout:?}"
        )),
    }
}

/// Reads the next message of `ws`, skipping pings and pongs.
pub(crate) async fn receive(ws: &mut Ws, wait: Duration) -> Got {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Got::Timeout,
            Ok(None) => return Got::Closed("end of stream".to_owned()),
            Ok(Some(Err(e))) => return Got::Closed(format!("transport: {e}")),
            Ok(Some(Ok(message))) => match message {
                Message::Binary(b) => return Got::Binary(b.to_vec()),
                Message::Text(t) => return Got::Text(t.to_string()),
                Message::Close(frame) => {
                    return Got::Closed(frame.map_or_else(
                        || "close frame".to_owned(),
                        |f| format!("close frame {}", u16::from(f.code)),
                    ));
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            },
        }
    }
}

/// What a connection's mailbox proofs are bound to (MBX-02, MBX-05): the origin of the URL
/// the tester dialled and the challenge of the relay's welcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The relay origin as dialled.
    pub origin: RelayOrigin,
    /// The welcome's challenge.
    pub bytes: [u8; 32],
}

impl Challenge {
    /// A proof by `key` for `operation` on this connection.
    pub fn prove(&self, key: &MailboxKey, operation: Operation) -> Vec<u8> {
        key.prove(&self.origin, &self.bytes, operation)
    }
}

/// A connection that has received its welcome.
pub(crate) struct Conn {
    ws: Ws,
    /// The connection's origin and challenge.
    pub challenge: Challenge,
    /// The limits the welcome announced.
    pub limits: Limits,
    /// Wakes received so far, in order.
    pub wakes: Vec<[u8; 32]>,
    /// The time one answer may take.
    pub timeout: Duration,
    next_id: u32,
    closed: bool,
}

impl Conn {
    /// Connects and reads the welcome.
    pub(crate) async fn open(url: &str, timeout: Duration) -> Result<Conn, String> {
        let origin = RelayOrigin::from_url(url)
            .map_err(|e| format!("{url} has no relay origin ({}): MBX-05", e.class().as_str()))?;
        let mut ws = connect(url, timeout).await?;
        match receive(&mut ws, timeout).await {
            Got::Binary(bytes) => {
                match ServerFrame::decode(&bytes, quietwire::relay::limits::MAX_ANNOUNCED_FRAME) {
                    Ok(ServerFrame::Welcome { challenge, limits }) => Ok(Conn {
                        ws,
                        challenge: Challenge {
                            origin,
                            bytes: challenge,
                        },
                        limits,
                        wakes: Vec::new(),
                        timeout,
                        next_id: 0,
                        closed: false,
                    }),
                    Ok(other) => Err(format!("the first frame is not a welcome: {other:?}")),
                    Err(e) => Err(format!(
                        "the first frame does not decode as a relay frame ({}): {}",
                        e.class().as_str(),
                        short(&bytes)
                    )),
                }
            }
            other => Err(format!("no welcome: {}", describe(&other))),
        }
    }

    /// A fresh request id.
    pub(crate) fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    /// Sends one binary message.
    pub(crate) async fn send(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        self.ws
            .send(Message::Binary(bytes.into()))
            .await
            .map_err(|e| format!("send: {e}"))
    }

    /// Sends one text message.
    pub(crate) async fn send_text(&mut self, text: &str) -> Result<(), String> {
        self.ws
            .send(Message::Text(text.to_owned().into()))
            .await
            .map_err(|e| format!("send: {e}"))
    }

    /// Sends a request with a fresh id; returns the id.
    pub(crate) async fn send_request(&mut self, request: Request) -> Result<u32, String> {
        let id = self.id();
        self.send(RequestFrame { id, request }.encode()).await?;
        Ok(id)
    }

    /// The next message that is not a wake (wakes are collected in [`Conn::wakes`]).
    pub(crate) async fn next(&mut self, wait: Duration) -> Got {
        if self.closed {
            return Got::Closed("already closed".to_owned());
        }
        loop {
            let got = receive(&mut self.ws, wait).await;
            match &got {
                Got::Binary(bytes) => {
                    if let Ok(ServerFrame::Wake { mailbox }) =
                        ServerFrame::decode(bytes, u64::from(self.limits.max_frame))
                    {
                        self.wakes.push(mailbox);
                        continue;
                    }
                }
                Got::Closed(_) => self.closed = true,
                Got::Text(_) | Got::Timeout => {}
            }
            return got;
        }
    }

    /// The next reply frame, decoded, with its bytes.
    pub(crate) async fn reply(&mut self) -> Result<(ServerFrame, Vec<u8>), String> {
        match self.next(self.timeout).await {
            Got::Binary(bytes) => self.decode(bytes),
            other => Err(format!("no reply: {}", describe(&other))),
        }
    }

    /// A reply that has already arrived, without waiting for one (`None` if none has).
    pub(crate) async fn ready_reply(&mut self) -> Result<Option<ServerFrame>, String> {
        match self.next(Duration::ZERO).await {
            Got::Timeout => Ok(None),
            Got::Binary(bytes) => self.decode(bytes).map(|(frame, _)| Some(frame)),
            other => Err(format!("no reply: {}", describe(&other))),
        }
    }

    fn decode(&self, bytes: Vec<u8>) -> Result<(ServerFrame, Vec<u8>), String> {
        match ServerFrame::decode(&bytes, u64::from(self.limits.max_frame)) {
            Ok(frame) => Ok((frame, bytes)),
            Err(e) => Err(format!(
                "a frame that does not decode ({}): {}",
                e.class().as_str(),
                short(&bytes)
            )),
        }
    }

    /// Sends `request` and returns the relay's answer, which must carry its id.
    pub(crate) async fn request(&mut self, request: Request) -> Result<ServerFrame, String> {
        let op = request.op().name();
        let id = self.send_request(request).await?;
        let (frame, _) = self.reply().await.map_err(|e| format!("{op}: {e}"))?;
        match &frame {
            ServerFrame::Ok { id: got, .. } | ServerFrame::Error { id: got, .. } if *got == id => {
                Ok(frame)
            }
            other => Err(format!("{op}: the answer to request {id} is {other:?}")),
        }
    }

    /// Waits for the relay to close the connection; fails on any frame.
    pub(crate) async fn expect_closed(&mut self, wait: Duration) -> Result<(), String> {
        match self.next(wait).await {
            Got::Closed(_) => Ok(()),
            Got::Timeout => Err(format!("the connection stayed open for {wait:?}")),
            other => Err(format!("instead of closing, it sent {}", describe(&other))),
        }
    }

    /// Collects wakes for `wait` (or until a non-wake message arrives, which is an error).
    pub(crate) async fn collect_wakes(&mut self, wait: Duration) -> Result<(), String> {
        match self.next(wait).await {
            Got::Timeout => Ok(()),
            Got::Closed(why) => Err(format!("the connection closed ({why})")),
            other => Err(format!("unexpected {}", describe(&other))),
        }
    }

    /// Closes the connection politely.
    pub(crate) async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// A short rendering of a message for reports.
pub(crate) fn describe(got: &Got) -> String {
    match got {
        Got::Binary(b) => format!("a binary message {}", short(b)),
        Got::Text(t) => format!(
            "a text message {:?}",
            t.chars().take(64).collect::<String>()
        ),
        Got::Closed(why) => format!("the connection closed ({why})"),
        Got::Timeout => "nothing in time".to_owned(),
    }
}

/// Hex of at most 64 bytes, with the length.
pub(crate) fn short(bytes: &[u8]) -> String {
    let shown = bytes.get(..64).unwrap_or(bytes);
    if shown.len() < bytes.len() {
        format!("{}… ({} bytes)", hex::encode(shown), bytes.len())
    } else {
        hex::encode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls() {
        assert_eq!(
            websocket_url("wss://relay.example"),
            "wss://relay.example/v1/ws"
        );
        assert_eq!(
            websocket_url("wss://relay.example/"),
            "wss://relay.example/v1/ws"
        );
        assert_eq!(
            websocket_url("wss://example.org/qw/v1/ws"),
            "wss://example.org/qw/v1/ws"
        );
        assert_eq!(
            websocket_url("ws://127.0.0.1:7447"),
            "ws://127.0.0.1:7447/v1/ws"
        );
        assert!(is_loopback("ws://127.0.0.1:7447/v1/ws"));
        assert!(is_loopback("ws://[::1]:80"));
        assert!(is_loopback("ws://localhost:80/"));
        assert!(!is_loopback("ws://relay.example:80/"));
    }
}
