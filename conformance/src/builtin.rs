//! The built-in implementation: the `quietwire` crate itself.

mod backup;
mod reconnect;

use std::collections::HashMap;

use quietwire::cbor::{self, Limits};
use quietwire::envelope::{self, Envelope};
use quietwire::handshake::{self, PendingInvite};
use quietwire::identity::{DeviceKeys, SignedDeviceRecord};
use quietwire::invite::InviteSecrets;
use quietwire::invite::{Invite, InviteParams, SignedInvite};
use quietwire::keys::{IdentityKey, IdentityKeyPair, KemSecret, X25519Secret};
use quietwire::mailbox::RelayOrigin;
use quietwire::ratchet::Ratchet;
use quietwire::safety::{Fingerprint, SafetyCode, SafetyQr};
use quietwire::suite::{Suite, SuitePolicy};
use quietwire::{UnixTime, did_key, hpke, relay};
use quietwire_test_vectors::families::cbor::LimitsJson;
use quietwire_test_vectors::families::device_record::RecordFields;
use quietwire_test_vectors::families::invite::InviteFields;
use quietwire_test_vectors::families::relay::RelayLimits;
use quietwire_test_vectors::seeds::{ReplayRng, StreamRng};

use quietwire_test_vectors::families::backup::{Export as BackupExport, Kdf, UnlockJson};

use crate::implementation::{BackupDecode, BackupDecoded, BackupSeek};
use crate::implementation::{
    DecodedEvent, Failure, Handle, HandshakeAccepted, HandshakeInitiate, HandshakeSealed,
    HpkeInput, HpkeSealed, Implementation, InviteCreate, OpResult, RelayHandled, RelayTime, Role,
};
use crate::implementation::{ReconnectOpen, ReconnectOpened, ReconnectSeal};

/// The `quietwire` crate as an implementation under test.
#[derive(Debug, Default)]
pub struct Builtin {
    sessions: HashMap<Handle, Ratchet>,
    invites: HashMap<Handle, PendingInvite>,
    relays: HashMap<Handle, (relay::Connection, relay::MemoryStore)>,
    next_handle: Handle,
}

fn relay_now(now: RelayTime) -> relay::Now {
    relay::Now {
        unix: UnixTime(now.unix),
        millis: now.millis,
    }
}

impl Builtin {
    fn store(&mut self, ratchet: Ratchet) -> Handle {
        self.next_handle += 1;
        self.sessions.insert(self.next_handle, ratchet);
        self.next_handle
    }

    fn session(&mut self, handle: Handle) -> OpResult<&mut Ratchet> {
        self.sessions
            .get_mut(&handle)
            .ok_or_else(|| bad_input("handle"))
    }
}

fn err(e: quietwire::Error) -> Failure {
    Failure::Error {
        class: e.class().as_str().to_owned(),
    }
}

/// A harness-side problem with the inputs (not a protocol error class).
fn bad_input(what: &str) -> Failure {
    Failure::Error {
        class: format!("harness.{what}"),
    }
}

fn key32(bytes: &[u8]) -> OpResult<[u8; 32]> {
    bytes.try_into().map_err(|_| bad_input("key_length"))
}

fn kem_secret(input: &HpkeInput<'_>) -> OpResult<KemSecret> {
    let suite = Suite::from_id(input.suite).map_err(err)?;
    Ok(KemSecret::from_seed(suite, &key32(input.recipient_seed)?))
}

fn identity(bytes: &[u8]) -> OpResult<IdentityKey> {
    IdentityKey::from_bytes(&key32(bytes)?).map_err(err)
}

fn policy(allowed: &[u64]) -> SuitePolicy {
    let suites: Vec<Suite> = allowed
        .iter()
        .filter_map(|id| Suite::from_id(*id).ok())
        .collect();
    SuitePolicy::only(&suites)
}

fn suite(id: u64) -> OpResult<Suite> {
    Suite::from_id(id).map_err(err)
}

impl Implementation for Builtin {
    fn name(&self) -> String {
        format!("quietwire {} (built-in)", env!("CARGO_PKG_VERSION"))
    }

    fn cbor_decode(&mut self, input: &[u8], limits: LimitsJson) -> OpResult<Vec<u8>> {
        let limits: Limits = limits.into();
        cbor::decode(input, &limits)
            .map(|v| cbor::encode(&v))
            .map_err(err)
    }

