"""Signed device lists of spec/03-identity.md §3.6: issuing (DEV-01), verification with the
check order of DEV-02, and acceptance for a contact (DEV-03). The records checked against a
held list (DEV-04, IDN-05 steps 13 to 15) are in identity.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from . import cbor, keys, structure
from .errors import QuietwireError

MAX_DEVICES = 16  # DEV-01
MAX_DEVICE_LIST = 2048  # DEV-02 step 1
# DEV-02 step 2: the limits of IDN-04 but max_input 2048, for the outer array and the body.
LIMITS = cbor.Limits(max_input=MAX_DEVICE_LIST)

K_VERSION, K_IDENTITY, K_LIST_VERSION, K_DEVICES, K_CHANGE, K_ISSUED = 1, 2, 3, 4, 5, 6
DEVICE_KEY_LEN = 32
UINT64_MAX = 2**64 - 1

# Field 5 (Table 3-3): why the list was issued.
CHANGE_FIRST, CHANGE_LINKED, CHANGE_REMOVED, CHANGE_RESTORED = 0, 1, 2, 3
MAX_CHANGE = CHANGE_RESTORED


@dataclass
class DeviceList:
    identity_key: bytes
    version: int  # list_version, field 3
    devices: tuple[bytes, ...]  # in the list's order (strictly ascending once verified)
    change: int
    issued: int
    extensions: dict[int, Any] = field(default_factory=dict)
    encoded: bytes = b""  # the list bytes as received / produced

    def names(self, device_key: bytes) -> bool:
        return bytes(device_key) in self.devices


def _check_devices(devices: list[bytes]) -> None:
    """DEV-02 steps 8, 10 and 11 (step 9, the change, sits between 8 and 10 in verification)."""
    if len(set(devices)) != len(devices):
        raise QuietwireError("device.duplicate", "a device is named twice")
    if any(devices[i] >= devices[i + 1] for i in range(len(devices) - 1)):
        raise QuietwireError("device.order", "devices not in strictly ascending bytewise order")


def create_device_list(
    identity_seed: bytes,
    version: int,
    devices: Iterable[bytes],
    change: int,
    issued: int,
    extensions: dict[int, Any] | None = None,
) -> bytes:
    """DEV-01: sort the devices, write every field, sign with the identity seed.

    Refuses, with the class verification would give, what DEV-01 forbids an issuer to write:
    no device (``schema.length``), a device key not of 32 bytes (``schema.length``), more than
    ``MAX_DEVICES`` (``device.too_many``), a change above 3 (``schema.range``), a device given
    twice (``device.duplicate``), a device key failing SUI-04 (``key.*``). ``version`` and
    ``issued`` must be unsigned 64-bit integers (``ValueError`` otherwise)."""
    devs = [bytes(d) for d in devices]
    for name, v in (("version", version), ("issued", issued), ("change", change)):
        if not cbor.is_uint(v) or v > UINT64_MAX:
            raise ValueError(f"{name} must be an unsigned 64-bit integer")
    if not devs:
        raise QuietwireError("schema.length", "a device list names at least one device")
    if any(len(d) != DEVICE_KEY_LEN for d in devs):
        raise QuietwireError("schema.length", "a device key is not 32 bytes")
    if len(devs) > MAX_DEVICES:
        raise QuietwireError("device.too_many", f"{len(devs)} devices")
    if change > MAX_CHANGE:
        raise QuietwireError("schema.range", f"change {change}")
    devs.sort()
    _check_devices(devs)  # duplicates; sorted, so never out of order
    for d in devs:
        keys.check_ed25519_public_key(d)
    _, identity_key = keys.ed25519_keypair(identity_seed)
    body_map: dict[int, Any] = {
        K_VERSION: 1,
        K_IDENTITY: identity_key,
        K_LIST_VERSION: version,
        K_DEVICES: devs,
        K_CHANGE: change,
        K_ISSUED: issued,
    }
    for k, v in (extensions or {}).items():
        if k >= 0:
            raise ValueError("extensions use negative keys only (ENC-12)")
        body_map[k] = v
    body = cbor.encode(body_map)
    sig = keys.ed25519_sign(identity_seed, keys.labeled_input(keys.LABEL_DEVICE_LIST, body))
    return structure.encode_signed(body, sig)


def verify_device_list(data: bytes) -> DeviceList:
    """DEV-02, steps 1 to 12 in order; the class of the first failing step."""
    data = bytes(data)
    # 1 .. 4 (cbor.decode checks max_input before decoding anything)
    body, sig, m = structure.decode_signed(data, LIMITS)
    # 5, 6
    structure.check_top_level_map(m, range(1, 7))
    # 7: keys 2 to 6 in order, each field's checks in full before the next (ENC-13 step 3)
    identity_key = structure.field_bstr(m, K_IDENTITY, "identity_key", DEVICE_KEY_LEN)
    version = structure.field_uint(m, K_LIST_VERSION, "list_version")
    devices = structure.field_array(m, K_DEVICES, "devices")
    change = structure.field_uint(m, K_CHANGE, "change")
    if change > MAX_CHANGE:
        raise QuietwireError("schema.range", f"change {change}")
    issued = structure.field_uint(m, K_ISSUED, "issued")
    # 8: the array's contents after every field (ENC-13 step 4): count, then the items
    if not devices:
        raise QuietwireError("schema.length", "no device")
    if len(devices) > MAX_DEVICES:
        raise QuietwireError("device.too_many", f"{len(devices)} devices")
    for i, d in enumerate(devices):
        if not isinstance(d, bytes):
            raise QuietwireError("schema.wrong_type", f"device {i} is not a byte string")
        if len(d) != DEVICE_KEY_LEN:
            raise QuietwireError("schema.length", f"device {i} is {len(d)} bytes")
    # 9, 10
    _check_devices(devices)
    # 11: the identity key, then each device key in the list's order (SUI-04)
    keys.check_ed25519_public_key(identity_key)
    for d in devices:
        keys.check_ed25519_public_key(d)
    # 12: strict, over the body bytes as received (SUI-05)
    keys.verify_strict(identity_key, keys.labeled_input(keys.LABEL_DEVICE_LIST, body), sig)
    return DeviceList(
        identity_key=identity_key,
        version=version,
        devices=tuple(devices),
        change=change,
        issued=issued,
        extensions=structure.extensions(m),
        encoded=data,
    )


def accept_device_list(
    data: bytes, pinned_identity: bytes, held_version: int | None = None
) -> DeviceList:
    """DEV-03: a list for a contact whose identity key is ``pinned_identity``, while the list
    held for that identity has version ``held_version`` (``None``: none held). Verified first
    (DEV-02), then ``identity.mismatch``, then ``device.stale`` for a version not higher than
    the held one (an equal version with other contents included). The caller keeps the result
    as the new held list; a refused list changes nothing."""
    lst = verify_device_list(data)
    if lst.identity_key != bytes(pinned_identity):
        raise QuietwireError("identity.mismatch", "a list of another identity than the pinned one")
    if held_version is not None and lst.version <= held_version:
        raise QuietwireError("device.stale", f"version {lst.version} while holding {held_version}")
    return lst
