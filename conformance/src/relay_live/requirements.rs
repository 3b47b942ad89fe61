//! The requirement text of the live relay cases, quoted from
//! `spec/08-mailboxes-and-relay.md` §8.6 (a test checks that every quote is in the chapter,
//! word for word).

/// The requirement a scripted session of a rule checks.
pub(crate) fn of_rule(rule: &str) -> &'static str {
    match rule {
        "RLY-03" => RLY_03_DECODE,
        "RLY-04" => RLY_04_ENFORCE,
        "RLY-05" => RLY_05_PUT,
        "RLY-06" => RLY_06_OWNER,
        "RLY-07" => RLY_07_SUBSCRIBE,
        "RLY-08" => RLY_08_BLOB,
        "RLY-09" => RLY_09_EXPIRY,
        "RLY-10" => RLY_10_BUCKET,
        "RLY-11" => RLY_11_OPAQUE,
        "RLY-16" => RLY_16_QUOTA,
        _ => "",
    }
}

pub(crate) const RLY_01_BINARY: &str = "Every frame MUST be sent as one WebSocket binary message (opcode 2; it may be fragmented, RFC 6455 §5.4)";
pub(crate) const RLY_01_TEXT: &str = "A relay MUST close the connection, without sending an error frame, when it receives a text message or a message it cannot read at the WebSocket layer";
pub(crate) const RLY_01_TLS: &str =
    "A relay MUST be served over TLS (`wss://`) except on a loopback interface or in tests";
pub(crate) const RLY_02_WELCOME: &str = "The first frame a relay sends on every connection MUST be the welcome (§8.6.3): version 1, request id 0, kind 0, the connection's challenge and the relay's limits";
pub(crate) const RLY_02_CHALLENGE: &str = "The challenge MUST be 32 bytes drawn from a cryptographically secure generator for this connection alone; a relay MUST NOT reuse it on another connection";
pub(crate) const RLY_03_DECODE: &str = "A relay MUST decode every binary message of a connection as a request, checking in this order and answering the first failure with an error frame of the class named";
pub(crate) const RLY_03_CLOSE: &str = "Every failure of steps 1 to 9 except `relay.operation` MUST close the connection: the relay sends the error frame with `closing = true`, then closes the connection, and MUST NOT act on or answer any later message of it.";
pub(crate) const RLY_03_UNKNOWN: &str = "For `relay.operation` the relay MUST send the error frame with `closing = false` and keep the connection open";
pub(crate) const RLY_03_ORDER: &str = "Until it closes the connection, a relay MUST answer every message it reads, whether it decodes or not, with exactly one ok or error frame, and MUST send these answers in the order in which it received the messages";
pub(crate) const RLY_03_TOO_LARGE: &str =
    "a message longer than `max_frame` bytes → `relay.frame_too_large`";
pub(crate) const RLY_03_OVERSIZED: &str = "it MAY instead close the connection without an error frame, as for an unreadable message, **[RLY-01]**, when a message exceeds `2 × max_frame` bytes";
pub(crate) const RLY_04_ENFORCE: &str = "A relay MUST announce its limits in the welcome as the map `relay-limits`, keys 1 to 10 of Table 8-5, each an unsigned integer, and MUST enforce on the connection exactly the limits it announced.";
pub(crate) const RLY_04_DEFAULTS: &str =
    "A relay SHOULD announce the reference defaults unless it has a reason to differ.";
pub(crate) const RLY_05_PUT: &str = "Put. A relay MUST check, in this order:";
pub(crate) const RLY_05_DURABLE: &str = "The relay MUST NOT send the ok before the item is durable: it survives a crash of the relay process and of the machine.";
pub(crate) const RLY_05_RETRY: &str = "A repeated put (step 3) is answered ok only once the held item and its new expiry are durable.";
pub(crate) const RLY_06_OWNER: &str = "Only the holder of a mailbox's key can fetch from it or delete from it: a relay MUST refuse both without a proof that verifies for the mailbox, this connection's challenge and the operation.";
pub(crate) const RLY_06_DURABLE: &str =
    "A relay SHOULD make the removal durable before it answers.";
