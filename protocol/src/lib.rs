//! # Quietwire
//!
//! A sans-io implementation of the Quietwire protocol: end-to-end encrypted messaging
//! through relays that are never trusted. The normative text is in `spec/`; every module
//! links the chapter it implements.
//!
//! This crate performs **no I/O**: no sockets, files, clocks or operating-system
//! randomness. Time is an explicit argument ([`UnixTime`]) and randomness is an injected
//! [`rand_core::CryptoRng`]. Binaries in the workspace are thin drivers around it.
//!
//! | module | chapter |
//! |---|---|
//! | [`cbor`] | `spec/01-encoding.md`: the deterministic CBOR subset |
//! | [`suite`], [`label`], [`keys`], [`hpke`] | `spec/02-suites-and-labels.md` |
//! | [`identity`], [`safety`], [`did_key`] | `spec/03-identity.md` |
//! | [`invite`] | `spec/04-contact-establishment.md` |
//! | [`handshake`] | `spec/05-handshake.md` |
//! | [`ratchet`] | `spec/06-ratchet.md` |
//! | [`envelope`], [`event`] | `spec/07-envelope.md` |
//! | [`mailbox`] | `spec/08-mailboxes-and-relay.md` |
//! | [`session`] | chapters 5 to 7 together: the API an application drives |
//! | [`backup`] | `spec/10-backup.md`: the `.xbk` backup and transfer format |
//!
//! Every error carries an [`ErrorClass`] from the closed registry in
//! `spec/14-registries.md`; the test vectors name these classes.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod aead;
pub mod backup;
pub mod cbor;
pub mod delivery;
pub mod did_key;
pub mod envelope;
mod error;
pub mod event;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod handshake;
pub mod hpke;
pub mod identity;
pub mod invite;
pub mod keys;
pub mod label;
pub mod mailbox;
pub mod ratchet;
pub mod relay;
pub mod safety;
mod schema;
pub mod session;
pub mod suite;
mod time;

pub use error::{Error, ErrorClass, Fault, Result};
pub use time::UnixTime;

// The README's example runs as a doctest, so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
