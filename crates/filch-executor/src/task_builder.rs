//! `task::Builder`: spawn with options (a name, for debugging and task
//! dumps, like asyncio's `create_task(coro, name=...)`), and the current
//! task (asyncio's `current_task()`). Owns only the options; spawning is the
//! scheduler's.

use crate::tasks::{Id, JoinHandle, Meta, TaskInfo};
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
                name: Some(std::sync::Arc::from(n)),
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

    /// Runs a blocking closure on the current runtime's blocking pool, named
    /// (see [`spawn_blocking`](crate::spawn_blocking)).
    ///
    /// # Panics
    /// Outside a runtime (see [`Handle::current`]).
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let name = rt.block_on(async {
    ///     filch_executor::task::Builder::new()
    ///         .name("checksum")
    ///         .spawn_blocking(|| filch_executor::task::current().unwrap().name().map(String::from))
    ///         .await
    ///         .unwrap()
    /// });
    /// assert_eq!(name.as_deref(), Some("checksum"));
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let location = Location::caller();
        let handle = context::with_handle(|h| h.cloned())
            .unwrap_or_else(|| panic!("{}", crate::sched::NO_RUNTIME));
        handle
            .shared
            .blocking
            .spawn(f, &handle, location, self.meta())
    }

    /// Spawns a `!Send` task pinned to this thread, named (see
    /// [`spawn_local`](crate::spawn_local)).
    ///
    /// # Panics
    /// On a thread that runs no tasks (see [`spawn_local`](crate::spawn_local)).
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(async {
    ///     let h = filch_executor::task::Builder::new()
    ///         .name("session")
    ///         .spawn_local(async { std::rc::Rc::new(5) });
    ///     assert_eq!(h.name(), Some("session"));
    ///     let rc = h.await; // the output is not Send: await it here
    ///     assert_eq!(*rc.unwrap(), 5);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        crate::local::spawn_local(future, Location::caller(), self.meta())
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

/// A snapshot of the task being polled on this thread (asyncio's
/// `current_task()`), or `None` outside a task (in a `block_on` future,
/// which is not a task, or on a thread that is not polling one).
///
/// ```
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.block_on(async {
///     assert!(filch_executor::task::current().is_none());
///     let h = filch_executor::task::Builder::new()
///         .name("worker")
///         .spawn(async { filch_executor::task::current().unwrap() });
///     let id = h.id();
///     let info = h.await.unwrap();
///     assert_eq!((info.id(), info.name()), (id, Some("worker")));
/// });
/// ```
pub fn current() -> Option<TaskInfo> {
    crate::tasks::current::info()
}

/// The id of the task being polled on this thread, or `None` outside a
/// task; cheaper than [`current`].
///
/// ```
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.block_on(async {
///     assert_eq!(filch_executor::task::id(), None);
///     let h = filch_executor::spawn(async { filch_executor::task::id() });
///     let id = h.id();
///     assert_eq!(h.await.unwrap(), Some(id));
/// });
/// ```
pub fn id() -> Option<Id> {
    crate::tasks::current::id()
}
