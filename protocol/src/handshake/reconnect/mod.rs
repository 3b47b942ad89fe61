//! Reconnecting with a contact without meeting again (`spec/05-handshake.md` §5.8,
//! **[HSK-07]**–**[HSK-09]**; CDDL rule `reconnect-payload`).
//!
//! A device restored from a backup has its identity and its contacts, but no session it may
//! send with (**[XBK-24]**) and new KEM and ratchet keys. To start fresh sessions it makes a
//! new single-use invite per contact, as for meeting in person, and sends it sealed with HPKE
//! to the contact's device KEM key (from the contact's signed device record, kept in the
//! backup), together with its own new signed device record, into the mailbox it used to write
//! to. The contact opens it with [`open`], checks that both the invite and the record are
//! signed by the identity it already knows for that mailbox, and accepts the invite with
//! [`crate::handshake::accept_invite`]: the handshake that follows starts the new session, with
//! the contact as acceptor.
//!
//! Only a known identity can reconnect: a stranger who learns a mailbox id can put junk into
//! it, but cannot make the owner start a session, since the invite must be signed by the
//! identity key the owner already holds for that contact.

use core::fmt;
use std::collections::BTreeMap;

mod guard;

pub use guard::{MAX_ACCEPTED_RECONNECTS, ReconnectGuard};

use rand_core::CryptoRng;

use crate::cbor::{self, Int, Limits, Value};
use crate::envelope;
use crate::error::{ErrorClass, Result};
use crate::hpke::{self, Sender};
use crate::identity::{DeviceKeys, SignedDeviceRecord};
use crate::invite::SignedInvite;
use crate::keys::IdentityKey;
use crate::label::Label;
use crate::schema::{self, Fields};
use crate::suite::SuitePolicy;
use crate::time::UnixTime;

/// Largest encoded reconnect payload: an invite and a device record (at most 4096 bytes
/// each) and the map around them.
pub const MAX_RECONNECT_PAYLOAD: usize = 2 * 4096 + 64;

const LIMITS: Limits = Limits::DEFAULT.with_max_input(MAX_RECONNECT_PAYLOAD);

mod key {
    pub(super) const INVITE: u64 = 2;
    pub(super) const RECORD: u64 = 3;
    pub(super) const KNOWN: &[u64] = &[1, INVITE, RECORD];
}

/// What a contact learns from a reconnect: the invite to accept and the sender's new device
/// record, both verified and of the expected identity.
pub struct Reconnected {
    /// The invite: accept it with [`crate::handshake::accept_invite`].
    pub invite: SignedInvite,
    /// The sender's new signed device record (replaces the one held for the contact if its
    /// generation is higher).
    pub record: SignedDeviceRecord,
}

impl fmt::Debug for Reconnected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reconnected")
            .field("identity", self.record.record().identity_key())
            .field("generation", &self.record.record().generation())
            .finish_non_exhaustive()
    }
}

/// The HPKE `info`: `["quietwire/v1/reconnect-info", recipient identity key]`.
fn info(recipient: &IdentityKey) -> Vec<u8> {
    Label::ReconnectInfo.input(&[recipient.as_bytes()])
}

/// Seals `invite` and `record` (the sender's fresh single-use invite and new device record)
/// to `contact`'s device KEM key (**[HSK-07]**). The message is padded to a bucket, ready for
/// an envelope to the contact's mailbox. Draws only the HPKE encapsulation randomness.
///
/// # Errors
/// `handshake.identity` if the invite and the record are not of one identity;
/// `handshake.suite` if the invite's suite is not the contact's; `key.*` from the KEM.
pub fn seal<R: CryptoRng + ?Sized>(
    contact: &SignedDeviceRecord,
    invite: &SignedInvite,
    record: &SignedDeviceRecord,
    rng: &mut R,
) -> Result<Vec<u8>> {
    if invite.invite().identity_key() != record.record().identity_key() {
        return Err(ErrorClass::HandshakeIdentity.into());
    }
    if invite.invite().suite() != contact.record().suite()
        || record.record().suite() != contact.record().suite()
    {
        return Err(ErrorClass::HandshakeSuite.into());
    }
    let payload = cbor::encode(&schema::build_map(
        vec![
            (key::INVITE, Value::from(&invite.to_bytes()[..])),
            (key::RECORD, Value::from(&record.to_bytes()[..])),
        ],
        &BTreeMap::<Int, Value>::new(),
    ));
    let sender = Sender::setup(
        contact.record().kem_key(),
        &info(contact.record().identity_key()),
        rng,
    )?;
    let overhead = sender.enc().len() + crate::aead::TAG_LEN;
    let padded = envelope::pad(&payload, overhead)?;
    let mut message = sender.enc().to_vec();
    message.extend_from_slice(&sender.seal(&[], &padded));
    Ok(message)
}

/// Opens a reconnect message with this device's keys, at `now`, from a contact whose
/// identity key is `expected` (the identity held for the mailbox it arrived in), checking in
/// the order of **[HSK-08]**.
///
/// # Errors
/// `handshake.format` (not a bucket, or too short); `hpke.*`; `envelope.padding`; `cbor.*`
/// and `schema.*` for the payload; the invite's classes (`invite.expired` among them); the
/// device record's classes; `handshake.suite` if the invite, the record and this device are
/// not of one suite; `handshake.identity` if the invite or the record is not of `expected`.
pub fn open(
    device: &DeviceKeys,
    message: &[u8],
    expected: &IdentityKey,
    now: UnixTime,
    policy: &SuitePolicy,
) -> Result<Reconnected> {
    let enc_len = device.suite().hpke_enc_len();
    if !envelope::is_bucket(message.len()) || message.len() <= enc_len + crate::aead::TAG_LEN {
        return Err(ErrorClass::HandshakeFormat.into());
    }
    let (enc, ciphertext) = message.split_at(enc_len);
    let opened = hpke::open(
        device.kem(),
        enc,
        &info(device.identity().public()),
        &[],
        ciphertext,
        &[],
    )?;
    let mut f = Fields::new(
        cbor::decode(envelope::unpad(opened.plaintext())?, &LIMITS)?,
        key::KNOWN,
    )?;
    let invite = f.bytes(key::INVITE)?;
    let record = f.bytes(key::RECORD)?;
    let invite = SignedInvite::from_bytes(&invite, now, policy)?;
    let record = SignedDeviceRecord::from_bytes(&record, policy)?;
    if invite.invite().suite() != device.suite() || record.record().suite() != device.suite() {
        return Err(ErrorClass::HandshakeSuite.into());
    }
    if invite.invite().identity_key() != expected || record.record().identity_key() != expected {
        return Err(ErrorClass::HandshakeIdentity.into());
    }
    Ok(Reconnected { invite, record })
}
