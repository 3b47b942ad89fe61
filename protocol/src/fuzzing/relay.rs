//! Invariant checks: Mailbox proofs, relay requests and the relay core (spec/08-mailboxes-and-relay.md).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use super::check_class;
use super::handshake::vector_seed;
use crate::cbor;
use crate::{ErrorClass, UnixTime};

/// The relay origin of the vectors (`mailbox.json`, `relay.json`).
pub const VECTOR_ORIGIN: &str = "wss://relay.example";

/// [`VECTOR_ORIGIN`] as a [`RelayOrigin`](crate::mailbox::RelayOrigin).
pub fn vector_origin() -> crate::mailbox::RelayOrigin {
    crate::mailbox::RelayOrigin::from_canonical_const(VECTOR_ORIGIN)
}

/// Mailbox proofs, checked for the mailbox, challenge and origin of the `mailbox-verify`
/// vectors (rebuilt from the same named seeds) and the fetch operation. Invariants: a refusal
/// carries a registered class; an accepted proof is refused for every other operation and
/// for another challenge (`mailbox.proof`), and by a relay of another origin
/// (`mailbox.origin`).
pub fn mailbox_proof(data: &[u8]) -> bool {
    use crate::mailbox::{self, MailboxKey, Operation, RelayOrigin};
    let key = MailboxKey::from_seed(&vector_seed("mailbox/verify/seed"));
    let challenge = vector_seed("mailbox/verify/challenge");
    let origins = [vector_origin()];
    match mailbox::verify(key.id(), &challenge, &origins, Operation::Fetch, data) {
        Ok(()) => {
            for op in [Operation::Delete, Operation::Subscribe] {
                let other = mailbox::verify(key.id(), &challenge, &origins, op, data);
                assert_eq!(other.unwrap_err().class(), ErrorClass::MailboxProof);
            }
            let other = mailbox::verify(key.id(), &[0; 32], &origins, Operation::Fetch, data);
            assert_eq!(other.unwrap_err().class(), ErrorClass::MailboxProof);
            let elsewhere = RelayOrigin::parse("wss://other.example").map(|o| [o]);
            if let Ok(elsewhere) = elsewhere {
                let other =
                    mailbox::verify(key.id(), &challenge, &elsewhere, Operation::Fetch, data);
                assert_eq!(other.unwrap_err().class(), ErrorClass::MailboxOrigin);
            }
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    }
}

/// Relay frames in both directions. A request the relay decodes (with the default limits)
/// re-encodes to exactly the input and decodes again to the same request; a refusal carries a
/// registered class. A frame a client decodes (at the largest announceable size) re-encodes to
/// exactly the input, except a welcome announcing limits the client ignores (then the
/// re-encoding, without them, decodes to the same frame).
pub fn relay_request(data: &[u8]) -> bool {
    use crate::relay::limits::MAX_ANNOUNCED_FRAME;
    use crate::relay::{Limits, RequestFrame, ServerFrame};
    let request = match RequestFrame::decode(data, &Limits::DEFAULT) {
        Ok(request) => {
            let encoded = request.encode();
            assert_eq!(
                encoded, data,
                "request decode -> encode is not the identity"
            );
            assert_eq!(
                RequestFrame::decode(&encoded, &Limits::DEFAULT).unwrap(),
                request
            );
            true
        }
        Err(e) => {
            check_class(&e.error);
            false
        }
    };
    let frame = match ServerFrame::decode(data, MAX_ANNOUNCED_FRAME) {
        Ok(frame) => {
            let encoded = frame.encode();
            assert_eq!(
                ServerFrame::decode(&encoded, MAX_ANNOUNCED_FRAME).unwrap(),
                frame
            );
            let ignored_limits = match (
                &frame,
                cbor::decode(data, &cbor::Limits::DEFAULT.with_max_input(data.len())),
            ) {
                (ServerFrame::Welcome { .. }, Ok(cbor::Value::Map(map))) => !matches!(
                    map.get(&cbor::Int::uint(5)),
                    Some(cbor::Value::Map(limits)) if limits.len() == 10
                ),
                _ => false,
            };
            if !ignored_limits {
                assert_eq!(encoded, data, "frame decode -> encode is not the identity");
            }
            true
        }
        Err(e) => {
            check_class(&e);
            false
        }
    };
    request || frame
}

/// The limits of the `relay_core` target: small, so that every limit is reached in a few
/// frames.
pub const RELAY_LIMITS: crate::relay::Limits = crate::relay::Limits {
    max_frame: 4096,
    max_envelope: 2048,
    max_attachment: 2048,
    max_items: 3,
    max_ttl: 7200,
    max_fetch: 2,
    max_delete: 4,
    rate: 2,
    burst: 4,
    max_subscriptions: 2,
};

/// When the `relay_core` connection opens: the `T0` of `test-vectors/v1/relay.json`.
pub const RELAY_T0: u64 = 1_800_001_000;

/// One frame of a `relay_core` input and the time that passes before it.
#[derive(Clone, Copy, Debug)]
pub struct RelayRecord<'a> {
    /// Seconds to advance the wall clock, a multiple of 1800 up to 12600.
    pub seconds: u64,
    /// Milliseconds to advance the monotonic clock, a multiple of 125 up to 1875.
    pub millis: u64,
    /// Whether the store fails during this frame.
    pub store_unavailable: bool,
    /// The frame.
    pub frame: &'a [u8],
}

