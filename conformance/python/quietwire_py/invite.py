"""Invites, QR payloads and links of spec/04-contact-establishment.md (INV-01 .. INV-09)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from . import cbor, keys, structure
from .errors import QuietwireError

MAX_INVITE = 4096  # INV-09
LIMITS = cbor.SIGNED_STRUCTURE_LIMITS
QR_MAGIC = b"QWI1"  # INV-06
LINK_PREFIX = "i1."  # INV-07
APP_BASE = "quietwire:invite"
MAX_LINK = 8192  # INV-08
MAX_HINT_BYTES = 256
MIN_HINTS, MAX_HINTS = 1, 4

# Unicode White_Space (INV-02 rule 3)
_WHITE_SPACE = (
    set(range(0x09, 0x0E))
    | {0x20, 0x85, 0xA0, 0x1680}
    | set(range(0x2000, 0x200B))
    | {0x2028, 0x2029, 0x202F, 0x205F, 0x3000}
)


@dataclass
class Invite:
    suite: int
    identity_key: bytes
    kem_key: bytes
    ratchet_key: bytes
    relay_hints: list[str]
    mailbox: bytes
    expires: int
    single_use: bool
    invite_id: bytes
    extensions: dict[int, Any] = field(default_factory=dict)
    encoded: bytes = b""


def check_relay_hint(hint: str) -> None:
    """INV-02 rules 1 to 3: ``invite.relay_hint``."""
    bad = QuietwireError("invite.relay_hint", repr(hint[:40]))
    if len(hint.encode("utf-8")) > MAX_HINT_BYTES:
        raise bad
    if hint.startswith("wss://"):
        rest = hint[6:]
    elif hint.startswith("ws://"):
        rest = hint[5:]
    else:
        raise bad
    if not rest:
        raise bad
    for ch in hint:
        cp = ord(ch)
        if cp in _WHITE_SPACE or cp <= 0x1F or 0x7F <= cp <= 0x9F:
            raise bad


def create_invite(
    suite_id: int,
    identity_seed: bytes,
    invite_id: bytes,
    kem_seed: bytes,
    ratchet_secret: bytes,
    relay_hints: list[str],
    mailbox: bytes,
    expires: int,
    single_use: bool,
    extensions: dict[int, Any] | None = None,
) -> bytes:
    """INV-01 with the randomness given explicitly (16 + 32 + 32 bytes)."""
    suite = keys.resolve_suite(suite_id)
    if not MIN_HINTS <= len(relay_hints) <= MAX_HINTS:
        raise ValueError("1 to 4 relay hints (INV-02)")
    for h in relay_hints:
        check_relay_hint(h)
    if len(invite_id) != 16 or len(mailbox) != 32:
        raise ValueError("invite_id is 16 bytes, mailbox 32 bytes")
    _, identity_key = keys.ed25519_keypair(identity_seed)
    body_map: dict[int, Any] = {
        1: 1,
        2: suite.id,
        3: identity_key,
        4: keys.kem_derive_public(suite, kem_seed),
        5: keys.x25519_public(ratchet_secret),
        6: list(relay_hints),
        7: bytes(mailbox),
        8: expires,
        9: bool(single_use),
        10: bytes(invite_id),
    }
    for k, v in (extensions or {}).items():
        if k >= 0:
            raise ValueError("extensions use negative keys only (ENC-12)")
        body_map[k] = v
    body = cbor.encode(body_map)
    sig = keys.ed25519_sign(identity_seed, keys.labeled_input(keys.LABEL_INVITE, body))
    return structure.encode_signed(body, sig)


def verify_invite(
    data: bytes, now: int, allowed_suites: Iterable[int] = keys.DEFAULT_ALLOWED_SUITES
) -> Invite:
    """INV-04 steps 1 to 16 in order."""
    data = bytes(data)
    # 1 .. 4
    body, sig, m = structure.decode_signed(data, LIMITS)
    # 5, 6
    structure.check_top_level_map(m, range(1, 11))
    # 7
    suite_id = structure.field_uint(m, 2, "suite")
    identity_key = structure.field_bstr(m, 3, "identity_key", 32)
    kem_key = structure.field_bstr(m, 4, "kem_key")
    ratchet_key = structure.field_bstr(m, 5, "ratchet_key", 32)
    hints = structure.field_array(m, 6, "relay_hints")
    mailbox = structure.field_bstr(m, 7, "mailbox", 32)
    expires = structure.field_uint(m, 8, "expires")
    single_use = structure.field_bool(m, 9, "single_use")
    invite_id = structure.field_bstr(m, 10, "invite_id", 16)
    # 8
    if not MIN_HINTS <= len(hints) <= MAX_HINTS:
        raise QuietwireError("schema.length", f"{len(hints)} relay hints")
    for h in hints:
        if not isinstance(h, str):
            raise QuietwireError("schema.wrong_type", "relay hint is not a text string")
    # 9
    suite = keys.resolve_suite(suite_id, allowed_suites)
    # 10
    if len(kem_key) != suite.kem_public_key_len:
        raise QuietwireError("schema.length", f"kem_key of {len(kem_key)} bytes")
    # 11, 12, 13
    keys.check_ed25519_public_key(identity_key)
    keys.check_kem_public_key(suite, kem_key)
    keys.check_x25519_public_key(ratchet_key)
    # 14
    for h in hints:
        check_relay_hint(h)
    # 15
    keys.verify_strict(identity_key, keys.labeled_input(keys.LABEL_INVITE, body), sig)
    # 16 (INV-05)
    if now >= expires:
        raise QuietwireError("invite.expired", f"now {now} >= expires {expires}")
    return Invite(
        suite=suite.id,
        identity_key=identity_key,
        kem_key=kem_key,
        ratchet_key=ratchet_key,
        relay_hints=list(hints),
        mailbox=mailbox,
        expires=expires,
        single_use=single_use,
        invite_id=invite_id,
        extensions=structure.extensions(m),
        encoded=data,
    )


# ---------------------------------------------------------------------------
# QR payload (INV-06)


def encode_qr(invite: bytes) -> bytes:
    return QR_MAGIC + bytes(invite)


def parse_qr(
    payload: bytes, now: int, allowed_suites: Iterable[int] = keys.DEFAULT_ALLOWED_SUITES
) -> Invite:
    payload = bytes(payload)
    if payload[:4] != QR_MAGIC:
        raise QuietwireError("qr.magic")
    return verify_invite(payload[4:], now, allowed_suites)


# ---------------------------------------------------------------------------
# Link (INV-07, INV-08)

_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_B64URL_INDEX = {c: i for i, c in enumerate(_B64URL)}


def base64url_encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data), 3):
        chunk = data[i : i + 3]
        n = int.from_bytes(chunk + bytes(3 - len(chunk)), "big")
        chars = [_B64URL[(n >> s) & 63] for s in (18, 12, 6, 0)]
        out.extend(chars[: len(chunk) + 1])
    return "".join(out)


def base64url_decode_strict(text: str) -> bytes:
    """Unpadded base64url (RFC 4648 §5) with canonical trailing bits (INV-08 step 5)."""
    bad = QuietwireError("link.base64")
    vals = []
    for c in text:
        v = _B64URL_INDEX.get(c)
        if v is None:
            raise bad
        vals.append(v)
    if len(vals) % 4 == 1:
        raise bad
    out = bytearray()
    for i in range(0, len(vals), 4):
        group = vals[i : i + 4]
        n = 0
        for v in group:
            n = (n << 6) | v
        bits = 6 * len(group)
        nbytes = bits // 8
        extra = bits - 8 * nbytes
        if extra and (n & ((1 << extra) - 1)):
            raise bad
        n >>= extra
        out += n.to_bytes(nbytes, "big")
    return bytes(out)


def _base_ok(base: str) -> bool:
    if base == APP_BASE:
        return True
    if base.startswith("https://") and len(base) > len("https://"):
        return "?" not in base and "#" not in base
    return False


def encode_link(invite: bytes, base: str = "https://quietwire.invalid/invite") -> str:
    if not _base_ok(base):
        raise ValueError("base must be quietwire:invite or an https:// URL without ? and #")
    return base + "#" + LINK_PREFIX + base64url_encode(bytes(invite))


def parse_link_payload(link: str) -> bytes:
    """INV-08 steps 1 to 5: the signed invite bytes carried by ``link``."""
    if len(link.encode("utf-8", errors="surrogatepass")) > MAX_LINK:  # 1
        raise QuietwireError("link.length")
    if "#" not in link:  # 2
        raise QuietwireError("link.format", "no fragment")
    base, fragment = link.split("#", 1)
    if not _base_ok(base) or "#" in fragment:  # 3
        raise QuietwireError("link.format", "base or second '#'")
    if not fragment.startswith(LINK_PREFIX):  # 4
        raise QuietwireError("link.format", "fragment prefix")
    return base64url_decode_strict(fragment[len(LINK_PREFIX) :])  # 5


def parse_link(
    link: str, now: int, allowed_suites: Iterable[int] = keys.DEFAULT_ALLOWED_SUITES
) -> Invite:
    return verify_invite(parse_link_payload(link), now, allowed_suites)  # 6
