//! A hyper 1.x HTTP/1 "hello world" server on filch, tokio or smol (2
//! workers each, every driver on), for `benches/wrk.sh` to load with `wrk`.
//! The handler is `filch_benches::http::hello`, the one the `compare`
//! binary's HTTP row serves.
//!
//! Usage: `hyper_hello filch|tokio|smol PORT` — serves until killed. This
//! file owns the server only; the load and the numbers are the script's.

use filch_benches::{http, sides};
use std::net::SocketAddr;

const WORKERS: usize = 2;

/// Serves on `port` with runtime `$side` until killed.
macro_rules! serve {
    ($side:ident, $port:expr) => {{
        use sides::$side::{Rt, hyper_io, net::TcpListener, spawn_detached};
        let rt = Rt::new(WORKERS);
        rt.block_on(async move {
            let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], $port)))
                .await
                .expect("bind");
            eprintln!(
                "{} hyper_hello listening on 127.0.0.1:{}",
                sides::$side::NAME,
                $port
            );
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                spawn_detached(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_io(stream), hyper::service::service_fn(http::hello))
                        .await;
                });
            }
        })
    }};
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (runtime, port) = match (args.next(), args.next().and_then(|p| p.parse::<u16>().ok())) {
        (Some(rt), Some(port)) => (rt, port),
        _ => {
            eprintln!("usage: hyper_hello filch|tokio|smol PORT");
            std::process::exit(2);
        }
    };
    match runtime.as_str() {
        "filch" => serve!(filch, port),
        "tokio" => serve!(tokio, port),
        "smol" => serve!(smol, port),
        other => {
            eprintln!("unknown runtime {other:?}: expected filch, tokio or smol");
            std::process::exit(2);
        }
    }
}
