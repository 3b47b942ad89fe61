//! Runs every vector file against an implementation.

use std::path::Path;

mod backup;
pub(crate) mod diverge;
mod harness;
mod reconnect;

use quietwire_test_vectors::families::ratchet::{self, Side, Step};
use quietwire_test_vectors::families::{
    cbor, device_record, did_key, envelope, event, handshake, hpke, invite, invite_encoding,
    mailbox, relay, safety_code,
};
use quietwire_test_vectors::format::{self, Case, Group, Outcome as Expect, VectorFile};
use sha2::{Digest, Sha256};

use crate::config::Selection;
use crate::implementation::Transcript;
use crate::implementation::{
    Failure, Handle, HandshakeInitiate, HpkeInput, Implementation, InviteCreate, OpResult,
    RelayTime, Role,
};
use crate::report::{CaseResult, Outcome, Report, cap_transcript};

/// The vector files, in run order.
pub const FILES: &[&str] = &[
    "cbor.json",
    "device_record.json",
    "safety_code.json",
    "did_key.json",
    "invite.json",
    "invite_encoding.json",
    "hpke.json",
    "handshake.json",
    "reconnect.json",
    "ratchet.json",
    "envelope.json",
    "event.json",
    "mailbox.json",
    "relay.json",
    "backup.json",
];

/// How many harness self-test cases (`harness/N`, §16.5) a full run reports besides the
/// vectors.
pub const HARNESS_CASES: usize = harness::PROBES.len();

/// The ids of the harness self-test cases (`harness/1`, …).
pub fn harness_case_ids() -> Vec<String> {
    harness::PROBES
        .iter()
        .map(|p| format!("harness/{}", p.tc_id))
        .collect()
}

/// Runs the harness self-test cases, then loads and runs every vector file in `dir`.
///
/// # Errors
/// A message if a file is missing or fails strict loading (unknown fields, wrong counts).
pub fn run_all(dir: &Path, imp: &mut dyn Implementation) -> Result<Report, String> {
    run_selected(dir, imp, &Selection::default())
}

/// Loads every vector file in `dir` and runs the cases `selection` runs: a case it disables is
/// reported `DISABLED` with its reason, without running; a case outside its `--only`
/// prefixes is left out of the report.
///
/// # Errors
/// A message if a file is missing or fails strict loading (unknown fields, wrong counts).
pub fn run_selected(
    dir: &Path,
    imp: &mut dyn Implementation,
    selection: &Selection,
) -> Result<Report, String> {
    let mut report = Report {
        implementation: imp.name(),
        cases: harness::run(imp, selection),
    };
    for name in FILES {
        let path = dir.join(name);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let Some(text) = selection.filter_file(&text, &mut report.cases)? else {
            continue;
        };
        let cases = match *name {
            "cbor.json" => run_file(&text, imp, run_cbor)?,
            "device_record.json" => run_file(&text, imp, run_device_record)?,
            "safety_code.json" => run_file(&text, imp, run_safety)?,
            "did_key.json" => run_file(&text, imp, run_did_key)?,
            "invite.json" => run_file(&text, imp, run_invite)?,
            "invite_encoding.json" => run_file(&text, imp, run_invite_encoding)?,
            "hpke.json" => run_file(&text, imp, run_hpke)?,
            "handshake.json" => run_file(&text, imp, run_handshake)?,
            "reconnect.json" => run_file(&text, imp, reconnect::run_reconnect)?,
            "envelope.json" => run_file(&text, imp, run_envelope)?,
            "event.json" => run_file(&text, imp, run_event)?,
            "mailbox.json" => run_file(&text, imp, run_mailbox)?,
            "relay.json" => run_file(&text, imp, run_relay)?,
            "backup.json" => run_file(&text, imp, backup::run_backup)?,
            _ => run_file(&text, imp, run_ratchet)?,
        };
        report.cases.extend(cases);
    }
    Ok(report)
}

