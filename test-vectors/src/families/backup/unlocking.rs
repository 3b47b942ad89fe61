//! The `xbk-kdf`, `xbk-unlock` and `xbk-mac` groups: Argon2id parameters, secrets and
//! entries, and the header MAC.

// Generator code: it indexes files and tables it built itself, so an index out of range is a
// bug of the generator, and the panic fails generation loudly; the case tables are tuples.
#![allow(clippy::indexing_slicing, clippy::type_complexity)]

use quietwire::backup::RecoveryKey;
use quietwire::cbor::{Int, Value};

use super::build::{Cache, Spec, decode_test};
use super::{DecodeTest, Ids, TransferKey, UnlockJson};
use crate::seeds::seed32;

use super::craft::*;
use super::large::{self, Who, recipe};
use crate::families::flags;

pub(super) fn kdf(ids: &mut Ids, cache: &mut Cache) -> Result<Vec<DecodeTest>, String> {
    let both = recipe("both", Who::Both, None, large::base_sections());
    let p = parts(&both, cache)?;
    let pass = pass_unlock(large::PASSPHRASE);
    let mut tests = Vec::new();
    let invalid: [(&str, &str, u64, u64, u64); 5] = [
        ("p-0", "p = 0", 19_456, 2, 0),
        ("t-1", "t = 1: below the floor", 19_456, 1, 1),
        ("m-19455", "m = 19455 KiB: below the floor", 19_455, 2, 1),
        ("m-below-8p", "m < 8p", 19_456, 2, 2_433),
        ("m-2-32", "m = 2^32", 1 << 32, 2, 1),
    ];
    for (slug, comment, m, t, pp) in invalid {
        let header = with_pass_params(&p, m, t, pp)?;
        for (who, unlock) in [("passphrase", pass.clone()), ("recovery", key_unlock())] {
            tests.push(small_test(ids, cache, &format!("kdf-{slug}-{who}"), &format!("{comment} in the passphrase entry, unlocking by {who}: invalid whatever the method"), &["KdfParams"], prefix(&header), unlock, Some("backup.kdf_params"))?);
        }
    }
    let header = with_pin_params(&p, 19_455, 2, 1)?;
    tests.push(small_test(
        ids,
        cache,
        "kdf-pin-m-19455",
        "PIN parameters below the floor: invalid even without a PIN",
        &["KdfParams"],
        prefix(&header),
        key_unlock(),
        Some("backup.kdf_params"),
    )?);
    let over: [(&str, &str, u64, u64, u64); 5] = [
        ("m-1048577", "m = 1048577 KiB: over 1 GiB", 1_048_577, 2, 1),
        ("t-17", "t = 17", 19_456, 17, 1),
        ("p-17", "p = 17", 19_456, 2, 17),
        ("mt-4194305", "m·t = 4194305", 838_861, 5, 1),
        ("m-2-21", "m = 2^21 KiB (2 GiB)", 1 << 21, 3, 1),
    ];
    for (slug, comment, m, t, pp) in over {
        let header = with_pass_params(&p, m, t, pp)?;
        let file = [prefix(&header), vec![0; 32]].concat();
        let mut test = decode_test(
            ids.next_id(),
            Spec {
                slug: format!("kdf-cap-{slug}"),
                comment: format!(
                    "{comment}: refused before any Argon2id work when unlocking by passphrase"
                ),
                flags: flags(&["KdfParams"]),
                file: Some(file),
                unlock: pass.clone(),
                expect: Some("backup.kdf_cap"),
                pin_kdf_runs: true,
                ..Spec::default()
            },
            cache,
        )?;
        if test.kdf_runs != Some(0) {
            return Err(format!("{slug}: Argon2id ran"));
        }
        test.kdf_runs = Some(0);
        tests.push(test);
    }
    // The same parameters do not matter to a recovery-key unlock: a whole, valid file.
    let header = with_pass_params(&p, 1 << 21, 3, 1)?;
    tests.push(decode_test(ids.next_id(), Spec {
        slug: "kdf-cap-unused-by-recovery".into(),
        comment: "a passphrase entry over the caps, correctly MACed, unlocked by the recovery key: valid".into(),
        flags: flags(&["KdfParams"]),
        export: Some(both.clone()),
        edits: reprefix(p.remac(&header), p.header_end()),
        unlock: key_unlock(),
        pin_kdf_runs: true,
        hidden: Some("locked"),
        ..Spec::default()
    }, cache)?);
    // Lowered caps.
    let file = [prefix(&p.header), p.mac.clone()].concat();
    tests.push(decode_test(
        ids.next_id(),
        Spec {
            slug: "kdf-cap-lowered".into(),
            comment: "the reader lowered m to 19455: the floor parameters are refused".into(),
            flags: flags(&["KdfParams"]),
            file: Some(file),
            unlock: pass.clone(),
            caps: Some(super::Caps { m: 19_455, t: 16, p: 16, mt: 4_194_304 }),
            expect: Some("backup.kdf_cap"),
            pin_kdf_runs: true,
            ..Spec::default()
        },
        cache,
    )?);
    // PIN parameters over the caps: used only when a PIN is supplied, after the MAC.
    let header = with_pin_params(&p, 1 << 21, 3, 1)?;
    for (slug, comment, pin, class) in crate::tuples! {
        "pin-cap-with-pin",
            "PIN parameters over the caps with a PIN: refused after the MAC, before any work",
            Some("1234"), "backup.kdf_cap";
        "pin-cap-without-pin", "the same without a PIN: never used (only a prefix: truncated)",
            None, "backup.truncated";
    } {
        tests.push(decode_test(
            ids.next_id(),
            Spec {
                slug: format!("kdf-{slug}"),
                comment: comment.into(),
                flags: flags(&["KdfParams"]),
                file: Some(p.remac(&header)),
                unlock: key_unlock(),
                pin: pin.map(str::to_owned),
                expect: Some(class),
                pin_kdf_runs: true,
                ..Spec::default()
            },
            cache,
        )?);
    }
    Ok(tests)
}

