//! Old-device transfer through the relay (`spec/10-backup.md` §10.5.4, XBK-12).
//!
//! ```text
//! new device: backup receive             old device: backup send CODE
//!   transfer key pair (KEM, one use)
//!   one-time mailbox M
//!   shows CODE = suite, M, public key, relay (QR and text)
//!                                          export with a transfer entry to the key (temp file)
//!                                          confirmation (XBK-32): HPKE to the key, naming
//!                                            SHA-256(file) → put into M; shows "ddd ddd"
//!   fetch M ← confirmation; shows "ddd ddd"
//!   the person compares the two codes and confirms on both devices (XBK-33)
//!                                          blobs of at most max_attachment bytes: BlobPut
//!                                          manifest {version, size, blob ids} → put into M
//!   fetch M (woken or polled) ← manifest
//!   BlobGet each blob, check its id, push it into the decoder (transfer unlock)
//!   SHA-256 of the file = the confirmed digest (XBK-34), or nothing is restored
//!   restore as `backup import` does, reconnects to every contact
//! ```
//!
//! The relay sees the blobs (ciphertext of a file that only the transfer key opens), the
//! confirmation (ciphertext) and the manifest (blob ids and the size). Anyone who saw the code
//! can send this device a confirmation and a file, but the six-digit code of their
//! confirmation is not the one the old device shows (`spec/10-backup.md` §10.5.4), and a file
//! other than the confirmed one is refused.
//!
//! [`Receiver`] is the new device's side, [`Engine::offer_transfer`] and [`Outgoing`] the old
//! device's.
//!
//! The code is `quietwire:transfer#t1.` and the hex of `1 ‖ suite id (1 byte) ‖ mailbox id
//! (32) ‖ transfer public key (the suite's length) ‖ relay URL length (2 bytes, big-endian) ‖ relay URL
//! (UTF-8)`.

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use quietwire::backup::confirm::{self, Sas};
use quietwire::backup::{ExportOptions, Methods};
use quietwire::cbor::{self, Int, Limits, Value};
use quietwire::envelope::{self, Envelope, MAX_BLOB};
use quietwire::invite::is_valid_relay_hint;
use quietwire::keys::{KemPublicKey, KemSecret};
use quietwire::mailbox::{MailboxKey, Operation};
use quietwire::relay::limits::FRAME_OVERHEAD;
use quietwire::relay::{Item, ItemId, Reply, Request, ServerFrame, blob_id};
use quietwire::suite::Suite;
use rand_core::Rng as _;
use sha2::{Digest as _, Sha256};

use super::Progress;
use super::read::{Decoded, Reader};
use super::write::{self, Summary};
use crate::engine::Engine;
use crate::error::{Fail, Result};
use crate::relay::{NetError, Relay};
use crate::sys;
use crate::transport::Transport;

/// The start of a transfer code.
const CODE_BASE: &str = "quietwire:transfer#t1.";
/// How long the relay keeps the pieces and the manifest: a day, or its maximum.
const TRANSFER_TTL: u32 = 24 * 3600;
/// How often the new device looks into its mailbox when no wake-up came.
const POLL: Duration = Duration::from_secs(2);
/// Most pieces a manifest lists (2 GiB at the reference relay's 1 MiB).
pub const MAX_PIECES: usize = 2048;

/// A decoded transfer code, with its text (what the confirmation binds, XBK-32).
#[derive(Debug)]
struct Code {
    text: String,
    mailbox: [u8; 32],
    key: KemPublicKey,
    relay: String,
}

fn bad_code() -> Fail {
    Fail::new(
        "not a transfer code: copy the whole `quietwire:transfer#t1.…` line the new device shows",
    )
}

fn encode_code(mailbox: &[u8; 32], key: &KemPublicKey, relay: &str) -> String {
    let mut bytes = vec![1u8, u8::try_from(key.suite().id()).unwrap_or(0)];
    bytes.extend_from_slice(mailbox);
    bytes.extend_from_slice(key.as_bytes());
    let len = u16::try_from(relay.len()).unwrap_or(u16::MAX);
    bytes.extend_from_slice(&len.to_be_bytes());
    bytes.extend_from_slice(relay.as_bytes());
    format!("{CODE_BASE}{}", hex::encode(bytes))
}

