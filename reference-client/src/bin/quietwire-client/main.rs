//! `quietwire-client`: the reference command-line client of Quietwire.
//!
//! A thin driver over the client engine, the library [`quietwire_client`]: this binary parses
//! the command line, asks for passphrases, and prints; the engine owns the state, the relay
//! connection, the clock and the randomness, and the protocol crate `quietwire` makes every
//! protocol decision. See `reference-client/README.md` for the commands.
//!
//! | module | what | spec |
//! |---|---|---|
//! | [`commands`] | the commands over the engine | `spec/03`, `04`, `05`, `09` |
//! | [`print`] | the engine's notices as lines | |
//! | [`passphrase`] | the state file's passphrase: prompt or environment | |
//! | [`display`] | QR codes, times, durations | `spec/04` (encodings) |
//! | [`backup`] | `backup export`, `import`, `rekey`, `receive`, `send` | `spec/10` |
//! | [`progress`] | progress bars | |
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

mod backup;
mod commands;
mod display;
mod passphrase;
mod print;
mod progress;

/// The engine's error, under the name the commands use.
mod error {
    pub use quietwire_client::error::Result;
    /// A failed command: a message and an exit status.
    pub type Fail = quietwire_client::Error;
}

use quietwire_client::{WebSocket, sys};

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use quietwire::suite::Suite;

use crate::commands::open;
use crate::error::{Fail, Result};

/// Reference client of Quietwire: end-to-end encrypted messages through an untrusted relay.
#[derive(Debug, Parser)]
#[command(name = "quietwire-client", version, about)]
struct Cli {
    /// Directory of the identity's encrypted state [default: ~/.quietwire]. The passphrase
    /// comes from a prompt, or from QUIETWIRE_PASSPHRASE (for tests and scripts: other
    /// processes can read an environment).
    #[arg(long, global = true, env = "QUIETWIRE_HOME", value_name = "DIR")]
    home: Option<PathBuf>,
    /// A PEM file of certificates to trust for wss:// besides the system's roots (a private
    /// CA). ws:// is only allowed to a relay on a loopback address.
    #[arg(long, global = true, env = "QUIETWIRE_CA_CERT", value_name = "PATH")]
    ca_cert: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create an identity and print its did:key.
    Init {
        /// Your name (kept locally).
        #[arg(long)]
        name: String,
        /// The relay that holds your mailboxes.
        #[arg(long, default_value = "ws://127.0.0.1:7447")]
        relay: String,
        /// Cipher suite of the identity.
        #[arg(long, value_enum, default_value_t = SuiteArg::Xwing)]
        suite: SuiteArg,
    },
    /// Show name, did:key, relay and suite.
    Whoami,
    /// Make a single-use invite for a new contact (QR code and link).
    Invite {
        /// The name the contact gets here once the invite is accepted.
        #[arg(long)]
        name: String,
        /// How long the invite stays valid (90s, 30m, 24h, 7d).
        #[arg(long, default_value = "24h")]
        expires_in: String,
        /// Print only the link, no QR code.
        #[arg(long)]
        no_qr: bool,
    },
    /// Accept a contact's invite link and send the handshake.
    Accept {
        /// The invite link (`quietwire:invite#i1.…`).
        link: String,
        /// The name the contact gets here.
        #[arg(long)]
        name: String,
    },
    /// List contacts with did:key and a short safety code.
    Contacts,
    /// Show a contact's full safety code, or compare one and mark the contact verified.
    Verify {
        /// The contact.
        contact: String,
        /// The code the contact read out (spaces are ignored).
        #[arg(long)]
        code: Option<String>,
    },
    /// Send a text message.
    Send {
        /// The contact.
        contact: String,
        /// The text.
        text: String,
    },
    /// Send queued messages, fetch new ones, send receipts.
    Sync {
        /// Keep running: wait for wake-ups from the relay, retry, reconnect (Ctrl-C stops).
        #[arg(long)]
        watch: bool,
    },
    /// Show every send and its status.
    Outbox,
    /// Show received and sent messages.
    Messages {
        /// Only this contact's.
        contact: Option<String>,
    },
    /// Back up, restore, re-key, or move the identity to a new device.
    #[command(subcommand)]
    Backup(BackupCommand),
}

