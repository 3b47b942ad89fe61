//! The runner's one table (spec/16-conformance-shim.md Table 16-2): for every vector group
//! type, the operations its tests run, where their arguments come from and how their values
//! are compared with the vector, or the dedicated script of a stateful sequence.
//!
//! Arguments and value fields are named like the vector fields (SHIM-03), so most entries
//! only list names; the exceptions say where a field comes from. Adding a group type is
//! adding its entry here (and, for a new operation, its built-in implementation in
//! [`crate::builtin`]).

use quietwire_test_vectors::families::device_record::{ListFields, RecordFields};
use quietwire_test_vectors::families::invite::InviteFields;

use super::check::Arg::{Concat, Const, From, Same, Value};
use super::check::Kind::{Bool, Bytes, Int, Object, OptBytes, Sha256, Text};
use super::check::{GroupSpec, Lit, earlier, like, op, op_if, ops, same, script, strict};
use super::{backup, handshake, ratchet, relay};

/// The entry of group type `group`.
pub(super) fn spec(group: &str) -> Option<&'static GroupSpec> {
    GROUPS.iter().find(|g| g.group == group)
}

const RECORD: super::check::Kind = Object(strict::<RecordFields>);
const LIST: super::check::Kind = Object(strict::<ListFields>);
const INVITE: super::check::Kind = Object(strict::<InviteFields>);
/// The suites the invite encoding groups allow (they carry no `allowedSuites`).
const ALL_SUITES: Lit = Lit::Ints(&[1, 2]);

