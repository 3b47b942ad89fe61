//! The built-in implementation: the `quietwire` crate itself, answering the operations of the
//! shim protocol (spec/16-conformance-shim.md, Table 16-1) in process.
//!
//! [`Builtin::call`] reads the arguments by name, calls the crate and builds the value; the
//! operations are split by concern: `identity` (CBOR, device records, safety codes,
//! `did:key`, invites), `handshake` (HPKE, the handshake), `reconnect`, `messaging`
//! (envelopes, events, mailboxes), `relay`, `ratchet` and `backup`. The built-in shim
//! (`quietwire-conformance-shim`) serves this same dispatcher over JSON lines.

mod backup;
mod handshake;
mod identity;
mod messaging;
mod ratchet;
mod reconnect;
mod relay;

use std::collections::HashMap;

use quietwire::handshake::PendingInvite;
use quietwire::keys::IdentityKey;
use quietwire::ratchet::Ratchet;
use quietwire::suite::{Suite, SuitePolicy};
use serde_json::Value;

use crate::implementation::{Failure, Handle, Implementation, OpResult, unimplemented};
use crate::shim::{Capabilities, Fields, PROTOCOL_VERSION, feature_of, features};

/// The `quietwire` crate as an implementation under test.
#[derive(Debug, Default)]
pub struct Builtin {
    sessions: HashMap<Handle, Ratchet>,
    invites: HashMap<Handle, PendingInvite>,
    relays: HashMap<Handle, (quietwire::relay::Connection, quietwire::relay::MemoryStore)>,
    next_handle: Handle,
}

impl Builtin {
    fn next(&mut self) -> Handle {
        self.next_handle += 1;
        self.next_handle
    }
}

/// What an operation gave: `Err` for arguments that cannot be read (`harness.args`), else
/// the operation's answer.
type Dispatched = Result<OpResult<Value>, String>;

impl Implementation for Builtin {
    fn name(&self) -> String {
        format!("quietwire {} (built-in)", env!("CARGO_PKG_VERSION"))
    }

    fn call(&mut self, op: &str, args: Value) -> OpResult<Value> {
        if op == "capabilities" {
            let caps = Capabilities {
                name: self.name(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                protocol: PROTOCOL_VERSION,
                suites: vec![1, 2],
                features: features().into_iter().map(str::to_owned).collect(),
                optional: Vec::new(),
            };
            return serde_json::to_value(caps).map_err(|e| bad_input(&format!("serialize: {e}")));
        }
        let Some(feature) = feature_of(op) else {
            return unimplemented(&format!("op:{op}"));
        };
        let a = Fields::of(&args).map_err(|e| Failure::Error {
            class: format!("harness.args: {e}"),
        })?;
        let dispatched = match feature {
            "cbor" | "identity" | "device-keys" | "device-list" | "safety" | "did-key"
            | "invite" => identity::call(op, a),
            "hpke" | "handshake" => handshake::call(self, op, a),
            "reconnect" => reconnect::call(op, a),
            "envelope" | "event" | "mailbox" => messaging::call(op, a),
            "relay" => relay::call(self, op, a),
            "ratchet" => ratchet::call(self, op, a),
            "backup" | "transfer-confirm" => backup::call(op, a),
            other => Err(format!("feature `{other}` has no dispatcher")),
        };
        dispatched.unwrap_or_else(|e| {
            Err(Failure::Error {
                class: format!("harness.args: {op}: {e}"),
            })
        })
    }
}

/// The error of a refusal by the crate, with its registry class.
fn err(e: quietwire::Error) -> Failure {
    Failure::Error {
        class: e.class().as_str().to_owned(),
    }
}

/// A harness-side problem with the inputs (not a protocol error class).
fn bad_input(what: &str) -> Failure {
    Failure::Error {
        class: format!("harness.{what}"),
    }
}

fn key32(bytes: &[u8]) -> OpResult<[u8; 32]> {
    bytes.try_into().map_err(|_| bad_input("key_length"))
}

fn identity_key(bytes: &[u8]) -> OpResult<IdentityKey> {
    IdentityKey::from_bytes(&key32(bytes)?).map_err(err)
}

fn policy(allowed: &[u64]) -> SuitePolicy {
    let suites: Vec<Suite> = allowed
        .iter()
        .filter_map(|id| Suite::from_id(*id).ok())
        .collect();
    SuitePolicy::only(&suites)
}

fn suite(id: u64) -> OpResult<Suite> {
    Suite::from_id(id).map_err(err)
}

/// A nested argument object read as the vector type it carries (`limits`, `export`, …).
fn object<T: serde::de::DeserializeOwned>(a: Fields<'_>, name: &str) -> Result<T, String> {
    let value = Value::Object(a.object(name)?.0.clone());
    serde_json::from_value(value).map_err(|e| format!("{name}: {e}"))
}

/// As [`object`], `None` when the argument is absent or `null`.
fn object_opt<T: serde::de::DeserializeOwned>(
    a: Fields<'_>,
    name: &str,
) -> Result<Option<T>, String> {
    match a.0.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => object(a, name).map(Some),
    }
}

/// A value object that carries a vector type (`fields`), or a harness failure.
fn to_value<T: serde::Serialize>(value: &T) -> OpResult<Value> {
    serde_json::to_value(value).map_err(|e| bad_input(&format!("serialize: {e}")))
}

/// The op a dispatcher was handed but does not answer: a bug of this module, reported.
fn no_dispatcher(op: &str) -> Dispatched {
    Err(format!("op `{op}` has no dispatcher"))
}
