//! `backup.json`: the `.xbk` format (spec/10-backup.md), CCTV style: one behaviour per test,
//! every failure class with the SHA-256 of the plaintext released before it.
//!
//! Files are large (every file has at least 23 chunks of 64 KiB), so most tests give the
//! recipe that produces a file ([`Export`]: section contents, unlock methods and the exact
//! generator bytes), its length and SHA-256, and the [`Edit`]s that turn it into the input;
//! small inputs (headers, prefixes) are given whole.

mod build;
mod confirm;
mod craft;
mod records;
// Generator code: these modules index files and tables they built themselves, so an index out
// of range is a bug of the generator, and the panic fails generation loudly; their case tables
// are tuples.
#[allow(clippy::indexing_slicing, clippy::type_complexity)]
mod headers;
#[allow(clippy::indexing_slicing, clippy::type_complexity)]
mod hidden;
#[allow(clippy::indexing_slicing, clippy::type_complexity)]
mod large;
#[allow(clippy::indexing_slicing, clippy::type_complexity)]
mod rekey_seek;
#[allow(clippy::indexing_slicing, clippy::type_complexity)]
mod small;
#[allow(clippy::indexing_slicing, clippy::type_complexity)]
mod stream;
#[allow(clippy::indexing_slicing, clippy::type_complexity)]
mod unlocking;

pub use build::{apply_edits, build_export, config_of, export_options, stream_bytes, unlock_of};
pub use rekey_seek::seek_section;

use super::{FlagDef, Ids, file};
use crate::format::VectorFile;

crate::vector_record! {
    /// Argon2id parameters as JSON.
    #[derive(Copy, Eq)]
    pub struct Kdf {
        /// Memory in KiB.
        m: u64,
        /// Passes.
        t: u64,
        /// Lanes.
        p: u64,
    }
}

crate::vector_record! {
    /// Reader caps as JSON (lowered from the spec's).
    #[derive(Copy, Eq)]
    pub struct Caps {
        /// Largest `m`.
        m: u64,
        /// Largest `t`.
        t: u64,
        /// Largest `p`.
        p: u64,
        /// Largest `m·t`.
        mt: u64,
    }
}

crate::vector_record! {
    /// The content of one section: `content`, then `streamLength` bytes of the stream
    /// `SHA-256(streamSeed ‖ u64le(0)) ‖ SHA-256(streamSeed ‖ u64le(1)) ‖ …`.
    #[derive(Default, Eq)]
    pub struct SectionContent {
        /// Literal bytes.
        content: hex?,
        /// Seed of the generated part.
        stream_seed: hex?,
        /// Length of the generated part.
        stream_length: ?u64,
    }
}

crate::vector_record! {
    /// A transfer key pair: suite and the 32-byte seed of `DeriveKeyPair`.
    #[derive(Eq)]
    pub struct TransferKey {
        /// Suite id.
        suite: u64,
        /// Key-pair seed.
        seed: hex,
    }
}

crate::vector_record! {
    /// How to produce a file (`XBK-30`): the encoder draws exactly `randomness`.
    #[derive(Eq)]
    pub struct Export {
        /// The generator bytes, in the order of `XBK-30`.
        randomness: hex,
        /// A recovery key (32 bytes).
        recovery_key: hex?,
        /// A passphrase.
        passphrase: ?String,
        /// Its Argon2id parameters (with a passphrase).
        passphrase_kdf: ?Kdf,
        /// The new device's transfer key.
        transfer: ?TransferKey,
        /// The chat PIN.
        pin: ?String,
        /// Argon2id parameters of the PIN.
        pin_kdf: Kdf,
        /// The encoder's `MAX_CHUNKS` (default 2^24).
        max_chunks: ?u64,
        /// Sections 1 to 7.
        sections: Vec<SectionContent>,
    }
}

crate::vector_record! {
    /// One edit of a file, applied in order: `xor`/`replace`/`insert` `bytes` at `offset`,
    /// `delete` `length` bytes at `offset`, `truncate` to `length`, `copy` `length` bytes from
    /// `from` over `offset`, `insertCopy` `length` bytes from `from` at `offset` (offsets in the
    /// file as it is before the edit); `seal` replaces the 65552 bytes at `offset` with chunk
    /// `index` of section `section` (final iff `last`) sealed over the plaintext `bytes`
    /// zero-filled to 65536 bytes, with the keys of the file (its recipe's `FK`, `file_id` and
    /// `PK`, and the core in its header).
    #[derive(Default, Eq)]
    pub struct Edit {
        /// The operation.
        op: String,
        /// Where.
        offset: ?u64,
        /// Bytes to write or xor.
        bytes: hex?,
        /// How many bytes.
        length: ?u64,
        /// Source offset of a copy.
        from: ?u64,
        /// Section of a sealed chunk.
        section: ?u8,
        /// Index of a sealed chunk.
        index: ?u64,
        /// Final flag of a sealed chunk.
        last: ?bool,
    }
}

