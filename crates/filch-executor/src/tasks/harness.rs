//! The task harness: polling, cancelling, completing and joining a task of a
//! concrete future and scheduler type, by applying the state transitions of
//! `state.rs` and then acting on their verdict.
//!
//! Owns the rule "every poll and every drop of user code runs under
//! `catch_unwind`", so a panicking task never takes its worker down. It must
//! not know about queues or workers: it talks to them only through
//! [`Schedule`].

use super::core::{Cell, Core, Header, Stage, Vtable};
use super::state::{TransitionToIdle, TransitionToRunning};
use super::{JoinError, Notified, Schedule, Task, TaskInfo, current, waker};
use crate::diag::Diagnostics;
use std::alloc::Layout;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

pub(crate) fn vtable<F: Future + 'static, S: Schedule>() -> &'static Vtable {
    &Vtable {
        poll: poll::<F, S>,
        schedule: schedule::<F, S>,
        dealloc: dealloc::<F, S>,
        try_read_output: try_read_output::<F, S>,
        drop_join_handle_slow: drop_join_handle_slow::<F, S>,
        shutdown: shutdown::<F, S>,
        defers_yield: S::DEFERS_YIELD,
    }
}

/// Typed view of a task allocation.
struct Harness<F: Future, S: 'static> {
    cell: NonNull<Cell<F, S>>,
    _p: PhantomData<(F, S)>,
}

