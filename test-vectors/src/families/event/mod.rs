//! `event.json`: every event kind, unknown kinds, and every way an event is refused
//! (spec/07-envelope.md, events).

use std::collections::BTreeMap;

use super::material::cases::{Cases, Named};
use super::{FlagDef, Ids, expect, file};
use crate::format::VectorFile;
use crate::seeds::{seed16, seed32};
use quietwire::cbor::{self, Int, Value};
use quietwire::event::{AttachmentRef, Body, Event};

mod device_record;

pub use device_record::DeviceRecordTest;

crate::vector_groups! {
    /// Groups of this family.
    pub enum EventGroup {
        /// Decode `event`: valid ones give `kind`, `messageId`, `critical`, `known` and must
        /// re-encode to the same bytes.
        "event-decode" => Decode(EventTest),
        /// A device record received in a `device-record` event (ENV-07): valid ones are kept
        /// (`generation`), invalid ones ignored for `errorClass`.
        "event-device-record" => DeviceRecord(DeviceRecordTest) {
            /// The receiver's allowed suites.
            allowed_suites: Vec<u64>,
        },
    }
}

crate::vector_test! {
    /// One event test.
    pub struct EventTest {
        /// The encoded event.
        event: hex,
        /// The kind id (valid tests only).
        kind: ?u64,
        /// The message id (valid tests only).
        message_id: hex?,
        /// Whether the event is critical (valid tests only).
        critical: ?bool,
        /// Whether the kind is registered; `false` means the receiver ignores the event
        /// (valid tests only).
        known: ?bool,
    }
}

const FLAGS: &[FlagDef] = crate::flag_defs! {
    Kind: Basic ["ENV-04", "ENV-05"] "An event of a registered kind with its body.";
    UnknownKind: Defined ["ENV-04"]
        "An unregistered kind: ignored when not critical, refused when critical.";
    Structure: MissingStep ["ENV-04", "ENV-05"] "An event or body outside its schema.";
    Extension: Defined ["ENV-04", "ENC-12"] "A negative key is kept and ignored.";
    RecordKept: Basic ["ENV-07", "IDN-06"]
        "A verified device record of the peer's identity and a higher generation replaces the one kept.";
    RecordIgnored: AuthBypass ["ENV-07", "IDN-05", "IDN-06"]
        "A device record that fails verification, is of another identity, or is not newer: ignored, the kept record stays.";
    CheckOrder: Defined ["ENV-07"]
        "A record failing several checks is ignored with the class of the first in ENV-07's order.";
};

fn attachment(name: &str, with_thumbnail: bool) -> AttachmentRef {
    AttachmentRef {
        locator: format!("blob/{name}"),
        key: seed32(&format!("event/{name}/key")),
        digest: seed32(&format!("event/{name}/digest")),
        size: 48_213,
        media_type: if with_thumbnail { "image/jpeg".to_owned() } else { String::new() },
        thumbnail: with_thumbnail.then(|| Box::new(attachment(&format!("{name}-thumb"), false))),
    }
}

/// One event of each registered kind, by slug.
fn bodies() -> Vec<(&'static str, Body)> {
    let call_id = seed16("event/call");
    let (m1, m2) = (seed16("event/m1"), seed16("event/m2"));
    let text = |text: &str, reply_to| Body::Text { text: text.to_owned(), reply_to };
    let payload = |p: &[u8]| p.to_vec();
    crate::tuples! { vec:
        "text", text("Hello, Quietwire ✓", None);
        "text-reply", text("yes", Some(seed16("event/earlier")));
        "attachment", Body::Attachment(attachment("photo", true));
        "call-offer", Body::CallOffer { call_id, payload: payload(b"v=0 (opaque offer)") };
        "call-answer", Body::CallAnswer { call_id, payload: payload(b"v=0 (opaque answer)") };
        "call-candidate", Body::CallCandidate { call_id, payload: payload(b"candidate (opaque)") };
        "call-hangup", Body::CallHangup { call_id, reason: 0 };
        "profile-update", Body::ProfileUpdate {
            display_name: Some("Ada".to_owned()),
            avatar: Some(attachment("avatar", false)),
        };
        "receipt-delivered", Body::ReceiptDelivered { ids: vec![m1, m2] };
        "receipt-read", Body::ReceiptRead { ids: vec![m1] };
        "mailbox-announcement", Body::MailboxAnnouncement {
            mailbox: seed32("event/new-mailbox"),
            relay_hints: vec!["wss://relay.quietwire.invalid".to_owned()],
            valid_from: 1_900_000_000,
        };
        "wake-up", Body::WakeUp;
        "session-reset", Body::SessionReset { reason: 1 };
    }
}

