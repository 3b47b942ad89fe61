//! The `xbk-restore` group: section contents made of records (`XBK-21` to `XBK-24`), built
//! from named seeds, and the faults of the restore layer.

use std::collections::BTreeMap;

use quietwire::backup::restore::{Contact, Message, Record};
use quietwire::cbor::{self, Int, Limits, Value};
use quietwire::event::{AttachmentRef, Body, Event};
use quietwire::identity::DeviceKeys;
use quietwire::keys::{IdentityKeyPair, KemSecret, X25519Secret};
use quietwire::ratchet::Ratchet;
use quietwire::session::Session;
use quietwire::suite::Suite;

use super::build::{Cache, Spec, T};
use super::large::{PIN, Who, content, key_unlock, recipe};
use super::{DecodeTest, Ids, SectionContent};
use crate::seeds::{seed16, seed32};

fn contact_record(name: &str, display: &str) -> Result<Record, String> {
    let identity = IdentityKeyPair::from_seed(&seed32(&format!("backup/{name}/identity")));
    let kem = KemSecret::from_seed(Suite::X25519, &seed32(&format!("backup/{name}/kem")));
    let ratchet = X25519Secret::from_bytes(&seed32(&format!("backup/{name}/ratchet")));
    let device = DeviceKeys::from_parts(Suite::X25519, identity, kem, ratchet);
    Ok(Record::Contact(Contact {
        id: seed16(&format!("backup/{name}/id")),
        device_record: device.signed_record(1).to_bytes(),
        name: display.into(),
        verified: true,
        mailbox: Some(seed32(&format!("backup/{name}/mailbox"))),
        relay_hints: vec!["wss://relay.example".into()],
    }))
}

fn session_snapshot(name: &str) -> Vec<u8> {
    let peer = X25519Secret::from_bytes(&seed32(&format!("backup/{name}/peer-ratchet")));
    let ratchet = Ratchet::initiator(
        &seed32(&format!("backup/{name}/session")),
        *peer.public(),
        &seed32(&format!("backup/{name}/ad")),
    );
    Session::new(ratchet, seed32(&format!("backup/{name}/peer-mailbox"))).snapshot().to_vec()
}

fn bytes_of(records: &[Record]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for r in records {
        out.extend_from_slice(&r.to_bytes().map_err(|e| e.to_string())?);
    }
    Ok(out)
}

struct Fixture {
    identity: Record,
    contact: Record,
    session: Record,
    chat: Record,
    message: Record,
    media: Record,
    setting: Record,
    hidden: Vec<Record>,
}

fn fixture() -> Result<Fixture, String> {
    let pair = IdentityKeyPair::from_seed(&seed32("backup/me/identity"));
    let a = seed16("backup/alice/id");
    let chat = seed16("backup/chat/1");
    let msg = seed16("backup/message/1");
    let event = Event::with_id(msg, Body::Text { text: "see you at 8".into(), reply_to: None })
        .to_bytes()
        .map_err(|e| e.to_string())?;
    let hidden_contact = contact_record("bob", "Bob")?;
    let b = seed16("backup/bob/id");
    let hidden_chat = seed16("backup/chat/hidden");
    let hidden_msg = seed16("backup/message/hidden");
    let hidden_event =
        Event::with_id(hidden_msg, Body::Text { text: "hidden".into(), reply_to: None })
            .to_bytes()
            .map_err(|e| e.to_string())?;
    Ok(Fixture {
        identity: Record::Identity {
            seed: pair.dangerous_seed(),
            key: *pair.public().as_bytes(),
            generation: 3,
        },
        contact: contact_record("alice", "Alice")?,
        session: Record::Session { contact: a, snapshot: session_snapshot("alice").into() },
        chat: Record::Chat { id: chat, members: vec![a], title: Some("Alice".into()) },
        message: Record::Message(Message {
            chat,
            id: msg,
            sent: false,
            time: 1_900_000_000,
            event,
            sender: Some(a),
        }),
        media: Record::Media {
            chat,
            message: msg,
            attachment: AttachmentRef {
                locator: "blob/1".into(),
                key: seed32("backup/media/key"),
                digest: seed32("backup/media/digest"),
                size: 1234,
                media_type: "image/jpeg".into(),
                thumbnail: None,
            },
        },
        setting: Record::Setting { name: "theme".into(), value: Value::from("dark") },
        hidden: vec![
            hidden_contact,
            Record::Session { contact: b, snapshot: session_snapshot("bob").into() },
            Record::Chat { id: hidden_chat, members: vec![b, a], title: None },
            Record::Message(Message {
                chat: hidden_chat,
                id: hidden_msg,
                sent: true,
                time: 1_900_000_001,
                event: hidden_event,
                sender: None,
            }),
            Record::Setting { name: "hidden-theme".into(), value: Value::uint(1) },
        ],
    })
}

