//! `quietwire-relay`: the reference Quietwire relay (`spec/08-mailboxes-and-relay.md`, §8.6).
//!
//! A thin driver around the sans-io relay core in [`quietwire::relay`]: this binary owns
//! every socket, clock, random number and file; the core decides every answer. A relay
//! holds padded, opaque envelopes in mailboxes and attachment blobs until they are deleted
//! by their owner or expire, and nothing else: no accounts, no connection records, no logs
//! of who did what or when.
//!
//! ```text
//!  TCP ─▶ axum (GET /v1/ws) ─▶ connection task ─▶ spawn_blocking ─▶ Connection::handle ─▶ RedbStore
//!                                   ▲   │                               (core, sans-io)      (redb file)
//!                  wake frames ─── hub ◀┘ reply frames ─▶ bounded queue ─▶ writer ─▶ TCP
//! ```
//!
//! With `--tls-cert` and `--tls-key`, TLS runs between TCP and HTTP ([`tls`]).
//!
//! Modules, one concept each:
//!
//! - [`config`]: flags and environment variables, limit overrides validated by
//!   [`quietwire::relay::Limits::is_valid`].
//! - [`server`]: the routes (`/v1/ws`, `/health`, `/metrics`), admission, graceful shutdown.
//! - [`connection`]: one WebSocket driven through [`quietwire::relay::Connection`], its
//!   bounded outbound queue and idle timeout.
//! - [`hub`]: open connections, their subscriptions and wake-ups.
//! - [`store`]: [`quietwire::relay::Store`] on redb, with one writer thread and group
//!   commit.
//! - [`sweeper`]: periodic removal of expired items and blobs.
//! - [`metrics`]: identifier-free counters.
//! - [`clock`]: wall-clock seconds and monotonic milliseconds for the core.
//! - [`tls`]: `wss://` with `--tls-cert` and `--tls-key` (rustls, `ring` provider).
//! - [`log`]: identifier-free logging (**[RLY-09]**).
//!
//! # Why redb
//!
//! The store is [redb](https://docs.rs/redb): pure Rust (no C toolchain, builds wherever
//! `cargo` does), one file, copy-on-write B-trees whose commits are checksummed and
//! `fsync`ed, so a crash at any point (even `kill -9` or power loss) leaves the last
//! committed transaction and nothing half-written. Every put, delete and blob write is
//! committed with the default immediate durability before the store returns and the core
//! acknowledges it; writes that arrive while a commit is in progress share the next one
//! (group commit, [`store`]). SQLite would do as well but needs a C build and WAL and
//! `synchronous` tuning to get the same guarantee; a relay's data (a few keyed tables, no
//! queries) needs nothing SQL offers.
//!
//! # What it never logs
//!
//! No client address or port, no access time, no mailbox, item or blob id, no proof, at any
//! `--log` level: [`log`] accepts only static messages and error class names, and no
//! timestamps are written. Axum's `ConnectInfo` is not used, so the peer address never
//! reaches application code.
#![forbid(unsafe_code)]

mod clock;
mod config;
mod connection;
mod hub;
mod log;
mod metrics;
mod server;
mod store;
mod sweeper;
mod tls;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let config = match config::Args::parse().into_config() {
        Ok(config) => config,
        Err(e) => {
            log::fatal(&e.to_string());
            return ExitCode::from(2);
        }
    };
    log::set_level(config.log);
    let tls = match &config.tls {
        None => None,
        Some(files) => match tls::acceptor(&files.cert, &files.key) {
            Ok(acceptor) => Some(acceptor),
            Err(e) => {
                log::fatal(&e.to_string());
                return ExitCode::from(2);
            }
        },
    };
    let store = match store::RedbStore::open(&config.data) {
        Ok(store) => store.with_quota(Some(config.storage_quota)),
        Err(e) => {
            log::fatal(&format!("cannot open the database: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            log::fatal(&format!("cannot start the runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::run(config, store, tls)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::fatal(&format!("cannot listen: {e}"));
            ExitCode::FAILURE
        }
    }
}
