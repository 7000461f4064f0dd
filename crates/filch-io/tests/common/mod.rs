//! Shared test helpers: a 2-worker runtime with the I/O driver (alone, or
//! composed with filch-timer's driver the way the facade composes them),
//! and a watchdog that fails a test that hangs (a guard, not a timing
//! assert).

#![allow(dead_code)]

use filch_executor::{Builder, Driver, Executor, Handle, WorkerDriver};
use filch_io::{Reactor, ReactorHandle, Trigger};
use filch_timer::TimerHandle;
use std::any::{Any, TypeId};
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

/// The reactor and the timer wheels as one driver: the worker holding the
/// driver blocks in the reactor with the next timer deadline as timeout.
struct IoAndTimers {
    reactor: ReactorHandle,
    timer: TimerHandle,
}

impl Driver for IoAndTimers {
    fn unpark(&self) {
        self.reactor.unpark();
    }

    fn start_worker(&self, handle: &Handle, index: usize) -> Option<Box<dyn WorkerDriver>> {
        Some(self.timer.start_worker(handle, index))
    }

    fn get(&self, type_id: TypeId) -> Option<&(dyn Any + Send + Sync)> {
        if type_id == TypeId::of::<ReactorHandle>() {
            Some(&self.reactor)
        } else if type_id == TypeId::of::<TimerHandle>() {
            Some(&self.timer)
        } else {
            None
        }
    }

    fn on_idle(&self, handle: &Handle) {
        self.timer.on_idle(handle);
    }

    fn shutdown(&self) {
        self.timer.shutdown();
        self.reactor.shutdown();
    }
}

/// A runtime with 2 workers, the reactor and timers.
pub fn runtime_with_timers() -> Executor {
    let reactor = Reactor::new().expect("create the reactor");
    let drivers = IoAndTimers {
        reactor: reactor.handle(),
        timer: TimerHandle::new(2, false),
    };
    Builder::new()
        .worker_threads(2)
        .driver(Box::new(reactor), Arc::new(drivers))
        .build()
        .expect("build the runtime")
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
