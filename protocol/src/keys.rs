//! Public-key validation and secret key types.
//!
//! Specified in [`spec/02-suites-and-labels.md`](../../spec/02-suites-and-labels.md), key
//! validation. Every public key received from a peer passes through one of the constructors
//! here, which reject invalid, non-canonically encoded and small-order keys with
//! `key.invalid`, `key.noncanonical` and `key.low_order`. Secret types zeroize on drop and
//! print nothing but their type in `Debug`.

use core::fmt;

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use hpke::{Deserializable, Kem as _, Serializable};
use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{ErrorClass, Result};
use crate::label::Label;
use crate::suite::Suite;

/// An Ed25519 identity public key that passed validation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IdentityKey {
    bytes: [u8; 32],
    key: VerifyingKey,
}

impl IdentityKey {
    /// Validates an encoded Ed25519 public key.
    ///
    /// # Errors
    /// `key.invalid` if it is not a curve point, `key.noncanonical` if the encoding is not
    /// the canonical one of that point, `key.low_order` if the point has small order.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<IdentityKey> {
        // One decompression; the canonical check reads the bytes instead of re-compressing.
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| ErrorClass::KeyInvalid)?;
        if !is_canonical_edwards_encoding(bytes) {
            return Err(ErrorClass::KeyNonCanonical.into());
        }
        if key.is_weak() {
            return Err(ErrorClass::KeyLowOrder.into());
        }
        Ok(IdentityKey { bytes: *bytes, key })
    }

    /// The 32-byte encoding.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// Verifies `signature` over the labeled input `[label, body]` with strict Ed25519
    /// rules (canonical `S`, `R` and `A` not of small order).
    ///
    /// # Errors
    /// `identity.signature` if the signature does not verify.
    pub fn verify(&self, label: Label, body: &[u8], signature: &[u8; 64]) -> Result<()> {
        self.verify_labeled(label, &[body], signature)
    }

    /// Verifies `signature` over the labeled input `[label, context...]`, strictly.
    ///
    /// # Errors
    /// `identity.signature` if the signature does not verify.
    pub fn verify_labeled(
        &self,
        label: Label,
        context: &[&[u8]],
        signature: &[u8; 64],
    ) -> Result<()> {
        let signature = Signature::from_bytes(signature);
        self.key
            .verify_strict(&label.input(context), &signature)
            .map_err(|_| ErrorClass::IdentitySignature.into())
    }
}

impl fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentityKey({})", Hex(&self.bytes))
    }
}

/// A device's Ed25519 identity key pair. Generated on the device; the secret never leaves
/// it except inside an encrypted backup or device transfer.
pub struct IdentityKeyPair {
    signing: SigningKey,
    public: IdentityKey,
}

impl IdentityKeyPair {
    /// Generates a key pair from 32 bytes of the injected RNG.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> IdentityKeyPair {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        IdentityKeyPair::from_seed(&seed)
    }

    /// Rebuilds a key pair from its 32-byte secret seed (RFC 8032 private key).
    pub fn from_seed(seed: &[u8; 32]) -> IdentityKeyPair {
        let signing = SigningKey::from_bytes(seed);
        let bytes = signing.verifying_key().to_bytes();
        // The public key of an honestly generated seed is always valid.
        let public = IdentityKey {
            bytes,
            key: signing.verifying_key(),
        };
        IdentityKeyPair { signing, public }
    }

    /// The secret seed, for encrypted export only.
    pub fn dangerous_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// The public identity key.
    pub const fn public(&self) -> &IdentityKey {
        &self.public
    }

    /// Signs the labeled input `[label, body]`.
    pub fn sign(&self, label: Label, body: &[u8]) -> [u8; 64] {
        self.sign_labeled(label, &[body])
    }

    /// Signs the labeled input `[label, context...]`.
    pub fn sign_labeled(&self, label: Label, context: &[&[u8]]) -> [u8; 64] {
        use ed25519_dalek::Signer as _;
        self.signing.sign(&label.input(context)).to_bytes()
    }
}

impl fmt::Debug for IdentityKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityKeyPair")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// The field prime p = 2^255 − 19, little-endian.
const P: [u8; 32] = {
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
};

/// Canonical encodings of the X25519 u-coordinates of small order (spec: key validation).
const X25519_LOW_ORDER: [[u8; 32]; 5] = [
    [0u8; 32],
    {
        let mut one = [0u8; 32];
        one[0] = 1;
        one
    },
    {
        let mut p_minus_one = P;
        p_minus_one[0] = 0xec;
        p_minus_one
    },
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x00,
    ],
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
        0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
        0x11, 0x57,
    ],
];

