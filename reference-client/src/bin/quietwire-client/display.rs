//! Terminal output: QR codes of invites (`spec/04-contact-establishment.md`, encodings),
//! times, durations, short ids, and text made safe to print.

use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};
use quietwire::UnixTime;

use crate::error::{Fail, Result};

/// The QR code of `payload` drawn with Unicode half blocks (two modules per character
/// cell), light modules as blocks so it scans on a dark terminal; `None` if it does not
/// fit a QR code.
pub fn qr(payload: &[u8]) -> Option<String> {
    let code = QrCode::with_error_correction_level(payload, EcLevel::L).ok()?;
    Some(
        code.render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

/// The first 4 bytes of a message id in hex.
pub fn short_id(id: &[u8]) -> String {
    hex::encode(id.get(..4).unwrap_or(id))
}

/// `text` with control characters replaced, so a peer cannot drive the terminal.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// A time as `YYYY-MM-DD HH:MM:SSZ` (UTC).
pub fn time(t: UnixTime) -> String {
    let secs = t.as_secs();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// Longest invite lifetime accepted on the command line.
const MAX_DURATION: u64 = 365 * 86_400;

/// Parses `90s`, `30m`, `24h`, `7d` or a number of seconds.
pub fn duration(text: &str) -> Result<u64> {
    let bad = || {
        Fail::new(format!(
            "invalid duration {text:?} (examples: 30m, 24h, 7d)"
        ))
    };
    let (number, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (text.get(..i).unwrap_or(""), c),
        _ => (text, 's'),
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    let factor = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    let secs = n.checked_mul(factor).ok_or_else(bad)?;
    if secs == 0 || secs > MAX_DURATION {
        return Err(Fail::new(
            "the duration must be between 1 second and 365 days",
        ));
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn formats_and_parses() {
        assert_eq!(time(UnixTime(0)), "1970-01-01 00:00:00Z");
        assert_eq!(time(UnixTime(1_700_000_000)), "2023-11-14 22:13:20Z");
        assert_eq!(time(UnixTime(951_782_400)), "2000-02-29 00:00:00Z");
        assert_eq!(duration("24h").unwrap(), 86_400);
        assert_eq!(duration("90").unwrap(), 90);
        assert_eq!(duration("7d").unwrap(), 604_800);
        assert!(duration("0h").is_err());
        assert!(duration("h").is_err());
        assert!(duration("5y").is_err());
        assert_eq!(sanitize("a\u{1b}[2Jb"), "a\u{fffd}[2Jb");
        assert_eq!(short_id(&[0xab; 16]), "abababab");
        assert!(qr(b"QWI1 hello").unwrap().contains('\u{2580}'));
    }
}
