//! The transfer-confirmation groups of `backup.json` (spec/10-backup.md §10.5.4, XBK-32 ..
//! XBK-34): sealing a confirmation from explicit randomness, and opening confirmations,
//! valid and faulty, with the class of the first failing check.

use crate::families::Ids;
use crate::families::material::canonical_map;
use crate::raw;
use crate::seeds::{ReplayRng, seed32};
use quietwire::backup::confirm::{
    MAX_CONFIRMATION, check_file_digest, open_confirmation, seal_confirmation,
};
use quietwire::hpke;
use quietwire::keys::KemSecret;
use quietwire::label::Label;
use quietwire::suite::Suite;

crate::vector_test! {
    /// Sealing a confirmation (XBK-32) with the exact encapsulation randomness.
    pub struct ConfirmSealTest {
        /// Suite of the transfer key.
        suite: u64,
        /// Seed of the new device's transfer key pair (`DeriveKeyPair`).
        transfer_seed: hex,
        /// The transfer code, exactly as scanned.
        code: hex,
        /// SHA-256 of the file the old device will send.
        digest: hex,
        /// The bytes the KEM draws (XBK-30 style: exactly what the encapsulation consumes).
        randomness: hex,
        /// The expected confirmation message.
        message: hex,
        /// The expected short authentication string, as shown (`"ddd ddd"`).
        sas: String,
    }
}

crate::vector_test! {
    /// Opening a confirmation (XBK-33) with the transfer key pair.
    pub struct ConfirmOpenTest {
        /// Suite of the transfer key.
        suite: u64,
        /// Seed of the new device's transfer key pair.
        transfer_seed: hex,
        /// The transfer code, exactly as shown.
        code: hex,
        /// The confirmation message found in the mailbox.
        message: hex,
        /// The SHA-256 of the file then received, checked against the confirmed digest
        /// (XBK-34); absent: no file yet.
        file_sha256: hex?,
        /// The confirmed file digest (valid tests only).
        digest: hex?,
        /// The short authentication string to show (valid tests only).
        sas: ?String,
    }
}

/// The code of every test; the fuzz target `backup_confirm` opens with it and the suite-2 key.
const CODE: &[u8] = b"quietwire:transfer#t1.example-code";

fn key(suite: Suite) -> ([u8; 32], KemSecret) {
    let name = if suite == Suite::XWing { "xwing" } else { "x25519" };
    let seed = seed32(&format!("backup/confirm/{name}"));
    (seed, KemSecret::from_seed(suite, &seed))
}

fn randomness(suite: Suite, name: &str) -> Vec<u8> {
    let len = suite.hpke_encap_randomness_len();
    let mut out = Vec::new();
    let mut n = 0u8;
    while out.len() < len {
        out.extend_from_slice(&seed32(&format!("backup/confirm/{name}/{n}")));
        n = n.wrapping_add(1);
    }
    out.truncate(len);
    out
}

/// A message sealing `plaintext` (any bytes) to `suite`'s key under `code`, from named
/// randomness: for the faults of the sealed map.
fn seal_raw(suite: Suite, code: &[u8], plaintext: &[u8], name: &str) -> Result<Vec<u8>, String> {
    let (enc, ct) = seal_parts(suite, code, plaintext, name)?;
    Ok(raw::array(&[raw::bstr(&enc), raw::bstr(&ct)]))
}

/// The `enc` and `ct` of [`seal_raw`].
fn seal_parts(
    suite: Suite,
    code: &[u8],
    plaintext: &[u8],
    name: &str,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let (_, k) = key(suite);
    let mut rng = ReplayRng::new(&[&randomness(suite, name)]);
    let sealed = hpke::seal(
        k.public(),
        &Label::XbkConfirmInfo.input(&[code]),
        &[],
        plaintext,
        &Label::XbkConfirmSas.input(&[]),
        &mut rng,
    )
    .map_err(|e| format!("confirm {name}: {e}"))?;
    Ok((sealed.enc().to_vec(), sealed.ciphertext().to_vec()))
}

fn plaintext(fields: Vec<(i64, Vec<u8>)>) -> Vec<u8> {
    canonical_map(fields)
}

