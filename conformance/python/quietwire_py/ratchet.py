"""The Double Ratchet with header encryption of spec/06-ratchet.md (RAT-01 .. RAT-09).

A state is an immutable value (:class:`State`). :func:`encrypt` and :func:`decrypt` return
their result together with the successor state and never write the state they are given,
so failure atomicity (RAT-08) holds by construction: every derivation is made on new values,
and a caller keeps the successor only when it accepts the result (at once for a plain
decryption, after the padding and event checks for a blob, session.py, ENV-09).

One place each, for a later extension of the state machine: the key derivations (RAT-01,
RAT-03; the root step is :func:`kdf_rk`), the header layout (:class:`Header`, RAT-05), the
two halves of a DH ratchet step (:func:`_sending_half`, RAT-04 step 1; :func:`_new_chain`,
RAT-06 case 2) and the skipped-key store (:func:`store`, RAT-07). Snapshots (RAT-10) are in
ratchet_snapshot.py.
"""

from __future__ import annotations

import hmac
import struct
from dataclasses import dataclass, replace
from typing import Callable, NamedTuple, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from . import keys, xchacha
from .errors import QuietwireError

U32_MAX = 2**32 - 1
KEY_LEN = 32
TAG_LEN = 16
HEADER_LEN = 40  # RAT-05: dh (32) ‖ u32be(pn) ‖ u32be(n)
HEADER_NONCE_LEN = xchacha.NONCE_LEN  # 24
EH_LEN = HEADER_NONCE_LEN + HEADER_LEN + TAG_LEN  # 80
OVERHEAD = EH_LEN + TAG_LEN  # 96

# RAT-07
MAX_JUMP = 5000
MAX_SKIPPED = 5000
MAX_SKIPPED_CHAINS = 16

LABEL_INIT = "quietwire/v1/ratchet-init"
LABEL_ROOT = "quietwire/v1/ratchet-root"
LABEL_CHAIN = "quietwire/v1/ratchet-chain"
LABEL_MESSAGE_KEY = "quietwire/v1/ratchet-message-key"
LABEL_MESSAGE = "quietwire/v1/ratchet-message"
LABEL_HEADER = "quietwire/v1/ratchet-header"
LABEL_BODY = "quietwire/v1/ratchet-body"

_INFO_INIT = keys.labeled_input(LABEL_INIT)
_INFO_ROOT = keys.labeled_input(LABEL_ROOT)
_INFO_CHAIN = keys.labeled_input(LABEL_CHAIN)
_INFO_MESSAGE_KEY = keys.labeled_input(LABEL_MESSAGE_KEY)

Draw = Callable[[int], bytes]
"""``rng.draw(k)`` of RAT-04: the next ``k`` bytes of the caller's random generator."""


# ---------------------------------------------------------------------------
# Key derivation (RAT-01, RAT-03)


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "sha256")


def _hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 HKDF-Expand with HMAC-SHA256 (§6.1)."""
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = _hmac(prk, t + info + bytes([i]))
        out += t
        i += 1
    return out[:length]


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 HKDF-SHA256; an empty salt is HKDF's default, 32 zero bytes (§6.1)."""
    return _hkdf_expand(_hmac(salt or bytes(32), ikm), info, length)


def kdf_init(sk: bytes) -> tuple[bytes, bytes, bytes]:
    """RAT-01 ``KDF_INIT(SK)``: ``(RK, HKa, NHKb)``."""
    okm = _hkdf(b"", sk, _INFO_INIT, 96)
    return okm[0:32], okm[32:64], okm[64:96]


def kdf_rk(rk: bytes, dh_out: bytes) -> tuple[bytes, bytes, bytes]:
    """RAT-03 ``KDF_RK(RK, dh_out)``: ``(RK', CK, NHK)``, the one root step of both halves."""
    okm = _hkdf(rk, dh_out, _INFO_ROOT, 96)
    return okm[0:32], okm[32:64], okm[64:96]


def kdf_ck(ck: bytes) -> tuple[bytes, bytes]:
    """RAT-03 ``KDF_CK(CK)``: ``(CK', MK)``, HKDF-Expand keyed with ``CK`` directly."""
    return _hkdf_expand(ck, _INFO_CHAIN, 32), _hkdf_expand(ck, _INFO_MESSAGE_KEY, 32)


def message_keys(mk: bytes, hn: bytes) -> tuple[bytes, bytes]:
    """RAT-03 ``MessageKeys(MK, hn)``: the body's ChaCha20-Poly1305 key and nonce."""
    okm = _hkdf_expand(mk, keys.labeled_input(LABEL_MESSAGE, hn), 44)
    return okm[0:32], okm[32:44]


