//! The HTTP side: routes, connection admission and graceful shutdown
//! (`spec/08-mailboxes-and-relay.md`, §8.6: the relay's transport).
//!
//! | route | what |
//! |---|---|
//! | `GET /v1/ws` | the relay protocol: a WebSocket of binary frames ([`crate::connection`]) |
//! | `GET /health` | `200 {"status":"ok"}` while serving, `503` while shutting down |
//! | `GET /metrics` | Prometheus text ([`crate::metrics`]), no identifiers |
//!
//! The relay runs its own accept loop: one task per accepted TCP connection, which does the
//! TLS handshake when the relay serves `wss://` ([`crate::tls`]) and then serves HTTP/1.1
//! with upgrades (hyper, the router is axum's).
//!
//! Every accepted socket takes a place under `--max-connections` before a byte is read, and
//! keeps it until it closes (**[RLY-15]**): a connection beyond is closed at once (a plain one
//! gets a 503 answer first). A connection has `--handshake-timeout` from its accept to
//! complete the TLS handshake (if any) and the WebSocket opening handshake, or is closed;
//! plain HTTP requests (`/health`, `/metrics`) are served within the same time. The
//! WebSocket layer reads messages up to twice the announced `max_frame`, so a frame a
//! little too large still reaches the core and is answered `relay.frame_too_large`;
//! anything larger is cut off by the WebSocket layer.
//!
//! Shutdown on SIGINT or SIGTERM: stop accepting, tell every connection to finish the
//! request it is handling and close with a close frame (1001), wait for them (bounded),
//! stop the sweeper, and return so the database closes cleanly.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use quietwire::mailbox::RelayOrigin;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower_service::Service;

use crate::clock::Clock;
use crate::config::Config;
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::store::RedbStore;
use crate::{connection, log, sweeper};

/// Longest wait for open connections to close at shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Pause after a failed `accept` (for instance out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The validated configuration.
    pub config: Config,
    /// The origins whose mailbox proofs this relay accepts (MBX-05).
    pub origins: Vec<RelayOrigin>,
    /// The durable store.
    pub store: Arc<RedbStore>,
    /// Open connections and their subscriptions.
    pub hub: Hub,
    /// Counters.
    pub metrics: Metrics,
    /// The time source.
    pub clock: Clock,
    /// Becomes `true` when the relay starts shutting down.
    pub shutdown: watch::Receiver<bool>,
    /// Admitted connections: every accepted socket until it closes (**[RLY-15]**).
    slots: AtomicUsize,
}

/// One accepted connection's place under `--max-connections`, released on drop. It is
/// taken when the socket is accepted, before any byte is read, and handed to the WebSocket
/// task on upgrade.
#[derive(Debug)]
pub struct Slot {
    state: Arc<AppState>,
}

impl Slot {
    fn reserve(state: &Arc<AppState>) -> Option<Slot> {
        let max = state.config.max_connections;
        state
            .slots
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n.saturating_add(1))
            })
            .ok()?;
        Some(Slot {
            state: Arc::clone(state),
        })
    }
}

/// The slot of the connection a request came on, until an upgrade takes it. Put into every
/// request's extensions by [`http`].
#[derive(Clone, Debug)]
struct SlotCell(Arc<std::sync::Mutex<Option<Slot>>>);

