//! The ML-KEM-768 half of the post-quantum ratchet (`spec/06-ratchet.md` §6.18 to §6.22).
//!
//! Every sending half of a DH ratchet step of a post-quantum session also makes a fresh
//! ML-KEM-768 key pair and, when it knows the peer's newest encapsulation key, encapsulates
//! a shared secret to it; the root step mixes that secret in with the DH output. Every
//! message of the chain repeats, inside its encrypted header, the chain's encapsulation key
//! and ciphertext, so the receiver can run the step from whichever message of the chain it
//! gets first: lost and reordered messages need nothing more.
//!
//! Key pairs are made from their 64-byte FIPS 203 seed `d ‖ z` and ciphertexts from the
//! 32-byte message `m`, both drawn from the injected RNG, so a step is reproducible from
//! its randomness (the vectors rely on it).

use core::fmt;

use ml_kem::kem::{Decapsulate, KeyExport};
use ml_kem::{DecapsulationKey, EncapsulationKey, MlKem768};
use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::kdf::Key;
use crate::error::{ErrorClass, Result};

/// Length of an ML-KEM-768 encapsulation key.
pub const KEM_KEY_LEN: usize = 1184;
/// Length of an ML-KEM-768 ciphertext.
pub const KEM_CIPHERTEXT_LEN: usize = 1088;
/// Length of an ML-KEM-768 decapsulation-key seed (`d ‖ z`).
pub const KEM_SEED_LEN: usize = 64;

/// The ciphertext field of a chain that encapsulated nothing (the initiator's first chain).
pub(crate) const NO_CIPHERTEXT: [u8; KEM_CIPHERTEXT_LEN] = [0; KEM_CIPHERTEXT_LEN];

/// Own ML-KEM-768 key pair of the current sending chain.
#[derive(Clone)]
pub(crate) struct OwnKem {
    seed: Zeroizing<[u8; KEM_SEED_LEN]>,
    key: Box<DecapsulationKey<MlKem768>>,
    public: Box<[u8; KEM_KEY_LEN]>,
}

impl OwnKem {
    /// The key pair of a 64-byte seed `d ‖ z` (FIPS 203 `ML-KEM.KeyGen_internal(d, z)`).
    pub(crate) fn from_seed(seed: &[u8; KEM_SEED_LEN]) -> OwnKem {
        let key = Box::new(DecapsulationKey::<MlKem768>::from_seed((*seed).into()));
        let mut public = Box::new([0u8; KEM_KEY_LEN]);
        public.copy_from_slice(&key.encapsulation_key().to_bytes());
        OwnKem {
            seed: Zeroizing::new(*seed),
            key,
            public,
        }
    }

    /// A new key pair from 64 bytes of `rng`.
    pub(crate) fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> OwnKem {
        let mut seed = Zeroizing::new([0u8; KEM_SEED_LEN]);
        rng.fill_bytes(seed.as_mut());
        OwnKem::from_seed(&seed)
    }

    /// The seed, as stored in a snapshot.
    pub(crate) fn seed(&self) -> &[u8; KEM_SEED_LEN] {
        &self.seed
    }

    /// The encapsulation key, as sent in every header of the chain.
    pub(crate) fn public(&self) -> &[u8; KEM_KEY_LEN] {
        &self.public
    }

    /// The shared secret of a ciphertext (ML-KEM decapsulation never fails: a ciphertext
    /// not made for this key gives an unrelated secret, and the body then fails).
    pub(crate) fn decapsulate(&self, ciphertext: &[u8; KEM_CIPHERTEXT_LEN]) -> Key {
        let shared = self.key.decapsulate(&(*ciphertext).into());
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&shared);
        out
    }
}

/// The peer's encapsulation key of its newest chain, validated (FIPS 203 §7.2 modulus check).
#[derive(Clone)]
pub(crate) struct PeerKem {
    bytes: Box<[u8; KEM_KEY_LEN]>,
    key: Box<EncapsulationKey<MlKem768>>,
}

impl PeerKem {
    /// Validates an encapsulation key.
    ///
    /// # Errors
    /// `key.invalid` if a coefficient is not reduced modulo q (the FIPS 203 input check).
    pub(crate) fn from_bytes(bytes: &[u8; KEM_KEY_LEN]) -> Result<PeerKem> {
        let key = EncapsulationKey::<MlKem768>::new(&(*bytes).into())
            .map_err(|_| ErrorClass::KeyInvalid)?;
        Ok(PeerKem {
            bytes: Box::new(*bytes),
            key: Box::new(key),
        })
    }

    /// The encoded key, as stored in a snapshot.
    pub(crate) fn as_bytes(&self) -> &[u8; KEM_KEY_LEN] {
        &self.bytes
    }

    /// Encapsulates to this key with 32 bytes `m` of `rng` (FIPS 203
    /// `ML-KEM.Encaps_internal(ek, m)`): the ciphertext and the shared secret.
    pub(crate) fn encapsulate<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
    ) -> (Box<[u8; KEM_CIPHERTEXT_LEN]>, Key) {
        let mut m = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(m.as_mut());
        let (ciphertext, shared) = self.key.encapsulate_deterministic(&(*m).into());
        let mut ct = Box::new([0u8; KEM_CIPHERTEXT_LEN]);
        ct.copy_from_slice(&ciphertext);
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&shared);
        (ct, out)
    }
}

/// The KEM state of a post-quantum session (§6.18): `KEMs`, `KEMr` and `KEMct`.
#[derive(Clone, Default)]
pub(crate) struct KemState {
    /// `KEMs`: own key pair of the current sending chain; none before the first sending half.
    pub(crate) own: Option<OwnKem>,
    /// `KEMr`: the peer's encapsulation key of its newest chain, kept from the receiving half
    /// that saw it until the sending half that encapsulates to it.
    pub(crate) peer: Option<PeerKem>,
    /// `KEMct`: the ciphertext of the current sending chain; none if it encapsulated nothing.
    pub(crate) ciphertext: Option<Box<[u8; KEM_CIPHERTEXT_LEN]>>,
}

impl fmt::Debug for KemState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KemState")
            .field("own", &self.own.is_some())
            .field("peer", &self.peer.is_some())
            .field("ciphertext", &self.ciphertext.is_some())
            .finish()
    }
}

/// The shared secret a new chain's header gives the receiver (RAT-14): decapsulated
/// with `own` if the header carries a ciphertext, 32 zero bytes if neither has one.
///
/// # Errors
/// `ratchet.kem` if exactly one of the two is present: a ciphertext for a key this side
/// never made, or a chain that skipped the KEM although this side's key was known.
pub(crate) fn receive(own: Option<&OwnKem>, ciphertext: &[u8; KEM_CIPHERTEXT_LEN]) -> Result<Key> {
    let empty = bool::from(ciphertext.as_slice().ct_eq(NO_CIPHERTEXT.as_slice()));
    match (own, empty) {
        (Some(own), false) => Ok(own.decapsulate(ciphertext)),
        (None, true) => Ok(Zeroizing::new([0u8; 32])),
        _ => Err(ErrorClass::RatchetKem.into()),
    }
}
