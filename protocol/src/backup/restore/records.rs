//! Records of the sections (`XBK-21`, `XBK-22`): `u32be(len) ‖ xbk-record`, with one body
//! map per kind and the nested structures checked by their own rules.

use core::fmt;

use zeroize::Zeroizing;

use crate::backup::header::nested;
use crate::backup::{MAX_RECORD, Section};
use crate::cbor::{self, Int, Limits, Value};
use crate::error::{ErrorClass, Result};
use crate::event::{AttachmentRef, Event};
use crate::identity::SignedDeviceRecord;
use crate::invite::is_valid_relay_hint;
use crate::keys::IdentityKeyPair;
use crate::schema::Fields;
use crate::session::Session;
use crate::suite::SuitePolicy;

const LIMITS: Limits = Limits {
    max_input: MAX_RECORD,
    max_depth: 8,
    max_string: MAX_RECORD as u64,
    max_items: 1024,
};

/// A 16-byte local id of a contact, chat or message.
pub type Id = [u8; 16];

/// A contact (kind 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    /// Local contact id.
    pub id: Id,
    /// The contact's signed device record, as stored.
    pub device_record: Vec<u8>,
    /// Display name (at most 256 bytes).
    pub name: String,
    /// Whether the safety code was verified.
    pub verified: bool,
    /// The contact's last announced mailbox.
    pub mailbox: Option<[u8; 32]>,
    /// Relay hints (0 to 4).
    pub relay_hints: Vec<String>,
}

/// A message (kind 5). Its `Debug` shows the event's length, not its content.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    /// The chat.
    pub chat: Id,
    /// The message id (as in the event).
    pub id: Id,
    /// Whether this device sent it.
    pub sent: bool,
    /// Seconds since the epoch.
    pub time: u64,
    /// The event bytes.
    pub event: Vec<u8>,
    /// The sender of a received message.
    pub sender: Option<Id>,
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("chat", &self.chat)
            .field("id", &self.id)
            .field("sent", &self.sent)
            .field("time", &self.time)
            .field("event_len", &self.event.len())
            .field("sender", &self.sender)
            .finish()
    }
}

/// One record of a section.
#[derive(Clone, PartialEq, Eq)]
pub enum Record {
    /// Kind 1: the identity seed, its public key and the last device record's generation.
    Identity {
        /// The Ed25519 seed.
        seed: Zeroizing<[u8; 32]>,
        /// The identity key it derives.
        key: [u8; 32],
        /// Generation of the last device record.
        generation: u64,
    },
    /// Kind 2.
    Contact(Contact),
    /// Kind 3: a session snapshot, restored stale (`XBK-24`).
    Session {
        /// The contact.
        contact: Id,
        /// The `session-snapshot` bytes.
        snapshot: Zeroizing<Vec<u8>>,
    },
    /// Kind 4.
    Chat {
        /// Chat id.
        id: Id,
        /// Member contact ids (1 to 256).
        members: Vec<Id>,
        /// Optional title.
        title: Option<String>,
    },
    /// Kind 5.
    Message(Message),
    /// Kind 6.
    Media {
        /// The chat.
        chat: Id,
        /// The message.
        message: Id,
        /// The attachment reference.
        attachment: AttachmentRef,
    },
    /// Kind 7.
    Setting {
        /// Name (1 to 64 bytes).
        name: String,
        /// Any value.
        value: Value,
    },
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Record::Identity { generation, .. } => f
                .debug_struct("Identity")
                .field("generation", generation)
                .finish_non_exhaustive(),
            Record::Session { contact, .. } => f
                .debug_struct("Session")
                .field("contact", contact)
                .finish_non_exhaustive(),
            Record::Contact(c) => f.debug_tuple("Contact").field(c).finish(),
            Record::Chat { id, members, title } => f
                .debug_struct("Chat")
                .field("id", id)
                .field("members", members)
                .field("title", title)
                .finish(),
            Record::Message(m) => f.debug_tuple("Message").field(m).finish(),
            Record::Media { chat, message, .. } => f
                .debug_struct("Media")
                .field("chat", chat)
                .field("message", message)
                .finish_non_exhaustive(),
            Record::Setting { name, value } => f
                .debug_struct("Setting")
                .field("name", name)
                .field("value", value)
                .finish(),
        }
    }
}

fn bytes(b: &[u8]) -> Value {
    Value::Bytes(b.to_vec())
}

fn map(entries: Vec<(u64, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Int::uint(k), v))
            .collect(),
    )
}

fn id_of(f: &mut Fields, key: u64) -> Result<Id> {
    f.bytes_exact::<16>(key)
}

impl Record {
    /// Kind 1, for section 1: the identity key pair's seed and public key, with the
    /// generation of the device's last signed record (`DeviceKeys::signed_record`). A
    /// restored device signs its next record with `generation + 1` (`XBK-23`).
    pub fn identity(identity: &IdentityKeyPair, generation: u64) -> Record {
        Record::Identity {
            seed: identity.dangerous_seed(),
            key: *identity.public().as_bytes(),
            generation,
        }
    }

