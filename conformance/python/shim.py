#!/usr/bin/env python3
"""A Quietwire conformance shim over quietwire_py, the independent Python implementation.

Speaks the shim protocol of spec/16-conformance-shim.md: one JSON request per line on stdin,
one JSON reply per line on stdout, nothing else on stdout; exit status 0 at end of input.

    quietwire-conformance run --shim "python3 conformance/python/shim.py" \\
        --config conformance/python/config.toml

It implements the layers quietwire_py implements (CBOR, identity and device records, device
lists, safety codes, did:key, invites and their encodings, HPKE, the handshake and reconnects,
the Double Ratchet and session snapshots, envelopes, events, mailbox proofs, the backup
transfer confirmation) and answers every other op (relay, backup) with `unimplemented` and the
op's feature, so that nothing is skipped silently: the runner reports those cases as
UNIMPLEMENTED, and config.toml declares the features optional with the reason.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from quietwire_py import (  # noqa: E402
    cbor,
    device_list,
    didkey,
    envelope,
    event,
    handshake,
    hpke,
    identity,
    invite,
    keys,
    mailbox,
    ratchet,
    ratchet_snapshot,
    reconnect,
    rng,
    safety,
    session,
    transfer_confirm,
)
from quietwire_py.errors import QuietwireError  # noqa: E402

PROTOCOL = 1
NAME = "quietwire-py"
VERSION = "0.1.0"

# Every op of the protocol and its feature (spec/16-conformance-shim.md §16.4).
OP_FEATURES = {
    "cbor-decode": "cbor",
    "device-record-create": "identity",
    "device-record-verify": "identity",
    "device-keys-load": "device-keys",
    "device-list-create": "device-list",
    "device-list-verify": "device-list",
    "safety-fingerprint": "safety",
    "safety-code": "safety",
    "safety-qr-create": "safety",
    "safety-qr-verify": "safety",
    "did-key-encode": "did-key",
    "did-key-decode": "did-key",
    "invite-create": "invite",
    "invite-verify": "invite",
    "invite-encode": "invite",
    "invite-link-parse": "invite",
    "invite-qr-parse": "invite",
    "hpke-seal": "hpke",
    "hpke-open": "hpke",
    "envelope-bucket": "envelope",
    "envelope-pad": "envelope",
    "envelope-unpad": "envelope",
    "envelope-receive": "envelope",
    "envelope-decode": "envelope",
    "event-decode": "event",
    "event-device-record": "event",
    "mailbox-prove": "mailbox",
    "mailbox-verify": "mailbox",
    "mailbox-origin": "mailbox",
    "handshake-initiate": "handshake",
    "handshake-listen": "handshake",
    "handshake-accept": "handshake",
    "reconnect-seal": "reconnect",
    "reconnect-open": "reconnect",
    "relay-open": "relay",
    "relay-handle": "relay",
    "relay-frame-decode": "relay",
    "ratchet-init": "ratchet",
    "ratchet-restore": "ratchet",
    "ratchet-encrypt": "ratchet",
    "ratchet-encrypt-stream": "ratchet",
    "ratchet-decrypt": "ratchet",
    "ratchet-decrypt-event": "ratchet",
    "ratchet-snapshot": "ratchet",
    "session-restore": "ratchet",
    "backup-recovery-text": "backup",
    "backup-recovery-parse": "backup",
    "backup-export": "backup",
    "backup-decode": "backup",
    "backup-rekey": "backup",
    "backup-seek": "backup",
    "xbk-confirm-seal": "transfer-confirm",
    "xbk-confirm-open": "transfer-confirm",
}


class Harness(Exception):
    """The arguments of a request are unusable (a bug of the runner or of this shim)."""


class Unimplemented(Exception):
    """This shim does not provide the feature."""


class Args:
    """Strict reading of an `args` object: lowercase hex bytes, exact integers."""

    def __init__(self, raw: Any) -> None:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise Harness("args is not an object")
        self.raw = raw

    def get(self, name: str) -> Any:
        if name not in self.raw:
            raise Harness(f"missing field `{name}`")
        return self.raw[name]

    def bytes(self, name: str) -> bytes:
        v = self.get(name)
        if not isinstance(v, str) or v != v.lower() or len(v) % 2:
            raise Harness(f"field `{name}` is not lowercase hex")
        try:
            return bytes.fromhex(v)
        except ValueError as e:
            raise Harness(f"field `{name}`: {e}") from None

    def int(self, name: str) -> int:
        v = self.get(name)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise Harness(f"field `{name}` is not an unsigned integer")
        return v

    def bool(self, name: str) -> bool:
        v = self.get(name)
        if not isinstance(v, bool):
            raise Harness(f"field `{name}` is not a boolean")
        return v

    def optional_bool(self, name: str) -> bool:
        """A boolean field that may be absent (or null), which reads as false."""
        return self.raw.get(name) is not None and self.bool(name)

    def optional_bytes(self, name: str) -> bytes | None:
        """A hex field that may be absent or null (``None``)."""
        return None if self.raw.get(name) is None else self.bytes(name)

    def optional_int(self, name: str) -> int | None:
        """An unsigned integer field that may be absent or null (``None``)."""
        return None if self.raw.get(name) is None else self.int(name)

    def str(self, name: str) -> str:
        v = self.get(name)
        if not isinstance(v, str):
            raise Harness(f"field `{name}` is not a string")
        return v

    def ints(self, name: str) -> list[int]:
        v = self.get(name)
        if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            raise Harness(f"field `{name}` is not an array of integers")
        return v

    def strs(self, name: str) -> list[str]:
        v = self.get(name)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise Harness(f"field `{name}` is not an array of strings")
        return v

    def hexes(self, name: str) -> list[str]:
        """An array of lowercase hex strings."""
        v = self.strs(name)
        for x in v:
            if x != x.lower() or len(x) % 2 or any(c not in "0123456789abcdef" for c in x):
                raise Harness(f"field `{name}` holds a string that is not lowercase hex")
        return v

    def obj(self, name: str) -> "Args":
        return Args(self.get(name))


# Handles of the stateful operations, unique within the process (SHIM-07).
HANDLES = itertools.count(1)
# Handshake inviters waiting for handshakes, by handle.
PENDING: dict[int, handshake.PendingInvite] = {}


def record_fields(r: identity.DeviceRecord) -> dict[str, Any]:
    fields = {
        "suite": r.suite,
        "identityKey": r.identity_key.hex(),
        "kemKey": r.kem_key.hex(),
        "ratchetKey": r.ratchet_key.hex(),
        "generation": r.generation,
        "extensions": len(r.extensions),
    }
    if r.device_key is not None:  # version 2 only (15-test-vectors.md §15.6.2)
        fields["deviceKey"] = r.device_key.hex()
    return fields


def list_fields(lst: device_list.DeviceList) -> dict[str, Any]:
    return {
        "identityKey": lst.identity_key.hex(),
        "version": lst.version,
        "devices": [d.hex() for d in lst.devices],
        "change": lst.change,
        "issued": lst.issued,
        "extensions": len(lst.extensions),
    }


def invite_fields(i: invite.Invite) -> dict[str, Any]:
    return {
        "suite": i.suite,
        "identityKey": i.identity_key.hex(),
        "kemKey": i.kem_key.hex(),
        "ratchetKey": i.ratchet_key.hex(),
        "relayHints": i.relay_hints,
        "mailbox": i.mailbox.hex(),
        "expires": i.expires,
        "singleUse": i.single_use,
        "inviteId": i.invite_id.hex(),
        "extensions": len(i.extensions),
    }


def op_cbor_decode(a: Args) -> dict:
    lim = a.obj("limits")
    limits = cbor.Limits(lim.int("maxInput"), lim.int("maxDepth"), lim.int("maxString"), lim.int("maxItems"))
    value = cbor.decode(a.bytes("input"), limits)
    return {"reencoded": cbor.encode(value).hex()}


def op_device_record_create(a: Args) -> dict:
    record = identity.create_device_record(
        a.int("suite"), a.bytes("identitySeed"), a.bytes("kemSeed"), a.bytes("ratchetSecret"), a.int("generation")
    )
    return {"record": record.hex()}


def op_device_keys_load(a: Args) -> dict:
    k = identity.load_device_keys(a.bytes("keys"))
    return {
        "keys": k.encoded.hex(),
        "identityKey": k.identity_key.hex(),
        "kemKey": k.kem_key.hex(),
        "ratchetKey": k.ratchet_key.hex(),
    }


def held_lists(a: Args) -> list[device_list.DeviceList]:
    """`deviceList`: the list the verifier holds (a valid list of DEV-02), or null for none.
    One that does not verify is a fault of the request, not the record's class."""
    data = a.optional_bytes("deviceList")
    if data is None:
        return []
    try:
        return [device_list.verify_device_list(data)]
    except QuietwireError as e:
        raise Harness(f"deviceList is not a valid list ({e.error_class})") from None


