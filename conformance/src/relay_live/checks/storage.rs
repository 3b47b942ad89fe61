//! What the relay stores and returns: durability, idempotent retries, owner-only access,
//! wakes, blobs, expiry rounding and blindness (**[RLY-05]** to **[RLY-09]**, **[RLY-11]**).

use std::time::Duration;

use quietwire::cbor::{self, Value};
use quietwire::mailbox::Operation;
use quietwire::relay::{self, Reply, Request, ServerFrame};

use super::super::conn::Conn;
use super::super::sessions::{Window, frame_text, unix_now};
use super::super::{Restart, Verdict, websocket_url};
use super::{Checked, Ctx, expect_error, expect_ok, fetch, items, put, unoffered};

pub(super) async fn durable_ack(ctx: &Ctx) -> Checked {
    let key = ctx.key();
    let (item, data) = (ctx.item(), ctx.bytes(777));
    let mut a = ctx.open().await?;
    let frame = a.request(put(&key, item, data.clone(), 3600)).await?;
    expect_ok(&frame, "put")?;
    let mut b = ctx.open().await?;
    let frame = b.request(fetch(&key, &b.challenge, None)).await?;
    let got = items(&frame, "fetch from a new connection")?;
    Ok(match got.as_slice() {
        [one] if one.id == item && one.envelope == data => {
            Verdict::Pass("fetched byte for byte from a new connection".to_owned())
        }
        _ => Verdict::Fail(format!(
            "a new connection fetched {} item(s), not the acknowledged one",
            got.len()
        )),
    })
}

/// Puts an item, kills and restarts the relay, and fetches it from the restarted relay.
pub(crate) fn durable_restart(
    runtime: &tokio::runtime::Runtime,
    ctx: &Ctx,
    restart: &mut dyn Restart,
) -> Verdict {
    let key = ctx.key();
    let (item, data) = (ctx.item(), ctx.bytes(500));
    let stored = runtime.block_on(async {
        let mut a = ctx.open().await?;
        let frame = a.request(put(&key, item, data.clone(), 3600)).await?;
        expect_ok(&frame, "put")
    });
    if let Err(e) = stored {
        return Verdict::Fail(e);
    }
    let url = match restart.restart() {
        Ok(url) => websocket_url(&url),
        Err(e) => return Verdict::Fail(format!("restarting the relay: {e}")),
    };
    let fetched = runtime.block_on(async {
        let mut b = Conn::open(&url, ctx.timeout).await?;
        let frame = b.request(fetch(&key, &b.challenge, None)).await?;
        items(&frame, "fetch after the restart")
    });
    match fetched {
        Ok(got) if got.iter().any(|i| i.id == item && i.envelope == data) => Verdict::Pass(
            "acknowledged, relay killed (SIGKILL) and restarted, item fetched byte for byte"
                .to_owned(),
        ),
        Ok(_) => {
            Verdict::Fail("the acknowledged item is gone after the relay was killed".to_owned())
        }
        Err(e) => Verdict::Fail(e),
    }
}

pub(super) async fn idempotent_retry(ctx: &Ctx) -> Checked {
    let key = ctx.key();
    let (item, data) = (ctx.item(), ctx.bytes(300));
    let mut a = ctx.open().await?;
    expect_ok(
        &a.request(put(&key, item, data.clone(), 3600)).await?,
        "put",
    )?;
    a.close().await;
    let mut b = ctx.open().await?;
    expect_ok(
        &b.request(put(&key, item, data.clone(), 3600)).await?,
        "the retry on a new connection",
    )?;
    let frame = b.request(put(&key, item, ctx.bytes(300), 3600)).await?;
    expect_error(
        &frame,
        "relay.conflict",
        false,
        "the same item id with other bytes",
    )?;
    let got = items(&b.request(fetch(&key, &b.challenge, None)).await?, "fetch")?;
    Ok(match got.as_slice() {
        [one] if one.envelope == data => {
            Verdict::Pass("stored once; other bytes refused".to_owned())
        }
        _ => Verdict::Fail(format!("{} items after a retried put", got.len())),
    })
}

