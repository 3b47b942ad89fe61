//! The runner's side of each operation (spec/16-conformance-shim.md Table 16-1): the
//! [`Implementation`] of [`ShimClient`], one request per call, its value read strictly.

use quietwire_test_vectors::families::backup::{Export, Kdf, UnlockJson};
use quietwire_test_vectors::families::cbor::LimitsJson;
use quietwire_test_vectors::families::device_record::RecordFields;
use quietwire_test_vectors::families::invite::InviteFields;
use quietwire_test_vectors::families::relay::RelayLimits;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::ShimClient;
use crate::implementation::{
    BackupDecode, BackupDecoded, BackupSeek, DecodedEvent, Failure, Handle, HandshakeAccepted,
    HandshakeInitiate, HandshakeSealed, HpkeInput, HpkeSealed, Implementation, InviteCreate,
    OpResult, ReconnectOpen, ReconnectOpened, ReconnectSeal, RelayHandled, RelayTime, Role,
    Transcript,
};
use crate::shim::backup::client as backup;
use crate::shim::{Fields, hex};

fn pair<A, B>(a: Result<A, String>, b: Result<B, String>) -> Result<(A, B), String> {
    Ok((a?, b?))
}

fn from_object<T: serde::de::DeserializeOwned>(f: Fields<'_>, name: &str) -> Result<T, String> {
    let object = f.object(name)?;
    serde_json::from_value(Value::Object(object.0.clone())).map_err(|e| format!("`{name}`: {e}"))
}

