//! `relay.json`: the relay protocol (spec/08-mailboxes-and-relay.md §8.6) as scripted
//! connections, welcome frames, and relay-frame decoding.
//!
//! A `relay-session` test is one connection: a fresh relay core with the group's limits and
//! the test's challenge over an empty store, opened at the test's time, then fed the steps'
//! request frames in order. Every step gives the exact reply frame, the error class (if the
//! request fails), whether the relay closes the connection, and which mailbox gained an item
//! (the relay wakes its subscribers). The requests' proofs are made with the keys of
//! `mailboxKeys` for the test's `challenge`, so a live tester can rebuild them for the
//! challenge its relay announces.

mod decoding;
mod frames;
mod quota;
mod script;
mod sessions;
mod small;

use super::{FlagDef, Ids, file};
use crate::format::VectorFile;
use quietwire::relay::Limits;

crate::vector_record! {
    /// The limits of a relay (**[RLY-04]**), as a group parameter.
    #[allow(missing_docs)]
    #[derive(Copy, Eq)]
    pub struct RelayLimits {
        max_frame: u32,
        max_envelope: u32,
        max_attachment: u32,
        max_items: u32,
        max_ttl: u32,
        max_fetch: u32,
        max_delete: u32,
        rate: u32,
        burst: u32,
        max_subscriptions: u32,
        /// The relay's upload budget per connection (**[RLY-16]**; not announced): absent, none.
        upload_budget: ?u64,
        /// The relay's storage quota (**[RLY-16]**; not announced): absent, none.
        storage_quota: ?u64,
    }
}

/// The conversions between [`RelayLimits`] and the relay's [`Limits`], field by field (the
/// quotas are not announced limits: none when converting from [`Limits`]).
macro_rules! limit_conversions {
    ($($field:ident),*) => {
        impl From<RelayLimits> for Limits {
            fn from(l: RelayLimits) -> Limits {
                Limits { $($field: l.$field),* }
            }
        }

        impl From<Limits> for RelayLimits {
            fn from(l: Limits) -> RelayLimits {
                RelayLimits { $($field: l.$field,)* upload_budget: None, storage_quota: None }
            }
        }
    };
}

limit_conversions! {
    max_frame, max_envelope, max_attachment, max_items, max_ttl, max_fetch, max_delete, rate, burst,
    max_subscriptions
}

crate::vector_groups! {
    /// Groups of this family.
    pub enum RelayGroup {
        /// The welcome frame a relay sends for `challenge` and `limits`.
        "relay-welcome" => Welcome(WelcomeTest),
        /// Scripted connections to a relay with `limits`.
        "relay-session" => Session(SessionTest) {
            /// The relay's limits.
            limits: RelayLimits,
        },
        /// A client decodes a frame from the relay.
        "relay-frame-decode" => FrameDecode(FrameTest),
    }
}

crate::vector_test! {
    /// A welcome frame.
    pub struct WelcomeTest {
        /// The connection's challenge.
        challenge: hex,
        /// The relay's limits.
        limits: RelayLimits,
        /// The expected welcome frame.
        welcome: hex,
    }
}

crate::vector_record! {
    /// A mailbox key whose proofs the requests of a session carry.
    pub struct MailboxKeyJson {
        /// The mailbox key's seed (**[MBX-01]**).
        seed: hex,
        /// Its mailbox id.
        mailbox: hex,
    }
}

crate::vector_record! {
    /// One frame a client sends, and what the relay does with it.
    pub struct Step {
        /// Wall-clock time of the step, seconds since the epoch.
        unix_time: u64,
        /// Monotonic milliseconds of the step (the rate limit's clock).
        millis: u64,
        /// When true, the relay's store fails every operation during this step.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        store_unavailable: bool,
        /// The request frame as sent.
        request: hex,
        /// The exact reply frame; empty when the relay sends nothing (the connection closed).
        reply: hex,
        /// The class of the error frame, when the request fails.
        error_class: ?String,
        /// Whether the relay closes the connection after the reply.
        close: bool,
        /// The mailbox that gained an item (its subscribers are woken).
        wake: hex?,
    }
}

crate::vector_test! {
    /// A scripted connection.
    pub struct SessionTest {
        /// The connection's challenge.
        challenge: hex,
        /// The relay's origin (MBX-05): its only origin, the one the proofs are made for.
        origin: String,
        /// When the connection opens: seconds since the epoch.
        unix_time: u64,
        /// When the connection opens: monotonic milliseconds (the rate bucket starts full).
        millis: u64,
        /// The mailbox keys whose proofs the requests carry.
        mailbox_keys: Vec<MailboxKeyJson>,
        /// The steps, in order.
        steps: Vec<Step>,
    }
}

crate::vector_test! {
    /// A frame from the relay, decoded by a client.
    pub struct FrameTest {
        /// The frame.
        frame: hex,
        /// The largest frame the client accepts (the announced `max_frame`).
        max_frame: u64,
        /// The frame's kind: `welcome`, `ok`, `error` or `wake` (valid only).
        kind: ?String,
        /// The canonical encoding of the decoded frame (valid only): `frame` itself, except that
        /// limits a client does not know are not kept.
        reencoded: hex?,
    }
}

