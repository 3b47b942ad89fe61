//! Versioned, canonical session snapshots (`spec/06-ratchet.md` RAT-10 and, for the
//! post-quantum ratchet, RAT-15; CDDL rule `ratchet-snapshot`).
//!
//! A snapshot is the whole state of one side as a deterministic CBOR map; absent optional
//! keys mean "none". Version 1 is a classic session, version 2 a post-quantum one (keys 1
//! to 16 as in version 1, plus its KEM state in keys 17 to 19).
//!
//! Snapshots are closed: being local state, they carry no extensions, and any key not
//! defined here (negative ones included) is refused. It holds secrets: callers store it only
//! encrypted (the client's vault,
//! `.xbk` backups). A restore from a backup must not resume the sending chain of an old
//! snapshot (see the backup chapter); this module only guarantees that a snapshot
//! round-trips exactly and that an imported state is internally consistent (every chain
//! key with its header key, counters only with their chains, at most
//! [`MAX_SKIPPED_CHAINS`] chains of skipped keys).

use zeroize::{Zeroize, Zeroizing};

use super::kdf::Key;
use super::pq::{KEM_CIPHERTEXT_LEN, KEM_KEY_LEN, KEM_SEED_LEN, KemState, OwnKem, PeerKem};
use super::skipped::{Skipped, SkippedKeys};
use super::{MAX_SKIPPED, MAX_SKIPPED_CHAINS, Ratchet};
use crate::cbor::{self, Limits, Value};
use crate::error::{ErrorClass, Result};
use crate::keys::{X25519PublicKey, X25519Secret};
use crate::schema::{self, Fields};

/// Largest snapshot accepted: the fixed fields (at most 2,700 bytes with a post-quantum
/// session's KEM state) plus [`MAX_SKIPPED`] skipped entries (each encodes to at most 74
/// bytes; 80 leaves room).
pub const MAX_SNAPSHOT: usize = 4096 + MAX_SKIPPED * 80;

/// The longest byte string of a snapshot: a peer's ML-KEM-768 encapsulation key.
const MAX_STRING: u64 = KEM_KEY_LEN as u64;

const LIMITS: Limits = Limits {
    max_input: MAX_SNAPSHOT,
    max_depth: 3,
    max_string: MAX_STRING,
    max_items: MAX_SKIPPED as u64,
};

/// The layout of a classic session.
const CLASSIC: u64 = 1;
/// The layout of a post-quantum session.
const POST_QUANTUM: u64 = 2;

mod key {
    pub(super) const AD: u64 = 2;
    pub(super) const DHS: u64 = 3;
    pub(super) const DHR: u64 = 4;
    pub(super) const RK: u64 = 5;
    pub(super) const CKS: u64 = 6;
    pub(super) const CKR: u64 = 7;
    pub(super) const NS: u64 = 8;
    pub(super) const NR: u64 = 9;
    pub(super) const PN: u64 = 10;
    pub(super) const HKS: u64 = 11;
    pub(super) const HKR: u64 = 12;
    pub(super) const NHKS: u64 = 13;
    pub(super) const NHKR: u64 = 14;
    pub(super) const SEND_STEP: u64 = 15;
    pub(super) const SKIPPED: u64 = 16;
    pub(super) const KEM_OWN: u64 = 17;
    pub(super) const KEM_PEER: u64 = 18;
    pub(super) const KEM_CIPHERTEXT: u64 = 19;
    /// The keys of version 1.
    pub(super) const KNOWN: &[u64] = &[
        1, AD, DHS, DHR, RK, CKS, CKR, NS, NR, PN, HKS, HKR, NHKS, NHKR, SEND_STEP, SKIPPED,
    ];
    /// The keys of version 2.
    pub(super) const KNOWN_PQ: &[u64] = &[
        1,
        AD,
        DHS,
        DHR,
        RK,
        CKS,
        CKR,
        NS,
        NR,
        PN,
        HKS,
        HKR,
        NHKS,
        NHKR,
        SEND_STEP,
        SKIPPED,
        KEM_OWN,
        KEM_PEER,
        KEM_CIPHERTEXT,
    ];
}

