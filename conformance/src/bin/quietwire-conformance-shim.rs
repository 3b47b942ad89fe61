//! `quietwire-conformance-shim`: the built-in shim. Serves the `quietwire` crate over the
//! shim protocol (`spec/16-conformance-shim.md`) on stdin and stdout, so that the protocol
//! itself is exercised by the suite and CI.
//!
//! ```text
//! quietwire-conformance run --shim target/debug/quietwire-conformance-shim
//! ```
//!
//! `--break NAME` (repeatable, hidden) turns it into a deliberately broken test fixture; see
//! `quietwire_conformance::shim::server::Defects`.

use std::process::ExitCode;

use clap::Parser;
use quietwire_conformance::builtin::Builtin;
use quietwire_conformance::shim::server::{Defects, serve};

/// Serves the built-in implementation over the shim protocol on stdin and stdout.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Test fixture only: a deliberate defect (repeatable).
    #[arg(long = "break", value_name = "DEFECT", hide = true)]
    defects: Vec<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let defects = match Defects::new(args.defects) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match serve(
        &mut Builtin::default(),
        std::io::stdin().lock(),
        std::io::stdout().lock(),
        &defects,
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
