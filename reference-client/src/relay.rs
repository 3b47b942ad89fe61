//! One WebSocket connection to a relay (`spec/08-mailboxes-and-relay.md` §8.6): the welcome
//! frame's challenge and limits, requests with ids matched to their replies, and wake-ups.
//!
//! Transport (**[RLY-01]**): `wss://` runs TLS (rustls with the `ring` provider, ALPN
//! `http/1.1`) checked against the operating system's root certificates plus, if given, a
//! private CA (`--ca-cert PATH` or `QUIETWIRE_CA_CERT`, [`set_ca_cert`]); `ws://` is refused
//! unless the host is a loopback address, both in the URL ([`target`]) and for the address
//! actually connected to.
//!
//! Requests go one at a time: the client waits for each reply before sending the next, so
//! the order of puts is the order of the outbox and a lost connection leaves at most one
//! request unanswered. Every wait is bounded.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use quietwire::mailbox::{MailboxKey, Operation, RelayOrigin};
use quietwire::relay::{Limits, Reply, Request, RequestFrame, ServerFrame};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// How long connecting and the welcome may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a reply may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a relay step failed.
#[derive(Debug)]
pub enum NetError {
    /// No connection could be made.
    Unreachable(String),
    /// The connection broke or timed out; requests without a reply may or may not have been
    /// executed.
    Lost(String),
    /// The relay refused the request with an error class.
    Refused {
        /// The class, as sent.
        class: String,
    },
    /// The URL may not be used: `ws://` to a host that is not a loopback address
    /// (**[RLY-01]**), or a URL that is not a relay URL. Retrying cannot help.
    Refusing(String),
}

impl core::fmt::Display for NetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NetError::Unreachable(why) => write!(f, "relay unreachable: {why}"),
            NetError::Lost(why) => write!(f, "connection to the relay lost: {why}"),
            NetError::Refused { class } => write!(f, "the relay refused the request ({class})"),
            NetError::Refusing(why) => f.write_str(why),
        }
    }
}

/// The WebSocket endpoint of a relay URL: `/v1/ws` unless the URL names a path.
pub fn endpoint(relay: &str) -> String {
    let rest = relay
        .strip_prefix("wss://")
        .or_else(|| relay.strip_prefix("ws://"))
        .unwrap_or(relay);
    match rest.find('/') {
        Some(slash) if rest.get(slash..).is_some_and(|p| p != "/") => relay.to_owned(),
        _ => format!("{}/v1/ws", relay.trim_end_matches('/')),
    }
}

/// The canonical form of a relay URL for comparisons (no trailing slash).
pub fn same_relay(a: &str, b: &str) -> bool {
    endpoint(a) == endpoint(b)
}

/// Where a relay URL points, once the transport rule of **[RLY-01]** allowed it.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    /// `wss://`.
    pub tls: bool,
    /// The host: a DNS name or an IP address (without brackets).
    pub host: String,
    /// The port (443 for `wss://`, 80 for `ws://` unless given).
    pub port: u16,
}

/// Parses a relay URL and applies the transport rule of **[RLY-01]**: `ws://` only to a
/// loopback address (`127.0.0.0/8`, `::1`, or `localhost`), anything else over `wss://`.
///
/// # Errors
/// A message for the user: not a `ws://`/`wss://` URL, no host, a bad port, or `ws://` to a
/// host that is not a loopback address.
pub fn target(relay: &str) -> Result<Target, String> {
    let (tls, rest) = if let Some(rest) = relay.strip_prefix("wss://") {
        (true, rest)
    } else if let Some(rest) = relay.strip_prefix("ws://") {
        (false, rest)
    } else {
        return Err(format!(
            "invalid relay URL {relay:?} (expected wss://HOST[:PORT], or ws://HOST:PORT on a loopback address)"
        ));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let bad = || format!("invalid relay URL {relay:?} (no usable host and port)");
    if authority.contains('@') {
        return Err(bad());
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, tail) = bracketed.split_once(']').ok_or_else(bad)?;
        let port = match tail {
            "" => None,
            tail => Some(tail.strip_prefix(':').ok_or_else(bad)?),
        };
        (host, port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(bad());
    }
    let port = match port {
        None if tls => 443,
        None => 80,
        Some(port) => port.parse::<u16>().map_err(|_| bad())?,
    };
    if !tls && !is_loopback(host) {
        return Err(insecure(relay));
    }
    Ok(Target {
        tls,
        host: host.to_owned(),
        port,
    })
}

fn insecure(relay: &str) -> String {
    format!(
        "refusing to connect to {relay} without TLS: ws:// is only allowed to a relay on a loopback address (spec/08-mailboxes-and-relay.md RLY-01); use wss://"
    )
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A byte stream to the relay: TCP, or TLS over TCP.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The private CA given with `--ca-cert` or `QUIETWIRE_CA_CERT`.
static CA_CERT: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Trusts the certificates of the PEM file `path` for `wss://`, besides the system's roots
/// (a private CA, a test's own certificate). Set once, before any connection.
pub fn set_ca_cert(path: Option<PathBuf>) {
    let _ = CA_CERT.set(path);
}

/// The TLS configuration, built once per process.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG.get_or_init(build_tls_config).clone()
}

fn build_tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    // Certificates the store cannot use (odd encodings) are skipped, as browsers do.
    let (_added, _skipped) =
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(Some(path)) = CA_CERT.get() {
        let shown = path.display();
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| format!("cannot read the CA certificate {shown}: {e}"))?;
        if certs.is_empty() {
            return Err(format!("no PEM certificate in {shown}"));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| format!("unusable CA certificate in {shown}: {e}"))?;
        }
    }
    if roots.is_empty() {
        return Err(
            "no trusted root certificates: the system has none, and no --ca-cert (QUIETWIRE_CA_CERT) was given"
                .to_owned(),
        );
    }
    // The `ring` provider builds with a C compiler alone (aws-lc-rs needs cmake); it has no
    // post-quantum key exchange, hence the deprecation. The relay uses it too.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// TCP, then TLS for `wss://`; for `ws://`, the address connected to must be a loopback