def op_device_record_verify(a: Args) -> dict:
    r = identity.verify_device_record(a.bytes("record"), a.ints("allowedSuites"), held_lists(a))
    return {"fields": record_fields(r), "reencoded": r.encoded.hex()}


def op_device_list_create(a: Args) -> dict:
    data = device_list.create_device_list(
        a.bytes("identitySeed"),
        a.int("version"),
        [bytes.fromhex(d) for d in a.hexes("devices")],
        a.int("change"),
        a.int("issued"),
    )
    return {"list": data.hex()}


def op_device_list_verify(a: Args) -> dict:
    lst = device_list.accept_device_list(
        a.bytes("list"), a.bytes("pinnedIdentity"), a.optional_int("heldVersion")
    )
    return {"fields": list_fields(lst), "reencoded": lst.encoded.hex()}


def op_invite_create(a: Args) -> dict:
    randomness = a.bytes("randomness")
    if len(randomness) != 16 + 32 + 32:
        raise Harness("randomness: invite id, KEM seed and ratchet secret are 80 bytes")
    data = invite.create_invite(
        a.int("suite"),
        a.bytes("identitySeed"),
        randomness[:16],
        randomness[16:48],
        randomness[48:],
        a.strs("relayHints"),
        a.bytes("mailbox"),
        a.int("expires"),
        a.bool("singleUse"),
    )
    return {"invite": data.hex()}


