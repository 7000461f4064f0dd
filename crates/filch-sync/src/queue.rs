//! `Queue`, `PriorityQueue` and `LifoQueue` (asyncio's queues, 3.13
//! semantics): bounded multi-producer multi-consumer queues with
//! `put`/`get`/`try_put`/`try_get`, `task_done`/`join`, `shutdown` and
//! `shutdown_immediate`.
//!
//! ## Protocol
//! One lock guards the items, the unfinished-task count, the shutdown flag
//! and three [`WaitList`]s (getters, putters, joiners). As in asyncio, each
//! `put` wakes one waiting getter and each `get` one waiting putter, and a
//! woken waiter re-checks under the lock: `try_get`/`try_put` never fail
//! while an item (or room) is there, even if a waiter was just woken for it.
//! A woken waiter that lost the race goes back to the *front* of its list,
//! keeping its turn. A waiter dropped after it was woken but before it ran
//! passes the wake-up on if what it was woken for is still there, so no
//! wake-up is lost. `shutdown` and the last `task_done` are broadcasts
//! ([`release_all`]): joiners are tagged with a generation so that a `join`
//! that starts during a broadcast is not released by it.
//!
//! This file owns the queue protocol and the three public types; it must
//! not hold the lock while waking or while dropping items.

use crate::loom::Mutex;
use crate::wait_list::{WaitList, Waiter, is_older, release_all};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

const NODE_WAITING: usize = 0;
const NODE_WOKEN: usize = 1;

/// The queue was shut down ([`Queue::shutdown`] or
/// [`Queue::shutdown_immediate`]); asyncio's
/// `QueueShutDown`. For `put`, it carries the value back.
///
/// ```
/// use filch_sync::{Queue, QueueShutDown};
/// let q = Queue::new(0);
/// q.shutdown();
/// let rt = filch_executor::Executor::new().unwrap();
/// assert_eq!(rt.block_on(q.put(1)), Err(QueueShutDown(1)));
/// assert_eq!(rt.block_on(q.get()), Err(QueueShutDown(())));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue shut down")
    }
}

impl<T: fmt::Debug> std::error::Error for QueueShutDown<T> {}

/// Why `try_put` failed (asyncio's `QueueFull` / `QueueShutDown`); the value
/// comes back.
///
/// ```
/// use filch_sync::{Queue, TryPutError};
/// let q = Queue::new(1);
/// q.try_put('a').unwrap();
/// assert_eq!(q.try_put('b'), Err(TryPutError::Full('b')));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryPutError<T> {
    /// The queue holds `maxsize` items (asyncio's `QueueFull`).
    Full(T),
    /// The queue was shut down.
    ShutDown(T),
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("queue full"),
            TryPutError::ShutDown(_) => f.write_str("queue shut down"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for TryPutError<T> {}

/// Why `try_get` failed (asyncio's `QueueEmpty` / `QueueShutDown`).
///
/// ```
/// use filch_sync::{Queue, TryGetError};
/// let q = Queue::<u8>::new(0);
/// assert_eq!(q.try_get(), Err(TryGetError::Empty));
/// q.shutdown();
/// assert_eq!(q.try_get(), Err(TryGetError::ShutDown));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryGetError {
    /// No item is there (asyncio's `QueueEmpty`).
    Empty,
    /// The queue was shut down and is empty.
    ShutDown,
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("queue empty"),
            TryGetError::ShutDown => f.write_str("queue shut down"),
        }
    }
}

impl std::error::Error for TryGetError {}

/// `task_done` was called more times than items were put (asyncio raises
/// `ValueError`).
///
/// ```
/// let q = filch_sync::Queue::<u8>::new(0);
/// assert_eq!(q.task_done().unwrap_err().to_string(), "task_done() called too many times");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneError(());

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called too many times")
    }
}

impl std::error::Error for TaskDoneError {}

/// Item storage: the only difference between the three queue kinds.
pub(crate) trait Store<T>: Default {
    fn push(&mut self, value: T);
    fn pop(&mut self) -> Option<T>;
    fn len(&self) -> usize;
}

