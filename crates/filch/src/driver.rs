//! The runtime's composite driver: the timer wheels (per worker) and the
//! blocking wait a worker with nothing to do enters.
//!
//! The executor knows one `Driver`; this type is how the facade gives it
//! every driver crate at once, dispatching lookups by type and forwarding
//! unparks, per-worker start, idleness and shutdown. Must not implement any
//! driver itself beyond the wait used when there is no I/O reactor.

use filch_executor::{Driver, Handle, Park, WorkerDriver};
use filch_timer::TimerHandle;
use std::any::{Any, TypeId};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

pub(crate) struct Drivers {
    pub(crate) timer: TimerHandle,
    signal: Arc<Signal>,
}

#[derive(Default)]
struct Signal {
    woken: Mutex<bool>,
    cv: Condvar,
}

/// The blocking wait of the worker that holds the driver.
struct WaitPark(Arc<Signal>);

impl Park for WaitPark {
    fn park(&mut self, timeout: Option<Duration>) {
        let signal = &*self.0;
        let mut woken = signal.woken.lock().unwrap_or_else(|e| e.into_inner());
        if !*woken {
            woken = match timeout {
                Some(t) => signal
                    .cv
                    .wait_timeout(woken, t)
                    .map(|r| r.0)
                    .unwrap_or_else(|e| e.into_inner().0),
                None => signal.cv.wait(woken).unwrap_or_else(|e| e.into_inner()),
            };
        }
        *woken = false;
    }
}

impl Drivers {
    pub(crate) fn new(workers: usize, start_paused: bool) -> (Box<dyn Park>, Arc<Drivers>) {
        let signal = Arc::new(Signal::default());
        let drivers = Drivers {
            timer: TimerHandle::new(workers, start_paused),
            signal: signal.clone(),
        };
        (Box::new(WaitPark(signal)), Arc::new(drivers))
    }
}

impl Driver for Drivers {
    fn unpark(&self) {
        *self.signal.woken.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.signal.cv.notify_one();
    }

    fn start_worker(&self, handle: &Handle, index: usize) -> Option<Box<dyn WorkerDriver>> {
        Some(self.timer.start_worker(handle, index))
    }

    fn get(&self, type_id: TypeId) -> Option<&(dyn Any + Send + Sync)> {
        if type_id == TypeId::of::<TimerHandle>() {
            return Some(&self.timer);
        }
        None
    }

    fn on_idle(&self, handle: &Handle) {
        self.timer.on_idle(handle);
    }

    fn shutdown(&self) {
        self.timer.shutdown();
    }
}
