//! Identifier-free logging (`spec/08-mailboxes-and-relay.md`, §8.6, **[RLY-09]**).
//!
//! A relay must never log a client's address or port, when it was accessed, or any mailbox,
//! item or blob id, proof or other identifier, at any level. The functions here take only
//! `&'static str` messages and error class names, so nothing a client sent and nothing
//! about the connection can reach the log by accident: a caller would have to leak a
//! `String` on purpose. Lines carry no timestamp either; a supervisor that adds its own
//! (journald, Docker) should be configured not to, or the log kept at `quiet`.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::config::Level;

static LEVEL: AtomicU8 = AtomicU8::new(1);

const fn rank(level: Level) -> u8 {
    match level {
        Level::Quiet => 0,
        Level::Info => 1,
        Level::Debug => 2,
    }
}

/// Sets the process-wide level.
pub fn set_level(level: Level) {
    LEVEL.store(rank(level), Ordering::Relaxed);
}

fn enabled(level: Level) -> bool {
    LEVEL.load(Ordering::Relaxed) >= rank(level)
}

fn write(parts: &[&'static str]) {
    let mut err = std::io::stderr().lock();
    // A log line that cannot be written is dropped: logging never stops the relay.
    let _ = writeln!(err, "quietwire-relay: {}", parts.concat());
}

/// An operational event: start, shutdown, store failure.
pub fn info(message: &'static str) {
    if enabled(Level::Info) {
        write(&[message]);
    }
}

/// An operational event with a fixed detail (`store error` `i/o`).
pub fn info_detail(message: &'static str, detail: &'static str) {
    if enabled(Level::Info) {
        write(&[message, ": ", detail]);
    }
}

/// A per-connection or per-request event, without identifiers.
pub fn debug(message: &'static str) {
    if enabled(Level::Debug) {
        write(&[message]);
    }
}

/// A per-request event with the error class name from the registry (`relay.ttl`).
pub fn debug_class(message: &'static str, class: &'static str) {
    if enabled(Level::Debug) {
        write(&[message, " ", class]);
    }
}

/// An error that stops the relay (always written, whatever the level). The detail is an
/// operator-side message (a bad flag, an unopenable file), never client data.
pub fn fatal(message: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "quietwire-relay: {message}");
}