impl<F: Future + 'static, S: Schedule> Harness<F, S> {
    /// # Safety
    /// `ptr` points to a live `Cell<F, S>`.
    unsafe fn from_raw(ptr: NonNull<Header>) -> Self {
        Harness {
            cell: ptr.cast(),
            _p: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the cell is live while a harness exists (the caller holds a
        // reference), and the header is only read through `&`.
        unsafe { &self.cell.as_ref().header }
    }

    fn core(&self) -> &Core<F, S> {
        // SAFETY: as for `header`.
        unsafe { &self.cell.as_ref().core }
    }

    fn header_ptr(&self) -> NonNull<Header> {
        self.cell.cast()
    }

    /// A `Task` handle for one reference that the caller already accounts for.
    fn task_for_held_ref(&self) -> Task<S> {
        // SAFETY: the caller transfers one of its references to the Task.
        unsafe { Task::from_raw(self.header_ptr()) }
    }

    /// Runs the task; consumes the `Notified` reference.
    fn poll(self) {
        match self.header().state.transition_to_running() {
            TransitionToRunning::Success => {
                let header = self.header();
                header.count_poll();
                let _current = current::Enter::new(self.header_ptr());
                // A borrowed waker: the poll holds a reference, so the waker
                // needs none of its own until it is cloned.
                // SAFETY: the header is live for the whole poll.
                let waker = ManuallyDrop::new(unsafe { waker::from_header(self.header_ptr()) });
                let mut cx = Context::from_waker(&waker);
                let core = self.core();
                let res = match core.scheduler.poll_timing() {
                    None => poll_future(core, header, &mut cx),
                    Some(diag) => poll_future_timed(core, header, &mut cx, diag),
                };
                match res {
                    Poll::Ready(output) => {
                        let output = watch_panic(&core.scheduler, output);
                        // SAFETY: we hold RUNNING.
                        unsafe { core.store_output(output) };
                        self.complete();
                    }
                    Poll::Pending if _current.take_own_yield() => self.hold_for_yield(),
                    Poll::Pending => self.transition_to_idle(),
                }
            }
            TransitionToRunning::Cancelled => {
                cancel_task(self.core(), self.header());
                self.complete();
            }
            TransitionToRunning::Failed => {}
            TransitionToRunning::Dealloc => self.dealloc(),
        }
    }

    /// The poll returned `Pending` after the task yielded to its own
    /// scheduler: the task is *held* (`state.rs`): it keeps `RUNNING`, and
    /// the poller's reference becomes the `Notified` that carries it, so the
    /// yield costs no write to the state word here and a load when the task
    /// is next run. A wake or a cancel meanwhile sees `RUNNING` and only
    /// sets its flag, which that run reads.
    fn hold_for_yield(self) {
        let task = Notified(self.task_for_held_ref());
        self.core().scheduler.yield_now(task);
    }

    /// The poll returned `Pending`.
    fn transition_to_idle(self) {
        match self.header().state.transition_to_idle() {
            TransitionToIdle::Ok => {}
            TransitionToIdle::OkNotified => {
                // Woken during its own poll: it goes behind the others.
                let task = Notified(self.task_for_held_ref());
                self.core().scheduler.yield_now(task);
            }
            TransitionToIdle::OkDealloc => self.dealloc(),
            TransitionToIdle::Cancelled => {
                cancel_task(self.core(), self.header());
                self.complete();
            }
        }
    }

    /// Leaves the owned list, publishes the output, wakes the joiner and
    /// releases the references of the poller (and of the list).
    fn complete(self) {
        let snapshot = self.header().state.transition_to_complete();
        // Leave the owned list (or the count of live tasks, for a release
        // the scheduler batches) before waking the joiner, so that a joiner
        // that wakes up no longer counts the task as alive. Below, only
        // `keep_for_release` touches the scheduler.
        let me = ManuallyDrop::new(self.task_for_held_ref());
        let deferred = self.core().scheduler.defer_release(&me);
        let released = if deferred {
            None
        } else {
            self.core().scheduler.release(&me)
        };
        // User code runs here (the output's destructor, the join waker), so
        // it is contained like a poll.
        let _ = panic::catch_unwind(AssertUnwindSafe(|| {
            if !snapshot.is_join_interested() {
                // No handle will read the output: drop it now.
                // SAFETY: COMPLETE is set and join interest is gone, so the
                // stage is ours alone.
                unsafe { drop_output_unread(self.core(), self.header()) };
            } else if snapshot.is_join_waker_set() {
                // SAFETY: JOIN_WAKER is set: the slot is published to us.
                unsafe { self.core().wake_join() };
                let prev = self.header().state.unset_join_waker_after_complete();
                if !prev.is_join_interested() {
                    // The handle was dropped while we held the slot: the
                    // waker is ours to drop.
                    // SAFETY: join interest gone and JOIN_WAKER now clear.
                    unsafe { self.core().set_join_waker(None) };
                }
            }
        }));

        if deferred {
            // The scheduler takes our reference; the task stays allocated
            // until its batch is flushed, which `keep_for_release` does
            // (when full) before it takes this task.
            self.core()
                .scheduler
                .keep_for_release(ManuallyDrop::into_inner(me));
            return;
        }
        let count = match released {
            Some(task) => {
                // The list's reference is released with ours, in one step.
                std::mem::forget(task);
                2
            }
            None => 1,
        };
        if self.header().state.transition_to_terminal(count) {
            self.dealloc();
        }
    }

    fn dealloc(self) {
        /// Gives the memory back even if a field's destructor unwinds.
        struct Release(NonNull<u8>, Layout);
        impl Drop for Release {
            fn drop(&mut self) {
                // SAFETY: the cell's memory, from `alloc::allocate` with
                // this layout (`Cell::allocate`); its fields are dropped or
                // being dropped, and nothing reaches it any more.
                unsafe { super::alloc::release(self.0, self.1) };
            }
        }
        let _release = Release(self.cell.cast(), Layout::new::<Cell<F, S>>());
        // SAFETY: the last reference is gone; nobody else can reach the
        // cell, which `Cell::allocate` initialised in full.
        unsafe { std::ptr::drop_in_place(self.cell.as_ptr()) };
    }

    fn drop_reference(self) {
        if self.header().state.ref_dec() {
            self.dealloc();
        }
    }
}

/// Polls the future under `catch_unwind`; a panic drops the future and
/// becomes `JoinError::panic`.
fn poll_future<F: Future, S>(
    core: &Core<F, S>,
    header: &Header,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, JoinError>> {
    struct DropFutureOnUnwind<'a, F: Future, S>(&'a Core<F, S>);
    impl<F: Future, S> Drop for DropFutureOnUnwind<'_, F, S> {
        fn drop(&mut self) {
            // SAFETY: runs only while the poller (holder of RUNNING) unwinds.
            unsafe { self.0.drop_future_or_output() };
        }
    }

    let res = panic::catch_unwind(AssertUnwindSafe(|| {
        let guard = DropFutureOnUnwind(core);
        // SAFETY: the caller holds RUNNING and the stage is Running.
        let res = unsafe { core.poll(cx) };
        std::mem::forget(guard);
        res
    }));
    match res {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
        Err(payload) => Poll::Ready(Err(JoinError::panic(header.id, payload))),
    }
}

/// [`poll_future`] timed by debug mode; kept out of line so that the
/// untimed poll path stays as small as it was.
#[cold]
#[inline(never)]
fn poll_future_timed<F: Future, S>(
    core: &Core<F, S>,
    header: &Header,
    cx: &mut Context<'_>,
    diag: &Diagnostics,
) -> Poll<Result<F::Output, JoinError>> {
    let timing = diag.timing.as_ref().expect("poll_timing implies timing");
    diag.time_poll(timing, header, || poll_future(core, header, cx))
}

/// Drops the future (containing a panic of its destructor) and stores the
/// cancellation error.
fn cancel_task<F: Future, S: Schedule>(core: &Core<F, S>, header: &Header) {
    // SAFETY: the caller holds RUNNING.
    let res = panic::catch_unwind(AssertUnwindSafe(|| unsafe { core.drop_future_or_output() }));
    let err = match res {
        Ok(()) => JoinError::cancelled(header.id),
        Err(payload) => JoinError::panic(header.id, payload),
    };
    let output = watch_panic(&core.scheduler, Err(err));
    // SAFETY: the caller holds RUNNING.
    unsafe { core.store_output(output) };
}