def header_ad(ad: bytes) -> bytes:
    """RAT-03 ``HeaderAD(AD)``."""
    return keys.labeled_input(LABEL_HEADER, ad)


def body_ad(ad: bytes, eh: bytes) -> bytes:
    """RAT-03 ``BodyAD(AD, EH)``."""
    return keys.labeled_input(LABEL_BODY, ad, eh)


# ---------------------------------------------------------------------------
# Message format (RAT-05)


@dataclass(frozen=True)
class Header:
    """The 40-byte plaintext header ``dh ‖ u32be(pn) ‖ u32be(n)`` (RAT-05)."""

    dh: bytes
    pn: int
    n: int

    def encode(self) -> bytes:
        return self.dh + struct.pack(">II", self.pn, self.n)

    @classmethod
    def parse(cls, h: bytes) -> "Header":
        """``dh`` is not validated here: only when it is used (RAT-05, RAT-06 step 2.3)."""
        pn, n = struct.unpack(">II", h[32:40])
        return cls(h[0:32], pn, n)


def seal_header(hk: bytes, ad: bytes, hn: bytes, header: Header) -> bytes:
    """RAT-04 step 6: ``EH = hn ‖ XSEAL(HKs, hn, HeaderAD(AD), header)``, 80 bytes."""
    return hn + xchacha.xseal(hk, hn, header_ad(ad), header.encode())


def open_header(hk: bytes, ad: bytes, eh: bytes) -> Header | None:
    """RAT-06 ``DecryptHeader(hk)``: the header, or ``None`` when ``hk`` does not open it."""
    h = xchacha.xopen(hk, eh[:HEADER_NONCE_LEN], header_ad(ad), eh[HEADER_NONCE_LEN:])
    return None if h is None else Header.parse(h)


def _seal_body(ad: bytes, eh: bytes, mk: bytes, plaintext: bytes) -> bytes:
    """RAT-04 step 7: ``SEAL(key, nonce, BodyAD(AD, EH), plaintext)``."""
    key, nonce = message_keys(mk, eh[:HEADER_NONCE_LEN])
    return ChaCha20Poly1305(key).encrypt(nonce, plaintext, body_ad(ad, eh))


def _open_body(ad: bytes, eh: bytes, mk: bytes, body: bytes) -> bytes:
    """RAT-06 ``Open``: the plaintext, else ``ratchet.body``."""
    key, nonce = message_keys(mk, eh[:HEADER_NONCE_LEN])
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, body, body_ad(ad, eh))
    except InvalidTag:
        raise QuietwireError("ratchet.body") from None


# ---------------------------------------------------------------------------
# State (§6.2) and initialization (RAT-01, RAT-02)


@dataclass(frozen=True)
class KeyPair:
    """An X25519 key pair; ``secret`` is kept as drawn or given, unclamped (RAT-04, RAT-10)."""

    secret: bytes
    public: bytes

    @classmethod
    def from_secret(cls, secret: bytes) -> "KeyPair":
        return cls(bytes(secret), keys.x25519_public(secret))


class Skipped(NamedTuple):
    """An entry ``(HK, n, MK)`` of ``MKSKIPPED``."""

    hk: bytes
    n: int
    mk: bytes


@dataclass(frozen=True)
class State:
    """The state of one side (§6.2); ``None`` is "none". ``skipped`` is oldest first."""

    ad: bytes
    dhs: KeyPair | None
    dhr: bytes | None
    rk: bytes
    cks: bytes | None
    ckr: bytes | None
    hks: bytes | None
    hkr: bytes | None
    nhks: bytes
    nhkr: bytes
    ns: int
    nr: int
    pn: int
    pending: bool
    skipped: tuple[Skipped, ...]

    def can_send(self) -> bool:
        """RAT-02: ``CKs`` is not none, or a sending half is pending and ``DHr`` is known."""
        return self.cks is not None or (self.pending and self.dhr is not None)


def _check_key_lengths(*values: bytes) -> None:
    if any(len(v) != KEY_LEN for v in values):
        raise ValueError("SK, AD and ratchet keys are 32 bytes")


def init_initiator(sk: bytes, ad: bytes, responder_public: bytes) -> State:
    """RAT-01, initiator: no DH yet, its first sending half runs at its first encryption.
    The responder's ratchet public key is validated as in SUI-06."""
    _check_key_lengths(sk, ad, responder_public)
    keys.check_x25519_public_key(responder_public)
    rk, hka, nhkb = kdf_init(sk)
    return State(
        ad=bytes(ad), dhs=None, dhr=bytes(responder_public), rk=rk, cks=None, ckr=None,
        hks=None, hkr=None, nhks=hka, nhkr=nhkb, ns=0, nr=0, pn=0, pending=True, skipped=(),
    )


