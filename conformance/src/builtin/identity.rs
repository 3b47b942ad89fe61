//! The built-in `cbor`, `identity`, `device-keys`, `device-list`, `safety`, `did-key` and
//! `invite` operations
//! (spec/01-encoding.md, spec/03-identity.md, spec/04-contact-establishment.md).

use quietwire::cbor::{self, Limits};
use quietwire::identity::{
    DeviceKeys, ListChange, SignedDeviceList, SignedDeviceRecord, newer_list,
};
use quietwire::invite::{Invite, InviteParams, SignedInvite};
use quietwire::keys::{IdentityKeyPair, KemSecret, X25519Secret};
use quietwire::safety::{Fingerprint, SafetyCode, SafetyQr};
use quietwire::suite::SuitePolicy;
use quietwire::{UnixTime, did_key};
use quietwire_test_vectors::families::cbor::LimitsJson;
use quietwire_test_vectors::families::device_record::{ListFields, RecordFields};
use quietwire_test_vectors::families::invite::InviteFields;
use quietwire_test_vectors::seeds::ReplayRng;
use serde_json::json;

use super::{
    Dispatched, bad_input, err, identity_key, key32, no_dispatcher, object, policy, suite, to_value,
};
use crate::implementation::OpResult;
use crate::shim::{Fields, hex};

pub(super) fn call(op: &str, a: Fields<'_>) -> Dispatched {
    Ok(match op {
        "cbor-decode" => {
            let input = a.bytes("input")?;
            let limits: Limits = object::<LimitsJson>(a, "limits")?.into();
            cbor::decode(&input, &limits)
                .map(|v| json!({"reencoded": hex(&cbor::encode(&v))}))
                .map_err(err)
        }
        "device-record-create" => record_create(
            a.u64("suite")?,
            &a.bytes("identitySeed")?,
            &a.bytes("kemSeed")?,
            &a.bytes("ratchetSecret")?,
            a.u64("generation")?,
        ),
        "device-record-verify" => record_verify(
            &a.bytes("record")?,
            &a.u64_list("allowedSuites")?,
            a.bytes_opt("deviceList")?.as_deref(),
        ),
        "device-list-create" => list_create(a)?,
        "device-list-verify" => list_verify(
            &a.bytes("list")?,
            &a.bytes("pinnedIdentity")?,
            a.u64_opt("heldVersion")?,
        ),
        "device-keys-load" => DeviceKeys::from_bytes(&a.bytes("keys")?)
            .map(|k| {
                json!({
                    "keys": hex(&k.to_bytes()),
                    "identityKey": hex(k.identity().public().as_bytes()),
                    "kemKey": hex(k.kem().public().as_bytes()),
                    "ratchetKey": hex(k.ratchet().public().as_bytes()),
                })
            })
            .map_err(err),
        "safety-fingerprint" => identity_key(&a.bytes("identityKey")?)
            .map(|k| json!({"fingerprint": hex(Fingerprint::of(&k).as_bytes())})),
        "safety-code" => {
            let (ka, kb) = (a.bytes("identityKeyA")?, a.bytes("identityKeyB")?);
            (|| -> OpResult<_> {
                let code = SafetyCode::new(&identity_key(&ka)?, &identity_key(&kb)?);
                Ok(json!({"code": code.to_string()}))
            })()
        }
        "safety-qr-create" => {
            let (own, peer) = (a.bytes("ownKey")?, a.bytes("peerKey")?);
            (|| -> OpResult<_> {
                let qr = SafetyQr::new(&identity_key(&own)?, &identity_key(&peer)?);
                Ok(json!({"payload": hex(&qr.to_bytes())}))
            })()
        }
        "safety-qr-verify" => {
            let (payload, own, peer) =
                (a.bytes("payload")?, a.bytes("ownKey")?, a.bytes("peerKey")?);
            (|| -> OpResult<_> {
                SafetyQr::verify_scanned(&payload, &identity_key(&own)?, &identity_key(&peer)?)
                    .map_err(err)?;
                Ok(json!({}))
            })()
        }
        "did-key-encode" => {
            identity_key(&a.bytes("key")?).map(|k| json!({"did": did_key::encode(&k)}))
        }
        "did-key-decode" => did_key::decode(a.str("did")?)
            .map(|k| json!({"key": hex(k.as_bytes())}))
            .map_err(err),
        "invite-create" => invite_create(a)?,
        "invite-verify" => {
            let (invite, now) = (a.bytes("invite")?, a.u64("now")?);
            let allowed = a.u64_list("allowedSuites")?;
            SignedInvite::from_bytes(&invite, UnixTime(now), &policy(&allowed))
                .map_err(err)
                .and_then(|signed| {
                    Ok(json!({
                        "fields": to_value(&InviteFields::of(signed.invite()))?,
                        "reencoded": hex(&signed.to_bytes()),
                    }))
                })
        }
        "invite-encode" => {
            let (invite, base) = (a.bytes("invite")?, a.str("base")?);
            // Encoding needs a decoded invite; verify at time 0 so that any unexpired invite
            // decodes.
            SignedInvite::from_bytes(&invite, UnixTime(0), &SuitePolicy::ALL)
                .and_then(|signed| {
                    let link = signed.to_link(base)?;
                    Ok(json!({"link": link, "qr": hex(&signed.to_qr())}))
                })
                .map_err(err)
        }
        "invite-link-parse" => {
            let (link, now) = (a.str("link")?, a.u64("now")?);
            let allowed = a.u64_list("allowedSuites")?;
            SignedInvite::from_link(link, UnixTime(now), &policy(&allowed))
                .map(|i| json!({"invite": hex(&i.to_bytes())}))
                .map_err(err)
        }
        "invite-qr-parse" => {
            let (qr, now) = (a.bytes("qr")?, a.u64("now")?);
            let allowed = a.u64_list("allowedSuites")?;
            SignedInvite::from_qr(&qr, UnixTime(now), &policy(&allowed))
                .map(|i| json!({"invite": hex(&i.to_bytes())}))
                .map_err(err)
        }
        other => return no_dispatcher(other),
    })
}

