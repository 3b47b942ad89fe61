//! `hpke.json`: HPKE base mode per suite (spec/02-suites-and-labels.md, HPKE): RFC 9180
//! known answers, seals reproducible from the RNG bytes, and every way opening fails.

use super::material::hex32;
use super::{FlagDef, Ids, expect, file};
use crate::format::VectorFile;
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
    let (info, aad, ctx) = (&i.info, &i.aad, &i.exporter_context);
    let sealed = hpke::seal(recipient.public(), info, aad, &i.plaintext, ctx, &mut rng)
        .map_err(|e| format!("hpke {}: seal failed: {e}", i.slug))?;
    if !rng.finished() {
        return Err(format!("hpke {}: seal drew other than the randomness", i.slug));
    }
    let (enc, ciphertext) = (sealed.enc().to_vec(), sealed.ciphertext().to_vec());
    let opened = hpke::open(&recipient, &enc, info, aad, &ciphertext, ctx)
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
        enc,
        ciphertext,
        Some(i.plaintext),
        Some(sealed.exported().to_vec()),
    ))
}

/// A change to a seal test that makes it an opening failure.
type Edit<'a> = &'a dyn Fn(&mut HpkeTest);

/// `bytes` with the bits `mask` of byte `index` flipped; a negative `index` counts from the
/// end (-1 is the last byte). Shared by the families that tamper with sealed messages.
pub(crate) fn flipped(bytes: &[u8], index: isize, mask: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let at = match usize::try_from(index) {
        Ok(i) => Some(i),
        Err(_) => out.len().checked_sub(index.unsigned_abs()),
    };
    if let Some(byte) = at.and_then(|i| out.get_mut(i)) {
        *byte ^= mask;
    }
    out
}

/// The seal test `base` changed by `edit`, which must now fail to open with `class`.
fn open_test(
    ids: &mut Ids,
    base: &HpkeTest,
    slug: &str,
    comment: &str,
    f: &[&str],
    edit: Edit<'_>,
    class: &str,
) -> Result<HpkeTest, String> {
    let mut t = base.clone();
    edit(&mut t);
    let seed = t.recipient_seed.as_slice().try_into().map_err(|_| "recipient seed")?;
    let suite = Suite::from_id(t.suite).map_err(|e| format!("hpke {slug}: suite: {e}"))?;
    let recipient = KemSecret::from_seed(suite, &seed);
    let got = hpke::open(&recipient, &t.enc, &t.info, &t.aad, &t.ciphertext, &t.exporter_context);
    expect(&format!("hpke {slug}"), got, Some(class))?;
    let head = ids.head(slug, comment, f, Some(class));
    // The inputs stay; the seal's randomness and the valid outputs go.
    Ok(HpkeTest { randomness: None, plaintext: None, exported: None, ..t.with_head(head) })
}

