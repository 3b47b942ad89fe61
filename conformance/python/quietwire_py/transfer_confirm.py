"""Transfer confirmation (spec/10-backup.md §10.5.4, XBK-32 .. XBK-34).

Before the old device uploads a file by transfer it seals, with HPKE base mode (SUI-08), to the
new device's transfer key ``pkR`` the SHA-256 ``D`` of that file; both devices show a six-digit
code derived from the seal's exporter secret, and the new device restores only a file whose
SHA-256 is ``D``:

    info = LI("quietwire/v1/xbk-confirm-info", C)        C: the transfer code's bytes
    enc, ctx = SetupBaseS(pkR, info)
    ct  = ctx.Seal("", CBOR({1: 1, 2: D}))
    S   = ctx.Export(LI("quietwire/v1/xbk-confirm-sas"), 32)
    message = CBOR([enc, ct]);  N = uint32_be(S[0..4]) mod 1000000, shown "ddd ddd"

This module implements only the confirmation, not the ``.xbk`` format it protects (feature
``transfer-confirm`` of the conformance shim; the ``backup`` feature stays unimplemented).
The transfer key pair is the suite KEM's ``DeriveKeyPair(seed)`` (``hpke.derive_recipient``).

Readings taken (README.md, "Readings taken"):

* the sealer validates ``pkR`` (SUI-07, SUI-06) before it encapsulates: XBK-32 does not say so,
  but the key is scanned from the other device (SUI-04: every key received is validated
  before its first use), and XBK-12 asks it of the transfer entry to the same key;
* the sealer refuses a digest that is not 32 bytes with ``schema.length``, the class the
  opener would give (XBK-33), so it never sends a confirmation that cannot open;
* the sealed plaintext is decoded under the generic limits of ENC-08, like the message
  (XBK-33 names limits only for the message).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from . import cbor, hpke, keys, structure
from .errors import QuietwireError

LABEL_INFO = "quietwire/v1/xbk-confirm-info"
LABEL_SAS = "quietwire/v1/xbk-confirm-sas"
MAX_CONFIRMATION = 2048  # XBK-33
DIGEST_LEN = 32  # SHA-256
VERSION = 1


@dataclass(frozen=True)
class Confirmation:
    """An opened confirmation: the confirmed file digest ``D``, the code to show, and the
    extension fields (negative keys) of the sealed map, as received."""

    digest: bytes
    sas: str
    extensions: dict[int, Any]


def sas_text(exported: bytes) -> str:
    """XBK-32: ``N = uint32_be(S[0..4]) mod 1000000`` as ``"ddd ddd"`` (leading zeros kept)."""
    digits = f"{int.from_bytes(exported[:4], 'big') % 1_000_000:06d}"
    return f"{digits[:3]} {digits[3:]}"


def _info(code: bytes) -> bytes:
    return keys.labeled_input(LABEL_INFO, code)


def _sas_context() -> bytes:
    return keys.labeled_input(LABEL_SAS)


def seal(suite: int, pk_r: bytes, code: bytes, digest: bytes, randomness: bytes) -> tuple[bytes, str]:
    """XBK-32, the old device: the confirmation message ``CBOR([enc, ct])`` and the code to
    show, sealing ``digest`` (``SHA-256(file)``) to the transfer key ``pk_r`` of ``suite`` for
    the transfer code ``code``; ``randomness`` is exactly what the encapsulation draws (SUI-08:
    32 bytes in suite 2, 64 in suite 1)."""
    keys.check_kem_public_key(keys.resolve_suite(suite), pk_r)
    if len(digest) != DIGEST_LEN:
        raise QuietwireError("schema.length", f"digest of {len(digest)} bytes")
    enc, ctx = hpke.setup_base_s(suite, pk_r, _info(code), randomness)
    ct = ctx.seal(b"", cbor.encode({1: VERSION, 2: bytes(digest)}))
    return cbor.encode([enc, ct]), sas_text(ctx.export(_sas_context(), 32))


def open_(key: hpke.RecipientKey, code: bytes, message: bytes) -> Confirmation:
    """XBK-33, the new device: opens ``message`` with its transfer key pair ``key`` and the code
    ``code`` it showed, refusing with the class of the first failing check, in this order."""
    message = bytes(message)
    if len(message) > MAX_CONFIRMATION:
        raise QuietwireError("cbor.limit.input", f"{len(message)} > {MAX_CONFIRMATION}")
    item = cbor.decode(message, cbor.GENERIC_LIMITS)
    if not isinstance(item, list):
        raise QuietwireError("schema.wrong_type", "confirmation is not an array")
    if len(item) != 2:
        raise QuietwireError("schema.length", f"confirmation has {len(item)} items")
    enc, ct = item
    if not isinstance(enc, bytes) or not isinstance(ct, bytes):
        raise QuietwireError("schema.wrong_type", "enc or ct is not a byte string")
    # hpke.encapsulation (enc length), hpke.decapsulation (KEM), hpke.open (AEAD), as SUI-08
    ctx = hpke.setup_base_r(key.suite, enc, key, _info(code))
    plaintext = ctx.open(b"", ct)
    m = structure.check_top_level_map(cbor.decode(plaintext, cbor.GENERIC_LIMITS), (2,))
    digest = structure.field_bstr(m, 2, "digest", DIGEST_LEN)
    return Confirmation(bytes(digest), sas_text(ctx.export(_sas_context(), 32)), structure.extensions(m))


def check_file_digest(confirmed: bytes, file_sha256: bytes) -> None:
    """XBK-34: the SHA-256 of the whole file received must be the confirmed digest, compared in
    constant time; otherwise ``backup.transfer_digest`` (nothing of the file is kept)."""
    if not hmac.compare_digest(bytes(confirmed), bytes(file_sha256)):
        raise QuietwireError("backup.transfer_digest", "the file is not the one confirmed")


def receive(key: hpke.RecipientKey, code: bytes, message: bytes, file_sha256: bytes | None = None) -> Confirmation:
    """XBK-33, then XBK-34 if the file's SHA-256 is given (``None``: no file yet)."""
    c = open_(key, code, message)
    if file_sha256 is not None:
        check_file_digest(c.digest, file_sha256)
    return c
