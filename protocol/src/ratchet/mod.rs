//! The Double Ratchet with header encryption.
//!
//! Specified in [`spec/06-ratchet.md`](../../spec/06-ratchet.md), after the Double Ratchet
//! specification (Perrin and Marlinspike, 2016) §3 and §4, with these choices:
//!
//! - X25519 for the DH ratchet, HKDF-SHA256 with registered labels for every KDF,
//!   ChaCha20-Poly1305 for bodies (key and nonce derived from the one-time message key),
//!   XChaCha20-Poly1305 with random nonces for headers, whose keys serve a whole chain.
//! - Headers have a fixed size; nothing outside the encryption shows a ratchet key or a
//!   counter.
//! - Two limits: at most [`MAX_JUMP`] keys skipped by one message (per chain), at most
//!   [`MAX_SKIPPED`] skipped keys stored in all and at most [`MAX_SKIPPED_CHAINS`] chains
//!   with stored keys, the oldest evicted first.
//! - A failed decryption changes no state: every derivation happens on temporaries that
//!   are committed only after the body authenticates.
//! - A message opens at most once: its key is deleted when used, and a message whose key
//!   is gone is refused with `ratchet.replay`.
//! - The sending half of a DH ratchet step happens at the next encryption, so decryption
//!   needs no randomness; the keys derived are the same as in the specification's eager
//!   form.
//! - The post-quantum ratchet ([`Ratchet::pq_initiator`], [`Ratchet::pq_responder`];
//!   spec §6.18 to §6.23), which every session the handshake creates runs, adds an
//!   ML-KEM-768 key pair and encapsulation to every DH step and mixes the shared secret into
//!   the root key; every header of a chain carries the chain's encapsulation key and
//!   ciphertext, so messages are [`PQ_OVERHEAD`] bytes longer than their plaintext. Its
//!   snapshots are of version 2.
//!
//! ```
//! use quietwire::ratchet::Ratchet;
//! use quietwire::keys::X25519Secret;
//! # use rand_core::{TryRng, TryCryptoRng};
//! # struct Rng(u8);
//! # impl TryRng for Rng {
//! #     type Error = core::convert::Infallible;
//! #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(self.try_next_u64()? as u32) }
//! #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { self.0 = self.0.wrapping_add(1); Ok(u64::from(self.0) * 0x9e37_79b9_7f4a_7c15) }
//! #     fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> { for b in d { self.0 = self.0.wrapping_add(1); *b = self.0.wrapping_mul(167) ^ 0x5a; } Ok(()) }
//! # }
//! # impl TryCryptoRng for Rng {}
//! # let mut rng = Rng(0);
//! // Both sides hold the session secret and associated data from the handshake; the
//! // responder's ratchet key pair was published in its invite.
//! let secret = [42u8; 32];
//! let ad = [9u8; 32]; // the handshake's transcript hash
//! let responder_key = X25519Secret::from_bytes(&[7u8; 32]);
//! let mut initiator = Ratchet::pq_initiator(&secret, *responder_key.public(), &ad);
//! let mut responder = Ratchet::pq_responder(&secret, responder_key, &ad);
//!
//! let wire = initiator.encrypt(b"hello", &mut rng)?;
//! // The header carries the chain's ML-KEM-768 encapsulation key and ciphertext.
//! assert_eq!(wire.len(), b"hello".len() + quietwire::ratchet::PQ_OVERHEAD);
//! assert_eq!(responder.decrypt(&wire)?, b"hello");
//! let reply = responder.encrypt(b"hi", &mut rng)?;
//! assert_eq!(initiator.decrypt(&reply)?, b"hi");
//! // A replay is refused and changes nothing.
//! assert!(initiator.decrypt(&reply).is_err());
//! # Ok::<(), quietwire::Error>(())
//! ```

mod header;
mod kdf;
mod pq;
mod skipped;
mod snapshot;

use core::fmt;