/// First in, first out.
#[derive(Debug)]
pub(crate) struct Fifo<T>(VecDeque<T>);
/// Newest first.
#[derive(Debug)]
pub(crate) struct Lifo<T>(Vec<T>);
/// Smallest first (asyncio's `PriorityQueue` uses `heapq`, a min-heap).
#[derive(Debug)]
pub(crate) struct Priority<T>(BinaryHeap<Reverse<T>>);

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo(VecDeque::new())
    }
}
impl<T> Default for Lifo<T> {
    fn default() -> Self {
        Lifo(Vec::new())
    }
}
impl<T: Ord> Default for Priority<T> {
    fn default() -> Self {
        Priority(BinaryHeap::new())
    }
}

impl<T> Store<T> for Fifo<T> {
    fn push(&mut self, value: T) {
        self.0.push_back(value);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> Store<T> for Lifo<T> {
    fn push(&mut self, value: T) {
        self.0.push(value);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T: Ord> Store<T> for Priority<T> {
    fn push(&mut self, value: T) {
        self.0.push(Reverse(value));
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(v)| v)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

struct State<S> {
    items: S,
    unfinished: usize,
    shutdown: bool,
    getters: WaitList,
    putters: WaitList,
    joiners: WaitList,
    join_generation: usize,
}

/// How a queue shuts down: `Graceful` lets getters drain what is queued,
/// `Immediate` drops it (asyncio's `immediate=True`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shutdown {
    Graceful,
    Immediate,
}

/// The queue protocol, shared by the three public types.
pub(crate) struct Core<T, S> {
    maxsize: usize,
    state: Mutex<State<S>>,
    _items: PhantomData<T>,
}

/// Wakes the oldest waiter of `list` (it will re-check).
fn wake_one(list: &mut WaitList) -> Option<Waker> {
    let node = list.pop_front()?;
    // SAFETY: we hold the lock (we have `&mut` to the list inside it) and
    // just unlinked the node.
    unsafe { node.release(NODE_WOKEN) }
}

impl<T, S: Store<T>> Core<T, S> {
    fn new(maxsize: usize) -> Self {
        Core {
            maxsize,
            state: Mutex::new(State {
                items: S::default(),
                unfinished: 0,
                shutdown: false,
                getters: WaitList::new(),
                putters: WaitList::new(),
                joiners: WaitList::new(),
                join_generation: 0,
            }),
            _items: PhantomData,
        }
    }

    fn has_room(&self, st: &State<S>) -> bool {
        self.maxsize == 0 || st.items.len() < self.maxsize
    }

    fn try_put(&self, value: T) -> Result<(), TryPutError<T>> {
        let mut st = self.state.lock();
        if st.shutdown {
            return Err(TryPutError::ShutDown(value));
        }
        if !self.has_room(&st) {
            return Err(TryPutError::Full(value));
        }
        let w = Self::push_locked(&mut st, value);
        drop(st);
        if let Some(w) = w {
            w.wake();
        }
        Ok(())
    }

    fn push_locked(st: &mut State<S>, value: T) -> Option<Waker> {
        st.items.push(value);
        st.unfinished += 1;
        wake_one(&mut st.getters)
    }

    fn try_get(&self) -> Result<T, TryGetError> {
        let mut st = self.state.lock();
        match st.items.pop() {
            Some(v) => {
                let w = wake_one(&mut st.putters);
                drop(st);
                if let Some(w) = w {
                    w.wake();
                }
                Ok(v)
            }
            None if st.shutdown => Err(TryGetError::ShutDown),
            None => Err(TryGetError::Empty),
        }
    }

    fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut st = self.state.lock();
        if st.unfinished == 0 {
            return Err(TaskDoneError(()));
        }
        st.unfinished -= 1;
        if st.unfinished == 0 {
            self.release_joiners(st);
        }
        Ok(())
    }

    /// Releases every joiner waiting now (the unfinished count hit 0).
    fn release_joiners<'a>(&'a self, mut st: crate::loom::MutexGuard<'a, State<S>>) {
        let generation = st.join_generation.wrapping_add(1);
        st.join_generation = generation;
        release_all(
            &self.state,
            st,
            |s| &mut s.joiners,
            NODE_WOKEN,
            |tag| is_older(tag, generation),
            |_| {},
        );
    }

    fn shutdown(&self, how: Shutdown) {
        let immediate = how == Shutdown::Immediate;
        let mut st = self.state.lock();
        st.shutdown = true;
        let drained = if immediate {
            let drained = std::mem::take(&mut st.items);
            st.unfinished = st.unfinished.saturating_sub(drained.len());
            Some(drained)
        } else {
            None
        };
        // Every getter and putter re-checks and sees the shutdown.
        release_all(
            &self.state,
            st,
            |s| &mut s.getters,
            NODE_WOKEN,
            |_| true,
            |_| {},
        );
        let st = self.state.lock();
        release_all(
            &self.state,
            st,
            |s| &mut s.putters,
            NODE_WOKEN,
            |_| true,
            |_| {},
        );
        let st = self.state.lock();
        if immediate && st.unfinished == 0 {
            self.release_joiners(st);
        } else {
            drop(st);
        }
        // Items are dropped outside the lock.
        drop(drained);
    }

    fn qsize(&self) -> usize {
        self.state.lock().items.len()
    }

    fn is_shutdown(&self) -> bool {
        self.state.lock().shutdown
    }

    fn unfinished(&self) -> usize {
        self.state.lock().unfinished
    }

    fn get(&self) -> Get<'_, T, S> {
        Get {
            core: self,
            place: Place::new(),
        }
    }

    fn put(&self, value: T) -> Put<'_, T, S> {
        Put {
            core: self,
            place: Place::new(),
            value: Some(value),
        }
    }

