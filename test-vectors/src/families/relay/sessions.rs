//! The `relay-session` tests: scripted connections, each written as the requests a client
//! sends and what the relay must answer.

use quietwire::envelope::Envelope;
use quietwire::mailbox::{MailboxKey, Operation};
use quietwire::relay::{ItemId, Limits, Reply, Request, RequestFrame, blob_id};

use super::script::{
    Script, Want, challenge, delete_request, fetch_request, origin, subscribe_request,
};
use super::{Ids, SessionTest};
use crate::raw;
use crate::seeds::{seed16, seed32};

/// The small limits of the second session group: every limit is reached in a few steps.
pub const SMALL: Limits = Limits {
    max_frame: 3072,
    max_envelope: 1024,
    max_attachment: 2048,
    max_items: 2,
    max_ttl: 86_400,
    max_fetch: 2,
    max_delete: 4,
    rate: 1,
    burst: 3,
    max_subscriptions: 2,
};

/// The TTL most puts use.
pub(super) const TTL: u32 = 3600;

pub(super) fn item(slug: &str, n: u32) -> ItemId {
    seed16(&format!("relay/{slug}/item-{n}"))
}

/// `len` bytes derived from `name`.
pub(super) fn bytes(name: &str, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            seed32(&format!("relay/bytes/{name}/{}", i / 32))
                .get(i % 32)
                .copied()
                .unwrap_or_default()
        })
        .collect()
}

/// A valid envelope for `mailbox` with a 512-byte blob.
pub(super) fn envelope(mailbox: &[u8; 32], name: &str) -> Result<Vec<u8>, String> {
    Envelope::new(*mailbox, bytes(name, 512))
        .map(|e| e.to_bytes())
        .map_err(|e| format!("relay envelope {name}: {e}"))
}

pub(super) fn put(mailbox: &[u8; 32], item: ItemId, envelope: &[u8], ttl: u32) -> Request {
    Request::Put { mailbox: *mailbox, item, envelope: envelope.to_vec(), ttl }
}

pub(super) fn fetch(mailbox: &[u8; 32], proof: Vec<u8>, max: Option<u32>) -> Request {
    Request::Fetch { mailbox: *mailbox, proof, max }
}

/// A frame of `entries` (key, encoded value) in the given order, with a canonical head.
pub(super) fn frame(entries: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let pairs: Vec<(Vec<u8>, Vec<u8>)> =
        entries.iter().map(|(k, v)| (raw::key(*k), v.clone())).collect();
    raw::map(&pairs)
}

/// A request frame: version 1, request id `id`, operation `op`, then `rest` (keys above 3,
/// in canonical order).
pub(super) fn request(id: u32, op: u64, rest: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let mut entries =
        vec![(1, raw::head(0, 1)), (2, raw::head(0, id.into())), (3, raw::head(0, op))];
    entries.extend_from_slice(rest);
    frame(&entries)
}

/// The entries of a put request for `mailbox`, id 1, in canonical order.
pub(super) fn put_entries(
    mailbox: &[u8; 32],
    item: ItemId,
    envelope: &[u8],
) -> Vec<(i64, Vec<u8>)> {
    vec![
        (1, raw::head(0, 1)),
        (2, raw::head(0, 1)),
        (3, raw::head(0, 1)),
        (4, raw::bstr(mailbox)),
        (5, raw::bstr(&item)),
        (6, raw::bstr(envelope)),
        (7, raw::head(0, u64::from(TTL))),
    ]
}

/// `entries` with `key` replaced (`Some`) or removed (`None`), kept in canonical order.
pub(super) fn with(
    entries: &[(i64, Vec<u8>)],
    changes: &[(i64, Option<Vec<u8>>)],
) -> Vec<(i64, Vec<u8>)> {
    let mut out: Vec<(i64, Vec<u8>)> = entries.to_vec();
    for (key, value) in changes {
        out.retain(|(k, _)| k != key);
        if let Some(v) = value {
            out.push((*key, v.clone()));
        }
    }
    out.sort_by_key(|(k, _)| raw::key(*k));
    out
}

/// A session test: its slug, flags and steps, and the comment. The steps are sent on a new
/// connection; items and bytes are named after the slug they are given.
pub(super) type Session = (
    &'static str,
    &'static [&'static str],
    fn(&mut Script, &str) -> Result<(), String>,
    &'static str,
);

