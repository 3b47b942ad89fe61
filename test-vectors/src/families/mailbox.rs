//! `mailbox.json`: mailbox ids and proofs of control (spec/08-mailboxes-and-relay.md).

use super::material::cases::{Cases, Named};
use super::material::signed::Body;
use super::material::{self as m, VECTOR_ORIGIN};
use super::{FlagDef, Ids, expect, file};
use crate::format::{Head, VectorFile};
use crate::raw;
use crate::seeds::seed32;
use quietwire::label::Label;
use quietwire::mailbox::{self, MailboxKey, Operation, RelayOrigin};

crate::vector_groups! {
    /// Groups of this family.
    pub enum MailboxGroup {
        /// From `seed`, derive `publicKey` and `mailbox`, prove `operation` for `challenge`;
        /// the proof must equal `proof` and verify.
        "mailbox-prove" => Prove(MailboxTest),
        /// Verify `proof` for `mailbox`, `challenge` and `operation`.
        "mailbox-verify" => Verify(MailboxTest),
        /// The relay origin of `url` (MBX-05).
        "mailbox-origin" => Origin(OriginTest),
    }
}

crate::vector_test! {
    /// One relay-origin test (MBX-05).
    pub struct OriginTest {
        /// The relay URL a client dials.
        url: String,
        /// Its canonical origin (valid tests only).
        origin: ?String,
    }
}

crate::vector_test! {
    /// One mailbox test.
    pub struct MailboxTest {
        /// The mailbox key's seed (prove only).
        seed: hex?,
        /// The mailbox key's public key (prove only).
        public_key: hex?,
        /// The mailbox id.
        mailbox: hex,
        /// The relay's challenge.
        challenge: hex,
        /// The relay origin (MBX-05): the one the prover dialled and signs (prove), or the
        /// verifier's own (verify).
        origin: String,
        /// The operation code: 1 fetch, 2 delete, 3 subscribe.
        operation: u64,
        /// The proof.
        proof: hex,
    }
}

const FLAGS: &[FlagDef] = crate::flag_defs! {
    Valid: Basic ["MBX-01", "MBX-02"] "A mailbox id and a proof of control made as specified.";
    Binding: AuthBypass ["MBX-02", "MBX-03", "MBX-05"]
        "A proof for another challenge, operation, mailbox or relay origin must not verify.";
    Malleability: Malleability ["MBX-03", "SUI-05"] "S not reduced modulo L.";
    Key: AuthBypass ["MBX-03", "SUI-04"] "The proof's public key fails Ed25519 key validation.";
    Structure: Basic ["MBX-02", "MBX-03"] "A proof outside its schema.";
    Origin: Basic ["MBX-05"] "The canonical origin of a relay URL, or its refusal.";
};

/// The fields of a version-1 proof: public key, signature and this relay's origin.
fn proof_fields(public: &[u8], sig: &[u8]) -> Body {
    let origin = raw::tstr(VECTOR_ORIGIN);
    Body(vec![(1, raw::head(0, 1)), (2, raw::bstr(public)), (3, raw::bstr(sig)), (4, origin)])
}

/// A version-1 proof of `public` with signature `sig` for this relay's origin.
fn proof(public: &[u8], sig: &[u8]) -> Vec<u8> {
    proof_fields(public, sig).encode()
}

/// The signature of an encoded proof: it follows key 3 and its 64-byte string head
/// (`03 58 40`).
fn signature_of(proof: &[u8]) -> Result<[u8; 64], String> {
    let at = proof.windows(3).position(|w| w == [0x03, 0x58, 0x40]).ok_or("signature")? + 3;
    Ok(proof.get(at..at + 64).and_then(|s| s.try_into().ok()).ok_or("signature")?)
}

/// Builds the `mailbox-verify` tests, checking each against the library.
struct Verifier {
    ids: Ids,
    origins: [RelayOrigin; 1],
    tests: Vec<MailboxTest>,
    /// The mailbox and challenge of most cases.
    id: [u8; 32],
    challenge: [u8; 32],
}

impl Verifier {
    /// A test of `proof` for `mailbox_id`, `chal` and `op`.
    #[allow(clippy::too_many_arguments)]
    fn of(
        &mut self,
        slug: &str,
        comment: &str,
        f: &[&str],
        mailbox_id: &[u8; 32],
        chal: &[u8; 32],
        op: Operation,
        proof: Vec<u8>,
        class: Option<&str>,
    ) -> Result<(), String> {
        let got = mailbox::verify(mailbox_id, chal, &self.origins, op, &proof);
        expect(&format!("mailbox {slug}"), got, class)?;
        let head = self.ids.head(slug, comment, f, class);
        self.tests.push(test(head, None, None, mailbox_id, chal, op, proof));
        Ok(())
    }
}