    fn join(&self) -> Join<'_, T, S> {
        Join {
            core: self,
            node: Waiter::new(NODE_WAITING),
            queued: false,
        }
    }
}

/// A getter's or putter's place in its wait list. Every method runs with
/// the queue's lock held (the `&mut WaitList` comes from inside it).
struct Place {
    node: Waiter,
    queued: bool,
}

impl Place {
    fn new() -> Place {
        Place {
            node: Waiter::new(NODE_WAITING),
            queued: false,
        }
    }

    /// `None`: still listed (the waker is refreshed), keep waiting.
    /// `Some(woken)`: free to try, `woken` if a wake-up took it out of the
    /// list.
    fn check(&mut self, cx: &Context<'_>) -> Option<bool> {
        if !self.queued {
            return Some(false);
        }
        // SAFETY: the caller holds the lock of the list the node was in.
        if unsafe { self.node.is_linked() } {
            // SAFETY: as above; the node is linked.
            unsafe { self.node.set_waker(cx.waker()) };
            return None;
        }
        self.queued = false;
        Some(true)
    }

    /// Waits in `list`: at the front if it was woken and lost the race (it
    /// keeps its turn), else at the back.
    ///
    /// # Safety
    /// `list` is the list this place belongs to, borrowed through the lock;
    /// `self` is pinned (inside a pinned future whose Drop calls
    /// [`leave`](Self::leave)).
    unsafe fn wait(&mut self, list: &mut WaitList, woken: bool, cx: &Context<'_>) {
        // SAFETY: the node is ours and not linked; the caller's contract
        // covers the rest.
        unsafe {
            self.node.set_waker(cx.waker());
            if woken {
                list.push_front(&self.node, 0);
            } else {
                list.push_back(&self.node, 0);
            }
        }
        self.queued = true;
    }

    /// Leaves `list` (the future is dropped). Returns whether a wake-up had
    /// taken it out of the list that it never acted on (then the caller
    /// passes it on).
    fn leave(&mut self, list: &mut WaitList) -> bool {
        // SAFETY: the node is linked in `list` (its own list, borrowed
        // through the lock) or not at all.
        self.queued && !unsafe { list.remove(&self.node) }
    }
}

