//! An HTTP/1.1 client session for the examples: aiohttp's `ClientSession`
//! on hyper 1.x and filch.
//!
//! ```python
//! async with aiohttp.ClientSession() as session:
//!     async with session.get(url) as response:
//!         html = await response.text()
//! ```
//!
//! is, here,
//!
//! ```no_run
//! # filch::run(async {
//! # let url = "http://127.0.0.1:8080/";
//! let session = filch_examples::client::Session::new();
//! let html = session.get(url).await?.text();
//! # Ok::<_, filch_examples::client::FetchError>(()) });
//! ```
//!
//! Like aiohttp's session, a [`Session`] keeps connections alive and reuses
//! them (one pool per `host:port`, of at most 32 idle connections; a
//! session's clones share it), and opens a new connection when every pooled
//! one is busy. Connections are opened with
//! `filch::hyper::HttpConnector` and driven by a task of their own
//! (`hyper::client::conn::http1`). Only plain `http://` is supported: TLS is
//! not built in. [`Session::resolve`] pins a host name to an address (curl's
//! `--resolve`), which is how the examples serve `http://python.org/` from a
//! local server.
//!
//! This module fetches; it must not retry, time out or limit concurrency:
//! those are what the examples demonstrate, with filch's combinators.

use bytes::Bytes;
use filch::hyper::HttpConnector;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HOST, HeaderMap, USER_AGENT};
use hyper::{Request, StatusCode, Uri};
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use tower_service::Service;

type Sender = SendRequest<Empty<Bytes>>;

/// Idle connections kept per `host:port`; more are closed when they come
/// back to the pool (aiohttp limits its pool in the same spirit).
const MAX_IDLE_PER_HOST: usize = 32;

/// Why a fetch failed.
#[derive(Debug)]
pub enum FetchError {
    /// The URL cannot be fetched: unparsable, relative, or not `http://`.
    InvalidUrl(String),
    /// No connection: the name did not resolve, or the server refused.
    Connect(io::Error),
    /// The connection broke: the server hung up, reset it, or spoke no
    /// HTTP.
    Http(hyper::Error),
    /// The server answered with an error status (only from
    /// [`Response::error_for_status`], as aiohttp's `raise_for_status`).
    Status(StatusCode),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::InvalidUrl(why) => write!(f, "invalid URL {why}"),
            FetchError::Connect(e) => write!(f, "cannot connect: {e}"),
            FetchError::Http(e) => write!(f, "{e}"),
            FetchError::Status(s) => write!(f, "HTTP {s}"),
        }
    }
}

impl std::error::Error for FetchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FetchError::Connect(e) => Some(e),
            FetchError::Http(e) => Some(e),
            FetchError::InvalidUrl(_) | FetchError::Status(_) => None,
        }
    }
}

