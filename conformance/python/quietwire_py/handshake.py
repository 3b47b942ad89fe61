"""The handshake of spec/05-handshake.md (HSK-01 .. HSK-06). Each side starts its ratchet,
the post-quantum one (spec/06-ratchet.md RAT-11, ratchet.py), and returns its snapshot
(RAT-15), by which the session it starts is compared.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Iterable

from . import cbor, envelope, hpke, identity, invite, keys, ratchet, ratchet_snapshot, structure
from .errors import QuietwireError

LABEL_INFO = "quietwire/v1/handshake-info"
LABEL_EXPORT = "quietwire/v1/handshake-export"
LABEL_TRANSCRIPT = "quietwire/v1/handshake-transcript"
LABEL_SIGNATURE = "quietwire/v1/handshake-signature"
LABEL_SESSION = "quietwire/v1/handshake-session"

MAX_PAYLOAD = 4352  # HSK-02
# HSK-05 step 5: "limit 4352 bytes, canonical CBOR"; the other limits are not stated, the
# generic ones of ENC-08 are used.
PAYLOAD_LIMITS = cbor.Limits(max_input=MAX_PAYLOAD)
TAG_LEN = 16


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    prk = hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


# ---------------------------------------------------------------------------
# Acceptor (HSK-01 .. HSK-04)


@dataclass
class Initiated:
    message: bytes
    transcript_hash: bytes
    session_secret: bytes
    snapshot: bytes


def _transcript_hash(ih: bytes, enc: bytes, record: bytes, mailbox: bytes) -> bytes:
    return hashlib.sha256(keys.labeled_input(LABEL_TRANSCRIPT, ih, enc, record, mailbox)).digest()


def initiate(
    invite_bytes: bytes,
    now: int,
    suite_id: int,
    identity_seed: bytes,
    kem_seed: bytes,
    ratchet_secret: bytes,
    generation: int,
    mailbox: bytes,
    randomness: bytes,
    allowed_suites: Iterable[int] = keys.DEFAULT_ALLOWED_SUITES,
) -> Initiated:
    inv = invite.verify_invite(invite_bytes, now, allowed_suites)
    if suite_id != inv.suite:
        raise QuietwireError("handshake.suite", f"device suite {suite_id}, invite suite {inv.suite}")
    record = identity.create_device_record(suite_id, identity_seed, kem_seed, ratchet_secret, generation)
    ih = hashlib.sha256(invite_bytes).digest()  # 1
    dh = keys.x25519_dh(ratchet_secret, inv.ratchet_key)  # 2
    enc, ctx = hpke.setup_base_s(suite_id, inv.kem_key, keys.labeled_input(LABEL_INFO, ih), randomness)  # 3
    th = _transcript_hash(ih, enc, record, mailbox)  # 4
    exported = ctx.export(keys.labeled_input(LABEL_EXPORT, ih), 32)  # 5
    sig = keys.ed25519_sign(identity_seed, keys.labeled_input(LABEL_SIGNATURE, th))  # 6
    payload = cbor.encode({1: 1, 2: record, 3: bytes(mailbox), 4: sig})  # 7
    if len(payload) > MAX_PAYLOAD:
        raise ValueError("payload over 4352 bytes")
    padded = envelope.pad(payload, len(enc) + TAG_LEN)
    message = enc + ctx.seal(b"", padded)
    sk = _hkdf(exported, dh, keys.labeled_input(LABEL_SESSION, th), 32)  # 8 (HSK-04)
    snap = ratchet_snapshot.encode(ratchet.init_initiator(sk, th, inv.ratchet_key, post_quantum=True))
    return Initiated(message, th, sk, snap)


# ---------------------------------------------------------------------------
# Inviter (HSK-05, HSK-06)


@dataclass
class Accepted:
    peer_identity: bytes
    peer_record: identity.DeviceRecord
    peer_mailbox: bytes
    transcript_hash: bytes
    session_secret: bytes
    snapshot: bytes


@dataclass
class PendingInvite:
    """An inviter's invite with its KEM and ratchet secrets and what it has accepted."""

    encoded: bytes
    invite: invite.Invite
    kem_key: hpke.RecipientKey
    ratchet_secret: bytes
    accepted_enc_hashes: set[bytes] = field(default_factory=set)

    @classmethod
    def create(cls, invite_bytes: bytes, kem_seed: bytes, ratchet_secret: bytes) -> "PendingInvite":
        # The inviter's own invite: parsed with the checks of INV-04 but no expiry (check 1 of
        # HSK-05 handles expiry per message).
        inv = invite.verify_invite(invite_bytes, 0)
        rk = hpke.derive_recipient(inv.suite, kem_seed)
        if rk.public != inv.kem_key or keys.x25519_public(ratchet_secret) != inv.ratchet_key:
            raise ValueError("the seeds do not match the invite's keys")
        return cls(bytes(invite_bytes), inv, rk, bytes(ratchet_secret))

    def accept(
        self, message: bytes, now: int, allowed_suites: Iterable[int] = keys.DEFAULT_ALLOWED_SUITES
    ) -> Accepted:
        inv = self.invite
        suite = inv.suite
        enc_len = hpke.ENC_LEN[suite]
        # 1
        if now >= inv.expires:
            raise QuietwireError("invite.expired", f"now {now} >= expires {inv.expires}")
        # 2
        if inv.single_use and self.accepted_enc_hashes:
            raise QuietwireError("invite.used")
        # 3
        if not envelope.is_bucket(len(message)) or len(message) <= enc_len + TAG_LEN:
            raise QuietwireError("handshake.format", f"message of {len(message)} bytes")
        # 4
        ih = hashlib.sha256(self.encoded).digest()
        enc, ct = bytes(message[:enc_len]), bytes(message[enc_len:])
        ctx = hpke.setup_base_r(suite, enc, self.kem_key, keys.labeled_input(LABEL_INFO, ih))
        padded = ctx.open(b"", ct)
        payload = envelope.unpad(padded)
        # 5
        m = cbor.decode(payload, PAYLOAD_LIMITS)
        structure.check_top_level_map(m, (2, 3, 4))
        record_bytes = structure.field_bstr(m, 2, "device record")
        mailbox = structure.field_bstr(m, 3, "mailbox", 32)
        sig = structure.field_bstr(m, 4, "signature", 64)
        # 6
        rec = identity.verify_device_record(record_bytes, allowed_suites)
        # 7
        if rec.suite != suite:
            raise QuietwireError("handshake.suite", f"record suite {rec.suite}, invite suite {suite}")
        # 8
        th = _transcript_hash(ih, enc, record_bytes, mailbox)
        keys.verify_strict(rec.identity_key, keys.labeled_input(LABEL_SIGNATURE, th), sig)
        # 9
        enc_hash = hashlib.sha256(enc).digest()
        if enc_hash in self.accepted_enc_hashes:
            raise QuietwireError("handshake.replay")
        # 10
        dh = keys.x25519_dh(self.ratchet_secret, rec.ratchet_key)
        # 11
        exported = ctx.export(keys.labeled_input(LABEL_EXPORT, ih), 32)
        sk = _hkdf(exported, dh, keys.labeled_input(LABEL_SESSION, th), 32)
        snap = ratchet_snapshot.encode(ratchet.init_responder(sk, th, self.ratchet_secret, post_quantum=True))
        self.accepted_enc_hashes.add(enc_hash)
        return Accepted(rec.identity_key, rec, mailbox, th, sk, snap)
