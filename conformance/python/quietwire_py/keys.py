"""Suites, labels and public-key checks of spec/02-suites-and-labels.md (SUI-01 .. SUI-07).

Ed25519 point arithmetic is done here in pure Python (integers modulo p) because the checks
of SUI-04 and the strict verification of SUI-05 need access to decoding, small-order tests
and the cofactorless equation, which ``cryptography`` does not expose. Key *generation* and
*signing* use ``cryptography`` (RFC 8032 / RFC 7748 unchanged).

Nothing here is constant time except the comparisons the spec requires to be (SUI-06 steps 2
and 3); this is a conformance implementation, not a production one.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Iterable

from cryptography.hazmat.primitives.asymmetric import ed25519, mlkem, x25519
from cryptography.hazmat.primitives import serialization

from . import cbor
from .errors import QuietwireError

# ---------------------------------------------------------------------------
# Suites (SUI-01, SUI-02)


@dataclass(frozen=True)
class Suite:
    id: int
    name: str
    kem_public_key_len: int


SUITES: dict[int, Suite] = {
    1: Suite(1, "QW1-XWING-HKDFSHA256-CHACHA20POLY1305", 1216),
    2: Suite(2, "QW1-X25519-HKDFSHA256-CHACHA20POLY1305", 32),
}
DEFAULT_ALLOWED_SUITES = frozenset(SUITES)


def resolve_suite(suite_id: int, allowed: Iterable[int] = DEFAULT_ALLOWED_SUITES) -> Suite:
    """SUI-01 then SUI-02: ``suite.unknown`` whatever the policy, then ``suite.disallowed``."""
    suite = SUITES.get(suite_id)
    if suite is None:
        raise QuietwireError("suite.unknown", f"suite {suite_id}")
    if suite_id not in set(allowed):
        raise QuietwireError("suite.disallowed", f"suite {suite_id}")
    return suite


# ---------------------------------------------------------------------------
# Labels (SUI-03, spec/14-registries.md §14.2)

LABEL_DEVICE_RECORD = "quietwire/v1/device-record"
LABEL_DEVICE_LIST = "quietwire/v1/device-list"
LABEL_INVITE = "quietwire/v1/invite"
LABEL_SAFETY_CODE = "quietwire/v1/safety-code"

LABELS = frozenset(
    {
        LABEL_DEVICE_RECORD,
        LABEL_DEVICE_LIST,
        LABEL_INVITE,
        LABEL_SAFETY_CODE,
        "quietwire/v1/handshake-info",
        "quietwire/v1/handshake-export",
        "quietwire/v1/handshake-transcript",
        "quietwire/v1/handshake-signature",
        "quietwire/v1/handshake-session",
        "quietwire/v1/reconnect-info",
        "quietwire/v1/mailbox-id",
        "quietwire/v1/mailbox-proof",
        "quietwire/v1/ratchet-init",
        "quietwire/v1/ratchet-root",
        "quietwire/v1/ratchet-pq-init",
        "quietwire/v1/ratchet-pq-root",
        "quietwire/v1/ratchet-chain",
        "quietwire/v1/ratchet-message-key",
        "quietwire/v1/ratchet-message",
        "quietwire/v1/ratchet-header",
        "quietwire/v1/ratchet-body",
        "quietwire/v1/xbk-confirm-info",
        "quietwire/v1/xbk-confirm-sas",
    }
)


def labeled_input(label: str, *context: bytes) -> bytes:
    if label not in LABELS:
        raise ValueError(f"unregistered label {label!r}")
    return cbor.labeled_input(label, *context)


# ---------------------------------------------------------------------------
# Edwards25519 arithmetic (RFC 8032 §5.1)

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

# Extended homogeneous coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, x*y = T/Z.
Point = tuple[int, int, int, int]
IDENTITY: Point = (0, 1, 1, 0)


def _inv(a: int) -> int:
    return pow(a, P - 2, P)


def _add(p1: Point, p2: Point) -> Point:
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * D * t1 * t2 % P
    d = 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _neg(p1: Point) -> Point:
    x, y, z, t = p1
    return (-x % P, y, z, -t % P)


def _mul(k: int, p1: Point) -> Point:
    q = IDENTITY
    while k > 0:
        if k & 1:
            q = _add(q, p1)
        p1 = _add(p1, p1)
        k >>= 1
    return q


def _is_identity(p1: Point) -> bool:
    x, y, z, _ = p1
    return x % P == 0 and (y - z) % P == 0


def _encode_point(p1: Point) -> bytes:
    x, y, z, _ = p1
    zi = _inv(z)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _recover_x(y: int, sign: int) -> int | None:
    """x with parity ``sign`` for ``y`` (already < p); None if x^2 has no root.

    Lenient about ``x = 0`` with ``sign = 1`` (SUI-04 step 1 / SUI-05 step 2)."""
    xx = (y * y - 1) * _inv(D * y * y + 1) % P
    if xx == 0:
        return 0
    x = pow(xx, (P + 3) // 8, P)
    if (x * x - xx) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - xx) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


_BY = 4 * _inv(5) % P
_BX = _recover_x(_BY, 0)
BASE: Point = (_BX, _BY, 1, _BX * _BY % P)


def _decode_lenient(b: bytes) -> tuple[Point | None, int, int]:
    """SUI-04 step 1. Returns (point or None if no square root, y (unreduced), sign)."""
    n = int.from_bytes(b, "little")
    sign = n >> 255
    y = n & ((1 << 255) - 1)
    yr = y % P
    x = _recover_x(yr, sign)
    if x is None:
        return None, y, sign
    return (x, yr, 1, x * yr % P), y, sign


def _small_order(p1: Point) -> bool:
    return _is_identity(_mul(8, p1))


# ---------------------------------------------------------------------------
# SUI-04: Ed25519 public keys


def check_ed25519_public_key(a: bytes) -> None:
    if len(a) != 32:
        raise ValueError("Ed25519 public key must be 32 bytes (length is a schema check)")
    point, y, sign = _decode_lenient(a)
    if point is None:
        raise QuietwireError("key.invalid", "Ed25519 key: x^2 has no square root")
    if y >= P or (point[0] == 0 and sign == 1):
        raise QuietwireError("key.noncanonical", "Ed25519 key")
    if _small_order(point):
        raise QuietwireError("key.low_order", "Ed25519 key")


# ---------------------------------------------------------------------------
# SUI-05: strict Ed25519 verification


def verify_strict(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Raises ``identity.signature`` unless ``signature`` is valid (SUI-05).

    ``public_key`` must already have passed :func:`check_ed25519_public_key`."""
    bad = QuietwireError("identity.signature")
    if len(signature) != 64:
        raise bad
    r_bytes, s_bytes = signature[:32], signature[32:]
    s = int.from_bytes(s_bytes, "little")
    if s >= L:  # step 1
        raise bad
    r_point, _, _ = _decode_lenient(r_bytes)
    if r_point is None:  # step 2
        raise bad
    a_point, _, _ = _decode_lenient(public_key)
    if a_point is None:
        raise bad
    if _small_order(r_point) or _small_order(a_point):  # step 3
        raise bad
    k = int.from_bytes(hashlib.sha512(r_bytes + public_key + message).digest(), "little") % L
    r_prime = _add(_mul(s, BASE), _neg(_mul(k, a_point)))  # step 5
    if _encode_point(r_prime) != r_bytes:
        raise bad


