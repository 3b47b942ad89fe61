//! The operations an implementation under test answers, one per vector group type.

use quietwire_test_vectors::families::backup::{Caps, Export, Kdf, UnlockJson};
use quietwire_test_vectors::families::cbor::LimitsJson;
use quietwire_test_vectors::families::device_record::RecordFields;
use quietwire_test_vectors::families::invite::InviteFields;
use quietwire_test_vectors::families::relay::RelayLimits;

/// Why an operation produced no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The implementation rejected the input with this error class.
    Error {
        /// Registry name of the class.
        class: String,
    },
    /// The implementation does not implement this feature.
    Unimplemented {
        /// The feature name.
        feature: String,
    },
}

/// The answer to one operation.
pub type OpResult<T> = Result<T, Failure>;

/// The answer of an operation the implementation does not provide.
pub fn unimplemented<T>(feature: &str) -> OpResult<T> {
    Err(Failure::Unimplemented {
        feature: feature.to_owned(),
    })
}

/// Inputs to create an invite from explicit randomness.
#[derive(Clone, Debug)]
pub struct InviteCreate<'a> {
    /// Suite id.
    pub suite: u64,
    /// Ed25519 secret seed.
    pub identity_seed: &'a [u8],
    /// The RNG output: invite id ‖ KEM seed ‖ ratchet secret.
    pub randomness: Vec<u8>,
    /// Relay hints.
    pub relay_hints: &'a [String],
    /// Bootstrap mailbox.
    pub mailbox: &'a [u8],
    /// Expiry.
    pub expires: u64,
    /// Single use.
    pub single_use: bool,
}

/// The context of one HPKE operation.
#[derive(Clone, Copy, Debug)]
pub struct HpkeInput<'a> {
    /// Suite id.
    pub suite: u64,
    /// The recipient's 32-byte KEM seed.
    pub recipient_seed: &'a [u8],
    /// HPKE `info`.
    pub info: &'a [u8],
    /// AEAD associated data.
    pub aad: &'a [u8],
    /// Exporter context.
    pub exporter_context: &'a [u8],
    /// The plaintext (seal only).
    pub plaintext: &'a [u8],
}

/// What a seal produces: (enc, ciphertext, exported secret).
pub type HpkeSealed = (Vec<u8>, Vec<u8>, Vec<u8>);

/// A decoded event, as the runner compares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedEvent {
    /// Kind id.
    pub kind: u64,
    /// Message id.
    pub message_id: Vec<u8>,
    /// Critical flag.
    pub critical: bool,
    /// Whether the kind is registered (an unregistered, non-critical event is ignored).
    pub known: bool,
    /// The canonical re-encoding.
    pub reencoded: Vec<u8>,
}

/// The acceptor's inputs to a handshake.
#[derive(Clone, Copy, Debug)]
pub struct HandshakeInitiate<'a> {
    /// The signed invite.
    pub invite: &'a [u8],
    /// The suite of the acceptor's device keys.
    pub suite: u64,
    /// Ed25519 seed.
    pub identity_seed: &'a [u8],
    /// KEM seed.
    pub kem_seed: &'a [u8],
    /// X25519 ratchet secret.
    pub ratchet_secret: &'a [u8],
    /// Device record generation.
    pub generation: u64,
    /// The acceptor's mailbox.
    pub mailbox: &'a [u8],
    /// The RNG output.
    pub randomness: &'a [u8],
}

/// (message, transcript hash, initiator ratchet snapshot).
pub type HandshakeSealed = (Vec<u8>, Vec<u8>, Vec<u8>);

/// What the inviter learns from an accepted handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandshakeAccepted {
    /// The acceptor's identity key.
    pub peer_identity: Vec<u8>,
    /// The acceptor's mailbox.
    pub peer_mailbox: Vec<u8>,
    /// The transcript hash.
    pub transcript_hash: Vec<u8>,
    /// The responder ratchet's snapshot.
    pub snapshot: Vec<u8>,
}

/// The restored device's inputs to a reconnect (spec/05-handshake.md `HSK-07`).
#[derive(Clone, Copy, Debug)]
pub struct ReconnectSeal<'a> {
    /// The contact's signed device record.
    pub contact_record: &'a [u8],
    /// The restored device's fresh signed invite.
    pub invite: &'a [u8],
    /// The restored device's new signed device record.
    pub record: &'a [u8],
    /// The RNG output: the HPKE encapsulation randomness.
    pub randomness: &'a [u8],
}

