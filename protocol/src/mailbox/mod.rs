//! Mailboxes and the owner's proof of control (`spec/08-mailboxes-and-relay.md`; CDDL rule
//! `mailbox-proof`).
//!
//! A mailbox is named by a 32-byte id that commits to a per-mailbox Ed25519 key:
//! `id = SHA-256(["quietwire/v1/mailbox-id", public key])`. The key is random, made for this
//! mailbox only, and unrelated to the device's identity, so proving control reveals nothing
//! about who owns the mailbox. Anyone who knows the id can write into the mailbox; only the
//! holder of its key can fetch, delete or subscribe, by signing the relay's fresh challenge,
//! the mailbox id, the operation and the relay's origin as the client dialled it
//! ([`RelayOrigin`]), so that a proof is good for one connection to one relay only.
//!
//! ```
//! use quietwire::mailbox::{self, MailboxKey, Operation, RelayOrigin};
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
//! let key = MailboxKey::generate(&mut rng);
//! let origin = RelayOrigin::from_url("wss://relay.example/v1/ws")?; // as the client dialled it
//! let challenge = [9u8; 32]; // from the relay's welcome
//! let proof = key.prove(&origin, &challenge, Operation::Fetch);
//! // The relay accepts proofs made for its own origins only.
//! let mine = [origin.clone()];
//! mailbox::verify(key.id(), &challenge, &mine, Operation::Fetch, &proof)?;
//! assert!(mailbox::verify(key.id(), &challenge, &mine, Operation::Delete, &proof).is_err());
//! let elsewhere = [RelayOrigin::parse("wss://other.example")?];
//! assert!(mailbox::verify(key.id(), &challenge, &elsewhere, Operation::Fetch, &proof).is_err());
//! # Ok::<(), quietwire::Error>(())
//! ```

use core::fmt;

use rand_core::CryptoRng;
use sha2::{Digest, Sha256};

use crate::cbor::{self, Limits, Value};
use crate::error::{ErrorClass, Result};
use crate::keys::{IdentityKey, IdentityKeyPair};
use crate::label::Label;
use crate::schema::{self, Fields};

mod origin;

pub use origin::{MAX_ORIGIN_LEN, RelayOrigin};

/// Largest encoded proof.
pub const MAX_PROOF: usize = 512;

const LIMITS: Limits = Limits::DEFAULT.with_max_input(MAX_PROOF);

mod key {
    pub(super) const PUBLIC: u64 = 2;
    pub(super) const SIGNATURE: u64 = 3;
    pub(super) const ORIGIN: u64 = 4;
    pub(super) const KNOWN: &[u64] = &[1, PUBLIC, SIGNATURE, ORIGIN];
}

/// What a proof authorizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Read the mailbox's items.
    Fetch,
    /// Delete (acknowledge) items.
    Delete,
    /// Receive wake-ups when items arrive.
    Subscribe,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 3] = [Operation::Fetch, Operation::Delete, Operation::Subscribe];

    /// The registry code, signed as one byte.
    pub const fn code(self) -> u8 {
        match self {
            Operation::Fetch => 1,
            Operation::Delete => 2,
            Operation::Subscribe => 3,
        }
    }

    /// The operation of a code.
    pub fn from_code(code: u64) -> Option<Operation> {
        Operation::ALL
            .into_iter()
            .find(|o| u64::from(o.code()) == code)
    }
}

/// The id of the mailbox whose key is `public`.
pub fn mailbox_id(public: &IdentityKey) -> [u8; 32] {
    Sha256::digest(Label::MailboxId.input(&[public.as_bytes()])).into()
}

/// A mailbox's key pair. The secret is wiped on drop and never printed.
pub struct MailboxKey {
    key: IdentityKeyPair,
    id: [u8; 32],
}

impl MailboxKey {
    /// A new mailbox: 32 bytes from `rng` seed its key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> MailboxKey {
        MailboxKey::from_key(IdentityKeyPair::generate(rng))
    }

    /// Rebuilds a mailbox key from its 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> MailboxKey {
        MailboxKey::from_key(IdentityKeyPair::from_seed(seed))
    }

    fn from_key(key: IdentityKeyPair) -> MailboxKey {
        let id = mailbox_id(key.public());
        MailboxKey { key, id }
    }

    /// The mailbox id contacts write to.
    pub const fn id(&self) -> &[u8; 32] {
        &self.id
    }

    /// The public key the id commits to.
    pub const fn public(&self) -> &IdentityKey {
        self.key.public()
    }

    /// The seed, for encrypted storage only.
    pub fn dangerous_seed(&self) -> zeroize::Zeroizing<[u8; 32]> {
        self.key.dangerous_seed()
    }

    /// A proof that the holder of this key asks for `operation` in answer to `challenge`,
    /// on a connection to the relay at `origin` (the origin of the URL the client dialled,
    /// never one the relay names).
    pub fn prove(
        &self,
        origin: &RelayOrigin,
        challenge: &[u8; 32],
        operation: Operation,
    ) -> Vec<u8> {
        let signature = self.key.sign_labeled(
            Label::MailboxProof,
            &[
                &self.id,
                challenge,
                &[operation.code()],
                origin.as_str().as_bytes(),
            ],
        );
        cbor::encode(&schema::build_map(
            vec![
                (key::PUBLIC, Value::from(&self.public().as_bytes()[..])),
                (key::SIGNATURE, Value::from(&signature[..])),
                (key::ORIGIN, Value::from(origin.as_str())),
            ],
            &Default::default(),
        ))
    }
}