fn parse_code(text: &str) -> Result<Code> {
    let hex = text.trim().strip_prefix(CODE_BASE).ok_or_else(bad_code)?;
    let bytes = hex::decode(hex).map_err(|_| bad_code())?;
    let (&[version, suite], rest) = bytes.split_first_chunk::<2>().ok_or_else(bad_code)?;
    if version != 1 {
        return Err(Fail::new(
            "this transfer code is of a newer version; update this client",
        ));
    }
    let suite = Suite::from_id(u64::from(suite)).map_err(|_| bad_code())?;
    let (mailbox, rest) = rest.split_first_chunk::<32>().ok_or_else(bad_code)?;
    let (key, relay) = rest
        .split_at_checked(suite.kem_public_key_len())
        .ok_or_else(bad_code)?;
    let key = KemPublicKey::from_bytes(suite, key).map_err(|_| bad_code())?;
    let (len, relay) = relay.split_first_chunk::<2>().ok_or_else(bad_code)?;
    if relay.len() != usize::from(u16::from_be_bytes(*len)) {
        return Err(bad_code());
    }
    let relay = String::from_utf8(relay.to_vec()).map_err(|_| bad_code())?;
    if !is_valid_relay_hint(&relay) {
        return Err(bad_code());
    }
    Ok(Code {
        text: text.trim().to_owned(),
        mailbox: *mailbox,
        key,
        relay,
    })
}

/// The confirmation message in an envelope for the code's mailbox (padded like every item).
fn encode_confirmation(mailbox: [u8; 32], message: &[u8]) -> Result<Vec<u8>> {
    let padded = envelope::pad(message, 0)
        .map_err(|_| Fail::new("internal error: the confirmation does not fit an envelope"))?;
    Envelope::new(mailbox, padded)
        .map(|e| e.to_bytes())
        .map_err(|e| Fail::new(format!("cannot build the confirmation ({})", e.class())))
}

/// The content of an item of the one-time mailbox, or `None` if it is not an envelope of it.
fn item_content(item: &Item, mailbox: &[u8; 32]) -> Option<Vec<u8>> {
    let envelope = Envelope::receive(&item.envelope, mailbox).ok()?;
    envelope::unpad(envelope.blob()).ok().map(<[u8]>::to_vec)
}

/// The manifest: `{1: 1, 2: size, 3: [blob id, …]}`, padded to a bucket in an envelope.
fn encode_manifest(mailbox: [u8; 32], size: u64, blobs: &[[u8; 32]]) -> Result<Vec<u8>> {
    let manifest = Value::Map(
        [
            (Int::uint(1), Value::uint(1)),
            (Int::uint(2), Value::uint(size)),
            (
                Int::uint(3),
                Value::Array(blobs.iter().map(|b| Value::Bytes(b.to_vec())).collect()),
            ),
        ]
        .into_iter()
        .collect(),
    );
    let padded = envelope::pad(&cbor::encode(&manifest), 0)
        .map_err(|_| Fail::new("the backup is too large for one transfer"))?;
    Envelope::new(mailbox, padded)
        .map(|e| e.to_bytes())
        .map_err(|e| {
            Fail::new(format!(
                "cannot build the transfer manifest ({})",
                e.class()
            ))
        })
}

