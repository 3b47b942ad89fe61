//! The runner's side of the shim protocol: [`ShimClient`] drives a shim process.
//!
//! Every request waits at most the client's timeout for its reply. A shim that exits, stays
//! silent, writes anything but a reply line, answers another id, or leaves out a value field
//! fails the operation with a `shim.*` class whose text says exactly what happened (a case
//! never passes because the shim did not answer); the process is then killed and a fresh one
//! started for the next operation. Every exchange is logged in the [`Transcript`], which the
//! runner keeps for the cases that did not pass.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use serde_json::{Value, json};

use super::process::Process;
use super::{Capabilities, PROTOCOL_VERSION, value_fields};
use crate::implementation::{Failure, Implementation, OpResult, Transcript, malformed};
use digests::Digests;

/// The default time a shim has to answer one request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// An implementation under test behind the shim protocol.
pub struct ShimClient {
    command: String,
    process: Option<Process>,
    next_id: u64,
    timeout: Duration,
    capabilities: Capabilities,
    log: Transcript,
    /// Reported class → vector class (the inverse of the configuration's error map).
    unmap: BTreeMap<String, String>,
    /// The last `snapshotDigest` each ratchet handle reported.
    digests: Digests,
    /// How many times the shim had to be started again.
    restarts: usize,
}

impl std::fmt::Debug for ShimClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShimClient")
            .field("command", &self.command)
            .field("capabilities", &self.capabilities)
            .field("restarts", &self.restarts)
            .finish_non_exhaustive()
    }
}

impl ShimClient {
    /// Starts `command` (run by `sh -c`) and asks for its capabilities.
    ///
    /// # Errors
    /// If the shim cannot be started, does not answer `capabilities` within `timeout`, or
    /// answers it with something other than valid capabilities for protocol version 1.
    pub fn spawn(command: &str, timeout: Duration) -> Result<ShimClient, String> {
        let mut client = ShimClient {
            command: command.to_owned(),
            process: None,
            next_id: 0,
            timeout,
            capabilities: Capabilities::default(),
            log: Transcript::default(),
            unmap: BTreeMap::new(),
            digests: Digests::default(),
            restarts: 0,
        };
        let value = client
            .request("capabilities", json!({}))
            .map_err(|f| format!("shim `{command}`: capabilities: {}", describe(&f)))?;
        let caps: Capabilities = serde_json::from_value(value)
            .map_err(|e| format!("shim `{command}`: capabilities: {e}"))?;
        if caps.protocol != PROTOCOL_VERSION {
            return Err(format!(
                "shim `{command}` speaks protocol {}, this runner {PROTOCOL_VERSION}",
                caps.protocol
            ));
        }
        client.capabilities = caps;
        client.log.borrow_mut().clear();
        Ok(client)
    }

    /// What the shim declared.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// How many times the shim crashed, hung or broke the protocol and was started again.
    pub fn restarts(&self) -> usize {
        self.restarts
    }

    /// Translates the classes of `error_map` (vector class → reported class) back to the
    /// vectors' classes.
    pub fn set_error_map(&mut self, error_map: &BTreeMap<String, String>) {
        self.unmap = error_map
            .iter()
            .map(|(expected, reported)| (reported.clone(), expected.clone()))
            .collect();
    }

    fn log(&self, mut line: String) {
        // Reports keep only the start of a line; a multi-megabyte request need not be copied.
        if line.len() > 4 * crate::report::TRANSCRIPT_LINE_CHARS {
            let mut cut = 4 * crate::report::TRANSCRIPT_LINE_CHARS;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            let total = line.len();
            line.truncate(cut);
            line.push_str(&format!("… ({total} bytes)"));
        }
        self.log.borrow_mut().push(line);
    }

    /// Logs the shim's stderr lines read so far, so that a case's transcript holds what the
    /// shim wrote while the case ran (SHIM-01).
    fn attach_stderr(&self) {
        if let Some(p) = &self.process {
            for line in p.take_stderr() {
                self.log(format!("stderr: {line}"));
            }
        }
    }

    /// A failure of the shim itself (not of the implementation): the process is stopped and
    /// the next request starts a new one.
    fn broken(&mut self, what: String) -> Failure {
        if let Some(p) = self.process.take() {
            p.kill();
        }
        self.log(format!("!! {what}"));
        Failure::Error { class: what }
    }

