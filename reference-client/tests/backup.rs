//! Backups with the real relay and real client processes: export, import on a new device
//! (wrong key, damaged file, the right key), reconnects that resume messaging through fresh
//! sessions, re-keying, and the old-device transfer through the relay.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;

use common::{Client, Interactive, Output, Relay, connect};

const RECOVERY_KEY: &str = "QUIETWIRE_RECOVERY_KEY";
const PASSPHRASE: &str = "QUIETWIRE_BACKUP_PASSPHRASE";
const NEW_PASSPHRASE: &str = "QUIETWIRE_BACKUP_NEW_PASSPHRASE";

/// The recovery key an export printed (`recovery key: XXXXX-…`, 12 groups of 5).
fn recovery_key(out: &str) -> String {
    let key = out
        .lines()
        .find_map(|l| l.strip_prefix("recovery key: "))
        .unwrap_or_else(|| panic!("no recovery key in {out:?}"))
        .to_owned();
    assert_eq!(key.len(), 71, "{key}");
    assert_eq!(key.split('-').count(), 12, "{key}");
    key
}

/// `backup export FILE` with extra arguments and environment; returns the recovery key.
fn export(client: &Client, file: &Path, extra: &[&str], env: &[(&str, &str)]) -> (Output, String) {
    let mut args = vec!["backup", "export", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = client.run_env(&args, &client.passphrase, env);
    assert_eq!(out.code, 0, "{out:?}");
    let key = recovery_key(&out.stdout);
    (out, key)
}

/// `backup import FILE` into `client`'s (new) home, unlocked by `env`.
fn import(client: &Client, file: &Path, env: &[(&str, &str)]) -> Output {
    client.run_env(
        &["backup", "import", file.to_str().unwrap()],
        &client.passphrase,
        env,
    )
}

/// Asserts a failed import with `message` in its one-line error, and nothing left behind.
fn refused(out: &Output, client: &Client, message: &str) {
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains(message), "{message:?} not in {out:?}");
    assert!(
        !client.home.join("state.qw").exists(),
        "a failed import left a state"
    );
}

fn did(client: &Client) -> String {
    let out = client.run(&["whoami"]).ok();
    out.lines()
        .find_map(|l| l.strip_prefix("did:key: "))
        .unwrap()
        .to_owned()
}

/// The full safety code a client shows for a contact.
fn safety_code(client: &Client, contact: &str) -> String {
    let out = client.run(&["verify", contact]).ok();
    out.lines().nth(1).unwrap().to_owned()
}