/// address whatever the name resolved to.
async fn open_stream(relay: &str, target: &Target) -> Result<Box<dyn Io>, NetError> {
    let unreachable = |e: &dyn core::fmt::Display| NetError::Unreachable(format!("{relay}: {e}"));
    let tcp = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| unreachable(&e))?;
    if !target.tls {
        let peer = tcp.peer_addr().map_err(|e| unreachable(&e))?;
        if !peer.ip().is_loopback() {
            return Err(NetError::Refusing(insecure(relay)));
        }
        return Ok(Box::new(tcp));
    }
    let config = tls_config().map_err(NetError::Refusing)?;
    let name = ServerName::try_from(target.host.clone())
        .map_err(|_| NetError::Refusing(format!("invalid relay host in {relay}")))?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| NetError::Unreachable(format!("{relay}: TLS: {e}")))?;
    Ok(Box::new(tls))
}

/// An open connection.
pub struct Relay {
    ws: WebSocketStream<Box<dyn Io>>,
    /// The relay's origin as dialled, which every proof of this connection names (MBX-05).
    origin: RelayOrigin,
    challenge: [u8; 32],
    limits: Limits,
    next_id: u32,
    /// Wake-ups that arrived while waiting for a reply.
    wakes: VecDeque<[u8; 32]>,
}

impl core::fmt::Debug for Relay {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Relay")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// Connects and reads the welcome frame.
    pub async fn connect(relay: &str) -> Result<Relay, NetError> {
        let url = endpoint(relay);
        let target = target(relay).map_err(NetError::Refusing)?;
        let origin = RelayOrigin::from_url(&url).map_err(|e| {
            NetError::Refusing(format!(
                "{relay}: not a ws:// or wss:// relay URL ({})",
                e.class()
            ))
        })?;
        let (mut ws, _) = tokio::time::timeout(CONNECT_TIMEOUT, async {
            let stream = open_stream(relay, &target).await?;
            tokio_tungstenite::client_async(url.as_str(), stream)
                .await
                .map_err(|e| NetError::Unreachable(format!("{relay}: {e}")))
        })
        .await
        .map_err(|_| NetError::Unreachable(format!("{relay}: timed out")))??;
        let first = tokio::time::timeout(CONNECT_TIMEOUT, ws.next())
            .await
            .map_err(|_| NetError::Unreachable(format!("{relay}: no welcome frame")))?;
        let data = match first {
            Some(Ok(Message::Binary(data))) => data,
            Some(Ok(_)) => {
                return Err(NetError::Unreachable(format!(
                    "{relay}: unexpected first frame"
                )));
            }
            Some(Err(e)) => return Err(NetError::Unreachable(format!("{relay}: {e}"))),
            None => return Err(NetError::Unreachable(format!("{relay}: closed at once"))),
        };
        match ServerFrame::decode(&data, Limits::DEFAULT.max_frame.into()) {
            Ok(ServerFrame::Welcome { challenge, limits }) => Ok(Relay {
                ws,
                origin,
                challenge,
                limits,
                next_id: 1,
                wakes: VecDeque::new(),
            }),
            Ok(_) => Err(NetError::Unreachable(format!("{relay}: no welcome frame"))),
            Err(e) => Err(NetError::Unreachable(format!(
                "{relay}: malformed welcome frame ({})",
                e.class()
            ))),
        }
    }