impl Cases<Vec<u8>> for Verifier {
    /// A fetch proof for the usual mailbox and challenge.
    fn test(&mut self, n: Named<'_>, proof: Vec<u8>, class: Option<&str>) -> Result<(), String> {
        let (id, challenge) = (self.id, self.challenge);
        self.of(n.slug, n.comment, n.flags, &id, &challenge, Operation::Fetch, proof, class)
    }
}

/// A test at this relay's origin.
fn test(
    head: Head,
    seed: Option<Vec<u8>>,
    public_key: Option<Vec<u8>>,
    mailbox_id: &[u8; 32],
    challenge: &[u8; 32],
    op: Operation,
    proof: Vec<u8>,
) -> MailboxTest {
    let (mailbox_id, challenge) = (mailbox_id.to_vec(), challenge.to_vec());
    let (origin, op) = (VECTOR_ORIGIN.to_owned(), u64::from(op.code()));
    MailboxTest::new(head, seed, public_key, mailbox_id, challenge, origin, op, proof)
}

/// Generates `mailbox.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<MailboxGroup>, String> {
    let origin = RelayOrigin::parse(VECTOR_ORIGIN).map_err(|e| e.to_string())?;
    let origins = [origin.clone()];
    let mut ids = Ids::default();
    let mut proves = Vec::new();
    for (name, op) in [
        ("fetch", Operation::Fetch),
        ("delete", Operation::Delete),
        ("subscribe", Operation::Subscribe),
    ] {
        let seed = seed32(&format!("mailbox/{name}/seed"));
        let key = MailboxKey::from_seed(&seed);
        let challenge = seed32(&format!("mailbox/{name}/challenge"));
        let proof = key.prove(&origin, &challenge, op);
        mailbox::verify(key.id(), &challenge, &origins, op, &proof)
            .map_err(|e| format!("mailbox {name}: {e}"))?;
        let head =
            ids.head(&format!("prove-{name}"), &format!("a proof for {name}"), &["Valid"], None);
        let (seed, pk) = (Some(seed.to_vec()), Some(key.public().as_bytes().to_vec()));
        proves.push(test(head, seed, pk, key.id(), &challenge, op, proof));
    }

    let key = MailboxKey::from_seed(&seed32("mailbox/verify/seed"));
    let other = MailboxKey::from_seed(&seed32("mailbox/verify/other"));
    let challenge = seed32("mailbox/verify/challenge");
    let good = key.prove(&origin, &challenge, Operation::Fetch);
    let pk = key.public().as_bytes().to_vec();
    let (_, signer) = m::identity("mailbox/verify/seed-signer");
    let id = *key.id();
    let mut v = Verifier { ids, origins, tests: Vec::new(), id, challenge };
    crate::rows! { v.case:
        "valid", "the owner's proof", &["Valid"], good.clone(), None;
    }
    let b = &["Binding"];
    crate::rows! { v.of:
        "other-challenge", "a proof for an earlier challenge", b, &id,
            &seed32("mailbox/verify/old-challenge"), Operation::Fetch, good.clone(),
            Some("mailbox.proof");
        "other-operation-delete", "a fetch proof presented for delete", b, &id, &challenge,
            Operation::Delete, good.clone(), Some("mailbox.proof");
        "other-operation-subscribe", "a fetch proof presented for subscribe", b, &id, &challenge,
            Operation::Subscribe, good.clone(), Some("mailbox.proof");
        "other-mailbox", "a valid proof for another mailbox", b, other.id(), &challenge,
            Operation::Fetch, good.clone(), Some("mailbox.key");
    }
    let real_sig = signature_of(&good)?;
    // The honest proof with field `key` set to `value` (added if absent).
    let edited = |key, value| proof_fields(&pk, &real_sig).set(key, value).encode();
    let by_signer = signer
        .sign_labeled(Label::MailboxProof, &[&id, &challenge, &[1], VECTOR_ORIGIN.as_bytes()]);
    let s = &["Structure"];
    crate::rows! { v.case:
        // The key of the proof hashes to the mailbox, but another key signed.
        "wrong-signer", "the mailbox's key with a signature by another key", b,
            proof(&pk, &by_signer), Some("mailbox.proof");
        "malleated-s", "S + L", &["Malleability"], edited(3, raw::bstr(&m::malleate_s(&real_sig))),
            Some("mailbox.proof");
        "key-low-order", "a public key of order 8", &["Key"],
            edited(2, raw::bstr(&m::ed25519_order_8())), Some("key.low_order");
        "key-noncanonical", "a non-canonical public key encoding", &["Key"],
            edited(2, raw::bstr(&m::ed25519_noncanonical())), Some("key.noncanonical");
        "version-2", "proof version 2", s, edited(1, raw::head(0, 2)), Some("schema.version");
        "extension", "proofs are closed: a negative key is refused", s, edited(-1, raw::head(0, 0)),
            Some("schema.unknown_critical");
        "signature-63", "a 63-byte signature", s,
            edited(3, raw::bstr(real_sig.get(..63).unwrap_or_default())), Some("schema.length");
        "trailing", "a byte after the proof", s, [good.clone(), vec![0]].concat(),
            Some("cbor.trailing");
    }
    let elsewhere = RelayOrigin::parse("wss://other.example").map_err(|e| e.to_string())?;
    let forwarded = key.prove(&elsewhere, &challenge, Operation::Fetch);
    crate::rows! { v.case:
        "other-origin",
            "a proof made on a connection to another relay (a relay forwarding this relay's challenge) is refused before its key is looked at",
            b, forwarded.clone(), Some("mailbox.origin");
        "origin-swapped",
            "a proof signed for another relay whose origin field was changed to this relay's", b,
            proof(&pk, &signature_of(&forwarded)?), Some("mailbox.proof");
        "origin-default-port",
            "an origin spelled with its default port is not the canonical origin: refused as another relay's",
            b, edited(4, raw::tstr("wss://relay.example:443")), Some("mailbox.origin");
        "origin-missing", "a proof without an origin", s,
            proof_fields(&pk, &real_sig).remove(4).encode(), Some("schema.missing_field");
        "origin-bytes", "an origin as a byte string", s,
            edited(4, raw::bstr(VECTOR_ORIGIN.as_bytes())), Some("schema.wrong_type");
        "origin-256", "an origin of 256 bytes", s,
            edited(4, raw::tstr(&format!("wss://{}", "a".repeat(250)))), Some("schema.length");
    }

    for (slug, comment, f, mailbox_id, proof, class) in
        strict_ed25519_cases(&seed32("mailbox/verify/seed"), &challenge)?
    {
        crate::rows! { v.of:
            slug, comment, f, &mailbox_id, &challenge, Operation::Fetch, proof, class;
        }
    }
    let mut ids = v.ids;

    Ok(file(
        "mailbox",
        &[
            "Mailbox ids and proofs of control (spec/08-mailboxes-and-relay.md).",
            "mailbox-prove: the mailbox key of `seed` has `publicKey` and id `mailbox`; its proof for `challenge`, `operation` and relay `origin` must equal `proof` (Ed25519 signatures are deterministic) and verify.",
            "mailbox-verify: verify `proof` for `mailbox`, `challenge` and `operation` at a relay whose only origin is `origin`.",
            "mailbox-origin: the relay origin of `url` (MBX-05) must be `origin`, or the URL is refused with errorClass.",
        ],
        FLAGS,
        crate::groups! { MailboxGroup:
            Prove("Proofs of each operation.", proves);
            Verify("Verification.", v.tests);
            Origin("Relay origins of URLs (MBX-05).", origin_tests(&mut ids)?);
        },
    ))
}

