//! The driver seam: how event sources (the timer wheel, the I/O reactor)
//! plug into the workers' park loop without the executor knowing them.
//!
//! A runtime has at most one shared [`Park`] (the blocking part: for the I/O
//! reactor, its epoll wait). The executor keeps it behind a lock that is the
//! "one waiter at a time" rule: a worker with nothing to do try-locks it and,
//! if it gets it, blocks in [`Park::park`]; the others block on their own
//! condition variable. [`Driver::unpark`] wakes whichever worker is in
//! `Park::park`. Each worker may also own a [`WorkerDriver`] (its timer wheel),
//! which says how long the worker may sleep and fires what is due when it
//! wakes. This module only defines the seam; it must not implement a driver.
//!
//! A driver must not let a panic unwind out of [`Park::park`],
//! [`WorkerDriver::process`] or a shutdown: the worker would abort the
//! process (see `sched/worker.rs`). The one piece of user code a driver
//! runs is a task's waker, which is why drivers wake through
//! [`wake_contained`].

use crate::Handle;
use std::any::{Any, TypeId};
use std::time::Duration;

/// The blocking half of a driver: owned by the executor, entered by at most
/// one worker at a time.
pub trait Park: Send + 'static {
    /// Blocks until [`Driver::unpark`] is called, events arrive (dispatch
    /// them by waking tasks before returning), or `timeout` elapses
    /// (`None`: no limit; `Some(ZERO)`: poll without blocking).
    fn park(&mut self, timeout: Option<Duration>);
}

/// The shared half of a driver.
///
/// ```
/// use filch_executor::{Builder, Driver, Park};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// // A driver that has no events: parking sleeps on a condvar-like primitive.
/// struct Sleepy(Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);
/// impl Park for Sleepy {
///     fn park(&mut self, timeout: Option<Duration>) {
///         let (lock, cv) = &*self.0;
///         let mut woken = lock.lock().unwrap();
///         if !*woken {
///             woken = match timeout {
///                 Some(t) => cv.wait_timeout(woken, t).unwrap().0,
///                 None => cv.wait(woken).unwrap(),
///             };
///         }
///         *woken = false;
///     }
/// }
/// struct Waker(Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);
/// impl Driver for Waker {
///     fn unpark(&self) {
///         *self.0.0.lock().unwrap() = true;
///         self.0.1.notify_one();
///     }
/// }
///
/// let shared = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
/// let rt = Builder::new()
///     .worker_threads(2)
///     .driver(Box::new(Sleepy(shared.clone())), Arc::new(Waker(shared)))
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { filch_executor::spawn(async { 1 }).await.unwrap() }), 1);
/// ```
pub trait Driver: Send + Sync + 'static {
    /// Makes the worker blocked in [`Park::park`] return, or the next call
    /// return at once.
    fn unpark(&self);

    /// Creates worker `index`'s own part (its timer wheel). Called on the
    /// worker thread before it runs any task.
    fn start_worker(&self, handle: &Handle, index: usize) -> Option<Box<dyn WorkerDriver>> {
        let _ = (handle, index);
        None
    }

    /// Looks up a component of the driver by type (the timer handle, the
    /// reactor handle), so driver crates can find their state from any thread
    /// inside the runtime's context.
    fn get(&self, type_id: TypeId) -> Option<&(dyn Any + Send + Sync)> {
        let _ = type_id;
        None
    }

    /// The whole runtime just became idle: every worker is parked, no
    /// `block_on` thread is running its future and no blocking-pool closure
    /// is running. Called by the thread whose parking made it so (it has not
    /// blocked yet). A paused clock uses this to jump to the next deadline.
    fn on_idle(&self, handle: &Handle) {
        let _ = handle;
    }

    /// The runtime is shutting down; all workers have stopped.
    fn shutdown(&self) {}
}

/// The part of a driver that belongs to one worker (its timer wheel).
/// It lives on the worker thread and is never shared.
pub trait WorkerDriver: 'static {
    /// How long the worker may sleep at most (its next deadline);
    /// `None` when it has nothing pending.
    fn park_timeout(&mut self) -> Option<Duration>;

    /// Fires whatever is due. Called after every park and periodically while
    /// the worker is busy.
    fn process(&mut self);

    /// The worker is stopping: release everything it holds.
    fn shutdown(&mut self) {}
}

/// Wakes `waker` (by value) from a driver, containing a panic of the
/// waker's `wake`: such a waker is user code (a future that polls another
/// with a waker of its own), its panic has already been reported by the
/// panic hook, and letting it unwind would take the driver's other
/// wake-ups, and the worker, down with it. The waker is dropped either
/// way. Costs nothing when nothing panics.
///
/// ```
/// use std::sync::Arc;
/// use std::task::{Wake, Waker};
/// struct Bad;
/// impl Wake for Bad {
///     fn wake(self: Arc<Self>) {
///         panic!("a broken waker");
///     }
/// }
/// # std::panic::set_hook(Box::new(|_| {}));
/// filch_executor::wake_contained(Waker::from(Arc::new(Bad))); // returns normally
/// # let _ = std::panic::take_hook();
/// ```
pub fn wake_contained(waker: std::task::Waker) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
}

/// Finds driver component `T` of the runtime whose context the current
/// thread is in.
pub(crate) fn lookup<T: Any + Send + Sync>(driver: &dyn Driver) -> Option<&T> {
    driver.get(TypeId::of::<T>())?.downcast_ref::<T>()
}