fn bytes(b: &[u8]) -> Value {
    Value::Bytes(b.to_vec())
}

/// Overwrites every byte string in a value tree before it is dropped.
fn wipe(value: &mut Value) {
    match value {
        Value::Bytes(b) => b.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Map(map) => map.values_mut().for_each(wipe),
        _ => {}
    }
}

fn secret<const N: usize>(value: Option<[u8; N]>) -> Option<Zeroizing<[u8; N]>> {
    value.map(Zeroizing::new)
}

impl Ratchet {
    /// The canonical snapshot of this state.
    pub fn snapshot(&self) -> Zeroizing<Vec<u8>> {
        let mut fields = vec![(key::AD, bytes(&self.ad))];
        if let Some(dhs) = &self.dhs {
            fields.push((key::DHS, bytes(dhs.dangerous_bytes().as_ref())));
        }
        if let Some(dhr) = &self.dhr {
            fields.push((key::DHR, bytes(dhr.as_bytes())));
        }
        fields.push((key::RK, bytes(self.rk.as_ref())));
        if let Some(cks) = &self.cks {
            fields.push((key::CKS, bytes(cks.as_ref())));
        }
        if let Some(ckr) = &self.ckr {
            fields.push((key::CKR, bytes(ckr.as_ref())));
        }
        fields.push((key::NS, Value::uint(u64::from(self.ns))));
        fields.push((key::NR, Value::uint(u64::from(self.nr))));
        fields.push((key::PN, Value::uint(u64::from(self.pn))));
        if let Some(hks) = &self.hks {
            fields.push((key::HKS, bytes(hks.as_ref())));
        }
        if let Some(hkr) = &self.hkr {
            fields.push((key::HKR, bytes(hkr.as_ref())));
        }
        fields.push((key::NHKS, bytes(self.nhks.as_ref())));
        fields.push((key::NHKR, bytes(self.nhkr.as_ref())));
        fields.push((key::SEND_STEP, Value::Bool(self.send_step_pending)));
        let skipped = self
            .skipped
            .iter()
            .map(|e| {
                Value::Array(vec![
                    bytes(e.hk.as_ref()),
                    Value::uint(u64::from(e.n)),
                    bytes(e.mk.as_ref()),
                ])
            })
            .collect();
        fields.push((key::SKIPPED, Value::Array(skipped)));
        let mut version = CLASSIC;
        if let Some(kem) = self.kem.as_deref() {
            version = POST_QUANTUM;
            if let Some(own) = &kem.own {
                fields.push((key::KEM_OWN, bytes(own.seed())));
            }
            if let Some(peer) = &kem.peer {
                fields.push((key::KEM_PEER, bytes(peer.as_bytes())));
            }
            if let Some(ciphertext) = &kem.ciphertext {
                fields.push((key::KEM_CIPHERTEXT, bytes(ciphertext.as_ref())));
            }
        }
        let mut map = schema::build_map_version(version, fields, &Default::default());
        let out = Zeroizing::new(cbor::encode(&map));
        wipe(&mut map);
        out
    }

    /// Restores a state from its snapshot.
    ///
    /// # Errors
    /// `cbor.*` and `schema.*` for a malformed snapshot (`schema.range` for a counter over
    /// 2^32 − 1), `ratchet.state` for fields that contradict each other, `key.*` for an
    /// invalid stored peer key.
    pub fn from_snapshot(snapshot: &[u8]) -> Result<Ratchet> {
        let mut value = cbor::decode(snapshot, &LIMITS)?;
        let result = Self::from_value(value.clone());
        wipe(&mut value);
        result
    }

