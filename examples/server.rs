//! A server to start from: HTTP/1.1 on hyper and filch, with what a real
//! service needs around the handler.
//!
//! * a small router: `GET /` (a greeting), `GET /stream?chunks=N&ms=M` (a
//!   body sent in `N` chunks, one every `M` ms, as a long download or a
//!   server-sent event stream would be), `GET /stats` (counters);
//! * per-connection timeouts: a request head must arrive within
//!   [`HEADER_READ_TIMEOUT`] (hyper's timer, on `filch::hyper::HyperTimer`;
//!   it runs whenever hyper waits for a head, so it is also the limit on an
//!   idle kept-alive connection), and a connection is kept alive for at
//!   most [`MAX_REQUESTS_PER_CONNECTION`] requests;
//! * a limit on open connections (a `filch::sync::Semaphore`: at the limit
//!   the server stops accepting and new connections wait in the kernel's
//!   backlog);
//! * graceful shutdown on Ctrl-C or SIGTERM: stop accepting (the listener
//!   is closed, so new connections are refused), tell every connection to
//!   finish the request it is serving and close (hyper's
//!   `graceful_shutdown`; idle ones close at once), wait for them up to
//!   [`SHUTDOWN_DEADLINE`], then exit with a one-line summary — status 0 if
//!   everything finished in time, 1 if connections had to be cut.
//!
//! ```text
//! cargo run --example server [ADDR]     # or FILCH_SERVER_ADDR; default 127.0.0.1:8080
//! curl -N 'http://127.0.0.1:8080/stream?chunks=5&ms=500'
//! ```
//!
//! The first line on stdout is the bound address (`listening on http://..`;
//! port 0 picks a free one). `FILCH_SERVER_MAX_CONNECTIONS` overrides the
//! connection limit.

use bytes::Bytes;
use filch::hyper::HyperTimer;
use filch::net::{TcpListener, TcpStream};
use filch::signal::unix::{SignalKind, signal};
use filch::sync::{Event, OwnedSemaphorePermit, Semaphore};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Body, Frame, Incoming};
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::pin::{Pin, pin};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

/// How long a client has to send a complete request head (also how long a
/// kept-alive connection may sit idle).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests served on one connection before the server closes it.
const MAX_REQUESTS_PER_CONNECTION: usize = 1000;
/// Connections open at once (default).
const MAX_CONNECTIONS: usize = 512;
/// How long in-flight requests get to finish after the shutdown signal.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// Counters shared by the accept loop, the connections and the handlers.
#[derive(Default)]
struct Stats {
    connections: AtomicUsize,
    open: AtomicUsize,
    requests: AtomicUsize,
    in_flight: AtomicUsize,
}

/// What every connection task shares.
struct Shared {
    stats: Stats,
    /// Connection slots; a connection holds one until it closes.
    slots: Arc<Semaphore>,
    /// Set when shutdown begins.
    shutdown: Event,
}

impl Shared {
    fn open_connections(&self) -> usize {
        self.stats.open.load(Relaxed)
    }
}

/// `1 connection`, `2 connections`.
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

#[filch::main]
async fn main() -> ExitCode {
    let addr = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("FILCH_SERVER_ADDR").ok())
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let max_connections = match std::env::var("FILCH_SERVER_MAX_CONNECTIONS") {
        Ok(n) => match n.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                return fail(format!(
                    "FILCH_SERVER_MAX_CONNECTIONS={n:?} is not a positive number"
                ));
            }
        },
        Err(_) => MAX_CONNECTIONS,
    };
    // Listening for the signals starts before the address is printed: a
    // signal sent as soon as a client knows the address is not missed.
    let (mut sigterm, mut sigint) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        (Err(e), _) | (_, Err(e)) => return fail(format!("cannot listen for signals: {e}")),
    };
    let listener = match TcpListener::bind(addr.as_str()).await {
        Ok(listener) => listener,
        Err(e) => return fail(format!("cannot listen on {addr}: {e}")),
    };
    match listener.local_addr() {
        Ok(local) => println!("listening on http://{local}"),
        Err(e) => return fail(format!("cannot read the bound address: {e}")),
    }

    let shared = Arc::new(Shared {
        stats: Stats::default(),
        slots: Arc::new(Semaphore::new(max_connections)),
        shutdown: Event::new(),
    });
    let mut stop = pin!(async {
        filch::select! {
            _ = sigterm.recv() => "SIGTERM",
            _ = sigint.recv() => "SIGINT",
        }
    });
    let why = loop {
        // A slot first: at the limit, new connections wait in the backlog.
        let slot = filch::select! {
            slot = shared.slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            why = &mut stop => break why,
        };
        filch::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    shared.stats.connections.fetch_add(1, Relaxed);
                    shared.stats.open.fetch_add(1, Relaxed);
                    drop(filch::spawn(serve_connection(stream, shared.clone(), slot)));
                }
                // Out of descriptors, or a connection reset before we took
                // it: keep serving the others.
                Err(e) => {
                    eprintln!("accept failed: {e}");
                    filch::time::sleep(Duration::from_millis(10)).await;
                }
            },
            why = &mut stop => break why,
        }
    };

    // Stop accepting: closing the listener makes new connections fail.
    drop(listener);
    let open = shared.open_connections();
    let in_flight = shared.stats.in_flight.load(Relaxed);
    println!(
        "{why}: stopped accepting; {} open, {} in flight",
        count(open, "connection"),
        count(in_flight, "request")
    );
    // Ask every connection to finish what it serves and close.
    shared.shutdown.set();
    let start = Instant::now();
    // Every connection gives its slot back when it closes.
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    let drained = filch::time::timeout(SHUTDOWN_DEADLINE, shared.slots.acquire_many(all))
        .await
        .is_ok();
    let served = format!(
        "served {} and {}",
        count(shared.stats.connections.load(Relaxed), "connection"),
        count(shared.stats.requests.load(Relaxed), "request")
    );
    if drained {
        println!(
            "shut down on {why}: {served}; {} in flight finished in {:.2} s (deadline {} s)",
            count(in_flight, "request"),
            start.elapsed().as_secs_f64(),
            SHUTDOWN_DEADLINE.as_secs()
        );
        ExitCode::SUCCESS
    } else {
        // Returning drops the runtime, which cancels the connection tasks.
        println!(
            "shut down on {why}: {served}; the {} s deadline passed, cutting {}",
            SHUTDOWN_DEADLINE.as_secs(),
            count(shared.open_connections(), "connection")
        );
        ExitCode::FAILURE
    }
}