/// The HPKE encapsulation randomness a seal draws: the seeds `{label}/0`, `{label}/32`, …
/// concatenated and cut to the suite's length. Shared by the families that seal with HPKE.
pub(crate) fn encap_randomness(label: &str, suite: Suite) -> Vec<u8> {
    let len = suite.hpke_encap_randomness_len();
    let mut out = Vec::new();
    while out.len() < len {
        out.extend_from_slice(&seed32(&format!("{label}/{}", out.len())));
    }
    out.truncate(len);
    out
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
    let rfc = SealInput {
        slug: "rfc9180-a-2-1",
        comment: "RFC 9180 A.2.1 base mode, first encryption; the exporter value is this implementation's (the RFC's exporter vectors use other contexts and lengths).",
        flags: &["Rfc9180"],
        suite: Suite::X25519,
        recipient_seed: hex32("1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df"),
        info: hex("4f6465206f6e2061204772656369616e2055726e"),
        aad: hex("436f756e742d30"),
        plaintext: hex("4265617574792069732074727574682c20747275746820626561757479"),
        exporter_context: Vec::new(),
        randomness: hex("909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b"),
    };
    let rfc = seal_test(&mut ids, rfc)?;
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
            let input = SealInput {
                slug: &slug,
                comment: &format!("{} suite, {case} plaintext", suite.name()),
                flags: &["Seal"],
                suite,
                recipient_seed: seed32(&format!("hpke/{name}/recipient")),
                info: b"quietwire hpke vector info".to_vec(),
                aad: b"aad".to_vec(),
                plaintext,
                exporter_context: b"exporter context".to_vec(),
                randomness: encap_randomness(&format!("hpke/{slug}/randomness"), suite),
            };
            seals.push(seal_test(&mut ids, input)?);
        }
    }

    // Opening failures, derived from the seal tests of each suite.
    let mut opens = Vec::new();
    let bases: Vec<HpkeTest> =
        seals.iter().filter(|t| t.slug.ends_with("-short")).cloned().collect();
    for base in &bases {
        let name = base.slug.trim_start_matches("seal-").trim_end_matches("-short");
        let another = seed32(&format!("hpke/{name}/another recipient")).to_vec();
        let mut open = |case: &str, comment: &str, f: &[&str], edit: Edit<'_>, class: &str| {
            let slug = format!("{name}-{case}");
            opens.push(open_test(&mut ids, base, &slug, comment, f, edit, class)?);
            Ok::<(), String>(())
        };
        crate::rows! { open:
            "ciphertext-flipped", "first ciphertext byte flipped", &["Tampered"],
                &|t| t.ciphertext = flipped(&t.ciphertext, 0, 0x01), "hpke.open";
            "tag-flipped", "last tag byte flipped", &["Tampered"],
                &|t| t.ciphertext = flipped(&t.ciphertext, -1, 0x80), "hpke.open";
            "enc-flipped", "a bit of the encapsulated key flipped: another shared secret",
                &["Tampered"], &|t| t.enc = flipped(&t.enc, 5, 0x01), "hpke.open";
            "wrong-info", "info with one more byte", &["WrongContext"], &|t| t.info.push(b'!'),
                "hpke.open";
            "wrong-aad", "other associated data", &["WrongContext"],
                &|t| t.aad = b"aae".to_vec(), "hpke.open";
            "wrong-recipient", "another recipient key pair", &["WrongContext"],
                &|t| t.recipient_seed.clone_from(&another), "hpke.open";
            "enc-short", "encapsulated key one byte short", &["EncLength"],
                &|t| { t.enc.pop(); }, "hpke.encapsulation";
            "enc-long", "encapsulated key one byte long", &["EncLength"], &|t| t.enc.push(0),
                "hpke.encapsulation";
        }
        if base.suite == Suite::X25519.id() {
            crate::rows! { open:
                "share-zero", "an ephemeral share of small order", &["SmallOrderShare"],
                    &|t| t.enc = [0u8; 32].to_vec(), "hpke.decapsulation";
                "share-one", "an ephemeral share of small order", &["SmallOrderShare"],
                    &|t| t.enc = one().to_vec(), "hpke.decapsulation";
            }
        }
    }

    // Added later, so their ids follow the cases above: X-Wing with a small-order X25519
    // share. X-Wing never rejects (SUI-08): the X25519 part of its shared secret is all zero,
    // the combiner still yields a secret (another one than the sender's), and the AEAD fails.
    for base in bases.iter().filter(|t| t.suite == Suite::XWing.id()) {
        let mut open = |case: &str, comment: &str, edit: Edit<'_>| {
            let (f, class) = (&["SmallOrderShare"], "hpke.open");
            opens.push(open_test(&mut ids, base, case, comment, f, edit, class)?);
            Ok::<(), String>(())
        };
        crate::rows! { open:
            "xwing-share-x25519-zero",
                "the X25519 share ct_X of the X-Wing enc replaced by u = 0: X-Wing does not reject (the X25519 secret is all zero), so opening fails at the AEAD",
                &|t| x25519_share(&mut t.enc, [0u8; 32]);
            "xwing-share-x25519-one",
                "the X25519 share ct_X of the X-Wing enc replaced by u = 1: X-Wing does not reject (the X25519 secret is all zero), so opening fails at the AEAD",
                &|t| x25519_share(&mut t.enc, one());
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
        crate::groups! { HpkeGroup:
            Seal("Known answers and reproducible seals.", seals);
            Open("Opening failures.", opens);
        },
    ))
}

/// Replaces the X25519 share (the last 32 bytes) of an X-Wing `enc`.
fn x25519_share(enc: &mut Vec<u8>, share: [u8; 32]) {
    enc.truncate(enc.len().saturating_sub(32));
    enc.extend_from_slice(&share);
}

fn one() -> [u8; 32] {
    let mut one = [0u8; 32];
    one[0] = 1;
    one
}
