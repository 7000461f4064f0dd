//! `RawTask`: a type-erased pointer to a task with the operations that need
//! no knowledge of its future or scheduler (they go through the vtable).
//!
//! A `RawTask` does not own a reference by itself; the types that wrap it
//! (`Task`, `Notified`, `JoinHandle`, wakers) decide that.

use super::core::Header;
use super::state::TransitionToNotified;
use std::ptr::NonNull;
use std::task::Waker;

#[derive(Copy, Clone)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

impl RawTask {
    /// # Safety
    /// `ptr` points to a live task header.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    pub(crate) fn header_ptr(self) -> NonNull<Header> {
        self.ptr
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a RawTask is only made from a live header, and every user
        // holds a reference for as long as it uses it.
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn ref_inc(self) {
        self.header().state.ref_inc();
    }

    /// Releases one reference, deallocating on the last.
    pub(crate) fn drop_reference(self) {
        if self.header().state.ref_dec() {
            self.dealloc();
        }
    }

    /// Releases `n` references at once, deallocating on the last.
    pub(crate) fn drop_references(self, n: usize) {
        debug_assert!(n > 0);
        if self.header().state.transition_to_terminal(n) {
            self.dealloc();
        }
    }

    fn dealloc(self) {
        let vtable = self.header().vtable;
        // SAFETY: the last reference was just released.
        unsafe { (vtable.dealloc)(self.ptr) }
    }

    /// Queues the task; the caller hands over one reference as `Notified`.
    pub(crate) fn schedule(self) {
        let vtable = self.header().vtable;
        // SAFETY: the reference is handed to the scheduler.
        unsafe { (vtable.schedule)(self.ptr) }
    }

    /// Polls the task; the caller hands over its `Notified` reference.
    pub(crate) fn poll(self) {
        let vtable = self.header().vtable;
        // SAFETY: the Notified reference is consumed by the harness.
        unsafe { (vtable.poll)(self.ptr) }
    }

    /// Shuts the task down; the caller hands over the owned list's reference.
    pub(crate) fn shutdown(self) {
        let vtable = self.header().vtable;
        // SAFETY: the list reference is consumed by the harness.
        unsafe { (vtable.shutdown)(self.ptr) }
    }

    /// Wake consuming one reference (a waker's).
    pub(crate) fn wake_by_val(self) {
        match self.header().state.transition_to_notified_by_val() {
            TransitionToNotified::Submit => self.schedule(),
            TransitionToNotified::Dealloc => self.dealloc(),
            TransitionToNotified::DoNothing => {}
        }
    }

    /// Wake without consuming a reference.
    pub(crate) fn wake_by_ref(self) {
        match self.header().state.transition_to_notified_by_ref() {
            TransitionToNotified::Submit => self.schedule(),
            TransitionToNotified::Dealloc => unreachable!("wake_by_ref releases no reference"),
            TransitionToNotified::DoNothing => {}
        }
    }

    /// `JoinHandle::cancel`.
    pub(crate) fn cancel(self) {
        match self.header().state.transition_to_notified_and_cancel() {
            TransitionToNotified::Submit => self.schedule(),
            TransitionToNotified::Dealloc => unreachable!("cancel releases no reference"),
            TransitionToNotified::DoNothing => {}
        }
    }

    /// # Safety
    /// `dst` is a `*mut Poll<Result<T, JoinError>>` for the task's output
    /// type `T`, and the caller is the task's join handle.
    pub(crate) unsafe fn try_read_output(self, dst: *mut (), waker: &Waker) {
        let vtable = self.header().vtable;
        // SAFETY: per the caller's contract.
        unsafe { (vtable.try_read_output)(self.ptr, dst, waker) }
    }

    /// Drops the join handle's interest and reference.
    pub(crate) fn drop_join_handle(self) {
        if self.header().state.drop_join_handle_fast().is_ok() {
            return;
        }
        let vtable = self.header().vtable;
        // SAFETY: called once, by the join handle being dropped.
        unsafe { (vtable.drop_join_handle_slow)(self.ptr) }
    }
}
