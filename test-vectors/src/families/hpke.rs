//! `hpke.json`: HPKE base mode per suite (spec/02-suites-and-labels.md, HPKE): RFC 9180
//! known answers, seals reproducible from the RNG bytes, and every way opening fails.

use super::{FlagDef, Ids, file, flags};
use crate::format::{Outcome, VectorFile};
use crate::seeds::{ReplayRng, seed32};
use quietwire::hpke;
use quietwire::keys::KemSecret;
use quietwire::suite::Suite;

crate::vector_groups! {
    /// Groups of this family.
    pub enum HpkeGroup {
        /// Seal with the RNG yielding exactly `randomness`: the output must equal `enc`,
        /// `ciphertext` and `exported`; opening it must give back `plaintext` and `exported`.
        "hpke-seal" => Seal(HpkeTest),
        /// Open `enc` and `ciphertext` with the recipient's key pair.
        "hpke-open" => Open(HpkeTest),
    }
}

crate::vector_test! {
    /// One HPKE test.
    pub struct HpkeTest {
        /// Suite id.
        suite: u64,
        /// The recipient's 32-byte KEM seed (`DeriveKeyPair` input, RFC 9180 `ikmR`).
        recipient_seed: hex,
        /// HPKE `info`.
        info: hex,
        /// AEAD associated data.
        aad: hex,
        /// Exporter context.
        exporter_context: hex,
        /// Seal only: the bytes the RNG yields (X25519 `ikmE`, or X-Wing's 64-byte `eseed`).
        randomness: hex?,
        /// The encapsulated key.
        enc: hex,
        /// The ciphertext, tag included.
        ciphertext: hex,
        /// The plaintext (valid tests only).
        plaintext: hex?,
        /// The 32-byte exported secret (valid tests only).
        exported: hex?,
    }
}

const FLAGS: &[FlagDef] = crate::flag_defs! {
    Rfc9180: Basic ["SUI-08"]
        "RFC 9180 Appendix A.2.1 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, base mode), sequence number 0.";
    Seal: Basic ["SUI-08"]
        "A seal reproducible from the RNG bytes; it opens to the plaintext and the same exported secret.";
    Tampered: AuthBypass ["SUI-08"] "A modified encapsulated key or ciphertext must not open.";
    WrongContext: MissingStep ["SUI-08"]
        "Another info, associated data or recipient: the ciphertext must not open.";
    EncLength: Basic ["SUI-08"] "An encapsulated key of the wrong length for the suite.";
    SmallOrderShare: EdgeCase ["SUI-08", "SUI-06"]
        "An X25519 ephemeral share of small order makes the DH output zero: suite 2 decapsulation fails; X-Wing does not reject, so the AEAD fails.";
};

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_default()
}

fn suite_of(id: u64) -> Result<Suite, String> {
    Suite::from_id(id).map_err(|e| format!("hpke: suite {id}: {e}"))
}

struct SealInput<'a> {
    slug: &'a str,
    comment: &'a str,
    flags: &'a [&'a str],
    suite: Suite,
    recipient_seed: [u8; 32],
    info: Vec<u8>,
    aad: Vec<u8>,
    plaintext: Vec<u8>,
    exporter_context: Vec<u8>,
    randomness: Vec<u8>,
}

fn seal_test(ids: &mut Ids, i: SealInput<'_>) -> Result<HpkeTest, String> {
    let recipient = KemSecret::from_seed(i.suite, &i.recipient_seed);
    let mut rng = ReplayRng::new(&[&i.randomness]);
    let sealed = hpke::seal(
        recipient.public(),
        &i.info,
        &i.aad,
        &i.plaintext,
        &i.exporter_context,
        &mut rng,
    )
    .map_err(|e| format!("hpke {}: seal failed: {e}", i.slug))?;
    if !rng.finished() {
        return Err(format!("hpke {}: seal drew other than the randomness", i.slug));
    }
    let opened = hpke::open(
        &recipient,
        sealed.enc(),
        &i.info,
        &i.aad,
        sealed.ciphertext(),
        &i.exporter_context,
    )
    .map_err(|e| format!("hpke {}: open failed: {e}", i.slug))?;
    if opened.plaintext() != i.plaintext.as_slice() || opened.exported() != sealed.exported() {
        return Err(format!("hpke {}: round trip differs", i.slug));
    }
    let head = ids.head(i.slug, i.comment, i.flags, None);
    Ok(HpkeTest::new(
        head,
        i.suite.id(),
        i.recipient_seed.to_vec(),
        i.info,
        i.aad,
        i.exporter_context,
        Some(i.randomness),
        sealed.enc().to_vec(),
        sealed.ciphertext().to_vec(),
        Some(i.plaintext),
        Some(sealed.exported().to_vec()),
    ))
}

