//! File system calls on the blocking pool.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

#[test]
fn fs_round_trip_and_many_concurrent_calls() {
    let rt = common::runtime();
    let dir = std::env::temp_dir().join(format!("filch-io-fs-{}", std::process::id()));
    common::with_watchdog("fs", 60, || {
        rt.block_on(async {
            let _ = filch_io::fs::remove_dir_all(&dir).await;
            filch_io::fs::create_dir_all(dir.join("sub")).await.unwrap();
            let done = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..64)
                .map(|i| {
                    let dir = dir.clone();
                    let done = done.clone();
                    filch_executor::spawn(async move {
                        let path = dir.join("sub").join(format!("f{i}"));
                        let body = format!("file {i}\n").repeat(i + 1);
                        filch_io::fs::write(&path, &body).await.unwrap();
                        assert_eq!(filch_io::fs::read_to_string(&path).await.unwrap(), body);
                        assert_eq!(
                            filch_io::fs::metadata(&path).await.unwrap().len(),
                            body.len() as u64
                        );
                        done.fetch_add(1, Relaxed);
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(done.load(Relaxed), 64);
            let entries = filch_io::fs::read_dir(dir.join("sub")).await.unwrap();
            assert_eq!(entries.len(), 64);
            filch_io::fs::rename(dir.join("sub/f0"), dir.join("moved"))
                .await
                .unwrap();
            assert_eq!(
                filch_io::fs::read(dir.join("moved")).await.unwrap(),
                b"file 0\n"
            );
            let err = filch_io::fs::remove_dir(dir.join("sub")).await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::DirectoryNotEmpty);
            filch_io::fs::remove_dir_all(&dir).await.unwrap();
            assert!(!filch_io::fs::try_exists(&dir).await.unwrap());
        })
    });
}

#[test]
fn fs_outside_a_runtime_is_an_error_not_a_panic() {
    let err = futures_lite::future::block_on(filch_io::fs::read("/etc/hostname")).unwrap_err();
    assert!(err.to_string().contains("needs a filch runtime"), "{err}");
}

#[test]
fn read_returns_what_std_reads_at_every_size() {
    // `fs::read` reads the first 4 KiB into a stack buffer before it asks
    // for the size: the sizes around that boundary, and one well past it.
    let rt = common::runtime();
    let dir = std::env::temp_dir().join(format!("filch-io-fs-sizes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    common::with_watchdog("fs sizes", 60, || {
        rt.block_on(async {
            for size in [0, 1, 4095, 4096, 4097, 8192, 100_003] {
                let path = dir.join(format!("s{size}"));
                let body: Vec<u8> = (0..size).map(|i| (i * 7 + size) as u8).collect();
                std::fs::write(&path, &body).unwrap();
                let read = filch_io::fs::read(&path).await.unwrap();
                assert_eq!(read.len(), size, "size {size}");
                assert!(read == body, "size {size}: different bytes");
                assert_eq!(read, std::fs::read(&path).unwrap(), "size {size}");
            }
            let bad = dir.join("not-utf8");
            std::fs::write(
                &bad,
                [b'a'; 5000]
                    .iter()
                    .chain(&[0xff])
                    .copied()
                    .collect::<Vec<_>>(),
            )
            .unwrap();
            let err = filch_io::fs::read_to_string(&bad).await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        })
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn read_does_not_stop_at_a_short_read() {
    // A FIFO whose writer sends three pieces, waiting for the reader to
    // have taken each: every piece is a short read, and only the writer's
    // close ends the file.
    let rt = common::runtime();
    let path = std::env::temp_dir().join(format!("filch-io-fs-fifo-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c_path` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let writer = {
        let path = path.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            // Opening for writing waits for the reader to open the FIFO.
            let mut fifo = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            for piece in [&b"first "[..], b"second ", b"third"] {
                fifo.write_all(piece).unwrap();
                // Wait until the reader has drained the pipe (FIONREAD 0),
                // so the next piece is a read of its own.
                loop {
                    let mut pending: libc::c_int = 0;
                    use std::os::fd::AsRawFd;
                    // SAFETY: a valid fd and a valid `c_int` to write to.
                    let rc = unsafe { libc::ioctl(fifo.as_raw_fd(), libc::FIONREAD, &mut pending) };
                    assert_eq!(rc, 0);
                    if pending == 0 {
                        break;
                    }
                    std::thread::yield_now();
                }
            }
        })
    };
    common::with_watchdog("fs fifo", 60, || {
        rt.block_on(async {
            let read = filch_io::fs::read_to_string(&path).await.unwrap();
            assert_eq!(read, "first second third");
        })
    });
    writer.join().unwrap();
    std::fs::remove_file(&path).unwrap();
}
