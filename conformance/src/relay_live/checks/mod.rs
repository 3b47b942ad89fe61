//! The live-only checks: what only a real relay over a real network can show. This module
//! holds the case table and the helpers; the checks are in [`transport`], [`limits`] and
//! [`storage`].

mod limits;
mod storage;
mod transport;

use crate::relay_live::conn::Challenge;
use std::sync::Mutex;
use std::time::Duration;

use quietwire::mailbox::{MailboxKey, Operation};
use quietwire::relay::{self, Limits, Reply, Request, ServerFrame};

use super::conn::Conn;
use super::requirements as req;
use super::sessions::frame_text;
use super::{Level, Rng, Target, Verdict};
use limits::{
    attachment_limit, delete_limit, envelope_limit, fetch_limit, item_limit, rate_limited,
    reference_defaults, subscription_limit, ttl_limit,
};
pub(crate) use storage::durable_restart;
use storage::{
    blind_blobs, blind_envelopes, blob_exact, delete_durable, durable_ack, expiry_rounding,
    idempotent_retry, owner_only, wakes,
};
use transport::{
    answers_in_order, binary_welcome, fresh_challenge, half_open_closed, malformed_closes,
    no_blocking, text_closes, tls_or_loopback, too_large, unknown_operation, welcome_first,
};

/// A live-only check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    BinaryWelcome,
    TextCloses,
    TlsOrLoopback,
    WelcomeFirst,
    FreshChallenge,
    MalformedCloses,
    UnknownOperationStaysOpen,
    AnswersInOrder,
    FrameTooLarge,
    Oversized,
    EnvelopeLimit,
    AttachmentLimit,
    TtlLimit,
    FetchLimit,
    DeleteLimit,
    SubscriptionLimit,
    ItemLimit,
    ReferenceDefaults,
    DurableAck,
    DurableRestart,
    IdempotentRetry,
    OwnerOnlyFetch,
    OwnerOnlyDelete,
    DeleteDurable,
    WakeAfterPut,
    NoWakeForRepeat,
    BlobByteExact,
    ExpiryRounding,
    ExpiryPasses,
    Sweep,
    NoLogs,
    RateLimited,
    BlindEnvelopes,
    BlindBlobs,
    NoBlocking,
    HalfOpenClosed,
}

/// A check with its case id parts, level and requirement.
pub(crate) struct CheckDef {
    pub rule: &'static str,
    pub slug: &'static str,
    pub level: Level,
    pub requirement: &'static str,
    pub what: &'static str,
    pub check: Check,
}

const fn def(
    rule: &'static str,
    slug: &'static str,
    level: Level,
    requirement: &'static str,
    what: &'static str,
    check: Check,
) -> CheckDef {
    CheckDef {
        rule,
        slug,
        level,
        requirement,
        what,
        check,
    }
}

use Level::{Must, Should};

