//! The state digests a shim reports (spec/16-conformance-shim.md SHIM-07): every reply that
//! creates or changes a ratchet state carries the `snapshotDigest` of the state after it, and
//! the runner checks that each is the SHA-256 of the snapshot the shim returns for the
//! handle, so that a shim cannot report a digest its state does not have.

use std::collections::HashMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::implementation::{Handle, OpResult, read};
use crate::shim::Fields;

/// The last `snapshotDigest` each ratchet handle reported.
#[derive(Debug, Default)]
pub(super) struct Digests(HashMap<Handle, Vec<u8>>);

impl Digests {
    /// Checks the digests of the answer to `op` (on the state `handle` names, if any): records
    /// those a ratchet reply reports, compares a snapshot with them and with its own digest;
    /// a digest that does not hold fails the operation with `shim.protocol`.
    pub(super) fn check(
        &mut self,
        op: &str,
        handle: Option<Handle>,
        answer: OpResult<Value>,
    ) -> OpResult<Value> {
        match op {
            "ratchet-init" | "ratchet-restore" => {
                let value = answer?;
                read(op, &value, |f| {
                    let handle = f.u64("handle")?;
                    self.record(handle, f)
                })?;
                Ok(value)
            }
            "ratchet-encrypt"
            | "ratchet-encrypt-stream"
            | "ratchet-decrypt"
            | "ratchet-decrypt-event" => match (answer, handle) {
                (Ok(value), Some(handle)) => {
                    read(op, &value, |f| self.record(handle, f))?;
                    Ok(value)
                }
                (Err(failure), Some(handle)) => {
                    // A refusal reports no digest: the next snapshot is compared with the
                    // vector's (which a state changed by a failure misses), not with a reply.
                    self.0.remove(&handle);
                    Err(failure)
                }
                (answer, None) => answer,
            },
            "ratchet-snapshot" => {
                let value = answer?;
                let reported = handle.and_then(|h| self.0.get(&h));
                read(op, &value, |f| {
                    let snapshot = f.bytes("snapshot")?;
                    check_digest(&snapshot, f)?;
                    match reported {
                        Some(d) if *d != Sha256::digest(&snapshot).to_vec() => Err(format!(
                            "the snapshot hashes to {}, but the last reply for this handle reported snapshotDigest {}",
                            hex::encode(Sha256::digest(&snapshot)),
                            hex::encode(d)
                        )),
                        _ => Ok(()),
                    }
                })?;
                Ok(value)
            }
            "handshake-initiate" | "handshake-accept" => {
                let value = answer?;
                read(op, &value, |f| check_digest(&f.bytes("snapshot")?, f))?;
                Ok(value)
            }
            _ => answer,
        }
    }

    /// Records the digest a ratchet reply reported for `handle`.
    fn record(&mut self, handle: Handle, f: Fields<'_>) -> Result<(), String> {
        let digest = f.bytes("snapshotDigest")?;
        if digest.len() != 32 {
            return Err("`snapshotDigest` is not 32 bytes".to_owned());
        }
        self.0.insert(handle, digest);
        Ok(())
    }
}

/// Checks that `snapshotDigest` is the SHA-256 of `snapshot`.
fn check_digest(snapshot: &[u8], f: Fields<'_>) -> Result<(), String> {
    let digest = f.bytes("snapshotDigest")?;
    if digest == Sha256::digest(snapshot).to_vec() {
        Ok(())
    } else {
        Err(format!(
            "snapshotDigest {} is not the SHA-256 of the snapshot ({})",
            hex::encode(&digest),
            hex::encode(Sha256::digest(snapshot))
        ))
    }
}
