//! The `xbk-kdf`, `xbk-unlock` and `xbk-mac` groups: Argon2id parameters, secrets and
//! entries, and the header MAC.

use quietwire::backup::RecoveryKey;
use quietwire::cbor::{Int, Value};

use super::build::{Cache, Spec, T};
use super::craft::*;
use super::large::{self, Who, basic, key_unlock, pass_unlock, with_key, xor};
use super::{DecodeTest, Ids, TransferKey, UnlockJson};
use crate::seeds::seed32;

pub(super) fn kdf(ids: &mut Ids, cache: &mut Cache) -> Result<Vec<DecodeTest>, String> {
    let both = basic("both", Who::Both);
    let p = parts(&both, cache)?;
    let pass = pass_unlock(large::PASSPHRASE);
    let mut t = T::new(ids, cache);
    let kp = &["KdfParams"];
    let invalid: [(&str, &str, u64, u64, u64); 5] = [
        ("p-0", "p = 0", 19_456, 2, 0),
        ("t-1", "t = 1: below the floor", 19_456, 1, 1),
        ("m-19455", "m = 19455 KiB: below the floor", 19_455, 2, 1),
        ("m-below-8p", "m < 8p", 19_456, 2, 2_433),
        ("m-2-32", "m = 2^32", 1 << 32, 2, 1),
    ];
    for (slug, comment, m, tt, pp) in invalid {
        let header = with_pass_params(&p, m, tt, pp)?;
        for (who, unlock) in [("passphrase", pass.clone()), ("recovery", key_unlock())] {
            let comment = format!(
                "{comment} in the passphrase entry, unlocking by {who}: invalid whatever the method"
            );
            let file = prefix(&header);
            t.small(&format!("kdf-{slug}-{who}"), &comment, kp, file, unlock, "backup.kdf_params")?;
        }
    }
    let header = with_pin_params(&p, 19_455, 2, 1)?;
    crate::rows! { t.small:
        "kdf-pin-m-19455", "PIN parameters below the floor: invalid even without a PIN", kp,
            prefix(&header), key_unlock(), "backup.kdf_params";
    }
    let over: [(&str, &str, u64, u64, u64); 5] = [
        ("m-1048577", "m = 1048577 KiB: over 1 GiB", 1_048_577, 2, 1),
        ("t-17", "t = 17", 19_456, 17, 1),
        ("p-17", "p = 17", 19_456, 2, 17),
        ("mt-4194305", "m·t = 4194305", 838_861, 5, 1),
        ("m-2-21", "m = 2^21 KiB (2 GiB)", 1 << 21, 3, 1),
    ];
    // Refused before any Argon2id work: the test pins `kdfRuns` (checked to be 0 below).
    let cap = |file: Vec<u8>, unlock: UnlockJson, pin: Option<&str>, class: &'static str| Spec {
        pin: pin.map(str::to_owned),
        pin_kdf_runs: true,
        ..Spec::file(file, unlock, Some(class))
    };
    for (slug, comment, m, tt, pp) in over {
        let file = [prefix(&with_pass_params(&p, m, tt, pp)?), vec![0; 32]].concat();
        let comment =
            format!("{comment}: refused before any Argon2id work when unlocking by passphrase");
        t.spec(
            &format!("kdf-cap-{slug}"),
            &comment,
            kp,
            cap(file, pass.clone(), None, "backup.kdf_cap"),
        )?;
        if t.tests.last().and_then(|x| x.kdf_runs) != Some(0) {
            return Err(format!("{slug}: Argon2id ran"));
        }
    }
    // The same parameters do not matter to a recovery-key unlock: a whole, valid file.
    let header = with_pass_params(&p, 1 << 21, 3, 1)?;
    let edits = reprefix(p.remac(&header), p.header_end());
    t.spec(
        "kdf-cap-unused-by-recovery",
        "a passphrase entry over the caps, correctly MACed, unlocked by the recovery key: valid",
        kp,
        Spec {
            pin_kdf_runs: true,
            hidden: Some("locked"),
            ..Spec::export(&both, edits, key_unlock())
        },
    )?;
    // Lowered caps.
    let file = [prefix(&p.header), p.mac.clone()].concat();
    let caps = Some(super::Caps { m: 19_455, t: 16, p: 16, mt: 4_194_304 });
    t.spec(
        "kdf-cap-lowered",
        "the reader lowered m to 19455: the floor parameters are refused",
        kp,
        Spec { caps, ..cap(file, pass.clone(), None, "backup.kdf_cap") },
    )?;
    // PIN parameters over the caps: used only when a PIN is supplied, after the MAC.
    let file = p.remac(&with_pin_params(&p, 1 << 21, 3, 1)?);
    crate::rows! { t.spec:
        "kdf-pin-cap-with-pin",
            "PIN parameters over the caps with a PIN: refused after the MAC, before any work", kp,
            cap(file.clone(), key_unlock(), Some("1234"), "backup.kdf_cap");
        "kdf-pin-cap-without-pin", "the same without a PIN: never used (only a prefix: truncated)",
            kp, cap(file.clone(), key_unlock(), None, "backup.truncated");
    }
    Ok(t.tests)
}

