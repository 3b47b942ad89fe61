"""Deterministic CBOR of spec/01-encoding.md (ENC-01 .. ENC-10).

Data model (Python values):

* integer -> ``int`` (never ``bool``)
* byte string -> ``bytes``
* text string -> ``str``
* ``false`` / ``true`` -> ``bool``
* array -> ``list``
* map -> ``dict`` with ``int`` keys, in the received (canonical) order

Note that ``bool`` is a subclass of ``int`` in Python: use :func:`is_int` / :func:`is_uint`
to test for CBOR integers.

The decoder is a single pass following the check order of ENC-09 exactly; it never
allocates for a string or container before the limits and the remaining input allow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import QuietwireError

UINT64_MAX = (1 << 64) - 1


# ENC-08: the deepest nesting any decoder accepts, whatever the caller's limit says.
MAX_DEPTH = 64

@dataclass(frozen=True)
class Limits:
    """Decoding limits of ENC-08 (bytes, nesting levels, bytes, items/pairs)."""

    max_input: int = 65536
    max_depth: int = 16
    max_string: int = 65536
    max_items: int = 1024


GENERIC_LIMITS = Limits()
# IDN-04, INV-09: signed device records and signed invites (outer item and body).
SIGNED_STRUCTURE_LIMITS = Limits(max_input=4096)


def is_int(v: Any) -> bool:
    """True for a CBOR integer (major type 0 or 1), false for booleans."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_uint(v: Any) -> bool:
    return is_int(v) and v >= 0


def is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _err(cls: str, detail: str = "") -> QuietwireError:
    return QuietwireError(cls, detail)


# ---------------------------------------------------------------------------
# Encoding (ENC-01, ENC-02, ENC-04)


def _head(mt: int, v: int) -> bytes:
    if v < 0 or v > UINT64_MAX:
        raise ValueError("head argument out of range")
    if v < 24:
        return bytes([(mt << 5) | v])
    if v <= 0xFF:
        return bytes([(mt << 5) | 24, v])
    if v <= 0xFFFF:
        return bytes([(mt << 5) | 25]) + v.to_bytes(2, "big")
    if v <= 0xFFFFFFFF:
        return bytes([(mt << 5) | 26]) + v.to_bytes(4, "big")
    return bytes([(mt << 5) | 27]) + v.to_bytes(8, "big")


def encode(value: Any) -> bytes:
    """Deterministic encoding of a value of the data model (ENC-01)."""
    out = bytearray()
    _encode_into(value, out)
    return bytes(out)


def _encode_into(v: Any, out: bytearray) -> None:
    if isinstance(v, bool):
        out.append(0xF5 if v else 0xF4)
    elif isinstance(v, int):
        if v >= 0:
            out += _head(0, v)
        else:
            out += _head(1, -1 - v)
    elif isinstance(v, (bytes, bytearray, memoryview)):
        b = bytes(v)
        out += _head(2, len(b))
        out += b
    elif isinstance(v, str):
        b = v.encode("utf-8")  # raises for lone surrogates: not representable
        out += _head(3, len(b))
        out += b
    elif isinstance(v, (list, tuple)):
        out += _head(4, len(v))
        for item in v:
            _encode_into(item, out)
    elif isinstance(v, dict):
        pairs = []
        for k, item in v.items():
            if not is_int(k):
                raise ValueError("map keys must be integers (ENC-04)")
            pairs.append((encode(k), item))
        pairs.sort(key=lambda p: p[0])
        for i in range(1, len(pairs)):
            if pairs[i][0] == pairs[i - 1][0]:
                raise ValueError("duplicate map key")
        out += _head(5, len(pairs))
        for kb, item in pairs:
            out += kb
            _encode_into(item, out)
    else:
        raise TypeError(f"value outside the Quietwire CBOR data model: {type(v).__name__}")


# ---------------------------------------------------------------------------
# Decoding (ENC-07 .. ENC-09)


