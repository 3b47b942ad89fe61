//! Command-line flags and environment variables (`spec/08-mailboxes-and-relay.md`, §8.6:
//! the limits a relay announces and enforces).
//!
//! Every flag has an environment variable, so a container can be configured without a
//! command line. Limit overrides start from [`Limits::DEFAULT`] and the result must pass
//! [`Limits::is_valid`]: an incoherent set (an envelope that cannot fit a frame, a zero) is
//! refused at start, never announced.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use quietwire::mailbox::RelayOrigin;
use quietwire::relay::Limits;

/// The default upload budget of a connection: 256 MiB.
pub const DEFAULT_UPLOAD_BUDGET: u64 = 256 * 1024 * 1024;

/// The default storage quota: 8 GiB of envelopes and blobs.
pub const DEFAULT_STORAGE_QUOTA: u64 = 8 * 1024 * 1024 * 1024;

/// How much the relay writes to stderr. No level ever names a client, an address, a time
/// or an identifier (spec **[RLY-09]**).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Level {
    /// Nothing but fatal start-up errors.
    Quiet,
    /// Start, shutdown, store failures.
    Info,
    /// Also one line per connection and request outcome, without identifiers.
    Debug,
}

/// The reference Quietwire relay.
#[derive(Clone, Debug, Parser)]
#[command(name = "quietwire-relay", version, about, long_about = None)]
pub struct Args {
    /// Address to listen on (`127.0.0.1:0` picks a free port; the bound address is printed).
    #[arg(long, env = "QUIETWIRE_RELAY_LISTEN", default_value = "127.0.0.1:7447")]
    pub listen: SocketAddr,

    /// The redb database file (created if missing).
    #[arg(
        long,
        env = "QUIETWIRE_RELAY_DATA",
        default_value = "quietwire-relay.redb"
    )]
    pub data: PathBuf,

    /// An origin clients reach this relay at, as they dial it (`wss://relay.example`,
    /// `wss://relay.example:8443`); repeat the flag, or separate with commas, for several
    /// names. Mailbox proofs made for any other origin are refused (MBX-05). Needed when
    /// listening on a non-loopback address; on loopback the default is the `ws://` and
    /// `wss://` origins of the bound address and of `localhost`.
    #[arg(long = "origin", env = "QUIETWIRE_RELAY_ORIGIN", value_delimiter = ',')]
    pub origins: Vec<String>,

    /// Largest frame in either direction, in bytes.
    #[arg(long, env = "QUIETWIRE_RELAY_MAX_FRAME")]
    pub max_frame: Option<u32>,

    /// Largest envelope a put may carry, in bytes.
    #[arg(long, env = "QUIETWIRE_RELAY_MAX_ENVELOPE")]
    pub max_envelope: Option<u32>,

    /// Largest attachment blob, in bytes.
    #[arg(long, env = "QUIETWIRE_RELAY_MAX_ATTACHMENT")]
    pub max_attachment: Option<u32>,

    /// Most unexpired items one mailbox holds.
    #[arg(long, env = "QUIETWIRE_RELAY_MAX_ITEMS")]
    pub max_items: Option<u32>,

    /// Longest TTL of an item or blob, in seconds.
    #[arg(long, env = "QUIETWIRE_RELAY_MAX_TTL")]
    pub max_ttl: Option<u32>,

    /// Most items one fetch returns.
    #[arg(long, env = "QUIETWIRE_RELAY_MAX_FETCH")]
    pub max_fetch: Option<u32>,

    /// Most item ids one delete names.
    #[arg(long, env = "QUIETWIRE_RELAY_MAX_DELETE")]
    pub max_delete: Option<u32>,

    /// Sustained requests per second per connection.
    #[arg(long, env = "QUIETWIRE_RELAY_RATE")]
    pub rate: Option<u32>,

    /// Requests a connection may make at once above the sustained rate.
    #[arg(long, env = "QUIETWIRE_RELAY_BURST")]
    pub burst: Option<u32>,

    /// Most mailboxes one connection subscribes to.
    #[arg(long, env = "QUIETWIRE_RELAY_MAX_SUBSCRIPTIONS")]
    pub max_subscriptions: Option<u32>,

    /// Most bytes of envelopes and blobs one connection may upload (puts and blob-puts
    /// answered ok); beyond it, `relay.quota`.
    #[arg(long, env = "QUIETWIRE_RELAY_UPLOAD_BUDGET", value_name = "BYTES",
          default_value_t = DEFAULT_UPLOAD_BUDGET, value_parser = clap::value_parser!(u64).range(1..))]
    pub upload_budget: u64,

    /// Most bytes of envelopes and blobs the relay holds; a write beyond it gets
    /// `relay.storage_full`.
    #[arg(long, env = "QUIETWIRE_RELAY_STORAGE_QUOTA", value_name = "BYTES",
          default_value_t = DEFAULT_STORAGE_QUOTA, value_parser = clap::value_parser!(u64).range(1..))]
    pub storage_quota: u64,

    /// Seconds between sweeps of expired items and blobs.
    #[arg(long, env = "QUIETWIRE_RELAY_SWEEP_INTERVAL", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub sweep_interval: u64,

    /// Seconds without a frame from the client (pings count) before a connection is closed.
    #[arg(long, env = "QUIETWIRE_RELAY_IDLE_TIMEOUT", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,

    /// Seconds a new connection has to complete the WebSocket opening handshake (TLS
    /// included) before it is closed.
    #[arg(long, env = "QUIETWIRE_RELAY_HANDSHAKE_TIMEOUT", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub handshake_timeout: u64,

    /// Most open connections, counting every accepted socket (upgraded or not); further
    /// connections are closed at once (plain HTTP: with a 503 answer).
    #[arg(long, env = "QUIETWIRE_RELAY_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Outbound frames queued per connection; a wake for a subscriber whose queue is full
    /// closes it, a reply waits up to `--reply-wait` for room.
    #[arg(long, env = "QUIETWIRE_RELAY_SEND_QUEUE", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub send_queue: u32,

    /// Seconds a reply may wait for room in its connection's full outbound queue (no further
    /// request of that client is read meanwhile) before the connection is closed as slow.
    #[arg(long, env = "QUIETWIRE_RELAY_REPLY_WAIT", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub reply_wait: u64,

    /// Log level (stderr).
    #[arg(long, env = "QUIETWIRE_RELAY_LOG", value_enum, default_value_t = Level::Info)]
    pub log: Level,

    /// Serve TLS (`wss://`) with this certificate chain (PEM, leaf first); needs `--tls-key`.
    #[arg(
        long,
        env = "QUIETWIRE_RELAY_TLS_CERT",
        value_name = "PATH",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// The private key of `--tls-cert` (PEM: PKCS#8, PKCS#1 or SEC1); needs `--tls-cert`.
    #[arg(
        long,
        env = "QUIETWIRE_RELAY_TLS_KEY",
        value_name = "PATH",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
}