/// The size and blob ids of a manifest item, or `None` for anything else.
fn decode_manifest(item: &Item, mailbox: &[u8; 32]) -> Option<(u64, Vec<[u8; 32]>)> {
    let content = item_content(item, mailbox)?;
    let content = content.as_slice();
    let limits = Limits {
        max_input: MAX_BLOB,
        max_depth: 2,
        max_string: 64,
        max_items: MAX_PIECES as u64,
    };
    let Value::Map(map) = cbor::decode(content, &limits).ok()? else {
        return None;
    };
    let (Some(Value::Int(version)), Some(Value::Int(size)), Some(Value::Array(ids))) = (
        map.get(&Int::uint(1)),
        map.get(&Int::uint(2)),
        map.get(&Int::uint(3)),
    ) else {
        return None;
    };
    if version.as_u64() != Some(1) || ids.is_empty() {
        return None;
    }
    let ids = ids
        .iter()
        .map(|v| match v {
            Value::Bytes(b) => <[u8; 32]>::try_from(b.as_slice()).ok(),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((size.as_u64()?, ids))
}

fn net(e: NetError) -> Fail {
    Fail::new(e.to_string())
}

/// A transfer on its way to this (new) device: the one-time transfer key pair and mailbox,
/// and the connection that waits for the old device's manifest.
pub struct Receiver {
    conn: Relay,
    mailbox: MailboxKey,
    key: Option<KemSecret>,
    code: String,
    subscribed: bool,
    /// The digest of the file the person confirmed (XBK-33), once a confirmation arrived.
    confirmed: Option<[u8; 32]>,
    /// The manifest item, its size and blob ids, once it arrived.
    manifest: Option<(ItemId, u64, Vec<[u8; 32]>)>,
}

impl core::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Receiver")
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

/// A transfer's size, once its manifest arrived ([`Receiver::wait`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    /// Bytes of the backup.
    pub size: u64,
    /// Pieces it comes in.
    pub pieces: usize,
}

impl Receiver {
    /// Makes a transfer key pair of `suite` and a one-time mailbox on `relay`, and subscribes
    /// to it; the [`Receiver::code`] is then shown to the old device.
    ///
    /// # Errors
    /// An invalid relay URL, or the relay cannot be reached.
    pub async fn open(transport: &dyn Transport, relay: &str, suite: Suite) -> Result<Receiver> {
        if !is_valid_relay_hint(relay) {
            return Err(Fail::new(format!(
                "invalid relay URL {relay:?} (expected ws://HOST:PORT or wss://HOST)"
            )));
        }
        let mut rng = sys::rng();
        let key = KemSecret::generate(suite, &mut rng);
        let mailbox = MailboxKey::generate(&mut rng);
        let mut conn = Relay::connect(transport, relay).await.map_err(net)?;
        let proof = conn.prove(&mailbox, Operation::Subscribe);
        let subscribed = matches!(
            conn.request(Request::Subscribe {
                mailbox: *mailbox.id(),
                proof,
            })
            .await,
            Ok(Reply::Subscribed)
        );
        let code = encode_code(mailbox.id(), key.public(), relay);
        Ok(Receiver {
            conn,
            mailbox,
            key: Some(key),
            code,
            subscribed,
            confirmed: None,
            manifest: None,
        })
    }

    /// Waits up to `wait` for the old device's confirmation (**XBK-33**) and returns the
    /// code to show. The first confirmation that opens with this transfer's key is taken;
    /// items that are not confirmations of this code are deleted. Show the code, and go on
    /// ([`Receiver::wait`]) only once the person confirmed that the old device shows the same;
    /// otherwise drop the receiver (its key is never used again).
    ///
    /// # Errors
    /// Nothing arrived in time, or the connection broke.
    pub async fn wait_confirmation(&mut self, wait: Duration) -> Result<Sas> {
        let Some(key) = self.key.as_ref() else {
            return Err(Fail::new("internal error: the transfer key is gone"));
        };
        let deadline = Instant::now() + wait;
        loop {
            let proof = self.conn.prove(&self.mailbox, Operation::Fetch);
            let reply = self
                .conn
                .request(Request::Fetch {
                    mailbox: *self.mailbox.id(),
                    proof,
                    max: None,
                })
                .await
                .map_err(net)?;
            let Reply::Items { items, .. } = reply else {
                return Err(Fail::new("unexpected reply to a fetch"));
            };
            let mut done = Vec::new();
            let mut found = None;
            for item in &items {
                let opened = item_content(item, self.mailbox.id()).and_then(|content| {
                    confirm::open_confirmation(key, self.code.as_bytes(), &content).ok()
                });
                match opened {
                    Some(opened) if found.is_none() => {
                        found = Some(opened);
                        done.push(item.id);
                    }
                    // A manifest sent before the person confirmed: keep it for `wait`.
                    _ if decode_manifest(item, self.mailbox.id()).is_some() => {}
                    _ => done.push(item.id),
                }
            }
            if !done.is_empty() {
                let proof = self.conn.prove(&self.mailbox, Operation::Delete);
                let _ = self
                    .conn
                    .request(Request::Delete {
                        mailbox: *self.mailbox.id(),
                        proof,
                        items: done,
                    })
                    .await;
            }
            if let Some((digest, sas)) = found {
                self.confirmed = Some(digest);
                return Ok(sas);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Fail::new(
                    "no old device answered in time; run `backup receive` again for a new code",
                ));
            }
            let nap = if self.subscribed {
                left
            } else {
                left.min(POLL)
            };
            tokio::select! {
                frame = self.conn.next_frame() => {
                    if !matches!(frame.map_err(net)?, ServerFrame::Wake { .. }) {
                        continue;
                    }
                }
                () = tokio::time::sleep(nap.min(Duration::from_secs(30))) => {}
            }
        }
    }

    /// The code the old device needs (`quietwire:transfer#t1.…`; single use).
    #[must_use]
    pub fn code(&self) -> &str {
        &self.code
    }

    /// Waits up to `wait` for the old device's manifest (woken by the relay, or polled).
    ///
    /// # Errors
    /// Nothing arrived in time, or the connection broke.
    pub async fn wait(&mut self, wait: Duration) -> Result<Arrival> {
        let deadline = Instant::now() + wait;
        let (item, size, blobs) = loop {
            if let Some(found) = fetch_manifest(&mut self.conn, &self.mailbox).await? {
                break found;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Fail::new(
                    "no backup arrived in time; run `backup receive` again for a new code",
                ));
            }
            let nap = if self.subscribed {
                left
            } else {
                left.min(POLL)
            };
            tokio::select! {
                frame = self.conn.next_frame() => {
                    if !matches!(frame.map_err(net)?, ServerFrame::Wake { .. }) {
                        continue;
                    }
                }
                () = tokio::time::sleep(nap.min(Duration::from_secs(30))) => {}
            }
        };
        let arrival = Arrival {
            size,
            pieces: blobs.len(),
        };
        self.manifest = Some((item, size, blobs));
        Ok(arrival)
    }

    /// Downloads the pieces, checks each one's id, and reads the backup with the transfer key
    /// (nothing is committed unless the whole file is complete, authentic, and the file the
    /// person confirmed: its SHA-256 is the confirmed digest, **XBK-34**).
    ///
    /// # Errors
    /// No confirmation or manifest yet, a piece missing or wrong, a file other than the
    /// confirmed one, or a backup that does not read.
    pub async fn download(&mut self, progress: Box<dyn Progress>) -> Result<Decoded> {
        let Some(confirmed) = self.confirmed else {
            return Err(Fail::new("internal error: no confirmed transfer yet"));
        };
        let (Some((_, size, blobs)), Some(key)) = (self.manifest.as_ref(), self.key.take()) else {
            return Err(Fail::new("internal error: no transfer manifest yet"));
        };
        let (size, blobs) = (*size, blobs.clone());
        let mut reader = Reader::transfer(key, progress);
        let mut received = 0u64;
        let mut digest = Sha256::new();
        for id in &blobs {
            let blob = match self.conn.request(Request::BlobGet { blob_id: *id }).await {
                Ok(Reply::Blob { blob }) => blob,
                Ok(_) => return Err(Fail::new("unexpected reply to a blob request")),
                Err(NetError::Refused { class }) => {
                    return Err(Fail::new(format!(
                        "the relay no longer has a piece of the backup ({class}); send it again"
                    )));
                }
                Err(e) => return Err(net(e)),
            };
            if blob_id(&blob) != *id {
                return Err(Fail::new(
                    "the relay returned a wrong piece of the backup; nothing was restored",
                ));
            }
            received = received.saturating_add(blob.len() as u64);
            digest.update(&blob);
            reader.push(&blob)?;
        }
        if received != size {
            return Err(Fail::new(
                "the transfer's pieces do not add up to its size; nothing was restored",
            ));
        }
        let digest: [u8; 32] = digest.finalize().into();
        confirm::check_file_digest(&confirmed, &digest).map_err(|e| {
            Fail::new(format!(
                "the backup that arrived is not the one confirmed ({}); nothing was restored",
                e.class()
            ))
        })?;
        reader.finish()
    }

    /// Deletes the manifest from the one-time mailbox (best effort) and closes the
    /// connection; call it once the backup is restored.
    pub async fn close(mut self) {
        if let Some((item, ..)) = self.manifest.take() {
            let proof = self.conn.prove(&self.mailbox, Operation::Delete);
            let _ = self
                .conn
                .request(Request::Delete {
                    mailbox: *self.mailbox.id(),
                    proof,
                    items: vec![item],
                })
                .await;
        }
        self.conn.close().await;
    }
}

