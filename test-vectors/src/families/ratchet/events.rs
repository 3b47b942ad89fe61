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
use super::{I, R, Scenario, SessionTest, Side, Step, pick};
use crate::seeds::seed16;

impl Scenario {
    /// Encrypts `content` padded for a ratchet message.
    fn send_padded(&mut self, side: Side, content: &[u8]) -> Result<usize, String> {
        let padded = envelope::pad(content, OVERHEAD)
            .map_err(|e| format!("ratchet {}: pad failed: {e:?}", self.slug))?;
        self.send_bytes(side, padded)
    }

    /// Opens sent message `sent` at `side` as an event: expects its encoding or a class.
    fn deliver_event(
        &mut self,
        side: Side,
        sent: usize,
        expect: Result<&[u8], &str>,
    ) -> Result<(), String> {
        let message = self.sent(sent)?;
        let before = self.snapshot_digest(side);
        let got = pick(&mut self.sides, side)
            .decrypt_then(&message, |padded| Event::from_bytes(envelope::unpad(padded)?))
            .and_then(|event| event.to_bytes());
        let (event, error_class) = match (got, expect) {
            (Ok(bytes), Ok(want)) if bytes == want => (Some(bytes), None),
            (Err(e), Err(class)) if e.class().as_str() == class => {
                if self.snapshot_digest(side) != before {
                    return Err(format!(
                        "ratchet {}: a refused event changed the state",
                        self.slug
                    ));
                }
                self.failures.push(class.to_owned());
                (None, Some(class.to_owned()))
            }
            (got, expect) => {
                return Err(format!("ratchet {}: expected {expect:?}, got {got:?}", self.slug));
            }
        };
        self.steps.push(Step::DecryptEvent {
            side,
            message,
            event,
            error_class,
            snapshot_digest: self.snapshot_digest(side),
        });
        Ok(())
    }

    /// Opens sent message `sent` at `side` as plain ratchet content, which must be
    /// `plaintext`.
    fn deliver_plain(&mut self, side: Side, sent: usize, plaintext: &[u8]) -> Result<(), String> {
        let message = self.sent(sent)?;
        let got = pick(&mut self.sides, side)
            .decrypt(&message)
            .map_err(|e| format!("ratchet {}: decrypt failed: {e:?}", self.slug))?;
        if got != plaintext {
            return Err(format!("ratchet {}: wrong plaintext", self.slug));
        }
        self.steps.push(Step::Decrypt {
            side,
            message,
            plaintext: Some(got),
            error_class: None,
            snapshot_digest: self.snapshot_digest(side),
        });
        Ok(())
    }
}

fn text(slug: &str, text: &str) -> Result<Vec<u8>, String> {
    let body = Body::Text { text: text.to_owned(), reply_to: None };
    Event::with_id(seed16(&format!("ratchet/{slug}/{text}")), body)
        .to_bytes()
        .map_err(|e| format!("event {slug}: {e:?}"))
}

fn padded(content: &[u8]) -> Result<Vec<u8>, String> {
    envelope::pad(content, OVERHEAD).map_err(|e| format!("pad: {e:?}"))
}

/// The sessions of the group, in order.
pub(super) fn sessions(ids: &mut Ids) -> Result<Vec<SessionTest>, String> {
    let mut tests = Vec::new();
    let flag: &[&str] = &["EventContent"];

    let slug = "event-open";
    let mut s = Scenario::new(slug);
    let hello = text(slug, "hello")?;
    let unknown = raw(4000, false, body_map(&[]), &[]);
    let reply = text(slug, "reply")?;
    let m0 = s.send_padded(I, &hello)?;
    let m1 = s.send_padded(I, &unknown)?;
    s.deliver_event(R, m1, Ok(&unknown))?;
    s.deliver_event(R, m0, Ok(&hello))?;
    let r0 = s.send_padded(R, &reply)?;
    s.deliver_event(I, r0, Ok(&reply))?;
    tests.push(s.finish(
        ids,
        "Padded events open in both directions, out of order, with a DH step at each turn; a non-critical event of an unknown kind opens too (the receiver ignores it).",
        flag,
    )?);

    let slug = "event-unpadded-first-message";
    let mut s = Scenario::new(slug);
    let m0 = s.send_bytes(I, b"not padded".to_vec())?;
    s.deliver_event(R, m0, Err("envelope.padding"))?;
    s.deliver_plain(R, m0, b"not padded")?;
    tests.push(s.finish(
        ids,
        "The first message of the session, authentic but not padded: refused without the DH step it started; the same message then opens as plain ratchet content.",
        flag,
    )?);

    let slug = "event-malformed-skipping";
    let mut s = Scenario::new(slug);
    let first = text(slug, "first")?;
    let m0 = s.send_padded(I, &first)?;
    let junk = padded(&[0xfe])?;
    let m1 = s.send_bytes(I, junk.clone())?;
    s.deliver_event(R, m1, Err("cbor.malformed.additional_info"))?;
    s.deliver_event(R, m0, Ok(&first))?;
    s.deliver_plain(R, m1, &junk)?;
    tests.push(s.finish(
        ids,
        "Message 1 holds padded bytes that are not CBOR and arrives first: refused, storing no skipped key for message 0; message 0 then opens, and message 1 opens as plain content.",
        flag,
    )?);

    let slug = "event-kind-zero";
    let mut s = Scenario::new(slug);
    let zero = raw(0, false, body_map(&[]), &[]);
    let m0 = s.send_padded(I, &zero)?;
    s.deliver_event(R, m0, Err("event.kind"))?;
    s.deliver_plain(R, m0, &padded(&zero)?)?;
    tests.push(s.finish(
        ids,
        "An event of the reserved kind 0: refused, state unchanged.",
        flag,
    )?);

    let slug = "event-unknown-critical";
    let mut s = Scenario::new(slug);
    let critical = raw(4000, true, body_map(&[]), &[]);
    let later = text(slug, "later")?;
    let m0 = s.send_padded(I, &critical)?;
    let m1 = s.send_padded(I, &later)?;
    s.deliver_event(R, m0, Err("event.unknown_critical"))?;
    s.deliver_event(R, m1, Ok(&later))?;
    s.deliver_plain(R, m0, &padded(&critical)?)?;
    tests.push(s.finish(
        ids,
        "A critical event of an unknown kind: refused with its key kept, so that the next message stores it as skipped and an implementation that learns the kind can still open it.",
        flag,
    )?);

    let slug = "event-schema-new-chain";
    let mut s = Scenario::new(slug);
    let hello = text(slug, "hello")?;
    let m0 = s.send_padded(I, &hello)?;
    s.deliver_event(R, m0, Ok(&hello))?;
    let bad = raw(1, false, body_map(&[(2, Value::Bytes(vec![0; 16]))]), &[]);
    let ok = text(slug, "ok")?;
    let r0 = s.send_padded(R, &bad)?;
    let r1 = s.send_padded(R, &ok)?;
    s.deliver_event(I, r0, Err("schema.missing_field"))?;
    s.deliver_event(I, r1, Ok(&ok))?;
    s.deliver_plain(I, r0, &padded(&bad)?)?;
    tests.push(s.finish(
        ids,
        "The responder's first message, a text event without its text, starts a new chain at the initiator: refused without the DH step; the next message performs it, and the refused one opens as plain content from the skipped keys.",
        flag,
    )?);

    Ok(tests)
}
