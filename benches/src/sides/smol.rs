//! smol: an `async_executor::Executor` run by `workers` threads, each in
//! `async_io::block_on(ex.run(..))` (smol has no thread pool of its own:
//! this is how its docs run an executor on several threads), with
//! async-io's reactor and timers, async-channel and async-lock. smol has
//! no oneshot channel; futures-channel's stands in for it.
//!
//! async-executor has no thread-local context, so `spawn` from inside a
//! task finds the executor through one set here on each runner thread and,
//! for the duration of `Rt::block_on`, on the calling thread (as tokio's
//! and filch's `spawn` do through theirs).
//!
//! The adapters give smol's types tokio's signatures, nothing more: each
//! is one call into the smol crate it wraps.

pub use futures_lite::future::yield_now;
pub use futures_lite::io;

use async_executor::{Executor, Task};
use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

/// The runtime's name in tables.
pub const NAME: &str = "smol";

/// A task's handle; awaits to its output (dropping it cancels the task:
/// use [`spawn_detached`] for tasks nobody joins).
pub type Join<T> = Task<T>;

thread_local! {
    static CURRENT: RefCell<Option<Arc<Executor<'static>>>> = const { RefCell::new(None) };
}

/// Spawns onto the executor of the current thread.
///
/// # Panics
/// Outside a runner thread and outside `Rt::block_on`.
pub fn spawn<F>(f: F) -> Join<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    CURRENT.with(|c| {
        c.borrow()
            .as_ref()
            .expect("no smol executor on this thread: spawn from a task or inside Rt::block_on")
            .spawn(f)
    })
}

/// Lets a spawned task run on without anyone joining it.
pub fn detach<T>(j: Join<T>) {
    j.detach();
}

/// Spawns a task nobody joins.
pub fn spawn_detached<F>(f: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    spawn(f).detach();
}

/// An executor and the threads that run it; dropping it stops them.
pub struct Rt {
    ex: Arc<Executor<'static>>,
    stops: Vec<async_channel::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Rt {
    pub fn new(workers: usize) -> Rt {
        let ex = Arc::new(Executor::new());
        let mut stops = Vec::new();
        let mut threads = Vec::new();
        for i in 0..workers {
            let (stop, stopped) = async_channel::bounded::<()>(1);
            stops.push(stop);
            let ex = ex.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("smol-{i}"))
                    .spawn(move || {
                        CURRENT.with(|c| *c.borrow_mut() = Some(ex.clone()));
                        async_io::block_on(ex.run(async {
                            let _ = stopped.recv().await;
                        }));
                        CURRENT.with(|c| c.borrow_mut().take());
                    })
                    .expect("start a smol runner thread"),
            );
        }
        Rt { ex, stops, threads }
    }

    /// Runs `f` on the calling thread (`smol::block_on`), with the executor
    /// as the thread's current one.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        let prev = CURRENT.with(|c| c.borrow_mut().replace(self.ex.clone()));
        let out = async_io::block_on(f);
        CURRENT.with(|c| *c.borrow_mut() = prev);
        out
    }

    /// Spawns from outside the runtime.
    pub fn spawn<F>(&self, f: F) -> Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.ex.spawn(f)
    }
}

impl Drop for Rt {
    fn drop(&mut self) {
        self.stops.clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for Rt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rt")
            .field("threads", &self.threads.len())
            .finish()
    }
}

/// smol's channels and locks with tokio's signatures.
pub mod sync {
    pub use futures_channel::oneshot;
    use std::convert::Infallible;

    pub mod mpsc {
        /// `async_channel::bounded`.
        pub fn channel<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
            let (tx, rx) = async_channel::bounded(cap);
            (Sender(tx), Receiver(rx))
        }

        /// `async_channel::unbounded`.
        pub fn unbounded_channel<T>() -> (UnboundedSender<T>, Receiver<T>) {
            let (tx, rx) = async_channel::unbounded();
            (UnboundedSender(tx), Receiver(rx))
        }

        #[derive(Debug)]
        pub struct Sender<T>(async_channel::Sender<T>);

        impl<T> Clone for Sender<T> {
            fn clone(&self) -> Self {
                Sender(self.0.clone())
            }
        }

        impl<T> Sender<T> {
            pub async fn send(&self, v: T) -> Result<(), async_channel::SendError<T>> {
                self.0.send(v).await
            }
        }

        #[derive(Debug)]
        pub struct UnboundedSender<T>(async_channel::Sender<T>);

        impl<T> Clone for UnboundedSender<T> {
            fn clone(&self) -> Self {
                UnboundedSender(self.0.clone())
            }
        }

        impl<T> UnboundedSender<T> {
            pub fn send(&self, v: T) -> Result<(), async_channel::TrySendError<T>> {
                self.0.try_send(v)
            }
        }

        #[derive(Debug)]
        pub struct Receiver<T>(async_channel::Receiver<T>);

