//! The memory layout of a task: one allocation holding the header, the
//! scheduler handle, the join waker slot and the stage (future or output).
//!
//! This module owns the layout and the raw accessors to the stage and the
//! join waker slot; the rules that make those accesses exclusive live in
//! `state.rs` and are applied by `harness.rs`. It must not decide anything.

use super::{Id, JoinError, Schedule, state::State};
use crate::loom::UnsafeCell;
use crate::loom::atomic::AtomicU64;
use std::alloc::Layout;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll, Waker};

/// The type-erased head of every task. It sits at offset 0 of the allocation
/// so a `NonNull<Header>` is also a pointer to the whole cell, and it is no
/// larger than one 64-byte cache line (asserted below).
///
/// It is deliberately *not* `align(64)`: an alignment above 16 sends every
/// spawn through glibc's `posix_memalign`, which measured at over half of
/// all instructions of a spawn (docs/bench-history.md); the plain allocation
/// costs 38-46% less wall time on spawn-heavy work.
#[repr(C)]
pub(crate) struct Header {
    /// Lifecycle flags and reference count.
    pub(crate) state: State,
    /// Polls so far, next to the state word that every poll writes anyway
    /// (on a line of its own, the counter cost 5 % on a yield loop). Written
    /// only by the holder of `RUNNING`, so a load and a store suffice (the
    /// hand-over of `RUNNING` orders successive pollers' writes); read by
    /// snapshots from any thread.
    polls: AtomicU64,
    /// Functions monomorphised for this task's future and scheduler.
    pub(crate) vtable: &'static Vtable,
    /// Links of the runtime's owned-task list; guarded by the shard lock.
    pub(crate) owned_prev: UnsafeCell<Option<NonNull<Header>>>,
    pub(crate) owned_next: UnsafeCell<Option<NonNull<Header>>>,
    /// Unique id, for `JoinError`, debugging and task dumps.
    pub(crate) id: Id,
    /// Optional per-task metadata (name, debug-mode counters): `None` unless
    /// asked for, so it costs nothing when off.
    pub(crate) meta: Option<Box<Meta>>,
    /// Which owned-list shard the task belongs to (immutable).
    pub(crate) shard: u32,
    /// Membership in that shard's list; guarded by the shard lock.
    pub(crate) list_state: UnsafeCell<ListState>,
}

/// Where a task stands with respect to the owned-task list.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum ListState {
    /// Never linked (blocking tasks, tasks spawned after shutdown began).
    Unbound,
    /// Linked; the list holds a reference.
    Linked,
    /// Removed by shutdown, which took the list's reference; still counted
    /// live until it completes.
    Popped,
    /// Removed at completion.
    Released,
}

/// Optional task metadata, allocated only when a task is named.
#[derive(Debug, Default)]
pub struct Meta {
    /// The name given at spawn (shared with task snapshots, which then
    /// cost no copy of it).
    pub name: Option<Arc<str>>,
}

/// Where and when a task was spawned, for task dumps and reports: cold,
/// immutable data, right after the header in every cell (see [`Cell`]), so
/// a type-erased header finds it.
pub(crate) struct Origin {
    /// Where `spawn` was called.
    pub(crate) location: &'static Location<'static>,
    /// When, on the coarse clock (`diag::clock`).
    pub(crate) spawned_ns: u64,
}

impl Header {
    /// Counts one poll (the caller holds `RUNNING`).
    #[inline]
    pub(crate) fn count_poll(&self) {
        self.polls.store(self.polls.load(Relaxed) + 1, Relaxed);
    }

    /// Polls so far.
    pub(crate) fn polls(&self) -> u64 {
        self.polls.load(Relaxed)
    }

    /// Where and when the task was spawned.
    pub(crate) fn origin(&self) -> &Origin {
        // SAFETY: every header is the first field of a `Cell<F, S>`, which is
        // `repr(C)` with `origin` as its second field; `Origin` (align 8)
        // follows the 64-byte header without padding, at offset
        // `size_of::<Header>()` for every `F` and `S` (checked in
        // `Cell::allocate`). The cell is live while `&self` is.
        unsafe {
            &*(self as *const Header)
                .cast::<u8>()
                .add(std::mem::size_of::<Header>())
                .cast::<Origin>()
        }
    }
}

