//! The expiry sweeper (`spec/08-mailboxes-and-relay.md`, §8.6: a relay deletes items and
//! blobs at their expiry).
//!
//! Every `--sweep-interval` seconds (and once at start) the sweeper removes what expired,
//! in bounded transactions on the blocking pool. Fetches never return an expired item
//! whether or not it was swept yet; sweeping only frees the space and drops the data as
//! soon as it is no longer needed.

use std::sync::Arc;

use quietwire::relay::Store;
use tokio::time::MissedTickBehavior;

use crate::log;
use crate::server::AppState;

/// Sweeps until the relay shuts down. A sweep in progress at shutdown finishes first.
pub async fn run(state: Arc<AppState>) {
    let mut shutdown = state.shutdown.clone();
    let mut interval = tokio::time::interval(state.config.sweep_interval);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = shutdown.wait_for(|down| *down) => return,
            _ = interval.tick() => {}
        }
        let store = Arc::clone(&state.store);
        let now = state.clock.now().unix;
        match tokio::task::spawn_blocking(move || store.sweep(now)).await {
            Ok(Ok(removed)) => {
                state.metrics.swept(removed);
                log::debug("sweep done");
            }
            // The store logged the failure; try again next time.
            Ok(Err(_)) | Err(_) => log::info("sweep failed"),
        }
    }
}