    /// Kind 2: a contact with its verified signed device record, display name and whether
    /// the safety code was verified; no mailbox and no relay hints (set the fields of
    /// [`Contact`] for those).
    pub fn contact(
        id: Id,
        device_record: &SignedDeviceRecord,
        name: impl Into<String>,
        verified: bool,
    ) -> Record {
        Record::Contact(Contact {
            id,
            device_record: device_record.to_bytes(),
            name: name.into(),
            verified,
            mailbox: None,
            relay_hints: Vec::new(),
        })
    }

    /// Kind 3: the snapshot of `session`, the session with contact `contact` (restored stale,
    /// `XBK-24`).
    pub fn session(contact: Id, session: &Session) -> Record {
        Record::Session {
            contact,
            snapshot: session.snapshot(),
        }
    }

    /// Kind 5: a message of chat `chat` at `time` (seconds since the epoch), with the event's
    /// id; `sender` is the contact of a received message, `None` for one this device sent.
    ///
    /// # Errors
    /// As [`Event::to_bytes`].
    pub fn message(chat: Id, event: &Event, time: u64, sender: Option<Id>) -> Result<Record> {
        Ok(Record::Message(Message {
            chat,
            id: *event.id(),
            sent: sender.is_none(),
            time,
            event: event.to_bytes()?,
            sender,
        }))
    }

    /// The kind number.
    pub const fn kind(&self) -> u64 {
        match self {
            Record::Identity { .. } => 1,
            Record::Contact(_) => 2,
            Record::Session { .. } => 3,
            Record::Chat { .. } => 4,
            Record::Message(_) => 5,
            Record::Media { .. } => 6,
            Record::Setting { .. } => 7,
        }
    }

    /// Whether a kind may appear in a section (`XBK-22`).
    pub const fn allowed(kind: u64, section: Section) -> bool {
        match (kind, section) {
            (1, Section::Identity) => true,
            (2..=7, Section::Hidden) => true,
            (2, s) => matches!(s, Section::Contacts),
            (3, s) => matches!(s, Section::Sessions),
            (4 | 5, s) => matches!(s, Section::Chats),
            (6, s) => matches!(s, Section::Media),
            (7, s) => matches!(s, Section::Settings),
            _ => false,
        }
    }

    fn body(&self) -> Result<Value> {
        Ok(match self {
            Record::Identity {
                seed,
                key,
                generation,
            } => map(vec![
                (1, bytes(seed.as_ref())),
                (2, bytes(key)),
                (3, Value::uint(*generation)),
            ]),
            Record::Contact(c) => {
                let mut fields = vec![
                    (1, bytes(&c.id)),
                    (2, bytes(&c.device_record)),
                    (3, Value::from(c.name.as_str())),
                    (4, Value::Bool(c.verified)),
                ];
                if let Some(mailbox) = &c.mailbox {
                    fields.push((5, bytes(mailbox)));
                }
                if !c.relay_hints.is_empty() {
                    let hints = c.relay_hints.iter().map(|h| Value::from(h.as_str()));
                    fields.push((6, Value::Array(hints.collect())));
                }
                map(fields)
            }
            Record::Session { contact, snapshot } => {
                map(vec![(1, bytes(contact)), (2, bytes(snapshot))])
            }
            Record::Chat { id, members, title } => {
                let mut fields = vec![
                    (1, bytes(id)),
                    (2, Value::Array(members.iter().map(|m| bytes(m)).collect())),
                ];
                if let Some(title) = title {
                    fields.push((3, Value::from(title.as_str())));
                }
                map(fields)
            }
            Record::Message(m) => {
                let mut fields = vec![
                    (1, bytes(&m.chat)),
                    (2, bytes(&m.id)),
                    (3, Value::uint(u64::from(m.sent))),
                    (4, Value::uint(m.time)),
                    (5, bytes(&m.event)),
                ];
                if let Some(sender) = &m.sender {
                    fields.push((6, bytes(sender)));
                }
                map(fields)
            }
            Record::Media {
                chat,
                message,
                attachment,
            } => map(vec![
                (1, bytes(chat)),
                (2, bytes(message)),
                (3, attachment.encode(false)?),
            ]),
            Record::Setting { name, value } => {
                map(vec![(1, Value::from(name.as_str())), (2, value.clone())])
            }
        })
    }