/// The contact's inputs to opening a reconnect (`HSK-08`).
#[derive(Clone, Debug)]
pub struct ReconnectOpen<'a> {
    /// The suite of the contact's device keys.
    pub suite: u64,
    /// Ed25519 seed.
    pub identity_seed: &'a [u8],
    /// Device KEM seed.
    pub kem_seed: &'a [u8],
    /// X25519 ratchet secret.
    pub ratchet_secret: &'a [u8],
    /// The reconnect message.
    pub message: &'a [u8],
    /// The identity key held for the mailbox the message arrived in.
    pub expected_identity: &'a [u8],
    /// The generation of the device record held for that identity (HSK-08 check 9).
    pub held_generation: u64,
    /// SHA-256 of the invites already accepted through its reconnects (HSK-08 check 8).
    pub accepted_invites: &'a [Vec<u8>],
    /// The contact's `now`.
    pub now: u64,
    /// Allowed suites.
    pub allowed_suites: &'a [u64],
}

/// What an opened reconnect yields: (invite, device record), as received.
pub type ReconnectOpened = (Vec<u8>, Vec<u8>);

/// The time of a relay step: wall-clock seconds and monotonic milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelayTime {
    /// Seconds since the epoch.
    pub unix: u64,
    /// Monotonic milliseconds.
    pub millis: u64,
}

/// What a relay did with one frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayHandled {
    /// The reply frame; empty when the relay sends nothing.
    pub reply: Vec<u8>,
    /// The error class of a failed request.
    pub error_class: Option<String>,
    /// Whether the relay closes the connection after the reply.
    pub close: bool,
    /// The mailbox that gained an item (its subscribers are woken).
    pub wake: Option<Vec<u8>>,
}

/// An opaque handle to a ratchet state held by the implementation under test.
pub type Handle = u64;

/// Which side of a ratchet session to create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Sends first; starts from the responder's public ratchet key.
    Initiator,
    /// Receives first; holds the ratchet key pair.
    Responder,
}

/// A log of the exchanges with an implementation (a shim's requests and replies, one line
/// each), shared with the runner, which drains it case by case and keeps it in the report of
/// each case that did not pass.
pub type Transcript = std::rc::Rc<std::cell::RefCell<Vec<String>>>;

/// Inputs of a backup decoding (spec/10-backup.md, `XBK-27`, `XBK-28`).
#[derive(Clone, Debug)]
pub struct BackupDecode<'a> {
    /// The whole input.
    pub input: &'a [u8],
    /// The secret.
    pub unlock: &'a UnlockJson,
    /// The chat PIN.
    pub pin: Option<&'a str>,
    /// The reader's `MAX_CHUNKS`, if not the default.
    pub max_chunks: Option<u64>,
    /// The reader's lowered Argon2id caps.
    pub caps: Option<Caps>,
    /// Whether the restore layer checks the records.
    pub records: bool,
    /// After a successful restore, encrypt with its first session and report that class.
    pub then_seal: bool,
    /// Push sizes, repeated; empty: the whole input in one push.
    pub pushes: &'a [usize],
}

/// What a backup decoding observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupDecoded {
    /// The class of the failure (or of the seal, with `then_seal`), if any.
    pub class: Option<String>,
    /// The hidden outcome on success.
    pub hidden: Option<String>,
    /// Released plaintext length.
    pub released_length: u64,
    /// SHA-256 of the released plaintext.
    pub released_sha256: Vec<u8>,
    /// Argon2id evaluations run.
    pub kdf_runs: u32,
    /// How many slices the input was cut into by the push sizes (SHIM-06).
    pub slices: u64,
}

/// How many slices `pushes` cuts an input of `len` bytes into (SHIM-06): the sizes in turn,
/// repeated, the last slice possibly shorter; no sizes is one slice of everything. `None` if a
/// size is 0.
pub fn slice_count(len: usize, pushes: &[usize]) -> Option<u64> {
    if pushes.contains(&0) {
        return None;
    }
    if pushes.is_empty() {
        return Some(1);
    }
    let (mut rest, mut count) = (len, 0u64);
    for size in pushes.iter().cycle() {
        if rest == 0 && count > 0 {
            break;
        }
        rest = rest.saturating_sub(*size);
        count += 1;
    }
    Some(count)
}

/// What seeking found: id-byte offsets and chunk counts of sections 1 to 7, and the content
/// of the section read.
pub type BackupSeek = (Vec<u64>, Vec<u64>, Vec<u8>);

/// An implementation under test. Binary values are raw bytes; suites are registry ids.
///
/// Stateful layers (the ratchet) default to answering `unimplemented`, which the runner
/// reports case by case; nothing is skipped silently.
pub trait Implementation {
    /// Name and version, for reports.
    fn name(&self) -> String;

