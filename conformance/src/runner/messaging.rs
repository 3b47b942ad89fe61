//! Message-layer families: envelopes, events, mailbox proofs and relay sessions
//! (spec/07-envelope.md, spec/08-mailboxes-and-relay.md).

use quietwire_test_vectors::families::{envelope, event, mailbox, relay};
use sha2::{Digest, Sha256};

use super::{Got, Recorder, Stop, differs, got, hex_differs, step_result};
use crate::implementation::{Implementation, RelayTime};

pub(super) fn run_envelope(
    group: &envelope::EnvelopeGroup,
    imp: &mut dyn Implementation,
    rec: &mut Recorder,
) {
    use envelope::EnvelopeGroup as G;
    match group {
        G::Bucket { tests, .. } => {
            for t in tests {
                let r = imp.envelope_bucket(t.length);
                rec.record(
                    "envelope-bucket",
                    t,
                    got(r, |b| differs("bucket", b, &t.bucket.unwrap_or_default())),
                );
            }
        }
        G::Pad { tests, .. } => {
            for t in tests {
                let content = t.content.clone().unwrap_or_default();
                let r = imp
                    .envelope_pad(&content, t.overhead.unwrap_or_default())
                    .and_then(|padded| Ok((padded.clone(), imp.envelope_unpad(&padded)?)));
                rec.record(
                    "envelope-pad",
                    t,
                    got(r, |(padded, back)| {
                        hex_differs("padded", padded, &t.padded)
                            .or_else(|| hex_differs("unpadded", back, &content))
                    }),
                );
            }
        }
        G::Unpad { tests, .. } => {
            for t in tests {
                let r = imp.envelope_unpad(&t.padded);
                rec.record(
                    "envelope-unpad",
                    t,
                    got(r, |c| {
                        hex_differs("content", c, &t.content.clone().unwrap_or_default())
                    }),
                );
            }
        }
        G::Receive { tests, .. } => {
            for t in tests {
                let mailbox = t.mailbox.clone().unwrap_or_default();
                let r = imp.envelope_receive(&t.envelope, &mailbox);
                rec.record(
                    "envelope-receive",
                    t,
                    got(r, |blob| {
                        hex_differs(
                            "blob digest",
                            &Sha256::digest(blob),
                            &t.blob_digest.clone().unwrap_or_default(),
                        )
                    }),
                );
            }
        }
        G::Decode { tests, .. } => {
            for t in tests {
                let r = imp.envelope_decode(&t.envelope);
                rec.record(
                    "envelope-decode",
                    t,
                    got(r, |(mailbox, blob)| {
                        hex_differs("mailbox", mailbox, &t.mailbox.clone().unwrap_or_default())
                            .or_else(|| {
                                hex_differs(
                                    "blob digest",
                                    &Sha256::digest(blob),
                                    &t.blob_digest.clone().unwrap_or_default(),
                                )
                            })
                    }),
                );
            }
        }
    }
}

pub(super) fn run_event(
    group: &event::EventGroup,
    imp: &mut dyn Implementation,
    rec: &mut Recorder,
) {
    let tests = match group {
        event::EventGroup::Decode { tests, .. } => tests,
        event::EventGroup::DeviceRecord {
            allowed_suites,
            tests,
            ..
        } => {
            for t in tests {
                let r = imp.event_device_record(
                    &t.peer_identity,
                    t.held_generation,
                    &t.record,
                    allowed_suites,
                );
                rec.record(
                    "event-device-record",
                    t,
                    got(r, |generation| {
                        differs("generation", &Some(*generation), &t.generation)
                    }),
                );
            }
            return;
        }
    };
    for t in tests {
        let r = imp.event_decode(&t.event);
        rec.record(
            "event-decode",
            t,
            got(r, |d| {
                differs("kind", &Some(d.kind), &t.kind)
                    .or_else(|| differs("critical", &Some(d.critical), &t.critical))
                    .or_else(|| differs("known", &Some(d.known), &t.known))
                    .or_else(|| {
                        hex_differs(
                            "message id",
                            &d.message_id,
                            &t.message_id.clone().unwrap_or_default(),
                        )
                    })
                    .or_else(|| hex_differs("re-encoding", &d.reencoded, &t.event))
            }),
        );
    }
}

