//! hyper 1.x on filch (feature `hyper`): `hyper::rt::Read`/`Write` on the
//! stream types, [`HyperExecutor`] (hyper's `Executor`, spawning on the
//! current runtime), [`HyperTimer`] (hyper's `Timer`, on `filch-timer`) and
//! [`HttpConnector`] (a `tower_service::Service<Uri>` that opens plain-HTTP
//! TCP connections; hyper-util's connector is tokio-only).
//!
//! The `Read` impls are native: `read(2)` writes straight into the
//! uninitialised tail of hyper's buffer, so no byte is zero-filled first
//! (smol-hyper's adapter zero-fills every read buffer). The timer's `reset`
//! moves the existing `filch_timer::Sleep` instead of allocating a new one.
//! This module must not implement timing or scheduling itself: it adapts
//! `filch-timer` and `filch-executor` to hyper's traits.

use crate::net::split::SplitStream;
use crate::net::{TcpStream, UnixStream};
use crate::uninit::ReadUninit;
use hyper::rt::{Executor, Read, ReadBufCursor, Sleep, Timer, Write};
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

/// hyper's `Read` for a stream that can read into uninitialised memory.
macro_rules! hyper_io {
    ($t:ty) => {
        impl Read for $t {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                mut buf: ReadBufCursor<'_>,
            ) -> Poll<io::Result<()>> {
                // SAFETY: the slice is only handed to `poll_read_uninit`,
                // which by `ReadUninit`'s contract never de-initialises bytes
                // hyper may have initialised before.
                let unfilled = unsafe { buf.as_mut() };
                let n = ready!(self.poll_read_uninit(cx, unfilled))?;
                // SAFETY: by `ReadUninit`'s contract, `Ok(n)` means the
                // first `n` bytes of the unfilled part were initialised.
                unsafe { buf.advance(n) };
                Poll::Ready(Ok(()))
            }
        }

        impl Write for $t {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.poll_write_ref(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.poll_write_vectored_ref(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.shutdown_write())
            }
        }
    };
}

hyper_io!(TcpStream);
hyper_io!(UnixStream);

/// hyper's `Executor`: spawns hyper's background futures (HTTP/2
/// connection tasks, client connection drivers) as detached tasks on the
/// current filch runtime.
///
/// # Panics
/// `execute` panics outside a runtime, like `filch_executor::spawn`; hyper
/// only calls it from the connection it drives.
///
/// ```
/// use hyper::rt::Executor;
/// let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
/// let (tx, rx) = std::sync::mpsc::channel();
/// rt.block_on(async move {
///     filch_io::hyper::HyperExecutor.execute(async move { tx.send(42).unwrap() });
/// });
/// assert_eq!(rx.recv().unwrap(), 42);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HyperExecutor;

impl<F> Executor<F> for HyperExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        // Dropping the handle detaches the task.
        drop(filch_executor::spawn(fut));
    }
}

/// hyper's `Timer` on `filch-timer`: what hyper's HTTP/1 server needs for
/// its header-read timeout, and HTTP/2 for its keep-alive pings.
///
/// Its sleeps follow the runtime's clock (so they obey a paused clock in
/// tests), and [`reset`](Timer::reset) moves a sleep's deadline in place.
///
/// # Panics
/// Creating a sleep panics outside a runtime with timers (a runtime built
/// with the I/O driver alone has none; the `filch` facade's has both).
///
/// ```
/// use hyper::rt::Timer;
/// use std::time::{Duration, Instant};
/// let rt = filch_timer::test_runtime(1, false);
/// rt.block_on(async {
///     let timer = filch_io::hyper::HyperTimer;
///     let mut sleep = timer.sleep(Duration::from_secs(3600));
///     timer.reset(&mut sleep, Instant::now() + Duration::from_millis(1));
///     sleep.await; // an hour became a millisecond
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HyperTimer;

