//! Making and checking contacts: invites (`spec/04-contact-establishment.md`), accepting one
//! (`spec/05-handshake.md`), the contact list, and safety codes (`spec/03-identity.md`).
//!
//! A contact is made only on purpose: this device makes an invite and hands its link or QR
//! code over a channel the user trusts ([`Engine::invite`]); the contact accepts it
//! ([`Engine::accept`]) and its handshake reaches this device at the next sync, which then
//! reports [`crate::Notice::ContactAdded`].

use quietwire::envelope::Envelope;
use quietwire::handshake;
use quietwire::invite::{Invite, InviteParams, SignedInvite};
use quietwire::keys::IdentityKey;
use quietwire::mailbox::MailboxKey;
use quietwire::safety::SafetyCode;
use quietwire::session::Session;
use quietwire::suite::SuitePolicy;
use quietwire::{ErrorClass, UnixTime};
use subtle::ConstantTimeEq as _;

use crate::engine::Engine;
use crate::error::{Fail, Result};
use crate::flow::{self, PUT_TTL};
use crate::reconnect;
use crate::relay;
use crate::state::{Bytes, Contact, Invitation, PendingSession, Role, SendKind, SendMeta};
use crate::sys;

/// The `quietwire:` base of invite links (`spec/04-contact-establishment.md`).
pub const APP_BASE: &str = "quietwire:invite";

/// An invite made by [`Engine::invite`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteLink {
    /// The link to hand over (`quietwire:invite#i1.…`).
    pub link: String,
    /// The payload of its QR code (binary mode), for apps that draw one.
    pub qr: Vec<u8>,
    /// Until when it can be accepted.
    pub expires: UnixTime,
}

/// What accepting an invite did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The contact's name here (the one asked for, or the existing contact's).
    pub contact: String,
    /// The contact's identity key.
    pub identity: IdentityKey,
    /// How the contact relates to the ones held before.
    pub kind: AcceptKind,
}

/// See [`Accepted::kind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptKind {
    /// A new contact.
    New,
    /// An existing contact's working session stays in use until the contact answers on the
    /// new one.
    NewSessionPending,
    /// An existing contact whose session could not send (restored from a backup) gets the new
    /// session at once.
    SessionReplaced,
}

/// A contact as listed by [`Engine::contacts`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactInfo {
    /// The local name.
    pub name: String,
    /// The identity key (unknown for an invite not used yet).
    pub identity: Option<IdentityKey>,
    /// Whether the safety code was compared.
    pub verified: bool,
    /// The safety code with this device's identity (unknown for an invite not used yet).
    pub safety_code: Option<String>,
    /// Where the session stands.
    pub status: ContactStatus,
}

/// Where a contact's session stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContactStatus {
    /// It works.
    Ready,
    /// This device accepted a new invite from the contact; the old session stays in use until
    /// the contact answers.
    NewSessionPending,
    /// Restored from a backup; a reconnect was sent and waits for the contact's answer.
    AwaitingReconnect,
    /// Restored from a backup without a way to reconnect: needs a new invite to send.
    NeedsInvite,
    /// Restored from a backup without the contact's device record: only name and identity
    /// are known; a new invite is needed.
    Unreachable,
    /// An invite made for this name is not used yet (or, for a reconnect, not answered); it
    /// is valid until then.
    Invited {
        /// Until when.
        expires: UnixTime,
        /// Whether it is the reconnect of a restored device.
        reconnect: bool,
    },
}

