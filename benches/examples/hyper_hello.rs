//! A hyper 1.x HTTP/1 "hello world" server on filch or on tokio (2 workers
//! each), for `benches/wrk.sh` to load with `wrk`.
//!
//! Usage: `hyper_hello filch|tokio PORT` — serves until killed. Both
//! runtimes have an I/O driver and no timer driver (tokio: `enable_io()`),
//! since the server sets no timeouts. This file
//! owns the server only; the load and the numbers are the script's.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use std::convert::Infallible;

const WORKERS: usize = 2;

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

fn serve_filch(port: u16) {
    let (park, driver) = filch_io::driver().expect("create the reactor");
    let rt = filch_executor::Builder::new()
        .worker_threads(WORKERS)
        .driver(park, driver)
        .build()
        .expect("build the runtime");
    rt.block_on(async move {
        let listener = filch_io::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        eprintln!("filch hyper_hello listening on 127.0.0.1:{port}");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            filch_executor::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(stream, service_fn(hello))
                    .await;
            });
        }
    });
}

fn serve_tokio(port: u16) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_io()
        .build()
        .expect("build the runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        eprintln!("tokio hyper_hello listening on 127.0.0.1:{port}");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service_fn(hello))
                    .await;
            });
        }
    });
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (runtime, port) = match (args.next(), args.next().and_then(|p| p.parse::<u16>().ok())) {
        (Some(rt), Some(port)) => (rt, port),
        _ => {
            eprintln!("usage: hyper_hello filch|tokio PORT");
            std::process::exit(2);
        }
    };
    match runtime.as_str() {
        "filch" => serve_filch(port),
        "tokio" => serve_tokio(port),
        other => {
            eprintln!("unknown runtime {other:?}: expected filch or tokio");
            std::process::exit(2);
        }
    }
}