#[derive(Debug, Subcommand)]
enum BackupCommand {
    /// Write an encrypted backup (.xbk) of identity, contacts, sessions and history. It
    /// opens with a new recovery key, printed once.
    Export {
        /// The file to write (never overwritten).
        file: PathBuf,
        /// Also protect it with a passphrase (QUIETWIRE_BACKUP_PASSPHRASE or a prompt).
        #[arg(long)]
        passphrase: bool,
        /// Protect it with a new recovery key (the default; shown once).
        #[arg(long, conflicts_with = "no_recovery_key")]
        recovery_key: bool,
        /// No recovery key: the passphrase alone opens it (needs --passphrase).
        #[arg(long, requires = "passphrase")]
        no_recovery_key: bool,
    },
    /// Restore a backup into a new home (QUIETWIRE_RECOVERY_KEY or
    /// QUIETWIRE_BACKUP_PASSPHRASE, or a prompt), then reconnect with every contact.
    Import {
        /// The backup file.
        file: PathBuf,
        /// Use this relay instead of the backup's.
        #[arg(long)]
        relay: Option<String>,
    },
    /// Change how a backup opens, rewriting only its header.
    Rekey {
        /// The backup file (replaced atomically).
        file: PathBuf,
        /// Set a new passphrase (QUIETWIRE_BACKUP_NEW_PASSPHRASE or a prompt).
        #[arg(long)]
        new_passphrase: bool,
        /// Replace the recovery key by a new one (shown once).
        #[arg(long)]
        new_recovery_key: bool,
        /// Remove the passphrase.
        #[arg(long, conflicts_with = "new_passphrase")]
        drop_passphrase: bool,
        /// Remove the recovery key.
        #[arg(long, conflicts_with = "new_recovery_key")]
        drop_recovery_key: bool,
    },
    /// On a new device: show a transfer code (QR and text), wait for the old device's
    /// backup through the relay, and restore it.
    Receive {
        /// The relay to receive through.
        #[arg(long, default_value = "ws://127.0.0.1:7447")]
        relay: String,
        /// Suite of the one-time transfer key (x25519 gives a much smaller QR code).
        #[arg(long, value_enum, default_value_t = SuiteArg::Xwing)]
        suite: SuiteArg,
        /// How long to wait for the backup (30m, 1h).
        #[arg(long, default_value = "10m")]
        wait: String,
        /// Print only the code, no QR code.
        #[arg(long)]
        no_qr: bool,
    },
    /// On the old device: send a backup to the new device that shows CODE.
    Send {
        /// The code the new device shows (`quietwire:transfer#t1.…`).
        code: String,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SuiteArg {
    /// Hybrid post-quantum X-Wing (X25519 + ML-KEM-768), the default.
    Xwing,
    /// Classical X25519.
    X25519,
}

fn home_dir(flag: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir);
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Fail::new("HOME is not set: pass --home DIR or set QUIETWIRE_HOME"))?;
    Ok(PathBuf::from(home).join(".quietwire"))
}

async fn run(cli: Cli) -> Result<()> {
    let transport = WebSocket::with_ca_cert(cli.ca_cert);
    let home = home_dir(cli.home)?;
    let home = home.as_path();
    match cli.command {
        Command::Init {
            name,
            relay,
            suite: arg,
        } => commands::init(home, transport, &name, &relay, suite(arg)),
        Command::Whoami => {
            commands::whoami(&open(home, transport)?);
            Ok(())
        }
        Command::Invite {
            name,
            expires_in,
            no_qr,
        } => {
            let secs = display::duration(&expires_in)?;
            commands::invite(&mut open(home, transport)?, &name, secs, !no_qr)
        }
        Command::Accept { link, name } => {
            commands::accept(&mut open(home, transport)?, &link, &name).await
        }
        Command::Contacts => commands::contacts(&open(home, transport)?),
        Command::Verify { contact, code } => {
            commands::verify(&mut open(home, transport)?, &contact, code.as_deref())
        }
        Command::Send { contact, text } => {
            commands::send(&mut open(home, transport)?, &contact, &text).await
        }
        Command::Sync { watch: false } => commands::sync(&mut open(home, transport)?).await,
        Command::Sync { watch: true } => watch(&mut open(home, transport)?).await,
        Command::Outbox => {
            commands::outbox(&open(home, transport)?);
            Ok(())
        }
        Command::Messages { contact } => {
            commands::messages(&open(home, transport)?, contact.as_deref())
        }
        Command::Backup(command) => run_backup(home, transport, command).await,
    }
}

/// `sync --watch`: until Ctrl-C, printing what happens.
async fn watch(engine: &mut quietwire_client::Engine) -> Result<()> {
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    engine
        .watch(stop, |notice| print::notice_line(&notice))
        .await?;
    eprintln!("stopped");
    Ok(())
}

fn suite(arg: SuiteArg) -> Suite {
    match arg {
        SuiteArg::Xwing => Suite::XWing,
        SuiteArg::X25519 => Suite::X25519,
    }
}

async fn run_backup(home: &Path, transport: WebSocket, command: BackupCommand) -> Result<()> {
    match command {
        BackupCommand::Export {
            file,
            passphrase,
            recovery_key: _,
            no_recovery_key,
        } => backup::export(&open(home, transport)?, &file, passphrase, no_recovery_key),
        BackupCommand::Import { file, relay } => {
            backup::import(home, transport, &file, relay.as_deref()).await
        }
        BackupCommand::Rekey {
            file,
            new_passphrase,
            new_recovery_key,
            drop_passphrase,
            drop_recovery_key,
        } => backup::rekey(
            &file,
            backup::RekeyOptions {
                new_passphrase,
                new_recovery_key,
                drop_passphrase,
                drop_recovery_key,
            },
        ),
        BackupCommand::Receive {
            relay,
            suite: arg,
            wait,
            no_qr,
        } => {
            let wait = std::time::Duration::from_secs(display::duration(&wait)?);
            backup::transfer::receive(home, transport, &relay, suite(arg), !no_qr, wait).await
        }
        BackupCommand::Send { code } => {
            backup::transfer::send(&open(home, transport)?, home, &code).await
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("quietwire-client: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    let _ = std::io::stdout().flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(fail) => {
            eprintln!("quietwire-client: {fail}");
            ExitCode::from(fail.code())
        }
    }
}
