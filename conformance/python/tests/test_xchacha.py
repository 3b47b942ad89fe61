"""Known-answer tests of quietwire_py/xchacha.py (draft-irtf-cfrg-xchacha-03).

    python3 -m unittest discover -s conformance/python/tests

The ratchet vectors (ratchet.json) exercise XChaCha20-Poly1305 on every header; these tests
check the construction itself against the draft, HChaCha20 also against the quarter-round
definition written out (draft §2.2, RFC 8439 §2.1).
"""

from __future__ import annotations

import struct
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quietwire_py import xchacha  # noqa: E402

# Draft §2.2.1.
HCHACHA_KEY = bytes(range(32))
HCHACHA_NONCE = bytes.fromhex("000000090000004a0000000031415927")
HCHACHA_OUT = bytes.fromhex("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc")

# Draft Appendix A.3.1 (the RFC 8439 §2.8.2 plaintext, key and AAD).
AEAD_KEY = bytes(range(0x80, 0xA0))
AEAD_NONCE = bytes(range(0x40, 0x58))
AEAD_AAD = bytes.fromhex("50515253c0c1c2c3c4c5c6c7")
AEAD_PLAINTEXT = (
    b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
    b"future, sunscreen would be it."
)
AEAD_CIPHERTEXT = bytes.fromhex(
    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
    "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
    "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
    "21f9664c97637da9768812f615c68b13b52e"
)
AEAD_TAG = bytes.fromhex("c0875924c1c7987947deafd8780acf49")


def hchacha20_by_rounds(key: bytes, nonce16: bytes) -> bytes:
    """HChaCha20 written out: 10 double rounds, then words 0..3 and 12..15."""
    s = list(struct.unpack("<16I", b"expand 32-byte k" + key + nonce16))
    columns_then_diagonals = (
        (0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
        (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14),
    )

    def rotl(v: int, c: int) -> int:
        return ((v << c) | (v >> (32 - c))) & 0xFFFFFFFF

    def qr(a: int, b: int, c: int, d: int) -> None:
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 16)  # noqa: E702
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 12)  # noqa: E702
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 8)  # noqa: E702
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 7)  # noqa: E702

    for _ in range(10):
        for a, b, c, d in columns_then_diagonals:
            qr(a, b, c, d)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


class XChaChaTest(unittest.TestCase):
    def test_hchacha20_draft_vector(self) -> None:
        self.assertEqual(xchacha.hchacha20(HCHACHA_KEY, HCHACHA_NONCE), HCHACHA_OUT)
        self.assertEqual(hchacha20_by_rounds(HCHACHA_KEY, HCHACHA_NONCE), HCHACHA_OUT)

    def test_hchacha20_matches_rounds(self) -> None:
        for i in range(64):
            key = bytes((i * 7 + j * 13) & 0xFF for j in range(32))
            nonce = bytes((0xFF - i * 3 - j * 5) & 0xFF for j in range(16))
            self.assertEqual(xchacha.hchacha20(key, nonce), hchacha20_by_rounds(key, nonce))

    def test_xseal_draft_vector(self) -> None:
        sealed = xchacha.xseal(AEAD_KEY, AEAD_NONCE, AEAD_AAD, AEAD_PLAINTEXT)
        self.assertEqual(sealed, AEAD_CIPHERTEXT + AEAD_TAG)

    def test_xopen(self) -> None:
        sealed = AEAD_CIPHERTEXT + AEAD_TAG
        self.assertEqual(xchacha.xopen(AEAD_KEY, AEAD_NONCE, AEAD_AAD, sealed), AEAD_PLAINTEXT)
        forged = sealed[:-1] + bytes([sealed[-1] ^ 1])
        self.assertIsNone(xchacha.xopen(AEAD_KEY, AEAD_NONCE, AEAD_AAD, forged))
        self.assertIsNone(xchacha.xopen(AEAD_KEY, AEAD_NONCE, AEAD_AAD[:-1], sealed))


if __name__ == "__main__":
    unittest.main()