def ed25519_keypair(seed: bytes) -> tuple[ed25519.Ed25519PrivateKey, bytes]:
    """RFC 8032 §5.1.5 key pair from a 32-byte identity seed (IDN-01)."""
    sk = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sk, pk


def ed25519_sign(seed: bytes, message: bytes) -> bytes:
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed).sign(message)


# ---------------------------------------------------------------------------
# SUI-06: X25519 public keys

X25519_LOW_ORDER = [
    bytes.fromhex("0000000000000000000000000000000000000000000000000000000000000000"),
    bytes.fromhex("0100000000000000000000000000000000000000000000000000000000000000"),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
]


def check_x25519_public_key(u_bytes: bytes) -> None:
    if len(u_bytes) != 32:
        raise ValueError("X25519 public key must be 32 bytes (length is a schema check)")
    u = int.from_bytes(u_bytes, "little")
    if (u >> 255) or u >= P:
        raise QuietwireError("key.noncanonical", "X25519 key")
    hit = 0
    for bad in X25519_LOW_ORDER:  # no short-circuit across the list
        hit |= int(hmac.compare_digest(u_bytes, bad))
    if hit:
        raise QuietwireError("key.low_order", "X25519 key")


def x25519_dh(k: bytes, u: bytes) -> bytes:
    """X25519(k, u) of a validated key; an all-zero result is ``key.low_order`` (SUI-06 3)."""
    out = _x25519_raw(k, u)
    if hmac.compare_digest(out, bytes(32)):
        raise QuietwireError("key.low_order", "X25519 output is zero")
    return out


