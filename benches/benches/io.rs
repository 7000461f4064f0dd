//! TCP echo on loopback, filch beside tokio in one run: 64 persistent
//! connections, each doing round trips of 64-byte or 16 KiB messages
//! against an echo server in the same runtime (2 workers each).
//!
//! One criterion iteration is one round trip on every connection at once;
//! throughput is counted in bytes sent by the clients. Both runtimes run
//! with an I/O driver and no timer driver (tokio: `enable_io()` only), so
//! the comparison is reactor against reactor. This file owns the
//! I/O benchmark only; results and commands are in `docs/benchmarks.md`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 64;
const WORKERS: usize = 2;
const SIZES: [usize; 2] = [64, 16 << 10];

mod filch_side {
    use super::*;
    use filch_io::io::{AsyncReadExt, AsyncWriteExt};
    use filch_io::net::{TcpListener, TcpStream};

    pub struct Bench {
        rt: filch_executor::Executor,
        clients: Vec<TcpStream>,
        server: filch_executor::JoinHandle<()>,
    }

    impl Bench {
        pub fn new() -> Bench {
            let (park, driver) = filch_io::driver().unwrap();
            let rt = filch_executor::Builder::new()
                .worker_threads(WORKERS)
                .driver(park, driver)
                .build()
                .unwrap();
            let (server, addr) = rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr: SocketAddr = listener.local_addr().unwrap();
                let server = filch_executor::spawn(async move {
                    loop {
                        let (mut s, _) = listener.accept().await.unwrap();
                        s.set_nodelay(true).unwrap();
                        filch_executor::spawn(async move {
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
                        filch_executor::spawn(async move {
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
            self.server.cancel();
        }
    }
}

mod tokio_side {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    pub struct Bench {
        rt: tokio::runtime::Runtime,
        clients: Vec<TcpStream>,
        server: tokio::task::JoinHandle<()>,
    }

    impl Bench {
        pub fn new() -> Bench {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(WORKERS)
                .enable_io()
                .build()
                .unwrap();
            let (server, addr) = rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr: SocketAddr = listener.local_addr().unwrap();
                let server = tokio::spawn(async move {
                    loop {
                        let (mut s, _) = listener.accept().await.unwrap();
                        s.set_nodelay(true).unwrap();
                        tokio::spawn(async move {
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
                        tokio::spawn(async move {
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
            self.server.abort();
        }
    }
}

fn tcp_echo(c: &mut Criterion) {
    let mut group = c.benchmark_group("tcp_echo_64conn");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let mut filch = filch_side::Bench::new();
    let mut tokio = tokio_side::Bench::new();
    for size in SIZES {
        group.throughput(Throughput::Bytes((CONNECTIONS * size) as u64));
        group.bench_with_input(BenchmarkId::new("filch", size), &size, |b, &size| {
            b.iter_custom(|iters| filch.run(iters, size))
        });
        group.bench_with_input(BenchmarkId::new("tokio", size), &size, |b, &size| {
            b.iter_custom(|iters| tokio.run(iters, size))
        });
    }
    group.finish();
}

criterion_group!(benches, tcp_echo);
criterion_main!(benches);