/// The signature input of a proof (MBX-02).
fn proof_input(mailbox_id: &[u8; 32], challenge: &[u8; 32], op: Operation) -> Vec<u8> {
    Label::MailboxProof.input(&[mailbox_id, challenge, &[op.code()], VECTOR_ORIGIN.as_bytes()])
}

/// A strict-verification case: slug, comment, flags, mailbox, proof, class.
type StrictCase =
    (&'static str, &'static str, &'static [&'static str], [u8; 32], Vec<u8>, Option<&'static str>);

/// SUI-05 cases for a fetch proof of the mailbox key of `seed`, appended after the other
/// verification tests: small-order and non-canonical `R`, a non-canonical key for which the
/// equation holds, and a mixed-order key.
fn strict_ed25519_cases(seed: &[u8; 32], challenge: &[u8; 32]) -> Result<Vec<StrictCase>, String> {
    let op = Operation::Fetch;
    let key = MailboxKey::from_seed(seed);
    let id = *key.id();
    let pk = *key.public().as_bytes();
    let a = m::secret_scalar(seed);
    let input = proof_input(&id, challenge, op);
    let mixed = m::mixed_order_key("mailbox/verify");
    let mixed_id = mailbox::mailbox_id(
        &quietwire::keys::IdentityKey::from_bytes(&mixed.public).map_err(|e| e.to_string())?,
    );
    let mixed_input = proof_input(&mixed_id, challenge, op);
    let mut zero_sig = [0u8; 64];
    zero_sig[0] = 1;
    let mal: &'static [&'static str] = &["Malleability"];
    Ok(crate::tuples! { vec:
        "sui05-small-order-r",
            "R is the neutral point and S = k·a: the cofactorless equation holds, R has small order (SUI-05 step 3); a plain RFC 8032 verifier accepts it",
            mal, id, proof(&pk, &m::sig_small_order_r(&a, &pk, &input)), Some("mailbox.proof");
        "sui05-noncanonical-r",
            "R is the neutral point encoded as y = p + 1 and S = k·a over those bytes: equal to [S]B − [k]A as a point, not as bytes (SUI-05 step 5)",
            mal, id, proof(&pk, &m::sig_noncanonical_r(&a, &pk, &input)), Some("mailbox.proof");
        "sui05-noncanonical-a-equation-holds",
            "the key is the neutral point with the sign bit set (non-canonical) and the signature R = neutral point, S = 0 satisfies [S]B − [k]A = R: the key check refuses it first",
            &["Key"], id, proof(&m::ed25519_negative_zero(), &zero_sig), Some("key.noncanonical");
        "sui05-mixed-order-key-valid",
            "a mixed-order key A = [a]B + T (T of order 8) is not of small order; its mailbox, and a signature satisfying the cofactorless equation (k ≡ 0 mod 8)",
            &["Valid"], mixed_id, proof(&mixed.public, &mixed.sign(&mixed_input, true)), None;
        "sui05-mixed-order-key-cofactored-only",
            "the same mixed-order key with a signature for which only the cofactored equation holds (k ≢ 0 mod 8)",
            mal, mixed_id, proof(&mixed.public, &mixed.sign(&mixed_input, false)),
            Some("mailbox.proof");
    })
}

