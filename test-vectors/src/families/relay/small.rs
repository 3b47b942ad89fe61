//! `relay-session` tests with [`SMALL`] limits: every limit is reached in a few steps.

use quietwire::relay::{ItemId, Request, RequestFrame};

use super::script::{Script, Want, delete_request, fetch_request, subscribe_request};
use super::sessions::{SMALL, Session, TTL, bytes, item, put, request, run};
use super::{Ids, SessionTest};

/// Tests with [`SMALL`] limits. Unless a test is about the rate, each step comes 1000 ms
/// after the one before, which refills the token it takes.
pub(super) fn small_limit_tests(ids: &mut Ids) -> Result<Vec<SessionTest>, String> {
    let limits: &[Session] = &crate::tuples! {
        "mailbox-full", &["MailboxFull"], mailbox_full,
            "max_items 2: a third item is refused with relay.mailbox_full; a retried put of a stored item is still acknowledged; after a delete there is room again";
        "mailbox-full-until-expiry", &["MailboxFull", "Expiry"], mailbox_full_until_expiry,
            "a full mailbox refuses items until its items expire; expired items do not count";
        "fetch-more", &["FetchRange"], fetch_more,
            "a fetch of 1 of 2 items says more remain; max_fetch (2) returns both; after a delete, one is left and no more";
        "fetch-more-by-size", &["FetchRange", "SizeLimit"], fetch_more_by_size,
            "two envelopes of max_envelope bytes do not fit one reply of max_frame bytes: a fetch returns the first and says more remain";
        "fetch-max-above-small", &["FetchRange"], fetch_max_above_small,
            "max_fetch 2: a fetch of 3 is schema.range, a fetch of 2 succeeds";
        "delete-above-max", &["FetchRange"], delete_above_max,
            "max_delete 4: a delete naming 5 items is schema.length (the connection stays open); 4 items are accepted";
        "envelope-too-large", &["SizeLimit", "Blindness"], envelope_too_large,
            "max_envelope 1024: an envelope of 1025 bytes is relay.too_large; one of 1024 is stored and returned";
        "attachment-too-large", &["SizeLimit", "Blob"], attachment_too_large,
            "max_attachment 2048: blobs of 2049 bytes, and of a frame of exactly max_frame bytes, are relay.too_large; one of 2048 is stored";
        "frame-too-large", &["SizeLimit", "Decoding"], frame_too_large,
            "a frame of max_frame + 1 bytes: relay.frame_too_large before any decoding (id 0), and the connection closes";
        "subscriptions-limit", &["Subscriptions"], subscriptions_limit,
            "max_subscriptions 2: a third mailbox is relay.subscriptions; subscribing again to one already subscribed is accepted";
    };
    let mut tests = run(ids, &|slug| Script::ticking(slug, SMALL, 1000), limits)?;
    // The rate tests run on their own clock: the bucket starts full (burst 3) and refills one
    // token per 1000 ms (rate 1).
    let rate: &[Session] = &crate::tuples! {
        "rate-limit", &["Rate"], rate_limit,
            "burst 3, rate 1 per second: three requests at once, then relay.rate until a token refills after 1000 ms; 2500 ms give two tokens; a long pause refills only up to the burst";
        "rate-unknown-operation", &["Rate", "UnknownOperation"], rate_unknown_operation,
            "an unknown operation costs a token like any answered request: with the bucket empty it is relay.rate";
    };
    tests.extend(run(ids, &|slug| Script::new(slug, SMALL), rate)?);
    Ok(tests)
}

fn mailbox_full(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let env = |n: u32| bytes(&format!("{slug}/{n}"), 40);
    s.put(a.id(), item(slug, 1), &env(1), TTL, true)?;
    s.put(a.id(), item(slug, 2), &env(2), TTL, true)?;
    s.send(put(a.id(), item(slug, 3), &env(3), TTL), Want::Fail("relay.mailbox_full"))?;
    s.put(a.id(), item(slug, 1), &env(1), TTL, false)?;
    s.delete(&a, &[item(slug, 1)], 1)?;
    s.put(a.id(), item(slug, 3), &env(3), TTL, true)?;
    Ok(())
}

fn mailbox_full_until_expiry(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    s.put(a.id(), item(slug, 1), &bytes(slug, 40), 60, true)?;
    let x = s.put(a.id(), item(slug, 2), &bytes(slug, 41), 60, true)?;
    s.at_seconds(x - 1);
    s.send(put(a.id(), item(slug, 3), &bytes(slug, 42), TTL), Want::Fail("relay.mailbox_full"))?;
    s.at_seconds(x);
    s.put(a.id(), item(slug, 3), &bytes(slug, 42), TTL, true)?;
    Ok(())
}

