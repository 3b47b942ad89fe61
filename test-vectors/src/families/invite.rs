//! `invite.json`: creating and verifying signed invites
//! (spec/04-contact-establishment.md).

use super::material::cases::{Cases, Named};
use super::material::signed::{
    Body, STRICT_GROUP, Verifier, add_key_order_cases, add_strict_cases, pair,
};
use super::material::{self as m, signed};
use super::{FlagDef, Ids, expect, file};
use crate::format::VectorFile;
use crate::raw;
use crate::seeds::{ReplayRng, seed16, seed32};
use quietwire::UnixTime;
use quietwire::invite::{Invite, InviteParams, SignedInvite};
use quietwire::keys::IdentityKeyPair;
use quietwire::label::Label;
use quietwire::suite::{Suite, SuitePolicy};

crate::vector_groups! {
    /// Groups of this family.
    pub enum InviteGroup {
        /// Create an invite from explicit secrets and parameters; it must equal `invite`.
        "invite-create" => Create(CreateTest),
        /// Verify `invite` at time `now` accepting `allowedSuites`.
        "invite-verify" => Verify(VerifyTest) {
            /// Suite ids the verifier accepts.
            allowed_suites: Vec<u64>,
        },
    }
}

crate::vector_test! {
    /// Creating an invite.
    pub struct CreateTest {
        /// Suite id.
        suite: u64,
        /// The inviter's Ed25519 secret seed.
        identity_seed: hex,
        /// The 16-byte invite id (first value drawn from the RNG).
        invite_id: hex,
        /// The one-time KEM seed (second).
        kem_seed: hex,
        /// The ratchet secret (third).
        ratchet_secret: hex,
        /// Relay hints.
        relay_hints: Vec<String>,
        /// Bootstrap mailbox id.
        mailbox: hex,
        /// Expiry, seconds since the epoch.
        expires: u64,
        /// Single use.
        single_use: bool,
        /// The expected signed invite.
        invite: hex,
    }
}

crate::vector_record! {
    /// Fields of a verified invite.
    pub struct InviteFields {
        /// Suite id.
        suite: u64,
        /// Inviter identity key.
        identity_key: hex,
        /// One-time KEM key.
        kem_key: hex,
        /// Signed ratchet key.
        ratchet_key: hex,
        /// Relay hints.
        relay_hints: Vec<String>,
        /// Bootstrap mailbox id.
        mailbox: hex,
        /// Expiry.
        expires: u64,
        /// Single use.
        single_use: bool,
        /// Invite id.
        invite_id: hex,
        /// Number of extension fields ignored.
        extensions: usize,
    }
}

impl InviteFields {
    /// The fields of a verified invite.
    pub fn of(invite: &Invite) -> InviteFields {
        InviteFields {
            suite: invite.suite().id(),
            identity_key: invite.identity_key().as_bytes().to_vec(),
            kem_key: invite.kem_key().as_bytes().to_vec(),
            ratchet_key: invite.ratchet_key().as_bytes().to_vec(),
            relay_hints: invite.relay_hints().to_vec(),
            mailbox: invite.mailbox().to_vec(),
            expires: invite.expires().as_secs(),
            single_use: invite.single_use(),
            invite_id: invite.invite_id().to_vec(),
            extensions: invite.extensions().len(),
        }
    }
}

crate::vector_test! {
    /// Verifying an invite.
    pub struct VerifyTest {
        /// The signed invite.
        invite: hex,
        /// The verifier's current time.
        now: u64,
        /// The fields a verifier must report (valid tests only).
        expected: ?InviteFields,
    }
}

