//! HTTP/1 keep-alive request-reply over hyper 1.x: a hello-world server
//! and 64 persistent hyper client connections in the same runtime,
//! instantiated per runtime (`filch`, `tokio`, `smol` modules, each a
//! `Bench`). Used by the `compare` binary; `benches/wrk.sh` loads the same
//! kind of server from outside the process.
//!
//! One iteration is one `GET /` on every connection at once (each client
//! waits for its response and reads the body before the next request).
//! The checksum adds up status codes and body lengths. Owns the workload
//! only.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::convert::Infallible;

/// Persistent client connections per runtime.
pub const CONNECTIONS: usize = 64;

/// The server's body.
pub const BODY: &[u8] = b"Hello, World!";

/// The checksum of `iters` iterations on `conns` connections.
pub fn expected(conns: usize, iters: u64) -> u64 {
    conns as u64 * iters * (200 + BODY.len() as u64)
}

/// The server's one handler.
pub async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(BODY))))
}

/// The client's request.
pub fn request() -> Request<Empty<Bytes>> {
    Request::builder()
        .uri("/")
        .header(hyper::header::HOST, "127.0.0.1")
        .body(Empty::new())
        .expect("a valid request")
}

/// Reads a response to the end: its status code plus its body length.
pub async fn consume(resp: Response<Incoming>) -> u64 {
    let status = resp.status().as_u16() as u64;
    let body = resp
        .into_body()
        .collect()
        .await
        .expect("read the response body")
        .to_bytes();
    status + body.len() as u64
}

macro_rules! http_side {
    ($m:ident, $side:path) => {
        pub mod $m {
            use super::*;
            use crate::echo::{Conns, on_each};
            use hyper::client::conn::http1::SendRequest;
            use std::time::Duration;
            use $side::{
                Rt, detach, hyper_io,
                net::{TcpListener, TcpStream},
                spawn, spawn_detached,
            };

            pub type Bench = Conns<SendRequest<Empty<Bytes>>, Rt>;

            impl Bench {
                pub fn new(workers: usize) -> Bench {
                    let rt = Rt::new(workers);
                    let clients = rt.block_on(async {
                        let listener = TcpListener::bind(crate::echo::any_port()).await.unwrap();
                        let addr = listener.local_addr().unwrap();
                        // Runs until the runtime is dropped.
                        detach(spawn(async move {
                            loop {
                                let (s, _) = listener.accept().await.unwrap();
                                s.set_nodelay(true).unwrap();
                                spawn_detached(async move {
                                    let _ = hyper::server::conn::http1::Builder::new()
                                        .serve_connection(
                                            hyper_io(s),
                                            hyper::service::service_fn(hello),
                                        )
                                        .await;
                                });
                            }
                        }));
                        let mut clients = Vec::new();
                        for _ in 0..CONNECTIONS {
                            let s = TcpStream::connect(addr).await.unwrap();
                            s.set_nodelay(true).unwrap();
                            let (sender, conn) = hyper::client::conn::http1::handshake::<
                                _,
                                Empty<Bytes>,
                            >(hyper_io(s))
                            .await
                            .unwrap();
                            spawn_detached(async move {
                                let _ = conn.await;
                            });
                            clients.push(sender);
                        }
                        clients
                    });
                    Conns { clients, rt }
                }

                /// `iters` requests on every connection at once: the time
                /// they took and the checksum.
                pub fn run(&mut self, iters: u64) -> (Duration, u64) {
                    let clients = std::mem::take(&mut self.clients);
                    let (elapsed, sum, clients) = self.rt.block_on(on_each(
                        clients,
                        spawn,
                        move |_, mut sender| async move {
                            let mut sum = 0u64;
                            for _ in 0..iters {
                                sender.ready().await.unwrap();
                                let resp = sender.send_request(request()).await.unwrap();
                                sum += consume(resp).await;
                            }
                            (sender, sum)
                        },
                    ));
                    self.clients = clients;
                    (elapsed, sum)
                }
            }
        }
    };
}

http_side!(filch, crate::sides::filch);
http_side!(tokio, crate::sides::tokio);
http_side!(smol, crate::sides::smol);
