//! # Quietwire conformance suite
//!
//! Tells an implementer, case by case, where an implementation or a relay diverges from the
//! spec:
//!
//! - [`runner`] runs the golden vectors of `test-vectors/v1/` against an [`Implementation`],
//!   which answers the operations of the language-neutral shim protocol of
//!   `spec/16-conformance-shim.md` by name, with JSON arguments and values
//!   ([`Implementation::call`]): the built-in one ([`builtin::Builtin`], the `quietwire`
//!   crate) or any other through a shim process ([`shim`]), with a
//!   per-implementation configuration of disabled cases, an error map and optional features
//!   ([`config`]);
//! - [`interop`] lets two implementations play the two sides of scripted conversations
//!   (handshake, ratchet with losses and reorders) and checks their agreement after every
//!   step;
//! - [`relay_live`] tests a running relay over WebSocket, case by case against the relay
//!   chapter's requirements, and [`relay_process`] starts the reference relay on loopback;
//! - [`report`] writes what happened: a JSON index with per-case detail, JUnit XML, Markdown
//!   and one self-contained HTML page.
//!
//! Every case ends as exactly one [`Outcome`]. An implementation cannot skip a check
//! silently: an operation either answers or says `unimplemented`, and a shim that crashes,
//! hangs or breaks the protocol fails the case with a precise message.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod builtin;
pub mod config;
pub mod implementation;
pub mod interop;
pub mod relay_live;
pub mod relay_process;
pub mod report;
pub mod runner;
pub mod shim;

pub use implementation::{Failure, Implementation, OpResult};
pub use report::{CaseResult, Outcome, Report};
