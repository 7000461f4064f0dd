//! `task::Builder`: spawn with options (a name, for debugging and task
//! dumps, like asyncio's `create_task(coro, name=...)`). Owns only the
//! options; spawning is the scheduler's.

use crate::tasks::{JoinHandle, Meta};
use crate::{Handle, context};
use std::future::Future;
use std::panic::Location;

/// Spawns tasks with options.
///
/// ```
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.block_on(async {
///     let h = filch_executor::task::Builder::new().name("fetch-python-org").spawn(async { 1 });
///     assert_eq!(h.name(), Some("fetch-python-org"));
///     assert_eq!(h.await.unwrap(), 1);
/// });
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// No options set.
    ///
    /// ```
    /// let b = filch_executor::task::Builder::new();
    /// # drop(b);
    /// ```
    pub fn new() -> Builder<'a> {
        Builder { name: None }
    }

    /// Names the task.
    ///
    /// ```
    /// let b = filch_executor::task::Builder::new().name("worker-1");
    /// # drop(b);
    /// ```
    pub fn name(mut self, name: &'a str) -> Builder<'a> {
        self.name = Some(name);
        self
    }

    fn meta(&self) -> Option<Box<Meta>> {
        self.name.map(|n| {
            Box::new(Meta {
                name: Some(n.into()),
            })
        })
    }

    /// Spawns on the current runtime.
    ///
    /// # Panics
    /// Outside a runtime (see [`Handle::current`]).
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let h = rt.block_on(async { filch_executor::task::Builder::new().spawn(async { 7 }) });
    /// assert_eq!(rt.block_on(h).unwrap(), 7);
    /// ```
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let location = Location::caller();
        let handle = context::with_handle(|h| h.cloned())
            .unwrap_or_else(|| panic!("{}", crate::sched::NO_RUNTIME));
        handle.spawn_with_meta(future, location, self.meta())
    }

    /// Spawns on the runtime of `handle`.
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let h = filch_executor::task::Builder::new().name("x").spawn_on(async { 8 }, rt.handle());
    /// assert_eq!(rt.block_on(h).unwrap(), 8);
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        handle.spawn_with_meta(future, Location::caller(), self.meta())
    }
}
