//! Multi-producer, single-consumer channels (tokio's `mpsc`), bounded and
//! unbounded.
//!
//! Sends are lock-free: a sender claims a slot in a linked list of blocks
//! with one CAS, writes the message and publishes it with one `fetch_or`,
//! and wakes the receiver only when the receiver has announced it sleeps.
//! Bounded channels add a fair semaphore for capacity (one CAS when there is
//! room). Closing (every sender dropped, or [`Receiver::close`]) freezes the
//! list, so the receiver gets every message whose send succeeded before it
//! sees `None`.
//!
//! ```
//! use filch_sync::mpsc;
//!
//! let rt = filch_executor::Executor::new().unwrap();
//! let total = rt.block_on(async {
//!     let (tx, mut rx) = mpsc::channel(16);
//!     for p in 0..4u64 {
//!         let tx = tx.clone();
//!         filch_executor::spawn(async move {
//!             for i in 0..100 {
//!                 tx.send(p * 100 + i).await.unwrap();
//!             }
//!         });
//!     }
//!     drop(tx);
//!     let mut total = 0;
//!     while let Some(v) = rx.recv().await {
//!         total += v;
//!     }
//!     total
//! });
//! assert_eq!(total, (0..400).sum::<u64>());
//! ```
//!
//! This module only assembles the channel; see `list.rs` (the lock-free
//! list), `chan.rs` (shared state, closing, the receive loop) and the
//! handle files.

mod bounded;
pub(crate) mod chan;
pub mod error;
pub(crate) mod list;
mod receiver;
mod unbounded;

pub use bounded::{OwnedPermit, Permit, Receiver, Sender, channel};
pub use unbounded::{UnboundedReceiver, UnboundedSender, unbounded_channel};