def op_invite_verify(a: Args) -> dict:
    i = invite.verify_invite(a.bytes("invite"), a.int("now"), a.ints("allowedSuites"))
    return {"fields": invite_fields(i), "reencoded": i.encoded.hex()}


def hpke_context(a: Args) -> tuple[int, hpke.RecipientKey, bytes, bytes, bytes]:
    suite = a.int("suite")
    return suite, hpke.derive_recipient(suite, a.bytes("recipientSeed")), a.bytes("info"), a.bytes("aad"), a.bytes("exporterContext")


def op_hpke_seal(a: Args) -> dict:
    suite, rk, info, aad, ctx = hpke_context(a)
    try:
        enc, ct, exported = hpke.seal(suite, rk.public, info, aad, a.bytes("plaintext"), ctx, a.bytes("randomness"))
    except NotImplementedError as e:  # X-Wing seals need kyber-py (requirements.txt)
        raise Unimplemented(f"hpke-seal-suite-{suite}") from e
    return {"enc": enc.hex(), "ciphertext": ct.hex(), "exported": exported.hex()}


def op_hpke_open(a: Args) -> dict:
    suite, rk, info, aad, ctx = hpke_context(a)
    pt, exported = hpke.open_(suite, rk, a.bytes("enc"), info, aad, a.bytes("ciphertext"), ctx)
    return {"plaintext": pt.hex(), "exported": exported.hex()}


def op_event_decode(a: Args) -> dict:
    data = a.bytes("event")
    ev = event.decode_event(data)
    return {
        "kind": ev.kind,
        "messageId": ev.message_id.hex(),
        "critical": ev.critical,
        "known": ev.known,
        "reencoded": cbor.encode(cbor.decode(data, event.LIMITS)).hex(),
    }


def op_event_device_record(a: Args) -> dict:
    held = None if a.raw.get("heldGeneration") is None else a.int("heldGeneration")
    r = identity.newer_record(a.bytes("record"), a.ints("allowedSuites"), a.bytes("peerIdentity"), held)
    return {"generation": r.generation}


def op_mailbox_prove(a: Args) -> dict:
    seed, challenge, operation = a.bytes("seed"), a.bytes("challenge"), a.int("operation")
    origin = a.str("origin")
    k = mailbox.mailbox_key(seed)
    return {
        "publicKey": k.public_key.hex(),
        "mailbox": k.id.hex(),
        "proof": mailbox.prove(seed, challenge, operation, origin).hex(),
    }


