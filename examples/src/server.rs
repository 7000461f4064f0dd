//! A local HTTP/1.1 server for the examples: an accept loop on
//! `filch::net::TcpListener`, one task per connection running hyper's
//! HTTP/1 server with filch's timer, and a handler the example supplies.
//!
//! The handler is an `async` closure from request to [`Reply`]: a response,
//! or [`HangUp`] to drop the connection without answering (what a crashing
//! server does; the client sees "connection closed before message
//! completed", aiohttp's `ServerDisconnectedError`). The server counts
//! connections and requests and records how many requests were in its
//! handlers at once, so examples can show (and tests can check) how much
//! concurrency a client really used.
//!
//! This module serves; it must not decide what is served (that is each
//! example's handler).

use bytes::Bytes;
use filch::hyper::HyperTimer;
use filch::net::{TcpListener, TcpStream};
use filch::task::JoinHandle;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

/// What a handler returns: a response, or [`HangUp`] to close the
/// connection without one.
pub type Reply = Result<Response<Full<Bytes>>, HangUp>;

/// A handler's way to drop the connection without answering.
///
/// ```
/// let hang_up: filch_examples::server::Reply = Err(filch_examples::server::HangUp);
/// assert!(hang_up.is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HangUp;

impl fmt::Display for HangUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the handler hung up without a response")
    }
}

impl std::error::Error for HangUp {}

/// A response with a status, a content type and a body.
///
/// ```
/// use hyper::StatusCode;
/// let r = filch_examples::server::reply(StatusCode::NOT_FOUND, "text/plain", "no such page").unwrap();
/// assert_eq!(r.status(), StatusCode::NOT_FOUND);
/// assert_eq!(r.headers()["content-type"], "text/plain");
/// ```
pub fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    Ok(Response::builder()
        .status(status)
        .header(CONTENT_TYPE, content_type)
        .body(Full::new(body.into()))
        .expect("a status and a static header make a valid response"))
}

/// Counters shared by the accept loop, the connections and the handlers.
#[derive(Debug, Default)]
struct Stats {
    connections: AtomicUsize,
    requests: AtomicUsize,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
}

/// Counts a request as in flight until dropped (also when the client goes
/// away and hyper drops the handler's future).
struct InFlight(Arc<Stats>);

impl InFlight {
    fn enter(stats: &Arc<Stats>) -> InFlight {
        stats.requests.fetch_add(1, Relaxed);
        let now = stats.in_flight.fetch_add(1, Relaxed) + 1;
        stats.peak_in_flight.fetch_max(now, Relaxed);
        InFlight(stats.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

/// A running server; see [`serve`]. Dropping it stops accepting
/// connections (connections already open are served until their clients
/// close them or the runtime shuts down).
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stats: Arc<Stats>,
    accept: JoinHandle<()>,
}

impl Server {
    /// The address it listens on (`127.0.0.1` and a port the OS chose).
    ///
    /// ```
    /// filch::run(async {
    ///     let server = filch_examples::server::serve(|_| async {
    ///         filch_examples::server::reply(hyper::StatusCode::OK, "text/plain", "")
    ///     })
    ///     .await
    ///     .unwrap();
    ///     assert!(server.addr().ip().is_loopback());
    /// });
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    ///
    /// ```
    /// filch::run(async {
    ///     let server = filch_examples::server::serve(|_| async {
    ///         filch_examples::server::reply(hyper::StatusCode::OK, "text/plain", "")
    ///     })
    ///     .await
    ///     .unwrap();
    ///     assert_eq!(server.connections(), 0);
    /// });
    /// ```
    pub fn connections(&self) -> usize {
        self.stats.connections.load(Relaxed)
    }

    /// Requests that reached the handler so far.
    ///
    /// ```
    /// filch::run(async {
    ///     let server = filch_examples::server::serve(|_| async {
    ///         filch_examples::server::reply(hyper::StatusCode::OK, "text/plain", "")
    ///     })
    ///     .await
    ///     .unwrap();
    ///     let url = format!("http://{}/", server.addr());
    ///     filch_examples::client::Session::new().get(&url).await.unwrap();
    ///     assert_eq!(server.requests(), 1);
    /// });
    /// ```
    pub fn requests(&self) -> usize {
        self.stats.requests.load(Relaxed)
    }

    /// The most requests that were inside the handler at the same time.
    ///
    /// ```
    /// filch::run(async {
    ///     let server = filch_examples::server::serve(|_| async {
    ///         filch_examples::server::reply(hyper::StatusCode::OK, "text/plain", "")
    ///     })
    ///     .await
    ///     .unwrap();
    ///     let url = format!("http://{}/", server.addr());
    ///     filch_examples::client::Session::new().get(&url).await.unwrap();
    ///     assert_eq!(server.peak_in_flight(), 1);
    /// });
    /// ```
    pub fn peak_in_flight(&self) -> usize {
        self.stats.peak_in_flight.load(Relaxed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accept.cancel();
    }
}

/// Starts an HTTP/1.1 server on `127.0.0.1:0` that answers every request
/// with `handler` (asyncio's `start_server`, with hyper doing the HTTP).
///
/// Each connection runs in its own task, so requests on different
/// connections are handled in parallel on the runtime's workers. Connections
/// are kept alive between requests.
///
/// # Errors
/// Binding the listener can fail (no loopback interface, no free port).
///
/// # Panics
/// Outside a filch runtime.
///
/// ```
/// use filch_examples::server::{reply, serve};
/// filch::run(async {
///     let server = serve(|_| async { reply(hyper::StatusCode::OK, "text/plain", "hi") })
///         .await
///         .unwrap();
///     let url = format!("http://{}/", server.addr());
///     let page = filch_examples::client::Session::new().get(&url).await.unwrap();
///     assert_eq!(page.text(), "hi");
/// });
/// ```
pub async fn serve<H, F>(handler: H) -> io::Result<Server>
where
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let stats = Arc::new(Stats::default());
    let handler = Arc::new(handler);
    let accept = filch::spawn({
        let stats = stats.clone();
        async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        stats.connections.fetch_add(1, Relaxed);
                        // Dropping the handle detaches the connection's task.
                        drop(filch::spawn(serve_connection(
                            stream,
                            handler.clone(),
                            stats.clone(),
                        )));
                    }
                    // Out of descriptors, or a connection reset before we
                    // took it: keep serving the others.
                    Err(e) => {
                        eprintln!("accept failed: {e}");
                        filch::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        }
    });
    Ok(Server {
        addr,
        stats,
        accept,
    })
}

async fn serve_connection<H, F>(stream: TcpStream, handler: Arc<H>, stats: Arc<Stats>)
where
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    // HTTP writes whole messages: Nagle's algorithm would only add latency.
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |req| {
        let in_flight = InFlight::enter(&stats);
        let reply = handler(req);
        async move {
            let reply = reply.await;
            drop(in_flight);
            reply
        }
    });
    // The connection ends when the client closes it, when a handler hangs
    // up, or when no complete request head arrives within 10 s (hyper counts
    // from when it starts waiting for one, so an idle kept-alive connection
    // is closed after 10 s too). None of these is the server's problem, so
    // the outcome is not reported.
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(HyperTimer)
        .header_read_timeout(Duration::from_secs(10))
        .keep_alive(true)
        .serve_connection(stream, service)
        .await;
}
