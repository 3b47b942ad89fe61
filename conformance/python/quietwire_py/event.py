"""Events of spec/07-envelope.md §7.6 (ENV-04, ENV-05) and the event-kind registry of
spec/14-registries.md §14.4.

Check order (ENV-04): the event map per ENC-11 .. ENC-13 (keys 2 to 5 in key order), then kind
0 (``event.kind``), then the kind: a registered kind's body by ENV-05, an unregistered critical
kind ``event.unknown_critical``, an unregistered non-critical kind accepted and ignored.

Each body map (ENV-05) is closed and checked like a top-level map without a version: first
any key not defined for it, negative ones included (``schema.unknown_critical``), then the defined fields in ascending key order (presence, type, length), then the
contents of array fields. The spec says "checked in key order with the classes of ENC-13"; that
unknown keys come first (ENC-13 step 2) is the reading taken here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import cbor, invite, structure
from .errors import QuietwireError

# ENV-04 limits
LIMITS = cbor.Limits(max_input=65439, max_depth=6, max_string=65439, max_items=256)

KIND_NAMES = {
    1: "text",
    2: "attachment",
    3: "call-offer",
    4: "call-answer",
    5: "call-candidate",
    6: "call-hangup",
    7: "profile-update",
    8: "receipt-delivered",
    9: "receipt-read",
    10: "mailbox-announcement",
    11: "wake-up",
    12: "session-reset",
    13: "device-record",
}

MAX_DISPLAY_NAME = 256
MAX_DEVICE_RECORD = 4096
MAX_LOCATOR = 2048
MAX_MEDIA_TYPE = 255
MAX_RECEIPT_IDS = 256


@dataclass
class Event:
    kind: int
    message_id: bytes
    critical: bool
    known: bool
    body: Any
    extensions: dict[int, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Field helpers (ENC-13 classes)


def _map(v: Any, name: str) -> dict[int, Any]:
    if not isinstance(v, dict):
        raise QuietwireError("schema.wrong_type", f"{name} is not a map")
    return v


def _unknown_keys(m: dict[int, Any], defined: set[int], name: str) -> None:
    for k in m:
        if k < 0 or k not in defined:
            raise QuietwireError("schema.unknown_critical", f"{name} key {k}")


def _get(m: dict[int, Any], k: int, name: str, optional: bool) -> Any:
    if k not in m:
        if optional:
            return None
        raise QuietwireError("schema.missing_field", name)
    return m[k]


def _bstr(m: dict[int, Any], k: int, name: str, size: int | None = None, optional: bool = False):
    v = _get(m, k, name, optional)
    if v is None:
        return None
    if not isinstance(v, bytes):
        raise QuietwireError("schema.wrong_type", f"{name} is not a byte string")
    if size is not None and len(v) != size:
        raise QuietwireError("schema.length", f"{name} is {len(v)} bytes, not {size}")
    return v


def _tstr(m: dict[int, Any], k: int, name: str, max_bytes: int | None = None, optional: bool = False):
    v = _get(m, k, name, optional)
    if v is None:
        return None
    if not isinstance(v, str):
        raise QuietwireError("schema.wrong_type", f"{name} is not a text string")
    if max_bytes is not None and len(v.encode("utf-8")) > max_bytes:
        raise QuietwireError("schema.length", f"{name} over {max_bytes} bytes")
    return v


def _uint(m: dict[int, Any], k: int, name: str) -> int:
    v = _get(m, k, name, False)
    if not cbor.is_uint(v):
        raise QuietwireError("schema.wrong_type", f"{name} is not an unsigned integer")
    return v


def _bool(m: dict[int, Any], k: int, name: str) -> bool:
    v = _get(m, k, name, False)
    if not cbor.is_bool(v):
        raise QuietwireError("schema.wrong_type", f"{name} is not a boolean")
    return v


def _array(m: dict[int, Any], k: int, name: str) -> list[Any]:
    v = _get(m, k, name, False)
    if not isinstance(v, list):
        raise QuietwireError("schema.wrong_type", f"{name} is not an array")
    return v


# ---------------------------------------------------------------------------
# Bodies (ENV-05)


def _attachment_ref(v: Any, name: str, thumbnail: bool = False) -> dict[int, Any]:
    m = _map(v, name)
    _unknown_keys(m, {1, 2, 3, 4} if thumbnail else {1, 2, 3, 4, 5, 6}, name)
    _tstr(m, 1, f"{name} locator", MAX_LOCATOR)
    _bstr(m, 2, f"{name} key", 32)
    _bstr(m, 3, f"{name} digest", 32)
    _uint(m, 4, f"{name} size")
    if not thumbnail:
        _tstr(m, 5, f"{name} media type", MAX_MEDIA_TYPE)
        if 6 in m:
            _attachment_ref(m[6], f"{name} thumbnail", thumbnail=True)
    return m


def _call(m: dict[int, Any]) -> None:
    _unknown_keys(m, {1, 2}, "call body")
    _bstr(m, 1, "call id", 16)
    _bstr(m, 2, "payload")


def _receipt(m: dict[int, Any]) -> None:
    _unknown_keys(m, {1}, "receipt body")
    ids = _array(m, 1, "message ids")
    if not 1 <= len(ids) <= MAX_RECEIPT_IDS:
        raise QuietwireError("schema.length", f"{len(ids)} message ids")
    for i in ids:
        if not isinstance(i, bytes):
            raise QuietwireError("schema.wrong_type", "message id is not a byte string")
        if len(i) != 16:
            raise QuietwireError("schema.length", f"message id of {len(i)} bytes")


def check_body(kind: int, body: Any) -> None:
    m = _map(body, "body")
    if kind == 1:
        _unknown_keys(m, {1, 2}, "text body")
        _tstr(m, 1, "text")
        _bstr(m, 2, "reply-to", 16, optional=True)
    elif kind == 2:
        _attachment_ref(m, "attachment")
    elif kind in (3, 4, 5):
        _call(m)
    elif kind == 6:
        _unknown_keys(m, {1, 2}, "hangup body")
        _bstr(m, 1, "call id", 16)
        _uint(m, 2, "reason")
    elif kind == 7:
        _unknown_keys(m, {1, 2}, "profile body")
        _tstr(m, 1, "display name", MAX_DISPLAY_NAME, optional=True)
        if 2 in m:
            _attachment_ref(m[2], "avatar")
    elif kind in (8, 9):
        _receipt(m)
    elif kind == 10:
        _unknown_keys(m, {1, 2, 3}, "announcement body")
        _bstr(m, 1, "mailbox", 32)
        # ENV-05: a body's array is checked completely before the body's next key.
        hints = _array(m, 2, "relay hints")
        if not invite.MIN_HINTS <= len(hints) <= invite.MAX_HINTS:
            raise QuietwireError("schema.length", f"{len(hints)} relay hints")
        for h in hints:
            if not isinstance(h, str):
                raise QuietwireError("schema.wrong_type", "relay hint is not a text string")
        for h in hints:
            invite.check_relay_hint(h)
        _uint(m, 3, "valid from")
    elif kind == 11:
        _unknown_keys(m, set(), "wake-up body")
    elif kind == 12:
        _unknown_keys(m, {1}, "session-reset body")
        _uint(m, 1, "reason")
    elif kind == 13:
        _unknown_keys(m, {1}, "device-record body")
        record = _bstr(m, 1, "device record")
        if not 1 <= len(record) <= MAX_DEVICE_RECORD:
            raise QuietwireError("schema.length", f"device record of {len(record)} bytes")
    else:  # pragma: no cover
        raise AssertionError(kind)


def decode_event(data: bytes) -> Event:
    """ENV-04 / ENV-05 receive checks."""
    m = cbor.decode(data, LIMITS)
    structure.check_top_level_map(m, (2, 3, 4, 5))
    kind = _uint(m, 2, "kind")
    message_id = _bstr(m, 3, "message id", 16)
    critical = _bool(m, 4, "critical")
    body = _get(m, 5, "body", False)
    if kind == 0:
        raise QuietwireError("event.kind")
    known = kind in KIND_NAMES
    if known:
        check_body(kind, body)
    elif critical:
        raise QuietwireError("event.unknown_critical", f"kind {kind}")
    return Event(kind, message_id, critical, known, body, structure.extensions(m))


def encode_event(kind: int, message_id: bytes, body: Any, critical: bool = False) -> bytes:
    if kind == 0 or len(message_id) != 16:
        raise ValueError("kind 0 is reserved; the message id is 16 bytes")
    return cbor.encode({1: 1, 2: kind, 3: bytes(message_id), 4: bool(critical), 5: body})
