"""Error classes of spec/14-registries.md §14.3.

Every rejection raises :class:`QuietwireError` carrying exactly one registered class name.
The registry is closed: constructing an error with an unregistered class is a bug in this
implementation and raises ``ValueError`` instead.
"""

from __future__ import annotations

# class name -> fault group (spec/14-registries.md §14.3)
REGISTRY: dict[str, str] = {
    "cbor.truncated": "malformed",
    "cbor.trailing": "malformed",
    "cbor.noncanonical.integer": "malformed",
    "cbor.noncanonical.indefinite": "malformed",
    "cbor.noncanonical.key_order": "malformed",
    "cbor.noncanonical.duplicate_key": "malformed",
    "cbor.unsupported.tag": "malformed",
    "cbor.unsupported.float": "malformed",
    "cbor.unsupported.simple": "malformed",
    "cbor.unsupported.key_type": "malformed",
    "cbor.malformed.additional_info": "malformed",
    "cbor.malformed.break": "malformed",
    "cbor.malformed.utf8": "malformed",
    "cbor.limit.input": "malformed",
    "cbor.limit.depth": "malformed",
    "cbor.limit.size": "malformed",
    "schema.version": "malformed",
    "schema.unknown_critical": "malformed",
    "schema.missing_field": "malformed",
    "schema.wrong_type": "malformed",
    "schema.length": "malformed",
    "schema.range": "malformed",
    "qr.magic": "malformed",
    "link.length": "malformed",
    "link.format": "malformed",
    "link.base64": "malformed",
    "didkey.length": "malformed",
    "didkey.scheme": "malformed",
    "didkey.multibase": "malformed",
    "didkey.base58": "malformed",
    "didkey.multicodec": "malformed",
    "ratchet.format": "malformed",
    "ratchet.state": "malformed",
    "envelope.bucket": "malformed",
    "event.kind": "malformed",
    "handshake.format": "malformed",
    "hpke.encapsulation": "malformed",
    "device.too_many": "malformed",
    "device.duplicate": "malformed",
    "device.order": "malformed",
    "key.invalid": "peer",
    "key.noncanonical": "peer",
    "key.low_order": "peer",
    "identity.signature": "peer",
    "identity.mismatch": "peer",
    "identity.generation": "peer",
    "device.stale": "peer",
    "device.not_listed": "peer",
    "invite.relay_hint": "peer",
    "safety.mismatch": "peer",
    "ratchet.header": "peer",
    "ratchet.body": "peer",
    "ratchet.replay": "peer",
    "ratchet.kem": "peer",
    "envelope.mailbox": "peer",
    "envelope.padding": "peer",
    "event.unknown_critical": "peer",
    "handshake.suite": "peer",
    "handshake.replay": "peer",
    "handshake.identity": "peer",
    "handshake.generation": "peer",
    "hpke.decapsulation": "peer",
    "hpke.open": "peer",
    "mailbox.key": "peer",
    "mailbox.origin": "peer",
    "mailbox.proof": "peer",
    "backup.transfer_digest": "peer",
    "suite.unknown": "policy",
    "suite.disallowed": "policy",
    "invite.expired": "policy",
    "invite.used": "policy",
    "ratchet.jump_limit": "policy",
    "ratchet.no_sending_chain": "misuse",
    "ratchet.exhausted": "misuse",
    "mailbox.origin_format": "misuse",
    "envelope.too_large": "misuse",
}


class QuietwireError(Exception):
    """A rejection with a registered error class (``.error_class``) and its fault group."""

    def __init__(self, error_class: str, detail: str = "") -> None:
        if error_class not in REGISTRY:
            raise ValueError(f"unregistered error class {error_class!r}")
        self.error_class = error_class
        self.fault = REGISTRY[error_class]
        self.detail = detail
        super().__init__(f"{error_class}: {detail}" if detail else error_class)
