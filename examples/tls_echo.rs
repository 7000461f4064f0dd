//! A TLS echo server and its client on filch, in one process.
//!
//! asyncio does TLS with `ssl.SSLContext` passed to `start_server` and
//! `open_connection`. In Rust the TLS stack is a crate, and the common one,
//! tokio-rustls, is written against tokio's `AsyncRead`/`AsyncWrite`. With
//! filch's `tokio-io` feature, filch's `TcpStream` implements those traits
//! natively, so `TlsAcceptor::accept` and `TlsConnector::connect` take it
//! as it is: no second runtime, no helper thread, no adapter.
//!
//! The program makes a self-signed certificate for `localhost` (rcgen),
//! starts a server that echoes every connection until the client's TLS
//! `close_notify`, connects two clients at once, checks every echo, and
//! prints what happened. rustls runs on its `ring` crypto provider.

use filch::net::{TcpListener, TcpStream};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig, crypto};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tokio_traits::io::{AsyncReadExt, AsyncWriteExt};

/// The server's and the client's TLS settings around a fresh self-signed
/// certificate (in a real deployment: your certificate, and the system's
/// roots on the client).
fn tls_configs() -> (TlsAcceptor, TlsConnector) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("generate a self-signed certificate");
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .expect("a valid certificate and key");
    let mut roots = RootCertStore::empty();
    roots.add(cert).expect("a valid certificate");
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    (
        TlsAcceptor::from(Arc::new(server)),
        TlsConnector::from(Arc::new(client)),
    )
}

/// One connection on the server: the TLS handshake, then an echo until the
/// client's `close_notify` (a peer that drops TCP without it is an error),
/// then our own `close_notify`. Returns the bytes echoed.
async fn echo(acceptor: TlsAcceptor, stream: TcpStream) -> io::Result<usize> {
    let mut tls = acceptor.accept(stream).await?;
    let mut buf = vec![0; 16 * 1024];
    let mut total = 0;
    loop {
        let n = tls.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        tls.write_all(&buf[..n]).await?;
        total += n;
    }
    tls.shutdown().await?;
    Ok(total)
}

/// Accepts `connections` connections, each echoed by a task of its own.
async fn serve(listener: TcpListener, acceptor: TlsAcceptor, connections: usize) {
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (stream, peer) = listener.accept().await.expect("accept");
        let acceptor = acceptor.clone();
        tasks.push(filch::spawn(async move {
            let n = echo(acceptor, stream).await.expect("echo");
            println!("server: echoed {n} bytes to {peer}, closed with close_notify");
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// A client: sends each message, reads its echo back and checks it, then
/// closes cleanly and waits for the server's `close_notify`.
async fn client(id: usize, addr: SocketAddr, connector: TlsConnector) -> io::Result<()> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let name = ServerName::try_from("localhost").expect("a valid DNS name");
    let mut tls = connector.connect(name, stream).await?;
    let (_, session) = tls.get_ref();
    println!(
        "client {id}: connected with {:?}, {:?}",
        session.protocol_version().expect("after the handshake"),
        session
            .negotiated_cipher_suite()
            .expect("after the handshake")
            .suite(),
    );
    // A short line, then 40 KiB: more than two full 16 KiB TLS records.
    let big: Vec<u8> = (0..40 * 1024).map(|i| (i % 251) as u8).collect();
    let messages: [&[u8]; 2] = [b"hello over TLS\n", &big];
    for message in messages {
        tls.write_all(message).await?;
        let mut echoed = vec![0; message.len()];
        tls.read_exact(&mut echoed).await?;
        assert_eq!(echoed, message, "client {id}: the echo differs");
        println!(
            "client {id}: sent {} bytes, the echo matches",
            message.len()
        );
    }
    tls.shutdown().await?; // our close_notify
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest).await?; // ends at the server's close_notify
    assert!(rest.is_empty(), "client {id}: bytes after the echoes");
    println!("client {id}: closed cleanly");
    Ok(())
}

#[filch::main]
async fn main() {
    let (acceptor, connector) = tls_configs();
    println!("generated a self-signed certificate for localhost");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local address");
    println!("server: listening on {addr}");
    let server = filch::spawn(serve(listener, acceptor, 2));

    let clients = (1..=2).map(|id| filch::spawn(client(id, addr, connector.clone())));
    for result in filch::join_all(clients).await {
        result.expect("client task").expect("client");
    }
    server.await.unwrap();
    println!("done: 2 TLS connections echoed and closed cleanly");
}
