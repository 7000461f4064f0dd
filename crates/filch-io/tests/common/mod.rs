//! Shared test helpers: a 2-worker runtime with the I/O driver (tests that
//! also need timers run on the facade's runtime, in `crates/filch/tests`),
//! and a watchdog that fails a test that hangs (a guard, not a timing
//! assert).

#![allow(dead_code)]

use filch_executor::{Builder, Executor};
use filch_io::{Reactor, ReactorHandle, Trigger};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

/// A runtime with 2 workers and the default (edge where available) reactor.
pub fn runtime() -> Executor {
    let (park, driver) = filch_io::driver().expect("create the reactor");
    Builder::new()
        .worker_threads(2)
        .driver(park, driver)
        .build()
        .expect("build the runtime")
}

/// A runtime with 2 workers and a reactor in the given trigger mode; also
/// returns the reactor handle.
pub fn runtime_with(trigger: Trigger) -> (Executor, ReactorHandle) {
    let reactor = Reactor::with_trigger(trigger).expect("create the reactor");
    let handle = reactor.handle();
    let rt = Builder::new()
        .worker_threads(2)
        .driver(Box::new(reactor), Arc::new(handle.clone()))
        .build()
        .expect("build the runtime");
    (rt, handle)
}

/// Runs `f`, aborting the process with a message if it has not finished
/// after `secs` seconds (so a hang fails loudly instead of stalling CI).
pub fn with_watchdog<R>(name: &str, secs: u64, f: impl FnOnce() -> R) -> R {
    let (tx, rx) = mpsc::channel::<()>();
    let name = name.to_string();
    let dog = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(Duration::from_secs(secs)) {
            eprintln!("test {name} hung for {secs} s: aborting");
            std::process::abort();
        }
    });
    let out = f();
    drop(tx);
    dog.join().unwrap();
    out
}

/// Open file descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .count()
}