impl Edit {
    /// An edit with only the op set.
    pub fn op(op: &str) -> Edit {
        Edit { op: op.into(), ..Edit::default() }
    }
}

crate::vector_record! {
    /// The secret a test unlocks with: exactly one field.
    #[derive(Default, Eq)]
    pub struct UnlockJson {
        /// A recovery key text.
        recovery_key: ?String,
        /// A passphrase.
        passphrase: ?String,
        /// A transfer key pair.
        transfer: ?TransferKey,
    }
}

crate::vector_test! {
    /// A recovery key's text, or the parsing of a typed text.
    pub struct RecoveryKeyTest {
        /// The typed or shown text.
        text: String,
        /// The key (valid tests).
        key: hex?,
        /// Whether `text` is the canonical form, which the key must print as.
        canonical: bool,
    }
}

crate::vector_test! {
    /// The encryption direction, byte for byte, and its decoding.
    pub struct ExportTest {
        /// The recipe.
        export: Export,
        /// Length of the file (valid tests).
        file_length: ?u64,
        /// SHA-256 of the file.
        file_sha256: hex?,
        /// The file's first bytes: prefix and header MAC.
        prefix: hex?,
        /// The secret that decodes the file again.
        unlock: ?UnlockJson,
        /// The PIN used when decoding.
        unlock_pin: ?String,
        /// Released bytes when decoding (the concatenated contents).
        released_length: ?u64,
        /// Their SHA-256.
        released_sha256: hex?,
        /// The hidden outcome when decoding.
        hidden: ?String,
    }
}

crate::vector_test! {
    /// A decoding: the input (whole, or a recipe and edits), the secret, the reader's
    /// configuration; the class or the hidden outcome, and the released plaintext.
    pub struct DecodeTest {
        /// The whole input, when small.
        file: hex?,
        /// The recipe of the file the edits apply to.
        export: ?Export,
        /// SHA-256 of the exported file before the edits.
        export_sha256: hex?,
        /// The edits.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        edits: Vec<Edit>,
        /// Length of the input.
        input_length: u64,
        /// SHA-256 of the input.
        input_sha256: hex,
        /// The secret.
        unlock: UnlockJson,
        /// The chat PIN, if supplied.
        pin: ?String,
        /// The reader's `MAX_CHUNKS`, if not the default.
        max_chunks: ?u64,
        /// The reader's lowered caps, if any.
        kdf_caps: ?Caps,
        /// Whether the restore layer reads the records (`XBK-21`).
        records: bool,
        /// After a successful restore, encrypt with its first session.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        then_seal: bool,
        /// Argon2id evaluations the reader must have run (where the test pins it).
        kdf_runs: ?u32,
        /// Released plaintext at success or failure.
        released_length: u64,
        /// Its SHA-256.
        released_sha256: hex,
        /// The hidden outcome (valid tests).
        hidden: ?String,
    }
}

crate::vector_test! {
    /// Re-keying (`XBK-31`).
    pub struct RekeyTest {
        /// The original file.
        export: Export,
        /// The secret that unlocks it.
        unlock: UnlockJson,
        /// The new methods: the fields of an export's methods only.
        new_methods: UnlockJson,
        /// Parameters of a new passphrase entry.
        passphrase_kdf: ?Kdf,
        /// The generator bytes re-keying draws (a new passphrase salt).
        randomness: hex,
        /// The new prefix and header MAC.
        prefix: hex?,
        /// Offset in the old file from which it is copied unchanged.
        old_header_end: ?u64,
    }
}

crate::vector_test! {
    /// Seeking (`XBK-29`): locate every section through the manifest and read one.
    pub struct SeekTest {
        /// The file's recipe.
        export: Export,
        /// Edits.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        edits: Vec<Edit>,
        /// Length of the input.
        input_length: u64,
        /// SHA-256 of the input.
        input_sha256: hex,
        /// The secret.
        unlock: UnlockJson,
        /// The section to read (1 to 6).
        section: u8,
        /// Offsets of the id bytes of sections 1 to 7 (valid tests).
        offsets: ?Vec<u64>,
        /// Chunk counts of sections 1 to 7 (valid tests).
        chunks: ?Vec<u64>,
        /// SHA-256 of the section's content (valid tests).
        content_sha256: hex?,
    }
}