/// Fetches the one-time mailbox; returns the manifest item if it is there, deleting junk.
async fn fetch_manifest(
    conn: &mut Relay,
    mailbox: &MailboxKey,
) -> Result<Option<(ItemId, u64, Vec<[u8; 32]>)>> {
    let proof = conn.prove(mailbox, Operation::Fetch);
    let reply = conn
        .request(Request::Fetch {
            mailbox: *mailbox.id(),
            proof,
            max: None,
        })
        .await
        .map_err(net)?;
    let Reply::Items { items, .. } = reply else {
        return Err(Fail::new("unexpected reply to a fetch"));
    };
    let mut junk = Vec::new();
    for item in &items {
        match decode_manifest(item, mailbox.id()) {
            Some((size, blobs)) => return Ok(Some((item.id, size, blobs))),
            None => junk.push(item.id),
        }
    }
    if !junk.is_empty() {
        let proof = conn.prove(mailbox, Operation::Delete);
        let _ = conn
            .request(Request::Delete {
                mailbox: *mailbox.id(),
                proof,
                items: junk,
            })
            .await;
    }
    Ok(None)
}

/// The SHA-256 of the file at `path`, read in pieces.
fn file_sha256(path: &Path) -> Result<[u8; 32]> {
    let mut file = File::open(path)?;
    let mut digest = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer)?;
        let Some(read) = buffer.get(..n).filter(|r| !r.is_empty()) else {
            break;
        };
        digest.update(read);
    }
    Ok(digest.finalize().into())
}