/// Every live-only check, in report order.
pub(crate) const CHECKS: &[CheckDef] = &[
    def(
        "RLY-01",
        "binary-welcome",
        Must,
        req::RLY_01_BINARY,
        "the first message on a new connection is a binary WebSocket message",
        Check::BinaryWelcome,
    ),
    def(
        "RLY-01",
        "text-message-closes",
        Must,
        req::RLY_01_TEXT,
        "a text message closes its connection without an error frame; another connection keeps working",
        Check::TextCloses,
    ),
    def(
        "RLY-01",
        "tls-or-loopback",
        Must,
        req::RLY_01_TLS,
        "the relay URL is wss://, or ws:// on a loopback address",
        Check::TlsOrLoopback,
    ),
    def(
        "RLY-02",
        "welcome-first",
        Must,
        req::RLY_02_WELCOME,
        "the first frame decodes as a welcome (id 0, a 32-byte challenge, valid limits)",
        Check::WelcomeFirst,
    ),
    def(
        "RLY-02",
        "fresh-challenge",
        Must,
        req::RLY_02_CHALLENGE,
        "eight connections get eight different non-zero challenges",
        Check::FreshChallenge,
    ),
    def(
        "RLY-03",
        "malformed-closes",
        Must,
        req::RLY_03_CLOSE,
        "a non-CBOR message gets one error frame (cbor.*, closing = true) and the connection closes; a put pipelined behind it is not stored; another connection keeps working",
        Check::MalformedCloses,
    ),
    def(
        "RLY-03",
        "unknown-operation-stays-open",
        Must,
        req::RLY_03_UNKNOWN,
        "operation 99 gets relay.operation with closing = false, and the connection then answers a put",
        Check::UnknownOperationStaysOpen,
    ),
    def(
        "RLY-03",
        "answers-in-order",
        Must,
        req::RLY_03_ORDER,
        "pipelined requests of every kind (and an unknown operation) are answered once each, in request order",
        Check::AnswersInOrder,
    ),
    def(
        "RLY-03",
        "max-frame-plus-one",
        Must,
        req::RLY_03_TOO_LARGE,
        "a message of max_frame + 1 bytes gets relay.frame_too_large (id 0, closing = true), then the connection closes",
        Check::FrameTooLarge,
    ),
    def(
        "RLY-03",
        "oversized-message",
        Must,
        req::RLY_03_OVERSIZED,
        "a message of 2 × max_frame + 1 bytes gets relay.frame_too_large and a close, or a close without an error frame",
        Check::Oversized,
    ),
    def(
        "RLY-04",
        "max-envelope",
        Must,
        req::RLY_04_ENFORCE,
        "a put of max_envelope bytes is stored; one of max_envelope + 1 bytes is relay.too_large",
        Check::EnvelopeLimit,
    ),
    def(
        "RLY-04",
        "max-attachment",
        Must,
        req::RLY_04_ENFORCE,
        "a blob-put of max_attachment bytes is stored under its blob id; one of max_attachment + 1 bytes is relay.too_large",
        Check::AttachmentLimit,
    ),
    def(
        "RLY-04",
        "max-ttl",
        Must,
        req::RLY_04_ENFORCE,
        "a put with ttl = max_ttl is stored; ttl = max_ttl + 1 and ttl = 0 are relay.ttl",
        Check::TtlLimit,
    ),
    def(
        "RLY-04",
        "max-fetch",
        Must,
        req::RLY_04_ENFORCE,
        "a fetch with max = max_fetch is answered; max = max_fetch + 1 and max = 0 are schema.range",
        Check::FetchLimit,
    ),
    def(
        "RLY-04",
        "max-delete",
        Must,
        req::RLY_04_ENFORCE,
        "a delete of max_delete ids is answered; one more id is schema.length (or cbor.limit.size, closing, above the decoder's limit of 1024)",
        Check::DeleteLimit,
    ),
    def(
        "RLY-04",
        "max-subscriptions",
        Must,
        req::RLY_04_ENFORCE,
        "max_subscriptions subscriptions are accepted, one more is relay.subscriptions, a repeated one is accepted",
        Check::SubscriptionLimit,
    ),
    def(
        "RLY-04",
        "max-items",
        Must,
        req::RLY_04_ENFORCE,
        "a mailbox takes max_items items (written over several connections), then refuses one more with relay.mailbox_full but still acknowledges a repeated put",
        Check::ItemLimit,
    ),
    def(
        "RLY-04",
        "reference-defaults",
        Should,
        req::RLY_04_DEFAULTS,
        "the announced limits are the reference defaults of Table 8-5",
        Check::ReferenceDefaults,
    ),
    def(
        "RLY-05",
        "durable-ack",
        Must,
        req::RLY_05_DURABLE,
        "an acknowledged put is fetched, byte for byte, right away from a new connection",
        Check::DurableAck,
    ),
    def(
        "RLY-05",
        "durable-across-restart",
        Must,
        req::RLY_05_DURABLE,
        "an acknowledged put is still there after the relay process is killed (SIGKILL) and started again",
        Check::DurableRestart,
    ),
    def(
        "RLY-05",
        "idempotent-retry",
        Must,
        req::RLY_05_RETRY,
        "a put retried on a new connection with the same item id and bytes is acknowledged and stored once; other bytes are relay.conflict",
        Check::IdempotentRetry,
    ),
    def(
        "RLY-06",
        "owner-only-fetch",
        Must,
        req::RLY_06_OWNER,
        "a second connection cannot fetch with a proof for another connection's challenge (mailbox.proof), another mailbox's key (mailbox.key) or another operation (mailbox.proof); the owner's proof fetches",
        Check::OwnerOnlyFetch,
    ),
    def(
        "RLY-06",
        "owner-only-delete",
        Must,
        req::RLY_06_OWNER,
        "the same for delete, and the item survives every refused delete",
        Check::OwnerOnlyDelete,
    ),
    def(
        "RLY-06",
        "delete-durable",
        Should,
        req::RLY_06_DURABLE,
        "a deleted item is gone for a new connection right after the delete is acknowledged",
        Check::DeleteDurable,
    ),
    def(
        "RLY-07",
        "wake-after-put",
        Must,
        req::RLY_07_WAKE,
        "a subscribed connection gets a wake, with exactly the canonical wake fields, when another connection puts into the mailbox",
        Check::WakeAfterPut,
    ),
    def(
        "RLY-07",
        "no-wake-for-repeated-put",
        Must,
        req::RLY_07_REPEATED,
        "a repeated put (same item id and bytes) wakes no one",
        Check::NoWakeForRepeat,
    ),
    def(
        "RLY-08",
        "blob-byte-exact",
        Must,
        req::RLY_08_GET,
        "a random blob is stored under SHA-256([\"quietwire/v1/blob-id\", blob]) and read back byte for byte from a new connection",
        Check::BlobByteExact,
    ),
    def(
        "RLY-09",
        "expiry-rounding",
        Must,
        req::RLY_09_EXPIRY,
        "a fetched item's expiry is now + ttl rounded up to the hour (checked against the local clock)",
        Check::ExpiryRounding,
    ),
    def(
        "RLY-09",
        "expired-items-gone",
        Must,
        req::RLY_09_GONE,
        "needs hours of relay time",
        Check::ExpiryPasses,
    ),
    def(
        "RLY-09",
        "hourly-sweep",
        Should,
        req::RLY_09_SWEEP,
        "needs hours of relay time and access to its store",
        Check::Sweep,
    ),
    def(
        "RLY-09",
        "no-logs",
        Must,
        req::RLY_09_LOGS,
        "what a relay logs or stores cannot be observed over the protocol",
        Check::NoLogs,
    ),
    def(
        "RLY-10",
        "rate-limited",
        Must,
        req::RLY_10_BUCKET,
        "burst + 10 pipelined requests: at most burst plus the refill are served, the rest get relay.rate, and the connection stays usable",
        Check::RateLimited,
    ),
    def(
        "RLY-11",
        "blind-any-envelope",
        Must,
        req::RLY_11_OPAQUE,
        "envelopes of any content (one byte, random, zeros, a valid envelope for another mailbox, CBOR text, max_envelope bytes) are stored and fetched byte for byte, in order",
        Check::BlindEnvelopes,
    ),
    def(
        "RLY-11",
        "blind-any-blob",
        Must,
        req::RLY_11_BYTES,
        "blobs of any content are stored under their id and read back byte for byte",
        Check::BlindBlobs,
    ),
    def(
        "RLY-12",
        "no-blocking",
        Must,
        req::RLY_12_BLOCK,
        "while one connection floods the relay with requests and reads nothing, another connection's put and fetch are answered",
        Check::NoBlocking,
    ),
    def(
        "RLY-15",
        "half-open-closed",
        Must,
        req::RLY_15_HALF_OPEN,
        "a TCP connection that sends nothing (no TLS hello, no HTTP request) is closed by the relay within 60 s",
        Check::HalfOpenClosed,
    ),
];