/// The encoding of an event of `kind` with a fixed message id, built field by field (so that
/// it can carry what the encoder refuses to write).
pub(super) fn raw(kind: u64, critical: bool, body: Value, extra: &[(Int, Value)]) -> Vec<u8> {
    let id = Value::from(&seed16("event/raw")[..]);
    let fields = [(1, Value::uint(1)), (2, Value::uint(kind)), (3, id), (4, Value::Bool(critical))];
    let mut map: BTreeMap<Int, Value> = extra.iter().cloned().collect();
    map.extend(fields.into_iter().chain([(5, body)]).map(|(k, v)| (Int::uint(k), v)));
    cbor::encode(&Value::Map(map))
}

/// A body map from unsigned keys.
pub(super) fn body_map(fields: &[(u64, Value)]) -> Value {
    Value::Map(fields.iter().map(|(k, v)| (Int::uint(*k), v.clone())).collect())
}

/// An event of `kind`, not critical, whose body has the fields `body`.
fn plain(kind: u64, body: &[(u64, Value)]) -> Vec<u8> {
    raw(kind, false, body_map(body), &[])
}

/// A byte string value.
fn bytes(b: &[u8]) -> Value {
    Value::from(b)
}

/// Builds the `event-decode` tests, checking each against the library.
struct Decode<'a> {
    ids: &'a mut Ids,
    tests: Vec<EventTest>,
}

impl Cases<Vec<u8>> for Decode<'_> {
    /// A test of `bytes`: a valid one (`class` `None`) must decode and re-encode to the same
    /// bytes; an invalid one must be refused with `class`.
    fn test(&mut self, n: Named<'_>, bytes: Vec<u8>, class: Option<&str>) -> Result<(), String> {
        let event = expect(&format!("event {}", n.slug), Event::from_bytes(&bytes), class)?;
        if let Some(event) = &event
            && event.to_bytes().map_err(|e| e.to_string())? != bytes
        {
            return Err(format!("event {}: does not re-encode", n.slug));
        }
        let head = n.head(self.ids, class);
        self.tests.push(EventTest::new(
            head,
            bytes,
            event.as_ref().map(|e| e.body().kind_id()),
            event.as_ref().map(|e| e.id().to_vec()),
            event.as_ref().map(Event::critical),
            event.as_ref().map(|e| e.body().kind().is_some()),
        ));
        Ok(())
    }
}