        impl<T> Receiver<T> {
            pub async fn recv(&mut self) -> Option<T> {
                self.0.recv().await.ok()
            }
        }
    }

    /// `async_lock::Semaphore`.
    #[derive(Debug)]
    pub struct Semaphore(async_lock::Semaphore);

    impl Semaphore {
        pub fn new(permits: usize) -> Semaphore {
            Semaphore(async_lock::Semaphore::new(permits))
        }

        pub async fn acquire(&self) -> Result<async_lock::SemaphoreGuard<'_>, Infallible> {
            Ok(self.0.acquire().await)
        }
    }

    /// `async_lock::Mutex`.
    #[derive(Debug)]
    pub struct Mutex<T>(async_lock::Mutex<T>);

    impl<T> Mutex<T> {
        pub fn new(v: T) -> Mutex<T> {
            Mutex(async_lock::Mutex::new(v))
        }

        pub async fn lock(&self) -> async_lock::MutexGuard<'_, T> {
            self.0.lock().await
        }
    }
}

/// async-io's timers with tokio's signatures.
pub mod time {
    use async_io::Timer;
    use futures_lite::FutureExt;
    use std::future::Future;
    use std::time::Duration;

    pub async fn sleep(d: Duration) {
        Timer::after(d).await;
    }

    /// The deadline passed.
    #[derive(Debug)]
    pub struct Elapsed;

    /// `f` or `Elapsed` after `d`: smol's idiom, `f.or(timer)`. The timer
    /// is created (the clock read) at once and registers only if polled,
    /// as tokio's `timeout` does.
    pub fn timeout<F: Future>(
        d: Duration,
        f: F,
    ) -> impl Future<Output = Result<F::Output, Elapsed>> {
        let timer = Timer::after(d);
        async move { Ok(f.await) }.or(async move {
            timer.await;
            Err(Elapsed)
        })
    }
}

/// async-io's `Async` sockets with tokio's signatures.
pub mod net {
    use async_io::Async;
    use futures_lite::io::{AsyncRead, AsyncWrite};
    use std::io::{self, IoSlice};
    use std::net::SocketAddr;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    #[derive(Debug)]
    pub struct TcpListener(Async<std::net::TcpListener>);

    impl TcpListener {
        pub async fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
            Ok(TcpListener(Async::<std::net::TcpListener>::bind(addr)?))
        }

        pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
            let (s, a) = self.0.accept().await?;
            Ok((TcpStream(s), a))
        }

        pub fn local_addr(&self) -> io::Result<SocketAddr> {
            self.0.get_ref().local_addr()
        }
    }

    #[derive(Debug)]
    pub struct TcpStream(pub Async<std::net::TcpStream>);

    impl TcpStream {
        pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
            Ok(TcpStream(
                Async::<std::net::TcpStream>::connect(addr).await?,
            ))
        }

        pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
            self.0.get_ref().set_nodelay(on)
        }
    }

    impl AsyncRead for TcpStream {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.0).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for TcpStream {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.0).poll_write(cx, buf)
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.0).poll_flush(cx)
        }

        fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.0).poll_close(cx)
        }
    }
}

/// hyper's `Read`/`Write` over async-io's `Async<TcpStream>`: reads go
/// straight into hyper's uninitialised buffer (`recv(2)`), writes are
/// `send`/`writev` through std; on `WouldBlock` the task waits for
/// readiness with async-io's `poll_readable`/`poll_writable`, which is what
/// async-io's own `AsyncRead`/`AsyncWrite` impls do.
#[derive(Debug)]
pub struct HyperIo(net::TcpStream);

/// The stream as hyper's `Read + Write`.
pub fn hyper_io(s: net::TcpStream) -> HyperIo {
    HyperIo(s)
}

mod hyper_impl {
    use super::HyperIo;
    use hyper::rt::{Read, ReadBufCursor, Write};
    use std::io::{self, IoSlice, Write as _};
    use std::os::fd::AsRawFd;
    use std::pin::Pin;
    use std::task::{Context, Poll, ready};

    impl Read for HyperIo {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            mut buf: ReadBufCursor<'_>,
        ) -> Poll<io::Result<()>> {
            let io = &self.0.0;
            loop {
                // SAFETY: the slice is only handed to `recv(2)`, which
                // writes initialised bytes into it and never reads it.
                let unfilled = unsafe { buf.as_mut() };
                // SAFETY: the pointer and length describe `unfilled`, which
                // is valid for writes for the duration of the call.
                let n = unsafe {
                    libc::recv(
                        io.as_raw_fd(),
                        unfilled.as_mut_ptr().cast(),
                        unfilled.len(),
                        0,
                    )
                };
                if n >= 0 {
                    // SAFETY: `recv` initialised the first `n` bytes.
                    unsafe { buf.advance(n as usize) };
                    return Poll::Ready(Ok(()));
                }
                let err = io::Error::last_os_error();
                match err.kind() {
                    io::ErrorKind::WouldBlock => ready!(io.poll_readable(cx))?,
                    io::ErrorKind::Interrupted => {}
                    _ => return Poll::Ready(Err(err)),
                }
            }
        }
    }

    impl Write for HyperIo {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let io = &self.0.0;
            loop {
                match io.get_ref().write(buf) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        ready!(io.poll_writable(cx))?
                    }
                    res => return Poll::Ready(res),
                }
            }
        }

        fn poll_write_vectored(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let io = &self.0.0;
            loop {
                match io.get_ref().write_vectored(bufs) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        ready!(io.poll_writable(cx))?
                    }
                    res => return Poll::Ready(res),
                }
            }
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(self.0.0.get_ref().shutdown(std::net::Shutdown::Write))
        }
    }
}
