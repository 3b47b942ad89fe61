//! Identity and contact families: device records, safety codes, `did:key`, invites and their
//! encodings (spec/03-identity.md, spec/04-contact-establishment.md).

use quietwire_test_vectors::families::{
    device_record, did_key, invite, invite_encoding, safety_code,
};

use super::{Recorder, differs, got, hex_differs};
use crate::implementation::{Implementation, InviteCreate, OpResult};

pub(super) fn run_device_record(
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

pub(super) fn run_safety(
    group: &safety_code::SafetyGroup,
    imp: &mut dyn Implementation,
    rec: &mut Recorder,
) {
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

pub(super) fn run_did_key(
    group: &did_key::DidKeyGroup,
    imp: &mut dyn Implementation,
    rec: &mut Recorder,
) {
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

pub(super) fn run_invite(
    group: &invite::InviteGroup,
    imp: &mut dyn Implementation,
    rec: &mut Recorder,
) {
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

pub(super) fn run_invite_encoding(
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
