//! Domain-separation labels.
//!
//! Specified in [`spec/02-suites-and-labels.md`](../../spec/02-suites-and-labels.md). Every
//! signature, KDF, HPKE `info` and MAC input is the canonical CBOR array
//! `[label, context...]`, so no two purposes and no two splits of a context can produce
//! the same bytes.

use crate::cbor::{self, Value};

/// A registered, versioned label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Label {
    /// Signature over a device record body.
    DeviceRecord,
    /// Signature over an invite body.
    Invite,
    /// Signature of an identity over a device list body.
    DeviceList,
    /// Initial hash of a safety-code fingerprint.
    SafetyCode,
    /// HKDF `info` splitting the session secret into root key and initial header keys.
    RatchetInit,
    /// HKDF `info` of the root-key step (`KDF_RK`).
    RatchetRoot,
    /// HKDF `info` splitting the session secret of a post-quantum ratchet (§6.18).
    RatchetPqInit,
    /// HKDF `info` of the post-quantum root-key step (`KDF_RK_PQ`, §6.18).
    RatchetPqRoot,
    /// HKDF `info` of the chain-key step (`KDF_CK`): next chain key.
    RatchetChain,
    /// HKDF `info` of the chain-key step (`KDF_CK`): message key.
    RatchetMessageKey,
    /// HKDF `info` expanding a message key into AEAD key and nonce.
    RatchetMessage,
    /// AEAD associated data of an encrypted ratchet header.
    RatchetHeader,
    /// AEAD associated data of a ratchet message body.
    RatchetBody,
    /// HPKE `info` of a handshake.
    HandshakeInfo,
    /// HPKE exporter context of a handshake.
    HandshakeExport,
    /// Hash input of the handshake transcript.
    HandshakeTranscript,
    /// Ed25519 signature input of the acceptor over the transcript hash.
    HandshakeSignature,
    /// HKDF `info` deriving the session secret from the exporter and the DH.
    HandshakeSession,
    /// HPKE `info` of a reconnect message, bound to the recipient's identity key.
    ReconnectInfo,
    /// Hash input of a mailbox id.
    MailboxId,
    /// Ed25519 signature input of a proof of control of a mailbox.
    MailboxProof,
    /// Hash input of an attachment blob's id on a relay.
    BlobId,
    /// HKDF `info`: backup file key → header MAC key.
    XbkMacKey,
    /// HMAC input of a backup's header MAC.
    XbkHeader,
    /// HMAC input of a backup's core MAC.
    XbkCore,
    /// HKDF `info`: backup file key → key of sections 1 to 6 and the manifest.
    XbkSectionKey,
    /// HKDF `info`: backup file key and PIN key → key of the hidden section.
    XbkHiddenKey,
    /// AEAD associated data of every backup chunk.
    XbkChunk,
    /// HKDF `info`: unlock secret → `check` and `pad` of a backup unlock entry.
    XbkUnlock,
    /// SHA-256 input of the recovery-key checksum.
    XbkRecoveryChecksum,
    /// HPKE `info` of a backup transfer entry.
    XbkTransferInfo,
    /// HPKE `aad` of a backup transfer entry.
    XbkTransferAad,
    /// HPKE `info` of a transfer confirmation, bound to the transfer code.
    XbkConfirmInfo,
    /// HPKE exporter context of a transfer confirmation's short authentication string.
    XbkConfirmSas,
}

