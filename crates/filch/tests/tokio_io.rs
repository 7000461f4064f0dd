//! filch's streams under tokio's I/O traits (feature `tokio-io`): real
//! crates written against them (tokio-rustls, tokio-util's codecs), the
//! `Compat` adapter in both directions, and what the native impls promise
//! on every stream type and split half: reads fill tokio's uninitialised
//! buffer in place, vectored writes are vectored, shutdown half-closes.

mod tokio_common;

use filch::net::{TcpStream, UnixStream};
use std::future::poll_fn;
use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::pin::Pin;
use tokio_common::*;
use tokio_traits::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

#[filch::test]
async fn tls_echo_over_tokio_rustls_on_filch_tcp() {
    guard("the TLS echo", tls_echo_round_trip()).await;
}

#[filch::test]
async fn tokio_util_framed_lines_on_filch_tcp() {
    guard("the LinesCodec echo", framed_lines_round_trip()).await;
}

#[filch::test]
async fn compat_gives_futures_io_types_tokios_traits() {
    guard(
        "the futures-io -> tokio-io round trip",
        compat_futures_to_tokio(),
    )
    .await;
}

#[filch::test]
async fn compat_gives_tokio_io_types_futures_traits() {
    guard(
        "the tokio-io -> futures-io round trip",
        compat_tokio_to_futures(),
    )
    .await;
}

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let (listener, addr) = listener().await;
    let client = TcpStream::connect(addr).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// The peer writes `hello`; `r` reads it through tokio's `poll_read` into
/// a buffer that starts uninitialised. Native reads initialise exactly the
/// bytes they fill: a reader that zero-fills first (as any adapter over
/// `&mut [u8]` must) would leave the whole buffer initialised.
async fn reads_in_place<R: AsyncRead + Unpin>(r: &mut R) {
    let mut storage = [MaybeUninit::<u8>::uninit(); 4096];
    let mut buf = ReadBuf::uninit(&mut storage);
    while buf.filled().len() < 5 {
        let before = buf.filled().len();
        poll_fn(|cx| Pin::new(&mut *r).poll_read(cx, &mut buf))
            .await
            .unwrap();
        assert!(buf.filled().len() > before, "EOF before the 5 bytes");
    }
    assert_eq!(buf.filled(), b"hello");
    assert_eq!(
        buf.initialized().len(),
        5,
        "the read zero-filled its buffer"
    );
}

async fn say_hello<W: filch::io::AsyncWrite + Unpin>(peer: &mut W) {
    filch::io::AsyncWriteExt::write_all(peer, b"hello")
        .await
        .unwrap();
}

/// Runs `$body` once with a connected TCP pair and once with a Unix pair,
/// bound to `$a` and `$b` (the stream types share their method names).
macro_rules! on_tcp_and_unix {
    (|$a:ident, $b:ident| $body:block) => {{
        // `mut`: bodies that only move `$a` (`into_split`) do not need it.
        {
            #[allow(unused_mut)]
            let (mut $a, mut $b) = tcp_pair().await;
            $body
        }
        {
            #[allow(unused_mut)]
            let (mut $a, mut $b) = UnixStream::pair().unwrap();
            $body
        }
    }};
}

#[filch::test]
async fn reads_fill_tokios_uninitialised_buffer_in_place() {
    on_tcp_and_unix!(|a, b| {
        say_hello(&mut b).await;
        reads_in_place(&mut a).await;
        say_hello(&mut b).await;
        reads_in_place(&mut a.split().0).await;
        let (mut r, _w) = a.into_split();
        say_hello(&mut b).await;
        reads_in_place(&mut r).await;
    });
}

/// `w` says it writes vectored and does (one call takes all three slices:
/// a writer without a vectored write takes only the first), then shuts its
/// direction down: the peer reads everything, then EOF.
async fn writes_vectored_then_shuts_down<W, P>(w: &mut W, peer: &mut P)
where
    W: AsyncWrite + Unpin,
    P: filch::io::AsyncRead + Unpin,
{
    assert!(w.is_write_vectored());
    let slices = [
        IoSlice::new(b"ab"),
        IoSlice::new(b"cd"),
        IoSlice::new(b"ef"),
    ];
    assert_eq!(w.write_vectored(&slices).await.unwrap(), 6);
    w.flush().await.unwrap();
    w.shutdown().await.unwrap();
    let mut got = Vec::new();
    guard(
        "the peer's read to EOF",
        filch::io::AsyncReadExt::read_to_end(peer, &mut got),
    )
    .await
    .unwrap();
    assert_eq!(got, b"abcdef");
}

#[filch::test]
async fn vectored_writes_and_write_shutdown_on_every_writer() {
    // After each shutdown, only the write direction is shut: the stream
    // (or its read half) still reads.
    on_tcp_and_unix!(|a, b| {
        writes_vectored_then_shuts_down(&mut a, &mut b).await;
        say_hello(&mut b).await;
        reads_in_place(&mut a).await;
    });
    on_tcp_and_unix!(|a, b| {
        let (mut r, mut w) = a.split();
        writes_vectored_then_shuts_down(&mut w, &mut b).await;
        say_hello(&mut b).await;
        reads_in_place(&mut r).await;
    });
    on_tcp_and_unix!(|a, b| {
        let (mut r, mut w) = a.into_split();
        writes_vectored_then_shuts_down(&mut w, &mut b).await;
        say_hello(&mut b).await;
        reads_in_place(&mut r).await;
    });
}

/// The owned halves in two tasks at once, through tokio's helpers: a
/// megabyte goes out through the write half while the read half takes the
/// echo back, then the halves are reunited.
#[filch::test]
async fn owned_halves_echo_a_megabyte_from_two_tasks() {
    let (listener, addr) = listener().await;
    let echo = filch::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let (mut r, mut w) = s.split();
        let n = filch::io::copy(&mut r, &mut w).await.unwrap();
        filch::io::AsyncWriteExt::close(&mut w).await.unwrap();
        n
    });
    let (mut r, mut w) = TcpStream::connect(addr).await.unwrap().into_split();
    let data = payload(1 << 20);
    let sent = data.clone();
    let writer = filch::spawn(async move {
        w.write_all(&sent).await.unwrap();
        w.shutdown().await.unwrap();
        w
    });
    let reader = filch::spawn(async move {
        let mut got = Vec::new();
        r.read_to_end(&mut got).await.unwrap();
        (r, got)
    });
    let (r, got) = guard("the echo", reader).await.unwrap();
    assert!(got == data, "the echoed megabyte differs");
    assert_eq!(echo.await.unwrap(), 1 << 20);
    let w = writer.await.unwrap();
    let stream = r.reunite(w).unwrap();
    assert_eq!(stream.local_addr().unwrap().ip(), addr.ip());
}
