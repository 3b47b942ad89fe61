//! One WebSocket connection, driven through the sans-io core
//! (`spec/08-mailboxes-and-relay.md`, §8.6: welcome, request and reply frames, wakes).
//!
//! ```text
//!   client ──binary frame──▶ reader ──spawn_blocking──▶ Connection::handle(frame, store, now)
//!                              │                              │ reply, close, wake
//!                              │◀─────────────────────────────┘
//!                              ├─ reply ──▶ own queue ──▶ writer ──▶ client
//!                              └─ wake  ──▶ hub ──▶ every subscribed connection's queue
//! ```
//!
//! The reader handles one frame at a time, so replies leave in request order. The core (and
//! with it every store write) runs on the blocking pool, never on the async workers; a
//! reply is queued only after the store call returned, i.e. after the write is durable.
//!
//! Every outbound frame goes through a bounded queue (`--send-queue`) drained by a writer
//! task. A wake never waits for room (the hub must not make one connection wait on
//! another, **[RLY-12]**): a subscriber whose queue is full is closed. A reply to the
//! connection's own request waits up to `--reply-wait` for room, and meanwhile the reader
//! reads nothing more from that client: a client that pipelines requests and reads its
//! replies a little later is served, whatever the scheduler does with the writer, while
//! one that stops reading is closed once the wait runs out (or at its next wake). A
//! connection is also closed when the core says so
//! (after its error frame), on a text frame or a message the WebSocket layer cannot read,
//! after `--idle-timeout` without a frame from the client (pings count), and at shutdown
//! (with a close frame, after any request in progress finished).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use quietwire::relay::{Connection, Handled, Op};
use rand_core::TryRng;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use crate::hub::Outbound;
use crate::log;
use crate::metrics::CloseReason;
use crate::server::{AppState, Slot};

/// How long a closing connection's writer may take to flush its last frames.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// A fresh challenge from the operating system's CSPRNG (**[MBX-03]**), or `None` if it
/// failed (the connection is then refused rather than given a weak challenge).
fn challenge() -> Option<[u8; 32]> {
    let mut challenge = [0u8; 32];
    getrandom::SysRng.try_fill_bytes(&mut challenge).ok()?;
    Some(challenge)
}

/// The parts of a request the driver needs after the core handled it.
#[derive(Clone, Copy, Debug)]
struct Read {
    op: Option<Op>,
    /// A mailbox this request subscribed to (the core now reports it subscribed).
    subscribed: Option<[u8; 32]>,
}

/// How the reader loop ended: why, and the close frame to send if any.
struct End {
    reason: CloseReason,
    close: Option<(u16, &'static str)>,
}

impl End {
    const fn new(reason: CloseReason, close: Option<(u16, &'static str)>) -> End {
        End { reason, close }
    }
}

/// Serves one upgraded WebSocket until it closes. `slot` holds the connection's place
/// under `--max-connections` until this returns.
pub async fn serve(socket: WebSocket, state: Arc<AppState>, slot: Slot) {
    let Some(challenge) = challenge() else {
        log::info("randomness unavailable: connection refused");
        drop(slot);
        return;
    };
    state.metrics.connection_opened();
    log::debug("connection opened");
    let core = Connection::new(
        state.config.limits,
        state.origins.clone(),
        challenge,
        state.clock.now(),
    )
    .with_upload_budget(state.config.upload_budget);
    let (sink, stream) = socket.split();
    let (queue, rx) = mpsc::channel(state.config.send_queue);
    let writer = tokio::spawn(write(sink, rx));
    // The welcome is the first frame on an empty queue of at least one slot.
    let _ = queue.try_send(Outbound::Frame(Bytes::from(core.welcome())));
    let slow = Arc::new(Notify::new());
    let id = state.hub.join(queue.clone(), slow.clone());
    let end = read(stream, core, &state, id, &queue, &slow).await;
    state.hub.leave(id);
    finish(writer, queue, &end).await;
    state.metrics.connection_closed(end.reason);
    log::debug_class("connection closed", end.reason.name());
    drop(slot);
}

/// Sends the close frame (if any) and lets the writer flush and close the socket (which
/// also completes a close handshake the client started), or, for a client that does not
/// read, cuts the connection at once.
async fn finish(mut writer: JoinHandle<()>, queue: mpsc::Sender<Outbound>, end: &End) {
    let mut flush = end.reason != CloseReason::Slow;
    if let Some((code, reason)) = end.close {
        flush &= queue.try_send(Outbound::Close(code, reason)).is_ok();
    }
    drop(queue);
    if !flush
        || tokio::time::timeout(FLUSH_TIMEOUT, &mut writer)
            .await
            .is_err()
    {
        writer.abort();
    }
}

/// Drains the outbound queue into the socket until a close frame or the queue's end.
async fn write(mut sink: SplitSink<WebSocket, Message>, mut rx: mpsc::Receiver<Outbound>) {
    while let Some(out) = rx.recv().await {
        let (message, last) = match out {
            Outbound::Frame(bytes) => (Message::Binary(bytes), false),
            Outbound::Close(code, reason) => (
                Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })),
                true,
            ),
        };
        if sink.send(message).await.is_err() || last {
            break;
        }
    }
    let _ = sink.close().await;
}

/// Waits until the relay starts shutting down.
pub async fn shutting_down(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which only happens once the relay is exiting.
    let _ = shutdown.wait_for(|down| *down).await;
}

