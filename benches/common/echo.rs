//! The TCP echo workload both `benches/io.rs` and `benches/io_interleaved.rs`
//! run: 64 persistent loopback connections against an echo server in the
//! same runtime (2 workers), one side per runtime. Included with `#[path]`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Persistent client connections per runtime.
pub const CONNECTIONS: usize = 64;
/// Worker threads per runtime.
pub const WORKERS: usize = 2;

/// One runtime's side of the benchmark: the same code for each runtime,
/// so the two cannot drift apart. `$build` makes a runtime with `WORKERS`
/// workers and an I/O driver (no timer), `$stop` ends the accept task.
macro_rules! echo_side {
    (
        $side:ident,
        runtime: $rt:ty = $build:expr,
        spawn: $spawn:path,
        join: $join:ty,
        stop: $stop:ident,
        io: $io:path,
        net: $net:path $(,)?
    ) => {
        pub mod $side {
            use super::*;
            use $io::{AsyncReadExt, AsyncWriteExt};
            use $net::{TcpListener, TcpStream};

            pub struct Bench {
                rt: $rt,
                clients: Vec<TcpStream>,
                server: $join,
            }

            impl Bench {
                pub fn new() -> Bench {
                    let rt = $build;
                    let (server, addr) = rt.block_on(async {
                        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                        let addr: SocketAddr = listener.local_addr().unwrap();
                        let server = $spawn(async move {
                            loop {
                                let (mut s, _) = listener.accept().await.unwrap();
                                s.set_nodelay(true).unwrap();
                                $spawn(async move {
                                    let mut buf = vec![0; 16 << 10];
                                    loop {
                                        match s.read(&mut buf).await {
                                            Ok(0) | Err(_) => return,
                                            Ok(n) => {
                                                if s.write_all(&buf[..n]).await.is_err() {
                                                    return;
                                                }
                                            }
                                        }
                                    }
                                });
                            }
                        });
                        (server, addr)
                    });
                    let clients = rt.block_on(async {
                        let mut clients = Vec::new();
                        for _ in 0..CONNECTIONS {
                            let c = TcpStream::connect(addr).await.unwrap();
                            c.set_nodelay(true).unwrap();
                            clients.push(c);
                        }
                        clients
                    });
                    Bench {
                        rt,
                        clients,
                        server,
                    }
                }

                /// `iters` round trips of `size` bytes on every connection at once.
                pub fn run(&mut self, iters: u64, size: usize) -> Duration {
                    let clients = std::mem::take(&mut self.clients);
                    let (elapsed, clients) = self.rt.block_on(async move {
                        let start = Instant::now();
                        let tasks: Vec<_> = clients
                            .into_iter()
                            .map(|mut c| {
                                $spawn(async move {
                                    let msg = vec![7u8; size];
                                    let mut back = vec![0u8; size];
                                    for _ in 0..iters {
                                        c.write_all(&msg).await.unwrap();
                                        c.read_exact(&mut back).await.unwrap();
                                    }
                                    c
                                })
                            })
                            .collect();
                        let mut clients = Vec::with_capacity(tasks.len());
                        for t in tasks {
                            clients.push(t.await.unwrap());
                        }
                        (start.elapsed(), clients)
                    });
                    self.clients = clients;
                    elapsed
                }
            }

            impl Drop for Bench {
                fn drop(&mut self) {
                    self.server.$stop();
                }
            }
        }
    };
}

echo_side!(
    filch_side,
    runtime: filch_executor::Executor = {
        let (park, driver) = filch_io::driver().unwrap();
        filch_executor::Builder::new()
            .worker_threads(WORKERS)
            .driver(park, driver)
            .build()
            .unwrap()
    },
    spawn: filch_executor::spawn,
    join: filch_executor::JoinHandle<()>,
    stop: cancel,
    io: filch_io::io,
    net: filch_io::net,
);

echo_side!(
    tokio_side,
    runtime: tokio::runtime::Runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_io()
        .build()
        .unwrap(),
    spawn: tokio::spawn,
    join: tokio::task::JoinHandle<()>,
    stop: abort,
    io: tokio::io,
    net: tokio::net,
);
