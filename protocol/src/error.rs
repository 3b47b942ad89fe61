//! Errors and the closed registry of error classes.
//!
//! Every failure the protocol can report maps to exactly one [`ErrorClass`], a stable dotted
//! name from the registry in [`spec/14-registries.md`](../../spec/14-registries.md). The
//! classes are grouped by who is at fault ([`Fault`]): malformed bytes, a peer that sent
//! well-formed but invalid data, a local policy or time check, or misuse of this API.
//!
//! Test vectors name the class an implementation must report for each invalid input, so the
//! class is part of the contract; the Rust variant names are not.

use core::fmt;

/// Who is at fault for an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The input bytes are not a well-formed encoding of the expected structure.
    Malformed,
    /// The input is well-formed but violates the protocol (bad key, bad signature, ...).
    Peer,
    /// The input is valid but refused by a local policy or a time check.
    Policy,
    /// The caller used this API wrongly; never caused by untrusted data alone.
    Misuse,
}

impl Fault {
    /// The name used in the spec's registry table.
    pub const fn as_str(self) -> &'static str {
        match self {
            Fault::Malformed => "malformed",
            Fault::Peer => "peer",
            Fault::Policy => "policy",
            Fault::Misuse => "misuse",
        }
    }
}

macro_rules! error_classes {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $fault:ident; )*) => {
        /// One entry of the spec's closed error-class registry.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorClass {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorClass {
            /// Every class in the registry, in registry order.
            pub const ALL: &'static [ErrorClass] = &[ $( ErrorClass::$variant, )* ];

            /// The registry name, e.g. `cbor.noncanonical.integer`.
            pub const fn as_str(self) -> &'static str {
                match self { $( ErrorClass::$variant => $name, )* }
            }

            /// Who is at fault when this class is reported.
            pub const fn fault(self) -> Fault {
                match self { $( ErrorClass::$variant => Fault::$fault, )* }
            }

            /// Looks a class up by its registry name.
            pub fn from_name(name: &str) -> Option<ErrorClass> {
                match name { $( $name => Some(ErrorClass::$variant), )* _ => None }
            }
        }
    };
}

