//! HPKE (RFC 9180) in base mode for the suite's KEM, with HKDF-SHA256 and ChaCha20-Poly1305
//! (`spec/02-suites-and-labels.md`, HPKE).
//!
//! One seal per call: the sender encapsulates to the recipient's [`KemPublicKey`], encrypts
//! one plaintext at sequence number 0 and exports one 32-byte secret from the same context;
//! the recipient does the reverse with its [`KemSecret`]. The handshake uses the exported
//! secret, never the HPKE key schedule's internals.
//!
//! Randomness is injected: the KEM draws exactly [`Suite::hpke_encap_randomness_len`] bytes
//! from the caller's RNG (the X25519 `ikmE` of RFC 9180 §7.1.3, or the 64-byte `eseed` of
//! X-Wing), so sealing is reproducible byte for byte from a fixed RNG stream.
//!
//! ```
//! use quietwire::hpke;
//! use quietwire::keys::KemSecret;
//! use quietwire::suite::Suite;
//! # use rand_core::{TryCryptoRng, TryRng};
//! # struct Counter(u8);
//! # impl TryRng for Counter {
//! #     type Error = core::convert::Infallible;
//! #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
//! #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
//! #     fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
//! #         for b in dst { self.0 = self.0.wrapping_add(1); *b = self.0; }
//! #         Ok(())
//! #     }
//! # }
//! # impl TryCryptoRng for Counter {}
//! # let mut rng = Counter(0);
//! let recipient = KemSecret::generate(Suite::XWing, &mut rng);
//! let sealed = hpke::seal(recipient.public(), b"info", b"aad", b"hello", b"export", &mut rng)?;
//! let opened = hpke::open(&recipient, sealed.enc(), b"info", b"aad", sealed.ciphertext(), b"export")?;
//! assert_eq!(opened.plaintext(), b"hello");
//! assert_eq!(opened.exported(), sealed.exported());
//! # Ok::<(), quietwire::Error>(())
//! ```

use core::fmt;

use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::{X25519HkdfSha256, XWing};
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::error::{ErrorClass, Result};
use crate::keys::{KemPrivate, KemPublicKey, KemSecret};
use crate::suite::Suite;

/// Length of the exported secret.
pub const EXPORT_LEN: usize = 32;

/// The output of [`seal`]: the encapsulated key, the ciphertext and the exported secret.
pub struct Sealed {
    enc: Vec<u8>,
    ciphertext: Vec<u8>,
    exported: Zeroizing<[u8; EXPORT_LEN]>,
}

impl Sealed {
    /// The encapsulated key (`enc`), sent to the recipient.
    pub fn enc(&self) -> &[u8] {
        &self.enc
    }

    /// The ciphertext, tag included.
    pub fn ciphertext(&self) -> &[u8] {
        &self.ciphertext
    }

    /// The secret exported from the sender's context.
    pub fn exported(&self) -> &[u8; EXPORT_LEN] {
        &self.exported
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("enc_len", &self.enc.len())
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// The output of [`open`]: the plaintext and the exported secret.
pub struct Opened {
    plaintext: Zeroizing<Vec<u8>>,
    exported: Zeroizing<[u8; EXPORT_LEN]>,
}

impl Opened {
    /// The authenticated plaintext.
    pub fn plaintext(&self) -> &[u8] {
        &self.plaintext
    }

    /// The secret exported from the recipient's context; equal to the sender's.
    pub fn exported(&self) -> &[u8; EXPORT_LEN] {
        &self.exported
    }
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("plaintext_len", &self.plaintext.len())
            .finish_non_exhaustive()
    }
}

/// A sender's HPKE context after `SetupBaseS`: its encapsulated key is known before
/// anything is sealed, so a caller can bind `enc` into the plaintext (the handshake signs
/// it). One [`Sender::seal`] at sequence number 0 consumes the context.
pub struct Sender {
    enc: Vec<u8>,
    ctx: SenderCtx,
}

enum SenderCtx {
    XWing(hpke::aead::AeadCtxS<ChaCha20Poly1305, HkdfSha256, XWing>),
    X25519(hpke::aead::AeadCtxS<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>),
}

impl Sender {
    /// `SetupBaseS(pkR, info)`: encapsulates to `recipient`, drawing exactly
    /// [`Suite::hpke_encap_randomness_len`] bytes from `rng`.
    ///
    /// # Errors
    /// None for a validated recipient key in practice: an encapsulation failure (which a
    /// key that passed [`KemPublicKey::from_bytes`] cannot cause) is reported as
    /// `key.low_order`.
    pub fn setup<R: CryptoRng + ?Sized>(
        recipient: &KemPublicKey,
        info: &[u8],
        rng: &mut R,
    ) -> Result<Sender> {
        match recipient.suite() {
            Suite::XWing => {
                let (enc, ctx) = setup_with::<XWing, R>(recipient, info, rng)?;
                Ok(Sender {
                    enc,
                    ctx: SenderCtx::XWing(ctx),
                })
            }
            Suite::X25519 => {
                let (enc, ctx) = setup_with::<X25519HkdfSha256, R>(recipient, info, rng)?;
                Ok(Sender {
                    enc,
                    ctx: SenderCtx::X25519(ctx),
                })
            }
        }
    }

    /// The encapsulated key (`enc`), sent to the recipient.
    pub fn enc(&self) -> &[u8] {
        &self.enc
    }

