//! `quietwire-conformance`: the conformance suite's command line.
//!
//! ```text
//! quietwire-conformance                      # the main job: vectors, interop and live relay
//! quietwire-conformance run --shim CMD [--config FILE] [--only PREFIX]... [--out DIR]
//! quietwire-conformance stale --config FILE
//! quietwire-conformance interop --a CMD --b CMD
//! quietwire-conformance relay --url ws://HOST:PORT [--strict] [--list] [--only RLY-05]
//! quietwire-conformance shim                 # serve the built-in implementation over stdio
//! ```
//!
//! Exit status: 0 when no case fails the run, 1 when one does, 2 when the suite could not
//! run (a missing vector file, a shim or relay that cannot be started).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use quietwire_conformance::builtin::Builtin;
use quietwire_conformance::config::{Config, Selection, Stale, vector_ids_and_classes};
use quietwire_conformance::implementation::Implementation;
use quietwire_conformance::report::{Part, Run};
use quietwire_conformance::shim::client::ShimClient;
use quietwire_conformance::shim::server::{Defects, serve};
use quietwire_conformance::{interop, relay_live, relay_process, runner};

/// The Quietwire conformance suite: tells an implementation or a relay, case by case, where
/// it diverges from the spec.
///
/// Without a subcommand it runs the main job: every vector file against the built-in
/// implementation, an interop run between the built-in implementation and the built-in shim
/// (the shim protocol end to end), and the live relay tester against reference relays it
/// starts on loopback; then it prints the summary and writes the reports.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    main: MainArgs,
}