fn json_of<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl Implementation for ShimClient {
    fn name(&self) -> String {
        let caps = &self.capabilities;
        if caps.name.contains(&caps.version) {
            format!("{} (shim: {})", caps.name, self.command)
        } else {
            format!("{} {} (shim: {})", caps.name, caps.version, self.command)
        }
    }

    fn transcript(&self) -> Option<Transcript> {
        Some(self.log.clone())
    }

    fn cbor_decode(&mut self, input: &[u8], limits: LimitsJson) -> OpResult<Vec<u8>> {
        let args = json!({"input": hex(input), "limits": json_of(&limits)});
        self.op("cbor-decode", args, |f| f.bytes("reencoded"))
    }

    fn device_record_create(
        &mut self,
        suite: u64,
        identity_seed: &[u8],
        kem_seed: &[u8],
        ratchet_secret: &[u8],
        generation: u64,
    ) -> OpResult<Vec<u8>> {
        let args = json!({
            "suite": suite, "identitySeed": hex(identity_seed), "kemSeed": hex(kem_seed),
            "ratchetSecret": hex(ratchet_secret), "generation": generation,
        });
        self.op("device-record-create", args, |f| f.bytes("record"))
    }

    fn device_record_verify(
        &mut self,
        record: &[u8],
        allowed_suites: &[u64],
    ) -> OpResult<(RecordFields, Vec<u8>)> {
        let args = json!({"record": hex(record), "allowedSuites": allowed_suites});
        self.op("device-record-verify", args, |f| {
            pair(from_object(f, "fields"), f.bytes("reencoded"))
        })
    }

    fn safety_fingerprint(&mut self, identity_key: &[u8]) -> OpResult<Vec<u8>> {
        let args = json!({"identityKey": hex(identity_key)});
        self.op("safety-fingerprint", args, |f| f.bytes("fingerprint"))
    }

    fn safety_code(&mut self, a: &[u8], b: &[u8]) -> OpResult<String> {
        let args = json!({"identityKeyA": hex(a), "identityKeyB": hex(b)});
        self.op("safety-code", args, |f| f.str("code").map(str::to_owned))
    }

    fn safety_qr_create(&mut self, own: &[u8], peer: &[u8]) -> OpResult<Vec<u8>> {
        let args = json!({"ownKey": hex(own), "peerKey": hex(peer)});
        self.op("safety-qr-create", args, |f| f.bytes("payload"))
    }

    fn safety_qr_verify(&mut self, payload: &[u8], own: &[u8], peer: &[u8]) -> OpResult<()> {
        let args = json!({"payload": hex(payload), "ownKey": hex(own), "peerKey": hex(peer)});
        self.op("safety-qr-verify", args, |_| Ok(()))
    }

    fn did_key_encode(&mut self, key: &[u8]) -> OpResult<String> {
        let args = json!({"key": hex(key)});
        self.op("did-key-encode", args, |f| f.str("did").map(str::to_owned))
    }

    fn did_key_decode(&mut self, did: &str) -> OpResult<Vec<u8>> {
        self.op("did-key-decode", json!({"did": did}), |f| f.bytes("key"))
    }

    fn invite_create(&mut self, i: &InviteCreate<'_>) -> OpResult<Vec<u8>> {
        let args = json!({
            "suite": i.suite, "identitySeed": hex(i.identity_seed), "randomness": hex(&i.randomness),
            "relayHints": i.relay_hints, "mailbox": hex(i.mailbox), "expires": i.expires,
            "singleUse": i.single_use,
        });
        self.op("invite-create", args, |f| f.bytes("invite"))
    }

    fn invite_verify(
        &mut self,
        invite: &[u8],
        now: u64,
        allowed_suites: &[u64],
    ) -> OpResult<(InviteFields, Vec<u8>)> {
        let args = json!({"invite": hex(invite), "now": now, "allowedSuites": allowed_suites});
        self.op("invite-verify", args, |f| {
            pair(from_object(f, "fields"), f.bytes("reencoded"))
        })
    }

    fn invite_encode(&mut self, invite: &[u8], base: &str) -> OpResult<(String, Vec<u8>)> {
        let args = json!({"invite": hex(invite), "base": base});
        self.op("invite-encode", args, |f| {
            pair(f.str("link").map(str::to_owned), f.bytes("qr"))
        })
    }

    fn invite_link_parse(&mut self, link: &str, now: u64, allowed: &[u64]) -> OpResult<Vec<u8>> {
        let args = json!({"link": link, "now": now, "allowedSuites": allowed});
        self.op("invite-link-parse", args, |f| f.bytes("invite"))
    }

    fn invite_qr_parse(&mut self, qr: &[u8], now: u64, allowed: &[u64]) -> OpResult<Vec<u8>> {
        let args = json!({"qr": hex(qr), "now": now, "allowedSuites": allowed});
        self.op("invite-qr-parse", args, |f| f.bytes("invite"))
    }

    fn hpke_seal(&mut self, i: &HpkeInput<'_>, randomness: &[u8]) -> OpResult<HpkeSealed> {
        let args = json!({
            "suite": i.suite, "recipientSeed": hex(i.recipient_seed), "info": hex(i.info),
            "aad": hex(i.aad), "exporterContext": hex(i.exporter_context),
            "plaintext": hex(i.plaintext), "randomness": hex(randomness),
        });
        self.op("hpke-seal", args, |f| {
            Ok((
                f.bytes("enc")?,
                f.bytes("ciphertext")?,
                f.bytes("exported")?,
            ))
        })
    }

    fn hpke_open(
        &mut self,
        i: &HpkeInput<'_>,
        enc: &[u8],
        ciphertext: &[u8],
    ) -> OpResult<(Vec<u8>, Vec<u8>)> {
        let args = json!({
            "suite": i.suite, "recipientSeed": hex(i.recipient_seed), "info": hex(i.info),
            "aad": hex(i.aad), "exporterContext": hex(i.exporter_context),
            "enc": hex(enc), "ciphertext": hex(ciphertext),
        });
        self.op("hpke-open", args, |f| {
            pair(f.bytes("plaintext"), f.bytes("exported"))
        })
    }

    fn envelope_bucket(&mut self, length: u64) -> OpResult<u64> {
        self.op("envelope-bucket", json!({"length": length}), |f| {
            f.u64("bucket")
        })
    }

    fn envelope_pad(&mut self, content: &[u8], overhead: u64) -> OpResult<Vec<u8>> {
        let args = json!({"content": hex(content), "overhead": overhead});
        self.op("envelope-pad", args, |f| f.bytes("padded"))
    }

    fn envelope_unpad(&mut self, padded: &[u8]) -> OpResult<Vec<u8>> {
        let args = json!({"padded": hex(padded)});
        self.op("envelope-unpad", args, |f| f.bytes("content"))
    }

    fn envelope_receive(&mut self, envelope: &[u8], mailbox: &[u8]) -> OpResult<Vec<u8>> {
        let args = json!({"envelope": hex(envelope), "mailbox": hex(mailbox)});
        self.op("envelope-receive", args, |f| f.bytes("blob"))
    }

    fn envelope_decode(&mut self, envelope: &[u8]) -> OpResult<(Vec<u8>, Vec<u8>)> {
        let args = json!({"envelope": hex(envelope)});
        self.op("envelope-decode", args, |f| {
            pair(f.bytes("mailbox"), f.bytes("blob"))
        })
    }

    fn event_decode(&mut self, event: &[u8]) -> OpResult<DecodedEvent> {
        self.op("event-decode", json!({"event": hex(event)}), |f| {
            Ok(DecodedEvent {
                kind: f.u64("kind")?,
                message_id: f.bytes("messageId")?,
                critical: f.bool("critical")?,
                known: f.bool("known")?,
                reencoded: f.bytes("reencoded")?,
            })
        })
    }

    fn event_device_record(
        &mut self,
        peer_identity: &[u8],
        held_generation: Option<u64>,
        record: &[u8],
        allowed_suites: &[u64],
    ) -> OpResult<u64> {
        let args = json!({
            "peerIdentity": hex(peer_identity),
            "heldGeneration": held_generation,
            "record": hex(record),
            "allowedSuites": allowed_suites,
        });
        self.op("event-device-record", args, |f| f.u64("generation"))
    }

    fn mailbox_prove(
        &mut self,
        seed: &[u8],
        challenge: &[u8],
        origin: &str,
        operation: u64,
    ) -> OpResult<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        let args = json!({
            "seed": hex(seed), "challenge": hex(challenge), "origin": origin,
            "operation": operation,
        });
        self.op("mailbox-prove", args, |f| {
            Ok((
                f.bytes("publicKey")?,
                f.bytes("mailbox")?,
                f.bytes("proof")?,
            ))
        })
    }

    fn mailbox_origin(&mut self, url: &str) -> OpResult<String> {
        self.op("mailbox-origin", json!({ "url": url }), |f| {
            f.str("origin").map(str::to_owned)
        })
    }

    fn mailbox_verify(
        &mut self,
        mailbox: &[u8],
        challenge: &[u8],
        origin: &str,
        operation: u64,
        proof: &[u8],
    ) -> OpResult<()> {
        let args = json!({
            "mailbox": hex(mailbox), "challenge": hex(challenge), "origin": origin,
            "operation": operation,
            "proof": hex(proof),
        });
        self.op("mailbox-verify", args, |_| Ok(()))
    }

    fn handshake_initiate(&mut self, i: &HandshakeInitiate<'_>) -> OpResult<HandshakeSealed> {
        let args = json!({
            "invite": hex(i.invite), "suite": i.suite, "identitySeed": hex(i.identity_seed),
            "kemSeed": hex(i.kem_seed), "ratchetSecret": hex(i.ratchet_secret),
            "generation": i.generation, "mailbox": hex(i.mailbox), "randomness": hex(i.randomness),
        });
        self.op("handshake-initiate", args, |f| {
            let snapshot = f.bytes("snapshot")?;
            check_digest(&snapshot, f)?;
            Ok((f.bytes("message")?, f.bytes("transcriptHash")?, snapshot))
        })
    }

    fn handshake_listen(
        &mut self,
        invite: &[u8],
        kem_seed: &[u8],
        ratchet_secret: &[u8],
    ) -> OpResult<Handle> {
        let args = json!({
            "invite": hex(invite), "kemSeed": hex(kem_seed), "ratchetSecret": hex(ratchet_secret),
        });
        self.op("handshake-listen", args, |f| f.u64("handle"))
    }

    fn handshake_accept(
        &mut self,
        handle: Handle,
        message: &[u8],
        now: u64,
        allowed_suites: &[u64],
    ) -> OpResult<HandshakeAccepted> {
        let args = json!({
            "handle": handle, "message": hex(message), "now": now, "allowedSuites": allowed_suites,
        });
        self.op("handshake-accept", args, |f| {
            let snapshot = f.bytes("snapshot")?;
            check_digest(&snapshot, f)?;
            Ok(HandshakeAccepted {
                peer_identity: f.bytes("peerIdentity")?,
                peer_mailbox: f.bytes("peerMailbox")?,
                transcript_hash: f.bytes("transcriptHash")?,
                snapshot,
            })
        })
    }

    fn reconnect_seal(&mut self, i: &ReconnectSeal<'_>) -> OpResult<Vec<u8>> {
        let args = json!({
            "contactRecord": hex(i.contact_record), "invite": hex(i.invite),
            "record": hex(i.record), "randomness": hex(i.randomness),
        });
        self.op("reconnect-seal", args, |f| f.bytes("message"))
    }

    fn reconnect_open(&mut self, i: &ReconnectOpen<'_>) -> OpResult<ReconnectOpened> {
        let args = json!({
            "suite": i.suite, "identitySeed": hex(i.identity_seed), "kemSeed": hex(i.kem_seed),
            "ratchetSecret": hex(i.ratchet_secret), "message": hex(i.message),
            "expectedIdentity": hex(i.expected_identity),
            "heldGeneration": i.held_generation,
            "acceptedInvites": i.accepted_invites.iter().map(|h| hex(h)).collect::<Vec<_>>(),
            "now": i.now,
            "allowedSuites": i.allowed_suites,
        });
        self.op("reconnect-open", args, |f| {
            pair(f.bytes("invite"), f.bytes("record"))
        })
    }

    fn relay_open(
        &mut self,
        limits: &RelayLimits,
        challenge: &[u8],
        origin: &str,
        now: RelayTime,
    ) -> OpResult<(Handle, Vec<u8>)> {
        let args = json!({
            "limits": json_of(limits), "challenge": hex(challenge), "origin": origin,
            "unixTime": now.unix, "millis": now.millis,
        });
        self.op("relay-open", args, |f| {
            pair(f.u64("handle"), f.bytes("welcome"))
        })
    }

    fn relay_handle(
        &mut self,
        handle: Handle,
        request: &[u8],
        now: RelayTime,
        store_unavailable: bool,
    ) -> OpResult<RelayHandled> {
        let args = json!({
            "handle": handle, "request": hex(request), "unixTime": now.unix,
            "millis": now.millis, "storeUnavailable": store_unavailable,
        });
        self.op("relay-handle", args, |f| {
            Ok(RelayHandled {
                reply: f.bytes("reply")?,
                error_class: f.str_opt("errorClass")?.map(str::to_owned),
                close: f.bool("close")?,
                wake: f.bytes_opt("wake")?,
            })
        })
    }

    fn relay_frame_decode(&mut self, frame: &[u8], max_frame: u64) -> OpResult<(String, Vec<u8>)> {
        let args = json!({"frame": hex(frame), "maxFrame": max_frame});
        self.op("relay-frame-decode", args, |f| {
            pair(f.str("kind").map(str::to_owned), f.bytes("reencoded"))
        })
    }

    fn ratchet_init(
        &mut self,
        role: Role,
        session_secret: &[u8],
        associated_data: &[u8],
        responder_secret: &[u8],
    ) -> OpResult<Handle> {
        let role = match role {
            Role::Initiator => "initiator",
            Role::Responder => "responder",
        };
        let args = json!({
            "role": role, "sessionSecret": hex(session_secret),
            "associatedData": hex(associated_data), "responderRatchetSecret": hex(responder_secret),
        });
        self.handle_op("ratchet-init", args)
    }

    fn ratchet_restore(&mut self, snapshot: &[u8]) -> OpResult<Handle> {
        self.handle_op("ratchet-restore", json!({"snapshot": hex(snapshot)}))
    }

    fn ratchet_encrypt(
        &mut self,
        handle: Handle,
        plaintext: &[u8],
        randomness: &[u8],
    ) -> OpResult<Vec<u8>> {
        let args = json!({
            "handle": handle, "plaintext": hex(plaintext), "randomness": hex(randomness),
        });
        self.ratchet_op("ratchet-encrypt", handle, args, "message")
    }

    fn ratchet_encrypt_stream(
        &mut self,
        handle: Handle,
        count: u32,
        seed: &[u8],
    ) -> OpResult<Vec<u8>> {
        let args = json!({"handle": handle, "count": count, "randomnessSeed": hex(seed)});
        self.ratchet_op("ratchet-encrypt-stream", handle, args, "messages")
    }

    fn ratchet_decrypt(&mut self, handle: Handle, message: &[u8]) -> OpResult<Vec<u8>> {
        let args = json!({"handle": handle, "message": hex(message)});
        self.ratchet_op("ratchet-decrypt", handle, args, "plaintext")
    }

    fn ratchet_decrypt_event(&mut self, handle: Handle, message: &[u8]) -> OpResult<Vec<u8>> {
        let args = json!({"handle": handle, "message": hex(message)});
        self.ratchet_op("ratchet-decrypt-event", handle, args, "event")
    }

    fn ratchet_snapshot(&mut self, handle: Handle) -> OpResult<Vec<u8>> {
        let reported = self.digests.get(&handle).cloned();
        self.op("ratchet-snapshot", json!({"handle": handle}), |f| {
            let snapshot = f.bytes("snapshot")?;
            check_digest(&snapshot, f)?;
            match reported {
                Some(d) if d != Sha256::digest(&snapshot).to_vec() => Err(format!(
                    "the snapshot hashes to {}, but the last reply for this handle reported snapshotDigest {}",
                    hex::encode(Sha256::digest(&snapshot)),
                    hex::encode(d)
                )),
                _ => Ok(snapshot),
            }
        })
    }

    fn backup_recovery_text(&mut self, key: &[u8]) -> OpResult<String> {
        self.op("backup-recovery-text", json!({"key": hex(key)}), |f| {
            f.str("text").map(str::to_owned)
        })
    }

    fn backup_recovery_parse(&mut self, text: &str) -> OpResult<Vec<u8>> {
        self.op("backup-recovery-parse", json!({"text": text}), |f| {
            f.bytes("key")
        })
    }

    fn backup_export(&mut self, export: &Export) -> OpResult<Vec<u8>> {
        self.op("backup-export", backup::export_args(export), |f| {
            f.bytes("file")
        })
    }

    fn backup_decode(&mut self, decode: &BackupDecode<'_>) -> OpResult<BackupDecoded> {
        self.op(
            "backup-decode",
            backup::decode_args(decode),
            backup::decoded,
        )
    }

    fn backup_rekey(
        &mut self,
        old_prefix: &[u8],
        unlock: &UnlockJson,
        new_methods: &UnlockJson,
        passphrase_kdf: Option<Kdf>,
        randomness: &[u8],
    ) -> OpResult<(Vec<u8>, u64)> {
        let args = backup::rekey_args(old_prefix, unlock, new_methods, passphrase_kdf, randomness);
        self.op("backup-rekey", args, |f| {
            pair(f.bytes("prefix"), f.u64("oldHeaderEnd"))
        })
    }

    fn backup_seek(
        &mut self,
        file: &[u8],
        unlock: &UnlockJson,
        section: u8,
    ) -> OpResult<BackupSeek> {
        self.op(
            "backup-seek",
            backup::seek_args(file, unlock, section),
            backup::seek,
        )
    }
}

impl ShimClient {
    fn handle_op(&mut self, op: &str, args: Value) -> OpResult<Handle> {
        let value = self.call(op, args)?;
        let read = Fields::of(&value).and_then(|f| {
            let handle = f.u64("handle")?;
            self.digest(handle, f)?;
            Ok(handle)
        });
        read.map_err(|e| Failure::Error {
            class: format!("shim.protocol: the value of {op}: {e}"),
        })
    }
}

/// Checks that `snapshotDigest` is the SHA-256 of `snapshot`.
fn check_digest(snapshot: &[u8], f: Fields<'_>) -> Result<(), String> {
    let digest = f.bytes("snapshotDigest")?;
    if digest == Sha256::digest(snapshot).to_vec() {
        Ok(())
    } else {
        Err(format!(
            "snapshotDigest {} is not the SHA-256 of the snapshot ({})",
            hex::encode(&digest),
            hex::encode(Sha256::digest(snapshot))
        ))
    }
}
