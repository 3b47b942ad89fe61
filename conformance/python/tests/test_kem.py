"""Tests of quietwire_py/kem.py, the ML-KEM-768 wrapper of the post-quantum ratchet
(spec/06-ratchet.md §6.18, RAT-13, RAT-14).

    python3 -m unittest discover -s conformance/python/tests

The ratchet vectors (ratchet.json, "Post-quantum sessions") exercise the KEM through whole
sessions; these tests check the wrapper itself: key generation from the seed against a second
implementation (``cryptography``'s ML-KEM), the round trip with implicit rejection, and the
FIPS 203 §7.2 encapsulation-key check at its boundary.
"""

from __future__ import annotations

import hashlib
import sys
import unittest
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import mlkem
from kyber_py.ml_kem import ML_KEM_768

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quietwire_py import kem  # noqa: E402
from quietwire_py.errors import QuietwireError  # noqa: E402

SEED = hashlib.sha512(b"quietwire kem test").digest()  # 64 bytes: d ‖ z
M = bytes(range(32))


def with_coefficient(ek: bytes, index: int, value: int) -> bytes:
    """``ek`` with coefficient ``index`` of ``t̂`` (12 bits, little-endian) set to ``value``."""
    b = bytearray(ek)
    i = 3 * (index // 2)
    if index % 2 == 0:
        b[i], b[i + 1] = value & 0xFF, (b[i + 1] & 0xF0) | (value >> 8)
    else:
        b[i + 1], b[i + 2] = (b[i + 1] & 0x0F) | ((value & 0x0F) << 4), value >> 4
    return bytes(b)


class KeyGenTest(unittest.TestCase):
    def test_seed_gives_the_key_of_another_implementation(self) -> None:
        pair = kem.KeyPair.from_seed(SEED)
        other = mlkem.MLKEM768PrivateKey.from_seed_bytes(SEED).public_key().public_bytes_raw()
        self.assertEqual(pair.ek, other)
        self.assertEqual(len(pair.ek), kem.EK_LEN)

    def test_seed_length(self) -> None:
        with self.assertRaises(ValueError):
            kem.KeyPair.from_seed(SEED[:63])


class EncapsulationTest(unittest.TestCase):
    def test_round_trip(self) -> None:
        pair = kem.KeyPair.from_seed(SEED)
        ss, ct = kem.encapsulate(pair.ek, M)
        self.assertEqual((len(ss), len(ct)), (kem.SS_LEN, kem.CT_LEN))
        self.assertEqual(kem.decapsulate(pair, ct), ss)
        self.assertEqual(kem.encapsulate(pair.ek, M), (ss, ct))  # m injected: deterministic

    def test_implicit_rejection(self) -> None:
        pair = kem.KeyPair.from_seed(SEED)
        ss, ct = kem.encapsulate(pair.ek, M)
        other = bytes([ct[0] ^ 1]) + ct[1:]
        self.assertNotEqual(kem.decapsulate(pair, other), ss)
        self.assertNotEqual(kem.decapsulate(pair, kem.ZERO_CT), ss)

    def test_decapsulation_agrees_with_another_implementation(self) -> None:
        pair = kem.KeyPair.from_seed(SEED)
        ss, ct = kem.encapsulate(pair.ek, M)
        self.assertEqual(mlkem.MLKEM768PrivateKey.from_seed_bytes(SEED).decapsulate(ct), ss)


class EncapsulationKeyCheckTest(unittest.TestCase):
    def setUp(self) -> None:
        self.ek = kem.KeyPair.from_seed(SEED).ek

    def test_generated_key_passes(self) -> None:
        kem.check_encapsulation_key(self.ek)

    def test_coefficient_q_minus_one_passes(self) -> None:
        for index in (0, 1, 766, 767):
            kem.check_encapsulation_key(with_coefficient(self.ek, index, kem.Q - 1))

    def test_coefficient_q_fails(self) -> None:
        for index in (0, 1, 766, 767):
            with self.subTest(index=index):
                with self.assertRaises(QuietwireError) as e:
                    kem.check_encapsulation_key(with_coefficient(self.ek, index, kem.Q))
                self.assertEqual(e.exception.error_class, "key.invalid")
                with self.assertRaises(ValueError):  # kyber-py's own FIPS 203 §7.2 check agrees
                    ML_KEM_768._encaps_internal(with_coefficient(self.ek, index, kem.Q), M)

    def test_rho_is_not_checked(self) -> None:
        kem.check_encapsulation_key(self.ek[:-32] + b"\xff" * 32)

    def test_wrong_length_fails(self) -> None:
        for ek in (self.ek[:-1], self.ek + b"\x00"):
            with self.assertRaises(QuietwireError) as e:
                kem.check_encapsulation_key(ek)
            self.assertEqual(e.exception.error_class, "key.invalid")


if __name__ == "__main__":
    unittest.main()
