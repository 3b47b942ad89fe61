//! The scripted connections of `relay.json` (`relay-session`), replayed against a live relay.
//!
//! A script was written for a fresh relay core with a known challenge, clock and store. To
//! replay it live, every mailbox gets a fresh key (a seed derived from the script's seed and a
//! per-run nonce, so that runs never see each other's items), every proof is made again for
//! the challenge the relay announced (for the same key and operation, or, where the script
//! used another challenge, for a challenge that is not this connection's), requests are sent
//! at the script's relative times, and replies are compared as frames: exactly, except the
//! expiries of fetched items, which depend on the relay's clock and are checked against the
//! rounding rule (**[RLY-09]**) and the local clock instead. Scripts that move the relay's
//! clock by hours or make its store fail cannot be replayed and are reported INFORMATIONAL.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use quietwire::cbor::{self, Int, Value};
use quietwire::mailbox::{self, MailboxKey, Operation, RelayOrigin};
use quietwire::relay::{Reply, ServerFrame};
use quietwire_test_vectors::families::relay::SessionTest;
use sha2::{Digest, Sha256};

use super::conn::{Challenge, Conn, Got, describe, short};
use super::{Rng, Verdict};

/// Longest script (in its monotonic milliseconds) replayed in real time.
const MAX_SPAN_MS: u64 = 10_000;

/// How far the relay's wall clock may be from ours when checking expiries, in seconds.
pub(crate) const CLOCK_SKEW: u64 = 300;

/// Why a script cannot be replayed live, if it cannot.
pub(crate) fn not_replayable(t: &SessionTest) -> Option<String> {
    if t.flags.iter().any(|f| f == "Quota") {
        return Some(
            "needs a relay configured with the script's upload budget and storage quota, which a relay does not announce (RLY-16); the vector runner checks it through the relay core".to_owned(),
        );
    }
    if t.steps.iter().any(|s| s.store_unavailable) {
        return Some(
            "needs a failing store, which cannot be induced over the protocol; the vector runner checks it through the relay core".to_owned(),
        );
    }
    let clock = t
        .steps
        .iter()
        .map(|s| s.unix_time.saturating_sub(t.unix_time))
        .max()
        .unwrap_or(0);
    if clock > 0 {
        return Some(format!(
            "needs clock control: the script moves the relay's wall clock forward by {clock} s; the vector runner checks it through the relay core"
        ));
    }
    let span = t
        .steps
        .iter()
        .map(|s| s.millis.saturating_sub(t.millis))
        .max()
        .unwrap_or(0);
    if span > MAX_SPAN_MS {
        return Some(format!(
            "needs clock control: the script spans {} s of the rate limit's clock, to the millisecond; the vector runner checks it through the relay core",
            span / 1000
        ));
    }
    None
}

/// The script's mailboxes and keys, renamed for this run.
struct Remap {
    nonce: [u8; 32],
    keys: Vec<(MailboxKey, MailboxKey)>,
}

impl Remap {
    fn new(t: &SessionTest, rng: &mut Rng) -> Remap {
        let nonce = rng.array32();
        let keys = t
            .mailbox_keys
            .iter()
            .filter_map(|k| {
                let seed: [u8; 32] = k.seed.as_slice().try_into().ok()?;
                let mut h = Sha256::new();
                h.update(b"quietwire-conformance/live-mailbox");
                h.update(nonce);
                h.update(seed);
                let fresh: [u8; 32] = h.finalize().into();
                Some((MailboxKey::from_seed(&seed), MailboxKey::from_seed(&fresh)))
            })
            .collect();
        Remap { nonce, keys }
    }

    fn mailbox(&self, old: &[u8]) -> Vec<u8> {
        match self.keys.iter().find(|(o, _)| o.id().as_slice() == old) {
            Some((_, new)) => new.id().to_vec(),
            None => {
                let mut h = Sha256::new();
                h.update(b"quietwire-conformance/live-unkeyed");
                h.update(self.nonce);
                h.update(old);
                h.finalize().to_vec()
            }
        }
    }