/// The PEM files of `--tls-cert` and `--tls-key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The database file.
    pub data: PathBuf,
    /// The origins given with `--origin`, canonical; empty means the loopback defaults.
    pub origins: Vec<RelayOrigin>,
    /// The limits announced in every welcome and enforced by the core.
    pub limits: Limits,
    /// Bytes one connection may upload (**[RLY-16]**).
    pub upload_budget: u64,
    /// Bytes of envelopes and blobs the relay holds at most (**[RLY-16]**).
    pub storage_quota: u64,
    /// Time between sweeps.
    pub sweep_interval: Duration,
    /// Inbound silence after which a connection is closed.
    pub idle_timeout: Duration,
    /// Time a new connection has to complete the WebSocket opening handshake.
    pub handshake_timeout: Duration,
    /// Most open connections (every accepted socket).
    pub max_connections: usize,
    /// Outbound queue length per connection.
    pub send_queue: usize,
    /// How long a reply waits for room in a full outbound queue.
    pub reply_wait: Duration,
    /// Log level.
    pub log: Level,
    /// TLS, if the relay serves `wss://` itself.
    pub tls: Option<TlsFiles>,
}

/// Why the flags do not make a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The limits fail [`Limits::is_valid`].
    IncoherentLimits,
    /// An `--origin` that is not a `ws://` or `wss://` origin.
    Origin(String),
    /// A non-loopback listening address without any `--origin`.
    OriginNeeded,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ConfigError::IncoherentLimits => f.write_str(
                "incoherent limits: every limit must be at least 1, max-frame at most 16 MiB + 4 KiB, \
                 and max-envelope and max-attachment plus 1024 bytes must fit max-frame",
            ),
            ConfigError::Origin(origin) => write!(
                f,
                "--origin {origin:?} is not a ws:// or wss:// origin (scheme, host and optional port)"
            ),
            ConfigError::OriginNeeded => f.write_str(
                "listening on a non-loopback address needs --origin: the origin clients dial,                  which their mailbox proofs name (MBX-05)",
            ),
        }
    }
}

impl Args {
    /// The limits: the defaults with every override applied.
    pub fn limits(&self) -> Limits {
        let d = Limits::DEFAULT;
        Limits {
            max_frame: self.max_frame.unwrap_or(d.max_frame),
            max_envelope: self.max_envelope.unwrap_or(d.max_envelope),
            max_attachment: self.max_attachment.unwrap_or(d.max_attachment),
            max_items: self.max_items.unwrap_or(d.max_items),
            max_ttl: self.max_ttl.unwrap_or(d.max_ttl),
            max_fetch: self.max_fetch.unwrap_or(d.max_fetch),
            max_delete: self.max_delete.unwrap_or(d.max_delete),
            rate: self.rate.unwrap_or(d.rate),
            burst: self.burst.unwrap_or(d.burst),
            max_subscriptions: self.max_subscriptions.unwrap_or(d.max_subscriptions),
        }
    }