def init_responder(sk: bytes, ad: bytes, ratchet_secret: bytes) -> State:
    """RAT-01, responder: its ratchet key pair, nothing to send before its first receipt."""
    _check_key_lengths(sk, ad, ratchet_secret)
    rk, hka, nhkb = kdf_init(sk)
    return State(
        ad=bytes(ad), dhs=KeyPair.from_secret(ratchet_secret), dhr=None, rk=rk, cks=None,
        ckr=None, hks=None, hkr=None, nhks=nhkb, nhkr=hka, ns=0, nr=0, pn=0, pending=False,
        skipped=(),
    )


# ---------------------------------------------------------------------------
# Encryption (RAT-02, RAT-04)


def encrypt(state: State, plaintext: bytes, draw: Draw) -> tuple[bytes, State]:
    """RAT-04 ``RatchetEncrypt``: ``(message, successor)``. Draws 32 + 24 bytes when a
    sending half is due, 24 otherwise; a refusal draws nothing (32 bytes at step 1.3)."""
    if state.pending:
        state = _sending_half(state, draw)  # step 1 (a new value: the caller's is unchanged)
    if state.cks is None or state.hks is None or state.dhs is None:  # step 2
        raise QuietwireError("ratchet.no_sending_chain")
    if state.ns == U32_MAX:  # step 3
        raise QuietwireError("ratchet.exhausted", "the sending chain carries 2^32 - 1 messages")
    ck, mk = kdf_ck(state.cks)  # step 4
    header = Header(state.dhs.public, state.pn, state.ns)  # step 5
    eh = seal_header(state.hks, state.ad, draw(HEADER_NONCE_LEN), header)  # step 6
    message = eh + _seal_body(state.ad, eh, mk, plaintext)  # step 7
    return message, replace(state, cks=ck, ns=state.ns + 1)  # step 8


def _sending_half(state: State, draw: Draw) -> State:
    """RAT-04 step 1, the sending half of a DH ratchet step."""
    if state.dhr is None:  # 1.1 (RAT-02 b)
        raise QuietwireError("ratchet.no_sending_chain", "no peer ratchet key")
    pair = KeyPair.from_secret(draw(KEY_LEN))  # 1.2
    dh_out = keys.x25519_dh(pair.secret, state.dhr)  # 1.3: all zero is key.low_order
    rk, cks, nhk = kdf_rk(state.rk, dh_out)  # 1.4
    return replace(
        state, rk=rk, cks=cks, pn=state.ns, ns=0, hks=state.nhks, nhks=nhk, dhs=pair, pending=False
    )


# ---------------------------------------------------------------------------
# Decryption (RAT-05, RAT-06, RAT-09)


def decrypt(state: State, message: bytes) -> tuple[bytes, State]:
    """RAT-06 ``RatchetDecrypt``: ``(plaintext, successor)``. Header keys are tried in the
    order ``HKr``, ``NHKr``, then the stored header keys; the first that opens decides."""
    if len(message) < OVERHEAD:
        raise QuietwireError("ratchet.format", f"message of {len(message)} bytes")  # RAT-05
    eh, body = bytes(message[:EH_LEN]), bytes(message[EH_LEN:])
    if state.hkr is not None:
        header = open_header(state.hkr, state.ad, eh)
        if header is not None:
            return _current_chain(state, header, eh, body)
    header = open_header(state.nhkr, state.ad, eh)
    if header is not None:
        return _new_chain(state, header, eh, body)
    for hk in stored_header_keys(state.skipped):
        header = open_header(hk, state.ad, eh)
        if header is not None:
            return _skipped_message(state, hk, header.n, eh, body)
    raise QuietwireError("ratchet.header", "no header key opens the header")


def _current_chain(state: State, h: Header, eh: bytes, body: bytes) -> tuple[bytes, State]:
    """RAT-06 case 1: a message of the current receiving chain (``dh`` and ``pn`` ignored)."""
    if h.n < state.nr:
        return _skipped_message(state, state.hkr, h.n, eh, body)
    if state.ckr is None:
        raise QuietwireError("ratchet.header", "no receiving chain key")
    new, mk, ckr, nr = skip_message_keys(state.hkr, state.ckr, state.nr, h.n)
    plaintext = _open_body(state.ad, eh, mk, body)
    return plaintext, replace(state, skipped=store(state.skipped, new), ckr=ckr, nr=nr)