type GroupRunner<G> = fn(&G, &mut dyn Implementation, &mut Recorder);

fn run_file<G>(
    text: &str,
    imp: &mut dyn Implementation,
    run: GroupRunner<G>,
) -> Result<Vec<CaseResult>, String>
where
    G: Group + for<'de> serde::Deserialize<'de>,
{
    let file: VectorFile<G> = format::load(text)?;
    let mut recorder = Recorder {
        family: file.family.clone(),
        results: Vec::new(),
        transcript: imp.transcript(),
    };
    for group in &file.test_groups {
        run(group, imp, &mut recorder);
    }
    Ok(recorder.results)
}

/// Collects results and compares them with the vector's expectation.
struct Recorder {
    family: String,
    results: Vec<CaseResult>,
    /// The implementation's log of exchanges, drained at every case.
    transcript: Option<Transcript>,
}

/// What an operation produced, reduced to what the vector can check.
enum Got {
    /// Accepted; `mismatch` describes any output that differs from the vector.
    Accepted { mismatch: Option<String> },
    /// Rejected with a class.
    Rejected(String),
    /// Not implemented.
    Unimplemented(String),
}

impl Recorder {
    fn record(&mut self, group: &str, case: &dyn Case, got: Got) {
        let meta = case.meta();
        let expected = match (meta.result, meta.error_class) {
            (Expect::Invalid, Some(class)) => format!("error {class}"),
            (Expect::Acceptable, _) => "accept or reject".to_owned(),
            _ => "accept".to_owned(),
        };
        let (outcome, actual) = match (&got, meta.result, meta.error_class) {
            (Got::Unimplemented(feature), _, _) => {
                (Outcome::Unimplemented, format!("unimplemented {feature}"))
            }
            (Got::Accepted { mismatch: None }, Expect::Valid | Expect::Acceptable, _) => {
                (Outcome::Pass, "accept".to_owned())
            }
            (Got::Accepted { mismatch: Some(m) }, _, _) => {
                (Outcome::Fail, format!("accept with {m}"))
            }
            (Got::Accepted { mismatch: None }, Expect::Invalid, _) => {
                (Outcome::Fail, "accept".to_owned())
            }
            (Got::Rejected(class), Expect::Invalid, Some(want)) if class == want => {
                (Outcome::Pass, format!("error {class}"))
            }
            (Got::Rejected(class), Expect::Acceptable, _) => {
                (Outcome::Pass, format!("error {class}"))
            }
            (Got::Rejected(class), _, _) => (Outcome::Fail, format!("error {class}")),
        };
        let transcript = self
            .transcript
            .as_ref()
            .map(|log| std::mem::take(&mut *log.borrow_mut()))
            .unwrap_or_default();
        self.results.push(CaseResult {
            id: format!("{}/{}", self.family, meta.tc_id),
            family: self.family.clone(),
            group: group.to_owned(),
            tc_id: meta.tc_id,
            slug: meta.slug.to_owned(),
            flags: meta.flags.to_vec(),
            expected,
            actual,
            class: match &got {
                Got::Rejected(class) => Some(class.clone()),
                _ => None,
            },
            feature: match &got {
                Got::Unimplemented(feature) => feature.split_whitespace().next().map(str::to_owned),
                _ => None,
            },
            transcript: match outcome {
                Outcome::Pass => Vec::new(),
                _ => cap_transcript(transcript),
            },
            outcome,
            ..CaseResult::default()
        });
    }
}

/// Turns an operation's answer into [`Got`], checking accepted outputs with `check`.
fn got<T>(result: OpResult<T>, check: impl FnOnce(&T) -> Option<String>) -> Got {
    match result {
        Ok(value) => Got::Accepted {
            mismatch: check(&value),
        },
        Err(Failure::Error { class }) => Got::Rejected(class),
        Err(Failure::Unimplemented { feature }) => Got::Unimplemented(feature),
    }
}

