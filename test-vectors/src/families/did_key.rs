//! `did_key.json`: `did:key` encoding and strict parsing (spec/03-identity.md, did:key).

use super::material as m;
use super::{FlagDef, Ids, expect, file};
use crate::format::VectorFile;
use quietwire::did_key;

crate::vector_groups! {
    /// Groups of this family.
    pub enum DidKeyGroup {
        /// Encode `key`; the result must equal `did`. Then decode `did`; it must give `key`.
        "did-key-encode" => Encode(DidTest),
        /// Decode `did`.
        "did-key-decode" => Decode(DidTest),
    }
}

crate::vector_test! {
    /// One did:key test.
    pub struct DidTest {
        /// The did string.
        did: String,
        /// The identity key (valid tests only).
        key: hex?,
    }
}

const FLAGS: &[FlagDef] = crate::flag_defs! {
    Valid: Basic ["DID-01"] "A canonical did:key of a valid Ed25519 key.";
    Syntax: Basic ["DID-02"] "Wrong scheme, multibase, base58 or length.";
    Multicodec: WrongPrimitive ["DID-02"] "A multicodec other than ed25519-pub.";
    Key: AuthBypass ["DID-02", "SUI-04"] "The decoded key fails Ed25519 key validation.";
};

/// The ed25519-pub multicodec prefix.
const ED25519_PUB: [u8; 2] = [0xed, 0x01];

fn did_of(prefix: [u8; 2], key: &[u8]) -> String {
    format!("did:key:z{}", bs58_encode(&[&prefix[..], key].concat()))
}

fn bs58_encode(bytes: &[u8]) -> String {
    // Plain big-integer base58btc (Bitcoin alphabet), written out so the vectors do not
    // depend on the implementation under test.
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    let mut digits: Vec<u8> = Vec::new();
    for byte in bytes {
        let mut carry = u32::from(*byte);
        for digit in digits.iter_mut() {
            carry += u32::from(*digit) << 8;
            *digit = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let mut out = "1".repeat(zeros);
    out.extend(
        digits.iter().rev().map(|d| char::from(*ALPHABET.get(usize::from(*d)).unwrap_or(&b'1'))),
    );
    out
}

/// Generates `did_key.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<DidKeyGroup>, String> {
    let mut ids = Ids::default();
    let mut encodes = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let key = *m::identity(&format!("did_key/{name}")).1.public();
        let did = did_of(ED25519_PUB, key.as_bytes());
        if did_key::encode(&key) != did || did_key::decode(&did).ok() != Some(key) {
            return Err(format!("did_key {name}: implementation disagrees"));
        }
        let head = ids.head(&format!("encode-{name}"), "Ed25519 identity key", &["Valid"], None);
        encodes.push(DidTest::new(head, did, Some(key.as_bytes().to_vec())));
    }

    let key = *m::identity("did_key/alice").1.public();
    let good = did_of(ED25519_PUB, key.as_bytes());
    let mut decodes = Vec::new();
    let mut case =
        |slug: &str, comment: &str, f: &[&str], did: String, class: &str| -> Result<(), String> {
            expect(&format!("did_key {slug}"), did_key::decode(&did), Some(class))?;
            let head = ids.head(slug, comment, f, Some(class));
            decodes.push(DidTest::new(head, did, None));
            Ok(())
        };
    let sx = &["Syntax"];
    let body = good.trim_start_matches("did:key:z").to_owned();
    crate::rows! { case:
        "scheme-did-web", "another DID method", sx, format!("did:web:z{body}"), "didkey.scheme";
        "scheme-uppercase", "the scheme in capitals", sx, format!("DID:KEY:z{body}"),
            "didkey.scheme";
        "scheme-missing", "the bare multibase string", sx, format!("z{body}"), "didkey.scheme";
        "leading-space", "a space before the DID", sx, format!(" {good}"), "didkey.scheme";
        "multibase-hex", "multibase 'f' (hex) instead of 'z'", sx,
            format!("did:key:f{}", hex::encode([&ED25519_PUB[..], key.as_bytes()].concat())),
            "didkey.multibase";
        "multibase-empty", "nothing after the method", sx, "did:key:".to_owned(),
            "didkey.multibase";
        "base58-zero-char", "'0' is not in the base58 alphabet", sx,
            format!("did:key:z0{}", body.get(1..).unwrap_or_default()), "didkey.base58";
        "base58-capital-o", "'O' is not in the base58 alphabet", sx,
            format!("did:key:zO{}", body.get(1..).unwrap_or_default()), "didkey.base58";
        "base58-trailing-space", "a space after the DID", sx, format!("{good} "), "didkey.base58";
        "base58-empty", "'z' and nothing after it", sx, "did:key:z".to_owned(), "didkey.base58";
        "length-33", "33 decoded bytes", sx,
            did_of(ED25519_PUB, key.as_bytes().get(..31).unwrap_or_default()), "didkey.length";
        "length-35", "35 decoded bytes", sx,
            did_of(ED25519_PUB, &[key.as_bytes().as_slice(), &[0]].concat()), "didkey.length";
        "too-long", "a 129-byte string", sx, format!("{good}{}", "1".repeat(129 - good.len())),
            "didkey.length";
        "multicodec-x25519", "the x25519-pub multicodec 0xec01", &["Multicodec"],
            did_of([0xec, 0x01], key.as_bytes()), "didkey.multicodec";
        "multicodec-secp256k1-prefix", "the secp256k1-pub multicodec prefix 0xe701 with 32 bytes",
            &["Multicodec"], did_of([0xe7, 0x01], key.as_bytes()), "didkey.multicodec";
        "key-low-order", "the neutral point", &["Key"],
            did_of(ED25519_PUB, &m::ed25519_identity_point()), "key.low_order";
        "key-noncanonical", "y >= p", &["Key"], did_of(ED25519_PUB, &m::ed25519_noncanonical()),
            "key.noncanonical";
        "key-not-on-curve", "y = 2", &["Key"], did_of(ED25519_PUB, &m::ed25519_not_on_curve()),
            "key.invalid";
    }

    Ok(file(
        "did_key",
        &[
            "did:key for Ed25519 identity keys (spec/03-identity.md).",
            "did-key-encode: encode `key` to exactly `did` and decode `did` back to `key`.",
            "did-key-decode: decoding `did` must fail with `errorClass`.",
        ],
        FLAGS,
        crate::groups! { DidKeyGroup:
            Encode("Encoding identity keys.", encodes);
            Decode("Rejecting malformed DIDs.", decodes);
        },
    ))
}
