//! Sockets end to end on a 2-worker runtime with the I/O driver: TCP echo
//! under load (edge and oneshot reactors), UDP, Unix stream and datagram,
//! half-close, split halves, name resolution, and I/O driven from the
//! `block_on` thread.

mod common;

use filch_io::Trigger;
use filch_io::io::{AsyncReadExt, AsyncWriteExt};
use filch_io::net::{
    TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream, lookup_host,
};
use std::net::Shutdown;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The bytes client `client` sends in round `round`.
fn message(client: usize, round: usize) -> Vec<u8> {
    let len = 1 + (client * 31 + round * 17) % 2048;
    (0..len).map(|k| (client + round * 7 + k) as u8).collect()
}

async fn echo_server(listener: TcpListener) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        filch_executor::spawn(async move {
            let mut buf = vec![0; 4096];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if stream.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
}

fn echo(trigger: Trigger, clients: usize, rounds: usize) {
    let (rt, reactor) = common::runtime_with(trigger);
    let verified = Arc::new(AtomicUsize::new(0));
    let name = format!("echo {trigger:?}");
    common::with_watchdog(&name, 120, || {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = filch_executor::spawn(echo_server(listener));
            let tasks: Vec<_> = (0..clients)
                .map(|client| {
                    let verified = verified.clone();
                    filch_executor::spawn(async move {
                        let mut stream = TcpStream::connect(addr).await.unwrap();
                        stream.set_nodelay(true).unwrap();
                        let mut back = Vec::new();
                        for round in 0..rounds {
                            let msg = message(client, round);
                            stream.write_all(&msg).await.unwrap();
                            back.resize(msg.len(), 0);
                            stream.read_exact(&mut back).await.unwrap();
                            assert_eq!(back, msg, "client {client} round {round}");
                            verified.fetch_add(msg.len(), Relaxed);
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            server.cancel();
            let _ = server.await;
        })
    });
    let expected: usize = (0..clients)
        .flat_map(|c| (0..rounds).map(move |r| message(c, r).len()))
        .sum();
    assert_eq!(verified.load(Relaxed), expected);
    drop(rt);
    assert_eq!(reactor.registered_sources(), 0, "every socket deregistered");
}

#[test]
fn tcp_echo_500_clients_100_round_trips() {
    echo(Trigger::Edge, 500, 100);
}

#[test]
fn tcp_echo_oneshot_reactor() {
    echo(Trigger::Oneshot, 200, 50);
}

#[test]
fn tcp_large_transfer_both_ways_at_once() {
    for trigger in [Trigger::Edge, Trigger::Oneshot] {
        let (rt, _) = common::runtime_with(trigger);
        common::with_watchdog("large transfer", 60, || {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = filch_executor::spawn(echo_server(listener));
                let data: Vec<u8> = (0..8 << 20).map(|i: u32| (i % 251) as u8).collect();
                let stream = TcpStream::connect(addr).await.unwrap();
                let (mut r, mut w) = stream.into_split();
                let sent = data.clone();
                let writer = filch_executor::spawn(async move { w.write_all(&sent).await });
                let mut back = vec![0; data.len()];
                r.read_exact(&mut back).await.unwrap();
                writer.await.unwrap().unwrap();
                assert!(back == data, "8 MiB echoed intact ({trigger:?})");
                server.cancel();
            })
        });
    }
}

#[test]
fn tcp_many_tasks_accept_on_one_listener() {
    let rt = common::runtime();
    common::with_watchdog("many accepters", 60, || {
        rt.block_on(async {
            let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.local_addr().unwrap();
            let accepted = Arc::new(AtomicUsize::new(0));
            let acceptors: Vec<_> = (0..4)
                .map(|_| {
                    let listener = listener.clone();
                    let accepted = accepted.clone();
                    filch_executor::spawn(async move {
                        while accepted.load(Relaxed) < 200 {
                            let (mut s, _) = listener.accept().await.unwrap();
                            accepted.fetch_add(1, Relaxed);
                            s.write_all(b"k").await.unwrap();
                        }
                    })
                })
                .collect();
            let clients: Vec<_> = (0..200)
                .map(|_| {
                    filch_executor::spawn(async move {
                        let mut s = TcpStream::connect(addr).await.unwrap();
                        let mut b = [0; 1];
                        s.read_exact(&mut b).await.unwrap();
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap();
            }
            assert_eq!(accepted.load(Relaxed), 200);
            for a in acceptors {
                a.cancel();
            }
        })
    });
}

#[test]
fn tcp_half_close() {
    let rt = common::runtime();
    common::with_watchdog("tcp half close", 30, || {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = filch_executor::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut request = Vec::new();
                // Reads until the client's EOF, then still answers.
                s.read_to_end(&mut request).await.unwrap();
                s.write_all(&request.len().to_be_bytes()).await.unwrap();
                s.close().await.unwrap();
            });
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.write_all(&[7; 100_000]).await.unwrap();
            c.shutdown(Shutdown::Write).unwrap();
            let mut reply = Vec::new();
            c.read_to_end(&mut reply).await.unwrap();
            assert_eq!(reply, 100_000usize.to_be_bytes());
            server.await.unwrap();

            // The same through owned halves: dropping the write half is the
            // half-close.
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = filch_executor::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut request = Vec::new();
                s.read_to_end(&mut request).await.unwrap();
                s.write_all(&request).await.unwrap();
            });
            let (mut r, mut w) = TcpStream::connect(addr).await.unwrap().into_split();
            w.write_all(b"bye").await.unwrap();
            drop(w);
            let mut reply = Vec::new();
            r.read_to_end(&mut reply).await.unwrap();
            assert_eq!(reply, b"bye");
            server.await.unwrap();
        })
    });
}

