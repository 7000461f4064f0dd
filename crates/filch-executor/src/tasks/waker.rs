//! The task waker: a `RawWakerVTable` whose data pointer is the task header,
//! so a waker costs no allocation and cloning it is one reference increment.
//!
//! Owns only the four vtable entries; what a wake means is decided by the
//! state transitions in `state.rs`.

use super::core::Header;
use super::raw::RawTask;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake_by_val, wake_by_ref, drop_waker);

/// A waker for the task, *without* taking a reference: the caller must
/// either hold it in `ManuallyDrop` while it holds a reference of its own, or
/// have taken the reference the waker will release.
///
/// # Safety
/// `header` is a live task and the reference rules above are kept.
pub(crate) unsafe fn from_header(header: NonNull<Header>) -> Waker {
    let raw = RawWaker::new(header.as_ptr() as *const (), &WAKER_VTABLE);
    // SAFETY: the vtable entries below uphold the `RawWaker` contract for a
    // data pointer that is a live task header with one reference per waker.
    unsafe { Waker::from_raw(raw) }
}

/// Whether `waker` is a task waker (of any task of any filch runtime).
#[inline]
pub(crate) fn is_task_waker(waker: &Waker) -> bool {
    std::ptr::eq(waker.vtable(), &WAKER_VTABLE)
}

fn raw(ptr: *const ()) -> RawTask {
    // SAFETY: the waker vtable is only ever paired with a non-null task
    // header pointer (see `from_header`).
    unsafe { RawTask::from_raw(NonNull::new_unchecked(ptr as *mut Header)) }
}

unsafe fn clone_waker(ptr: *const ()) -> RawWaker {
    raw(ptr).ref_inc();
    RawWaker::new(ptr, &WAKER_VTABLE)
}

unsafe fn wake_by_val(ptr: *const ()) {
    raw(ptr).wake_by_val();
}

unsafe fn wake_by_ref(ptr: *const ()) {
    raw(ptr).wake_by_ref();
}

unsafe fn drop_waker(ptr: *const ()) {
    raw(ptr).drop_reference();
}