/// Splits a `relay_core` input into records: a tag byte (bits 0-3: milliseconds / 125;
/// bits 4-6: seconds / 1800; bit 7: the store fails), a big-endian 16-bit length and that
/// many bytes of frame (fewer at the end of the input).
pub fn relay_records(data: &[u8]) -> Vec<RelayRecord<'_>> {
    let mut records = Vec::new();
    let mut rest = data;
    while let Some((&tag, tail)) = rest.split_first() {
        let len = match tail {
            [hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
            _ => 0,
        };
        let body = tail.get(2..).unwrap_or_default();
        let (frame, after) = body.split_at(len.min(body.len()));
        records.push(RelayRecord {
            seconds: u64::from((tag >> 4) & 7) * 1800,
            millis: u64::from(tag & 0x0f) * 125,
            store_unavailable: tag & 0x80 != 0,
            frame,
        });
        rest = after;
    }
    records
}

/// The `relay_core` input of a scripted connection of `relay.json`: each step as
/// `(seconds, millis, store unavailable, request)`, its times relative to the step before (the
/// first to the connection's opening), rounded up to the record's units and capped at their
/// largest. `fuzz/seed-corpus.py` writes the same bytes.
pub fn relay_input(steps: &[(u64, u64, bool, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (seconds, millis, unavailable, frame) in steps {
        let s = seconds.div_ceil(1800).min(7) as u8;
        let m = millis.div_ceil(125).min(15) as u8;
        out.push(s << 4 | m | if *unavailable { 0x80 } else { 0 });
        let len = u16::try_from(frame.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&frame[..usize::from(len)]);
    }
    out
}

/// One relay connection ([`RELAY_LIMITS`], the challenge of `relay.json`, opened at
/// [`RELAY_T0`]) over a memory store, fed the frames of [`relay_records`] with advancing time.
/// Invariants: every reply until the connection closes is one ok or error frame that decodes
/// with the announced `max_frame`, re-encodes exactly, and echoes the request id when the
/// request got that far; an ok answers the request's operation and only decodable requests;
/// an error carries the registered class the core reports and closes exactly for the
/// malformed frames other than unknown operations; after a closing reply every reply is
/// empty; a wake follows only a stored put, for its mailbox; a fetch returns only items that
/// were acknowledged in that mailbox with those bytes, unexpired, with expiries on the hour,
/// at most `max` of them; a blob comes back as put; and no mailbox ever holds more than
/// `max_items` unexpired items.
pub fn relay_core(data: &[u8]) -> bool {
    use std::collections::{BTreeMap, BTreeSet};

    use crate::relay::{
        Connection, ItemId, Now, Reply, Request, RequestFrame, ServerFrame, blob_id,
    };
    let limits = RELAY_LIMITS;
    let max_frame = u64::from(limits.max_frame);
    let mut now = Now {
        unix: UnixTime(RELAY_T0),
        millis: 0,
    };
    let store = crate::relay::MemoryStore::new();
    let origins = vec![vector_origin()];
    let mut conn = Connection::new(limits, origins, vector_seed("relay/challenge"), now);
    assert!(matches!(
        ServerFrame::decode(&conn.welcome(), max_frame),
        Ok(ServerFrame::Welcome { limits: l, .. }) if l == limits
    ));
    let mut acknowledged: BTreeMap<([u8; 32], ItemId), Vec<u8>> = BTreeMap::new();
    let mut blobs: BTreeMap<[u8; 32], Vec<u8>> = BTreeMap::new();
    let mut mailboxes: BTreeSet<[u8; 32]> = BTreeSet::new();
    let mut closed = false;
    let mut any_ok = false;
    for record in relay_records(data) {
        now.unix = now.unix.saturating_add(record.seconds);
        now.millis += record.millis;
        let decoded = RequestFrame::decode(record.frame, &limits);
        store.set_unavailable(record.store_unavailable);
        let handled = conn.handle(record.frame, &store, now);
        store.set_unavailable(false);
        if closed {
            assert!(
                handled.reply.is_empty(),
                "a reply after the connection closed"
            );
            assert!(handled.close && handled.error.is_none() && handled.wake.is_none());
            continue;
        }
        let reply = ServerFrame::decode(&handled.reply, max_frame).expect("the reply decodes");
        assert_eq!(reply.encode(), handled.reply, "the reply is not canonical");
        let echo = match &decoded {
            Ok(r) => r.id,
            Err(e) => e.id.unwrap_or(0),
        };
        match &reply {
            ServerFrame::Ok { id, reply } => {
                any_ok = true;
                assert_eq!(*id, echo, "the reply does not echo the request id");
                assert!(handled.error.is_none() && !handled.close);
                let request = &decoded
                    .as_ref()
                    .expect("ok for a malformed request")
                    .request;
                assert_eq!(reply.op(), request.op());
                if let Some(woken) = handled.wake {
                    assert!(matches!(request, Request::Put { mailbox, .. } if *mailbox == woken));
                }
                match (request, reply) {
                    (
                        Request::Put {
                            mailbox,
                            item,
                            envelope,
                            ..
                        },
                        _,
                    ) => {
                        acknowledged.insert((*mailbox, *item), envelope.clone());
                        mailboxes.insert(*mailbox);
                    }
                    (Request::Fetch { mailbox, max, .. }, Reply::Items { items, .. }) => {
                        assert!(items.len() <= max.unwrap_or(limits.max_fetch) as usize);
                        for item in items {
                            assert_eq!(
                                acknowledged.get(&(*mailbox, item.id)),
                                Some(&item.envelope),
                                "a fetch returned an item that was not put"
                            );
                            assert!(item.expires > now.unix.as_secs(), "an expired item");
                            assert_eq!(item.expires % crate::relay::core::EXPIRY_GRANULARITY, 0);
                        }
                    }
                    (Request::Delete { items, .. }, Reply::Deleted { count }) => {
                        assert!(*count as usize <= items.len());
                    }
                    (Request::BlobPut { blob, .. }, Reply::BlobStored { blob_id: id }) => {
                        assert_eq!(*id, blob_id(blob));
                        blobs.insert(*id, blob.clone());
                    }
                    (Request::BlobGet { blob_id }, Reply::Blob { blob }) => {
                        assert_eq!(blobs.get(blob_id), Some(blob), "a blob that was not put");
                    }
                    _ => {}
                }
            }
            ServerFrame::Error { id, class, closing } => {
                assert_eq!(*id, echo, "the error does not echo the request id");
                assert_eq!(Some(class.as_str()), handled.error.map(ErrorClass::as_str));
                assert!(
                    ErrorClass::from_name(class).is_some(),
                    "unregistered class {class}"
                );
                assert_eq!(*closing, handled.close);
                let malformed = decoded
                    .as_ref()
                    .is_err_and(|e| e.error.class() != ErrorClass::RelayOperation);
                assert_eq!(handled.close, malformed, "closing for {class}");
                assert!(handled.wake.is_none(), "a failed request woke a mailbox");
                closed = handled.close;
            }
            other => panic!("an answer that is not ok or error: {other:?}"),
        }
        for mailbox in &mailboxes {
            let live = store
                .items(mailbox)
                .iter()
                .filter(|i| i.expires > now.unix.as_secs())
                .count();
            assert!(
                live <= limits.max_items as usize,
                "{live} items in a mailbox"
            );
        }
    }
    any_ok
}
