"""did:key of Ed25519 identity keys, spec/03-identity.md §3.5 (DID-01, DID-02)."""

from __future__ import annotations

from . import keys
from .errors import QuietwireError

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
PREFIX = "did:key:"
MULTICODEC_ED25519_PUB = b"\xed\x01"
MAX_LEN = 128


def base58_encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\x00"))
    n = int.from_bytes(data[zeros:], "big") if len(data) > zeros else 0
    digits = []
    while n > 0:
        n, r = divmod(n, 58)
        digits.append(ALPHABET[r])
    return "1" * zeros + "".join(reversed(digits))


def base58_decode(text: str) -> bytes:
    """Each leading '1' is one 0x00 byte; the rest is the minimal big-endian value.

    Raises ``KeyError`` for a character outside the alphabet."""
    zeros = len(text) - len(text.lstrip("1"))
    n = 0
    for c in text[zeros:]:
        n = n * 58 + _INDEX[c]
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\x00" * zeros + body


def encode(identity_key: bytes) -> str:
    """DID-01."""
    if len(identity_key) != 32:
        raise ValueError("identity key must be 32 bytes")
    return PREFIX + "z" + base58_encode(MULTICODEC_ED25519_PUB + bytes(identity_key))


def decode(did: str) -> bytes:
    """DID-02 steps 1 to 7; returns the 32-byte identity key."""
    raw = did.encode("utf-8", errors="surrogatepass")
    if len(raw) > MAX_LEN:  # 1
        raise QuietwireError("didkey.length", f"{len(raw)} bytes")
    if not raw.startswith(PREFIX.encode()):  # 2
        raise QuietwireError("didkey.scheme")
    rest = did[len(PREFIX) :]
    if not rest.startswith("z"):  # 3
        raise QuietwireError("didkey.multibase")
    e = rest[1:]
    if not e or any(c not in _INDEX for c in e):  # 4
        raise QuietwireError("didkey.base58")
    decoded = base58_decode(e)
    if base58_encode(decoded) != e:
        raise QuietwireError("didkey.base58", "not canonical")
    if len(decoded) != 34:  # 5
        raise QuietwireError("didkey.length", f"{len(decoded)} decoded bytes")
    if decoded[:2] != MULTICODEC_ED25519_PUB:  # 6
        raise QuietwireError("didkey.multicodec", decoded[:2].hex())
    key = decoded[2:]
    keys.check_ed25519_public_key(key)  # 7
    return key
