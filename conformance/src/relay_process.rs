//! Starts the reference relay (`quietwire-relay`, crate `reference-relay/`) on loopback for
//! the main job and the tests, and stops it when dropped.
//!
//! `cargo run -p quietwire-conformance` does not build the relay, so [`relay_binary`] builds
//! it with `cargo build -p quietwire-relay` (same profile as this binary; a no-op when it is
//! up to date) when cargo is at hand, and otherwise uses `quietwire-relay` from the directory
//! of this executable.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use quietwire::relay::Limits;

use crate::relay_live::Restart;

/// How long the relay may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The workspace this binary was built from.
fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The directory of the current executable's profile (`target/debug` for the binary,
/// `target/debug` also for a test executable in `target/debug/deps`).
fn profile_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().map(Path::to_path_buf)
    } else {
        Some(dir.to_path_buf())
    }
}

/// The path of the `quietwire-relay` binary, built first if cargo and the workspace are at
/// hand. Progress goes to stderr.
///
/// # Errors
/// If the binary is missing and cannot be built.
pub fn relay_binary() -> Result<PathBuf, String> {
    let dir = profile_dir().ok_or("cannot locate this executable")?;
    let binary = dir.join(format!("quietwire-relay{}", std::env::consts::EXE_SUFFIX));
    let manifest = workspace().join("Cargo.toml");
    if manifest.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let release = dir.file_name().is_some_and(|n| n == "release");
        eprintln!(
            "building the reference relay: cargo build -p quietwire-relay{}",
            if release { " --release" } else { "" }
        );
        let mut command = Command::new(&cargo);
        command
            .args([
                "build",
                "--quiet",
                "-p",
                "quietwire-relay",
                "--manifest-path",
            ])
            .arg(&manifest);
        if release {
            command.arg("--release");
        }
        if let Some(target) = dir.parent() {
            command.env("CARGO_TARGET_DIR", target);
        }
        match command.status() {
            Ok(status) if status.success() => {}
            Ok(status) if binary.exists() => {
                eprintln!(
                    "warning: building the relay failed ({status}); using {}",
                    binary.display()
                );
            }
            Ok(status) => return Err(format!("cargo build -p quietwire-relay failed: {status}")),
            Err(e) if binary.exists() => {
                eprintln!(
                    "warning: cannot run cargo ({e}); using {}",
                    binary.display()
                );
            }
            Err(e) => return Err(format!("cannot run cargo to build the relay: {e}")),
        }
    }
    if binary.exists() {
        Ok(binary)
    } else {
        Err(format!("{} does not exist", binary.display()))
    }
}

/// The flags of the reference relay that announce `limits`.
pub fn limit_flags(limits: &Limits) -> Vec<String> {
    [
        ("--max-frame", limits.max_frame),
        ("--max-envelope", limits.max_envelope),
        ("--max-attachment", limits.max_attachment),
        ("--max-items", limits.max_items),
        ("--max-ttl", limits.max_ttl),
        ("--max-fetch", limits.max_fetch),
        ("--max-delete", limits.max_delete),
        ("--rate", limits.rate),
        ("--burst", limits.burst),
        ("--max-subscriptions", limits.max_subscriptions),
    ]
    .into_iter()
    .flat_map(|(flag, value)| [flag.to_owned(), value.to_string()])
    .collect()
}

/// A reference relay running on loopback with a data file in a temporary directory.
pub struct RelayProcess {
    binary: PathBuf,
    args: Vec<String>,
    data: tempfile::TempDir,
    child: Option<Child>,
    address: String,
}

impl std::fmt::Debug for RelayProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayProcess")
            .field("binary", &self.binary)
            .field("args", &self.args)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl RelayProcess {
    /// Starts `binary` on `127.0.0.1:0` with `args` (limit flags) and waits for its address.
    ///
    /// # Errors
    /// If it cannot start or does not print `listening on ADDR` in time.
    pub fn start(binary: &Path, args: Vec<String>) -> Result<RelayProcess, String> {
        let data = tempfile::Builder::new()
            .prefix("quietwire-conformance-relay")
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?;
        let mut relay = RelayProcess {
            binary: binary.to_path_buf(),
            args,
            data,
            child: None,
            address: String::new(),
        };
        relay.spawn()?;
        Ok(relay)
    }

    fn spawn(&mut self) -> Result<(), String> {
        let mut command = Command::new(&self.binary);
        command
            .args(["--listen", "127.0.0.1:0", "--log", "quiet", "--data"])
            .arg(self.data.path().join("relay.redb"))
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("QUIETWIRE_RELAY_") {
                command.env_remove(key);
            }
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))?;
        let (tx, rx) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let _ = tx.send(Ok(line));
                }
            });
        }
        if let Some(stderr) = child.stderr.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let _ = tx.send(Err(line));
                }
            });
        }
        let mut stderr = Vec::new();
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(Ok(line)) => {
                    if let Some(address) = line.strip_prefix("listening on ") {
                        self.address = address.trim().to_owned();
                        self.child = Some(child);
                        return Ok(());
                    }
                }
                Ok(Err(line)) => stderr.push(line),
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                    return Err(format!(
                        "{} did not print `listening on ADDR` ({status}); stderr: {}",
                        self.binary.display(),
                        stderr.join(" | ")
                    ));
                }
            }
        }
    }

    /// The relay's base URL: `wss://127.0.0.1:PORT` if it serves TLS (`--tls-cert`),
    /// `ws://127.0.0.1:PORT` otherwise.
    pub fn url(&self) -> String {
        let scheme = if self.args.iter().any(|a| a == "--tls-cert") {
            "wss"
        } else {
            "ws"
        };
        format!("{scheme}://{}", self.address)
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A certificate for `127.0.0.1` and `localhost` made at run time, for the reference relays
/// the main job starts, with its key; the tester trusts exactly this certificate.
pub struct TestCertificate {
    dir: tempfile::TempDir,
    /// The certificate, to trust.
    pub der: rustls_pki_types::CertificateDer<'static>,
}

impl std::fmt::Debug for TestCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCertificate").finish_non_exhaustive()
    }
}

impl TestCertificate {
    /// Makes a self-signed certificate and writes it and its key (PEM) to a temporary
    /// directory.
    ///
    /// # Errors
    /// If the certificate cannot be made or written.
    pub fn new() -> Result<TestCertificate, String> {
        let made = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ])
        .map_err(|e| format!("test certificate: {e}"))?;
        let dir = tempfile::Builder::new()
            .prefix("quietwire-conformance-tls")
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?;
        std::fs::write(dir.path().join("cert.pem"), made.cert.pem())
            .map_err(|e| format!("test certificate: {e}"))?;
        std::fs::write(dir.path().join("key.pem"), made.signing_key.serialize_pem())
            .map_err(|e| format!("test certificate key: {e}"))?;
        Ok(TestCertificate {
            dir,
            der: made.cert.der().clone(),
        })
    }

    /// The relay flags that serve it: `--tls-cert PATH --tls-key PATH`.
    pub fn flags(&self) -> Vec<String> {
        vec![
            "--tls-cert".to_owned(),
            self.dir.path().join("cert.pem").display().to_string(),
            "--tls-key".to_owned(),
            self.dir.path().join("key.pem").display().to_string(),
        ]
    }
}

impl Restart for RelayProcess {
    fn restart(&mut self) -> Result<String, String> {
        // SIGKILL: no chance to flush anything that was not durable already.
        self.stop();
        self.spawn()?;
        Ok(self.url())
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