    /// The proof to send instead of `proof`, made by the fresh key for the same operation and
    /// the live challenge: for the live origin if the script's proof was for the script's
    /// origin, for the proof's own origin if it was made for another relay, and for another
    /// challenge if the script's proof was not for the script's challenge.
    fn proof(
        &self,
        proof: &[u8],
        op: Option<Operation>,
        script: &Script,
        live: &Challenge,
    ) -> Vec<u8> {
        let Ok(Value::Map(map)) = cbor::decode(proof, &cbor::Limits::DEFAULT) else {
            return proof.to_vec();
        };
        let Some(Value::Bytes(public)) = map.get(&Int::uint(2)) else {
            return proof.to_vec();
        };
        let Some((old, new)) = self
            .keys
            .iter()
            .find(|(o, _)| o.public().as_bytes().as_slice() == public.as_slice())
        else {
            return proof.to_vec();
        };
        let foreign = match map.get(&Int::uint(4)) {
            Some(Value::Text(t)) => RelayOrigin::parse(t).ok(),
            _ => None,
        };
        for candidate in [Operation::Fetch, Operation::Delete, Operation::Subscribe] {
            let mine = [script.origin.clone()];
            if mailbox::verify(old.id(), &script.challenge, &mine, candidate, proof).is_ok() {
                return live.prove(new, candidate);
            }
            // Made for another relay's origin: keep that fault, with the fresh key.
            if let Some(foreign) = &foreign
                && foreign != &script.origin
                && mailbox::verify(
                    old.id(),
                    &script.challenge,
                    std::slice::from_ref(foreign),
                    candidate,
                    proof,
                )
                .is_ok()
            {
                return new.prove(foreign, &live.bytes, candidate);
            }
        }
        // Made for another challenge: keep that fault, with the fresh key.
        let other = if script.challenge == live.bytes {
            [0u8; 32]
        } else {
            script.challenge
        };
        new.prove(&live.origin, &other, op.unwrap_or(Operation::Fetch))
    }
}

/// The request `bytes` with its mailbox renamed and its proof made again; bytes that do not
/// decode as a CBOR map are sent as they are.
/// What the script's proofs were made for.
struct Script {
    origin: RelayOrigin,
    challenge: [u8; 32],
}

fn rewrite(bytes: &[u8], remap: &Remap, script: &Script, live: &Challenge) -> Vec<u8> {
    let limits = cbor::Limits {
        max_input: bytes.len(),
        max_depth: 16,
        max_string: bytes.len() as u64,
        max_items: 1 << 16,
    };
    let Ok(Value::Map(mut map)) = cbor::decode(bytes, &limits) else {
        return bytes.to_vec();
    };
    if let Some(Value::Bytes(mailbox)) = map.get_mut(&Int::uint(4))
        && mailbox.len() == 32
    {
        *mailbox = remap.mailbox(mailbox);
    }
    let op = match map.get(&Int::uint(3)) {
        Some(Value::Int(i)) => match i.as_u64() {
            Some(2) => Some(Operation::Fetch),
            Some(3) => Some(Operation::Delete),
            Some(4) => Some(Operation::Subscribe),
            _ => None,
        },
        _ => None,
    };
    if let Some(Value::Bytes(proof)) = map.get_mut(&Int::uint(8)) {
        *proof = remap.proof(proof, op, script, live);
    }
    cbor::encode(&Value::Map(map))
}

/// The fields of a request the replay tracks.
struct Sent {
    op: Option<u64>,
    mailbox: Option<Vec<u8>>,
    item: Option<Vec<u8>>,
    ttl: Option<u64>,
}

fn sent(bytes: &[u8]) -> Sent {
    let limits = cbor::Limits {
        max_input: bytes.len(),
        max_depth: 16,
        max_string: bytes.len() as u64,
        max_items: 1 << 16,
    };
    let map = match cbor::decode(bytes, &limits) {
        Ok(Value::Map(map)) => map,
        _ => BTreeMap::new(),
    };
    let int = |k: u64| match map.get(&Int::uint(k)) {
        Some(Value::Int(i)) => i.as_u64(),
        _ => None,
    };
    let bytes_of = |k: u64| match map.get(&Int::uint(k)) {
        Some(Value::Bytes(b)) => Some(b.clone()),
        _ => None,
    };
    Sent {
        op: int(3),
        mailbox: bytes_of(4),
        item: bytes_of(5),
        ttl: int(7),
    }
}

