//! [`Engine::watch`]: stay connected, subscribe to every owned mailbox, fetch on each wake-up,
//! retransmit due puts when the outbox's timer says so, reconnect with backoff when the relay
//! goes away, and stop cleanly when the app says so (`spec/08-mailboxes-and-relay.md` §8.6,
//! `spec/09-delivery.md`).
//!
//! The store is held only while a step runs, and the state is reloaded at the start of each
//! step, so another process (a `send` from another terminal) can use the same store while a
//! watch is running. The notices of each step go to the app's callback as the step ends.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use quietwire::mailbox::Operation;
use quietwire::relay::{Reply, Request, ServerFrame};

use crate::engine::Engine;
use crate::error::{Fail, Result};
use crate::flow::{self, StepError};
use crate::notice::Notice;
use crate::relay::{NetError, Relay};
use crate::sys;

/// Longest wait between two steps (picks up sends queued by other processes).
const TICK: Duration = Duration::from_secs(5);
/// Longest reconnect backoff.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

type Stop<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

impl Engine {
    /// Runs until `stop` completes, handing every notice to `on_notice` as its step ends.
    /// Connection failures are retried with a backoff of up to 30 s (each reported as
    /// [`Notice::Disconnected`]); only a relay URL that may not be used, or a local failure
    /// (the store), ends the watch early.
    ///
    /// # Errors
    /// The relay URL is refused (**[RLY-01]**), or the store failed.
    pub async fn watch(
        &mut self,
        stop: impl Future<Output = ()> + Send,
        mut on_notice: impl FnMut(Notice) + Send,
    ) -> Result<()> {
        let mut stop: Stop<'_> = Box::pin(stop);
        let url = self.state.relay.clone();
        self.release();
        let mut backoff = Duration::from_secs(1);
        let result = loop {
            let connected = tokio::select! {
                r = self.connect() => r,
                () = &mut stop => break Ok(()),
            };
            match connected {
                Ok(mut relay) => {
                    backoff = Duration::from_secs(1);
                    on_notice(Notice::Connected { relay: url.clone() });
                    let result = self
                        .connected_loop(&mut relay, &mut stop, &mut on_notice)
                        .await;
                    for notice in self.take_notices() {
                        on_notice(notice);
                    }
                    match result {
                        Ok(()) => {
                            relay.close().await;
                            break Ok(());
                        }
                        Err(StepError::Net(e)) => {
                            self.release();
                            on_notice(Notice::Disconnected {
                                error: e.to_string(),
                                retry_in: backoff.as_secs(),
                                was_connected: true,
                            });
                        }
                        Err(StepError::Fail(e)) => break Err(e),
                    }
                }
                // The URL itself is refused (RLY-01): retrying cannot help.
                Err(e @ NetError::Refusing(_)) => break Err(Fail::new(e.to_string())),
                Err(e) => on_notice(Notice::Disconnected {
                    error: e.to_string(),
                    retry_in: backoff.as_secs(),
                    was_connected: false,
                }),
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = &mut stop => break Ok(()),
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        };
        // The engine stays usable after a watch: take the store back.
        let reacquired = self.reacquire();
        result.and(reacquired)
    }

    /// Steps and waits until `stop` (`Ok`) or a connection error.
    async fn connected_loop(
        &mut self,
        relay: &mut Relay,
        stop: &mut Stop<'_>,
        on_notice: &mut (impl FnMut(Notice) + Send),
    ) -> Result<(), StepError> {
        let mut subscribed: BTreeSet<[u8; 32]> = BTreeSet::new();
        let mut woken: BTreeSet<[u8; 32]> = BTreeSet::new();
        let mut polled: BTreeSet<[u8; 32]> = BTreeSet::new();
        loop {
            self.reacquire()?;
            woken.extend(polled.iter().copied());
            let result = self
                .step(relay, &mut subscribed, &mut polled, &mut woken)
                .await;
            self.release();
            for notice in self.take_notices() {
                on_notice(notice);
            }
            result?;
            let wait = self
                .state
                .outbox
                .poll_timeout()
                .map_or(TICK, |at| {
                    Duration::from_secs(at.as_secs().saturating_sub(sys::now().as_secs()))
                })
                .clamp(Duration::from_millis(200), TICK);
            tokio::select! {
                frame = relay.next_frame() => {
                    if let ServerFrame::Wake { mailbox } = frame? {
                        woken.insert(mailbox);
                    }
                }
                () = tokio::time::sleep(wait) => {}
                () = &mut *stop => return Ok(()),
            }
        }
    }

    /// One step under the lock: subscribe to (and fetch) new mailboxes, fetch woken ones (and
    /// those the relay would not subscribe us to),
    /// flush the outbox, run its timers.
    async fn step(
        &mut self,
        relay: &mut Relay,
        subscribed: &mut BTreeSet<[u8; 32]>,
        polled: &mut BTreeSet<[u8; 32]>,
        woken: &mut BTreeSet<[u8; 32]>,
    ) -> Result<(), StepError> {
        for key in flow::owned_mailboxes(&self.state)? {
            if subscribed.contains(key.id()) {
                continue;
            }
            let proof = relay.prove(&key, Operation::Subscribe);
            match relay
                .request(Request::Subscribe {
                    mailbox: *key.id(),
                    proof,
                })
                .await
            {
                Ok(Reply::Subscribed) => {}
                Ok(_) => {
                    return Err(NetError::Lost("unexpected reply to a subscribe".into()).into());
                }
                Err(NetError::Refused { class }) => {
                    self.state
                        .notices
                        .push(Notice::SubscriptionRefused { class });
                    polled.insert(*key.id());
                }
                Err(e) => return Err(e.into()),
            }
            subscribed.insert(*key.id());
            woken.insert(*key.id());
        }
        while let Some(mailbox) = relay.take_wake() {
            woken.insert(mailbox);
        }
        while let Some(mailbox) = woken.pop_first() {
            flow::fetch_mailbox(self, relay, &mailbox).await?;
            while let Some(more) = relay.take_wake() {
                woken.insert(more);
            }
        }
        flow::flush(self, relay).await?;
        self.state
            .outbox
            .handle_timeout(sys::now(), &mut sys::rng());
        self.save()?;
        Ok(())
    }
}