/// The functions that know the concrete future and scheduler types.
pub(crate) struct Vtable {
    /// Runs the task, consuming a `Notified` reference.
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Queues the task, consuming a `Notified` reference.
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Frees the allocation.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// Moves the output into `*dst` (a `Poll<Result<T, JoinError>>`) if the
    /// task is complete, else registers the waker.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// The part of dropping a `JoinHandle` that needs the concrete types.
    pub(crate) drop_join_handle_slow: unsafe fn(NonNull<Header>),
    /// Shuts the task down at runtime shutdown, consuming the reference the
    /// owned list gave the caller.
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
    /// `S::DEFERS_YIELD` (`yield_now`'s fast path asks it of the current
    /// task).
    pub(crate) defers_yield: bool,
}

/// The whole allocation of a task.
#[repr(C)]
pub(crate) struct Cell<F: Future, S> {
    pub(crate) header: Header,
    /// Found from the header by offset: keep it second.
    pub(crate) origin: Origin,
    pub(crate) core: Core<F, S>,
}

/// The typed part of a task.
pub(crate) struct Core<F: Future, S> {
    pub(crate) scheduler: S,
    /// The join waker slot; who may touch it is decided by `JOIN_WAKER`.
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
    /// The future, then its output; touched only by the holder of `RUNNING`
    /// or, after `COMPLETE`, by the reader of the output.
    pub(crate) stage: UnsafeCell<Stage<F>>,
}

pub(crate) enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

#[cfg(not(loom))]
const _: () = assert!(
    std::mem::size_of::<Header>() == 64,
    "the task header must fit one cache line"
);

impl<F: Future + 'static, S: Schedule> Cell<F, S> {
    /// Allocates a task; `refs` references are accounted for in the state.
    pub(crate) fn allocate(
        future: F,
        scheduler: S,
        id: Id,
        shard: u32,
        spawned_at: &'static Location<'static>,
        meta: Option<Box<Meta>>,
        refs: usize,
    ) -> NonNull<Header> {
        const {
            assert!(
                std::mem::offset_of!(Cell<F, S>, origin) == std::mem::size_of::<Header>(),
                "Header::origin finds the origin right after the header"
            )
        };
        // Written field by field into uninitialised memory: built whole, the
        // cell (64-byte header, origin, core) would be assembled on the
        // stack and copied with `memcpy`, about 30 instructions per spawn.
        // The memory comes from the cell cache (`alloc.rs`); `Harness::
        // dealloc` gives it back with the same layout.
        let p = super::alloc::allocate(Layout::new::<Cell<F, S>>())
            .cast::<Cell<F, S>>()
            .as_ptr();
        // SAFETY: `p` points to a fresh allocation sized and aligned for
        // `Cell<F, S>` (the cache's blocks have at least the layout asked
        // for), not yet shared. Each of the three fields is written exactly
        // once, through raw field pointers (no reference to uninitialised
        // memory is made), so afterwards every byte of the cell that its
        // type requires is initialised. Should building a later field
        // unwind (the clock read, say), the memory and the fields already
        // written leak; uninitialised memory is never dropped or read.
        unsafe {
            (&raw mut (*p).header).write(Header {
                state: State::new(refs),
                polls: AtomicU64::new(0),
                vtable: super::harness::vtable::<F, S>(),
                owned_prev: UnsafeCell::new(None),
                owned_next: UnsafeCell::new(None),
                id,
                meta,
                shard,
                list_state: UnsafeCell::new(ListState::Unbound),
            });
            (&raw mut (*p).origin).write(Origin {
                location: spawned_at,
                spawned_ns: crate::diag::clock::coarse_now_ns(),
            });
            (&raw mut (*p).core).write(Core {
                scheduler,
                join_waker: UnsafeCell::new(None),
                stage: UnsafeCell::new(Stage::Running(future)),
            });
        }
        // SAFETY: `p` came from a non-null allocation.
        unsafe { NonNull::new_unchecked(p) }.cast()
    }
}