pub(crate) const RLY_07_SUBSCRIBE: &str = "Subscribe and wake. A relay MUST check, in this order:";
pub(crate) const RLY_07_WAKE: &str = "the relay MUST send, once the item is durable, a wake frame — version 1, id 0, kind 3, the mailbox id — to every open connection subscribed to that mailbox, the writer's own included. A wake MUST carry nothing else: no item id, count, size or time.";
pub(crate) const RLY_07_REPEATED: &str =
    "A stored (not repeated) item wakes the mailbox's subscribers (**[RLY-07]**).";
pub(crate) const RLY_08_BLOB: &str =
    "Attachment blobs. Blob-put: a relay MUST check, in this order:";
pub(crate) const RLY_08_GET: &str = "Blob-get: if the relay holds an unexpired blob with the id, it answers ok with the blob, byte for byte";
pub(crate) const RLY_09_EXPIRY: &str = "The expiry of an item or a blob written at `now` with `ttl` MUST be `now + ttl` rounded up to a multiple of 3600 seconds";
pub(crate) const RLY_09_GONE: &str =
    "A relay MUST NOT return an expired item or blob (expiry at most `now`)";
pub(crate) const RLY_09_SWEEP: &str = "SHOULD remove expired ones at least once an hour";
pub(crate) const RLY_09_LOGS: &str = "A relay MUST NOT log or store client IP addresses or ports, times of access or of writing, mailbox ids, item ids, blob ids, proofs, challenges, or any other identifier of a client, a connection, a mailbox or a request";
pub(crate) const RLY_10_BUCKET: &str = "A relay MUST limit each connection's requests with a token bucket, computed exactly as follows";
pub(crate) const RLY_11_OPAQUE: &str = "A relay MUST treat envelopes and blobs as opaque. It MUST NOT decode them, and MUST NOT reject, delay or reorder a put because of its content";
pub(crate) const RLY_11_BYTES: &str =
    "A relay MUST return envelopes and blobs byte for byte as they were put.";
pub(crate) const RLY_12_BLOCK: &str = "A relay MUST NOT let one connection block others.";
pub(crate) const RLY_15_HALF_OPEN: &str = "MUST close a connection that has not completed the WebSocket opening handshake, the TLS handshake included, within a bounded time after it accepted it";
pub(crate) const RLY_16_QUOTA: &str = "Storage quotas. Puts and blob-puts need no proof, so a relay MUST bound the storage one client can take";

#[cfg(test)]
mod tests {
    use super::*;

    fn normalize(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn every_quote_is_in_the_relay_chapter() {
        let chapter = normalize(include_str!("../../../spec/08-mailboxes-and-relay.md"));
        let quotes = [
            RLY_01_BINARY,
            RLY_01_TEXT,
            RLY_01_TLS,
            RLY_02_WELCOME,
            RLY_02_CHALLENGE,
            RLY_03_DECODE,
            RLY_03_CLOSE,
            RLY_03_UNKNOWN,
            RLY_03_ORDER,
            RLY_03_TOO_LARGE,
            RLY_03_OVERSIZED,
            RLY_04_ENFORCE,
            RLY_04_DEFAULTS,
            RLY_05_PUT,
            RLY_05_DURABLE,
            RLY_05_RETRY,
            RLY_06_OWNER,
            RLY_06_DURABLE,
            RLY_07_SUBSCRIBE,
            RLY_07_WAKE,
            RLY_07_REPEATED,
            RLY_08_BLOB,
            RLY_08_GET,
            RLY_09_EXPIRY,
            RLY_09_GONE,
            RLY_09_SWEEP,
            RLY_09_LOGS,
            RLY_10_BUCKET,
            RLY_11_OPAQUE,
            RLY_11_BYTES,
            RLY_12_BLOCK,
            RLY_15_HALF_OPEN,
            RLY_16_QUOTA,
        ];
        for quote in quotes {
            assert!(
                chapter.contains(&normalize(quote)),
                "not in spec/08-mailboxes-and-relay.md: {quote}"
            );
        }
    }
}
