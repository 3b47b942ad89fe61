//! The restore layer (`XBK-21` to `XBK-24`, `XBK-28`): reads the records out of the
//! decoder's released content, checks them and stages them; only a decoding that finished
//! can be committed.
//!
//! What a restored device does (`XBK-23`, `XBK-24`): it keeps the identity (checked against
//! its seed), contacts, chats, messages, media references and settings; it generates new
//! KEM and ratchet keys and signs a device record one generation higher; every session it
//! restores is a [`StaleSession`], which can still decrypt messages that were in flight when
//! the backup was made but refuses to encrypt (`backup.session_stale`): an old sending chain
//! is never resumed, so no message key or nonce is reused. Sending to a contact again needs
//! a fresh session: a reconnect to the contact's device KEM key from its restored contact
//! record (`spec/05-handshake.md` §5.8), or a new invite.
//!
//! A whole backup in memory: records written with [`Encoder::write_record`], read back from a
//! slice by a [`Decoder`] whose events feed a [`Restore`]. ([`run::restore_slice`] does the
//! reading in one call.)
//!
//! ```
//! use quietwire::backup::restore::{Record, Restore};
//! use quietwire::backup::{Decoder, DecoderConfig, Encoder, ExportOptions, HiddenOutcome,
//!     Methods, RecoveryKey, Section, Unlock};
//! use quietwire::cbor::Value;
//! use quietwire::event::{Body, Event};
//! use quietwire::identity::DeviceKeys;
//! use quietwire::suite::Suite;
//! # use rand_core::{TryCryptoRng, TryRng};
//! # struct Counter(u8);
//! # impl TryRng for Counter {
//! #     type Error = core::convert::Infallible;
//! #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
//! #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
//! #     fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
//! #         for b in dst { self.0 = self.0.wrapping_add(1); *b = self.0; }
//! #         Ok(())
//! #     }
//! # }
//! # impl TryCryptoRng for Counter {}
//! # let mut rng = Counter(0);
//! let me = DeviceKeys::generate(Suite::X25519, &mut rng);
//! let alice = DeviceKeys::generate(Suite::X25519, &mut rng);
//! let (alice_id, chat_id) = ([1; 16], [2; 16]);
//! let hello = Event::new(Body::Text { text: "hello".into(), reply_to: None }, &mut rng);
//!
//! // Export: one record after the other, each into its section.
//! let key = RecoveryKey::generate(&mut rng);
//! let text = key.to_text();
//! let options = ExportOptions::new(Methods::RecoveryKey(key));
//! let mut file = Vec::new();
//! let mut encoder = Encoder::new(&options, &mut rng, &mut file)?;
//! encoder.write_record(Section::Identity, &Record::identity(me.identity(), 0), &mut file)?;
//! let contact = Record::contact(alice_id, &alice.signed_record(0), "Alice", true);
//! encoder.write_record(Section::Contacts, &contact, &mut file)?;
//! let chat = Record::Chat { id: chat_id, members: vec![alice_id], title: None };
//! encoder.write_record(Section::Chats, &chat, &mut file)?;
//! let message = Record::message(chat_id, &hello, 1_900_000_000, Some(alice_id))?;
//! encoder.write_record(Section::Chats, &message, &mut file)?;
//! let theme = Record::Setting { name: "theme".into(), value: Value::from("dark") };
//! encoder.write_record(Section::Settings, &theme, &mut file)?;
//! encoder.finish(&mut file)?;
//!
//! // Import from a slice: every decoder event goes to the restore layer, which commits only
//! // after `Finished`.
//! let mut decoder = Decoder::new(DecoderConfig::default());
//! decoder.unlock(Unlock::RecoveryKey(text), None)?;
//! let mut restore = Restore::new();
//! let mut input = &file[..];
//! while !input.is_empty() {
//!     let n = decoder.push(input)?;
//!     input = &input[n..];
//!     while let Some(event) = decoder.poll_event() {
//!         restore.handle(&event)?;
//!     }
//! }
//! decoder.finish()?;
//! while let Some(event) = decoder.poll_event() {
//!     restore.handle(&event)?;
//! }
//! let restored = restore.commit().expect("the decoder finished");
//! assert_eq!(restored.identity.public(), me.identity().public());
//! assert_eq!(restored.generation, 0); // sign the new device record with generation 1
//! assert_eq!(restored.hidden, HiddenOutcome::Locked);
//! let records: Vec<_> = restored.records.iter().map(|(s, r)| (*s, r.clone())).collect();
//! assert_eq!(records, [
//!     (Section::Contacts, contact),
//!     (Section::Chats, chat),
//!     (Section::Chats, message),
//!     (Section::Settings, theme),
//! ]);
//! # Ok::<(), quietwire::Error>(())
//! ```

