//! A TCP stream that keeps getting short reads stops paying the
//! `WouldBlock` read after each one (the reactor's hang-up watch,
//! `reactor/hup_watch.rs`). These tests check what that must never cost:
//! a FIN that arrives together with the last data, before or after the
//! stream joined the watch, still ends the stream; urgent data, at whose
//! mark a read stops short, never hides the data behind it.
//!
//! The server side is the `block_on` future; the client is a std socket on
//! its own thread, and the two take turns through std channels so that the
//! data and the FIN are both queued before the server reads (the case the
//! watch exists for). A hang aborts through the watchdog.

mod common;

use filch_io::io::AsyncReadExt;
use filch_io::net::{TcpListener, TcpStream};
use std::io::Write;
use std::net::{Shutdown, SocketAddr};
use std::sync::mpsc;
use std::thread;

/// Reads once and returns what came.
async fn read_once(s: &mut TcpStream) -> Vec<u8> {
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).await.unwrap();
    buf[..n].to_vec()
}

/// Client side of the turn-taking: writes each message and waits until the
/// server has read it, so that every one of them is a separate short read.
fn send_each(c: &mut std::net::TcpStream, msgs: &[&[u8]], go: &mpsc::Receiver<()>) {
    for msg in msgs {
        c.write_all(msg).unwrap();
        go.recv().unwrap();
    }
}

/// Server side of [`send_each`]: reads each message (short reads: the
/// second one puts the stream in the hang-up watch) and lets the client go.
async fn read_each(s: &mut TcpStream, msgs: &[&[u8]], go: &mpsc::Sender<()>) {
    for msg in msgs {
        assert_eq!(read_once(s).await, *msg);
        go.send(()).unwrap();
    }
}

/// Holds the server back (the `block_on` thread; the workers keep running
/// the reactor) so that the edges of everything the client queued are
/// dispatched before the next read: the order in which a wrong presumption
/// would hang. Not a timing assert: with less time the tests still pass
/// when the code is right, they only meet that order less often.
fn let_the_reactor_dispatch() {
    thread::sleep(std::time::Duration::from_millis(20));
}

/// Runs `client` on a std stream connected to a fresh listener and `server`
/// on the accepted filch stream, in a 2-worker runtime, under a watchdog.
fn run(
    name: &str,
    client: impl FnOnce(std::net::TcpStream, mpsc::Receiver<()>, mpsc::Sender<()>) + Send + 'static,
    server: impl AsyncFnOnce(TcpStream, mpsc::Sender<()>, mpsc::Receiver<()>),
) {
    let rt = common::runtime();
    common::with_watchdog(name, 30, || {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr: SocketAddr = listener.local_addr().unwrap();
            let (to_client, from_server) = mpsc::channel();
            let (to_server, from_client) = mpsc::channel();
            let client = thread::spawn(move || {
                let c = std::net::TcpStream::connect(addr).unwrap();
                c.set_nodelay(true).unwrap();
                client(c, from_server, to_server);
            });
            let (s, _) = listener.accept().await.unwrap();
            server(s, to_client, from_client).await;
            client.join().unwrap();
        })
    });
}

/// The client sends each of `before` (one short read each on the server),
/// then `last` and a FIN together; the server, once both are queued and
/// dispatched, must read `last` and then the end of the stream.
fn fin_with_the_last_data(name: &str, before: &'static [&'static [u8]], last: &'static [u8]) {
    run(
        name,
        move |mut c, go, done| {
            send_each(&mut c, before, &go);
            c.write_all(last).unwrap();
            c.shutdown(Shutdown::Write).unwrap();
            done.send(()).unwrap();
        },
        async move |mut s, go, done| {
            read_each(&mut s, before, &go).await;
            done.recv().unwrap();
            let_the_reactor_dispatch();
            assert_eq!(read_once(&mut s).await, last);
            // A short read again; the FIN behind it must still be read.
            assert_eq!(read_once(&mut s).await, b"");
        },
    );
}

#[test]
fn a_fin_queued_with_the_data_ends_the_stream_after_short_reads() {
    // Three short reads: the second put the stream in the watch.
    fin_with_the_last_data(
        "fin with data, watched stream",
        &[b"one", b"two", b"three"],
        b"last",
    );
}

#[test]
fn a_fin_queued_before_the_stream_joins_the_watch_is_reported() {
    // The server's read of "two" is its second short one, which adds the
    // stream to the watch after this FIN is already there.
    fin_with_the_last_data("fin before watch", &[b"one"], b"two");
}

#[test]
fn urgent_data_does_not_hide_the_data_behind_its_mark() {
    run(
        "urgent data",
        |mut c, go, done| {
            send_each(&mut c, &[b"one", b"two"], &go);
            c.write_all(b"ab").unwrap();
            // One out-of-band byte: a read stops short at its mark, and
            // (not inline) the byte is skipped by the read after.
            rustix::net::send(&c, b"!", rustix::net::SendFlags::OOB).unwrap();
            c.write_all(b"cd").unwrap();
            done.send(()).unwrap();
            go.recv().unwrap();
            c.shutdown(Shutdown::Write).unwrap();
        },
        async |mut s, go, done| {
            read_each(&mut s, &[b"one", b"two"], &go).await;
            done.recv().unwrap();
            let_the_reactor_dispatch();
            assert_eq!(read_once(&mut s).await, b"ab");
            assert_eq!(read_once(&mut s).await, b"cd");
            go.send(()).unwrap();
            assert_eq!(read_once(&mut s).await, b"");
        },
    );
}

#[test]
fn many_requests_then_a_half_close_on_one_connection() {
    // A keep-alive exchange (every read short), then the client's last
    // request comes with its FIN: the server answers it and sees the end.
    run(
        "keep-alive then half-close",
        |mut c, _go, _done| {
            use std::io::Read;
            let mut reply = [0u8; 8];
            for i in 0..200u64 {
                c.write_all(&i.to_be_bytes()).unwrap();
                if i == 199 {
                    c.shutdown(Shutdown::Write).unwrap();
                }
                c.read_exact(&mut reply).unwrap();
                assert_eq!(u64::from_be_bytes(reply), i + 1);
            }
            let mut rest = Vec::new();
            c.read_to_end(&mut rest).unwrap();
            assert!(rest.is_empty());
        },
        async |mut s, _go, _done| {
            use filch_io::io::AsyncWriteExt;
            let mut pending = Vec::new();
            let mut answered = 0u64;
            loop {
                let got = read_once(&mut s).await;
                if got.is_empty() {
                    break;
                }
                pending.extend_from_slice(&got);
                while pending.len() >= 8 {
                    let i = u64::from_be_bytes(pending[..8].try_into().unwrap());
                    pending.drain(..8);
                    s.write_all(&(i + 1).to_be_bytes()).await.unwrap();
                    answered += 1;
                }
            }
            assert_eq!(answered, 200);
            s.shutdown(Shutdown::Write).unwrap();
        },
    );
}
