//! `relay-session` tests with [`SMALL`] limits: every limit is reached in a few steps.

use quietwire::mailbox::Operation;
use quietwire::relay::{ItemId, Reply, Request, RequestFrame, blob_id};

use super::script::{Script, Want};
use super::sessions::{SMALL, TTL, bytes, fetch, frame, item, put};
use super::{Ids, SessionTest};
use crate::raw;

/// Tests with [`SMALL`] limits. Unless a test is about the rate, each step comes 1000 ms
/// after the one before, which refills the token it takes.
pub(super) fn small_limit_tests(ids: &mut Ids) -> Result<Vec<SessionTest>, String> {
    let mut tests = Vec::new();
    let tick = |s: &mut Script, seconds: u64| s.later(seconds, 1000);

    let slug = "mailbox-full";
    let mut s = Script::new(slug, SMALL);
    let a = s.key("a");
    let env = |n: u32| bytes(&format!("{slug}/{n}"), 40);
    tick(&mut s, 0);
    s.put(a.id(), item(slug, 1), &env(1), TTL, true)?;
    tick(&mut s, 0);
    s.put(a.id(), item(slug, 2), &env(2), TTL, true)?;
    tick(&mut s, 0);
    crate::rows! { s.send:
        put(a.id(), item(slug, 3), &env(3), TTL), Want::Fail("relay.mailbox_full");
    }
    tick(&mut s, 0);
    s.put(a.id(), item(slug, 1), &env(1), TTL, false)?;
    tick(&mut s, 0);
    s.delete(&a, &[item(slug, 1)], 1)?;
    tick(&mut s, 0);
    s.put(a.id(), item(slug, 3), &env(3), TTL, true)?;
    tests.push(s.finish(
        ids,
        "max_items 2: a third item is refused with relay.mailbox_full; a retried put of a stored item is still acknowledged; after a delete there is room again",
        &["MailboxFull"],
    )?);

    let slug = "mailbox-full-until-expiry";
    let mut s = Script::new(slug, SMALL);
    let a = s.key("a");
    tick(&mut s, 0);
    s.put(a.id(), item(slug, 1), &bytes(slug, 40), 60, true)?;
    tick(&mut s, 0);
    s.put(a.id(), item(slug, 2), &bytes(slug, 41), 60, true)?;
    let x = s.expiry_offset(60);
    tick(&mut s, x - 1);
    crate::rows! { s.send:
        put(a.id(), item(slug, 3), &bytes(slug, 42), TTL), Want::Fail("relay.mailbox_full");
    }
    tick(&mut s, x);
    s.put(a.id(), item(slug, 3), &bytes(slug, 42), TTL, true)?;
    tests.push(s.finish(
        ids,
        "a full mailbox refuses items until its items expire; expired items do not count",
        &["MailboxFull", "Expiry"],
    )?);

    let slug = "fetch-more";
    let mut s = Script::new(slug, SMALL);
    let a = s.key("a");
    let (e1, e2) = (bytes(&format!("{slug}/1"), 40), bytes(&format!("{slug}/2"), 40));
    tick(&mut s, 0);
    s.put(a.id(), item(slug, 1), &e1, TTL, true)?;
    tick(&mut s, 0);
    s.put(a.id(), item(slug, 2), &e2, TTL, true)?;
    let x = s.expiry_offset(TTL);
    tick(&mut s, 0);
    s.fetch(&a, Some(1), &[(item(slug, 1), &e1, x)], true)?;
    tick(&mut s, 0);
    crate::rows! { s.fetch:
        &a, None, &[(item(slug, 1), &e1, x), (item(slug, 2), &e2, x)], false;
    }
    tick(&mut s, 0);
    s.delete(&a, &[item(slug, 1)], 1)?;
    tick(&mut s, 0);
    s.fetch(&a, Some(1), &[(item(slug, 2), &e2, x)], false)?;
    tests.push(s.finish(
        ids,
        "a fetch of 1 of 2 items says more remain; max_fetch (2) returns both; after a delete, one is left and no more",
        &["FetchRange"],
    )?);

    let slug = "fetch-more-by-size";
    let mut s = Script::new(slug, SMALL);
    let a = s.key("a");
    let big = |n: u32| bytes(&format!("{slug}/{n}"), SMALL.max_envelope as usize);
    tick(&mut s, 0);
    s.put(a.id(), item(slug, 1), &big(1), TTL, true)?;
    tick(&mut s, 0);
    s.put(a.id(), item(slug, 2), &big(2), TTL, true)?;
    let x = s.expiry_offset(TTL);
    tick(&mut s, 0);
    s.fetch(&a, None, &[(item(slug, 1), &big(1), x)], true)?;
    tests.push(s.finish(
        ids,
        "two envelopes of max_envelope bytes do not fit one reply of max_frame bytes: a fetch returns the first and says more remain",
        &["FetchRange", "SizeLimit"],
    )?);

    let slug = "fetch-max-above-small";
    let mut s = Script::new(slug, SMALL);
    let a = s.key("a");
    tick(&mut s, 0);
    crate::rows! { s.send:
        fetch(a.id(), Script::prove(&a, Operation::Fetch), Some(SMALL.max_fetch + 1)),
            Want::Fail("schema.range");
    }
    tick(&mut s, 0);
    s.fetch(&a, Some(SMALL.max_fetch), &[], false)?;
    tests.push(s.finish(
        ids,
        "max_fetch 2: a fetch of 3 is schema.range, a fetch of 2 succeeds",
        &["FetchRange"],
    )?);

    let slug = "delete-above-max";
    let mut s = Script::new(slug, SMALL);
    let a = s.key("a");
    let names: Vec<ItemId> = (1..=5).map(|n| item(slug, n)).collect();
    tick(&mut s, 0);
    s.send(
        Request::Delete {
            mailbox: *a.id(),
            proof: Script::prove(&a, Operation::Delete),
            items: names.clone(),
        },
        Want::Fail("schema.length"),
    )?;
    tick(&mut s, 0);
    s.delete(&a, names.get(..4).unwrap_or_default(), 0)?;
    tests.push(s.finish(
        ids,
        "max_delete 4: a delete naming 5 items is schema.length (the connection stays open); 4 items are accepted",
        &["FetchRange"],
    )?);

    let slug = "envelope-too-large";
    let mut s = Script::new(slug, SMALL);
    let a = s.key("a");
    let max = SMALL.max_envelope as usize;
    tick(&mut s, 0);
    crate::rows! { s.send:
        put(a.id(), item(slug, 1), &bytes(slug, max + 1), TTL), Want::Fail("relay.too_large");
    }
    tick(&mut s, 0);
    s.put(a.id(), item(slug, 1), &bytes(slug, max), TTL, true)?;
    let x = s.expiry_offset(TTL);
    tick(&mut s, 0);
    s.fetch(&a, None, &[(item(slug, 1), &bytes(slug, max), x)], false)?;
    tests.push(s.finish(
        ids,
        "max_envelope 1024: an envelope of 1025 bytes is relay.too_large; one of 1024 is stored and returned",
        &["SizeLimit", "Blindness"],
    )?);

    let slug = "attachment-too-large";
    let mut s = Script::new(slug, SMALL);
    let max = SMALL.max_attachment as usize;
    // A blob put frame of exactly max_frame bytes: decoded, then refused for its size.
    let at_frame_limit = (max..)
        .map(|len| RequestFrame {
            id: 2,
            request: Request::BlobPut { blob: bytes(slug, len), ttl: TTL },
        })
        .find(|f| f.encode().len() >= SMALL.max_frame as usize)
        .ok_or("no frame")?;
    if at_frame_limit.encode().len() != SMALL.max_frame as usize {
        return Err("relay attachment-too-large: no frame of exactly max_frame".to_owned());
    }
    tick(&mut s, 0);
    crate::rows! { s.send:
        Request::BlobPut { blob: bytes(slug, max + 1), ttl: TTL }, Want::Fail("relay.too_large");
    }
    tick(&mut s, 0);
    s.next_id();
    s.raw(at_frame_limit.encode(), Want::Fail("relay.too_large"))?;
    tick(&mut s, 0);
    let blob = bytes(slug, max);
    s.send(Request::BlobPut { blob: blob.clone(), ttl: TTL }, Want::Ok)?
        .expect_reply(&Reply::BlobStored { blob_id: blob_id(&blob) })?;
    tests.push(s.finish(
        ids,
        "max_attachment 2048: blobs of 2049 bytes, and of a frame of exactly max_frame bytes, are relay.too_large; one of 2048 is stored",
        &["SizeLimit", "Blob"],
    )?);

    let slug = "frame-too-large";
    let mut s = Script::new(slug, SMALL);
    let a = s.key("a");
    let over = (SMALL.max_attachment as usize..)
        .map(|len| {
            RequestFrame { id: 1, request: Request::BlobPut { blob: bytes(slug, len), ttl: TTL } }
                .encode()
        })
        .find(|f| f.len() > SMALL.max_frame as usize)
        .ok_or("no frame")?;
    if over.len() != SMALL.max_frame as usize + 1 {
        return Err(format!("relay frame-too-large: {} bytes", over.len()));
    }
    tick(&mut s, 0);
    s.raw(over, Want::Close("relay.frame_too_large"))?;
    tick(&mut s, 0);
    crate::rows! { s.send:
        put(a.id(), item(slug, 1), &bytes(slug, 40), TTL), Want::Closed;
    }
    tests.push(s.finish(
        ids,
        "a frame of max_frame + 1 bytes: relay.frame_too_large before any decoding (id 0), and the connection closes",
        &["SizeLimit", "Decoding"],
    )?);

    let slug = "subscriptions-limit";
    let mut s = Script::new(slug, SMALL);
    let keys = [s.key("a"), s.key("b"), s.key("c")];
    let [a, b, c] = &keys;
    tick(&mut s, 0);
    s.subscribe(a)?;
    tick(&mut s, 0);
    s.subscribe(b)?;
    tick(&mut s, 0);
    crate::rows! { s.send:
        Request::Subscribe { mailbox: *c.id(), proof: Script::prove(c, Operation::Subscribe) },
            Want::Fail("relay.subscriptions");
    }
    tick(&mut s, 0);
    s.subscribe(a)?;
    tests.push(s.finish(
        ids,
        "max_subscriptions 2: a third mailbox is relay.subscriptions; subscribing again to one already subscribed is accepted",
        &["Subscriptions"],
    )?);

    // The rate tests run on their own clock: the bucket starts full (burst 3) and refills one
    // token per 1000 ms (rate 1).
    let slug = "rate-limit";
    let mut s = Script::new(slug, SMALL);
    let a = s.key("a");
    let empty = |s: &mut Script| s.fetch(&a, None, &[], false);
    let limited = |s: &mut Script| {
        s.send(fetch(a.id(), Script::prove(&a, Operation::Fetch), None), Want::Fail("relay.rate"))
            .map(|_| ())
    };
    for _ in 0..3 {
        empty(&mut s)?;
    }
    limited(&mut s)?;
    s.at(0, 999);
    limited(&mut s)?;
    s.at(0, 1000);
    empty(&mut s)?;
    limited(&mut s)?;
    s.at(0, 3500);
    empty(&mut s)?;
    empty(&mut s)?;
    limited(&mut s)?;
    s.at(0, 100_000);
    for _ in 0..3 {
        empty(&mut s)?;
    }
    limited(&mut s)?;
    tests.push(s.finish(
        ids,
        "burst 3, rate 1 per second: three requests at once, then relay.rate until a token refills after 1000 ms; 2500 ms give two tokens; a long pause refills only up to the burst",
        &["Rate"],
    )?);

    let slug = "rate-unknown-operation";
    let mut s = Script::new(slug, SMALL);
    let a = s.key("a");
    for _ in 0..3 {
        s.fetch(&a, None, &[], false)?;
    }
    let id = s.next_id();
    crate::rows! { s.raw:
        frame(&[(1, raw::head(0, 1)), (2, raw::head(0, u64::from(id))), (3, raw::head(0, 7))]),
            Want::Fail("relay.rate");
    }
    tests.push(s.finish(
        ids,
        "an unknown operation costs a token like any answered request: with the bucket empty it is relay.rate",
        &["Rate", "UnknownOperation"],
    )?);

    Ok(tests)
}
