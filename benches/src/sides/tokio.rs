//! tokio: the multi-thread runtime with every driver (`enable_all`), and
//! `tokio::sync`.

pub use tokio::io;
pub use tokio::net;
pub use tokio::sync;
pub use tokio::task::yield_now;
pub use tokio::time;

/// The runtime's name in tables.
pub const NAME: &str = "tokio";

result_join_side!(tokio::spawn, tokio::task::JoinHandle);

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
}

/// The stream as hyper's `Read + Write`.
pub fn hyper_io(s: net::TcpStream) -> hyper_util::rt::TokioIo<net::TcpStream> {
    hyper_util::rt::TokioIo::new(s)
}