fn differs<T: PartialEq + std::fmt::Debug>(what: &str, got: &T, want: &T) -> Option<String> {
    (got != want).then(|| format!("{what} {got:?} (vector has {want:?})"))
}

fn hex_differs(what: &str, got: &[u8], want: &[u8]) -> Option<String> {
    (got != want).then(|| {
        format!(
            "{what} {} (vector has {})",
            hex::encode(got),
            hex::encode(want)
        )
    })
}

fn run_cbor(group: &cbor::CborGroup, imp: &mut dyn Implementation, rec: &mut Recorder) {
    for t in &group.tests {
        let result = imp.cbor_decode(&t.input, group.limits);
        rec.record(
            &group.kind,
            t,
            got(result, |enc| hex_differs("re-encoding", enc, &t.input)),
        );
    }
}

fn run_device_record(
    group: &device_record::DeviceRecordGroup,
    imp: &mut dyn Implementation,
    rec: &mut Recorder,
) {
    use device_record::DeviceRecordGroup as G;
    match group {
        G::Create { tests, .. } => {
            for t in tests {
                let r = imp.device_record_create(
                    t.suite,
                    &t.identity_seed,
                    &t.kem_seed,
                    &t.ratchet_secret,
                    t.generation,
                );
                rec.record(
                    "device-record-create",
                    t,
                    got(r, |bytes| hex_differs("record", bytes, &t.record)),
                );
            }
        }
        G::Verify {
            allowed_suites,
            tests,
            ..
        } => {
            for t in tests {
                let r = imp.device_record_verify(&t.record, allowed_suites);
                rec.record(
                    "device-record-verify",
                    t,
                    got(r, |(fields, enc)| {
                        hex_differs("re-encoding", enc, &t.record).or_else(|| {
                            t.expected
                                .as_ref()
                                .and_then(|want| differs("fields", fields, want))
                        })
                    }),
                );
            }
        }
    }
}

fn run_safety(group: &safety_code::SafetyGroup, imp: &mut dyn Implementation, rec: &mut Recorder) {
    use safety_code::SafetyGroup as G;
    match group {
        G::Code { tests, .. } => {
            for t in tests {
                let result = (|| -> OpResult<(Vec<u8>, Vec<u8>, String)> {
                    Ok((
                        imp.safety_fingerprint(&t.identity_key_a)?,
                        imp.safety_fingerprint(&t.identity_key_b)?,
                        imp.safety_code(&t.identity_key_a, &t.identity_key_b)?,
                    ))
                })();
                rec.record(
                    "safety-code",
                    t,
                    got(result, |(fa, fb, code)| {
                        hex_differs("fingerprintA", fa, &t.fingerprint_a)
                            .or_else(|| hex_differs("fingerprintB", fb, &t.fingerprint_b))
                            .or_else(|| differs("code", code, &t.code))
                    }),
                );
            }
        }
        G::QrCreate { tests, .. } => {
            for t in tests {
                let r = imp.safety_qr_create(&t.own_key, &t.peer_key);
                rec.record(
                    "safety-qr-create",
                    t,
                    got(r, |p| hex_differs("payload", p, &t.payload)),
                );
            }
        }
        G::QrVerify { tests, .. } => {
            for t in tests {
                let r = imp.safety_qr_verify(&t.payload, &t.own_key, &t.peer_key);
                rec.record("safety-qr-verify", t, got(r, |_| None));
            }
        }
    }
}