mod records;

use std::collections::BTreeSet;

use core::fmt;

pub use records::{Contact, Id, Message, Record};

use super::decoder::{Event, HiddenOutcome};
#[cfg(doc)]
use super::{Decoder, Encoder, run};
use super::{MAX_RECORD, Section};
use crate::error::{ErrorClass, Result};
use crate::event;
use crate::keys::IdentityKeyPair;
use crate::session::Session;

/// A session restored from a backup: decrypt only (`XBK-24`).
pub struct StaleSession {
    contact: Id,
    session: Session,
}

impl fmt::Debug for StaleSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaleSession")
            .field("contact", &self.contact)
            .finish_non_exhaustive()
    }
}

impl StaleSession {
    /// The contact of the session.
    pub fn contact(&self) -> &Id {
        &self.contact
    }

    /// The peer's identity key, if the snapshot holds it (key 4 of `session-snapshot`,
    /// spec ENV-08).
    pub fn peer_identity(&self) -> Option<&crate::keys::IdentityKey> {
        self.session.peer_identity()
    }

    /// Decrypts a message that was in flight when the backup was made.
    ///
    /// # Errors
    /// As [`Session::open`].
    pub fn open(&mut self, blob: &[u8]) -> Result<event::Event> {
        self.session.open(blob)
    }

    /// The session's snapshot, for the caller's encrypted storage. Whoever restores it
    /// MUST keep treating it as stale (**[XBK-24]**): decrypt only, never seal.
    pub fn snapshot(&self) -> zeroize::Zeroizing<Vec<u8>> {
        self.session.snapshot()
    }

    /// Always refused: a restored sending chain could reuse message keys and nonces.
    ///
    /// # Errors
    /// `backup.session_stale`, and nothing changes.
    pub fn seal(&mut self, _event: &event::Event) -> Result<Vec<u8>> {
        Err(ErrorClass::BackupSessionStale.into())
    }
}

/// What a finished restore yields.
pub struct Restored {
    /// The identity key pair.
    pub identity: IdentityKeyPair,
    /// The generation of the last device record; sign the new one with `generation + 1`.
    pub generation: u64,
    /// Every other record in file order, with the section it came from.
    pub records: Vec<(Section, Record)>,
    /// The sessions, stale.
    pub sessions: Vec<StaleSession>,
    /// The hidden section's outcome.
    pub hidden: HiddenOutcome,
}

impl fmt::Debug for Restored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Restored")
            .field("identity", self.identity.public())
            .field("generation", &self.generation)
            .field("records", &self.records.len())
            .field("sessions", &self.sessions.len())
            .field("hidden", &self.hidden)
            .finish()
    }
}

/// The staging restore: feed it every decoder event with [`Restore::handle`], then
/// [`Restore::commit`] after `Finished`. Dropping it discards everything staged.
#[derive(Default)]
pub struct Restore {
    section: Option<Section>,
    len: Vec<u8>,
    record: zeroize::Zeroizing<Vec<u8>>,
    want: Option<usize>,
    identities: usize,
    identity: Option<(IdentityKeyPair, u64)>,
    records: Vec<(Section, Record)>,
    sessions: Vec<StaleSession>,
    contacts: BTreeSet<Id>,
    chats: BTreeSet<Id>,
    messages: BTreeSet<Id>,
    finished: Option<HiddenOutcome>,
}

impl fmt::Debug for Restore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Restore")
            .field("section", &self.section)
            .field("records", &self.records.len())
            .finish_non_exhaustive()
    }
}

impl Restore {
    /// An empty staging area.
    pub fn new() -> Restore {
        Restore::default()
    }

