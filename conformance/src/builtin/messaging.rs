//! The built-in `envelope`, `event` and `mailbox` operations (spec/07-envelope.md,
//! spec/08-mailboxes-and-relay.md).

use quietwire::envelope::{self, Envelope};
use quietwire::event::Event;
use quietwire::mailbox::{MailboxKey, Operation, RelayOrigin};
use serde_json::json;

use super::{Dispatched, bad_input, err, identity_key, key32, no_dispatcher, policy};
use crate::implementation::OpResult;
use crate::shim::{Fields, hex};

pub(super) fn call(op: &str, a: Fields<'_>) -> Dispatched {
    Ok(match op {
        "envelope-bucket" => {
            let length = a.u64("length")?;
            usize::try_from(length)
                .map_err(|_| bad_input("length"))
                .and_then(|length| {
                    envelope::bucket(length)
                        .map(|b| json!({"bucket": b as u64}))
                        .ok_or_else(|| err(quietwire::ErrorClass::EnvelopeTooLarge.into()))
                })
        }
        "envelope-pad" => {
            let (content, overhead) = (a.bytes("content")?, a.u64("overhead")?);
            usize::try_from(overhead)
                .map_err(|_| bad_input("overhead"))
                .and_then(|overhead| envelope::pad(&content, overhead).map_err(err))
                .map(|p| json!({"padded": hex(&p)}))
        }
        "envelope-unpad" => envelope::unpad(&a.bytes("padded")?)
            .map(|c| json!({"content": hex(c)}))
            .map_err(err),
        "envelope-receive" => {
            let (bytes, mailbox) = (a.bytes("envelope")?, a.bytes("mailbox")?);
            key32(&mailbox).and_then(|mailbox| {
                Envelope::receive(&bytes, &mailbox)
                    .map(|env| json!({"blob": hex(env.blob())}))
                    .map_err(err)
            })
        }
        "envelope-decode" => Envelope::from_bytes(&a.bytes("envelope")?)
            .map(|env| json!({"mailbox": hex(env.mailbox()), "blob": hex(env.blob())}))
            .map_err(err),
        "event-decode" => Event::from_bytes(&a.bytes("event")?)
            .and_then(|event| {
                Ok(json!({
                    "kind": event.body().kind_id(),
                    "messageId": hex(event.id()),
                    "critical": event.critical(),
                    "known": event.body().kind().is_some(),
                    "reencoded": hex(&event.to_bytes()?),
                }))
            })
            .map_err(err),
        "event-device-record" => {
            let (peer, held) = (a.bytes("peerIdentity")?, a.u64_opt("heldGeneration")?);
            let (record, allowed) = (a.bytes("record")?, a.u64_list("allowedSuites")?);
            identity_key(&peer).and_then(|peer| {
                quietwire::identity::newer_record(&record, &policy(&allowed), &peer, held)
                    .map(|kept| json!({"generation": kept.record().generation()}))
                    .map_err(err)
            })
        }
        "mailbox-prove" => {
            let (seed, challenge) = (a.bytes("seed")?, a.bytes("challenge")?);
            let (origin, operation) = (a.str("origin")?, a.u64("operation")?);
            (|| -> OpResult<_> {
                let key = MailboxKey::from_seed(&key32(&seed)?);
                let origin = RelayOrigin::parse(origin).map_err(|_| bad_input("origin"))?;
                let op = Operation::from_code(operation).ok_or_else(|| bad_input("operation"))?;
                Ok(json!({
                    "publicKey": hex(key.public().as_bytes()),
                    "mailbox": hex(key.id()),
                    "proof": hex(&key.prove(&origin, &key32(&challenge)?, op)),
                }))
            })()
        }
        "mailbox-origin" => RelayOrigin::from_url(a.str("url")?)
            .map(|o| json!({"origin": o.as_str()}))
            .map_err(err),
        "mailbox-verify" => {
            let (mailbox, challenge) = (a.bytes("mailbox")?, a.bytes("challenge")?);
            let (origin, operation, proof) =
                (a.str("origin")?, a.u64("operation")?, a.bytes("proof")?);
            (|| -> OpResult<_> {
                let op = Operation::from_code(operation).ok_or_else(|| bad_input("operation"))?;
                let origins = [RelayOrigin::parse(origin).map_err(|_| bad_input("origin"))?];
                quietwire::mailbox::verify(
                    &key32(&mailbox)?,
                    &key32(&challenge)?,
                    &origins,
                    op,
                    &proof,
                )
                .map_err(err)?;
                Ok(json!({}))
            })()
        }
        other => return no_dispatcher(other),
    })
}
