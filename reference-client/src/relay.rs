//! The relay protocol over a [`Link`] (`spec/08-mailboxes-and-relay.md` §8.6): the welcome
//! frame's challenge and limits, requests with ids matched to their replies, proofs of
//! mailbox control (MBX-05), and wake-ups. How frames travel is the [`Transport`]'s
//! ([`crate::transport`]).
//!
//! Requests go one at a time: the client waits for each reply before sending the next, so
//! the order of puts is the order of the outbox and a lost connection leaves at most one
//! request unanswered. Every wait is bounded.

use std::collections::VecDeque;
use std::time::Duration;

use quietwire::mailbox::{MailboxKey, Operation, RelayOrigin};
use quietwire::relay::{Limits, Reply, Request, RequestFrame, ServerFrame};

use crate::transport::{Link, Transport};

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

/// An open connection.
pub struct Relay {
    link: Box<dyn Link>,
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
    /// Connects through `transport` and reads the welcome frame.
    ///
    /// # Errors
    /// The transport's, or [`NetError::Unreachable`] if no welcome frame came in time.
    pub async fn connect(transport: &dyn Transport, relay: &str) -> Result<Relay, NetError> {
        let url = endpoint(relay);
        let origin = RelayOrigin::from_url(&url).map_err(|e| {
            NetError::Refusing(format!(
                "{relay}: not a ws:// or wss:// relay URL ({})",
                e.class()
            ))
        })?;
        let mut link = tokio::time::timeout(CONNECT_TIMEOUT, transport.connect(relay))
            .await
            .map_err(|_| NetError::Unreachable(format!("{relay}: timed out")))??;
        let first = tokio::time::timeout(CONNECT_TIMEOUT, link.receive())
            .await
            .map_err(|_| NetError::Unreachable(format!("{relay}: no welcome frame")))?
            .map_err(|e| NetError::Unreachable(format!("{relay}: {e}")))?;
        match ServerFrame::decode(&first, Limits::DEFAULT.max_frame.into()) {
            Ok(ServerFrame::Welcome { challenge, limits }) => Ok(Relay {
                link,
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
    ///
    /// # Errors
    /// [`NetError::Refused`] with the relay's error class, or [`NetError::Lost`].
    pub async fn request(&mut self, request: Request) -> Result<Reply, NetError> {
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        let frame = RequestFrame { id, request }.encode();
        tokio::time::timeout(REPLY_TIMEOUT, self.link.send(frame))
            .await
            .map_err(|_| NetError::Lost("timed out sending".into()))??;
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
    ///
    /// # Errors
    /// [`NetError::Lost`] if the link broke or the frame is malformed.
    pub async fn next_frame(&mut self) -> Result<ServerFrame, NetError> {
        let data = self.link.receive().await?;
        ServerFrame::decode(&data, self.limits.max_frame.into())
            .map_err(|e| NetError::Lost(format!("malformed frame from the relay ({})", e.class())))
    }

    /// Closes the connection politely (errors are irrelevant at this point).
    pub async fn close(mut self) {
        self.link.close().await;
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
        assert!(!same_relay("ws://a:1", "ws://a:2"));
        assert!(same_relay("ws://a:1", "ws://a:1/"));
    }
}