use crate::aead;
use crate::error::{ErrorClass, Result};
use crate::keys::{X25519PublicKey, X25519Secret};
use crate::label::Label;
pub use header::{ENCRYPTED_HEADER_LEN, PQ_ENCRYPTED_HEADER_LEN};
use header::{Header, KemFields, ReceivedKem};
use kdf::Key;
pub use pq::{KEM_CIPHERTEXT_LEN, KEM_KEY_LEN, KEM_SEED_LEN};
use pq::{KemState, OwnKem, PeerKem};
use rand_core::CryptoRng;
use skipped::{Skipped, SkippedKeys};
pub use snapshot::MAX_SNAPSHOT;

/// Most message keys one message may make the receiver skip in one chain.
pub const MAX_JUMP: u32 = 5000;
/// Most skipped message keys stored; beyond it the oldest are evicted.
pub const MAX_SKIPPED: usize = 5000;
/// Most receiving chains with stored skipped keys; beyond it the oldest chain's keys are
/// evicted. Bounds the header keys a message that opens under none of them is tried
/// against.
pub const MAX_SKIPPED_CHAINS: usize = 16;
/// Bytes a message of the classic ratchet adds to its plaintext: encrypted header and body
/// tag.
pub const OVERHEAD: usize = ENCRYPTED_HEADER_LEN + aead::TAG_LEN;
/// Bytes a message of the post-quantum ratchet adds to its plaintext: encrypted header (with
/// the chain's ML-KEM-768 encapsulation key and ciphertext) and body tag.
pub const PQ_OVERHEAD: usize = PQ_ENCRYPTED_HEADER_LEN + aead::TAG_LEN;

/// One side of a Double Ratchet session. Secrets are wiped on drop; `Debug` shows none.
#[derive(Clone)]
pub struct Ratchet {
    ad: [u8; 32],
    dhs: Option<X25519Secret>,
    dhr: Option<X25519PublicKey>,
    rk: Key,
    cks: Option<Key>,
    ckr: Option<Key>,
    ns: u32,
    nr: u32,
    pn: u32,
    hks: Option<Key>,
    hkr: Option<Key>,
    nhks: Key,
    nhkr: Key,
    send_step_pending: bool,
    skipped: SkippedKeys,
    /// The KEM state of a post-quantum session (§6.18); none for a classic one.
    kem: Option<Box<KemState>>,
}

impl fmt::Debug for Ratchet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ratchet")
            .field("sent", &self.ns)
            .field("received", &self.nr)
            .field("skipped", &self.skipped.len())
            .field("post_quantum", &self.kem.is_some())
            .finish_non_exhaustive()
    }
}

/// What a successful header decryption leads to, before anything is committed.
struct Pending {
    plaintext: Vec<u8>,
    commit: Commit,
}

enum Commit {
    /// A stored skipped key was used: remove it.
    Skipped { index: usize },
    /// The current receiving chain advanced.
    Chain {
        skipped: Vec<Skipped>,
        ckr: Key,
        nr: u32,
    },
    /// A DH ratchet step on receipt.
    Step {
        skipped: Vec<Skipped>,
        dhr: X25519PublicKey,
        rk: Key,
        hkr: Key,
        nhkr: Key,
        ckr: Key,
        nr: u32,
        /// The peer's encapsulation key of the new chain (post-quantum sessions).
        peer_kem: Option<PeerKem>,
    },
}

impl Ratchet {
    /// The side that sends first (the party that accepted the invite) of a post-quantum
    /// session (§6.18): every DH ratchet step also runs ML-KEM-768. `peer` is the
    /// responder's ratchet public key (signed in its invite); `ad`, the handshake's
    /// transcript hash, binds every header and body to the session.
    pub fn pq_initiator(
        session_secret: &[u8; 32],
        peer: X25519PublicKey,
        ad: &[u8; 32],
    ) -> Ratchet {
        let (rk, hka, nhkb) = kdf::init_pq(session_secret);
        let mut state = Self::initiator_state(rk, hka, nhkb, peer, ad);
        state.kem = Some(Box::default());
        state
    }

    /// The side that receives first (the inviter) of a post-quantum session (§6.18),
    /// holding the ratchet key pair whose public half its invite carried.
    pub fn pq_responder(session_secret: &[u8; 32], own: X25519Secret, ad: &[u8; 32]) -> Ratchet {
        let (rk, hka, nhkb) = kdf::init_pq(session_secret);
        let mut state = Self::responder_state(rk, hka, nhkb, own, ad);
        state.kem = Some(Box::default());
        state
    }

