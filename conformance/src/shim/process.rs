//! A shim child process: its stdin, its stdout lines through a channel (so that reading can
//! time out), the stderr lines not yet attached to a case, and the last lines of its stderr
//! for crash messages.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Stderr lines of the shim kept for crash messages.
const STDERR_TAIL: usize = 8;

/// Stderr lines held until the client attaches them to the current case; more are counted,
/// not kept (a shim that floods stderr cannot exhaust the runner's memory).
const STDERR_PENDING: usize = 200;

/// Stderr lines read but not yet taken, and how many were dropped past the bound.
#[derive(Debug, Default)]
struct Pending {
    lines: Vec<String>,
    dropped: usize,
}

/// A running shim process.
pub(super) struct Process {
    pub(super) child: Child,
    pub(super) stdin: Option<ChildStdin>,
    pub(super) lines: Receiver<String>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    pending: Arc<Mutex<Pending>>,
}

impl Process {
    pub(super) fn start(command: &str) -> Result<Process, String> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("exec {command}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start `{command}`: {e}"))?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            return Err(format!("cannot connect to `{command}`"));
        };
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let pending = Arc::new(Mutex::new(Pending::default()));
        let (sink, queue) = (Arc::clone(&tail), Arc::clone(&pending));
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut queue) = queue.lock() {
                    if queue.lines.len() < STDERR_PENDING {
                        queue.lines.push(line.clone());
                    } else {
                        queue.dropped += 1;
                    }
                }
                if let Ok(mut tail) = sink.lock() {
                    if tail.len() == STDERR_TAIL {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            }
        });
        Ok(Process {
            child,
            stdin: Some(stdin),
            lines,
            stderr: tail,
            pending,
        })
    }

    /// The stderr lines read since the last call, for the transcript of the current case
    /// (SHIM-01), with a note of any dropped past the bound.
    pub(super) fn take_stderr(&self) -> Vec<String> {
        let Ok(mut pending) = self.pending.lock() else {
            return Vec::new();
        };
        let mut out = std::mem::take(&mut pending.lines);
        if pending.dropped > 0 {
            out.push(format!("… {} more stderr lines not kept", pending.dropped));
            pending.dropped = 0;
        }
        out
    }

    pub(super) fn stderr_tail(&self) -> String {
        // Give the stderr reader a moment to catch the last lines of a dying process.
        std::thread::sleep(Duration::from_millis(50));
        self.stderr
            .lock()
            .map(|t| t.iter().cloned().collect::<Vec<_>>().join(" | "))
            .unwrap_or_default()
    }

    pub(super) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
