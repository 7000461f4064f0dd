//! tokio: the multi-thread runtime with every driver (`enable_all`), and
//! `tokio::sync`.

pub use tokio::io;
pub use tokio::net;
pub use tokio::sync;
pub use tokio::task::yield_now;
pub use tokio::time;

use super::Unwrap;
use std::future::Future;

/// The runtime's name in tables.
pub const NAME: &str = "tokio";

/// A task's handle; awaits to its output.
pub type Join<T> = Unwrap<tokio::task::JoinHandle<T>>;

/// Spawns from inside the runtime.
pub fn spawn<F>(f: F) -> Join<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Unwrap(tokio::spawn(f))
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
    drop(tokio::spawn(f));
}

/// A tokio multi-thread runtime.
#[derive(Debug)]
pub struct Rt(pub tokio::runtime::Runtime);

impl Rt {
    pub fn new(workers: usize) -> Rt {
        Rt(tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .expect("build the tokio runtime"))
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

/// The stream as hyper's `Read + Write`.
pub fn hyper_io(s: net::TcpStream) -> hyper_util::rt::TokioIo<net::TcpStream> {
    hyper_util::rt::TokioIo::new(s)
}