fn run_did_key(group: &did_key::DidKeyGroup, imp: &mut dyn Implementation, rec: &mut Recorder) {
    use did_key::DidKeyGroup as G;
    match group {
        G::Encode { tests, .. } => {
            for t in tests {
                let key = t.key.clone().unwrap_or_default();
                let result = imp
                    .did_key_encode(&key)
                    .and_then(|did| Ok((did.clone(), imp.did_key_decode(&did)?)));
                rec.record(
                    "did-key-encode",
                    t,
                    got(result, |(did, back)| {
                        differs("did", did, &t.did)
                            .or_else(|| hex_differs("decoded key", back, &key))
                    }),
                );
            }
        }
        G::Decode { tests, .. } => {
            for t in tests {
                let r = imp.did_key_decode(&t.did);
                rec.record(
                    "did-key-decode",
                    t,
                    got(r, |k| {
                        t.key.as_ref().and_then(|want| hex_differs("key", k, want))
                    }),
                );
            }
        }
    }
}

fn hpke_input(t: &hpke::HpkeTest) -> HpkeInput<'_> {
    HpkeInput {
        suite: t.suite,
        recipient_seed: &t.recipient_seed,
        info: &t.info,
        aad: &t.aad,
        exporter_context: &t.exporter_context,
        plaintext: t.plaintext.as_deref().unwrap_or_default(),
    }
}

fn run_hpke(group: &hpke::HpkeGroup, imp: &mut dyn Implementation, rec: &mut Recorder) {
    use hpke::HpkeGroup as G;
    match group {
        G::Seal { tests, .. } => {
            for t in tests {
                let i = hpke_input(t);
                let randomness = t.randomness.clone().unwrap_or_default();
                let result = imp.hpke_seal(&i, &randomness).and_then(|sealed| {
                    let opened = imp.hpke_open(&i, &sealed.0, &sealed.1)?;
                    Ok((sealed, opened))
                });
                rec.record(
                    "hpke-seal",
                    t,
                    got(
                        result,
                        |((enc, ct, exported), (plaintext, exported_back))| {
                            hex_differs("enc", enc, &t.enc)
                                .or_else(|| hex_differs("ciphertext", ct, &t.ciphertext))
                                .or_else(|| {
                                    hex_differs(
                                        "exported",
                                        exported,
                                        &t.exported.clone().unwrap_or_default(),
                                    )
                                })
                                .or_else(|| hex_differs("opened plaintext", plaintext, i.plaintext))
                                .or_else(|| {
                                    hex_differs("exported on open", exported_back, exported)
                                })
                        },
                    ),
                );
            }
        }
        G::Open { tests, .. } => {
            for t in tests {
                let i = hpke_input(t);
                let r = imp.hpke_open(&i, &t.enc, &t.ciphertext);
                rec.record(
                    "hpke-open",
                    t,
                    got(r, |(plaintext, exported)| {
                        t.plaintext
                            .as_ref()
                            .and_then(|want| hex_differs("plaintext", plaintext, want))
                            .or_else(|| {
                                t.exported
                                    .as_ref()
                                    .and_then(|want| hex_differs("exported", exported, want))
                            })
                    }),
                );
            }
        }
    }
}

