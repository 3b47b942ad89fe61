//! `envelope.json`: buckets, padding and envelope decoding (spec/07-envelope.md).

use super::material::signed::Body;
use super::{FlagDef, Ids, expect, file, sha256};
use crate::format::VectorFile;
use crate::raw;
use crate::seeds::seed32;
use quietwire::envelope::{self, Envelope};

crate::vector_groups! {
    /// Groups of this family.
    pub enum EnvelopeGroup {
        /// The bucket a blob of `length` bytes is padded to.
        "envelope-bucket" => Bucket(BucketTest),
        /// Pad `content` for an encryption adding `overhead` bytes; then unpad it.
        "envelope-pad" => Pad(PadTest),
        /// Remove the padding of authenticated content.
        "envelope-unpad" => Unpad(PadTest),
        /// Decode an envelope.
        "envelope-decode" => Decode(DecodeTest),
        /// Receive an envelope fetched from `mailbox`: decode it and check its mailbox.
        "envelope-receive" => Receive(DecodeTest),
    }
}

crate::vector_test! {
    /// A bucket computation.
    pub struct BucketTest {
        /// The unpadded blob length (overhead, content and the padding's first byte).
        length: u64,
        /// The bucket (valid tests only).
        bucket: ?u64,
    }
}

crate::vector_test! {
    /// A padding test: `padded` is `content` padded for `overhead` (pad), or the input whose
    /// padding is removed (unpad).
    pub struct PadTest {
        /// Bytes the encryption adds (pad only).
        overhead: ?u64,
        /// The content (valid tests only).
        content: hex?,
        /// The padded content.
        padded: hex,
    }
}

crate::vector_test! {
    /// An envelope decoding test.
    pub struct DecodeTest {
        /// The envelope bytes.
        envelope: hex,
        /// The mailbox id (valid tests only).
        mailbox: hex?,
        /// SHA-256 of the blob (valid tests only).
        blob_digest: hex?,
    }
}

const FLAGS: &[FlagDef] = crate::flag_defs! {
    Bucket: Defined ["ENV-02"] "The minimum bucket, Padmé above it, and the largest blob.";
    Padding: Defined ["ENV-03"]
        "Padding inside the encryption: content, 0x80, zeros; strict removal.";
    Envelope: Basic ["ENV-01"] "The envelope map: version, mailbox, blob; nothing else.";
    Misrouted: MissingStep ["ENV-06"] "An envelope fetched from one mailbox that names another.";
    NotABucket: Confidentiality ["ENV-01", "ENV-02"]
        "A blob whose length is not a bucket would leak its exact size.";
};

/// A blob of `len` bytes from the named seeds.
fn blob(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            seed32(&format!("envelope/blob/{}", i / 32)).get(i % 32).copied().unwrap_or_default()
        })
        .collect()
}

/// The mailbox id of the envelopes.
fn mailbox() -> [u8; 32] {
    seed32("envelope/mailbox")
}

/// An invalid `envelope-decode` test of `bytes`, checked against the library.
fn refused(
    ids: &mut Ids,
    slug: &str,
    comment: &str,
    f: &[&str],
    bytes: Vec<u8>,
    class: &str,
) -> Result<DecodeTest, String> {
    expect(&format!("envelope {slug}"), Envelope::from_bytes(&bytes), Some(class))?;
    Ok(DecodeTest::new(ids.head(slug, comment, f, Some(class)), bytes, None, None))
}

fn bucket_tests(ids: &mut Ids) -> Vec<BucketTest> {
    let cases = crate::tuples! {
        0u64, "empty"; 1, "one byte"; 511, "just under the minimum"; 512, "the minimum bucket";
        513, "just over the minimum: Padmé"; 544, "a Padmé size"; 545, "just over a Padmé size";
        1000, "under a power of two"; 1025, "just over a power of two";
        5489, "the largest handshake of the default suite"; 40_000, "a large message";
        65_536, "the largest blob"; 65_537, "one byte over the largest blob";
    };
    cases
        .into_iter()
        .map(|(length, comment)| {
            let bucket = envelope::bucket(length as usize).map(|b| b as u64);
            let class = bucket.is_none().then_some("envelope.too_large");
            let head = ids.head(&format!("bucket-{length}"), comment, &["Bucket"], class);
            BucketTest::new(head, length, bucket)
        })
        .collect()
}

