//! What the `tokio-io` bridge tests share: real crates written against
//! tokio's I/O traits, run on filch's sockets. A TLS echo over tokio-rustls
//! (a self-signed certificate made by rcgen, rustls on ring), an echo of
//! upper-cased lines through tokio-util's `Framed`/`LinesCodec`, and a
//! round trip through `filch::io::Compat` in each direction.
//!
//! Every helper checks the bytes it gets back; `tests/tokio_io.rs` runs
//! them as tests and `tests/tokio_io_threads.rs` counts the process's
//! threads around them.

#![allow(dead_code)]

use filch::io::{AsyncReadExt as _, AsyncWriteExt as _, Compat, CompatExt as _};
use filch::net::{TcpListener, TcpStream};
use futures_lite::StreamExt as _;
use futures_sink::Sink;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio_rustls::rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName,
};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig, crypto};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tokio_traits::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_util::codec::{Framed, FramedRead, FramedWrite, LinesCodec, LinesCodecError};

/// Sizes echoed over TLS: tiny, one partial record, one byte over a full
/// 16 KiB record, and many records.
pub const TLS_SIZES: [usize; 5] = [1, 1000, 16 * 1024, 16 * 1024 + 1, 200_000];

/// Fails the test instead of hanging if `fut` does not finish in time (a
/// guard only: the work takes milliseconds).
pub async fn guard<F: Future>(what: &str, fut: F) -> F::Output {
    filch::time::timeout(Duration::from_secs(60), fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within 60 s"))
}

/// A listener on a literal loopback address (no name resolution, so no
/// blocking-pool thread).
pub async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Deterministic letters (no newline), different for each size.
pub fn text(size: usize) -> Vec<u8> {
    (0..size)
        .map(|i| b'a' + ((i * 7 + size) % 26) as u8)
        .collect()
}

/// Deterministic bytes, different for each size.
pub fn payload(size: usize) -> Vec<u8> {
    (0..size).map(|i| ((i * 31 + size) % 251) as u8).collect()
}

/// A server and a client TLS configuration around a fresh self-signed
/// certificate for `localhost` (rustls on its ring provider).
pub fn tls_pair() -> (TlsAcceptor, TlsConnector) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (
        TlsAcceptor::from(Arc::new(server)),
        TlsConnector::from(Arc::new(client)),
    )
}

/// The TLS echo server's side of one connection, on tokio's own helpers
/// (`split`, `copy`): echoes until the client's `close_notify`, answers
/// with its own, and returns the bytes echoed. A peer that closed TCP
/// without `close_notify` is an `UnexpectedEof` error from rustls, so `Ok`
/// here means a clean TLS shutdown.
pub async fn tls_echo(acceptor: TlsAcceptor, stream: TcpStream) -> io::Result<u64> {
    let (mut r, mut w) = tokio_traits::io::split(acceptor.accept(stream).await?);
    let echoed = tokio_traits::io::copy(&mut r, &mut w).await?;
    w.shutdown().await?;
    Ok(echoed)
}

/// One TLS connection through filch's TCP: a task echoes, the client sends
/// every size in [`TLS_SIZES`] from one task while it reads each echo back
/// in another, checks the bytes, shuts down with `close_notify` and checks
/// that the server's `close_notify` ends its stream cleanly.
pub async fn tls_echo_round_trip() {
    let (acceptor, connector) = tls_pair();
    let (listener, addr) = listener().await;
    let server = filch::spawn(async move {
        let (stream, _) = listener.accept().await?;
        tls_echo(acceptor, stream).await
    });

    let stream = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, stream).await.unwrap();
    let (mut r, mut w) = tokio_traits::io::split(tls);
    let writer = filch::spawn(async move {
        for size in TLS_SIZES {
            w.write_all(&payload(size)).await?;
        }
        // close_notify, then a FIN through filch's `poll_shutdown`.
        w.shutdown().await
    });
    for size in TLS_SIZES {
        let mut echoed = vec![0; size];
        r.read_exact(&mut echoed).await.unwrap();
        assert!(echoed == payload(size), "echo of {size} bytes differs");
    }
    let mut rest = Vec::new();
    r.read_to_end(&mut rest)
        .await
        .expect("the server's close_notify ends the stream cleanly");
    assert!(rest.is_empty(), "{} bytes after the echoes", rest.len());
    writer.await.unwrap().unwrap();
    let echoed = server
        .await
        .unwrap()
        .expect("server saw a clean close_notify");
    assert_eq!(echoed, TLS_SIZES.iter().sum::<usize>() as u64);
}

/// Sends one item through a sink and flushes it (futures' `SinkExt::send`,
/// without pulling in futures-util).
pub async fn send<S, T>(sink: &mut S, item: T) -> Result<(), S::Error>
where
    S: Sink<T> + Unpin,
{
    poll_fn(|cx| Pin::new(&mut *sink).poll_ready(cx)).await?;
    Pin::new(&mut *sink).start_send(item)?;
    poll_fn(|cx| Pin::new(&mut *sink).poll_flush(cx)).await
}

