//! `Barrier` (tokio's signatures): `n` tasks wait until all of them have
//! arrived, then all go on together, and the barrier resets.
//!
//! ## State
//! A lock guards `arrived`, a `generation` and a [`WaitList`]. An arrival
//! that is not the `n`-th waits with the current generation as its tag; the
//! `n`-th bumps the generation, resets `arrived` and releases every node of
//! an older generation, a batch at a time (arrivals for the next round,
//! made while it has dropped the lock to wake a batch, carry the new tag
//! and are left alone). A waiter dropped before its round completed takes
//! its arrival back (as asyncio's `Barrier` does on cancellation).
//!
//! This file owns that protocol; it must not hold the lock while waking.

use crate::loom::Mutex;
use crate::wait_list::{WaitList, Waiter, is_older, release_all};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

const NODE_WAITING: usize = 0;
const NODE_RELEASED: usize = 1;

/// Makes `n` tasks wait for each other (tokio's `Barrier`).
///
/// Once `n` tasks are waiting in [`wait`](Self::wait), all of them are
/// released; exactly one of them is told it is the leader. The barrier
/// then starts over.
///
/// ```
/// use filch_sync::Barrier;
/// use std::sync::Arc;
///
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.block_on(async {
///     let barrier = Arc::new(Barrier::new(3));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let b = barrier.clone();
///             filch_executor::spawn(async move { b.wait().await.is_leader() })
///         })
///         .collect();
///     let mut leaders = 0;
///     for t in tasks {
///         leaders += t.await.unwrap() as usize;
///     }
///     assert_eq!(leaders, 1);
/// });
/// ```
pub struct Barrier {
    n: usize,
    state: Mutex<State>,
}

struct State {
    arrived: usize,
    generation: usize,
    waiters: WaitList,
}

/// What [`Barrier::wait`] returns.
///
/// ```
/// let b = filch_sync::Barrier::new(1);
/// let rt = filch_executor::Executor::new().unwrap();
/// assert!(rt.block_on(b.wait()).is_leader());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Whether this task was the one whose arrival released the round.
    ///
    /// ```
    /// let b = filch_sync::Barrier::new(1);
    /// let rt = filch_executor::Executor::new().unwrap();
    /// assert!(rt.block_on(b.wait()).is_leader());
    /// ```
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

/// The future returned by [`Barrier::wait`].
///
/// Cancel-safe: dropping it before its round completes takes its arrival
/// back, so the round still needs `n` live waiters; dropping it after the
/// round completed changes nothing.
///
/// ```
/// use std::future::Future;
/// use std::task::{Context, Waker};
///
/// let b = filch_sync::Barrier::new(2);
/// // A waiter that arrives and then gives up does not count.
/// let mut quitter = Box::pin(b.wait());
/// let mut cx = Context::from_waker(Waker::noop());
/// assert!(quitter.as_mut().poll(&mut cx).is_pending());
/// drop(quitter);
/// let mut first = Box::pin(b.wait());
/// assert!(first.as_mut().poll(&mut cx).is_pending());
/// let mut second = Box::pin(b.wait());
/// assert!(second.as_mut().poll(&mut cx).is_ready());
/// assert!(first.as_mut().poll(&mut cx).is_ready());
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    node: Waiter,
    queued: bool,
}

impl Barrier {
    /// A barrier for `n` tasks (`0` behaves like `1`).
    ///
    /// ```
    /// let b = filch_sync::Barrier::new(4);
    /// # drop(b);
    /// ```
    pub fn new(n: usize) -> Barrier {
        Barrier {
            n: n.max(1),
            state: Mutex::new(State {
                arrived: 0,
                generation: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Arrives and waits until `n` tasks have arrived. Cancel-safe (see
    /// [`BarrierWait`]).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let b = Arc::new(filch_sync::Barrier::new(2));
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let other = rt.spawn({
    ///     let b = b.clone();
    ///     async move { b.wait().await.is_leader() }
    /// });
    /// let me = rt.block_on(b.wait()).is_leader();
    /// assert!(me ^ rt.block_on(other).unwrap());
    /// ```
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            node: Waiter::new(NODE_WAITING),
            queued: false,
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier").field("n", &self.n).finish()
    }
}

impl Future for BarrierWait<'_> {
    type Output = BarrierWaitResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let coop = ready!(filch_executor::coop::poll_proceed(cx));
        // SAFETY: `node` is never moved out of the pinned future.
        let this = unsafe { self.get_unchecked_mut() };
        let barrier = this.barrier;
        if this.queued {
            if this.node.state() == NODE_RELEASED {
                this.queued = false;
                coop.made_progress();
                return Poll::Ready(BarrierWaitResult(false));
            }
            let state = barrier.state.lock();
            if this.node.state() == NODE_RELEASED {
                drop(state);
                this.queued = false;
                coop.made_progress();
                return Poll::Ready(BarrierWaitResult(false));
            }
            // SAFETY: we hold the lock; the node is linked.
            unsafe { this.node.set_waker(cx.waker()) };
            return Poll::Pending;
        }
        let mut state = barrier.state.lock();
        state.arrived += 1;
        if state.arrived < barrier.n {
            let tag = state.generation;
            // SAFETY: the node is ours and not linked; we hold the lock, and
            // the node is pinned inside `self`, whose Drop unlinks it.
            unsafe {
                this.node.set_waker(cx.waker());
                state.waiters.push_back(&this.node, tag);
            }
            this.queued = true;
            return Poll::Pending;
        }
        state.arrived = 0;
        let generation = state.generation.wrapping_add(1);
        state.generation = generation;
        release_all(
            &barrier.state,
            state,
            |s| &mut s.waiters,
            NODE_RELEASED,
            |tag| is_older(tag, generation),
            |_| {},
        );
        coop.made_progress();
        Poll::Ready(BarrierWaitResult(true))
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if !self.queued || self.node.state() == NODE_RELEASED {
            return;
        }
        let mut state = self.barrier.state.lock();
        // SAFETY: the node is either linked in this list or was released
        // (then `remove` sees it unlinked).
        if unsafe { state.waiters.remove(&self.node) } {
            // Our round has not completed: take the arrival back.
            state.arrived -= 1;
        }
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("queued", &self.queued)
            .finish()
    }
}
