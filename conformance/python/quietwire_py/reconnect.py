"""Reconnecting after a restore (spec/05-handshake.md §5.8, HSK-07 and HSK-08): the restored
device seals a fresh invite and its new device record to a contact's device KEM key; the
contact opens it and checks both against the identity it holds for the mailbox.
"""

from __future__ import annotations

import hashlib

from dataclasses import dataclass
from typing import Iterable

from . import cbor, envelope, hpke, identity, invite, keys, structure
from .errors import QuietwireError

LABEL_INFO = "quietwire/v1/reconnect-info"
MAX_PAYLOAD = 2 * 4096 + 64  # 8256, HSK-07
PAYLOAD_LIMITS = cbor.Limits(max_input=MAX_PAYLOAD)
TAG_LEN = 16


@dataclass
class Reconnected:
    invite: invite.Invite
    record: identity.DeviceRecord
    payload: bytes


def seal(contact_record: bytes, invite_bytes: bytes, record_bytes: bytes, randomness: bytes) -> bytes:
    """HSK-07 steps 2 and 3. The inputs are what a sender holds: the contact's verified record,
    its own invite and record (parsed with every suite allowed; the invite at time 0)."""
    contact = identity.verify_device_record(contact_record)
    inv = invite.verify_invite(invite_bytes, 0)
    rec = identity.verify_device_record(record_bytes)
    if inv.identity_key != rec.identity_key:
        raise QuietwireError("handshake.identity", "invite and record of different identities")
    if inv.suite != contact.suite or rec.suite != contact.suite:
        raise QuietwireError("handshake.suite", f"contact suite {contact.suite}")
    payload = cbor.encode({1: 1, 2: bytes(invite_bytes), 3: bytes(record_bytes)})
    info = keys.labeled_input(LABEL_INFO, contact.identity_key)
    enc, ctx = hpke.setup_base_s(contact.suite, contact.kem_key, info, randomness)
    padded = envelope.pad(payload, len(enc) + TAG_LEN)
    return enc + ctx.seal(b"", padded)


def open_(
    suite_id: int,
    identity_seed: bytes,
    kem_seed: bytes,
    message: bytes,
    expected_identity: bytes,
    now: int,
    allowed_suites: Iterable[int] = keys.DEFAULT_ALLOWED_SUITES,
    held_generation: int = 0,
    accepted_invites: Iterable[bytes] = (),
) -> Reconnected:
    """HSK-08 checks 1 to 9, in order, with the contact's device keys from seeds, the
    generation of the record held for the contact and the SHA-256 of the invites already
    accepted through its reconnects (HSK-10)."""
    allowed = list(allowed_suites)
    enc_len = hpke.ENC_LEN[suite_id]
    # 1
    if not envelope.is_bucket(len(message)) or len(message) <= enc_len + TAG_LEN:
        raise QuietwireError("handshake.format", f"message of {len(message)} bytes")
    # 2
    _, own_identity = keys.ed25519_keypair(identity_seed)
    key = hpke.derive_recipient(suite_id, kem_seed)
    enc, ct = bytes(message[:enc_len]), bytes(message[enc_len:])
    ctx = hpke.setup_base_r(suite_id, enc, key, keys.labeled_input(LABEL_INFO, own_identity))
    payload = envelope.unpad(ctx.open(b"", ct))
    # 3
    m = cbor.decode(payload, PAYLOAD_LIMITS)
    structure.check_top_level_map(m, (2, 3))
    invite_bytes = structure.field_bstr(m, 2, "invite")
    record_bytes = structure.field_bstr(m, 3, "device record")
    # 4, 5
    inv = invite.verify_invite(invite_bytes, now, allowed)
    rec = identity.verify_device_record(record_bytes, allowed)
    # 6
    if inv.suite != suite_id or rec.suite != suite_id:
        raise QuietwireError("handshake.suite", f"invite {inv.suite}, record {rec.suite}, device {suite_id}")
    # 7
    if inv.identity_key != expected_identity or rec.identity_key != expected_identity:
        raise QuietwireError("handshake.identity", "not the identity held for the mailbox")
    # 8
    if hashlib.sha256(bytes(invite_bytes)).digest() in {bytes(h) for h in accepted_invites}:
        raise QuietwireError("handshake.replay", "invite already accepted through a reconnect")
    # 9
    if rec.generation <= held_generation:
        raise QuietwireError("handshake.generation", f"generation {rec.generation} <= held {held_generation}")
    return Reconnected(inv, rec, bytes(payload))
