//! # Quietwire conformance suite
//!
//! Runs the golden vectors of `test-vectors/v1/` against an [`Implementation`] and reports,
//! case by case, where it diverges from the spec. The built-in implementation
//! ([`builtin::Builtin`]) wraps the `quietwire` crate; other implementations plug in
//! through the same trait (a language-neutral shim protocol is specified in the spec's
//! appendix as it grows).
//!
//! Every case ends as exactly one [`Outcome`]: it passed, it failed (with what was expected
//! and what happened), or the implementation said it does not implement the feature. An
//! implementation cannot skip a check silently: an operation either answers or says
//! `unimplemented`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod builtin;
pub mod implementation;
pub mod report;
pub mod runner;

pub use implementation::{Failure, Implementation, OpResult};
pub use report::{CaseResult, Outcome, Report};