/// Whether a little-endian 32-byte integer is below p (and has its top bit clear).
fn is_canonical_field_element(bytes: &[u8; 32]) -> bool {
    // Compare from the most significant byte down.
    for (b, p) in bytes.iter().rev().zip(P.iter().rev()) {
        if b != p {
            return b < p;
        }
    }
    false // equal to p
}

/// Whether the encoding of a point that decompressed is the canonical one (RFC 8032
/// §5.1.2): `y < p`, and the sign bit clear when `x = 0`. Decompression accepts both
/// violations, and `x = 0` happens exactly for `y = 1` and `y = p - 1`.
fn is_canonical_edwards_encoding(bytes: &[u8; 32]) -> bool {
    let mut y = *bytes;
    let sign = y.last().map_or(0, |b| b >> 7);
    if let Some(last) = y.last_mut() {
        *last &= 0x7f;
    }
    let mut one = [0u8; 32];
    if let Some(first) = one.first_mut() {
        *first = 1;
    }
    let mut p_minus_one = P;
    if let Some(first) = p_minus_one.first_mut() {
        *first -= 1;
    }
    is_canonical_field_element(&y) && !(sign == 1 && (y == one || y == p_minus_one))
}

/// Checks an X25519 public key (u-coordinate) as the spec requires.
fn check_x25519(bytes: &[u8; 32]) -> Result<()> {
    if !is_canonical_field_element(bytes) {
        return Err(ErrorClass::KeyNonCanonical.into());
    }
    let mut low_order = subtle::Choice::from(0);
    for point in &X25519_LOW_ORDER {
        low_order |= bytes.ct_eq(point);
    }
    if bool::from(low_order) {
        return Err(ErrorClass::KeyLowOrder.into());
    }
    Ok(())
}

/// A validated X25519 public key (ratchet keys).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct X25519PublicKey([u8; 32]);

impl X25519PublicKey {
    /// Validates an X25519 public key.
    ///
    /// # Errors
    /// `key.noncanonical` for a u-coordinate ≥ p or with the top bit set, `key.low_order`
    /// for a point of small order.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<X25519PublicKey> {
        check_x25519(bytes)?;
        Ok(X25519PublicKey(*bytes))
    }

    /// The 32-byte encoding.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for X25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "X25519PublicKey({})", Hex(&self.0))
    }
}

/// An X25519 secret key (ratchet keys). Zeroized on drop.
pub struct X25519Secret {
    secret: x25519_dalek::StaticSecret,
    public: X25519PublicKey,
}

impl X25519Secret {
    /// Generates a secret from 32 bytes of the injected RNG.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> X25519Secret {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(bytes.as_mut());
        X25519Secret::from_bytes(&bytes)
    }

    /// Rebuilds a secret from its 32 bytes (clamped as RFC 7748 specifies).
    pub fn from_bytes(bytes: &[u8; 32]) -> X25519Secret {
        let secret = x25519_dalek::StaticSecret::from(*bytes);
        let public = X25519PublicKey(x25519_dalek::PublicKey::from(&secret).to_bytes());
        X25519Secret { secret, public }
    }

    /// The public key.
    pub const fn public(&self) -> &X25519PublicKey {
        &self.public
    }

    /// The secret bytes, for encrypted export only.
    pub fn dangerous_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// X25519 with a validated peer key. The output is checked to be contributory, so a
    /// peer cannot force a predictable shared secret even if a low-order point slipped
    /// past validation.
    ///
    /// # Errors
    /// `key.low_order` if the shared secret is all zero.
    pub fn diffie_hellman(&self, peer: &X25519PublicKey) -> Result<Zeroizing<[u8; 32]>> {
        let shared = self
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(peer.0));
        if !shared.was_contributory() {
            return Err(ErrorClass::KeyLowOrder.into());
        }
        Ok(Zeroizing::new(shared.to_bytes()))
    }
}

impl Clone for X25519Secret {
    fn clone(&self) -> Self {
        X25519Secret {
            secret: self.secret.clone(),
            public: self.public,
        }
    }
}

impl fmt::Debug for X25519Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("X25519Secret")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// A validated HPKE KEM public key of a suite.
#[derive(Clone, PartialEq, Eq)]
pub struct KemPublicKey {
    suite: Suite,
    bytes: Vec<u8>,
}