    fn from_value(value: Value) -> Result<Ratchet> {
        let versions: [(u64, &[u64]); 2] = [(CLASSIC, key::KNOWN), (POST_QUANTUM, key::KNOWN_PQ)];
        let (version, mut f) = Fields::closed_versions(value, &versions)?;
        let mut ad = f.bytes(key::AD)?;
        let ad_array: [u8; 32] = schema::fixed(&ad)?;
        ad.zeroize();
        let dhs = secret(f.optional_bytes_exact::<32>(key::DHS)?);
        let dhr = f.optional_bytes_exact::<32>(key::DHR)?;
        let rk = Zeroizing::new(f.bytes_exact::<32>(key::RK)?);
        let cks = secret(f.optional_bytes_exact::<32>(key::CKS)?);
        let ckr = secret(f.optional_bytes_exact::<32>(key::CKR)?);
        let ns = f.u32(key::NS)?;
        let nr = f.u32(key::NR)?;
        let pn = f.u32(key::PN)?;
        let hks = secret(f.optional_bytes_exact::<32>(key::HKS)?);
        let hkr = secret(f.optional_bytes_exact::<32>(key::HKR)?);
        let nhks = Zeroizing::new(f.bytes_exact::<32>(key::NHKS)?);
        let nhkr = Zeroizing::new(f.bytes_exact::<32>(key::NHKR)?);
        let send_step_pending = f.bool(key::SEND_STEP)?;
        let items = f.array(key::SKIPPED)?;
        let kem_own = f
            .optional_bytes_exact::<KEM_SEED_LEN>(key::KEM_OWN)?
            .map(Zeroizing::new);
        let kem_peer = f.optional_bytes_exact::<KEM_KEY_LEN>(key::KEM_PEER)?;
        let kem_ciphertext = f.optional_bytes_exact::<KEM_CIPHERTEXT_LEN>(key::KEM_CIPHERTEXT)?;
        if items.len() > MAX_SKIPPED {
            return Err(ErrorClass::SchemaLength.into());
        }
        let mut skipped = SkippedKeys::default();
        for item in items {
            skipped.push_back(skipped_entry(item)?);
        }
        let consistent = cks.is_some() == hks.is_some()
            && ckr.is_some() == hkr.is_some()
            && (cks.is_none() || dhs.is_some())
            && (ckr.is_none() || dhr.is_some())
            && (!send_step_pending || dhr.is_some())
            && (ns == 0 || cks.is_some())
            && (nr == 0 || ckr.is_some())
            && skipped.chains() <= MAX_SKIPPED_CHAINS
            && !has_duplicate_entry(&skipped)
            // RAT-15: a key pair with every sending chain, the peer's key exactly while
            // a received chain's sending half is due, a ciphertext only with a chain.
            && (version == CLASSIC
                || (kem_own.is_some() == cks.is_some()
                    && kem_peer.is_some() == (send_step_pending && ckr.is_some())
                    && (kem_ciphertext.is_none() || cks.is_some())));
        if !consistent {
            return Err(ErrorClass::RatchetState.into());
        }
        let dhr = dhr.map(|b| X25519PublicKey::from_bytes(&b)).transpose()?;
        let dhs = dhs.map(|b| X25519Secret::from_bytes(&b));
        let kem = if version == CLASSIC {
            None
        } else {
            Some(Box::new(KemState {
                peer: kem_peer.map(|b| PeerKem::from_bytes(&b)).transpose()?,
                own: kem_own.map(|seed| OwnKem::from_seed(&seed)),
                ciphertext: kem_ciphertext.map(Box::new),
            }))
        };
        Ok(Ratchet {
            ad: ad_array,
            dhs,
            dhr,
            rk,
            cks,
            ckr,
            ns,
            nr,
            pn,
            hks,
            hkr,
            nhks,
            nhkr,
            send_step_pending,
            skipped,
            kem,
        })
    }
}

/// Whether two skipped entries have the same header key and message number (RAT-10 step 7:
/// the match of RAT-06 must be unique). Entries are grouped by `n`, and header keys compared
/// in constant time only within a group; after the chain-count check a group without a
/// duplicate has at most [`MAX_SKIPPED_CHAINS`] entries, so this stays linear in practice.
fn has_duplicate_entry(skipped: &SkippedKeys) -> bool {
    let mut by_n: Vec<&Skipped> = skipped.iter().collect();
    by_n.sort_by_key(|e| e.n);
    by_n.chunk_by(|a, b| a.n == b.n).any(|group| {
        group.iter().enumerate().any(|(i, a)| {
            group
                .iter()
                .skip(i + 1)
                .any(|b| bool::from(subtle::ConstantTimeEq::ct_eq(&a.hk[..], &b.hk[..])))
        })
    })
}

