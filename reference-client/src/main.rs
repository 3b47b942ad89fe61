//! `quietwire-client`: the reference command-line client of Quietwire.
//!
//! A thin driver around the sans-io crate `quietwire`: this binary owns the sockets, the
//! files, the clock and the randomness; every protocol decision is the library's. See
//! `reference-client/README.md` for the commands, and the spec chapters each module links:
//!
//! | module | what | spec |
//! |---|---|---|
//! | [`vault`] | the encrypted state file and its lock | (client-private) |
//! | [`state`] | identity, contacts, invites, outbox, inbox, history | `spec/03`, `04`, `07` §7.7, `09` |
//! | [`relay`] | one WebSocket connection to a relay | `spec/08-mailboxes-and-relay.md` §8.6 |
//! | [`engine`] | flushing the outbox, fetching and opening mailboxes | `spec/05`, `07`, `08`, `09` |
//! | [`commands`] | the commands | `spec/03`, `04`, `05`, `09` |
//! | [`watch`] | `sync --watch` | `spec/08` §8.6, `spec/09` |
//! | [`display`] | QR codes, times, durations | `spec/04` (encodings) |
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

mod app;
mod commands;
mod display;
mod engine;
mod error;
mod relay;
mod state;
mod sys;
mod vault;
mod watch;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use quietwire::suite::Suite;

use crate::app::Ctx;
use crate::error::{Fail, Result};
use crate::vault::Home;

/// Reference client of Quietwire: end-to-end encrypted messages through an untrusted relay.
#[derive(Debug, Parser)]
#[command(name = "quietwire-client", version, about)]
struct Cli {
    /// Directory of the identity's encrypted state [default: ~/.quietwire]. The passphrase
    /// comes from QUIETWIRE_PASSPHRASE or a prompt.
    #[arg(long, global = true, env = "QUIETWIRE_HOME", value_name = "DIR")]
    home: Option<PathBuf>,
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
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SuiteArg {
    /// Hybrid post-quantum X-Wing (X25519 + ML-KEM-768), the default.
    Xwing,
    /// Classical X25519.
    X25519,
}

fn home_dir(flag: Option<PathBuf>) -> Result<Home> {
    if let Some(dir) = flag {
        return Ok(Home::new(dir));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Fail::new("HOME is not set: pass --home DIR or set QUIETWIRE_HOME"))?;
    Ok(Home::new(PathBuf::from(home).join(".quietwire")))
}

async fn run(cli: Cli) -> Result<()> {
    let home = home_dir(cli.home)?;
    match cli.command {
        Command::Init { name, relay, suite } => {
            let suite = match suite {
                SuiteArg::Xwing => Suite::XWing,
                SuiteArg::X25519 => Suite::X25519,
            };
            commands::init(home, &name, &relay, suite)
        }
        Command::Whoami => {
            commands::whoami(&Ctx::open(home)?);
            Ok(())
        }
        Command::Invite {
            name,
            expires_in,
            no_qr,
        } => {
            let secs = display::duration(&expires_in)?;
            commands::invite(&mut Ctx::open(home)?, &name, secs, !no_qr)
        }
        Command::Accept { link, name } => {
            commands::accept(&mut Ctx::open(home)?, &link, &name).await
        }
        Command::Contacts => commands::contacts(&Ctx::open(home)?),
        Command::Verify { contact, code } => {
            commands::verify(&mut Ctx::open(home)?, &contact, code.as_deref())
        }
        Command::Send { contact, text } => {
            commands::send(&mut Ctx::open(home)?, &contact, &text).await
        }
        Command::Sync { watch: false } => commands::sync(&mut Ctx::open(home)?).await,
        Command::Sync { watch: true } => watch::watch(Ctx::open(home)?).await,
        Command::Outbox => {
            commands::outbox(&Ctx::open(home)?);
            Ok(())
        }
        Command::Messages { contact } => commands::messages(&Ctx::open(home)?, contact.as_deref()),
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
