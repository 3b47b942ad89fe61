"""Injected randomness for the ratchet's ``rng.draw(k)`` (spec/06-ratchet.md RAT-04), as the
vectors and the shim protocol supply it: exactly the bytes of a step (§6.16 ``encrypt``,
spec/16-conformance-shim.md SHIM-06), or the stream of an ``encrypt-discard`` step (§6.16).
"""

from __future__ import annotations

import hashlib
import struct


class RandomnessMismatch(ValueError):
    """The implementation drew more or fewer random bytes than were given (SHIM-06)."""


class ExactRandomness:
    """Yields exactly the given bytes, in order. Used as a context manager, it checks on exit
    that the operation drew all of them, whether it succeeded or refused its input (a refused
    encryption draws nothing, or 32 bytes at RAT-04 step 1.3)."""

    def __init__(self, data: bytes) -> None:
        self.data = bytes(data)
        self.pos = 0

    def draw(self, k: int) -> bytes:
        if self.pos + k > len(self.data):
            raise RandomnessMismatch(f"drew more than the {len(self.data)} bytes given")
        self.pos += k
        return self.data[self.pos - k : self.pos]

    def __enter__(self) -> "ExactRandomness":
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> None:
        if not isinstance(exc, RandomnessMismatch) and self.pos != len(self.data):
            raise RandomnessMismatch(f"drew {self.pos} of the {len(self.data)} bytes given")


class StreamRandomness:
    """§6.16: the bytes of ``SHA-256(seed ‖ u64le(0))``, ``SHA-256(seed ‖ u64le(1))``, ..."""

    def __init__(self, seed: bytes) -> None:
        self.seed = bytes(seed)
        self.block = 0
        self.buffer = b""

    def draw(self, k: int) -> bytes:
        while len(self.buffer) < k:
            self.buffer += hashlib.sha256(self.seed + struct.pack("<Q", self.block)).digest()
            self.block += 1
        out, self.buffer = self.buffer[:k], self.buffer[k:]
        return out
