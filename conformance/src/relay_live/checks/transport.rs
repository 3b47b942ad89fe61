//! Transport and decoding: binary frames, the welcome and its challenge, what closes a
//! connection and what does not, answer order, oversized messages, and one connection not
//! blocking another (**[RLY-01]** to **[RLY-03]**, **[RLY-12]**).

use quietwire::cbor::{self, Int, Value};
use quietwire::relay::{self, Request, ServerFrame};

use super::super::Verdict;
use super::super::conn::{self, Got, describe};
use super::super::sessions::frame_text;
use super::{Checked, Ctx, expect_ok, fetch, items, put};

pub(super) async fn binary_welcome(ctx: &Ctx) -> Checked {
    let mut ws = conn::connect(&ctx.url, ctx.timeout).await?;
    Ok(match conn::receive(&mut ws, ctx.timeout).await {
        Got::Binary(b) => Verdict::Pass(format!("a binary message of {} bytes", b.len())),
        other => Verdict::Fail(format!("the first message is {}", describe(&other))),
    })
}

pub(super) async fn text_closes(ctx: &Ctx) -> Checked {
    let mut a = ctx.open().await?;
    let mut b = ctx.open().await?;
    a.send_text("{\"op\":\"put\"}").await?;
    if let Err(e) = a.expect_closed(ctx.timeout).await {
        return Ok(Verdict::Fail(format!("after a text message: {e}")));
    }
    let key = ctx.key();
    let frame = b.request(put(&key, ctx.item(), ctx.bytes(40), 60)).await?;
    expect_ok(&frame, "a put on another connection")?;
    Ok(Verdict::Pass(
        "closed without an error frame; the other connection still works".to_owned(),
    ))
}

pub(super) fn tls_or_loopback(ctx: &Ctx) -> Verdict {
    let url = ctx
        .given
        .first()
        .cloned()
        .unwrap_or_else(|| ctx.url.clone());
    if url.starts_with("wss://") {
        Verdict::Pass("wss://".to_owned())
    } else if conn::is_loopback(&url) {
        Verdict::Pass("ws:// on a loopback address".to_owned())
    } else {
        Verdict::Info(format!(
            "{url}: plain ws:// to a host that is not a loopback address is allowed in tests only"
        ))
    }
}

