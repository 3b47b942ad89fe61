"""Quietwire v1 (spec/01 .. spec/08 §8.2) in Python: a conformance implementation.

Modules: errors, cbor, structure, keys, identity, safety, didkey, invite, hpke, handshake,
reconnect, xchacha, ratchet, ratchet_snapshot, rng, envelope, event, session, mailbox.
"""

__all__ = [
    "errors",
    "cbor",
    "structure",
    "keys",
    "identity",
    "safety",
    "didkey",
    "invite",
    "hpke",
    "handshake",
    "reconnect",
    "xchacha",
    "ratchet",
    "ratchet_snapshot",
    "rng",
    "envelope",
    "event",
    "session",
    "mailbox",
]
