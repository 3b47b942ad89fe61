"""XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03), the header AEAD of spec/06-ratchet.md
(``XSEAL`` / ``XOPEN``, §6.1, RAT-04, RAT-06).

``cryptography`` has ChaCha20-Poly1305 (RFC 8439) and the raw ChaCha20 stream cipher, not the
extended-nonce construction, so it is built here as the draft defines it (§2.3):

    subkey = HChaCha20(key, nonce[0:16])
    XSEAL(key, nonce, aad, p) = ChaCha20-Poly1305(subkey, 0x00000000 ‖ nonce[16:24], aad, p)

HChaCha20 (§2.2) is the ChaCha20 block function without its final addition of the input
state, keeping words 0..3 and 12..15. The block ``cryptography`` computes is that addition
done (RFC 8439 §2.3: output = rounds(state) + state, word by word), with the 16-byte
"nonce" argument filling words 12..15 exactly as HChaCha20's nonce does. Subtracting the
known input words (the four constants, and the nonce words) from the block therefore gives
HChaCha20's output words. tests/test_xchacha.py checks the draft's test vectors.
"""

from __future__ import annotations

import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

KEY_LEN = 32
NONCE_LEN = 24
TAG_LEN = 16

_CONSTANTS = struct.unpack("<4I", b"expand 32-byte k")
_WORDS = struct.Struct("<16I")


def hchacha20(key: bytes, nonce16: bytes) -> bytes:
    """HChaCha20 (draft §2.2): a 32-byte subkey from a 32-byte key and a 16-byte nonce."""
    if len(key) != KEY_LEN or len(nonce16) != 16:
        raise ValueError("HChaCha20 takes a 32-byte key and a 16-byte nonce")
    block = Cipher(algorithms.ChaCha20(key, nonce16), mode=None).encryptor().update(bytes(64))
    out = _WORDS.unpack(block)
    inputs = _CONSTANTS + struct.unpack("<4I", nonce16)
    words = out[0:4] + out[12:16]
    return struct.pack("<8I", *((w - i) & 0xFFFFFFFF for w, i in zip(words, inputs)))


def _aead(key: bytes, nonce: bytes) -> tuple[ChaCha20Poly1305, bytes]:
    """Draft §2.3: the ChaCha20-Poly1305 instance and 12-byte nonce of an XChaCha20 nonce."""
    if len(nonce) != NONCE_LEN:
        raise ValueError("XChaCha20-Poly1305 takes a 24-byte nonce")
    return ChaCha20Poly1305(hchacha20(key, nonce[:16])), bytes(4) + nonce[16:]


def xseal(key: bytes, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
    """``XSEAL``: ciphertext ‖ 16-byte tag."""
    aead, n12 = _aead(key, nonce)
    return aead.encrypt(n12, plaintext, aad)


def xopen(key: bytes, nonce: bytes, aad: bytes, ciphertext: bytes) -> bytes | None:
    """``XOPEN``: the plaintext, or ``None`` when the tag does not verify (§6.1)."""
    aead, n12 = _aead(key, nonce)
    try:
        return aead.decrypt(n12, ciphertext, aad)
    except InvalidTag:
        return None