/// Waits for an item. Cancel-safe: dropping it takes no item, and a wake-up
/// it was given goes to the next getter if the item is still there.
struct Get<'a, T, S: Store<T>> {
    core: &'a Core<T, S>,
    place: Place,
}

impl<T, S: Store<T>> Future for Get<'_, T, S> {
    type Output = Result<T, QueueShutDown>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let coop = ready!(filch_executor::coop::poll_proceed(cx));
        // SAFETY: `place` is never moved out of the pinned future.
        let this = unsafe { self.get_unchecked_mut() };
        let mut st = this.core.state.lock();
        let Some(woken) = this.place.check(cx) else {
            return Poll::Pending;
        };
        if let Some(v) = st.items.pop() {
            let w = wake_one(&mut st.putters);
            drop(st);
            if let Some(w) = w {
                w.wake();
            }
            coop.made_progress();
            return Poll::Ready(Ok(v));
        }
        if st.shutdown {
            coop.made_progress();
            return Poll::Ready(Err(QueueShutDown(())));
        }
        // SAFETY: the getters list, under the lock; `place` is pinned in
        // `self`, whose Drop leaves the list.
        unsafe { this.place.wait(&mut st.getters, woken, cx) };
        Poll::Pending
    }
}

impl<T, S: Store<T>> Drop for Get<'_, T, S> {
    fn drop(&mut self) {
        if !self.place.queued {
            return;
        }
        let mut st = self.core.state.lock();
        // Woken but never ran: pass the wake-up on if the item is there.
        let w = if self.place.leave(&mut st.getters) && st.items.len() > 0 {
            wake_one(&mut st.getters)
        } else {
            None
        };
        drop(st);
        if let Some(w) = w {
            w.wake();
        }
    }
}

/// Waits for room and puts an item. Cancel-safe: dropping it before it
/// completes puts nothing (the value is dropped with it), and a wake-up it
/// was given goes to the next putter if the room is still there.
struct Put<'a, T, S: Store<T>> {
    core: &'a Core<T, S>,
    place: Place,
    value: Option<T>,
}

impl<T, S: Store<T>> Future for Put<'_, T, S> {
    type Output = Result<(), QueueShutDown<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let coop = ready!(filch_executor::coop::poll_proceed(cx));
        // SAFETY: `place` is never moved out of the pinned future; `value`
        // is not structurally pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let core = this.core;
        let mut st = core.state.lock();
        let Some(woken) = this.place.check(cx) else {
            return Poll::Pending;
        };
        if st.shutdown {
            drop(st);
            coop.made_progress();
            let v = this.value.take().expect("Put polled after completion");
            return Poll::Ready(Err(QueueShutDown(v)));
        }
        if core.has_room(&st) {
            let v = this.value.take().expect("Put polled after completion");
            let w = Core::<T, S>::push_locked(&mut st, v);
            drop(st);
            if let Some(w) = w {
                w.wake();
            }
            coop.made_progress();
            return Poll::Ready(Ok(()));
        }
        // SAFETY: the putters list, under the lock; `place` is pinned in
        // `self`, whose Drop leaves the list.
        unsafe { this.place.wait(&mut st.putters, woken, cx) };
        Poll::Pending
    }
}

impl<T, S: Store<T>> Drop for Put<'_, T, S> {
    fn drop(&mut self) {
        if !self.place.queued {
            return;
        }
        let mut st = self.core.state.lock();
        // Woken but never ran: pass the wake-up on if there is room.
        let w = if self.place.leave(&mut st.putters) && self.core.has_room(&st) && !st.shutdown {
            wake_one(&mut st.putters)
        } else {
            None
        };
        drop(st);
        if let Some(w) = w {
            w.wake();
        }
    }
}

/// Waits until every item put has been marked done. Cancel-safe.
struct Join<'a, T, S> {
    core: &'a Core<T, S>,
    node: Waiter,
    queued: bool,
}

