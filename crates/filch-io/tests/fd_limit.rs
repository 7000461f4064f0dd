//! Accept under file-descriptor exhaustion. Lowers `RLIMIT_NOFILE` for the
//! whole process, so it lives alone in its own test binary.

mod common;

use filch_io::io::{AsyncReadExt, AsyncWriteExt};
use filch_io::net::TcpListener;
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

#[test]
fn accept_under_fd_exhaustion_errors_then_recovers() {
    let rt = common::runtime();
    let original = getrlimit(Resource::Nofile);
    common::with_watchdog("fd exhaustion", 60, || {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // Two clients whose connections wait in the backlog.
            let mut clients: Vec<_> = (0..2)
                .map(|_| std::net::TcpStream::connect(addr).unwrap())
                .collect();

            // Leave no descriptor free: a limit just above what is open,
            // then fill every remaining slot with ballast.
            let limit = common::open_fds() as u64 + 8;
            setrlimit(
                Resource::Nofile,
                Rlimit {
                    current: Some(limit),
                    maximum: original.maximum,
                },
            )
            .unwrap();
            let mut ballast = Vec::new();
            loop {
                match std::fs::File::open("/dev/null") {
                    Ok(f) => ballast.push(f),
                    Err(e) => {
                        assert_eq!(
                            e.raw_os_error(),
                            Some(rustix::io::Errno::MFILE.raw_os_error())
                        );
                        break;
                    }
                }
            }
            assert!(!ballast.is_empty());

            // Accepting needs a descriptor: the error comes back as a value,
            // twice, and nothing is lost.
            for _ in 0..2 {
                let err = listener.accept().await.unwrap_err();
                assert_eq!(
                    err.raw_os_error(),
                    Some(rustix::io::Errno::MFILE.raw_os_error()),
                    "{err}"
                );
            }

            // Free descriptors: the listener works again and both pending
            // connections are still there.
            ballast.clear();
            for client in &mut clients {
                let (mut s, _) = listener.accept().await.unwrap();
                s.write_all(b"ok").await.unwrap();
                use std::io::Read;
                let mut b = [0; 2];
                client.read_exact(&mut b).unwrap();
                assert_eq!(&b, b"ok");
                drop(s);
                let mut rest = Vec::new();
                client.read_to_end(&mut rest).unwrap();
            }
            // And new connections are accepted too.
            let _c = std::net::TcpStream::connect(addr).unwrap();
            let (mut s, _) = listener.accept().await.unwrap();
            let mut b = [0; 1];
            drop(_c);
            assert_eq!(s.read(&mut b).await.unwrap(), 0);
        })
    });
    setrlimit(Resource::Nofile, original).unwrap();
}
