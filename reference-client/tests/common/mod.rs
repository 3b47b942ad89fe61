//! Test harness: the real relay binary and real client processes on loopback, every wait
//! bounded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long one client command may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the relay may take to say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(30);

static BUILD: Mutex<()> = Mutex::new(());

/// The relay binary, built with `cargo build -p quietwire-relay` if it is not there yet.
pub fn relay_binary() -> PathBuf {
    // Next to this test's profile directory (`target/debug` for `target/debug/deps/backup-…`),
    // wherever the target directory is (`CARGO_TARGET_DIR` included).
    let profile = std::env::current_exe()
        .expect("the test executable's path")
        .parent()
        .and_then(Path::parent)
        .expect("the profile directory")
        .to_path_buf();
    let path = profile.join(format!("quietwire-relay{}", std::env::consts::EXE_SUFFIX));
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut child = Command::new(cargo)
            .args(["build", "-p", "quietwire-relay"])
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
            .spawn()
            .expect("run cargo build -p quietwire-relay");
        let status = wait_bounded(&mut child, Duration::from_secs(600))
            .expect("cargo build -p quietwire-relay timed out");
        assert!(status.success(), "cargo build -p quietwire-relay failed");
    }
    assert!(path.exists(), "no relay binary at {}", path.display());
    path
}

fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running relay process; killed on drop.
pub struct Relay {
    child: Child,
    pub addr: SocketAddr,
    data: PathBuf,
}

impl Relay {
    /// Starts a relay on `listen` (e.g. `127.0.0.1:0`) with its data in `data`.
    pub fn start(data: &Path, listen: &str) -> Relay {
        Relay::start_with(data, listen, &[])
    }

    /// Starts a relay with extra options (limits such as `--max-attachment`).
    pub fn start_with(data: &Path, listen: &str, extra: &[&str]) -> Relay {
        let mut child = Command::new(relay_binary())
            .args(["--listen", listen, "--data"])
            .arg(data)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the relay");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep draining so the relay never blocks on a full pipe.
            for _ in lines {}
        });
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("the relay did not print its address in time");
            }
        };
        let addr = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first relay line {line:?}"))
            .trim()
            .parse()
            .unwrap();
        Relay {
            child,
            addr,
            data: data.to_path_buf(),
        }
    }

    /// The URL clients use.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The URL of a relay started with `--tls-cert` and `--tls-key`.
    pub fn tls_url(&self) -> String {
        format!("wss://{}", self.addr)
    }

    /// SIGKILL, as a crash (no shutdown path runs).
    pub fn kill(mut self) -> (SocketAddr, PathBuf) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        (self.addr, self.data.clone())
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a client command printed and how it ended.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Asserts success and returns stdout.
    pub fn ok(self) -> String {
        assert_eq!(self.code, 0, "command failed: {self:?}");
        self.stdout
    }
}

/// One client identity in its own home directory.
pub struct Client {
    pub home: PathBuf,
    pub passphrase: String,
    /// Environment variables set for every command (e.g. `QUIETWIRE_CA_CERT`).
    pub env: Vec<(String, String)>,
}

impl Client {
    pub fn new(root: &Path, name: &str) -> Client {
        Client {
            home: root.join(name),
            passphrase: format!("passphrase of {name}"),
            env: Vec::new(),
        }
    }

    /// Runs the client with `args`, bounded by a timeout.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &self.passphrase)
    }

    pub fn run_with(&self, args: &[&str], passphrase: &str) -> Output {
        self.run_env(args, passphrase, &[])
    }

    /// Runs the client with `args` and extra environment variables.
    pub fn run_env(&self, args: &[&str], passphrase: &str, env: &[(&str, &str)]) -> Output {
        let mut command = self.command(args, passphrase);
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start the client");
        let out = reader(child.stdout.take().unwrap());
        let err = reader(child.stderr.take().unwrap());
        let status = wait_bounded(&mut child, COMMAND_TIMEOUT)
            .unwrap_or_else(|| panic!("quietwire-client {args:?} timed out"));
        Output {
            code: status.code().unwrap_or(-1),
            stdout: out.recv_timeout(COMMAND_TIMEOUT).unwrap(),
            stderr: err.recv_timeout(COMMAND_TIMEOUT).unwrap(),
        }
    }

    /// A command for this client (for long-running processes such as `sync --watch`).
    pub fn command(&self, args: &[&str], passphrase: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_quietwire-client"));
        command
            .arg("--home")
            .arg(&self.home)
            .args(args)
            .env("QUIETWIRE_PASSPHRASE", passphrase)
            .env_remove("QUIETWIRE_HOME")
            .env_remove("QUIETWIRE_RECOVERY_KEY")
            .env_remove("QUIETWIRE_BACKUP_PASSPHRASE")
            .env_remove("QUIETWIRE_BACKUP_NEW_PASSPHRASE")
            .env_remove("QUIETWIRE_CA_CERT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    pub fn init(&self, name: &str, relay: &str, extra: &[&str]) {
        let mut args = vec!["init", "--name", name, "--relay", relay];
        args.extend_from_slice(extra);
        self.run(&args).ok();
    }

    /// `invite --no-qr`: returns the link (the last stdout line).
    pub fn invite(&self, contact: &str) -> String {
        let out = self.run(&["invite", "--name", contact, "--no-qr"]).ok();
        let link = out.lines().last().unwrap().to_owned();
        assert!(link.starts_with("quietwire:invite#i1."), "{link}");
        link
    }

    /// The outbox lines.
    pub fn outbox(&self) -> Vec<String> {
        self.run(&["outbox"])
            .ok()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

fn reader<R: std::io::Read + Send + 'static>(mut pipe: R) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    rx
}

/// Polls `check` until it returns `Some`, failing after `timeout`.
pub fn eventually<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Makes `inviter` and `acceptor` contacts: invite, accept, the inviter's sync.
pub fn connect(inviter: &Client, inviter_name: &str, acceptor: &Client, acceptor_name: &str) {
    let link = inviter.invite(acceptor_name);
    let out = acceptor
        .run(&["accept", &link, "--name", inviter_name])
        .ok();
    assert!(out.contains("handshake queued at the relay"), "{out}");
    let out = inviter.run(&["sync"]).ok();
    assert!(
        out.contains(&format!("{acceptor_name} accepted your invite")),
        "{out}"
    );
}

/// The bootstrap mailbox id named by an invite link.
pub fn invite_mailbox(link: &str) -> [u8; 32] {
    let now = quietwire::UnixTime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    );
    let signed =
        quietwire::invite::SignedInvite::from_link(link, now, &quietwire::suite::SuitePolicy::ALL)
            .unwrap();
    *signed.invite().mailbox()
}