pub(super) fn unlock(ids: &mut Ids, cache: &mut Cache) -> Result<Vec<DecodeTest>, String> {
    let key = recipe("base", Who::Key, None, large::base_sections());
    let pass = recipe("pass", Who::Pass, None, large::base_sections());
    let t1 = recipe("transfer-1", Who::Transfer(1), None, large::base_sections());
    let t2 = recipe("transfer-2", Who::Transfer(2), None, large::base_sections());
    let pk = parts(&key, cache)?;
    let pp = parts(&pass, cache)?;
    let p1 = parts(&t1, cache)?;
    let p2 = parts(&t2, cache)?;
    let pre = |p: &Parts| [prefix(&p.header), p.mac.clone()].concat();
    let other_key = RecoveryKey::from_bytes(&seed32("backup/other-recovery-key")).to_text();
    let transfer = |suite: u64, name: &str| UnlockJson {
        transfer: Some(TransferKey { suite, seed: seed32(name).to_vec() }),
        ..UnlockJson::default()
    };
    let good_text = RecoveryKey::from_bytes(&large::recovery_key()).to_text();
    let mut typo: Vec<char> = good_text.chars().collect();
    typo.swap(1, 2);
    let typo: String = typo.into_iter().collect();
    let with_key = |text: String| UnlockJson { recovery_key: Some(text), ..UnlockJson::default() };
    let low_order = entry_edited(&p2, 3, |e| {
        if let Some(e) = e {
            e.insert(u(2), Value::Bytes(vec![0; 32]));
        }
    })?;
    type Case =
        (&'static str, &'static str, Vec<u8>, UnlockJson, Option<&'static str>, &'static str);
    let cases: Vec<Case> = crate::tuples! { vec:
        "wrong-recovery-key", "a well-formed recovery key of another file", pre(&pk),
            with_key(other_key), None, "backup.no_match";
        "recovery-typo",
            "a typo in the recovery key: caught by its checksum before any unlock work", pre(&pk),
            with_key(typo), None, "backup.recovery_key_checksum";
        "recovery-garbage", "not a recovery key", pre(&pk), with_key("hello".into()), None,
            "backup.recovery_key_format";
        "wrong-passphrase", "a wrong passphrase", pre(&pp),
            pass_unlock("Correct horse battery staple"), None, "backup.no_match";
        "no-recovery-entry", "a recovery key for a passphrase-only file", pre(&pp), key_unlock(),
            None, "backup.no_entry";
        "no-passphrase-entry", "a passphrase for a recovery-key-only file: no Argon2id work",
            pre(&pk), pass_unlock("x"), None, "backup.no_entry";
        "no-transfer-entry", "a transfer key for a recovery-key file", pre(&pk),
            transfer(2, "backup/transfer"), None, "backup.no_entry";
        "transfer-wrong-key-1", "another X-Wing transfer key", pre(&p1),
            transfer(1, "backup/other-transfer"), None, "backup.no_match";
        "transfer-wrong-key-2", "another X25519 transfer key", pre(&p2),
            transfer(2, "backup/other-transfer"), None, "backup.no_match";
        "transfer-other-suite", "a transfer key of the other suite", pre(&p2),
            transfer(1, "backup/transfer"), None, "backup.no_match";
        "transfer-low-order", "an all-zero X25519 enc: the KEM refuses it",
            [prefix(&low_order), vec![0; 32]].concat(), transfer(2, "backup/transfer"), None,
            "hpke.decapsulation";
        "empty-passphrase", "an empty passphrase", pre(&pp), pass_unlock(""), None,
            "backup.secret_format";
        "passphrase-1025", "a 1025-byte passphrase", pre(&pp), pass_unlock(&"x".repeat(1025)), None,
            "backup.secret_format";
        "pin-65", "a 65-byte PIN", pre(&pk), key_unlock(), Some("65"), "backup.secret_format";
        "pin-empty", "an empty PIN", pre(&pk), key_unlock(), Some(""), "backup.secret_format";
        "secret-before-entry", "a malformed passphrase is reported before the missing entry",
            pre(&pk), pass_unlock(""), None, "backup.secret_format";
    };
    let mut tests = Vec::new();
    for (slug, comment, file, unlock, pin, class) in cases {
        let flag = if class == "backup.secret_format" { "SecretFormat" } else { "NoMatch" };
        let pin = pin.map(|p| if p == "65" { "6".repeat(65) } else { p.to_owned() });
        tests.push(decode_test(
            ids.next_id(),
            Spec {
                slug: format!("unlock-{slug}"),
                comment: comment.into(),
                flags: flags(&[flag]),
                file: Some(file),
                unlock,
                pin,
                expect: Some(class),
                ..Spec::default()
            },
            cache,
        )?);
    }
    // NFC: the same passphrase in two normal forms, both ways.
    for (slug, exported, typed) in crate::tuples! {
        "nfc-composed-typed-decomposed", "caf\u{e9} cr\u{e8}me", "cafe\u{301} cre\u{300}me";
        "nfc-decomposed-typed-composed", "cafe\u{301} cre\u{300}me", "caf\u{e9} cr\u{e8}me";
    } {
        let mut e = recipe(&format!("nfc-{slug}"), Who::Pass, None, large::base_sections());
        e.passphrase = Some(exported.into());
        tests.push(decode_test(
            ids.next_id(),
            Spec {
                slug: format!("unlock-{slug}"),
                comment: "a passphrase is compared in NFC: both forms unlock".into(),
                flags: flags(&["SecretFormat"]),
                export: Some(e),
                unlock: pass_unlock(typed),
                hidden: Some("locked"),
                ..Spec::default()
            },
            cache,
        )?);
    }
    Ok(tests)
}