class _Decoder:
    __slots__ = ("data", "pos", "limits")

    def __init__(self, data: bytes, limits: Limits) -> None:
        self.data = data
        self.pos = 0
        self.limits = limits

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def item(self, d: int) -> Any:
        data = self.data
        # step 1
        if self.pos >= len(data):
            raise _err("cbor.truncated", "no initial byte")
        start = self.pos
        b = data[self.pos]
        self.pos += 1
        mt, ai = b >> 5, b & 0x1F
        # step 2
        if ai in (28, 29, 30):
            raise _err("cbor.malformed.additional_info", f"ai={ai} at offset {start}")
        # step 3
        if ai == 31:
            if mt in (2, 3, 4, 5):
                raise _err("cbor.noncanonical.indefinite", f"offset {start}")
            if mt == 7:
                raise _err("cbor.malformed.break", f"offset {start}")
            raise _err("cbor.malformed.additional_info", f"ai=31 on major type {mt}")
        # step 4
        if mt == 7:
            if ai == 20:
                return False
            if ai == 21:
                return True
            if ai in (25, 26, 27):
                raise _err("cbor.unsupported.float", f"offset {start}")
            raise _err("cbor.unsupported.simple", f"offset {start}")
        # step 5
        if mt == 6:
            raise _err("cbor.unsupported.tag", f"offset {start}")
        # step 6
        if ai < 24:
            v = ai
        else:
            n = {24: 1, 25: 2, 26: 4, 27: 8}[ai]
            if self.remaining() < n:
                raise _err("cbor.truncated", "argument bytes missing")
            v = int.from_bytes(data[self.pos : self.pos + n], "big")
            self.pos += n
            if (
                (ai == 24 and v < 24)
                or (ai == 25 and v <= 0xFF)
                or (ai == 26 and v <= 0xFFFF)
                or (ai == 27 and v <= 0xFFFFFFFF)
            ):
                raise _err("cbor.noncanonical.integer", f"offset {start}")
        # step 7
        if mt == 0:
            return v
        if mt == 1:
            return -1 - v
        lim = self.limits
        # step 8
        if mt in (2, 3):
            if v > lim.max_string:
                raise _err("cbor.limit.size", f"string of {v} bytes")
            if v > self.remaining():
                raise _err("cbor.truncated", "string content missing")
            content = bytes(data[self.pos : self.pos + v])
            self.pos += v
            if mt == 2:
                return content
            try:
                return content.decode("utf-8", errors="strict")
            except UnicodeDecodeError as e:
                raise _err("cbor.malformed.utf8", str(e)) from None
        # step 9 (mt 4 or 5)
        # ENC-08 step 2: a max_depth above 64 acts as 64 (MAX_DEPTH).
        if d > min(lim.max_depth, MAX_DEPTH):
            raise _err("cbor.limit.depth", f"container at depth {d}")
        if v > lim.max_items:
            raise _err("cbor.limit.size", f"count {v}")
        if (mt == 4 and v > self.remaining()) or (mt == 5 and 2 * v > self.remaining()):
            raise _err("cbor.truncated", "container cannot fit in the remaining input")
        if mt == 4:
            return [self.item(d + 1) for _ in range(v)]
        result: dict[int, Any] = {}
        prev: bytes | None = None
        for _ in range(v):
            kstart = self.pos
            key = self.item(d + 1)
            if not is_int(key):
                raise _err("cbor.unsupported.key_type", f"offset {kstart}")
            kenc = bytes(data[kstart : self.pos])
            if prev is not None:
                if kenc == prev:
                    raise _err("cbor.noncanonical.duplicate_key", f"key {key}")
                if kenc < prev:
                    raise _err("cbor.noncanonical.key_order", f"key {key}")
            prev = kenc
            result[key] = self.item(d + 1)
        return result


def decode(data: bytes, limits: Limits = GENERIC_LIMITS) -> Any:
    """Decode exactly one deterministic item (ENC-09 ``decode``)."""
    data = bytes(data)
    if len(data) > limits.max_input:
        raise _err("cbor.limit.input", f"{len(data)} > {limits.max_input}")
    dec = _Decoder(data, limits)
    value = dec.item(1)
    if dec.pos != len(data):
        raise _err("cbor.trailing", f"{len(data) - dec.pos} bytes after the item")
    return value


# ---------------------------------------------------------------------------
# Diagnostic notation (RFC 8949 §8), as used by the vectors' `diagnostic` field.


_DIAG_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _diag_char(c: str) -> str:
    """One character of a text string in diagnostic notation (15-test-vectors.md): `"` and
    `\\` and the five short escapes, `\\u00xx` (lowercase) for every other code point below
    U+0020, everything else (U+007F and non-ASCII included) as itself."""
    if c in _DIAG_SHORT:
        return _DIAG_SHORT[c]
    if ord(c) < 0x20:
        return "\\u%04x" % ord(c)
    return c


def diagnostic(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, bytes):
        return "h'" + v.hex() + "'"
    if isinstance(v, str):
        return '"' + "".join(_diag_char(c) for c in v) + '"'
    if isinstance(v, list):
        return "[" + ", ".join(diagnostic(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{diagnostic(k)}: {diagnostic(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v).__name__)


# ---------------------------------------------------------------------------
# Labeled inputs (SUI-03)


def labeled_input(label: str, *context: bytes) -> bytes:
    """``CBOR([label, c1, ..., cn])`` with each context item a byte string (SUI-03)."""
    return encode([label, *[bytes(c) for c in context]])