def op_handshake_initiate(a: Args) -> dict:
    # HSK-01 verifies the invite "at the current time"; the vectors give none, and 0 is
    # before every invite's expiry (README.md, "Readings taken").
    r = handshake.initiate(
        a.bytes("invite"),
        0,
        a.int("suite"),
        a.bytes("identitySeed"),
        a.bytes("kemSeed"),
        a.bytes("ratchetSecret"),
        a.int("generation"),
        a.bytes("mailbox"),
        a.bytes("randomness"),
    )
    return {
        "message": r.message.hex(),
        "transcriptHash": r.transcript_hash.hex(),
        "snapshot": r.snapshot.hex(),
        "snapshotDigest": hashlib.sha256(r.snapshot).hexdigest(),
    }


def op_handshake_listen(a: Args) -> dict:
    pending = handshake.PendingInvite.create(a.bytes("invite"), a.bytes("kemSeed"), a.bytes("ratchetSecret"))
    handle = next(HANDLES)
    PENDING[handle] = pending
    return {"handle": handle}


def op_handshake_accept(a: Args) -> dict:
    pending = PENDING.get(a.int("handle"))
    if pending is None:
        raise Harness("unknown handle")
    r = pending.accept(a.bytes("message"), a.int("now"), a.ints("allowedSuites"))
    return {
        "peerIdentity": r.peer_identity.hex(),
        "peerMailbox": r.peer_mailbox.hex(),
        "transcriptHash": r.transcript_hash.hex(),
        "snapshot": r.snapshot.hex(),
        "snapshotDigest": hashlib.sha256(r.snapshot).hexdigest(),
    }


def op_safety_qr_verify(a: Args) -> dict:
    safety.verify_qr(a.bytes("payload"), a.bytes("ownKey"), a.bytes("peerKey"))
    return {}


def op_mailbox_origin(a: Args) -> dict:
    return {"origin": mailbox.origin_from_url(a.str("url"))}


def op_mailbox_verify(a: Args) -> dict:
    mailbox.verify(
        a.bytes("proof"), a.bytes("mailbox"), a.bytes("challenge"), a.int("operation"), [a.str("origin")]
    )
    return {}


def op_reconnect_seal(a: Args) -> dict:
    message = reconnect.seal(a.bytes("contactRecord"), a.bytes("invite"), a.bytes("record"), a.bytes("randomness"))
    return {"message": message.hex()}


def op_reconnect_open(a: Args) -> dict:
    # quietwire_py derives what it needs from the identity and KEM seeds; the ratchet secret
    # is read (the op's arguments are checked) but not used.
    a.bytes("ratchetSecret")
    r = reconnect.open_(
        a.int("suite"),
        a.bytes("identitySeed"),
        a.bytes("kemSeed"),
        a.bytes("message"),
        a.bytes("expectedIdentity"),
        a.int("now"),
        a.ints("allowedSuites"),
        a.int("heldGeneration"),
        [bytes.fromhex(x) for x in a.strs("acceptedInvites")],
    )
    return {"invite": r.invite.encoded.hex(), "record": r.record.encoded.hex()}


def op_envelope_decode(a: Args) -> dict:
    env = envelope.decode_envelope(a.bytes("envelope"))
    return {"mailbox": env.mailbox.hex(), "blob": env.blob.hex()}


def op_xbk_confirm_seal(a: Args) -> dict:
    suite = a.int("suite")
    key = hpke.derive_recipient(suite, a.bytes("transferSeed"))
    try:
        message, sas = transfer_confirm.seal(suite, key.public, a.bytes("code"), a.bytes("digest"), a.bytes("randomness"))
    except NotImplementedError as e:  # X-Wing seals need kyber-py (requirements.txt)
        raise Unimplemented(f"xbk-confirm-seal-suite-{suite}") from e
    return {"message": message.hex(), "sas": sas}


def op_xbk_confirm_open(a: Args) -> dict:
    key = hpke.derive_recipient(a.int("suite"), a.bytes("transferSeed"))
    c = transfer_confirm.receive(key, a.bytes("code"), a.bytes("message"), a.optional_bytes("fileSha256"))
    return {"digest": c.digest.hex(), "sas": c.sas}


# ---------------------------------------------------------------------------
# Ratchet (06-ratchet.md) and sessions (07-envelope.md ENV-08, ENV-09)


@dataclass
class HeldRatchet:
    """A ratchet state behind a handle, with its snapshot (RAT-10) encoded once per change."""

    state: ratchet.State
    snapshot: bytes

    def digest(self) -> str:
        return hashlib.sha256(self.snapshot).hexdigest()


RATCHETS: dict[int, HeldRatchet] = {}