/// How long the tester waits for a relay to close a connection that sends nothing.
const HALF_OPEN_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// **[RLY-15]**: a TCP connection that sends nothing (no TLS hello, no HTTP request) is
/// closed by the relay.
pub(super) async fn half_open_closed(ctx: &Ctx) -> Checked {
    use tokio::io::AsyncReadExt;
    let mut tcp = conn::tcp(&ctx.url).await?;
    let closed = tokio::time::timeout(HALF_OPEN_WAIT, async {
        let mut buf = [0u8; 512];
        // A relay may answer something (an HTTP error) before it closes.
        while let Ok(n) = tcp.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    Ok(match closed {
        Ok(()) => Verdict::Pass("the relay closed a connection that sent nothing".to_owned()),
        Err(_) => Verdict::Fail(format!(
            "a connection that sent nothing was still open after {} s",
            HALF_OPEN_WAIT.as_secs()
        )),
    })
}

pub(super) async fn welcome_first(ctx: &Ctx) -> Checked {
    let conn = ctx.open().await?;
    let limits = conn.limits;
    conn.close().await;
    Ok(if limits.is_valid() {
        Verdict::Pass("a welcome with id 0, a 32-byte challenge and valid limits".to_owned())
    } else {
        Verdict::Fail(format!("the announced limits are not valid: {limits:?}"))
    })
}

pub(super) async fn fresh_challenge(ctx: &Ctx) -> Checked {
    let mut seen = Vec::new();
    for _ in 0..8 {
        let conn = ctx.open().await?;
        seen.push(conn.challenge.bytes);
        conn.close().await;
    }
    let mut distinct = seen.clone();
    distinct.sort_unstable();
    distinct.dedup();
    Ok(if distinct.len() != seen.len() {
        Verdict::Fail("two connections got the same challenge".to_owned())
    } else if seen.contains(&[0; 32]) {
        Verdict::Fail("a challenge is all zero".to_owned())
    } else {
        Verdict::Pass("8 distinct challenges".to_owned())
    })
}

pub(super) async fn malformed_closes(ctx: &Ctx) -> Checked {
    let mut a = ctx.open().await?;
    let mut b = ctx.open().await?;
    let key = ctx.key();
    a.send(vec![0xff, 0x00, 0xff]).await?;
    let _ = a
        .send_request(put(&key, ctx.item(), ctx.bytes(40), 60))
        .await;
    let (frame, _) = a.reply().await?;
    match &frame {
        ServerFrame::Error {
            class,
            closing: true,
            ..
        } if class.starts_with("cbor.") => {}
        other => {
            return Ok(Verdict::Fail(format!(
                "a non-CBOR message: expected a cbor.* error with closing = true, got {}",
                frame_text(other)
            )));
        }
    }
    if let Err(e) = a.expect_closed(ctx.timeout).await {
        return Ok(Verdict::Fail(format!("after the closing error frame: {e}")));
    }
    let frame = b.request(fetch(&key, &b.challenge, None)).await?;
    let got = items(&frame, "fetch on another connection")?;
    Ok(if got.is_empty() {
        Verdict::Pass(
            "one error frame, closed, nothing after it acted on; the other connection works"
                .to_owned(),
        )
    } else {
        Verdict::Fail("the put sent after the malformed message was stored".to_owned())
    })
}

pub(super) fn raw_request(id: u32, op: u64) -> Vec<u8> {
    let map = [
        (1, Value::uint(1)),
        (2, Value::uint(u64::from(id))),
        (3, Value::uint(op)),
    ]
    .into_iter()
    .map(|(k, v)| (Int::uint(k), v))
    .collect();
    cbor::encode(&Value::Map(map))
}

pub(super) async fn unknown_operation(ctx: &Ctx) -> Checked {
    let mut a = ctx.open().await?;
    let id = a.id();
    a.send(raw_request(id, 99)).await?;
    let (frame, _) = a.reply().await?;
    match &frame {
        ServerFrame::Error {
            id: got,
            class,
            closing: false,
        } if class == "relay.operation" && *got == id => {}
        other => {
            return Ok(Verdict::Fail(format!(
                "operation 99: expected error relay.operation (id {id}, closing = false), got {}",
                frame_text(other)
            )));
        }
    }
    let frame = a
        .request(put(&ctx.key(), ctx.item(), ctx.bytes(40), 60))
        .await?;
    expect_ok(&frame, "a put after it")?;
    Ok(Verdict::Pass(
        "answered relay.operation and stayed open".to_owned(),
    ))
}

pub(super) async fn answers_in_order(ctx: &Ctx) -> Checked {
    let mut a = ctx.open().await?;
    let key = ctx.key();
    let n = ctx.limits.burst.clamp(1, 20);
    let mut ids = Vec::new();
    for i in 0..n {
        let id = a.id();
        let bytes = match i % 4 {
            0 => relay::RequestFrame {
                id,
                request: put(&key, ctx.item(), ctx.bytes(40), 60),
            }
            .encode(),
            1 => relay::RequestFrame {
                id,
                request: fetch(&key, &a.challenge, None),
            }
            .encode(),
            2 => raw_request(id, 77),
            _ => relay::RequestFrame {
                id,
                request: Request::BlobGet {
                    blob_id: [0xee; 32],
                },
            }
            .encode(),
        };
        a.send(bytes).await?;
        ids.push(id);
    }
    for want in ids {
        let (frame, _) = a.reply().await?;
        let got = match &frame {
            ServerFrame::Ok { id, .. } | ServerFrame::Error { id, .. } => *id,
            other => return Ok(Verdict::Fail(format!("unexpected {}", frame_text(other)))),
        };
        if got != want {
            return Ok(Verdict::Fail(format!(
                "the answer to request {want} came with id {got}: answers must come in request order"
            )));
        }
    }
    Ok(Verdict::Pass(format!(
        "{n} pipelined requests answered in order"
    )))
}

pub(super) async fn too_large(ctx: &Ctx, oversized: bool) -> Checked {
    let max = ctx.limits.max_frame as usize;
    let len = if oversized { 2 * max + 1 } else { max + 1 };
    let mut a = ctx.open().await?;
    if let Err(e) = a.send(vec![0; len]).await {
        return Ok(if oversized {
            Verdict::Pass(format!("closed while the message was sent ({e})"))
        } else {
            Verdict::Fail(format!("a message of {len} bytes: {e}"))
        });
    }
    match a.next(ctx.timeout).await {
        Got::Binary(bytes) => {
            let frame = ServerFrame::decode(&bytes, u64::from(ctx.limits.max_frame))
                .map_err(|e| format!("the answer does not decode: {e:?}"))?;
            if let ServerFrame::Error {
                id: 0,
                class,
                closing: true,
            } = &frame
                && class == "relay.frame_too_large"
            {
                return Ok(match a.expect_closed(ctx.timeout).await {
                    Ok(()) => {
                        Verdict::Pass(format!("{len} bytes: relay.frame_too_large, then closed"))
                    }
                    Err(e) => Verdict::Fail(format!("after relay.frame_too_large: {e}")),
                });
            }
            Ok(Verdict::Fail(format!(
                "{len} bytes: expected error relay.frame_too_large (id 0, closing = true), got {}",
                frame_text(&frame)
            )))
        }
        Got::Closed(why) if oversized => Ok(Verdict::Pass(format!(
            "{len} bytes: closed without an error frame ({why})"
        ))),
        other => Ok(Verdict::Fail(format!(
            "{len} bytes: expected relay.frame_too_large, got {}",
            describe(&other)
        ))),
    }
}

pub(super) async fn no_blocking(ctx: &Ctx) -> Checked {
    let mut flood = ctx.open().await?;
    for _ in 0..300 {
        if flood
            .send_request(Request::BlobGet {
                blob_id: [0xcd; 32],
            })
            .await
            .is_err()
        {
            break;
        }
    }
    let key = ctx.key();
    let started = tokio::time::Instant::now();
    let mut b = ctx.open().await?;
    expect_ok(
        &b.request(put(&key, ctx.item(), ctx.bytes(40), 60)).await?,
        "put",
    )?;
    items(&b.request(fetch(&key, &b.challenge, None)).await?, "fetch")?;
    let elapsed = started.elapsed();
    drop(flood);
    Ok(Verdict::Pass(format!(
        "another connection was served in {} ms while one sent 300 requests and read nothing",
        elapsed.as_millis()
    )))
}