    /// Consumes one decoder event.
    ///
    /// # Errors
    /// `backup.record_length`, `cbor.*`, `schema.*`, `backup.record_kind`, the nested
    /// structures' classes, `backup.reference`, `backup.identity_count`,
    /// `backup.identity_mismatch`.
    pub fn handle(&mut self, event: &Event<'_>) -> Result<()> {
        match event {
            Event::SectionStart { section } => {
                self.section = Some(*section);
                self.len.clear();
                self.record.clear();
                self.want = None;
            }
            Event::Data { section, bytes } => self.data(*section, bytes)?,
            Event::SectionEnd { section, .. } => {
                if !self.len.is_empty() || self.want.is_some() {
                    return Err(ErrorClass::BackupRecordLength.into());
                }
                if *section == Section::Identity && self.identities != 1 {
                    return Err(ErrorClass::BackupIdentityCount.into());
                }
            }
            Event::Finished { hidden } => self.finished = Some(*hidden),
            _ => {}
        }
        Ok(())
    }

    fn data(&mut self, section: Section, mut bytes: &[u8]) -> Result<()> {
        while !bytes.is_empty() {
            match self.want {
                None => {
                    let take = (4 - self.len.len()).min(bytes.len());
                    self.len
                        .extend_from_slice(bytes.get(..take).unwrap_or_default());
                    bytes = bytes.get(take..).unwrap_or_default();
                    if let Ok(len) = <[u8; 4]>::try_from(self.len.as_slice()) {
                        let len = u32::from_be_bytes(len) as usize;
                        if len == 0 || len > MAX_RECORD {
                            return Err(ErrorClass::BackupRecordLength.into());
                        }
                        self.want = Some(len);
                        self.len.clear();
                    }
                }
                Some(want) => {
                    let take = (want - self.record.len()).min(bytes.len());
                    self.record
                        .extend_from_slice(bytes.get(..take).unwrap_or_default());
                    bytes = bytes.get(take..).unwrap_or_default();
                    if self.record.len() == want {
                        let record = Record::decode(&self.record, section)?;
                        self.record.clear();
                        self.want = None;
                        self.stage(section, record)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn stage(&mut self, section: Section, record: Record) -> Result<()> {
        let undefined = |set: &BTreeSet<Id>, id: &Id| -> Result<()> {
            if set.contains(id) {
                Ok(())
            } else {
                Err(ErrorClass::BackupReference.into())
            }
        };
        match &record {
            Record::Identity {
                seed,
                key,
                generation,
            } => {
                self.identities += 1;
                if self.identities > 1 {
                    return Err(ErrorClass::BackupIdentityCount.into());
                }
                let pair = IdentityKeyPair::from_seed(seed);
                if pair.public().as_bytes() != key {
                    return Err(ErrorClass::BackupIdentityMismatch.into());
                }
                self.identity = Some((pair, *generation));
                return Ok(());
            }
            Record::Contact(c) => {
                if !self.contacts.insert(c.id) {
                    return Err(ErrorClass::BackupReference.into());
                }
            }
            Record::Session { contact, snapshot } => {
                undefined(&self.contacts, contact)?;
                self.sessions.push(StaleSession {
                    contact: *contact,
                    session: Session::restore(snapshot)?,
                });
                return Ok(());
            }
            Record::Chat { id, members, .. } => {
                for m in members {
                    undefined(&self.contacts, m)?;
                }
                if !self.chats.insert(*id) {
                    return Err(ErrorClass::BackupReference.into());
                }
            }
            Record::Message(m) => {
                undefined(&self.chats, &m.chat)?;
                if let Some(sender) = &m.sender {
                    undefined(&self.contacts, sender)?;
                }
                if !self.messages.insert(m.id) {
                    return Err(ErrorClass::BackupReference.into());
                }
            }
            Record::Media { chat, message, .. } => {
                undefined(&self.chats, chat)?;
                undefined(&self.messages, message)?;
            }
            Record::Setting { .. } => {}
        }
        self.records.push((section, record));
        Ok(())
    }

    /// The restored data, only if the decoder reported `Finished`; otherwise `None` and
    /// everything staged is dropped.
    pub fn commit(self) -> Option<Restored> {
        let hidden = self.finished?;
        let (identity, generation) = self.identity?;
        Some(Restored {
            identity,
            generation,
            records: self.records,
            sessions: self.sessions,
            hidden,
        })
    }
}