fn skipped_entry(item: Value) -> Result<Skipped> {
    let Value::Array(parts) = item else {
        return Err(ErrorClass::SchemaWrongType.into());
    };
    let [hk, n, mk]: [Value; 3] = parts.try_into().map_err(|_| ErrorClass::SchemaLength)?;
    let (Value::Bytes(hk), Value::Int(n), Value::Bytes(mk)) = (hk, n, mk) else {
        return Err(ErrorClass::SchemaWrongType.into());
    };
    let n = n.as_u64().ok_or(ErrorClass::SchemaWrongType)?;
    let n = u32::try_from(n).map_err(|_| ErrorClass::SchemaRange)?;
    let hk: Key = Zeroizing::new(schema::fixed(&hk)?);
    let mk: Key = Zeroizing::new(schema::fixed(&mk)?);
    Ok(Skipped { hk, n, mk })
}

#[cfg(test)]
mod tests {
    use super::super::tests::TestRng;
    use super::*;
    use crate::keys::X25519Secret;

    /// The snapshot of a receiver holding two skipped keys (messages 0 and 1 of one chain).
    fn snapshot_with_skipped() -> Vec<u8> {
        let responder_key = X25519Secret::from_bytes(&[7; 32]);
        let mut a = Ratchet::initiator(&[1; 32], *responder_key.public(), &[2; 32]);
        let mut b = Ratchet::responder(&[1; 32], responder_key, &[2; 32]);
        let mut rng = TestRng(0);
        let _ = a.encrypt(b"0", &mut rng).unwrap();
        let _ = a.encrypt(b"1", &mut rng).unwrap();
        let m2 = a.encrypt(b"2", &mut rng).unwrap();
        assert_eq!(b.decrypt(&m2).unwrap(), b"2");
        b.snapshot().to_vec()
    }

    /// The snapshot with `edit` applied to its skipped-key array.
    fn edit_skipped(snapshot: &[u8], edit: impl FnOnce(&mut Vec<Value>)) -> Vec<u8> {
        let Value::Map(mut map) = cbor::decode(snapshot, &LIMITS).unwrap() else {
            panic!("snapshot is a map")
        };
        let Some(Value::Array(items)) = map.get_mut(&cbor::Int::uint(key::SKIPPED)) else {
            panic!("skipped keys are an array")
        };
        edit(items);
        cbor::encode(&Value::Map(map))
    }

    fn class(snapshot: &[u8]) -> Option<ErrorClass> {
        Ratchet::from_snapshot(snapshot).err().map(|e| e.class())
    }

    #[test]
    fn duplicate_header_key_and_number_is_refused() {
        let snapshot = snapshot_with_skipped();
        assert_eq!(class(&snapshot), None);
        // The same entry twice.
        let doubled = edit_skipped(&snapshot, |items| {
            let first = items[0].clone();
            items.push(first);
        });
        assert_eq!(class(&doubled), Some(ErrorClass::RatchetState));
        // The same (HK, n) with another message key: still ambiguous, still refused.
        let other_mk = edit_skipped(&snapshot, |items| {
            let Value::Array(mut entry) = items[0].clone() else {
                panic!("entry")
            };
            entry[2] = Value::Bytes(vec![0x55; 32]);
            items.insert(1, Value::Array(entry));
        });
        assert_eq!(class(&other_mk), Some(ErrorClass::RatchetState));
        // The same n under another header key is a different chain's key: accepted.
        let other_chain = edit_skipped(&snapshot, |items| {
            let Value::Array(mut entry) = items[0].clone() else {
                panic!("entry")
            };
            entry[0] = Value::Bytes(vec![0x66; 32]);
            items.push(Value::Array(entry));
        });
        assert_eq!(class(&other_chain), None);
    }
}
