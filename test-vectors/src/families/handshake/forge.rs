//! Forged handshake messages, built from the spec's construction (spec/05-handshake.md
//! HSK-03) with the crate's primitives, with one deliberate fault each.

use super::{Acceptor, Inviter, digest};
use crate::seeds::ReplayRng;
use quietwire::cbor::{self, Int, Value};
use quietwire::envelope;
use quietwire::hpke::Sender;
use quietwire::label::Label;

/// What a forged handshake changes relative to the honest construction.
#[derive(Default)]
pub(super) struct Forge {
    /// Device record bytes to send instead of the acceptor's own.
    pub(super) record: Option<Vec<u8>>,
    /// Sign a transcript with this `enc` instead of the real one.
    pub(super) sign_enc: Option<Vec<u8>>,
    /// Edits to the payload map before sealing.
    pub(super) edit: Option<fn(&mut std::collections::BTreeMap<Int, Value>)>,
    /// Pad with zeros only, without the 0x80 that starts the padding.
    pub(super) zero_padding: bool,
    /// Signs the labeled transcript input instead of the acceptor's identity key.
    pub(super) signature: Option<Box<TranscriptSigner>>,
}

impl Forge {
    /// Edits the payload map before sealing.
    pub(super) fn edit(edit: fn(&mut std::collections::BTreeMap<Int, Value>)) -> Forge {
        Forge { edit: Some(edit), ..Forge::default() }
    }

    /// Sends `record` instead of the acceptor's own device record.
    pub(super) fn record(record: Vec<u8>) -> Forge {
        Forge { record: Some(record), ..Forge::default() }
    }
}

/// Signs a labeled transcript input.
pub(super) type TranscriptSigner = dyn Fn(&[u8]) -> [u8; 64];

/// A forged delivery: slug part, comment, flags, the forgery, the expected class.
pub(super) type ForgedCase =
    (&'static str, &'static str, &'static [&'static str], Forge, Option<&'static str>);

/// A handshake built from the spec's construction, with `forge` applied.
pub(super) fn forged(slug: &str, acceptor: &Acceptor, inviter: &Inviter, forge: Forge) -> Vec<u8> {
    let invite = inviter.invite.invite();
    let invite_hash = digest(&inviter.invite.to_bytes());
    let randomness = acceptor.randomness(slug, invite.suite());
    let mut rng = ReplayRng::new(&[&randomness]);
    let Ok(sender) =
        Sender::setup(invite.kem_key(), &Label::HandshakeInfo.input(&[&invite_hash]), &mut rng)
    else {
        return Vec::new();
    };
    let keys = acceptor.keys();
    let record = forge.record.unwrap_or_else(|| keys.signed_record(0).to_bytes());
    let signed_enc = forge.sign_enc.unwrap_or_else(|| sender.enc().to_vec());
    let th = digest(&Label::HandshakeTranscript.input(&[
        &invite_hash,
        &signed_enc,
        &record,
        &acceptor.mailbox,
    ]));
    let signature = match &forge.signature {
        Some(sign) => sign(&Label::HandshakeSignature.input(&[&th])),
        None => keys.identity().sign(Label::HandshakeSignature, &th),
    };
    let mut map = std::collections::BTreeMap::new();
    map.insert(Int::uint(1), Value::uint(1));
    map.insert(Int::uint(2), Value::from(record.as_slice()));
    map.insert(Int::uint(3), Value::from(&acceptor.mailbox[..]));
    map.insert(Int::uint(4), Value::from(&signature[..]));
    if let Some(edit) = forge.edit {
        edit(&mut map);
    }
    let payload = cbor::encode(&Value::Map(map));
    let overhead = sender.enc().len() + 16;
    let Ok(mut padded) = envelope::pad(&payload, overhead) else {
        return Vec::new();
    };
    if forge.zero_padding
        && let Some(start) = padded.get_mut(payload.len())
    {
        *start = 0;
    }
    let mut message = sender.enc().to_vec();
    message.extend_from_slice(&sender.seal(&[], &padded));
    message
}
