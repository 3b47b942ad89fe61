"""Ratchet snapshots of spec/06-ratchet.md §6.11 and §6.22 (RAT-10, RAT-15): the canonical
CBOR map ``ratchet-snapshot`` of spec/quietwire.cddl, exported from a :class:`ratchet.State`
and restored with every check of RAT-10 (as amended by RAT-15), in its order, each with its
class. Version 1 is a classic session, version 2 a post-quantum one.

Keys: 1 version, 2 ``AD``, 3 ``DHs`` (the secret), 4 ``DHr``, 5 ``RK``, 6 ``CKs``, 7 ``CKr``,
8 ``Ns``, 9 ``Nr``, 10 ``PN``, 11 ``HKs``, 12 ``HKr``, 13 ``NHKs``, 14 ``NHKr``, 15 ``pending``,
16 ``MKSKIPPED`` (``[HK, n, MK]`` entries, oldest first); version 2 only: 17 ``KEMs`` (the
64-byte seed), 18 ``KEMr``, 19 ``KEMct``. An optional key is absent exactly when its value is
none.
"""

from __future__ import annotations

from typing import Any

from . import cbor, kem, keys, ratchet, structure
from .errors import QuietwireError
from .ratchet import KEY_LEN, U32_MAX, KeyPair, Skipped, State

CLASSIC, POST_QUANTUM = 1, 2  # RAT-10, RAT-15
KEYS = {CLASSIC: range(2, 17), POST_QUANTUM: range(2, 20)}  # RAT-10 step 4, RAT-15
MAX_SNAPSHOT = 4096 + ratchet.MAX_SKIPPED * 80  # 404096 bytes, both versions
# RAT-10 step 2, both versions: strings of at most 1184 bytes (key 18), at most 5000 items,
# depth 3 (map, array, entry).
LIMITS = cbor.Limits(
    max_input=MAX_SNAPSHOT, max_depth=3, max_string=kem.EK_LEN, max_items=ratchet.MAX_SKIPPED
)


# ---------------------------------------------------------------------------
# Export


def encode(state: State) -> bytes:
    """RAT-10, RAT-15: the canonical encoding of a state (keys ascending, none values absent),
    version 2 with keys 17 to 19 for a post-quantum session."""
    m: dict[int, Any] = {
        1: POST_QUANTUM if state.post_quantum else CLASSIC,
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
        17: None if state.kems is None else state.kems.seed,
        18: state.kemr,
        19: state.kemct,
    }
    return cbor.encode({k: v for k, v in m.items() if v is not None})


# ---------------------------------------------------------------------------
# Restore


def restore(data: bytes) -> State:
    """RAT-10 (RAT-15 for version 2): restore a snapshot, checks 1 to 8 in order; the first
    that fails gives the class. Version 1 restores a classic session, version 2 a
    post-quantum one."""
    m = cbor.decode(data, LIMITS)  # 1 (cbor.limit.input), 2
    version = structure.check_version(m, (CLASSIC, POST_QUANTUM))  # 3
    structure.check_unknown_keys(m, KEYS[version])  # 4 (non-negative keys)
    for k in m:  # 4: closed, no extension keys
        if k < 0:
            raise QuietwireError("schema.unknown_critical", f"key {k}")
    state = _fields(m, version)  # 5, 6
    _check_consistency(state)  # 7
    if state.dhr is not None:  # 8
        keys.check_x25519_public_key(state.dhr)
    if state.kemr is not None:  # 8 (RAT-15: the check of RAT-14 item 1)
        kem.check_encapsulation_key(state.kemr)
    return state


def _fields(m: dict[int, Any], version: int) -> State:
    """Steps 5 and 6: the fields in key order 2 to 16, 2 to 19 in version 2 (RAT-15; the
    arguments are evaluated in this order), then the entries of key 16."""
    ad = _key(m, 2, "AD")
    dhs = _key(m, 3, "DHs", optional=True)
    fields = dict(
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
    )
    entries = structure.field_array(m, 16, "MKSKIPPED")
    kem_state = _kem_fields(m) if version == POST_QUANTUM else {}
    skipped = tuple(_entry(e) for e in entries)  # 6
    return State(**fields, skipped=skipped, **kem_state)


def _kem_fields(m: dict[int, Any]) -> dict[str, Any]:
    """RAT-15 step 5, keys 17 to 19 of version 2 in key order: the KEM state of a
    post-quantum session, ``KEMs`` computed from its seed (the own encapsulation key is not
    stored)."""
    seed = _key(m, 17, "KEMs", optional=True, length=kem.SEED_LEN)
    kemr = _key(m, 18, "KEMr", optional=True, length=kem.EK_LEN)
    kemct = _key(m, 19, "KEMct", optional=True, length=kem.CT_LEN)
    kems = None if seed is None else kem.KeyPair.from_seed(seed)
    return dict(post_quantum=True, kems=kems, kemr=kemr, kemct=kemct)


def _key(
    m: dict[int, Any], key: int, name: str, optional: bool = False, length: int = KEY_LEN
) -> bytes | None:
    """Step 5, a byte string of fixed length (32 bytes unless given): presence, type
    (``schema.wrong_type``), length (``schema.length``)."""
    if optional and key not in m:
        return None
    return structure.field_bstr(m, key, name, length)


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
    """Step 7: the fields agree with each other (every state RAT-01 .. RAT-09 and RAT-13,
    RAT-14 produce does), else ``ratchet.state``."""
    rules = _classic_rules(s) + (_post_quantum_rules(s) if s.post_quantum else ())
    for ok, rule in rules:
        if not ok:
            raise QuietwireError("ratchet.state", rule)


def _classic_rules(s: State) -> tuple[tuple[bool, str], ...]:
    """RAT-10 step 7."""
    return (
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


def _post_quantum_rules(s: State) -> tuple[tuple[bool, str], ...]:
    """RAT-15 step 7, version 2 only."""
    return (
        ((s.kems is None) == (s.cks is None), "KEMs present exactly when CKs is"),
        ((s.kemr is not None) == (s.pending and s.ckr is not None), "KEMr exactly when pending and CKr"),
        (s.kemct is None or s.cks is not None, "KEMct only with CKs"),
    )
