//! The built-in `ratchet` operations (spec/06-ratchet.md): sessions held by handle, every
//! reply with the state's `snapshotDigest` after the operation (SHIM-07); and
//! `session-restore`, the session snapshot of spec/07-envelope.md ENV-08, which holds none.

use quietwire::keys::X25519Secret;
use quietwire::ratchet::Ratchet;
use quietwire::session::Session;
use quietwire_test_vectors::seeds::{ReplayRng, StreamRng};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Builtin, Dispatched, bad_input, err, key32, no_dispatcher};
use crate::implementation::{Handle, OpResult};
use crate::shim::{Fields, hex};

pub(super) fn call(b: &mut Builtin, op: &str, a: Fields<'_>) -> Dispatched {
    if op == "session-restore" {
        // A session snapshot (spec/07-envelope.md ENV-08): no handle, nothing kept.
        return Ok(Session::restore(&a.bytes("sessionSnapshot")?)
            .map(|s| {
                let peer = s.peer_identity().map(|k| hex(k.as_bytes()));
                json!({"sessionSnapshot": hex(&s.snapshot()), "peerIdentity": peer})
            })
            .map_err(err));
    }
    let handle = || a.u64("handle");
    let answer = match op {
        "ratchet-init" => {
            let initiator = match a.str("role")? {
                "initiator" => true,
                "responder" => false,
                other => return Err(format!("role `{other}`")),
            };
            let (secret, ad) = (a.bytes("sessionSecret")?, a.bytes("associatedData")?);
            let own = a.bytes("responderRatchetSecret")?;
            let pq = a.bool_opt("postQuantum")?.unwrap_or(false);
            (|| {
                let (secret, ad) = (key32(&secret)?, key32(&ad)?);
                let own = X25519Secret::from_bytes(&key32(&own)?);
                let ratchet = match (initiator, pq) {
                    (true, true) => Ratchet::pq_initiator(&secret, *own.public(), &ad),
                    (false, true) => Ratchet::pq_responder(&secret, own, &ad),
                    (true, false) => Ratchet::initiator(&secret, *own.public(), &ad),
                    (false, false) => Ratchet::responder(&secret, own, &ad),
                };
                Ok(store(b, ratchet))
            })()
        }
        "ratchet-restore" => Ratchet::from_snapshot(&a.bytes("snapshot")?)
            .map(|ratchet| store(b, ratchet))
            .map_err(err),
        "ratchet-encrypt" => {
            let (handle, plaintext) = (handle()?, a.bytes("plaintext")?);
            let randomness = a.bytes("randomness")?;
            let mut rng = ReplayRng::new(&[&randomness]);
            session(b, handle).and_then(|s| {
                let result = s.encrypt(&plaintext, &mut rng).map_err(err);
                if !rng.finished() {
                    return Err(bad_input("randomness_not_consumed_exactly"));
                }
                result.map(|m| (handle, json!({"message": hex(&m)})))
            })
        }
        "ratchet-encrypt-stream" => {
            let handle = handle()?;
            let count = u32::try_from(a.u64("count")?).map_err(|_| "count above 2^32 - 1")?;
            let seed = a.bytes("randomnessSeed")?;
            (|| {
                let mut rng = StreamRng::new(key32(&seed)?);
                let session = session(b, handle)?;
                let mut out = Vec::new();
                for _ in 0..count {
                    out.extend(session.encrypt(&[], &mut rng).map_err(err)?);
                }
                Ok((handle, json!({"messages": hex(&out)})))
            })()
        }
        "ratchet-decrypt" => {
            let (handle, message) = (handle()?, a.bytes("message")?);
            session(b, handle)
                .and_then(|s| s.decrypt(&message).map_err(err))
                .map(|pt| (handle, json!({"plaintext": hex(&pt)})))
        }
        "ratchet-decrypt-event" => {
            let (handle, message) = (handle()?, a.bytes("message")?);
            // ENV-09: the state changes only if the decryption, the padding and the event
            // all check.
            session(b, handle)
                .and_then(|s| {
                    s.decrypt_then(&message, |padded| {
                        quietwire::event::Event::from_bytes(quietwire::envelope::unpad(padded)?)
                    })
                    .and_then(|event| event.to_bytes())
                    .map_err(err)
                })
                .map(|event| (handle, json!({"event": hex(&event)})))
        }
        "ratchet-snapshot" => {
            let handle = handle()?;
            session(b, handle).map(|s| {
                let snapshot = s.snapshot();
                let digest = Sha256::digest(&snapshot);
                (
                    handle,
                    json!({"snapshot": hex(&snapshot), "snapshotDigest": hex(&digest)}),
                )
            })
        }
        other => return no_dispatcher(other),
    };
    Ok(answer.and_then(|(handle, value)| with_digest(b, handle, value)))
}

fn store(b: &mut Builtin, ratchet: Ratchet) -> (Handle, Value) {
    let handle = b.next();
    b.sessions.insert(handle, ratchet);
    (handle, json!({"handle": handle}))
}

fn session(b: &mut Builtin, handle: Handle) -> OpResult<&mut Ratchet> {
    b.sessions
        .get_mut(&handle)
        .ok_or_else(|| bad_input("handle"))
}

/// `value` with the state's `snapshotDigest` after the operation.
fn with_digest(b: &mut Builtin, handle: Handle, mut value: Value) -> OpResult<Value> {
    let digest = Sha256::digest(session(b, handle)?.snapshot());
    if let Value::Object(map) = &mut value {
        map.insert("snapshotDigest".to_owned(), hex(&digest));
    }
    Ok(value)
}
