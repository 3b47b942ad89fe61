//! Small-input groups: recovery-key texts and the container.

use quietwire::backup::{MAGIC, RecoveryKey};

use super::build::{Cache, T};
use super::craft::{parts, prefix};
use super::large::{Who, basic, key_unlock};
use super::{DecodeTest, Ids, RecoveryKeyTest};
use crate::families::expect;
use crate::seeds::seed32;

/// The spec's example recovery key (bytes 0 to 31) and its text.
fn example() -> Result<(Vec<u8>, String), String> {
    let example: Vec<u8> = (0u8..32).collect();
    let key = RecoveryKey::from_bytes(&example.clone().try_into().map_err(|_| "len")?);
    Ok((example, key.to_text()))
}

pub(super) fn recovery_key(ids: &mut Ids) -> Result<Vec<RecoveryKeyTest>, String> {
    let (example, text) = example()?;
    if text != "000G4-0R40M-30E20-9185G-R38E1-W8124-GK2GA-HC5RR-34D1P-70X3R-FSKVP-YJR3G" {
        return Err("recovery key: the spec's example".into());
    }
    let other = seed32("backup/recovery-key");
    let other_text = RecoveryKey::from_bytes(&other).to_text();
    let swap = |t: &str, i: usize| {
        let mut c: Vec<char> = t.chars().collect();
        c.swap(i, i + 1);
        c.into_iter().collect::<String>()
    };
    let cases: Vec<(&str, &str, String, Option<&[u8]>, bool, Option<&str>)> = crate::tuples! { vec:
        "example", "the spec's example: bytes 0 to 31", text.clone(), Some(&example), true, None;
        "seeded", "a key from the vectors' seeds", other_text.clone(), Some(&other), true, None;
        "lower-case", "typed in lower case", text.to_lowercase(), Some(&example), false, None;
        "spaces", "groups separated by spaces", text.replace('-', " "), Some(&example), false, None;
        "no-separators", "no separators at all", text.replace('-', ""), Some(&example), false, None;
        "o-for-zero", "O typed for 0", text.replacen('0', "O", 4), Some(&example), false, None;
        "i-l-for-one", "I and l typed for 1",
            other_text.replacen('1', "I", 1).replacen('1', "l", 1), Some(&other), false, None;
        "too-short", "59 characters", text[..70].to_owned(), None, false,
            Some("backup.recovery_key_format");
        "too-long", "61 characters", format!("{text}0"), None, false,
            Some("backup.recovery_key_format");
        "letter-u", "U is not in the alphabet", text.replacen('G', "U", 1), None, false,
            Some("backup.recovery_key_format");
        "symbol", "a symbol", text.replacen('G', "*", 1), None, false,
            Some("backup.recovery_key_format");
        "substitution", "one character changed", text.replacen("0R40M", "0R41M", 1), None, false,
            Some("backup.recovery_key_checksum");
        "transposition", "two characters swapped", swap(&text, 7), None, false,
            Some("backup.recovery_key_checksum");
        "checksum-typo", "a typo in the checksum part", swap(&text, 66), None, false,
            Some("backup.recovery_key_checksum");
    };
    recovery_tests(ids, cases)
}

/// Texts with characters outside ASCII or other whitespace: `backup.recovery_key_format`
/// (XBK-10 maps ASCII letters only). A group of its own at the end of the file, so that the
/// earlier tcIds stay put.
pub(super) fn recovery_key_ascii(ids: &mut Ids) -> Result<Vec<RecoveryKeyTest>, String> {
    let (_, text) = example()?;
    let format = Some("backup.recovery_key_format");
    let cases: Vec<(&str, &str, String, Option<&[u8]>, bool, Option<&str>)> = crate::tuples! { vec:
        "full-width-digit", "a full-width zero (U+FF10) for 0", text.replacen('0', "\u{ff10}", 1),
            None, false, format;
        "dotless-i", "a dotless i (U+0131), which Unicode upper-cases to I", other_with_one(&text)?,
            None, false, format;
        "long-s", "a long s (U+017F), which Unicode upper-cases to S",
            text.replacen('S', "\u{17f}", 1), None, false, format;
        "no-break-space", "groups separated by no-break spaces (U+00A0)",
            text.replace('-', "\u{a0}"), None, false, format;
        "tab", "groups separated by tabs", text.replace('-', "\t"), None, false, format;
    };
    recovery_tests(ids, cases)
}