impl<T, S> Future for Join<'_, T, S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let coop = ready!(filch_executor::coop::poll_proceed(cx));
        // SAFETY: `node` is never moved out of the pinned future.
        let this = unsafe { self.get_unchecked_mut() };
        if this.queued && this.node.state() == NODE_WOKEN {
            this.queued = false;
            coop.made_progress();
            return Poll::Ready(());
        }
        let mut st = this.core.state.lock();
        if this.queued {
            if this.node.state() == NODE_WOKEN {
                drop(st);
                this.queued = false;
                coop.made_progress();
                return Poll::Ready(());
            }
            // SAFETY: we hold the lock; the node is linked.
            unsafe { this.node.set_waker(cx.waker()) };
            return Poll::Pending;
        }
        if st.unfinished == 0 {
            drop(st);
            coop.made_progress();
            return Poll::Ready(());
        }
        let tag = st.join_generation;
        // SAFETY: the node is ours and not linked; we hold the lock, and the
        // node is pinned inside `self`, whose Drop unlinks it.
        unsafe {
            this.node.set_waker(cx.waker());
            st.joiners.push_back(&this.node, tag);
        }
        this.queued = true;
        Poll::Pending
    }
}

impl<T, S> Drop for Join<'_, T, S> {
    fn drop(&mut self) {
        if !self.queued || self.node.state() == NODE_WOKEN {
            return;
        }
        let mut st = self.core.state.lock();
        // SAFETY: the node is linked in the joiners list or was released.
        unsafe { st.joiners.remove(&self.node) };
    }
}

