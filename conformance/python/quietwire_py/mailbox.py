"""Mailbox ids and proofs of control of spec/08-mailboxes-and-relay.md §8.1–§8.2
(MBX-01 .. MBX-03, MBX-05)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from . import cbor, keys, structure
from .errors import QuietwireError

LABEL_ID = "quietwire/v1/mailbox-id"
LABEL_PROOF = "quietwire/v1/mailbox-proof"
# MBX-03: max_input = 512; the other limits are not stated, the generic ones (ENC-08) are used.
LIMITS = cbor.Limits(max_input=512)
# MBX-05: an origin is at most 255 bytes.
MAX_ORIGIN = 255

FETCH, DELETE, SUBSCRIBE = 1, 2, 3
OPERATIONS = (FETCH, DELETE, SUBSCRIBE)


def mailbox_id(public_key: bytes) -> bytes:
    """MBX-01."""
    return hashlib.sha256(keys.labeled_input(LABEL_ID, public_key)).digest()


def _proof_input(mailbox: bytes, challenge: bytes, operation: int, origin: str) -> bytes:
    if operation not in OPERATIONS:
        raise ValueError(f"operation {operation}")
    # MBX-02: `op` is one byte and `origin` the bytes of key 4, context items of the labeled
    # input, so byte strings (SUI-03: every context item is a byte string).
    return keys.labeled_input(
        LABEL_PROOF, mailbox, challenge, bytes([operation]), origin.encode("utf-8")
    )


@dataclass
class MailboxKey:
    seed: bytes
    public_key: bytes
    id: bytes


def mailbox_key(seed: bytes) -> MailboxKey:
    _, pk = keys.ed25519_keypair(seed)
    return MailboxKey(bytes(seed), pk, mailbox_id(pk))


def prove(seed: bytes, challenge: bytes, operation: int, origin: str) -> bytes:
    """MBX-02: the proof map {1: 1, 2: public key, 3: signature, 4: origin}."""
    k = mailbox_key(seed)
    sig = keys.ed25519_sign(seed, _proof_input(k.id, challenge, operation, origin))
    return cbor.encode({1: 1, 2: k.public_key, 3: sig, 4: origin})


def verify(proof: bytes, mailbox: bytes, challenge: bytes, operation: int, origins: list[str]) -> bytes:
    """MBX-03 in order, at a verifier whose own origins are `origins`; returns the proof's
    public key."""
    m = cbor.decode(proof, LIMITS)
    structure.check_top_level_map(m, (2, 3, 4))
    for k in m:
        if k < 0:  # proofs are closed
            raise QuietwireError("schema.unknown_critical", f"key {k}")
    pk = structure.field_bstr(m, 2, "public key", 32)
    sig = structure.field_bstr(m, 3, "signature", 64)
    if 4 not in m:
        raise QuietwireError("schema.missing_field", "origin")
    origin = m[4]
    if not isinstance(origin, str):
        raise QuietwireError("schema.wrong_type", "origin")
    if len(origin.encode("utf-8")) > MAX_ORIGIN:
        raise QuietwireError("schema.length", "origin")
    if origin not in origins:
        raise QuietwireError("mailbox.origin")
    keys.check_ed25519_public_key(pk)
    if not hmac.compare_digest(mailbox_id(pk), bytes(mailbox)):
        raise QuietwireError("mailbox.key")
    try:
        keys.verify_strict(pk, _proof_input(bytes(mailbox), bytes(challenge), operation, origin), sig)
    except QuietwireError as e:
        if e.error_class == "identity.signature":
            raise QuietwireError("mailbox.proof") from None
        raise
    return pk


def _host_ok(host: str) -> bool:
    """MBX-05: a lower-case DNS name, a dotted IPv4 address or a bracketed IPv6 address."""
    if host.startswith("[") and host.endswith("]"):
        inner = host[1:-1]
        return len(inner) >= 2 and ":" in inner and all(c in "0123456789abcdef:." for c in inner)
    if not host:
        return False
    for label in host.split("."):
        if not (1 <= len(label) <= 63) or label[0] == "-" or label[-1] == "-":
            return False
        if not all(c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in label):
            return False
    return True


def origin_from_url(url: str) -> str:
    """MBX-05: the canonical relay origin of a ws:// or wss:// URL."""
    bad = QuietwireError("mailbox.origin_format", url)
    if "://" not in url:
        raise bad
    scheme, rest = url.split("://", 1)
    scheme = scheme.lower()
    if scheme not in ("ws", "wss"):
        raise bad
    default = "80" if scheme == "ws" else "443"
    end = min([i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0], default=len(rest))
    authority = rest[:end]
    if "@" in authority:
        raise bad
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            raise bad
        host, tail = authority[: close + 1], authority[close + 1 :]
        if tail and not tail.startswith(":"):
            raise bad
        port = tail[1:] if tail else None
    elif ":" in authority:
        host, port = authority.split(":", 1)
    else:
        host, port = authority, None
    if port is not None:
        if not port or not port.isascii() or not port.isdigit():
            raise bad
        port = port.lstrip("0")
        if not port or int(port) > 65535:
            raise bad
        if port == default:
            port = None
    host = host.lower() if host.isascii() else host
    origin = f"{scheme}://{host}" + (f":{port}" if port else "")
    if len(origin.encode("utf-8")) > MAX_ORIGIN or not _host_ok(host):
        raise bad
    return origin