/// Lines for the codec test: empty, multi-byte UTF-8, and one line far
/// longer than any read.
pub fn lines() -> Vec<String> {
    vec![
        "hello".to_owned(),
        String::new(),
        "grüße aus filch".to_owned(),
        "x".repeat(100_000),
        "last".to_owned(),
    ]
}

/// tokio-util's codecs on filch's TCP: the server answers every line with
/// it upper-cased through one `Framed` stream; the client writes through a
/// `FramedWrite` on its owned write half and reads through a `FramedRead`
/// on its owned read half, in two tasks.
pub async fn framed_lines_round_trip() {
    let (listener, addr) = listener().await;
    let server = filch::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut framed = Framed::new(stream, LinesCodec::new());
        let mut count = 0;
        while let Some(line) = framed.next().await {
            send(&mut framed, line?.to_uppercase()).await?;
            count += 1;
        }
        Ok::<_, LinesCodecError>(count)
    });

    let (r, w) = TcpStream::connect(addr).await.unwrap().into_split();
    let writer = filch::spawn(async move {
        let mut out = FramedWrite::new(w, LinesCodec::new());
        for line in lines() {
            send(&mut out, line).await?;
        }
        // Flushes, then `poll_shutdown` on the write half: the server's
        // `Framed` ends.
        poll_fn(|cx| Sink::<String>::poll_close(Pin::new(&mut out), cx)).await
    });
    let got: Vec<String> = FramedRead::new(r, LinesCodec::new())
        .map(|line| line.unwrap())
        .collect()
        .await;
    let want: Vec<String> = lines().iter().map(|l| l.to_uppercase()).collect();
    assert!(
        got == want,
        "got {} lines back, not the upper-cased ones",
        got.len()
    );
    writer.await.unwrap().unwrap();
    assert_eq!(server.await.unwrap().unwrap(), lines().len());
}

/// futures-io → tokio-io: futures-lite's buffered reader and writer around
/// filch's Unix sockets, driven by tokio's extension traits through
/// `Compat` (including `AsyncBufRead`'s `read_line`).
pub async fn compat_futures_to_tokio() {
    use tokio_traits::io::AsyncBufReadExt as _;
    let (a, b) = filch::net::UnixStream::pair().unwrap();
    let mut writer = futures_lite::io::BufWriter::new(a).compat();
    let mut reader = Compat::new(futures_lite::io::BufReader::new(b));
    let writing = filch::spawn(async move {
        writer.write_all(b"first line\n").await?;
        writer.write_all(&text(50_000)).await?;
        writer.write_all(b"\nlast line\n").await?;
        // Flushes futures-lite's buffer and closes (tokio's shutdown is
        // futures-io's close).
        writer.shutdown().await
    });
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    assert_eq!(line, "first line\n");
    let mut big = Vec::new();
    reader.read_until(b'\n', &mut big).await.unwrap();
    big.pop();
    assert!(big == text(50_000), "the 50 000 bytes differ");
    line.clear();
    reader.read_line(&mut line).await.unwrap();
    assert_eq!(line, "last line\n");
    assert_eq!(reader.read_line(&mut line).await.unwrap(), 0, "EOF");
    writing.await.unwrap().unwrap();
}

/// tokio-io → futures-io: tokio's in-memory `DuplexStream` (64-byte
/// buffer, so both sides wait on each other many times) and tokio's
/// `BufReader` around a filch stream, used through filch's (futures-lite's)
/// extension traits.
pub async fn compat_tokio_to_futures() {
    use filch::io::AsyncBufReadExt as _;
    let (a, b) = tokio_traits::io::duplex(64);
    let mut a = a.compat();
    let mut b = Compat::new(b);
    let writing = filch::spawn(async move {
        a.write_all(&payload(10_000)).await?;
        a.close().await // tokio's shutdown: `b` reads EOF
    });
    let mut got = Vec::new();
    b.read_to_end(&mut got).await.unwrap();
    assert!(got == payload(10_000), "the 10 000 bytes differ");
    writing.await.unwrap().unwrap();

    let (mut x, y) = filch::net::UnixStream::pair().unwrap();
    let mut lines = Compat::new(tokio_traits::io::BufReader::new(y));
    // `x` has both families' traits; name the one meant.
    filch::io::AsyncWriteExt::write_all(&mut x, b"one\ntwo\n")
        .await
        .unwrap();
    drop(x);
    let mut line = String::new();
    lines.read_line(&mut line).await.unwrap();
    assert_eq!(line, "one\n");
    line.clear();
    lines.read_line(&mut line).await.unwrap();
    assert_eq!(line, "two\n");
    line.clear(); // futures-lite's `read_line` wants an empty string
    assert_eq!(lines.read_line(&mut line).await.unwrap(), 0, "EOF");
}
