//! Sessions whose header opens under the receiver's next header key but carries a `dh` that
//! fails validation (spec/06-ratchet.md RAT-06 step 2.3): refused before any computation,
//! with the state unchanged.

use super::Op::{Bytes, Dec};
use super::snapshot::snapshot_key;
use super::{I, R, Scenario, SessionTest, Sessions};
use crate::families::{Ids, material};
use crate::seeds::seed32;
use quietwire::label::Label;

/// An encrypted header `EH` under `hk` carrying `dh`, `pn` = 0 and `n` = 0 (RAT-05).
fn forged_header(hk: &[u8; 32], ad: &[u8], dh: &[u8; 32], nonce: &[u8; 24]) -> Vec<u8> {
    let header = [dh.as_slice(), &0u32.to_be_bytes(), &0u32.to_be_bytes()].concat();
    let mut out = nonce.to_vec();
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    let cipher = chacha20poly1305::XChaCha20Poly1305::new(&(*hk).into());
    let aad = Label::RatchetHeader.input(&[ad]);
    let sealed =
        cipher.encrypt(&(*nonce).into(), Payload { msg: &header, aad: &aad }).unwrap_or_default();
    out.extend_from_slice(&sealed);
    out
}

/// Sessions added later: a header that opens under the receiver's next header key (a new
/// receiving chain) but whose `dh` fails SUI-06, so the DH step is refused before any
/// computation and the state is unchanged; the genuine message still opens afterwards.
pub(super) fn header_dh_sessions(ids: &mut Ids) -> Result<Vec<SessionTest>, String> {
    let mut b = Sessions::new(ids);
    for (slug, dh, class, comment) in crate::tuples! {
        "header-dh-low-order", material::x25519_order_8(), "key.low_order",
            "A header under the responder's next header key whose dh is a point of order 8: refused with key.low_order (RAT-06 step 2.3), nothing changes; the initiator's real message then opens.";
        "header-dh-zero", material::x25519_zero(), "key.low_order",
            "A header under the responder's next header key whose dh is u = 0: refused with key.low_order.";
        "header-dh-noncanonical", material::x25519_p(), "key.noncanonical",
            "A header under the responder's next header key whose dh is u = p (non-canonical): refused with key.noncanonical.";
        "header-dh-high-bit", material::x25519_high_bit(), "key.noncanonical",
            "A header under the responder's next header key whose dh is u = 9 with bit 255 set: refused with key.noncanonical.";
    } {
        let mut s = Scenario::new(slug);
        let m0 = s.send(I, "hello")?;
        let [_, responder] = s.snapshots();
        let ad = snapshot_key(&responder, 2)?;
        let nhkr = snapshot_key(&responder, 14)?;
        let nonce: [u8; 24] = seed32(&format!("ratchet/{slug}/header-nonce"))
            .get(..24)
            .and_then(|b| b.try_into().ok())
            .ok_or("nonce")?;
        let mut forged = forged_header(&nhkr, &ad, &dh, &nonce);
        forged.extend_from_slice(&[0u8; 16]);
        s.run(vec![Bytes(R, forged, Err(class)), Dec(R, m0, Ok("hello"))])?;
        b.push(s, comment, &["Tampered"])?;
    }
    Ok(b.tests)
}
