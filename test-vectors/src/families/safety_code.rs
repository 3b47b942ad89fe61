//! `safety_code.json`: fingerprints, displayed codes and QR comparison
//! (spec/03-identity.md, safety codes).

use super::material::{self as m, canonical_map};
use super::{FlagDef, Ids, file, flags};
use crate::format::{Outcome, VectorFile};
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

/// Generates `safety_code.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<SafetyGroup>, String> {
    let mut ids = Ids::default();
    let (alice, bob, carol) = (key("alice"), key("bob"), key("carol"));

    let mut codes = Vec::new();
    let mut code_test =
        |ids: &mut Ids, slug: &str, comment: &str, f: &[&str], a: &IdentityKey, b: &IdentityKey| {
            let code = SafetyCode::new(a, b);
            let head = ids.head(slug, comment, f, None);
            codes.push(CodeTest::new(
                head,
                a.as_bytes().to_vec(),
                b.as_bytes().to_vec(),
                Fingerprint::of(a).as_bytes().to_vec(),
                Fingerprint::of(b).as_bytes().to_vec(),
                code.to_string(),
            ));
            code
        };
    let ab = code_test(&mut ids, "alice-bob", "two identities", &["Code"], &alice, &bob);
    let ba = code_test(
        &mut ids,
        "bob-alice",
        "the same identities in the other order",
        &["Code", "OrderIndependent"],
        &bob,
        &alice,
    );
    if ab != ba {
        return Err("safety_code: not order independent".to_owned());
    }
    code_test(&mut ids, "alice-carol", "another pair", &["Code"], &alice, &carol);
    code_test(
        &mut ids,
        "alice-alice",
        "an identity with itself: both halves equal",
        &["Code"],
        &alice,
        &alice,
    );
    // Find a named key whose half has a group with a leading zero, so that formatting is tested.
    let padded = (0..200u32)
        .map(|i| key(&format!("padded-{i}")))
        .find(|k| {
            Fingerprint::of(k).digits().as_bytes().chunks(5).any(|g| g.first() == Some(&b'0'))
        })
        .ok_or("safety_code: no key with a leading-zero group")?;
    code_test(
        &mut ids,
        "leading-zero-group",
        "a group below 10000 is written with leading zeros",
        &["Code", "LeadingZeros"],
        &padded,
        &bob,
    );
    let codes = SafetyGroup::Code { comment: "Fingerprints and codes.".to_owned(), tests: codes };

    let qr =
        |ids: &mut Ids, slug: &str, comment: &str, own: &IdentityKey, peer: &IdentityKey| QrTest {
            tc_id: ids.next_id(),
            slug: slug.to_owned(),
            comment: comment.to_owned(),
            flags: flags(&["QrMatch"]),
            own_key: own.as_bytes().to_vec(),
            peer_key: peer.as_bytes().to_vec(),
            payload: SafetyQr::new(own, peer).to_bytes(),
            result: Outcome::Valid,
            error_class: None,
        };
    let creates = vec![
        qr(&mut ids, "qr-alice-shows-bob", "Alice's screen when verifying Bob", &alice, &bob),
        qr(&mut ids, "qr-bob-shows-alice", "Bob's screen when verifying Alice", &bob, &alice),
    ];
    let creates = SafetyGroup::QrCreate { comment: "QR payloads.".to_owned(), tests: creates };

    let mut verifies = Vec::new();
    let fp = |k: &IdentityKey| Fingerprint::of(k).qr_part().to_vec();
    let map = |entries: Vec<(i64, Vec<u8>)>| canonical_map(entries);
    let shown_by_alice = SafetyQr::new(&alice, &bob).to_bytes();
    let mut verify = |ids: &mut Ids,
                      slug: &str,
                      comment: &str,
                      f: &[&str],
                      own: &IdentityKey,
                      peer: &IdentityKey,
                      payload: Vec<u8>,
                      class: Option<&str>|
     -> Result<(), String> {
        let got = SafetyQr::verify_scanned(&payload, own, peer).map_err(|e| e.class().as_str());
        if got.err() != class {
            return Err(format!("safety_code {slug}: expected {class:?}, got {got:?}"));
        }
        let head = ids.head(slug, comment, f, class);
        verifies.push(QrTest::new(
            head,
            own.as_bytes().to_vec(),
            peer.as_bytes().to_vec(),
            payload,
        ));
        Ok(())
    };
    crate::rows! { verify:
        &mut ids, "bob-scans-alice", "Bob scans Alice's screen", &["QrMatch"], &bob, &alice,
            shown_by_alice.clone(), None;
    }
    verify(
        &mut ids,
        "extension-ignored",
        "a payload with an extension key -1",
        &["QrMatch", "Extension"],
        &bob,
        &alice,
        payload(map(vec![
            (1, raw::head(0, 1)),
            (2, raw::bstr(&fp(&alice))),
            (3, raw::bstr(&fp(&bob))),
            (-1, raw::head(0, 0)),
        ])),
        None,
    )?;
    crate::rows! { verify:
        &mut ids, "roles-swapped", "Alice scans her own screen: roles swapped", &["QrMismatch"],
            &alice, &bob, shown_by_alice.clone(), Some("safety.mismatch");
        &mut ids, "other-contact", "Carol scans Alice's screen meant for Bob", &["QrMismatch"],
            &carol, &alice, shown_by_alice.clone(), Some("safety.mismatch");
        &mut ids, "substituted-key", "Bob scans, but his app holds Carol's key as Alice's",
            &["QrMismatch"], &bob, &carol, shown_by_alice.clone(), Some("safety.mismatch");
    }
    let mut one_bit = shown_by_alice.clone();
    if let Some(b) = one_bit.last_mut() {
        *b ^= 1;
    }
    crate::rows! { verify:
        &mut ids, "one-bit-off", "the last fingerprint byte differs by one bit", &["QrMismatch"],
            &bob, &alice, one_bit, Some("safety.mismatch");
        &mut ids, "wrong-magic", "an invite QR prefix", &["Magic"], &bob, &alice,
            [b"QWI1".to_vec(), shown_by_alice.get(4..).unwrap_or_default().to_vec()].concat(),
            Some("qr.magic");
        &mut ids, "empty-payload", "no bytes", &["Magic"], &bob, &alice, Vec::new(),
            Some("qr.magic");
        &mut ids, "magic-only", "the magic and nothing else", &["Schema"], &bob, &alice,
            QR_MAGIC.to_vec(), Some("cbor.truncated");
    }
    verify(
        &mut ids,
        "version-2",
        "version 2",
        &["Schema"],
        &bob,
        &alice,
        payload(map(vec![
            (1, raw::head(0, 2)),
            (2, raw::bstr(&fp(&alice))),
            (3, raw::bstr(&fp(&bob))),
        ])),
        Some("schema.version"),
    )?;
    verify(
        &mut ids,
        "fingerprint-short",
        "a 31-byte fingerprint",
        &["Schema"],
        &bob,
        &alice,
        payload(map(vec![
            (1, raw::head(0, 1)),
            (2, raw::bstr(&[0u8; 31])),
            (3, raw::bstr(&fp(&bob))),
        ])),
        Some("schema.length"),
    )?;
    crate::rows! { verify:
        &mut ids, "peer-missing", "no key 3", &["Schema"], &bob, &alice,
            payload(map(vec![(1, raw::head(0, 1)), (2, raw::bstr(&fp(&alice)))])),
            Some("schema.missing_field");
    }
    verify(
        &mut ids,
        "unknown-critical",
        "an unknown key 4",
        &["Schema"],
        &bob,
        &alice,
        payload(map(vec![
            (1, raw::head(0, 1)),
            (2, raw::bstr(&fp(&alice))),
            (3, raw::bstr(&fp(&bob))),
            (4, raw::head(0, 0)),
        ])),
        Some("schema.unknown_critical"),
    )?;
    let mut trailing = shown_by_alice.clone();
    trailing.push(0);
    crate::rows! { verify:
        &mut ids, "trailing-byte", "a byte after the map", &["Schema"], &bob, &alice, trailing,
            Some("cbor.trailing");
    }
    verify(
        &mut ids,
        "oversized",
        "a 257-byte payload",
        &["Limits"],
        &bob,
        &alice,
        payload(map(vec![
            (1, raw::head(0, 1)),
            (2, raw::bstr(&fp(&alice))),
            (3, raw::bstr(&fp(&bob))),
            (-1, raw::bstr(&[0u8; 180])),
        ])),
        Some("cbor.limit.input"),
    )?;
    let verifies =
        SafetyGroup::QrVerify { comment: "Scanning a QR payload.".to_owned(), tests: verifies };

    Ok(file(
        "safety_code",
        &[
            "Safety codes (spec/03-identity.md).",
            "safety-code: compute both 64-byte fingerprints and the 70-digit code (the same for either order).",
            "safety-qr-create: the payload shown by the device with ownKey for peerKey.",
            "safety-qr-verify: check a scanned payload as the device with ownKey whose contact is peerKey.",
        ],
        FLAGS,
        vec![codes, creates, verifies],
    ))
}
