//! `safety_code.json`: fingerprints, displayed codes and QR comparison
//! (spec/03-identity.md, safety codes).

use super::material::{self as m, canonical_map};
use super::{FlagDef, Ids, expect, file};
use crate::format::VectorFile;
use crate::raw;
use quietwire::keys::IdentityKey;
use quietwire::safety::{Fingerprint, QR_MAGIC, SafetyCode, SafetyQr};

crate::vector_groups! {
    /// Groups of this family.
    pub enum SafetyGroup {
        /// Compute both fingerprints and the code.
        "safety-code" => Code(CodeTest),
        /// Build the QR payload a device with `ownKey` shows for `peerKey`.
        "safety-qr-create" => QrCreate(QrTest),
        /// Check a scanned `payload` as the device with `ownKey` whose contact is `peerKey`.
        "safety-qr-verify" => QrVerify(QrTest),
    }
}

crate::vector_test! {
    /// A safety code of two identities.
    pub struct CodeTest {
        /// First identity key.
        identity_key_a: hex,
        /// Second identity key.
        identity_key_b: hex,
        /// 64-byte fingerprint of the first key.
        fingerprint_a: hex,
        /// 64-byte fingerprint of the second key.
        fingerprint_b: hex,
        /// The code: 14 groups of 5 digits separated by spaces.
        code: String,
    }
}

crate::vector_test! {
    /// A QR payload test.
    pub struct QrTest {
        /// The identity key of the device doing the operation.
        own_key: hex,
        /// The contact's identity key.
        peer_key: hex,
        /// The QR payload.
        payload: hex,
    }
}

const FLAGS: &[FlagDef] = crate::flag_defs! {
    Code: Basic ["SAF-01", "SAF-02"] "Fingerprint iteration, digit extraction and ordering.";
    OrderIndependent: Basic ["SAF-02"] "Swapping the two identities gives the same code.";
    LeadingZeros: EdgeCase ["SAF-02"] "A group whose value is below 10000 keeps its leading zeros.";
    QrMatch: Basic ["SAF-03", "SAF-04"] "A payload that shows the right pair of fingerprints.";
    QrMismatch: AuthBypass ["SAF-04"] "A payload for another pair, or with the roles swapped.";
    Magic: Basic ["SAF-03"] "A payload without the QWS1 prefix.";
    Schema: Basic ["ENC-11", "ENC-12", "ENC-13"] "A structural fault in the payload's map.";
    Extension: Defined ["ENC-12"] "A negative (non-critical) key is ignored.";
    Limits: CanOfWorms ["SAF-03"] "A payload over 256 bytes.";
};

fn key(name: &str) -> IdentityKey {
    *m::identity(&format!("safety_code/{name}")).1.public()
}

fn payload(map: Vec<u8>) -> Vec<u8> {
    [QR_MAGIC.to_vec(), map].concat()
}

/// The payload of map version `version`, fingerprints `shown` (key 2) and `scanner` (key 3)
/// and `extra` fields.
fn qr_map(version: u64, shown: &[u8], scanner: &[u8], extra: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let mut entries =
        vec![(1, raw::head(0, version)), (2, raw::bstr(shown)), (3, raw::bstr(scanner))];
    entries.extend(extra.iter().cloned());
    payload(canonical_map(entries))
}

/// Builds the `safety-code` and `safety-qr-verify` tests, checking each against the library.
struct Builder {
    ids: Ids,
    codes: Vec<CodeTest>,
    verifies: Vec<QrTest>,
}

impl Builder {
    fn code(
        &mut self,
        slug: &str,
        comment: &str,
        f: &[&str],
        a: &IdentityKey,
        b: &IdentityKey,
    ) -> SafetyCode {
        let code = SafetyCode::new(a, b);
        let (fa, fb) =
            (Fingerprint::of(a).as_bytes().to_vec(), Fingerprint::of(b).as_bytes().to_vec());
        let (a, b) = (a.as_bytes().to_vec(), b.as_bytes().to_vec());
        let head = self.ids.head(slug, comment, f, None);
        self.codes.push(CodeTest::new(head, a, b, fa, fb, code.to_string()));
        code
    }

    #[allow(clippy::too_many_arguments)]
    fn verify(
        &mut self,
        slug: &str,
        comment: &str,
        f: &[&str],
        own: &IdentityKey,
        peer: &IdentityKey,
        payload: Vec<u8>,
        class: Option<&str>,
    ) -> Result<(), String> {
        expect(
            &format!("safety_code {slug}"),
            SafetyQr::verify_scanned(&payload, own, peer),
            class,
        )?;
        let head = self.ids.head(slug, comment, f, class);
        let (own, peer) = (own.as_bytes().to_vec(), peer.as_bytes().to_vec());
        self.verifies.push(QrTest::new(head, own, peer, payload));
        Ok(())
    }
}

