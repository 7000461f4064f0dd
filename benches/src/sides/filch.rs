//! filch: the facade runtime (`filch::Runtime`: executor, timer and I/O
//! driver), with filch-sync and filch-io.

pub use filch::time;
pub use filch_executor::yield_now;
pub use filch_io::{io, net};
pub use filch_sync as sync;

/// The runtime's name in tables.
pub const NAME: &str = "filch";

result_join_side!(filch_executor::spawn, filch_executor::JoinHandle);

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
}

/// The stream as hyper's `Read + Write` (filch-io implements them natively).
pub fn hyper_io(s: net::TcpStream) -> net::TcpStream {
    s
}