/// A response whose body has been read in full.
#[derive(Debug, Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Response {
    /// The status (`response.status`).
    ///
    /// ```
    /// # use filch_examples::{client::Session, server};
    /// # filch::run(async {
    /// # let s = server::serve(|_| async { server::reply(hyper::StatusCode::IM_A_TEAPOT, "text/plain", "") }).await.unwrap();
    /// let response = Session::new().get(&format!("http://{}/", s.addr())).await.unwrap();
    /// assert_eq!(response.status(), hyper::StatusCode::IM_A_TEAPOT);
    /// # });
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers (`response.headers`).
    ///
    /// ```
    /// # use filch_examples::{client::Session, server};
    /// # filch::run(async {
    /// # let s = server::serve(|_| async { server::reply(hyper::StatusCode::OK, "text/html", "") }).await.unwrap();
    /// let response = Session::new().get(&format!("http://{}/", s.addr())).await.unwrap();
    /// assert_eq!(response.headers()["content-type"], "text/html");
    /// # });
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body's bytes (`await response.read()`).
    ///
    /// ```
    /// # use filch_examples::{client::Session, server};
    /// # filch::run(async {
    /// # let s = server::serve(|_| async { server::reply(hyper::StatusCode::OK, "text/plain", "abc") }).await.unwrap();
    /// let response = Session::new().get(&format!("http://{}/", s.addr())).await.unwrap();
    /// assert_eq!(response.bytes(), &b"abc"[..]);
    /// # });
    /// ```
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as text (`await response.text()`); bytes that are not UTF-8
    /// become U+FFFD.
    ///
    /// ```
    /// # use filch_examples::{client::Session, server};
    /// # filch::run(async {
    /// # let s = server::serve(|_| async { server::reply(hyper::StatusCode::OK, "text/plain", "héllo") }).await.unwrap();
    /// let response = Session::new().get(&format!("http://{}/", s.addr())).await.unwrap();
    /// assert_eq!(response.text(), "héllo");
    /// # });
    /// ```
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The response if its status is a success, else
    /// [`FetchError::Status`] (aiohttp's `raise_for_status()`).
    ///
    /// ```
    /// # use filch_examples::{client::{FetchError, Session}, server};
    /// # filch::run(async {
    /// # let s = server::serve(|_| async { server::reply(hyper::StatusCode::NOT_FOUND, "text/plain", "") }).await.unwrap();
    /// let response = Session::new().get(&format!("http://{}/", s.addr())).await.unwrap();
    /// assert!(matches!(response.error_for_status(), Err(FetchError::Status(s)) if s == 404));
    /// # });
    /// ```
    ///
    /// # Errors
    /// [`FetchError::Status`] for a status outside 200–299.
    pub fn error_for_status(self) -> Result<Response, FetchError> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(FetchError::Status(self.status))
        }
    }
}

/// aiohttp's `ClientSession`: fetches URLs over kept-alive connections. See
/// the [module docs](self).
#[derive(Clone, Debug, Default)]
pub struct Session {
    resolve: Arc<HashMap<String, SocketAddr>>,
    pool: Arc<Pool>,
}

#[derive(Debug, Default)]
struct Pool {
    /// Idle connections by `host:port`.
    idle: Mutex<HashMap<String, Vec<Sender>>>,
    opened: AtomicUsize,
}

impl Session {
    /// A session with an empty connection pool.
    ///
    /// ```
    /// let session = filch_examples::client::Session::new();
    /// assert_eq!(session.connections_opened(), 0);
    /// ```
    pub fn new() -> Session {
        Session::default()
    }

    /// Connects to `addr` whenever a URL names `host`, whatever its port
    /// (curl's `--resolve`); the request still says `Host: host`.
    ///
    /// ```
    /// # use filch_examples::{client::Session, server};
    /// # filch::run(async {
    /// let s = server::serve(|req| async move {
    ///     let host = req.headers()["host"].to_str().unwrap().to_owned();
    ///     server::reply(hyper::StatusCode::OK, "text/plain", host)
    /// })
    /// .await
    /// .unwrap();
    /// let session = Session::new().resolve("python.org", s.addr());
    /// assert_eq!(session.get("http://python.org/").await.unwrap().text(), "python.org");
    /// # });
    /// ```
    pub fn resolve(mut self, host: &str, addr: SocketAddr) -> Session {
        Arc::make_mut(&mut self.resolve).insert(host.to_ascii_lowercase(), addr);
        self
    }

    /// How many connections this session (and its clones) opened so far.
    ///
    /// ```
    /// # use filch_examples::{client::Session, server};
    /// # filch::run(async {
    /// # let s = server::serve(|_| async { server::reply(hyper::StatusCode::OK, "text/plain", "") }).await.unwrap();
    /// let session = Session::new();
    /// let url = format!("http://{}/", s.addr());
    /// session.get(&url).await.unwrap();
    /// session.get(&url).await.unwrap();
    /// assert_eq!(session.connections_opened(), 1); // kept alive and reused
    /// # });
    /// ```
    pub fn connections_opened(&self) -> usize {
        self.pool.opened.load(Relaxed)
    }