impl Engine {
    /// Makes a single-use invite for a new contact to be named `contact`, valid for
    /// `valid_for` seconds, with a new bootstrap mailbox on this identity's relay; saves.
    ///
    /// # Errors
    /// The name is taken or invalid, the invite cannot be made for the relay URL, or the
    /// save failed.
    pub fn invite(&mut self, contact: &str, valid_for: u64) -> Result<InviteLink> {
        let now = sys::now();
        self.state.check_new_name(contact, now)?;
        let mut rng = sys::rng();
        let bootstrap = MailboxKey::generate(&mut rng);
        let expires = now.saturating_add(valid_for);
        let params = InviteParams {
            relay_hints: vec![self.state.relay.clone()],
            mailbox: *bootstrap.id(),
            expires,
            single_use: true,
        };
        let (signed, secrets) = Invite::create(
            self.state.device.identity(),
            self.state.suite,
            params,
            &mut rng,
        )
        .map_err(|e| {
            Fail::new(format!(
                "cannot make an invite for the relay {:?} ({})",
                self.state.relay,
                e.class()
            ))
        })?;
        let link = signed
            .to_link(APP_BASE)
            .map_err(|e| Fail::new(format!("cannot make the invite link ({})", e.class())))?;
        self.state.invites.push(Invitation {
            contact: contact.to_owned(),
            invite: Bytes(signed.to_bytes()),
            kem_seed: Bytes(secrets.kem.dangerous_seed().to_vec()),
            ratchet_secret: Bytes(secrets.ratchet.dangerous_bytes().to_vec()),
            bootstrap_seed: Bytes(bootstrap.dangerous_seed().to_vec()),
            expires: expires.as_secs(),
            reconnect: None,
            held: Vec::new(),
        });
        self.save()?;
        Ok(InviteLink {
            link,
            qr: signed.to_qr(),
            expires,
        })
    }

    /// Accepts a contact's invite `link` under the name `contact`: verifies it, starts the
    /// session and queues the handshake and this device's record in the outbox; saves. Call
    /// [`Engine::flush`] to send them.
    ///
    /// # Errors
    /// An invalid or expired link, this device's own invite, another suite or relay than this
    /// identity's, a name taken, or a failed save.
    pub fn accept(&mut self, link: &str, contact: &str) -> Result<Accepted> {
        let now = sys::now();
        let signed = SignedInvite::from_link(link.trim(), now, &SuitePolicy::ALL).map_err(|e| {
            match e.class() {
                ErrorClass::InviteExpired => {
                    Fail::new("this invite has expired; ask for a new one")
                }
                class => Fail::new(format!("not a valid invite link ({class})")),
            }
        })?;
        let invite = signed.invite();
        let state = &mut self.state;
        if invite.identity_key() == state.device.identity().public() {
            return Err(Fail::new("this is your own invite"));
        }
        // An invite from an identity that is a contact already (for example one that was
        // restored from a backup without a way to reconnect): a new session with that contact.
        let existing = state
            .contact_by_identity(invite.identity_key())
            .and_then(|i| state.contacts.get(i))
            .map(|c| c.name.clone());
        if existing.is_none() {
            state.check_new_name(contact, now)?;
        }
        let contact = existing.as_deref().unwrap_or(contact);
        if invite.suite() != state.suite {
            return Err(Fail::new(format!(
                "this invite uses suite {} but your identity uses {}",
                invite.suite().name(),
                state.suite.name()
            )));
        }
        if !invite
            .relay_hints()
            .iter()
            .any(|hint| relay::same_relay(hint, &state.relay))
        {
            return Err(Fail::new(format!(
                "this invite's relay ({}) is not yours ({}); this client talks to one relay only",
                invite.relay_hints().join(", "),
                state.relay
            )));
        }
        let mut rng = sys::rng();
        let receive = MailboxKey::generate(&mut rng);
        let initiated = handshake::accept_invite(
            &signed,
            &state.device,
            state.generation,
            *receive.id(),
            &mut rng,
        )
        .map_err(|e| Fail::new(format!("cannot start the handshake ({})", e.class())))?;
        let envelope = Envelope::new(*invite.mailbox(), initiated.message)
            .map_err(|e| {
                Fail::new(format!(
                    "cannot build the handshake envelope ({})",
                    e.class()
                ))
            })?
            .to_bytes();
        let session = Session::new(initiated.ratchet, *invite.mailbox());
        // The handshake is not an event; this id names it in the outbox until the contact's
        // first message confirms it.
        let handshake_id = reconnect::random_id();
        let send = state.outbox.push(
            handshake_id,
            *invite.mailbox(),
            envelope,
            PUT_TTL,
            now,
            &mut rng,
        );
        state.sends.insert(
            send.0,
            SendMeta {
                contact: contact.to_owned(),
                kind: SendKind::Handshake,
            },
        );
        let identity = *invite.identity_key();
        let receive_seed = Bytes(receive.dangerous_seed().to_vec());
        let handshake_id = Bytes::from(&handshake_id[..]);
        // A working session with an existing contact stays in use until the contact answers
        // on the new one: an invite that never reaches its maker (used by someone else first,
        // expired, or an old one) must not cut a working, possibly verified, session.
        let keep_old = existing.is_some() && !state.contact(contact)?.stale;
        let kind = if keep_old {
            state.contact_mut(contact)?.pending = Some(PendingSession {
                session: Bytes(session.snapshot().to_vec()),
                receive_seed,
                handshake_id,
            });
            // The new session's first event is this device's record (ENV-07).
            flow::queue_pending_record(state, contact, now)?;
            AcceptKind::NewSessionPending
        } else if existing.is_some() {
            state.contact_mut(contact)?.replace_session(
                &session,
                receive_seed,
                Role::Acceptor,
                Some(handshake_id),
            );
            AcceptKind::SessionReplaced
        } else {
            let mut entry = Contact::new(
                contact.to_owned(),
                &identity,
                &session,
                receive_seed,
                Role::Acceptor,
                now,
            );
            entry.handshake_id = Some(handshake_id);
            entry.verified = state.take_unreachable(&identity);
            state.contacts.push(entry);
            AcceptKind::New
        };
        // The acceptor's first event in the session is its device record (ENV-07).
        reconnect::queue_own_record(state, contact, now)?;
        let contact = contact.to_owned();
        self.save()?;
        Ok(Accepted {
            contact,
            identity,
            kind,
        })
    }