/// The example text with its first `1` typed as a dotless i.
fn other_with_one(text: &str) -> Result<String, String> {
    if !text.contains('1') {
        return Err("recovery key: the example has no 1".into());
    }
    Ok(text.replacen('1', "\u{131}", 1))
}

type RecoveryCase<'a> = (&'a str, &'a str, String, Option<&'a [u8]>, bool, Option<&'a str>);

fn recovery_tests(
    ids: &mut Ids,
    cases: Vec<RecoveryCase<'_>>,
) -> Result<Vec<RecoveryKeyTest>, String> {
    let mut tests = Vec::new();
    for (slug, comment, text, key, canonical, class) in cases {
        let got = expect(&format!("recovery key {slug}"), RecoveryKey::parse(&text), class)?;
        if got.as_ref().map(|k| k.dangerous_bytes().to_vec()) != key.map(<[u8]>::to_vec) {
            return Err(format!("recovery key {slug}: another key"));
        }
        let head = ids.head(&format!("recovery-{slug}"), comment, &["RecoveryKey"], class);
        tests.push(RecoveryKeyTest::new(head, text, key.map(<[u8]>::to_vec), canonical));
    }
    Ok(tests)
}

pub(super) fn container(ids: &mut Ids, cache: &mut Cache) -> Result<Vec<DecodeTest>, String> {
    let p = parts(&basic("base", Who::Key), cache)?;
    let pre = prefix(&p.header);
    let with_len = |len: u32| [&MAGIC[..], &len.to_be_bytes()].concat();
    let magic = |m: &[u8]| [m, &pre[4..]].concat();
    let cases: Vec<(&str, &str, Vec<u8>, &'static str)> = crate::tuples! { vec:
        "empty", "an empty file", vec![], "backup.truncated";
        "three-bytes", "the input ends inside the magic", b"QWB".to_vec(), "backup.truncated";
        "lower-case", "qwb1: no case folding", magic(b"qwb1"), "backup.magic";
        "version-2", "QWB2: a later version", magic(b"QWB2"), "backup.version";
        "version-9", "QWB9: a later version", b"QWB9".to_vec(), "backup.version";
        "version-0", "QWB0: not a version", magic(b"QWB0"), "backup.magic";
        "invite-magic", "QWI1: another container", magic(b"QWI1"), "backup.magic";
        "offset-magic", "the magic one byte late: no retry at another offset",
            [vec![0], pre.clone()].concat(), "backup.magic";
        "signal-legacy", "a legacy format's first bytes: no fallback",
            vec![0x00, 0x00, 0x00, 0x20, 0x0a, 0x1e], "backup.magic";
        "length-cut", "the input ends inside the header length", b"QWB1\x00\x00".to_vec(),
            "backup.truncated";
        "length-65537", "a header length over MAX_HEADER, refused before reading it",
            with_len(65_537), "cbor.limit.input";
        "length-max", "header length 2^32 - 1", with_len(u32::MAX), "cbor.limit.input";
        "length-0", "header length 0: the CBOR decoder sees no bytes", with_len(0),
            "cbor.truncated";
        "header-cut", "the input ends inside the header", pre[..pre.len() - 1].to_vec(),
            "backup.truncated";
        "header-only", "the header without its MAC", pre.clone(), "backup.truncated";
        "prefix-only", "header and MAC, no sections: unlocked, then truncated",
            [pre.clone(), p.mac.clone()].concat(), "backup.truncated";
    };
    let mut t = T::new(ids, cache);
    for (slug, comment, file, class) in cases {
        t.small(&format!("container-{slug}"), comment, &["Container"], file, key_unlock(), class)?;
    }
    Ok(t.tests)
}