    /// Validates the flags into a [`Config`].
    ///
    /// # Errors
    /// [`ConfigError::IncoherentLimits`] if the limits fail [`Limits::is_valid`].
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let limits = self.limits();
        if !limits.is_valid() {
            return Err(ConfigError::IncoherentLimits);
        }
        let origins = self
            .origins
            .iter()
            .map(|o| RelayOrigin::from_url(o).map_err(|_| ConfigError::Origin(o.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        if origins.is_empty() && !self.listen.ip().is_loopback() {
            return Err(ConfigError::OriginNeeded);
        }
        Ok(Config {
            listen: self.listen,
            data: self.data,
            origins,
            limits,
            upload_budget: self.upload_budget,
            storage_quota: self.storage_quota,
            sweep_interval: Duration::from_secs(self.sweep_interval),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            handshake_timeout: Duration::from_secs(self.handshake_timeout),
            max_connections: self.max_connections as usize,
            send_queue: self.send_queue as usize,
            reply_wait: Duration::from_secs(self.reply_wait),
            log: self.log,
            tls: match (self.tls_cert, self.tls_key) {
                (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
                _ => None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, ConfigError> {
        let mut all = vec!["quietwire-relay"];
        all.extend_from_slice(args);
        Args::try_parse_from(all).unwrap().into_config()
    }

    #[test]
    fn defaults() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.limits, Limits::DEFAULT);
        assert_eq!(c.listen.to_string(), "127.0.0.1:7447");
        assert_eq!(c.sweep_interval, Duration::from_secs(60));
        assert_eq!(c.idle_timeout, Duration::from_secs(300));
        assert_eq!(c.reply_wait, Duration::from_secs(10));
        assert_eq!(c.max_connections, 1024);
        assert_eq!(c.upload_budget, 256 * 1024 * 1024);
        assert_eq!(c.storage_quota, 8 * 1024 * 1024 * 1024);
        assert_eq!(c.handshake_timeout, Duration::from_secs(10));
        assert_eq!(c.send_queue, 64);
        assert_eq!(c.log, Level::Info);
        assert_eq!(c.tls, None);
    }

    #[test]
    fn tls_needs_both_files() {
        let c = parse(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]).unwrap();
        assert_eq!(
            c.tls,
            Some(TlsFiles {
                cert: "c.pem".into(),
                key: "k.pem".into()
            })
        );
        assert!(Args::try_parse_from(["quietwire-relay", "--tls-cert", "c.pem"]).is_err());
        assert!(Args::try_parse_from(["quietwire-relay", "--tls-key", "k.pem"]).is_err());
    }

    #[test]
    fn overrides_apply_and_are_validated() {
        let c = parse(&["--rate", "1", "--burst", "3", "--log", "debug"]).unwrap();
        assert_eq!((c.limits.rate, c.limits.burst), (1, 3));
        assert_eq!(c.log, Level::Debug);
        assert_eq!(
            parse(&["--rate", "0"]).unwrap_err(),
            ConfigError::IncoherentLimits
        );
        // An envelope that cannot fit a frame.
        assert_eq!(
            parse(&["--max-frame", "2048", "--max-attachment", "1024"]).unwrap_err(),
            ConfigError::IncoherentLimits
        );
        assert!(Args::try_parse_from(["quietwire-relay", "--send-queue", "0"]).is_err());
        assert!(Args::try_parse_from(["quietwire-relay", "--handshake-timeout", "0"]).is_err());
    }

    #[test]
    fn origins_are_canonical_and_needed_off_loopback() {
        let c = parse(&[
            "--origin",
            "WSS://Relay.Example:443",
            "--origin",
            "wss://b.example:8443",
        ])
        .unwrap();
        let names: Vec<&str> = c.origins.iter().map(RelayOrigin::as_str).collect();
        assert_eq!(names, ["wss://relay.example", "wss://b.example:8443"]);
        assert!(matches!(
            parse(&["--origin", "https://relay.example"]).unwrap_err(),
            ConfigError::Origin(_)
        ));
        assert_eq!(
            parse(&["--listen", "0.0.0.0:7447"]).unwrap_err(),
            ConfigError::OriginNeeded
        );
        assert!(
            parse(&[
                "--listen",
                "0.0.0.0:7447",
                "--origin",
                "wss://relay.example"
            ])
            .is_ok()
        );
    }
}