    /// The contacts, then the names with an invite not used yet, then the contacts restored
    /// without a way to reach them.
    ///
    /// # Errors
    /// A damaged state.
    pub fn contacts(&self) -> Result<Vec<ContactInfo>> {
        let state = &self.state;
        let own = state.device.identity().public();
        let mut list = Vec::new();
        for contact in &state.contacts {
            let identity = contact.identity()?;
            let status = if contact.pending.is_some() {
                ContactStatus::NewSessionPending
            } else if !contact.stale {
                ContactStatus::Ready
            } else if state.reconnect_pending(&contact.name) {
                ContactStatus::AwaitingReconnect
            } else {
                ContactStatus::NeedsInvite
            };
            list.push(ContactInfo {
                name: contact.name.clone(),
                identity: Some(identity),
                verified: contact.verified,
                safety_code: Some(SafetyCode::new(own, &identity).to_string()),
                status,
            });
        }
        for invite in &state.invites {
            list.push(ContactInfo {
                name: invite.contact.clone(),
                identity: None,
                verified: false,
                safety_code: None,
                status: ContactStatus::Invited {
                    expires: UnixTime(invite.expires),
                    reconnect: invite.reconnect.is_some(),
                },
            });
        }
        for lost in &state.unreachable {
            let identity = IdentityKey::from_bytes(&lost.identity_key.array()?)
                .map_err(|_| Fail::new("damaged state file (inconsistent contents)"))?;
            list.push(ContactInfo {
                name: lost.name.clone(),
                identity: Some(identity),
                verified: lost.verified,
                safety_code: Some(SafetyCode::new(own, &identity).to_string()),
                status: ContactStatus::Unreachable,
            });
        }
        Ok(list)
    }

    /// The safety code with contact `name` (`spec/03-identity.md`): the same digits on both
    /// sides, to compare in person or over a trusted channel.
    ///
    /// # Errors
    /// An unknown contact.
    pub fn safety_code(&self, name: &str) -> Result<SafetyCode> {
        let own = self.state.device.identity().public();
        Ok(SafetyCode::new(own, &self.state.contact(name)?.identity()?))
    }

    /// Compares `code` (the digits the contact read out; spaces are ignored) with the safety
    /// code with contact `name`, in constant time; if they match, marks the contact verified
    /// and saves.
    ///
    /// # Errors
    /// An unknown contact, a code that does not match, or a failed save.
    pub fn verify(&mut self, name: &str, code: &str) -> Result<()> {
        let expected = self.safety_code(name)?;
        let given: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let matches: bool = given.len() == expected.digits().len()
            && bool::from(given.as_bytes().ct_eq(expected.digits().as_bytes()));
        if !matches {
            return Err(Fail::new(format!(
                "the safety code does NOT match {name}'s; {name} stays unverified"
            )));
        }
        self.state.contact_mut(name)?.verified = true;
        self.save()
    }
}
