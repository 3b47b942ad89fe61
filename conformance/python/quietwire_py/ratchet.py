"""The Double Ratchet with header encryption of spec/06-ratchet.md (RAT-01 .. RAT-09), classic
and post-quantum (§6.18 .. §6.20, RAT-11 .. RAT-14: ML-KEM-768 in every DH step).

A state is an immutable value (:class:`State`). :func:`encrypt` and :func:`decrypt` return
their result together with the successor state and never write the state they are given,
so failure atomicity (RAT-08) holds by construction: every derivation is made on new values,
and a caller keeps the successor only when it accepts the result (at once for a plain
decryption, after the padding and event checks for a blob, session.py, ENV-09).

One place each, for a later extension of the state machine: the key derivations (RAT-01,
RAT-03; the root step is :func:`kdf_rk`), the header layout (:class:`Header`, RAT-05), the
two halves of a DH ratchet step (:func:`_sending_half`, RAT-04 step 1; :func:`_new_chain`,
RAT-06 case 2) and the skipped-key store (:func:`store`, RAT-07). Snapshots (RAT-10, RAT-15)
are in ratchet_snapshot.py, ML-KEM-768 in kem.py.

A post-quantum session differs from a classic one only in those places: its initial keys
(``KDF_INIT_PQ``), its root step (``KDF_RK_PQ`` over ``dh_out ‖ ss``), its header (the
2312-byte layout carrying ``ek(KEMs)`` and ``KEMct``, :class:`Format`) and the KEM halves of a
DH step (:func:`_kem_sending_half`, :func:`_kem_receiving_half`). The KEM runs only at DH steps;
within a chain a message costs the classic work plus the longer header AEAD.
"""

from __future__ import annotations

import hmac
import struct
from dataclasses import dataclass, replace
from typing import Callable, NamedTuple, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from . import kem, keys, xchacha
from .errors import QuietwireError

U32_MAX = 2**32 - 1
KEY_LEN = 32
TAG_LEN = 16
HEADER_NONCE_LEN = xchacha.NONCE_LEN  # 24

# RAT-07
MAX_JUMP = 5000
MAX_SKIPPED = 5000
MAX_SKIPPED_CHAINS = 16

LABEL_INIT = "quietwire/v1/ratchet-init"
LABEL_ROOT = "quietwire/v1/ratchet-root"
LABEL_PQ_INIT = "quietwire/v1/ratchet-pq-init"  # RAT-11
LABEL_PQ_ROOT = "quietwire/v1/ratchet-pq-root"  # RAT-12
LABEL_CHAIN = "quietwire/v1/ratchet-chain"
LABEL_MESSAGE_KEY = "quietwire/v1/ratchet-message-key"
LABEL_MESSAGE = "quietwire/v1/ratchet-message"
LABEL_HEADER = "quietwire/v1/ratchet-header"
LABEL_BODY = "quietwire/v1/ratchet-body"

_INFO_INIT = keys.labeled_input(LABEL_INIT)
_INFO_ROOT = keys.labeled_input(LABEL_ROOT)
_INFO_PQ_INIT = keys.labeled_input(LABEL_PQ_INIT)
_INFO_PQ_ROOT = keys.labeled_input(LABEL_PQ_ROOT)
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


def kdf_init(sk: bytes, post_quantum: bool = False) -> tuple[bytes, bytes, bytes]:
    """RAT-01 ``KDF_INIT(SK)``, or RAT-11 ``KDF_INIT_PQ(SK)`` for a post-quantum session:
    ``(RK, HKa, NHKb)``."""
    okm = _hkdf(b"", sk, _INFO_PQ_INIT if post_quantum else _INFO_INIT, 96)
    return okm[0:32], okm[32:64], okm[64:96]


def kdf_rk(rk: bytes, dh_out: bytes, ss: bytes | None = None) -> tuple[bytes, bytes, bytes]:
    """The one root step of both halves: ``(RK', CK, NHK)``. RAT-03 ``KDF_RK(RK, dh_out)`` for a
    classic session (``ss`` is None); RAT-12 ``KDF_RK_PQ(RK, dh_out, ss)`` for a post-quantum
    one, ``ss`` the step's ML-KEM shared secret or 32 zero bytes."""
    if ss is None:
        okm = _hkdf(rk, dh_out, _INFO_ROOT, 96)
    else:
        okm = _hkdf(rk, dh_out + ss, _INFO_PQ_ROOT, 96)
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
# Message format (RAT-05, RAT-14)