/// The seven section contents of a full restore, with section `i` replaced where given.
fn sections(f: &Fixture, replace: &[(usize, Vec<u8>)]) -> Result<Vec<SectionContent>, String> {
    let mut s = [
        bytes_of(std::slice::from_ref(&f.identity))?,
        bytes_of(std::slice::from_ref(&f.contact))?,
        bytes_of(std::slice::from_ref(&f.session))?,
        bytes_of(&[f.chat.clone(), f.message.clone()])?,
        bytes_of(std::slice::from_ref(&f.media))?,
        bytes_of(std::slice::from_ref(&f.setting))?,
        bytes_of(&f.hidden)?,
    ];
    for (i, b) in replace {
        if let Some(slot) = s.get_mut(*i) {
            *slot = b.clone();
        }
    }
    Ok(s.iter().map(|b| content(b)).collect())
}

/// A record framed by hand from a CBOR value.
fn framed(value: &Value) -> Vec<u8> {
    let body = cbor::encode(value);
    [(body.len() as u32).to_be_bytes().to_vec(), body].concat()
}

/// A record's map with its body changed.
fn with_body(r: &Record, f: impl FnOnce(&mut BTreeMap<Int, Value>)) -> Result<Vec<u8>, String> {
    let bytes = r.to_bytes().map_err(|e| e.to_string())?;
    let mut v =
        cbor::decode(bytes.get(4..).unwrap_or_default(), &Limits::DEFAULT.with_max_input(1 << 20))
            .map_err(|e| e.to_string())?;
    if let Value::Map(m) = &mut v
        && let Some(Value::Map(body)) = m.get_mut(&Int::uint(3))
    {
        f(body);
    }
    Ok(framed(&v))
}