pub(super) fn mac(ids: &mut Ids, cache: &mut Cache) -> Result<Vec<DecodeTest>, String> {
    let base = recipe("base", Who::Key, None, large::base_sections());
    let p = parts(&base, cache)?;
    let pre = prefix(&p.header);
    let mut flipped = p.mac.clone();
    flipped[31] ^= 1;
    let pin_changed = with_pin_params(&p, 19_457, 2, 1)?;
    let wrapped = entry_edited(&p, 1, |e| {
        if let Some(Value::Bytes(w)) = e.as_mut().and_then(|e| e.get_mut(&u(2))) {
            w[0] ^= 1;
        }
    })?;
    let extension = edited(&p, |m| {
        m.insert(Int::nint(0), Value::uint(0));
    })?;
    let other_key = RecoveryKey::from_bytes(&seed32("backup/other-recovery-key")).to_text();
    let end = p.header_end();
    let flip = vec![super::Edit {
        offset: Some(end as u64 - 1),
        bytes: Some(vec![1]),
        ..super::Edit::op("xor")
    }];
    type Case = (
        &'static str,
        &'static str,
        Option<Vec<u8>>,
        Vec<super::Edit>,
        Option<String>,
        Option<&'static str>,
    );
    let cases: Vec<Case> = crate::tuples! { vec:
        "flipped", "one bit of the MAC flipped", None, flip.clone(), None,
            Some("backup.header_mac");
        "missing", "the input ends before the MAC", Some(pre.clone()), vec![], None,
            Some("backup.truncated");
        "cut", "the input ends inside the MAC", Some([pre.clone(), p.mac[..31].to_vec()].concat()),
            vec![], None, Some("backup.truncated");
        "cut-wrong-secret", "inside the MAC with a wrong secret: truncated first",
            Some([pre.clone(), p.mac[..31].to_vec()].concat()), vec![], Some(other_key.clone()),
            Some("backup.truncated");
        "field-changed", "the PIN's m changed (still valid), MAC kept",
            Some([prefix(&pin_changed), p.mac.clone()].concat()), vec![], None,
            Some("backup.header_mac");
        "wrapped-changed", "the wrapped key changed; the right secret unwraps a wrong file key",
            Some([prefix(&wrapped), p.mac.clone()].concat()), vec![], None,
            Some("backup.header_mac");
        "extension-added", "an extension added after the MAC was computed",
            Some([prefix(&extension), p.mac.clone()].concat()), vec![], None,
            Some("backup.header_mac");
        "wrong-secret-bad-mac", "a wrong secret on a damaged MAC: no match first",
            Some([pre.clone(), flipped].concat()), vec![], Some(other_key), Some("backup.no_match");
        "extension-covered",
            "an extension under a MAC over the received bytes: a reader that re-encoded would fail",
            None, reprefix(p.remac(&extension), end), None, None;
    };
    let mut tests = Vec::new();
    for (slug, comment, file, edits, text, class) in cases {
        let unlock = match text {
            Some(t) => UnlockJson { recovery_key: Some(t), ..UnlockJson::default() },
            None => key_unlock(),
        };
        let export = file.is_none().then(|| base.clone());
        tests.push(decode_test(
            ids.next_id(),
            Spec {
                slug: format!("mac-{slug}"),
                comment: comment.into(),
                flags: flags(&["HeaderMac"]),
                file,
                export,
                edits,
                unlock,
                expect: class,
                hidden: class.is_none().then_some("locked"),
                ..Spec::default()
            },
            cache,
        )?);
    }
    Ok(tests)
}