class Format(NamedTuple):
    """The fixed sizes of a session's messages: ``message = EH ‖ body`` with
    ``EH = hn (24) ‖ XSEAL(header) (header_len + 16)`` and a 16-byte body tag."""

    header_len: int
    eh_len: int
    overhead: int

    @classmethod
    def for_header(cls, header_len: int) -> "Format":
        eh_len = HEADER_NONCE_LEN + header_len + TAG_LEN
        return cls(header_len, eh_len, eh_len + TAG_LEN)


_FIXED_LEN = 40  # dh (32) ‖ u32be(pn) ‖ u32be(n)
CLASSIC = Format.for_header(_FIXED_LEN)  # RAT-05: 40, 80, OVERHEAD = 96
POST_QUANTUM = Format.for_header(_FIXED_LEN + kem.EK_LEN + kem.CT_LEN)  # RAT-14: 2312, 2352, 2368


@dataclass(frozen=True)
class Header:
    """The plaintext header. Classic (RAT-05, 40 bytes): ``dh ‖ u32be(pn) ‖ u32be(n)``.
    Post-quantum (RAT-13 item 2, 2312 bytes): followed by ``kem_key`` (1184, ``ek(KEMs)``) and
    ``kem_ct`` (1088, ``KEMct`` or ``ZERO_CT``); both are None in a classic header."""

    dh: bytes
    pn: int
    n: int
    kem_key: bytes | None = None
    kem_ct: bytes | None = None

    def encode(self) -> bytes:
        fixed = self.dh + struct.pack(">II", self.pn, self.n)
        if self.kem_key is None or self.kem_ct is None:
            return fixed
        return fixed + self.kem_key + self.kem_ct

    @classmethod
    def parse(cls, h: bytes) -> "Header":
        """``h`` has the header length of its session's :class:`Format` (it was opened from an
        ``EH`` of that length). Nothing is validated here: ``dh`` and ``kem_key`` only when
        they are used (RAT-05, RAT-06 step 2.3, RAT-14 item 1)."""
        pn, n = struct.unpack(">II", h[32:_FIXED_LEN])
        if len(h) == CLASSIC.header_len:
            return cls(h[0:32], pn, n)
        kem_key, kem_ct = h[_FIXED_LEN : _FIXED_LEN + kem.EK_LEN], h[_FIXED_LEN + kem.EK_LEN :]
        return cls(h[0:32], pn, n, kem_key, kem_ct)


def seal_header(hk: bytes, ad: bytes, hn: bytes, header: Header) -> bytes:
    """RAT-04 step 6: ``EH = hn ‖ XSEAL(HKs, hn, HeaderAD(AD), header)``, 80 bytes (2352 in a
    post-quantum session, RAT-13 item 2)."""
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
    """The state of one side (§6.2); ``None`` is "none". ``skipped`` is oldest first. A
    post-quantum session (RAT-11) also keeps ``KEMs`` (``kems``, a key pair held as its seed),
    ``KEMr`` (``kemr``) and ``KEMct`` (``kemct``) of §6.18; a classic one keeps them None."""

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
    post_quantum: bool = False
    kems: kem.KeyPair | None = None
    kemr: bytes | None = None
    kemct: bytes | None = None

    @property
    def format(self) -> Format:
        """RAT-05 or RAT-14: the layout of this session's messages (fixed for its lifetime)."""
        return POST_QUANTUM if self.post_quantum else CLASSIC

    def can_send(self) -> bool:
        """RAT-02: ``CKs`` is not none, or a sending half is pending and ``DHr`` is known."""
        return self.cks is not None or (self.pending and self.dhr is not None)


def _check_key_lengths(*values: bytes) -> None:
    if any(len(v) != KEY_LEN for v in values):
        raise ValueError("SK, AD and ratchet keys are 32 bytes")