/// The `xbk-confirm-seal` tests.
pub(super) fn seal(ids: &mut Ids) -> Result<Vec<ConfirmSealTest>, String> {
    let mut tests = Vec::new();
    for (slug, suite, digest) in [
        ("confirm-seal-xwing", Suite::XWing, seed32("backup/confirm/digest/1")),
        ("confirm-seal-x25519", Suite::X25519, seed32("backup/confirm/digest/2")),
    ] {
        let (seed, k) = key(suite);
        let bytes = randomness(suite, slug);
        let mut rng = ReplayRng::new(&[&bytes]);
        let (message, sas) = seal_confirmation(k.public(), CODE, &digest, &mut rng)
            .map_err(|e| format!("confirm {slug}: {e}"))?;
        if !rng.finished() {
            return Err(format!("confirm {slug}: randomness not consumed exactly"));
        }
        // The same as the message built from its parts.
        if message
            != seal_raw(
                suite,
                CODE,
                &plaintext(vec![(1, raw::head(0, 1)), (2, raw::bstr(&digest))]),
                slug,
            )?
        {
            return Err(format!("confirm {slug}: library encoding differs from XBK-32"));
        }
        let comment = format!("a confirmation to a {} transfer key", suite.name());
        let head = ids.head(slug, &comment, &["Confirm"], None);
        tests.push(ConfirmSealTest::new(
            head,
            suite.id(),
            seed.to_vec(),
            CODE.to_vec(),
            digest.to_vec(),
            bytes,
            message,
            sas.to_string(),
        ));
    }
    Ok(tests)
}

/// A row of the open tests: slug, comment, flags, suite, message, class.
type Row<'a> = (&'a str, &'a str, &'a [&'a str], Suite, Vec<u8>, Option<&'a str>);
/// A row with the SHA-256 of the file then received (XBK-34).
type FileRow<'a> =
    (&'a str, &'a str, &'a [&'a str], Suite, Vec<u8>, Option<[u8; 32]>, Option<&'a str>);