/// A task's output that is a panic is watched: if it is dropped unread,
/// the scheduler's reporter hears of it.
fn watch_panic<T, S: Schedule>(
    scheduler: &S,
    mut output: Result<T, JoinError>,
) -> Result<T, JoinError> {
    if let Err(err) = &mut output
        && err.is_panic()
        && let Some(reporter) = scheduler.reporter()
    {
        reporter.watch(err);
    }
    output
}

/// Drops the stage of a completed task whose output nobody will read,
/// reporting a watched panic in it (asyncio's "Task exception was never
/// retrieved").
///
/// # Safety
/// The task is complete and the caller has exclusive access to the stage.
unsafe fn drop_output_unread<F: Future, S>(core: &Core<F, S>, header: &Header) {
    // SAFETY: exclusive access per the caller's contract.
    let stage = unsafe { core.take_stage() };
    if let Stage::Finished(Err(mut err)) = stage {
        if let Some((reporter, message)) = err.take_unobserved() {
            reporter.unobserved_panic(TaskInfo::of(header), message);
        }
        drop(err);
    }
}

/// Decides whether the join handle can take the output now; if not,
/// installs `waker` to be woken at completion.
fn can_read_output<F: Future, S>(header: &Header, core: &Core<F, S>, waker: &Waker) -> bool {
    let snapshot = header.state.load();
    debug_assert!(snapshot.is_join_interested());
    if snapshot.is_complete() {
        return true;
    }
    let res = if snapshot.is_join_waker_set() {
        // SAFETY: the slot is published; reading it is allowed.
        if unsafe { core.join_waker_will_wake(waker) } {
            return false;
        }
        header
            .state
            .unset_join_waker()
            .and_then(|_| set_join_waker(header, core, waker.clone()))
    } else {
        set_join_waker(header, core, waker.clone())
    };
    match res {
        Ok(_) => false,
        Err(snapshot) => {
            debug_assert!(snapshot.is_complete());
            true
        }
    }
}

fn set_join_waker<F: Future, S>(
    header: &Header,
    core: &Core<F, S>,
    waker: Waker,
) -> Result<super::state::Snapshot, super::state::Snapshot> {
    // SAFETY: JOIN_WAKER is clear, so the handle owns the slot.
    unsafe { core.set_join_waker(Some(waker)) };
    let res = header.state.set_join_waker();
    if res.is_err() {
        // Completed before publication: the slot is still ours; empty it.
        // SAFETY: JOIN_WAKER was never set, the slot is the handle's.
        unsafe { core.set_join_waker(None) };
    }
    res
}

// ---- vtable entries -------------------------------------------------------

unsafe fn poll<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the vtable is only reached through a live task of these types.
    unsafe { Harness::<F, S>::from_raw(ptr) }.poll();
}

unsafe fn schedule<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as above; the caller hands over the Notified reference.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    let task = Notified(harness.task_for_held_ref());
    harness.core().scheduler.schedule(task);
}

unsafe fn dealloc<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller released the last reference.
    unsafe { Harness::<F, S>::from_raw(ptr) }.dealloc();
}

unsafe fn try_read_output<F: Future + 'static, S: Schedule>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    // SAFETY: called by the join handle, which holds a reference.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    if can_read_output(harness.header(), harness.core(), waker) {
        // SAFETY: `dst` is the handle's `Poll<Result<F::Output, JoinError>>`
        // (JoinHandle<T> is only created for T = F::Output); the task is
        // complete and the handle has join interest, so the stage is its.
        unsafe {
            let dst = &mut *(dst as *mut Poll<Result<F::Output, JoinError>>);
            *dst = Poll::Ready(harness.core().take_output().map_err(|mut err| {
                // Handed to the awaiting code: it is observed now.
                err.observe();
                err
            }));
        }
    }
}

unsafe fn drop_join_handle_slow<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: called by the join handle, which holds a reference.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    let (drop_output, drop_waker) = harness.header().state.transition_to_join_handle_dropped();
    if drop_output {
        // The task completed: nobody else reads the output.
        // SAFETY: COMPLETE observed with join interest still ours.
        let _ = panic::catch_unwind(AssertUnwindSafe(|| unsafe {
            drop_output_unread(harness.core(), harness.header())
        }));
    }
    if drop_waker {
        // SAFETY: the transition left JOIN_WAKER clear: the slot is ours.
        unsafe { harness.core().set_join_waker(None) };
    }
    harness.drop_reference();
}

unsafe fn shutdown<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller holds the reference the owned list gave it.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    if harness.header().state.transition_to_shutdown() {
        // We took RUNNING; the list's reference plays the poller's.
        cancel_task(harness.core(), harness.header());
        harness.complete();
    } else {
        harness.drop_reference();
    }
}