    /// The side that sends first of a classic session (RAT-01), whose healing after a
    /// compromise rests on X25519 alone; [`Ratchet::pq_initiator`] adds ML-KEM-768.
    pub fn initiator(session_secret: &[u8; 32], peer: X25519PublicKey, ad: &[u8; 32]) -> Ratchet {
        let (rk, hka, nhkb) = kdf::init(session_secret);
        Self::initiator_state(rk, hka, nhkb, peer, ad)
    }

    /// The side that receives first of a classic session (RAT-01);
    /// [`Ratchet::pq_responder`] adds ML-KEM-768.
    pub fn responder(session_secret: &[u8; 32], own: X25519Secret, ad: &[u8; 32]) -> Ratchet {
        let (rk, hka, nhkb) = kdf::init(session_secret);
        Self::responder_state(rk, hka, nhkb, own, ad)
    }

    fn initiator_state(
        rk: Key,
        hka: Key,
        nhkb: Key,
        peer: X25519PublicKey,
        ad: &[u8; 32],
    ) -> Ratchet {
        Ratchet {
            ad: *ad,
            dhs: None,
            dhr: Some(peer),
            rk,
            cks: None,
            ckr: None,
            ns: 0,
            nr: 0,
            pn: 0,
            hks: None,
            hkr: None,
            // The pending sending step moves this into HKs: the initiator's first header key.
            nhks: hka,
            nhkr: nhkb,
            send_step_pending: true,
            skipped: SkippedKeys::default(),
            kem: None,
        }
    }

    fn responder_state(rk: Key, hka: Key, nhkb: Key, own: X25519Secret, ad: &[u8; 32]) -> Ratchet {
        Ratchet {
            ad: *ad,
            dhs: Some(own),
            dhr: None,
            rk,
            cks: None,
            ckr: None,
            ns: 0,
            nr: 0,
            pn: 0,
            hks: None,
            hkr: None,
            nhks: nhkb,
            nhkr: hka,
            send_step_pending: false,
            skipped: SkippedKeys::default(),
            kem: None,
        }
    }

    /// Whether this is a post-quantum session (§6.18).
    pub fn is_post_quantum(&self) -> bool {
        self.kem.is_some()
    }

    /// Bytes a message of this session adds to its plaintext: [`PQ_OVERHEAD`] for a
    /// post-quantum session, [`OVERHEAD`] for a classic one.
    pub fn overhead(&self) -> usize {
        if self.is_post_quantum() {
            PQ_OVERHEAD
        } else {
            OVERHEAD
        }
    }

    /// Whether this side can send now (the responder cannot before its first receipt).
    pub fn can_send(&self) -> bool {
        self.cks.is_some() || (self.send_step_pending && self.dhr.is_some())
    }

    /// Number of skipped message keys currently stored.
    pub fn skipped_keys(&self) -> usize {
        self.skipped.len()
    }

    /// Encrypts one message. Draws 32 bytes of a new ratchet secret when a DH step is due
    /// (in a post-quantum session then 64 bytes of an ML-KEM-768 key pair and, if the peer's
    /// encapsulation key is known, 32 bytes of encapsulation randomness), then 24 bytes of
    /// header nonce.
    ///
    /// # Errors
    /// `ratchet.no_sending_chain` if this side has not received yet (responder);
    /// `ratchet.exhausted` after 2^32 − 1 messages in one chain; `key.low_order` if the
    /// peer's ratchet key yields a non-contributory DH (never for a validated key).
    pub fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        plaintext: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        if self.send_step_pending {
            self.send_step(rng)?;
        }
        let (Some(cks), Some(hks), Some(dhs)) = (&self.cks, &self.hks, &self.dhs) else {
            return Err(ErrorClass::RatchetNoSendingChain.into());
        };
        let next_ns = self.ns.checked_add(1).ok_or(ErrorClass::RatchetExhausted)?;
        let (next_ck, mk) = kdf::chain(cks);
        let header = Header {
            dh: *dhs.public().as_bytes(),
            pn: self.pn,
            n: self.ns,
        };
        let mut nonce = [0u8; header::HEADER_NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let kem = self.kem.as_deref().and_then(|kem| {
            Some(KemFields {
                key: kem.own.as_ref()?.public(),
                ciphertext: kem.ciphertext.as_deref().unwrap_or(&pq::NO_CIPHERTEXT),
            })
        });
        let mut out = header::seal(hks, &nonce, header, kem, &self.ad);
        let (key, body_nonce) = kdf::message(&mk, &nonce);
        out.extend_from_slice(&aead::seal(
            &key,
            &body_nonce,
            &body_ad(&self.ad, &out),
            plaintext,
        ));
        self.cks = Some(next_ck);
        self.ns = next_ns;
        Ok(out)
    }

