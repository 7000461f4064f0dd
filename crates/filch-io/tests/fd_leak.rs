//! Descriptor hygiene: 10,000 connections opened and dropped leave the
//! process with as many open descriptors as before. Counts
//! `/proc/self/fd`, which every test in a binary shares, so it lives alone
//! in its own test binary.

mod common;

use filch_io::io::{AsyncReadExt, AsyncWriteExt};
use filch_io::net::{TcpListener, TcpStream, UnixStream};

#[test]
fn ten_thousand_connections_leak_no_descriptor() {
    let (rt, reactor) = common::runtime_with(filch_io::Trigger::Edge);
    let before = common::open_fds();
    common::with_watchdog("fd leak", 120, || {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let listener = std::sync::Arc::new(listener);
            // 20 batches of 500 concurrent connections, each exchanging a
            // byte, then dropped by both sides.
            for _ in 0..20 {
                let server = {
                    let listener = listener.clone();
                    filch_executor::spawn(async move {
                        let mut conns = Vec::with_capacity(500);
                        for _ in 0..500 {
                            let (mut s, _) = listener.accept().await.unwrap();
                            s.write_all(b"x").await.unwrap();
                            conns.push(s);
                        }
                        conns
                    })
                };
                let clients: Vec<_> = (0..500)
                    .map(|_| {
                        filch_executor::spawn(async move {
                            let mut c = TcpStream::connect(addr).await.unwrap();
                            let mut b = [0; 1];
                            c.read_exact(&mut b).await.unwrap();
                            c
                        })
                    })
                    .collect();
                let mut clients_done = Vec::new();
                for c in clients {
                    clients_done.push(c.await.unwrap());
                }
                let server_conns = server.await.unwrap();
                assert_eq!(server_conns.len(), 500);
                // Half dropped here, half on another worker.
                drop(clients_done);
                filch_executor::spawn(async move { drop(server_conns) })
                    .await
                    .unwrap();
            }
            // Socket pairs, made and dropped at once, too.
            for _ in 0..500 {
                let (a, b) = UnixStream::pair().unwrap();
                drop((a, b));
            }
        })
    });
    assert_eq!(reactor.registered_sources(), 0);
    assert_eq!(common::open_fds(), before);
}