def new_ratchet(state: ratchet.State) -> dict:
    handle = next(HANDLES)
    RATCHETS[handle] = held = HeldRatchet(state, ratchet_snapshot.encode(state))
    return {"handle": handle, "snapshotDigest": held.digest()}


def held_ratchet(a: Args) -> HeldRatchet:
    held = RATCHETS.get(a.int("handle"))
    if held is None:
        raise Harness("unknown handle")
    return held


def commit(held: HeldRatchet, state: ratchet.State) -> str:
    """SHIM-07: keep the successor of a successful operation; its snapshot digest. A failed
    operation never gets here, so its handle keeps the state it had (RAT-08, ENV-09)."""
    held.state, held.snapshot = state, ratchet_snapshot.encode(state)
    return held.digest()


def op_ratchet_init(a: Args) -> dict:
    """Table 16-1: ``postQuantum`` true is the post-quantum ratchet (RAT-11), absent classic."""
    role = a.str("role")
    sk, ad, secret = a.bytes("sessionSecret"), a.bytes("associatedData"), a.bytes("responderRatchetSecret")
    pq = a.optional_bool("postQuantum")
    if role == "initiator":
        state = ratchet.init_initiator(sk, ad, keys.x25519_public(secret), pq)
    elif role == "responder":
        state = ratchet.init_responder(sk, ad, secret, pq)
    else:
        raise Harness(f"unknown role {role!r}")
    return new_ratchet(state)


def op_ratchet_encrypt(a: Args) -> dict:
    held = held_ratchet(a)
    with rng.ExactRandomness(a.bytes("randomness")) as randomness:
        message, state = ratchet.encrypt(held.state, a.bytes("plaintext"), randomness.draw)
    return {"message": message.hex(), "snapshotDigest": commit(held, state)}


def op_ratchet_encrypt_stream(a: Args) -> dict:
    held = held_ratchet(a)
    stream = rng.StreamRandomness(a.bytes("randomnessSeed"))
    state, messages = held.state, bytearray()
    for _ in range(a.int("count")):
        message, state = ratchet.encrypt(state, b"", stream.draw)
        messages += message
    return {"messages": messages.hex(), "snapshotDigest": commit(held, state)}


def op_ratchet_decrypt(a: Args) -> dict:
    held = held_ratchet(a)
    plaintext, state = ratchet.decrypt(held.state, a.bytes("message"))
    return {"plaintext": plaintext.hex(), "snapshotDigest": commit(held, state)}


def op_ratchet_decrypt_event(a: Args) -> dict:
    held = held_ratchet(a)
    content, _, state = session.open_blob(held.state, a.bytes("message"))
    return {"event": content.hex(), "snapshotDigest": commit(held, state)}


def op_ratchet_snapshot(a: Args) -> dict:
    held = held_ratchet(a)
    return {"snapshot": held.snapshot.hex(), "snapshotDigest": held.digest()}


def op_session_restore(a: Args) -> dict:
    s = session.restore_snapshot(a.bytes("sessionSnapshot"))
    return {
        "sessionSnapshot": session.encode_snapshot(s).hex(),
        "peerIdentity": None if s.peer_identity is None else s.peer_identity.hex(),
    }