    /// The sending half of a DH ratchet step.
    fn send_step<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) -> Result<()> {
        let Some(dhr) = self.dhr else {
            return Err(ErrorClass::RatchetNoSendingChain.into());
        };
        let dhs = X25519Secret::generate(rng);
        let dh = dhs.diffie_hellman(&dhr)?;
        let (rk, cks, nhks) = match self.kem.as_deref_mut() {
            None => kdf::root(&self.rk, &dh),
            Some(kem) => {
                // RAT-13: a new key pair, then the encapsulation to the peer's newest key.
                let own = OwnKem::generate(rng);
                let (ciphertext, shared) = match kem.peer.take() {
                    Some(peer) => {
                        let (ciphertext, shared) = peer.encapsulate(rng);
                        (Some(ciphertext), shared)
                    }
                    None => (None, zeroize::Zeroizing::new([0u8; 32])),
                };
                kem.own = Some(own);
                kem.ciphertext = ciphertext;
                kdf::root_pq(&self.rk, &dh, &shared)
            }
        };
        self.pn = self.ns;
        self.ns = 0;
        self.hks = Some(core::mem::replace(&mut self.nhks, nhks));
        self.rk = rk;
        self.cks = Some(cks);
        self.dhs = Some(dhs);
        self.send_step_pending = false;
        Ok(())
    }

    /// Decrypts one message. On any error the state is exactly as before.
    ///
    /// # Errors
    /// `ratchet.format` if shorter than [`OVERHEAD`]; `ratchet.header` if no header key of
    /// this session opens the header; `ratchet.replay` if the message's key was already
    /// used or is no longer stored; `ratchet.jump_limit` if more than [`MAX_JUMP`] keys
    /// would be skipped; `key.*` for an invalid ratchet key in an authentic header;
    /// `ratchet.body` if the body does not authenticate.
    pub fn decrypt(&mut self, message: &[u8]) -> Result<Vec<u8>> {
        let pending = self.prepare(message)?;
        self.commit(pending.commit);
        Ok(pending.plaintext)
    }

    /// Decrypts one message and hands the plaintext to `accept`; the state advances only
    /// if `accept` succeeds too, so a caller that refuses authentic content (bad padding, a
    /// malformed event) leaves the session exactly as before.
    ///
    /// # Errors
    /// As [`Ratchet::decrypt`], then whatever `accept` returns.
    pub fn decrypt_then<T>(
        &mut self,
        message: &[u8],
        accept: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<T> {
        let pending = self.prepare(message)?;
        let value = accept(&pending.plaintext)?;
        self.commit(pending.commit);
        Ok(value)
    }

    fn prepare(&self, message: &[u8]) -> Result<Pending> {
        let pq = self.is_post_quantum();
        if message.len() < self.overhead() {
            return Err(ErrorClass::RatchetFormat.into());
        }
        let header_len = if pq {
            PQ_ENCRYPTED_HEADER_LEN
        } else {
            ENCRYPTED_HEADER_LEN
        };
        let (encrypted_header, body) = message
            .split_at_checked(header_len)
            .ok_or(ErrorClass::RatchetFormat)?;
        let (header_nonce, _) = encrypted_header
            .split_first_chunk::<{ header::HEADER_NONCE_LEN }>()
            .ok_or(ErrorClass::RatchetFormat)?;
        let body = Body {
            ciphertext: body,
            ad: body_ad(&self.ad, encrypted_header),
            header_nonce,
        };
        let body = &body;

        let open = |hk: &Key| header::open(hk, encrypted_header, &self.ad, pq);
        if let Some(hkr) = &self.hkr
            && let Some((header, _)) = open(hkr)
        {
            return self.current_chain(hkr, header, body);
        }
        if let Some((header, kem)) = open(&self.nhkr) {
            return self.new_chain(header, kem, body);
        }
        for hk in self.skipped.header_keys() {
            if let Some((header, _)) = open(hk) {
                let index = self
                    .skipped
                    .position(hk, header.n)
                    .ok_or(ErrorClass::RatchetReplay)?;
                return self.open_stored(index, body);
            }
        }
        Err(ErrorClass::RatchetHeader.into())
    }

    fn open_stored(&self, index: usize, body: &Body<'_>) -> Result<Pending> {
        let entry = self.skipped.get(index).ok_or(ErrorClass::RatchetReplay)?;
        let plaintext = open_body(&entry.mk, body)?;
        Ok(Pending {
            plaintext,
            commit: Commit::Skipped { index },
        })
    }

    fn current_chain(&self, hkr: &Key, header: Header, body: &Body<'_>) -> Result<Pending> {
        if header.n < self.nr {
            let index = self
                .skipped
                .position(hkr, header.n)
                .ok_or(ErrorClass::RatchetReplay)?;
            return self.open_stored(index, body);
        }
        let ckr = self.ckr.as_ref().ok_or(ErrorClass::RatchetHeader)?;
        let (skipped, mk, ckr, nr) = skip(hkr, ckr, self.nr, header.n)?;
        let plaintext = open_body(&mk, body)?;
        Ok(Pending {
            plaintext,
            commit: Commit::Chain { skipped, ckr, nr },
        })
    }

    fn new_chain(
        &self,
        header: Header,
        kem: Option<ReceivedKem>,
        body: &Body<'_>,
    ) -> Result<Pending> {
        let dhs = self.dhs.as_ref().ok_or(ErrorClass::RatchetHeader)?;
        // Keys left in the current receiving chain, up to the sender's previous count.
        let mut skipped = Vec::new();
        if let (Some(hkr), Some(ckr)) = (&self.hkr, &self.ckr)
            && header.pn > self.nr
        {
            // Messages nr..pn of the old chain are stored: pn − nr keys, the same bound as
            // a jump within a chain.
            if header.pn - self.nr > MAX_JUMP {
                return Err(ErrorClass::RatchetJumpLimit.into());
            }
            let (mut rest, last_mk, _, _) = skip(hkr, ckr, self.nr, header.pn - 1)?;
            rest.push(Skipped {
                hk: hkr.clone(),
                n: header.pn - 1,
                mk: last_mk,
            });
            skipped = rest;
        }
        let dhr = X25519PublicKey::from_bytes(&header.dh)?;
        let dh = dhs.diffie_hellman(&dhr)?;
        let (rk, ckr, nhkr, peer_kem) = match (self.kem.as_deref(), kem) {
            (None, _) => {
                let (rk, ckr, nhkr) = kdf::root(&self.rk, &dh);
                (rk, ckr, nhkr, None)
            }
            // RAT-14: the encapsulation key is validated, then the ciphertext checked
            // against this side's key and decapsulated.
            (Some(state), Some(kem)) => {
                let peer = PeerKem::from_bytes(&kem.key)?;
                let shared = pq::receive(state.own.as_ref(), &kem.ciphertext)?;
                let (rk, ckr, nhkr) = kdf::root_pq(&self.rk, &dh, &shared);
                (rk, ckr, nhkr, Some(peer))
            }
            // `header::open` returns the KEM fields exactly for a post-quantum header.
            (Some(_), None) => return Err(ErrorClass::RatchetFormat.into()),
        };
        let hkr = self.nhkr.clone();
        let (mut chain_skipped, mk, ckr, nr) = skip(&hkr, &ckr, 0, header.n)?;
        let plaintext = open_body(&mk, body)?;
        skipped.append(&mut chain_skipped);
        Ok(Pending {
            plaintext,
            commit: Commit::Step {
                skipped,
                dhr,
                rk,
                hkr,
                nhkr,
                ckr,
                nr,
                peer_kem,
            },
        })
    }

    fn commit(&mut self, commit: Commit) {
        match commit {
            Commit::Skipped { index } => {
                self.skipped.remove(index);
            }
            Commit::Chain { skipped, ckr, nr } => {
                self.skipped
                    .extend(skipped, MAX_SKIPPED, MAX_SKIPPED_CHAINS);
                self.ckr = Some(ckr);
                self.nr = nr;
            }
            Commit::Step {
                skipped,
                dhr,
                rk,
                hkr,
                nhkr,
                ckr,
                nr,
                peer_kem,
            } => {
                self.skipped
                    .extend(skipped, MAX_SKIPPED, MAX_SKIPPED_CHAINS);
                self.dhr = Some(dhr);
                self.rk = rk;
                self.hkr = Some(hkr);
                self.nhkr = nhkr;
                self.ckr = Some(ckr);
                self.nr = nr;
                self.send_step_pending = true;
                if let (Some(kem), Some(peer)) = (self.kem.as_deref_mut(), peer_kem) {
                    kem.peer = Some(peer);
                }
            }
        }
    }
}