#[test]
fn backup_restore() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(&dir.path().join("relay.redb"), "127.0.0.1:0");
    let alice = Client::new(dir.path(), "alice");
    let bob = Client::new(dir.path(), "bob");
    let carol = Client::new(dir.path(), "carol");
    alice.init("Alice", &relay.url(), &[]);
    bob.init("Bob", &relay.url(), &[]);
    carol.init("Carol", &relay.url(), &[]);

    // Bob invites, alice accepts: alice learns bob's device record from his first event.
    connect(&bob, "bob", &alice, "alice");
    alice.run(&["send", "bob", "hello bob"]).ok();
    assert_eq!(bob.run(&["sync"]).ok().trim(), "[alice] hello bob");
    bob.run(&["send", "alice", "hi alice"]).ok();
    assert_eq!(alice.run(&["sync"]).ok().trim(), "[bob] hi alice");
    bob.run(&["sync"]).ok();
    // Carol's invite is accepted but carol never writes: no device record of carol.
    let link = carol.invite("alice");
    alice.run(&["accept", &link, "--name", "carol"]).ok();
    let alice_did = did(&alice);
    let code = safety_code(&bob, "alice");

    let file = dir.path().join("alice.xbk");
    let (out, key) = export(&alice, &file, &[], &[]);
    assert!(out.stdout.contains("wrote "), "{out:?}");
    assert!(
        out.stderr.contains("Write down this recovery key"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("carol: no device record yet"),
        "{out:?}"
    );
    // A second export has its own key; an existing file is never overwritten.
    let other = dir.path().join("other.xbk");
    let (_, other_key) = export(&alice, &other, &[], &[]);
    assert_ne!(key, other_key);
    let again = alice.run(&["backup", "export", file.to_str().unwrap()]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("already exists"), "{again:?}");

    // In flight when alice's device is lost: bob writes to alice's old mailbox.
    bob.run(&["send", "alice", "while you were away"]).ok();

    // The new device: wrong key, typo, damaged and foreign files fail, each clearly.
    let alice2 = Client::new(dir.path(), "alice2");
    let out = import(&alice2, &file, &[(RECOVERY_KEY, &other_key)]);
    refused(
        &out,
        &alice2,
        "wrong recovery key: it does not open this backup",
    );
    let typo = format!(
        "{}{}",
        if key.starts_with('A') { "B" } else { "A" },
        &key[1..]
    );
    let out = import(&alice2, &file, &[(RECOVERY_KEY, &typo)]);
    refused(&out, &alice2, "the recovery key has a typo");
    let bytes = std::fs::read(&file).unwrap();
    let cut = dir.path().join("cut.xbk");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = import(&alice2, &cut, &[(RECOVERY_KEY, &key)]);
    refused(&out, &alice2, "the backup file is damaged");
    assert!(!out.stderr.contains("wrong"), "{out:?}");
    std::fs::write(&cut, &bytes[..100]).unwrap();
    let out = import(&alice2, &cut, &[(RECOVERY_KEY, &key)]);
    refused(
        &out,
        &alice2,
        "the backup file is damaged: it ends too early (backup.truncated)",
    );
    let mut flipped = bytes.clone();
    let at = flipped.len() / 4;
    flipped[at] ^= 1;
    std::fs::write(&cut, &flipped).unwrap();
    let out = import(&alice2, &cut, &[(RECOVERY_KEY, &key)]);
    refused(&out, &alice2, "the backup file is damaged");
    let out = import(
        &alice2,
        &alice.home.join("state.qw"),
        &[(RECOVERY_KEY, &key)],
    );
    refused(&out, &alice2, "this file is not a Quietwire backup");

    // The right key: same identity, contacts, history; a reconnect to bob.
    let out = import(&alice2, &file, &[(RECOVERY_KEY, &key)]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("restored Alice"), "{out:?}");
    assert!(out.stdout.contains("device record generation 1"), "{out:?}");
    assert!(out.stdout.contains("bob: reconnecting"), "{out:?}");
    assert!(
        out.stdout
            .contains("carol: the backup has no device record of carol"),
        "{out:?}"
    );
    assert!(out.stdout.contains("reconnects sent"), "{out:?}");
    assert!(out.stderr.contains("import: ["), "progress: {out:?}");
    assert_eq!(did(&alice2), alice_did);
    let contacts = alice2.run(&["contacts"]).ok();
    let lines: Vec<&str> = contacts.lines().collect();
    assert!(
        lines[0].starts_with("bob\tunverified\tdid:key:")
            && lines[0].ends_with("restored from a backup: waiting for the reconnect"),
        "{contacts}"
    );
    assert!(
        lines[1].starts_with("bob\treconnect sent, waiting for the answer"),
        "{contacts}"
    );
    assert!(
        lines[2].starts_with("carol\trestored from a backup without a device record"),
        "{contacts}"
    );
    let history = alice2.run(&["messages", "bob"]).ok();
    assert!(history.contains("you -> bob: hello bob"), "{history}");
    assert!(history.contains("[bob] hi alice"), "{history}");
    let again = import(&alice2, &file, &[(RECOVERY_KEY, &key)]);
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("an identity already exists"),
        "{again:?}"
    );

    // The restored session decrypts what was in flight but never encrypts (XBK-24).
    let early = alice2.run(&["send", "bob", "too early"]);
    assert_eq!(early.code, 1);
    assert!(
        early
            .stderr
            .contains("restored from a backup and cannot send; waiting for bob to answer"),
        "{early:?}"
    );
    assert_eq!(
        alice2.run(&["sync"]).ok().trim(),
        "[bob] while you were away"
    );

    // Bob opens the reconnect and answers with a handshake; alice2 takes the new session.
    let out = bob.run(&["sync"]).ok();
    assert!(
        out.contains("alice reconnected from a restored device"),
        "{out}"
    );
    assert!(out.contains(&alice_did), "{out}");
    let out = alice2.run(&["sync"]).ok();
    assert!(out.contains("bob answered your reconnect"), "{out}");

    // Texts both ways through the fresh session.
    alice2.run(&["send", "bob", "back again"]).ok();
    assert_eq!(bob.run(&["sync"]).ok().trim(), "[alice] back again");
    bob.run(&["send", "alice", "welcome back"]).ok();
    assert_eq!(alice2.run(&["sync"]).ok().trim(), "[bob] welcome back");
    bob.run(&["sync"]).ok();
    alice2.run(&["sync"]).ok();

    // Bob: the same contact (one, same identity, same safety code), every send delivered,
    // the one in flight included (receipted once the new session could send).
    let contacts = bob.run(&["contacts"]).ok();
    assert_eq!(contacts.lines().count(), 1, "{contacts}");
    assert!(
        contacts.starts_with(&format!("alice\tunverified\t{alice_did}\t")),
        "{contacts}"
    );
    assert_eq!(safety_code(&bob, "alice"), code);
    assert_eq!(safety_code(&alice2, "bob"), code);
    let outbox = bob.outbox();
    assert!(
        outbox.iter().all(|l| l.ends_with("\tdelivered")),
        "{outbox:?}"
    );
    assert!(
        outbox.iter().any(|l| l.contains("\talice\thandshake\t")),
        "{outbox:?}"
    );
    let outbox = alice2.outbox();
    assert!(
        outbox
            .iter()
            .any(|l| l.ends_with("\tbob\treconnect\tdelivered")),
        "{outbox:?}"
    );
    assert!(
        outbox.iter().all(|l| l.ends_with("\tdelivered")),
        "{outbox:?}"
    );
    let contacts = alice2.run(&["contacts"]).ok();
    assert!(
        contacts.lines().next().unwrap().ends_with(" …"),
        "{contacts}"
    );
    let history = alice2.run(&["messages", "bob"]).ok();
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 5, "{history}");
    assert!(
        lines[0].ends_with("you -> bob: hello bob  [sent]"),
        "{history}"
    );
    assert!(lines[1].ends_with("[bob] hi alice"), "{history}");
    assert!(lines[2].ends_with("[bob] while you were away"), "{history}");
    assert!(
        lines[3].ends_with("you -> bob: back again  [delivered]"),
        "{history}"
    );
    assert!(lines[4].ends_with("[bob] welcome back"), "{history}");

    // Carol, restored without a device record, comes back through a new invite. Carol gets
    // the old device's handshake first (a contact, alice); accepting the new device's invite
    // gives that same contact a new session instead of a second contact, which replaces the
    // old one once the new device answered on it.
    let out = carol.run(&["sync"]).ok();
    assert!(out.contains("alice accepted your invite"), "{out}");
    let link = alice2.invite("carol");
    let out = carol.run(&["accept", &link, "--name", "alice"]).ok();
    assert!(
        out.contains("alice is already your contact")
            && out.contains("your current session stays in use until alice answers"),
        "{out}"
    );
    let out = alice2.run(&["sync"]).ok();
    assert!(out.contains("carol accepted your invite"), "{out}");
    let out = carol.run(&["sync"]).ok();
    assert!(
        out.contains("alice answered on the new session, which now replaces the old one"),
        "{out}"
    );
    carol.run(&["send", "alice", "found you"]).ok();
    assert_eq!(alice2.run(&["sync"]).ok().trim(), "[carol] found you");
    alice2.run(&["send", "carol", "hello again"]).ok();
    assert_eq!(carol.run(&["sync"]).ok().trim(), "[alice] hello again");
    assert_eq!(carol.run(&["contacts"]).ok().lines().count(), 1);
    let contacts = alice2.run(&["contacts"]).ok();
    assert_eq!(contacts.lines().count(), 2, "{contacts}");
    assert!(
        contacts
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("carol	unverified	did:key:"),
        "{contacts}"
    );
}

