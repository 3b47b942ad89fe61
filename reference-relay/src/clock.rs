//! The relay's clocks, the only place it reads time (`spec/08-mailboxes-and-relay.md`,
//! §8.6: expiries and the request rate).
//!
//! The sans-io core takes time as [`Now`]: wall-clock seconds for expiries (rounded up to
//! the hour by the core, so stored expiries do not tell when an item was written) and a
//! monotonic millisecond counter for the per-connection token bucket, which must not jump
//! when the wall clock is set.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use quietwire::UnixTime;
use quietwire::relay::Now;

/// Wall-clock seconds and monotonic milliseconds since the clock was made.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: Instant,
}

impl Clock {
    /// A clock whose monotonic counter starts now.
    pub fn new() -> Clock {
        Clock {
            start: Instant::now(),
        }
    }

    /// The current time. A wall clock before 1970 reads as 0 (everything looks unexpired
    /// rather than expired, so nothing is swept by mistake).
    pub fn now(&self) -> Now {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let millis = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        Now {
            unix: UnixTime(unix),
            millis,
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}
