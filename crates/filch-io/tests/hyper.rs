//! hyper 1.x on filch-io alone (no timers): over a Unix stream with our
//! `Executor`, and the connector's errors. The tests that need hyper's
//! `Timer` run on the facade's runtime, which composes the reactor with the
//! timer wheels: `crates/filch/tests/hyper.rs`.

mod common;

use bytes::Bytes;
use filch_io::hyper::{HttpConnector, HyperExecutor};
use filch_io::net::UnixStream;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use std::convert::Infallible;
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