/// Puts `count` well-formed envelopes with random blobs of the smallest bucket into `mailbox`
/// through the relay at `url`, as anyone who knows the mailbox id can; each must be stored.
pub fn put_junk(url: &str, mailbox: [u8; 32], count: usize) {
    use futures_util::{SinkExt as _, StreamExt as _};
    use quietwire::relay::{Limits, Reply, Request, RequestFrame, ServerFrame};
    use tokio_tungstenite::tungstenite::Message;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let endpoint = format!("{url}/v1/ws");
        let (mut ws, _) = tokio::time::timeout(
            COMMAND_TIMEOUT,
            tokio_tungstenite::connect_async(endpoint.as_str()),
        )
        .await
        .expect("connecting to the relay timed out")
        .expect("connect to the relay");
        let welcome = tokio::time::timeout(COMMAND_TIMEOUT, ws.next())
            .await
            .expect("no welcome from the relay in time")
            .expect("the relay closed")
            .expect("a frame");
        let Message::Binary(data) = welcome else {
            panic!("unexpected first frame {welcome:?}");
        };
        assert!(matches!(
            ServerFrame::decode(&data, Limits::DEFAULT.max_frame.into()).unwrap(),
            ServerFrame::Welcome { .. }
        ));
        for i in 0..count {
            let mut blob = vec![0u8; quietwire::envelope::MIN_BUCKET];
            getrandom::fill(&mut blob).unwrap();
            let envelope = quietwire::envelope::Envelope::new(mailbox, blob)
                .unwrap()
                .to_bytes();
            let mut item = [0u8; 16];
            getrandom::fill(&mut item).unwrap();
            let id = u32::try_from(i + 1).unwrap();
            let frame = RequestFrame {
                id,
                request: Request::Put {
                    mailbox,
                    item,
                    envelope,
                    ttl: 3600,
                },
            }
            .encode();
            ws.send(Message::binary(frame)).await.unwrap();
            loop {
                let message = tokio::time::timeout(COMMAND_TIMEOUT, ws.next())
                    .await
                    .expect("no reply from the relay in time")
                    .expect("the relay closed")
                    .expect("a frame");
                let Message::Binary(data) = message else {
                    continue;
                };
                match ServerFrame::decode(&data, Limits::DEFAULT.max_frame.into()).unwrap() {
                    ServerFrame::Ok {
                        id: got,
                        reply: Reply::Stored,
                    } if got == id => break,
                    other => panic!("junk put {i} not stored: {other:?}"),
                }
            }
        }
        let _ = ws.close(None).await;
    });
}

/// A client process that asks questions: its standard input is a pipe, its output lines are
/// read as they come.
pub struct Interactive {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    errors: Option<std::thread::JoinHandle<String>>,
}

impl Interactive {
    /// Starts `client` with `args` (and its passphrase).
    pub fn start(client: &Client, args: &[&str]) -> Interactive {
        let mut child = client
            .command(args, &client.passphrase)
            .stdin(Stdio::piped())
            .spawn()
            .expect("start the client");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = child.stderr.take().unwrap();
        let errors =
            std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
        Interactive {
            child,
            stdin,
            lines,
            seen: Vec::new(),
            errors: Some(errors),
        }
    }

    /// The next line of standard output that starts with `prefix` (within 60 seconds).
    pub fn line_starting(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(_) => panic!("no line starting with {prefix:?}; saw {:?}", self.seen),
            }
        }
    }

    /// Writes `answer` and a newline to standard input.
    pub fn answer(&mut self, answer: &str) {
        use std::io::Write as _;
        let stdin = self.stdin.as_mut().expect("standard input still open");
        writeln!(stdin, "{answer}").unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for the process to end: its exit code, every line of standard output, and the
    /// whole standard error.
    pub fn finish(mut self) -> Output {
        drop(self.stdin.take());
        let status = wait_bounded(&mut self.child, COMMAND_TIMEOUT)
            .unwrap_or_else(|| panic!("the client did not finish; saw {:?}", self.seen));
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        let stderr = self
            .errors
            .take()
            .map(|e| e.join().unwrap())
            .unwrap_or_default();
        Output {
            code: status.code().unwrap_or(-1),
            stdout: self.seen.join("\n"),
            stderr,
        }
    }
}
