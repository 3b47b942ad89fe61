//! A new state from a read backup (`spec/10-backup.md` XBK-23, XBK-24): the same identity
//! with new KEM and ratchet keys and a device record one generation higher, the contacts
//! with their sessions restored stale (they decrypt what was in flight, never encrypt), the
//! history; then a reconnect to every contact whose device record the backup holds
//! (`spec/05-handshake.md` §5.8), queued in the outbox.

use std::collections::BTreeMap;

use quietwire::UnixTime;
use quietwire::backup::restore::{Id, Record, Restored};
use quietwire::cbor::Value;
use quietwire::event::{Body, Event};
use quietwire::identity::{DeviceKeys, SignedDeviceRecord};
use quietwire::invite::is_valid_relay_hint;
use quietwire::keys::{IdentityKey, KemSecret, X25519Secret};
use quietwire::session::Session;
use quietwire::suite::{Suite, SuitePolicy};
use zeroize::Zeroizing;

use super::read::Decoded;
use super::write::{
    SETTING_NAME, SETTING_RECEIVE, SETTING_RELAY, SETTING_SUITE, SETTING_UNREACHABLE,
};
use crate::engine::Engine;
use crate::error::{Fail, Result};
use crate::reconnect;
pub use crate::reconnect::Sent;
use crate::state::{Bytes, Contact, HistoryEntry, Role, State, Unreachable};
use crate::store::Store;
use crate::sys;
use crate::transport::Transport;

/// The relay when neither the backup nor the command line names one.
const DEFAULT_RELAY: &str = "ws://127.0.0.1:7447";

/// The settings this client writes.
#[derive(Default)]
struct Settings {
    name: Option<String>,
    relay: Option<String>,
    suite: Option<Suite>,
    receive: BTreeMap<Id, Zeroizing<[u8; 32]>>,
    unreachable: Vec<(String, [u8; 32], bool)>,
}

impl Settings {
    fn read(&mut self, name: &str, value: &Value) {
        match (name, value) {
            (SETTING_NAME, Value::Text(text)) => self.name = Some(text.clone()),
            (SETTING_RELAY, Value::Text(text)) => self.relay = Some(text.clone()),
            (SETTING_SUITE, Value::Int(id)) => {
                self.suite = id.as_u64().and_then(|id| Suite::from_id(id).ok());
            }
            (SETTING_RECEIVE, Value::Array(items)) => {
                if let [Value::Bytes(id), Value::Bytes(seed)] = items.as_slice()
                    && let (Ok(id), Ok(seed)) = (
                        <Id>::try_from(id.as_slice()),
                        <[u8; 32]>::try_from(seed.as_slice()),
                    )
                {
                    self.receive.insert(id, Zeroizing::new(seed));
                }
            }
            (SETTING_UNREACHABLE, Value::Map(map)) => {
                let field = |k: u64| map.get(&quietwire::cbor::Int::uint(k));
                if let (Some(Value::Text(name)), Some(Value::Bytes(key)), Some(Value::Bool(v))) =
                    (field(1), field(2), field(3))
                    && let Ok(key) = <[u8; 32]>::try_from(key.as_slice())
                {
                    self.unreachable.push((name.clone(), key, *v));
                }
            }
            // Settings of other clients (or later versions) are kept by none here.
            _ => {}
        }
    }
}

/// A local name for a restored contact: printable, at most 64 characters, not taken.
fn unique_name(state: &State, wanted: &str) -> String {
    let base: String = wanted
        .chars()
        .filter(|c| !c.is_control())
        .take(56)
        .collect();
    let base = if base.trim().is_empty() {
        "contact".to_owned()
    } else {
        base
    };
    let taken = |n: &str| {
        state.contacts.iter().any(|c| c.name == n) || state.unreachable.iter().any(|u| u.name == n)
    };
    let mut name = base.clone();
    let mut i = 2u32;
    while taken(&name) {
        name = format!("{base} ({i})");
        i = i.saturating_add(1);
    }
    name
}

/// A contact to reconnect with: its name and the mailbox this identity used to write to.
type Reconnect = (String, [u8; 32]);

