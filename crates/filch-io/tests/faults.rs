//! Faults and bad input: refused and unreachable connects, a peer that
//! resets mid-write, sockets dropped on other threads, and waiters whose
//! reactor goes away. Each must be an `io::Error` (or a clean
//! deregistration), never a panic or a hang.

mod common;

use filch_io::io::{AsyncReadExt, AsyncWriteExt};
use filch_io::net::{TcpListener, TcpStream, UnixStream};
use std::future::Future;
use std::io::ErrorKind;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::task::{Context, Poll, Wake, Waker};

#[test]
fn connection_refused_is_an_error() {
    let rt = common::runtime();
    // A port that was just free: nobody listens there.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    common::with_watchdog("refused", 30, || {
        rt.block_on(async {
            for _ in 0..100 {
                let err = TcpStream::connect(addr).await.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
            }
        })
    });
}

#[test]
fn unreachable_destination_is_an_error() {
    let rt = common::runtime();
    rt.block_on(async {
        // TCP to a broadcast or multicast address is refused by the local
        // kernel with ENETUNREACH before anything is sent, so this needs
        // no network and sends nothing off the machine.
        for addr in ["255.255.255.255:80", "224.0.0.1:80"] {
            let err = TcpStream::connect(addr).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NetworkUnreachable, "{addr}: {err}");
        }
    });
}

#[test]
fn peer_reset_mid_write_errors_the_writer() {
    let rt = common::runtime();
    common::with_watchdog("reset mid-write", 60, || {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = filch_executor::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                // Take a little, then close with unread data queued (and
                // linger 0): the kernel answers with RST.
                let mut buf = vec![0; 256 << 10];
                s.read_exact(&mut buf).await.unwrap();
                rustix::net::sockopt::set_socket_linger(&s, Some(std::time::Duration::ZERO))
                    .unwrap();
                drop(s);
            });
            let mut c = TcpStream::connect(addr).await.unwrap();
            let chunk = vec![0xAB; 64 << 10];
            let mut written = 0usize;
            let err = loop {
                match c.write_all(&chunk).await {
                    Ok(()) => written += chunk.len(),
                    Err(e) => break e,
                }
            };
            assert!(written >= 256 << 10);
            assert!(
                matches!(
                    err.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
                ),
                "unexpected error {err:?}"
            );
            server.await.unwrap();
            // Reading the reset connection is an error or EOF, never a hang.
            let mut buf = [0; 16];
            let _ = c.read(&mut buf).await;
        })
    });
}

#[test]
fn stream_dropped_on_another_thread_deregisters() {
    let (rt, reactor) = common::runtime_with(filch_io::Trigger::Edge);
    common::with_watchdog("drop elsewhere", 30, || {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let base = reactor.registered_sources();
            for _ in 0..50 {
                let client = TcpStream::connect(addr).await.unwrap();
                let (mut server_side, _) = listener.accept().await.unwrap();
                assert_eq!(reactor.registered_sources(), base + 2);
                // Dropped on a thread outside any runtime.
                std::thread::spawn(move || drop(client)).join().unwrap();
                assert_eq!(reactor.registered_sources(), base + 1);
                let mut rest = Vec::new();
                assert_eq!(server_side.read_to_end(&mut rest).await.unwrap(), 0);
            }
            assert_eq!(reactor.registered_sources(), base);
        })
    });
}

#[test]
fn stream_moved_between_runtime_threads_keeps_working() {
    let rt = common::runtime();
    common::with_watchdog("move", 30, || {
        rt.block_on(async {
            let (mut a, b) = UnixStream::pair().unwrap();
            // `b` is used from a worker, then from here, then dropped on a
            // worker again.
            let b = filch_executor::spawn(async move {
                let mut b = b;
                b.write_all(b"1").await.unwrap();
                b
            })
            .await
            .unwrap();
            let mut buf = [0; 1];
            a.read_exact(&mut buf).await.unwrap();
            filch_executor::spawn(async move { drop(b) }).await.unwrap();
            assert_eq!(a.read(&mut buf).await.unwrap(), 0);
        })
    });
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, SeqCst);
    }
}

#[test]
fn waiter_is_woken_with_an_error_when_its_reactor_shuts_down() {
    let rt = common::runtime();
    let (mut a, b) = rt.block_on(async { UnixStream::pair().unwrap() });
    let listener = rt.block_on(async { TcpListener::bind("127.0.0.1:0").await.unwrap() });

    // Poll a read and an accept by hand so they are certainly waiting.
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let mut buf = [0; 8];
    let mut read = pin!(a.read(&mut buf));
    assert!(read.as_mut().poll(&mut cx).is_pending());
    let accept_flag = Arc::new(Flag(AtomicBool::new(false)));
    let accept_waker = Waker::from(accept_flag.clone());
    let mut accept = pin!(listener.accept());
    assert!(
        accept
            .as_mut()
            .poll(&mut Context::from_waker(&accept_waker))
            .is_pending()
    );

    // The runtime (and its reactor) goes away while both wait.
    drop(rt);
    assert!(flag.0.load(SeqCst), "the reader was woken");
    assert!(accept_flag.0.load(SeqCst), "the acceptor was woken");
    match read.as_mut().poll(&mut cx) {
        Poll::Ready(Err(e)) => assert!(e.to_string().contains("shut down"), "{e}"),
        other => panic!("expected an error, got {other:?}"),
    }
    match accept
        .as_mut()
        .poll(&mut Context::from_waker(&accept_waker))
    {
        Poll::Ready(Err(e)) => assert!(e.to_string().contains("shut down"), "{e}"),
        Poll::Ready(Ok(_)) => panic!("accepted on a dead reactor"),
        Poll::Pending => panic!("still pending after the reactor shut down"),
    }
    // Data that is already there can still be read: only waiting fails.
    drop(b);
}

#[test]
fn sockets_cannot_be_created_after_shutdown() {
    let (rt, reactor) = common::runtime_with(filch_io::Trigger::Edge);
    let handle = rt.handle().clone();
    drop(rt);
    let _guard = handle.enter();
    let err = UnixStream::pair().unwrap_err();
    assert!(err.to_string().contains("shut down"), "{err}");
    assert_eq!(reactor.registered_sources(), 0);
}