pin_project_lite::pin_project! {
    /// The sleep [`HyperTimer`] hands to hyper: a `filch_timer::Sleep`.
    ///
    /// ```
    /// use hyper::rt::Timer;
    /// let rt = filch_timer::test_runtime(1, false);
    /// rt.block_on(async {
    ///     let sleep = filch_io::hyper::HyperTimer.sleep(std::time::Duration::from_millis(1));
    ///     assert!(sleep.is::<filch_io::hyper::HyperSleep>());
    ///     sleep.await;
    /// });
    /// ```
    #[derive(Debug)]
    pub struct HyperSleep {
        #[pin]
        inner: filch_timer::Sleep,
    }
}

impl Future for HyperSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().inner.poll(cx)
    }
}

impl Sleep for HyperSleep {}

impl Timer for HyperTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        Box::pin(HyperSleep {
            inner: filch_timer::sleep(duration),
        })
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        Box::pin(HyperSleep {
            inner: filch_timer::sleep_until(filch_timer::Instant::from_std(deadline)),
        })
    }

    fn now(&self) -> Instant {
        filch_timer::Instant::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(ours) => ours
                .project()
                .inner
                .reset(filch_timer::Instant::from_std(new_deadline)),
            // A sleep some other timer made: replace it.
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// Opens TCP connections for plain `http://` URIs: a
/// `tower_service::Service<hyper::Uri>` whose response is a connected
/// [`TcpStream`] (which implements hyper's `Read`/`Write`). Host names are
/// resolved on the blocking pool; every resolved address is tried in turn.
///
/// `https` is refused with `InvalidInput` (TLS is not built in: wrap the
/// stream with a TLS crate).
///
/// ```
/// use tower_service::Service;
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let listener = filch_io::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let uri: hyper::Uri = format!("http://{}/", listener.local_addr().unwrap()).parse().unwrap();
///     let mut connector = filch_io::hyper::HttpConnector::new();
///     let stream = connector.call(uri).await.unwrap();
///     assert!(stream.nodelay().unwrap());
///     let tls: hyper::Uri = "https://example.com/".parse().unwrap();
///     let err = connector.call(tls).await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// });
/// ```
#[derive(Clone, Debug)]
pub struct HttpConnector {
    nodelay: bool,
}

impl Default for HttpConnector {
    fn default() -> Self {
        HttpConnector::new()
    }
}

impl HttpConnector {
    /// A connector that sets `TCP_NODELAY` on its connections (HTTP writes
    /// whole messages; Nagle's algorithm only adds latency).
    ///
    /// ```
    /// let connector = filch_io::hyper::HttpConnector::new();
    /// # drop(connector);
    /// ```
    pub fn new() -> HttpConnector {
        HttpConnector { nodelay: true }
    }

    /// Whether to set `TCP_NODELAY` (default: yes).
    ///
    /// ```
    /// let mut connector = filch_io::hyper::HttpConnector::new();
    /// connector.set_nodelay(false);
    /// ```
    pub fn set_nodelay(&mut self, nodelay: bool) -> &mut Self {
        self.nodelay = nodelay;
        self
    }
}

impl tower_service::Service<hyper::Uri> for HttpConnector {
    type Response = TcpStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TcpStream>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: hyper::Uri) -> Self::Future {
        let nodelay = self.nodelay;
        Box::pin(async move {
            match uri.scheme_str() {
                None | Some("http") => {}
                Some(other) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "invalid URI {uri}: scheme {other:?} is not supported by \
                             HttpConnector (plain http only; TLS is not built in)"
                        ),
                    ));
                }
            }
            let Some(host) = uri.host() else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("invalid URI {uri}: it has no host to connect to"),
                ));
            };
            // IPv6 literals come bracketed in URIs.
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let port = uri.port_u16().unwrap_or(80);
            let stream = TcpStream::connect((host, port)).await?;
            stream.set_nodelay(nodelay)?;
            Ok(stream)
        })
    }
}