    /// The log of exchanges, if the implementation keeps one (a shim does; the built-in
    /// implementation, called in process, does not).
    fn transcript(&self) -> Option<Transcript> {
        None
    }

    /// Decodes deterministic CBOR with `limits` and returns the re-encoding.
    fn cbor_decode(&mut self, input: &[u8], limits: LimitsJson) -> OpResult<Vec<u8>>;

    /// Builds and signs a device record from explicit secrets.
    fn device_record_create(
        &mut self,
        suite: u64,
        identity_seed: &[u8],
        kem_seed: &[u8],
        ratchet_secret: &[u8],
        generation: u64,
    ) -> OpResult<Vec<u8>>;

    /// Verifies a device record; returns its fields and its re-encoding.
    fn device_record_verify(
        &mut self,
        record: &[u8],
        allowed_suites: &[u64],
    ) -> OpResult<(RecordFields, Vec<u8>)>;

    /// The 64-byte safety-code fingerprint of an identity key.
    fn safety_fingerprint(&mut self, identity_key: &[u8]) -> OpResult<Vec<u8>>;

    /// The displayed safety code of two identity keys.
    fn safety_code(&mut self, a: &[u8], b: &[u8]) -> OpResult<String>;

    /// The QR payload shown by `own` for `peer`.
    fn safety_qr_create(&mut self, own: &[u8], peer: &[u8]) -> OpResult<Vec<u8>>;

    /// Checks a scanned QR payload.
    fn safety_qr_verify(&mut self, payload: &[u8], own: &[u8], peer: &[u8]) -> OpResult<()>;

    /// Encodes an identity key as `did:key`.
    fn did_key_encode(&mut self, key: &[u8]) -> OpResult<String>;

    /// Decodes a `did:key` to the identity key.
    fn did_key_decode(&mut self, did: &str) -> OpResult<Vec<u8>>;

    /// Creates a signed invite from explicit randomness.
    fn invite_create(&mut self, input: &InviteCreate<'_>) -> OpResult<Vec<u8>>;

    /// Verifies an invite at `now`; returns its fields and its re-encoding.
    fn invite_verify(
        &mut self,
        invite: &[u8],
        now: u64,
        allowed_suites: &[u64],
    ) -> OpResult<(InviteFields, Vec<u8>)>;

    /// Encodes a signed invite as a link with `base` and as a QR payload.
    fn invite_encode(&mut self, invite: &[u8], base: &str) -> OpResult<(String, Vec<u8>)>;

    /// Parses and verifies a link; returns the invite bytes.
    fn invite_link_parse(
        &mut self,
        link: &str,
        now: u64,
        allowed_suites: &[u64],
    ) -> OpResult<Vec<u8>>;

    /// Parses and verifies a QR payload; returns the invite bytes.
    fn invite_qr_parse(&mut self, qr: &[u8], now: u64, allowed_suites: &[u64])
    -> OpResult<Vec<u8>>;

    /// HPKE base-mode seal to the key pair derived from `recipient_seed`, with the RNG
    /// yielding exactly `randomness`; returns (enc, ciphertext, exported secret).
    fn hpke_seal(&mut self, input: &HpkeInput<'_>, randomness: &[u8]) -> OpResult<HpkeSealed> {
        let _ = (input, randomness);
        unimplemented("hpke")
    }

    /// HPKE base-mode open with the key pair derived from `recipient_seed`; returns
    /// (plaintext, exported secret).
    fn hpke_open(
        &mut self,
        input: &HpkeInput<'_>,
        enc: &[u8],
        ciphertext: &[u8],
    ) -> OpResult<(Vec<u8>, Vec<u8>)> {
        let _ = (input, enc, ciphertext);
        unimplemented("hpke")
    }

    /// The bucket of an unpadded blob of `length` bytes.
    fn envelope_bucket(&mut self, length: u64) -> OpResult<u64> {
        let _ = length;
        unimplemented("envelope")
    }

    /// Pads `content` for an encryption that adds `overhead` bytes.
    fn envelope_pad(&mut self, content: &[u8], overhead: u64) -> OpResult<Vec<u8>> {
        let _ = (content, overhead);
        unimplemented("envelope")
    }

    /// Removes padding.
    fn envelope_unpad(&mut self, padded: &[u8]) -> OpResult<Vec<u8>> {
        let _ = padded;
        unimplemented("envelope")
    }

    /// Receives an envelope fetched from `mailbox`: decodes it, checks its mailbox, and
    /// returns the blob.
    fn envelope_receive(&mut self, envelope: &[u8], mailbox: &[u8]) -> OpResult<Vec<u8>> {
        let _ = (envelope, mailbox);
        unimplemented("envelope")
    }

    /// Decodes an envelope: (mailbox, blob).
    fn envelope_decode(&mut self, envelope: &[u8]) -> OpResult<(Vec<u8>, Vec<u8>)> {
        let _ = envelope;
        unimplemented("envelope")
    }

    /// Decodes an event: its kind, message id, critical flag, whether the kind is
    /// registered, and its re-encoding.
    fn event_decode(&mut self, event: &[u8]) -> OpResult<DecodedEvent> {
        let _ = event;
        unimplemented("event")
    }

    /// Decides whether device `record`, received in a `device-record` event from the
    /// session peer whose identity key is `peer_identity`, replaces the record kept for the
    /// contact, of generation `held_generation` (`None`: none kept), under the suite policy
    /// `allowed_suites` (ENV-07). Returns the generation of the record now kept; an error
    /// names why the record is ignored.
    fn event_device_record(
        &mut self,
        peer_identity: &[u8],
        held_generation: Option<u64>,
        record: &[u8],
        allowed_suites: &[u64],
    ) -> OpResult<u64> {
        let _ = (peer_identity, held_generation, record, allowed_suites);
        unimplemented("event")
    }

    /// The mailbox key of `seed`: (public key, mailbox id, proof for `challenge`, the relay
    /// `origin` and the operation code).
    fn mailbox_prove(
        &mut self,
        seed: &[u8],
        challenge: &[u8],
        origin: &str,
        operation: u64,
    ) -> OpResult<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        let _ = (seed, challenge, origin, operation);
        unimplemented("mailbox")
    }

