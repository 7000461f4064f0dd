//! UDP: [`UdpSocket`] (asyncio's `create_datagram_endpoint` socket, as
//! awaitable methods instead of protocol callbacks).
//!
//! Every operation takes `&self`, so one socket can be shared (in an `Arc`)
//! by a sending and a receiving task, or by several receivers: each waiting
//! operation has its own waiter entry. This module owns the UDP surface; it
//! must not implement waiting itself (that is `reactor/registration.rs`).

use super::addr::{ToSocketAddrs, each_addr, no_addresses, resolve};
use crate::reactor::registration::PollEvented;
use crate::reactor::scheduled_io::{Direction, READABLE, WRITABLE};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

/// A UDP socket.
///
/// ```
/// use filch_io::net::UdpSocket;
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// });
/// ```
pub struct UdpSocket {
    io: PollEvented<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr` (anything [`ToSocketAddrs`] accepts),
    /// trying each resolved address in turn.
    ///
    /// Cancel-safe: a dropped `bind` leaves nothing behind (a name lookup it
    /// started finishes on the blocking pool and is discarded).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let socket = filch_io::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(socket.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        each_addr(&addr, |a| async move {
            UdpSocket::from_std(std::net::UdpSocket::bind(a)?)
        })
        .await
    }

    /// Wraps a std socket (made non-blocking here) in the current
    /// runtime's reactor.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let socket = rt.block_on(async { filch_io::net::UdpSocket::from_std(std_socket) }).unwrap();
    /// # drop(socket);
    /// ```
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: PollEvented::new(socket, READABLE | WRITABLE)?,
        })
    }

    /// Deregisters the socket and returns the std one (still
    /// non-blocking).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let std_socket = rt.block_on(async {
    ///     filch_io::net::UdpSocket::bind("127.0.0.1:0").await.unwrap().into_std()
    /// });
    /// assert!(std_socket.local_addr().is_ok());
    /// ```
    pub fn into_std(self) -> std::net::UdpSocket {
        self.io.into_inner()
    }

    /// The local address.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let socket = filch_io::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(socket.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address the socket is connected to.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let socket = filch_io::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(socket.peer_addr().is_err()); // not connected
    ///     socket.connect("127.0.0.1:9").await.unwrap();
    ///     assert_eq!(socket.peer_addr().unwrap().port(), 9);
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets the default destination of [`send`](Self::send) and the only
    /// source [`recv`](Self::recv) accepts (trying each resolved address
    /// until one works).
    ///
    /// Cancel-safe: the socket is only changed by the `connect(2)` call itself,
    /// which does not wait.
    ///
    /// ```
    /// # use filch_io::net::UdpSocket;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     b.connect(a.local_addr().unwrap()).await.unwrap();
    ///     a.send(b"hi").await.unwrap();
    ///     let mut buf = [0; 2];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 2);
    /// });
    /// ```
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let socket = self.io.get_ref();
        each_addr(&addr, |a| async move { socket.connect(a) }).await
    }

    /// Sends `buf` to the connected peer; returns the bytes sent.
    /// Cancel-safe.
    ///
    /// ```
    /// # use filch_io::net::UdpSocket;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let err = a.send(b"x").await.unwrap_err(); // not connected
    ///     # let _ = err;
    ///     a.connect(a.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(a.send(b"x").await.unwrap(), 1);
    /// });
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Write, || socket.send(buf))
            .await
    }

    /// Receives one datagram from the connected peer into `buf`; returns
    /// its length (excess bytes of a longer datagram are discarded).
    /// Cancel-safe.
    ///
    /// ```
    /// # use filch_io::net::UdpSocket;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(a.local_addr().unwrap()).await.unwrap();
    ///     a.send(b"loop").await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let n = a.recv(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"loop");
    /// });
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Read, || socket.recv(buf))
            .await
    }

    /// Sends `buf` to `target` (its first resolved address); returns the
    /// bytes sent. Cancel-safe once the address is resolved.
    ///
    /// ```
    /// # use filch_io::net::UdpSocket;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let port = a.local_addr().unwrap().port();
    ///     assert_eq!(a.send_to(b"me", ("127.0.0.1", port)).await.unwrap(), 2);
    /// });
    /// ```
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let target = resolve(&target)
            .await?
            .into_iter()
            .next()
            .ok_or_else(no_addresses)?;
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Write, || socket.send_to(buf, target))
            .await
    }

    /// Receives one datagram into `buf`; returns its length and sender.
    /// Cancel-safe. Several tasks may receive on one socket at once.
    ///
    /// ```
    /// # use filch_io::net::UdpSocket;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.send_to(b"self", a.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let (n, from) = a.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!((n, from), (4, a.local_addr().unwrap()));
    /// });
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Read, || socket.recv_from(buf))
            .await
    }

    /// Like [`recv_from`](Self::recv_from) but leaves the datagram queued.
    ///
    /// ```
    /// # use filch_io::net::UdpSocket;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.send_to(b"twice", a.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     assert_eq!(a.peek_from(&mut buf).await.unwrap().0, 5);
    ///     assert_eq!(a.recv_from(&mut buf).await.unwrap().0, 5);
    /// });
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Read, || socket.peek_from(buf))
            .await
    }

    /// Sets `SO_BROADCAST`.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let socket = filch_io::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.set_broadcast(true).unwrap();
    ///     assert!(socket.broadcast().unwrap());
    /// });
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let socket = filch_io::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(!socket.broadcast().unwrap());
    /// });
    /// ```
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets the IP time-to-live of outgoing datagrams.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let socket = filch_io::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.set_ttl(9).unwrap();
    ///     assert_eq!(socket.ttl().unwrap(), 9);
    /// });
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live (see [`set_ttl`](Self::set_ttl)).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let socket = filch_io::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(socket.ttl().unwrap() > 0);
    /// });
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}