/// Reads and handles frames until the connection ends.
async fn read(
    mut stream: futures_util::stream::SplitStream<WebSocket>,
    mut core: Connection,
    state: &Arc<AppState>,
    id: u64,
    queue: &mpsc::Sender<Outbound>,
    slow: &Notify,
) -> End {
    let mut shutdown = state.shutdown.clone();
    let idle = state.config.idle_timeout;
    let reply_wait = state.config.reply_wait;
    loop {
        let message = tokio::select! {
            biased;
            () = slow.notified() => return End::new(CloseReason::Slow, None),
            () = shutting_down(&mut shutdown) => {
                return End::new(CloseReason::Shutdown, Some((close_code::AWAY, "relay shutting down")));
            }
            next = tokio::time::timeout(idle, stream.next()) => match next {
                Err(_) => return End::new(CloseReason::Idle, Some((close_code::NORMAL, "idle"))),
                Ok(None) => return End::new(CloseReason::Client, None),
                Ok(Some(Err(e))) => return unreadable(e),
                Ok(Some(Ok(message))) => message,
            },
        };
        let frame = match message {
            Message::Binary(frame) => frame,
            Message::Text(_) => {
                log::debug("text frame");
                return End::new(
                    CloseReason::Protocol,
                    Some((close_code::UNSUPPORTED, "binary frames only")),
                );
            }
            Message::Close(_) => return End::new(CloseReason::Client, None),
            // Pings are answered by the WebSocket layer; both only reset the idle timer.
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        let Some((back, handled, read)) = handle(core, frame, state).await else {
            log::info("request handler failed");
            return End::new(
                CloseReason::Protocol,
                Some((close_code::ERROR, "internal error")),
            );
        };
        core = back;
        account(state, &handled, read);
        if !handled.reply.is_empty() {
            let reply = Outbound::Frame(Bytes::from(handled.reply));
            let ended = tokio::select! {
                biased;
                () = slow.notified() => Some(End::new(CloseReason::Slow, None)),
                () = shutting_down(&mut shutdown) => {
                    Some(End::new(CloseReason::Shutdown, Some((close_code::AWAY, "relay shutting down"))))
                }
                sent = tokio::time::timeout(reply_wait, queue.send(reply)) => {
                    (!matches!(sent, Ok(Ok(())))).then(|| End::new(CloseReason::Slow, None))
                }
            };
            if let Some(end) = ended {
                // The request took effect (a put is stored) even though this connection ends
                // before its reply: the other subscribers are still woken.
                wake(state, handled.wake);
                return end;
            }
        }
        // After the reply, so that no wake for this mailbox overtakes the subscription's ok.
        if let Some(mailbox) = read.subscribed {
            state.hub.subscribe(id, mailbox);
        }
        wake(state, handled.wake);
        if handled.close {
            return End::new(CloseReason::Protocol, Some((close_code::POLICY, "closing")));
        }
    }
}

/// Wakes the subscribers of `mailbox`, if a request stored an item in it.
fn wake(state: &AppState, mailbox: Option<[u8; 32]>) {
    if let Some(mailbox) = mailbox {
        let wake = Bytes::from(quietwire::relay::wake(&mailbox));
        state.metrics.wakes(state.hub.wake(&mailbox, &wake));
    }
}

/// How a read error ends the connection: a client that went away (reset, closed socket)
/// is not a protocol failure; an oversized or malformed WebSocket message is, and gets a
/// close frame (no error frame, **[RLY-01]**). Axum wraps the error of the same tungstenite
/// this crate depends on; an error of any other type counts as malformed.
fn unreadable(error: axum::Error) -> End {
    use tokio_tungstenite::tungstenite::Error;
    match error.into_inner().downcast::<Error>().map(|e| *e) {
        Ok(Error::ConnectionClosed | Error::AlreadyClosed | Error::Io(_)) => {
            End::new(CloseReason::Client, None)
        }
        Ok(Error::Protocol(
            tokio_tungstenite::tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
        )) => End::new(CloseReason::Client, None),
        Ok(Error::Capacity(_)) => {
            log::debug("message too large");
            End::new(CloseReason::Protocol, Some((close_code::SIZE, "too large")))
        }
        _ => {
            log::debug("unreadable message");
            End::new(
                CloseReason::Protocol,
                Some((close_code::PROTOCOL, "unreadable")),
            )
        }
    }
}

/// Runs the core on one frame on the blocking pool (it may write to the store).
async fn handle(
    mut core: Connection,
    frame: Bytes,
    state: &Arc<AppState>,
) -> Option<(Connection, Handled, Read)> {
    let store = Arc::clone(&state.store);
    let now = state.clock.now();
    tokio::task::spawn_blocking(move || {
        let handled = core.handle(&frame, store.as_ref(), now);
        let read = Read {
            op: handled.op,
            subscribed: handled.subscribed,
        };
        (core, handled, read)
    })
    .await
    .ok()
}

/// Counts the request and logs its outcome, without identifiers.
fn account(state: &AppState, handled: &Handled, read: Read) {
    state.metrics.request(read.op);
    if let Some(class) = handled.error {
        state.metrics.error(class.as_str());
        log::debug_class("error", class.as_str());
        return;
    }
    log::debug(match read.op {
        Some(Op::Put) if handled.wake.is_some() => "put stored",
        Some(Op::Put) => "put already stored",
        Some(Op::Fetch) => "fetch answered",
        Some(Op::Delete) => "delete done",
        Some(Op::Subscribe) => "subscribed",
        Some(Op::BlobPut) => "blob stored",
        Some(Op::BlobGet) => "blob answered",
        _ => "request answered",
    });
}