/// Generates `safety_code.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<SafetyGroup>, String> {
    let (alice, bob, carol) = (key("alice"), key("bob"), key("carol"));
    let mut b = Builder { ids: Ids::default(), codes: Vec::new(), verifies: Vec::new() };
    let ab = b.code("alice-bob", "two identities", &["Code"], &alice, &bob);
    let order = &["Code", "OrderIndependent"];
    let ba = b.code("bob-alice", "the same identities in the other order", order, &bob, &alice);
    if ab != ba {
        return Err("safety_code: not order independent".to_owned());
    }
    b.code("alice-carol", "another pair", &["Code"], &alice, &carol);
    b.code("alice-alice", "an identity with itself: both halves equal", &["Code"], &alice, &alice);
    // Find a named key whose half has a group with a leading zero, so that formatting is tested.
    let padded = (0..200u32)
        .map(|i| key(&format!("padded-{i}")))
        .find(|k| {
            Fingerprint::of(k).digits().as_bytes().chunks(5).any(|g| g.first() == Some(&b'0'))
        })
        .ok_or("safety_code: no key with a leading-zero group")?;
    let comment = "a group below 10000 is written with leading zeros";
    b.code("leading-zero-group", comment, &["Code", "LeadingZeros"], &padded, &bob);
    let codes = std::mem::take(&mut b.codes);

    let mut creates = Vec::new();
    for (slug, comment, own, peer) in crate::tuples! {
        "qr-alice-shows-bob", "Alice's screen when verifying Bob", &alice, &bob;
        "qr-bob-shows-alice", "Bob's screen when verifying Alice", &bob, &alice;
    } {
        let head = b.ids.head(slug, comment, &["QrMatch"], None);
        let payload = SafetyQr::new(own, peer).to_bytes();
        creates.push(QrTest::new(head, own.as_bytes().to_vec(), peer.as_bytes().to_vec(), payload));
    }

    let (fa, fb) =
        (Fingerprint::of(&alice).qr_part().to_vec(), Fingerprint::of(&bob).qr_part().to_vec());
    let shown_by_alice = SafetyQr::new(&alice, &bob).to_bytes();
    let one_bit = m::flip_last(shown_by_alice.clone());
    let (mismatch, s) = (&["QrMismatch"], &["Schema"]);
    let qwi1 = [b"QWI1".to_vec(), shown_by_alice.get(4..).unwrap_or_default().to_vec()].concat();
    let peer_missing = payload(canonical_map(vec![(1, raw::head(0, 1)), (2, raw::bstr(&fa))]));
    crate::rows! { b.verify:
        "bob-scans-alice", "Bob scans Alice's screen", &["QrMatch"], &bob, &alice,
            shown_by_alice.clone(), None;
        "extension-ignored", "a payload with an extension key -1", &["QrMatch", "Extension"], &bob,
            &alice, qr_map(1, &fa, &fb, &[(-1, raw::head(0, 0))]), None;
        "roles-swapped", "Alice scans her own screen: roles swapped", mismatch, &alice, &bob,
            shown_by_alice.clone(), Some("safety.mismatch");
        "other-contact", "Carol scans Alice's screen meant for Bob", mismatch, &carol, &alice,
            shown_by_alice.clone(), Some("safety.mismatch");
        "substituted-key", "Bob scans, but his app holds Carol's key as Alice's", mismatch, &bob,
            &carol, shown_by_alice.clone(), Some("safety.mismatch");
        "one-bit-off", "the last fingerprint byte differs by one bit", mismatch, &bob, &alice,
            one_bit, Some("safety.mismatch");
        "wrong-magic", "an invite QR prefix", &["Magic"], &bob, &alice, qwi1, Some("qr.magic");
        "empty-payload", "no bytes", &["Magic"], &bob, &alice, Vec::new(), Some("qr.magic");
        "magic-only", "the magic and nothing else", s, &bob, &alice, QR_MAGIC.to_vec(),
            Some("cbor.truncated");
        "version-2", "version 2", s, &bob, &alice, qr_map(2, &fa, &fb, &[]),
            Some("schema.version");
        "fingerprint-short", "a 31-byte fingerprint", s, &bob, &alice,
            qr_map(1, &[0u8; 31], &fb, &[]), Some("schema.length");
        "peer-missing", "no key 3", s, &bob, &alice, peer_missing, Some("schema.missing_field");
        "unknown-critical", "an unknown key 4", s, &bob, &alice,
            qr_map(1, &fa, &fb, &[(4, raw::head(0, 0))]), Some("schema.unknown_critical");
        "trailing-byte", "a byte after the map", s, &bob, &alice,
            [shown_by_alice.clone(), vec![0]].concat(), Some("cbor.trailing");
        "oversized", "a 257-byte payload", &["Limits"], &bob, &alice,
            qr_map(1, &fa, &fb, &[(-1, raw::bstr(&[0u8; 180]))]), Some("cbor.limit.input");
    }

    Ok(file(
        "safety_code",
        &[
            "Safety codes (spec/03-identity.md).",
            "safety-code: compute both 64-byte fingerprints and the 70-digit code (the same for either order).",
            "safety-qr-create: the payload shown by the device with ownKey for peerKey.",
            "safety-qr-verify: check a scanned payload as the device with ownKey whose contact is peerKey.",
        ],
        FLAGS,
        crate::groups! { SafetyGroup:
            Code("Fingerprints and codes.", codes);
            QrCreate("QR payloads.", creates);
            QrVerify("Scanning a QR payload.", b.verifies);
        },
    ))
}