/// Generates `hpke.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here, including the RFC 9180
/// known answer.
pub fn generate() -> Result<VectorFile<HpkeGroup>, String> {
    let mut ids = Ids::default();
    let mut seals = Vec::new();

    // RFC 9180 A.2.1, with ikmR as the recipient seed and ikmE as the randomness.
    let rfc = seal_test(
        &mut ids,
        SealInput {
            slug: "rfc9180-a-2-1",
            comment: "RFC 9180 A.2.1 base mode, first encryption; the exporter value is this implementation's (the RFC's exporter vectors use other contexts and lengths).",
            flags: &["Rfc9180"],
            suite: Suite::X25519,
            recipient_seed: hex("1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df")
                .try_into()
                .map_err(|_| "ikmR")?,
            info: hex("4f6465206f6e2061204772656369616e2055726e"),
            aad: hex("436f756e742d30"),
            plaintext: hex("4265617574792069732074727574682c20747275746820626561757479"),
            exporter_context: Vec::new(),
            randomness: hex("909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b"),
        },
    )?;
    let rfc_enc = hex("1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a");
    let rfc_ct = hex(
        "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28",
    );
    if rfc.enc != rfc_enc || rfc.ciphertext != rfc_ct {
        return Err("hpke: RFC 9180 A.2.1 known answer differs".to_owned());
    }
    seals.push(rfc);

    for suite in Suite::ALL {
        let name = if suite == Suite::XWing { "xwing" } else { "x25519" };
        for (case, plaintext) in [("empty", Vec::new()), ("short", b"hello".to_vec())] {
            let slug = format!("seal-{name}-{case}");
            let mut randomness = Vec::new();
            while randomness.len() < suite.hpke_encap_randomness_len() {
                randomness.extend_from_slice(&seed32(&format!(
                    "hpke/{slug}/randomness/{}",
                    randomness.len()
                )));
            }
            randomness.truncate(suite.hpke_encap_randomness_len());
            seals.push(seal_test(
                &mut ids,
                SealInput {
                    slug: &slug,
                    comment: &format!("{} suite, {case} plaintext", suite.name()),
                    flags: &["Seal"],
                    suite,
                    recipient_seed: seed32(&format!("hpke/{name}/recipient")),
                    info: b"quietwire hpke vector info".to_vec(),
                    aad: b"aad".to_vec(),
                    plaintext,
                    exporter_context: b"exporter context".to_vec(),
                    randomness,
                },
            )?);
        }
    }

    // Opening failures, derived from the seal tests of each suite.
    let mut opens = Vec::new();
    let bases: Vec<HpkeTest> =
        seals.iter().filter(|t| t.slug.ends_with("-short")).cloned().collect();
    for base in &bases {
        let suite = suite_of(base.suite)?;
        let name = base.slug.trim_start_matches("seal-").trim_end_matches("-short");
        let mut variants: Vec<(String, &str, &[&str], HpkeTest, &str)> = Vec::new();
        let mut v = base.clone();
        if let Some(b) = v.ciphertext.first_mut() {
            *b ^= 0x01;
        }
        variants.push((
            format!("{name}-ciphertext-flipped"),
            "first ciphertext byte flipped",
            &["Tampered"],
            v,
            "hpke.open",
        ));
        let mut v = base.clone();
        if let Some(b) = v.ciphertext.last_mut() {
            *b ^= 0x80;
        }
        variants.push((
            format!("{name}-tag-flipped"),
            "last tag byte flipped",
            &["Tampered"],
            v,
            "hpke.open",
        ));
        let mut v = base.clone();
        if let Some(b) = v.enc.get_mut(5) {
            *b ^= 0x01;
        }
        variants.push((
            format!("{name}-enc-flipped"),
            "a bit of the encapsulated key flipped: another shared secret",
            &["Tampered"],
            v,
            "hpke.open",
        ));
        let mut v = base.clone();
        v.info.push(b'!');
        variants.push((
            format!("{name}-wrong-info"),
            "info with one more byte",
            &["WrongContext"],
            v,
            "hpke.open",
        ));
        let mut v = base.clone();
        v.aad = b"aae".to_vec();
        variants.push((
            format!("{name}-wrong-aad"),
            "other associated data",
            &["WrongContext"],
            v,
            "hpke.open",
        ));
        let mut v = base.clone();
        v.recipient_seed = seed32(&format!("hpke/{name}/another recipient")).to_vec();
        variants.push((
            format!("{name}-wrong-recipient"),
            "another recipient key pair",
            &["WrongContext"],
            v,
            "hpke.open",
        ));
        let mut v = base.clone();
        v.enc.pop();
        variants.push((
            format!("{name}-enc-short"),
            "encapsulated key one byte short",
            &["EncLength"],
            v,
            "hpke.encapsulation",
        ));
        let mut v = base.clone();
        v.enc.push(0);
        variants.push((
            format!("{name}-enc-long"),
            "encapsulated key one byte long",
            &["EncLength"],
            v,
            "hpke.encapsulation",
        ));
        if suite == Suite::X25519 {
            for (share, what) in [([0u8; 32], "zero"), (one(), "one")] {
                let mut v = base.clone();
                v.enc = share.to_vec();
                variants.push((
                    format!("{name}-share-{what}"),
                    "an ephemeral share of small order",
                    &["SmallOrderShare"],
                    v,
                    "hpke.decapsulation",
                ));
            }
        }
        for (slug, comment, f, mut t, class) in variants {
            let recipient = KemSecret::from_seed(
                suite,
                &t.recipient_seed.clone().try_into().map_err(|_| "recipient seed")?,
            );
            match hpke::open(
                &recipient,
                &t.enc,
                &t.info,
                &t.aad,
                &t.ciphertext,
                &t.exporter_context,
            ) {
                Err(e) if e.class().as_str() == class => {}
                other => return Err(format!("hpke {slug}: expected {class}, got {other:?}")),
            }
            t.tc_id = ids.next_id();
            t.slug = slug;
            t.comment = comment.to_owned();
            t.flags = flags(f);
            t.randomness = None;
            t.plaintext = None;
            t.exported = None;
            t.result = Outcome::Invalid;
            t.error_class = Some(class.to_owned());
            opens.push(t);
        }
    }

    // Added later, so their ids follow the cases above: X-Wing with a small-order X25519
    // share. X-Wing never rejects (SUI-08): the X25519 part of its shared secret is all zero,
    // the combiner still yields a secret (another one than the sender's), and the AEAD fails.
    for base in bases.iter().filter(|t| t.suite == Suite::XWing.id()) {
        let recipient = KemSecret::from_seed(
            Suite::XWing,
            &base.recipient_seed.clone().try_into().map_err(|_| "recipient seed")?,
        );
        for (share, what) in [([0u8; 32], "zero"), (one(), "one")] {
            let mut t = base.clone();
            let start = t.enc.len().saturating_sub(32);
            t.enc.truncate(start);
            t.enc.extend_from_slice(&share);
            let class = "hpke.open";
            match hpke::open(
                &recipient,
                &t.enc,
                &t.info,
                &t.aad,
                &t.ciphertext,
                &t.exporter_context,
            ) {
                Err(e) if e.class().as_str() == class => {}
                other => {
                    return Err(format!(
                        "hpke xwing-share-{what}: expected {class}, got {other:?}"
                    ));
                }
            }
            t.tc_id = ids.next_id();
            t.slug = format!("xwing-share-x25519-{what}");
            t.comment = format!(
                "the X25519 share ct_X of the X-Wing enc replaced by u = {}: X-Wing does not reject (the X25519 secret is all zero), so opening fails at the AEAD",
                if what == "zero" { 0 } else { 1 }
            );
            t.flags = flags(&["SmallOrderShare"]);
            t.randomness = None;
            t.plaintext = None;
            t.exported = None;
            t.result = Outcome::Invalid;
            t.error_class = Some(class.to_owned());
            opens.push(t);
        }
    }

    Ok(file(
        "hpke",
        &[
            "HPKE base mode (RFC 9180) per suite (spec/02-suites-and-labels.md, SUI-08).",
            "The recipient's key pair is DeriveKeyPair(recipientSeed) of the suite's KEM.",
            "hpke-seal: seal with the RNG yielding exactly `randomness`; enc, ciphertext and exported must match; then open the result.",
            "hpke-open: open; invalid tests must fail with errorClass.",
        ],
        FLAGS,
        vec![
            HpkeGroup::Seal {
                comment: "Known answers and reproducible seals.".to_owned(),
                tests: seals,
            },
            HpkeGroup::Open { comment: "Opening failures.".to_owned(), tests: opens },
        ],
    ))
}

fn one() -> [u8; 32] {
    let mut one = [0u8; 32];
    one[0] = 1;
    one
}
