"""Signed device records of spec/03-identity.md §3.3 (IDN-02 .. IDN-06), of version 1 (signed
by the identity key) and version 2 (signed by a device key that the held device list names,
§3.6 DEV-04), the record kept from a ``device-record`` event (spec/07-envelope.md ENV-07), and
stored device keys (§3.2.1, IDN-07). Device lists themselves are in device_list.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from . import cbor, keys, structure
from .device_list import DeviceList
from .errors import QuietwireError

MAX_RECORD = 4096  # IDN-04
LIMITS = cbor.SIGNED_STRUCTURE_LIMITS

K_VERSION, K_SUITE, K_IDENTITY, K_KEM, K_RATCHET, K_GENERATION = 1, 2, 3, 4, 5, 6
K_DEVICE = 7  # version 2 only


@dataclass
class DeviceRecord:
    suite: int
    identity_key: bytes
    kem_key: bytes
    ratchet_key: bytes
    generation: int
    extensions: dict[int, Any] = field(default_factory=dict)
    encoded: bytes = b""  # the record bytes as received / produced
    version: int = 1
    device_key: bytes | None = None  # field 7, version 2 only


def create_device_record(
    suite_id: int,
    identity_seed: bytes,
    kem_seed: bytes,
    ratchet_secret: bytes,
    generation: int = 0,
    extensions: dict[int, Any] | None = None,
    device_seed: bytes | None = None,
) -> bytes:
    """IDN-01, IDN-02: derive the three public keys and sign the body. Without
    ``device_seed``, a version-1 record signed with the identity seed; with it, a version-2
    record naming the device key of that Ed25519 seed (field 7) and signed with it, valid only
    for a verifier whose held list names that key (DEV-04)."""
    suite = keys.resolve_suite(suite_id)
    _, identity_key = keys.ed25519_keypair(identity_seed)
    kem_key = keys.kem_derive_public(suite, kem_seed)
    ratchet_key = keys.x25519_public(ratchet_secret)
    body_map: dict[int, Any] = {
        K_VERSION: 1,
        K_SUITE: suite.id,
        K_IDENTITY: identity_key,
        K_KEM: kem_key,
        K_RATCHET: ratchet_key,
        K_GENERATION: generation,
    }
    signer_seed = identity_seed
    if device_seed is not None:
        _, device_key = keys.ed25519_keypair(device_seed)
        body_map[K_VERSION] = 2
        body_map[K_DEVICE] = device_key
        signer_seed = device_seed
    for k, v in (extensions or {}).items():
        if k >= 0:
            raise ValueError("extensions use negative keys only (ENC-12)")
        body_map[k] = v
    body = cbor.encode(body_map)
    sig = keys.ed25519_sign(signer_seed, keys.labeled_input(keys.LABEL_DEVICE_RECORD, body))
    return structure.encode_signed(body, sig)


# IDN-07: stored device keys, a closed map; local state of one device.
DEVICE_KEYS_LIMITS = cbor.Limits(max_input=128, max_depth=1, max_string=64, max_items=8)


@dataclass
class DeviceKeys:
    suite: int
    identity_key: bytes
    kem_key: bytes
    ratchet_key: bytes
    encoded: bytes  # the keys encoded again


def load_device_keys(data: bytes) -> DeviceKeys:
    """IDN-07, steps 1 to 5 in order, then the key pairs derived as in IDN-01."""
    m = cbor.decode(bytes(data), DEVICE_KEYS_LIMITS)  # 1
    structure.check_top_level_map(m, range(1, 6))  # 2, 3 (non-negative keys)
    if any(k < 0 for k in m):  # 3: closed, no extensions
        raise QuietwireError("schema.unknown_critical", "stored device keys carry no extensions")
    suite_id = structure.field_uint(m, K_SUITE, "suite")  # 4
    identity_seed = structure.field_bstr(m, 3, "identity seed", 32)
    kem_seed = structure.field_bstr(m, 4, "KEM seed", 32)
    ratchet_secret = structure.field_bstr(m, 5, "ratchet secret", 32)
    suite = keys.resolve_suite(suite_id)  # 5: no policy, the keys are the device's own
    _, identity_key = keys.ed25519_keypair(identity_seed)
    encoded = cbor.encode(
        {1: 1, K_SUITE: suite.id, 3: identity_seed, 4: kem_seed, 5: ratchet_secret}
    )
    return DeviceKeys(
        suite=suite.id,
        identity_key=identity_key,
        kem_key=keys.kem_derive_public(suite, kem_seed),
        ratchet_key=keys.x25519_public(ratchet_secret),
        encoded=encoded,
    )


def held_list_for(identity_key: bytes, held_lists: Iterable[DeviceList]) -> DeviceList | None:
    """The list held for ``identity_key`` among ``held_lists``: a list is held for the
    identity whose key signed it (its field 2, DEV-03), so a held list of another identity
    does not count (vector ``v2-list-of-other-identity``)."""
    for lst in held_lists:
        if lst.identity_key == identity_key:
            return lst
    return None


def verify_device_record(
    record: bytes,
    allowed_suites: Iterable[int] = keys.DEFAULT_ALLOWED_SUITES,
    held_lists: Iterable[DeviceList] = (),
) -> DeviceRecord:
    """IDN-05, steps 1 to 15 in order. ``held_lists``: the device lists the verifier holds
    (each accepted by DEV-03, at most one per identity); without one for the record's
    identity only version-1 records are valid, with one only version-2 records whose device
    key it names (DEV-04)."""
    record = bytes(record)
    # 1 .. 4 (cbor.decode checks max_input first)
    body, sig, m = structure.decode_signed(record, LIMITS)
    # 5, 6
    version = structure.check_version(m, (1, 2))
    structure.check_unknown_keys(m, range(1, 7 if version == 1 else 8))
    # 7
    suite_id = structure.field_uint(m, K_SUITE, "suite")
    identity_key = structure.field_bstr(m, K_IDENTITY, "identity_key", 32)
    kem_key = structure.field_bstr(m, K_KEM, "kem_key")
    ratchet_key = structure.field_bstr(m, K_RATCHET, "ratchet_key", 32)
    generation = structure.field_uint(m, K_GENERATION, "generation")
    device_key = structure.field_bstr(m, K_DEVICE, "device_key", 32) if version == 2 else None
    # 8
    suite = keys.resolve_suite(suite_id, allowed_suites)
    # 9 (length) then 10, 11, 12
    if len(kem_key) != suite.kem_public_key_len:
        raise QuietwireError("schema.length", f"kem_key of {len(kem_key)} bytes")
    keys.check_ed25519_public_key(identity_key)
    keys.check_kem_public_key(suite, kem_key)
    keys.check_x25519_public_key(ratchet_key)
    # 13
    if device_key is not None:
        keys.check_ed25519_public_key(device_key)
    # 14 (DEV-04)
    held = held_list_for(identity_key, held_lists)
    if held is not None and device_key is None:
        raise QuietwireError("device.not_listed", "a version-1 record while a list is held")
    if held is not None and not held.names(device_key):
        raise QuietwireError("device.not_listed", "device key not on the held list")
    if held is None and device_key is not None:
        raise QuietwireError("device.not_listed", "a version-2 record while no list is held")
    # 15: the signer is the identity key (version 1) or the device key (version 2)
    signer = identity_key if device_key is None else device_key
    keys.verify_strict(signer, keys.labeled_input(keys.LABEL_DEVICE_RECORD, body), sig)
    return DeviceRecord(
        suite=suite.id,
        identity_key=identity_key,
        kem_key=kem_key,
        ratchet_key=ratchet_key,
        generation=generation,
        extensions=structure.extensions(m),
        encoded=record,
        version=version,
        device_key=device_key,
    )


def newer_record(
    record: bytes,
    allowed_suites: Iterable[int],
    peer_identity: bytes,
    held_generation: int | None,
) -> DeviceRecord:
    """ENV-07: the record of a ``device-record`` event from the session peer replaces the one
    kept (of ``held_generation``; ``None``: none kept) only if it verifies (IDN-05), is of the
    peer's identity and of a higher generation, checked in that order. Raises the class of the
    first failed check: the record is then ignored (the event itself is still delivered)."""
    r = verify_device_record(record, allowed_suites)
    if r.identity_key != bytes(peer_identity):
        raise QuietwireError("identity.mismatch", "record of another identity than the peer's")
    if held_generation is not None and r.generation <= held_generation:
        raise QuietwireError(
            "identity.generation", f"generation {r.generation} where {held_generation} is kept"
        )
    return r
