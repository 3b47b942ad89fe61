//! The passphrase of the state file: a prompt on the terminal or, for tests and scripts,
//! the environment variable `QUIETWIRE_PASSPHRASE`.
//!
//! An environment is not a place for a secret meant to stay one: every child process inherits
//! it, other processes of the same user (and root) can read it (`/proc/PID/environ` on Linux),
//! and it tends to end up in shell history, service files and crash reports; the client cannot
//! wipe it from memory either. Interactive use should rely on the prompt.

use std::io::{self, IsTerminal as _};

use zeroize::Zeroizing;

use crate::error::{Fail, Result};

/// The passphrase: `QUIETWIRE_PASSPHRASE` (for tests and scripts only: see the module
/// documentation), or a prompt on the terminal (twice when `confirm`, for a new identity).
pub fn passphrase(confirm: bool) -> Result<Zeroizing<String>> {
    if let Ok(value) = std::env::var("QUIETWIRE_PASSPHRASE") {
        let value = Zeroizing::new(value);
        if value.is_empty() {
            return Err(Fail::new("QUIETWIRE_PASSPHRASE is empty"));
        }
        return Ok(value);
    }
    if !io::stdin().is_terminal() {
        return Err(Fail::new(
            "no passphrase: set QUIETWIRE_PASSPHRASE or run in a terminal",
        ));
    }
    let first = Zeroizing::new(
        rpassword::prompt_password("Passphrase: ")
            .map_err(|e| Fail::new(format!("cannot read the passphrase: {e}")))?,
    );
    if first.is_empty() {
        return Err(Fail::new("the passphrase must not be empty"));
    }
    if confirm {
        let second = Zeroizing::new(
            rpassword::prompt_password("Repeat the passphrase: ")
                .map_err(|e| Fail::new(format!("cannot read the passphrase: {e}")))?,
        );
        if *first != *second {
            return Err(Fail::new("the passphrases do not match"));
        }
    }
    Ok(first)
}