#[cfg(feature = "fuzzing")]
impl Ratchet {
    /// Fuzzing only: the plaintext header of `message` if it opens under this side's next
    /// receiving header key (the first message of a new chain), and its body.
    pub(crate) fn fuzz_open_new_chain_header(&self, message: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
        let len = if self.is_post_quantum() {
            PQ_ENCRYPTED_HEADER_LEN
        } else {
            ENCRYPTED_HEADER_LEN
        };
        let (eh, body) = message.split_at_checked(len)?;
        let (nonce, sealed) = eh.split_first_chunk::<{ header::HEADER_NONCE_LEN }>()?;
        let header = aead::xopen(
            &self.nhkr,
            nonce,
            &Label::RatchetHeader.input(&[&self.ad]),
            sealed,
        )?;
        Some((header, body.to_vec()))
    }

    /// Fuzzing only: a message whose header, the plaintext `header` of any length, is sealed
    /// under this side's next receiving header key with the nonce `nonce`, then `body`: an
    /// authentic header with chosen fields, as only the peer could make.
    pub(crate) fn fuzz_forge_new_chain(
        &self,
        header: &[u8],
        nonce: &[u8; 24],
        body: &[u8],
    ) -> Vec<u8> {
        let sealed = aead::xseal(
            &self.nhkr,
            nonce,
            &Label::RatchetHeader.input(&[&self.ad]),
            header,
        );
        [nonce.as_slice(), &sealed, body].concat()
    }
}

