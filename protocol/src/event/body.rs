//! Event kinds and their bodies (`spec/07-envelope.md`, event kinds; registry
//! `spec/14-registries.md` §14.4).

use crate::cbor::Value;
use crate::error::{ErrorClass, Result};
use crate::identity::MAX_DEVICE_RECORD;
use crate::invite::{MAX_RELAY_HINTS, is_valid_relay_hint};
use crate::schema::Fields;

use super::MessageId;

/// Longest attachment locator (a relay blob id or URL), in bytes.
pub const MAX_LOCATOR: usize = 2048;
/// Longest media type, in bytes.
pub const MAX_MEDIA_TYPE: usize = 255;
/// Longest display name, in bytes.
pub const MAX_DISPLAY_NAME: usize = 256;
/// Most message ids in one receipt.
pub const MAX_RECEIPT_IDS: usize = 256;

/// The registered event kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// 1: a text message.
    Text,
    /// 2: a reference to an encrypted attachment.
    Attachment,
    /// 3: call signalling, offer.
    CallOffer,
    /// 4: call signalling, answer.
    CallAnswer,
    /// 5: call signalling, connectivity candidate.
    CallCandidate,
    /// 6: call signalling, hang-up.
    CallHangup,
    /// 7: profile update.
    ProfileUpdate,
    /// 8: delivery receipt.
    ReceiptDelivered,
    /// 9: read receipt.
    ReceiptRead,
    /// 10: the sender's current receive mailbox.
    MailboxAnnouncement,
    /// 11: asks the receiving device to sync.
    WakeUp,
    /// 12: the sender discarded the session.
    SessionReset,
    /// 13: the sender's current signed device record.
    DeviceRecord,
}

impl Kind {
    /// Every registered kind, in id order.
    pub const ALL: [Kind; 13] = [
        Kind::Text,
        Kind::Attachment,
        Kind::CallOffer,
        Kind::CallAnswer,
        Kind::CallCandidate,
        Kind::CallHangup,
        Kind::ProfileUpdate,
        Kind::ReceiptDelivered,
        Kind::ReceiptRead,
        Kind::MailboxAnnouncement,
        Kind::WakeUp,
        Kind::SessionReset,
        Kind::DeviceRecord,
    ];

    /// The registry id.
    pub const fn id(self) -> u64 {
        match self {
            Kind::Text => 1,
            Kind::Attachment => 2,
            Kind::CallOffer => 3,
            Kind::CallAnswer => 4,
            Kind::CallCandidate => 5,
            Kind::CallHangup => 6,
            Kind::ProfileUpdate => 7,
            Kind::ReceiptDelivered => 8,
            Kind::ReceiptRead => 9,
            Kind::MailboxAnnouncement => 10,
            Kind::WakeUp => 11,
            Kind::SessionReset => 12,
            Kind::DeviceRecord => 13,
        }
    }

    /// The kind of a registry id, if registered.
    pub fn from_id(id: u64) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.id() == id)
    }
}

/// A reference to an encrypted blob stored on a relay: where it is, the key that decrypts
/// it, the SHA-256 of its ciphertext, its size; for attachments also the media type and an
/// optional encrypted thumbnail (itself a reference, without media type or thumbnail).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentRef {
    /// Relay blob locator.
    pub locator: String,
    /// The 32-byte key of the blob's encryption.
    pub key: [u8; 32],
    /// SHA-256 of the encrypted blob.
    pub digest: [u8; 32],
    /// Size of the plaintext in bytes.
    pub size: u64,
    /// Media type, such as `image/jpeg` (empty for thumbnails).
    pub media_type: String,
    /// An encrypted thumbnail.
    pub thumbnail: Option<Box<AttachmentRef>>,
}