impl fmt::Debug for MailboxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailboxKey")
            .field("id", &crate::keys::Hex(&self.id).to_string())
            .finish_non_exhaustive()
    }
}

/// Checks a proof of control of `mailbox` for `operation` against the relay's `challenge`,
/// made for one of the relay's own `origins` (**[MBX-03]**).
///
/// # Errors
/// In order: `cbor.*` and `schema.*` for a malformed proof (closed: no extension keys);
/// `mailbox.origin` if the proof was made for an origin not in `origins`; `key.*` for an
/// invalid public key; `mailbox.key` if the key is not the mailbox's; `mailbox.proof` if the
/// signature does not verify strictly for this mailbox, challenge, operation and origin.
pub fn verify(
    mailbox: &[u8; 32],
    challenge: &[u8; 32],
    origins: &[RelayOrigin],
    operation: Operation,
    proof: &[u8],
) -> Result<()> {
    let mut f = Fields::closed(cbor::decode(proof, &LIMITS)?, key::KNOWN)?;
    let public = f.bytes_exact::<32>(key::PUBLIC)?;
    let signature = f.bytes_exact::<64>(key::SIGNATURE)?;
    let origin = f.text(key::ORIGIN, MAX_ORIGIN_LEN)?;
    if !origins.iter().any(|o| o.as_str() == origin) {
        return Err(ErrorClass::MailboxOrigin.into());
    }
    let public = IdentityKey::from_bytes(&public)?;
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        &mailbox_id(&public)[..],
        &mailbox[..],
    )) {
        return Err(ErrorClass::MailboxKey.into());
    }
    public
        .verify_labeled(
            Label::MailboxProof,
            &[mailbox, challenge, &[operation.code()], origin.as_bytes()],
            &signature,
        )
        .map_err(|_| ErrorClass::MailboxProof.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(s: &str) -> RelayOrigin {
        RelayOrigin::parse(s).unwrap()
    }

    #[test]
    fn proofs_bind_mailbox_challenge_operation_and_origin() {
        let key = MailboxKey::from_seed(&[1; 32]);
        let other = MailboxKey::from_seed(&[2; 32]);
        let here = [origin("wss://relay.example")];
        let proof = key.prove(&here[0], &[3; 32], Operation::Fetch);
        verify(key.id(), &[3; 32], &here, Operation::Fetch, &proof).unwrap();
        let class = |r: Result<()>| r.unwrap_err().class();
        assert_eq!(
            class(verify(key.id(), &[4; 32], &here, Operation::Fetch, &proof)),
            ErrorClass::MailboxProof
        );
        for op in [Operation::Delete, Operation::Subscribe] {
            assert_eq!(
                class(verify(key.id(), &[3; 32], &here, op, &proof)),
                ErrorClass::MailboxProof
            );
        }
        assert_eq!(
            class(verify(
                other.id(),
                &[3; 32],
                &here,
                Operation::Fetch,
                &proof
            )),
            ErrorClass::MailboxKey
        );
        let mut trailing = proof.clone();
        trailing.push(0);
        assert_eq!(
            class(verify(
                key.id(),
                &[3; 32],
                &here,
                Operation::Fetch,
                &trailing
            )),
            ErrorClass::CborTrailing
        );
    }

    /// MBX-03: a malicious relay that forwards another relay's challenge to a client cannot
    /// use the client's proof at that other relay: the proof names the origin the client
    /// dialled, and the other relay accepts only its own.
    #[test]
    fn a_proof_for_one_relay_is_refused_by_another() {
        let key = MailboxKey::from_seed(&[1; 32]);
        let challenge = [3; 32]; // the honest relay's challenge, forwarded by the malicious one
        let dialled = origin("wss://malicious.example");
        let proof = key.prove(&dialled, &challenge, Operation::Fetch);
        let honest = [
            origin("wss://honest.example"),
            origin("ws://127.0.0.1:7070"),
        ];
        assert_eq!(
            verify(key.id(), &challenge, &honest, Operation::Fetch, &proof)
                .unwrap_err()
                .class(),
            ErrorClass::MailboxOrigin
        );
        // A proof that claims the honest origin but was signed for another does not verify.
        let mut forged = cbor::decode(&proof, &LIMITS).unwrap();
        if let Value::Map(entries) = &mut forged {
            entries.insert(
                crate::cbor::Int::uint(key::ORIGIN),
                Value::from("wss://honest.example"),
            );
        }
        assert_eq!(
            verify(
                key.id(),
                &challenge,
                &honest,
                Operation::Fetch,
                &cbor::encode(&forged)
            )
            .unwrap_err()
            .class(),
            ErrorClass::MailboxProof
        );
    }

    #[test]
    fn ids_differ_per_key_and_reveal_no_identity() {
        let a = MailboxKey::from_seed(&[1; 32]);
        let b = MailboxKey::from_seed(&[2; 32]);
        assert_ne!(a.id(), b.id());
        assert_eq!(a.id(), &mailbox_id(a.public()));
        assert_ne!(&a.id()[..], &a.public().as_bytes()[..]);
    }
}