/// A temporary file removed on drop.
struct Temp(PathBuf);

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What [`Outgoing::upload`] sent.
#[derive(Debug)]
pub struct Sent {
    /// What the backup holds, and its size.
    pub summary: Summary,
    /// Pieces it went in.
    pub pieces: usize,
}

/// A transfer offered by this (old) device: the backup is exported and the confirmation is
/// in the new device's mailbox; nothing else moves until [`Outgoing::upload`], which the
/// application calls only once the person confirmed that both devices show [`Outgoing::sas`]
/// (**XBK-33**). Dropping it removes the exported file.
pub struct Outgoing {
    code: Code,
    temp: Temp,
    summary: Summary,
    sas: Sas,
}

impl core::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Outgoing")
            .field("sas", &self.sas)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// The old device's side of a transfer, up to the confirmation: exports a backup for the
    /// new device's transfer key named in `code` (to a temporary file in `temp_dir`), and puts
    /// the confirmation naming the file's SHA-256 into the code's mailbox (**XBK-32**).
    /// `export` shows progress.
    ///
    /// # Errors
    /// Not a transfer code, the backup cannot be written, or the relay cannot be reached.
    pub async fn offer_transfer(
        &self,
        code: &str,
        temp_dir: &Path,
        export: &mut dyn Progress,
    ) -> Result<Outgoing> {
        let code = parse_code(code)?;
        let mut suffix = [0u8; 8];
        sys::rng().fill_bytes(&mut suffix);
        let temp = Temp(temp_dir.join(format!(".transfer.{}.xbk", hex::encode(suffix))));
        let options = ExportOptions::new(Methods::Transfer(code.key.clone()));
        let summary = write::write(&self.state, &options, &temp.0, export)?;
        let digest = file_sha256(&temp.0)?;
        let (message, sas) =
            confirm::seal_confirmation(&code.key, code.text.as_bytes(), &digest, &mut sys::rng())
                .map_err(|e| Fail::new(format!("cannot seal the confirmation ({})", e.class())))?;
        let mut conn = Relay::connect(self.transport(), &code.relay)
            .await
            .map_err(net)?;
        let ttl = TRANSFER_TTL.min(conn.limits().max_ttl).max(1);
        let mut item = [0u8; 16];
        sys::rng().fill_bytes(&mut item);
        conn.request(Request::Put {
            mailbox: code.mailbox,
            item,
            envelope: encode_confirmation(code.mailbox, &message)?,
            ttl,
        })
        .await
        .map_err(net)?;
        conn.close().await;
        Ok(Outgoing {
            code,
            temp,
            summary,
            sas,
        })
    }
}

