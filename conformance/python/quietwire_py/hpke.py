"""HPKE base mode of spec/02-suites-and-labels.md §2.4 (SUI-08).

The RFC 9180 key schedule is written out here (LabeledExtract / LabeledExpand over
HKDF-SHA256, ChaCha20-Poly1305, sequence number 0, the secret exporter) because no available
HPKE library accepts injected KEM randomness. KEMs:

* suite 2, DHKEM(X25519, HKDF-SHA256) (``0x0020``), RFC 9180 §4.1 and §7.1: the ephemeral key
  pair is ``DeriveKeyPair(ikmE)`` of the 32 generator bytes; an all-zero DH output is
  ``hpke.decapsulation`` on open (and refused on seal);
* suite 1, X-Wing (``0x647a``), draft-connolly-cfrg-xwing-kem: ``EncapsulateDerand(pk, eseed)``
  with the 64 generator bytes (``eseed[0:32]`` the ML-KEM-768 ``m``, ``eseed[32:64]`` the
  ephemeral X25519 secret), the shared secret used as HPKE's ``shared_secret`` directly
  (draft-ietf-hpke-pq). ML-KEM-768 ``Encaps_internal(ek, m)`` (FIPS 203 Algorithm 17) comes
  from ``kyber-py`` (pure Python; its FIPS 203 internal function), ``Decaps`` and
  ``KeyGen_internal`` from ``cryptography``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import mlkem
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from . import keys
from .errors import QuietwireError

KDF_ID = 0x0001  # HKDF-SHA256
AEAD_ID = 0x0003  # ChaCha20-Poly1305
MODE_BASE = 0x00
NK, NN, NH = 32, 12, 32

KEM_ID = {1: 0x647A, 2: 0x0020}
ENC_LEN = {1: 1120, 2: 32}
RANDOMNESS_LEN = {1: 64, 2: 32}

XWING_LABEL = b"\\.//^\\"


def _i2osp(n: int, w: int) -> bytes:
    return n.to_bytes(w, "big")


def _extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def _labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return _extract(salt, b"HPKE-v1" + suite_id + label + ikm)


def _labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return _expand(prk, _i2osp(length, 2) + b"HPKE-v1" + suite_id + label + info, length)


# ---------------------------------------------------------------------------
# DHKEM(X25519, HKDF-SHA256)

_DHKEM_SUITE_ID = b"KEM" + _i2osp(0x0020, 2)


def dhkem_derive_key_pair(ikm: bytes) -> tuple[bytes, bytes]:
    prk = _labeled_extract(_DHKEM_SUITE_ID, b"", b"dkp_prk", ikm)
    sk = _labeled_expand(_DHKEM_SUITE_ID, prk, b"sk", b"", 32)
    return sk, keys.x25519_public(sk)


def _dhkem_shared_secret(dh: bytes, kem_context: bytes) -> bytes:
    eae_prk = _labeled_extract(_DHKEM_SUITE_ID, b"", b"eae_prk", dh)
    return _labeled_expand(_DHKEM_SUITE_ID, eae_prk, b"shared_secret", kem_context, 32)


def _dh(sk: bytes, pk: bytes) -> bytes:
    out = keys._x25519_raw(sk, pk)
    if hmac.compare_digest(out, bytes(32)):
        raise QuietwireError("hpke.decapsulation", "X25519 shared secret is zero")
    return out


def dhkem_encap(pk_r: bytes, ikm_e: bytes) -> tuple[bytes, bytes]:
    sk_e, pk_e = dhkem_derive_key_pair(ikm_e)
    dh = _dh(sk_e, pk_r)
    return _dhkem_shared_secret(dh, pk_e + pk_r), pk_e


def dhkem_decap(enc: bytes, sk_r: bytes) -> bytes:
    dh = _dh(sk_r, enc)
    return _dhkem_shared_secret(dh, enc + keys.x25519_public(sk_r))


# ---------------------------------------------------------------------------
# X-Wing


@dataclass
class XWingKey:
    seed: bytes  # the 32-byte decapsulation key
    ml_kem: mlkem.MLKEM768PrivateKey
    sk_x: bytes
    pk_m: bytes
    pk_x: bytes

    @property
    def public(self) -> bytes:
        return self.pk_m + self.pk_x


def xwing_expand(seed: bytes) -> XWingKey:
    e = hashlib.shake_256(seed).digest(96)
    mk = mlkem.MLKEM768PrivateKey.from_seed_bytes(e[:64])
    return XWingKey(seed, mk, e[64:96], mk.public_key().public_bytes_raw(), keys.x25519_public(e[64:96]))


def xwing_derive_key_pair(ikm: bytes) -> XWingKey:
    return xwing_expand(keys._shake256_labeled_derive(ikm, b"DeriveKeyPair", b"", 32))


def _xwing_combiner(ss_m: bytes, ss_x: bytes, ct_x: bytes, pk_x: bytes) -> bytes:
    return hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + XWING_LABEL).digest()


def xwing_encap(pk: bytes, eseed: bytes) -> tuple[bytes, bytes]:
    try:
        from kyber_py.ml_kem import ML_KEM_768
    except ImportError as e:  # pragma: no cover
        raise NotImplementedError("X-Wing encapsulation needs kyber-py (requirements.txt)") from e
    pk_m, pk_x = pk[:1184], pk[1184:1216]
    ek_x = eseed[32:64]
    ct_x = keys.x25519_public(ek_x)
    ss_x = keys._x25519_raw(ek_x, pk_x)
    ss_m, ct_m = ML_KEM_768._encaps_internal(pk_m, eseed[0:32])
    return _xwing_combiner(ss_m, ss_x, ct_x, pk_x), ct_m + ct_x


def xwing_decap(enc: bytes, key: XWingKey) -> bytes:
    ct_m, ct_x = enc[:1088], enc[1088:1120]
    ss_m = key.ml_kem.decapsulate(ct_m)
    ss_x = keys._x25519_raw(key.sk_x, ct_x)
    return _xwing_combiner(ss_m, ss_x, ct_x, key.pk_x)


# ---------------------------------------------------------------------------
# Key schedule and single-shot API


@dataclass
class Context:
    key: bytes
    base_nonce: bytes
    exporter_secret: bytes
    suite_id: bytes

    def seal(self, aad: bytes, pt: bytes) -> bytes:  # sequence number 0
        return ChaCha20Poly1305(self.key).encrypt(self.base_nonce, pt, aad)

    def open(self, aad: bytes, ct: bytes) -> bytes:
        try:
            return ChaCha20Poly1305(self.key).decrypt(self.base_nonce, ct, aad)
        except InvalidTag:
            raise QuietwireError("hpke.open") from None

    def export(self, exporter_context: bytes, length: int = 32) -> bytes:
        return _labeled_expand(self.suite_id, self.exporter_secret, b"sec", exporter_context, length)


def key_schedule(suite: int, shared_secret: bytes, info: bytes) -> Context:
    suite_id = b"HPKE" + _i2osp(KEM_ID[suite], 2) + _i2osp(KDF_ID, 2) + _i2osp(AEAD_ID, 2)
    psk_id_hash = _labeled_extract(suite_id, b"", b"psk_id_hash", b"")
    info_hash = _labeled_extract(suite_id, b"", b"info_hash", info)
    ctx = bytes([MODE_BASE]) + psk_id_hash + info_hash
    secret = _labeled_extract(suite_id, shared_secret, b"secret", b"")
    return Context(
        _labeled_expand(suite_id, secret, b"key", ctx, NK),
        _labeled_expand(suite_id, secret, b"base_nonce", ctx, NN),
        _labeled_expand(suite_id, secret, b"exp", ctx, NH),
        suite_id,
    )


@dataclass
class RecipientKey:
    suite: int
    public: bytes
    x25519_sk: bytes | None = None
    xwing: XWingKey | None = None


def derive_recipient(suite: int, seed: bytes) -> RecipientKey:
    """The suite KEM's ``DeriveKeyPair(seed)`` (§2.4, "KEM key pairs from seeds")."""
    if suite == 2:
        sk, pk = dhkem_derive_key_pair(seed)
        return RecipientKey(2, pk, x25519_sk=sk)
    if suite == 1:
        k = xwing_derive_key_pair(seed)
        return RecipientKey(1, k.public, xwing=k)
    raise QuietwireError("suite.unknown", f"suite {suite}")