const FLAGS: &[FlagDef] = crate::flag_defs! {
    Quota: Basic ["RLY-16"]
        "Puts and blob-puts beyond the connection's upload budget or the relay's storage quota are refused, and deletes free room.";
    Operations: Basic ["RLY-05", "RLY-06", "RLY-07", "RLY-08"]
        "The success path of an operation: put, fetch, delete, subscribe, blob put and get.";
    Blindness: Confidentiality ["RLY-11"]
        "Envelope and blob bytes of any content are stored and returned byte for byte.";
    Idempotent: Defined ["RLY-05"]
        "A retried put (same item id, same bytes) is acknowledged again without a second item or wake.";
    Conflict: Defined ["RLY-05"]
        "A put reusing an item id with other bytes is refused and the first item kept.";
    SizeLimit: EdgeCase ["RLY-04", "RLY-05", "RLY-08"]
        "Envelopes, attachments and frames at and over their announced limits.";
    MailboxFull: EdgeCase ["RLY-04", "RLY-05"]
        "A mailbox holding max_items unexpired items refuses new ones.";
    Ttl: EdgeCase ["RLY-04", "RLY-05"]
        "TTLs of 0 and above max_ttl are refused; max_ttl itself is accepted.";
    Expiry: Defined ["RLY-09"]
        "Expiries are rounded up to the hour; from its expiry on, an item or blob is gone.";
    FetchRange: EdgeCase ["RLY-06"]
        "Fetch sizes (max 0, above max_fetch), the more flag, delete counts and lists.";
    Proof: AuthBypass ["RLY-06", "MBX-03"]
        "Proofs for another challenge, operation or mailbox, or malformed ones, are refused.";
    Subscriptions: EdgeCase ["RLY-07"]
        "Subscriptions up to max_subscriptions; wakes for new items.";
    Blob: Basic ["RLY-08"] "Attachment blobs: their id, and unknown or expired ids.";
    Rate: Defined ["RLY-10"] "The token bucket: burst, refill per millisecond, relay.rate.";
    Unavailable: MissingStep ["RLY-05", "RLY-07"]
        "A store failure is answered with relay.unavailable and nothing is acknowledged; a subscribe, which does not use the store, still succeeds.";
    Decoding: Defined ["RLY-01", "RLY-03"]
        "Malformed request frames: the decoding order, the error frame and the closed connection.";
    UnknownOperation: Defined ["RLY-03"]
        "An unknown operation is answered with relay.operation and the connection stays open.";
    Welcome: Basic ["RLY-02", "RLY-04"] "The welcome frame: challenge and limits.";
    FrameDecoding: Basic ["RLY-01", "RLY-02", "RLY-13"]
        "A client's decoder of relay frames: every kind, and malformed frames in the order of RLY-13.";
};

/// Generates `relay.json`.
///
/// # Errors
/// If the implementation disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<RelayGroup>, String> {
    let ids = &mut Ids::default();
    let relay = file(
        "relay",
        &[
            "The relay protocol (spec/08-mailboxes-and-relay.md §8.6).",
            "relay-welcome: a relay with `limits` and a connection with `challenge` sends exactly `welcome` first.",
            "relay-session: a fresh relay core with the group's `limits` and the test's `challenge`, over an empty store, opened at `unixTime` and `millis` (its rate bucket full). Each step delivers `request` at the step's `unixTime` and `millis` (with a failing store if `storeUnavailable`); the relay answers exactly `reply` (empty: it sends nothing, the connection being closed), fails with `errorClass` or not, closes the connection after the reply iff `close`, and wakes the subscribers of `wake` (a mailbox that gained an item) or nobody.",
            "relay-session: `limits` may also give `uploadBudget` and `storageQuota` (RLY-16), which the relay enforces without announcing them: its connection has that upload budget and its store that quota; absent, there is none.",
            "relay-session: the requests' proofs are made for `challenge` with the keys of `mailboxKeys` (seed and mailbox id, MBX-01), except where a test's comment says otherwise; a live tester re-makes them for the challenge its relay announces.",
            "relay-frame-decode: a client decodes `frame` with `maxFrame` as the largest frame it accepts: a valid frame has `kind` and re-encodes to exactly `reencoded`; an invalid one fails with `errorClass`.",
        ],
        FLAGS,
        crate::groups! { RelayGroup:
            Welcome("Welcome frames.", frames::welcome_tests(ids)?);
            Session(
                "Connections to a relay with the reference relay's default limits.",
                sessions::default_limit_tests(ids)?, limits: Limits::DEFAULT.into());
            Session(
                "Connections to a relay with small limits, so that every limit is reached in a few steps.",
                small::small_limit_tests(ids)?, limits: sessions::SMALL.into());
            FrameDecode("Frames from the relay, decoded by a client.", frames::decode_tests(ids)?);
            // Appended after the first release of the file, so earlier tcIds stay put.
            Session(
                "More connections to a relay with the default limits.",
                sessions::later_default_limit_tests(ids)?, limits: Limits::DEFAULT.into());
            Session(
                format!(
                    "Connections to a relay with the default limits, an upload budget of {} bytes per connection and a storage quota of {} bytes (RLY-16; neither is announced).",
                    quota::BUDGET,
                    quota::QUOTA
                ),
                quota::quota_tests(ids)?, limits: quota::limits());
        },
    );
    crate::format::check_file(&relay)?;
    Ok(relay)
}
