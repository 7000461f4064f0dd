//! filch's synchronization primitives (`filch::sync`): asyncio's `Lock`,
//! `Semaphore`, `Event`, `Barrier` and queues, and tokio's `Mutex`,
//! `RwLock`, `Semaphore`, `Notify`, `Barrier`, `oneshot` and `mpsc` with
//! tokio's signatures, so tokio code ports by changing the import.
//!
//! Every primitive that makes tasks wait is built on one protocol: an
//! intrusive FIFO list of waiter nodes that live inside the waiting futures
//! (no allocation per wait), behind the primitive's own lock, with the
//! node's result published by one atomic store (see `wait_list.rs`). The
//! counting semaphore under `Mutex`, `RwLock`, `Semaphore` and bounded
//! channels adds a lock-free fast path (one CAS to acquire or release when
//! nobody waits) without giving up FIFO fairness. `mpsc` sends are
//! lock-free; `oneshot` is one allocation and a handful of atomic
//! operations.
//!
//! **Cancellation safety** is part of each awaitable's contract and is
//! tested: dropping a pending `acquire`, `lock`, `read`, `write`, `recv`,
//! `get`, `put`, `notified` or `wait` at any point loses no permit, no
//! message and no wake-up; a future dropped after it was chosen by a
//! wake-one operation passes what it was given to the next waiter.
//!
//! Every ready leaf operation spends one unit of the task's cooperative
//! budget ([`filch_executor::coop`]), so an always-ready loop cannot starve
//! its worker; outside a filch task the budget is unconstrained and the
//! primitives work under any executor.
//!
//! ```
//! use filch_sync::{Mutex, Queue, Semaphore};
//! use std::sync::Arc;
//!
//! let rt = filch_executor::Executor::new().unwrap();
//! rt.block_on(async {
//!     let jobs = Arc::new(Queue::new(10));
//!     let results = Arc::new(Mutex::new(Vec::new()));
//!     let limit = Arc::new(Semaphore::new(2));
//!     let workers: Vec<_> = (0..4)
//!         .map(|_| {
//!             let (jobs, results, limit) = (jobs.clone(), results.clone(), limit.clone());
//!             filch_executor::spawn(async move {
//!                 while let Ok(n) = jobs.get().await {
//!                     let _slot = limit.acquire().await.unwrap();
//!                     results.lock().await.push(n * n);
//!                     jobs.task_done().unwrap();
//!                 }
//!             })
//!         })
//!         .collect();
//!     for n in 0..10 {
//!         jobs.put(n).await.unwrap();
//!     }
//!     jobs.join().await;
//!     jobs.shutdown();
//!     for w in workers {
//!         w.await.unwrap();
//!     }
//!     let mut r = results.lock().await.clone();
//!     r.sort();
//!     assert_eq!(r, (0..10).map(|n| n * n).collect::<Vec<_>>());
//! });
//! ```
//!
//! This crate owns synchronization only: it must not spawn tasks, start
//! threads or depend on a particular runtime.

#![deny(missing_docs)]

mod atomic_waker;
mod barrier;
mod batch;
mod blocking;
mod event;
mod loom;
pub mod mpsc;
mod mutex;
mod notify;
pub mod oneshot;
mod queue;
mod rwlock;
mod semaphore;
mod wait_list;

pub use barrier::{Barrier, BarrierWait, BarrierWaitResult};
pub use event::{Event, EventWait};
pub use mutex::{MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard};
pub use notify::{Notified, Notify};
pub use queue::{
    LifoQueue, PriorityQueue, Queue, QueueShutDown, TaskDoneError, TryGetError, TryPutError,
};
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

/// A `try_lock`/`try_read`/`try_write` found the lock taken (or waited
/// for).
///
/// ```
/// let m = filch_sync::Mutex::new(());
/// let _g = m.try_lock().unwrap();
/// let err = m.try_lock().unwrap_err();
/// assert_eq!(err.to_string(), "operation would block");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryLockError(());

impl std::fmt::Display for TryLockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("operation would block")
    }
}

impl std::error::Error for TryLockError {}

/// Internals exposed to the loom models in `loom-tests/` (only under
/// `--cfg loom`).
#[cfg(loom)]
#[doc(hidden)]
pub mod __loom {
    pub use crate::atomic_waker::AtomicWaker;
    pub use crate::mpsc::list::BLOCK_CAP;
}