/// Generates `event.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<EventGroup>, String> {
    let mut ids = Ids::default();
    let mut d = Decode { ids: &mut ids, tests: Vec::new() };
    for (slug, body) in bodies() {
        let event = Event::with_id(seed16(&format!("event/{slug}/id")), body);
        crate::rows! { d.valid:
            slug, "a registered kind", &["Kind"], event.to_bytes().map_err(|e| e.to_string())?;
        }
    }
    let unknown_body = body_map(&[(1, Value::from("from the future"))]);
    crate::rows! { d.valid:
        "unknown-kind-ignored", "kind 4000, not critical: decoded and ignored", &["UnknownKind"],
            raw(4000, false, unknown_body.clone(), &[]);
        "extension-kept", "a negative key at the top level", &["Extension"],
            raw(11, false, body_map(&[]), &[(Int::nint(0), Value::from("x"))]);
    }

    let st = &["Structure"];
    let hint = |h: &str| Value::Array(vec![Value::from(h)]);
    // An event map field by field, without the defaults of `raw`.
    let fields = |fields: &[(u64, Value)]| cbor::encode(&body_map(fields));
    crate::rows! { d.invalid:
        "unknown-kind-critical", "kind 4000, critical: refused", &["UnknownKind"],
            raw(4000, true, unknown_body, &[]), "event.unknown_critical";
        "kind-0", "the reserved kind 0", st, plain(0, &[]), "event.kind";
        "text-missing", "a text event without its text", st, plain(1, &[]), "schema.missing_field";
        "text-not-text", "the text as a byte string", st, plain(1, &[(1, bytes(b"hi"))]),
            "schema.wrong_type";
        "text-unknown-body-key", "body key 3 is not defined for text", st,
            plain(1, &[(1, Value::from("hi")), (3, Value::uint(0))]), "schema.unknown_critical";
        "receipt-empty", "a receipt for no message", st, plain(8, &[(1, Value::Array(Vec::new()))]),
            "schema.length";
        "receipt-short-id", "a 15-byte message id", st,
            plain(9, &[(1, Value::Array(vec![bytes(&[0u8; 15])]))]), "schema.length";
        "announcement-bad-hint", "a mailbox announcement with an ftp:// relay hint", st,
            plain(10, &[(1, bytes(&[0u8; 32])), (2, hint("ftp://relay")), (3, Value::uint(0))]),
            "invite.relay_hint";
        "thumbnail-of-thumbnail", "a thumbnail with a media type (key 5)", st,
            raw(2, false, attachment_ref("blob/a", "image/png",
                &[(6, thumbnail("blob/t", 3, &[(5, Value::from("image/png"))]))]), &[]),
            "schema.unknown_critical";
        "body-not-a-map", "a wake-up whose body is an array", st,
            raw(11, false, Value::Array(Vec::new()), &[]), "schema.wrong_type";
        "id-short", "a 15-byte message id", st,
            fields(&[(1, Value::uint(1)), (2, Value::uint(11)), (3, bytes(&[0u8; 15])),
                (4, Value::Bool(false)), (5, body_map(&[]))]),
            "schema.length";
        "critical-missing", "no critical flag", st,
            fields(&[(1, Value::uint(1)), (2, Value::uint(11)), (3, bytes(&[0u8; 16])),
                (5, body_map(&[]))]),
            "schema.missing_field";
        "body-extension", "a negative key inside a body: bodies are closed", st,
            raw(1, false, Value::Map(BTreeMap::from([(Int::uint(1), Value::from("hi")),
                (Int::nint(0), Value::uint(0))])), &[]),
            "schema.unknown_critical";
    }
    // Kind 13, registered after the first release of the file: appended so earlier tcIds
    // stay put.
    let record = {
        let mut rng = crate::seeds::StreamRng::new(seed32("event/device-record"));
        quietwire::identity::DeviceKeys::generate(quietwire::suite::Suite::X25519, &mut rng)
            .signed_record(2)
            .to_bytes()
    };
    let event = Event::with_id(
        seed16("event/device-record/id"),
        Body::DeviceRecord { record: record.clone() },
    );
    crate::rows! { d.invalid:
        "device-record-empty", "kind 13 with an empty record", st, plain(13, &[(1, bytes(&[]))]),
            "schema.length";
        "device-record-too-long", "kind 13 with a record of 4097 bytes", st,
            plain(13, &[(1, bytes(&[7u8; 4097]))]), "schema.length";
        "device-record-extra-key", "kind 13 with a key 2 in its body", st,
            plain(13, &[(1, bytes(&record)), (2, Value::uint(0))]), "schema.unknown_critical";
    }
    crate::rows! { d.valid:
        "device-record",
            "kind 13: the sender's signed device record (an X25519-suite record of generation 2), opaque to the event layer",
            &["Kind"], event.to_bytes().map_err(|e| e.to_string())?;
    }
    // Appended after the first release of the file, so earlier tcIds stay put: a body's
    // array is checked completely before the body's next key (ENV-05), and a receipt of more
    // than 256 ids fails the event's decoding limit (ENV-04).
    crate::rows! { d.invalid:
        "announcement-no-hints-no-valid-from",
            "a mailbox announcement with an empty hint list and no key 3: the list is checked before key 3",
            st, plain(10, &[(1, bytes(&[0u8; 32])), (2, Value::Array(Vec::new()))]),
            "schema.length";
        "announcement-bad-hint-text-valid-from",
            "a mailbox announcement with an ftp:// hint and a text key 3: the hints' syntax is checked before key 3",
            st,
            plain(10, &[(1, bytes(&[0u8; 32])), (2, hint("ftp://relay")), (3, Value::from("soon"))]),
            "invite.relay_hint";
        "receipt-257-ids",
            "a delivery receipt of 257 message ids: over the event's max_items, refused while decoding",
            st, plain(8, &[(1, Value::Array(vec![bytes(&[1u8; 16]); 257]))]), "cbor.limit.size";
    }
    appended(&mut d)?;
    let tests = d.tests;
    Ok(file(
        "event",
        &[
            "Events inside the ratchet (spec/07-envelope.md, events).",
            "event-decode: decode `event`; a valid one gives kind, messageId, critical and known (false: ignore it) and re-encodes to the same bytes.",
            "event-device-record: the record of a device-record event from the peer `peerIdentity`, with a record of `heldGeneration` kept (absent: none); a valid one is kept (`generation`), an invalid one ignored for `errorClass` (ENV-07).",
        ],
        FLAGS,
        crate::groups! { EventGroup:
            Decode("Every kind, unknown kinds, refusals.", tests);
            DeviceRecord(
                "Device records received in device-record events, every registered suite allowed.",
                device_record::all_suites(&mut ids)?, allowed_suites: vec![1, 2]);
            DeviceRecord(
                "Device records received in device-record events, the default suite only.",
                device_record::default_suite_only(&mut ids)?, allowed_suites: vec![1]);
        },
    ))
}