fn fail(msg: String) -> ExitCode {
    eprintln!("server: {msg}");
    ExitCode::FAILURE
}

/// One connection: hyper's HTTP/1 server with the timeouts, until the
/// client leaves or shutdown asks it to finish.
async fn serve_connection(stream: TcpStream, shared: Arc<Shared>, _slot: OwnedSemaphorePermit) {
    // Whole messages are written at once: Nagle's algorithm only adds delay.
    let _ = stream.set_nodelay(true);
    let on_this_connection = AtomicUsize::new(0);
    let service = service_fn(|req| {
        let nth = on_this_connection.fetch_add(1, Relaxed) + 1;
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(route(req, &shared, nth)) }
    });
    let mut conn = pin!(
        hyper::server::conn::http1::Builder::new()
            .timer(HyperTimer)
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .keep_alive(true)
            .serve_connection(stream, service)
    );
    // The outcome (client gone, head timed out) is the client's business.
    filch::select! {
        _ = conn.as_mut() => {}
        _ = shared.shutdown.wait() => {
            // Finish the request being served (an idle connection closes
            // now), then close.
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
    shared.stats.open.fetch_sub(1, Relaxed);
}

/// The router.
fn route(req: Request<Incoming>, shared: &Arc<Shared>, nth: usize) -> Response<Tracked> {
    shared.stats.requests.fetch_add(1, Relaxed);
    let guard = InFlight::enter(shared);
    let mut response = match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => text(StatusCode::OK, "hello from filch\n".into()),
        (&Method::GET, "/stream") => match stream_params(req.uri().query()) {
            Ok((chunks, every)) => Response::builder()
                .header(CONTENT_TYPE, "text/plain")
                .body(Chunks::new(chunks, every).boxed())
                .expect("a static header makes a valid response"),
            Err(why) => text(StatusCode::BAD_REQUEST, why),
        },
        (&Method::GET, "/stats") => text(
            StatusCode::OK,
            format!(
                "connections {} open {} requests {} in_flight {}\n",
                shared.stats.connections.load(Relaxed),
                shared.open_connections(),
                shared.stats.requests.load(Relaxed),
                shared.stats.in_flight.load(Relaxed),
            ),
        ),
        (_, "/" | "/stream" | "/stats") => text(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET is served here\n".into(),
        ),
        (_, path) => text(StatusCode::NOT_FOUND, format!("no such page: {path}\n")),
    };
    if nth >= MAX_REQUESTS_PER_CONNECTION {
        // Keep-alive limit: hyper closes the connection after this response.
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response.map(|body| Tracked {
        body,
        _guard: guard,
    })
}

fn text(status: StatusCode, body: String) -> Response<BoxBody<Bytes, Infallible>> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "text/plain")
        .body(Full::new(Bytes::from(body)).boxed())
        .expect("a status and a static header make a valid response")
}

/// `chunks=N&ms=M` (5 chunks every 200 ms by default), or what is wrong.
fn stream_params(query: Option<&str>) -> Result<(usize, Duration), String> {
    let (mut chunks, mut ms) = (5usize, 200u64);
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let bad = || format!("bad query parameter {pair:?}\n");
        match key {
            "chunks" => {
                chunks = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or_else(bad)?
            }
            "ms" => {
                ms = value
                    .parse()
                    .ok()
                    .filter(|n| *n <= 60_000)
                    .ok_or_else(bad)?
            }
            _ => return Err(format!("unknown query parameter {key:?}\n")),
        }
    }
    Ok((chunks, Duration::from_millis(ms)))
}

/// A body of `total` lines, the first at once and then one every `every`.
struct Chunks {
    sent: usize,
    total: usize,
    every: Duration,
    sleep: Pin<Box<filch::time::Sleep>>,
}

impl Chunks {
    fn new(total: usize, every: Duration) -> Chunks {
        Chunks {
            sent: 0,
            total,
            every,
            sleep: Box::pin(filch::time::sleep(Duration::ZERO)),
        }
    }
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.sent == this.total {
            return Poll::Ready(None);
        }
        ready!(this.sleep.as_mut().poll(cx));
        this.sent += 1;
        let next = filch::time::Instant::now() + this.every;
        this.sleep.as_mut().reset(next);
        let line = format!("chunk {}/{}\n", this.sent, this.total);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(line)))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent == self.total
    }
}

/// A response body that counts its request as in flight until hyper has
/// sent it (or dropped it: the client went away).
struct Tracked {
    body: BoxBody<Bytes, Infallible>,
    _guard: InFlight,
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// Counts a request as in flight until dropped.
struct InFlight(Arc<Shared>);

impl InFlight {
    fn enter(shared: &Arc<Shared>) -> InFlight {
        shared.stats.in_flight.fetch_add(1, Relaxed);
        InFlight(shared.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.stats.in_flight.fetch_sub(1, Relaxed);
    }
}
