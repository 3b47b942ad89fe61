//! The client's one failure type: a one-line message for the user and an exit status.
//!
//! Every command returns `Result<(), Fail>`; `main` prints the message on standard error
//! and exits with the status. Messages never contain secrets.

use core::fmt;

/// Exit status of a failed command.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status when a message was queued durably but the relay could not be reached: nothing
/// is lost, and the next `send` or `sync` retries it.
pub const EXIT_QUEUED: u8 = 2;

/// A failed command.
#[derive(Debug)]
pub struct Fail {
    message: String,
    code: u8,
}

impl Fail {
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
    pub const fn code(&self) -> u8 {
        self.code
    }
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<std::io::Error> for Fail {
    fn from(e: std::io::Error) -> Fail {
        Fail::new(format!("i/o error: {e}"))
    }
}

/// The result of a command step.
pub type Result<T, E = Fail> = core::result::Result<T, E>;