fn pad_tests(ids: &mut Ids) -> Result<Vec<PadTest>, String> {
    let mut tests = Vec::new();
    for (slug, comment, content, overhead) in [
        ("empty-ratchet", "empty content of a ratchet message", Vec::new(), 96u64),
        ("text-ratchet", "a short text", b"hello".to_vec(), 96),
        ("fills-minimum", "content that fills the minimum bucket exactly", vec![0x61; 415], 96),
        ("one-over-minimum", "one byte more: the next bucket", vec![0x61; 416], 96),
        ("trailing-zeros", "content ending in zeros and 0x80", vec![1, 0x80, 0, 0], 96),
        ("x25519-handshake", "a classical handshake payload", vec![0xa4; 300], 48),
        ("xwing-handshake", "a hybrid handshake payload", vec![0xa4; 1600], 1136),
    ] {
        let padded = envelope::pad(&content, overhead as usize).map_err(|e| e.to_string())?;
        if envelope::unpad(&padded).map_err(|e| e.to_string())? != content.as_slice() {
            return Err(format!("envelope {slug}: pad does not round trip"));
        }
        let head = ids.head(slug, comment, &["Padding"], None);
        tests.push(PadTest::new(head, Some(overhead), Some(content), padded));
    }
    Ok(tests)
}

/// slug, comment, padded bytes, expected content (`None`: refused).
type UnpadCase = (&'static str, &'static str, Vec<u8>, Option<&'static [u8]>);

fn unpad_tests(ids: &mut Ids) -> Result<Vec<PadTest>, String> {
    let mut tests = Vec::new();
    let cases: [UnpadCase; 7] = [
        ("only-start", "nothing but the start byte", vec![0x80], Some(b"")),
        ("start-and-zeros", "content, start byte, zeros", vec![7, 0x80, 0, 0], Some(&[7])),
        ("empty", "no bytes at all", Vec::new(), None),
        ("all-zeros", "zeros without a start byte", vec![0; 16], None),
        ("no-start", "content ending in a non-zero byte other than 0x80", vec![1, 2, 3], None),
        ("start-then-data", "0x80 followed by a non-zero byte", vec![0x80, 1], None),
        ("wrong-start", "0x81 instead of 0x80", vec![0x81, 0], None),
    ];
    for (slug, comment, padded, content) in cases {
        let class = content.is_none().then_some("envelope.padding");
        let got = expect(&format!("envelope unpad {slug}"), envelope::unpad(&padded), class)?;
        if got != content {
            return Err(format!("envelope unpad {slug}: got {got:?}"));
        }
        let head = ids.head(&format!("unpad-{slug}"), comment, &["Padding"], class);
        tests.push(PadTest::new(head, None, content.map(<[u8]>::to_vec), padded));
    }
    Ok(tests)
}

fn decode_tests(ids: &mut Ids) -> Result<Vec<DecodeTest>, String> {
    let mailbox = mailbox();
    let mut tests = Vec::new();
    for len in [512usize, 544, 5632] {
        let env = Envelope::new(mailbox, blob(len)).map_err(|e| e.to_string())?;
        let bytes = env.to_bytes();
        if Envelope::from_bytes(&bytes).ok().as_ref() != Some(&env) {
            return Err("envelope: decode differs".to_owned());
        }
        let head =
            ids.head(&format!("valid-{len}"), &format!("a {len}-byte blob"), &["Envelope"], None);
        tests.push(DecodeTest::new(head, bytes, Some(mailbox.to_vec()), Some(sha256(&blob(len)))));
    }
    // The map of the valid envelope, to alter field by field (keys stay in canonical order).
    let env =
        || Body(vec![(1, raw::head(0, 1)), (2, raw::bstr(&mailbox)), (3, raw::bstr(&blob(512)))]);
    for (len, comment) in [
        (511usize, "one byte under the minimum"),
        (513, "one byte over the minimum"),
        (0, "an empty blob"),
    ] {
        let (slug, bytes) = (format!("blob-{len}"), env().bytes(3, &blob(len)).encode());
        tests.push(refused(ids, &slug, comment, &["NotABucket"], bytes, "envelope.bucket")?);
    }
    for (slug, comment, bytes, class) in crate::tuples! {
        "version-2", "an unknown version", env().uint(1, 2).encode(), "schema.version";
        "mailbox-31", "a 31-byte mailbox id",
            env().bytes(2, mailbox.get(..31).unwrap_or_default()).encode(), "schema.length";
        "no-mailbox", "no mailbox id", env().remove(2).encode(), "schema.missing_field";
        "key-4", "an unknown key", env().uint(4, 0).encode(), "schema.unknown_critical";
        "extension", "a negative key: envelopes are closed, a relay reads no extension",
            env().uint(-1, 0).encode(), "schema.unknown_critical";
        "trailing", "a byte after the map", [env().encode(), vec![0]].concat(), "cbor.trailing";
        "blob-over-limit", "a blob over 65536 bytes", env().bytes(3, &blob(65_537)).encode(),
            "cbor.limit.size";
    } {
        tests.push(refused(ids, slug, comment, &["Envelope"], bytes, class)?);
    }
    Ok(tests)
}

fn receive_tests(ids: &mut Ids) -> Result<Vec<DecodeTest>, String> {
    let own = mailbox();
    let other = seed32("envelope/other-mailbox");
    let blob = blob(512);
    let mut tests = Vec::new();
    for (slug, comment, addressed, class) in crate::tuples! {
        "own-mailbox", "addressed to the mailbox it was fetched from", own, None;
        "other-mailbox", "addressed to another mailbox: misrouted", other, Some("envelope.mailbox");
    } {
        let bytes = Envelope::new(addressed, blob.clone()).map_err(|e| e.to_string())?.to_bytes();
        expect(&format!("envelope {slug}"), Envelope::receive(&bytes, &own), class)?;
        let head = ids.head(&format!("receive-{slug}"), comment, &["Misrouted"], class);
        let digest = class.is_none().then(|| sha256(&blob));
        tests.push(DecodeTest::new(head, bytes, Some(own.to_vec()), digest));
    }
    Ok(tests)
}

/// Generates `envelope.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<EnvelopeGroup>, String> {
    let mut ids = Ids::default();
    Ok(file(
        "envelope",
        &[
            "Envelopes and padding (spec/07-envelope.md).",
            "envelope-bucket: the bucket of an unpadded blob of `length` bytes, or envelope.too_large.",
            "envelope-pad: pad `content` for an encryption adding `overhead` bytes; the result must equal `padded`, and unpadding it must give `content` back.",
            "envelope-unpad: remove the padding of `padded`: `content`, or envelope.padding.",
            "envelope-decode: decode `envelope`; valid tests give `mailbox` and the SHA-256 of the blob.",
            "envelope-receive: receive `envelope` as fetched from `mailbox`; valid tests give the SHA-256 of the blob, a misrouted one fails with envelope.mailbox.",
        ],
        FLAGS,
        crate::groups! { EnvelopeGroup:
            Bucket("Bucket sizes.", bucket_tests(&mut ids));
            Pad("Padding.", pad_tests(&mut ids)?);
            Unpad("Removing padding.", unpad_tests(&mut ids)?);
            Decode("Envelope decoding.", decode_tests(&mut ids)?);
            Receive(
                "Receiving: the envelope must name the mailbox it was fetched from.",
                receive_tests(&mut ids)?);
            Decode(
                "Envelope decoding, added later: the blob's type, the depth limit and the input limit.",
                later_decode_tests(&mut ids)?);
        },
    ))
}