const FLAGS: &[FlagDef] = crate::flag_defs! {
    Valid: Basic ["INV-01", "INV-03"] "A well-formed invite, signed, before its expiry.";
    ExpiryBoundary: EdgeCase ["INV-05"]
        "now one second before the expiry is accepted; now equal to it is not.";
    Expired: MissingStep ["INV-05"] "The invite's expiry is not after now.";
    Extension: Defined ["ENC-12"]
        "A negative (non-critical) key is ignored and covered by the signature.";
    Signature: AuthBypass ["INV-03", "SUI-05"] "The signature does not verify.";
    Malleability: Malleability ["SUI-05"] "S not reduced modulo L.";
    WeakKey: AuthBypass ["SUI-04", "SUI-06"] "A public key of small order.";
    NonCanonicalKey: Malleability ["SUI-04", "SUI-06"] "A public key in a non-canonical encoding.";
    InvalidKey: Basic ["SUI-04", "SUI-07"] "A public key that is not a valid key of its type.";
    Suite: Defined ["SUI-01", "SUI-02"] "An unknown suite, or one the verifier does not accept.";
    RelayHint: Basic ["INV-02"] "A relay hint outside the allowed syntax.";
    Schema: Basic ["ENC-11", "ENC-12", "ENC-13", "ENC-14"]
        "A structural fault: version, missing, unknown critical, wrongly typed or sized fields.";
    NonCanonical: Malleability ["ENC-14"]
        "A body that is not deterministic CBOR, even though signed.";
    Limits: CanOfWorms ["INV-09"] "Over the invite's size limit.";
    CheckOrder: Defined ["INV-04"]
        "Several faults at once: the spec's check order decides the class.";
};

/// The expiry of the invites (also those of `invite_encoding`).
pub(super) const EXPIRES: u64 = 1_900_000_000;
/// The verifiers' time unless a case says otherwise.
pub(super) const NOW: u64 = 1_800_000_000;

fn hints(list: &[&str]) -> Vec<u8> {
    raw::array(&list.iter().map(|h| raw::tstr(h)).collect::<Vec<_>>())
}

fn body_of(invite: &Invite) -> Body {
    Body(vec![
        (1, raw::head(0, 1)),
        (2, raw::head(0, invite.suite().id())),
        (3, raw::bstr(invite.identity_key().as_bytes())),
        (4, raw::bstr(invite.kem_key().as_bytes())),
        (5, raw::bstr(invite.ratchet_key().as_bytes())),
        (6, raw::array(&invite.relay_hints().iter().map(|h| raw::tstr(h)).collect::<Vec<_>>())),
        (7, raw::bstr(invite.mailbox())),
        (8, raw::head(0, invite.expires().as_secs())),
        (9, vec![if invite.single_use() { 0xf5 } else { 0xf4 }]),
        (10, raw::bstr(invite.invite_id())),
    ])
}

/// Creates an invite from named seeds; returns the create test's inputs and the invite.
///
/// # Errors
/// If the library refuses to create it.
pub fn create(
    slug: &str,
    suite: Suite,
    relay_hints: &[&str],
    single_use: bool,
    expires: u64,
) -> Result<(CreateTest, SignedInvite, IdentityKeyPair), String> {
    let invite_id = seed16(&format!("invite/{slug}/invite-id"));
    let [identity_seed, kem_seed, ratchet_secret, mailbox] =
        ["identity", "kem", "ratchet", "mailbox"]
            .map(|part| seed32(&format!("invite/{slug}/{part}")));
    let identity = IdentityKeyPair::from_seed(&identity_seed);
    let mut rng = ReplayRng::new(&[&invite_id, &kem_seed, &ratchet_secret]);
    let relay_hints: Vec<String> = relay_hints.iter().map(|h| (*h).to_owned()).collect();
    let params = InviteParams {
        relay_hints: relay_hints.clone(),
        mailbox,
        expires: UnixTime(expires),
        single_use,
    };
    let (invite, _secrets) = Invite::create(&identity, suite, params, &mut rng)
        .map_err(|e| format!("invite {slug}: {}", e.class()))?;
    let test = CreateTest::new(
        Ids::default().head(slug, "", &["Valid"], None),
        suite.id(),
        identity_seed.to_vec(),
        invite_id.to_vec(),
        kem_seed.to_vec(),
        ratchet_secret.to_vec(),
        relay_hints,
        mailbox.to_vec(),
        expires,
        single_use,
        if rng.finished() { invite.to_bytes() } else { Vec::new() },
    );
    Ok((test, invite, identity))
}

impl Cases<Vec<u8>> for Verifier<VerifyTest> {
    /// A test of `invite` at `NOW`.
    fn test(&mut self, n: Named<'_>, invite: Vec<u8>, class: Option<&str>) -> Result<(), String> {
        self.at(n.slug, n.comment, n.flags, invite, NOW, class)
    }
}