impl<F: Future, S> Core<F, S> {
    /// Polls the future; drops it as soon as it is ready.
    ///
    /// # Safety
    /// The caller holds `RUNNING` and the stage is `Running`.
    pub(crate) unsafe fn poll(&self, cx: &mut Context<'_>) -> Poll<F::Output> {
        let res = self.stage.with_mut(|ptr| {
            // SAFETY: the caller holds RUNNING, which grants exclusive access
            // to the stage.
            let stage = unsafe { &mut *ptr };
            match stage {
                // SAFETY: the cell is never moved until dealloc, so the
                // future is pinned in place.
                Stage::Running(fut) => unsafe { Pin::new_unchecked(fut) }.poll(cx),
                _ => unreachable!("a task was polled after its future was dropped"),
            }
        });
        if res.is_ready() {
            // SAFETY: still the holder of RUNNING.
            unsafe { self.drop_future_or_output() };
        }
        res
    }

    /// Drops whatever the stage holds.
    ///
    /// # Safety
    /// The caller has exclusive access to the stage (holds `RUNNING`, or
    /// owns the output after `COMPLETE`).
    pub(crate) unsafe fn drop_future_or_output(&self) {
        // SAFETY: exclusive access per the caller's contract.
        self.stage.with_mut(|ptr| unsafe { *ptr = Stage::Consumed });
    }

    /// Moves the stage out, leaving `Consumed`.
    ///
    /// # Safety
    /// As for `drop_future_or_output`.
    pub(crate) unsafe fn take_stage(&self) -> Stage<F> {
        // SAFETY: exclusive access per the caller's contract.
        self.stage
            .with_mut(|ptr| std::mem::replace(unsafe { &mut *ptr }, Stage::Consumed))
    }

    /// # Safety
    /// As for `drop_future_or_output`.
    pub(crate) unsafe fn store_output(&self, output: Result<F::Output, JoinError>) {
        // SAFETY: exclusive access per the caller's contract.
        self.stage
            .with_mut(|ptr| unsafe { *ptr = Stage::Finished(output) });
    }

    /// # Safety
    /// The task is complete and the caller is the join handle that still
    /// has join interest, so nobody else touches the stage.
    pub(crate) unsafe fn take_output(&self) -> Result<F::Output, JoinError> {
        self.stage.with_mut(|ptr| {
            // SAFETY: exclusive access per the caller's contract.
            match std::mem::replace(unsafe { &mut *ptr }, Stage::Consumed) {
                Stage::Finished(output) => output,
                _ => panic!("JoinHandle polled after it returned Ready"),
            }
        })
    }

    /// # Safety
    /// The caller owns the join waker slot (see `state.rs`).
    pub(crate) unsafe fn set_join_waker(&self, waker: Option<Waker>) {
        // SAFETY: slot ownership per the caller's contract.
        self.join_waker.with_mut(|ptr| unsafe { *ptr = waker });
    }

    /// # Safety
    /// The slot is readable by the caller: it owns it, or it is published
    /// (`JOIN_WAKER` set) and only readers touch it.
    pub(crate) unsafe fn join_waker_will_wake(&self, waker: &Waker) -> bool {
        // SAFETY: read access per the caller's contract.
        self.join_waker.with(|ptr| match unsafe { &*ptr } {
            Some(w) => w.will_wake(waker),
            None => false,
        })
    }

    /// # Safety
    /// As for `join_waker_will_wake`.
    pub(crate) unsafe fn wake_join(&self) {
        self.join_waker.with(|ptr| {
            // SAFETY: read access per the caller's contract.
            if let Some(w) = unsafe { &*ptr } {
                w.wake_by_ref();
            }
        });
    }
}