crate::vector_groups! {
    /// Groups of this family.
    pub enum BackupGroup {
        /// Recovery key texts and their parsing.
        "xbk-recovery-key" => RecoveryKey(RecoveryKeyTest),
        /// The encryption direction.
        "xbk-export" => Export(ExportTest),
        /// Magic and header length.
        "xbk-container" => Container(DecodeTest),
        /// Header encoding and structure.
        "xbk-header" => Header(DecodeTest),
        /// Argon2id validity and caps.
        "xbk-kdf" => Kdf(DecodeTest),
        /// Unlocking: secrets, entries, no match.
        "xbk-unlock" => Unlock(DecodeTest),
        /// The header MAC.
        "xbk-mac" => Mac(DecodeTest),
        /// The chunk stream.
        "xbk-stream" => Stream(DecodeTest),
        /// Sections and the manifest.
        "xbk-sections" => Sections(DecodeTest),
        /// The hidden section.
        "xbk-hidden" => Hidden(DecodeTest),
        /// Records and the restore layer.
        "xbk-restore" => Restore(DecodeTest),
        /// Re-keying.
        "xbk-rekey" => Rekey(RekeyTest),
        /// Seeking through the manifest.
        "xbk-seek" => Seek(SeekTest),
        /// Sealing a transfer confirmation (XBK-32).
        "xbk-confirm-seal" => ConfirmSeal(confirm::ConfirmSealTest),
        /// Opening a transfer confirmation (XBK-33).
        "xbk-confirm-open" => ConfirmOpen(confirm::ConfirmOpenTest),
    }
}

const FLAGS: &[FlagDef] = crate::flag_defs! {
    RecoveryKey: Defined ["XBK-09", "XBK-10"]
        "The recovery key's text: alphabet, groups, checksum, normalization.";
    Export: Defined ["XBK-30", "XBK-16", "XBK-17"]
        "The encryption direction, byte for byte from the generator bytes.";
    Container: Legacy ["XBK-01", "XBK-02"]
        "Magic and header length: no near-miss or fallback parsing.";
    HeaderEncoding: Malleability ["XBK-03", "XBK-04"]
        "The header and core: canonical CBOR, limits, fields, in the spec's order.";
    UnlockSet: Defined ["XBK-06"] "The unlock entries: structure, suites, the allowed sets.";
    KdfParams: CanOfWorms ["XBK-05"] "Argon2id parameters: validity always, caps before any work.";
    NoMatch: AuthBypass ["XBK-08", "XBK-12", "XBK-13"]
        "Wrong secrets and missing entries, distinct from parse and MAC errors.";
    SecretFormat: Defined ["XBK-11", "XBK-13"] "Passphrases and PINs: NFC, length limits.";
    HeaderMac: AuthBypass ["XBK-07", "XBK-14"]
        "The header MAC over the received bytes, keyed from the file key.";
    Stream: AuthBypass ["XBK-16", "XBK-18"]
        "The chunk stream: truncation, reordering, duplication, splicing, final flags.";
    Padding: Malleability ["XBK-17", "XBK-18"]
        "Chunk content: used field, zero padding, chunk counts.";
    ChunkLimit: CanOfWorms ["XBK-17", "XBK-18"]
        "The reader's MAX_CHUNKS and the encoder's refusal.";
    Sections: MissingStep ["XBK-15", "XBK-19", "XBK-20"]
        "Section order, the manifest, nothing after it.";
    Hidden: Confidentiality ["XBK-26"]
        "The hidden section: PIN, locked mode, same size whether empty or not.";
    Records: MissingStep ["XBK-21", "XBK-22", "XBK-23"]
        "Records of the restore layer and their references.";
    StaleSession: Confidentiality ["XBK-24"]
        "A restored session never encrypts: no resumed sending chain.";
    Released: Confidentiality ["XBK-28"]
        "Only authenticated plaintext is released, chunk by chunk.";
    Rekey: Defined ["XBK-31"] "Re-keying rewrites only the header.";
    Seek: AuthBypass ["XBK-29"] "Seeking authenticates the manifest before using its counts.";
    Confirm: Basic ["XBK-32", "XBK-33"]
        "A transfer confirmation: both devices derive the same short authentication string.";
    ConfirmForged: AuthBypass ["XBK-33"]
        "A confirmation that the transfer key of this code must not open: another code, another key, altered bytes.";
    ConfirmFormat: Basic ["XBK-33", "ENC-11", "ENC-12", "ENC-13"]
        "A malformed confirmation or sealed map, refused with the class of the first failing check.";
};