def _x25519_raw(k: bytes, u: bytes) -> bytes:
    # cryptography refuses an all-zero shared secret itself; compute it directly instead.
    sk = x25519.X25519PrivateKey.from_private_bytes(k)
    try:
        return sk.exchange(x25519.X25519PublicKey.from_public_bytes(u))
    except ValueError:
        return bytes(32)


def x25519_public(secret: bytes) -> bytes:
    """RFC 7748 public key of a 32-byte secret (clamped when used)."""
    return (
        x25519.X25519PrivateKey.from_private_bytes(secret)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


# ---------------------------------------------------------------------------
# SUI-07: KEM public keys

MLKEM_Q = 3329


def check_xwing_public_key(k: bytes) -> None:
    if len(k) != 1216:
        raise ValueError("X-Wing key must be 1216 bytes (length is a schema check)")
    t = k[:1152]
    for i in range(0, 1152, 3):
        b0, b1, b2 = t[i], t[i + 1], t[i + 2]
        c0 = b0 + 256 * (b1 & 0x0F)
        c1 = (b1 >> 4) + 16 * b2
        if c0 >= MLKEM_Q or c1 >= MLKEM_Q:
            raise QuietwireError("key.invalid", "ML-KEM-768 coefficient >= q")
    check_x25519_public_key(k[1184:1216])


def check_kem_public_key(suite: Suite, k: bytes) -> None:
    """SUI-07: length (``schema.length``), then the key checks of the suite."""
    if len(k) != suite.kem_public_key_len:
        raise QuietwireError("schema.length", f"KEM key of {len(k)} bytes for suite {suite.id}")
    if suite.id == 1:
        check_xwing_public_key(k)
    else:
        check_x25519_public_key(k)


# ---------------------------------------------------------------------------
# KEM DeriveKeyPair (public key only; used by the `create` operations)


def _hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()


def _hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def dhkem_x25519_derive_public(ikm: bytes) -> bytes:
    """RFC 9180 §7.1.3 DeriveKeyPair for DHKEM(X25519, HKDF-SHA256), KEM id 0x0020."""
    suite_id = b"KEM" + (0x0020).to_bytes(2, "big")
    prk = _hkdf_extract(b"", b"HPKE-v1" + suite_id + b"dkp_prk" + ikm)
    sk = _hkdf_expand(prk, (32).to_bytes(2, "big") + b"HPKE-v1" + suite_id + b"sk", 32)
    return x25519_public(sk)


XWING_KEM_ID = 0x647A


def _shake256_labeled_derive(ikm: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """``LabeledDerive`` of the HPKE PQ drafts (draft-ietf-hpke-pq) for a single-stage
    (SHAKE256) KEM: SHAKE256(ikm ‖ "HPKE-v1" ‖ suite_id ‖ I2OSP(len(label), 2) ‖ label ‖
    I2OSP(L, 2) ‖ context, L) with suite_id = "KEM" ‖ I2OSP(0x647a, 2).

    NOT stated by the Quietwire spec: found by matching the suite-1 `create` vectors."""
    suite_id = b"KEM" + XWING_KEM_ID.to_bytes(2, "big")
    data = (
        ikm
        + b"HPKE-v1"
        + suite_id
        + len(label).to_bytes(2, "big")
        + label
        + length.to_bytes(2, "big")
        + context
    )
    return hashlib.shake_256(data).digest(length)


def xwing_public_from_decapsulation_key(sk: bytes) -> bytes:
    """X-Wing (draft-connolly-cfrg-xwing-kem-06) public key of a 32-byte decapsulation key:
    SHAKE256(sk, 96) = ML-KEM-768 ``d ‖ z`` (FIPS 203 KeyGen_internal) ‖ X25519 secret."""
    expanded = hashlib.shake_256(sk).digest(96)
    mk = mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
    return mk.public_key().public_bytes_raw() + x25519_public(expanded[64:96])


def xwing_derive_public(ikm: bytes) -> bytes:
    """HPKE ``DeriveKeyPair(ikm)`` for X-Wing: sk = LabeledDerive(ikm, "DeriveKeyPair", "", 32)."""
    sk = _shake256_labeled_derive(ikm, b"DeriveKeyPair", b"", 32)
    return xwing_public_from_decapsulation_key(sk)


def kem_derive_public(suite: Suite, seed: bytes) -> bytes:
    if suite.id == 1:
        return xwing_derive_public(seed)
    return dhkem_x25519_derive_public(seed)