/// The state a backup describes, and the contacts to reconnect with.
fn build(decoded: Decoded, relay: Option<&str>, now: UnixTime) -> Result<(State, Vec<Reconnect>)> {
    let Decoded { restored, sessions } = decoded;
    let Restored {
        identity,
        generation,
        records,
        ..
    } = restored;
    let mut settings = Settings::default();
    for (_, record) in &records {
        if let Record::Setting { name, value } = record {
            settings.read(name, value);
        }
    }
    let suite = settings
        .suite
        .or_else(|| {
            records.iter().find_map(|(_, r)| match r {
                Record::Contact(c) => {
                    SignedDeviceRecord::from_bytes(&c.device_record, &SuitePolicy::ALL)
                        .ok()
                        .map(|d| d.record().suite())
                }
                _ => None,
            })
        })
        .unwrap_or(Suite::XWing);
    let relay = relay
        .map(str::to_owned)
        .or(settings.relay)
        .unwrap_or_else(|| DEFAULT_RELAY.to_owned());
    if !is_valid_relay_hint(&relay) {
        return Err(Fail::new(format!(
            "invalid relay URL {relay:?}: pass --relay ws://HOST:PORT"
        )));
    }
    let name = settings.name.unwrap_or_else(|| "me".to_owned());
    let mut rng = sys::rng();
    // XBK-23: the identity, with new KEM and ratchet keys.
    let device = DeviceKeys::from_parts(
        suite,
        identity,
        KemSecret::generate(suite, &mut rng),
        X25519Secret::generate(&mut rng),
    );
    let own = *device.identity().public();
    let mut state = State::new(name, relay, device);
    state.generation = generation.saturating_add(1);

    let mut names: BTreeMap<Id, String> = BTreeMap::new();
    let mut reconnects = Vec::new();
    for (_, record) in &records {
        let Record::Contact(c) = record else {
            continue;
        };
        let Ok(device_record) = SignedDeviceRecord::from_bytes(&c.device_record, &SuitePolicy::ALL)
        else {
            continue;
        };
        let identity = *device_record.record().identity_key();
        if identity == own {
            continue;
        }
        let name = unique_name(&state, &c.name);
        let Some(snapshot) = sessions.get(&c.id) else {
            // No session to restore: known by identity only, like a contact without record.
            state.unreachable.push(Unreachable {
                name,
                identity_key: Bytes::from(&identity.as_bytes()[..]),
                verified: c.verified,
            });
            continue;
        };
        let session = Session::restore(snapshot).map_err(|e| {
            Fail::new(format!(
                "the backup's session with {name} is invalid ({})",
                e.class()
            ))
        })?;
        let seed = match settings.receive.get(&c.id) {
            Some(seed) => Bytes(seed.to_vec()),
            None => Bytes(
                quietwire::mailbox::MailboxKey::generate(&mut rng)
                    .dangerous_seed()
                    .to_vec(),
            ),
        };
        let mut contact =
            Contact::new(name.clone(), &identity, &session, seed, Role::Acceptor, now);
        contact.verified = c.verified;
        contact.device_record = Some(Bytes(c.device_record.clone()));
        contact.stale = true;
        reconnects.push((name.clone(), c.mailbox.unwrap_or(*session.peer_mailbox())));
        names.insert(c.id, name);
        state.contacts.push(contact);
    }
    let mut chats: BTreeMap<Id, String> = BTreeMap::new();
    for (_, record) in &records {
        match record {
            Record::Chat { id, members, .. } => {
                if let Some(name) = members.first().and_then(|m| names.get(m)) {
                    chats.insert(*id, name.clone());
                }
            }
            Record::Message(m) => {
                let (Some(contact), Ok(event)) = (chats.get(&m.chat), Event::from_bytes(&m.event))
                else {
                    continue;
                };
                if let Body::Text { text, .. } = event.body() {
                    if !m.sent {
                        // Never hand a message out twice (DLV-06).
                        state.inbox.first_delivery(&m.id, now);
                    }
                    state.history.push(HistoryEntry {
                        contact: contact.clone(),
                        outgoing: m.sent,
                        message_id: Bytes::from(&m.id[..]),
                        text: text.clone(),
                        at: m.time,
                    });
                }
            }
            _ => {}
        }
    }
    for (wanted, key, verified) in settings.unreachable {
        let known = state.contacts.iter().any(|c| c.identity_key.0 == key)
            || state.unreachable.iter().any(|u| u.identity_key.0 == key);
        if known || IdentityKey::from_bytes(&key).is_err() {
            continue;
        }
        let name = unique_name(&state, &wanted);
        state.unreachable.push(Unreachable {
            name,
            identity_key: Bytes::from(&key[..]),
            verified,
        });
    }
    Ok((state, reconnects))
}

/// What [`Engine::restore_backup`] did.
#[derive(Debug)]
pub struct RestoreReport {
    /// The user's name, from the backup.
    pub name: String,
    /// The identity restored.
    pub identity: IdentityKey,
    /// Contacts restored (with or without a way to reconnect).
    pub contacts: usize,
    /// Messages restored.
    pub messages: usize,
    /// The generation of this device's new record (one more than the backup's, XBK-23).
    pub generation: u64,
    /// Per contact whose device record the backup holds: whether its reconnect is queued.
    pub reconnects: Vec<(String, Sent)>,
    /// Contacts restored without a device record: a new invite is needed for each.
    pub unreachable: Vec<String>,
}

impl Engine {
    /// A new engine from a read backup (`spec/10-backup.md` §10.10): the same identity with
    /// new device keys and the next record generation, every session stale (decrypt only,
    /// XBK-24), the history, and one reconnect per contact whose device record the backup
    /// holds, queued in the outbox ([`Engine::flush`] sends them). `relay` replaces the
    /// backup's relay. Saved into `store`, which must be empty.
    ///
    /// # Errors
    /// The backup's content is unusable, `store` holds a state, or the save failed;
    /// nothing is saved then.
    pub fn restore_backup(
        mut store: impl Store + 'static,
        transport: impl Transport + 'static,
        decoded: Decoded,
        relay: Option<&str>,
    ) -> Result<(Engine, RestoreReport)> {
        if store.load()?.is_some() {
            return Err(Fail::new("an identity already exists in this store"));
        }
        let now = sys::now();
        let (mut state, reconnects) = build(decoded, relay, now)?;
        // Everything is queued before the state is first written: a failure leaves nothing.
        let mut outcomes = Vec::with_capacity(reconnects.len());
        for (name, mailbox) in reconnects {
            let sent = reconnect::send_reconnect(&mut state, &name, mailbox, now)?;
            outcomes.push((name, sent));
        }
        let engine = Engine::install(store, transport, state)?;
        let state = engine.state();
        let report = RestoreReport {
            name: state.name.clone(),
            identity: *state.device.identity().public(),
            contacts: state.contacts.len() + state.unreachable.len(),
            messages: state.history.len(),
            generation: state.generation,
            reconnects: outcomes,
            unreachable: state.unreachable.iter().map(|u| u.name.clone()).collect(),
        };
        Ok((engine, report))
    }
}
