//! filch: the facade runtime (`filch::Runtime`: executor, timer and I/O
//! driver), with filch-sync and filch-io.

pub use filch::time;
pub use filch_executor::yield_now;
pub use filch_io::{io, net};
pub use filch_sync as sync;

use super::Unwrap;
use std::future::Future;

/// The runtime's name in tables.
pub const NAME: &str = "filch";

/// A task's handle; awaits to its output.
pub type Join<T> = Unwrap<filch_executor::JoinHandle<T>>;

/// Spawns from inside the runtime.
pub fn spawn<F>(f: F) -> Join<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Unwrap(filch_executor::spawn(f))
}

/// Lets a spawned task run on without anyone joining it.
pub fn detach<T>(j: Join<T>) {
    drop(j);
}

/// Spawns a task nobody joins.
pub fn spawn_detached<F>(f: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    drop(filch_executor::spawn(f));
}

/// A filch runtime.
#[derive(Debug)]
pub struct Rt(pub filch::Runtime);

impl Rt {
    /// With filch's defaults.
    pub fn new(workers: usize) -> Rt {
        Rt::with(workers, true)
    }

    /// `helps`: whether the `block_on` thread runs queued tasks while its
    /// future waits (filch's default; `false` is tokio's behaviour).
    pub fn with(workers: usize, helps: bool) -> Rt {
        Rt(filch::Runtime::builder()
            .worker_threads(workers)
            .block_on_runs_tasks(helps)
            .build()
            .expect("build the filch runtime"))
    }

    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }

    /// Spawns from outside the runtime.
    pub fn spawn<F>(&self, f: F) -> Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Unwrap(self.0.spawn(f))
    }
}

/// The stream as hyper's `Read + Write` (filch-io implements them natively).
pub fn hyper_io(s: net::TcpStream) -> net::TcpStream {
    s
}