pub(super) async fn owner_only(ctx: &Ctx, op: Operation) -> Checked {
    let (owner, other) = (ctx.key(), ctx.key());
    let (item, data) = (ctx.item(), ctx.bytes(64));
    let mut a = ctx.open().await?;
    expect_ok(
        &a.request(put(&owner, item, data.clone(), 3600)).await?,
        "put",
    )?;
    let mut b = ctx.open().await?;
    let request = |proof: Vec<u8>| match op {
        Operation::Delete => Request::Delete {
            mailbox: *owner.id(),
            proof,
            items: vec![item],
        },
        _ => Request::Fetch {
            mailbox: *owner.id(),
            proof,
            max: None,
        },
    };
    let wrong_op = if op == Operation::Fetch {
        Operation::Delete
    } else {
        Operation::Fetch
    };
    let attempts = [
        (
            a.challenge.prove(&owner, op),
            "mailbox.proof",
            "a proof for the first connection's challenge",
        ),
        (
            b.challenge.prove(&other, op),
            "mailbox.key",
            "a valid proof of another mailbox's key",
        ),
        (
            b.challenge.prove(&owner, wrong_op),
            "mailbox.proof",
            "the owner's proof for another operation",
        ),
    ];
    for (proof, class, what) in attempts {
        let frame = b.request(request(proof)).await?;
        expect_error(&frame, class, false, what)?;
    }
    let got = items(
        &b.request(fetch(&owner, &b.challenge, None)).await?,
        "the owner's fetch",
    )?;
    if !got.iter().any(|i| i.id == item && i.envelope == data) {
        return Ok(Verdict::Fail(
            "the item is gone after refused requests".to_owned(),
        ));
    }
    if op == Operation::Delete {
        match b.request(request(b.challenge.prove(&owner, op))).await? {
            ServerFrame::Ok {
                reply: Reply::Deleted { count: 1 },
                ..
            } => {}
            other => {
                return Ok(Verdict::Fail(format!(
                    "the owner's delete: {}",
                    frame_text(&other)
                )));
            }
        }
    }
    Ok(Verdict::Pass(
        "every foreign proof refused with its class; the owner's works".to_owned(),
    ))
}

pub(super) async fn delete_durable(ctx: &Ctx) -> Checked {
    let key = ctx.key();
    let item = ctx.item();
    let mut a = ctx.open().await?;
    expect_ok(
        &a.request(put(&key, item, ctx.bytes(64), 3600)).await?,
        "put",
    )?;
    let request = Request::Delete {
        mailbox: *key.id(),
        proof: a.challenge.prove(&key, Operation::Delete),
        items: vec![item],
    };
    expect_ok(&a.request(request).await?, "delete")?;
    let mut b = ctx.open().await?;
    let got = items(&b.request(fetch(&key, &b.challenge, None)).await?, "fetch")?;
    Ok(if got.is_empty() {
        Verdict::Pass("gone for a new connection".to_owned())
    } else {
        Verdict::NotMet("a new connection still fetches the deleted item".to_owned())
    })
}

pub(super) async fn wakes(ctx: &Ctx, repeat: bool) -> Checked {
    let key = ctx.key();
    let mut a = ctx.open().await?;
    let subscribe = Request::Subscribe {
        mailbox: *key.id(),
        proof: a.challenge.prove(&key, Operation::Subscribe),
    };
    expect_ok(&a.request(subscribe).await?, "subscribe")?;
    let mut b = ctx.open().await?;
    let (item, data) = (ctx.item(), ctx.bytes(80));
    expect_ok(
        &b.request(put(&key, item, data.clone(), 3600)).await?,
        "put",
    )?;
    let deadline = tokio::time::Instant::now() + ctx.timeout;
    while a.wakes.is_empty() && tokio::time::Instant::now() < deadline {
        a.collect_wakes(Duration::from_millis(50)).await?;
    }
    if a.wakes.as_slice() != [*key.id()] {
        return Ok(Verdict::Fail(format!(
            "after a put into the subscribed mailbox: {} wake(s) for it",
            a.wakes.iter().filter(|w| *w == key.id()).count()
        )));
    }
    if !repeat {
        return Ok(Verdict::Pass(
            "one wake with exactly version, id 0, kind 3 and the mailbox".to_owned(),
        ));
    }
    expect_ok(
        &b.request(put(&key, item, data, 3600)).await?,
        "the repeated put",
    )?;
    a.collect_wakes(Duration::from_millis(700)).await?;
    Ok(if a.wakes.len() == 1 {
        Verdict::Pass("no wake for the repeated put".to_owned())
    } else {
        Verdict::Fail("the repeated put woke the subscriber".to_owned())
    })
}