def _new_chain(state: State, h: Header, eh: bytes, body: bytes) -> tuple[bytes, State]:
    """RAT-06 case 2: the first message seen of a new chain, the receiving half of a DH
    ratchet step. The sending half follows at the next encryption (``pending``)."""
    if state.dhs is None:  # 2.1
        raise QuietwireError("ratchet.header", "no own ratchet key")
    tail = _previous_chain_tail(state, h.pn)  # 2.2
    keys.check_x25519_public_key(h.dh)  # 2.3
    dh_out = keys.x25519_dh(state.dhs.secret, h.dh)  # 2.4
    rk, ck, nhk = kdf_rk(state.rk, dh_out)
    new, mk, ckr, nr = skip_message_keys(state.nhkr, ck, 0, h.n)  # 2.5
    plaintext = _open_body(state.ad, eh, mk, body)
    return plaintext, replace(  # 2.6
        state,
        skipped=store(state.skipped, tail + new),
        dhr=h.dh, rk=rk, hkr=state.nhkr, nhkr=nhk, ckr=ckr, nr=nr, pending=True,
    )


def _previous_chain_tail(state: State, pn: int) -> list[Skipped]:
    """RAT-06 step 2.2: the keys of messages ``Nr .. pn - 1`` of the current receiving chain,
    the last one included, bounded like a jump (``pn - Nr > MAX_JUMP``: RAT-07)."""
    if state.hkr is None or state.ckr is None or pn <= state.nr:
        return []
    if pn - state.nr > MAX_JUMP:
        raise QuietwireError("ratchet.jump_limit", f"{pn - state.nr} keys of the previous chain")
    tail, mk_last, _, _ = skip_message_keys(state.hkr, state.ckr, state.nr, pn - 1)
    return tail + [Skipped(state.hkr, pn - 1, mk_last)]


def _skipped_message(state: State, hk: bytes, n: int, eh: bytes, body: bytes) -> tuple[bytes, State]:
    """RAT-06 ``TrySkippedMessageKeys`` (case 1 with ``n < Nr``, case 3): open with the stored
    key and delete it (RAT-09); without one, ``ratchet.replay``."""
    i = _find_skipped(state.skipped, hk, n)
    if i is None:
        raise QuietwireError("ratchet.replay", f"no stored key for message {n}")
    plaintext = _open_body(state.ad, eh, state.skipped[i].mk, body)
    return plaintext, replace(state, skipped=state.skipped[:i] + state.skipped[i + 1 :])


def _find_skipped(skipped: tuple[Skipped, ...], hk: bytes, n: int) -> int | None:
    """The index of the first entry ``(hk, n, ·)``; header keys compared in constant time."""
    for i, e in enumerate(skipped):
        if e.n == n and hmac.compare_digest(e.hk, hk):
            return i
    return None


def skip_message_keys(
    hk: bytes, ck: bytes, start: int, until: int
) -> tuple[list[Skipped], bytes, bytes, int]:
    """RAT-06 ``SkipMessageKeys``: the entries of messages ``start .. until - 1``, the key of
    message ``until``, the chain key after it and ``until + 1``. ``ratchet.jump_limit`` for
    more than ``MAX_JUMP`` keys, or ``until = 2^32 - 1`` (RAT-07)."""
    if until - start > MAX_JUMP or until == U32_MAX:
        raise QuietwireError("ratchet.jump_limit", f"message {until} from {start}")
    skipped = []
    for n in range(start, until):
        ck, mk = kdf_ck(ck)
        skipped.append(Skipped(hk, n, mk))
    ck, mk = kdf_ck(ck)
    return skipped, mk, ck, until + 1


# ---------------------------------------------------------------------------
# The skipped-key store (RAT-07)


def store(skipped: tuple[Skipped, ...], entries: list[Skipped]) -> tuple[Skipped, ...]:
    """RAT-07 ``Store``: append at the newest end, drop the oldest entries beyond
    ``MAX_SKIPPED``, then the oldest runs (chains) beyond ``MAX_SKIPPED_CHAINS``."""
    out = list(skipped) + entries
    del out[: max(0, len(out) - MAX_SKIPPED)]
    while chain_count(out) > MAX_SKIPPED_CHAINS:
        first = 0
        while first < len(out) and out[first].hk == out[0].hk:
            first += 1
        del out[:first]
    return tuple(out)


def chain_count(skipped: Sequence[Skipped]) -> int:
    """RAT-07 ``Runs``: the maximal runs of consecutive entries with the same header key."""
    return sum(1 for i, e in enumerate(skipped) if i == 0 or e.hk != skipped[i - 1].hk)


def stored_header_keys(skipped: tuple[Skipped, ...]) -> list[bytes]:
    """RAT-06 case 3: each distinct header key once, in the order of its newest entry,
    newest first."""
    seen: set[bytes] = set()
    order = []
    for e in reversed(skipped):
        if e.hk not in seen:
            seen.add(e.hk)
            order.append(e.hk)
    return order
