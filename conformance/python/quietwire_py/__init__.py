"""Quietwire v1 (spec/01 .. spec/04) in Python: a conformance implementation.

Modules: errors, cbor, structure, keys, identity, safety, didkey, invite.
"""

__all__ = ["errors", "cbor", "structure", "keys", "identity", "safety", "didkey", "invite"]