/// Generates `backup.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<BackupGroup>, String> {
    let mut ids = Ids::default();
    let mut cache = build::Cache::default();
    let (i, c) = (&mut ids, &mut cache);
    let groups = crate::groups! { BackupGroup:
        RecoveryKey("Recovery key text and parsing.", small::recovery_key(i)?);
        Export("The encryption direction.", large::export(i, c)?);
        Container("Magic and header length.", small::container(i, c)?);
        Header("Header encoding and structure.", headers::header(i, c)?);
        Kdf("Argon2id validity and caps.", unlocking::kdf(i, c)?);
        Unlock("Unlocking: secrets, entries, no match.", unlocking::unlock(i, c)?);
        Mac("The header MAC.", unlocking::mac(i, c)?);
        Stream("The chunk stream.", stream::stream_group(i, c)?);
        Sections("Sections and the manifest.", stream::sections(i, c)?);
        Hidden("The hidden section.", hidden::hidden(i, c)?);
        Restore("Records and the restore layer.", records::restore(i, c)?);
        Rekey("Re-keying.", rekey_seek::rekey(i, c)?);
        Seek("Seeking through the manifest.", rekey_seek::seek(i, c)?);
        // Appended after the first release of the file, so earlier tcIds stay put.
        RecoveryKey(
            "Recovery key texts outside ASCII: no Unicode folding.",
            small::recovery_key_ascii(i)?);
        Stream(
            "Content ending in a chunk sealed as non-final.",
            stream::stream_non_final_end(i, c)?);
        ConfirmSeal(
            "Transfer confirmation (XBK-32): the message and the code shown, from the exact encapsulation randomness.",
            confirm::seal(i)?);
        ConfirmOpen(
            "Transfer confirmation (XBK-33): opened with the transfer key pair of the code, or refused with the class of the first failing check.",
            confirm::open(i)?);
    };
    Ok(file("backup", HEADER, FLAGS, groups))
}

const HEADER: &[&str] = &[
    "The .xbk backup format (spec/10-backup.md). Every test is one behaviour.",
    "Files: `file` gives a small input whole; otherwise `export` is the recipe of a file (section contents, where `streamSeed`/`streamLength` stand for the bytes SHA-256(seed || u64le(0)) || SHA-256(seed || u64le(1)) || ... cut to the length; the unlock methods; `randomness`, the exact generator bytes the encoder draws, XBK-30), `exportSha256` its SHA-256, and `edits` are applied in order to give the input (`inputLength`, `inputSha256`). Edit ops: xor/replace/insert `bytes` at `offset`; delete `length` at `offset`; truncate to `length`; copy `length` bytes from `from` over `offset`; insertCopy `length` bytes from `from` at `offset`.",
    "xbk-recovery-key: the text of `key` (when `canonical`) and the parsing of `text`: `key` or the error class.",
    "xbk-export: encode `export`; a valid file has `fileLength`, `fileSha256` and begins with `prefix`; decoding it with `unlock` (and `unlockPin`) releases `releasedLength` bytes with `releasedSha256` and ends with `hidden`.",
    "Decoding groups (xbk-container to xbk-restore): decode the input with `unlock`, `pin`, the reader's `maxChunks` and `kdfCaps`; with `records`, the restore layer checks the records. Valid: `hidden` is the outcome. Invalid: `errorClass`. Both: the plaintext released before success or failure (all Data events) has `releasedLength` and `releasedSha256`, and must be the same when the input is pushed whole, byte by byte, in 65552-byte pieces and in any other split. `kdfRuns`, when present, is the number of Argon2id evaluations the reader may have run. `thenSeal`: after the restore, encrypting with its first session must fail with `errorClass`.",
    "xbk-rekey: re-key the file of `export` unlocked with `unlock` to `newMethods`, drawing `randomness`: the new `prefix`; the rest of the old file from `oldHeaderEnd` on is kept.",
    "xbk-confirm-seal: seal a confirmation of `digest` to the transfer key of `transferSeed` for `code`, drawing `randomness`: `message` and `sas`. xbk-confirm-open: open `message` with that key pair for `code`: `digest` and `sas`, or the error class.",
    "xbk-seek: with the file's prefix, its length and its last 65553 bytes, locate the sections: `offsets` of their id bytes, `chunks`, and the SHA-256 of section `section`'s content; or the error class.",
];
