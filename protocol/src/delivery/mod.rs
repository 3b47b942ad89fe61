//! Delivery (`spec/09-delivery.md`): the sender's outbox and the receiver's inbox, sans-io.
//!
//! Every send ends in exactly one of three outcomes (**[DLV-01]**):
//!
//! - **delivered** — an end-to-end receipt for its message id arrived;
//! - **queued** — held for a retry with backoff and jitter, in flight, or acknowledged by
//!   the relay as durably stored and waiting for a receipt; every queued send has a timer
//!   ([`Outbox::poll_timeout`]) that moves it on;
//! - **failed** — with an explicit [`FailReason`]: expired, rejected, too large, or
//!   unreachable past its deadline.
//!
//! Nothing here reads a clock or the network. The driver calls [`Outbox::poll_transmit`]
//! for the next put to send, reports what came back ([`Outbox::on_stored`],
//! [`Outbox::on_rejected`], [`Outbox::on_disconnected`], [`Outbox::on_receipt`]), and calls
//! [`Outbox::handle_timeout`] when [`Outbox::poll_timeout`] says so. Retried puts reuse the
//! same relay item id, so a put whose acknowledgement was lost is stored once
//! (**[RLY-05]**); the receiver's [`Inbox`] drops a message id it has seen
//! (**[DLV-06]**), so nothing reaches the application twice.
//!
//! ```
//! use quietwire::UnixTime;
//! use quietwire::delivery::{Outbox, RetryPolicy, Status};
//! use quietwire::mailbox::MailboxKey;
//! # use rand_core::{TryCryptoRng, TryRng};
//! # struct Counter(u8);
//! # impl TryRng for Counter {
//! #     type Error = core::convert::Infallible;
//! #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
//! #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
//! #     fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
//! #         for b in dst { self.0 = self.0.wrapping_add(1); *b = self.0; }
//! #         Ok(())
//! #     }
//! # }
//! # impl TryCryptoRng for Counter {}
//! # let mut rng = Counter(0);
//! let mut outbox = Outbox::new(RetryPolicy::DEFAULT);
//! let now = UnixTime(1_800_000_000);
//! // The peer's mailbox id; in an application, `Session::peer_mailbox`.
//! let mailbox = *MailboxKey::generate(&mut rng).id();
//! let send = outbox.push([1; 16], mailbox, vec![0; 600], 3600, now, &mut rng);
//!
//! let put = outbox.poll_transmit(now).unwrap(); // the driver sends it to the relay
//! assert_eq!(put.send, send);
//! outbox.on_stored(send, now);                   // the relay acknowledged a durable write
//! assert!(matches!(outbox.status(send), Some(Status::Queued(_))));
//! outbox.on_receipt(&[1; 16], now);              // the peer's receipt arrived
//! assert_eq!(outbox.status(send), Some(Status::Delivered));
//! ```

mod inbox;
mod outbox;
mod snapshot;

pub use inbox::{Inbox, MAX_INBOX, RETENTION};
pub use outbox::{FailReason, MAX_OUTBOX, Outbox, Queued, RetryPolicy, SendId, Status, Transmit};
pub use snapshot::MAX_OUTBOX_SNAPSHOT;