    /// The relay origin of `url` (MBX-05).
    fn mailbox_origin(&mut self, url: &str) -> OpResult<String> {
        let _ = url;
        unimplemented("mailbox")
    }

    /// Verifies a proof of control at a relay whose only origin is `origin`.
    fn mailbox_verify(
        &mut self,
        mailbox: &[u8],
        challenge: &[u8],
        origin: &str,
        operation: u64,
        proof: &[u8],
    ) -> OpResult<()> {
        let _ = (mailbox, challenge, origin, operation, proof);
        unimplemented("mailbox")
    }

    /// The acceptor's handshake for `invite` with device keys from seeds; the RNG yields
    /// exactly `randomness`. Returns (message, transcript hash, initiator snapshot).
    fn handshake_initiate(&mut self, input: &HandshakeInitiate<'_>) -> OpResult<HandshakeSealed> {
        let _ = input;
        unimplemented("handshake")
    }

    /// Holds `invite` with the KEM key pair of `kem_seed` and the ratchet secret, ready to
    /// accept handshakes.
    fn handshake_listen(
        &mut self,
        invite: &[u8],
        kem_seed: &[u8],
        ratchet_secret: &[u8],
    ) -> OpResult<Handle> {
        let _ = (invite, kem_seed, ratchet_secret);
        unimplemented("handshake")
    }

    /// Accepts one handshake message at `now` with the allowed suites.
    fn handshake_accept(
        &mut self,
        handle: Handle,
        message: &[u8],
        now: u64,
        allowed_suites: &[u64],
    ) -> OpResult<HandshakeAccepted> {
        let _ = (handle, message, now, allowed_suites);
        unimplemented("handshake")
    }

    /// A restored device's reconnect message for a contact: `invite` and `record` sealed to
    /// `contact_record` with the RNG yielding exactly `randomness`.
    fn reconnect_seal(&mut self, input: &ReconnectSeal<'_>) -> OpResult<Vec<u8>> {
        let _ = input;
        unimplemented("reconnect")
    }

    /// Opens a reconnect message with the contact's device keys from seeds; returns the
    /// verified invite and device record, as received.
    fn reconnect_open(&mut self, input: &ReconnectOpen<'_>) -> OpResult<ReconnectOpened> {
        let _ = input;
        unimplemented("reconnect")
    }

    /// Opens a relay connection with `limits`, `challenge` and the relay's only `origin` over
    /// a fresh, empty store at `now`; returns its handle and the welcome frame.
    fn relay_open(
        &mut self,
        limits: &RelayLimits,
        challenge: &[u8],
        origin: &str,
        now: RelayTime,
    ) -> OpResult<(Handle, Vec<u8>)> {
        let _ = (limits, challenge, origin, now);
        unimplemented("relay")
    }

    /// Hands one request frame to a relay connection at `now`; while `store_unavailable`,
    /// every operation of the connection's store fails.
    fn relay_handle(
        &mut self,
        handle: Handle,
        request: &[u8],
        now: RelayTime,
        store_unavailable: bool,
    ) -> OpResult<RelayHandled> {
        let _ = (handle, request, now, store_unavailable);
        unimplemented("relay")
    }