fn fetch_more(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let (e1, e2) = (bytes(&format!("{slug}/1"), 40), bytes(&format!("{slug}/2"), 40));
    s.put(a.id(), item(slug, 1), &e1, TTL, true)?;
    let x = s.put(a.id(), item(slug, 2), &e2, TTL, true)?;
    s.fetch(&a, Some(1), &[(item(slug, 1), &e1, x)], true)?;
    s.fetch(&a, None, &[(item(slug, 1), &e1, x), (item(slug, 2), &e2, x)], false)?;
    s.delete(&a, &[item(slug, 1)], 1)?;
    s.fetch(&a, Some(1), &[(item(slug, 2), &e2, x)], false)
}

fn fetch_more_by_size(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let big = |n: u32| bytes(&format!("{slug}/{n}"), SMALL.max_envelope as usize);
    s.put(a.id(), item(slug, 1), &big(1), TTL, true)?;
    let x = s.put(a.id(), item(slug, 2), &big(2), TTL, true)?;
    s.fetch(&a, None, &[(item(slug, 1), &big(1), x)], true)
}

fn fetch_max_above_small(s: &mut Script, _: &str) -> Result<(), String> {
    let a = s.key("a");
    s.send(fetch_request(&a, Some(SMALL.max_fetch + 1)), Want::Fail("schema.range"))?;
    s.fetch(&a, Some(SMALL.max_fetch), &[], false)
}

fn delete_above_max(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let names: Vec<ItemId> = (1..=5).map(|n| item(slug, n)).collect();
    s.send(delete_request(&a, &names), Want::Fail("schema.length"))?;
    s.delete(&a, names.get(..4).unwrap_or_default(), 0)
}

fn envelope_too_large(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let max = SMALL.max_envelope as usize;
    s.send(put(a.id(), item(slug, 1), &bytes(slug, max + 1), TTL), Want::Fail("relay.too_large"))?;
    let x = s.put(a.id(), item(slug, 1), &bytes(slug, max), TTL, true)?;
    s.fetch(&a, None, &[(item(slug, 1), &bytes(slug, max), x)], false)
}

fn attachment_too_large(s: &mut Script, slug: &str) -> Result<(), String> {
    let max = SMALL.max_attachment as usize;
    // A blob put frame of exactly max_frame bytes: decoded, then refused for its size.
    let at_frame_limit = blob_frame(slug, 2, SMALL.max_frame as usize)?;
    crate::rows! { s.send:
        Request::BlobPut { blob: bytes(slug, max + 1), ttl: TTL }, Want::Fail("relay.too_large");
    }
    s.next_id();
    s.raw(at_frame_limit, Want::Fail("relay.too_large"))?;
    s.blob_put(&bytes(slug, max), TTL)?;
    Ok(())
}

fn frame_too_large(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let over = blob_frame(slug, 1, SMALL.max_frame as usize + 1)?;
    s.raw(over, Want::Close("relay.frame_too_large"))?;
    s.send(put(a.id(), item(slug, 1), &bytes(slug, 40), TTL), Want::Closed)?;
    Ok(())
}

fn subscriptions_limit(s: &mut Script, _: &str) -> Result<(), String> {
    let keys = [s.key("a"), s.key("b"), s.key("c")];
    let [a, b, c] = &keys;
    s.subscribe(a)?;
    s.subscribe(b)?;
    s.send(subscribe_request(c), Want::Fail("relay.subscriptions"))?;
    s.subscribe(a)
}

fn rate_limit(s: &mut Script, _: &str) -> Result<(), String> {
    let a = s.key("a");
    let empty = |s: &mut Script| s.fetch(&a, None, &[], false);
    let limited =
        |s: &mut Script| s.send(fetch_request(&a, None), Want::Fail("relay.rate")).map(|_| ());
    for _ in 0..3 {
        empty(s)?;
    }
    limited(s)?;
    s.at(0, 999);
    limited(s)?;
    s.at(0, 1000);
    empty(s)?;
    limited(s)?;
    s.at(0, 3500);
    empty(s)?;
    empty(s)?;
    limited(s)?;
    s.at(0, 100_000);
    for _ in 0..3 {
        empty(s)?;
    }
    limited(s)
}

fn rate_unknown_operation(s: &mut Script, _: &str) -> Result<(), String> {
    let a = s.key("a");
    for _ in 0..3 {
        s.fetch(&a, None, &[], false)?;
    }
    let id = s.next_id();
    s.raw(request(id, 7, &[]), Want::Fail("relay.rate"))?;
    Ok(())
}

/// The blob put frame with request id `id` whose encoding has exactly `len` bytes: the first
/// of the blobs of max_attachment bytes and more (named after `slug`) that reaches `len`.
fn blob_frame(slug: &str, id: u32, len: usize) -> Result<Vec<u8>, String> {
    (SMALL.max_attachment as usize..)
        .map(|n| RequestFrame { id, request: Request::BlobPut { blob: bytes(slug, n), ttl: TTL } })
        .map(|f| f.encode())
        .find(|f| f.len() >= len)
        .filter(|f| f.len() == len)
        .ok_or(format!("relay {slug}: no blob put frame of exactly {len} bytes"))
}