/// What a check needs.
pub(crate) struct Ctx {
    url: String,
    limits: Limits,
    timeout: Duration,
    rng: Mutex<Rng>,
    given: Vec<String>,
}

impl Ctx {
    pub(crate) fn new(target: &Target, timeout: Duration, given: &[String]) -> Ctx {
        Ctx {
            url: target.url.clone(),
            limits: target.limits,
            timeout,
            rng: Mutex::new(Rng::new()),
            given: given.to_vec(),
        }
    }

    fn bytes(&self, len: usize) -> Vec<u8> {
        self.rng
            .lock()
            .map(|mut r| r.bytes(len))
            .unwrap_or_else(|_| vec![0x5a; len])
    }

    fn key(&self) -> MailboxKey {
        let seed = self.rng.lock().map(|mut r| r.array32()).unwrap_or([7; 32]);
        MailboxKey::from_seed(&seed)
    }

    fn item(&self) -> [u8; 16] {
        self.rng.lock().map(|mut r| r.array16()).unwrap_or([9; 16])
    }

    async fn open(&self) -> Result<Conn, String> {
        Conn::open(&self.url, self.timeout).await
    }
}

type Checked = Result<Verdict, String>;

/// Runs one check (not [`Check::DurableRestart`], which [`durable_restart`] runs).
pub(crate) async fn run(check: Check, ctx: &Ctx) -> Verdict {
    let checked = match check {
        Check::BinaryWelcome => binary_welcome(ctx).await,
        Check::TextCloses => text_closes(ctx).await,
        Check::TlsOrLoopback => Ok(tls_or_loopback(ctx)),
        Check::WelcomeFirst => welcome_first(ctx).await,
        Check::FreshChallenge => fresh_challenge(ctx).await,
        Check::MalformedCloses => malformed_closes(ctx).await,
        Check::UnknownOperationStaysOpen => unknown_operation(ctx).await,
        Check::AnswersInOrder => answers_in_order(ctx).await,
        Check::FrameTooLarge => too_large(ctx, false).await,
        Check::Oversized => too_large(ctx, true).await,
        Check::EnvelopeLimit => envelope_limit(ctx).await,
        Check::AttachmentLimit => attachment_limit(ctx).await,
        Check::TtlLimit => ttl_limit(ctx).await,
        Check::FetchLimit => fetch_limit(ctx).await,
        Check::DeleteLimit => delete_limit(ctx).await,
        Check::SubscriptionLimit => subscription_limit(ctx).await,
        Check::ItemLimit => item_limit(ctx).await,
        Check::ReferenceDefaults => Ok(reference_defaults(ctx)),
        Check::DurableAck => durable_ack(ctx).await,
        Check::DurableRestart => Ok(Verdict::Info("run separately".to_owned())),
        Check::IdempotentRetry => idempotent_retry(ctx).await,
        Check::OwnerOnlyFetch => owner_only(ctx, Operation::Fetch).await,
        Check::OwnerOnlyDelete => owner_only(ctx, Operation::Delete).await,
        Check::DeleteDurable => delete_durable(ctx).await,
        Check::WakeAfterPut => wakes(ctx, false).await,
        Check::NoWakeForRepeat => wakes(ctx, true).await,
        Check::BlobByteExact => blob_exact(ctx).await,
        Check::ExpiryRounding => expiry_rounding(ctx).await,
        Check::ExpiryPasses => Ok(Verdict::Info(
            "needs the relay's clock to pass an expiry (hours); the vectors relay/20, 21, 22 and 71 check it through the relay core".to_owned(),
        )),
        Check::Sweep => Ok(Verdict::Info(
            "needs hours of relay time and access to the relay's store".to_owned(),
        )),
        Check::NoLogs => Ok(Verdict::Info(
            "what a relay logs or stores cannot be observed over the protocol (the reference relay's own tests read its logs and database)".to_owned(),
        )),
        Check::RateLimited => rate_limited(ctx).await,
        Check::BlindEnvelopes => blind_envelopes(ctx).await,
        Check::BlindBlobs => blind_blobs(ctx).await,
        Check::NoBlocking => no_blocking(ctx).await,
        Check::HalfOpenClosed => half_open_closed(ctx).await,
    };
    checked.unwrap_or_else(Verdict::Fail)
}

