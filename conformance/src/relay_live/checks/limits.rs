//! Every announced limit enforced, the reference defaults, and the rate limit
//! (**[RLY-04]**, **[RLY-10]**).

use crate::relay_live::conn::Challenge;
use std::time::Duration;

use quietwire::mailbox::{MailboxKey, Operation};
use quietwire::relay::{self, Limits, Reply, Request, ServerFrame};

use super::super::Verdict;
use super::super::sessions::frame_text;
use super::{Checked, Ctx, expect_error, expect_ok, fetch, items, put, unoffered};

pub(super) async fn envelope_limit(ctx: &Ctx) -> Checked {
    let mut a = ctx.open().await?;
    let key = ctx.key();
    let max = ctx.limits.max_envelope as usize;
    let frame = a.request(put(&key, ctx.item(), ctx.bytes(max), 60)).await?;
    expect_ok(&frame, &format!("a put of {max} bytes"))?;
    let frame = a
        .request(put(&key, ctx.item(), ctx.bytes(max + 1), 60))
        .await?;
    expect_error(
        &frame,
        "relay.too_large",
        false,
        &format!("a put of {} bytes", max + 1),
    )?;
    Ok(Verdict::Pass(format!(
        "{max} bytes stored, {} refused",
        max + 1
    )))
}

pub(super) async fn attachment_limit(ctx: &Ctx) -> Checked {
    let mut a = ctx.open().await?;
    let max = ctx.limits.max_attachment as usize;
    let blob = ctx.bytes(max);
    let frame = a
        .request(Request::BlobPut {
            blob: blob.clone(),
            ttl: 60,
        })
        .await?;
    if let Some(v) = unoffered(&frame, "blob") {
        return Ok(v);
    }
    match &frame {
        ServerFrame::Ok {
            reply: Reply::BlobStored { blob_id },
            ..
        } if *blob_id == relay::blob_id(&blob) => {}
        other => {
            return Ok(Verdict::Fail(format!(
                "a blob of {max} bytes: {}",
                frame_text(other)
            )));
        }
    }
    let frame = a
        .request(Request::BlobPut {
            blob: ctx.bytes(max + 1),
            ttl: 60,
        })
        .await?;
    expect_error(
        &frame,
        "relay.too_large",
        false,
        &format!("a blob of {} bytes", max + 1),
    )?;
    Ok(Verdict::Pass(format!(
        "{max} bytes stored, {} refused",
        max + 1
    )))
}

pub(super) async fn ttl_limit(ctx: &Ctx) -> Checked {
    let mut a = ctx.open().await?;
    let key = ctx.key();
    let max = ctx.limits.max_ttl;
    let frame = a.request(put(&key, ctx.item(), ctx.bytes(40), max)).await?;
    expect_ok(&frame, &format!("ttl {max}"))?;
    if let Some(above) = max.checked_add(1) {
        let frame = a
            .request(put(&key, ctx.item(), ctx.bytes(40), above))
            .await?;
        expect_error(&frame, "relay.ttl", false, &format!("ttl {above}"))?;
    }
    let frame = a.request(put(&key, ctx.item(), ctx.bytes(40), 0)).await?;
    expect_error(&frame, "relay.ttl", false, "ttl 0")?;
    Ok(Verdict::Pass(format!(
        "ttl {max} stored; above it and 0 refused"
    )))
}

pub(super) async fn fetch_limit(ctx: &Ctx) -> Checked {
    let mut a = ctx.open().await?;
    let key = ctx.key();
    let max = ctx.limits.max_fetch;
    let frame = a.request(fetch(&key, &a.challenge, Some(max))).await?;
    items(&frame, &format!("max {max}"))?;
    if let Some(above) = max.checked_add(1) {
        let frame = a.request(fetch(&key, &a.challenge, Some(above))).await?;
        expect_error(&frame, "schema.range", false, &format!("max {above}"))?;
    }
    let frame = a.request(fetch(&key, &a.challenge, Some(0))).await?;
    expect_error(&frame, "schema.range", false, "max 0")?;
    Ok(Verdict::Pass(format!(
        "max {max} answered; above it and 0 refused"
    )))
}