#[test]
fn backup_rekey() {
    let dir = tempfile::tempdir().unwrap();
    let alice = Client::new(dir.path(), "alice");
    alice.init("Alice", "ws://127.0.0.1:9", &["--suite", "x25519"]);
    let alice_did = did(&alice);
    let file = dir.path().join("alice.xbk");
    let (_, key) = export(
        &alice,
        &file,
        &["--passphrase"],
        &[(PASSPHRASE, "old pass")],
    );
    let before = std::fs::read(&file).unwrap();
    let path = file.to_str().unwrap();

    // Unlocked by the passphrase, the recovery key could not be kept: refused, unchanged.
    let out = alice.run_env(
        &["backup", "rekey", path, "--new-passphrase"],
        &alice.passphrase,
        &[(PASSPHRASE, "old pass"), (NEW_PASSPHRASE, "new pass")],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("keeps only when you unlock with it"),
        "{out:?}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // Unlocked by the recovery key: a new passphrase, the same recovery key.
    let out = alice.run_env(
        &["backup", "rekey", path, "--new-passphrase"],
        &alice.passphrase,
        &[(RECOVERY_KEY, &key), (NEW_PASSPHRASE, "new pass")],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("now opens with the same recovery key and a new passphrase"),
        "{out:?}"
    );
    // Only the header changed: every section byte is the same.
    let after = std::fs::read(&file).unwrap();
    let tail = before.len() - 4096;
    assert_eq!(after[after.len() - tail..], before[before.len() - tail..]);
    assert_ne!(after, before);

    let fresh = |name: &str| Client::new(dir.path(), name);
    let old = fresh("old");
    let out = import(&old, &file, &[(PASSPHRASE, "old pass")]);
    refused(&out, &old, "wrong passphrase: it does not open this backup");
    let out = import(&old, &file, &[(PASSPHRASE, "new pass")]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(did(&old), alice_did);
    let by_key = fresh("by-key");
    import(&by_key, &file, &[(RECOVERY_KEY, &key)]).ok();

    // Dropping the recovery key: the passphrase alone opens it.
    let out = alice.run_env(
        &["backup", "rekey", path, "--drop-recovery-key"],
        &alice.passphrase,
        &[(PASSPHRASE, "new pass")],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("now opens with the same passphrase"),
        "{out:?}"
    );
    let none = fresh("none");
    let out = import(&none, &file, &[(RECOVERY_KEY, &key)]);
    refused(&out, &none, "this backup has no recovery key");
}

#[test]
fn backup_transfer() {
    let dir = tempfile::tempdir().unwrap();
    // A small attachment limit: the backup (about 1.4 MiB) travels in several pieces.
    let relay = Relay::start_with(
        &dir.path().join("relay.redb"),
        "127.0.0.1:0",
        &["--max-attachment", "300000"],
    );
    let alice = Client::new(dir.path(), "alice");
    let bob = Client::new(dir.path(), "bob");
    alice.init("Alice", &relay.url(), &["--suite", "x25519"]);
    bob.init("Bob", &relay.url(), &["--suite", "x25519"]);
    connect(&alice, "alice", &bob, "bob");
    bob.run(&["send", "alice", "before the move"]).ok();
    assert_eq!(alice.run(&["sync"]).ok().trim(), "[bob] before the move");
    let alice_did = did(&alice);

    let bad = alice.run(&["backup", "send", "quietwire:transfer#t1.00"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("not a transfer code"), "{bad:?}");

    // The new device shows its code and waits.
    let alice2 = Client::new(dir.path(), "alice2");
    let mut receiver = receive(&alice2, &relay);
    let code = receiver.line_starting("quietwire:transfer#t1.");

    // The old device offers the backup; both show the same confirmation code (XBK-33), and
    // the person confirms on both before the backup moves.
    let mut sender = Interactive::start(&alice, &["backup", "send", &code]);
    let sent_code = sender.line_starting("confirmation code: ");
    let shown_code = receiver.line_starting("confirmation code: ");
    assert_eq!(sent_code, shown_code);
    assert_eq!(
        sent_code.len(),
        "confirmation code: 123 456".len(),
        "{sent_code}"
    );
    sender.answer("yes");
    receiver.answer("yes");
    let out = sender.finish();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("sent the backup"), "{out:?}");
    // Several pieces of at most 300000 bytes.
    let pieces: usize = out
        .stdout
        .split(" in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no piece count in {out:?}"));
    assert!(pieces >= 5, "{out:?}");
    let received = receiver.finish();
    assert_eq!(received.code, 0, "{received:?}");
    assert!(received.stdout.contains("restored Alice"), "{received:?}");
    assert!(
        received.stdout.contains("bob: reconnecting"),
        "{received:?}"
    );
    assert!(
        received.stderr.contains("receive: ["),
        "progress: {received:?}"
    );
    assert_eq!(did(&alice2), alice_did);

    let history = alice2.run(&["messages"]).ok();
    assert!(history.contains("[bob] before the move"), "{history}");
    let out = bob.run(&["sync"]).ok();
    assert!(
        out.contains("alice reconnected from a restored device"),
        "{out}"
    );
    let out = alice2.run(&["sync"]).ok();
    assert!(out.contains("bob answered your reconnect"), "{out}");
    alice2.run(&["send", "bob", "on the new device"]).ok();
    assert_eq!(bob.run(&["sync"]).ok().trim(), "[alice] on the new device");
}

/// `backup receive` by `client` on `relay` (suite 2, no QR, a minute's wait).
fn receive(client: &Client, relay: &Relay) -> Interactive {
    let url = relay.url();
    let args = [
        "backup", "receive", "--relay", &url, "--suite", "x25519", "--no-qr", "--wait", "60s",
    ];
    Interactive::start(client, &args)
}

/// Someone who saw the new device's code sends a confirmation before the real old device
/// (spec/10-backup.md XBK-33): the new device shows that sender's code, which is not the one
/// the old device shows; the person refuses on both devices, and nothing moves.
#[test]
fn a_transfer_confirmed_by_someone_else_moves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(&dir.path().join("relay.redb"), "127.0.0.1:0");
    let alice = Client::new(dir.path(), "alice");
    let mallory = Client::new(dir.path(), "mallory");
    alice.init("Alice", &relay.url(), &["--suite", "x25519"]);
    mallory.init("Mallory", &relay.url(), &["--suite", "x25519"]);

    let alice2 = Client::new(dir.path(), "alice2");
    let mut receiver = receive(&alice2, &relay);
    let code = receiver.line_starting("quietwire:transfer#t1.");
    // Mallory photographed the code and is quicker than Alice.
    let mut intruder = Interactive::start(&mallory, &["backup", "send", &code]);
    let intruder_code = intruder.line_starting("confirmation code: ");
    let shown = receiver.line_starting("confirmation code: ");
    assert_eq!(
        shown, intruder_code,
        "the new device shows the first confirmation"
    );
    let mut sender = Interactive::start(&alice, &["backup", "send", &code]);
    let alice_code = sender.line_starting("confirmation code: ");
    // One chance in 10^6 that Mallory's code equals Alice's.
    assert_ne!(alice_code, shown);

    // The person sees different codes and refuses on both of her devices.
    receiver.answer("no");
    sender.answer("no");
    let received = receiver.finish();
    assert_eq!(received.code, 1, "{received:?}");
    assert!(
        received.stderr.contains("nothing was restored"),
        "{received:?}"
    );
    let sent = sender.finish();
    assert_eq!(sent.code, 1, "{sent:?}");
    assert!(sent.stderr.contains("nothing was sent"), "{sent:?}");
    assert!(!sent.stdout.contains("sent the backup"), "{sent:?}");
    // Mallory's process waits for an answer that never comes; closing its input cancels.
    let intruded = intruder.finish();
    assert_eq!(intruded.code, 1, "{intruded:?}");
    assert!(!intruded.stdout.contains("sent the backup"), "{intruded:?}");
    // No identity on the new device.
    let status = alice2.run(&["whoami"]);
    assert_ne!(status.code, 0, "{status:?}");
}
