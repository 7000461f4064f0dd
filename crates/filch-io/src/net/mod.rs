//! Networking (`filch::net`): TCP, UDP and Unix domain sockets, and name
//! resolution.
//!
//! Every type is a std socket in non-blocking mode registered with the
//! runtime's reactor; create them inside a runtime that has the I/O driver.
//! Stream types implement `futures_io::AsyncRead`/`AsyncWrite` (use the
//! extension traits in [`crate::io`]). This module only gathers the types;
//! each protocol lives in its own file.

mod addr;
pub mod split;
mod stream;
pub mod tcp;
mod udp;
pub mod unix;

pub use addr::{ToSocketAddrs, lookup_host};
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};
