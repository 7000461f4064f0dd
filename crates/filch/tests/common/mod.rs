//! Helpers shared by the combinator tests: drop flags, poll counters, and a
//! bounded wait for something that happens on another worker.

#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};
use std::time::Duration;

/// Sets its flag when dropped: proves a future (or a task's future) was
/// dropped.
pub struct DropFlag(pub Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

pub fn flag() -> (Arc<AtomicBool>, DropFlag) {
    let f = Arc::new(AtomicBool::new(false));
    (f.clone(), DropFlag(f))
}

/// Counts the polls of the future inside.
pub struct Counted<F> {
    pub polls: Arc<AtomicUsize>,
    pub inner: Pin<Box<F>>,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

/// Waits (in virtual time: each step is a 1 ms sleep) until `cond` holds;
/// panics after a virtual second. Guards against hangs only.
pub async fn eventually(what: &str, cond: impl Fn() -> bool) {
    let ok = filch::time::timeout(Duration::from_secs(1), async {
        while !cond() {
            filch::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    assert!(ok.is_ok(), "timed out waiting for: {what}");
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}
