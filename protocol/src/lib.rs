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
//! ## Randomness
//!
//! Every function that draws randomness takes `&mut R` with `R: rand_core::CryptoRng`, from
//! **`rand_core` 0.10**. The crate re-exports that version as [`quietwire::rand_core`](rand_core),
//! so an application names the same traits without pinning the version itself.
//!
//! In an application, pass the operating system's CSPRNG. With the `getrandom` crate (0.4,
//! feature `sys_rng`), as the reference client does:
//!
//! ```
//! use getrandom::SysRng;
//! use quietwire::identity::DeviceKeys;
//! use quietwire::rand_core::UnwrapErr;
//! use quietwire::suite::Suite;
//!
//! // `SysRng` is fallible; `UnwrapErr` makes it a `CryptoRng` (it panics if the OS fails).
//! let mut rng = UnwrapErr(SysRng);
//! let device = DeviceKeys::generate(Suite::XWing, &mut rng);
//! ```
//!
//! In tests, a deterministic RNG reproduces a run exactly (the test vectors are made this
//! way). Never use one outside tests: its output is predictable.
//!
//! ```
//! use core::convert::Infallible;
//! use quietwire::identity::DeviceKeys;
//! use quietwire::rand_core::utils::next_word_via_fill;
//! use quietwire::rand_core::{TryCryptoRng, TryRng};
//! use quietwire::suite::Suite;
//! use sha2::{Digest, Sha256};
//!
//! /// SHA-256(seed || counter) blocks: deterministic, for tests only.
//! struct TestRng { seed: [u8; 32], counter: u64 }
//!
//! impl TryRng for TestRng {
//!     type Error = Infallible;
//!     fn try_next_u32(&mut self) -> Result<u32, Infallible> {
//!         next_word_via_fill(self)
//!     }
//!     fn try_next_u64(&mut self) -> Result<u64, Infallible> {
//!         next_word_via_fill(self)
//!     }
//!     fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
//!         for chunk in dst.chunks_mut(32) {
//!             let block = Sha256::new()
//!                 .chain_update(self.seed)
//!                 .chain_update(self.counter.to_le_bytes())
//!                 .finalize();
//!             self.counter += 1;
//!             chunk.copy_from_slice(&block[..chunk.len()]);
//!         }
//!         Ok(())
//!     }
//! }
//! // Marks the test RNG as acceptable where a `CryptoRng` is required.
//! impl TryCryptoRng for TestRng {}
//!
//! let a = DeviceKeys::generate(Suite::X25519, &mut TestRng { seed: [1; 32], counter: 0 });
//! let b = DeviceKeys::generate(Suite::X25519, &mut TestRng { seed: [1; 32], counter: 0 });
//! assert_eq!(a.identity().public(), b.identity().public());
//! ```
//!
//! The module examples below use such a test RNG, hidden from the page, where the values
//! drawn do not matter.
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
//! | [`mailbox`] | `spec/08-mailboxes-and-relay.md` §8.1–8.5: mailbox ids and proofs |
//! | [`relay`] | `spec/08-mailboxes-and-relay.md` §8.6: relay frames, limits, the relay's core |
//! | [`session`] | chapters 5 to 7 together: the API an application drives |
//! | [`delivery`] | `spec/09-delivery.md`: the outbox and inbox of a client |
//! | [`backup`] | `spec/10-backup.md`: the `.xbk` backup and transfer format |
//! | `fuzzing` (feature `fuzzing` only) | invariant checks for the fuzz targets; not an API |
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
/// The `rand_core` (0.10) whose [`CryptoRng`](rand_core::CryptoRng) every function here takes.
pub use rand_core;
pub use time::UnixTime;

// The README's example runs as a doctest, so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
