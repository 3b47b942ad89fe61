//! TLS for `wss://` (`spec/08-mailboxes-and-relay.md`, §8.6.1, **[RLY-01]**): the relay
//! serves TLS itself when given `--tls-cert` and `--tls-key`.
//!
//! Both files are PEM: the certificate chain (leaf first, then any intermediates) and the
//! private key of the leaf (PKCS#8, PKCS#1 or SEC1). rustls with the `ring` provider: TLS 1.3
//! and 1.2 with rustls's default cipher suites, classical key exchange (`ring` has no
//! post-quantum group); no client certificates; ALPN `http/1.1` (the WebSocket opening
//! handshake is HTTP/1.1).
//!
//! The files are read once at start; a relay that cannot read them, or whose key does not
//! match the certificate, refuses to start.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Why the TLS files do not make a server configuration. The message names the file, never
/// its content.
#[derive(Debug)]
pub struct TlsError(String);

impl core::fmt::Display for TlsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The acceptor for the certificate chain in `cert` and the key in `key` (PEM files).
///
/// # Errors
/// A [`TlsError`] if a file cannot be read or parsed, holds no certificate or key, or the
/// key does not match the certificate.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError(format!("cannot read --tls-cert {}: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(TlsError(format!(
            "--tls-cert {} holds no certificate",
            cert.display()
        )));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TlsError(format!("cannot read --tls-key {}: {e}", key.display())))?;
    // The `ring` provider builds with a C compiler alone (aws-lc-rs also needs cmake). rustls
    // marks it deprecated because it offers no post-quantum key exchange (X25519MLKEM768);
    // the relay protocol's own confidentiality does not rest on TLS (envelopes are end-to-end
    // encrypted), so classical key exchange is accepted here.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(format!("TLS configuration: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| TlsError(format!("--tls-cert and --tls-key do not fit: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