/// Runs `sessions` in order, each on the connection `open` makes for its slug.
pub(super) fn run(
    ids: &mut Ids,
    open: &dyn Fn(&str) -> Script,
    sessions: &[Session],
) -> Result<Vec<SessionTest>, String> {
    let mut tests = Vec::new();
    for (slug, flags, steps, comment) in sessions {
        let mut s = open(slug);
        steps(&mut s, slug)?;
        tests.push(s.finish(ids, comment, flags)?);
    }
    Ok(tests)
}

/// A connection to a relay with the default limits.
fn default(slug: &str) -> Script {
    Script::new(slug, Limits::DEFAULT)
}

/// Tests with the default limits added after the first release of the file.
pub fn later_default_limit_tests(ids: &mut Ids) -> Result<Vec<SessionTest>, String> {
    let sessions: &[Session] = &crate::tuples! {
        "delete-expired", &["Expiry"], delete_expired,
            "a delete naming an expired (unswept) item and a live one counts only the live one; both are gone";
    };
    run(ids, &default, sessions)
}

/// Tests with the default limits.
pub fn default_limit_tests(ids: &mut Ids) -> Result<Vec<SessionTest>, String> {
    let sessions: &[Session] = &crate::tuples! {
        "put-fetch-delete", &["Operations"], put_fetch_delete,
            "put an envelope (the mailbox wakes), fetch it with its expiry rounded up to the hour, delete it, fetch nothing";
        "fetch-order-and-more", &["Operations", "FetchRange"], fetch_order_and_more,
            "three items come back in the order they were put; a fetch of 2 says more remain; without max the relay's max_fetch applies";
        "fetch-empty", &["Operations"], fetch_empty, "a mailbox never written to is empty";
        "subscribe-and-wake", &["Operations", "Subscriptions"], subscribe_and_wake,
            "subscribe, then puts wake their mailbox (the relay wakes the subscribers of `wake`); subscribing again is accepted";
        "delete-count", &["Operations", "FetchRange"], delete_count,
            "a delete counts the named items it removed; ids never put or already deleted count 0, an id named twice counts once";
        "delete-others-items", &["Operations", "Proof"], delete_others_items,
            "the owner of mailbox b names an item of mailbox a in a delete of b: nothing is deleted";
        "blob-put-get", &["Operations", "Blob"], blob_put_get,
            "a blob's id is SHA-256 of its labeled bytes; putting it again gives the same id; getting it gives its bytes";
        "blind-envelopes", &["Blindness"], blind_envelopes,
            "the relay stores and returns any bytes of an allowed length, byte for byte: an envelope for this mailbox; an envelope naming another mailbox; text, not CBOR; one byte, 0xff (a CBOR break); one zero byte; a relay request frame";
        "blind-blobs", &["Blindness", "Blob"], blind_blobs,
            "blobs of any content (a zero byte, text, an empty CBOR map) are returned byte for byte";
        "re-put-same", &["Idempotent"], re_put_same,
            "a retried put (same item id and bytes) is acknowledged without a second item or wake";
        "re-put-conflict", &["Conflict"], re_put_conflict,
            "an item id reused with other bytes: relay.conflict, the first item is kept";
        "same-item-id-other-mailbox", &["Idempotent"], same_item_id_other_mailbox,
            "item ids are per mailbox: the same id in another mailbox is another item";
        "ttl-zero", &["Ttl"], |s, slug| ttl_refused(s, slug, 0),
            "a TTL of 0, for a put and a blob put: relay.ttl, nothing stored";
        "ttl-above-max", &["Ttl"], |s, slug| ttl_refused(s, slug, Limits::DEFAULT.max_ttl + 1),
            "a TTL one second above max_ttl, for a put and a blob put: relay.ttl, nothing stored";
        "ttl-bounds", &["Ttl", "Expiry"], ttl_bounds,
            "TTLs of max_ttl and 1 second are accepted; both expiries are rounded up to the next hour";
        "fetch-after-expiry", &["Expiry"], fetch_after_expiry,
            "an item is fetched until the second before its expiry and never from its expiry on";
        "re-put-after-expiry", &["Expiry", "Idempotent"], re_put_after_expiry,
            "once an item expired its id is free: the same put again is a new item, with a wake and a new expiry";
        "blob-expired", &["Blob", "Expiry"], blob_expired,
            "a blob is returned until the second before its expiry; from then on relay.not_found";
        "proof-other-challenge", &["Proof"],
            |s, slug| refused_proofs(s, slug, other_challenge, "mailbox.proof"),
            "fetch, delete and subscribe with the owner's proofs for another challenge (made for `relay/other-challenge`, not for this connection's); then the owner fetches the item, untouched";
        "proof-other-operation", &["Proof"],
            |s, slug| refused_proofs(s, slug, other_operation, "mailbox.proof"),
            "the owner's proofs for this challenge but another operation: delete and subscribe proofs for a fetch, a fetch proof for a delete and a subscribe; then the owner fetches the item, untouched";
        "proof-other-mailbox", &["Proof"],
            |s, slug| refused_proofs(s, slug, other_mailbox, "mailbox.key"),
            "fetch, delete and subscribe for mailbox a with valid proofs of mailbox b; then the owner fetches the item, untouched";
        "proof-other-origin", &["Proof"],
            |s, slug| refused_proofs(s, slug, other_origin, "mailbox.origin"),
            "fetch, delete and subscribe with the owner's proofs for this connection's challenge made on a connection to another relay (`wss://other.example`): a relay forwarding this relay's challenge cannot use them here; then the owner fetches the item, untouched";
        "proof-malformed", &["Proof"],
            |s, slug| refused_proofs(s, slug, malformed_proofs, "cbor.truncated"),
            "an empty proof and a truncated one: refused with the proof's decoding class, and the connection stays open (the request itself is well formed); then the owner fetches the item, untouched";
        "fetch-max-zero", &["FetchRange"], |s, _| fetch_out_of_range(s, 0, 1),
            "a fetch of at most 0 items: schema.range, the connection stays open and a fetch within range succeeds";
        "fetch-max-above", &["FetchRange"],
            |s, _| fetch_out_of_range(s, Limits::DEFAULT.max_fetch + 1, Limits::DEFAULT.max_fetch),
            "a fetch of max_fetch + 1 items: schema.range, the connection stays open and a fetch within range succeeds";
        "blob-not-found", &["Blob"], blob_not_found,
            "blob ids that were never put: relay.not_found";
        "store-unavailable", &["Unavailable"], store_unavailable,
            "while the store fails, every operation that uses the store is answered relay.unavailable, nothing is acknowledged and nobody is woken, and a subscribe, which does not use the store, succeeds; the retried put then stores the item once and wakes the subscriber";
        "unknown-operation", &["UnknownOperation"], unknown_operation,
            "operations 7, 0 and 1000 are unknown: relay.operation with the request id, the connection stays open and a put then succeeds";
    };
    let mut tests = run(ids, &default, sessions)?;
    super::decoding::decoding(ids, &mut tests)?;
    Ok(tests)
}

