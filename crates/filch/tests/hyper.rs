//! hyper 1.x on the facade's runtime, whose composite driver gives hyper
//! both our sockets and our timers: an HTTP/1 server (with hyper's
//! header-read timeout on our `Timer`) and client (through our connector and
//! our native `hyper::rt::Read`/`Write`) exchange 1,000 requests over
//! keep-alive connections; the timeout closes a silent connection; the
//! timer resets a sleep in place. (filch-io's own tests cover hyper without
//! timers.) Each test is bounded by a `filch::time::timeout`, so a hang
//! fails instead of stalling CI.
#![cfg(feature = "hyper")]

use bytes::Bytes;
use filch::hyper::{HttpConnector, HyperSleep, HyperTimer};
use filch::io::{AsyncReadExt, AsyncWriteExt};
use filch::net::{TcpListener, TcpStream};
use filch::time::timeout;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tower_service::Service;

/// Replies with the request's path and body length.
async fn echo_path(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let len = req.into_body().collect().await.unwrap().to_bytes().len();
    Ok(Response::new(Full::new(Bytes::from(format!(
        "{path} {len}"
    )))))
}

/// Runs `fut` on a fresh 2-worker facade runtime, failing after `secs`.
fn run<F: Future>(secs: u64, fut: F) -> F::Output {
    let rt = filch::Runtime::builder().worker_threads(2).build().unwrap();
    rt.block_on(timeout(Duration::from_secs(secs), fut))
        .unwrap_or_else(|_| panic!("test hung for {secs} s"))
}

#[test]
fn hyper_server_and_client_exchange_1000_requests_over_keep_alive() {
    const CONNECTIONS: usize = 10;
    const PER_CONNECTION: usize = 100;
    let accepted = Arc::new(AtomicUsize::new(0));
    let served = Arc::new(AtomicUsize::new(0));
    run(120, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = {
            let (accepted, served) = (accepted.clone(), served.clone());
            filch::spawn(async move {
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    accepted.fetch_add(1, Relaxed);
                    let served = served.clone();
                    filch::spawn(async move {
                        let service = service_fn(move |req| {
                            served.fetch_add(1, Relaxed);
                            echo_path(req)
                        });
                        hyper::server::conn::http1::Builder::new()
                            .keep_alive(true)
                            .timer(HyperTimer)
                            .header_read_timeout(Duration::from_secs(30))
                            .serve_connection(stream, service)
                            .await
                            .unwrap();
                    });
                }
            })
        };
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|c| {
                filch::spawn(async move {
                    let uri: hyper::Uri = format!("http://{addr}/").parse().unwrap();
                    let stream = HttpConnector::new().call(uri).await.unwrap();
                    let (mut sender, conn) =
                        hyper::client::conn::http1::handshake(stream).await.unwrap();
                    filch::spawn(async move { conn.await.unwrap() });
                    for i in 0..PER_CONNECTION {
                        sender.ready().await.unwrap();
                        let body = vec![b'x'; (c * PER_CONNECTION + i) % 1500];
                        let len = body.len();
                        let req = Request::post(format!("/c{c}/r{i}"))
                            .header(hyper::header::HOST, addr.to_string())
                            .body(Full::new(Bytes::from(body)))
                            .unwrap();
                        let resp = sender.send_request(req).await.unwrap();
                        assert_eq!(resp.status(), StatusCode::OK);
                        let got = resp.into_body().collect().await.unwrap().to_bytes();
                        assert_eq!(got, format!("/c{c}/r{i} {len}").as_bytes());
                    }
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
        server.cancel();
    });
    assert_eq!(served.load(Relaxed), CONNECTIONS * PER_CONNECTION);
    // Keep-alive: every request of a client reused its one connection.
    assert_eq!(accepted.load(Relaxed), CONNECTIONS);
}

#[test]
fn header_read_timeout_closes_a_silent_connection() {
    run(60, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = filch::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            hyper::server::conn::http1::Builder::new()
                .timer(HyperTimer)
                .header_read_timeout(Duration::from_millis(50))
                .serve_connection(stream, service_fn(echo_path))
                .await
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        // The request head starts but never ends.
        client
            .write_all(b"GET / HTTP/1.1\r\nhost: silent\r\n")
            .await
            .unwrap();
        let err = server.await.unwrap().unwrap_err();
        assert!(
            err.is_timeout(),
            "expected a header-read timeout, got {err:?}"
        );
        // The server side is gone: the client reads EOF (or a reset).
        let mut rest = Vec::new();
        let _ = client.read_to_end(&mut rest).await;
    });
}

#[test]
fn hyper_timer_resets_its_sleep_in_place() {
    use hyper::rt::Timer;
    run(60, async {
        let timer = HyperTimer;
        let mut sleep = timer.sleep(Duration::from_secs(3600));
        assert!(sleep.is::<HyperSleep>());
        timer.reset(&mut sleep, Instant::now() + Duration::from_millis(1));
        assert!(sleep.is::<HyperSleep>(), "reset kept the same sleep");
        sleep.await;
        let until = timer.sleep_until(timer.now() + Duration::from_millis(1));
        until.await;
    });
}
