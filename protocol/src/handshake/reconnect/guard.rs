//! What a receiver keeps per contact to judge that contact's reconnects
//! (`spec/05-handshake.md` §5.8.2, **[HSK-08]** checks 8 and 9, **[HSK-10]**).
//!
//! [`super::open`] checks that a reconnect is sealed to this device and signed by the
//! contact's identity. Two more facts decide whether it may replace the session, and both
//! must outlive the process: which invites the contact already reconnected with (a copy of an
//! accepted reconnect must never start a second session), and the generation of the device
//! record held for the contact (a restore always raises it, so a reconnect carrying a record
//! of the same or a lower generation is an old backup or a replay, never a newer device).
//!
//! ```
//! # use quietwire::handshake::reconnect::ReconnectGuard;
//! # use quietwire::keys::IdentityKeyPair;
//! # use quietwire::UnixTime;
//! let contact = IdentityKeyPair::from_seed(&[7; 32]);
//! // The contact's device record of generation 0 was held before; nothing accepted yet.
//! let guard = ReconnectGuard::new(*contact.public(), 0);
//! // Store `identity`, `generation` and `accepted` with the contact, and rebuild it after
//! // a restart:
//! let stored: Vec<([u8; 32], UnixTime)> = guard.accepted().collect();
//! let again = ReconnectGuard::from_parts(*guard.identity(), guard.generation(), stored)?;
//! assert_eq!(again.generation(), 0);
//! # Ok::<(), quietwire::Error>(())
//! ```

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::Reconnected;
use crate::error::{ErrorClass, Result};
use crate::identity::DeviceKeys;
use crate::keys::IdentityKey;
use crate::suite::SuitePolicy;
use crate::time::UnixTime;

/// Most invites a guard remembers (**[HSK-10]**): unexpired invites accepted through
/// reconnects of one contact. When full, the entry that expires first is forgotten.
pub const MAX_ACCEPTED_RECONNECTS: usize = 64;

/// A receiver's per-contact record for reconnects: the contact's identity key, the
/// generation of the device record held for it, and the SHA-256 of every invite accepted
/// through a reconnect with that invite's expiry. Keep it with the contact, in encrypted
/// storage, across restarts ([`ReconnectGuard::accepted`], [`ReconnectGuard::from_parts`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReconnectGuard {
    identity: IdentityKey,
    generation: u64,
    accepted: BTreeMap<[u8; 32], UnixTime>,
}

impl ReconnectGuard {
    /// A guard for the contact of `identity` whose device record of `generation` is held.
    pub fn new(identity: IdentityKey, generation: u64) -> ReconnectGuard {
        ReconnectGuard {
            identity,
            generation,
            accepted: BTreeMap::new(),
        }
    }

    /// Rebuilds a stored guard.
    ///
    /// # Errors
    /// `schema.length` for more than [`MAX_ACCEPTED_RECONNECTS`] accepted invites.
    pub fn from_parts(
        identity: IdentityKey,
        generation: u64,
        accepted: impl IntoIterator<Item = ([u8; 32], UnixTime)>,
    ) -> Result<ReconnectGuard> {
        let mut map = BTreeMap::new();
        for (hash, expires) in accepted {
            map.insert(hash, expires);
            if map.len() > MAX_ACCEPTED_RECONNECTS {
                return Err(ErrorClass::SchemaLength.into());
            }
        }
        Ok(ReconnectGuard {
            identity,
            generation,
            accepted: map,
        })
    }

    /// The contact's identity key.
    pub const fn identity(&self) -> &IdentityKey {
        &self.identity
    }

    /// The generation of the contact's device record this guard holds.
    pub const fn generation(&self) -> u64 {
        self.generation
    }

    /// Every remembered invite (SHA-256 of its signed bytes) with its expiry, in ascending
    /// hash order: what to store.
    pub fn accepted(&self) -> impl Iterator<Item = ([u8; 32], UnixTime)> + '_ {
        self.accepted.iter().map(|(h, e)| (*h, *e))
    }

    /// Opens a reconnect found in a mailbox held for this contact (**[HSK-08]**): checks 1
    /// to 7 of [`super::open`] with this guard's identity as the expected one, then
    /// 8. the invite was already accepted through a reconnect and has not expired →
    ///    `handshake.replay`;
    /// 9. the device record's generation is not above the held one →
    ///    `handshake.generation`.
    ///
    /// The guard does not change; call [`ReconnectGuard::commit`] once the reconnect is
    /// acted on.
    ///
    /// # Errors
    /// The classes of [`super::open`], then `handshake.replay`, then `handshake.generation`.
    pub fn open(
        &self,
        device: &DeviceKeys,
        message: &[u8],
        now: UnixTime,
        policy: &SuitePolicy,
    ) -> Result<Reconnected> {
        let opened = super::open(device, message, &self.identity, now, policy)?;
        let hash = invite_hash(&opened);
        if self
            .accepted
            .get(&hash)
            .is_some_and(|expires| now < *expires)
        {
            return Err(ErrorClass::HandshakeReplay.into());
        }
        if opened.record.record().generation() <= self.generation {
            return Err(ErrorClass::HandshakeGeneration.into());
        }
        Ok(opened)
    }

    /// Records that `opened` (from [`ReconnectGuard::open`]) was acted on at `now`: its
    /// invite is remembered until it expires, and its record's generation is the one held.
    /// Expired entries are dropped; past [`MAX_ACCEPTED_RECONNECTS`], the entry that expires
    /// first is forgotten (its invite expires soonest, after which `invite.expired` refuses
    /// it anyway).
    pub fn commit(&mut self, opened: &Reconnected, now: UnixTime) {
        self.accepted.retain(|_, expires| now < *expires);
        self.accepted
            .insert(invite_hash(opened), opened.invite.invite().expires());
        while self.accepted.len() > MAX_ACCEPTED_RECONNECTS {
            let first = self
                .accepted
                .iter()
                .min_by_key(|(h, e)| (**e, **h))
                .map(|(h, _)| *h);
            match first {
                Some(h) => {
                    self.accepted.remove(&h);
                }
                None => break,
            }
        }
        self.generation = self.generation.max(opened.record.record().generation());
    }

    /// Raises the held generation when the contact's device record changes by another way
    /// (a `device-record` event, **[ENV-07]**); a lower generation changes nothing.
    pub fn observe_generation(&mut self, generation: u64) {
        self.generation = self.generation.max(generation);
    }
}

/// SHA-256 of the reconnect's signed invite, as received.
fn invite_hash(opened: &Reconnected) -> [u8; 32] {
    Sha256::digest(opened.invite.to_bytes()).into()
}
