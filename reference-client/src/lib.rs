//! `quietwire-client`: a client engine for Quietwire apps, and the reference command-line
//! client built on it.
//!
//! The protocol crate [`quietwire`] is sans-io: it seals, opens, proves and schedules, but
//! keeps no state across runs and touches no socket, file or clock. An app needs more: its
//! state stored durably and encrypted, the outbox and inbox wired to a relay connection,
//! sync and watch loops, reconnects after a restore. This crate is that layer. An
//! [`Engine`] holds one identity; it keeps its state in a [`Store`] (the encrypted state file
//! [`FileStore`] by default, [`MemoryStore`] for tests) and reaches its relay through a
//! [`Transport`] (WebSocket, [`WebSocket`], by default), owns the clock and the operating
//! system's randomness, and reports what happens as [`Notice`]s instead of printing.
//!
//! ```no_run
//! # async fn demo() -> Result<(), quietwire_client::Error> {
//! use quietwire_client::{Engine, MemoryStore, Notice, WebSocket};
//! use quietwire::suite::Suite;
//!
//! let relay = "ws://127.0.0.1:7447";
//! let mut alice = Engine::create(MemoryStore::new(), WebSocket::new(), "alice", relay, Suite::XWing)?;
//! let mut bob = Engine::create(MemoryStore::new(), WebSocket::new(), "bob", relay, Suite::XWing)?;
//!
//! // Alice hands Bob an invite link over a channel they trust; Bob accepts it.
//! let invite = alice.invite("bob", 3600)?;
//! bob.accept(&invite.link, "alice")?;
//! bob.flush().await?;                      // the handshake goes to Alice's invite mailbox
//! alice.sync().await?;                     // Notice::ContactAdded { contact: "bob", .. }
//! bob.queue_text("alice", "hello")?;
//! bob.flush().await?;
//! for notice in alice.sync().await?.notices {
//!     if let Notice::Text { contact, text, .. } = notice {
//!         println!("{contact}: {text}");
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! `examples/chat.rs` is a whole program that chats through a local relay.
//!
//! | module | what | spec |
//! |---|---|---|
//! | [`engine`] | the [`Engine`], its identity and state | `spec/03` |
//! | [`contacts`] | invites, accepting one, contacts, safety codes | `spec/03`, `04`, `05` |
//! | [`messages`] | queueing, flushing, syncing, the outbox and history | `spec/07`, `09` |
//! | [`watch`] | staying connected: subscriptions, wake-ups, retries, reconnects | `spec/08` §8.6, `09` |
//! | [`notice`] | what the engine reports | `spec/05`, `07`, `09` |
//! | [`store`] | where the state is kept; the encrypted state file | `spec/07` §7.7, `09` |
//! | [`transport`] | how frames reach the relay; WebSocket with TLS | `spec/08` RLY-01 |
//! | [`relay`] | the relay protocol over a transport's link | `spec/08` §8.6 |
//! | [`backup`] | `.xbk` export, streaming read, restore with reconnects, old-device transfer | `spec/10` |
//! | [`vault`] | the state file's format and its lock | (client-private) |
//! | [`sys`] | the engine's clock and randomness (the operating system's) | `spec/00` |
//! | [`error`] | the one error type | |
//!
//! Inside: the state's data model (`state.rs`), the fetch and flush steps (`flow.rs`), and
//! device records and reconnects after a restore (`reconnect.rs`, `spec/05` §5.8, `spec/07`
//! ENV-07).
//!
//! Still to come in this crate, as the protocol grows them: linked devices, groups and files.
#![forbid(unsafe_code)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod backup;
pub mod contacts;
pub mod engine;
pub mod error;
mod flow;
pub mod messages;
pub mod notice;
mod reconnect;
pub mod relay;
mod state;
pub mod store;
pub mod sys;
pub mod transport;
pub mod vault;
pub mod watch;

pub use contacts::{AcceptKind, Accepted, ContactInfo, ContactStatus, InviteLink};
pub use engine::{Engine, Profile};
pub use error::{Error, Result};
pub use messages::{Message, OutboxEntry, Outgoing, Synced};
pub use notice::{Notice, Refusal};
pub use store::{FileStore, MemoryStore, Store};
pub use transport::{Link, Transport, WebSocket};
