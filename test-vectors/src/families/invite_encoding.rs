//! `invite_encoding.json`: invite links and QR payloads
//! (spec/04-contact-establishment.md, encodings).

use super::invite::{EXPIRES, NOW, create};
use super::{FlagDef, Ids, expect, file};
use crate::format::VectorFile;
use quietwire::UnixTime;
use quietwire::invite::{QR_MAGIC, SignedInvite};
use quietwire::suite::{Suite, SuitePolicy};

crate::vector_groups! {
    /// Groups of this family.
    pub enum EncodingGroup {
        /// Encode `invite` as a link with `base` and as a QR payload; both must match exactly.
        "invite-encode" => Encode(EncodeTest),
        /// Parse and verify `link` at `now` (all suites allowed).
        "invite-link-parse" => LinkParse(LinkTest),
        /// Parse and verify QR payload `qr` at `now` (all suites allowed).
        "invite-qr-parse" => QrParse(QrTest),
    }
}

crate::vector_test! {
    /// Encoding an invite.
    pub struct EncodeTest {
        /// The signed invite.
        invite: hex,
        /// The link base.
        base: String,
        /// The expected link.
        link: String,
        /// The expected QR payload.
        qr: hex,
    }
}

crate::vector_test! {
    /// Parsing a link.
    pub struct LinkTest {
        /// The link.
        link: String,
        /// The verifier's time.
        now: u64,
        /// The invite carried (valid tests only).
        invite: hex?,
    }
}

crate::vector_test! {
    /// Parsing a QR payload.
    pub struct QrTest {
        /// The payload.
        qr: hex,
        /// The verifier's time.
        now: u64,
        /// The invite carried (valid tests only).
        invite: hex?,
    }
}

const FLAGS: &[FlagDef] = crate::flag_defs! {
    Valid: Basic ["INV-06", "INV-07"] "A well-formed link or QR payload of a valid invite.";
    LinkShape: Basic ["INV-07", "INV-08"] "A link without the required base, fragment or prefix.";
    Base64: Malleability ["INV-08"] "A fragment that is not canonical unpadded base64url.";
    Magic: Basic ["INV-06"] "A QR payload without the QWI1 prefix.";
    Limits: CanOfWorms ["INV-08"] "A link over 8192 bytes.";
    Inner: Basic ["INV-04"] "A well-formed wrapper around an invite that fails verification.";
};

const BASE: &str = "https://quietwire.invalid/invite";

/// What a parse test reads: a link or a QR payload.
enum Input {
    Link(String),
    Qr(Vec<u8>),
}
use Input::{Link, Qr};

/// Builds the parse tests, checking each against the library (all suites allowed).
struct Parse {
    ids: Ids,
    links: Vec<LinkTest>,
    qrs: Vec<QrTest>,
}

impl Parse {
    fn parse(
        &mut self,
        slug: &str,
        comment: &str,
        f: &[&str],
        input: Input,
        now: u64,
        class: Option<&str>,
    ) -> Result<(), String> {
        let (time, policy) = (UnixTime(now), &SuitePolicy::ALL);
        let got = match &input {
            Link(text) => SignedInvite::from_link(text, time, policy),
            Qr(payload) => SignedInvite::from_qr(payload, time, policy),
        };
        let invite = expect(&format!("invite_encoding {slug}"), got, class)?.map(|i| i.to_bytes());
        let head = self.ids.head(slug, comment, f, class);
        match input {
            Link(text) => self.links.push(LinkTest::new(head, text, now, invite)),
            Qr(payload) => self.qrs.push(QrTest::new(head, payload, now, invite)),
        }
        Ok(())
    }
}