error_classes! {
    /// The input ended inside an item.
    CborTruncated = "cbor.truncated", Malformed;
    /// Bytes follow the top-level item.
    CborTrailing = "cbor.trailing", Malformed;
    /// A head argument is not in its shortest form.
    CborNonMinimal = "cbor.noncanonical.integer", Malformed;
    /// An indefinite-length string, array or map.
    CborIndefinite = "cbor.noncanonical.indefinite", Malformed;
    /// Map keys are not in bytewise lexicographic order of their encodings.
    CborKeyOrder = "cbor.noncanonical.key_order", Malformed;
    /// A map key occurs twice.
    CborDuplicateKey = "cbor.noncanonical.duplicate_key", Malformed;
    /// A tag (major type 6).
    CborTag = "cbor.unsupported.tag", Malformed;
    /// A floating-point number.
    CborFloat = "cbor.unsupported.float", Malformed;
    /// A simple value other than `false` and `true`.
    CborSimple = "cbor.unsupported.simple", Malformed;
    /// A map key that is not an integer.
    CborKeyType = "cbor.unsupported.key_type", Malformed;
    /// Reserved additional information (28 to 30, or 31 where no indefinite form exists).
    CborAdditionalInfo = "cbor.malformed.additional_info", Malformed;
    /// A "break" stop code outside an indefinite-length item.
    CborBreak = "cbor.malformed.break", Malformed;
    /// A text string that is not valid UTF-8.
    CborUtf8 = "cbor.malformed.utf8", Malformed;
    /// The whole input is longer than the structure allows.
    CborLimitInput = "cbor.limit.input", Malformed;
    /// Containers nested deeper than the structure allows.
    CborLimitDepth = "cbor.limit.depth", Malformed;
    /// A string, array or map longer than the structure allows.
    CborLimitSize = "cbor.limit.size", Malformed;
    /// The structure's version is not supported.
    SchemaVersion = "schema.version", Malformed;
    /// An unknown non-negative (critical) map key.
    SchemaUnknownCritical = "schema.unknown_critical", Malformed;
    /// A required field is absent.
    SchemaMissingField = "schema.missing_field", Malformed;
    /// A field or item has the wrong CBOR type.
    SchemaWrongType = "schema.wrong_type", Malformed;
    /// A byte string, text string or array has a length the schema does not allow.
    SchemaLength = "schema.length", Malformed;
    /// An integer outside the range its field allows.
    SchemaRange = "schema.range", Malformed;
    /// A QR payload does not start with the expected magic.
    QrMagic = "qr.magic", Malformed;
    /// An invite link is longer than allowed.
    LinkLength = "link.length", Malformed;
    /// An invite link does not have the required shape.
    LinkFormat = "link.format", Malformed;
    /// The invite link's fragment is not canonical unpadded base64url.
    LinkBase64 = "link.base64", Malformed;
    /// A `did:key` string or its decoded key has the wrong length.
    DidKeyLength = "didkey.length", Malformed;
    /// A string that does not start with `did:key:`.
    DidKeyScheme = "didkey.scheme", Malformed;
    /// A `did:key` whose multibase prefix is not `z` (base58btc).
    DidKeyMultibase = "didkey.multibase", Malformed;
    /// Invalid or non-canonical base58btc.
    DidKeyBase58 = "didkey.base58", Malformed;
    /// A multicodec prefix other than `ed25519-pub` (0xed 0x01).
    DidKeyMulticodec = "didkey.multicodec", Malformed;
    /// A ratchet message too short to hold an encrypted header and a body tag.
    RatchetFormat = "ratchet.format", Malformed;
    /// An envelope blob whose length is not a bucket.
    EnvelopeBucket = "envelope.bucket", Malformed;
    /// An event of kind 0 (reserved).
    EventKind = "event.kind", Malformed;
    /// A handshake message too short for its suite's encapsulated key and tag, or longer
    /// than the largest handshake.
    HandshakeFormat = "handshake.format", Malformed;
    /// A ratchet snapshot whose fields contradict each other.
    RatchetState = "ratchet.state", Malformed;
    /// An HPKE encapsulated key of the wrong length for the suite.
    HpkeEncapsulation = "hpke.encapsulation", Malformed;
    /// A relay frame longer than the relay's announced maximum.
    RelayFrameTooLarge = "relay.frame_too_large", Malformed;
    /// A relay request for an operation the relay does not define.
    RelayOperation = "relay.operation", Malformed;
    /// A file that does not start with `QWB1` or a later version's magic.
    BackupMagic = "backup.magic", Malformed;
    /// The magic of a later version of the backup format (`QWB2` to `QWB9`).
    BackupVersion = "backup.version", Malformed;
    /// A backup that ends inside its container (before the end of the manifest).
    BackupTruncated = "backup.truncated", Malformed;
    /// Bytes after a backup's manifest.
    BackupTrailing = "backup.trailing", Malformed;
    /// Argon2id parameters that are invalid or below the version-1 floor.
    BackupKdfParams = "backup.kdf_params", Malformed;
    /// A backup header without an unlock entry, or with a transfer entry and another.
    BackupUnlockSet = "backup.unlock_set", Malformed;
    /// A recovery key text that is not 60 characters of the alphabet after normalization.
    BackupRecoveryKeyFormat = "backup.recovery_key_format", Malformed;
    /// A recovery key text whose checksum does not match (a typo).
    BackupRecoveryKeyChecksum = "backup.recovery_key_checksum", Malformed;
    /// A backup section id other than the next expected one.
    BackupSectionOrder = "backup.section_order", Malformed;
    /// A backup record of length 0 or above the limit, or cut by the end of its section.
    BackupRecordLength = "backup.record_length", Malformed;
    /// A backup record kind that is unregistered or not allowed in its section.
    BackupRecordKind = "backup.record_kind", Malformed;
    /// A backup identity section without exactly one identity record.
    BackupIdentityCount = "backup.identity_count", Malformed;
    /// A public key that does not decode to a valid key of its type.
    KeyInvalid = "key.invalid", Peer;
    /// A public key in a non-canonical encoding.
    KeyNonCanonical = "key.noncanonical", Peer;
    /// A public key of small order.
    KeyLowOrder = "key.low_order", Peer;
    /// A signature that does not verify under strict Ed25519 rules.
    IdentitySignature = "identity.signature", Peer;
    /// A device record in a `device-record` event whose identity key is not the session
    /// peer's.
    IdentityMismatch = "identity.mismatch", Peer;
    /// A device record in a `device-record` event that is not of a higher generation than
    /// the one kept for the contact.
    IdentityGeneration = "identity.generation", Peer;
    /// A device list naming more than `MAX_DEVICES` devices.
    DeviceTooMany = "device.too_many", Malformed;
    /// A device list naming a device twice.
    DeviceDuplicate = "device.duplicate", Malformed;
    /// A device list whose devices are not in ascending order of their key bytes.
    DeviceOrder = "device.order", Malformed;
    /// A device list whose version is not higher than the one held for the identity.
    DeviceStale = "device.stale", Peer;
    /// A device record whose signer the device list held for its identity does not name (or a
    /// version-2 record for which no list is held, or a version-1 record once one is).
    DeviceNotListed = "device.not_listed", Peer;
    /// A relay hint that is not a `wss://` or `ws://` URL of the allowed shape.
    InviteRelayHint = "invite.relay_hint", Peer;
    /// An envelope fetched from one mailbox that names another.
    EnvelopeMailbox = "envelope.mailbox", Peer;
    /// Authenticated content that does not end in the padding `0x80 0x00*`.
    EnvelopePadding = "envelope.padding", Peer;
    /// A critical event of a kind this implementation does not know.
    EventUnknownCritical = "event.unknown_critical", Peer;
    /// A handshake whose device record is of another suite than the invite.
    HandshakeSuite = "handshake.suite", Peer;
    /// A handshake the invite already accepted, or a reconnect whose invite was accepted.
    HandshakeReplay = "handshake.replay", Peer;
    /// A reconnect whose invite or device record is not of the expected contact's identity.
    HandshakeIdentity = "handshake.identity", Peer;
    /// A reconnect whose device record is not of a higher generation than the one held.
    HandshakeGeneration = "handshake.generation", Peer;
    /// The KEM rejected an encapsulated key (an X25519 share of small order).
    HpkeDecapsulation = "hpke.decapsulation", Peer;
    /// An HPKE ciphertext that does not authenticate.
    HpkeOpen = "hpke.open", Peer;
    /// A mailbox proof whose key is not the one the mailbox id commits to.
    MailboxKey = "mailbox.key", Peer;
    /// A mailbox proof made for a relay origin that is not one of the verifier's own.
    MailboxOrigin = "mailbox.origin", Peer;
    /// A mailbox proof whose signature does not verify for this mailbox, challenge and
    /// operation.
    MailboxProof = "mailbox.proof", Peer;
    /// A put reusing an item id of the mailbox with different content.
    RelayConflict = "relay.conflict", Peer;
    /// A scanned safety-code QR that does not match the two identities.
    SafetyMismatch = "safety.mismatch", Peer;
    /// No header key of the session opens the message's header.
    RatchetHeader = "ratchet.header", Peer;
    /// The header opened but the body does not authenticate.
    RatchetBody = "ratchet.body", Peer;
    /// The message's key was already used or is no longer stored.
    RatchetReplay = "ratchet.replay", Peer;
    /// The KEM ciphertext of a new chain of a post-quantum ratchet disagrees with the
    /// receiver's state: a ciphertext where it holds no KEM key, or none where it holds one.
    RatchetKem = "ratchet.kem", Peer;
    /// The backup has no unlock entry for the method the caller used.
    BackupNoEntry = "backup.no_entry", Peer;
    /// The recovery key, passphrase or transfer key does not unlock the backup.
    BackupNoMatch = "backup.no_match", Peer;
    /// A file received by transfer whose SHA-256 is not the digest the person confirmed.
    BackupTransferDigest = "backup.transfer_digest", Peer;
    /// The backup's header MAC does not verify under the unwrapped file key.
    BackupHeaderMac = "backup.header_mac", Peer;
    /// A backup chunk that does not authenticate at its position.
    BackupChunkAuth = "backup.chunk_auth", Peer;
    /// Authenticated chunk content with a bad `used` field, non-zero padding or the wrong
    /// number of chunks.
    BackupPadding = "backup.padding", Peer;
    /// The backup's manifest disagrees with the sections read or with the file length.
    BackupManifestMismatch = "backup.manifest_mismatch", Peer;
    /// A backup identity seed that does not derive the identity key of its record.
    BackupIdentityMismatch = "backup.identity_mismatch", Peer;
    /// A backup record that redefines an id or refers to an undefined one.
    BackupReference = "backup.reference", Peer;
    /// An unknown suite id.
    SuiteUnknown = "suite.unknown", Policy;
    /// A known suite that the local policy does not accept.
    SuiteDisallowed = "suite.disallowed", Policy;
    /// An invite whose expiry is not after the caller-supplied `now`.
    InviteExpired = "invite.expired", Policy;
    /// A handshake for a single-use invite that already accepted one.
    InviteUsed = "invite.used", Policy;
    /// Opening the message would skip more message keys than the limit allows.
    RatchetJumpLimit = "ratchet.jump_limit", Policy;
    /// A TTL of zero or above the relay's announced maximum.
    RelayTtl = "relay.ttl", Policy;
    /// An envelope or attachment larger than the relay's announced maximum.
    RelayTooLarge = "relay.too_large", Policy;
    /// The mailbox holds the relay's announced maximum of items.
    RelayMailboxFull = "relay.mailbox_full", Policy;
    /// The connection exceeded the relay's announced request rate.
    RelayRate = "relay.rate", Policy;
    /// The connection holds the relay's announced maximum of subscriptions.
    RelaySubscriptions = "relay.subscriptions", Policy;
    /// No unexpired attachment blob has the requested id.
    RelayNotFound = "relay.not_found", Policy;
    /// The relay could not make the write durable (or read its store); retry later.
    RelayUnavailable = "relay.unavailable", Policy;
    /// A put or blob-put beyond the connection's upload budget.
    RelayQuota = "relay.quota", Policy;
    /// A put or blob-put that would bring the relay's stored bytes above its storage quota.
    RelayStorageFull = "relay.storage_full", Policy;
    /// Argon2id parameters above the reader's caps, refused before any work.
    BackupKdfCap = "backup.kdf_cap", Policy;
    /// A backup section with more chunks than the reader accepts.
    BackupChunkLimit = "backup.chunk_limit", Policy;
    /// Encrypting before this side has a sending chain (the responder before its first
    /// receipt).
    RatchetNoSendingChain = "ratchet.no_sending_chain", Misuse;
    /// The sending chain's counter is exhausted (2^32 − 1 messages without a reply).
    RatchetExhausted = "ratchet.exhausted", Misuse;
    /// A relay origin or relay URL that is not of the canonical `ws://`/`wss://` shape.
    MailboxOriginFormat = "mailbox.origin_format", Misuse;
    /// Content too large for the largest bucket (send it as an attachment).
    EnvelopeTooLarge = "envelope.too_large", Misuse;
    /// A passphrase or chat PIN that is empty or too long after NFC normalization.
    BackupSecretFormat = "backup.secret_format", Misuse;
    /// Encrypting with a session restored from a backup (a new handshake is needed).
    BackupSessionStale = "backup.session_stale", Misuse;
    /// Backup section content that needs more chunks than allowed (encoder).
    BackupTooLarge = "backup.too_large", Misuse;
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error reported by this crate: a registry class plus, where it helps, the byte offset
/// in the input at which the problem was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    class: ErrorClass,
    offset: Option<usize>,
}