impl Label {
    /// Every registered label.
    pub const ALL: [Label; 34] = [
        Label::DeviceRecord,
        Label::Invite,
        Label::DeviceList,
        Label::SafetyCode,
        Label::RatchetInit,
        Label::RatchetRoot,
        Label::RatchetPqInit,
        Label::RatchetPqRoot,
        Label::RatchetChain,
        Label::RatchetMessageKey,
        Label::RatchetMessage,
        Label::RatchetHeader,
        Label::RatchetBody,
        Label::HandshakeInfo,
        Label::HandshakeExport,
        Label::HandshakeTranscript,
        Label::HandshakeSignature,
        Label::HandshakeSession,
        Label::ReconnectInfo,
        Label::MailboxId,
        Label::MailboxProof,
        Label::BlobId,
        Label::XbkMacKey,
        Label::XbkHeader,
        Label::XbkCore,
        Label::XbkSectionKey,
        Label::XbkHiddenKey,
        Label::XbkChunk,
        Label::XbkUnlock,
        Label::XbkRecoveryChecksum,
        Label::XbkTransferInfo,
        Label::XbkTransferAad,
        Label::XbkConfirmInfo,
        Label::XbkConfirmSas,
    ];

    /// The label string of the registry.
    pub const fn as_str(self) -> &'static str {
        match self {
            Label::DeviceRecord => "quietwire/v1/device-record",
            Label::Invite => "quietwire/v1/invite",
            Label::DeviceList => "quietwire/v1/device-list",
            Label::SafetyCode => "quietwire/v1/safety-code",
            Label::RatchetInit => "quietwire/v1/ratchet-init",
            Label::RatchetRoot => "quietwire/v1/ratchet-root",
            Label::RatchetPqInit => "quietwire/v1/ratchet-pq-init",
            Label::RatchetPqRoot => "quietwire/v1/ratchet-pq-root",
            Label::RatchetChain => "quietwire/v1/ratchet-chain",
            Label::RatchetMessageKey => "quietwire/v1/ratchet-message-key",
            Label::RatchetMessage => "quietwire/v1/ratchet-message",
            Label::RatchetHeader => "quietwire/v1/ratchet-header",
            Label::RatchetBody => "quietwire/v1/ratchet-body",
            Label::HandshakeInfo => "quietwire/v1/handshake-info",
            Label::HandshakeExport => "quietwire/v1/handshake-export",
            Label::HandshakeTranscript => "quietwire/v1/handshake-transcript",
            Label::HandshakeSignature => "quietwire/v1/handshake-signature",
            Label::HandshakeSession => "quietwire/v1/handshake-session",
            Label::ReconnectInfo => "quietwire/v1/reconnect-info",
            Label::MailboxId => "quietwire/v1/mailbox-id",
            Label::MailboxProof => "quietwire/v1/mailbox-proof",
            Label::BlobId => "quietwire/v1/blob-id",
            Label::XbkMacKey => "quietwire/v1/xbk-mac-key",
            Label::XbkHeader => "quietwire/v1/xbk-header",
            Label::XbkCore => "quietwire/v1/xbk-core",
            Label::XbkSectionKey => "quietwire/v1/xbk-section-key",
            Label::XbkHiddenKey => "quietwire/v1/xbk-hidden-key",
            Label::XbkChunk => "quietwire/v1/xbk-chunk",
            Label::XbkUnlock => "quietwire/v1/xbk-unlock",
            Label::XbkRecoveryChecksum => "quietwire/v1/xbk-recovery-checksum",
            Label::XbkTransferInfo => "quietwire/v1/xbk-transfer-info",
            Label::XbkTransferAad => "quietwire/v1/xbk-transfer-aad",
            Label::XbkConfirmInfo => "quietwire/v1/xbk-confirm-info",
            Label::XbkConfirmSas => "quietwire/v1/xbk-confirm-sas",
        }
    }

    /// The labeled input `[label, context...]` with byte-string context items.
    pub fn input(self, context: &[&[u8]]) -> Vec<u8> {
        let mut items = Vec::with_capacity(context.len() + 1);
        items.push(Value::from(self.as_str()));
        items.extend(context.iter().map(|c| Value::from(*c)));
        cbor::encode(&Value::Array(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labeled_input_is_a_cbor_array() {
        let input = Label::Invite.input(&[b"ab"]);
        let mut expected = vec![0x82, 0x73];
        expected.extend_from_slice(b"quietwire/v1/invite");
        expected.extend_from_slice(&[0x42, b'a', b'b']);
        assert_eq!(input, expected);
    }
}
