//! The `relay-welcome` and `relay-frame-decode` tests: frames from the relay as a client
//! reads them.

use std::collections::BTreeMap;

use quietwire::UnixTime;
use quietwire::cbor::{self, Int, Value};
use quietwire::relay::limits::{MAX_ANNOUNCED_FRAME, MAX_ARRAY};
use quietwire::relay::{Connection, Item, Limits, Now, Reply, ServerFrame};

use super::script::challenge;
use super::sessions::SMALL;
use super::{FrameTest, Ids, WelcomeTest};
use crate::families::expect;
use crate::seeds::{seed16, seed32};

/// Welcome frames for a few limit sets.
pub fn welcome_tests(ids: &mut Ids) -> Result<Vec<WelcomeTest>, String> {
    let smallest = Limits {
        max_frame: 1025,
        max_envelope: 1,
        max_attachment: 1,
        max_items: 1,
        max_ttl: 1,
        max_fetch: 1,
        max_delete: 1,
        rate: 1,
        burst: 1,
        max_subscriptions: 1,
    };
    let largest_frame = MAX_ANNOUNCED_FRAME as u32;
    let largest = Limits {
        max_frame: largest_frame,
        max_envelope: largest_frame - 1024,
        max_attachment: largest_frame - 1024,
        max_items: u32::MAX,
        max_ttl: u32::MAX,
        max_fetch: MAX_ARRAY,
        max_delete: MAX_ARRAY,
        rate: u32::MAX,
        burst: u32::MAX,
        max_subscriptions: u32::MAX,
    };
    let mut tests = Vec::new();
    for (slug, comment, chal, limits) in crate::tuples! {
        "welcome-default", "the reference relay's limits, with the sessions' challenge",
            challenge(), Limits::DEFAULT;
        "welcome-small", "the small limits of the second session group",
            seed32("relay/welcome/small"), SMALL;
        "welcome-smallest", "the smallest coherent limits: every limit 1, max_frame 1025",
            seed32("relay/welcome/smallest"), smallest;
        "welcome-largest",
            "the largest announceable limits: max_frame 16 MiB + 4 KiB, max_fetch and max_delete 1024, every other count 2^32 - 1",
            seed32("relay/welcome/largest"),
            largest;
    } {
        if !limits.is_valid() {
            return Err(format!("relay {slug}: limits are not coherent"));
        }
        let conn = Connection::new(limits, Vec::new(), chal, Now { unix: UnixTime(0), millis: 0 });
        let welcome = conn.welcome();
        let decoded = ServerFrame::decode(&welcome, MAX_ANNOUNCED_FRAME)
            .map_err(|e| format!("relay {slug}: {e}"))?;
        if decoded != (ServerFrame::Welcome { challenge: chal, limits }) {
            return Err(format!("relay {slug}: decodes to {decoded:?}"));
        }
        let head = ids.head(slug, comment, &["Welcome"], None);
        tests.push(WelcomeTest::new(head, chal.to_vec(), limits.into(), welcome));
    }
    Ok(tests)
}

type Map = BTreeMap<Int, Value>;

/// `frame` with its map changed by `f`, re-encoded canonically.
fn changed(frame: &[u8], f: impl FnOnce(&mut Map)) -> Result<Vec<u8>, String> {
    match cbor::decode(frame, &cbor::Limits::DEFAULT.with_max_input(usize::MAX)) {
        Ok(Value::Map(mut map)) => {
            f(&mut map);
            Ok(cbor::encode(&Value::Map(map)))
        }
        other => Err(format!("relay frame: not a map: {other:?}")),
    }
}

fn set(map: &mut Map, key: i64, value: Value) {
    map.insert(Int::from(key), value);
}

/// Applies `f` to the limits map of a welcome frame.
fn in_limits(map: &mut Map, f: impl FnOnce(&mut Map)) {
    if let Some(Value::Map(limits)) = map.get_mut(&Int::uint(5)) {
        f(limits);
    }
}

fn kind_of(frame: &ServerFrame) -> &'static str {
    match frame {
        ServerFrame::Welcome { .. } => "welcome",
        ServerFrame::Ok { .. } => "ok",
        ServerFrame::Error { .. } => "error",
        ServerFrame::Wake { .. } => "wake",
    }
}