impl Outgoing {
    /// The code to show; the person compares it with the new device's.
    #[must_use]
    pub const fn sas(&self) -> Sas {
        self.sas
    }

    /// What the exported backup holds.
    #[must_use]
    pub const fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Uploads the confirmed backup through the relay the code names, in pieces of the
    /// relay's attachment size, then the manifest into the code's mailbox. Call it only after
    /// the person confirmed the codes. `upload` shows progress.
    ///
    /// # Errors
    /// The relay cannot be reached or refuses a piece, or the backup needs more than
    /// [`MAX_PIECES`] pieces.
    pub async fn upload(
        self,
        transport: &dyn Transport,
        upload: &mut dyn Progress,
    ) -> Result<Sent> {
        let Outgoing {
            code,
            temp,
            summary,
            ..
        } = self;
        let mut conn = Relay::connect(transport, &code.relay).await.map_err(net)?;
        let limits = *conn.limits();
        let frame_room = usize::try_from(limits.max_frame)
            .unwrap_or(usize::MAX)
            .saturating_sub(FRAME_OVERHEAD);
        let piece = usize::try_from(limits.max_attachment)
            .unwrap_or(usize::MAX)
            .min(frame_room)
            .max(1);
        let pieces = summary.bytes.div_ceil(piece as u64);
        if pieces > MAX_PIECES as u64 {
            return Err(Fail::new(format!(
                "the backup ({} bytes) needs more than {MAX_PIECES} pieces at this relay's attachment limit",
                summary.bytes
            )));
        }
        let ttl = TRANSFER_TTL.min(limits.max_ttl).max(1);
        let mut file = File::open(&temp.0)?;
        let mut blobs = Vec::new();
        loop {
            let mut blob = Vec::with_capacity(piece);
            (&mut file).take(piece as u64).read_to_end(&mut blob)?;
            if blob.is_empty() {
                break;
            }
            let id = blob_id(&blob);
            let len = blob.len() as u64;
            match conn.request(Request::BlobPut { blob, ttl }).await {
                Ok(Reply::BlobStored { blob_id }) if blob_id == id => {}
                Ok(_) => return Err(Fail::new("unexpected reply to a blob upload")),
                Err(e) => return Err(net(e)),
            }
            blobs.push(id);
            upload.add(len);
        }
        upload.finish();
        let envelope = encode_manifest(code.mailbox, summary.bytes, &blobs)?;
        let mut item = [0u8; 16];
        sys::rng().fill_bytes(&mut item);
        conn.request(Request::Put {
            mailbox: code.mailbox,
            item,
            envelope,
            ttl,
        })
        .await
        .map_err(net)?;
        conn.close().await;
        Ok(Sent {
            summary,
            pieces: blobs.len(),
        })
    }
}
