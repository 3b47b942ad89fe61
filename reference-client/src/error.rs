//! The engine's one failure type: a one-line message for the user, and whether what failed
//! stays queued for a retry (the command-line client's exit status).
//!
//! Messages never contain secrets. The command-line client prints them on standard error and
//! exits with [`Error::code`].

use core::fmt;

/// Exit status of a failed command.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status when a message was queued durably but the relay could not be reached: nothing
/// is lost, and the next `send` or `sync` retries it.
pub const EXIT_QUEUED: u8 = 2;

/// A failed operation.
#[derive(Debug)]
pub struct Error {
    message: String,
    code: u8,
}

/// The name the engine's modules use.
pub(crate) type Fail = Error;

impl Error {
    /// A failure with exit status [`EXIT_FAILURE`].
    pub fn new(message: impl Into<String>) -> Fail {
        Fail {
            message: message.into(),
            code: EXIT_FAILURE,
        }
    }

    /// A message that is queued locally while the relay is unreachable ([`EXIT_QUEUED`]).
    pub fn queued(message: impl Into<String>) -> Fail {
        Fail {
            message: message.into(),
            code: EXIT_QUEUED,
        }
    }

    /// The exit status.
    #[must_use]
    pub const fn code(&self) -> u8 {
        self.code
    }

    /// Whether what failed stays durably queued, and the next flush or sync retries it (the
    /// relay could not be reached).
    #[must_use]
    pub const fn is_queued(&self) -> bool {
        self.code == EXIT_QUEUED
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Fail::new(format!("i/o error: {e}"))
    }
}

/// The result of an engine operation.
pub type Result<T, E = Error> = core::result::Result<T, E>;