/// Generates `invite_encoding.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<EncodingGroup>, String> {
    let mut ids = Ids::default();
    let (_, classical, _) = create(
        "encoding/x25519",
        Suite::X25519,
        &["wss://relay.quietwire.invalid"],
        true,
        EXPIRES,
    )?;
    let (_, xwing, _) =
        create("encoding/xwing", Suite::XWing, &["wss://relay.quietwire.invalid"], true, EXPIRES)?;
    let mut encodes = Vec::new();
    for (slug, invite, base) in [
        ("encode-x25519-https", &classical, BASE),
        ("encode-xwing-app-scheme", &xwing, "quietwire:invite"),
    ] {
        let link =
            invite.to_link(base).map_err(|e| format!("invite_encoding {slug}: {}", e.class()))?;
        let qr = invite.to_qr();
        let b64 = link.split_once("#i1.").map(|(_, b)| b.to_owned()).unwrap_or_default();
        if link != format!("{base}#i1.{b64}") || qr.get(..4) != Some(&QR_MAGIC[..]) {
            return Err(format!("invite_encoding {slug}: unexpected shape"));
        }
        let head =
            ids.head(slug, &format!("link with base {base} and QR payload"), &["Valid"], None);
        encodes.push(EncodeTest::new(head, invite.to_bytes(), base.to_owned(), link, qr));
    }

    let good = classical.to_link(BASE).map_err(|e| format!("invite_encoding: {}", e.class()))?;
    let fragment = good.split_once('#').map(|(_, f)| f.to_owned()).unwrap_or_default();
    let mut p = Parse { ids, links: Vec::new(), qrs: Vec::new() };
    crate::rows! { p.parse:
        "link-https", "the reference base", &["Valid"], Link(good.clone()), NOW, None;
        "link-app-scheme", "the quietwire:invite base", &["Valid"],
            Link(format!("quietwire:invite#{fragment}")), NOW, None;
        "link-other-host", "any https base without query", &["Valid"],
            Link(format!("https://example.invalid/a/b#{fragment}")), NOW, None;
    }
    let (shape, bad) = (&["LinkShape"], Some("link.format"));
    crate::rows! { p.parse:
        "link-http", "plain http base", shape,
            Link(format!("http://quietwire.invalid/invite#{fragment}")), NOW, bad;
        "link-query", "a query string in the base", shape, Link(format!("{BASE}?ref=1#{fragment}")),
            NOW, bad;
        "link-no-fragment", "the invite in a query instead of the fragment", shape,
            Link(format!("{BASE}?{fragment}")), NOW, bad;
        "link-two-fragments", "two '#'", shape, Link(format!("{good}#")), NOW, bad;
        "link-prefix-i2", "an unknown fragment prefix", shape,
            Link(good.replacen("#i1.", "#i2.", 1)), NOW, bad;
        "link-empty-host", "https:// with nothing after it", shape,
            Link(format!("https://#{fragment}")), NOW, bad;
        "link-other-app-base", "quietwire:contact is not the app base", shape,
            Link(format!("quietwire:contact#{fragment}")), NOW, bad;
    }
    // The encoded invite length mod 3 decides whether the last character has unused bits;
    // append bytes until it does, then set one of them.
    let mut bytes = classical.to_bytes();
    while bytes.len() % 3 == 0 {
        bytes.push(0);
    }
    let mut trailing_bits = format!("{BASE}#i1.{}", base64_url(&bytes));
    let last = trailing_bits.pop().unwrap_or('A');
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.find(last).unwrap_or(0);
    trailing_bits.push(alphabet.chars().nth(index | 1).unwrap_or('B'));
    let (b64, inner) = (&["Base64"], &["Inner"]);
    crate::rows! { p.parse:
        "link-padding", "a padding character", b64, Link(format!("{good}=")), NOW,
            Some("link.base64");
        "link-standard-alphabet", "'+' from the standard alphabet", b64,
            Link(good.replacen("#i1.", "#i1.+", 1)), NOW, Some("link.base64");
        "link-trailing-bits", "non-zero unused bits in the last character", b64,
            Link(trailing_bits), NOW, Some("link.base64");
        "link-too-long", "over 8192 bytes", &["Limits"],
            Link(format!("{good}{}", "A".repeat(8193 - good.len()))), NOW, Some("link.length");
        "link-empty-payload", "'i1.' and nothing after it", inner, Link(format!("{BASE}#i1.")),
            NOW, Some("cbor.truncated");
        "link-expired-invite", "a well-formed link to an expired invite", inner, Link(good.clone()),
            EXPIRES, Some("invite.expired");
    }
    let links = std::mem::take(&mut p.links);

    let payload = xwing.to_qr();
    let cut = payload.get(..payload.len().saturating_sub(1)).unwrap_or_default().to_vec();
    let magic = |m: &[u8]| Qr([m, &xwing.to_bytes()].concat());
    crate::rows! { p.parse:
        "qr-xwing", "a default-suite invite", &["Valid"], Qr(payload.clone()), NOW, None;
        "qr-x25519", "a classical invite", &["Valid"], Qr(classical.to_qr()), NOW, None;
        "qr-safety-magic", "a safety-code QR prefix", &["Magic"], magic(b"QWS1"), NOW,
            Some("qr.magic");
        "qr-version-2-magic", "QWI2", &["Magic"], magic(b"QWI2"), NOW, Some("qr.magic");
        "qr-no-magic", "the bare invite", &["Magic"], magic(b""), NOW, Some("qr.magic");
        "qr-empty", "no bytes", &["Magic"], Qr(Vec::new()), NOW, Some("qr.magic");
        "qr-truncated", "the payload cut by one byte", inner, Qr(cut), NOW, Some("cbor.truncated");
        "qr-expired", "an expired invite", inner, Qr(payload), EXPIRES + 1, Some("invite.expired");
    }

    Ok(file(
        "invite_encoding",
        &[
            "Invite links and QR payloads (spec/04-contact-establishment.md).",
            "invite-encode: encoding `invite` gives exactly `link` (with `base`) and `qr`.",
            "invite-link-parse / invite-qr-parse: parse and verify at `now` with every suite allowed.",
        ],
        FLAGS,
        crate::groups! { EncodingGroup:
            Encode("Encoding invites.", encodes);
            LinkParse("Parsing links (all suites allowed).", links);
            QrParse("Parsing QR payloads (all suites allowed).", p.qrs);
        },
    ))
}

fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let index = ((n >> (18 - 6 * i)) & 0x3f) as usize;
            out.push(char::from(*ALPHABET.get(index).unwrap_or(&b'A')));
        }
    }
    out
}