#[derive(Debug, Args)]
struct Common {
    /// Directory holding the vector files.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../test-vectors/v1"))]
    vectors: PathBuf,
    /// Directory the reports are written to (index.json, report.html, summary.md, and per
    /// part JSON, JUnit XML and Markdown).
    #[arg(long, alias = "report-dir", default_value = "reports")]
    out: PathBuf,
    /// Per-implementation configuration: disabled cases, error map, optional features (TOML,
    /// or JSON for a .json file).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Run only the cases under PREFIX, matched by whole `/`-separated segments (repeatable):
    /// `cbor` (a family), `hpke/7` (one case), `RLY-05` (a relay rule), `ratchet/in-order`
    /// (both interop assignments of a script).
    #[arg(long = "only", value_name = "PREFIX")]
    only: Vec<String>,
    /// Seconds a shim or a relay may take to answer one request.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

#[derive(Debug, Args)]
struct MainArgs {
    #[command(flatten)]
    common: Common,
    /// Treat SHOULD-level relay cases that are not met (NON-STRICT) as failures.
    #[arg(long)]
    strict: bool,
    /// Test this relay instead of starting the reference relay (repeatable; the first one is
    /// the relay under test, scripts run on one announcing their limits).
    #[arg(long = "relay-url", value_name = "URL")]
    relay_urls: Vec<String>,
    /// PEM file of the certificates to trust for wss:// relay URLs (and no others).
    #[arg(long, value_name = "PATH")]
    ca: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every vector file through one implementation (the built-in one, or a shim).
    Run {
        #[command(flatten)]
        common: Common,
        /// The shim command (run with `sh -c`), e.g. "python3 conformance/python/shim.py";
        /// the built-in implementation if absent.
        #[arg(long)]
        shim: Option<String>,
        /// Accepted for symmetry with the other commands (vectors have no SHOULD cases).
        #[arg(long)]
        strict: bool,
    },
    /// List the configuration's disabled globs that match no case and error-map keys that no
    /// vector expects; exit 1 if there are any.
    Stale {
        /// The configuration to check.
        #[arg(long)]
        config: PathBuf,
        /// Directory holding the vector files.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../test-vectors/v1"))]
        vectors: PathBuf,
    },
    /// Two implementations play the two sides of the handshake and ratchet scripts; after
    /// every step both must agree with the expected bytes and state digests.
    Interop {
        #[command(flatten)]
        common: Common,
        /// Shim command of implementation A (`builtin`: the built-in one, in process).
        #[arg(long)]
        a: String,
        /// Shim command of implementation B (`builtin`: the built-in one, in process).
        #[arg(long)]
        b: String,
    },
    /// The live relay tester: cases keyed to spec/08 §8.6 against running relays.
    Relay {
        #[command(flatten)]
        common: Common,
        /// Relay URL (repeatable): ws://HOST:PORT or the WebSocket URL itself.
        #[arg(long = "url", value_name = "URL", required_unless_present = "list")]
        urls: Vec<String>,
        /// Turn NON-STRICT (a SHOULD not met) into FAIL.
        #[arg(long)]
        strict: bool,
        /// PEM file of the certificates to trust for wss:// URLs (and no others).
        #[arg(long, value_name = "PATH")]
        ca: Option<PathBuf>,
        /// Print every case with its requirement text, without connecting.
        #[arg(long)]
        list: bool,
    },
    /// Serve the built-in implementation over the shim protocol on stdin and stdout.
    Shim {
        /// Test fixture only: a deliberate defect (repeatable).
        #[arg(long = "break", value_name = "DEFECT", hide = true)]
        defects: Vec<String>,
    },
}

/// A failure to run at all (exit status 2).
struct SetupError(String);

impl From<String> for SetupError {
    fn from(s: String) -> SetupError {
        SetupError(s)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => main_job(&cli.main),
        Some(Command::Run {
            common,
            shim,
            strict: _,
        }) => run_vectors(&common, shim.as_deref()),
        Some(Command::Stale { config, vectors }) => stale(&config, &vectors),
        Some(Command::Interop { common, a, b }) => run_interop(&common, &a, &b),
        Some(Command::Relay {
            common,
            urls,
            strict,
            ca,
            list,
        }) => run_relay(&common, urls, strict, ca.as_deref(), list),
        Some(Command::Shim { defects }) => shim(defects),
    };
    match result {
        Ok(code) => code,
        Err(SetupError(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn load_config(common: &Common) -> Result<Config, SetupError> {
    match &common.config {
        Some(path) => Ok(Config::load(path)?),
        None => Ok(Config::default()),
    }
}

fn selection(common: &Common, config: &Config) -> Selection {
    Selection {
        only: common.only.clone(),
        config: config.clone(),
    }
}

/// Features the configuration declares optional, with their reasons.
fn config_optional(config: &Config) -> BTreeMap<String, String> {
    config
        .optional
        .iter()
        .map(|(f, why)| (f.clone(), format!("configuration: {why}")))
        .collect()
}

/// Writes the reports, prints the summary, and gives the exit status.
fn finish(run: &Run, out: &Path) -> ExitCode {
    print!("{}", run.summary(Some(out), 40));
    if let Err(e) = run.write(out) {
        eprintln!(
            "warning: could not write the reports to {}: {e}",
            out.display()
        );
    }
    if run.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// An implementation named on the command line: `builtin`, or a shim command.
fn implementation(
    command: &str,
    config: &Config,
    timeout: Duration,
) -> Result<Box<dyn Implementation>, SetupError> {
    if command == "builtin" {
        return Ok(Box::new(Builtin::default()));
    }
    let mut shim = ShimClient::spawn(command, timeout)?;
    shim.set_error_map(&config.error_map);
    Ok(Box::new(shim))
}

/// This executable serving the built-in shim, as a shell command.
fn builtin_shim_command() -> Result<String, SetupError> {
    let mut exe =
        std::env::current_exe().map_err(|e| format!("cannot locate this executable: {e}"))?;
    // Linux names an executable replaced by a rebuild "PATH (deleted)"; use the new one.
    if let Some(path) = exe.to_str().and_then(|p| p.strip_suffix(" (deleted)")) {
        exe = PathBuf::from(path);
    }
    let quoted = format!("'{}'", exe.display().to_string().replace('\'', "'\\''"));
    Ok(format!("{quoted} shim"))
}

fn shim_optional(shim: &ShimClient) -> BTreeMap<String, String> {
    shim.capabilities()
        .optional
        .iter()
        .map(|f| (f.clone(), "declared optional by the shim".to_owned()))
        .collect()
}

fn run_vectors(common: &Common, shim: Option<&str>) -> Result<ExitCode, SetupError> {
    let config = load_config(common)?;
    let selection = selection(common, &config);
    let timeout = Duration::from_secs(common.timeout);
    let mut optional = config_optional(&config);
    let report = match shim {
        None => runner::run_selected(&common.vectors, &mut Builtin::default(), &selection)?,
        Some(command) => {
            let mut client = ShimClient::spawn(command, timeout)?;
            client.set_error_map(&config.error_map);
            optional.extend(shim_optional(&client));
            let report = runner::run_selected(&common.vectors, &mut client, &selection)?;
            if client.restarts() > 0 {
                eprintln!(
                    "note: the shim crashed, hung or broke the protocol and was started again {} time(s); see the failed cases",
                    client.restarts()
                );
            }
            report
        }
    };
    let mut part = Part::new("vectors", "Test vectors", report);
    part.optional = optional;
    Ok(finish(&Run { parts: vec![part] }, &common.out))
}

fn stale(config: &Path, vectors: &Path) -> Result<ExitCode, SetupError> {
    let config = Config::load(config)?;
    let (mut ids, classes) = vector_ids_and_classes(vectors)?;
    ids.extend(interop::case_ids(vectors)?);
    ids.extend(relay_live::cases(vectors)?.into_iter().map(|c| c.id));
    ids.extend(runner::harness_case_ids());
    let stale = Stale::find(&config, &ids, &classes);
    for glob in &stale.disabled {
        println!("stale: [disabled] \"{glob}\" matches no case");
    }
    for class in &stale.error_map {
        println!("stale: [errorMap] \"{class}\" is not an error class any vector expects");
    }
    if stale.is_empty() {
        println!(
            "no stale entries ({} disabled, {} in the error map, checked against {} cases)",
            config.disabled.len(),
            config.error_map.len(),
            ids.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}

fn run_interop(common: &Common, a: &str, b: &str) -> Result<ExitCode, SetupError> {
    let config = load_config(common)?;
    let timeout = Duration::from_secs(common.timeout);
    let mut ia = implementation(a, &config, timeout)?;
    let mut ib = implementation(b, &config, timeout)?;
    let report = interop::run(
        &common.vectors,
        ia.as_mut(),
        ib.as_mut(),
        &selection(common, &config),
    )?;
    let mut part = Part::new("interop", "Interop: scripted conversations", report);
    part.optional = config_optional(&config);
    Ok(finish(&Run { parts: vec![part] }, &common.out))
}

/// The certificates of the PEM file `ca`, if given.
fn trusted(
    ca: Option<&std::path::Path>,
) -> Result<Vec<rustls_pki_types::CertificateDer<'static>>, SetupError> {
    use rustls_pki_types::pem::PemObject;
    let Some(path) = ca else {
        return Ok(Vec::new());
    };
    rustls_pki_types::CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| SetupError(format!("--ca {}: {e}", path.display())))
}

fn run_relay(
    common: &Common,
    urls: Vec<String>,
    strict: bool,
    ca: Option<&std::path::Path>,
    list: bool,
) -> Result<ExitCode, SetupError> {
    let config = load_config(common)?;
    let selection = selection(common, &config);
    if list {
        print!("{}", relay_live::list(&common.vectors, &selection)?);
        return Ok(ExitCode::SUCCESS);
    }
    let report = relay_live::run(
        &common.vectors,
        relay_live::Options {
            urls,
            strict,
            selection,
            timeout: Duration::from_secs(common.timeout.min(30)),
            restart: None,
            trust: trusted(ca)?,
        },
    )?;
    let mut part = Part::new("relay", "Live relay tester (spec/08 §8.6)", report);
    part.optional = config_optional(&config);
    Ok(finish(&Run { parts: vec![part] }, &common.out))
}

fn shim(defects: Vec<String>) -> Result<ExitCode, SetupError> {
    let defects = Defects::new(defects)?;
    serve(
        &mut Builtin::default(),
        std::io::stdin().lock(),
        std::io::stdout().lock(),
        &defects,
    )
    .map_err(|e| SetupError(format!("stdio: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

/// The main job.
fn main_job(args: &MainArgs) -> Result<ExitCode, SetupError> {
    let common = &args.common;
    let config = load_config(common)?;
    let selection = selection(common, &config);
    let timeout = Duration::from_secs(common.timeout);
    let mut parts = Vec::new();

    eprintln!(
        "vectors: every file of {} against the built-in implementation",
        common.vectors.display()
    );
    let report = runner::run_selected(&common.vectors, &mut Builtin::default(), &selection)?;
    let mut part = Part::new("vectors", "Test vectors", report);
    part.optional = config_optional(&config);
    parts.push(part);

    eprintln!(
        "interop: the built-in implementation (A) against the built-in shim over the shim protocol (B)"
    );
    let mut shim = ShimClient::spawn(&builtin_shim_command()?, timeout)?;
    let report = interop::run(
        &common.vectors,
        &mut Builtin::default(),
        &mut shim,
        &selection,
    )?;
    drop(shim);
    let mut part = Part::new("interop", "Interop: scripted conversations", report);
    part.optional = config_optional(&config);
    parts.push(part);

    let relay_timeout = Duration::from_secs(common.timeout.min(30));
    let report = if args.relay_urls.is_empty() {
        let binary = relay_process::relay_binary()?;
        // The reference relays serve wss:// with a certificate made now; the tester trusts
        // exactly that one.
        let certificate = relay_process::TestCertificate::new()?;
        let mut relays = Vec::new();
        for limits in relay_live::script_limits(&common.vectors)? {
            let mut flags = if limits == quietwire::relay::Limits::DEFAULT {
                Vec::new()
            } else {
                relay_process::limit_flags(&limits)
            };
            flags.extend(certificate.flags());
            relays.push(relay_process::RelayProcess::start(&binary, flags)?);
        }
        let urls: Vec<String> = relays
            .iter()
            .map(relay_process::RelayProcess::url)
            .collect();
        eprintln!(
            "relay: the reference relay ({}) on {}",
            binary.display(),
            urls.join(", ")
        );
        let mut primary = relays.into_iter();
        let mut first = primary.next();
        let rest: Vec<_> = primary.collect();
        let report = relay_live::run(
            &common.vectors,
            relay_live::Options {
                urls,
                strict: args.strict,
                selection,
                timeout: relay_timeout,
                restart: first.as_mut().map(|r| r as &mut dyn relay_live::Restart),
                trust: vec![certificate.der.clone()],
            },
        )?;
        drop(rest);
        drop(first);
        report
    } else {
        eprintln!("relay: {}", args.relay_urls.join(", "));
        relay_live::run(
            &common.vectors,
            relay_live::Options {
                urls: args.relay_urls.clone(),
                strict: args.strict,
                selection,
                timeout: relay_timeout,
                restart: None,
                trust: trusted(args.ca.as_deref())?,
            },
        )?
    };
    let mut part = Part::new("relay", "Live relay tester (spec/08 §8.6)", report);
    part.optional = config_optional(&config);
    parts.push(part);
    Ok(finish(&Run { parts }, &common.out))
}