impl KemPublicKey {
    /// Validates a KEM public key for `suite`.
    ///
    /// # Errors
    /// `schema.length` for the wrong length; for X-Wing, `key.invalid` if the ML-KEM-768
    /// part fails the FIPS 203 encapsulation-key check; the X25519 part (the whole key in
    /// the classical suite) as for [`X25519PublicKey::from_bytes`].
    pub fn from_bytes(suite: Suite, bytes: &[u8]) -> Result<KemPublicKey> {
        if bytes.len() != suite.kem_public_key_len() {
            return Err(ErrorClass::SchemaLength.into());
        }
        let x25519_part = bytes
            .len()
            .checked_sub(32)
            .and_then(|start| bytes.get(start..));
        let x25519_part: [u8; 32] = crate::schema::fixed(x25519_part.unwrap_or_default())?;
        match suite {
            Suite::XWing => {
                // The X-Wing constructor runs the FIPS 203 modulus check on the ML-KEM-768
                // part (the first 1184 bytes); the X25519 part gets our stricter rules.
                <hpke::kem::XWing as hpke::Kem>::PublicKey::from_bytes(bytes)
                    .map_err(|_| ErrorClass::KeyInvalid)?;
                check_x25519(&x25519_part)?;
            }
            Suite::X25519 => check_x25519(&x25519_part)?,
        }
        Ok(KemPublicKey {
            suite,
            bytes: bytes.to_vec(),
        })
    }

    /// The suite this key belongs to.
    pub const fn suite(&self) -> Suite {
        self.suite
    }

    /// The encoded key.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for KemPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "KemPublicKey({:?}, {} bytes)",
            self.suite,
            self.bytes.len()
        )
    }
}

/// An HPKE KEM key pair, kept as the 32-byte seed it is derived from with the KEM's
/// `DeriveKeyPair` (RFC 9180 §7.1.3) and as the derived private key, so that opening does
/// not derive it again. Zeroized on drop (the private keys wipe themselves: x25519-dalek's
/// and, through the `zeroize` feature, X-Wing's).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct KemSecret {
    #[zeroize(skip)]
    suite: Suite,
    seed: [u8; 32],
    #[zeroize(skip)]
    private: KemPrivate,
    #[zeroize(skip)]
    public: KemPublicKey,
}

/// The derived HPKE private key of a suite's KEM.
pub(crate) enum KemPrivate {
    XWing(Box<<hpke::kem::XWing as hpke::Kem>::PrivateKey>),
    X25519(<hpke::kem::X25519HkdfSha256 as hpke::Kem>::PrivateKey),
}

impl KemSecret {
    /// Generates a key pair from 32 bytes of the injected RNG.
    pub fn generate<R: CryptoRng + ?Sized>(suite: Suite, rng: &mut R) -> KemSecret {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        KemSecret::from_seed(suite, &seed)
    }

    /// Derives the key pair of `suite` from its seed.
    pub fn from_seed(suite: Suite, seed: &[u8; 32]) -> KemSecret {
        let (private, bytes) = match suite {
            Suite::XWing => {
                let (sk, pk) = hpke::kem::XWing::derive_keypair(seed);
                (KemPrivate::XWing(Box::new(sk)), pk.to_bytes().to_vec())
            }
            Suite::X25519 => {
                let (sk, pk) = hpke::kem::X25519HkdfSha256::derive_keypair(seed);
                (KemPrivate::X25519(sk), pk.to_bytes().to_vec())
            }
        };
        KemSecret {
            suite,
            seed: *seed,
            private,
            public: KemPublicKey { suite, bytes },
        }
    }

    /// The derived private key.
    pub(crate) const fn private(&self) -> &KemPrivate {
        &self.private
    }

    /// The public key.
    pub const fn public(&self) -> &KemPublicKey {
        &self.public
    }

    /// The seed, for encrypted export only.
    pub fn dangerous_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.seed)
    }
}

impl fmt::Debug for KemSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KemSecret")
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

