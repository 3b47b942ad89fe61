//! `relay-session` tests of malformed requests (**[RLY-03]**): each frame is refused with its
//! class, the relay closes the connection, and it answers nothing more.

use quietwire::cbor::{self, Value};
use quietwire::mailbox::{MailboxKey, Operation};
use quietwire::relay::{Limits, RequestFrame};

use super::script::{Script, Want};
use super::sessions::{TTL, bytes, frame, item, put, put_entries, request, with};
use super::{Ids, SessionTest};
use crate::raw;
use crate::seeds::seed32;

/// Every malformed request, on a connection with the default limits.
pub(super) fn decoding(ids: &mut Ids, tests: &mut Vec<SessionTest>) -> Result<(), String> {
    let a = MailboxKey::from_seed(&seed32("relay/mailbox/a"));
    let mb = *a.id();
    let it = item("decoding", 1);
    let env = bytes("decoding", 40);
    let base = put_entries(&mb, it, &env);
    let good = frame(&base);
    if RequestFrame::decode(&good, &Limits::DEFAULT).is_err() {
        return Err("relay decoding: the base frame does not decode".to_owned());
    }
    // The base put with key `k` set to the encoded value `v`, or removed.
    let set = |k: i64, v: Vec<u8>| frame(&with(&base, &[(k, Some(v))]));
    let unset = |k: i64| frame(&with(&base, &[(k, None)]));
    // An item list whose first item is nested in four more arrays.
    let nested = vec![0x81, 0x81, 0x81, 0x81, 0x40];
    let mut cases: Vec<(&str, &str, Vec<u8>, &str)> = crate::tuples! { vec:
        "non-cbor", "0xff: a break outside an indefinite item", vec![0xff], "cbor.malformed.break";
        "truncated", "a put frame without its last byte",
            good.get(..good.len() - 1).unwrap_or_default().to_vec(), "cbor.truncated";
        "two-items", "two request maps in one frame (one CBOR item per frame)",
            [good.clone(), good.clone()].concat(), "cbor.trailing";
        "non-minimal-integer", "the request id 1 encoded in two bytes",
            set(2, raw::wide_head(0, 1, 1)), "cbor.noncanonical.integer";
        "key-order", "the request id before the version",
            { let mut e = base.clone(); e.swap(0, 1); frame(&e) }, "cbor.noncanonical.key_order";
        "indefinite-map", "the request map with an indefinite length",
            [&[0xbf], good.get(1..).unwrap_or_default(), &[0xff]].concat(),
            "cbor.noncanonical.indefinite";
        "tagged", "the request map under tag 24", [vec![0xd8, 0x18], good.clone()].concat(),
            "cbor.unsupported.tag";
        "deep", "a delete whose item list nests arrays five deep",
            request(1, 3, &[(4, raw::bstr(&mb)), (8, raw::bstr(&[0])), (9, nested)]),
            "cbor.limit.depth";
        "not-a-map", "an array of the request's values",
            raw::array(&base.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>()),
            "schema.wrong_type";
        "version-2", "version 2: refused before the id is read (the error frame has id 0)",
            set(1, raw::head(0, 2)), "schema.version";
        "no-version", "no version", unset(1), "schema.missing_field";
        "key-zero", "a key 0 before the version", set(0, raw::head(0, 0)),
            "schema.unknown_critical";
        "no-id", "no request id", unset(2), "schema.missing_field";
        "id-zero", "request id 0", set(2, raw::head(0, 0)), "schema.range";
        "id-2-32", "request id 2^32", set(2, raw::head(0, 1 << 32)), "schema.range";
        "id-bytes", "a request id that is a byte string", set(2, raw::bstr(&[1])),
            "schema.wrong_type";
        "no-op", "no operation (the error frame echoes the id)", unset(3), "schema.missing_field";
        "op-negative", "operation -1 (not an unsigned integer)", set(3, raw::head(1, 0)),
            "schema.wrong_type";
        "op-text", "an operation that is a text string", set(3, cbor::encode(&Value::from("put"))),
            "schema.wrong_type";
        "put-no-ttl", "a put without its TTL", unset(7), "schema.missing_field";
        "put-extra-key", "a put with a proof (key 8 belongs to other operations)",
            set(8, raw::bstr(&[0])), "schema.unknown_critical";
        "put-extension-key", "a put with key -1: requests are closed, negative keys included",
            set(-1, raw::head(0, 0)), "schema.unknown_critical";
        "put-mailbox-text", "a mailbox id that is a text string",
            set(4, cbor::encode(&Value::from("mailbox"))), "schema.wrong_type";
        "put-mailbox-31", "a 31-byte mailbox id",
            set(4, raw::bstr(mb.get(..31).unwrap_or_default())), "schema.length";
        "put-item-15", "a 15-byte item id", set(5, raw::bstr(it.get(..15).unwrap_or_default())),
            "schema.length";
        "put-empty-envelope", "an empty envelope", set(6, raw::bstr(&[])), "schema.length";
        "put-ttl-2-32", "a TTL of 2^32 seconds", set(7, raw::head(0, 1 << 32)), "schema.range";
        "put-ttl-negative", "a TTL of -1", set(7, raw::head(1, 0)), "schema.wrong_type";
        "blob-put-empty", "an empty blob",
            request(1, 5, &[(6, raw::bstr(&[])), (7, raw::head(0, u64::from(TTL)))]),
            "schema.length";
        "blob-get-id-31", "a 31-byte blob id", request(1, 6, &[(10, raw::bstr(&[0; 31]))]),
            "schema.length";
    };
    let proof = Script::prove(&a, Operation::Delete);
    let delete =
        |items: Vec<u8>| request(1, 3, &[(4, raw::bstr(&mb)), (8, raw::bstr(&proof)), (9, items)]);
    cases.extend(crate::tuples! {
        "delete-empty-list", "a delete naming no item", delete(raw::array(&[])), "schema.length";
        "delete-item-15", "a delete naming a 15-byte item id",
            delete(raw::array(&[raw::bstr(&[0; 15])])), "schema.length";
        "delete-items-bytes", "a delete whose item list is a byte string", delete(raw::bstr(&it)),
            "schema.wrong_type";
        "delete-list-above-decoder-limit",
            "a delete naming 1025 items: more than the decoder's max_items, 1024",
            delete(raw::array(
                &(0..1025u16)
                    .map(|i| {
                        let mut id = [0u8; 16];
                        id[..2].copy_from_slice(&i.to_be_bytes());
                        raw::bstr(&id)
                    })
                    .collect::<Vec<_>>(),
            )),
            "cbor.limit.size";
        "delete-no-proof",
            "a delete without a proof",
            request(1, 3, &[(4, raw::bstr(&mb)), (9, raw::array(&[raw::bstr(&it)]))]),
            "schema.missing_field";
    });
    let fetch_proof = Script::prove(&a, Operation::Fetch);
    let fetch_with = |proof: Vec<u8>, max: Option<Vec<u8>>| {
        let max = max.map(|m| (11, m));
        request(1, 2, &[(4, raw::bstr(&mb)), (8, proof)].into_iter().chain(max).collect::<Vec<_>>())
    };
    cases.extend(crate::tuples! {
        "fetch-proof-text", "a fetch whose proof is a text string",
            fetch_with(cbor::encode(&Value::from("proof")), None), "schema.wrong_type";
        "fetch-proof-map",
            "a fetch whose proof is the proof's map itself, not a byte string holding it",
            fetch_with(fetch_proof.clone(), None), "schema.wrong_type";
        "fetch-max-2-32", "a fetch of at most 2^32 items",
            fetch_with(raw::bstr(&fetch_proof), Some(raw::head(0, 1 << 32))), "schema.range";
    });
    for (slug, comment, request, class) in cases {
        let mut s = Script::new(slug, Limits::DEFAULT);
        s.key("a");
        s.raw(request, Want::Close(class))?;
        s.send(put(&mb, it, &env, TTL), Want::Closed)?;
        tests.push(s.finish(
            ids,
            &format!(
                "{comment}: an error frame with {class}, and the relay closes the connection; it answers nothing more"
            ),
            &["Decoding"],
        )?);
    }
    Ok(())
}
