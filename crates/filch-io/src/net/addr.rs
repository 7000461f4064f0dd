//! Socket address arguments and name resolution.
//!
//! [`ToSocketAddrs`] accepts what `std::net::ToSocketAddrs` accepts
//! (`"127.0.0.1:0"`, `("localhost", 80)`, a `SocketAddr`, a slice of them).
//! Literal IP addresses are parsed on the calling thread; anything that
//! needs a name lookup (`getaddrinfo`, which blocks) runs on the runtime's
//! blocking pool so async workers never block. This module owns parsing and
//! the hand-off to the pool; it must not open sockets.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Types that name one or more socket addresses: the same set as
/// `std::net::ToSocketAddrs`. Host names are resolved on the blocking pool;
/// IP literals never leave the calling thread.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     use std::net::{Ipv4Addr, SocketAddr};
///     let a = filch_io::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let b = filch_io::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
///     let c = filch_io::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
///     # let _ = (a, b, c);
/// });
/// ```
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    use std::io;
    use std::net::SocketAddr;

    /// How an address argument becomes addresses.
    #[doc(hidden)]
    #[derive(Debug)]
    pub enum Resolve {
        /// Already known (literals): no lookup.
        Done(io::Result<Vec<SocketAddr>>),
        /// `host`, `port`: needs a lookup.
        HostPort(String, u16),
        /// `"host:port"`: needs a lookup.
        HostAndPort(String),
    }

    /// The hidden half of `ToSocketAddrs` (so it cannot be implemented or
    /// called outside this crate).
    pub trait ToSocketAddrsPriv {
        #[doc(hidden)]
        fn to_resolve(&self) -> Resolve;
    }
}

use sealed::{Resolve, ToSocketAddrsPriv};

macro_rules! literal {
    ($($t:ty),*) => {$(
        impl ToSocketAddrs for $t {}
        impl ToSocketAddrsPriv for $t {
            fn to_resolve(&self) -> Resolve {
                Resolve::Done(Ok(vec![SocketAddr::from(*self)]))
            }
        }
    )*};
}

literal!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16),
    ([u8; 4], u16),
    ([u16; 8], u16)
);

impl ToSocketAddrs for (&str, u16) {}
impl ToSocketAddrsPriv for (&str, u16) {
    fn to_resolve(&self) -> Resolve {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Resolve::Done(Ok(vec![SocketAddr::new(ip, port)])),
            Err(_) => Resolve::HostPort(host.to_owned(), port),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToSocketAddrsPriv for (String, u16) {
    fn to_resolve(&self) -> Resolve {
        (self.0.as_str(), self.1).to_resolve()
    }
}

impl ToSocketAddrs for str {}
impl ToSocketAddrsPriv for str {
    fn to_resolve(&self) -> Resolve {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Resolve::Done(Ok(vec![addr])),
            Err(_) => Resolve::HostAndPort(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl ToSocketAddrsPriv for String {
    fn to_resolve(&self) -> Resolve {
        self.as_str().to_resolve()
    }
}

impl ToSocketAddrs for [SocketAddr] {}
impl ToSocketAddrsPriv for [SocketAddr] {
    fn to_resolve(&self) -> Resolve {
        Resolve::Done(Ok(self.to_vec()))
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    fn to_resolve(&self) -> Resolve {
        (**self).to_resolve()
    }
}

/// Resolves `addr`. The conversion happens now, so the returned future
/// owns everything it needs (it is `Send + 'static`).
pub(crate) fn resolve<A: ToSocketAddrs + ?Sized>(
    addr: &A,
) -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'static {
    let resolve = addr.to_resolve();
    async move {
        let addrs = match resolve {
            Resolve::Done(res) => return res,
            Resolve::HostPort(host, port) => {
                let what = format!("{host}:{port}");
                lookup_blocking(what, move || {
                    std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
                })
                .await?
            }
            Resolve::HostAndPort(s) => {
                let what = s.clone();
                lookup_blocking(what, move || {
                    std::net::ToSocketAddrs::to_socket_addrs(s.as_str())
                })
                .await?
            }
        };
        Ok(addrs)
    }
}

/// Runs a blocking lookup on the current runtime's blocking pool; errors
/// name the address that was being resolved.
async fn lookup_blocking<I>(
    what: String,
    lookup: impl FnOnce() -> io::Result<I> + Send + 'static,
) -> io::Result<Vec<SocketAddr>>
where
    I: Iterator<Item = SocketAddr>,
{
    let Some(handle) = filch_executor::Handle::try_current() else {
        return Err(io::Error::other(format!(
            "resolving {what:?} needs a filch runtime (lookups run on its blocking pool)"
        )));
    };
    let res = handle
        .spawn_blocking(move || lookup().map(|it| it.collect::<Vec<_>>()))
        .await
        .map_err(|e| io::Error::other(format!("resolving {what:?} did not finish: {e}")))?;
    res.map_err(|e| io::Error::new(e.kind(), format!("could not resolve {what:?}: {e}")))
}

/// The error for an address argument that named no address at all.
pub(crate) fn no_addresses() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "the address argument resolved to no socket address",
    )
}

/// Tries `op` on each resolved address in turn; returns the first success or
/// the last error.
pub(crate) async fn each_addr<A, T, F, Fut>(addr: &A, mut op: F) -> io::Result<T>
where
    A: ToSocketAddrs + ?Sized,
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let addrs = resolve(addr).await?;
    let mut last = None;
    for a in addrs {
        match op(a).await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(no_addresses))
}

/// Resolves a host name (asyncio's `loop.getaddrinfo`), on the blocking
/// pool; IP literals are parsed without leaving the calling thread.
///
/// `host` is anything [`ToSocketAddrs`] accepts, so it carries a port:
/// `"example.com:80"` or `("example.com", 80)`.
///
/// Cancel-safe: a dropped lookup finishes on the blocking pool and its result
/// is discarded.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let addrs: Vec<_> = filch_io::net::lookup_host("localhost:8080").await.unwrap().collect();
///     assert!(addrs.iter().all(|a| a.port() == 8080 && a.ip().is_loopback()));
///     let bad = filch_io::net::lookup_host("no port here").await.unwrap_err();
///     assert_eq!(bad.kind(), std::io::ErrorKind::InvalidInput);
/// });
/// ```
pub async fn lookup_host<A: ToSocketAddrs>(
    host: A,
) -> io::Result<impl Iterator<Item = SocketAddr> + std::fmt::Debug> {
    Ok(resolve(&host).await?.into_iter())
}
