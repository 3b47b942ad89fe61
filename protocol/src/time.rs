//! Time as an explicit input.
//!
//! The protocol never reads a clock. Callers pass the current time as [`UnixTime`]: whole
//! seconds since 1970-01-01T00:00:00Z (spec: conventions, notation).

use core::fmt;

/// Seconds since 1970-01-01T00:00:00Z, supplied by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixTime(pub u64);

impl UnixTime {
    /// The time as seconds since the epoch.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// This time plus `secs` seconds, saturating at the maximum.
    pub const fn saturating_add(self, secs: u64) -> UnixTime {
        UnixTime(self.0.saturating_add(secs))
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.0)
    }
}