macro_rules! queue_type {
    (
        $(#[$meta:meta])*
        $name:ident, $store:ident, [$($bound:tt)*], $order:literal
    ) => {
        $(#[$meta])*
        pub struct $name<T> {
            core: Core<T, $store<T>>,
        }

        impl<T $($bound)*> $name<T> {
            #[doc = concat!("A queue holding at most `maxsize` items; `0` means unbounded \
                (asyncio's `", stringify!($name), "(maxsize)`).")]
            ///
            /// ```
            #[doc = concat!("let q = filch_sync::", stringify!($name), "::<u32>::new(10);")]
            /// assert_eq!(q.maxsize(), 10);
            /// ```
            pub fn new(maxsize: usize) -> Self {
                $name { core: Core::new(maxsize) }
            }

            #[doc = concat!("Puts `value`, waiting (FIFO among putters) while the queue is \
                full. Fails, giving the value back, once the queue is shut down.\n\n\
                Cancel-safe: if the future is dropped before it completes, nothing was \
                put (the value is dropped with it), and no wake-up is lost.")]
            ///
            /// ```
            /// let rt = filch_executor::Executor::new().unwrap();
            #[doc = concat!("let q = filch_sync::", stringify!($name), "::new(1);")]
            /// rt.block_on(async {
            ///     q.put(1).await.unwrap();
            ///     assert_eq!(q.qsize(), 1);
            /// });
            /// ```
            pub async fn put(&self, value: T) -> Result<(), QueueShutDown<T>> {
                self.core.put(value).await
            }

            #[doc = concat!("Takes the ", $order, " item, waiting while the queue is empty. \
                After a shutdown it still returns the items left (unless the shutdown \
                was `shutdown_immediate`) and fails once the queue is empty.\n\n\
                Cancel-safe: if the future is dropped before it completes, no item was \
                taken, and no wake-up is lost.")]
            ///
            /// ```
            /// let rt = filch_executor::Executor::new().unwrap();
            #[doc = concat!("let q = filch_sync::", stringify!($name), "::new(0);")]
            /// rt.block_on(async {
            ///     q.put(7).await.unwrap();
            ///     assert_eq!(q.get().await, Ok(7));
            /// });
            /// ```
            pub async fn get(&self) -> Result<T, QueueShutDown> {
                self.core.get().await
            }

            /// Puts `value` if there is room now (asyncio's `put_nowait`).
            ///
            /// ```
            #[doc = concat!("let q = filch_sync::", stringify!($name), "::new(1);")]
            /// assert!(q.try_put(1).is_ok());
            /// assert!(q.try_put(2).is_err());
            /// ```
            pub fn try_put(&self, value: T) -> Result<(), TryPutError<T>> {
                self.core.try_put(value)
            }

            #[doc = concat!("Takes the ", $order, " item if there is one (asyncio's \
                `get_nowait`).")]
            ///
            /// ```
            #[doc = concat!("let q = filch_sync::", stringify!($name), "::new(0);")]
            /// assert!(q.try_get().is_err());
            /// q.try_put(3).unwrap();
            /// assert_eq!(q.try_get(), Ok(3));
            /// ```
            pub fn try_get(&self) -> Result<T, TryGetError> {
                self.core.try_get()
            }

            /// Marks one item taken by `get` as processed; when every item
            /// put has been marked, [`join`](Self::join) returns. Fails if
            /// called more times than items were put.
            ///
            /// ```
            #[doc = concat!("let q = filch_sync::", stringify!($name), "::new(0);")]
            /// q.try_put(1).unwrap();
            /// q.try_get().unwrap();
            /// assert!(q.task_done().is_ok());
            /// assert!(q.task_done().is_err());
            /// ```
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                self.core.task_done()
            }

            /// Waits until every item put has been marked with
            /// [`task_done`](Self::task_done) (returns at once if none is
            /// pending). Cancel-safe.
            ///
            /// ```
            /// use std::sync::Arc;
            /// let rt = filch_executor::Executor::new().unwrap();
            #[doc = concat!("let q = Arc::new(filch_sync::", stringify!($name), "::new(0));")]
            /// rt.block_on(async {
            ///     for i in 0..3 {
            ///         q.put(i).await.unwrap();
            ///     }
            ///     let worker = filch_executor::spawn({
            ///         let q = q.clone();
            ///         async move {
            ///             while let Ok(_item) = q.get().await {
            ///                 q.task_done().unwrap();
            ///             }
            ///         }
            ///     });
            ///     q.join().await;
            ///     assert_eq!(q.qsize(), 0);
            ///     q.shutdown();
            ///     worker.await.unwrap();
            /// });
            /// ```
            pub async fn join(&self) {
                self.core.join().await
            }

            /// Shuts the queue down gracefully (asyncio 3.13's
            /// `shutdown()`): `put` fails from now on and every waiting
            /// putter wakes with its value back; `get` keeps returning the
            /// items left and fails once the queue is empty. Idempotent;
            /// [`shutdown_immediate`](Self::shutdown_immediate) after it
            /// still drops what is left.
            ///
            /// ```
            #[doc = concat!("let q = filch_sync::", stringify!($name), "::new(0);")]
            /// q.try_put(1).unwrap();
            /// q.shutdown();
            /// assert!(q.try_put(2).is_err());
            /// assert_eq!(q.try_get(), Ok(1));
            /// assert!(q.try_get().is_err());
            /// ```
            pub fn shutdown(&self) {
                self.core.shutdown(Shutdown::Graceful)
            }

            /// Shuts the queue down and drops the items still queued
            /// (asyncio 3.13's `shutdown(immediate=True)`): `put` and `get`
            /// fail from now on, every waiting putter and getter wakes, the
            /// unfinished count is reduced by the number of items dropped
            /// and `join` returns if it reaches zero. The items are dropped
            /// on the calling thread, outside the queue's lock.
            ///
            /// ```
            #[doc = concat!("let q = filch_sync::", stringify!($name), "::new(0);")]
            /// q.try_put(1).unwrap();
            /// q.shutdown_immediate();
            /// assert_eq!(q.qsize(), 0);
            /// assert!(q.try_get().is_err());
            /// assert_eq!(q.unfinished_tasks(), 0);
            /// ```
            pub fn shutdown_immediate(&self) {
                self.core.shutdown(Shutdown::Immediate)
            }

            /// Whether [`shutdown`](Self::shutdown) or
            /// [`shutdown_immediate`](Self::shutdown_immediate) was called.
            ///
            /// ```
            #[doc = concat!("let q = filch_sync::", stringify!($name), "::<u8>::new(0);")]
            /// assert!(!q.is_shutdown());
            /// q.shutdown();
            /// assert!(q.is_shutdown());
            /// ```
            pub fn is_shutdown(&self) -> bool {
                self.core.is_shutdown()
            }

            /// Items in the queue now.
            ///
            /// ```
            #[doc = concat!("let q = filch_sync::", stringify!($name), "::new(0);")]
            /// q.try_put(1).unwrap();
            /// assert_eq!(q.qsize(), 1);
            /// ```
            pub fn qsize(&self) -> usize {
                self.core.qsize()
            }

            /// The bound given to `new` (`0`: unbounded).
            ///
            /// ```
            #[doc = concat!("assert_eq!(filch_sync::", stringify!($name), "::<u8>::new(0).maxsize(), 0);")]
            /// ```
            pub fn maxsize(&self) -> usize {
                self.core.maxsize
            }

            /// Whether the queue holds no item.
            ///
            /// ```
            #[doc = concat!("assert!(filch_sync::", stringify!($name), "::<u8>::new(0).empty());")]
            /// ```
            pub fn empty(&self) -> bool {
                self.qsize() == 0
            }

            /// Whether the queue holds `maxsize` items (never true when
            /// unbounded).
            ///
            /// ```
            #[doc = concat!("let q = filch_sync::", stringify!($name), "::new(1);")]
            /// q.try_put(1).unwrap();
            /// assert!(q.full());
            /// ```
            pub fn full(&self) -> bool {
                self.core.maxsize != 0 && self.qsize() >= self.core.maxsize
            }

            /// Items put and not yet marked with `task_done`.
            ///
            /// ```
            #[doc = concat!("let q = filch_sync::", stringify!($name), "::new(0);")]
            /// q.try_put(1).unwrap();
            /// q.try_get().unwrap();
            /// assert_eq!(q.unfinished_tasks(), 1);
            /// ```
            pub fn unfinished_tasks(&self) -> usize {
                self.core.unfinished()
            }
        }

        impl<T $($bound)*> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("maxsize", &self.core.maxsize)
                    .field("qsize", &self.qsize())
                    .field("shutdown", &self.is_shutdown())
                    .finish()
            }
        }
    };
}