    /// Decodes a frame from a relay, accepting at most `max_frame` bytes; returns its kind
    /// (`welcome`, `ok`, `error` or `wake`) and its canonical re-encoding.
    fn relay_frame_decode(&mut self, frame: &[u8], max_frame: u64) -> OpResult<(String, Vec<u8>)> {
        let _ = (frame, max_frame);
        unimplemented("relay")
    }

    /// Creates one side of a ratchet session. `responder_secret` is the responder's X25519
    /// ratchet secret; the initiator uses only its public key.
    fn ratchet_init(
        &mut self,
        role: Role,
        session_secret: &[u8],
        associated_data: &[u8],
        responder_secret: &[u8],
    ) -> OpResult<Handle> {
        let _ = (role, session_secret, associated_data, responder_secret);
        unimplemented("ratchet")
    }

    /// Restores a ratchet state from its snapshot.
    fn ratchet_restore(&mut self, snapshot: &[u8]) -> OpResult<Handle> {
        let _ = snapshot;
        unimplemented("ratchet")
    }

    /// Encrypts with the RNG yielding exactly `randomness` (drawing fewer or more bytes is
    /// a failure of the implementation).
    fn ratchet_encrypt(
        &mut self,
        handle: Handle,
        plaintext: &[u8],
        randomness: &[u8],
    ) -> OpResult<Vec<u8>> {
        let _ = (handle, plaintext, randomness);
        unimplemented("ratchet")
    }

    /// Encrypts `count` empty messages with the RNG stream SHA-256(seed ‖ u64le(i));
    /// returns the ciphertexts concatenated.
    fn ratchet_encrypt_stream(
        &mut self,
        handle: Handle,
        count: u32,
        seed: &[u8],
    ) -> OpResult<Vec<u8>> {
        let _ = (handle, count, seed);
        unimplemented("ratchet")
    }

    /// Decrypts one message.
    fn ratchet_decrypt(&mut self, handle: Handle, message: &[u8]) -> OpResult<Vec<u8>> {
        let _ = (handle, message);
        unimplemented("ratchet")
    }

    /// Opens `message` as a blob of one's own mailbox (ENV-09): decrypts it, removes the
    /// padding and decodes the event; returns the event's encoding. The state changes only
    /// if all three succeed.
    fn ratchet_decrypt_event(&mut self, handle: Handle, message: &[u8]) -> OpResult<Vec<u8>> {
        let _ = (handle, message);
        unimplemented("ratchet")
    }

    /// The canonical snapshot of a state.
    fn ratchet_snapshot(&mut self, handle: Handle) -> OpResult<Vec<u8>> {
        let _ = handle;
        unimplemented("ratchet")
    }

    /// The text form of a 32-byte recovery key (`XBK-09`).
    fn backup_recovery_text(&mut self, key: &[u8]) -> OpResult<String> {
        let _ = key;
        unimplemented("backup")
    }

    /// Parses a typed recovery key (`XBK-10`).
    fn backup_recovery_parse(&mut self, text: &str) -> OpResult<Vec<u8>> {
        let _ = text;
        unimplemented("backup")
    }

    /// Encodes the file of a recipe, drawing exactly its `randomness` (`XBK-30`).
    fn backup_export(&mut self, export: &Export) -> OpResult<Vec<u8>> {
        let _ = export;
        unimplemented("backup")
    }

    /// Decodes a file as pushed in `pushes`; a decoding failure is an observation, not an
    /// error of the operation.
    fn backup_decode(&mut self, decode: &BackupDecode<'_>) -> OpResult<BackupDecoded> {
        let _ = decode;
        unimplemented("backup")
    }

    /// Re-keys the file whose prefix and header MAC are `old_prefix` (`XBK-31`); returns the
    /// new prefix and the old header end.
    fn backup_rekey(
        &mut self,
        old_prefix: &[u8],
        unlock: &UnlockJson,
        new_methods: &UnlockJson,
        passphrase_kdf: Option<Kdf>,
        randomness: &[u8],
    ) -> OpResult<(Vec<u8>, u64)> {
        let _ = (old_prefix, unlock, new_methods, passphrase_kdf, randomness);
        unimplemented("backup")
    }

    /// Seeks section `section` of `file` through its manifest (`XBK-29`).
    fn backup_seek(
        &mut self,
        file: &[u8],
        unlock: &UnlockJson,
        section: u8,
    ) -> OpResult<BackupSeek> {
        let _ = (file, unlock, section);
        unimplemented("backup")
    }
}