pub(super) async fn delete_limit(ctx: &Ctx) -> Checked {
    let max = ctx.limits.max_delete as usize;
    if (max + 1) * 17 + 1024 > ctx.limits.max_frame as usize {
        return Ok(Verdict::Info(format!(
            "max_delete {max}: a list one longer does not fit a frame"
        )));
    }
    let mut a = ctx.open().await?;
    let key = ctx.key();
    let list = |n: usize| (0..n).map(|_| ctx.item()).collect::<Vec<_>>();
    let delete = |items: Vec<[u8; 16]>, challenge: &Challenge| Request::Delete {
        mailbox: *key.id(),
        proof: challenge.prove(&key, Operation::Delete),
        items,
    };
    let frame = a.request(delete(list(max), &a.challenge)).await?;
    match &frame {
        ServerFrame::Ok {
            reply: Reply::Deleted { count: 0 },
            ..
        } => {}
        other => return Ok(Verdict::Fail(format!("{max} ids: {}", frame_text(other)))),
    }
    let frame = a.request(delete(list(max + 1), &a.challenge)).await?;
    // The decoder's array limit (RLY-03 step 2): a longer list closes the connection.
    if max + 1 > quietwire::relay::limits::MAX_ARRAY as usize {
        expect_error(&frame, "cbor.limit.size", true, &format!("{} ids", max + 1))?;
    } else {
        expect_error(&frame, "schema.length", false, &format!("{} ids", max + 1))?;
    }
    Ok(Verdict::Pass(format!(
        "{max} ids answered, {} refused",
        max + 1
    )))
}

pub(super) async fn subscription_limit(ctx: &Ctx) -> Checked {
    let max = ctx.limits.max_subscriptions;
    if u64::from(max) + 2 > u64::from(ctx.limits.burst) {
        return Ok(Verdict::Info(format!(
            "max_subscriptions {max} needs more requests than the burst of {} allows at once",
            ctx.limits.burst
        )));
    }
    let mut a = ctx.open().await?;
    let keys: Vec<MailboxKey> = (0..=max).map(|_| ctx.key()).collect();
    let subscribe = |k: &MailboxKey, c: &Challenge| Request::Subscribe {
        mailbox: *k.id(),
        proof: c.prove(k, Operation::Subscribe),
    };
    let mut it = keys.iter();
    for (n, key) in it.by_ref().take(max as usize).enumerate() {
        let frame = a.request(subscribe(key, &a.challenge)).await?;
        expect_ok(&frame, &format!("subscription {}", n + 1))?;
    }
    if let Some(extra) = it.next() {
        let frame = a.request(subscribe(extra, &a.challenge)).await?;
        expect_error(
            &frame,
            "relay.subscriptions",
            false,
            &format!("subscription {}", max + 1),
        )?;
    }
    if let Some(first) = keys.first() {
        let frame = a.request(subscribe(first, &a.challenge)).await?;
        expect_ok(&frame, "subscribing again to the first mailbox")?;
    }
    Ok(Verdict::Pass(format!(
        "{max} accepted, one more refused, a repeat accepted"
    )))
}

pub(super) async fn item_limit(ctx: &Ctx) -> Checked {
    let max = ctx.limits.max_items as usize;
    let per_conn = (ctx.limits.burst as usize).saturating_sub(1).max(1);
    let conns = max.div_ceil(per_conn);
    if max > 5000 || conns > 64 {
        return Ok(Verdict::Info(format!(
            "max_items {max} with a burst of {}: too many connections to fill a mailbox quickly",
            ctx.limits.burst
        )));
    }
    let key = ctx.key();
    let items_put: Vec<([u8; 16], Vec<u8>)> =
        (0..max).map(|_| (ctx.item(), ctx.bytes(1))).collect();
    for chunk in items_put.chunks(per_conn) {
        let mut c = ctx.open().await?;
        for (item, data) in chunk {
            c.send_request(put(&key, *item, data.clone(), 3600)).await?;
        }
        for _ in chunk {
            let (frame, _) = c.reply().await?;
            expect_ok(&frame, "filling the mailbox")?;
        }
        c.close().await;
    }
    let mut a = ctx.open().await?;
    let frame = a.request(put(&key, ctx.item(), ctx.bytes(1), 3600)).await?;
    expect_error(
        &frame,
        "relay.mailbox_full",
        false,
        &format!("item {}", max + 1),
    )?;
    if let Some((item, data)) = items_put.first() {
        let frame = a.request(put(&key, *item, data.clone(), 3600)).await?;
        expect_ok(&frame, "repeating a held put in a full mailbox")?;
    }
    // Clean up what is left of the burst's worth; the rest expires.
    let mut cleaner = ctx.open().await?;
    for chunk in items_put
        .chunks(ctx.limits.max_delete.max(1) as usize)
        .take((ctx.limits.burst as usize).saturating_sub(1))
    {
        let request = Request::Delete {
            mailbox: *key.id(),
            proof: cleaner.challenge.prove(&key, Operation::Delete),
            items: chunk.iter().map(|(i, _)| *i).collect(),
        };
        if cleaner.request(request).await.is_err() {
            break;
        }
    }
    Ok(Verdict::Pass(format!(
        "{max} items stored over {conns} connections, then relay.mailbox_full"
    )))
}