    /// The framed record: `u32be(len) ‖ CBOR`, as the encoder writes it into a section.
    ///
    /// # Errors
    /// `backup.record_length` for a record over [`MAX_RECORD`]; `schema.length` for an
    /// attachment reference out of bounds.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>> {
        let record = Zeroizing::new(cbor::encode(&map(vec![
            (1, Value::uint(1)),
            (2, Value::uint(self.kind())),
            (3, self.body()?),
        ])));
        if record.len() > MAX_RECORD {
            return Err(ErrorClass::BackupRecordLength.into());
        }
        let mut out = Zeroizing::new(Vec::with_capacity(4 + record.len()));
        out.extend_from_slice(&(record.len() as u32).to_be_bytes());
        out.extend_from_slice(&record);
        Ok(out)
    }

    /// Decodes and checks one record of `section` (`XBK-21`, `XBK-22`), without its framing.
    ///
    /// # Errors
    /// `cbor.*`, `schema.*`, `backup.record_kind`, and the classes of the nested
    /// structures (`identity.*`, `key.*`, `ratchet.state`, `event.*`, `invite.relay_hint`).
    pub fn decode(bytes: &[u8], section: Section) -> Result<Record> {
        let mut f = Fields::new(cbor::decode(bytes, &LIMITS)?, &[1, 2, 3])?;
        let kind = f.uint(2)?;
        let body = f.value(3)?;
        if !Record::allowed(kind, section) {
            return Err(ErrorClass::BackupRecordKind.into());
        }
        match kind {
            1 => {
                let mut b = nested(body, &[1, 2, 3])?;
                Ok(Record::Identity {
                    seed: Zeroizing::new(b.bytes_exact::<32>(1)?),
                    key: b.bytes_exact::<32>(2)?,
                    generation: b.uint(3)?,
                })
            }
            2 => decode_contact(nested(body, &[1, 2, 3, 4, 5, 6])?),
            3 => {
                let mut b = nested(body, &[1, 2])?;
                let contact = id_of(&mut b, 1)?;
                let snapshot = Zeroizing::new(b.bytes(2)?);
                Session::restore(&snapshot)?;
                Ok(Record::Session { contact, snapshot })
            }
            4 => {
                let mut b = nested(body, &[1, 2, 3])?;
                let id = id_of(&mut b, 1)?;
                let items = b.array(2)?;
                if items.is_empty() || items.len() > 256 {
                    return Err(ErrorClass::SchemaLength.into());
                }
                let members = items
                    .into_iter()
                    .map(|v| match v {
                        Value::Bytes(b) => crate::schema::fixed::<16>(&b),
                        _ => Err(ErrorClass::SchemaWrongType.into()),
                    })
                    .collect::<Result<Vec<Id>>>()?;
                let title = if b.has(3) {
                    Some(b.text(3, 256)?)
                } else {
                    None
                };
                Ok(Record::Chat { id, members, title })
            }
            5 => {
                let mut b = nested(body, &[1, 2, 3, 4, 5, 6])?;
                let chat = id_of(&mut b, 1)?;
                let id = id_of(&mut b, 2)?;
                let sent = match b.uint(3)? {
                    0 => false,
                    1 => true,
                    _ => return Err(ErrorClass::SchemaRange.into()),
                };
                let time = b.uint(4)?;
                let event = b.bytes(5)?;
                let sender = b.optional_bytes_exact::<16>(6)?;
                Event::from_bytes(&event)?;
                Ok(Record::Message(Message {
                    chat,
                    id,
                    sent,
                    time,
                    event,
                    sender,
                }))
            }
            6 => {
                let mut b = nested(body, &[1, 2, 3])?;
                let chat = id_of(&mut b, 1)?;
                let message = id_of(&mut b, 2)?;
                let attachment = AttachmentRef::decode(b.value(3)?, false)?;
                Ok(Record::Media {
                    chat,
                    message,
                    attachment,
                })
            }
            _ => {
                let mut b = nested(body, &[1, 2])?;
                let name = b.text(1, 64)?;
                if name.is_empty() {
                    return Err(ErrorClass::SchemaLength.into());
                }
                Ok(Record::Setting {
                    name,
                    value: b.value(2)?,
                })
            }
        }
    }
}

fn decode_contact(mut b: Fields) -> Result<Record> {
    let id = id_of(&mut b, 1)?;
    let device_record = b.bytes(2)?;
    let name = b.text(3, 256)?;
    let verified = b.bool(4)?;
    let mailbox = b.optional_bytes_exact::<32>(5)?;
    let relay_hints = if b.has(6) {
        let items = b.array(6)?;
        if items.is_empty() || items.len() > 4 {
            return Err(ErrorClass::SchemaLength.into());
        }
        items
            .into_iter()
            .map(|v| match v {
                Value::Text(t) => Ok(t),
                _ => Err(ErrorClass::SchemaWrongType.into()),
            })
            .collect::<Result<Vec<String>>>()?
    } else {
        Vec::new()
    };
    SignedDeviceRecord::from_bytes(&device_record, &SuitePolicy::ALL)?;
    if !relay_hints.iter().all(|h| is_valid_relay_hint(h)) {
        return Err(ErrorClass::InviteRelayHint.into());
    }
    Ok(Record::Contact(Contact {
        id,
        device_record,
        name,
        verified,
        mailbox,
        relay_hints,
    }))
}
