//! The runner's side of the shim protocol: [`ShimClient`] drives a shim process.
//!
//! Every request waits at most the client's timeout for its reply. A shim that exits, stays
//! silent, writes anything but a reply line, answers another id, or leaves out a value field
//! fails the operation with a `shim.*` class whose text says exactly what happened (a case
//! never passes because the shim did not answer); the process is then killed and a fresh one
//! started for the next operation. Every exchange is logged in the [`Transcript`], which the
//! runner keeps for the cases that did not pass.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use quietwire_test_vectors::families::cbor::LimitsJson;
use quietwire_test_vectors::families::device_record::RecordFields;
use quietwire_test_vectors::families::invite::InviteFields;
use quietwire_test_vectors::families::relay::RelayLimits;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::backup::client as backup;
use super::process::Process;
use super::{Capabilities, Fields, PROTOCOL_VERSION, hex, value_fields};
use crate::implementation::{
    BackupDecode, BackupDecoded, BackupSeek, DecodedEvent, Failure, Handle, HandshakeAccepted,
    HandshakeInitiate, HandshakeSealed, HpkeInput, HpkeSealed, Implementation, InviteCreate,
    OpResult, ReconnectOpen, ReconnectOpened, ReconnectSeal, RelayHandled, RelayTime, Role,
    Transcript,
};
use quietwire_test_vectors::families::backup::{Export, Kdf, UnlockJson};

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
    digests: HashMap<Handle, Vec<u8>>,
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
            digests: HashMap::new(),
            restarts: 0,
        };
        let value = client
            .call("capabilities", json!({}))
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
    fn call(&mut self, op: &str, args: Value) -> OpResult<Value> {
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

    /// Calls `op` and reads its value with `read`; a value that lacks a field fails with
    /// `shim.protocol`.
    fn op<T>(
        &mut self,
        op: &str,
        args: Value,
        read: impl FnOnce(Fields<'_>) -> Result<T, String>,
    ) -> OpResult<T> {
        let value = self.call(op, args)?;
        let read = Fields::of(&value).and_then(read);
        read.map_err(|e| {
            let what = format!("shim.protocol: the value of {op}: {e}");
            self.log(format!("!! {what}"));
            Failure::Error { class: what }
        })
    }

    /// Records the digest a ratchet reply reported for `handle`.
    fn digest(&mut self, handle: Handle, f: Fields<'_>) -> Result<(), String> {
        let digest = f.bytes("snapshotDigest")?;
        if digest.len() != 32 {
            return Err("`snapshotDigest` is not 32 bytes".to_owned());
        }
        self.digests.insert(handle, digest);
        Ok(())
    }

    fn ratchet_op(
        &mut self,
        op: &str,
        handle: Handle,
        args: Value,
        field: &str,
    ) -> OpResult<Vec<u8>> {
        let value = match self.call(op, args) {
            Ok(value) => value,
            Err(failure) => {
                // A refusal reports no digest: the next snapshot is compared with the
                // vector's (which a state changed by a failure misses), not with a reply.
                self.digests.remove(&handle);
                return Err(failure);
            }
        };
        let read = Fields::of(&value).and_then(|f| {
            let out = f.bytes(field)?;
            self.digest(handle, f)?;
            Ok(out)
        });
        read.map_err(|e| Failure::Error {
            class: format!("shim.protocol: the value of {op}: {e}"),
        })
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

fn pair<A, B>(a: Result<A, String>, b: Result<B, String>) -> Result<(A, B), String> {
    Ok((a?, b?))
}

fn from_object<T: serde::de::DeserializeOwned>(f: Fields<'_>, name: &str) -> Result<T, String> {
    let object = f.object(name)?;
    serde_json::from_value(Value::Object(object.0.clone())).map_err(|e| format!("`{name}`: {e}"))
}

fn json_of<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
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

    fn cbor_decode(&mut self, input: &[u8], limits: LimitsJson) -> OpResult<Vec<u8>> {
        let args = json!({"input": hex(input), "limits": json_of(&limits)});
        self.op("cbor-decode", args, |f| f.bytes("reencoded"))
    }

    fn device_record_create(
        &mut self,
        suite: u64,
        identity_seed: &[u8],
        kem_seed: &[u8],
        ratchet_secret: &[u8],
        generation: u64,
    ) -> OpResult<Vec<u8>> {
        let args = json!({
            "suite": suite, "identitySeed": hex(identity_seed), "kemSeed": hex(kem_seed),
            "ratchetSecret": hex(ratchet_secret), "generation": generation,
        });
        self.op("device-record-create", args, |f| f.bytes("record"))
    }

    fn device_record_verify(
        &mut self,
        record: &[u8],
        allowed_suites: &[u64],
    ) -> OpResult<(RecordFields, Vec<u8>)> {
        let args = json!({"record": hex(record), "allowedSuites": allowed_suites});
        self.op("device-record-verify", args, |f| {
            pair(from_object(f, "fields"), f.bytes("reencoded"))
        })
    }

    fn safety_fingerprint(&mut self, identity_key: &[u8]) -> OpResult<Vec<u8>> {
        let args = json!({"identityKey": hex(identity_key)});
        self.op("safety-fingerprint", args, |f| f.bytes("fingerprint"))
    }

    fn safety_code(&mut self, a: &[u8], b: &[u8]) -> OpResult<String> {
        let args = json!({"identityKeyA": hex(a), "identityKeyB": hex(b)});
        self.op("safety-code", args, |f| f.str("code").map(str::to_owned))
    }

    fn safety_qr_create(&mut self, own: &[u8], peer: &[u8]) -> OpResult<Vec<u8>> {
        let args = json!({"ownKey": hex(own), "peerKey": hex(peer)});
        self.op("safety-qr-create", args, |f| f.bytes("payload"))
    }

    fn safety_qr_verify(&mut self, payload: &[u8], own: &[u8], peer: &[u8]) -> OpResult<()> {
        let args = json!({"payload": hex(payload), "ownKey": hex(own), "peerKey": hex(peer)});
        self.op("safety-qr-verify", args, |_| Ok(()))
    }

    fn did_key_encode(&mut self, key: &[u8]) -> OpResult<String> {
        let args = json!({"key": hex(key)});
        self.op("did-key-encode", args, |f| f.str("did").map(str::to_owned))
    }

    fn did_key_decode(&mut self, did: &str) -> OpResult<Vec<u8>> {
        self.op("did-key-decode", json!({"did": did}), |f| f.bytes("key"))
    }

    fn invite_create(&mut self, i: &InviteCreate<'_>) -> OpResult<Vec<u8>> {
        let args = json!({
            "suite": i.suite, "identitySeed": hex(i.identity_seed), "randomness": hex(&i.randomness),
            "relayHints": i.relay_hints, "mailbox": hex(i.mailbox), "expires": i.expires,
            "singleUse": i.single_use,
        });
        self.op("invite-create", args, |f| f.bytes("invite"))
    }

    fn invite_verify(
        &mut self,
        invite: &[u8],
        now: u64,
        allowed_suites: &[u64],
    ) -> OpResult<(InviteFields, Vec<u8>)> {
        let args = json!({"invite": hex(invite), "now": now, "allowedSuites": allowed_suites});
        self.op("invite-verify", args, |f| {
            pair(from_object(f, "fields"), f.bytes("reencoded"))
        })
    }

    fn invite_encode(&mut self, invite: &[u8], base: &str) -> OpResult<(String, Vec<u8>)> {
        let args = json!({"invite": hex(invite), "base": base});
        self.op("invite-encode", args, |f| {
            pair(f.str("link").map(str::to_owned), f.bytes("qr"))
        })
    }

    fn invite_link_parse(&mut self, link: &str, now: u64, allowed: &[u64]) -> OpResult<Vec<u8>> {
        let args = json!({"link": link, "now": now, "allowedSuites": allowed});
        self.op("invite-link-parse", args, |f| f.bytes("invite"))
    }

    fn invite_qr_parse(&mut self, qr: &[u8], now: u64, allowed: &[u64]) -> OpResult<Vec<u8>> {
        let args = json!({"qr": hex(qr), "now": now, "allowedSuites": allowed});
        self.op("invite-qr-parse", args, |f| f.bytes("invite"))
    }

    fn hpke_seal(&mut self, i: &HpkeInput<'_>, randomness: &[u8]) -> OpResult<HpkeSealed> {
        let args = json!({
            "suite": i.suite, "recipientSeed": hex(i.recipient_seed), "info": hex(i.info),
            "aad": hex(i.aad), "exporterContext": hex(i.exporter_context),
            "plaintext": hex(i.plaintext), "randomness": hex(randomness),
        });
        self.op("hpke-seal", args, |f| {
            Ok((
                f.bytes("enc")?,
                f.bytes("ciphertext")?,
                f.bytes("exported")?,
            ))
        })
    }

    fn hpke_open(
        &mut self,
        i: &HpkeInput<'_>,
        enc: &[u8],
        ciphertext: &[u8],
    ) -> OpResult<(Vec<u8>, Vec<u8>)> {
        let args = json!({
            "suite": i.suite, "recipientSeed": hex(i.recipient_seed), "info": hex(i.info),
            "aad": hex(i.aad), "exporterContext": hex(i.exporter_context),
            "enc": hex(enc), "ciphertext": hex(ciphertext),
        });
        self.op("hpke-open", args, |f| {
            pair(f.bytes("plaintext"), f.bytes("exported"))
        })
    }

    fn envelope_bucket(&mut self, length: u64) -> OpResult<u64> {
        self.op("envelope-bucket", json!({"length": length}), |f| {
            f.u64("bucket")
        })
    }

    fn envelope_pad(&mut self, content: &[u8], overhead: u64) -> OpResult<Vec<u8>> {
        let args = json!({"content": hex(content), "overhead": overhead});
        self.op("envelope-pad", args, |f| f.bytes("padded"))
    }

    fn envelope_unpad(&mut self, padded: &[u8]) -> OpResult<Vec<u8>> {
        let args = json!({"padded": hex(padded)});
        self.op("envelope-unpad", args, |f| f.bytes("content"))
    }

    fn envelope_receive(&mut self, envelope: &[u8], mailbox: &[u8]) -> OpResult<Vec<u8>> {
        let args = json!({"envelope": hex(envelope), "mailbox": hex(mailbox)});
        self.op("envelope-receive", args, |f| f.bytes("blob"))
    }

    fn envelope_decode(&mut self, envelope: &[u8]) -> OpResult<(Vec<u8>, Vec<u8>)> {
        let args = json!({"envelope": hex(envelope)});
        self.op("envelope-decode", args, |f| {
            pair(f.bytes("mailbox"), f.bytes("blob"))
        })
    }

    fn event_decode(&mut self, event: &[u8]) -> OpResult<DecodedEvent> {
        self.op("event-decode", json!({"event": hex(event)}), |f| {
            Ok(DecodedEvent {
                kind: f.u64("kind")?,
                message_id: f.bytes("messageId")?,
                critical: f.bool("critical")?,
                known: f.bool("known")?,
                reencoded: f.bytes("reencoded")?,
            })
        })
    }

    fn event_device_record(
        &mut self,
        peer_identity: &[u8],
        held_generation: Option<u64>,
        record: &[u8],
        allowed_suites: &[u64],
    ) -> OpResult<u64> {
        let args = json!({
            "peerIdentity": hex(peer_identity),
            "heldGeneration": held_generation,
            "record": hex(record),
            "allowedSuites": allowed_suites,
        });
        self.op("event-device-record", args, |f| f.u64("generation"))
    }

    fn mailbox_prove(
        &mut self,
        seed: &[u8],
        challenge: &[u8],
        origin: &str,
        operation: u64,
    ) -> OpResult<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        let args = json!({
            "seed": hex(seed), "challenge": hex(challenge), "origin": origin,
            "operation": operation,
        });
        self.op("mailbox-prove", args, |f| {
            Ok((
                f.bytes("publicKey")?,
                f.bytes("mailbox")?,
                f.bytes("proof")?,
            ))
        })
    }

    fn mailbox_origin(&mut self, url: &str) -> OpResult<String> {
        self.op("mailbox-origin", json!({ "url": url }), |f| {
            f.str("origin").map(str::to_owned)
        })
    }

    fn mailbox_verify(
        &mut self,
        mailbox: &[u8],
        challenge: &[u8],
        origin: &str,
        operation: u64,
        proof: &[u8],
    ) -> OpResult<()> {
        let args = json!({
            "mailbox": hex(mailbox), "challenge": hex(challenge), "origin": origin,
            "operation": operation,
            "proof": hex(proof),
        });
        self.op("mailbox-verify", args, |_| Ok(()))
    }

    fn handshake_initiate(&mut self, i: &HandshakeInitiate<'_>) -> OpResult<HandshakeSealed> {
        let args = json!({
            "invite": hex(i.invite), "suite": i.suite, "identitySeed": hex(i.identity_seed),
            "kemSeed": hex(i.kem_seed), "ratchetSecret": hex(i.ratchet_secret),
            "generation": i.generation, "mailbox": hex(i.mailbox), "randomness": hex(i.randomness),
        });
        self.op("handshake-initiate", args, |f| {
            let snapshot = f.bytes("snapshot")?;
            check_digest(&snapshot, f)?;
            Ok((f.bytes("message")?, f.bytes("transcriptHash")?, snapshot))
        })
    }

    fn handshake_listen(
        &mut self,
        invite: &[u8],
        kem_seed: &[u8],
        ratchet_secret: &[u8],
    ) -> OpResult<Handle> {
        let args = json!({
            "invite": hex(invite), "kemSeed": hex(kem_seed), "ratchetSecret": hex(ratchet_secret),
        });
        self.op("handshake-listen", args, |f| f.u64("handle"))
    }

    fn handshake_accept(
        &mut self,
        handle: Handle,
        message: &[u8],
        now: u64,
        allowed_suites: &[u64],
    ) -> OpResult<HandshakeAccepted> {
        let args = json!({
            "handle": handle, "message": hex(message), "now": now, "allowedSuites": allowed_suites,
        });
        self.op("handshake-accept", args, |f| {
            let snapshot = f.bytes("snapshot")?;
            check_digest(&snapshot, f)?;
            Ok(HandshakeAccepted {
                peer_identity: f.bytes("peerIdentity")?,
                peer_mailbox: f.bytes("peerMailbox")?,
                transcript_hash: f.bytes("transcriptHash")?,
                snapshot,
            })
        })
    }

    fn reconnect_seal(&mut self, i: &ReconnectSeal<'_>) -> OpResult<Vec<u8>> {
        let args = json!({
            "contactRecord": hex(i.contact_record), "invite": hex(i.invite),
            "record": hex(i.record), "randomness": hex(i.randomness),
        });
        self.op("reconnect-seal", args, |f| f.bytes("message"))
    }

    fn reconnect_open(&mut self, i: &ReconnectOpen<'_>) -> OpResult<ReconnectOpened> {
        let args = json!({
            "suite": i.suite, "identitySeed": hex(i.identity_seed), "kemSeed": hex(i.kem_seed),
            "ratchetSecret": hex(i.ratchet_secret), "message": hex(i.message),
            "expectedIdentity": hex(i.expected_identity),
            "heldGeneration": i.held_generation,
            "acceptedInvites": i.accepted_invites.iter().map(|h| hex(h)).collect::<Vec<_>>(),
            "now": i.now,
            "allowedSuites": i.allowed_suites,
        });
        self.op("reconnect-open", args, |f| {
            pair(f.bytes("invite"), f.bytes("record"))
        })
    }

    fn relay_open(
        &mut self,
        limits: &RelayLimits,
        challenge: &[u8],
        origin: &str,
        now: RelayTime,
    ) -> OpResult<(Handle, Vec<u8>)> {
        let args = json!({
            "limits": json_of(limits), "challenge": hex(challenge), "origin": origin,
            "unixTime": now.unix, "millis": now.millis,
        });
        self.op("relay-open", args, |f| {
            pair(f.u64("handle"), f.bytes("welcome"))
        })
    }

    fn relay_handle(
        &mut self,
        handle: Handle,
        request: &[u8],
        now: RelayTime,
        store_unavailable: bool,
    ) -> OpResult<RelayHandled> {
        let args = json!({
            "handle": handle, "request": hex(request), "unixTime": now.unix,
            "millis": now.millis, "storeUnavailable": store_unavailable,
        });
        self.op("relay-handle", args, |f| {
            Ok(RelayHandled {
                reply: f.bytes("reply")?,
                error_class: f.str_opt("errorClass")?.map(str::to_owned),
                close: f.bool("close")?,
                wake: f.bytes_opt("wake")?,
            })
        })
    }

    fn relay_frame_decode(&mut self, frame: &[u8], max_frame: u64) -> OpResult<(String, Vec<u8>)> {
        let args = json!({"frame": hex(frame), "maxFrame": max_frame});
        self.op("relay-frame-decode", args, |f| {
            pair(f.str("kind").map(str::to_owned), f.bytes("reencoded"))
        })
    }

    fn ratchet_init(
        &mut self,
        role: Role,
        session_secret: &[u8],
        associated_data: &[u8],
        responder_secret: &[u8],
    ) -> OpResult<Handle> {
        let role = match role {
            Role::Initiator => "initiator",
            Role::Responder => "responder",
        };
        let args = json!({
            "role": role, "sessionSecret": hex(session_secret),
            "associatedData": hex(associated_data), "responderRatchetSecret": hex(responder_secret),
        });
        self.handle_op("ratchet-init", args)
    }

    fn ratchet_restore(&mut self, snapshot: &[u8]) -> OpResult<Handle> {
        self.handle_op("ratchet-restore", json!({"snapshot": hex(snapshot)}))
    }

    fn ratchet_encrypt(
        &mut self,
        handle: Handle,
        plaintext: &[u8],
        randomness: &[u8],
    ) -> OpResult<Vec<u8>> {
        let args = json!({
            "handle": handle, "plaintext": hex(plaintext), "randomness": hex(randomness),
        });
        self.ratchet_op("ratchet-encrypt", handle, args, "message")
    }

    fn ratchet_encrypt_stream(
        &mut self,
        handle: Handle,
        count: u32,
        seed: &[u8],
    ) -> OpResult<Vec<u8>> {
        let args = json!({"handle": handle, "count": count, "randomnessSeed": hex(seed)});
        self.ratchet_op("ratchet-encrypt-stream", handle, args, "messages")
    }

    fn ratchet_decrypt(&mut self, handle: Handle, message: &[u8]) -> OpResult<Vec<u8>> {
        let args = json!({"handle": handle, "message": hex(message)});
        self.ratchet_op("ratchet-decrypt", handle, args, "plaintext")
    }

    fn ratchet_decrypt_event(&mut self, handle: Handle, message: &[u8]) -> OpResult<Vec<u8>> {
        let args = json!({"handle": handle, "message": hex(message)});
        self.ratchet_op("ratchet-decrypt-event", handle, args, "event")
    }

    fn ratchet_snapshot(&mut self, handle: Handle) -> OpResult<Vec<u8>> {
        let reported = self.digests.get(&handle).cloned();
        self.op("ratchet-snapshot", json!({"handle": handle}), |f| {
            let snapshot = f.bytes("snapshot")?;
            check_digest(&snapshot, f)?;
            match reported {
                Some(d) if d != Sha256::digest(&snapshot).to_vec() => Err(format!(
                    "the snapshot hashes to {}, but the last reply for this handle reported snapshotDigest {}",
                    hex::encode(Sha256::digest(&snapshot)),
                    hex::encode(d)
                )),
                _ => Ok(snapshot),
            }
        })
    }

    fn backup_recovery_text(&mut self, key: &[u8]) -> OpResult<String> {
        self.op("backup-recovery-text", json!({"key": hex(key)}), |f| {
            f.str("text").map(str::to_owned)
        })
    }

    fn backup_recovery_parse(&mut self, text: &str) -> OpResult<Vec<u8>> {
        self.op("backup-recovery-parse", json!({"text": text}), |f| {
            f.bytes("key")
        })
    }

    fn backup_export(&mut self, export: &Export) -> OpResult<Vec<u8>> {
        self.op("backup-export", backup::export_args(export), |f| {
            f.bytes("file")
        })
    }

    fn backup_decode(&mut self, decode: &BackupDecode<'_>) -> OpResult<BackupDecoded> {
        self.op(
            "backup-decode",
            backup::decode_args(decode),
            backup::decoded,
        )
    }

    fn backup_rekey(
        &mut self,
        old_prefix: &[u8],
        unlock: &UnlockJson,
        new_methods: &UnlockJson,
        passphrase_kdf: Option<Kdf>,
        randomness: &[u8],
    ) -> OpResult<(Vec<u8>, u64)> {
        let args = backup::rekey_args(old_prefix, unlock, new_methods, passphrase_kdf, randomness);
        self.op("backup-rekey", args, |f| {
            pair(f.bytes("prefix"), f.u64("oldHeaderEnd"))
        })
    }

    fn backup_seek(
        &mut self,
        file: &[u8],
        unlock: &UnlockJson,
        section: u8,
    ) -> OpResult<BackupSeek> {
        self.op(
            "backup-seek",
            backup::seek_args(file, unlock, section),
            backup::seek,
        )
    }
}

impl ShimClient {
    fn handle_op(&mut self, op: &str, args: Value) -> OpResult<Handle> {
        let value = self.call(op, args)?;
        let read = Fields::of(&value).and_then(|f| {
            let handle = f.u64("handle")?;
            self.digest(handle, f)?;
            Ok(handle)
        });
        read.map_err(|e| Failure::Error {
            class: format!("shim.protocol: the value of {op}: {e}"),
        })
    }
}

/// Checks that `snapshotDigest` is the SHA-256 of `snapshot`.
fn check_digest(snapshot: &[u8], f: Fields<'_>) -> Result<(), String> {
    let digest = f.bytes("snapshotDigest")?;
    if digest == Sha256::digest(snapshot).to_vec() {
        Ok(())
    } else {
        Err(format!(
            "snapshotDigest {} is not the SHA-256 of the snapshot ({})",
            hex::encode(&digest),
            hex::encode(Sha256::digest(snapshot))
        ))
    }
}
