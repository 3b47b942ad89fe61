//! The shim side of the protocol: serves any [`Implementation`] over JSON lines.
//!
//! [`serve`] reads one request per line, answers it with exactly one reply line, and returns
//! at end of input. It never writes anything else to its output. The built-in shim binary
//! serves [`Builtin`](crate::builtin::Builtin) with it; a test fixture adds deliberate
//! defects ([`Defects`]) to prove that the runner catches them.

use std::io::{BufRead, Write};

use quietwire_test_vectors::families::cbor::LimitsJson;
use quietwire_test_vectors::families::relay::RelayLimits;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Capabilities, Fields, OPS, PROTOCOL_VERSION, feature_of, features, hex};
use crate::implementation::{
    Failure, HandshakeInitiate, HpkeInput, Implementation, InviteCreate, ReconnectOpen,
    ReconnectSeal, RelayTime, Role,
};

/// One reply, before it gets its id.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// The operation produced `value` (an object).
    Ok(Value),
    /// The implementation rejected the input with this class.
    Error(String),
    /// The implementation does not provide this feature.
    Unimplemented(String),
}

impl Reply {
    fn line(&self, id: &Value) -> String {
        match self {
            Reply::Ok(value) => json!({"id": id, "result": "ok", "value": value}),
            Reply::Error(class) => json!({"id": id, "result": "error", "class": class}),
            Reply::Unimplemented(feature) => {
                json!({"id": id, "result": "unimplemented", "feature": feature})
            }
        }
        .to_string()
    }
}

impl From<Failure> for Reply {
    fn from(f: Failure) -> Reply {
        match f {
            Failure::Error { class } => Reply::Error(class),
            Failure::Unimplemented { feature } => Reply::Unimplemented(feature),
        }
    }
}

/// Deliberate defects of the test fixture (`--break NAME`); none in normal use.
///
/// | name | defect |
/// |---|---|
/// | `cbor-trailing` | `cbor-decode` accepts the two bytes `0000` (trailing data) |
/// | `safety-order` | `safety-code` depends on the order of the keys |
/// | `invite-expiry` | `invite-verify` ignores `now` |
/// | `no-did-key` | the `did-key` ops answer `unimplemented` |
/// | `ratchet-replay` | `ratchet-decrypt` "opens" a replayed message to nothing |
/// | `flip-message` | `ratchet-encrypt` flips the last bit of every message |
/// | `wrong-digest` | ratchet replies carry a wrong `snapshotDigest` |
/// | `relay-durability` | `relay-handle` ignores `storeUnavailable` |
/// | `rename-class` | reports `cbor.trailing` as `cbor.trailing_bytes` (for the error map) |
/// | `loose-randomness` | `hpke-seal` pads or cuts `randomness` to the 32 bytes a suite-2 encapsulation draws |
/// | `ignore-pushes` | `backup-decode` decodes the input in one push and says so (`slices` 1) |
/// | `event-commit` | `ratchet-decrypt-event` commits the ratchet before checking the content |
/// | `stderr:OP` | writes a line to standard error when it receives `OP` |
/// | `extra-field:OP` | adds a field `extra` to the value of `OP` |
/// | `crash:OP` | the process exits with status 3 when it receives `OP` |
/// | `hang:OP` | it never answers `OP` |
/// | `garbage:OP` | it answers `OP` with a line that is not JSON |
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Defects(pub Vec<String>);