    fn device_record_create(
        &mut self,
        suite_id: u64,
        identity_seed: &[u8],
        kem_seed: &[u8],
        ratchet_secret: &[u8],
        generation: u64,
    ) -> OpResult<Vec<u8>> {
        let suite = suite(suite_id)?;
        let keys = DeviceKeys::from_parts(
            suite,
            IdentityKeyPair::from_seed(&key32(identity_seed)?),
            KemSecret::from_seed(suite, &key32(kem_seed)?),
            X25519Secret::from_bytes(&key32(ratchet_secret)?),
        );
        Ok(keys.signed_record(generation).to_bytes())
    }

    fn device_record_verify(
        &mut self,
        record: &[u8],
        allowed: &[u64],
    ) -> OpResult<(RecordFields, Vec<u8>)> {
        let signed = SignedDeviceRecord::from_bytes(record, &policy(allowed)).map_err(err)?;
        let r = signed.record();
        let fields = RecordFields {
            suite: r.suite().id(),
            identity_key: r.identity_key().as_bytes().to_vec(),
            kem_key: r.kem_key().as_bytes().to_vec(),
            ratchet_key: r.ratchet_key().as_bytes().to_vec(),
            generation: r.generation(),
            extensions: r.extensions().len(),
        };
        Ok((fields, signed.to_bytes()))
    }

    fn safety_fingerprint(&mut self, key: &[u8]) -> OpResult<Vec<u8>> {
        Ok(Fingerprint::of(&identity(key)?).as_bytes().to_vec())
    }

    fn safety_code(&mut self, a: &[u8], b: &[u8]) -> OpResult<String> {
        Ok(SafetyCode::new(&identity(a)?, &identity(b)?).to_string())
    }

    fn safety_qr_create(&mut self, own: &[u8], peer: &[u8]) -> OpResult<Vec<u8>> {
        Ok(SafetyQr::new(&identity(own)?, &identity(peer)?).to_bytes())
    }

    fn safety_qr_verify(&mut self, payload: &[u8], own: &[u8], peer: &[u8]) -> OpResult<()> {
        SafetyQr::verify_scanned(payload, &identity(own)?, &identity(peer)?).map_err(err)
    }

    fn did_key_encode(&mut self, key: &[u8]) -> OpResult<String> {
        Ok(did_key::encode(&identity(key)?))
    }

    fn did_key_decode(&mut self, did: &str) -> OpResult<Vec<u8>> {
        did_key::decode(did)
            .map(|k| k.as_bytes().to_vec())
            .map_err(err)
    }

    fn invite_create(&mut self, input: &InviteCreate<'_>) -> OpResult<Vec<u8>> {
        let suite = suite(input.suite)?;
        let identity = IdentityKeyPair::from_seed(&key32(input.identity_seed)?);
        let params = InviteParams {
            relay_hints: input.relay_hints.to_vec(),
            mailbox: key32(input.mailbox)?,
            expires: UnixTime(input.expires),
            single_use: input.single_use,
        };
        let mut rng = ReplayRng::new(&[&input.randomness]);
        let (invite, _secrets) = Invite::create(&identity, suite, params, &mut rng);
        if !rng.finished() {
            return Err(bad_input("randomness_length"));
        }
        Ok(invite.to_bytes())
    }

    fn invite_verify(
        &mut self,
        invite: &[u8],
        now: u64,
        allowed: &[u64],
    ) -> OpResult<(InviteFields, Vec<u8>)> {
        let signed =
            SignedInvite::from_bytes(invite, UnixTime(now), &policy(allowed)).map_err(err)?;
        Ok((InviteFields::of(signed.invite()), signed.to_bytes()))
    }

    fn invite_encode(&mut self, invite: &[u8], base: &str) -> OpResult<(String, Vec<u8>)> {
        // Encoding needs a decoded invite; verify at time 0 so that any unexpired invite decodes.
        let signed =
            SignedInvite::from_bytes(invite, UnixTime(0), &SuitePolicy::ALL).map_err(err)?;
        Ok((signed.to_link(base), signed.to_qr()))
    }

    fn invite_link_parse(&mut self, link: &str, now: u64, allowed: &[u64]) -> OpResult<Vec<u8>> {
        SignedInvite::from_link(link, UnixTime(now), &policy(allowed))
            .map(|i| i.to_bytes())
            .map_err(err)
    }

    fn invite_qr_parse(&mut self, qr: &[u8], now: u64, allowed: &[u64]) -> OpResult<Vec<u8>> {
        SignedInvite::from_qr(qr, UnixTime(now), &policy(allowed))
            .map(|i| i.to_bytes())
            .map_err(err)
    }

