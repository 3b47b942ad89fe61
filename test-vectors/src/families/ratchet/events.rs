//! Sessions that open events (spec/07-envelope.md ENV-09): authentic content refused after
//! the ratchet opened it must commit nothing.
//!
//! Each refusal is followed by steps that could not pass had the refused message been
//! committed: the same message opened again as plain ratchet content (`decrypt`), which
//! needs its message key still unused, and later messages of the chain.

use quietwire::cbor::Value;
use quietwire::envelope;
use quietwire::event::{Body, Event};
use quietwire::ratchet::OVERHEAD;

use super::super::Ids;
use super::super::event::{body_map, raw};
use super::Op::{DecEvent, DecPlain, EncBytes};
use super::{I, R, SessionTest, Sessions};
use crate::seeds::seed16;

fn text(slug: &str, text: &str) -> Result<Vec<u8>, String> {
    let body = Body::Text { text: text.to_owned(), reply_to: None };
    let event = Event::with_id(seed16(&format!("ratchet/{slug}/{text}")), body);
    event.to_bytes().map_err(|e| format!("event {slug}: {e:?}"))
}

fn padded(content: &[u8]) -> Result<Vec<u8>, String> {
    envelope::pad(content, OVERHEAD).map_err(|e| format!("pad: {e:?}"))
}

/// The sessions of the group, in order.
pub(super) fn sessions(ids: &mut Ids) -> Result<Vec<SessionTest>, String> {
    let mut b = Sessions::new(ids);
    let flag: &[&str] = &["EventContent"];
    let (hello, reply) = (text("event-open", "hello")?, text("event-open", "reply")?);
    let unknown = raw(4000, false, body_map(&[]), &[]);
    let first = text("event-malformed-skipping", "first")?;
    let junk = padded(&[0xfe])?;
    let zero = raw(0, false, body_map(&[]), &[]);
    let critical = raw(4000, true, body_map(&[]), &[]);
    let later = text("event-unknown-critical", "later")?;
    let (hello2, ok) =
        (text("event-schema-new-chain", "hello")?, text("event-schema-new-chain", "ok")?);
    let bad = raw(1, false, body_map(&[(2, Value::Bytes(vec![0; 16]))]), &[]);
    crate::rows! { b.run:
        "event-open",
            "Padded events open in both directions, out of order, with a DH step at each turn; a non-critical event of an unknown kind opens too (the receiver ignores it).",
            flag,
            vec![EncBytes(I, padded(&hello)?), EncBytes(I, padded(&unknown)?),
                DecEvent(R, 1, Ok(unknown)), DecEvent(R, 0, Ok(hello)),
                EncBytes(R, padded(&reply)?), DecEvent(I, 2, Ok(reply))];
        "event-unpadded-first-message",
            "The first message of the session, authentic but not padded: refused without the DH step it started; the same message then opens as plain ratchet content.",
            flag,
            vec![EncBytes(I, b"not padded".to_vec()), DecEvent(R, 0, Err("envelope.padding")),
                DecPlain(R, 0, b"not padded".to_vec())];
        "event-malformed-skipping",
            "Message 1 holds padded bytes that are not CBOR and arrives first: refused, storing no skipped key for message 0; message 0 then opens, and message 1 opens as plain content.",
            flag,
            vec![EncBytes(I, padded(&first)?), EncBytes(I, junk.clone()),
                DecEvent(R, 1, Err("cbor.malformed.additional_info")), DecEvent(R, 0, Ok(first)),
                DecPlain(R, 1, junk)];
        "event-kind-zero", "An event of the reserved kind 0: refused, state unchanged.", flag,
            vec![EncBytes(I, padded(&zero)?), DecEvent(R, 0, Err("event.kind")),
                DecPlain(R, 0, padded(&zero)?)];
        "event-unknown-critical",
            "A critical event of an unknown kind: refused with its key kept, so that the next message stores it as skipped and an implementation that learns the kind can still open it.",
            flag,
            vec![EncBytes(I, padded(&critical)?), EncBytes(I, padded(&later)?),
                DecEvent(R, 0, Err("event.unknown_critical")), DecEvent(R, 1, Ok(later)),
                DecPlain(R, 0, padded(&critical)?)];
        "event-schema-new-chain",
            "The responder's first message, a text event without its text, starts a new chain at the initiator: refused without the DH step; the next message performs it, and the refused one opens as plain content from the skipped keys.",
            flag,
            vec![EncBytes(I, padded(&hello2)?), DecEvent(R, 0, Ok(hello2)),
                EncBytes(R, padded(&bad)?), EncBytes(R, padded(&ok)?),
                DecEvent(I, 1, Err("schema.missing_field")), DecEvent(I, 2, Ok(ok)),
                DecPlain(I, 1, padded(&bad)?)];
    }
    Ok(b.tests)
}
