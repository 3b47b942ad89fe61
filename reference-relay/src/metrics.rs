//! Process-wide counters, served as Prometheus text on `GET /metrics`
//! (`spec/08-mailboxes-and-relay.md`, §8.6, **[RLY-09]**).
//!
//! Counters only: how many connections, requests per operation, errors per class, wakes,
//! closes per reason, sweeps. No label ever carries an identifier, an address or a time, so
//! the endpoint can be scraped without widening what the relay knows.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use quietwire::relay::Op;

/// Why the relay closed a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// The client closed it, or the socket failed.
    Client,
    /// A frame the core refused with `closing`, a text frame, or an unreadable message.
    Protocol,
    /// The outbound queue was full (the client does not read).
    Slow,
    /// No frame from the client within the idle timeout.
    Idle,
    /// The relay is shutting down.
    Shutdown,
}

impl CloseReason {
    const ALL: [CloseReason; 5] = [
        CloseReason::Client,
        CloseReason::Protocol,
        CloseReason::Slow,
        CloseReason::Idle,
        CloseReason::Shutdown,
    ];

    /// The label value.
    pub const fn name(self) -> &'static str {
        match self {
            CloseReason::Client => "client",
            CloseReason::Protocol => "protocol",
            CloseReason::Slow => "slow",
            CloseReason::Idle => "idle",
            CloseReason::Shutdown => "shutdown",
        }
    }

    const fn slot(self) -> usize {
        match self {
            CloseReason::Client => 0,
            CloseReason::Protocol => 1,
            CloseReason::Slow => 2,
            CloseReason::Idle => 3,
            CloseReason::Shutdown => 4,
        }
    }
}

/// Slot of requests whose operation could not be read.
const INVALID_OP: usize = Op::ALL.len();

/// The relay's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    connections_open: AtomicU64,
    connections_total: AtomicU64,
    connections_refused: AtomicU64,
    handshake_timeouts: AtomicU64,
    requests: [AtomicU64; INVALID_OP + 1],
    errors: Mutex<BTreeMap<&'static str, u64>>,
    wakes_sent: AtomicU64,
    closes: [AtomicU64; CloseReason::ALL.len()],
    sweeps: AtomicU64,
    swept: AtomicU64,
}

fn add(counter: Option<&AtomicU64>, n: u64) {
    if let Some(c) = counter {
        c.fetch_add(n, Ordering::Relaxed);
    }
}

impl Metrics {
    /// A connection opened.
    pub fn connection_opened(&self) {
        add(Some(&self.connections_open), 1);
        add(Some(&self.connections_total), 1);
    }

    /// A connection closed for `reason`.
    pub fn connection_closed(&self, reason: CloseReason) {
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
        add(self.closes.get(reason.slot()), 1);
    }

    /// An upgrade was refused (connection limit or shutdown).
    pub fn connection_refused(&self) {
        add(Some(&self.connections_refused), 1);
    }

    /// A connection was closed because it did not complete its handshake in time
    /// (**[RLY-15]**).
    pub fn handshake_timeout(&self) {
        add(Some(&self.handshake_timeouts), 1);
    }

    /// A request of `op` (`None`: unreadable) was handled.
    pub fn request(&self, op: Option<Op>) {
        let slot = op
            .and_then(|op| Op::ALL.iter().position(|o| *o == op))
            .unwrap_or(INVALID_OP);
        add(self.requests.get(slot), 1);
    }

    /// A request failed with `class` (a registry name).
    pub fn error(&self, class: &'static str) {
        if let Ok(mut errors) = self.errors.lock() {
            let n = errors.entry(class).or_insert(0);
            *n = n.saturating_add(1);
        }
    }

    /// Wake frames queued.
    pub fn wakes(&self, n: u64) {
        add(Some(&self.wakes_sent), n);
    }

    /// A sweep ran and removed `removed` items and blobs.
    pub fn swept(&self, removed: u64) {
        add(Some(&self.sweeps), 1);
        add(Some(&self.swept), removed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, samples: &[(String, u64)]| {
            let _ = writeln!(out, "# HELP quietwire_relay_{name} {help}");
            let _ = writeln!(out, "# TYPE quietwire_relay_{name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "quietwire_relay_{name}{labels} {value}");
            }
        };
        family(
            "connections_open",
            "gauge",
            "Open WebSocket connections.",
            &[(String::new(), get(&self.connections_open))],
        );
        family(
            "connections_total",
            "counter",
            "WebSocket connections accepted.",
            &[(String::new(), get(&self.connections_total))],
        );
        family(
            "connections_refused_total",
            "counter",
            "Connections refused (connection limit or shutdown).",
            &[(String::new(), get(&self.connections_refused))],
        );
        family(
            "handshake_timeouts_total",
            "counter",
            "Connections closed before completing the TLS and WebSocket handshakes in time.",
            &[(String::new(), get(&self.handshake_timeouts))],
        );
        let closes: Vec<(String, u64)> = CloseReason::ALL
            .iter()
            .zip(&self.closes)
            .map(|(r, c)| (format!("{{reason=\"{}\"}}", r.name()), get(c)))
            .collect();
        family(
            "connections_closed_total",
            "counter",
            "WebSocket connections closed, by reason.",
            &closes,
        );
        let requests: Vec<(String, u64)> = Op::ALL
            .iter()
            .map(|op| op.name())
            .chain(["invalid"])
            .zip(&self.requests)
            .map(|(name, c)| (format!("{{op=\"{name}\"}}"), get(c)))
            .collect();
        family(
            "requests_total",
            "counter",
            "Request frames handled, by operation.",
            &requests,
        );
        let errors: Vec<(String, u64)> = self
            .errors
            .lock()
            .map(|e| {
                e.iter()
                    .map(|(class, n)| (format!("{{class=\"{class}\"}}"), *n))
                    .collect()
            })
            .unwrap_or_default();
        family(
            "errors_total",
            "counter",
            "Error frames sent, by error class.",
            &errors,
        );
        family(
            "wakes_sent_total",
            "counter",
            "Wake frames queued to subscribed connections.",
            &[(String::new(), get(&self.wakes_sent))],
        );
        family(
            "sweeps_total",
            "counter",
            "Expiry sweeps run.",
            &[(String::new(), get(&self.sweeps))],
        );
        family(
            "swept_total",
            "counter",
            "Expired items and blobs removed by sweeps.",
            &[(String::new(), get(&self.swept))],
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_by_label() {
        let m = Metrics::default();
        m.connection_opened();
        m.connection_opened();
        m.connection_closed(CloseReason::Slow);
        m.request(Some(Op::Put));
        m.request(None);
        m.error("relay.ttl");
        m.error("relay.ttl");
        m.wakes(3);
        m.swept(4);
        let text = m.render();
        for line in [
            "quietwire_relay_connections_open 1",
            "quietwire_relay_connections_total 2",
            "quietwire_relay_connections_closed_total{reason=\"slow\"} 1",
            "quietwire_relay_requests_total{op=\"put\"} 1",
            "quietwire_relay_requests_total{op=\"invalid\"} 1",
            "quietwire_relay_requests_total{op=\"blob-get\"} 0",
            "quietwire_relay_errors_total{class=\"relay.ttl\"} 2",
            "quietwire_relay_wakes_sent_total 3",
            "quietwire_relay_sweeps_total 1",
            "quietwire_relay_swept_total 4",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
    }
}