    fn hpke_seal(&mut self, input: &HpkeInput<'_>, randomness: &[u8]) -> OpResult<HpkeSealed> {
        let recipient = kem_secret(input)?;
        let mut rng = ReplayRng::new(&[randomness]);
        let sealed = hpke::seal(
            recipient.public(),
            input.info,
            input.aad,
            input.plaintext,
            input.exporter_context,
            &mut rng,
        )
        .map_err(err)?;
        if !rng.finished() {
            return Err(bad_input("randomness_not_consumed_exactly"));
        }
        Ok((
            sealed.enc().to_vec(),
            sealed.ciphertext().to_vec(),
            sealed.exported().to_vec(),
        ))
    }

    fn hpke_open(
        &mut self,
        input: &HpkeInput<'_>,
        enc: &[u8],
        ciphertext: &[u8],
    ) -> OpResult<(Vec<u8>, Vec<u8>)> {
        let recipient = kem_secret(input)?;
        let opened = hpke::open(
            &recipient,
            enc,
            input.info,
            input.aad,
            ciphertext,
            input.exporter_context,
        )
        .map_err(err)?;
        Ok((opened.plaintext().to_vec(), opened.exported().to_vec()))
    }

    fn envelope_bucket(&mut self, length: u64) -> OpResult<u64> {
        let length = usize::try_from(length).map_err(|_| bad_input("length"))?;
        envelope::bucket(length)
            .map(|b| b as u64)
            .ok_or_else(|| err(quietwire::ErrorClass::EnvelopeTooLarge.into()))
    }

    fn envelope_pad(&mut self, content: &[u8], overhead: u64) -> OpResult<Vec<u8>> {
        let overhead = usize::try_from(overhead).map_err(|_| bad_input("overhead"))?;
        envelope::pad(content, overhead).map_err(err)
    }

    fn envelope_unpad(&mut self, padded: &[u8]) -> OpResult<Vec<u8>> {
        envelope::unpad(padded).map(<[u8]>::to_vec).map_err(err)
    }

    fn envelope_receive(&mut self, bytes: &[u8], mailbox: &[u8]) -> OpResult<Vec<u8>> {
        let env = Envelope::receive(bytes, &key32(mailbox)?).map_err(err)?;
        Ok(env.blob().to_vec())
    }

    fn envelope_decode(&mut self, bytes: &[u8]) -> OpResult<(Vec<u8>, Vec<u8>)> {
        let env = Envelope::from_bytes(bytes).map_err(err)?;
        Ok((env.mailbox().to_vec(), env.blob().to_vec()))
    }

    fn event_decode(&mut self, bytes: &[u8]) -> OpResult<DecodedEvent> {
        let event = quietwire::event::Event::from_bytes(bytes).map_err(err)?;
        Ok(DecodedEvent {
            kind: event.body().kind_id(),
            message_id: event.id().to_vec(),
            critical: event.critical(),
            known: event.body().kind().is_some(),
            reencoded: event.to_bytes().map_err(err)?,
        })
    }

    fn event_device_record(
        &mut self,
        peer_identity: &[u8],
        held_generation: Option<u64>,
        record: &[u8],
        allowed: &[u64],
    ) -> OpResult<u64> {
        let peer = identity(peer_identity)?;
        let kept =
            quietwire::identity::newer_record(record, &policy(allowed), &peer, held_generation)
                .map_err(err)?;
        Ok(kept.record().generation())
    }