impl Defects {
    /// The defect names this fixture knows (those with `:OP` take an op name).
    pub const KNOWN: &'static [&'static str] = &[
        "cbor-trailing",
        "safety-order",
        "invite-expiry",
        "no-did-key",
        "ratchet-replay",
        "flip-message",
        "wrong-digest",
        "relay-durability",
        "rename-class",
        "loose-randomness",
        "ignore-pushes",
        "event-commit",
        "stderr:",
        "extra-field:",
        "crash:",
        "hang:",
        "garbage:",
    ];

    /// Checks every name.
    ///
    /// # Errors
    /// The first unknown name.
    pub fn new(names: Vec<String>) -> Result<Defects, String> {
        for name in &names {
            let known = Defects::KNOWN.iter().any(|k| match k.strip_suffix(':') {
                Some(prefix) => name
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.strip_prefix(':'))
                    .is_some_and(|op| feature_of(op).is_some() || op == "capabilities"),
                None => name == k,
            });
            if !known {
                return Err(format!(
                    "unknown defect `{name}` (known: {})",
                    Defects::KNOWN.join(", ")
                ));
            }
        }
        Ok(Defects(names))
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|n| n == name)
    }

    fn on(&self, kind: &str, op: &str) -> bool {
        self.0
            .iter()
            .any(|n| n.strip_prefix(kind).and_then(|r| r.strip_prefix(':')) == Some(op))
    }
}

/// Serves `imp` over the shim protocol: one reply line on `output` per request line of
/// `input`, until end of input.
///
/// # Errors
/// If reading or writing fails.
pub fn serve(
    imp: &mut dyn Implementation,
    input: impl BufRead,
    mut output: impl Write,
    defects: &Defects,
) -> std::io::Result<()> {
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let (id, reply) = match serde_json::from_str::<Value>(&line) {
            Ok(request) if !request.is_object() => (
                Value::Null,
                Reply::Error("harness.request: not a JSON object".to_owned()),
            ),
            Ok(request) => {
                let id = request.get("id").cloned().unwrap_or(Value::Null);
                let op = request
                    .get("op")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if defects.on("crash", op) {
                    std::process::exit(3);
                }
                if defects.on("hang", op) {
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(3600));
                    }
                }
                if defects.on("stderr", op) {
                    eprintln!("shim diagnostic: received {op}");
                }
                if defects.on("garbage", op) {
                    writeln!(output, "this is not a reply")?;
                    output.flush()?;
                    continue;
                }
                let args = request.get("args").cloned().unwrap_or(Value::Null);
                let mut reply = handle(imp, op, &args, defects);
                if defects.on("extra-field", op)
                    && let Reply::Ok(Value::Object(map)) = &mut reply
                {
                    map.insert("extra".to_owned(), Value::Bool(true));
                }
                (id, reply)
            }
            Err(e) => (
                Value::Null,
                Reply::Error(format!("harness.request: not JSON: {e}")),
            ),
        };
        writeln!(output, "{}", reply.line(&id))?;
        output.flush()?;
    }
    Ok(())
}

/// The arguments as the `ignore-pushes` and `loose-randomness` defects alter them: no push
/// sizes, and the randomness padded or cut to the 32 bytes a suite-2 encapsulation draws.
fn with_defect(args: &Value, defects: &Defects) -> Value {
    let mut args = args.clone();
    if let Value::Object(map) = &mut args {
        if defects.has("ignore-pushes") && map.contains_key("pushes") {
            map.insert("pushes".to_owned(), json!([]));
        }
        if defects.has("loose-randomness")
            && let Some(Value::String(r)) = map.get_mut("randomness")
        {
            r.truncate(64);
            while r.len() < 64 {
                r.push('0');
            }
        }
    }
    args
}

/// The `event-commit` defect: decrypts with `ratchet-decrypt`, which commits, and only then
/// removes the padding and decodes the event (ENV-09 forbids this order). Public for the
/// in-process fixtures of the conformance tests, which plant the same defect.
///
/// # Errors
/// The failure of the decryption, the unpadding or the event decoding.
pub fn committed_event(
    imp: &mut dyn Implementation,
    handle: u64,
    message: &[u8],
) -> Result<Vec<u8>, Failure> {
    let class = |e: quietwire::Error| Failure::Error {
        class: e.class().as_str().to_owned(),
    };
    let padded = imp.ratchet_decrypt(handle, message)?;
    let content = quietwire::envelope::unpad(&padded).map_err(class)?;
    quietwire::event::Event::from_bytes(content)
        .and_then(|event| event.to_bytes())
        .map_err(class)
}

