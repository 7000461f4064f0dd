//! The three runtimes as the workloads see them: one module per runtime
//! with the same names in each, so that a workload written once against
//! `side::{spawn, spawn_detached, yield_now, sync, time, net, io, Rt}`
//! compiles against filch, tokio and smol alike (the workload files
//! instantiate their code once per side with a macro).
//!
//! What each side provides:
//!
//! * `Rt`: a runtime with `workers` threads: `new(workers)`, `block_on`,
//!   and `spawn` from outside the runtime;
//! * `spawn` (from inside the runtime; the handle awaits to the task's
//!   output), `spawn_detached`, `yield_now`;
//! * `sync`: the runtime family's own `mpsc`, `oneshot`, `Semaphore`,
//!   `Mutex`, with tokio's signatures (filch-sync keeps them; smol's are
//!   adapted in `smol.rs`);
//! * `time::{sleep, timeout}`, `net::{TcpListener, TcpStream}` and
//!   `io::{AsyncReadExt, AsyncWriteExt}` with tokio's shapes;
//! * `hyper_io`: a stream as hyper's `Read + Write`.
//!
//! This module owns the adapters only: no workload and no measurement
//! lives here, and no side tunes its runtime beyond the worker count.

/// `Join`, `spawn`, `detach`, `spawn_detached`, and `Rt::{block_on,
/// spawn}` for a runtime whose join handle yields a `Result` and detaches
/// when dropped (filch, tokio), with `Rt` a tuple struct around the runtime.
macro_rules! result_join_side {
    ($spawn:path, $($handle:ident)::+) => {
        /// A task's handle; awaits to its output.
        pub type Join<T> = $crate::sides::Unwrap<$($handle)::+<T>>;

        /// Spawns from inside the runtime.
        pub fn spawn<F>(f: F) -> Join<F::Output>
        where
            F: std::future::Future + Send + 'static,
            F::Output: Send + 'static,
        {
            $crate::sides::Unwrap($spawn(f))
        }

        /// Lets a spawned task run on without anyone joining it.
        pub fn detach<T>(j: Join<T>) {
            drop(j);
        }

        /// Spawns a task nobody joins.
        pub fn spawn_detached<F>(f: F)
        where
            F: std::future::Future<Output = ()> + Send + 'static,
        {
            drop($spawn(f));
        }

        impl Rt {
            pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
                self.0.block_on(f)
            }

            /// Spawns from outside the runtime.
            pub fn spawn<F>(&self, f: F) -> Join<F::Output>
            where
                F: std::future::Future + Send + 'static,
                F::Output: Send + 'static,
            {
                $crate::sides::Unwrap(self.0.spawn(f))
            }
        }
    };
}

pub mod filch;
pub mod smol;
pub mod tokio;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// A join handle whose `Result` output is unwrapped, so the workloads
/// read the same on every side (smol's `Task` has no `Result`). A failed
/// task (a panic in a workload) panics the awaiting code with the error,
/// which the compare harness reports as a failed workload.
#[derive(Debug)]
pub struct Unwrap<J>(pub J);

impl<J, T, E> Future for Unwrap<J>
where
    J: Future<Output = Result<T, E>> + Unpin,
    E: std::fmt::Debug,
{
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match ready!(Pin::new(&mut self.0).poll(cx)) {
            Ok(v) => Poll::Ready(v),
            Err(e) => panic!("a task failed: {e:?}"),
        }
    }
}

/// filch-sync's primitives on tokio's runtime: with `tokio` beside it, it
/// tells what a primitive costs from what the executor costs.
pub mod filch_on_tokio {
    pub use super::tokio::{Join, NAME, Rt, detach, spawn, spawn_detached, yield_now};
    pub use filch_sync as sync;
}
