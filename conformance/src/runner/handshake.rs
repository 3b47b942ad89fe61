//! HPKE and the handshake (spec/02-suites-and-labels.md, spec/05-handshake.md).

use quietwire_test_vectors::families::{handshake, hpke};
use sha2::{Digest, Sha256};

use super::{Got, Recorder, Stop, got, hex_differs, step_result};
use crate::implementation::{HandshakeInitiate, HpkeInput, Implementation};

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

pub(super) fn run_hpke(group: &hpke::HpkeGroup, imp: &mut dyn Implementation, rec: &mut Recorder) {
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

pub(super) fn run_handshake(
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
