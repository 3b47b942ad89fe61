"""Envelopes, buckets and padding of spec/07-envelope.md §7.1–§7.3 (ENV-01 .. ENV-03)."""

from __future__ import annotations

from dataclasses import dataclass

from . import cbor, structure
from .errors import QuietwireError

MIN_BUCKET = 512
MAX_BUCKET = 65536
# ENV-01: envelope decoding limits.
LIMITS = cbor.Limits(max_input=65600, max_depth=1, max_string=65536, max_items=8)
MAILBOX_LEN = 32

# ENV-03 overheads
RATCHET_OVERHEAD = 96


def padme(length: int) -> int:
    """Padmé(L) of ENV-02 (Padmé(0) = 0, Padmé(1) = 1)."""
    if length < 0:
        raise ValueError("negative length")
    if length < 2:
        return length
    e = length.bit_length() - 1  # floor(log2 L)
    s = e.bit_length()  # floor(log2 E) + 1
    last_bits = e - s
    mask = (1 << last_bits) - 1
    return (length + mask) & ~mask


def bucket(length: int) -> int:
    """The bucket of an unpadded length (ENV-02), else ``envelope.too_large``."""
    b = MIN_BUCKET if length <= MIN_BUCKET else padme(length)
    if b > MAX_BUCKET:
        raise QuietwireError("envelope.too_large", f"no bucket for {length} bytes")
    return b


def is_bucket(n: int) -> bool:
    return MIN_BUCKET <= n <= MAX_BUCKET and padme(n) == n


def pad(content: bytes, overhead: int) -> bytes:
    """ENV-03: ``content ‖ 0x80 ‖ 0x00*`` so that ``overhead + len(padded)`` is a bucket."""
    n = len(content)
    b = bucket(overhead + n + 1)
    return bytes(content) + b"\x80" + bytes(b - overhead - n - 1)


def unpad(padded: bytes) -> bytes:
    """ENV-03 strict removal: strip trailing zeros, then exactly one 0x80; else
    ``envelope.padding``."""
    i = len(padded)
    while i > 0 and padded[i - 1] == 0:
        i -= 1
    if i == 0 or padded[i - 1] != 0x80:
        raise QuietwireError("envelope.padding")
    return bytes(padded[: i - 1])


@dataclass
class Envelope:
    mailbox: bytes
    blob: bytes


def encode_envelope(mailbox: bytes, blob: bytes) -> bytes:
    if len(mailbox) != MAILBOX_LEN or not is_bucket(len(blob)):
        raise ValueError("mailbox is 32 bytes and the blob a bucket")
    return cbor.encode({1: 1, 2: bytes(mailbox), 3: bytes(blob)})


def receive_envelope(data: bytes, mailbox: bytes) -> Envelope:
    """ENV-06: decode, then the envelope must name the mailbox it was fetched from."""
    env = decode_envelope(data)
    if env.mailbox != mailbox:
        raise QuietwireError("envelope.mailbox", "misrouted envelope")
    return env


def decode_envelope(data: bytes) -> Envelope:
    """ENV-01: limits, version and unknown keys (negative keys included), mailbox id, blob,
    then the blob's length is a bucket (``envelope.bucket``)."""
    m = cbor.decode(data, LIMITS)
    structure.check_top_level_map(m, (2, 3))
    for k in m:
        if k < 0:  # envelopes are closed
            raise QuietwireError("schema.unknown_critical", f"key {k}")
    mailbox = structure.field_bstr(m, 2, "mailbox", MAILBOX_LEN)
    blob = structure.field_bstr(m, 3, "blob")
    if not is_bucket(len(blob)):
        raise QuietwireError("envelope.bucket", f"blob of {len(blob)} bytes")
    return Envelope(mailbox, blob)