impl Verifier<VerifyTest> {
    /// A test of `invite` at `now`: valid (`class` `None`) ones must round-trip and list their
    /// fields.
    fn at(
        &mut self,
        slug: &str,
        comment: &str,
        f: &[&str],
        invite: Vec<u8>,
        now: u64,
        class: Option<&str>,
    ) -> Result<(), String> {
        let got = SignedInvite::from_bytes(&invite, UnixTime(now), &self.policy);
        let decoded = expect(&format!("invite {slug}"), got, class)?;
        if decoded.as_ref().is_some_and(|d| d.to_bytes() != invite) {
            return Err(format!("invite {slug}: does not round-trip"));
        }
        let expected = decoded.map(|d| InviteFields::of(d.invite()));
        let head = self.ids.head(slug, comment, f, class);
        self.tests.push(VerifyTest::new(head, invite, now, expected));
        Ok(())
    }

    fn group(&mut self, comment: &str, allowed: &[u64]) -> InviteGroup {
        let (comment, allowed_suites) = (comment.to_owned(), allowed.to_vec());
        InviteGroup::Verify { comment, allowed_suites, tests: self.take() }
    }
}

/// Generates `invite.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<InviteGroup>, String> {
    let mut ids = Ids::default();
    let mut creates = Vec::new();
    for (slug, comment, suite, hints, single_use) in crate::tuples! {
        "create-xwing-single-use", "default suite, single use", Suite::XWing,
            &["wss://relay.quietwire.invalid"][..], true;
        "create-x25519-reusable", "classical suite, reusable", Suite::X25519,
            &["wss://relay.quietwire.invalid"][..], false;
        "create-four-hints", "four relay hints", Suite::X25519,
            &["wss://a.invalid", "wss://b.invalid:8443/path", "ws://127.0.0.1:7000",
                "wss://[::1]:9000"][..],
            true;
    } {
        let (test, invite, identity) = create(slug, suite, hints, single_use, EXPIRES)?;
        if test.invite.is_empty() {
            return Err(format!("invite {slug}: the RNG was not drawn exactly as specified"));
        }
        if signed(&body_of(invite.invite()).encode(), &identity, Label::Invite) != test.invite {
            return Err(format!("invite {slug}: library encoding differs from the spec's"));
        }
        creates.push(test.with_head(ids.head(slug, comment, &["Valid"], None)));
    }
    let creates = InviteGroup::Create {
        comment: "Invites from explicit randomness: the RNG yields inviteId, then kemSeed, then ratchetSecret.".to_owned(),
        tests: creates,
    };

    let hint = ["wss://relay.quietwire.invalid"];
    let (_, xwing, alice) = create("verify/xwing", Suite::XWing, &hint, true, EXPIRES)?;
    let (_, classical, alice_x) = create("verify/x25519", Suite::X25519, &hint, false, EXPIRES)?;
    let (_, mallory) = m::identity("invite/mallory");
    let xw = || body_of(xwing.invite());
    let cl = || body_of(classical.invite());
    let sign = |b: &Body| signed(&b.encode(), &alice_x, Label::Invite);
    let sign_raw = |b: &[u8]| signed(b, &alice_x, Label::Invite);
    // The classical invite with field `field` set to the byte string `bytes`, or to `hints`.
    let with = |field, bytes: &[u8]| sign(&cl().bytes(field, bytes));
    let with_hints = |list: &[&str]| sign(&cl().set(6, hints(list)));

    let mut b = Verifier::new(ids);
    let (good, valid) = (classical.to_bytes(), &["Valid"]);
    crate::rows! { b.at:
        "valid-xwing", "default suite", valid, xwing.to_bytes(), NOW, None;
        "valid-x25519", "classical suite", valid, good.clone(), NOW, None;
        "valid-one-second-left", "now = expires - 1", &["Valid", "ExpiryBoundary"], good.clone(),
            EXPIRES - 1, None;
        "valid-now-zero", "now = 0", valid, good.clone(), 0, None;
    }
    let long_hint = format!("wss://{}", "a".repeat(250));
    crate::rows! { b.valid:
        "valid-extension", "an extension field -1", &["Valid", "Extension"],
            sign(&cl().set(-1, raw::tstr("note")));
        "valid-ws-loopback-hint", "a ws:// hint", valid, with_hints(&["ws://127.0.0.1:7000"]);
        "valid-max-hints", "four hints", valid,
            with_hints(&["wss://a", "wss://b", "wss://c", "wss://d"]);
        "valid-hint-256-bytes", "a 256-byte hint", &["Valid", "RelayHint"],
            with_hints(&[&long_hint]);
    }
    crate::rows! { b.at:
        "valid-expires-max", "expiry 2^64-1", valid, sign(&cl().uint(8, u64::MAX)), u64::MAX - 1,
            None;
        "expired-at-boundary", "now = expires", &["Expired", "ExpiryBoundary"], good.clone(),
            EXPIRES, Some("invite.expired");
        "expired-long-ago", "now far past the expiry", &["Expired"], good.clone(), u64::MAX,
            Some("invite.expired");
        "expired-zero", "expiry 0", &["Expired"], sign(&cl().uint(8, 0)), 0,
            Some("invite.expired");
    }

    let sig = &["Signature"];
    let flipped = m::xor_last(good.clone(), 0x80);
    let body = cl().encode();
    let alice_sig = alice_x.sign(Label::Invite, &body);
    let reusable = xw().set(9, vec![0xf4]).encode();
    let (weak, nck, inv) = (&["WeakKey"], &["NonCanonicalKey"], &["InvalidKey"]);
    let mut one = [0u8; 32];
    one[0] = 1;
    let xwing_kem = |key: Vec<u8>| sign(&cl().uint(2, 1).bytes(4, &key));
    crate::rows! { b.invalid:
        "signature-bit-flipped", "one bit of the signature flipped", sig, flipped,
            "identity.signature";
        "signature-wrong-label", "signed with the device-record label", sig,
            signed(&body, &alice_x, Label::DeviceRecord), "identity.signature";
        "signature-other-identity", "signed by another identity", sig,
            signed(&body, &mallory, Label::Invite), "identity.signature";
        "signature-s-not-reduced", "S + L instead of S", &["Signature", "Malleability"],
            pair(&body, &m::malleate_s(&alice_sig)), "identity.signature";
        "expiry-extended-after-signing", "expiry raised after signing", sig,
            pair(&cl().uint(8, EXPIRES + 1).encode(), &alice_sig), "identity.signature";
        "single-use-cleared-after-signing", "reusable flag flipped after signing", sig,
            pair(&reusable, &alice.sign(Label::Invite, &xw().encode())), "identity.signature";
        "identity-key-low-order", "the neutral point", weak, with(3, &m::ed25519_identity_point()),
            "key.low_order";
        "identity-key-noncanonical", "y >= p", nck, with(3, &m::ed25519_noncanonical()),
            "key.noncanonical";
        "identity-key-not-on-curve", "y = 2", inv, with(3, &m::ed25519_not_on_curve()),
            "key.invalid";
        "kem-key-x25519-order-8", "a classical one-time key of order 8", weak,
            with(4, &m::x25519_order_8()), "key.low_order";
        "kem-key-x25519-p", "a classical one-time key u = p", nck, with(4, &m::x25519_p()),
            "key.noncanonical";
        "kem-key-xwing-mlkem-invalid", "ML-KEM coefficient >= q", inv,
            xwing_kem(m::xwing_bad_mlkem("invite/verify/xwing/kem")), "key.invalid";
        "kem-key-xwing-x25519-zero", "X-Wing key with X25519 part u = 0", weak,
            xwing_kem(m::xwing_low_order_x25519("invite/verify/xwing/kem")), "key.low_order";
        "kem-key-length-for-suite", "a 32-byte KEM key in a default-suite invite", &["Schema"],
            sign(&cl().uint(2, 1)), "schema.length";
        "ratchet-key-zero", "ratchet key u = 0", weak, with(5, &m::x25519_zero()), "key.low_order";
        "ratchet-key-one", "ratchet key u = 1", weak, with(5, &one), "key.low_order";
        "ratchet-key-high-bit", "top bit set", nck, with(5, &m::x25519_high_bit()),
            "key.noncanonical";
        "suite-unknown", "suite 3", &["Suite"], sign(&cl().uint(2, 3)), "suite.unknown";
        "suite-huge", "suite 2^64-1", &["Suite"], sign(&cl().uint(2, u64::MAX)), "suite.unknown";
    }

    let (rh, bad_hint) = (&["RelayHint"], "invite.relay_hint");
    let too_long = format!("wss://{}", "a".repeat(251));
    crate::rows! { b.invalid:
        "hint-https", "an https:// hint", rh, with_hints(&["https://relay.invalid"]), bad_hint;
        "hint-scheme-only", "wss:// and nothing else", rh, with_hints(&["wss://"]), bad_hint;
        "hint-space", "a space inside", rh, with_hints(&["wss://relay .invalid"]), bad_hint;
        "hint-newline", "a newline at the end", rh, with_hints(&["wss://relay.invalid\n"]),
            bad_hint;
        "hint-uppercase-scheme", "WSS:// (schemes are matched exactly)", rh,
            with_hints(&["WSS://relay.invalid"]), bad_hint;
        "hint-empty", "an empty hint", rh, with_hints(&[""]), bad_hint;
        "hint-257-bytes", "a 257-byte hint", rh, with_hints(&[&too_long]), bad_hint;
        "hint-second-bad", "a good hint followed by a bad one", rh,
            with_hints(&["wss://a", "ftp://b"]), bad_hint;
    }

    let s = &["Schema"];
    crate::rows! { b.invalid:
        "hints-none", "an empty hint list", s, with_hints(&[]), "schema.length";
        "hints-five", "five hints", s,
            with_hints(&["wss://a", "wss://b", "wss://c", "wss://d", "wss://e"]), "schema.length";
        "hints-not-text", "a hint as a byte string", s,
            sign(&cl().set(6, raw::array(&[raw::bstr(b"wss://a")]))), "schema.wrong_type";
        "hints-not-array", "hints as a single string", s, sign(&cl().set(6, raw::tstr("wss://a"))),
            "schema.wrong_type";
        "version-2", "version 2", s, sign(&cl().uint(1, 2)), "schema.version";
        "version-missing", "no version", s, sign(&cl().remove(1)), "schema.missing_field";
        "unknown-critical-key", "an unknown key 11", s, sign(&cl().uint(11, 1)),
            "schema.unknown_critical";
        "mailbox-missing", "no mailbox", s, sign(&cl().remove(7)), "schema.missing_field";
        "mailbox-short", "a 31-byte mailbox", s, with(7, &[7u8; 31]), "schema.length";
        "invite-id-long", "a 17-byte invite id", s, with(10, &[7u8; 17]), "schema.length";
        "single-use-int", "single_use as 1", s, sign(&cl().uint(9, 1)), "schema.wrong_type";
        "expires-negative", "expiry -1", s, sign(&cl().set(8, raw::key(-1))), "schema.wrong_type";
        "expires-missing", "no expiry", s, sign(&cl().remove(8)), "schema.missing_field";
        "identity-key-short", "a 31-byte identity key", s, with(3, &[1u8; 31]), "schema.length";
        "outer-not-array", "a byte string instead of [body, signature]", s, raw::bstr(&body),
            "schema.wrong_type";
        "outer-one-item", "an array of one", s, raw::array(&[raw::bstr(&body)]), "schema.length";
    }

    let nc = &["NonCanonical"];
    let entries = cl().entries_with(8, raw::wide_head(0, EXPIRES, 8));
    let mut reordered = entries.clone();
    if let Some(pos) = reordered.iter().position(|(k, _)| *k == raw::key(8)) {
        let entry = reordered.remove(pos);
        reordered.push(entry);
    }
    let co = &["CheckOrder"];
    crate::rows! { b.invalid:
        "body-nonminimal-expiry", "the expiry with an eight-byte argument, correctly signed", nc,
            sign_raw(&raw::map(&entries)), "cbor.noncanonical.integer";
        "body-unsorted-keys", "key 8 moved after key 10, correctly signed", nc,
            sign_raw(&raw::map(&reordered)), "cbor.noncanonical.key_order";
        "outer-trailing-byte", "a byte after the invite", nc, [good.clone(), vec![0]].concat(),
            "cbor.trailing";
        "oversized", "an invite over 4096 bytes", &["Limits"], sign(&xw().bytes(-1, &[0u8; 3000])),
            "cbor.limit.input";
    }
    crate::rows! { b.at:
        "order-signature-before-expiry", "expired and badly signed: the signature is checked first",
            co, signed(&body, &mallory, Label::Invite), EXPIRES, Some("identity.signature");
    }
    crate::rows! { b.invalid:
        "order-hint-before-signature", "a bad hint and a bad signature: hints are checked first",
            co, signed(&cl().set(6, hints(&["ftp://x"])).encode(), &mallory, Label::Invite),
            bad_hint;
        "order-keys-before-hints", "a low-order ratchet key and a bad hint", co,
            sign(&cl().bytes(5, &m::x25519_zero()).set(6, hints(&["ftp://x"]))), "key.low_order";
        "order-schema-before-suite", "an unknown suite and a missing mailbox", co,
            sign(&cl().uint(2, 7).remove(7)), "schema.missing_field";
    }
    let all = b.group("Verifier accepting every registered suite.", &[1, 2]);

    b.policy = SuitePolicy::only(&[Suite::XWing]);
    crate::rows! { b.at:
        "policy-xwing-only-accepts-xwing", "default suite under a default-only policy", valid,
            xwing.to_bytes(), NOW, None;
        "policy-xwing-only-refuses-x25519", "classical suite under a default-only policy",
            &["Suite"], good, NOW, Some("suite.disallowed");
    }
    let strict = b.group("Verifier accepting only the default suite.", &[1]);

    // Added later: their ids follow the groups above so earlier ids stay stable.
    b.policy = SuitePolicy::ALL;
    crate::rows! { b.invalid:
        "hint-no-break-space", "U+00A0 NO-BREAK SPACE is Unicode White_Space", rh,
            with_hints(&["wss://relay\u{a0}.invalid"]), bad_hint;
        "hint-next-line", "U+0085 NEXT LINE is a C1 control character", rh,
            with_hints(&["wss://relay\u{85}.invalid"]), bad_hint;
        "hint-ideographic-space", "U+3000 IDEOGRAPHIC SPACE is Unicode White_Space", rh,
            with_hints(&["wss://relay\u{3000}.invalid"]), bad_hint;
    }
    crate::rows! { b.valid:
        "hint-non-ascii-letter", "a non-ASCII letter is allowed", &["Valid", "RelayHint"],
            with_hints(&["wss://relé.invalid"]);
    }
    let unicode = b.group("Relay hints beyond ASCII; every registered suite.", &[1, 2]);

    let alice_x_seed = seed32("invite/verify/x25519/identity");
    let with_key = |key: &[u8; 32]| cl().bytes(3, key).encode();
    add_strict_cases(
        &mut b,
        &alice_x_seed,
        &body,
        Label::Invite,
        &with_key,
        "invite/verify/x25519",
    )?;
    let sui05 = b.group(STRICT_GROUP, &[1, 2]);
    let off_curve = "an identity key off the curve and an X-Wing key with an invalid ML-KEM part and a low-order X25519 part";
    add_key_order_cases(
        &mut b,
        ([11, 12, 13], "invite/verify/xwing/kem", off_curve),
        &xw,
        &cl,
        &sign,
    )?;
    let key_order = b.group(
        "The order of the key checks (INV-04 steps 11 to 13); every registered suite.",
        &[1, 2],
    );

    Ok(file(
        "invite",
        &[
            "Signed invites (spec/04-contact-establishment.md).",
            "invite-create: the RNG yields inviteId (16 bytes), kemSeed (32), ratchetSecret (32) in that order; the output must equal `invite`.",
            "invite-verify: verify `invite` at `now` with the group's allowed suites; valid tests list the fields.",
        ],
        FLAGS,
        vec![creates, all, strict, unicode, sui05, key_order],
    ))
}