pub(super) fn unlock(ids: &mut Ids, cache: &mut Cache) -> Result<Vec<DecodeTest>, String> {
    let pk = parts(&basic("base", Who::Key), cache)?;
    let pp = parts(&basic("pass", Who::Pass), cache)?;
    let p1 = parts(&basic("transfer-1", Who::Transfer(1)), cache)?;
    let p2 = parts(&basic("transfer-2", Who::Transfer(2)), cache)?;
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
    let low_order = in_entry(&p2, 3, |e| {
        e.insert(u(2), Value::Bytes(vec![0; 32]));
    })?;
    let mut t = T::new(ids, cache);
    let mut case = |slug: &str, comment: &str, file, unlock, pin: Option<&str>, class| {
        let flag = if class == "backup.secret_format" { "SecretFormat" } else { "NoMatch" };
        let pin = pin.map(|p| if p == "65" { "6".repeat(65) } else { p.to_owned() });
        let spec = Spec { pin, ..Spec::file(file, unlock, Some(class)) };
        t.spec(&format!("unlock-{slug}"), comment, &[flag], spec)
    };
    crate::rows! { case:
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
    }
    // NFC: the same passphrase in two normal forms, both ways.
    for (slug, exported, typed) in crate::tuples! {
        "nfc-composed-typed-decomposed", "caf\u{e9} cr\u{e8}me", "cafe\u{301} cre\u{300}me";
        "nfc-decomposed-typed-composed", "cafe\u{301} cre\u{300}me", "caf\u{e9} cr\u{e8}me";
    } {
        let mut e = basic(&format!("nfc-{slug}"), Who::Pass);
        e.passphrase = Some(exported.into());
        t.spec(
            &format!("unlock-{slug}"),
            "a passphrase is compared in NFC: both forms unlock",
            &["SecretFormat"],
            Spec { hidden: Some("locked"), ..Spec::export(&e, vec![], pass_unlock(typed)) },
        )?;
    }
    Ok(t.tests)
}

pub(super) fn mac(ids: &mut Ids, cache: &mut Cache) -> Result<Vec<DecodeTest>, String> {
    let base = basic("base", Who::Key);
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
    // The crafted header with the original MAC.
    let old_mac = |header: &[u8]| Some([prefix(header), p.mac.clone()].concat());
    let cut = Some([pre.clone(), p.mac[..31].to_vec()].concat());
    let mut t = T::new(ids, cache);
    let mut case = |slug: &str, comment: &str, file: Option<_>, edits, text: Option<_>, class| {
        let unlock = text.map_or_else(key_unlock, with_key);
        let export = file.is_none().then(|| base.clone());
        let spec = Spec { file, export, edits, unlock, expect: class, ..Spec::default() };
        let hidden = class.is_none().then_some("locked");
        t.spec(&format!("mac-{slug}"), comment, &["HeaderMac"], Spec { hidden, ..spec })
    };
    crate::rows! { case:
        "flipped", "one bit of the MAC flipped", None, vec![xor(end as u64 - 1)], None,
            Some("backup.header_mac");
        "missing", "the input ends before the MAC", Some(pre.clone()), vec![], None,
            Some("backup.truncated");
        "cut", "the input ends inside the MAC", cut.clone(), vec![], None, Some("backup.truncated");
        "cut-wrong-secret", "inside the MAC with a wrong secret: truncated first", cut, vec![],
            Some(other_key.clone()), Some("backup.truncated");
        "field-changed", "the PIN's m changed (still valid), MAC kept", old_mac(&pin_changed),
            vec![], None, Some("backup.header_mac");
        "wrapped-changed", "the wrapped key changed; the right secret unwraps a wrong file key",
            old_mac(&wrapped), vec![], None, Some("backup.header_mac");
        "extension-added", "an extension added after the MAC was computed", old_mac(&extension),
            vec![], None, Some("backup.header_mac");
        "wrong-secret-bad-mac", "a wrong secret on a damaged MAC: no match first",
            Some([pre.clone(), flipped].concat()), vec![], Some(other_key), Some("backup.no_match");
        "extension-covered",
            "an extension under a MAC over the received bytes: a reader that re-encoded would fail",
            None, reprefix(p.remac(&extension), end), None, None;
    }
    Ok(t.tests)
}
