//! The secrets of a backup: the recovery key and the backup passphrase, from the
//! environment (for scripts and tests) or a terminal prompt, never from the command line
//! (the engine takes them as [`Secret`]s).

use std::io::IsTerminal as _;

use quietwire::backup::{MethodSet, RecoveryKey};
use quietwire_client::backup::Secret;
use zeroize::Zeroizing;

use crate::error::{Fail, Result};

/// The recovery key a backup is opened with.
pub const ENV_RECOVERY_KEY: &str = "QUIETWIRE_RECOVERY_KEY";
/// The passphrase a backup is written or opened with.
pub const ENV_PASSPHRASE: &str = "QUIETWIRE_BACKUP_PASSPHRASE";
/// The new passphrase of `backup rekey --new-passphrase`.
pub const ENV_NEW_PASSPHRASE: &str = "QUIETWIRE_BACKUP_NEW_PASSPHRASE";

fn env(name: &str) -> Option<Zeroizing<String>> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(Zeroizing::new)
}

fn prompt(text: &str) -> Result<Zeroizing<String>> {
    rpassword::prompt_password(text)
        .map(Zeroizing::new)
        .map_err(|e| Fail::new(format!("cannot read from the terminal: {e}")))
}

/// The secret to open a backup that offers `methods`: `QUIETWIRE_RECOVERY_KEY` or
/// `QUIETWIRE_BACKUP_PASSPHRASE`, or a prompt on the terminal.
///
/// # Errors
/// A backup made for a transfer, no secret and no terminal, or an empty answer.
pub fn ask_unlock(methods: MethodSet) -> Result<Secret> {
    if methods.transfer.is_some() {
        return Err(Fail::new(
            "this backup was made for a transfer to a new device: only `quietwire-client backup receive` on that device opens it",
        ));
    }
    let recovery = env(ENV_RECOVERY_KEY);
    let passphrase = env(ENV_PASSPHRASE);
    match (recovery, passphrase) {
        (Some(text), Some(_)) if methods.recovery_key || !methods.passphrase => {
            Ok(Secret::recovery_key(text))
        }
        (_, Some(text)) => Ok(Secret::passphrase(text)),
        (Some(text), None) => Ok(Secret::recovery_key(text)),
        (None, None) => {
            if !std::io::stdin().is_terminal() {
                return Err(Fail::new(format!(
                    "no recovery key or passphrase for the backup: set {ENV_RECOVERY_KEY} or {ENV_PASSPHRASE}, or run in a terminal"
                )));
            }
            if methods.recovery_key {
                let hint = if methods.passphrase {
                    " (or press Enter to use the backup's passphrase)"
                } else {
                    ""
                };
                let text = prompt(&format!("Recovery key{hint}: "))?;
                if !text.trim().is_empty() {
                    return Ok(Secret::recovery_key(text));
                }
            }
            let text = prompt("Backup passphrase: ")?;
            if text.is_empty() {
                return Err(Fail::new("the passphrase must not be empty"));
            }
            Ok(Secret::passphrase(text))
        }
    }
}

/// A new backup passphrase: the environment variable `var`, or asked twice on the terminal.
///
/// # Errors
/// No terminal and no variable, an empty passphrase, or two different answers.
pub fn new_passphrase(var: &str) -> Result<Zeroizing<String>> {
    if let Some(value) = env(var) {
        return Ok(value);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Fail::new(format!(
            "no backup passphrase: set {var} or run in a terminal"
        )));
    }
    let first = prompt("New backup passphrase: ")?;
    if first.is_empty() {
        return Err(Fail::new("the passphrase must not be empty"));
    }
    let second = prompt("Repeat the backup passphrase: ")?;
    if *first != *second {
        return Err(Fail::new("the passphrases do not match"));
    }
    Ok(first)
}

/// Prints a new recovery key once, with the warning that goes with it.
pub fn show_recovery_key(key: &RecoveryKey) {
    eprintln!(
        "Write down this recovery key now and keep it apart from the file: it is shown only this once, and without it (or the passphrase, if you set one) the backup cannot be opened."
    );
    println!("recovery key: {}", key.to_text());
}