    /// `Export(exporter_context, 32)`.
    pub fn export(&self, exporter_context: &[u8]) -> Zeroizing<[u8; EXPORT_LEN]> {
        let mut exported = Zeroizing::new([0u8; EXPORT_LEN]);
        // Export fails only for output lengths beyond 255 · Nh, never for 32 bytes.
        let _ = match &self.ctx {
            SenderCtx::XWing(ctx) => ctx.export(exporter_context, exported.as_mut()),
            SenderCtx::X25519(ctx) => ctx.export(exporter_context, exported.as_mut()),
        };
        exported
    }

    /// `Seal(aad, plaintext)` at sequence number 0; returns the ciphertext, tag included.
    pub fn seal(self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        // Sealing fails only when the sequence number overflows, never for the first seal.
        match self.ctx {
            SenderCtx::XWing(mut ctx) => ctx.seal(plaintext, aad),
            SenderCtx::X25519(mut ctx) => ctx.seal(plaintext, aad),
        }
        .unwrap_or_default()
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("enc_len", &self.enc.len())
            .finish_non_exhaustive()
    }
}

/// Seals `plaintext` to `recipient` with `info` and `aad`, and exports a secret under
/// `exporter_context`: [`Sender::setup`], [`Sender::export`], [`Sender::seal`].
///
/// # Errors
/// As [`Sender::setup`].
pub fn seal<R: CryptoRng + ?Sized>(
    recipient: &KemPublicKey,
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    exporter_context: &[u8],
    rng: &mut R,
) -> Result<Sealed> {
    let sender = Sender::setup(recipient, info, rng)?;
    let exported = sender.export(exporter_context);
    let enc = sender.enc.clone();
    let ciphertext = sender.seal(aad, plaintext);
    Ok(Sealed {
        enc,
        ciphertext,
        exported,
    })
}

/// Opens a sealed message with the recipient's key pair.
///
/// # Errors
/// `hpke.encapsulation` if `enc` does not have the suite's length; `hpke.decapsulation` if
/// the KEM rejects it (an X25519 share of small order); `hpke.open` if the ciphertext does
/// not authenticate under the derived key (a wrong key, `info`, `aad` or a modified
/// `enc` or ciphertext).
pub fn open(
    recipient: &KemSecret,
    enc: &[u8],
    info: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    exporter_context: &[u8],
) -> Result<Opened> {
    match recipient.private() {
        KemPrivate::XWing(sk) => {
            open_with::<XWing>(recipient, sk, enc, info, aad, ciphertext, exporter_context)
        }
        KemPrivate::X25519(sk) => open_with::<X25519HkdfSha256>(
            recipient,
            sk,
            enc,
            info,
            aad,
            ciphertext,
            exporter_context,
        ),
    }
}

fn setup_with<K: Kem, R: CryptoRng + ?Sized>(
    recipient: &KemPublicKey,
    info: &[u8],
    rng: &mut R,
) -> Result<(
    Vec<u8>,
    hpke::aead::AeadCtxS<ChaCha20Poly1305, HkdfSha256, K>,
)> {
    let pk = K::PublicKey::from_bytes(recipient.as_bytes()).map_err(|_| ErrorClass::KeyInvalid)?;
    let (enc, ctx) = hpke::setup_sender_with_rng::<ChaCha20Poly1305, HkdfSha256, K>(
        &OpModeS::Base,
        &pk,
        info,
        &mut Rng(rng),
    )
    .map_err(|_| ErrorClass::KeyLowOrder)?;
    Ok((enc.to_bytes().to_vec(), ctx))
}

fn open_with<K: Kem>(
    recipient: &KemSecret,
    sk: &K::PrivateKey,
    enc: &[u8],
    info: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    exporter_context: &[u8],
) -> Result<Opened> {
    if enc.len() != recipient.public().suite().hpke_enc_len() {
        return Err(ErrorClass::HpkeEncapsulation.into());
    }
    let encapped = K::EncappedKey::from_bytes(enc).map_err(|_| ErrorClass::HpkeEncapsulation)?;
    let mut ctx = hpke::setup_receiver::<ChaCha20Poly1305, HkdfSha256, K>(
        &OpModeR::Base,
        sk,
        &encapped,
        info,
    )
    .map_err(|_| ErrorClass::HpkeDecapsulation)?;
    let plaintext = Zeroizing::new(
        ctx.open(ciphertext, aad)
            .map_err(|_| ErrorClass::HpkeOpen)?,
    );
    let mut exported = Zeroizing::new([0u8; EXPORT_LEN]);
    ctx.export(exporter_context, exported.as_mut())
        .map_err(|_| ErrorClass::HpkeOpen)?;
    Ok(Opened {
        plaintext,
        exported,
    })
}

/// Adapts a possibly unsized caller RNG to the sized `impl CryptoRng` the `hpke` crate takes.
struct Rng<'a, R: CryptoRng + ?Sized>(&'a mut R);

impl<R: CryptoRng + ?Sized> rand_core::TryRng for Rng<'_, R> {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
        Ok(self.0.next_u32())
    }

    fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
        Ok(self.0.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> core::result::Result<(), Self::Error> {
        self.0.fill_bytes(dst);
        Ok(())
    }
}

impl<R: CryptoRng + ?Sized> rand_core::TryCryptoRng for Rng<'_, R> {}

#[cfg(test)]
mod tests;
