//! Mailboxes and the owner's proof of control (`spec/08-mailboxes-and-relay.md`; CDDL rule
//! `mailbox-proof`).
//!
//! A mailbox is named by a 32-byte id that commits to a per-mailbox Ed25519 key:
//! `id = SHA-256(["quietwire/v1/mailbox-id", public key])`. The key is random, made for this
//! mailbox only, and unrelated to the device's identity, so proving control reveals nothing
//! about who owns the mailbox. Anyone who knows the id can write into the mailbox; only the
//! holder of its key can fetch, delete or subscribe, by signing the relay's fresh challenge,
//! the mailbox id and the operation.
//!
//! ```
//! use quietwire::mailbox::{self, MailboxKey, Operation};
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
//! let challenge = [9u8; 32]; // from the relay
//! let proof = key.prove(&challenge, Operation::Fetch);
//! mailbox::verify(key.id(), &challenge, Operation::Fetch, &proof)?;
//! assert!(mailbox::verify(key.id(), &challenge, Operation::Delete, &proof).is_err());
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

/// Largest encoded proof.
pub const MAX_PROOF: usize = 256;

const LIMITS: Limits = Limits::DEFAULT.with_max_input(MAX_PROOF);

mod key {
    pub(super) const PUBLIC: u64 = 2;
    pub(super) const SIGNATURE: u64 = 3;
    pub(super) const KNOWN: &[u64] = &[1, PUBLIC, SIGNATURE];
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

    /// A proof that the holder of this key asks for `operation` in answer to `challenge`.
    pub fn prove(&self, challenge: &[u8; 32], operation: Operation) -> Vec<u8> {
        let signature = self.key.sign_labeled(
            Label::MailboxProof,
            &[&self.id, challenge, &[operation.code()]],
        );
        cbor::encode(&schema::build_map(
            vec![
                (key::PUBLIC, Value::from(&self.public().as_bytes()[..])),
                (key::SIGNATURE, Value::from(&signature[..])),
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

/// Checks a proof of control of `mailbox` for `operation` against the relay's `challenge`.
///
/// # Errors
/// In order: `cbor.*` and `schema.*` for a malformed proof (closed: no extension keys);
/// `key.*` for an invalid public key; `mailbox.key` if the key is not the mailbox's;
/// `mailbox.proof` if the signature does not verify strictly for this mailbox, challenge and
/// operation.
pub fn verify(
    mailbox: &[u8; 32],
    challenge: &[u8; 32],
    operation: Operation,
    proof: &[u8],
) -> Result<()> {
    let mut f = Fields::closed(cbor::decode(proof, &LIMITS)?, key::KNOWN)?;
    let public = f.bytes_exact::<32>(key::PUBLIC)?;
    let signature = f.bytes_exact::<64>(key::SIGNATURE)?;
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
            &[mailbox, challenge, &[operation.code()]],
            &signature,
        )
        .map_err(|_| ErrorClass::MailboxProof.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proofs_bind_mailbox_challenge_and_operation() {
        let key = MailboxKey::from_seed(&[1; 32]);
        let other = MailboxKey::from_seed(&[2; 32]);
        let proof = key.prove(&[3; 32], Operation::Fetch);
        verify(key.id(), &[3; 32], Operation::Fetch, &proof).unwrap();
        let class = |r: Result<()>| r.unwrap_err().class();
        assert_eq!(
            class(verify(key.id(), &[4; 32], Operation::Fetch, &proof)),
            ErrorClass::MailboxProof
        );
        for op in [Operation::Delete, Operation::Subscribe] {
            assert_eq!(
                class(verify(key.id(), &[3; 32], op, &proof)),
                ErrorClass::MailboxProof
            );
        }
        assert_eq!(
            class(verify(other.id(), &[3; 32], Operation::Fetch, &proof)),
            ErrorClass::MailboxKey
        );
        let mut trailing = proof.clone();
        trailing.push(0);
        assert_eq!(
            class(verify(key.id(), &[3; 32], Operation::Fetch, &trailing)),
            ErrorClass::CborTrailing
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
