"""ML-KEM-768 (FIPS 203) for the post-quantum ratchet of spec/06-ratchet.md §6.18 (RAT-11 ..
RAT-15): key pairs from a 64-byte seed, encapsulation with an injected message ``m``,
decapsulation with implicit rejection, and the encapsulation-key check of FIPS 203 §7.2.

The KEM itself is ``kyber-py`` (pure Python, requirements.txt): ``KeyGen_internal(d, z)``
(FIPS 203 Algorithm 16), ``Encaps_internal(ek, m)`` (Algorithm 17) and ``Decaps(dk, c)``
(Algorithm 21). The modulus check is written out here from §7.2, so that a bad key is
refused with ``key.invalid`` before any other KEM operation (RAT-14 item 1, RAT-15 step 8).
"""

from __future__ import annotations

from dataclasses import dataclass

from kyber_py.ml_kem import ML_KEM_768

from .errors import QuietwireError

SEED_LEN = 64  # d ‖ z
MESSAGE_LEN = 32  # m
EK_LEN = 1184  # 384·k + 32 with k = 3
CT_LEN = 1088
SS_LEN = 32
Q = 3329
ZERO_CT = bytes(CT_LEN)  # §6.18: the ciphertext field of a chain that encapsulated nothing
_T_HAT_LEN = EK_LEN - 32  # ByteEncode_12 of t̂: 768 coefficients, two in every three bytes


@dataclass(frozen=True)
class KeyPair:
    """An ML-KEM-768 key pair, represented by its seed ``d ‖ z`` (§6.18); ``ek`` and ``dk``
    are computed from it."""

    seed: bytes
    ek: bytes
    dk: bytes

    @classmethod
    def from_seed(cls, seed: bytes) -> "KeyPair":
        """``(ek, dk) = ML-KEM-768.KeyGen_internal(seed[0:32], seed[32:64])`` (RAT-13 1.1)."""
        if len(seed) != SEED_LEN:
            raise ValueError("an ML-KEM-768 seed is 64 bytes")
        ek, dk = ML_KEM_768._keygen_internal(seed[:32], seed[32:])
        return cls(bytes(seed), ek, dk)

    def __repr__(self) -> str:  # keep the secret out of tracebacks and logs
        return f"KeyPair(ek={self.ek[:8].hex()}...)"


def check_encapsulation_key(ek: bytes) -> None:
    """FIPS 203 §7.2 (RAT-14 item 1): 1184 bytes, and each of the 768 coefficients of ``t̂``,
    read as twelve bits little-endian, below ``q = 3329``; else ``key.invalid``."""
    if len(ek) != EK_LEN:
        raise QuietwireError("key.invalid", f"ML-KEM-768 encapsulation key of {len(ek)} bytes")
    for i in range(0, _T_HAT_LEN, 3):
        b0, b1, b2 = ek[i], ek[i + 1], ek[i + 2]
        if (b0 | (b1 & 0x0F) << 8) >= Q or (b1 >> 4 | b2 << 4) >= Q:
            raise QuietwireError("key.invalid", "ML-KEM-768 encapsulation key coefficient >= q")


def encapsulate(ek: bytes, m: bytes) -> tuple[bytes, bytes]:
    """``(ss, ct) = ML-KEM-768.Encaps_internal(ek, m)`` (RAT-13 1.2). ``ek`` has passed
    :func:`check_encapsulation_key` (it comes from a header or snapshot that was checked)."""
    if len(m) != MESSAGE_LEN:
        raise ValueError("the ML-KEM-768 message m is 32 bytes")
    ss, ct = ML_KEM_768._encaps_internal(ek, m)
    return ss, ct


def decapsulate(pair: KeyPair, ct: bytes) -> bytes:
    """``ss = ML-KEM-768.Decaps(dk, ct)`` (RAT-14 item 2): implicit rejection, a ``ct`` not
    made for ``ek`` gives an unrelated ``ss`` and never an error."""
    return ML_KEM_768.decaps(pair.dk, ct)