fn blind_envelopes(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let b = s.key("b");
    let request_like = RequestFrame { id: 1, request: put(a.id(), [0; 16], &[1], TTL) }.encode();
    let contents = [
        envelope(a.id(), slug)?,
        envelope(b.id(), slug)?,
        b"not an envelope".to_vec(),
        vec![0xff],
        vec![0],
        request_like,
    ];
    let mut listed = Vec::new();
    for (n, env) in contents.iter().enumerate() {
        let id = item(slug, n as u32 + 1);
        listed.push((id, env.as_slice(), s.put(a.id(), id, env, TTL, true)?));
    }
    s.fetch(&a, None, &listed, false)
}

/// A put and a blob put with `ttl`, refused with relay.ttl; nothing is stored.
fn ttl_refused(s: &mut Script, slug: &str, ttl: u32) -> Result<(), String> {
    let a = s.key("a");
    s.send(put(a.id(), item(slug, 1), &bytes(slug, 40), ttl), Want::Fail("relay.ttl"))?;
    s.send(Request::BlobPut { blob: bytes(slug, 40), ttl }, Want::Fail("relay.ttl"))?;
    s.fetch(&a, None, &[], false)
}

/// A fetch of at most `max` items, refused with schema.range, then one of at most `within`.
fn fetch_out_of_range(s: &mut Script, max: u32, within: u32) -> Result<(), String> {
    let a = s.key("a");
    s.send(fetch_request(&a, Some(max)), Want::Fail("schema.range"))?;
    s.fetch(&a, Some(within), &[], false)
}

