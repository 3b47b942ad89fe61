"""Quietwire v1 (spec/01 .. spec/08 §8.2, spec/10 §10.5.4) in Python: a conformance implementation.

Modules: errors, cbor, structure, keys, identity, safety, didkey, invite, hpke, handshake,
reconnect, xchacha, ratchet, ratchet_snapshot, rng, envelope, event, session, mailbox,
transfer_confirm.
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
    "transfer_confirm",
]