/// Decoding tests added after the first release (their ids follow every other test).
fn later_decode_tests(ids: &mut Ids) -> Result<Vec<DecodeTest>, String> {
    let mailbox = mailbox();
    let envelope = |mailbox_item: Vec<u8>, blob_item: Vec<u8>| {
        raw::map(&[
            (raw::key(1), raw::head(0, 1)),
            (raw::key(2), mailbox_item),
            (raw::key(3), blob_item),
        ])
    };
    let largest = blob(65_536);
    let bytes = envelope(raw::bstr(&mailbox), raw::bstr(&largest));
    match Envelope::from_bytes(&bytes) {
        Ok(env) if env.to_bytes() == bytes => {}
        other => return Err(format!("envelope valid-65536: {other:?}")),
    }
    let comment = format!("the largest bucket: a 65536-byte blob, {} bytes in all", bytes.len());
    let head = ids.head("valid-65536", &comment, &["Envelope"], None);
    let digest = Some(sha256(&largest));
    let mut tests = vec![DecodeTest::new(head, bytes.clone(), Some(mailbox.to_vec()), digest)];
    let padded_to = |total: usize| {
        let mut b = bytes.clone();
        b.resize(total, 0);
        b
    };
    let text_blob = [raw::head(3, 512), "a".repeat(512).into_bytes()].concat();
    let with_blob = |blob_item| envelope(raw::bstr(&mailbox), blob_item);
    for (slug, comment, bytes, class) in crate::tuples! { vec:
        "blob-text", "the blob as a 512-byte text string", with_blob(text_blob),
            "schema.wrong_type";
        "blob-uint", "the blob as an unsigned integer", with_blob(raw::head(0, 512)),
            "schema.wrong_type";
        "blob-in-array", "the blob inside an array: nesting depth 2 (max_depth = 1)",
            with_blob(raw::array(&[raw::bstr(&blob(512))])), "cbor.limit.depth";
        "mailbox-in-map", "the mailbox id as a map: nesting depth 2",
            envelope(raw::map(&[(raw::key(1), raw::bstr(&mailbox))]), raw::bstr(&blob(512))),
            "cbor.limit.depth";
        "input-65600-trailing",
            "the largest envelope followed by zero bytes up to exactly 65600 bytes: within the input limit, refused as trailing bytes",
            padded_to(65_600),
            "cbor.trailing";
        "input-65601",
            "the largest envelope followed by zero bytes up to 65601 bytes: over max_input, refused before decoding",
            padded_to(65_601),
            "cbor.limit.input";
    } {
        tests.push(refused(ids, slug, comment, &["Envelope"], bytes, class)?);
    }
    Ok(tests)
}
