//! Helpers shared by the integration tests: runtimes, a waker that counts
//! its wakes, manual polling, and a "give up after k polls" wrapper that
//! cancels a future at an arbitrary point of its life.

#![allow(dead_code)]

use filch_executor::{Builder, Executor};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Wake, Waker};

/// A runtime with `workers` worker threads.
pub fn rt(workers: usize) -> Executor {
    Builder::new().worker_threads(workers).build().unwrap()
}

/// A waker that counts how often it was woken.
pub struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A future under manual control: poll it with a counting waker.
pub struct Manual<F: Future> {
    pub fut: Pin<Box<F>>,
    pub count: Arc<CountingWaker>,
    waker: Waker,
}

impl<F: Future> Manual<F> {
    pub fn new(fut: F) -> Self {
        let count = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        Manual {
            fut: Box::pin(fut),
            count,
            waker,
        }
    }

    pub fn poll(&mut self) -> Poll<F::Output> {
        self.fut
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker))
    }

    /// Polls and expects `Pending`.
    #[track_caller]
    pub fn pending(&mut self) {
        assert!(self.poll().is_pending(), "expected Pending");
    }

    /// Polls and expects `Ready`, returning the output.
    #[track_caller]
    pub fn ready(&mut self) -> F::Output {
        match self.poll() {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("expected Ready"),
        }
    }

    pub fn wakes(&self) -> usize {
        self.count.0.load(SeqCst)
    }
}

/// Polls `fut` at most `polls` times (yielding to the scheduler between
/// polls), then drops it: cancellation at an arbitrary point. Returns the
/// output if it completed in time.
pub struct GiveUp<F> {
    fut: Pin<Box<F>>,
    polls_left: usize,
}

pub fn give_up_after<F: Future>(polls: usize, fut: F) -> GiveUp<F> {
    GiveUp {
        fut: Box::pin(fut),
        polls_left: polls,
    }
}

impl<F: Future> Future for GiveUp<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.polls_left == 0 {
            return Poll::Ready(None);
        }
        self.polls_left -= 1;
        match self.fut.as_mut().poll(cx) {
            Poll::Ready(v) => Poll::Ready(Some(v)),
            Poll::Pending => {
                // Come back soon even if nobody wakes us: the point is to
                // be dropped while pending, at varying moments.
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }
}

/// A small deterministic PRNG (xorshift) so stress tests vary their
/// choices without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Runs `f` on its own thread and fails the test if it has not finished
/// within `secs` seconds: a guard so a broken primitive fails instead of
/// hanging the suite (it is never what a test asserts).
pub fn with_deadline<R: Send + 'static>(secs: u64, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(v) => {
            worker.join().unwrap();
            v
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            // `f` panicked: report its panic.
            match worker.join() {
                Err(p) => std::panic::resume_unwind(p),
                Ok(()) => unreachable!(),
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("hung: not finished after {secs}s")
        }
    }
}
