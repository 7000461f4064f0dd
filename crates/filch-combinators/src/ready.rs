//! The ready queue behind every combinator that drives many children
//! (`join_all`, `try_join_all`, `race`, `as_completed`, `wait`, `TaskGroup`):
//! a parent poll touches only the children that were woken since the last
//! one, so driving N children costs O(woken) per poll, not O(N).
//!
//! Each child gets its own waker (one allocation, made when the child is
//! added). Waking a child pushes its node onto a lock-free stack shared with
//! the parent (a Treiber stack linked through the nodes; a `queued` flag keeps
//! a child on it at most once), and the push that finds the stack empty wakes
//! the parent. The parent takes the whole stack with one swap, reverses it
//! into wake order and polls those children, each at most once per round.
//!
//! The stack holds plain pointers, not counted references: only the
//! [`ReadySet`] ever follows them, and it keeps every node it created alive
//! for as long as it exists. A waker that outlives the set may still push its
//! node onto the orphaned stack; nobody reads it again, and the `Shared`
//! block is freed with the last waker.
//!
//! This module owns the wake protocol and the order children are polled in;
//! it must not know what the children are or what their outputs mean (the
//! caller's callback does that). The protocol is modelled in
//! `loom-tests/tests/combinators_ready.rs`.

use crate::loom::Mutex;
use crate::loom::atomic::{AtomicBool, AtomicPtr, Ordering::*};
use std::collections::VecDeque;
use std::fmt;
use std::ops::ControlFlow;
use std::ptr;
use std::sync::Arc;
use std::task::{Context, Wake, Waker};

/// After this many children woke themselves while being polled in one round
/// (they yielded, or the task's coop budget ran out and every leaf future
/// now returns `Pending` after a self-wake), the round ends early and the
/// parent yields to the scheduler instead of polling the rest in vain.
const YIELD_AFTER: usize = 32;

struct Shared {
    /// Top of the stack of woken children, linked through `Node::next`.
    head: AtomicPtr<Node>,
    /// The parent's waker: woken by the push that finds the stack empty.
    parent: Mutex<Option<Waker>>,
}

struct Node {
    shared: Arc<Shared>,
    index: usize,
    /// Set by a wake, cleared by the parent right before it polls the child:
    /// while it is set the child is on the stack or in the backlog, once.
    queued: AtomicBool,
    /// The node below this one on the stack; written only by the waker that
    /// set `queued`, read only by the parent after taking the stack.
    next: AtomicPtr<Node>,
}

impl Wake for Node {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // AcqRel: the release half publishes whatever the waker did before
        // waking (the parent's `swap(false, Acquire)` reads it); the acquire
        // half is harmless.
        if self.queued.swap(true, AcqRel) {
            return; // already queued: the parent will poll the child
        }
        let me = Arc::as_ptr(self).cast_mut();
        let mut head = self.shared.head.load(Relaxed);
        loop {
            self.next.store(head, Relaxed);
            // Release publishes `next` to the parent's swap; acquire pairs
            // with the parent's swap so that a push onto the stack it just
            // emptied sees the waker it registered before emptying it.
            match self
                .shared
                .head
                .compare_exchange_weak(head, me, AcqRel, Relaxed)
            {
                Ok(_) => break,
                Err(current) => head = current,
            }
        }
        if head.is_null() {
            // First push since the parent last took the stack: tell it.
            let parent = self.shared.parent.lock().clone();
            if let Some(waker) = parent {
                waker.wake();
            }
        }
    }
}

struct Entry {
    node: Arc<Node>,
    waker: Waker,
}

/// The set of children of one parent future, and the queue of those that
/// must be polled.
///
/// Children are numbered from 0 in the order they were [added](Self::push);
/// a new child is queued for its first poll.
pub struct ReadySet {
    shared: Arc<Shared>,
    entries: Vec<Entry>,
    /// Children taken from the stack (or just added) and not yet polled, in
    /// the order they will be polled.
    backlog: VecDeque<usize>,
    /// Reused buffer for reversing a taken stack into wake order.
    scratch: Vec<usize>,
}