/// Every group type of `test-vectors/v1/`, in the order of the files.
pub(super) const GROUPS: &[GroupSpec] = &[
    ops(
        "cbor-decode",
        &[op(
            "cbor-decode",
            &[Same("input"), Same("limits")],
            &[like("reencoded", Bytes, "input")],
        )],
    ),
    ops(
        "device-record-create",
        &[op(
            "device-record-create",
            &[
                Same("suite"),
                Same("identitySeed"),
                Same("kemSeed"),
                Same("ratchetSecret"),
                Same("generation"),
            ],
            &[same("record", Bytes)],
        )],
    ),
    ops(
        "device-record-verify",
        &[op(
            "device-record-verify",
            &[Same("record"), Same("allowedSuites"), Same("deviceList")],
            &[
                like("reencoded", Bytes, "record"),
                like("fields", RECORD, "expected"),
            ],
        )],
    ),
    ops(
        "device-keys-load",
        &[op(
            "device-keys-load",
            &[Same("keys")],
            &[
                same("keys", Bytes),
                same("identityKey", Bytes),
                same("kemKey", Bytes),
                same("ratchetKey", Bytes),
            ],
        )],
    ),
    ops(
        "device-list-create",
        &[op(
            "device-list-create",
            &[
                Same("identitySeed"),
                Same("version"),
                Same("devices"),
                Same("change"),
                Same("issued"),
            ],
            &[same("list", Bytes)],
        )],
    ),
    ops(
        "device-list-verify",
        &[op(
            "device-list-verify",
            &[Same("list"), Same("pinnedIdentity"), Same("heldVersion")],
            &[
                like("reencoded", Bytes, "list"),
                like("fields", LIST, "expected"),
            ],
        )],
    ),
    ops(
        "safety-code",
        &[
            op(
                "safety-fingerprint",
                &[From("identityKey", "identityKeyA")],
                &[like("fingerprint", Bytes, "fingerprintA")],
            ),
            op(
                "safety-fingerprint",
                &[From("identityKey", "identityKeyB")],
                &[like("fingerprint", Bytes, "fingerprintB")],
            ),
            op(
                "safety-code",
                &[Same("identityKeyA"), Same("identityKeyB")],
                &[same("code", Text)],
            ),
        ],
    ),
    ops(
        "safety-qr-create",
        &[op(
            "safety-qr-create",
            &[Same("ownKey"), Same("peerKey")],
            &[same("payload", Bytes)],
        )],
    ),
    ops(
        "safety-qr-verify",
        &[op(
            "safety-qr-verify",
            &[Same("payload"), Same("ownKey"), Same("peerKey")],
            &[],
        )],
    ),
    ops(
        "did-key-encode",
        &[
            op("did-key-encode", &[Same("key")], &[same("did", Text)]),
            op(
                "did-key-decode",
                &[Value("did", 0, "did")],
                &[same("key", Bytes)],
            ),
        ],
    ),
    ops(
        "did-key-decode",
        &[op("did-key-decode", &[Same("did")], &[same("key", Bytes)])],
    ),
    ops(
        "invite-create",
        &[op(
            "invite-create",
            &[
                Same("suite"),
                Same("identitySeed"),
                Concat("randomness", &["inviteId", "kemSeed", "ratchetSecret"]),
                Same("relayHints"),
                Same("mailbox"),
                Same("expires"),
                Same("singleUse"),
            ],
            &[same("invite", Bytes)],
        )],
    ),
    ops(
        "invite-verify",
        &[op(
            "invite-verify",
            &[Same("invite"), Same("now"), Same("allowedSuites")],
            &[
                like("reencoded", Bytes, "invite"),
                like("fields", INVITE, "expected"),
            ],
        )],
    ),
    ops(
        "invite-encode",
        &[op(
            "invite-encode",
            &[Same("invite"), Same("base")],
            &[same("link", Text), same("qr", Bytes)],
        )],
    ),
    ops(
        "invite-link-parse",
        &[op(
            "invite-link-parse",
            &[
                Same("link"),
                Same("now"),
                Const("allowedSuites", ALL_SUITES),
            ],
            &[same("invite", Bytes)],
        )],
    ),
    ops(
        "invite-qr-parse",
        &[op(
            "invite-qr-parse",
            &[Same("qr"), Same("now"), Const("allowedSuites", ALL_SUITES)],
            &[same("invite", Bytes)],
        )],
    ),
    ops(
        "hpke-seal",
        &[
            op(
                "hpke-seal",
                &[
                    Same("suite"),
                    Same("recipientSeed"),
                    Same("info"),
                    Same("aad"),
                    Same("exporterContext"),
                    Same("plaintext"),
                    Same("randomness"),
                ],
                &[
                    same("enc", Bytes),
                    same("ciphertext", Bytes),
                    same("exported", Bytes),
                ],
            ),
            op(
                "hpke-open",
                &[
                    Same("suite"),
                    Same("recipientSeed"),
                    Same("info"),
                    Same("aad"),
                    Same("exporterContext"),
                    Value("enc", 0, "enc"),
                    Value("ciphertext", 0, "ciphertext"),
                ],
                &[
                    same("plaintext", Bytes),
                    earlier("exported", Bytes, 0, "exported"),
                ],
            ),
        ],
    ),
    ops(
        "hpke-open",
        &[op(
            "hpke-open",
            &[
                Same("suite"),
                Same("recipientSeed"),
                Same("info"),
                Same("aad"),
                Same("exporterContext"),
                Same("enc"),
                Same("ciphertext"),
            ],
            &[same("plaintext", Bytes), same("exported", Bytes)],
        )],
    ),
    ops(
        "handshake-initiate",
        &[op(
            "handshake-initiate",
            &[
                Same("invite"),
                Same("suite"),
                Same("identitySeed"),
                Same("kemSeed"),
                Same("ratchetSecret"),
                Same("generation"),
                Same("mailbox"),
                Same("randomness"),
            ],
            &[
                same("message", Bytes),
                same("transcriptHash", Bytes),
                like("snapshot", Sha256, "snapshotDigest"),
            ],
        )],
    ),
    script("handshake-accept", handshake::accept),
    ops(
        "reconnect-seal",
        &[op(
            "reconnect-seal",
            &[
                Same("contactRecord"),
                Same("invite"),
                Same("record"),
                Same("randomness"),
            ],
            &[same("message", Bytes)],
        )],
    ),
    ops(
        "reconnect-open",
        &[op(
            "reconnect-open",
            &[
                Same("suite"),
                Same("identitySeed"),
                Same("kemSeed"),
                Same("ratchetSecret"),
                Same("message"),
                Same("expectedIdentity"),
                Same("heldGeneration"),
                Same("acceptedInvites"),
                Same("now"),
                Same("allowedSuites"),
            ],
            &[same("invite", Bytes), same("record", Bytes)],
        )],
    ),
    script("ratchet-session", ratchet::session),
    ops(
        "ratchet-snapshot-load",
        &[
            op("ratchet-restore", &[Same("snapshot")], &[]),
            op(
                "ratchet-snapshot",
                &[Value("handle", 0, "handle")],
                &[same("snapshot", Bytes)],
            ),
        ],
    ),
    ops(
        "session-snapshot-load",
        &[op(
            "session-restore",
            &[Same("sessionSnapshot")],
            &[
                same("sessionSnapshot", Bytes),
                same("peerIdentity", OptBytes),
            ],
        )],
    ),
    ops(
        "envelope-bucket",
        &[op(
            "envelope-bucket",
            &[Same("length")],
            &[same("bucket", Int)],
        )],
    ),
    ops(
        "envelope-pad",
        &[
            op(
                "envelope-pad",
                &[Same("content"), Same("overhead")],
                &[same("padded", Bytes)],
            ),
            op(
                "envelope-unpad",
                &[Value("padded", 0, "padded")],
                &[same("content", Bytes)],
            ),
        ],
    ),
    ops(
        "envelope-unpad",
        &[op(
            "envelope-unpad",
            &[Same("padded")],
            &[same("content", Bytes)],
        )],
    ),
    ops(
        "envelope-receive",
        &[op(
            "envelope-receive",
            &[Same("envelope"), Same("mailbox")],
            &[like("blob", Sha256, "blobDigest")],
        )],
    ),
    ops(
        "envelope-decode",
        &[op(
            "envelope-decode",
            &[Same("envelope")],
            &[same("mailbox", Bytes), like("blob", Sha256, "blobDigest")],
        )],
    ),
    ops(
        "event-decode",
        &[op(
            "event-decode",
            &[Same("event")],
            &[
                same("kind", Int),
                same("critical", Bool),
                same("known", Bool),
                same("messageId", Bytes),
                like("reencoded", Bytes, "event"),
            ],
        )],
    ),
    ops(
        "event-device-record",
        &[op(
            "event-device-record",
            &[
                Same("peerIdentity"),
                Same("heldGeneration"),
                Same("record"),
                Same("allowedSuites"),
            ],
            &[same("generation", Int)],
        )],
    ),
    ops(
        "mailbox-prove",
        &[
            op(
                "mailbox-prove",
                &[
                    Same("seed"),
                    Same("challenge"),
                    Same("origin"),
                    Same("operation"),
                ],
                &[
                    same("publicKey", Bytes),
                    same("mailbox", Bytes),
                    same("proof", Bytes),
                ],
            ),
            op(
                "mailbox-verify",
                &[
                    Value("mailbox", 0, "mailbox"),
                    Same("challenge"),
                    Same("origin"),
                    Same("operation"),
                    Value("proof", 0, "proof"),
                ],
                &[],
            ),
        ],
    ),
    ops(
        "mailbox-verify",
        &[op(
            "mailbox-verify",
            &[
                Same("mailbox"),
                Same("challenge"),
                Same("origin"),
                Same("operation"),
                Same("proof"),
            ],
            &[],
        )],
    ),
    ops(
        "mailbox-origin",
        &[op(
            "mailbox-origin",
            &[Same("url")],
            &[same("origin", Text)],
        )],
    ),
    ops(
        "relay-welcome",
        &[op(
            "relay-open",
            &[
                Same("limits"),
                Same("challenge"),
                // A welcome does not depend on the relay's origins (§15.6.14).
                Const("origin", Lit::Text(relay::WELCOME_ORIGIN)),
                Const("unixTime", Lit::Int(0)),
                Const("millis", Lit::Int(0)),
            ],
            &[same("welcome", Bytes)],
        )],
    ),
    script("relay-session", relay::session),
    ops(
        "relay-frame-decode",
        &[op(
            "relay-frame-decode",
            &[Same("frame"), Same("maxFrame")],
            &[same("kind", Text), same("reencoded", Bytes)],
        )],
    ),
    ops(
        "xbk-recovery-key",
        &[
            op(
                "backup-recovery-parse",
                &[Same("text")],
                &[same("key", Bytes)],
            ),
            op_if(
                "canonical",
                "backup-recovery-text",
                &[Value("key", 0, "key")],
                &[same("text", Text)],
            ),
        ],
    ),
    ops(
        "xbk-confirm-seal",
        &[op(
            "xbk-confirm-seal",
            &[
                Same("suite"),
                Same("transferSeed"),
                Same("code"),
                Same("digest"),
                Same("randomness"),
            ],
            &[same("message", Bytes), same("sas", Text)],
        )],
    ),
    ops(
        "xbk-confirm-open",
        &[op(
            "xbk-confirm-open",
            &[
                Same("suite"),
                Same("transferSeed"),
                Same("code"),
                Same("message"),
                Same("fileSha256"),
            ],
            &[same("digest", Bytes), same("sas", Text)],
        )],
    ),
    script("xbk-export", backup::export),
    script("xbk-container", backup::decode),
    script("xbk-header", backup::decode),
    script("xbk-kdf", backup::decode),
    script("xbk-unlock", backup::decode),
    script("xbk-mac", backup::decode),
    script("xbk-stream", backup::decode),
    script("xbk-sections", backup::decode),
    script("xbk-hidden", backup::decode),
    script("xbk-restore", backup::decode),
    script("xbk-rekey", backup::rekey),
    script("xbk-seek", backup::seek),
];