/// An attachment reference with the given locator, media type and extra fields.
fn attachment_ref(locator: &str, media_type: &str, extra: &[(u64, Value)]) -> Value {
    let mut fields = vec![
        (1, Value::from(locator)),
        (2, bytes(&[1u8; 32])),
        (3, bytes(&[2u8; 32])),
        (4, Value::uint(1)),
        (5, Value::from(media_type)),
    ];
    fields.extend(extra.iter().cloned());
    body_map(&fields)
}

/// A thumbnail (key 6 of an attachment reference) with the given locator, key and digest
/// bytes `fill` and `fill + 1`, size 1, and extra fields.
fn thumbnail(locator: &str, fill: u8, extra: &[(u64, Value)]) -> Value {
    let mut fields = vec![
        (1, Value::from(locator)),
        (2, bytes(&[fill; 32])),
        (3, bytes(&[fill + 1; 32])),
        (4, Value::uint(1)),
    ];
    fields.extend(extra.iter().cloned());
    body_map(&fields)
}

/// Tests added after the first release, so their ids follow every other test: a registered
/// kind with `critical = true`, the byte limits of display names, locators and media types,
/// and a key 6 inside a thumbnail.
fn appended(d: &mut Decode<'_>) -> Result<(), String> {
    let st = &["Structure"];
    let name = |s: String| plain(7, &[(1, Value::from(s.as_str()))]);
    let attachment = |locator: &str, media_type: &str, extra: &[(u64, Value)]| {
        raw(2, false, attachment_ref(locator, media_type, extra), &[])
    };
    crate::rows! { d.valid:
        "known-kind-critical-text",
            "a registered kind (text) with critical = true is processed like any other (the flag only matters for unknown kinds)",
            &["Kind"], raw(1, true, body_map(&[(1, Value::from("hi"))]), &[]);
        "known-kind-critical-wake-up", "a wake-up with critical = true", &["Kind"],
            raw(11, true, body_map(&[]), &[]);
        "display-name-256-bytes", "a display name of exactly 256 bytes (128 two-byte characters)",
            st, name("é".repeat(128));
        "locator-2048-bytes", "an attachment locator of exactly 2048 bytes", st,
            attachment(&"l".repeat(2048), "image/png", &[]);
        "media-type-255-bytes", "a media type of exactly 255 bytes", st,
            attachment("blob/a", &"m".repeat(255), &[]);
    }
    crate::rows! { d.invalid:
        "display-name-257-bytes",
            "a display name of 257 bytes (128 two-byte characters and one more byte: 129 characters, but the limit counts bytes)",
            st, name(format!("{}a", "é".repeat(128))), "schema.length";
        "avatar-locator-2049-bytes", "a profile update whose avatar locator has 2049 bytes", st,
            plain(7, &[(2, attachment_ref(&"l".repeat(2049), "image/png", &[]))]), "schema.length";
        "locator-2049-bytes", "an attachment locator of 2049 bytes", st,
            attachment(&"l".repeat(2049), "image/png", &[]), "schema.length";
        "media-type-256-bytes", "a media type of 256 bytes", st,
            attachment("blob/a", &"m".repeat(256), &[]), "schema.length";
        "thumbnail-locator-2049-bytes", "a thumbnail whose locator has 2049 bytes", st,
            attachment("blob/a", "image/png", &[(6, thumbnail(&"l".repeat(2049), 3, &[]))]),
            "schema.length";
        "thumbnail-with-thumbnail", "a thumbnail with a key 6 (a thumbnail of its own)", st,
            attachment("blob/a", "image/png",
                &[(6, thumbnail("blob/t", 3, &[(6, thumbnail("blob/tt", 5, &[]))]))]),
            "schema.unknown_critical";
    }
    Ok(())
}
