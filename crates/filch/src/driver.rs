//! The runtime's composite driver: the I/O reactor (whose epoll wait is
//! the blocking wait of the worker that holds the driver) and the timer
//! wheels (one per worker).
//!
//! The executor knows one `Driver`; this type is how the facade gives it
//! every driver crate at once: lookups are dispatched by type, unparks go to
//! the reactor, per-worker start, idleness and shutdown to the timers (then
//! the reactor). Must not implement any driver itself.

use filch_executor::{Driver, Handle, Park, WorkerDriver};
use filch_io::{Reactor, ReactorHandle};
use filch_timer::TimerHandle;
use std::any::{Any, TypeId};
use std::io;
use std::sync::Arc;

pub(crate) struct Drivers {
    timer: TimerHandle,
    reactor: ReactorHandle,
}

impl Drivers {
    pub(crate) fn new(
        workers: usize,
        start_paused: bool,
    ) -> io::Result<(Box<dyn Park>, Arc<Drivers>)> {
        let reactor = Reactor::new()?;
        let drivers = Drivers {
            timer: TimerHandle::new(workers, start_paused),
            reactor: reactor.handle(),
        };
        Ok((Box::new(reactor), Arc::new(drivers)))
    }
}

impl Driver for Drivers {
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
