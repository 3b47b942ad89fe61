//! `backup receive` (the new device) and `backup send CODE` (the old device), printed for a
//! terminal over the engine's transfer ([`quietwire_client::backup::transfer`],
//! `spec/10-backup.md` §10.5.4).

use std::path::Path;
use std::time::Duration;

use quietwire::suite::Suite;
use quietwire_client::backup::transfer::Receiver;
use quietwire_client::{Engine, FileStore, WebSocket};

use super::{report, restored, send_reconnects};
use crate::display;
use crate::error::{Fail, Result};
use crate::passphrase;
use crate::progress::{self, Progress};
use crate::sys;

/// `backup receive` on a new device: shows the code, waits for the backup and restores it.
pub async fn receive(
    home: &Path,
    transport: WebSocket,
    relay: &str,
    suite: Suite,
    show_qr: bool,
    wait: Duration,
) -> Result<()> {
    if FileStore::exists(home) {
        return Err(Fail::new(format!(
            "an identity already exists in {}: receive into a new home (--home DIR)",
            home.display()
        )));
    }
    if !quietwire::invite::is_valid_relay_hint(relay) {
        return Err(Fail::new(format!(
            "invalid relay URL {relay:?} (expected ws://HOST:PORT or wss://HOST)"
        )));
    }
    // Asked now, so that nothing waits for the user once the backup arrived.
    let passphrase = passphrase::passphrase(true)?;
    let mut receiver = Receiver::open(&transport, relay, suite).await?;
    let code = receiver.code().to_owned();
    if show_qr {
        match display::qr(code.as_bytes()) {
            Some(qr) => println!("{qr}"),
            None => eprintln!("(the code is too large for a QR code; use the text)"),
        }
    }
    eprintln!(
        "On the old device, run `quietwire-client backup send CODE` with this code (single use; this device waits until {}):",
        display::time(sys::now().saturating_add(wait.as_secs()))
    );
    println!("{code}");
    let sas = receiver.wait_confirmation(wait).await?;
    if !confirmed("the old device", sas).await? {
        return Err(Fail::new(
            "the codes were not confirmed: nothing was restored; run `backup receive` again for a new code",
        ));
    }
    let arrival = receiver.wait(wait).await?;
    eprintln!(
        "a backup is arriving ({} in {} piece(s))",
        progress::size(arrival.size),
        arrival.pieces
    );
    let decoded = receiver
        .download(Box::new(Progress::new("receive", Some(arrival.size))))
        .await?;
    // The backup's own relay, where the contacts' mailboxes are.
    let store = FileStore::create(home, &passphrase)?;
    let (mut engine, report) = Engine::restore_backup(store, transport, decoded, None)?;
    restored(&report);
    receiver.close().await;
    send_reconnects(&mut engine).await
}

/// `backup send CODE` on the old device: exports for the new device's transfer key, puts the
/// confirmation into the code's mailbox, and uploads the file through the relay the code
/// names once the person confirmed that both devices show the same code.
pub async fn send(engine: &Engine, home: &Path, code: &str) -> Result<()> {
    let mut export = Progress::new("export", None);
    let outgoing = engine.offer_transfer(code, home, &mut export).await?;
    report(outgoing.summary());
    if !confirmed("the new device", outgoing.sas()).await? {
        return Err(Fail::new(
            "the codes were not confirmed: nothing was sent (the new device's code may have been seen by someone else; start over with a new one)",
        ));
    }
    let mut upload = Progress::new("upload", None);
    let sent = outgoing.upload(engine.transport(), &mut upload).await?;
    println!(
        "sent the backup ({} in {} piece(s)); the new device restores it now",
        progress::size(sent.summary.bytes),
        sent.pieces
    );
    eprintln!(
        "once the new device has restored, stop using this one: its contacts move their sessions to the new device"
    );
    Ok(())
}

/// Shows the confirmation code (`spec/10-backup.md` XBK-33) and asks the person whether
/// `other` shows the same: a line `yes` on standard input confirms, anything else (or the
/// end of the input) does not.
async fn confirmed(other: &str, sas: quietwire::backup::confirm::Sas) -> Result<bool> {
    println!("confirmation code: {sas}");
    eprintln!(
        "Check that {other} shows the same confirmation code {sas}, then type yes (anything else cancels):"
    );
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await
    .map_err(|e| Fail::new(format!("cannot read the answer: {e}")))?
    .map_err(|e| Fail::new(format!("cannot read the answer: {e}")))?;
    Ok(line.trim().eq_ignore_ascii_case("yes"))
}