/// Lowercase hex for `Debug` output of public values.
pub(crate) struct Hex<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::edwards::CompressedEdwardsY;

    /// The byte-level canonical check agrees with the definition (re-compressing the
    /// decompressed point gives the same bytes) on every encoding near the edges.
    #[test]
    fn canonical_edwards_check_matches_recompression() {
        let mut cases: Vec<[u8; 32]> = Vec::new();
        for low in 0u8..=40 {
            let mut y = [0u8; 32];
            y[0] = low;
            cases.push(y);
        }
        for delta in 0u8..=19 {
            // p - 1 + delta ... 2^255 - 1: every y >= p - 1.
            let mut y = P;
            y[0] = y[0].wrapping_sub(1).wrapping_add(delta);
            cases.push(y);
        }
        for seed in 0u8..64 {
            cases.push(*IdentityKeyPair::from_seed(&[seed; 32]).public().as_bytes());
        }
        let mut checked = 0;
        for base in cases {
            for sign in [0u8, 0x80] {
                let mut bytes = base;
                bytes[31] = (bytes[31] & 0x7f) | sign;
                if let Some(point) = CompressedEdwardsY(bytes).decompress() {
                    checked += 1;
                    assert_eq!(
                        is_canonical_edwards_encoding(&bytes),
                        point.compress().to_bytes() == bytes,
                        "{bytes:02x?}"
                    );
                }
            }
        }
        assert!(checked > 100);
    }

    fn class<T>(r: Result<T>) -> ErrorClass {
        match r {
            Ok(_) => panic!("accepted"),
            Err(e) => e.class(),
        }
    }

    #[test]
    fn x25519_low_order_points_are_rejected() {
        for point in &X25519_LOW_ORDER {
            assert_eq!(
                class(X25519PublicKey::from_bytes(point)),
                ErrorClass::KeyLowOrder
            );
            // Each listed point really has small order: multiplying by the cofactor gives 0.
            let eight = curve25519_dalek::Scalar::from(8u8);
            let q = curve25519_dalek::MontgomeryPoint(*point) * eight;
            assert_eq!(q.to_bytes(), [0u8; 32]);
        }
        assert_eq!(
            class(X25519PublicKey::from_bytes(&P)),
            ErrorClass::KeyNonCanonical
        );
        let mut high = [0u8; 32];
        high[0] = 9;
        high[31] = 0x80;
        assert_eq!(
            class(X25519PublicKey::from_bytes(&high)),
            ErrorClass::KeyNonCanonical
        );
        let mut nine = [0u8; 32];
        nine[0] = 9;
        assert!(X25519PublicKey::from_bytes(&nine).is_ok());
    }

    #[test]
    fn ed25519_checks() {
        // The identity point (0, 1) is canonical and of small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            class(IdentityKey::from_bytes(&identity)),
            ErrorClass::KeyLowOrder
        );
        // y = p + 1 is a non-canonical encoding of the same point.
        let mut non_canonical = P;
        non_canonical[0] = 0xee;
        assert_eq!(
            class(IdentityKey::from_bytes(&non_canonical)),
            ErrorClass::KeyNonCanonical
        );
        // y = 2 is not on the curve.
        let mut not_on_curve = [0u8; 32];
        not_on_curve[0] = 2;
        assert_eq!(
            class(IdentityKey::from_bytes(&not_on_curve)),
            ErrorClass::KeyInvalid
        );
        let pair = IdentityKeyPair::from_seed(&[7u8; 32]);
        assert!(IdentityKey::from_bytes(pair.public().as_bytes()).is_ok());
        let signature = pair.sign(Label::Invite, b"body");
        assert!(
            pair.public()
                .verify(Label::Invite, b"body", &signature)
                .is_ok()
        );
        assert_eq!(
            class(
                pair.public()
                    .verify(Label::DeviceRecord, b"body", &signature)
            ),
            ErrorClass::IdentitySignature
        );
    }

    #[test]
    fn kem_keys_validate_per_suite() {
        for suite in Suite::ALL {
            let secret = KemSecret::from_seed(suite, &[3u8; 32]);
            assert_eq!(secret.public().as_bytes().len(), suite.kem_public_key_len());
            assert!(KemPublicKey::from_bytes(suite, secret.public().as_bytes()).is_ok());
            assert_eq!(
                class(KemPublicKey::from_bytes(suite, &[0u8; 5])),
                ErrorClass::SchemaLength
            );
        }
        let mut bad = KemSecret::from_seed(Suite::XWing, &[3u8; 32])
            .public()
            .as_bytes()
            .to_vec();
        bad[0] = 0xff;
        bad[1] = 0xff; // first coefficient 0xfff >= q
        assert_eq!(
            class(KemPublicKey::from_bytes(Suite::XWing, &bad)),
            ErrorClass::KeyInvalid
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let pair = IdentityKeyPair::from_seed(&[7u8; 32]);
        let printed = format!("{pair:?}");
        assert!(!printed.contains(&Hex(&[7u8; 32]).to_string()));
        let kem = KemSecret::from_seed(Suite::X25519, &[9u8; 32]);
        assert!(!format!("{kem:?}").contains("0909"));
    }
}