/// Requests for mailbox a with proofs made with the keys of mailboxes a and b.
type Attempts = fn(&MailboxKey, &MailboxKey) -> Vec<Request>;

/// Puts one item into mailbox a, sends the `attempts`, each refused with `class`, then fetches
/// the item unchanged.
fn refused_proofs(
    s: &mut Script,
    slug: &str,
    attempts: Attempts,
    class: &'static str,
) -> Result<(), String> {
    let a = s.key("a");
    let b = s.key("b");
    let env = bytes(slug, 40);
    let exp = s.put(a.id(), item(slug, 1), &env, TTL, true)?;
    for request in attempts(&a, &b) {
        s.send(request, Want::Fail(class))?;
    }
    s.fetch(&a, None, &[(item(slug, 1), &env, exp)], false)
}

/// A fetch, a delete and a subscribe for mailbox a, each with the proof `proof` makes for its
/// operation.
fn all_three(a: &MailboxKey, proof: impl Fn(Operation) -> Vec<u8>) -> Vec<Request> {
    vec![
        fetch(a.id(), proof(Operation::Fetch), None),
        Request::Delete { mailbox: *a.id(), proof: proof(Operation::Delete), items: vec![[0; 16]] },
        Request::Subscribe { mailbox: *a.id(), proof: proof(Operation::Subscribe) },
    ]
}

fn other_challenge(a: &MailboxKey, _: &MailboxKey) -> Vec<Request> {
    all_three(a, |op| a.prove(&origin(), &seed32("relay/other-challenge"), op))
}

fn other_operation(a: &MailboxKey, _: &MailboxKey) -> Vec<Request> {
    let proof = |op| Script::prove(a, op);
    vec![
        fetch(a.id(), proof(Operation::Delete), None),
        fetch(a.id(), proof(Operation::Subscribe), None),
        Request::Delete { mailbox: *a.id(), proof: proof(Operation::Fetch), items: vec![[0; 16]] },
        Request::Subscribe { mailbox: *a.id(), proof: proof(Operation::Fetch) },
    ]
}

fn other_mailbox(a: &MailboxKey, b: &MailboxKey) -> Vec<Request> {
    all_three(a, |op| Script::prove(b, op))
}

fn other_origin(a: &MailboxKey, _: &MailboxKey) -> Vec<Request> {
    // A malicious relay forwarded this connection's challenge to the client, which signed for
    // the origin it dialled: the malicious relay's.
    let elsewhere = quietwire::mailbox::RelayOrigin::from_url("wss://other.example").ok();
    elsewhere.map(|o| all_three(a, |op| a.prove(&o, &challenge(), op))).unwrap_or_default()
}

fn malformed_proofs(a: &MailboxKey, _: &MailboxKey) -> Vec<Request> {
    let good = Script::prove(a, Operation::Fetch);
    vec![
        fetch(a.id(), Vec::new(), None),
        fetch(a.id(), good.get(..good.len() - 1).unwrap_or_default().to_vec(), None),
    ]
}

fn delete_expired(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    crate::rows! { s.put:
        a.id(), item(slug, 1), &bytes(&format!("{slug}/1"), 40), 60, true;
        a.id(), item(slug, 2), &bytes(&format!("{slug}/2"), 40), TTL, true;
    }
    // Past the first item's (rounded) expiry, before the second's; no sweep has run.
    let first = s.expiry_offset(60);
    s.at(first, 60_000);
    s.delete(&a, &[item(slug, 1), item(slug, 2)], 1)?;
    s.fetch(&a, None, &[], false)
}

fn put_fetch_delete(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let env = envelope(a.id(), slug)?;
    let exp = s.put(a.id(), item(slug, 1), &env, TTL, true)?;
    s.fetch(&a, None, &[(item(slug, 1), &env, exp)], false)?;
    s.delete(&a, &[item(slug, 1)], 1)?;
    s.fetch(&a, None, &[], false)
}

