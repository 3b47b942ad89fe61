//! The relay protocol (`spec/08-mailboxes-and-relay.md`, §8.6): frames, limits, the relay's
//! sans-io core and the store it writes through.
//!
//! A relay holds padded, opaque envelopes in mailboxes and attachment blobs, and nothing
//! else. Clients talk to it over WebSocket binary frames, each one canonical CBOR map:
//! requests carry an id the reply echoes. Anyone may put into a mailbox; fetch, delete and
//! subscribe need a proof of control of the mailbox key against the connection's challenge
//! ([`crate::mailbox`]).
//!
//! - [`frame`]: [`RequestFrame`] and [`ServerFrame`], their strict decoders and canonical
//!   encoders.
//! - [`limits`]: what a relay announces and enforces.
//! - [`core`]: [`Connection`], the per-connection state machine.
//! - [`store`]: the [`Store`] trait a driver implements durably, and [`MemoryStore`].
//!
//! ```
//! use quietwire::UnixTime;
//! use quietwire::mailbox::{MailboxKey, Operation, RelayOrigin};
//! use quietwire::relay::{Connection, Limits, MemoryStore, Now, Reply, Request, RequestFrame, ServerFrame};
//!
//! let store = MemoryStore::new();
//! let now = Now { unix: UnixTime(1_800_000_000), millis: 0 };
//! // The relay's own origin: proofs made for any other are refused (MBX-05).
//! let origin = RelayOrigin::parse("wss://relay.example")?;
//! let mut conn = Connection::new(Limits::DEFAULT, vec![origin.clone()], [5; 32], now);
//! let mailbox = MailboxKey::from_seed(&[1; 32]);
//!
//! // Anyone may put.
//! let put = RequestFrame {
//!     id: 1,
//!     request: Request::Put { mailbox: *mailbox.id(), item: [2; 16], envelope: vec![0; 600], ttl: 3600 },
//! };
//! let handled = conn.handle(&put.encode(), &store, now);
//! assert_eq!(handled.wake, Some(*mailbox.id()));
//!
//! // Only the owner fetches, with a proof for this connection's challenge.
//! let fetch = RequestFrame {
//!     id: 2,
//!     request: Request::Fetch {
//!         mailbox: *mailbox.id(),
//!         proof: mailbox.prove(&origin, &[5; 32], Operation::Fetch),
//!         max: None,
//!     },
//! };
//! let handled = conn.handle(&fetch.encode(), &store, now);
//! let Ok(ServerFrame::Ok { id: 2, reply: Reply::Items { items, more: false } }) =
//!     ServerFrame::decode(&handled.reply, Limits::DEFAULT.max_frame.into())
//! else {
//!     unreachable!()
//! };
//! assert_eq!(items[0].envelope, vec![0; 600]);
//! # Ok::<(), quietwire::Error>(())
//! ```

pub mod core;
pub mod frame;
pub mod limits;
pub mod store;

pub use self::core::{Connection, Handled, Now, blob_id, expiry, wake};
pub use frame::{Item, ItemId, Op, Reply, Request, RequestError, RequestFrame, ServerFrame};
pub use limits::Limits;
pub use store::{Fetched, MemoryStore, PutOutcome, Store, StoreError};
