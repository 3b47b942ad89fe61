"""Sessions of spec/07-envelope.md §7.7: the session snapshot (ENV-08), which wraps the ratchet
snapshot of spec/06-ratchet.md RAT-10, and opening a blob of one's own mailbox as one
operation (ENV-09).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import cbor, envelope, event, keys, ratchet, ratchet_snapshot, structure
from .errors import QuietwireError

VERSION = 1
MAX_SESSION_SNAPSHOT = ratchet_snapshot.MAX_SNAPSHOT + 128  # 401152 bytes
# ENV-08 step 1: the map only, whose byte string of key 2 holds a whole ratchet snapshot.
LIMITS = cbor.Limits(
    max_input=MAX_SESSION_SNAPSHOT, max_depth=1, max_string=ratchet_snapshot.MAX_SNAPSHOT, max_items=8
)


@dataclass(frozen=True)
class Session:
    """A ratchet with the peer's mailbox and, when known, the peer's identity key."""

    ratchet: ratchet.State
    peer_mailbox: bytes
    peer_identity: bytes | None


def encode_snapshot(session: Session) -> bytes:
    """ENV-08: keys 1, 2 and 3, and key 4 exactly when the peer's identity key is known."""
    m: dict[int, Any] = {1: VERSION, 2: ratchet_snapshot.encode(session.ratchet), 3: session.peer_mailbox}
    if session.peer_identity is not None:
        m[4] = session.peer_identity
    return cbor.encode(m)


def restore_snapshot(data: bytes) -> Session:
    """ENV-08: restore a session snapshot, checks 1 to 6 in order."""
    m = cbor.decode(data, LIMITS)  # 1
    structure.check_top_level_map(m, (2, 3, 4))  # 2, 3 (non-negative keys)
    for k in m:  # 3: closed, no extension keys
        if k < 0:
            raise QuietwireError("schema.unknown_critical", f"key {k}")
    inner = structure.field_bstr(m, 2, "ratchet snapshot")  # 4
    mailbox = structure.field_bstr(m, 3, "peer mailbox", envelope.MAILBOX_LEN)
    identity = structure.field_bstr(m, 4, "peer identity key", 32) if 4 in m else None
    state = ratchet_snapshot.restore(inner)  # 5
    if identity is not None:  # 6
        keys.check_ed25519_public_key(identity)
    return Session(state, mailbox, identity)


def open_blob(state: ratchet.State, blob: bytes) -> tuple[bytes, event.Event, ratchet.State]:
    """ENV-09: decrypt (RAT-05), unpad (ENV-03), decode the event (ENV-04); the first step
    that fails gives the class. Returns the event's encoding, the event and the ratchet's
    successor state, which the caller commits: on any failure ``state`` stays as it was."""
    padded, successor = ratchet.decrypt(state, blob)
    content = envelope.unpad(padded)
    return content, event.decode_event(content), successor