fn fetch_order_and_more(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let envs: Vec<Vec<u8>> = (1..=3).map(|n| bytes(&format!("{slug}/{n}"), 40)).collect();
    let ttls = [TTL, 2 * TTL, 60];
    let mut listed = Vec::new();
    for (n, (env, ttl)) in envs.iter().zip(ttls).enumerate() {
        let id = item(slug, n as u32 + 1);
        listed.push((id, env.as_slice(), s.put(a.id(), id, env, ttl, true)?));
    }
    crate::rows! { s.fetch:
        &a, Some(2), listed.get(..2).unwrap_or_default(), true;
        &a, None, &listed, false;
        &a, Some(3), &listed, false;
    }
    Ok(())
}

fn fetch_empty(s: &mut Script, _: &str) -> Result<(), String> {
    let a = s.key("a");
    crate::rows! { s.fetch:
        &a, None, &[], false;
        &a, Some(1), &[], false;
    }
    Ok(())
}

fn subscribe_and_wake(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let b = s.key("b");
    s.subscribe(&a)?;
    crate::rows! { s.put:
        a.id(), item(slug, 1), &bytes(slug, 40), TTL, true;
        b.id(), item(slug, 2), &bytes(slug, 40), TTL, true;
    }
    s.subscribe(&a)?;
    s.subscribe(&b)
}

fn delete_count(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    for n in 1..=3 {
        s.put(a.id(), item(slug, n), &bytes(&format!("{slug}/{n}"), 40), TTL, true)?;
    }
    let never = item(slug, 9);
    s.delete(&a, &[item(slug, 1), item(slug, 3), never], 2)?;
    s.delete(&a, &[item(slug, 1)], 0)?;
    s.put(a.id(), item(slug, 4), &bytes(&format!("{slug}/4"), 40), TTL, true)?;
    s.delete(&a, &[item(slug, 4), item(slug, 4)], 1)?;
    let exp = s.expiry_offset(TTL);
    s.fetch(&a, None, &[(item(slug, 2), &bytes(&format!("{slug}/2"), 40), exp)], false)?;
    Ok(())
}

fn delete_others_items(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let b = s.key("b");
    let env = bytes(slug, 40);
    let exp = s.put(a.id(), item(slug, 1), &env, TTL, true)?;
    s.delete(&b, &[item(slug, 1)], 0)?;
    s.fetch(&a, None, &[(item(slug, 1), &env, exp)], false)
}

fn blob_put_get(s: &mut Script, slug: &str) -> Result<(), String> {
    let blob = bytes(slug, 3000);
    let id = blob_id(&blob);
    for _ in 0..2 {
        s.blob_put(&blob, TTL)?.expect_wake(None)?;
    }
    let sent = s.send(Request::BlobGet { blob_id: id }, Want::Ok)?;
    sent.expect_reply(&Reply::Blob { blob })
}

fn blind_blobs(s: &mut Script, _: &str) -> Result<(), String> {
    for blob in [vec![0], b"not an attachment".to_vec(), vec![0xa0]] {
        let id = blob_id(&blob);
        s.blob_put(&blob, TTL)?;
        s.send(Request::BlobGet { blob_id: id }, Want::Ok)?.expect_reply(&Reply::Blob { blob })?;
    }
    Ok(())
}

fn re_put_same(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let env = bytes(slug, 40);
    let exp = s.put(a.id(), item(slug, 1), &env, TTL, true)?;
    s.put(a.id(), item(slug, 1), &env, TTL, false)?;
    s.fetch(&a, None, &[(item(slug, 1), &env, exp)], false)
}

fn re_put_conflict(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let env = bytes(slug, 40);
    let exp = s.put(a.id(), item(slug, 1), &env, TTL, true)?;
    let other = bytes(&format!("{slug}/other"), 40);
    s.send(put(a.id(), item(slug, 1), &other, TTL), Want::Fail("relay.conflict"))?;
    s.fetch(&a, None, &[(item(slug, 1), &env, exp)], false)
}

