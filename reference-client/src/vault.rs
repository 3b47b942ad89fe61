//! The encrypted state file `DIR/state.qw` and the lock that serializes processes on it.
//!
//! Local state is client-private (the protocol's snapshots, `spec/07-envelope.md` §7.7 and
//! `spec/09-delivery.md`, say only that it must be stored encrypted). The file is:
//!
//! ```text
//! "QWCSTATE" | version (1 byte) | Argon2id m_cost KiB, t_cost, p_cost (3 × u32 BE)
//!            | salt (16 bytes) | nonce (24 bytes) | XChaCha20-Poly1305(key, nonce, header, state)
//! ```
//!
//! The key is Argon2id(passphrase, salt) with the parameters of the header, over the UTF-8 of
//! the passphrase's Unicode NFC normalization (as backups do, `spec/10-backup.md` XBK-11, so
//! the same passphrase typed on keyboards that compose accents differently opens the file).
//! The parameters are checked before any work: above the caps ([`MAX_PARAMS`]) a planted file
//! could make the client allocate gigabytes; below the floor ([`MIN_PARAMS`], the backup
//! format's version-1 floor) a planted or downgraded file would make the next saves cheap to
//! guess offline. New files get the backup format's defaults ([`DEFAULT_PARAMS`]). The whole
//! header is the AEAD's associated data.
//!
//! The passphrase is the app's to ask for (the command-line client prompts, or reads
//! `QUIETWIRE_PASSPHRASE` in tests and scripts). A write goes to a temporary file in the same
//! directory, is flushed to disk, renamed over the old file, and the directory is flushed, so
//! a crash leaves either the old or the new state. Every process that reads or writes the
//! state holds an exclusive lock on `DIR/state.lock` while it does.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::Rng as _;
use zeroize::Zeroizing;

use quietwire::backup::KdfParams as BackupKdf;
use unicode_normalization::UnicodeNormalization as _;

use crate::error::{Fail, Result};
use crate::sys;

const MAGIC: &[u8; 8] = b"QWCSTATE";
const VERSION: u8 = 1;
const HEADER_LEN: usize = 8 + 1 + 12 + 16 + 24;
const TAG_LEN: usize = 16;

/// Argon2id parameters written into new files: those a backup is written with
/// (`spec/10-backup.md`): 256 MiB, 3 passes, 1 lane.
pub const DEFAULT_PARAMS: KdfParams = KdfParams {
    m_kib: narrow(BackupKdf::DEFAULT.m),
    t: narrow(BackupKdf::DEFAULT.t),
    p: narrow(BackupKdf::DEFAULT.p),
};
/// The least any file may ask for, checked before any work: the backup format's version-1
/// floor (19 MiB, 2 passes, 1 lane, OWASP's minimum for Argon2id), and at least 8 KiB of
/// memory per lane. Files written by earlier versions of this client use exactly this.
pub const MIN_PARAMS: KdfParams = KdfParams {
    m_kib: narrow(BackupKdf::FLOOR.m),
    t: narrow(BackupKdf::FLOOR.t),
    p: narrow(BackupKdf::FLOOR.p),
};

/// A backup parameter as the `u32` of this header (every one used here fits).
const fn narrow(value: u64) -> u32 {
    if value > u32::MAX as u64 {
        u32::MAX
    } else {
        value as u32
    }
}
/// The most any file may ask for: 256 MiB, 10 passes, 4 lanes.
pub const MAX_PARAMS: KdfParams = KdfParams {
    m_kib: 256 * 1024,
    t: 10,
    p: 4,
};
/// Largest state file read.
const MAX_FILE: u64 = 512 * 1024 * 1024;
/// How long a command waits for another process to release the lock.
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

/// The state directory of one identity.
#[derive(Debug)]
pub struct Home {
    dir: PathBuf,
}

/// An exclusive lock on a home's state; released on drop.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// The derived key and the header parameters it belongs to; reused for every save of a
/// process so the passphrase is stretched once.
pub struct Key {
    key: Zeroizing<[u8; 32]>,
    params: KdfParams,
    salt: [u8; 16],
}

impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Key")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Home {
    /// The home at `dir` (not created yet).
    pub fn new(dir: PathBuf) -> Home {
        Home { dir }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn state_path(&self) -> PathBuf {
        self.dir.join("state.qw")
    }

    /// Whether a state file exists.
    pub fn exists(&self) -> bool {
        self.state_path().exists()
    }

    /// Creates the directory (owner-only on Unix) if needed.
    pub fn create(&self) -> Result<()> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            builder.mode(0o700);
        }
        builder
            .create(&self.dir)
            .map_err(|e| Fail::new(format!("cannot create {}: {e}", self.dir.display())))
    }

    /// Takes the exclusive lock, waiting up to a minute for another process to finish;
    /// `on_wait` is called once if that takes more than a second.
    pub fn lock(&self, on_wait: &mut dyn FnMut()) -> Result<Lock> {
        let path = self.dir.join("state.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Fail::new(format!("cannot open {}: {e}", path.display())))?;
        let start = Instant::now();
        let mut told = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Lock { _file: file }),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => {
                    return Err(Fail::new(format!("cannot lock {}: {e}", path.display())));
                }
            }
            if start.elapsed() > LOCK_WAIT {
                return Err(Fail::new(format!(
                    "the state in {} is in use by another quietwire-client process",
                    self.dir.display()
                )));
            }
            if !told && start.elapsed() > Duration::from_secs(1) {
                on_wait();
                told = true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Reads and decrypts the state with `passphrase`, returning the plaintext and the key
    /// to save with. The caller holds the lock.
    pub fn read(&self, passphrase: &str) -> Result<(Zeroizing<Vec<u8>>, Key)> {
        self.read_inner(KeySource::Passphrase(passphrase))
    }

    /// Reads the state again with a key derived earlier (long-running `sync --watch`). The
    /// salt and parameters never change after `init`, so the key stays valid.
    pub fn reread(&self, key: &Key) -> Result<Zeroizing<Vec<u8>>> {
        self.read_inner(KeySource::Known(key))
            .map(|(plain, _)| plain)
    }

    fn read_inner(&self, source: KeySource<'_>) -> Result<(Zeroizing<Vec<u8>>, Key)> {
        let path = self.state_path();
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Fail::new(format!(
                    "no identity here ({}), run `quietwire-client init`",
                    self.dir.display()
                )));
            }
            Err(e) => return Err(Fail::new(format!("cannot read {}: {e}", path.display()))),
        };
        let len = file.metadata()?.len();
        if len > MAX_FILE {
            return Err(Fail::new("state file is too large: damaged state file"));
        }
        let bytes = fs::read(&path)?;
        let (header, ciphertext) = bytes
            .split_at_checked(HEADER_LEN)
            .ok_or_else(|| Fail::new("wrong passphrase or damaged state file"))?;
        let parsed = parse_header(header)?;
        let nonce = XNonce::from(parsed.nonce);
        let key = match source {
            KeySource::Passphrase(passphrase) => {
                let key = derive(passphrase, parsed.params, parsed.salt)?;
                match decrypt(&key, &nonce, ciphertext, header) {
                    Ok(plaintext) => return Ok((plaintext, key)),
                    Err(e) if *normalize(passphrase) == *passphrase => return Err(e),
                    Err(_) => {
                        // A file written before passphrases were normalized, with one that
                        // is not in NFC: it opens with the raw bytes, and the next save
                        // writes it under the normalized passphrase's key.
                        let legacy = derive_raw(passphrase.as_bytes(), parsed.params, parsed.salt)?;
                        let plaintext = decrypt(&legacy, &nonce, ciphertext, header)?;
                        return Ok((plaintext, key));
                    }
                }
            }
            KeySource::Known(key) => {
                if key.params != parsed.params || key.salt != parsed.salt {
                    return Err(Fail::new(
                        "the state file was re-keyed by another process; start again",
                    ));
                }
                Key {
                    key: key.key.clone(),
                    params: key.params,
                    salt: key.salt,
                }
            }
        };
        let plaintext = decrypt(&key, &nonce, ciphertext, header)?;
        Ok((plaintext, key))
    }

    /// Encrypts `plaintext` with `key` under a fresh nonce and replaces the state file
    /// atomically. The caller holds the lock.
    pub fn write(&self, key: &Key, plaintext: &[u8]) -> Result<()> {
        let mut nonce = [0u8; 24];
        sys::rng().fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&key.params.m_kib.to_be_bytes());
        out.extend_from_slice(&key.params.t.to_be_bytes());
        out.extend_from_slice(&key.params.p.to_be_bytes());
        out.extend_from_slice(&key.salt);
        out.extend_from_slice(&nonce);
        let cipher = XChaCha20Poly1305::new_from_slice(key.key.as_ref())
            .map_err(|_| Fail::new("internal error: key length"))?;
        let ciphertext = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &out,
                },
            )
            .map_err(|_| Fail::new("internal error: state encryption failed"))?;
        out.extend_from_slice(&ciphertext);
        self.replace(&out).map_err(|e| {
            Fail::new(format!(
                "cannot save the state in {}: {e}",
                self.dir.display()
            ))
        })
    }

    /// Temp file, write, fsync, rename, fsync the directory.
    fn replace(&self, bytes: &[u8]) -> io::Result<()> {
        let mut suffix = [0u8; 8];
        sys::rng().fill_bytes(&mut suffix);
        let tmp = self
            .dir
            .join(format!(".state.qw.{}.tmp", hex::encode(suffix)));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let result = (|| {
            let mut file = options.open(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            drop(file);
            fs::rename(&tmp, self.state_path())?;
            File::open(&self.dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

fn decrypt(
    key: &Key,
    nonce: &XNonce,
    ciphertext: &[u8],
    header: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let cipher = XChaCha20Poly1305::new_from_slice(key.key.as_ref())
        .map_err(|_| Fail::new("internal error: key length"))?;
    let plaintext = cipher
        .decrypt(
            nonce,
            Payload {
                msg: ciphertext,
                aad: header,
            },
        )
        .map_err(|_| Fail::new("wrong passphrase or damaged state file"))?;
    Ok(Zeroizing::new(plaintext))
}

enum KeySource<'a> {
    Passphrase(&'a str),
    Known(&'a Key),
}

/// A new key with fresh salt and the default parameters (for `init`).
pub fn new_key(passphrase: &str) -> Result<Key> {
    let mut salt = [0u8; 16];
    sys::rng().fill_bytes(&mut salt);
    derive(passphrase, DEFAULT_PARAMS, salt)
}

struct Header {
    params: KdfParams,
    salt: [u8; 16],
    nonce: [u8; 24],
}

fn parse_header(header: &[u8]) -> Result<Header> {
    let damaged = || Fail::new("wrong passphrase or damaged state file");
    let (magic, rest) = header.split_at_checked(8).ok_or_else(damaged)?;
    if magic != MAGIC {
        return Err(Fail::new("not a quietwire-client state file (bad header)"));
    }
    let (&version, rest) = rest.split_first().ok_or_else(damaged)?;
    if version != VERSION {
        return Err(Fail::new(format!(
            "state file version {version} is not supported by this client (expected {VERSION})"
        )));
    }
    let mut words = [0u32; 3];
    let mut rest = rest;
    for word in &mut words {
        let (bytes, tail) = rest.split_first_chunk::<4>().ok_or_else(damaged)?;
        *word = u32::from_be_bytes(*bytes);
        rest = tail;
    }
    let [m_kib, t, p] = words;
    let (salt, rest) = rest.split_first_chunk::<16>().ok_or_else(damaged)?;
    let (nonce, _) = rest.split_first_chunk::<24>().ok_or_else(damaged)?;
    let params = KdfParams { m_kib, t, p };
    if m_kib > MAX_PARAMS.m_kib || t > MAX_PARAMS.t || p > MAX_PARAMS.p {
        return Err(Fail::new(
            "state file asks for Argon2id parameters beyond this client's cap: damaged state file",
        ));
    }
    if m_kib < MIN_PARAMS.m_kib
        || t < MIN_PARAMS.t
        || p < MIN_PARAMS.p
        || u64::from(m_kib) < 8 * u64::from(p)
    {
        return Err(Fail::new(format!(
            "the state file's Argon2id parameters ({m_kib} KiB, {t} passes, {p} lanes) are below this client's minimum ({} KiB, {} passes, {} lane); refusing it: a file this weak was not written by this client and may have been planted or downgraded",
            MIN_PARAMS.m_kib, MIN_PARAMS.t, MIN_PARAMS.p
        )));
    }
    Ok(Header {
        params,
        salt: *salt,
        nonce: *nonce,
    })
}

/// The passphrase as the key derivation takes it: its Unicode NFC normalization.
fn normalize(passphrase: &str) -> Zeroizing<String> {
    Zeroizing::new(passphrase.nfc().collect())
}

fn derive(passphrase: &str, params: KdfParams, salt: [u8; 16]) -> Result<Key> {
    derive_raw(normalize(passphrase).as_bytes(), params, salt)
}

fn derive_raw(passphrase: &[u8], params: KdfParams, salt: [u8; 16]) -> Result<Key> {
    let argon_params = argon2::Params::new(params.m_kib, params.t, params.p, Some(32))
        .map_err(|_| Fail::new("invalid Argon2id parameters: damaged state file"))?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase, &salt, key.as_mut())
        .map_err(|_| Fail::new("key derivation failed"))?;
    Ok(Key { key, params, salt })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    /// The cheapest key a file may have.
    fn fast_key(pass: &str) -> Key {
        derive(pass, MIN_PARAMS, [3; 16]).unwrap()
    }

    #[test]
    fn round_trip_and_wrong_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path().join("h"));
        home.create().unwrap();
        let _lock = home.lock(&mut || {}).unwrap();
        home.write(&fast_key("right"), b"secret state").unwrap();
        let (plain, _) = home.read("right").unwrap();
        assert_eq!(&plain[..], b"secret state");
        let err = home.read("wrong").err().unwrap();
        assert_eq!(err.to_string(), "wrong passphrase or damaged state file");
        let raw = fs::read(home.state_path()).unwrap();
        assert!(!raw.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn header_is_authenticated_and_capped() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path().to_path_buf());
        home.write(&fast_key("p"), b"x").unwrap();
        let mut raw = fs::read(home.state_path()).unwrap();
        // Flip a salt byte: the key changes, decryption fails.
        raw[30] ^= 1;
        fs::write(home.state_path(), &raw).unwrap();
        assert!(home.read("p").is_err());
        // Ask for 4 GiB of memory: refused before any work.
        raw[9..13].copy_from_slice(&u32::MAX.to_be_bytes());
        fs::write(home.state_path(), &raw).unwrap();
        let err = home.read("p").err().unwrap().to_string();
        assert!(err.contains("cap"), "{err}");
    }

    #[test]
    fn parameters_below_the_floor_are_refused_before_any_work() {
        assert_eq!(DEFAULT_PARAMS.m_kib, 262_144);
        assert_eq!((DEFAULT_PARAMS.t, DEFAULT_PARAMS.p), (3, 1));
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path().to_path_buf());
        home.write(&fast_key("p"), b"x").unwrap();
        let good = fs::read(home.state_path()).unwrap();
        for (offset, value) in [(9, MIN_PARAMS.m_kib - 1), (13, 1), (17, 0)] {
            let mut raw = good.clone();
            raw[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
            fs::write(home.state_path(), &raw).unwrap();
            let err = home.read("p").err().unwrap().to_string();
            assert!(err.contains("below this client's minimum"), "{err}");
        }
    }

    #[test]
    fn the_passphrase_is_nfc_normalized() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path().to_path_buf());
        home.write(&fast_key("caf\u{e9}"), b"x").unwrap();
        assert_eq!(&home.read("cafe\u{301}").unwrap().0[..], b"x");
        // A file keyed with a non-NFC passphrase's raw bytes (written before normalization)
        // still opens with that passphrase.
        let legacy = derive_raw("cafe\u{301}".as_bytes(), MIN_PARAMS, [3; 16]).unwrap();
        home.write(&legacy, b"y").unwrap();
        assert_eq!(&home.read("cafe\u{301}").unwrap().0[..], b"y");
        assert!(home.read("caf\u{e9}x").is_err());
    }

    #[test]
    fn missing_state_says_run_init() {
        let dir = tempfile::tempdir().unwrap();
        let err = Home::new(dir.path().to_path_buf()).read("p").err().unwrap();
        assert!(err.to_string().contains("run `quietwire-client init`"));
    }
}
