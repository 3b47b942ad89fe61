"""Safety codes of spec/03-identity.md §3.4 (SAF-01 .. SAF-04)."""

from __future__ import annotations

import hashlib
import hmac

from . import cbor, keys, structure
from .errors import QuietwireError

ITERATIONS = 5200
MAGIC = b"QWS1"
MAX_PAYLOAD = 256


def fingerprint(identity_key: bytes) -> bytes:
    """SAF-01: h_0 over the labeled input, then 5200 iterations of SHA-512(h ‖ K)."""
    k = bytes(identity_key)
    h = hashlib.sha512(keys.labeled_input(keys.LABEL_SAFETY_CODE, k)).digest()
    for _ in range(ITERATIONS):
        h = hashlib.sha512(h + k).digest()
    return h


def half(fp: bytes) -> str:
    """SAF-02: 7 groups of 5 digits from F(K)[0..35]."""
    return "".join(
        f"{int.from_bytes(fp[5 * j : 5 * j + 5], 'big') % 100000:05d}" for j in range(7)
    )


def safety_code(key_a: bytes, key_b: bytes) -> str:
    """SAF-02: the two halves sorted as ASCII strings, 14 groups separated by spaces."""
    ha, hb = half(fingerprint(key_a)), half(fingerprint(key_b))
    digits = "".join(sorted([ha, hb]))
    return " ".join(digits[i : i + 5] for i in range(0, 70, 5))


def qr_payload(own_key: bytes, peer_key: bytes) -> bytes:
    """SAF-03: the payload shown by the device with ``own_key`` to verify ``peer_key``."""
    return MAGIC + cbor.encode(
        {1: 1, 2: fingerprint(own_key)[:32], 3: fingerprint(peer_key)[:32]}
    )


def decode_qr(payload: bytes) -> tuple[bytes, bytes]:
    """SAF-03 scanner steps 1 to 4; returns ``(shower, peer)``."""
    payload = bytes(payload)
    if len(payload) > MAX_PAYLOAD:
        raise QuietwireError("cbor.limit.input", f"{len(payload)}-byte safety QR payload")
    if payload[:4] != MAGIC:
        raise QuietwireError("qr.magic")
    m = cbor.decode(payload[4:], cbor.GENERIC_LIMITS)
    structure.check_top_level_map(m, (1, 2, 3))
    shower = structure.field_bstr(m, 2, "shower", 32)
    peer = structure.field_bstr(m, 3, "peer", 32)
    return shower, peer


def verify_qr(payload: bytes, own_key: bytes, peer_key: bytes) -> None:
    """SAF-04: the scanner ``own_key`` checks a payload shown by its contact ``peer_key``."""
    shower, peer = decode_qr(payload)
    expected = fingerprint(peer_key)[:32] + fingerprint(own_key)[:32]
    if not hmac.compare_digest(shower + peer, expected):
        raise QuietwireError("safety.mismatch")