fn record_create(
    suite_id: u64,
    identity_seed: &[u8],
    kem_seed: &[u8],
    ratchet_secret: &[u8],
    generation: u64,
) -> OpResult<serde_json::Value> {
    let suite = suite(suite_id)?;
    let keys = DeviceKeys::from_parts(
        suite,
        IdentityKeyPair::from_seed(&key32(identity_seed)?),
        KemSecret::from_seed(suite, &key32(kem_seed)?),
        X25519Secret::from_bytes(&key32(ratchet_secret)?),
    );
    Ok(json!({"record": hex(&keys.signed_record(generation).to_bytes())}))
}

fn record_verify(
    record: &[u8],
    allowed: &[u64],
    list: Option<&[u8]>,
) -> OpResult<serde_json::Value> {
    let policy = policy(allowed);
    let signed = match list {
        Some(list) => {
            let list = SignedDeviceList::from_bytes(list).map_err(err)?;
            SignedDeviceRecord::from_bytes_listed(record, &policy, list.list())
        }
        None => SignedDeviceRecord::from_bytes(record, &policy),
    }
    .map_err(err)?;
    let r = signed.record();
    let fields = RecordFields {
        suite: r.suite().id(),
        identity_key: r.identity_key().as_bytes().to_vec(),
        kem_key: r.kem_key().as_bytes().to_vec(),
        ratchet_key: r.ratchet_key().as_bytes().to_vec(),
        generation: r.generation(),
        extensions: r.extensions().len(),
        device_key: r.device_key().map(|k| k.as_bytes().to_vec()),
    };
    Ok(json!({"fields": to_value(&fields)?, "reencoded": hex(&signed.to_bytes())}))
}

/// `device-list-create`: the list the identity seed issues (DEV-01).
fn list_create(a: Fields<'_>) -> Result<OpResult<serde_json::Value>, String> {
    let seed = a.bytes("identitySeed")?;
    let (version, change, issued) = (a.u64("version")?, a.u64("change")?, a.u64("issued")?);
    let devices = a.bytes_list("devices")?;
    Ok((|| {
        let identity = IdentityKeyPair::from_seed(&key32(&seed)?);
        let devices = devices
            .iter()
            .map(|d| identity_key(d))
            .collect::<OpResult<Vec<_>>>()?;
        let change = ListChange::from_id(change).map_err(err)?;
        let list = SignedDeviceList::issue(&identity, version, devices, change, UnixTime(issued))
            .map_err(err)?;
        Ok(json!({"list": hex(&list.to_bytes())}))
    })())
}

/// `device-list-verify`: verification and acceptance of a list (DEV-02, DEV-03).
fn list_verify(list: &[u8], pinned: &[u8], held: Option<u64>) -> OpResult<serde_json::Value> {
    let pinned = identity_key(pinned)?;
    let accepted = newer_list(list, &pinned, held).map_err(err)?;
    let l = accepted.list();
    let fields = ListFields {
        identity_key: l.identity_key().as_bytes().to_vec(),
        version: l.version(),
        devices: l.devices().iter().map(|d| d.as_bytes().to_vec()).collect(),
        change: l.change().id(),
        issued: l.issued().as_secs(),
        extensions: l.extensions().len(),
    };
    Ok(json!({"fields": to_value(&fields)?, "reencoded": hex(&accepted.to_bytes())}))
}

/// `invite-create`: the invite of explicit randomness (invite id ‖ KEM seed ‖ ratchet secret).
fn invite_create(a: Fields<'_>) -> Result<OpResult<serde_json::Value>, String> {
    let (identity_seed, mailbox) = (a.bytes("identitySeed")?, a.bytes("mailbox")?);
    let relay_hints = a.str_list("relayHints")?;
    let (suite_id, randomness) = (a.u64("suite")?, a.bytes("randomness")?);
    let (expires, single_use) = (a.u64("expires")?, a.bool("singleUse")?);
    Ok((|| {
        let suite = suite(suite_id)?;
        let identity = IdentityKeyPair::from_seed(&key32(&identity_seed)?);
        let params = InviteParams {
            relay_hints,
            mailbox: key32(&mailbox)?,
            expires: UnixTime(expires),
            single_use,
        };
        let mut rng = ReplayRng::new(&[&randomness]);
        let (invite, _secrets) = Invite::create(&identity, suite, params, &mut rng).map_err(err)?;
        if !rng.finished() {
            return Err(bad_input("randomness_length"));
        }
        Ok(json!({"invite": hex(&invite.to_bytes())}))
    })())
}