/// Frames for a client to decode.
pub fn decode_tests(ids: &mut Ids) -> Result<Vec<FrameTest>, String> {
    let max = u64::from(Limits::DEFAULT.max_frame);
    let mailbox = seed32("relay/mailbox/a");
    let item = |n: u32, len: usize, expires: u64| Item {
        id: seed16(&format!("relay/frames/item-{n}")),
        envelope: seed32(&format!("relay/frames/envelope-{n}"))
            .iter()
            .copied()
            .cycle()
            .take(len)
            .collect(),
        expires,
    };
    let ok = |id: u32, reply: Reply| ServerFrame::Ok { id, reply }.encode();
    let welcome = ServerFrame::Welcome { challenge: challenge(), limits: Limits::DEFAULT }.encode();
    let put_ok = ok(1, Reply::Stored);
    let fetch_ok = ok(
        4,
        Reply::Items {
            items: vec![item(1, 40, 1_800_007_200), item(2, 600, 1_800_010_800)],
            more: true,
        },
    );
    let error_frame =
        |id: u32, class: String, closing: bool| ServerFrame::Error { id, class, closing }.encode();
    let error = error_frame(7, "relay.conflict".to_owned(), false);
    let wake = ServerFrame::Wake { mailbox }.encode();
    let unknown_limits = changed(&welcome, |m| {
        in_limits(m, |l| {
            set(l, 11, Value::uint(5));
            set(l, -1, Value::Array(vec![Value::from(&b"later"[..])]));
        });
    })?;

    let mut tests = Vec::new();
    // Welcome frames are flagged as such too.
    let flags = |slug: &str| -> &[&str] {
        if slug.starts_with("welcome") { &["Welcome", "FrameDecoding"] } else { &["FrameDecoding"] }
    };
    let mut valid = |slug: &str, comment: &str, frame: Vec<u8>, reencoded: Option<Vec<u8>>| {
        let decoded = ServerFrame::decode(&frame, max).map_err(|e| format!("relay {slug}: {e}"))?;
        let encoded = decoded.encode();
        let want = reencoded.unwrap_or_else(|| frame.clone());
        if encoded != want {
            return Err(format!("relay {slug}: re-encodes to {}", hex::encode(&encoded)));
        }
        let head = ids.head(&format!("frame-{slug}"), comment, flags(slug), None);
        let kind = Some(kind_of(&decoded).to_owned());
        tests.push(FrameTest::new(head, frame, max, kind, Some(encoded)));
        Ok::<(), String>(())
    };
    crate::rows! { valid:
        "welcome", "a welcome frame with the default limits", welcome.clone(), None;
        "welcome-unknown-limits",
            "a welcome announcing limits this version does not know (keys 11 and -1): they are ignored, and not kept",
            unknown_limits, Some(welcome.clone());
        "ok-put", "a put stored", put_ok.clone(), None;
        "ok-fetch", "two fetched items, more remain", fetch_ok.clone(), None;
        "ok-fetch-empty", "nothing fetched", ok(2, Reply::Items { items: Vec::new(), more: false }),
            None;
        "ok-delete", "a delete count", ok(3, Reply::Deleted { count: 2 }), None;
        "ok-subscribe", "a subscription", ok(5, Reply::Subscribed), None;
        "ok-blob-put", "a stored blob's id",
            ok(6, Reply::BlobStored { blob_id: seed32("relay/frames/blob-id") }), None;
        "ok-blob-get", "a blob", ok(u32::MAX, Reply::Blob { blob: b"any bytes".to_vec() }), None;
        "error", "an error; the connection stays open", error.clone(), None;
        "error-closing", "an error for an unreadable request (id 0); the relay closes",
            error_frame(0, "cbor.truncated".to_owned(), true), None;
        "error-unknown-class",
            "an error class this version does not know, 64 bytes long: kept as text",
            error_frame(9, format!("relay.{}", "x".repeat(58)), false), None;
        "wake", "a wake-up for a subscribed mailbox", wake.clone(), None;
    }

    let mut invalid = |slug: &str, comment: &str, frame: Vec<u8>, max_frame: u64, class: &str| {
        expect(&format!("relay {slug}"), ServerFrame::decode(&frame, max_frame), Some(class))?;
        let head = ids.head(&format!("frame-{slug}"), comment, flags(slug), Some(class));
        tests.push(FrameTest::new(head, frame, max_frame, None, None));
        Ok::<(), String>(())
    };
    // The key-order frame is {2: 1, 1: 1, 3: 1, 14: 1}.
    crate::rows! { invalid:
        "oversized", "a frame one byte longer than the client accepts", fetch_ok.clone(),
            fetch_ok.len() as u64 - 1, "relay.frame_too_large";
        "trailing", "a frame with a byte after the map", [put_ok.clone(), vec![0]].concat(), max,
            "cbor.trailing";
        "key-order", "keys out of canonical order",
            vec![0xa4, 0x02, 0x01, 0x01, 0x01, 0x03, 0x01, 0x0e, 0x01], max,
            "cbor.noncanonical.key_order";
        "not-a-map", "an array", vec![0x82, 0x01, 0x01], max, "schema.wrong_type";
    }
    // `frame` with key `k` set to `v` or removed, and the welcome with limit `k` set to `v`.
    let with = |frame: &[u8], k: i64, v: Value| changed(frame, |x| set(x, k, v));
    let without = |frame: &[u8], k: u64| {
        changed(frame, |x| {
            x.remove(&Int::uint(k));
        })
    };
    let limit = |k: i64, v: Value| changed(&welcome, |x| in_limits(x, |l| set(l, k, v)));
    // `fetch_ok` with its items (key 7) replaced by one item of `fields`.
    let item_of = |fields: Vec<Value>| with(&fetch_ok, 7, Value::Array(vec![Value::Array(fields)]));
    let (id16, one) = (Value::from(&[0u8; 16][..]), Value::from(&[1u8][..]));
    let deleted = ok(3, Reply::Deleted { count: 1 });
    let blob_stored = ok(6, Reply::BlobStored { blob_id: [0; 32] });
    let mut at_max = |slug, comment, frame, class| invalid(slug, comment, frame, max, class);
    crate::rows! { at_max:
        "version-2", "version 2", with(&put_ok, 1, Value::uint(2))?, "schema.version";
        "no-kind", "no kind", without(&put_ok, 3)?, "schema.missing_field";
        "kind-text", "a kind that is a text string", with(&put_ok, 3, Value::from("ok"))?,
            "schema.wrong_type";
        "kind-4", "kind 4 is not defined", with(&wake, 3, Value::uint(4))?, "schema.range";
        "welcome-id-1", "a welcome with id 1 (unsolicited frames have id 0)",
            with(&welcome, 2, Value::uint(1))?, "schema.range";
        "welcome-challenge-31", "a 31-byte challenge",
            with(&welcome, 4, Value::from(&[0u8; 31][..]))?, "schema.length";
        "welcome-limits-not-map", "limits that are an array",
            with(&welcome, 5, Value::Array(Vec::new()))?, "schema.wrong_type";
        "welcome-no-rate", "limits without the rate (key 8)",
            changed(&welcome, |x| in_limits(x, |l| { l.remove(&Int::uint(8)); }))?,
            "schema.missing_field";
        "welcome-rate-0", "a rate of 0", limit(8, Value::uint(0))?, "schema.range";
        "welcome-limit-2-32", "a burst of 2^32", limit(9, Value::uint(1 << 32))?, "schema.range";
        "welcome-limit-text", "a max_items that is a text string", limit(4, Value::from("many"))?,
            "schema.wrong_type";
        "welcome-envelope-fills-frame",
            "max_envelope equal to max_frame: no room for the frame's own fields",
            limit(2, Value::uint(u64::from(Limits::DEFAULT.max_frame)))?, "schema.range";
        "welcome-frame-above-largest", "max_frame of 16 MiB + 4 KiB + 1",
            limit(1, Value::uint(MAX_ANNOUNCED_FRAME + 1))?, "schema.range";
        "ok-id-0", "an ok frame with id 0", with(&put_ok, 2, Value::uint(0))?, "schema.range";
        "ok-no-op", "an ok frame without its operation", without(&put_ok, 14)?,
            "schema.missing_field";
        "ok-unknown-op", "an ok frame for operation 7", with(&put_ok, 14, Value::uint(7))?,
            "relay.operation";
        "ok-extra-key", "a put's ok frame with a delete count", with(&put_ok, 9, Value::uint(1))?,
            "schema.unknown_critical";
        "ok-extension-key", "an ok frame with key -1: frames are closed",
            with(&put_ok, -1, Value::uint(0))?, "schema.unknown_critical";
        "ok-fetch-no-more", "a fetch reply without the more flag", without(&fetch_ok, 8)?,
            "schema.missing_field";
        "ok-fetch-item-short", "a fetched item of two elements",
            item_of(vec![id16.clone(), one.clone()])?, "schema.length";
        "ok-fetch-item-id-15", "a fetched item whose id has 15 bytes",
            item_of(vec![Value::from(&[0u8; 15][..]), one.clone(), Value::uint(1)])?,
            "schema.length";
        "ok-fetch-item-map", "a fetched item that is a map",
            with(&fetch_ok, 7, Value::Array(vec![Value::Map(Map::new())]))?, "schema.wrong_type";
        "ok-fetch-expires-negative", "a fetched item expiring at -1",
            item_of(vec![id16.clone(), one.clone(), Value::Int(Int::from(-1i64))])?,
            "schema.wrong_type";
        "ok-delete-count-2-32", "a delete count of 2^32", with(&deleted, 9, Value::uint(1 << 32))?,
            "schema.range";
        "ok-blob-put-id-31", "a blob id of 31 bytes",
            with(&blob_stored, 10, Value::from(&[0u8; 31][..]))?, "schema.length";
        "error-class-65", "an error class of 65 bytes",
            with(&error, 6, Value::Text(format!("relay.{}", "x".repeat(59))))?, "schema.length";
        "error-class-bytes", "an error class that is a byte string",
            with(&error, 6, Value::from(&b"relay.conflict"[..]))?, "schema.wrong_type";
        "error-no-closing", "an error without the closing flag", without(&error, 13)?,
            "schema.missing_field";
        "error-id-2-32", "an error for request id 2^32", with(&error, 2, Value::uint(1 << 32))?,
            "schema.range";
        "wake-id-1", "a wake with id 1", with(&wake, 2, Value::uint(1))?, "schema.range";
        "wake-mailbox-31", "a wake for a 31-byte mailbox id",
            with(&wake, 12, Value::from(&[0u8; 31][..]))?, "schema.length";
        "wake-extra-key", "a wake carrying a challenge",
            with(&wake, 4, Value::from(&[0u8; 32][..]))?, "schema.unknown_critical";
    }
    Ok(tests)
}
