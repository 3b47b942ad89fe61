"""Structure layer of spec/01-encoding.md §1.5 (ENC-11 .. ENC-14).

Helpers shared by every structure: the top-level map checks (version, unknown keys), typed
field access in the order of ENC-13, and the outer ``[body, signature]`` array of signed
structures.
"""

from __future__ import annotations

from typing import Any, Iterable

from . import cbor
from .errors import QuietwireError


def check_top_level_map(item: Any, defined_keys: Iterable[int]) -> dict[int, Any]:
    """ENC-13 steps 1 and 2: map, version 1 (ENC-11), then unknown critical keys (ENC-12)."""
    check_version(item, (1,))
    check_unknown_keys(item, defined_keys)
    return item


def check_version(item: Any, versions: Iterable[int]) -> int:
    """ENC-13 step 1: a map whose key 1 is one of ``versions`` (ENC-11); the version."""
    if not isinstance(item, dict):
        raise QuietwireError("schema.wrong_type", "top-level item is not a map")
    if 1 not in item:
        raise QuietwireError("schema.missing_field", "version (key 1)")
    version = item[1]
    if not cbor.is_uint(version):
        raise QuietwireError("schema.wrong_type", "version is not an unsigned integer")
    if version not in versions:
        raise QuietwireError("schema.version", f"version {version}")
    return version


def check_unknown_keys(item: dict[int, Any], defined_keys: Iterable[int]) -> None:
    """ENC-13 step 2: a non-negative key other than 1 and ``defined_keys`` is an unknown
    critical key (ENC-12)."""
    defined = set(defined_keys) | {1}
    for k in item:
        if k >= 0 and k not in defined:
            raise QuietwireError("schema.unknown_critical", f"key {k}")


def extensions(item: dict[int, Any]) -> dict[int, Any]:
    """The non-critical extension fields (negative keys), as received."""
    return {k: v for k, v in item.items() if k < 0}


def field_uint(m: dict[int, Any], key: int, name: str) -> int:
    if key not in m:
        raise QuietwireError("schema.missing_field", name)
    v = m[key]
    if not cbor.is_uint(v):
        raise QuietwireError("schema.wrong_type", f"{name} is not an unsigned integer")
    return v


def field_bool(m: dict[int, Any], key: int, name: str) -> bool:
    if key not in m:
        raise QuietwireError("schema.missing_field", name)
    v = m[key]
    if not cbor.is_bool(v):
        raise QuietwireError("schema.wrong_type", f"{name} is not a boolean")
    return v


def field_bstr(m: dict[int, Any], key: int, name: str, length: int | None = None) -> bytes:
    if key not in m:
        raise QuietwireError("schema.missing_field", name)
    v = m[key]
    if not isinstance(v, bytes):
        raise QuietwireError("schema.wrong_type", f"{name} is not a byte string")
    if length is not None and len(v) != length:
        raise QuietwireError("schema.length", f"{name} is {len(v)} bytes, not {length}")
    return v


def field_array(m: dict[int, Any], key: int, name: str) -> list[Any]:
    if key not in m:
        raise QuietwireError("schema.missing_field", name)
    v = m[key]
    if not isinstance(v, list):
        raise QuietwireError("schema.wrong_type", f"{name} is not an array")
    return v


def decode_signed(data: bytes, limits: cbor.Limits) -> tuple[bytes, bytes, Any]:
    """ENC-14 steps 1 to 3: returns ``(body_bytes, signature, decoded_body_item)``."""
    outer = cbor.decode(data, limits)
    if not isinstance(outer, list):
        raise QuietwireError("schema.wrong_type", "signed structure is not an array")
    if len(outer) != 2:
        raise QuietwireError("schema.length", f"signed structure has {len(outer)} items")
    body, sig = outer
    if not isinstance(body, bytes) or not isinstance(sig, bytes):
        raise QuietwireError("schema.wrong_type", "body or signature is not a byte string")
    if len(sig) != 64:
        raise QuietwireError("schema.length", f"signature is {len(sig)} bytes")
    item = cbor.decode(body, limits)
    return body, sig, item


def encode_signed(body: bytes, signature: bytes) -> bytes:
    return cbor.encode([body, signature])