/// The body of an event, by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Body {
    /// Kind 1.
    Text {
        /// The text.
        text: String,
        /// The message this one replies to.
        reply_to: Option<MessageId>,
    },
    /// Kind 2.
    Attachment(AttachmentRef),
    /// Kind 3.
    CallOffer {
        /// The call.
        call_id: [u8; 16],
        /// Opaque session description.
        payload: Vec<u8>,
    },
    /// Kind 4.
    CallAnswer {
        /// The call.
        call_id: [u8; 16],
        /// Opaque session description.
        payload: Vec<u8>,
    },
    /// Kind 5.
    CallCandidate {
        /// The call.
        call_id: [u8; 16],
        /// Opaque candidate.
        payload: Vec<u8>,
    },
    /// Kind 6.
    CallHangup {
        /// The call.
        call_id: [u8; 16],
        /// Why (0: normal).
        reason: u64,
    },
    /// Kind 7.
    ProfileUpdate {
        /// New display name.
        display_name: Option<String>,
        /// New avatar.
        avatar: Option<AttachmentRef>,
    },
    /// Kind 8.
    ReceiptDelivered {
        /// The delivered messages.
        ids: Vec<MessageId>,
    },
    /// Kind 9.
    ReceiptRead {
        /// The read messages.
        ids: Vec<MessageId>,
    },
    /// Kind 10.
    MailboxAnnouncement {
        /// The mailbox to write to from now on.
        mailbox: [u8; 32],
        /// Where it lives.
        relay_hints: Vec<String>,
        /// When the sender starts reading it (seconds since the Unix epoch).
        valid_from: u64,
    },
    /// Kind 11.
    WakeUp,
    /// Kind 12.
    SessionReset {
        /// Why (0: unspecified).
        reason: u64,
    },
    /// Kind 13: the sender's signed device record, as bytes. The event layer checks only
    /// its length; the receiver verifies it (`spec/03-identity.md` IDN-05) and that it is of
    /// the session's peer identity before keeping it.
    DeviceRecord {
        /// `SignedDeviceRecord::to_bytes`, 1 to 4096 bytes.
        record: Vec<u8>,
    },
    /// A non-critical event of a kind this implementation does not know: ignore it.
    Unknown {
        /// Its kind id.
        kind: u64,
        /// Its body, as received.
        body: Value,
    },
}

fn map(fields: Vec<(u64, Value)>) -> Value {
    Value::Map(
        fields
            .into_iter()
            .map(|(k, v)| (crate::cbor::Int::uint(k), v))
            .collect(),
    )
}

fn check_len(len: usize, max: usize) -> Result<()> {
    if len > max {
        return Err(ErrorClass::SchemaLength.into());
    }
    Ok(())
}

impl AttachmentRef {
    pub(crate) fn decode(value: Value, nested: bool) -> Result<AttachmentRef> {
        let known: &[u64] = if nested {
            &[1, 2, 3, 4]
        } else {
            &[1, 2, 3, 4, 5, 6]
        };
        let mut f = Fields::nested_closed(value, known)?;
        let locator = f.text(1, MAX_LOCATOR)?;
        let key = f.bytes_exact::<32>(2)?;
        let digest = f.bytes_exact::<32>(3)?;
        let size = f.uint(4)?;
        let (media_type, thumbnail) = if nested {
            (String::new(), None)
        } else {
            let media_type = f.text(5, MAX_MEDIA_TYPE)?;
            let thumbnail = if f.has(6) {
                Some(Box::new(AttachmentRef::decode(f.value(6)?, true)?))
            } else {
                None
            };
            (media_type, thumbnail)
        };
        Ok(AttachmentRef {
            locator,
            key,
            digest,
            size,
            media_type,
            thumbnail,
        })
    }

    pub(crate) fn encode(&self, nested: bool) -> Result<Value> {
        check_len(self.locator.len(), MAX_LOCATOR)?;
        let mut fields = vec![
            (1, Value::from(self.locator.as_str())),
            (2, Value::from(&self.key[..])),
            (3, Value::from(&self.digest[..])),
            (4, Value::uint(self.size)),
        ];
        if !nested {
            check_len(self.media_type.len(), MAX_MEDIA_TYPE)?;
            fields.push((5, Value::from(self.media_type.as_str())));
            if let Some(thumbnail) = &self.thumbnail {
                fields.push((6, thumbnail.encode(true)?));
            }
        }
        Ok(map(fields))
    }
}

fn ids(value: Value) -> Result<Vec<MessageId>> {
    let Value::Array(items) = value else {
        return Err(ErrorClass::SchemaWrongType.into());
    };
    if items.is_empty() || items.len() > MAX_RECEIPT_IDS {
        return Err(ErrorClass::SchemaLength.into());
    }
    items
        .into_iter()
        .map(|item| match item {
            Value::Bytes(b) => crate::schema::fixed::<16>(&b),
            _ => Err(ErrorClass::SchemaWrongType.into()),
        })
        .collect()
}