    fn mailbox_prove(
        &mut self,
        seed: &[u8],
        challenge: &[u8],
        origin: &str,
        operation: u64,
    ) -> OpResult<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        let key = quietwire::mailbox::MailboxKey::from_seed(&key32(seed)?);
        let origin = RelayOrigin::parse(origin).map_err(|_| bad_input("origin"))?;
        let op = quietwire::mailbox::Operation::from_code(operation)
            .ok_or_else(|| bad_input("operation"))?;
        Ok((
            key.public().as_bytes().to_vec(),
            key.id().to_vec(),
            key.prove(&origin, &key32(challenge)?, op),
        ))
    }

    fn mailbox_origin(&mut self, url: &str) -> OpResult<String> {
        RelayOrigin::from_url(url)
            .map(|o| o.as_str().to_owned())
            .map_err(err)
    }

    fn mailbox_verify(
        &mut self,
        mailbox: &[u8],
        challenge: &[u8],
        origin: &str,
        operation: u64,
        proof: &[u8],
    ) -> OpResult<()> {
        let op = quietwire::mailbox::Operation::from_code(operation)
            .ok_or_else(|| bad_input("operation"))?;
        let origins = [RelayOrigin::parse(origin).map_err(|_| bad_input("origin"))?];
        quietwire::mailbox::verify(&key32(mailbox)?, &key32(challenge)?, &origins, op, proof)
            .map_err(err)
    }

    fn handshake_initiate(&mut self, input: &HandshakeInitiate<'_>) -> OpResult<HandshakeSealed> {
        let invite = SignedInvite::from_bytes(input.invite, UnixTime(0), &SuitePolicy::ALL)
            .map_err(|_| bad_input("invite"))?;
        let suite = Suite::from_id(input.suite).map_err(err)?;
        let device = DeviceKeys::from_parts(
            suite,
            IdentityKeyPair::from_seed(&key32(input.identity_seed)?),
            KemSecret::from_seed(suite, &key32(input.kem_seed)?),
            X25519Secret::from_bytes(&key32(input.ratchet_secret)?),
        );
        let mut rng = ReplayRng::new(&[input.randomness]);
        let started = handshake::initiate(
            &invite,
            &device,
            input.generation,
            key32(input.mailbox)?,
            &mut rng,
        )
        .map_err(err)?;
        if !rng.finished() {
            return Err(bad_input("randomness_not_consumed_exactly"));
        }
        Ok((
            started.message,
            started.transcript_hash.to_vec(),
            started.ratchet.snapshot().to_vec(),
        ))
    }

    fn handshake_listen(
        &mut self,
        invite: &[u8],
        kem_seed: &[u8],
        ratchet_secret: &[u8],
    ) -> OpResult<Handle> {
        let invite = SignedInvite::from_bytes(invite, UnixTime(0), &SuitePolicy::ALL)
            .map_err(|_| bad_input("invite"))?;
        let secrets = InviteSecrets {
            kem: KemSecret::from_seed(invite.invite().suite(), &key32(kem_seed)?),
            ratchet: X25519Secret::from_bytes(&key32(ratchet_secret)?),
        };
        self.next_handle += 1;
        self.invites
            .insert(self.next_handle, PendingInvite::new(invite, secrets));
        Ok(self.next_handle)
    }

    fn handshake_accept(
        &mut self,
        handle: Handle,
        message: &[u8],
        now: u64,
        allowed_suites: &[u64],
    ) -> OpResult<HandshakeAccepted> {
        let policy = policy(allowed_suites);
        let pending = self
            .invites
            .get_mut(&handle)
            .ok_or_else(|| bad_input("handle"))?;
        let accepted = pending
            .accept(message, UnixTime(now), &policy)
            .map_err(err)?;
        Ok(HandshakeAccepted {
            peer_identity: accepted.peer.record().identity_key().as_bytes().to_vec(),
            peer_mailbox: accepted.mailbox.to_vec(),
            transcript_hash: accepted.transcript_hash.to_vec(),
            snapshot: accepted.ratchet.snapshot().to_vec(),
        })
    }

    fn reconnect_seal(&mut self, input: &ReconnectSeal<'_>) -> OpResult<Vec<u8>> {
        reconnect::seal(input)
    }

    fn reconnect_open(&mut self, input: &ReconnectOpen<'_>) -> OpResult<ReconnectOpened> {
        reconnect::open(input)
    }

    fn relay_open(
        &mut self,
        limits: &RelayLimits,
        challenge: &[u8],
        origin: &str,
        now: RelayTime,
    ) -> OpResult<(Handle, Vec<u8>)> {
        let limits_json = *limits;
        let limits = relay::Limits::from(*limits);
        if !limits.is_valid() {
            return Err(bad_input("relay_limits"));
        }
        let origins = vec![RelayOrigin::parse(origin).map_err(|_| bad_input("origin"))?];
        let mut conn = relay::Connection::new(limits, origins, key32(challenge)?, relay_now(now));
        if let Some(budget) = limits_json.upload_budget {
            conn = conn.with_upload_budget(budget);
        }
        let store = match limits_json.storage_quota {
            Some(quota) => relay::MemoryStore::with_quota(quota),
            None => relay::MemoryStore::new(),
        };
        let welcome = conn.welcome();
        self.next_handle += 1;
        self.relays.insert(self.next_handle, (conn, store));
        Ok((self.next_handle, welcome))
    }

    fn relay_handle(
        &mut self,
        handle: Handle,
        request: &[u8],
        now: RelayTime,
        store_unavailable: bool,
    ) -> OpResult<RelayHandled> {
        let (conn, store) = self
            .relays
            .get_mut(&handle)
            .ok_or_else(|| bad_input("handle"))?;
        store.set_unavailable(store_unavailable);
        let handled = conn.handle(request, &*store, relay_now(now));
        store.set_unavailable(false);
        Ok(RelayHandled {
            reply: handled.reply,
            error_class: handled.error.map(|c| c.as_str().to_owned()),
            close: handled.close,
            wake: handled.wake.map(|m| m.to_vec()),
        })
    }

    fn relay_frame_decode(&mut self, frame: &[u8], max_frame: u64) -> OpResult<(String, Vec<u8>)> {
        let decoded = relay::ServerFrame::decode(frame, max_frame).map_err(err)?;
        let kind = match decoded {
            relay::ServerFrame::Welcome { .. } => "welcome",
            relay::ServerFrame::Ok { .. } => "ok",
            relay::ServerFrame::Error { .. } => "error",
            relay::ServerFrame::Wake { .. } => "wake",
        };
        Ok((kind.to_owned(), decoded.encode()))
    }

    fn ratchet_init(
        &mut self,
        role: Role,
        session_secret: &[u8],
        associated_data: &[u8],
        responder_secret: &[u8],
    ) -> OpResult<Handle> {
        let secret = key32(session_secret)?;
        let ad = key32(associated_data)?;
        let own = X25519Secret::from_bytes(&key32(responder_secret)?);
        let ratchet = match role {
            Role::Initiator => Ratchet::initiator(&secret, *own.public(), &ad),
            Role::Responder => Ratchet::responder(&secret, own, &ad),
        };
        Ok(self.store(ratchet))
    }

    fn ratchet_restore(&mut self, snapshot: &[u8]) -> OpResult<Handle> {
        let ratchet = Ratchet::from_snapshot(snapshot).map_err(err)?;
        Ok(self.store(ratchet))
    }

    fn ratchet_encrypt(
        &mut self,
        handle: Handle,
        plaintext: &[u8],
        randomness: &[u8],
    ) -> OpResult<Vec<u8>> {
        let mut rng = ReplayRng::new(&[randomness]);
        let result = self
            .session(handle)?
            .encrypt(plaintext, &mut rng)
            .map_err(err);
        if !rng.finished() {
            return Err(bad_input("randomness_not_consumed_exactly"));
        }
        result
    }

    fn ratchet_encrypt_stream(
        &mut self,
        handle: Handle,
        count: u32,
        seed: &[u8],
    ) -> OpResult<Vec<u8>> {
        let mut rng = StreamRng::new(key32(seed)?);
        let session = self.session(handle)?;
        let mut out = Vec::new();
        for _ in 0..count {
            out.extend(session.encrypt(&[], &mut rng).map_err(err)?);
        }
        Ok(out)
    }

    fn ratchet_decrypt(&mut self, handle: Handle, message: &[u8]) -> OpResult<Vec<u8>> {
        self.session(handle)?.decrypt(message).map_err(err)
    }

    fn ratchet_decrypt_event(&mut self, handle: Handle, message: &[u8]) -> OpResult<Vec<u8>> {
        let event = self
            .session(handle)?
            .decrypt_then(message, |padded| {
                quietwire::event::Event::from_bytes(quietwire::envelope::unpad(padded)?)
            })
            .map_err(err)?;
        event.to_bytes().map_err(err)
    }

    fn ratchet_snapshot(&mut self, handle: Handle) -> OpResult<Vec<u8>> {
        Ok(self.session(handle)?.snapshot().to_vec())
    }

    fn backup_recovery_text(&mut self, key: &[u8]) -> OpResult<String> {
        backup::recovery_text(key)
    }

    fn backup_recovery_parse(&mut self, text: &str) -> OpResult<Vec<u8>> {
        backup::recovery_parse(text)
    }

    fn backup_export(&mut self, export: &BackupExport) -> OpResult<Vec<u8>> {
        backup::export(export)
    }

    fn backup_decode(&mut self, decode: &BackupDecode<'_>) -> OpResult<BackupDecoded> {
        backup::decode(decode)
    }

    fn backup_rekey(
        &mut self,
        old_prefix: &[u8],
        unlock: &UnlockJson,
        new_methods: &UnlockJson,
        passphrase_kdf: Option<Kdf>,
        randomness: &[u8],
    ) -> OpResult<(Vec<u8>, u64)> {
        backup::rekey(old_prefix, unlock, new_methods, passphrase_kdf, randomness)
    }

    fn backup_seek(
        &mut self,
        file: &[u8],
        unlock: &UnlockJson,
        section: u8,
    ) -> OpResult<BackupSeek> {
        backup::seek(file, unlock, section)
    }
}