    /// Sends one request and waits for its reply; returns the `value` of an `ok` reply.
    fn request(&mut self, op: &str, args: Value) -> OpResult<Value> {
        if self.process.is_none() {
            if self.next_id > 0 {
                self.restarts += 1;
                self.log(format!("!! starting the shim again: {}", self.command));
            }
            let process = Process::start(&self.command).map_err(|e| Failure::Error {
                class: format!("shim.start: {e}"),
            })?;
            self.process = Some(process);
        }
        self.attach_stderr();
        self.next_id += 1;
        let id = self.next_id;
        let line = json!({"id": id, "op": op, "args": args}).to_string();
        self.log(format!("-> {line}"));
        let written = match self.process.as_mut() {
            Some(Process {
                stdin: Some(stdin), ..
            }) => writeln!(stdin, "{line}").and_then(|()| stdin.flush()),
            _ => Ok(()),
        };
        if let Err(e) = written {
            let tail = self.process.as_ref().map(Process::stderr_tail);
            return Err(self.broken(format!(
                "shim.crashed: cannot send request {id} ({op}): {e}; stderr: {}",
                tail.unwrap_or_default()
            )));
        }
        let received = match self.process.as_ref() {
            Some(p) => p.lines.recv_timeout(self.timeout),
            None => Err(RecvTimeoutError::Disconnected),
        };
        let reply = match received {
            Ok(reply) => reply,
            Err(RecvTimeoutError::Timeout) => {
                return Err(self.broken(format!(
                    "shim.timeout: no reply to request {id} ({op}) within {} s",
                    self.timeout.as_secs_f32()
                )));
            }
            Err(RecvTimeoutError::Disconnected) => {
                let (status, tail) = match self.process.as_mut() {
                    Some(p) => (
                        p.child
                            .wait()
                            .map_or_else(|e| e.to_string(), |s| s.to_string()),
                        p.stderr_tail(),
                    ),
                    None => (String::new(), String::new()),
                };
                return Err(self.broken(format!(
                    "shim.crashed: the shim closed its output ({status}) before answering request {id} ({op}); stderr: {tail}"
                )));
            }
        };
        self.log(format!("<- {reply}"));
        self.attach_stderr();
        let parsed: Value = match serde_json::from_str(&reply) {
            Ok(v) => v,
            Err(e) => {
                return Err(self.broken(format!(
                    "shim.protocol: the reply to request {id} ({op}) is not JSON ({e}): shims write nothing but replies on stdout"
                )));
            }
        };
        if parsed.get("id").and_then(Value::as_u64) != Some(id) {
            return Err(self.broken(format!(
                "shim.protocol: a reply with id {} while waiting for request {id} ({op})",
                parsed.get("id").unwrap_or(&Value::Null)
            )));
        }
        let text = |key: &str| parsed.get(key).and_then(Value::as_str).map(str::to_owned);
        match text("result").as_deref() {
            Some("ok") => match parsed.get("value") {
                Some(Value::Object(map)) => {
                    let allowed = value_fields(op).unwrap_or_default();
                    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
                        Some(extra) => {
                            let what = format!(
                                "shim.protocol: the value of {op} has a field `{extra}` that Table 16-1 does not define"
                            );
                            self.log(format!("!! {what}"));
                            Err(Failure::Error { class: what })
                        }
                        None => Ok(Value::Object(map.clone())),
                    }
                }
                Some(Value::Null) => Ok(Value::Null),
                _ => Err(self.broken(format!(
                    "shim.protocol: the ok reply to request {id} ({op}) has no object `value`"
                ))),
            },
            Some("error") => match text("class").filter(|c| !c.is_empty()) {
                Some(class) => Err(Failure::Error {
                    class: self.unmap.get(&class).cloned().unwrap_or(class),
                }),
                None => Err(self.broken(format!(
                    "shim.protocol: the error reply to request {id} ({op}) has no `class`"
                ))),
            },
            Some("unimplemented") => match text("feature").filter(|f| !f.is_empty()) {
                Some(feature) if self.capabilities.features.contains(&feature) => {
                    Err(Failure::Error {
                        class: format!(
                            "shim.declared_feature: the shim declared feature `{feature}` in its capabilities but answered request {id} ({op}) unimplemented"
                        ),
                    })
                }
                Some(feature) => Err(Failure::Unimplemented { feature }),
                None => Err(self.broken(format!(
                    "shim.protocol: the unimplemented reply to request {id} ({op}) has no `feature`"
                ))),
            },
            other => Err(self.broken(format!(
                "shim.protocol: the reply to request {id} ({op}) has result {other:?}, not ok, error or unimplemented"
            ))),
        }
    }
}

impl Drop for ShimClient {
    fn drop(&mut self) {
        if let Some(mut p) = self.process.take() {
            // End of input asks the shim to exit (with status 0); give it a moment.
            drop(p.stdin.take());
            for _ in 0..20 {
                if matches!(p.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            p.kill();
        }
    }
}

fn describe(f: &Failure) -> String {
    match f {
        Failure::Error { class } => format!("error {class}"),
        Failure::Unimplemented { feature } => format!("unimplemented {feature}"),
    }
}

impl Implementation for ShimClient {
    fn name(&self) -> String {
        let caps = &self.capabilities;
        if caps.name.contains(&caps.version) {
            format!("{} (shim: {})", caps.name, self.command)
        } else {
            format!("{} {} (shim: {})", caps.name, caps.version, self.command)
        }
    }

    fn transcript(&self) -> Option<Transcript> {
        Some(self.log.clone())
    }

    /// Sends the operation as it is; its value must have exactly the fields of Table 16-1
    /// (SHIM-03), and the state digests it reports must hold (SHIM-07).
    fn call(&mut self, op: &str, args: Value) -> OpResult<Value> {
        let handle = args.get("handle").and_then(Value::as_u64);
        let received = self.request(op, args);
        let answered = received.is_ok();
        let checked =
            self.digests
                .check(op, handle, received.and_then(|value| complete(op, value)));
        if answered && let Err(Failure::Error { class }) = &checked {
            self.log(format!("!! {class}"));
        }
        checked
    }
}

/// The value of `op` if it has every field of Table 16-1 (those it has beyond them were
/// refused on receipt); `null` reads as `{}`.
fn complete(op: &str, value: Value) -> OpResult<Value> {
    let value = match value {
        Value::Null => Value::Object(serde_json::Map::new()),
        other => other,
    };
    let fields = value_fields(op).unwrap_or_default();
    match fields.iter().find(|f| value.get(**f).is_none()) {
        Some(missing) => Err(malformed(op, &format!("missing field `{missing}`"))),
        None => Ok(value),
    }
}

mod digests;