#[test]
fn tcp_split_halves_in_two_tasks_and_reunite() {
    let rt = common::runtime();
    common::with_watchdog("split", 30, || {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = filch_executor::spawn(echo_server(listener));
            let (mut r, mut w) = TcpStream::connect(addr).await.unwrap().into_split();
            let writer = filch_executor::spawn(async move {
                for i in 0..1000u32 {
                    w.write_all(&i.to_be_bytes()).await.unwrap();
                }
                w
            });
            let reader = filch_executor::spawn(async move {
                for i in 0..1000u32 {
                    let mut b = [0; 4];
                    r.read_exact(&mut b).await.unwrap();
                    assert_eq!(u32::from_be_bytes(b), i);
                }
                r
            });
            let (w, r) = (writer.await.unwrap(), reader.await.unwrap());
            let (r2, w2) = TcpStream::connect(addr).await.unwrap().into_split();
            let err = r.reunite(w2).unwrap_err();
            let (r, w2) = (err.0, err.1);
            let stream = r.reunite(w).unwrap();
            assert_eq!(stream.peer_addr().unwrap(), addr);
            drop(r2.reunite(w2).unwrap());
            server.cancel();
        })
    });
}

#[test]
fn vectored_io_with_more_buffers_than_the_kernel_takes_moves_a_prefix() {
    // 2,000 one-byte buffers: more than a `sendmsg`/`recvmsg` accepts
    // (1,024 on Linux). Like std's, our vectored calls move a prefix
    // instead of failing.
    let rt = common::runtime();
    common::with_watchdog("many iovecs", 30, || {
        rt.block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            let src: Vec<u8> = (0..2000).map(|i| i as u8).collect();
            let slices: Vec<_> = src.chunks(1).map(std::io::IoSlice::new).collect();
            let sent = a.write_vectored(&slices).await.unwrap();
            assert!((1..=1024).contains(&sent), "sent {sent}");

            let mut dst = vec![0u8; 2000];
            let mut bufs: Vec<_> = dst.chunks_mut(1).map(std::io::IoSliceMut::new).collect();
            let got = b.read_vectored(&mut bufs).await.unwrap();
            assert_eq!(got, sent);
            assert_eq!(dst[..got], src[..got]);
        })
    });
}

#[test]
fn io_driven_from_the_block_on_thread() {
    // Nothing runs on the workers: the block_on future itself waits on
    // sockets, so readiness must be dispatched by a parked worker.
    let rt = common::runtime();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let (tx, rx) = std::sync::mpsc::channel();
    let client = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let addr = rx.recv().unwrap();
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"from a plain thread").unwrap();
        let mut back = String::new();
        s.read_to_string(&mut back).unwrap();
        back
    });
    let got = common::with_watchdog("block_on io", 30, || {
        rt.block_on(async {
            let listener = TcpListener::bind(addr).await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0; 19];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf.to_ascii_uppercase()).await.unwrap();
            String::from_utf8(buf.to_vec()).unwrap()
        })
    });
    assert_eq!(got, "from a plain thread");
    assert_eq!(client.join().unwrap(), "FROM A PLAIN THREAD");
}

