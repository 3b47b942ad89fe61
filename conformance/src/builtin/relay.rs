//! The built-in `relay` operations (spec/08-mailboxes-and-relay.md §8.6): a relay connection
//! over a fresh in-memory store per `relay-open`, driven frame by frame.

use quietwire::UnixTime;
use quietwire::mailbox::RelayOrigin;
use quietwire::relay::{self, Connection, MemoryStore, ServerFrame};
use quietwire_test_vectors::families::relay::RelayLimits;
use serde_json::{Value, json};

use super::{Builtin, Dispatched, bad_input, err, key32, no_dispatcher, object};
use crate::implementation::OpResult;
use crate::shim::{Fields, hex};

fn now(a: Fields<'_>) -> Result<relay::Now, String> {
    Ok(relay::Now {
        unix: UnixTime(a.u64("unixTime")?),
        millis: a.u64("millis")?,
    })
}

pub(super) fn call(b: &mut Builtin, op: &str, a: Fields<'_>) -> Dispatched {
    Ok(match op {
        "relay-open" => {
            let limits: RelayLimits = object(a, "limits")?;
            let (challenge, origin, now) = (a.bytes("challenge")?, a.str("origin")?, now(a)?);
            open(b, limits, &challenge, origin, now)
        }
        "relay-handle" => {
            let (handle, request) = (a.u64("handle")?, a.bytes("request")?);
            let (now, unavailable) = (now(a)?, a.bool("storeUnavailable")?);
            b.relays
                .get_mut(&handle)
                .ok_or_else(|| bad_input("handle"))
                .map(|(conn, store)| {
                    store.set_unavailable(unavailable);
                    let handled = conn.handle(&request, &*store, now);
                    store.set_unavailable(false);
                    json!({
                        "reply": hex(&handled.reply),
                        "errorClass": handled.error.map(|c| c.as_str().to_owned()),
                        "close": handled.close,
                        "wake": handled.wake.as_ref().map(|m| hex(m)),
                    })
                })
        }
        "relay-frame-decode" => {
            let (frame, max_frame) = (a.bytes("frame")?, a.u64("maxFrame")?);
            ServerFrame::decode(&frame, max_frame)
                .map(|decoded| {
                    let kind = match decoded {
                        ServerFrame::Welcome { .. } => "welcome",
                        ServerFrame::Ok { .. } => "ok",
                        ServerFrame::Error { .. } => "error",
                        ServerFrame::Wake { .. } => "wake",
                    };
                    json!({"kind": kind, "reencoded": hex(&decoded.encode())})
                })
                .map_err(err)
        }
        other => return no_dispatcher(other),
    })
}

/// Opens a connection with `limits`, `challenge` and the relay's only `origin` over a fresh,
/// empty store at `now`.
fn open(
    b: &mut Builtin,
    limits_json: RelayLimits,
    challenge: &[u8],
    origin: &str,
    now: relay::Now,
) -> OpResult<Value> {
    let limits = relay::Limits::from(limits_json);
    if !limits.is_valid() {
        return Err(bad_input("relay_limits"));
    }
    let origins = vec![RelayOrigin::parse(origin).map_err(|_| bad_input("origin"))?];
    let mut conn = Connection::new(limits, origins, key32(challenge)?, now);
    if let Some(budget) = limits_json.upload_budget {
        conn = conn.with_upload_budget(budget);
    }
    let store = match limits_json.storage_quota {
        Some(quota) => MemoryStore::with_quota(quota),
        None => MemoryStore::new(),
    };
    let welcome = conn.welcome();
    let handle = b.next();
    b.relays.insert(handle, (conn, store));
    Ok(json!({"handle": handle, "welcome": hex(&welcome)}))
}
