//! hyper 1.x on filch: an HTTP/1 server (with hyper's header-read timeout
//! on our `Timer`) and client (through our connector and our native
//! `hyper::rt::Read`/`Write`) exchange 1,000 requests over keep-alive
//! connections; the timeout closes a silent connection.

mod common;

use bytes::Bytes;
use filch_io::hyper::{HttpConnector, HyperExecutor, HyperSleep, HyperTimer};
use filch_io::io::{AsyncReadExt, AsyncWriteExt};
use filch_io::net::{TcpListener, TcpStream, UnixStream};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tower_service::Service;

async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let reply = format!("{path} {}", body.len());
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("x-served-by", "filch")
        .body(Full::new(Bytes::from(reply)))
        .unwrap())
}

#[test]
fn hyper_server_and_client_exchange_1000_requests_over_keep_alive() {
    const CONNECTIONS: usize = 10;
    const PER_CONNECTION: usize = 100;
    let rt = common::runtime_with_timers();
    let accepted = Arc::new(AtomicUsize::new(0));
    let served = Arc::new(AtomicUsize::new(0));
    common::with_watchdog("hyper 1000", 120, || {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = {
                let accepted = accepted.clone();
                let served = served.clone();
                filch_executor::spawn(async move {
                    loop {
                        let (stream, _) = listener.accept().await.unwrap();
                        accepted.fetch_add(1, Relaxed);
                        let served = served.clone();
                        filch_executor::spawn(async move {
                            let service = service_fn(move |req| {
                                served.fetch_add(1, Relaxed);
                                handle(req)
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
                    filch_executor::spawn(async move {
                        let uri: hyper::Uri = format!("http://{addr}/").parse().unwrap();
                        let stream = HttpConnector::new().call(uri).await.unwrap();
                        let (mut sender, conn) =
                            hyper::client::conn::http1::handshake(stream).await.unwrap();
                        filch_executor::spawn(async move { conn.await.unwrap() });
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
                            assert_eq!(resp.headers()["x-served-by"], "filch");
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
        })
    });
    assert_eq!(served.load(Relaxed), CONNECTIONS * PER_CONNECTION);
    // Keep-alive: every request of a client reused its one connection.
    assert_eq!(accepted.load(Relaxed), CONNECTIONS);
}

#[test]
fn hyper_over_unix_stream_with_the_hyper_executor() {
    let rt = common::runtime();
    common::with_watchdog("hyper unix", 60, || {
        rt.block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            filch_executor::spawn(async move {
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(a, service_fn(handle))
                    .await
                    .unwrap();
            });
            let (mut sender, conn) = hyper::client::conn::http1::handshake(b).await.unwrap();
            hyper::rt::Executor::execute(&HyperExecutor, async move { conn.await.unwrap() });
            for i in 0..50 {
                sender.ready().await.unwrap();
                let req = Request::get(format!("/{i}"))
                    .header(hyper::header::HOST, "unix")
                    .body(Full::new(Bytes::new()))
                    .unwrap();
                let resp = sender.send_request(req).await.unwrap();
                let got = resp.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(got, format!("/{i} 0").as_bytes());
            }
        })
    });
}

#[test]
fn connector_errors_are_io_errors() {
    let rt = common::runtime();
    rt.block_on(async {
        let mut connector = HttpConnector::new();
        let no_host: hyper::Uri = "/just/a/path".parse().unwrap();
        let err = connector.call(no_host).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("no host"), "{err}");
        let free = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let refused: hyper::Uri = format!("http://{free}/").parse().unwrap();
        let err = connector.call(refused).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn header_read_timeout_closes_a_silent_connection() {
    let rt = common::runtime_with_timers();
    common::with_watchdog("header timeout", 60, || {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = filch_executor::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                hyper::server::conn::http1::Builder::new()
                    .timer(HyperTimer)
                    .header_read_timeout(Duration::from_millis(50))
                    .serve_connection(stream, service_fn(handle))
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
        })
    });
}

#[test]
fn hyper_timer_resets_its_sleep_in_place() {
    use hyper::rt::Timer;
    let rt = common::runtime_with_timers();
    common::with_watchdog("timer reset", 60, || {
        rt.block_on(async {
            let timer = HyperTimer;
            let mut sleep = timer.sleep(Duration::from_secs(3600));
            assert!(sleep.is::<HyperSleep>());
            timer.reset(&mut sleep, Instant::now() + Duration::from_millis(1));
            assert!(sleep.is::<HyperSleep>(), "reset kept the same sleep");
            sleep.await;
            let until = timer.sleep_until(timer.now() + Duration::from_millis(1));
            until.await;
        })
    });
}