#[test]
fn udp_round_trips() {
    let rt = common::runtime();
    common::with_watchdog("udp", 30, || {
        rt.block_on(async {
            let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let server_addr = server.local_addr().unwrap();
            let echo = filch_executor::spawn(async move {
                let mut buf = [0; 2048];
                loop {
                    let (n, from) = server.recv_from(&mut buf).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    server.send_to(&buf[..n], from).await.unwrap();
                }
            });
            let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            client.connect(server_addr).await.unwrap();
            let mut back = [0; 2048];
            for round in 0..1000 {
                let msg = message(3, round);
                assert_eq!(client.send(&msg).await.unwrap(), msg.len());
                let n = client.recv(&mut back).await.unwrap();
                assert_eq!(&back[..n], &msg[..]);
            }
            client.send(&[]).await.unwrap();
            echo.await.unwrap();
        })
    });
}

#[test]
fn udp_several_receivers_share_one_socket() {
    let rt = common::runtime();
    common::with_watchdog("udp receivers", 30, || {
        rt.block_on(async {
            let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let addr = socket.local_addr().unwrap();
            let received = Arc::new(AtomicUsize::new(0));
            let receivers: Vec<_> = (0..4)
                .map(|_| {
                    let socket = socket.clone();
                    let received = received.clone();
                    filch_executor::spawn(async move {
                        let mut buf = [0; 8];
                        loop {
                            let (n, from) = socket.recv_from(&mut buf).await.unwrap();
                            received.fetch_add(1, Relaxed);
                            socket.send_to(&buf[..n], from).await.unwrap();
                        }
                    })
                })
                .collect();
            let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            sender.connect(addr).await.unwrap();
            let mut buf = [0; 8];
            // A window of 8 datagrams in flight: every receiver is waiting
            // at once, and none may be left asleep with data queued.
            for i in 0..8u64 {
                sender.send(&i.to_be_bytes()).await.unwrap();
            }
            for i in 8..408u64 {
                sender.recv(&mut buf).await.unwrap();
                sender.send(&i.to_be_bytes()).await.unwrap();
            }
            for _ in 0..8 {
                sender.recv(&mut buf).await.unwrap();
            }
            assert_eq!(received.load(Relaxed), 408);
            for r in receivers {
                r.cancel();
            }
        })
    });
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("filch-io-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn unix_stream_echo_and_half_close() {
    let rt = common::runtime();
    let dir = temp_dir("unix-stream");
    let path = dir.join("echo.sock");
    common::with_watchdog("unix stream", 60, || {
        rt.block_on(async {
            let listener = UnixListener::bind(&path).unwrap();
            assert_eq!(
                listener.local_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            let server = filch_executor::spawn(async move {
                loop {
                    let (mut s, _) = listener.accept().await.unwrap();
                    filch_executor::spawn(async move {
                        let (mut r, mut w) = s.split();
                        filch_io::io::copy(&mut r, &mut w).await.unwrap();
                        w.close().await.unwrap();
                    });
                }
            });
            let clients: Vec<_> = (0..20)
                .map(|client| {
                    let path = path.clone();
                    filch_executor::spawn(async move {
                        let mut s = UnixStream::connect(&path).await.unwrap();
                        let mut back = Vec::new();
                        for round in 0..50 {
                            let msg = message(client, round);
                            s.write_all(&msg).await.unwrap();
                            back.resize(msg.len(), 0);
                            s.read_exact(&mut back).await.unwrap();
                            assert_eq!(back, msg);
                        }
                        // Half-close: the server's copy ends and it closes.
                        s.shutdown(Shutdown::Write).unwrap();
                        let mut rest = Vec::new();
                        assert_eq!(s.read_to_end(&mut rest).await.unwrap(), 0);
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap();
            }
            server.cancel();
        })
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unix_connect_errors() {
    let rt = common::runtime();
    let dir = temp_dir("unix-errors");
    rt.block_on(async {
        let missing = UnixStream::connect(dir.join("missing")).await.unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
        // A socket file nobody listens on any more.
        let path = dir.join("stale");
        drop(UnixListener::bind(&path).unwrap());
        let refused = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
        let long = dir.join("x".repeat(200));
        let bad = UnixStream::connect(&long).await.unwrap_err();
        assert_eq!(bad.kind(), std::io::ErrorKind::InvalidInput);
        assert!(bad.to_string().contains("xxxx"), "names the path: {bad}");
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unix_datagram_round_trips() {
    let rt = common::runtime();
    let dir = temp_dir("unix-dgram");
    common::with_watchdog("unix datagram", 30, || {
        rt.block_on(async {
            let server = UnixDatagram::bind(dir.join("server")).unwrap();
            let client = UnixDatagram::bind(dir.join("client")).unwrap();
            let echo = filch_executor::spawn(async move {
                let mut buf = [0; 4096];
                for _ in 0..200 {
                    let (n, from) = server.recv_from(&mut buf).await.unwrap();
                    let to = from.as_pathname().unwrap().to_owned();
                    server.send_to(&buf[..n], to).await.unwrap();
                }
            });
            let mut back = [0; 4096];
            for round in 0..200 {
                let msg = message(5, round);
                client.send_to(&msg, dir.join("server")).await.unwrap();
                let (n, from) = client.recv_from(&mut back).await.unwrap();
                assert_eq!(&back[..n], &msg[..]);
                assert_eq!(from.as_pathname(), Some(dir.join("server").as_path()));
            }
            echo.await.unwrap();

            let (a, b) = UnixDatagram::pair().unwrap();
            a.send(b"paired").await.unwrap();
            assert_eq!(b.recv(&mut back).await.unwrap(), 6);
        })
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn name_resolution() {
    let rt = common::runtime();
    common::with_watchdog("dns", 60, || {
        rt.block_on(async {
            let addrs: Vec<_> = lookup_host("localhost:4242").await.unwrap().collect();
            assert!(!addrs.is_empty());
            assert!(
                addrs
                    .iter()
                    .all(|a| a.ip().is_loopback() && a.port() == 4242)
            );
            let literal: Vec<_> = lookup_host(("10.1.2.3", 7)).await.unwrap().collect();
            assert_eq!(literal, vec!["10.1.2.3:7".parse().unwrap()]);

            // Connect by name: every resolved address is tried in turn.
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let stream = TcpStream::connect(("localhost", port)).await.unwrap();
            assert_eq!(stream.peer_addr().unwrap().port(), port);
            let stream = TcpStream::connect(format!("localhost:{port}"))
                .await
                .unwrap();
            assert_eq!(stream.peer_addr().unwrap().port(), port);

            let bad = lookup_host("no port at all").await.unwrap_err();
            assert_eq!(bad.kind(), std::io::ErrorKind::InvalidInput);
            assert!(
                bad.to_string().contains("no port at all"),
                "names the input: {bad}"
            );
            let empty: &[std::net::SocketAddr] = &[];
            let none = TcpStream::connect(empty).await.unwrap_err();
            assert_eq!(none.kind(), std::io::ErrorKind::InvalidInput);
        })
    });
    // Outside a runtime, literals still resolve; names need the pool.
    let literal = futures_lite::future::block_on(lookup_host("127.0.0.1:1")).unwrap();
    assert_eq!(literal.count(), 1);
    let err = futures_lite::future::block_on(lookup_host("localhost:1")).unwrap_err();
    assert!(err.to_string().contains("needs a filch runtime"), "{err}");
}

#[test]
fn sockets_outside_a_runtime_are_errors_not_panics() {
    let err = futures_lite::future::block_on(TcpListener::bind("127.0.0.1:0")).unwrap_err();
    assert!(err.to_string().contains("no filch I/O reactor"), "{err}");
    assert!(UnixStream::pair().is_err());
    // A runtime without the I/O driver is the same error.
    let rt = filch_executor::Builder::new()
        .worker_threads(1)
        .build()
        .unwrap();
    let err = rt.block_on(UdpSocket::bind("127.0.0.1:0")).unwrap_err();
    assert!(err.to_string().contains("no filch I/O reactor"), "{err}");
}