pub(super) async fn blob_exact(ctx: &Ctx) -> Checked {
    let blob = ctx.bytes(3000);
    let mut a = ctx.open().await?;
    let frame = a
        .request(Request::BlobPut {
            blob: blob.clone(),
            ttl: 3600,
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
        other => return Ok(Verdict::Fail(format!("blob-put: {}", frame_text(other)))),
    }
    let mut b = ctx.open().await?;
    let frame = b
        .request(Request::BlobGet {
            blob_id: relay::blob_id(&blob),
        })
        .await?;
    Ok(match frame {
        ServerFrame::Ok {
            reply: Reply::Blob { blob: got },
            ..
        } if got == blob => Verdict::Pass("3000 random bytes back, byte for byte".to_owned()),
        other => Verdict::Fail(format!(
            "blob-get from a new connection: {}",
            frame_text(&other)
        )),
    })
}

pub(super) async fn expiry_rounding(ctx: &Ctx) -> Checked {
    let key = ctx.key();
    let ttl = 3617.min(ctx.limits.max_ttl);
    let mut a = ctx.open().await?;
    let sent = unix_now();
    expect_ok(
        &a.request(put(&key, ctx.item(), ctx.bytes(40), ttl)).await?,
        "put",
    )?;
    let window = Window::of(sent, unix_now(), u64::from(ttl));
    let got = items(&a.request(fetch(&key, &a.challenge, None)).await?, "fetch")?;
    let Some(first) = got.first() else {
        return Ok(Verdict::Fail("the item is not fetched".to_owned()));
    };
    Ok(match window.check(first.expires) {
        Ok(()) => Verdict::Pass(format!("ttl {ttl}: expiry {}", first.expires)),
        Err(e) => Verdict::Fail(e),
    })
}

pub(super) async fn blind_envelopes(ctx: &Ctx) -> Checked {
    let key = ctx.key();
    let other = ctx.key();
    let max = ctx.limits.max_envelope as usize;
    let envelope_for_other = quietwire::envelope::Envelope::new(*other.id(), ctx.bytes(512 - 40))
        .map(|e| e.to_bytes())
        .unwrap_or_else(|_| ctx.bytes(600));
    let payloads: Vec<Vec<u8>> = vec![
        vec![0],
        ctx.bytes(777),
        vec![0; 512],
        envelope_for_other,
        cbor::encode(&Value::Text("not an envelope".to_owned())),
        b"{\"json\": true}".to_vec(),
        vec![0xff; max],
    ];
    let mut a = ctx.open().await?;
    let mut sent = Vec::new();
    for data in &payloads {
        let item = ctx.item();
        let frame = a.request(put(&key, item, data.clone(), 3600)).await?;
        expect_ok(&frame, &format!("a put of {} bytes", data.len()))?;
        sent.push((item, data.clone()));
    }
    let mut fetched = Vec::new();
    for _ in 0..payloads.len() {
        let got = items(&a.request(fetch(&key, &a.challenge, None)).await?, "fetch")?;
        if got.is_empty() {
            break;
        }
        let request = Request::Delete {
            mailbox: *key.id(),
            proof: a.challenge.prove(&key, Operation::Delete),
            items: got.iter().map(|i| i.id).collect(),
        };
        expect_ok(&a.request(request).await?, "delete")?;
        fetched.extend(got.into_iter().map(|i| (i.id, i.envelope)));
    }
    Ok(if fetched == sent {
        Verdict::Pass(format!(
            "{} envelopes of any content stored and returned byte for byte, in order",
            sent.len()
        ))
    } else {
        Verdict::Fail(format!(
            "sent {} envelopes, fetched {} that differ in bytes or order",
            sent.len(),
            fetched.len()
        ))
    })
}

pub(super) async fn blind_blobs(ctx: &Ctx) -> Checked {
    let blobs: Vec<Vec<u8>> = vec![
        vec![0],
        ctx.bytes(2048),
        cbor::encode(&Value::Text("not a blob".to_owned())),
        vec![0; 100],
    ];
    let mut a = ctx.open().await?;
    for blob in &blobs {
        let frame = a
            .request(Request::BlobPut {
                blob: blob.clone(),
                ttl: 3600,
            })
            .await?;
        if let Some(v) = unoffered(&frame, "blob") {
            return Ok(v);
        }
        expect_ok(&frame, &format!("a blob of {} bytes", blob.len()))?;
        match a
            .request(Request::BlobGet {
                blob_id: relay::blob_id(blob),
            })
            .await?
        {
            ServerFrame::Ok {
                reply: Reply::Blob { blob: got },
                ..
            } if got == *blob => {}
            other => return Ok(Verdict::Fail(format!("blob-get: {}", frame_text(&other)))),
        }
    }
    Ok(Verdict::Pass(format!(
        "{} blobs returned byte for byte",
        blobs.len()
    )))
}
