//! How the engine reaches a relay: the [`Transport`] trait, which opens a [`Link`] that
//! carries binary frames both ways, and the default [`WebSocket`] transport
//! (`spec/08-mailboxes-and-relay.md` §8.6, **[RLY-01]**).
//!
//! The relay protocol itself (the welcome frame, requests matched to replies, proofs,
//! wake-ups) is the engine's, on top of any link ([`crate::relay::Relay`]); a transport only
//! moves frames. An app brings its own transport to run over another WebSocket stack, a proxy
//! or Tor, or an in-process relay in tests.
//!
//! [`WebSocket`]: `wss://` runs TLS (rustls with the `ring` provider, ALPN `http/1.1`)
//! checked against the operating system's root certificates plus, if given, a private CA
//! ([`WebSocket::with_ca_cert`]); `ws://` is refused unless the host is a loopback address,
//! both in the URL ([`target`]) and for the address actually connected to.

use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::relay::{NetError, endpoint};

/// A boxed future, as the transport traits return (they are object safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An open link to a relay: whole binary frames, in order, both ways.
pub trait Link: Send {
    /// Sends one frame.
    ///
    /// # Errors
    /// [`NetError::Lost`] if the link broke.
    fn send(&mut self, frame: Vec<u8>) -> BoxFuture<'_, Result<(), NetError>>;

    /// The next frame from the relay; waits as long as it takes (the engine bounds its own
    /// waits).
    ///
    /// # Errors
    /// [`NetError::Lost`] if the link broke or the relay closed it.
    fn receive(&mut self) -> BoxFuture<'_, Result<Vec<u8>, NetError>>;

    /// Closes the link politely; errors are irrelevant at this point.
    fn close(&mut self) -> BoxFuture<'_, ()>;
}

/// Opens links to relays.
pub trait Transport: Send + Sync {
    /// Opens a link to the relay of URL `relay` (as the user gave it: `ws://` or `wss://`).
    ///
    /// # Errors
    /// [`NetError::Unreachable`] if no link could be made (retrying may help), or
    /// [`NetError::Refusing`] if the URL may not be used (it will not).
    fn connect<'a>(&'a self, relay: &'a str) -> BoxFuture<'a, Result<Box<dyn Link>, NetError>>;
}

/// The default transport: WebSocket over TCP, with TLS for `wss://` (**[RLY-01]**).
#[derive(Debug, Default)]
pub struct WebSocket {
    ca_cert: Option<PathBuf>,
    tls: OnceLock<Result<Arc<rustls::ClientConfig>, String>>,
}

impl WebSocket {
    /// Trusting the operating system's root certificates.
    #[must_use]
    pub fn new() -> WebSocket {
        WebSocket::default()
    }

    /// Trusting also the certificates of the PEM file `path` (a private CA, a test's own
    /// certificate); read at the first `wss://` connection.
    #[must_use]
    pub fn with_ca_cert(path: Option<PathBuf>) -> WebSocket {
        WebSocket {
            ca_cert: path,
            tls: OnceLock::new(),
        }
    }

    /// The TLS configuration, built once.
    fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>, String> {
        self.tls
            .get_or_init(|| build_tls_config(self.ca_cert.as_deref()))
            .clone()
    }

    async fn open(&self, relay: &str) -> Result<Box<dyn Link>, NetError> {
        let url = endpoint(relay);
        let target = target(relay).map_err(NetError::Refusing)?;
        let stream = open_stream(relay, &target, self).await?;
        let (ws, _) = tokio_tungstenite::client_async(url.as_str(), stream)
            .await
            .map_err(|e| NetError::Unreachable(format!("{relay}: {e}")))?;
        Ok(Box::new(WsLink { ws }))
    }
}

impl Transport for WebSocket {
    fn connect<'a>(&'a self, relay: &'a str) -> BoxFuture<'a, Result<Box<dyn Link>, NetError>> {
        Box::pin(self.open(relay))
    }
}

/// A WebSocket link.
struct WsLink {
    ws: WebSocketStream<Box<dyn Io>>,
}

impl Link for WsLink {
    fn send(&mut self, frame: Vec<u8>) -> BoxFuture<'_, Result<(), NetError>> {
        Box::pin(async move {
            self.ws
                .send(Message::binary(frame))
                .await
                .map_err(|e| NetError::Lost(e.to_string()))
        })
    }

    fn receive(&mut self) -> BoxFuture<'_, Result<Vec<u8>, NetError>> {
        Box::pin(async move {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Binary(data))) => return Ok(data.to_vec()),
                    Some(Ok(Message::Close(_))) | None => {
                        return Err(NetError::Lost("closed by the relay".into()));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(NetError::Lost(e.to_string())),
                }
            }
        })
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let _ = tokio::time::timeout(Duration::from_secs(2), self.ws.close(None)).await;
        })
    }
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

fn build_tls_config(
    ca_cert: Option<&std::path::Path>,
) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    // Certificates the store cannot use (odd encodings) are skipped, as browsers do.
    let (_added, _skipped) =
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(path) = ca_cert {
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
async fn open_stream(
    relay: &str,
    target: &Target,
    transport: &WebSocket,
) -> Result<Box<dyn Io>, NetError> {
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
    let config = transport.tls_config().map_err(NetError::Refusing)?;
    let name = ServerName::try_from(target.host.clone())
        .map_err(|_| NetError::Refusing(format!("invalid relay host in {relay}")))?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| NetError::Unreachable(format!("{relay}: TLS: {e}")))?;
    Ok(Box::new(tls))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

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
