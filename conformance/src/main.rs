//! `quietwire-conformance`: runs the vectors against an implementation and prints a summary.
//!
//! ```text
//! cargo run -p quietwire-conformance                 # built-in implementation
//! cargo run -p quietwire-conformance -- --report-dir reports
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use quietwire_conformance::builtin::Builtin;
use quietwire_conformance::runner;

/// Runs the Quietwire test vectors against an implementation.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Directory holding the vector files.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../test-vectors/v1"))]
    vectors: PathBuf,
    /// Directory the reports (JSON, JUnit XML, Markdown) are written to.
    #[arg(long, default_value = "reports")]
    report_dir: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let report = match runner::run_all(&args.vectors, &mut Builtin::default()) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    print!("{}", report.summary());
    let written = std::fs::create_dir_all(&args.report_dir).and_then(|()| {
        let json = serde_json::to_string_pretty(&report).map_err(std::io::Error::other)?;
        std::fs::write(args.report_dir.join("vectors.json"), json + "\n")?;
        std::fs::write(args.report_dir.join("vectors.junit.xml"), report.junit())?;
        std::fs::write(args.report_dir.join("vectors.md"), report.markdown())?;
        Ok(())
    });
    match written {
        Ok(()) => println!(
            "reports: {dir}/vectors.json, {dir}/vectors.junit.xml, {dir}/vectors.md",
            dir = args.report_dir.display()
        ),
        Err(e) => eprintln!("warning: could not write the reports: {e}"),
    }
    if report.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