fn encode_ids(ids: &[MessageId]) -> Result<Value> {
    if ids.is_empty() || ids.len() > MAX_RECEIPT_IDS {
        return Err(ErrorClass::SchemaLength.into());
    }
    Ok(Value::Array(
        ids.iter().map(|id| Value::from(&id[..])).collect(),
    ))
}

fn hints(value: Value) -> Result<Vec<String>> {
    let Value::Array(items) = value else {
        return Err(ErrorClass::SchemaWrongType.into());
    };
    if items.is_empty() || items.len() > MAX_RELAY_HINTS {
        return Err(ErrorClass::SchemaLength.into());
    }
    let hints = items
        .into_iter()
        .map(|item| match item {
            Value::Text(t) => Ok(t),
            _ => Err(ErrorClass::SchemaWrongType.into()),
        })
        .collect::<Result<Vec<String>>>()?;
    if !hints.iter().all(|h| is_valid_relay_hint(h)) {
        return Err(ErrorClass::InviteRelayHint.into());
    }
    Ok(hints)
}

impl Body {
    /// The kind.
    pub fn kind_id(&self) -> u64 {
        match self {
            Body::Unknown { kind, .. } => *kind,
            known => known.kind().map(Kind::id).unwrap_or_default(),
        }
    }

    /// The registered kind, or `None` for [`Body::Unknown`].
    pub fn kind(&self) -> Option<Kind> {
        Some(match self {
            Body::Text { .. } => Kind::Text,
            Body::Attachment(_) => Kind::Attachment,
            Body::CallOffer { .. } => Kind::CallOffer,
            Body::CallAnswer { .. } => Kind::CallAnswer,
            Body::CallCandidate { .. } => Kind::CallCandidate,
            Body::CallHangup { .. } => Kind::CallHangup,
            Body::ProfileUpdate { .. } => Kind::ProfileUpdate,
            Body::ReceiptDelivered { .. } => Kind::ReceiptDelivered,
            Body::ReceiptRead { .. } => Kind::ReceiptRead,
            Body::MailboxAnnouncement { .. } => Kind::MailboxAnnouncement,
            Body::WakeUp => Kind::WakeUp,
            Body::SessionReset { .. } => Kind::SessionReset,
            Body::DeviceRecord { .. } => Kind::DeviceRecord,
            Body::Unknown { .. } => return None,
        })
    }

    pub(super) fn decode(kind: Kind, value: Value) -> Result<Body> {
        let call = |value: Value| -> Result<([u8; 16], Vec<u8>)> {
            let mut f = Fields::nested_closed(value, &[1, 2])?;
            Ok((f.bytes_exact::<16>(1)?, f.bytes(2)?))
        };
        Ok(match kind {
            Kind::Text => {
                let mut f = Fields::nested_closed(value, &[1, 2])?;
                let text = f.text(1, super::MAX_EVENT)?;
                let reply_to = f.optional_bytes_exact::<16>(2)?;
                Body::Text { text, reply_to }
            }
            Kind::Attachment => Body::Attachment(AttachmentRef::decode(value, false)?),
            Kind::CallOffer => {
                let (call_id, payload) = call(value)?;
                Body::CallOffer { call_id, payload }
            }
            Kind::CallAnswer => {
                let (call_id, payload) = call(value)?;
                Body::CallAnswer { call_id, payload }
            }
            Kind::CallCandidate => {
                let (call_id, payload) = call(value)?;
                Body::CallCandidate { call_id, payload }
            }
            Kind::CallHangup => {
                let mut f = Fields::nested_closed(value, &[1, 2])?;
                Body::CallHangup {
                    call_id: f.bytes_exact::<16>(1)?,
                    reason: f.uint(2)?,
                }
            }
            Kind::ProfileUpdate => {
                let mut f = Fields::nested_closed(value, &[1, 2])?;
                let display_name = if f.has(1) {
                    Some(f.text(1, MAX_DISPLAY_NAME)?)
                } else {
                    None
                };
                let avatar = if f.has(2) {
                    Some(AttachmentRef::decode(f.value(2)?, false)?)
                } else {
                    None
                };
                Body::ProfileUpdate {
                    display_name,
                    avatar,
                }
            }
            Kind::ReceiptDelivered => {
                let mut f = Fields::nested_closed(value, &[1])?;
                Body::ReceiptDelivered {
                    ids: ids(f.value(1)?)?,
                }
            }
            Kind::ReceiptRead => {
                let mut f = Fields::nested_closed(value, &[1])?;
                Body::ReceiptRead {
                    ids: ids(f.value(1)?)?,
                }
            }
            Kind::MailboxAnnouncement => {
                let mut f = Fields::nested_closed(value, &[1, 2, 3])?;
                Body::MailboxAnnouncement {
                    mailbox: f.bytes_exact::<32>(1)?,
                    relay_hints: hints(f.value(2)?)?,
                    valid_from: f.uint(3)?,
                }
            }
            Kind::WakeUp => {
                Fields::nested_closed(value, &[])?;
                Body::WakeUp
            }
            Kind::SessionReset => {
                let mut f = Fields::nested_closed(value, &[1])?;
                Body::SessionReset { reason: f.uint(1)? }
            }
            Kind::DeviceRecord => {
                let mut f = Fields::nested_closed(value, &[1])?;
                let record = f.bytes(1)?;
                check_len(record.len(), MAX_DEVICE_RECORD)?;
                if record.is_empty() {
                    return Err(ErrorClass::SchemaLength.into());
                }
                Body::DeviceRecord { record }
            }
        })
    }