/// A frame as a reader would describe it.
pub(crate) fn frame_text(frame: &ServerFrame) -> String {
    match frame {
        ServerFrame::Welcome { .. } => "a welcome".to_owned(),
        ServerFrame::Wake { mailbox } => format!("a wake for {}", short(mailbox)),
        ServerFrame::Error { id, class, closing } => {
            format!("error {class} (id {id}, closing = {closing})")
        }
        ServerFrame::Ok { id, reply } => match reply {
            Reply::Items { items, more } => format!(
                "ok fetch (id {id}): {} item(s) [{}], more = {more}",
                items.len(),
                items
                    .iter()
                    .map(|i| format!(
                        "{} {} bytes expiring {}",
                        hex::encode(i.id),
                        i.envelope.len(),
                        i.expires
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Reply::Deleted { count } => format!("ok delete (id {id}): count {count}"),
            Reply::BlobStored { blob_id } => {
                format!("ok blob-put (id {id}): {}", hex::encode(blob_id))
            }
            Reply::Blob { blob } => format!("ok blob-get (id {id}): {} bytes", blob.len()),
            other => format!("ok {} (id {id})", other.op().name()),
        },
    }
}

/// The smallest multiple of 3600 that is at least `t`.
pub(crate) fn round_up(t: u64) -> u64 {
    t.div_ceil(3600).saturating_mul(3600)
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The window an item's expiry must fall in: written between `sent` and `received` (local
/// clock) with `ttl`, allowing [`CLOCK_SKEW`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    pub lo: u64,
    pub hi: u64,
}

impl Window {
    pub(crate) fn of(sent: u64, received: u64, ttl: u64) -> Window {
        Window {
            lo: round_up(sent.saturating_sub(CLOCK_SKEW) + ttl),
            hi: round_up(received + CLOCK_SKEW + ttl),
        }
    }

    pub(crate) fn check(&self, expires: u64) -> Result<(), String> {
        if !expires.is_multiple_of(3600) {
            return Err(format!("expiry {expires} is not a multiple of 3600"));
        }
        if expires < self.lo || expires > self.hi {
            return Err(format!(
                "expiry {expires} is outside [{}, {}] (now + ttl rounded up to the hour, ±{CLOCK_SKEW} s of clock skew)",
                self.lo, self.hi
            ));
        }
        Ok(())
    }
}

/// Compares a reply with the script's, with fetched items' expiries checked by `windows`.
fn compare(
    want: &ServerFrame,
    got: &ServerFrame,
    mailbox: Option<&Vec<u8>>,
    windows: &BTreeMap<(Vec<u8>, Vec<u8>), Window>,
) -> Result<(), String> {
    let mismatch = || format!("expected {}, got {}", frame_text(want), frame_text(got));
    match (want, got) {
        (
            ServerFrame::Ok {
                id: wid,
                reply:
                    Reply::Items {
                        items: wi,
                        more: wm,
                    },
            },
            ServerFrame::Ok {
                id: gid,
                reply:
                    Reply::Items {
                        items: gi,
                        more: gm,
                    },
            },
        ) => {
            if wid != gid || wm != gm || wi.len() != gi.len() {
                return Err(mismatch());
            }
            for (w, g) in wi.iter().zip(gi) {
                if w.id != g.id || w.envelope != g.envelope {
                    return Err(mismatch());
                }
                let key = (mailbox.cloned().unwrap_or_default(), g.id.to_vec());
                if let Some(window) = windows.get(&key) {
                    window
                        .check(g.expires)
                        .map_err(|e| format!("item {}: {e}", hex::encode(g.id)))?;
                } else if g.expires % 3600 != 0 {
                    return Err(format!(
                        "item {}: expiry {} is not a multiple of 3600",
                        hex::encode(g.id),
                        g.expires
                    ));
                }
            }
            Ok(())
        }
        _ if want == got => Ok(()),
        _ => Err(mismatch()),
    }
}

/// Replays `t` on a new connection to `url`.
pub(crate) async fn replay(
    t: &SessionTest,
    url: &str,
    timeout: Duration,
    rng: &mut Rng,
    log: &mut Vec<String>,
) -> Verdict {
    let remap = Remap::new(t, rng);
    let script = match RelayOrigin::parse(&t.origin) {
        Ok(origin) => Script {
            origin,
            challenge: t.challenge.as_slice().try_into().unwrap_or([0; 32]),
        },
        Err(_) => {
            return Verdict::Fail(format!(
                "the vector's origin {:?} is not canonical",
                t.origin
            ));
        }
    };
    let mut conn = match Conn::open(url, timeout).await {
        Ok(c) => c,
        Err(e) => return Verdict::Fail(e),
    };
    let max_frame =
        u64::from(conn.limits.max_frame).max(quietwire::relay::limits::MAX_ANNOUNCED_FRAME);
    let start = tokio::time::Instant::now();
    let mut subscribed: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut expected_wakes: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    let mut windows: BTreeMap<(Vec<u8>, Vec<u8>), Window> = BTreeMap::new();
    let mut closed = false;
    for (i, step) in t.steps.iter().enumerate() {
        let index = i + 1;
        tokio::time::sleep_until(
            start + Duration::from_millis(step.millis.saturating_sub(t.millis)),
        )
        .await;
        let request = rewrite(&step.request, &remap, &script, &conn.challenge);
        let fields = sent(&request);
        let op_name = fields
            .op
            .and_then(quietwire::relay::Op::from_code)
            .map_or("request", |o| o.name());
        log.push(format!("step {index}: -> {op_name} {}", short(&request)));
        let sent_at = unix_now();
        if let Err(e) = conn.send(request).await {
            if step.reply.is_empty() || closed {
                log.push(format!("step {index}: the connection is closed ({e})"));
                continue;
            }
            return Verdict::Fail(format!("step {index} ({op_name}): {e}"));
        }
        if step.reply.is_empty() {
            // The relay closed the connection: it must not answer.
            match conn.next(Duration::from_millis(500)).await {
                Got::Closed(_) | Got::Timeout => {
                    log.push(format!("step {index}: no answer, as scripted"));
                    continue;
                }
                other => {
                    return Verdict::Fail(format!(
                        "step {index} ({op_name}): the relay answered a message after closing the connection: {}",
                        describe(&other)
                    ));
                }
            }
        }
        let want = match ServerFrame::decode(&step.reply, max_frame) {
            Ok(f) => f,
            Err(e) => {
                return Verdict::Fail(format!(
                    "step {index}: the script's reply does not decode: {e:?}"
                ));
            }
        };
        let got = match conn.reply().await {
            Ok((frame, bytes)) => {
                log.push(format!("step {index}: <- {}", short(&bytes)));
                frame
            }
            Err(e) => {
                return Verdict::Fail(format!(
                    "step {index} ({op_name}): expected {}, but {e}",
                    frame_text(&want)
                ));
            }
        };
        let received_at = unix_now();
        let scripted_unknown =
            matches!(&want, ServerFrame::Error { class, .. } if class == "relay.operation");
        if let ServerFrame::Error { class, .. } = &got
            && class == "relay.operation"
            && !scripted_unknown
            && let Some(op @ (5 | 6)) = fields.op
        {
            return Verdict::Unimplemented(
                "blob".to_owned(),
                format!(
                    "step {index}: the relay answers operation {op} with relay.operation: it does not offer attachment blobs"
                ),
            );
        }
        let mailbox = fields.mailbox.clone();
        if let Err(e) = compare(&want, &got, mailbox.as_ref(), &windows) {
            return Verdict::Fail(format!("step {index} ({op_name}): {e}"));
        }
        if matches!(got, ServerFrame::Ok { .. }) {
            match (fields.op, &mailbox) {
                (Some(1), Some(m)) => {
                    if let (Some(item), Some(ttl)) = (&fields.item, fields.ttl) {
                        let new = Window::of(sent_at, received_at, ttl);
                        let key = (m.clone(), item.clone());
                        let merged = windows.get(&key).map_or(new, |old| Window {
                            lo: old.lo.max(new.lo),
                            hi: old.hi.max(new.hi),
                        });
                        windows.insert(key, merged);
                    }
                }
                (Some(4), Some(m)) => {
                    subscribed.insert(m.clone());
                }
                _ => {}
            }
        }
        if let Some(w) = &step.wake {
            let w = remap.mailbox(w);
            if subscribed.contains(&w) {
                *expected_wakes.entry(w).or_default() += 1;
            }
        }
        if step.close {
            if let Err(e) = conn.expect_closed(timeout).await {
                return Verdict::Fail(format!(
                    "step {index} ({op_name}): after an error frame with closing = true the relay must close the connection: {e}"
                ));
            }
            closed = true;
        }
    }
    if !closed && !expected_wakes.is_empty() {
        let wanted: usize = expected_wakes.len();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(1000);
        while distinct(&conn.wakes) < wanted && tokio::time::Instant::now() < deadline {
            if let Err(e) = conn.collect_wakes(Duration::from_millis(100)).await {
                return Verdict::Fail(format!("waiting for wakes: {e}"));
            }
        }
    }
    for (mailbox, count) in &expected_wakes {
        let got = conn
            .wakes
            .iter()
            .filter(|w| w.as_slice() == mailbox.as_slice())
            .count();
        if got == 0 {
            return Verdict::Fail(format!(
                "no wake for the subscribed mailbox {} that gained {count} item(s) (RLY-07)",
                short(mailbox)
            ));
        }
        if got > *count {
            return Verdict::Fail(format!(
                "{got} wakes for the mailbox {} that gained {count} item(s): a repeated put must not wake (RLY-07)",
                short(mailbox)
            ));
        }
    }
    if let Some(w) = conn
        .wakes
        .iter()
        .find(|w| !expected_wakes.contains_key(w.as_slice()))
    {
        return Verdict::Fail(format!("a wake for {}, which gained no item", short(w)));
    }
    if !closed {
        conn.close().await;
    }
    Verdict::Pass(format!("{} steps answered as scripted", t.steps.len()))
}

fn distinct(wakes: &[[u8; 32]]) -> usize {
    wakes.iter().collect::<BTreeSet<_>>().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_windows() {
        assert_eq!(round_up(0), 0);
        assert_eq!(round_up(1), 3600);
        assert_eq!(round_up(3600), 3600);
        let w = Window::of(1_800_000_000, 1_800_000_001, 60);
        assert!(w.check(1_800_000_000).is_ok());
        assert!(w.check(1_800_000_000 + 1).is_err());
        assert!(w.check(1_800_000_000 + 7200).is_err());
    }
}