class RandomnessLength(ValueError):
    """The caller supplied more or fewer random bytes than the encapsulation draws."""


def setup_base_s(suite: int, pk_r: bytes, info: bytes, randomness: bytes) -> tuple[bytes, Context]:
    if len(randomness) != RANDOMNESS_LEN[suite]:
        raise RandomnessLength(
            f"suite {suite} draws {RANDOMNESS_LEN[suite]} random bytes, {len(randomness)} were given"
        )
    if suite == 2:
        ss, enc = dhkem_encap(pk_r, randomness)
    else:
        ss, enc = xwing_encap(pk_r, randomness)
    return enc, key_schedule(suite, ss, info)


def setup_base_r(suite: int, enc: bytes, key: RecipientKey, info: bytes) -> Context:
    if len(enc) != ENC_LEN[suite]:
        raise QuietwireError("hpke.encapsulation", f"enc of {len(enc)} bytes")
    if suite == 2:
        assert key.x25519_sk is not None
        ss = dhkem_decap(enc, key.x25519_sk)
    else:
        assert key.xwing is not None
        ss = xwing_decap(enc, key.xwing)
    return key_schedule(suite, ss, info)


def seal(
    suite: int, pk_r: bytes, info: bytes, aad: bytes, pt: bytes, exporter_context: bytes, randomness: bytes
) -> tuple[bytes, bytes, bytes]:
    """SUI-08 seal: ``(enc, ciphertext, exported)``."""
    enc, ctx = setup_base_s(suite, pk_r, info, randomness)
    return enc, ctx.seal(aad, pt), ctx.export(exporter_context, 32)


def open_(
    suite: int, key: RecipientKey, enc: bytes, info: bytes, aad: bytes, ct: bytes, exporter_context: bytes
) -> tuple[bytes, bytes]:
    """SUI-08 open: ``(plaintext, exported)``; ``hpke.encapsulation``, ``hpke.decapsulation``,
    ``hpke.open`` in that order."""
    ctx = setup_base_r(suite, enc, key, info)
    pt = ctx.open(aad, ct)
    return pt, ctx.export(exporter_context, 32)
