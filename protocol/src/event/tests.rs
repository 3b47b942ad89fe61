use super::*;

fn attachment() -> AttachmentRef {
    AttachmentRef {
        locator: "blob/0123".to_owned(),
        key: [1; 32],
        digest: [2; 32],
        size: 1234,
        media_type: "image/jpeg".to_owned(),
        thumbnail: Some(Box::new(AttachmentRef {
            locator: "blob/thumb".to_owned(),
            key: [3; 32],
            digest: [4; 32],
            size: 99,
            media_type: String::new(),
            thumbnail: None,
        })),
    }
}

fn every_body() -> Vec<Body> {
    vec![
        Body::Text {
            text: "hello".to_owned(),
            reply_to: Some([9; 16]),
        },
        Body::Attachment(attachment()),
        Body::CallOffer {
            call_id: [5; 16],
            payload: b"v=0".to_vec(),
        },
        Body::CallAnswer {
            call_id: [5; 16],
            payload: b"v=0".to_vec(),
        },
        Body::CallCandidate {
            call_id: [5; 16],
            payload: b"candidate".to_vec(),
        },
        Body::CallHangup {
            call_id: [5; 16],
            reason: 0,
        },
        Body::ProfileUpdate {
            display_name: Some("Ada".to_owned()),
            avatar: None,
        },
        Body::ReceiptDelivered {
            ids: vec![[1; 16], [2; 16]],
        },
        Body::ReceiptRead { ids: vec![[1; 16]] },
        Body::MailboxAnnouncement {
            mailbox: [6; 32],
            relay_hints: vec!["wss://relay.quietwire.invalid".to_owned()],
            valid_from: 1_900_000_000,
        },
        Body::WakeUp,
        Body::SessionReset { reason: 1 },
        Body::DeviceRecord {
            record: vec![0xa5; 1200],
        },
    ]
}

#[test]
fn every_kind_round_trips() {
    let bodies = every_body();
    assert_eq!(bodies.len(), Kind::ALL.len());
    for (body, kind) in bodies.into_iter().zip(Kind::ALL) {
        assert_eq!(body.kind(), Some(kind));
        let event = Event::with_id([7; 16], body);
        let bytes = event.to_bytes().unwrap();
        let back = Event::from_bytes(&bytes).unwrap();
        assert_eq!(back, event);
        assert_eq!(back.to_bytes().unwrap(), bytes);
    }
}

fn raw_event(kind: u64, critical: bool, body: Value) -> Vec<u8> {
    cbor::encode(&schema::build_map(
        vec![
            (2, Value::uint(kind)),
            (3, Value::from(&[0u8; 16][..])),
            (4, Value::Bool(critical)),
            (5, body),
        ],
        &BTreeMap::new(),
    ))
}

fn class(bytes: &[u8]) -> ErrorClass {
    Event::from_bytes(bytes).unwrap_err().class()
}

#[test]
fn unknown_kinds_are_ignored_unless_critical() {
    let body = Value::Map(BTreeMap::from([(Int::uint(9), Value::uint(1))]));
    let bytes = raw_event(1000, false, body.clone());
    let event = Event::from_bytes(&bytes).unwrap();
    assert!(matches!(event.body(), Body::Unknown { kind: 1000, .. }));
    assert_eq!(event.to_bytes().unwrap(), bytes);
    assert_eq!(
        class(&raw_event(1000, true, body)),
        ErrorClass::EventUnknownCritical
    );
    assert_eq!(
        class(&raw_event(0, false, Value::Map(BTreeMap::new()))),
        ErrorClass::EventKind
    );
}

#[test]
fn bodies_are_strict() {
    let text = |fields: Vec<(u64, Value)>| {
        Value::Map(fields.into_iter().map(|(k, v)| (Int::uint(k), v)).collect())
    };
    assert_eq!(
        class(&raw_event(1, false, text(vec![]))),
        ErrorClass::SchemaMissingField
    );
    assert_eq!(
        class(&raw_event(1, false, text(vec![(1, Value::uint(1))]))),
        ErrorClass::SchemaWrongType
    );
    assert_eq!(
        class(&raw_event(
            1,
            false,
            text(vec![(1, Value::from("x")), (3, Value::uint(0))])
        )),
        ErrorClass::SchemaUnknownCritical
    );
    assert_eq!(
        class(&raw_event(8, false, text(vec![(1, Value::Array(vec![]))]))),
        ErrorClass::SchemaLength
    );
    assert_eq!(
        class(&raw_event(
            10,
            false,
            text(vec![
                (1, Value::from(&[0u8; 32][..])),
                (2, Value::Array(vec![Value::from("ftp://x")])),
                (3, Value::uint(0)),
            ])
        )),
        ErrorClass::InviteRelayHint
    );
    // A thumbnail cannot have a thumbnail of its own.
    let mut nested = attachment();
    if let Some(thumb) = nested.thumbnail.as_mut() {
        thumb.media_type = "image/png".to_owned();
    }
    let bytes = Event::with_id([0; 16], Body::Attachment(nested))
        .to_bytes()
        .unwrap();
    assert_eq!(
        Event::from_bytes(&bytes).unwrap().body(),
        &Body::Attachment(attachment())
    );
}

#[test]
fn bodies_are_closed() {
    // A negative key inside a body would be lost on re-encoding; it is refused.
    let body = Value::Map(BTreeMap::from([
        (Int::uint(1), Value::from("hi")),
        (Int::nint(0), Value::uint(0)),
    ]));
    assert_eq!(
        class(&raw_event(1, false, body)),
        ErrorClass::SchemaUnknownCritical
    );
}

#[test]
fn extensions_are_kept() {
    let mut map = BTreeMap::new();
    map.insert(Int::nint(0), Value::from("x"));
    let bytes = cbor::encode(&schema::build_map(
        vec![
            (2, Value::uint(11)),
            (3, Value::from(&[0u8; 16][..])),
            (4, Value::Bool(false)),
            (5, Value::Map(BTreeMap::new())),
        ],
        &map,
    ));
    let event = Event::from_bytes(&bytes).unwrap();
    assert_eq!(event.extensions().len(), 1);
    assert_eq!(event.to_bytes().unwrap(), bytes);
}
