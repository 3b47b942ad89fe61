"""Tests of quietwire_py/transfer_confirm.py (spec/10-backup.md §10.5.4, XBK-32 .. XBK-34).

    python3 -m unittest discover -s conformance/python/tests

backup.json (groups xbk-confirm-seal, xbk-confirm-open) checks fixed bytes; these tests check
what the vectors do not: the code's formatting at its edges, the MAX_CONFIRMATION boundary,
round trips in both suites from other seeds, the sealer's refusals, and that a confirmation
binds its code and its digest.
"""

from __future__ import annotations

import hashlib
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quietwire_py import cbor, hpke, transfer_confirm as tc  # noqa: E402
from quietwire_py.errors import QuietwireError  # noqa: E402


def seed(name: str, n: int = 32) -> bytes:
    return hashlib.shake_256(name.encode()).digest(n)


CODE = b"quietwire:transfer#test-code"
DIGEST = hashlib.sha256(b"the file").digest()


class TransferConfirmTest(unittest.TestCase):
    def assert_class(self, cls: str, f, *args) -> None:
        with self.assertRaises(QuietwireError) as cm:
            f(*args)
        self.assertEqual(cm.exception.error_class, cls)

    def test_sas_text(self) -> None:
        self.assertEqual(tc.sas_text(bytes.fromhex("0000002a") + bytes(28)), "000 042")
        self.assertEqual(tc.sas_text(bytes.fromhex("ffffffff") + bytes(28)), "967 295")  # 2^32 - 1 mod 10^6
        self.assertEqual(tc.sas_text(bytes.fromhex("000f4240") + b"\xff" * 28), "000 000")  # 10^6; bytes 4.. unused

    def test_round_trip_both_suites(self) -> None:
        for suite in (1, 2):
            with self.subTest(suite=suite):
                key = hpke.derive_recipient(suite, seed(f"transfer {suite}"))
                randomness = seed(f"randomness {suite}", hpke.RANDOMNESS_LEN[suite])
                message, sas = tc.seal(suite, key.public, CODE, DIGEST, randomness)
                c = tc.receive(key, CODE, message, hashlib.sha256(b"the file").digest())
                self.assertEqual((c.digest, c.sas, c.extensions), (DIGEST, sas, {}))
                # another code, another key of the suite, another file
                self.assert_class("hpke.open", tc.open_, key, CODE + b"x", message)
                other = hpke.derive_recipient(suite, seed("another transfer key"))
                self.assert_class("hpke.open", tc.open_, other, CODE, message)
                self.assert_class("backup.transfer_digest", tc.receive, key, CODE, message, bytes(32))

    def test_extension_kept(self) -> None:
        key = hpke.derive_recipient(2, seed("transfer 2"))
        enc, ctx = hpke.setup_base_s(2, key.public, cbor.labeled_input(tc.LABEL_INFO, CODE), seed("r"))
        ct = ctx.seal(b"", cbor.encode({1: 1, 2: DIGEST, -1: "note"}))
        c = tc.open_(key, CODE, cbor.encode([enc, ct]))
        self.assertEqual((c.digest, c.extensions), (DIGEST, {-1: "note"}))

    def test_max_confirmation_boundary(self) -> None:
        key = hpke.derive_recipient(2, seed("transfer 2"))
        enc = hpke.derive_recipient(2, seed("share")).public
        # 82 58 20 enc (35 bytes), then 59 hh hh ct: 2048 bytes in all are read, 2049 refused
        at_limit = cbor.encode([enc, bytes(2048 - 35 - 3)])
        self.assertEqual(len(at_limit), 2048)
        self.assert_class("hpke.open", tc.open_, key, CODE, at_limit)
        self.assert_class("cbor.limit.input", tc.open_, key, CODE, cbor.encode([enc, bytes(2048 - 35 - 2)]))

    def test_seal_refusals(self) -> None:
        key = hpke.derive_recipient(2, seed("transfer 2"))
        self.assert_class("schema.length", tc.seal, 2, key.public, CODE, DIGEST[:31], seed("r"))
        self.assert_class("key.low_order", tc.seal, 2, bytes(32), CODE, DIGEST, seed("r"))
        self.assert_class("schema.length", tc.seal, 1, key.public, CODE, DIGEST, seed("r", 64))
        self.assert_class("suite.unknown", tc.seal, 3, key.public, CODE, DIGEST, seed("r"))


if __name__ == "__main__":
    unittest.main()