impl Error {
    /// An error of the given class without position information.
    pub const fn new(class: ErrorClass) -> Self {
        Error {
            class,
            offset: None,
        }
    }

    /// An error of the given class found at `offset` in the input.
    pub const fn at(class: ErrorClass, offset: usize) -> Self {
        Error {
            class,
            offset: Some(offset),
        }
    }

    /// The registry class of this error.
    pub const fn class(&self) -> ErrorClass {
        self.class
    }

    /// Who is at fault.
    pub const fn fault(&self) -> Fault {
        self.class.fault()
    }

    /// The byte offset in the decoded input, where one is known.
    pub const fn offset(&self) -> Option<usize> {
        self.offset
    }
}

impl From<ErrorClass> for Error {
    fn from(class: ErrorClass) -> Self {
        Error::new(class)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(offset) => write!(f, "{} at byte {}", self.class, offset),
            None => write!(f, "{}", self.class),
        }
    }
}

impl std::error::Error for Error {}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for class in ErrorClass::ALL {
            assert!(seen.insert(class.as_str()), "duplicate {class}");
            assert_eq!(ErrorClass::from_name(class.as_str()), Some(*class));
        }
        assert_eq!(ErrorClass::from_name("cbor"), None);
    }

    #[test]
    fn display_includes_offset() {
        assert_eq!(
            Error::at(ErrorClass::CborTrailing, 7).to_string(),
            "cbor.trailing at byte 7"
        );
        assert_eq!(
            Error::new(ErrorClass::InviteExpired).to_string(),
            "invite.expired"
        );
    }
}
