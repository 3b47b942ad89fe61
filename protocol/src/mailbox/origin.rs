//! The relay origin a mailbox proof is bound to (`spec/08-mailboxes-and-relay.md` §8.2,
//! **[MBX-05]**).
//!
//! A client signs, with every proof of control, the origin of the relay *as it dialled it*:
//! the scheme, host and port of the relay URL in one canonical spelling. A relay accepts only
//! proofs made for one of its own origins, so a malicious relay that forwards another relay's
//! challenge to a client cannot use the client's proofs there.
//!
//! ```
//! use quietwire::mailbox::RelayOrigin;
//!
//! let origin = RelayOrigin::from_url("WSS://Relay.Example:443/v1/ws")?;
//! assert_eq!(origin.as_str(), "wss://relay.example");
//! let local = RelayOrigin::from_url("ws://127.0.0.1:7070/v1/ws")?;
//! assert_eq!(local.as_str(), "ws://127.0.0.1:7070");
//! assert!(RelayOrigin::parse("wss://relay.example:443").is_err()); // default port spelled out
//! # Ok::<(), quietwire::Error>(())
//! ```

use core::fmt;

use crate::error::{ErrorClass, Result};

/// Longest origin, in bytes.
pub const MAX_ORIGIN_LEN: usize = 255;

/// A relay origin in its canonical spelling (**[MBX-05]**): `ws://` or `wss://`, a lower-case
/// host (a DNS name, a dotted IPv4 address or a bracketed IPv6 address) and a port only when
/// it is not the scheme's default (80 for `ws`, 443 for `wss`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelayOrigin(String);

impl RelayOrigin {
    /// Checks that `origin` is already canonical.
    ///
    /// # Errors
    /// `mailbox.origin_format` if it is not an origin in the canonical spelling.
    pub fn parse(origin: &str) -> Result<RelayOrigin> {
        if is_canonical(origin) {
            Ok(RelayOrigin(origin.to_owned()))
        } else {
            Err(ErrorClass::MailboxOriginFormat.into())
        }
    }

    /// The origin of a `ws://` or `wss://` URL: the scheme and host lower-cased, a default
    /// port dropped, the path, query and fragment ignored.
    ///
    /// # Errors
    /// `mailbox.origin_format` for another scheme, user information (`user@`), an empty or
    /// malformed host or port, or a result that is not canonical.
    pub fn from_url(url: &str) -> Result<RelayOrigin> {
        let bad = || crate::Error::from(ErrorClass::MailboxOriginFormat);
        let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "ws" => "80",
            "wss" => "443",
            _ => return Err(bad()),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = rest.get(..end).ok_or_else(bad)?;
        let (host, port) = split_host_port(authority).ok_or_else(bad)?;
        let trimmed = port.trim_start_matches('0');
        if !port.is_empty() && trimmed.is_empty() {
            return Err(bad());
        }
        let port = trimmed;
        let mut origin = format!("{scheme}://{}", host.to_ascii_lowercase());
        if !port.is_empty() && port != default_port {
            origin.push(':');
            origin.push_str(port);
        }
        RelayOrigin::parse(&origin)
    }

    /// An origin known to be canonical (a constant checked by a unit test).
    #[cfg(feature = "fuzzing")]
    pub(crate) fn from_canonical_const(origin: &'static str) -> RelayOrigin {
        RelayOrigin(origin.to_owned())
    }

    /// The canonical spelling, the bytes a proof signs.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RelayOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelayOrigin({})", self.0)
    }
}

impl fmt::Display for RelayOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Splits `host[:port]`, where a bracketed IPv6 host may contain colons. The port is empty
/// when none is given; a `:` with nothing after it is refused.
fn split_host_port(authority: &str) -> Option<(&str, &str)> {
    if authority.contains('@') {
        return None;
    }
    if authority.starts_with('[') {
        let close = authority.find(']')?;
        let host = authority.get(..=close)?;
        let rest = authority.get(close + 1..)?;
        let port = match rest.strip_prefix(':') {
            Some(port) if !port.is_empty() => port,
            None if rest.is_empty() => "",
            _ => return None,
        };
        return Some((host, port));
    }
    match authority.split_once(':') {
        Some((_, "")) => None,
        Some((host, port)) => Some((host, port)),
        None => Some((authority, "")),
    }
}

fn is_canonical(origin: &str) -> bool {
    if origin.len() > MAX_ORIGIN_LEN {
        return false;
    }
    let (rest, default_port) = if let Some(rest) = origin.strip_prefix("wss://") {
        (rest, 443)
    } else if let Some(rest) = origin.strip_prefix("ws://") {
        (rest, 80)
    } else {
        return false;
    };
    let Some((host, port)) = split_host_port(rest) else {
        return false;
    };
    let port_ok = port.is_empty()
        || (port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && !port.starts_with('0')
            && port
                .parse::<u32>()
                .is_ok_and(|p| (1..=65535).contains(&p) && p != default_port));
    port_ok && is_host(host)
}

fn is_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.len() >= 2
            && inner.contains(':')
            && inner
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f' | b':' | b'.'));
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_origins_are_accepted() {
        for ok in [
            "wss://relay.example",
            "ws://127.0.0.1:7070",
            "wss://relay.example:8443",
            "ws://[::1]:9000",
            "wss://xn--bcher-kva.example",
            "ws://localhost",
        ] {
            assert_eq!(RelayOrigin::parse(ok).unwrap().as_str(), ok, "{ok}");
        }
    }

    #[test]
    fn non_canonical_origins_are_refused() {
        for bad in [
            "",
            "https://relay.example",
            "wss://Relay.example",
            "wss://relay.example:443",
            "ws://relay.example:80",
            "wss://relay.example:0443",
            "wss://relay.example:0",
            "wss://relay.example:65536",
            "wss://relay.example/",
            "wss://relay.example/v1/ws",
            "wss://user@relay.example",
            "wss://relay..example",
            "wss://-relay.example",
            "wss://relay.example:",
            "wss://[::1",
            "wss://[]",
            "wss://rélay.example",
            "wss:// relay.example",
        ] {
            assert_eq!(
                RelayOrigin::parse(bad).unwrap_err().class(),
                ErrorClass::MailboxOriginFormat,
                "{bad:?}"
            );
        }
        let long = format!("wss://{}.example", "a".repeat(63) + &".a".repeat(100));
        assert!(RelayOrigin::parse(&long).is_err());
    }

    #[test]
    fn urls_give_their_canonical_origin() {
        for (url, origin) in [
            ("wss://relay.example/v1/ws", "wss://relay.example"),
            ("WSS://RELAY.Example:443/v1/ws?x#y", "wss://relay.example"),
            ("ws://127.0.0.1:7070/v1/ws", "ws://127.0.0.1:7070"),
            ("ws://localhost:80", "ws://localhost"),
            ("ws://[::1]:9000/v1/ws", "ws://[::1]:9000"),
            ("wss://relay.example:08443", "wss://relay.example:8443"),
        ] {
            assert_eq!(
                RelayOrigin::from_url(url).unwrap().as_str(),
                origin,
                "{url}"
            );
        }
        for bad in [
            "https://relay.example",
            "wss://user:pw@relay.example/",
            "wss:///v1/ws",
            "relay.example",
            "wss://relay.example:x",
            "wss://relay.example:0",
        ] {
            assert!(RelayOrigin::from_url(bad).is_err(), "{bad}");
        }
    }
}