fn same_item_id_other_mailbox(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let b = s.key("b");
    let env_a = bytes(&format!("{slug}/a"), 40);
    let env_b = bytes(&format!("{slug}/b"), 40);
    let exp = s.put(a.id(), item(slug, 1), &env_a, TTL, true)?;
    s.put(b.id(), item(slug, 1), &env_b, TTL, true)?;
    crate::rows! { s.fetch:
        &a, None, &[(item(slug, 1), &env_a, exp)], false;
        &b, None, &[(item(slug, 1), &env_b, exp)], false;
    }
    Ok(())
}

fn ttl_bounds(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let mut listed = Vec::new();
    let envs = [bytes(&format!("{slug}/1"), 40), bytes(&format!("{slug}/2"), 40)];
    for (n, ttl) in [(1u32, Limits::DEFAULT.max_ttl), (2, 1)] {
        let env = envs.get(n as usize - 1).ok_or("env")?;
        listed.push((item(slug, n), env.as_slice(), s.put(a.id(), item(slug, n), env, ttl, true)?));
    }
    s.fetch(&a, None, &listed, false)
}

fn fetch_after_expiry(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let envs = [bytes(&format!("{slug}/1"), 40), bytes(&format!("{slug}/2"), 40)];
    let [e1, e2] = &envs;
    let x1 = s.put(a.id(), item(slug, 1), e1, TTL, true)?;
    let x2 = s.put(a.id(), item(slug, 2), e2, 2 * TTL, true)?;
    let both = [(item(slug, 1), e1.as_slice(), x1), (item(slug, 2), e2.as_slice(), x2)];
    s.at(x1 - 1, 1000);
    s.fetch(&a, None, &both, false)?;
    s.at(x1, 2000);
    s.fetch(&a, None, both.get(1..).unwrap_or_default(), false)?;
    s.at(x2, 3000);
    s.fetch(&a, None, &[], false)
}

fn re_put_after_expiry(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let env = bytes(slug, 40);
    let x = s.put(a.id(), item(slug, 1), &env, 60, true)?;
    s.at(x, 1000);
    s.fetch(&a, None, &[], false)?;
    let x2 = s.put(a.id(), item(slug, 1), &env, 60, true)?;
    s.fetch(&a, None, &[(item(slug, 1), &env, x2)], false)
}

fn blob_expired(s: &mut Script, slug: &str) -> Result<(), String> {
    let blob = bytes(slug, 100);
    let id = blob_id(&blob);
    s.blob_put(&blob, 60)?;
    let x = s.expiry_offset(60);
    s.at(x - 1, 1000);
    s.send(Request::BlobGet { blob_id: id }, Want::Ok)?.expect_reply(&Reply::Blob { blob })?;
    s.at(x, 2000);
    s.send(Request::BlobGet { blob_id: id }, Want::Fail("relay.not_found"))?;
    Ok(())
}

fn blob_not_found(s: &mut Script, slug: &str) -> Result<(), String> {
    crate::rows! { s.send:
        Request::BlobGet { blob_id: blob_id(&bytes(slug, 40)) }, Want::Fail("relay.not_found");
        Request::BlobGet { blob_id: [0; 32] }, Want::Fail("relay.not_found");
    }
    Ok(())
}

fn store_unavailable(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let env = bytes(slug, 40);
    let u = Want::Fail("relay.unavailable");
    s.send_unavailable(put(a.id(), item(slug, 1), &env, TTL), u)?.expect_wake(None)?;
    crate::rows! { s.send_unavailable:
        fetch_request(&a, None), u;
        delete_request(&a, &[item(slug, 1)]), u;
        Request::BlobPut { blob: env.clone(), ttl: TTL }, u;
        Request::BlobGet { blob_id: blob_id(&env) }, u;
    }
    // A subscribe does not use the store (RLY-07): it succeeds while the store fails.
    s.send_unavailable(subscribe_request(&a), Want::Ok)?.expect_reply(&Reply::Subscribed)?;
    let exp = s.put(a.id(), item(slug, 1), &env, TTL, true)?;
    s.fetch(&a, None, &[(item(slug, 1), &env, exp)], false)
}

fn unknown_operation(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    for op in [7u64, 0, 1000] {
        let id = s.next_id();
        s.raw(request(id, op, &[(4, raw::bstr(a.id()))]), Want::Fail("relay.operation"))?;
    }
    s.put(a.id(), item(slug, 1), &bytes(slug, 40), TTL, true)?;
    Ok(())
}
