//! Sending and receiving (`spec/07-envelope.md`, `spec/09-delivery.md`): a text is sealed and
//! queued durably first ([`Engine::queue_text`]), then sent ([`Engine::flush`]); every send
//! ends delivered (the contact's receipt came), queued for a retry, or failed with a reason
//! ([`Engine::send_status`]), never lost. [`Engine::sync`] sends what is due, fetches every
//! mailbox this device owns, and sends the receipts.

use quietwire::UnixTime;
use quietwire::delivery::{SendId, Status};
use quietwire::event::{Body, Event};

use crate::engine::Engine;
use crate::error::{Fail, Result};
use crate::flow::{self, StepError};
use crate::notice::{MessageId, Notice};
use crate::reconnect;
use crate::relay::NetError;
use crate::state::{Bytes, HistoryEntry, SendKind};
use crate::sys;

/// A text queued by [`Engine::queue_text`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The outbox's handle, for [`Engine::send_status`].
    pub send: SendId,
    /// The event's id (what the contact's receipt names).
    pub id: MessageId,
}

/// One send of the outbox ([`Engine::outbox`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The message id.
    pub id: MessageId,
    /// The contact, if known.
    pub contact: Option<String>,
    /// What it carries: `text`, `receipt`, `handshake`, `device record`.
    pub kind: &'static str,
    /// Where it stands.
    pub status: Status,
}

/// One message of the history ([`Engine::messages`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The contact.
    pub contact: String,
    /// Sent by this device (`true`) or received.
    pub outgoing: bool,
    /// The text as sent.
    pub text: String,
    /// When it was sent or received.
    pub at: UnixTime,
    /// For a sent message still in the outbox, its status.
    pub status: Option<Status>,
}

/// What [`Engine::sync`] did.
#[derive(Debug)]
pub struct Synced {
    /// New texts received.
    pub texts: usize,
    /// Sends still waiting for a receipt or a retry.
    pub pending: usize,
    /// What happened, in order.
    pub notices: Vec<Notice>,
}

impl Engine {
    /// Seals `text` for contact `name` and queues it durably in the outbox (with this
    /// device's record first if the session has not carried it yet, ENV-07); saves. Call
    /// [`Engine::flush`] to send it.
    ///
    /// # Errors
    /// An unknown contact, a session that cannot send yet (the inviter before the contact's
    /// first message; one restored from a backup), a text too large for one envelope, or a
    /// failed save.
    pub fn queue_text(&mut self, name: &str, text: &str) -> Result<Outgoing> {
        let now = sys::now();
        let event = Event::new(
            Body::Text {
                text: text.to_owned(),
                reply_to: None,
            },
            &mut sys::rng(),
        );
        // A session without this device's record yet (one made before this client sent them)
        // gets it first.
        reconnect::queue_own_record(&mut self.state, name, now)?;
        let send = flow::queue_event(&mut self.state, name, &event, SendKind::Text, now)?;
        self.state.history.push(HistoryEntry {
            contact: name.to_owned(),
            outgoing: true,
            message_id: Bytes::from(&event.id()[..]),
            text: text.to_owned(),
            at: now.as_secs(),
        });
        self.save()?;
        Ok(Outgoing {
            send,
            id: *event.id(),
        })
    }

    /// Connects and sends every due put of the outbox, saving after each reply.
    ///
    /// # Errors
    /// The relay could not be reached or the connection broke ([`crate::Error::is_queued`]:
    /// what was not sent stays queued), or a failed save.
    pub async fn flush(&mut self) -> Result<()> {
        let result = async {
            let mut relay = self.connect().await?;
            let result = flow::flush(self, &mut relay).await;
            relay.close().await;
            result.map(|_| ())
        }
        .await;
        result.map_err(queued)
    }

    /// The status of a send, or `None` once the outbox forgot it.
    #[must_use]
    pub fn send_status(&self, send: SendId) -> Option<Status> {
        self.state.outbox.status(send)
    }

    /// One pass: sends what is due, fetches every mailbox this device owns until the relay
    /// has no more (opening handshakes, texts, receipts and device records), sends the
    /// receipts; saves before the relay may forget anything.
    ///
    /// # Errors
    /// The relay could not be reached or the connection broke, or a failed save.
    pub async fn sync(&mut self) -> Result<Synced> {
        let mut relay = self.connect().await.map_err(|e| Fail::new(e.to_string()))?;
        let result = self.sync_pass(&mut relay).await;
        relay.close().await;
        let texts = result.map_err(Fail::from)?;
        Ok(Synced {
            texts,
            pending: self.pending_sends(),
            notices: self.take_notices(),
        })
    }

    /// One pass over an open connection; returns how many texts arrived.
    pub(crate) async fn sync_pass(
        &mut self,
        relay: &mut crate::relay::Relay,
    ) -> Result<usize, StepError> {
        flow::flush(self, relay).await?;
        let texts = flow::fetch_all(self, relay).await?;
        flow::flush(self, relay).await?;
        self.state
            .outbox
            .handle_timeout(sys::now(), &mut sys::rng());
        self.save()?;
        Ok(texts)
    }

    /// Sends still waiting for a receipt or a retry.
    #[must_use]
    pub fn pending_sends(&self) -> usize {
        self.state
            .outbox
            .iter()
            .filter(|(.., status)| status.is_pending())
            .count()
    }

    /// Every send of the outbox, oldest first.
    #[must_use]
    pub fn outbox(&self) -> Vec<OutboxEntry> {
        let state = &self.state;
        state
            .outbox
            .iter()
            .map(|(send, id, _, status)| {
                let meta = state.sends.get(&send.0);
                OutboxEntry {
                    id: *id,
                    contact: meta.map(|m| m.contact.clone()),
                    kind: meta.map_or("?", |m| m.kind.name()),
                    status,
                }
            })
            .collect()
    }

    /// The history, oldest first: every text, or only contact `name`'s.
    ///
    /// # Errors
    /// An unknown contact, or a damaged state.
    pub fn messages(&self, name: Option<&str>) -> Result<Vec<Message>> {
        let state = &self.state;
        if let Some(name) = name {
            state.contact(name)?;
        }
        let mut list = Vec::new();
        for entry in &state.history {
            if name.is_some_and(|c| c != entry.contact) {
                continue;
            }
            let status = if entry.outgoing {
                let id = entry.message_id.array::<16>()?;
                state
                    .outbox
                    .iter()
                    .find(|(_, mid, ..)| **mid == id)
                    .map(|(.., s)| s)
            } else {
                None
            };
            list.push(Message {
                contact: entry.contact.clone(),
                outgoing: entry.outgoing,
                text: entry.text.clone(),
                at: UnixTime(entry.at),
                status,
            });
        }
        Ok(list)
    }
}

/// The failure of a flush: [`crate::Error::is_queued`] if the relay could not be reached or
/// the connection broke (what was not sent stays queued).
fn queued(e: StepError) -> Fail {
    match e {
        StepError::Net(e @ (NetError::Unreachable(_) | NetError::Lost(_))) => {
            Fail::queued(e.to_string())
        }
        other => other.into(),
    }
}