queue_type!(
    /// A first-in, first-out queue for many producers and consumers
    /// (asyncio's `Queue`).
    ///
    /// ```
    /// use filch_sync::Queue;
    /// use std::sync::Arc;
    ///
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(async {
    ///     let q = Arc::new(Queue::new(2));
    ///     let producer = filch_executor::spawn({
    ///         let q = q.clone();
    ///         async move {
    ///             for i in 0..5 {
    ///                 q.put(i).await.unwrap();
    ///             }
    ///         }
    ///     });
    ///     let mut got = Vec::new();
    ///     for _ in 0..5 {
    ///         got.push(q.get().await.unwrap());
    ///     }
    ///     producer.await.unwrap();
    ///     assert_eq!(got, [0, 1, 2, 3, 4]);
    /// });
    /// ```
    Queue, Fifo, [], "oldest"
);

queue_type!(
    /// A queue that returns the smallest item first (asyncio's
    /// `PriorityQueue`, a min-heap). Use `(priority, item)` tuples or
    /// [`std::cmp::Reverse`] to choose the order.
    ///
    /// ```
    /// let q = filch_sync::PriorityQueue::new(0);
    /// for p in [3, 1, 2] {
    ///     q.try_put((p, format!("job {p}"))).unwrap();
    /// }
    /// assert_eq!(q.try_get().unwrap().0, 1);
    /// assert_eq!(q.try_get().unwrap().0, 2);
    /// ```
    PriorityQueue, Priority, [: Ord], "smallest"
);

queue_type!(
    /// A last-in, first-out queue (asyncio's `LifoQueue`).
    ///
    /// ```
    /// let q = filch_sync::LifoQueue::new(0);
    /// for i in 0..3 {
    ///     q.try_put(i).unwrap();
    /// }
    /// assert_eq!(q.try_get(), Ok(2));
    /// assert_eq!(q.try_get(), Ok(1));
    /// ```
    LifoQueue, Lifo, [], "newest"
);