OPS: dict[str, Callable[[Args], dict]] = {
    "cbor-decode": op_cbor_decode,
    "device-record-create": op_device_record_create,
    "device-record-verify": op_device_record_verify,
    "device-keys-load": op_device_keys_load,
    "device-list-create": op_device_list_create,
    "device-list-verify": op_device_list_verify,
    "safety-fingerprint": lambda a: {"fingerprint": safety.fingerprint(a.bytes("identityKey")).hex()},
    "safety-code": lambda a: {"code": safety.safety_code(a.bytes("identityKeyA"), a.bytes("identityKeyB"))},
    "safety-qr-create": lambda a: {"payload": safety.qr_payload(a.bytes("ownKey"), a.bytes("peerKey")).hex()},
    "safety-qr-verify": op_safety_qr_verify,
    "did-key-encode": lambda a: {"did": didkey.encode(a.bytes("key"))},
    "did-key-decode": lambda a: {"key": didkey.decode(a.str("did")).hex()},
    "invite-create": op_invite_create,
    "invite-verify": op_invite_verify,
    "invite-encode": lambda a: {
        "link": invite.encode_link(a.bytes("invite"), a.str("base")),
        "qr": invite.encode_qr(a.bytes("invite")).hex(),
    },
    "invite-link-parse": lambda a: {
        "invite": invite.parse_link(a.str("link"), a.int("now"), a.ints("allowedSuites")).encoded.hex()
    },
    "invite-qr-parse": lambda a: {
        "invite": invite.parse_qr(a.bytes("qr"), a.int("now"), a.ints("allowedSuites")).encoded.hex()
    },
    "hpke-seal": op_hpke_seal,
    "hpke-open": op_hpke_open,
    "envelope-bucket": lambda a: {"bucket": envelope.bucket(a.int("length"))},
    "envelope-pad": lambda a: {"padded": envelope.pad(a.bytes("content"), a.int("overhead")).hex()},
    "envelope-unpad": lambda a: {"content": envelope.unpad(a.bytes("padded")).hex()},
    "envelope-receive": lambda a: {"blob": envelope.receive_envelope(a.bytes("envelope"), a.bytes("mailbox")).blob.hex()},
    "envelope-decode": op_envelope_decode,
    "event-decode": op_event_decode,
    "event-device-record": op_event_device_record,
    "mailbox-prove": op_mailbox_prove,
    "mailbox-verify": op_mailbox_verify,
    "mailbox-origin": op_mailbox_origin,
    "handshake-initiate": op_handshake_initiate,
    "handshake-listen": op_handshake_listen,
    "handshake-accept": op_handshake_accept,
    "reconnect-seal": op_reconnect_seal,
    "reconnect-open": op_reconnect_open,
    "ratchet-init": op_ratchet_init,
    "ratchet-restore": lambda a: new_ratchet(ratchet_snapshot.restore(a.bytes("snapshot"))),
    "ratchet-encrypt": op_ratchet_encrypt,
    "ratchet-encrypt-stream": op_ratchet_encrypt_stream,
    "ratchet-decrypt": op_ratchet_decrypt,
    "ratchet-decrypt-event": op_ratchet_decrypt_event,
    "ratchet-snapshot": op_ratchet_snapshot,
    "session-restore": op_session_restore,
    "xbk-confirm-seal": op_xbk_confirm_seal,
    "xbk-confirm-open": op_xbk_confirm_open,
}

FEATURES = sorted({OP_FEATURES[op] for op in OPS})


def capabilities(_: Args) -> dict:
    return {
        "name": NAME,
        "version": VERSION,
        "protocol": PROTOCOL,
        "suites": [1, 2],
        "features": FEATURES,
        # Nothing is declared optional here: the runner's configuration says which missing
        # features are acceptable (config.toml), so a shim cannot excuse itself.
        "optional": [],
    }


def answer(request: Any) -> dict:
    if not isinstance(request, dict):
        return {"id": None, "result": "error", "class": "harness.request: not an object"}
    rid = request.get("id")
    op = request.get("op")
    try:
        args = Args(request.get("args"))
        if op == "capabilities":
            return {"id": rid, "result": "ok", "value": capabilities(args)}
        handler = OPS.get(op) if isinstance(op, str) else None
        if handler is None:
            feature = OP_FEATURES.get(op, f"op:{op}") if isinstance(op, str) else "op:?"
            return {"id": rid, "result": "unimplemented", "feature": feature}
        value = handler(args)
        return {"id": rid, "result": "ok", "value": value if isinstance(value, dict) else {}}
    except QuietwireError as e:
        return {"id": rid, "result": "error", "class": e.error_class}
    except Unimplemented as e:
        return {"id": rid, "result": "unimplemented", "feature": str(e)}
    except Harness as e:
        return {"id": rid, "result": "error", "class": f"harness.args: {e}"}
    except (hpke.RandomnessLength, rng.RandomnessMismatch) as e:  # SHIM-06: randomness not consumed exactly
        return {"id": rid, "result": "error", "class": f"harness.randomness: {e}"}
    except Exception as e:  # a bug of the implementation: reported, never a pass
        return {"id": rid, "result": "error", "class": f"harness.exception: {type(e).__name__}: {e}"}


def main() -> int:
    out = sys.stdout
    # Nothing but replies may reach stdout: anything the library prints goes to stderr.
    sys.stdout = sys.stderr
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError as e:
            reply = {"id": None, "result": "error", "class": f"harness.request: not JSON: {e}"}
        else:
            reply = answer(request)
        out.write(json.dumps(reply, separators=(",", ":")) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