pub(super) fn reference_defaults(ctx: &Ctx) -> Verdict {
    if ctx.limits == Limits::DEFAULT {
        Verdict::Pass("the reference defaults".to_owned())
    } else {
        Verdict::NotMet(format!(
            "announces {:?}; the reference defaults are {:?}",
            ctx.limits,
            Limits::DEFAULT
        ))
    }
}

pub(super) async fn rate_limited(ctx: &Ctx) -> Checked {
    let burst = ctx.limits.burst;
    if burst > 1000 {
        return Ok(Verdict::Info(format!(
            "a burst of {burst} is too large to exhaust quickly"
        )));
    }
    // A burst of requests on a fresh connection: the relay may serve at most `burst` plus
    // what its bucket refills while they arrive. On a slow machine the requests may arrive
    // so slowly that the relay is entitled to serve them all; then the batch is doubled on a
    // new connection (three tries) rather than failing a relay that did nothing wrong.
    let mut a = ctx.open().await?;
    let mut extra = 10u32;
    let (n, elapsed, served, limited) = loop {
        let n = burst + extra;
        let start = tokio::time::Instant::now();
        // Replies that have arrived are read between the requests: a relay may close a
        // client whose queue of replies is full (RLY-12), and the tester must not look like
        // one that stops reading.
        let mut replies = Vec::new();
        for _ in 0..n {
            a.send_request(Request::BlobGet {
                blob_id: [0xab; 32],
            })
            .await?;
            while let Some(frame) = a.ready_reply().await? {
                replies.push(frame);
            }
        }
        while replies.len() < n as usize {
            replies.push(a.reply().await?.0);
        }
        let (mut limited, mut served) = (0u64, 0u64);
        for frame in replies {
            match frame {
                ServerFrame::Error {
                    class,
                    closing: false,
                    ..
                } if class == "relay.rate" => limited += 1,
                ServerFrame::Ok { .. } | ServerFrame::Error { closing: false, .. } => served += 1,
                other => return Ok(Verdict::Fail(format!("unexpected {}", frame_text(&other)))),
            }
        }
        let elapsed = start.elapsed().as_millis() as u64;
        let allowed = u64::from(burst) + u64::from(ctx.limits.rate) * elapsed / 1000 + 1;
        let entitled_to_all = limited == 0 && served <= allowed && u64::from(n) <= allowed;
        if !entitled_to_all || extra >= 40 {
            break (n, elapsed, served, limited);
        }
        extra *= 2;
        a = ctx.open().await?;
    };
    let allowed = u64::from(burst) + u64::from(ctx.limits.rate) * elapsed / 1000 + 1;
    if served > allowed {
        return Ok(Verdict::Fail(format!(
            "{n} requests in {elapsed} ms: {served} served, {limited} refused with relay.rate (at most {allowed} may be served)"
        )));
    }
    if limited == 0 {
        return Ok(Verdict::Info(format!(
            "{n} requests took {elapsed} ms, slow enough that the relay may serve all of them (at most {allowed}): the rate limit could not be observed on this machine"
        )));
    }
    tokio::time::sleep(Duration::from_millis(
        1000 / u64::from(ctx.limits.rate.max(1)) + 50,
    ))
    .await;
    let frame = a
        .request(Request::BlobGet {
            blob_id: [0xab; 32],
        })
        .await?;
    if let ServerFrame::Error { class, .. } = &frame
        && class == "relay.rate"
    {
        return Ok(Verdict::Fail(
            "still relay.rate after waiting for a token".to_owned(),
        ));
    }
    Ok(Verdict::Pass(format!(
        "{n} requests in {elapsed} ms: {served} served, {limited} relay.rate; served again after a token's time"
    )))
}