fn put(mailbox: &MailboxKey, item: [u8; 16], envelope: Vec<u8>, ttl: u32) -> Request {
    Request::Put {
        mailbox: *mailbox.id(),
        item,
        envelope,
        ttl,
    }
}

fn fetch(key: &MailboxKey, challenge: &Challenge, max: Option<u32>) -> Request {
    Request::Fetch {
        mailbox: *key.id(),
        proof: challenge.prove(key, Operation::Fetch),
        max,
    }
}

fn expect_ok(frame: &ServerFrame, what: &str) -> Result<(), String> {
    match frame {
        ServerFrame::Ok { .. } => Ok(()),
        other => Err(format!("{what}: expected ok, got {}", frame_text(other))),
    }
}

fn expect_error(frame: &ServerFrame, class: &str, closing: bool, what: &str) -> Result<(), String> {
    match frame {
        ServerFrame::Error {
            class: c,
            closing: k,
            ..
        } if c == class && *k == closing => Ok(()),
        other => Err(format!(
            "{what}: expected error {class} (closing = {closing}), got {}",
            frame_text(other)
        )),
    }
}

/// The items a fetch returned.
fn items(frame: &ServerFrame, what: &str) -> Result<Vec<relay::Item>, String> {
    match frame {
        ServerFrame::Ok {
            reply: Reply::Items { items, .. },
            ..
        } => Ok(items.clone()),
        other => Err(format!(
            "{what}: expected fetched items, got {}",
            frame_text(other)
        )),
    }
}

/// The relay does not offer an operation a check needs.
fn unoffered(frame: &ServerFrame, feature: &str) -> Option<Verdict> {
    match frame {
        ServerFrame::Error { class, .. } if class == "relay.operation" => {
            Some(Verdict::Unimplemented(
                feature.to_owned(),
                format!("the relay answers relay.operation: it does not offer {feature}"),
            ))
        }
        _ => None,
    }
}