pub(super) fn run_mailbox(
    group: &mailbox::MailboxGroup,
    imp: &mut dyn Implementation,
    rec: &mut Recorder,
) {
    use mailbox::MailboxGroup as G;
    match group {
        G::Prove { tests, .. } => {
            for t in tests {
                let seed = t.seed.clone().unwrap_or_default();
                let r = imp
                    .mailbox_prove(&seed, &t.challenge, &t.origin, t.operation)
                    .and_then(|out| {
                        imp.mailbox_verify(&out.1, &t.challenge, &t.origin, t.operation, &out.2)?;
                        Ok(out)
                    });
                rec.record(
                    "mailbox-prove",
                    t,
                    got(r, |(public, id, proof)| {
                        hex_differs(
                            "public key",
                            public,
                            &t.public_key.clone().unwrap_or_default(),
                        )
                        .or_else(|| hex_differs("mailbox id", id, &t.mailbox))
                        .or_else(|| hex_differs("proof", proof, &t.proof))
                    }),
                );
            }
        }
        G::Verify { tests, .. } => {
            for t in tests {
                let r =
                    imp.mailbox_verify(&t.mailbox, &t.challenge, &t.origin, t.operation, &t.proof);
                rec.record("mailbox-verify", t, got(r, |()| None));
            }
        }
        G::Origin { tests, .. } => {
            for t in tests {
                let r = imp.mailbox_origin(&t.url);
                rec.record(
                    "mailbox-origin",
                    t,
                    got(r, |origin| {
                        let want = t.origin.clone().unwrap_or_default();
                        (*origin != want).then(|| format!("origin {origin:?}, expected {want:?}"))
                    }),
                );
            }
        }
    }
}

/// The origin the welcome vectors open their relay connection with.
const WELCOME_ORIGIN: &str = "wss://relay.example";

pub(super) fn run_relay(
    group: &relay::RelayGroup,
    imp: &mut dyn Implementation,
    rec: &mut Recorder,
) {
    use relay::RelayGroup as G;
    let never = RelayTime { unix: 0, millis: 0 };
    match group {
        G::Welcome { tests, .. } => {
            for t in tests {
                // A welcome does not depend on the relay's origins.
                let r = imp.relay_open(&t.limits, &t.challenge, WELCOME_ORIGIN, never);
                rec.record(
                    "relay-welcome",
                    t,
                    got(r, |(_, welcome)| {
                        hex_differs("welcome", welcome, &t.welcome)
                    }),
                );
            }
        }
        G::Session { limits, tests, .. } => {
            for t in tests {
                let got = match relay_steps(limits, t, imp) {
                    Ok(()) => match &t.error_class {
                        Some(class) => Got::Rejected(class.clone()),
                        None => Got::Accepted { mismatch: None },
                    },
                    Err(Stop::Mismatch(m)) => Got::Accepted { mismatch: Some(m) },
                    Err(Stop::Unimplemented(f)) => Got::Unimplemented(f),
                };
                rec.record("relay-session", t, got);
            }
        }
        G::FrameDecode { tests, .. } => {
            for t in tests {
                let r = imp.relay_frame_decode(&t.frame, t.max_frame);
                rec.record(
                    "relay-frame-decode",
                    t,
                    got(r, |(kind, reencoded)| {
                        differs("kind", &Some(kind.clone()), &t.kind).or_else(|| {
                            hex_differs(
                                "re-encoding",
                                reencoded,
                                &t.reencoded.clone().unwrap_or_default(),
                            )
                        })
                    }),
                );
            }
        }
    }
}

/// Runs a scripted connection; every step must give exactly the vector's reply, class,
/// close flag and wake.
fn relay_steps(
    limits: &relay::RelayLimits,
    t: &relay::SessionTest,
    imp: &mut dyn Implementation,
) -> Result<(), Stop> {
    let opened = RelayTime {
        unix: t.unix_time,
        millis: t.millis,
    };
    let (handle, _) = step_result(0, imp.relay_open(limits, &t.challenge, &t.origin, opened))?
        .map_err(|c| Stop::Mismatch(format!("open: error {c}")))?;
    for (i, step) in t.steps.iter().enumerate() {
        let index = i + 1;
        let now = RelayTime {
            unix: step.unix_time,
            millis: step.millis,
        };
        let handled = step_result(
            index,
            imp.relay_handle(handle, &step.request, now, step.store_unavailable),
        )?
        .map_err(|c| Stop::Mismatch(format!("step {index}: harness error {c}")))?;
        let mismatch = differs("error class", &handled.error_class, &step.error_class)
            .or_else(|| hex_differs("reply", &handled.reply, &step.reply))
            .or_else(|| differs("close", &handled.close, &step.close))
            .or_else(|| {
                differs(
                    "wake",
                    &handled.wake.as_ref().map(hex::encode),
                    &step.wake.as_ref().map(hex::encode),
                )
            });
        if let Some(m) = mismatch {
            return Err(Stop::Mismatch(format!("step {index}: {m}")));
        }
    }
    Ok(())
}