    /// The relay's announced limits.
    pub const fn limits(&self) -> &Limits {
        &self.limits
    }

    /// A proof of control of `mailbox` for `operation` on this connection.
    pub fn prove(&self, mailbox: &MailboxKey, operation: Operation) -> Vec<u8> {
        mailbox.prove(&self.origin, &self.challenge, operation)
    }

    /// A wake-up received earlier, if any.
    pub fn take_wake(&mut self) -> Option<[u8; 32]> {
        self.wakes.pop_front()
    }

    /// Sends `request` and waits for its reply.
    pub async fn request(&mut self, request: Request) -> Result<Reply, NetError> {
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        let frame = RequestFrame { id, request }.encode();
        tokio::time::timeout(REPLY_TIMEOUT, self.ws.send(Message::binary(frame)))
            .await
            .map_err(|_| NetError::Lost("timed out sending".into()))?
            .map_err(|e| NetError::Lost(e.to_string()))?;
        loop {
            let frame = tokio::time::timeout(REPLY_TIMEOUT, self.next_frame())
                .await
                .map_err(|_| NetError::Lost("no reply in time".into()))??;
            match frame {
                ServerFrame::Ok { id: got, reply } if got == id => return Ok(reply),
                ServerFrame::Error {
                    id: got,
                    class,
                    closing,
                } if got == id || got == 0 => {
                    if closing {
                        return Err(NetError::Lost(format!("the relay closed ({class})")));
                    }
                    return Err(NetError::Refused { class });
                }
                ServerFrame::Wake { mailbox } => self.wakes.push_back(mailbox),
                // A reply to an earlier request that timed out: ignore it.
                _ => {}
            }
        }
    }

    /// The next frame from the relay (no timeout: for waiting on wake-ups).
    pub async fn next_frame(&mut self) -> Result<ServerFrame, NetError> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Binary(data))) => {
                    return ServerFrame::decode(&data, self.limits.max_frame.into()).map_err(|e| {
                        NetError::Lost(format!("malformed frame from the relay ({})", e.class()))
                    });
                }
                Some(Ok(Message::Close(_))) | None => {
                    return Err(NetError::Lost("closed by the relay".into()));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(NetError::Lost(e.to_string())),
            }
        }
    }

    /// Closes the connection politely (errors are irrelevant at this point).
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.ws.close(None)).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(endpoint("ws://127.0.0.1:7447"), "ws://127.0.0.1:7447/v1/ws");
        assert_eq!(
            endpoint("ws://127.0.0.1:7447/"),
            "ws://127.0.0.1:7447/v1/ws"
        );
        assert_eq!(endpoint("wss://r.example/x/ws"), "wss://r.example/x/ws");
        assert!(same_relay("ws://a:1", "ws://a:1/"));
        assert!(!same_relay("ws://a:1", "ws://a:2"));
    }

    #[test]
    fn plain_websocket_only_to_loopback() {
        let ok = |url: &str, tls: bool, host: &str, port: u16| {
            assert_eq!(
                target(url),
                Ok(Target {
                    tls,
                    host: host.into(),
                    port
                }),
                "{url}"
            );
        };
        ok("ws://127.0.0.1:7447", false, "127.0.0.1", 7447);
        ok("ws://127.8.9.10:1/v1/ws", false, "127.8.9.10", 1);
        ok("ws://[::1]:7447", false, "::1", 7447);
        ok("ws://localhost:7447/", false, "localhost", 7447);
        ok("ws://LOCALHOST", false, "LOCALHOST", 80);
        ok("wss://relay.example", true, "relay.example", 443);
        ok(
            "wss://relay.example:8443/qw/v1/ws",
            true,
            "relay.example",
            8443,
        );
        ok("wss://203.0.113.7", true, "203.0.113.7", 443);
        ok("wss://[2001:db8::1]:9", true, "2001:db8::1", 9);
        for refused in [
            "ws://relay.example:7447",
            "ws://203.0.113.7:7447",
            "ws://[2001:db8::1]:7447",
            "ws://0.0.0.0:7447",
            "ws://localhost.relay.example",
            "ws://127.0.0.1.nip.example",
        ] {
            let err = target(refused).unwrap_err();
            assert!(
                err.contains("without TLS") && err.contains("RLY-01"),
                "{refused}: {err}"
            );
        }
        for bad in [
            "http://127.0.0.1:1",
            "ws://",
            "wss://:443",
            "ws://127.0.0.1:port",
            "ws://user@127.0.0.1:1",
            "ws://[::1",
            "ws://127.0.0.1:99999",
        ] {
            assert!(
                target(bad).unwrap_err().contains("invalid relay URL"),
                "{bad}"
            );
        }
    }
}
