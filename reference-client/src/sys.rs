//! The client's only sources of randomness and time: the protocol crate is sans-io and takes
//! both as arguments (`spec/00-conventions.md`).

use std::time::{SystemTime, UNIX_EPOCH};

use getrandom::SysRng;
use quietwire::UnixTime;
use rand_core::UnwrapErr;

/// The operating system's CSPRNG as a `rand_core::CryptoRng`.
pub fn rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

/// The wall clock in whole seconds since the Unix epoch (0 if the clock is before 1970).
pub fn now() -> UnixTime {
    UnixTime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}
