//! The two transport encodings of an invite: a QR payload and a link
//! (spec/04-contact-establishment.md, encodings).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::SignedInvite;
use crate::UnixTime;
use crate::error::{ErrorClass, Result};
use crate::suite::SuitePolicy;

/// Magic prefix of an invite QR payload.
pub const QR_MAGIC: &[u8; 4] = b"QWI1";
/// Prefix of the URL fragment of an invite link.
pub const LINK_PREFIX: &str = "i1.";
/// Longest accepted link, in bytes.
pub const MAX_LINK: usize = 8192;
/// The custom-scheme base that may stand in for an `https://` base.
pub const APP_BASE: &str = "quietwire:invite";

impl SignedInvite {
    /// The QR payload: `"QWI1"` followed by the signed invite.
    pub fn to_qr(&self) -> Vec<u8> {
        let mut out = QR_MAGIC.to_vec();
        out.extend_from_slice(&self.to_bytes());
        out
    }

    /// Decodes and verifies a scanned QR payload.
    ///
    /// # Errors
    /// `qr.magic`, then the classes of [`SignedInvite::from_bytes`].
    pub fn from_qr(payload: &[u8], now: UnixTime, policy: &SuitePolicy) -> Result<SignedInvite> {
        let bytes = payload.strip_prefix(QR_MAGIC).ok_or(ErrorClass::QrMagic)?;
        SignedInvite::from_bytes(bytes, now, policy)
    }

    /// The link `<base>#i1.<base64url(invite)>`. `base` is an `https://` URL without
    /// query or fragment, or `quietwire:invite`; the invite travels only in the fragment.
    ///
    /// # Errors
    /// What an invitee's [`SignedInvite::from_link`] would return for the link
    /// (**[INV-07]**, **[INV-08]**), so that no link is made that every invitee refuses:
    /// `link.length` for a link longer than [`MAX_LINK`], then `link.format` for a base of
    /// another form.
    pub fn to_link(&self, base: &str) -> Result<String> {
        let link = format!(
            "{base}#{LINK_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(self.to_bytes())
        );
        if link.len() > MAX_LINK {
            return Err(ErrorClass::LinkLength.into());
        }
        if !is_valid_base(base) {
            return Err(ErrorClass::LinkFormat.into());
        }
        Ok(link)
    }

    /// Parses and verifies an invite link.
    ///
    /// # Errors
    /// `link.length`, `link.format`, `link.base64`, then the classes of
    /// [`SignedInvite::from_bytes`].
    pub fn from_link(link: &str, now: UnixTime, policy: &SuitePolicy) -> Result<SignedInvite> {
        SignedInvite::from_bytes(&link_payload(link)?, now, policy)
    }
}

/// Extracts the invite bytes from a link without verifying them.
pub(super) fn link_payload(link: &str) -> Result<Vec<u8>> {
    if link.len() > MAX_LINK {
        return Err(ErrorClass::LinkLength.into());
    }
    let (base, fragment) = link.split_once('#').ok_or(ErrorClass::LinkFormat)?;
    if !is_valid_base(base) || fragment.contains('#') {
        return Err(ErrorClass::LinkFormat.into());
    }
    let encoded = fragment
        .strip_prefix(LINK_PREFIX)
        .ok_or(ErrorClass::LinkFormat)?;
    URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| ErrorClass::LinkBase64.into())
}

/// Whether `base` is `quietwire:invite` or `https://` followed by at least one character,
/// with no `?` and no `#` (**[INV-07]**).
fn is_valid_base(base: &str) -> bool {
    base == APP_BASE
        || base
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty() && !rest.contains(['?', '#']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_shapes() {
        let class = |link: &str| link_payload(link).map_err(|e| e.class()).err();
        assert_eq!(class("https://x/invite#i1.AAEC"), None);
        assert_eq!(class("quietwire:invite#i1.AAEC"), None);
        assert_eq!(
            class("http://x/invite#i1.AAEC"),
            Some(ErrorClass::LinkFormat)
        );
        assert_eq!(
            class("https://x/invite?a=b#i1.AAEC"),
            Some(ErrorClass::LinkFormat)
        );
        assert_eq!(class("https://x/invite"), Some(ErrorClass::LinkFormat));
        assert_eq!(
            class("https://x/invite#i2.AAEC"),
            Some(ErrorClass::LinkFormat)
        );
        assert_eq!(
            class("https://x/invite#i1.AAEC#"),
            Some(ErrorClass::LinkFormat)
        );
        assert_eq!(
            class("https://x/invite#i1.AAEC="),
            Some(ErrorClass::LinkBase64)
        );
        assert_eq!(class("https://x/invite#i1.AAA"), None);
        assert_eq!(
            class("https://x/invite#i1.AAB"),
            Some(ErrorClass::LinkBase64)
        ); // non-zero trailing bits
        assert_eq!(
            class("https://x/invite#i1.AA+C"),
            Some(ErrorClass::LinkBase64)
        );
        assert_eq!(
            class(&format!("https://x/i#i1.{}", "A".repeat(MAX_LINK))),
            Some(ErrorClass::LinkLength)
        );
    }
}
