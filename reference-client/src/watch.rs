//! `sync --watch`: stay connected, subscribe to every owned mailbox, fetch on each wake-up,
//! retransmit due puts when the outbox's timer says so, reconnect with backoff when the relay
//! goes away, and stop cleanly on Ctrl-C (`spec/08-mailboxes-and-relay.md` §8.6,
//! `spec/09-delivery.md`).
//!
//! The state lock is held only while a step runs, and the state is reloaded at the start of
//! each step, so `send` from another terminal works while a watch is running.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use quietwire::mailbox::Operation;
use quietwire::relay::{Reply, Request, ServerFrame};

use crate::app::Ctx;
use crate::engine::{self, StepError};
use crate::error::Result;
use crate::relay::{NetError, Relay};
use crate::sys;

/// Longest wait between two steps (picks up sends queued by other processes).
const TICK: Duration = Duration::from_secs(5);
/// Longest reconnect backoff.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

type Stop = Pin<Box<dyn Future<Output = std::io::Result<()>>>>;

/// Runs until Ctrl-C.
pub async fn watch(mut ctx: Ctx) -> Result<()> {
    let mut stop: Stop = Box::pin(tokio::signal::ctrl_c());
    let url = ctx.state.relay.clone();
    ctx.unlock();
    let mut backoff = Duration::from_secs(1);
    loop {
        let connected = tokio::select! {
            r = Relay::connect(&url) => r,
            _ = &mut stop => return stopped(),
        };
        match connected {
            Ok(mut relay) => {
                backoff = Duration::from_secs(1);
                eprintln!("connected to {url}; watching for messages (Ctrl-C to stop)");
                match connected_loop(&mut ctx, &mut relay, &mut stop).await {
                    Ok(()) => {
                        relay.close().await;
                        return stopped();
                    }
                    Err(StepError::Net(e)) => {
                        ctx.unlock();
                        eprintln!("{e}; reconnecting in {}s", backoff.as_secs());
                    }
                    Err(StepError::Fail(e)) => return Err(e),
                }
            }
            // The URL itself is refused (RLY-01): retrying cannot help.
            Err(e @ NetError::Refusing(_)) => return Err(crate::error::Fail::new(e.to_string())),
            Err(e) => eprintln!("{e}; retrying in {}s", backoff.as_secs()),
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = &mut stop => return stopped(),
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn stopped() -> Result<()> {
    eprintln!("stopped");
    Ok(())
}

/// Steps and waits until Ctrl-C (`Ok`) or a connection error.
async fn connected_loop(
    ctx: &mut Ctx,
    relay: &mut Relay,
    stop: &mut Stop,
) -> Result<(), StepError> {
    let mut subscribed: BTreeSet<[u8; 32]> = BTreeSet::new();
    let mut woken: BTreeSet<[u8; 32]> = BTreeSet::new();
    let mut polled: BTreeSet<[u8; 32]> = BTreeSet::new();
    loop {
        ctx.relock()?;
        woken.extend(polled.iter().copied());
        let result = step(ctx, relay, &mut subscribed, &mut polled, &mut woken).await;
        ctx.unlock();
        result?;
        let wait = ctx
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
            _ = &mut *stop => return Ok(()),
        }
    }
}

/// One step under the lock: subscribe to (and fetch) new mailboxes, fetch woken ones (and
/// those the relay would not subscribe us to),
/// flush the outbox, run its timers.
async fn step(
    ctx: &mut Ctx,
    relay: &mut Relay,
    subscribed: &mut BTreeSet<[u8; 32]>,
    polled: &mut BTreeSet<[u8; 32]>,
    woken: &mut BTreeSet<[u8; 32]>,
) -> Result<(), StepError> {
    for key in engine::owned_mailboxes(&ctx.state)? {
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
            Ok(_) => return Err(NetError::Lost("unexpected reply to a subscribe".into()).into()),
            Err(NetError::Refused { class }) => {
                eprintln!(
                    "the relay refused a subscription ({class}); fetching on a timer instead"
                );
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
        engine::fetch_mailbox(ctx, relay, &mailbox).await?;
        while let Some(more) = relay.take_wake() {
            woken.insert(more);
        }
    }
    engine::flush(ctx, relay).await?;
    ctx.state.outbox.handle_timeout(sys::now(), &mut sys::rng());
    ctx.save()?;
    Ok(())
}
