"""Ratchet snapshots of spec/06-ratchet.md §6.11 (RAT-10): the canonical CBOR map
``ratchet-snapshot`` of spec/quietwire.cddl, exported from a :class:`ratchet.State` and
restored with every check of RAT-10, in its order, each with its class.

Keys: 1 version, 2 ``AD``, 3 ``DHs`` (the secret), 4 ``DHr``, 5 ``RK``, 6 ``CKs``, 7 ``CKr``,
8 ``Ns``, 9 ``Nr``, 10 ``PN``, 11 ``HKs``, 12 ``HKr``, 13 ``NHKs``, 14 ``NHKr``, 15 ``pending``,
16 ``MKSKIPPED`` (``[HK, n, MK]`` entries, oldest first). An optional key is absent exactly
when its value is none.
"""

from __future__ import annotations

from typing import Any

from . import cbor, keys, ratchet, structure
from .errors import QuietwireError
from .ratchet import KEY_LEN, U32_MAX, KeyPair, Skipped, State

VERSION = 1
MAX_SNAPSHOT = 1024 + ratchet.MAX_SKIPPED * 80  # 401024 bytes
# RAT-10 step 2: strings of at most 64 bytes, at most 5000 items, depth 3 (map, array, entry).
LIMITS = cbor.Limits(max_input=MAX_SNAPSHOT, max_depth=3, max_string=64, max_items=ratchet.MAX_SKIPPED)
KEYS = range(2, 17)


# ---------------------------------------------------------------------------
# Export


def encode(state: State) -> bytes:
    """RAT-10: the canonical encoding of a state (keys ascending, none values absent)."""
    m: dict[int, Any] = {
        1: VERSION,
        2: state.ad,
        3: None if state.dhs is None else state.dhs.secret,
        4: state.dhr,
        5: state.rk,
        6: state.cks,
        7: state.ckr,
        8: state.ns,
        9: state.nr,
        10: state.pn,
        11: state.hks,
        12: state.hkr,
        13: state.nhks,
        14: state.nhkr,
        15: state.pending,
        16: [list(e) for e in state.skipped],
    }
    return cbor.encode({k: v for k, v in m.items() if v is not None})


# ---------------------------------------------------------------------------
# Restore


def restore(data: bytes) -> State:
    """RAT-10: restore a snapshot, checks 1 to 8 in order; the first that fails gives the
    class."""
    m = cbor.decode(data, LIMITS)  # 1 (cbor.limit.input), 2
    structure.check_top_level_map(m, KEYS)  # 3, 4 (non-negative keys)
    for k in m:  # 4: closed, no extension keys
        if k < 0:
            raise QuietwireError("schema.unknown_critical", f"key {k}")
    state = _fields(m)  # 5, 6
    _check_consistency(state)  # 7
    if state.dhr is not None:  # 8
        keys.check_x25519_public_key(state.dhr)
    return state


def _fields(m: dict[int, Any]) -> State:
    """Steps 5 and 6: the fields in key order 2 to 16 (the arguments are evaluated in this
    order), then the entries of key 16."""
    ad = _key(m, 2, "AD")
    dhs = _key(m, 3, "DHs", optional=True)
    return State(
        ad=ad,
        dhs=None if dhs is None else KeyPair.from_secret(dhs),
        dhr=_key(m, 4, "DHr", optional=True),
        rk=_key(m, 5, "RK"),
        cks=_key(m, 6, "CKs", optional=True),
        ckr=_key(m, 7, "CKr", optional=True),
        ns=_counter(m, 8, "Ns"),
        nr=_counter(m, 9, "Nr"),
        pn=_counter(m, 10, "PN"),
        hks=_key(m, 11, "HKs", optional=True),
        hkr=_key(m, 12, "HKr", optional=True),
        nhks=_key(m, 13, "NHKs"),
        nhkr=_key(m, 14, "NHKr"),
        pending=structure.field_bool(m, 15, "pending"),
        skipped=tuple(_entry(e) for e in structure.field_array(m, 16, "MKSKIPPED")),
    )


def _key(m: dict[int, Any], key: int, name: str, optional: bool = False) -> bytes | None:
    """Step 5, a 32-byte key: presence, type (``schema.wrong_type``), length
    (``schema.length``)."""
    if optional and key not in m:
        return None
    return structure.field_bstr(m, key, name, KEY_LEN)


def _counter(m: dict[int, Any], key: int, name: str) -> int:
    """Step 5, a u32 counter: presence, type (a negative integer is a wrong type), range."""
    v = structure.field_uint(m, key, name)
    if v > U32_MAX:
        raise QuietwireError("schema.range", f"{name} = {v}")
    return v


def _entry(e: Any) -> Skipped:
    """Step 6, one entry ``[HK, n, MK]``: array, 3 items, the three types, the range of
    ``n``, then the lengths of ``HK`` and ``MK``."""
    if not isinstance(e, list):
        raise QuietwireError("schema.wrong_type", "skipped entry is not an array")
    if len(e) != 3:
        raise QuietwireError("schema.length", f"skipped entry of {len(e)} items")
    hk, n, mk = e
    if not (isinstance(hk, bytes) and cbor.is_uint(n) and isinstance(mk, bytes)):
        raise QuietwireError("schema.wrong_type", "skipped entry is not [bstr, uint, bstr]")
    if n > U32_MAX:
        raise QuietwireError("schema.range", f"skipped entry n = {n}")
    for what, key in (("header key", hk), ("message key", mk)):
        if len(key) != KEY_LEN:
            raise QuietwireError("schema.length", f"skipped entry {what} of {len(key)} bytes")
    return Skipped(hk, n, mk)


def _check_consistency(s: State) -> None:
    """Step 7: the fields agree with each other (every state RAT-01 .. RAT-09 produce does),
    else ``ratchet.state``."""
    rules = (
        ((s.cks is None) == (s.hks is None), "CKs present exactly when HKs is"),
        ((s.ckr is None) == (s.hkr is None), "CKr present exactly when HKr is"),
        (s.cks is None or s.dhs is not None, "CKs only with DHs"),
        (s.ckr is None or s.dhr is not None, "CKr only with DHr"),
        (not s.pending or s.dhr is not None, "pending only with DHr"),
        (s.ns == 0 or s.cks is not None, "Ns > 0 only with CKs"),
        (s.nr == 0 or s.ckr is not None, "Nr > 0 only with CKr"),
        (ratchet.chain_count(s.skipped) <= ratchet.MAX_SKIPPED_CHAINS, "at most 16 runs of skipped keys"),
        (len({(e.hk, e.n) for e in s.skipped}) == len(s.skipped), "no two entries with one HK and n"),
    )
    for ok, rule in rules:
        if not ok:
            raise QuietwireError("ratchet.state", rule)