pub(in crate::families::backup) fn restore(
    ids: &mut Ids,
    cache: &mut Cache,
) -> Result<Vec<DecodeTest>, String> {
    let f = fixture()?;
    let setting = bytes_of(std::slice::from_ref(&f.setting))?;
    let other = IdentityKeyPair::from_seed(&seed32("backup/other/identity"));
    let mismatched = Record::Identity {
        seed: IdentityKeyPair::from_seed(&seed32("backup/me/identity")).dangerous_seed(),
        key: *other.public().as_bytes(),
        generation: 3,
    };
    let bad_signature = with_body(&f.contact, |b| {
        if let Some(Value::Bytes(record)) = b.get_mut(&Int::uint(2))
            && let Some(last) = record.last_mut()
        {
            *last ^= 1;
        }
    })?;
    let bad_hint = with_body(&f.contact, |b| {
        b.insert(Int::uint(6), Value::Array(vec![Value::from("https://relay.example")]));
    })?;
    let bad_snapshot = with_body(&f.session, |b| {
        if let Some(Value::Bytes(snap)) = b.get_mut(&Int::uint(2))
            && let Ok(Value::Map(mut session)) =
                cbor::decode(snap, &Limits::DEFAULT.with_max_input(1 << 20))
            && let Some(Value::Bytes(ratchet)) = session.get(&Int::uint(2)).cloned()
            && let Ok(Value::Map(mut r)) =
                cbor::decode(&ratchet, &Limits::DEFAULT.with_max_input(1 << 20))
        {
            // A message counter without a sending chain.
            r.remove(&Int::uint(6));
            r.remove(&Int::uint(11));
            r.insert(Int::uint(8), Value::uint(5));
            session.insert(Int::uint(2), Value::Bytes(cbor::encode(&Value::Map(r))));
            *snap = cbor::encode(&Value::Map(session));
        }
    })?;
    let unknown_key = with_body(&f.setting, |b| {
        b.insert(Int::uint(3), Value::uint(0));
    })?;
    let kind_8 = framed(&Value::Map(BTreeMap::from([
        (Int::uint(1), Value::uint(1)),
        (Int::uint(2), Value::uint(8)),
        (Int::uint(3), Value::Map(Default::default())),
    ])));
    let orphan = Record::Message(Message {
        chat: seed16("backup/chat/undefined"),
        id: seed16("backup/message/orphan"),
        sent: true,
        time: 1,
        event: Event::with_id(seed16("backup/message/orphan"), Body::WakeUp)
            .to_bytes()
            .map_err(|e| e.to_string())?,
        sender: None,
    });
    let chats = bytes_of(&[f.chat.clone(), f.message.clone()])?;
    let over = [524_289u32.to_be_bytes().to_vec(), vec![0; 10]].concat();
    let cut = setting.get(..setting.len() - 1).unwrap_or_default().to_vec();
    let mut t = T::new(ids, cache);
    let restore =
        |name: &str, replace: &[(usize, Vec<u8>)], pin: Option<&str>| -> Result<_, String> {
            let e = recipe(&format!("restore-{name}"), Who::Key, Some(PIN), sections(&f, replace)?);
            Ok(Spec {
                pin: pin.map(str::to_owned),
                records: true,
                ..Spec::export(&e, vec![], key_unlock())
            })
        };
    let mut case = |slug: &str, comment: &str, replace: Vec<_>, pin: Option<&str>, class| {
        let spec = Spec { expect: class, ..restore(slug, &replace, pin)? };
        t.spec(&format!("restore-{slug}"), comment, &["Records"], spec)
    };
    crate::rows! { case:
        "full-open", "every record kind, hidden chats opened with the PIN", vec![], Some(PIN), None;
        "full-locked", "the same without the PIN: hidden records stay sealed", vec![], None, None;
        "record-length-0", "a record of length 0", vec![(5, vec![0, 0, 0, 0])], None,
            Some("backup.record_length");
        "record-over-max", "a length field over 524288: refused on its four bytes", vec![(5, over)],
            None, Some("backup.record_length");
        "record-cut", "a record cut by the end of its section",
            vec![(5, cut)], None, Some("backup.record_length");
        "length-cut", "two bytes of a length at the end of a section",
            vec![(5, [setting.clone(), vec![0, 0]].concat())], None, Some("backup.record_length");
        "wrong-section", "a setting in the contacts section",
            vec![(1, [bytes_of(std::slice::from_ref(&f.contact))?, setting.clone()].concat())],
            None, Some("backup.record_kind");
        "unknown-kind", "record kind 8", vec![(5, kind_8)], None, Some("backup.record_kind");
        "no-identity", "an empty identity section", vec![(0, vec![])], None,
            Some("backup.identity_count");
        "two-identities", "two identity records",
            vec![(0, bytes_of(&[f.identity.clone(), f.identity.clone()])?)], None,
            Some("backup.identity_count");
        "identity-mismatch", "a seed that does not derive the identity key",
            vec![(0, bytes_of(&[mismatched])?)], None, Some("backup.identity_mismatch");
        "contact-signature", "a contact whose device record signature fails",
            vec![(1, bad_signature)], None, Some("identity.signature");
        "contact-relay-hint", "a contact with an https relay hint", vec![(1, bad_hint)], None,
            Some("invite.relay_hint");
        "session-inconsistent",
            "a session snapshot that counts sent messages without a sending chain",
            vec![(2, bad_snapshot)], None, Some("ratchet.state");
        "body-unknown-key", "a setting body with an unknown critical key", vec![(5, unknown_key)],
            None, Some("schema.unknown_critical");
        "record-not-cbor", "a record that is not CBOR", vec![(5, vec![0, 0, 0, 1, 0xff])], None,
            Some("cbor.malformed.break");
        "undefined-chat", "a message in a chat no record defined",
            vec![(3, [chats.clone(), bytes_of(&[orphan])?].concat())], None,
            Some("backup.reference");
        "duplicate-contact", "the same contact id twice",
            vec![(1, bytes_of(&[f.contact.clone(), f.contact.clone()])?)], None,
            Some("backup.reference");
        "session-undefined-contact", "a session for a contact no record defined", vec![(1, vec![])],
            None, Some("backup.reference");
    }
    t.spec(
        "restore-session-stale",
        "a restored session refuses to encrypt: a new handshake is needed",
        &["StaleSession"],
        Spec {
            then_seal: true,
            expect: Some("backup.session_stale"),
            ..restore("full-open", &[], Some(PIN))?
        },
    )?;
    Ok(t.tests)
}