impl ReadySet {
    /// An empty set with room for `capacity` children.
    pub fn with_capacity(capacity: usize) -> ReadySet {
        ReadySet {
            shared: Arc::new(Shared {
                head: AtomicPtr::new(ptr::null_mut()),
                parent: Mutex::new(None),
            }),
            entries: Vec::with_capacity(capacity),
            backlog: VecDeque::with_capacity(capacity),
            scratch: Vec::new(),
        }
    }

    /// Adds a child, queued for its first poll; returns its index.
    pub fn push(&mut self) -> usize {
        let index = self.entries.len();
        let node = Arc::new(Node {
            shared: self.shared.clone(),
            index,
            queued: AtomicBool::new(true),
            next: AtomicPtr::new(ptr::null_mut()),
        });
        let waker = Waker::from(node.clone());
        self.entries.push(Entry { node, waker });
        self.backlog.push_back(index);
        index
    }

    /// The waker of child `index` (what the child sees in its `Context`).
    #[cfg(any(test, loom))]
    pub fn waker(&self, index: usize) -> &Waker {
        &self.entries[index].waker
    }

    /// Polls the queued children, each at most once, calling `poll(index,
    /// cx)` with the child's own context, until `poll` breaks (its value is
    /// returned; the children not yet polled stay queued, first in line) or
    /// every queued child was polled (`Continue`).
    ///
    /// The round takes the children woken so far, then polls them; children
    /// woken during the round wait for the next one (so a child that always
    /// wakes itself cannot keep the round going). When a round ends the
    /// parent is sure to be woken when a child is: its waker was registered
    /// before the wake stack was taken, or it was woken already because the
    /// round yielded. A child may be handed to `poll` after it finished (a
    /// stale waker fired): `poll` must ignore it.
    pub fn poll_round<R>(
        &mut self,
        cx: &mut Context<'_>,
        mut poll: impl FnMut(usize, &mut Context<'_>) -> ControlFlow<R>,
    ) -> ControlFlow<R> {
        // Register before taking: a push that lands after the swap finds the
        // stack empty and wakes this waker.
        self.register(cx.waker());
        self.take_stack();
        let mut self_wakes = 0;
        while let Some(index) = self.backlog.pop_front() {
            let entry = &self.entries[index];
            // Acquire: the child's state changes made before a wake that
            // found it still queued are visible to the poll below.
            entry.node.queued.swap(false, AcqRel);
            let flow = poll(index, &mut Context::from_waker(&entry.waker));
            if flow.is_break() {
                return flow;
            }
            if !filch_executor::coop::has_budget_remaining() {
                // Every leaf future would return Pending now: yield, and go
                // on with the rest of the backlog next round.
                cx.waker().wake_by_ref();
                return ControlFlow::Continue(());
            }
            if entry.node.queued.load(Relaxed) {
                self_wakes += 1;
                if self_wakes == YIELD_AFTER {
                    cx.waker().wake_by_ref();
                    return ControlFlow::Continue(());
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn register(&self, waker: &Waker) {
        let mut parent = self.shared.parent.lock();
        match &*parent {
            Some(current) if current.will_wake(waker) => {}
            _ => *parent = Some(waker.clone()),
        }
    }

    /// Moves the whole wake stack into the backlog, in wake order.
    fn take_stack(&mut self) {
        let mut top = self.shared.head.swap(ptr::null_mut(), AcqRel);
        while !top.is_null() {
            // SAFETY: every pointer on the stack is `Arc::as_ptr` of a node
            // whose `shared` is this set's (only those nodes push here), and
            // `self.entries` holds a counted reference to each such node for
            // as long as the set exists, so the node is live. Its `next` was
            // written before the push that published it (release CAS, read
            // through the chain of AcqRel CASes by our AcqRel swap), and
            // cannot change until the child is polled, which is after this
            // walk.
            let node = unsafe { &*top };
            self.scratch.push(node.index);
            top = node.next.load(Relaxed);
        }
        self.backlog.extend(self.scratch.drain(..).rev());
    }
}

impl fmt::Debug for ReadySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadySet")
            .field("children", &self.entries.len())
            .field("backlog", &self.backlog.len())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    /// A waker that counts its wakes.
    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn polled(set: &mut ReadySet, cx: &mut Context<'_>) -> Vec<usize> {
        let mut seen = Vec::new();
        let flow = set.poll_round(cx, |i, _| {
            seen.push(i);
            ControlFlow::<()>::Continue(())
        });
        assert!(flow.is_continue());
        seen
    }

    #[test]
    fn first_round_polls_every_child_in_order_then_only_the_woken() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let parent = Waker::from(count.clone());
        let mut cx = Context::from_waker(&parent);
        let mut set = ReadySet::with_capacity(4);
        for i in 0..4 {
            assert_eq!(set.push(), i);
        }
        assert_eq!(polled(&mut set, &mut cx), [0, 1, 2, 3]);
        assert_eq!(polled(&mut set, &mut cx), Vec::<usize>::new());

        set.waker(2).wake_by_ref();
        assert_eq!(count.0.load(SeqCst), 1, "the first push wakes the parent");
        set.waker(0).wake_by_ref();
        set.waker(2).wake_by_ref(); // deduplicated
        let by_value = set.waker(3).clone();
        by_value.wake();
        assert_eq!(count.0.load(SeqCst), 1, "later pushes do not");
        assert_eq!(polled(&mut set, &mut cx), [2, 0, 3], "wake order");
    }

    #[test]
    fn a_child_woken_during_its_poll_waits_for_the_next_round() {
        let parent = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        let mut cx = Context::from_waker(&parent);
        let mut set = ReadySet::with_capacity(1);
        set.push();
        let mut polls = 0;
        for _ in 0..3 {
            let _ = set.poll_round(&mut cx, |_, cx| {
                polls += 1;
                cx.waker().wake_by_ref();
                ControlFlow::<()>::Continue(())
            });
        }
        assert_eq!(polls, 3, "one poll per round, no spinning");
    }

    #[test]
    fn a_round_yields_after_many_self_wakes() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let parent = Waker::from(count.clone());
        let mut cx = Context::from_waker(&parent);
        let mut set = ReadySet::with_capacity(100);
        for _ in 0..100 {
            set.push();
        }
        let mut polls = 0;
        let _ = set.poll_round(&mut cx, |_, cx| {
            polls += 1;
            cx.waker().wake_by_ref();
            ControlFlow::<()>::Continue(())
        });
        assert_eq!(polls, YIELD_AFTER);
        assert!(count.0.load(SeqCst) >= 1, "the parent was woken to go on");
        // The rest of the backlog comes first next round.
        let mut first = None;
        let _ = set.poll_round(&mut cx, |i, _| {
            first.get_or_insert(i);
            ControlFlow::<()>::Break(())
        });
        assert_eq!(first, Some(YIELD_AFTER));
    }

    #[test]
    fn break_keeps_the_rest_queued() {
        let parent = Waker::noop();
        let mut cx = Context::from_waker(parent);
        let mut set = ReadySet::with_capacity(3);
        for _ in 0..3 {
            set.push();
        }
        let got = set.poll_round(&mut cx, |i, _| {
            if i == 1 {
                ControlFlow::Break(i)
            } else {
                ControlFlow::Continue(())
            }
        });
        assert_eq!(got, ControlFlow::Break(1));
        assert_eq!(polled(&mut set, &mut cx), [2]);
    }

    #[test]
    fn wakers_outliving_the_set_are_harmless() {
        let mut set = ReadySet::with_capacity(2);
        set.push();
        set.push();
        let w0 = set.waker(0).clone();
        let w1 = set.waker(1).clone();
        let mut cx = Context::from_waker(Waker::noop());
        let _ = polled(&mut set, &mut cx);
        drop(set);
        w0.wake_by_ref();
        w1.wake();
        w0.wake();
    }

    #[test]
    fn wakes_from_many_threads_are_all_seen() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let parent = Waker::from(count.clone());
        let mut cx = Context::from_waker(&parent);
        let mut set = ReadySet::with_capacity(64);
        for _ in 0..64 {
            set.push();
        }
        assert_eq!(polled(&mut set, &mut cx).len(), 64);
        let wakers: Vec<Waker> = (0..64).map(|i| set.waker(i).clone()).collect();
        std::thread::scope(|s| {
            for chunk in wakers.chunks(16) {
                s.spawn(move || {
                    for w in chunk {
                        w.wake_by_ref();
                    }
                });
            }
        });
        let mut seen = polled(&mut set, &mut cx);
        seen.sort_unstable();
        assert_eq!(seen, (0..64).collect::<Vec<_>>());
        assert!(count.0.load(SeqCst) >= 1);
    }
}