def init_initiator(sk: bytes, ad: bytes, responder_public: bytes, post_quantum: bool = False) -> State:
    """RAT-01, initiator: no DH yet, its first sending half runs at its first encryption.
    The responder's ratchet public key is validated as in SUI-06. A post-quantum session
    (RAT-11) starts from ``KDF_INIT_PQ`` with no KEM state."""
    _check_key_lengths(sk, ad, responder_public)
    keys.check_x25519_public_key(responder_public)
    rk, hka, nhkb = kdf_init(sk, post_quantum)
    return State(
        ad=bytes(ad), dhs=None, dhr=bytes(responder_public), rk=rk, cks=None, ckr=None,
        hks=None, hkr=None, nhks=hka, nhkr=nhkb, ns=0, nr=0, pn=0, pending=True, skipped=(),
        post_quantum=post_quantum,
    )


def init_responder(sk: bytes, ad: bytes, ratchet_secret: bytes, post_quantum: bool = False) -> State:
    """RAT-01, responder: its ratchet key pair, nothing to send before its first receipt.
    A post-quantum session (RAT-11) starts from ``KDF_INIT_PQ`` with no KEM state."""
    _check_key_lengths(sk, ad, ratchet_secret)
    rk, hka, nhkb = kdf_init(sk, post_quantum)
    return State(
        ad=bytes(ad), dhs=KeyPair.from_secret(ratchet_secret), dhr=None, rk=rk, cks=None,
        ckr=None, hks=None, hkr=None, nhks=nhkb, nhkr=hka, ns=0, nr=0, pn=0, pending=False,
        skipped=(), post_quantum=post_quantum,
    )


# ---------------------------------------------------------------------------
# Encryption (RAT-02, RAT-04)


def encrypt(state: State, plaintext: bytes, draw: Draw) -> tuple[bytes, State]:
    """RAT-04 ``RatchetEncrypt`` (RAT-13 for a post-quantum session): ``(message,
    successor)``. Draws 32 + 24 bytes when a sending half is due (post-quantum: 32 + 64 + 32
    + 24, or 32 + 64 + 24 without ``KEMr``), 24 otherwise; a refusal draws nothing (32 bytes
    at step 1.3)."""
    if state.pending:
        state = _sending_half(state, draw)  # step 1 (a new value: the caller's is unchanged)
    if state.cks is None or state.hks is None or state.dhs is None:  # step 2
        raise QuietwireError("ratchet.no_sending_chain")
    if state.ns == U32_MAX:  # step 3
        raise QuietwireError("ratchet.exhausted", "the sending chain carries 2^32 - 1 messages")
    ck, mk = kdf_ck(state.cks)  # step 4
    header = _header(state, state.dhs.public)  # step 5
    eh = seal_header(state.hks, state.ad, draw(HEADER_NONCE_LEN), header)  # step 6
    message = eh + _seal_body(state.ad, eh, mk, plaintext)  # step 7
    return message, replace(state, cks=ck, ns=state.ns + 1)  # step 8


def _header(state: State, dh: bytes) -> Header:
    """RAT-04 step 5; RAT-13 item 2 adds ``ek(KEMs)`` and ``KEMct or ZERO_CT``. ``KEMs`` is
    present whenever ``CKs`` is (RAT-15 step 7)."""
    if not state.post_quantum:
        return Header(dh, state.pn, state.ns)
    assert state.kems is not None
    return Header(dh, state.pn, state.ns, state.kems.ek, state.kemct or kem.ZERO_CT)


def _sending_half(state: State, draw: Draw) -> State:
    """RAT-04 step 1, the sending half of a DH ratchet step (RAT-13 item 1 adds the KEM
    after step 1.3, so a non-contributory DH fails having drawn 32 bytes)."""
    if state.dhr is None:  # 1.1 (RAT-02 b)
        raise QuietwireError("ratchet.no_sending_chain", "no peer ratchet key")
    pair = KeyPair.from_secret(draw(KEY_LEN))  # 1.2
    dh_out = keys.x25519_dh(pair.secret, state.dhr)  # 1.3: all zero is key.low_order
    kem_state, ss = _kem_sending_half(state, draw) if state.post_quantum else ({}, None)
    rk, cks, nhk = kdf_rk(state.rk, dh_out, ss)  # 1.4 (RAT-13 1.3: KDF_RK_PQ)
    return replace(
        state, rk=rk, cks=cks, pn=state.ns, ns=0, hks=state.nhks, nhks=nhk, dhs=pair, pending=False,
        **kem_state,
    )