/// Steps a receiving chain from message `from` to message `to` (`to >= from`): the keys
/// of the messages in between, the key of message `to`, the chain key after it, and the
/// next expected number.
fn skip(hk: &Key, ck: &Key, from: u32, to: u32) -> Result<(Vec<Skipped>, Key, Key, u32)> {
    if to.saturating_sub(from) > MAX_JUMP {
        return Err(ErrorClass::RatchetJumpLimit.into());
    }
    let next = to.checked_add(1).ok_or(ErrorClass::RatchetJumpLimit)?;
    let mut skipped = Vec::new();
    let mut ck = ck.clone();
    for n in from..to {
        let (next_ck, mk) = kdf::chain(&ck);
        skipped.push(Skipped {
            hk: hk.clone(),
            n,
            mk,
        });
        ck = next_ck;
    }
    let (next_ck, mk) = kdf::chain(&ck);
    Ok((skipped, mk, next_ck, next))
}

/// The associated data of a body: the session's associated data and the encrypted header.
fn body_ad(ad: &[u8], encrypted_header: &[u8]) -> Vec<u8> {
    Label::RatchetBody.input(&[ad, encrypted_header])
}

/// A received body with what its decryption binds: the body's associated data and the
/// header's random nonce, which the body key derivation mixes in (RAT-03).
struct Body<'a> {
    ciphertext: &'a [u8],
    ad: Vec<u8>,
    header_nonce: &'a [u8; header::HEADER_NONCE_LEN],
}

fn open_body(mk: &Key, body: &Body<'_>) -> Result<Vec<u8>> {
    let (key, nonce) = kdf::message(mk, body.header_nonce);
    aead::open(&key, &nonce, &body.ad, body.ciphertext)
        .ok_or_else(|| ErrorClass::RatchetBody.into())
}

#[cfg(test)]
mod pq_tests;
#[cfg(test)]
pub(crate) mod tests;