/// Answers one op.
pub fn handle(imp: &mut dyn Implementation, op: &str, args: &Value, defects: &Defects) -> Reply {
    if op == "capabilities" {
        let caps = Capabilities {
            name: imp.name(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            protocol: PROTOCOL_VERSION,
            suites: vec![1, 2],
            features: features()
                .into_iter()
                .filter(|f| !(defects.has("no-did-key") && *f == "did-key"))
                .map(str::to_owned)
                .collect(),
            optional: Vec::new(),
        };
        return serde_json::to_value(caps).map_or_else(|e| Reply::Error(e.to_string()), Reply::Ok);
    }
    let Some(feature) = feature_of(op) else {
        return Reply::Unimplemented(format!("op:{op}"));
    };
    if defects.has("no-did-key") && feature == "did-key" {
        return Reply::Unimplemented("did-key".to_owned());
    }
    let patched;
    let args = if (defects.has("ignore-pushes") && op == "backup-decode")
        || (defects.has("loose-randomness") && op == "hpke-seal")
    {
        patched = with_defect(args, defects);
        &patched
    } else {
        args
    };
    let args = match Fields::of(args) {
        Ok(f) => f,
        Err(e) => return Reply::Error(format!("harness.args: {e}")),
    };
    let dispatched = match super::backup::dispatch(imp, op, args) {
        Some(d) => d,
        None => dispatch(imp, op, args, defects),
    };
    match dispatched {
        Ok(Ok(value)) => Reply::Ok(value),
        Ok(Err(Failure::Error { class }))
            if defects.has("rename-class") && class == "cbor.trailing" =>
        {
            Reply::Error("cbor.trailing_bytes".to_owned())
        }
        Ok(Err(failure)) => failure.into(),
        Err(e) => Reply::Error(format!("harness.args: {op}: {e}")),
    }
}

/// The value of a ratchet reply: `fields` plus the state's `snapshotDigest`.
fn with_digest(
    imp: &mut dyn Implementation,
    handle: u64,
    mut value: Value,
    defects: &Defects,
) -> Result<Value, Failure> {
    let snapshot = imp.ratchet_snapshot(handle)?;
    let mut digest = Sha256::digest(&snapshot).to_vec();
    if defects.has("wrong-digest")
        && let Some(b) = digest.first_mut()
    {
        *b ^= 1;
    }
    if let Value::Object(map) = &mut value {
        map.insert("snapshotDigest".to_owned(), hex(&digest));
    }
    Ok(value)
}

type Dispatched = Result<Result<Value, Failure>, String>;

#[allow(clippy::too_many_lines)]
fn dispatch(
    imp: &mut dyn Implementation,
    op: &str,
    a: Fields<'_>,
    defects: &Defects,
) -> Dispatched {
    Ok(match op {
        "cbor-decode" => {
            let input = a.bytes("input")?;
            let limits: LimitsJson = serde_json::from_value(Value::Object(a.object("limits")?.0.clone()))
                .map_err(|e| format!("limits: {e}"))?;
            if defects.has("cbor-trailing") && input == [0, 0] {
                return Ok(Ok(json!({"reencoded": "0000"})));
            }
            imp.cbor_decode(&input, limits)
                .map(|r| json!({"reencoded": hex(&r)}))
        }
        "device-record-create" => imp
            .device_record_create(
                a.u64("suite")?,
                &a.bytes("identitySeed")?,
                &a.bytes("kemSeed")?,
                &a.bytes("ratchetSecret")?,
                a.u64("generation")?,
            )
            .map(|r| json!({"record": hex(&r)})),
        "device-record-verify" => imp
            .device_record_verify(&a.bytes("record")?, &a.u64_list("allowedSuites")?)
            .and_then(|(fields, reencoded)| {
                Ok(json!({"fields": to_value(&fields)?, "reencoded": hex(&reencoded)}))
            }),
        "safety-fingerprint" => imp
            .safety_fingerprint(&a.bytes("identityKey")?)
            .map(|f| json!({"fingerprint": hex(&f)})),
        "safety-code" => {
            let (ka, kb) = (a.bytes("identityKeyA")?, a.bytes("identityKeyB")?);
            imp.safety_code(&ka, &kb).map(|code| {
                let code = if defects.has("safety-order") && ka > kb {
                    code.chars().rev().collect()
                } else {
                    code
                };
                json!({"code": code})
            })
        }
        "safety-qr-create" => imp
            .safety_qr_create(&a.bytes("ownKey")?, &a.bytes("peerKey")?)
            .map(|p| json!({"payload": hex(&p)})),
        "safety-qr-verify" => imp
            .safety_qr_verify(&a.bytes("payload")?, &a.bytes("ownKey")?, &a.bytes("peerKey")?)
            .map(|()| json!({})),
        "did-key-encode" => imp
            .did_key_encode(&a.bytes("key")?)
            .map(|did| json!({"did": did})),
        "did-key-decode" => imp
            .did_key_decode(a.str("did")?)
            .map(|k| json!({"key": hex(&k)})),
        "invite-create" => {
            let (identity_seed, mailbox) = (a.bytes("identitySeed")?, a.bytes("mailbox")?);
            let relay_hints = a.str_list("relayHints")?;
            imp.invite_create(&InviteCreate {
                suite: a.u64("suite")?,
                identity_seed: &identity_seed,
                randomness: a.bytes("randomness")?,
                relay_hints: &relay_hints,
                mailbox: &mailbox,
                expires: a.u64("expires")?,
                single_use: a.bool("singleUse")?,
            })
            .map(|i| json!({"invite": hex(&i)}))
        }
        "invite-verify" => {
            let now = if defects.has("invite-expiry") { 0 } else { a.u64("now")? };
            imp.invite_verify(&a.bytes("invite")?, now, &a.u64_list("allowedSuites")?)
                .and_then(|(fields, reencoded)| {
                    Ok(json!({"fields": to_value(&fields)?, "reencoded": hex(&reencoded)}))
                })
        }
        "invite-encode" => imp
            .invite_encode(&a.bytes("invite")?, a.str("base")?)
            .map(|(link, qr)| json!({"link": link, "qr": hex(&qr)})),
        "invite-link-parse" => imp
            .invite_link_parse(a.str("link")?, a.u64("now")?, &a.u64_list("allowedSuites")?)
            .map(|i| json!({"invite": hex(&i)})),
        "invite-qr-parse" => imp
            .invite_qr_parse(&a.bytes("qr")?, a.u64("now")?, &a.u64_list("allowedSuites")?)
            .map(|i| json!({"invite": hex(&i)})),
        "hpke-seal" | "hpke-open" => {
            let (seed, info, aad, ctx) = (
                a.bytes("recipientSeed")?,
                a.bytes("info")?,
                a.bytes("aad")?,
                a.bytes("exporterContext")?,
            );
            let plaintext = if op == "hpke-seal" { a.bytes("plaintext")? } else { Vec::new() };
            let input = HpkeInput {
                suite: a.u64("suite")?,
                recipient_seed: &seed,
                info: &info,
                aad: &aad,
                exporter_context: &ctx,
                plaintext: &plaintext,
            };
            if op == "hpke-seal" {
                imp.hpke_seal(&input, &a.bytes("randomness")?)
                    .map(|(enc, ct, exported)| {
                        json!({"enc": hex(&enc), "ciphertext": hex(&ct), "exported": hex(&exported)})
                    })
            } else {
                imp.hpke_open(&input, &a.bytes("enc")?, &a.bytes("ciphertext")?)
                    .map(|(pt, exported)| json!({"plaintext": hex(&pt), "exported": hex(&exported)}))
            }
        }
        "envelope-bucket" => imp
            .envelope_bucket(a.u64("length")?)
            .map(|b| json!({"bucket": b})),
        "envelope-pad" => imp
            .envelope_pad(&a.bytes("content")?, a.u64("overhead")?)
            .map(|p| json!({"padded": hex(&p)})),
        "envelope-unpad" => imp
            .envelope_unpad(&a.bytes("padded")?)
            .map(|c| json!({"content": hex(&c)})),
        "envelope-receive" => imp
            .envelope_receive(&a.bytes("envelope")?, &a.bytes("mailbox")?)
            .map(|b| json!({"blob": hex(&b)})),
        "envelope-decode" => imp
            .envelope_decode(&a.bytes("envelope")?)
            .map(|(m, b)| json!({"mailbox": hex(&m), "blob": hex(&b)})),
        "event-decode" => imp.event_decode(&a.bytes("event")?).map(|e| {
            json!({
                "kind": e.kind,
                "messageId": hex(&e.message_id),
                "critical": e.critical,
                "known": e.known,
                "reencoded": hex(&e.reencoded),
            })
        }),
        "event-device-record" => {
            imp.event_device_record(
                &a.bytes("peerIdentity")?,
                a.u64_opt("heldGeneration")?,
                &a.bytes("record")?,
                &a.u64_list("allowedSuites")?,
            )
            .map(|g| json!({"generation": g}))
        }
        "mailbox-prove" => imp
            .mailbox_prove(
                &a.bytes("seed")?,
                &a.bytes("challenge")?,
                a.str("origin")?,
                a.u64("operation")?,
            )
            .map(|(public, id, proof)| {
                json!({"publicKey": hex(&public), "mailbox": hex(&id), "proof": hex(&proof)})
            }),
        "mailbox-origin" => imp
            .mailbox_origin(a.str("url")?)
            .map(|origin| json!({ "origin": origin })),
        "mailbox-verify" => imp
            .mailbox_verify(
                &a.bytes("mailbox")?,
                &a.bytes("challenge")?,
                a.str("origin")?,
                a.u64("operation")?,
                &a.bytes("proof")?,
            )
            .map(|()| json!({})),
        "handshake-initiate" => {
            let b = |name: &str| a.bytes(name);
            let (invite, identity_seed, kem_seed, ratchet_secret, mailbox, randomness) = (
                b("invite")?,
                b("identitySeed")?,
                b("kemSeed")?,
                b("ratchetSecret")?,
                b("mailbox")?,
                b("randomness")?,
            );
            imp.handshake_initiate(&HandshakeInitiate {
                invite: &invite,
                suite: a.u64("suite")?,
                identity_seed: &identity_seed,
                kem_seed: &kem_seed,
                ratchet_secret: &ratchet_secret,
                generation: a.u64("generation")?,
                mailbox: &mailbox,
                randomness: &randomness,
            })
            .map(|(message, th, snapshot)| {
                json!({
                    "message": hex(&message),
                    "transcriptHash": hex(&th),
                    "snapshot": hex(&snapshot),
                    "snapshotDigest": hex(&Sha256::digest(&snapshot)),
                })
            })
        }
        "handshake-listen" => imp
            .handshake_listen(&a.bytes("invite")?, &a.bytes("kemSeed")?, &a.bytes("ratchetSecret")?)
            .map(|h| json!({"handle": h})),
        "handshake-accept" => imp
            .handshake_accept(
                a.u64("handle")?,
                &a.bytes("message")?,
                a.u64("now")?,
                &a.u64_list("allowedSuites")?,
            )
            .map(|acc| {
                json!({
                    "peerIdentity": hex(&acc.peer_identity),
                    "peerMailbox": hex(&acc.peer_mailbox),
                    "transcriptHash": hex(&acc.transcript_hash),
                    "snapshot": hex(&acc.snapshot),
                    "snapshotDigest": hex(&Sha256::digest(&acc.snapshot)),
                })
            }),
        "reconnect-seal" => {
            let (contact_record, invite, record, randomness) = (
                a.bytes("contactRecord")?,
                a.bytes("invite")?,
                a.bytes("record")?,
                a.bytes("randomness")?,
            );
            imp.reconnect_seal(&ReconnectSeal {
                contact_record: &contact_record,
                invite: &invite,
                record: &record,
                randomness: &randomness,
            })
            .map(|m| json!({"message": hex(&m)}))
        }
        "reconnect-open" => {
            let b = |name: &str| a.bytes(name);
            let (identity_seed, kem_seed, ratchet_secret, message, expected) = (
                b("identitySeed")?,
                b("kemSeed")?,
                b("ratchetSecret")?,
                b("message")?,
                b("expectedIdentity")?,
            );
            let allowed = a.u64_list("allowedSuites")?;
            let accepted = a
                .str_list("acceptedInvites")?
                .iter()
                .map(|h| hex::decode(h).map_err(|e| format!("acceptedInvites: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            imp.reconnect_open(&ReconnectOpen {
                suite: a.u64("suite")?,
                identity_seed: &identity_seed,
                kem_seed: &kem_seed,
                ratchet_secret: &ratchet_secret,
                message: &message,
                expected_identity: &expected,
                held_generation: a.u64("heldGeneration")?,
                accepted_invites: &accepted,
                now: a.u64("now")?,
                allowed_suites: &allowed,
            })
            .map(|(invite, record)| json!({"invite": hex(&invite), "record": hex(&record)}))
        }
        "relay-open" => {
            let limits: RelayLimits = serde_json::from_value(Value::Object(a.object("limits")?.0.clone()))
                .map_err(|e| format!("limits: {e}"))?;
            imp.relay_open(&limits, &a.bytes("challenge")?, a.str("origin")?, relay_time(a)?)
                .map(|(h, welcome)| json!({"handle": h, "welcome": hex(&welcome)}))
        }
        "relay-handle" => {
            let unavailable = a.bool("storeUnavailable")? && !defects.has("relay-durability");
            imp.relay_handle(a.u64("handle")?, &a.bytes("request")?, relay_time(a)?, unavailable)
                .map(|h| {
                    json!({
                        "reply": hex(&h.reply),
                        "errorClass": h.error_class,
                        "close": h.close,
                        "wake": h.wake.as_deref().map(hex),
                    })
                })
        }
        "relay-frame-decode" => imp
            .relay_frame_decode(&a.bytes("frame")?, a.u64("maxFrame")?)
            .map(|(kind, reencoded)| json!({"kind": kind, "reencoded": hex(&reencoded)})),
        "ratchet-init" => {
            let role = match a.str("role")? {
                "initiator" => Role::Initiator,
                "responder" => Role::Responder,
                other => return Err(format!("role `{other}`")),
            };
            imp.ratchet_init(
                role,
                &a.bytes("sessionSecret")?,
                &a.bytes("associatedData")?,
                &a.bytes("responderRatchetSecret")?,
            )
            .and_then(|h| with_digest(imp, h, json!({"handle": h}), defects))
        }
        "ratchet-restore" => imp
            .ratchet_restore(&a.bytes("snapshot")?)
            .and_then(|h| with_digest(imp, h, json!({"handle": h}), defects)),
        "ratchet-encrypt" => {
            let handle = a.u64("handle")?;
            imp.ratchet_encrypt(handle, &a.bytes("plaintext")?, &a.bytes("randomness")?)
                .and_then(|mut message| {
                    if defects.has("flip-message")
                        && let Some(b) = message.last_mut() {
                            *b ^= 1;
                        }
                    with_digest(imp, handle, json!({"message": hex(&message)}), defects)
                })
        }
        "ratchet-encrypt-stream" => {
            let handle = a.u64("handle")?;
            let count = u32::try_from(a.u64("count")?).map_err(|_| "count above 2^32 - 1")?;
            imp.ratchet_encrypt_stream(handle, count, &a.bytes("randomnessSeed")?)
                .and_then(|m| with_digest(imp, handle, json!({"messages": hex(&m)}), defects))
        }
        "ratchet-decrypt" => {
            let handle = a.u64("handle")?;
            match imp.ratchet_decrypt(handle, &a.bytes("message")?) {
                Err(Failure::Error { class })
                    if defects.has("ratchet-replay") && class == "ratchet.replay" =>
                {
                    Ok(Vec::new())
                }
                other => other,
            }
            .and_then(|pt| with_digest(imp, handle, json!({"plaintext": hex(&pt)}), defects))
        }
        "ratchet-decrypt-event" => {
            let handle = a.u64("handle")?;
            let message = a.bytes("message")?;
            if defects.has("event-commit") {
                committed_event(imp, handle, &message)
            } else {
                imp.ratchet_decrypt_event(handle, &message)
            }
            .and_then(|e| with_digest(imp, handle, json!({"event": hex(&e)}), defects))
        }
        "ratchet-snapshot" => {
            let handle = a.u64("handle")?;
            imp.ratchet_snapshot(handle).map(|s| {
                let mut digest = Sha256::digest(&s).to_vec();
                if defects.has("wrong-digest")
                    && let Some(b) = digest.first_mut() {
                        *b ^= 1;
                    }
                json!({"snapshot": hex(&s), "snapshotDigest": hex(&digest)})
            })
        }
        other => {
            // Listed in OPS but not dispatched here: a bug of this file, reported as such.
            let known = OPS.iter().any(|(o, _)| *o == other);
            return Err(format!("op `{other}` (known: {known}) has no dispatcher"));
        }
    })
}

fn relay_time(a: Fields<'_>) -> Result<RelayTime, String> {
    Ok(RelayTime {
        unix: a.u64("unixTime")?,
        millis: a.u64("millis")?,
    })
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<Value, Failure> {
    serde_json::to_value(value).map_err(|e| Failure::Error {
        class: format!("harness.serialize: {e}"),
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::builtin::Builtin;

    fn run(lines: &str, defects: &[&str]) -> Vec<Value> {
        let mut out = Vec::new();
        let defects =
            Defects::new(defects.iter().map(|s| (*s).to_owned()).collect()).unwrap_or_default();
        let served = serve(
            &mut Builtin::default(),
            lines.as_bytes(),
            &mut out,
            &defects,
        );
        assert!(served.is_ok());
        String::from_utf8_lossy(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect()
    }

    #[test]
    fn answers_every_line() {
        let replies = run(
            concat!(
                "{\"id\":1,\"op\":\"capabilities\",\"args\":{}}\n",
                "{\"id\":2,\"op\":\"cbor-decode\",\"args\":{\"input\":\"00\",\"limits\":{\"maxInput\":8,\"maxDepth\":2,\"maxString\":8,\"maxItems\":8}}}\n",
                "{\"id\":3,\"op\":\"no-such-op\",\"args\":{}}\n",
                "{\"id\":4,\"op\":\"cbor-decode\",\"args\":{}}\n",
                "not json\n",
                "[1]\n",
                "{\"id\":5,\"op\":\"did-key-decode\",\"args\":{\"did\":\"x\"}}\n",
            ),
            &[],
        );
        assert_eq!(replies.len(), 7);
        assert_eq!(replies[0]["value"]["protocol"], 1);
        assert_eq!(replies[1]["value"]["reencoded"], "00");
        assert_eq!(replies[2]["result"], "unimplemented");
        assert_eq!(replies[2]["feature"], "op:no-such-op");
        assert_eq!(replies[3]["result"], "error");
        assert!(
            replies[3]["class"]
                .as_str()
                .is_some_and(|c| c.contains("missing field `input`"))
        );
        assert_eq!(replies[4]["id"], Value::Null);
        assert_eq!(replies[5]["id"], Value::Null);
        assert_eq!(replies[5]["result"], "error");
        assert_eq!(replies[6]["class"], "didkey.scheme");
    }

    #[test]
    fn defects_are_checked() {
        assert!(Defects::new(vec!["crash:cbor-decode".to_owned()]).is_ok());
        assert!(Defects::new(vec!["crash:nothing".to_owned()]).is_err());
        assert!(Defects::new(vec!["typo".to_owned()]).is_err());
        let replies = run(
            "{\"id\":1,\"op\":\"did-key-encode\",\"args\":{\"key\":\"00\"}}\n",
            &["no-did-key"],
        );
        assert_eq!(replies[0]["feature"], "did-key");
    }
}