/// MBX-05: the origins a client computes from the URLs it dials.
fn origin_tests(ids: &mut Ids) -> Result<Vec<OriginTest>, String> {
    let cases = crate::tuples! {
        "origin-plain", "a wss:// URL with a path", "wss://relay.example/v1/ws",
            Some("wss://relay.example");
        "origin-case",
            "scheme and host lower-cased, the default port dropped, query and fragment ignored",
            "WSS://Relay.EXAMPLE:443/v1/ws?a=b#c", Some("wss://relay.example");
        "origin-port", "a port other than the default is kept", "wss://relay.example:8443",
            Some("wss://relay.example:8443");
        "origin-leading-zeros", "a port with leading zeros is written without them",
            "ws://127.0.0.1:07070/v1/ws", Some("ws://127.0.0.1:7070");
        "origin-ws-default-port", "ws:// drops port 80", "ws://localhost:80/",
            Some("ws://localhost");
        "origin-ipv6", "a bracketed IPv6 host", "ws://[::1]:9000/v1/ws", Some("ws://[::1]:9000");
        "origin-https", "a scheme other than ws and wss", "https://relay.example", None;
        "origin-userinfo", "user information", "wss://user@relay.example/", None;
        "origin-empty-host", "no host", "wss:///v1/ws", None;
        "origin-empty-port", "a colon without a port", "wss://relay.example:/v1/ws", None;
        "origin-port-zero", "port 0", "wss://relay.example:0", None;
        "origin-port-range", "port 65536", "wss://relay.example:65536", None;
        "origin-non-ascii", "a host that is not in its ASCII form", "wss://rélay.example", None;
        "origin-empty-label", "an empty DNS label", "wss://relay..example", None;
    };
    let mut tests = Vec::new();
    for (slug, comment, url, want) in cases {
        let class = want.is_none().then_some("mailbox.origin_format");
        let origin = expect(&format!("mailbox {slug}"), RelayOrigin::from_url(url), class)?;
        let origin = origin.map(|o| o.as_str().to_owned());
        if origin.as_deref() != want {
            return Err(format!("mailbox {slug}: expected {want:?}, got {origin:?}"));
        }
        tests.push(OriginTest::new(
            ids.head(slug, comment, &["Origin"], class),
            url.to_owned(),
            origin,
        ));
    }
    Ok(tests)
}
