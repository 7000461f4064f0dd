//! A panic that escapes a worker's loop (a bug in filch or in a driver:
//! task panics are caught) aborts the process with a message on stderr,
//! instead of leaving a dead worker, stranded tasks and a hung runtime.
//! The runtime under test runs in a child process (this test binary
//! re-run with an environment variable), since it must abort.

use filch_executor::{Builder, Driver, Handle, Park, WorkerDriver};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHILD: &str = "FILCH_TEST_WORKER_PANIC_CHILD";

/// Parks by napping 1 ms (the test never needs a real wake-up).
struct NapPark;

impl Park for NapPark {
    fn park(&mut self, _timeout: Option<Duration>) {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A driver whose per-worker set-up panics on worker 1: a panic on a worker
/// thread outside any task.
struct BrokenDriver;

impl Driver for BrokenDriver {
    fn unpark(&self) {}

    fn start_worker(&self, _handle: &Handle, index: usize) -> Option<Box<dyn WorkerDriver>> {
        if index == 1 {
            panic!("driver set-up failed on purpose");
        }
        None
    }
}

/// The child's side: a runtime whose worker 1 panics, and a `block_on`
/// that would wait for ever if the process did not abort.
#[test]
fn worker_panic_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let rt = Builder::new()
        .worker_threads(2)
        .driver(Box::new(NapPark), Arc::new(BrokenDriver))
        .build()
        .unwrap();
    rt.block_on(std::future::pending::<()>());
}

#[test]
fn a_panic_outside_any_task_aborts_with_a_message() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "worker_panic_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A watchdog, not a timing assert: a correct child aborts at once; a
    // broken one (a dead worker, a hung runtime) never exits.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the child still runs after 60 s: the worker died and the runtime hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(
        status.signal(),
        Some(libc::SIGABRT),
        "{status}; stderr:\n{stderr}"
    );
    assert!(
        stderr.contains(
            "filch: worker thread 1 panicked outside any task: driver set-up failed on purpose"
        ),
        "stderr:\n{stderr}"
    );
}
