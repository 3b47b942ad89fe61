"""Tests of quietwire_py/device_list.py and the version-2 records of identity.py
(spec/03-identity.md §3.6, DEV-01 .. DEV-04; IDN-02, IDN-05 steps 13 to 15).

    python3 -m unittest discover -s conformance/python/tests

device_record.json checks verification against fixed bytes; these tests check what the vectors
cannot: the issuer's refusals and a version-2 record made here verified against lists made here.
"""

from __future__ import annotations

import hashlib
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quietwire_py import device_list, identity, keys  # noqa: E402
from quietwire_py.errors import QuietwireError  # noqa: E402


def seed(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


IDENTITY = seed("identity")
PHONE, LAPTOP = seed("phone"), seed("laptop")


def public(s: bytes) -> bytes:
    return keys.ed25519_keypair(s)[1]


class DeviceListTest(unittest.TestCase):
    def assert_class(self, cls: str, f, *args) -> None:
        with self.assertRaises(QuietwireError) as cm:
            f(*args)
        self.assertEqual(cm.exception.error_class, cls)

    def test_issue_sorts_and_verifies(self) -> None:
        devs = sorted([public(PHONE), public(LAPTOP)], reverse=True)
        data = device_list.create_device_list(IDENTITY, 7, devs, device_list.CHANGE_LINKED, 1800000000)
        lst = device_list.accept_device_list(data, public(IDENTITY), 6)
        self.assertEqual(list(lst.devices), sorted(devs))
        self.assertEqual((lst.version, lst.change, lst.issued, lst.encoded), (7, 1, 1800000000, data))
        self.assert_class("device.stale", device_list.accept_device_list, data, public(IDENTITY), 7)
        self.assert_class("identity.mismatch", device_list.accept_device_list, data, public(PHONE))

    def test_issuer_refusals(self) -> None:
        create = device_list.create_device_list
        self.assert_class("schema.length", create, IDENTITY, 1, [], 0, 0)
        many = [public(seed(f"d{i}")) for i in range(device_list.MAX_DEVICES + 1)]
        self.assert_class("device.too_many", create, IDENTITY, 1, many, 0, 0)
        self.assert_class("device.duplicate", create, IDENTITY, 1, [public(PHONE)] * 2, 0, 0)
        self.assert_class("schema.range", create, IDENTITY, 1, [public(PHONE)], 4, 0)
        self.assert_class("key.low_order", create, IDENTITY, 1, [bytes(32)], 0, 0)
        create(IDENTITY, 1, many[: device_list.MAX_DEVICES], 0, 0)  # 16 is allowed

    def test_version_2_record_against_lists(self) -> None:
        record = identity.create_device_record(2, IDENTITY, seed("kem"), seed("ratchet"), 3, device_seed=LAPTOP)
        both = device_list.verify_device_list(
            device_list.create_device_list(IDENTITY, 1, [public(PHONE), public(LAPTOP)], 0, 0)
        )
        phone_only = device_list.verify_device_list(
            device_list.create_device_list(IDENTITY, 2, [public(PHONE)], 2, 0)
        )
        other = device_list.verify_device_list(  # another identity naming the same laptop
            device_list.create_device_list(seed("mallory"), 1, [public(LAPTOP)], 0, 0)
        )
        r = identity.verify_device_record(record, held_lists=[other, both])
        self.assertEqual((r.version, r.device_key, r.generation), (2, public(LAPTOP), 3))
        for held in ([phone_only], [other], []):
            self.assert_class("device.not_listed", identity.verify_device_record, record, {1, 2}, held)
        v1 = identity.create_device_record(2, IDENTITY, seed("kem"), seed("ratchet"), 3)
        self.assertEqual(identity.verify_device_record(v1).version, 1)
        self.assert_class("device.not_listed", identity.verify_device_record, v1, {1, 2}, [both])


if __name__ == "__main__":
    unittest.main()
