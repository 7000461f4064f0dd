//! A write to a peer that is gone fails with an error; it never raises
//! `SIGPIPE`, even in a process that left `SIGPIPE` at its default action
//! (killing the process), as a C or Python host embedding filch may. Rust
//! programs ignore `SIGPIPE` from startup, so this test restores the
//! default first; that is why it has a process (test binary) of its own.

mod common;

use filch_io::io::AsyncWriteExt;
use filch_io::net::{TcpListener, TcpStream, UnixStream};
use std::io::{ErrorKind, IoSlice};

/// Writes to `stream`, whose peer has closed, until a write fails with
/// `BrokenPipe` (the case that raises `SIGPIPE` without `MSG_NOSIGNAL`);
/// `ConnectionReset` may come first, on the write that meets the RST.
async fn write_until_broken_pipe<S: AsyncWriteExt + Unpin>(stream: &mut S, vectored: bool) {
    let chunk = [7u8; 1024];
    for _ in 0..10_000 {
        let res = if vectored {
            let bufs = [IoSlice::new(&chunk), IoSlice::new(&chunk)];
            stream.write_vectored(&bufs).await
        } else {
            stream.write(&chunk).await
        };
        match res {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::BrokenPipe => return,
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
        }
    }
    panic!("10,000 writes to a closed peer and none failed with BrokenPipe");
}

#[test]
fn writes_to_a_closed_peer_are_errors_not_sigpipe() {
    // SAFETY: `SIG_DFL` installs no handler, so no handler code can run in
    // signal context; the runtime's threads do not exist yet, and libtest's
    // own thread never changes signal dispositions.
    let old = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(old, libc::SIG_ERR);

    let rt = common::runtime();
    common::with_watchdog("sigpipe", 60, || {
        rt.block_on(async {
            for vectored in [false, true] {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let mut client = TcpStream::connect(listener.local_addr().unwrap())
                    .await
                    .unwrap();
                drop(listener.accept().await.unwrap());
                write_until_broken_pipe(&mut client, vectored).await;

                let (mut a, b) = UnixStream::pair().unwrap();
                drop(b);
                write_until_broken_pipe(&mut a, vectored).await;
            }
        })
    });
}
