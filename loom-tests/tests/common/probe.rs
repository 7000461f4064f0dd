//! A future that counts its polls and drops, for the models of the owned
//! task list. Included with `#[path = "common/probe.rs"] mod probe;`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};

/// What the futures of one model record (std atomics: loom runs every
/// model thread on one OS thread, so they only record).
#[derive(Default)]
pub struct Probe {
    pub polls: AtomicUsize,
    pub drops: AtomicUsize,
    pub waker: Mutex<Option<Waker>>,
}

/// Ready with 7 at its first poll, or pending (leaving a waker clone in the
/// probe) when `pending`.
pub struct Counted {
    pub probe: Arc<Probe>,
    pub pending: bool,
}

impl Future for Counted {
    type Output = u32;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        self.probe.polls.fetch_add(1, SeqCst);
        if self.pending {
            *self.probe.waker.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(7)
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.probe.drops.fetch_add(1, SeqCst);
    }
}