def _kem_sending_half(state: State, draw: Draw) -> tuple[dict, bytes]:
    """RAT-13 items 1.1 and 1.2: a new ML-KEM-768 key pair from ``rng.draw(64)``, and, when the
    peer's key ``KEMr`` is known, an encapsulation to it with ``m = rng.draw(32)``; the
    initiator's first sending half encapsulates nothing (``ss`` 32 zero bytes, ``ct`` none).
    Returns the successor's ``KEMs``, ``KEMr`` (none), ``KEMct`` (item 1.3) and ``ss``."""
    pair = kem.KeyPair.from_seed(draw(kem.SEED_LEN))
    if state.kemr is None:
        ss, ct = bytes(kem.SS_LEN), None
    else:
        ss, ct = kem.encapsulate(state.kemr, draw(kem.MESSAGE_LEN))
    return {"kems": pair, "kemr": None, "kemct": ct}, ss


# ---------------------------------------------------------------------------
# Decryption (RAT-05, RAT-06, RAT-09)


def decrypt(state: State, message: bytes) -> tuple[bytes, State]:
    """RAT-06 ``RatchetDecrypt``: ``(plaintext, successor)``. Header keys are tried in the
    order ``HKr``, ``NHKr``, then the stored header keys; the first that opens decides. The
    lengths are those of the session's :class:`Format` (RAT-05, RAT-14)."""
    fmt = state.format
    if len(message) < fmt.overhead:
        raise QuietwireError("ratchet.format", f"message of {len(message)} bytes")  # RAT-05, RAT-14
    eh, body = bytes(message[: fmt.eh_len]), bytes(message[fmt.eh_len :])
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
    ratchet step (with RAT-14 items 1 to 4 in a post-quantum session). The sending half
    follows at the next encryption (``pending``)."""
    if state.dhs is None:  # 2.1
        raise QuietwireError("ratchet.header", "no own ratchet key")
    tail = _previous_chain_tail(state, h.pn)  # 2.2
    keys.check_x25519_public_key(h.dh)  # 2.3
    dh_out = keys.x25519_dh(state.dhs.secret, h.dh)  # 2.4
    ss = _kem_receiving_half(state, h) if state.post_quantum else None  # RAT-14 items 1, 2
    rk, ck, nhk = kdf_rk(state.rk, dh_out, ss)  # RAT-14 item 3: KDF_RK_PQ
    new, mk, ckr, nr = skip_message_keys(state.nhkr, ck, 0, h.n)  # 2.5
    plaintext = _open_body(state.ad, eh, mk, body)
    return plaintext, replace(  # 2.6
        state,
        skipped=store(state.skipped, tail + new),
        dhr=h.dh, rk=rk, hkr=state.nhkr, nhkr=nhk, ckr=ckr, nr=nr, pending=True,
        kemr=h.kem_key,  # RAT-14 item 4 (None in a classic session)
    )


def _kem_receiving_half(state: State, h: Header) -> bytes:
    """RAT-14 items 1 and 2: ``kem_key`` passes the FIPS 203 §7.2 check (``key.invalid``);
    a ciphertext exactly when this side holds ``KEMs`` (else ``ratchet.kem``, the comparison
    with ``ZERO_CT`` in constant time). Returns ``ss``: ``Decaps(dk(KEMs), kem_ct)``, or 32
    zero bytes for the responder before its first sending half."""
    assert h.kem_key is not None and h.kem_ct is not None
    kem.check_encapsulation_key(h.kem_key)
    no_ciphertext = hmac.compare_digest(h.kem_ct, kem.ZERO_CT)
    if state.kems is None:
        if not no_ciphertext:
            raise QuietwireError("ratchet.kem", "a ciphertext, but no own KEM key pair")
        return bytes(kem.SS_LEN)
    if no_ciphertext:
        raise QuietwireError("ratchet.kem", "no ciphertext for the own KEM key pair")
    return kem.decapsulate(state.kems, h.kem_ct)


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
