//! The TCP echo workload: 64 persistent loopback connections against an
//! echo server in the same runtime, instantiated per runtime (`filch`,
//! `tokio`, `smol` modules, each a `Bench`). Shared by `benches/io.rs`,
//! `benches/io_interleaved.rs` and the `compare` binary.
//!
//! One iteration is one round trip of `size` bytes on every connection at
//! once. The first and last byte of every message depend on the iteration
//! and the connection, and the client adds up those two bytes of each echo
//! into the checksum, so a runtime that mixed
//! up or lost data gets a different checksum. Owns the workload only.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Persistent client connections per runtime.
pub const CONNECTIONS: usize = 64;

/// Loopback, any port.
pub fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// The byte connection `conn` sends in iteration `iter`.
pub fn fill(conn: usize, iter: u64) -> u8 {
    (conn as u64).wrapping_mul(31).wrapping_add(iter) as u8
}

/// The checksum of `iters` iterations on `conns` connections (two checked
/// bytes per echo).
pub fn expected(conns: usize, iters: u64) -> u64 {
    (0..conns)
        .map(|c| (0..iters).map(|i| 2 * fill(c, i) as u64).sum::<u64>())
        .sum()
}

/// Persistent client connections and the runtime they live in: one
/// runtime's `Bench`, here and in `http.rs`.
pub struct Conns<C, R> {
    // Dropped before the runtime: the server's connection tasks see their
    // clients close while the runtime still runs.
    pub(crate) clients: Vec<C>,
    pub(crate) rt: R,
}

impl<C, R> std::fmt::Debug for Conns<C, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conns")
            .field("clients", &self.clients.len())
            .finish()
    }
}

/// Runs `body(index, connection)` on every connection at once, one task
/// each (started with the runtime's `spawn`): the time until all finished,
/// the sum of their checksums, and the connections back in order.
pub async fn on_each<C, Fut, J>(
    clients: Vec<C>,
    spawn: fn(Fut) -> J,
    body: impl Fn(usize, C) -> Fut,
) -> (Duration, u64, Vec<C>)
where
    Fut: Future<Output = (C, u64)>,
    J: Future<Output = (C, u64)>,
{
    let start = Instant::now();
    let tasks: Vec<J> = clients
        .into_iter()
        .enumerate()
        .map(|(i, c)| spawn(body(i, c)))
        .collect();
    let mut back = Vec::with_capacity(tasks.len());
    let mut sum = 0;
    for t in tasks {
        let (c, s) = t.await;
        back.push(c);
        sum += s;
    }
    (start.elapsed(), sum, back)
}

macro_rules! echo_side {
    ($m:ident, $side:path) => {
        pub mod $m {
            use super::*;
            use $side::{
                Rt, detach,
                io::{AsyncReadExt, AsyncWriteExt},
                net::{TcpListener, TcpStream},
                spawn, spawn_detached,
            };

            pub type Bench = Conns<TcpStream, Rt>;

            impl Bench {
                pub fn new(workers: usize) -> Bench {
                    let rt = Rt::new(workers);
                    let clients = rt.block_on(async {
                        let listener = TcpListener::bind(any_port()).await.unwrap();
                        let addr: SocketAddr = listener.local_addr().unwrap();
                        // Runs until the runtime is dropped.
                        detach(spawn(async move {
                            loop {
                                let (mut s, _) = listener.accept().await.unwrap();
                                s.set_nodelay(true).unwrap();
                                spawn_detached(async move {
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
                        }));
                        let mut clients = Vec::new();
                        for _ in 0..CONNECTIONS {
                            let c = TcpStream::connect(addr).await.unwrap();
                            c.set_nodelay(true).unwrap();
                            clients.push(c);
                        }
                        clients
                    });
                    Conns { clients, rt }
                }

                /// `iters` round trips of `size` bytes on every connection
                /// at once: the time they took and the checksum.
                pub fn run(&mut self, iters: u64, size: usize) -> (Duration, u64) {
                    let clients = std::mem::take(&mut self.clients);
                    let (elapsed, sum, clients) =
                        self.rt
                            .block_on(on_each(clients, spawn, move |conn, mut c| async move {
                                let mut msg = vec![0u8; size];
                                let mut back = vec![0u8; size];
                                let mut sum = 0u64;
                                for i in 0..iters {
                                    let b = fill(conn, i);
                                    msg[0] = b;
                                    msg[size - 1] = b;
                                    c.write_all(&msg).await.unwrap();
                                    c.read_exact(&mut back).await.unwrap();
                                    sum += back[0] as u64 + back[size - 1] as u64;
                                }
                                (c, sum)
                            }));
                    self.clients = clients;
                    (elapsed, sum)
                }
            }
        }
    };
}

echo_side!(filch, crate::sides::filch);
echo_side!(tokio, crate::sides::tokio);
echo_side!(smol, crate::sides::smol);