/// The `xbk-confirm-open` tests.
pub(super) fn open(ids: &mut Ids) -> Result<Vec<ConfirmOpenTest>, String> {
    let mut tests = Vec::new();
    let digest = seed32("backup/confirm/digest/3");
    let good = |fields: Vec<(i64, Vec<u8>)>| plaintext(fields);
    let map = || vec![(1, raw::head(0, 1)), (2, raw::bstr(&digest))];
    let x = Suite::X25519;
    let sealed = |name: &str| seal_raw(x, CODE, &good(map()), name);
    let honest = sealed("honest")?;
    let (enc, ct) = seal_parts(x, CODE, &good(map()), "honest")?;
    let pair = |e: &[u8], c: &[u8]| raw::array(&[raw::bstr(e), raw::bstr(c)]);
    let flip = |mut v: Vec<u8>| {
        if let Some(last) = v.last_mut() {
            *last ^= 1;
        }
        v
    };
    let other_key = {
        let other = KemSecret::from_seed(x, &seed32("backup/confirm/other-key"));
        let mut rng = ReplayRng::new(&[&randomness(x, "other-key")]);
        seal_confirmation(other.public(), CODE, &digest, &mut rng)
            .map_err(|e| format!("confirm other-key: {e}"))?
            .0
    };
    let rows: Vec<Row<'_>> = vec![
        ("confirm-open-x25519", "the honest confirmation", &["Confirm"], x, honest.clone(), None),
        (
            "confirm-open-xwing",
            "the honest confirmation, suite 1",
            &["Confirm"],
            Suite::XWing,
            seal_raw(Suite::XWing, CODE, &good(map()), "xwing")?,
            None,
        ),
        (
            "confirm-open-extension",
            "an extension field -1 in the sealed map is ignored",
            &["Confirm"],
            x,
            seal_raw(x, CODE, &good([map(), vec![(-1, raw::bstr(b"ext"))]].concat()), "ext")?,
            None,
        ),
        (
            "confirm-other-code",
            "sealed for another transfer code",
            &["ConfirmForged"],
            x,
            seal_raw(x, b"quietwire:transfer#t1.another-code", &good(map()), "other-code")?,
            Some("hpke.open"),
        ),
        (
            "confirm-other-key",
            "sealed to another transfer key of the same suite",
            &["ConfirmForged"],
            x,
            other_key,
            Some("hpke.open"),
        ),
        (
            "confirm-ct-altered",
            "the last byte of the ciphertext flipped",
            &["ConfirmForged"],
            x,
            flip(honest.clone()),
            Some("hpke.open"),
        ),
        (
            "confirm-enc-low-order",
            "an all-zero X25519 share",
            &["ConfirmForged"],
            x,
            pair(&[0; 32], &ct),
            Some("hpke.decapsulation"),
        ),
        (
            "confirm-enc-short",
            "a 31-byte share",
            &["ConfirmFormat"],
            x,
            pair(&[9; 31], &ct),
            Some("hpke.encapsulation"),
        ),
        (
            "confirm-other-suite",
            "an X-Wing confirmation for a suite-2 transfer key",
            &["ConfirmFormat"],
            x,
            seal_raw(Suite::XWing, CODE, &good(map()), "xwing")?,
            Some("hpke.encapsulation"),
        ),
        (
            "confirm-not-array",
            "a map instead of the array",
            &["ConfirmFormat"],
            x,
            canonical_map(vec![(1, raw::bstr(&enc))]),
            Some("schema.wrong_type"),
        ),
        (
            "confirm-three-items",
            "an array of three",
            &["ConfirmFormat"],
            x,
            raw::array(&[raw::bstr(&enc), raw::bstr(&ct), raw::head(0, 0)]),
            Some("schema.length"),
        ),
        (
            "confirm-enc-text",
            "the share as a text string",
            &["ConfirmFormat"],
            x,
            raw::array(&[raw::tstr("enc"), raw::bstr(&ct)]),
            Some("schema.wrong_type"),
        ),
        (
            "confirm-trailing",
            "a byte after the array",
            &["ConfirmFormat"],
            x,
            [honest.clone(), vec![0]].concat(),
            Some("cbor.trailing"),
        ),
        (
            "confirm-oversized",
            "over MAX_CONFIRMATION = 2048 bytes",
            &["ConfirmFormat"],
            x,
            pair(&enc, &vec![0; MAX_CONFIRMATION]),
            Some("cbor.limit.input"),
        ),
        (
            "confirm-plain-version-2",
            "the sealed map is of version 2",
            &["ConfirmFormat"],
            x,
            seal_raw(x, CODE, &good(vec![(1, raw::head(0, 2)), (2, raw::bstr(&digest))]), "v2")?,
            Some("schema.version"),
        ),
        (
            "confirm-plain-digest-short",
            "a 31-byte digest",
            &["ConfirmFormat"],
            x,
            seal_raw(
                x,
                CODE,
                &good(vec![(1, raw::head(0, 1)), (2, raw::bstr(&[1; 31]))]),
                "short",
            )?,
            Some("schema.length"),
        ),
        (
            "confirm-plain-digest-missing",
            "no digest",
            &["ConfirmFormat"],
            x,
            seal_raw(x, CODE, &good(vec![(1, raw::head(0, 1))]), "missing")?,
            Some("schema.missing_field"),
        ),
        (
            "confirm-plain-unknown-key",
            "an unknown key 3",
            &["ConfirmFormat"],
            x,
            seal_raw(x, CODE, &good([map(), vec![(3, raw::head(0, 0))]].concat()), "unknown")?,
            Some("schema.unknown_critical"),
        ),
        (
            "confirm-plain-noncanonical",
            "the version written in two bytes",
            &["ConfirmFormat"],
            x,
            seal_raw(
                x,
                CODE,
                &raw::map(&[
                    (raw::key(1), raw::wide_head(0, 1, 1)),
                    (raw::key(2), raw::bstr(&digest)),
                ]),
                "wide",
            )?,
            Some("cbor.noncanonical.integer"),
        ),
    ];
    let other_file = seed32("backup/confirm/digest/other");
    let files: Vec<FileRow<'_>> = vec![
        (
            "confirm-file-matches",
            "the file received has the confirmed digest",
            &["Confirm"],
            x,
            honest.clone(),
            Some(digest),
            None,
        ),
        (
            "confirm-file-other",
            "a file other than the confirmed one (XBK-34)",
            &["ConfirmForged"],
            x,
            honest.clone(),
            Some(other_file),
            Some("backup.transfer_digest"),
        ),
    ];
    let rows = rows.into_iter().map(|(a, b, c, d, e, f)| (a, b, c, d, e, None, f));
    for (slug, comment, flags, suite, message, file, class) in rows.chain(files) {
        let (seed, k) = key(suite);
        let got = open_confirmation(&k, CODE, &message).and_then(|(d, sas)| {
            file.map_or(Ok(()), |f| check_file_digest(&d, &f)).map(|()| (d, sas))
        });
        let opened = crate::families::expect(&format!("confirm {slug}"), got, class)?;
        let (digest, sas) = match opened {
            Some((d, s)) => (Some(d.to_vec()), Some(s.to_string())),
            None => (None, None),
        };
        let head = ids.head(slug, comment, flags, class);
        let file = file.map(|f| f.to_vec());
        tests.push(ConfirmOpenTest::new(
            head,
            suite.id(),
            seed.to_vec(),
            CODE.to_vec(),
            message,
            file,
            digest,
            sas,
        ));
    }
    Ok(tests)
}