    /// GETs `url` and reads the whole body (`session.get(url)` then
    /// `response.read()`). An error status is a response, not an error:
    /// see [`Response::error_for_status`].
    ///
    /// Cancel-safety: dropping the future mid-request closes that
    /// connection (it never goes back to the pool half-used).
    ///
    /// # Errors
    /// [`FetchError::InvalidUrl`], [`FetchError::Connect`] or
    /// [`FetchError::Http`].
    ///
    /// ```
    /// # filch::run(async {
    /// let session = filch_examples::client::Session::new();
    /// let err = session.get("https://python.org/").await.unwrap_err();
    /// assert!(err.to_string().contains("TLS"), "{err}");
    /// # });
    /// ```
    pub async fn get(&self, url: &str) -> Result<Response, FetchError> {
        let uri: Uri = url
            .parse()
            .map_err(|e| FetchError::InvalidUrl(format!("{url:?}: {e}")))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(FetchError::InvalidUrl(format!(
                    "{url:?}: https is not supported (TLS is not built in)"
                )));
            }
            _ => {
                return Err(FetchError::InvalidUrl(format!(
                    "{url:?}: only absolute http:// URLs can be fetched"
                )));
            }
        }
        let (Some(host), Some(authority)) = (uri.host(), uri.authority()) else {
            return Err(FetchError::InvalidUrl(format!("{url:?}: no host")));
        };
        let host = host.to_ascii_lowercase();
        let key = format!("{host}:{}", uri.port_u16().unwrap_or(80));
        let request = Request::get(uri.path_and_query().map_or("/", |p| p.as_str()))
            .header(HOST, authority.as_str())
            .header(USER_AGENT, "filch-examples")
            .body(Empty::new())
            .map_err(|e| FetchError::InvalidUrl(format!("{url:?}: {e}")))?;

        let mut sender = self.checkout(&key, &host, &uri).await?;
        let response = sender
            .send_request(request)
            .await
            .map_err(FetchError::Http)?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(FetchError::Http)?.to_bytes();
        // The exchange is complete: the connection can carry another.
        self.checkin(key, sender);
        Ok(Response {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    /// Returns a connection to the pool, or closes it if the pool is full.
    fn checkin(&self, key: String, sender: Sender) {
        let mut idle = self.pool.idle.lock().unwrap();
        let connections = idle.entry(key).or_default();
        if connections.len() < MAX_IDLE_PER_HOST {
            connections.push(sender);
        }
        // Otherwise `sender` is dropped here, which closes its connection.
    }

    /// An idle pooled connection to `key`, or a new one.
    async fn checkout(&self, key: &str, host: &str, uri: &Uri) -> Result<Sender, FetchError> {
        loop {
            let pooled = self
                .pool
                .idle
                .lock()
                .unwrap()
                .get_mut(key)
                .and_then(Vec::pop);
            let Some(mut sender) = pooled else { break };
            // The server may have closed it while it sat in the pool.
            if sender.ready().await.is_ok() {
                return Ok(sender);
            }
        }
        let target = match self.resolve.get(host) {
            Some(addr) => format!("http://{addr}/")
                .parse()
                .expect("a socket address makes a valid authority"),
            None => uri.clone(),
        };
        let stream = HttpConnector::new()
            .call(target)
            .await
            .map_err(FetchError::Connect)?;
        self.pool.opened.fetch_add(1, Relaxed);
        let (sender, connection) = hyper::client::conn::http1::handshake(stream)
            .await
            .map_err(FetchError::Http)?;
        // The connection's I/O runs in a task of its own; it ends when the
        // last sender is dropped or the server closes the connection. A
        // broken connection shows up as an error on the request, so the
        // task's own outcome is not needed: dropping the handle detaches it.
        drop(filch::spawn(async move {
            let _ = connection.await;
        }));
        Ok(sender)
    }
}