impl SlotCell {
    fn take(&self) -> Option<Slot> {
        self.0.lock().ok()?.take()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.state.slots.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The WebSocket message limit for announced `max_frame`: twice the frame limit.
fn ws_max(max_frame: u32) -> usize {
    usize::try_from(u64::from(max_frame).saturating_mul(2)).unwrap_or(usize::MAX)
}

async fn ws(
    State(state): State<Arc<AppState>>,
    Extension(cell): Extension<SlotCell>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if *state.shutdown.borrow() {
        state.metrics.connection_refused();
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    // The connection's own place, taken when it was accepted; gone only if an earlier
    // request on this connection already upgraded.
    let Some(slot) = cell.take() else {
        state.metrics.connection_refused();
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let max = ws_max(state.config.limits.max_frame);
    upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .on_failed_upgrade(|_| log::debug("upgrade failed"))
        .on_upgrade(move |socket| connection::serve(socket, state, slot))
}

async fn health(State(state): State<Arc<AppState>>) -> Response {
    let status = if *state.shutdown.borrow() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let body = if status == StatusCode::OK {
        "{\"status\":\"ok\"}"
    } else {
        "{\"status\":\"shutting down\"}"
    };
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// The router over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/ws", get(ws))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Resolves on SIGINT or SIGTERM.
async fn signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// The origins of a loopback relay without `--origin`: `ws://` and `wss://` with the bound
/// address and with `localhost`, each with the bound port.
fn loopback_origins(addr: SocketAddr) -> Vec<RelayOrigin> {
    let host = match addr {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    };
    ["ws", "wss"]
        .into_iter()
        .flat_map(|scheme| {
            [host.as_str(), "localhost"].map(|h| format!("{scheme}://{h}:{}", addr.port()))
        })
        .filter_map(|url| RelayOrigin::from_url(&url).ok())
        .collect()
}

/// Runs the relay on `store` until SIGINT or SIGTERM. Prints `listening on <addr>` on
/// stdout once bound.
///
/// # Errors
/// The I/O error if the address cannot be bound.
pub async fn run(
    config: Config,
    store: RedbStore,
    tls: Option<TlsAcceptor>,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr: SocketAddr = listener.local_addr()?;
    let (shutdown_tx, shutdown) = watch::channel(false);
    let origins = if config.origins.is_empty() {
        loopback_origins(addr)
    } else {
        config.origins.clone()
    };
    let state = Arc::new(AppState {
        origins,
        config,
        store: Arc::new(store),
        hub: Hub::default(),
        metrics: Metrics::default(),
        clock: Clock::new(),
        shutdown,
        slots: AtomicUsize::new(0),
    });
    let sweeper = tokio::spawn(sweeper::run(Arc::clone(&state)));
    announce(addr);
    log::info(if tls.is_some() {
        "started (TLS)"
    } else {
        "started"
    });

    let router = router(Arc::clone(&state));
    let mut stop = std::pin::pin!(signal());
    loop {
        let accepted = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            // The peer address is dropped here: it never reaches application code.
            Ok((tcp, _)) => match Slot::reserve(&state) {
                Some(slot) => {
                    let router = router.clone();
                    tokio::spawn(accept(tcp, slot, Arc::clone(&state), router, tls.clone()));
                }
                None => {
                    state.metrics.connection_refused();
                    log::debug("connection refused: limit reached");
                    refuse(&tcp, tls.is_some());
                }
            },
            Err(_) => {
                // Out of file descriptors or a connection reset before it was accepted:
                // pause briefly rather than spin.
                log::debug("accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
    drop(listener);
    log::info("shutting down");
    // Connections and the sweeper see `true` and finish.
    let _ = shutdown_tx.send(true);

    // Every connection finishes its request in progress and closes.
    let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
    while state.slots.load(Ordering::Acquire) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(shutdown_tx);
    let _ = sweeper.await;
    log::info("stopped");
    Ok(())
}

/// Answers a connection beyond `--max-connections` without reading from it: on a plain
/// connection one `503` response if the socket takes it at once, and on a TLS one nothing;
/// the socket is closed when the caller drops it.
fn refuse(tcp: &tokio::net::TcpStream, tls: bool) {
    if !tls {
        let _ = tcp.try_write(
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        );
    }
}

/// Serves one accepted TCP connection, which holds `slot` until it closes or, upgraded,
/// until its WebSocket closes: the TLS handshake if the relay serves `wss://`, then HTTP
/// until the connection closes or is upgraded. Both must be done within
/// `--handshake-timeout` of the accept, or the connection is closed (**[RLY-15]**).
async fn accept(
    tcp: tokio::net::TcpStream,
    slot: Slot,
    state: Arc<AppState>,
    router: Router,
    tls: Option<TlsAcceptor>,
) {
    // Small frames, answered one by one: do not wait to coalesce them.
    let _ = tcp.set_nodelay(true);
    let deadline = tokio::time::Instant::now() + state.config.handshake_timeout;
    let cell = SlotCell(Arc::new(std::sync::Mutex::new(Some(slot))));
    match tls {
        None => http(tcp, &state, router, cell, deadline).await,
        Some(acceptor) => match tokio::time::timeout_at(deadline, acceptor.accept(tcp)).await {
            Ok(Ok(stream)) => http(stream, &state, router, cell, deadline).await,
            Ok(Err(_)) => log::debug("TLS handshake failed"),
            Err(_) => {
                state.metrics.handshake_timeout();
                log::debug("handshake timeout");
            }
        },
    }
}

/// HTTP/1.1 on one connection (the WebSocket opening handshake is HTTP/1.1), with upgrades,
/// until `deadline`: the connection future ends when the connection closes or hands its
/// socket to a WebSocket; if it has not by then, it is dropped, which closes the socket. At
/// shutdown a connection finishes the request in progress and closes.
async fn http<I>(
    io: I,
    state: &AppState,
    router: Router,
    cell: SlotCell,
    deadline: tokio::time::Instant,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(cell.clone());
        let mut router = router.clone();
        async move { router.call(request).await }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let mut shutdown = state.shutdown.clone();
    tokio::select! {
        _ = conn.as_mut() => return,
        () = tokio::time::sleep_until(deadline) => {
            state.metrics.handshake_timeout();
            log::debug("handshake timeout");
            return;
        }
        () = connection::shutting_down(&mut shutdown) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout_at(deadline, conn).await;
}

/// Prints the bound address, the one line a supervisor or test reads on stdout.
fn announce(addr: SocketAddr) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {addr}");
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_limit_is_twice_the_frame_limit() {
        assert_eq!(ws_max(1000), 2000);
        assert_eq!(ws_max(u32::MAX), 2 * u32::MAX as usize);
    }
}
