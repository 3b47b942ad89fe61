//! What the engine tells an app: [`Notice`]s, the events a sync, a watch or a send produces
//! (`spec/09-delivery.md`: every send ends delivered, queued or failed, and the app hears
//! which; `spec/05-handshake.md`: contacts made and sessions replaced; `spec/07-envelope.md`
//! ENV-07: device records).
//!
//! The engine never prints. Each step collects its notices in order; [`crate::Engine::sync`]
//! returns them, [`crate::Engine::watch`] hands each to a callback as soon as its step ends,
//! and [`crate::Engine::take_notices`] drains what other calls left. The reference CLI prints
//! them; an app shows them however it likes. Texts from peers are given as sent: an app that
//! prints them on a terminal must neutralise control characters itself.

use quietwire::ErrorClass;
use quietwire::UnixTime;
use quietwire::delivery::FailReason;
use quietwire::keys::IdentityKey;

/// A message id (`spec/07-envelope.md`: 16 random bytes).
pub type MessageId = [u8; 16];

/// One thing that happened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// A text arrived from a contact (first delivery only: copies are dropped, DLV-06).
    Text {
        /// The contact's local name.
        contact: String,
        /// The event's id.
        id: MessageId,
        /// The text, exactly as sent (may contain control characters).
        text: String,
        /// When this device received it.
        at: UnixTime,
    },
    /// Someone used an invite of this device: a new contact.
    ContactAdded {
        /// The name given to the contact (the invite's, made unique).
        contact: String,
        /// The contact's identity key.
        identity: IdentityKey,
    },
    /// A contact used a new invite of this device: a new session with the same identity; the
    /// safety code is unchanged.
    SessionReplaced {
        /// The contact.
        contact: String,
        /// The contact's identity key.
        identity: IdentityKey,
    },
    /// A contact answered on the session this device started by accepting a new invite from
    /// it; that session now replaces the old one.
    PendingSessionConfirmed {
        /// The contact.
        contact: String,
    },
    /// A contact answered this (restored) device's reconnect: new session, same identity.
    ReconnectAnswered {
        /// The contact.
        contact: String,
        /// The contact's identity key.
        identity: IdentityKey,
    },
    /// A handshake arrived for a reconnect, but from another identity than the contact's; it
    /// was ignored.
    ReconnectFromStranger {
        /// The contact the reconnect was for.
        contact: String,
        /// The identity that answered.
        identity: IdentityKey,
    },
    /// A contact reconnected from a restored device (HSK-08): new session, same identity.
    ContactRestored {
        /// The contact.
        contact: String,
        /// The contact's identity key.
        identity: IdentityKey,
        /// The generation of the contact's new device record.
        generation: u64,
    },
    /// A reconnect in a contact's mailbox was refused (HSK-08).
    ReconnectRefused {
        /// The contact.
        contact: String,
        /// Why.
        why: Refusal,
    },
    /// A contact sent a newer device record (ENV-07).
    DeviceRecordUpdated {
        /// The contact.
        contact: String,
        /// Its generation.
        generation: u64,
    },
    /// A device record from a contact did not verify or was not newer; it was ignored.
    DeviceRecordIgnored {
        /// The contact.
        contact: String,
        /// Why, as an error class of the spec's registry.
        class: ErrorClass,
    },
    /// An invite expired before it was used, or a reconnect before it was answered; it is
    /// removed.
    InviteExpired {
        /// The contact it was for.
        contact: String,
        /// Whether it was the reconnect of a restored device.
        reconnect: bool,
    },
    /// Items of a contact's mailbox that did not open were dropped.
    Undecryptable {
        /// The contact.
        contact: String,
        /// How many.
        count: usize,
    },
    /// An invite's mailbox held more items than a handshake could follow; the oldest were
    /// dropped.
    InviteMailboxOverflow {
        /// The contact the invite is for.
        contact: String,
        /// How many were dropped.
        dropped: usize,
    },
    /// A send failed for good (`spec/09-delivery.md` DLV-03): it is not retried.
    SendFailed {
        /// The contact.
        contact: String,
        /// The message id.
        id: MessageId,
        /// Why.
        reason: FailReason,
    },
    /// A long fetch is under way: this many items of one mailbox so far.
    Fetching {
        /// Items fetched so far.
        items: usize,
    },
    /// A watch connected to the relay.
    Connected {
        /// The relay URL.
        relay: String,
    },
    /// A watch lost its connection, or could not connect; it tries again after `retry_in`
    /// seconds.
    Disconnected {
        /// What happened.
        error: String,
        /// Seconds until the next attempt.
        retry_in: u64,
        /// Whether a connection had been made.
        was_connected: bool,
    },
    /// The relay refused to subscribe a mailbox; a watch fetches it on a timer instead.
    SubscriptionRefused {
        /// The class the relay sent.
        class: String,
    },
}

/// Why a reconnect from a contact was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// Its device record is not newer than the one held (an old backup restored again).
    OldGeneration {
        /// The generation held for the contact.
        held: u64,
    },
    /// Its invite expired before this device saw it.
    Expired,
    /// It is not from the contact's identity or suite (the class says which).
    NotTheContact(ErrorClass),
    /// It names another relay than this device's.
    OtherRelay {
        /// The relays it names.
        hints: Vec<String>,
    },
}