fn run_envelope(group: &envelope::EnvelopeGroup, imp: &mut dyn Implementation, rec: &mut Recorder) {
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

fn run_event(group: &event::EventGroup, imp: &mut dyn Implementation, rec: &mut Recorder) {
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

fn run_mailbox(group: &mailbox::MailboxGroup, imp: &mut dyn Implementation, rec: &mut Recorder) {
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

fn run_relay(group: &relay::RelayGroup, imp: &mut dyn Implementation, rec: &mut Recorder) {
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

fn run_handshake(
    group: &handshake::HandshakeGroup,
    imp: &mut dyn Implementation,
    rec: &mut Recorder,
) {
    use handshake::HandshakeGroup as G;
    match group {
        G::Initiate { tests, .. } => {
            for t in tests {
                let input = HandshakeInitiate {
                    invite: &t.invite,
                    suite: t.suite,
                    identity_seed: &t.identity_seed,
                    kem_seed: &t.kem_seed,
                    ratchet_secret: &t.ratchet_secret,
                    generation: t.generation,
                    mailbox: &t.mailbox,
                    randomness: &t.randomness,
                };
                let r = imp.handshake_initiate(&input);
                rec.record(
                    "handshake-initiate",
                    t,
                    got(r, |(message, th, snapshot)| {
                        let want = |o: &Option<Vec<u8>>| o.clone().unwrap_or_default();
                        hex_differs("message", message, &want(&t.message))
                            .or_else(|| {
                                hex_differs("transcript hash", th, &want(&t.transcript_hash))
                            })
                            .or_else(|| {
                                hex_differs(
                                    "snapshot digest",
                                    &Sha256::digest(snapshot),
                                    &want(&t.snapshot_digest),
                                )
                            })
                    }),
                );
            }
        }
        G::Accept { tests, .. } => {
            for t in tests {
                let got = match accept_steps(t, imp) {
                    Ok(()) => match &t.error_class {
                        Some(class) => Got::Rejected(class.clone()),
                        None => Got::Accepted { mismatch: None },
                    },
                    Err(Stop::Mismatch(m)) => Got::Accepted { mismatch: Some(m) },
                    Err(Stop::Unimplemented(f)) => Got::Unimplemented(f),
                };
                rec.record("handshake-accept", t, got);
            }
        }
    }
}

fn accept_steps(t: &handshake::AcceptTest, imp: &mut dyn Implementation) -> Result<(), Stop> {
    let listen = imp.handshake_listen(&t.invite, &t.kem_seed, &t.ratchet_secret);
    let handle =
        step_result(0, listen)?.map_err(|c| Stop::Mismatch(format!("listen: error {c}")))?;
    for (i, step) in t.steps.iter().enumerate() {
        let index = i + 1;
        let r = imp.handshake_accept(handle, &step.message, step.now, &t.allowed_suites);
        match (step_result(index, r)?, &step.error_class) {
            (Ok(a), None) => {
                let want = |o: &Option<Vec<u8>>| o.clone().unwrap_or_default();
                let mismatch = hex_differs(
                    "peer identity",
                    &a.peer_identity,
                    &want(&step.peer_identity),
                )
                .or_else(|| hex_differs("peer mailbox", &a.peer_mailbox, &want(&step.peer_mailbox)))
                .or_else(|| {
                    hex_differs(
                        "transcript hash",
                        &a.transcript_hash,
                        &want(&step.transcript_hash),
                    )
                })
                .or_else(|| {
                    hex_differs(
                        "snapshot digest",
                        &Sha256::digest(&a.snapshot),
                        &want(&step.snapshot_digest),
                    )
                });
                if let Some(m) = mismatch {
                    return Err(Stop::Mismatch(format!("step {index}: {m}")));
                }
            }
            (Err(c), Some(want)) if c == *want => {}
            (Ok(_), _) => return Err(Stop::Mismatch(format!("step {index}: accepted"))),
            (Err(c), _) => return Err(Stop::Mismatch(format!("step {index}: got error {c}"))),
        }
    }
    Ok(())
}

fn run_invite(group: &invite::InviteGroup, imp: &mut dyn Implementation, rec: &mut Recorder) {
    use invite::InviteGroup as G;
    match group {
        G::Create { tests, .. } => {
            for t in tests {
                let input = InviteCreate {
                    suite: t.suite,
                    identity_seed: &t.identity_seed,
                    randomness: [t.invite_id.as_slice(), &t.kem_seed, &t.ratchet_secret].concat(),
                    relay_hints: &t.relay_hints,
                    mailbox: &t.mailbox,
                    expires: t.expires,
                    single_use: t.single_use,
                };
                let r = imp.invite_create(&input);
                rec.record(
                    "invite-create",
                    t,
                    got(r, |bytes| hex_differs("invite", bytes, &t.invite)),
                );
            }
        }
        G::Verify {
            allowed_suites,
            tests,
            ..
        } => {
            for t in tests {
                let r = imp.invite_verify(&t.invite, t.now, allowed_suites);
                rec.record(
                    "invite-verify",
                    t,
                    got(r, |(fields, enc)| {
                        hex_differs("re-encoding", enc, &t.invite).or_else(|| {
                            t.expected
                                .as_ref()
                                .and_then(|want| differs("fields", fields, want))
                        })
                    }),
                );
            }
        }
    }
}

fn run_invite_encoding(
    group: &invite_encoding::EncodingGroup,
    imp: &mut dyn Implementation,
    rec: &mut Recorder,
) {
    use invite_encoding::EncodingGroup as G;
    let all = [1, 2];
    match group {
        G::Encode { tests, .. } => {
            for t in tests {
                let r = imp.invite_encode(&t.invite, &t.base);
                rec.record(
                    "invite-encode",
                    t,
                    got(r, |(link, qr)| {
                        differs("link", link, &t.link).or_else(|| hex_differs("qr", qr, &t.qr))
                    }),
                );
            }
        }
        G::LinkParse { tests, .. } => {
            for t in tests {
                let r = imp.invite_link_parse(&t.link, t.now, &all);
                rec.record(
                    "invite-link-parse",
                    t,
                    got(r, |bytes| {
                        t.invite
                            .as_ref()
                            .and_then(|want| hex_differs("invite", bytes, want))
                    }),
                );
            }
        }
        G::QrParse { tests, .. } => {
            for t in tests {
                let r = imp.invite_qr_parse(&t.qr, t.now, &all);
                rec.record(
                    "invite-qr-parse",
                    t,
                    got(r, |bytes| {
                        t.invite
                            .as_ref()
                            .and_then(|want| hex_differs("invite", bytes, want))
                    }),
                );
            }
        }
    }
}

fn run_ratchet(group: &ratchet::RatchetGroup, imp: &mut dyn Implementation, rec: &mut Recorder) {
    use ratchet::RatchetGroup as G;
    match group {
        G::Session { tests, .. } => {
            for t in tests {
                rec.record("ratchet-session", t, run_session(t, imp));
            }
        }
        G::SnapshotLoad { tests, .. } => {
            for t in tests {
                let result = imp
                    .ratchet_restore(&t.snapshot)
                    .and_then(|handle| imp.ratchet_snapshot(handle));
                rec.record(
                    "ratchet-snapshot-load",
                    t,
                    got(result, |bytes| {
                        hex_differs("re-encoding", bytes, &t.snapshot)
                    }),
                );
            }
        }
    }
}

/// Why a session stopped early: a step that disagreed, or an unimplemented operation.
enum Stop {
    Mismatch(String),
    Unimplemented(String),
}

fn step_result<T>(index: usize, result: OpResult<T>) -> Result<Result<T, String>, Stop> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(Failure::Error { class }) => Ok(Err(class)),
        Err(Failure::Unimplemented { feature }) => {
            Err(Stop::Unimplemented(format!("{feature} (step {index})")))
        }
    }
}

/// Compares a step's outcome; `step` names the step in messages (`3 (decrypt by responder)`,
/// 0-based as in the vector's `steps` array).
fn expect_outcome<T: PartialEq>(
    step: &str,
    got: Result<T, String>,
    want_value: Option<&T>,
    want_class: Option<&String>,
    show: impl Fn(&T) -> String,
) -> Result<(), Stop> {
    match (got, want_value, want_class) {
        (Ok(v), Some(w), _) if v == *w => Ok(()),
        (Err(c), _, Some(w)) if c == *w => Ok(()),
        (Ok(v), _, _) => Err(Stop::Mismatch(format!("step {step}: got {}", show(&v)))),
        (Err(c), _, _) => Err(Stop::Mismatch(format!("step {step}: got error {c}"))),
    }
}

fn run_session(t: &ratchet::SessionTest, imp: &mut dyn Implementation) -> Got {
    match session_steps(t, imp) {
        Ok(()) => match &t.error_class {
            Some(class) => Got::Rejected(class.clone()),
            None => Got::Accepted { mismatch: None },
        },
        Err(Stop::Mismatch(m)) => Got::Accepted { mismatch: Some(m) },
        Err(Stop::Unimplemented(f)) => Got::Unimplemented(f),
    }
}

fn session_steps(t: &ratchet::SessionTest, imp: &mut dyn Implementation) -> Result<(), Stop> {
    let init = |imp: &mut dyn Implementation, role| {
        imp.ratchet_init(
            role,
            &t.session_secret,
            &t.associated_data,
            &t.responder_ratchet_secret,
        )
    };
    let initiator = match &t.initiator_snapshot {
        Some(snapshot) => imp.ratchet_restore(snapshot),
        None => init(imp, Role::Initiator),
    };
    let handles: [Handle; 2] = [
        step_result(0, initiator)?
            .map_err(|c| Stop::Mismatch(format!("initiator setup: error {c}")))?,
        step_result(0, init(imp, Role::Responder))?
            .map_err(|c| Stop::Mismatch(format!("responder setup: error {c}")))?,
    ];
    let handle = |side: &Side| match side {
        Side::Initiator => handles[0],
        Side::Responder => handles[1],
    };
    let hex = |b: &Vec<u8>| hex::encode(b);
    for (index, step) in t.steps.iter().enumerate() {
        let name = format!("{index} ({})", diverge::step_name(step));
        let (side, digest) = match step {
            Step::Encrypt {
                side,
                plaintext,
                randomness,
                message,
                error_class,
                snapshot_digest,
            } => {
                let got = step_result(
                    index,
                    imp.ratchet_encrypt(handle(side), plaintext, randomness),
                )?;
                expect_outcome(&name, got, message.as_ref(), error_class.as_ref(), hex)?;
                (side, snapshot_digest)
            }
            Step::EncryptDiscard {
                side,
                count,
                randomness_seed,
                messages_digest,
                snapshot_digest,
            } => {
                let got = step_result(
                    index,
                    imp.ratchet_encrypt_stream(handle(side), *count, randomness_seed),
                )?
                .map(|all| Sha256::digest(all).to_vec());
                expect_outcome(&name, got, Some(messages_digest), None, hex)?;
                (side, snapshot_digest)
            }
            Step::Decrypt {
                side,
                message,
                plaintext,
                error_class,
                snapshot_digest,
            } => {
                let got = step_result(index, imp.ratchet_decrypt(handle(side), message))?;
                expect_outcome(&name, got, plaintext.as_ref(), error_class.as_ref(), hex)?;
                (side, snapshot_digest)
            }
            Step::DecryptEvent {
                side,
                message,
                event,
                error_class,
                snapshot_digest,
            } => {
                let got = step_result(index, imp.ratchet_decrypt_event(handle(side), message))?;
                expect_outcome(&name, got, event.as_ref(), error_class.as_ref(), hex)?;
                (side, snapshot_digest)
            }
        };
        let snapshot = step_result(index, imp.ratchet_snapshot(handle(side)))?
            .map_err(|c| Stop::Mismatch(format!("step {index}: snapshot failed: {c}")))?;
        let got = Sha256::digest(&snapshot).to_vec();
        if got != *digest {
            let fields = diverge::reference_snapshot(t, index)
                .filter(|s| Sha256::digest(s).to_vec() == *digest)
                .map_or_else(
                    || "the reference does not reach the vector's digest".to_owned(),
                    |want| diverge::snapshot_diff(&want, &snapshot),
                );
            return Err(Stop::Mismatch(format!(
                "step {index} ({}): snapshot digest {} instead of {}; {fields}",
                diverge::step_name(step),
                hex::encode(got),
                hex::encode(digest)
            )));
        }
    }
    Ok(())
}