    pub(super) fn encode(&self) -> Result<Value> {
        let call = |call_id: &[u8; 16], payload: &[u8]| {
            map(vec![
                (1, Value::from(&call_id[..])),
                (2, Value::from(payload)),
            ])
        };
        Ok(match self {
            Body::Text { text, reply_to } => {
                let mut fields = vec![(1, Value::from(text.as_str()))];
                if let Some(id) = reply_to {
                    fields.push((2, Value::from(&id[..])));
                }
                map(fields)
            }
            Body::Attachment(a) => a.encode(false)?,
            Body::CallOffer { call_id, payload }
            | Body::CallAnswer { call_id, payload }
            | Body::CallCandidate { call_id, payload } => call(call_id, payload),
            Body::CallHangup { call_id, reason } => map(vec![
                (1, Value::from(&call_id[..])),
                (2, Value::uint(*reason)),
            ]),
            Body::ProfileUpdate {
                display_name,
                avatar,
            } => {
                let mut fields = Vec::new();
                if let Some(name) = display_name {
                    check_len(name.len(), MAX_DISPLAY_NAME)?;
                    fields.push((1, Value::from(name.as_str())));
                }
                if let Some(avatar) = avatar {
                    fields.push((2, avatar.encode(false)?));
                }
                map(fields)
            }
            Body::ReceiptDelivered { ids } | Body::ReceiptRead { ids } => {
                map(vec![(1, encode_ids(ids)?)])
            }
            Body::MailboxAnnouncement {
                mailbox,
                relay_hints,
                valid_from,
            } => {
                if relay_hints.is_empty() || relay_hints.len() > MAX_RELAY_HINTS {
                    return Err(ErrorClass::SchemaLength.into());
                }
                if !relay_hints.iter().all(|h| is_valid_relay_hint(h)) {
                    return Err(ErrorClass::InviteRelayHint.into());
                }
                map(vec![
                    (1, Value::from(&mailbox[..])),
                    (
                        2,
                        Value::Array(
                            relay_hints
                                .iter()
                                .map(|h| Value::from(h.as_str()))
                                .collect(),
                        ),
                    ),
                    (3, Value::uint(*valid_from)),
                ])
            }
            Body::WakeUp => map(Vec::new()),
            Body::SessionReset { reason } => map(vec![(1, Value::uint(*reason))]),
            Body::DeviceRecord { record } => {
                if record.is_empty() {
                    return Err(ErrorClass::SchemaLength.into());
                }
                check_len(record.len(), MAX_DEVICE_RECORD)?;
                map(vec![(1, Value::from(record.as_slice()))])
            }
            Body::Unknown { body, .. } => body.clone(),
        })
    }
}
