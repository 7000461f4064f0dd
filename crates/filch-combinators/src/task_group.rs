//! `TaskGroup`: structured concurrency (asyncio's `TaskGroup`, trio's
//! nursery). Children are spawned tasks; the first failure cancels the
//! others; `join` returns only when every child has finished; dropping the
//! group cancels whatever still runs.
//!
//! Failure is noticed by the child itself: each child runs inside a wrapper
//! that, when its future returns `Err` or panics, records the failure in the
//! group's shared state and cancels every sibling right away — whether or
//! not anyone is awaiting `join` yet. The wrapper also checks the group's
//! `failed` flag before every poll, so a child is never resumed after the
//! failure, even if it was woken before its cancellation took effect or was
//! spawned after the failure. `join` then collects the children
//! through the ready queue (`ready.rs`), polling only the handles of tasks
//! that finished. This module owns those rules; it must not know how tasks
//! are scheduled or cancelled beyond `JoinHandle::cancel`.

use crate::loom::Mutex;
use crate::loom::atomic::AtomicBool;
use crate::loom::atomic::Ordering::{Acquire, Release};
use crate::ready::ReadySet;
use filch_executor::task::Id;
use filch_executor::{JoinError, JoinHandle};
use futures_core::future::FusedFuture;
use pin_project_lite::pin_project;
use std::any::Any;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A group of spawned tasks that succeed or fail together (asyncio's
/// `TaskGroup`, trio's nursery).
///
/// * [`spawn`](Self::spawn) starts a child: a task, running in parallel on
///   the runtime, whose future yields `Result<T, E>`.
/// * [`join`](Self::join) waits for every child and resolves to their `Ok`
///   values in spawn order, or to the group's first failure.
/// * A child *fails* when it returns `Err(e)` or panics. The first failure
///   cancels every other child at once (even before `join` is called), and
///   any child spawned after it is cancelled immediately. `join` still waits
///   until every child has finished before it returns the failure; later
///   failures of siblings are dropped.
/// * Dropping the group, or the `join` future before it completes, cancels
///   every child still running. No child outlives its group: a cancelled
///   child's future is dropped at its next scheduling point (right after
///   its current poll if it is running on another worker at that moment),
///   a child is never resumed once its group has failed, and awaiting
///   `join` guarantees every child has finished.
///
/// Children cannot reach the group (it is not shared); a child that needs a
/// sibling asks its parent, e.g. over a channel, or runs a nested group.
///
/// ```
/// # let rt = filch_timer::test_runtime(2, true);
/// # rt.block_on(async {
/// use filch_combinators::{TaskGroup, TaskGroupError};
/// use std::time::Duration;
///
/// async fn fetch(id: u32, secs: u64) -> Result<String, String> {
///     filch_timer::sleep(Duration::from_secs(secs)).await;
///     if id == 3 { Err(format!("resource {id} is gone")) } else { Ok(format!("resource {id}")) }
/// }
///
/// let mut group = TaskGroup::new();
/// group.spawn(fetch(1, 2));
/// group.spawn(fetch(2, 1));
/// assert_eq!(group.join().await.unwrap(), ["resource 1", "resource 2"]);
///
/// let mut group = TaskGroup::new();
/// group.spawn(fetch(1, 60)); // cancelled when fetch(3, ..) fails at 1 s
/// group.spawn(fetch(3, 1));
/// let start = filch_timer::Instant::now();
/// match group.join().await {
///     Err(TaskGroupError::Failed(e)) => assert_eq!(e, "resource 3 is gone"),
///     other => panic!("{other:?}"),
/// }
/// assert_eq!(start.elapsed(), Duration::from_secs(1));
/// # });
/// ```
pub struct TaskGroup<T, E> {
    shared: Arc<Shared<T, E>>,
    set: ReadySet,
    /// Outputs of the children that succeeded, by spawn index.
    results: Vec<Option<T>>,
    /// The group's first failure, once `join` has collected it.
    error: Option<TaskGroupError<E>>,
    /// Children not yet collected by `join`.
    running: usize,
}

struct Shared<T, E> {
    /// Set (under the lock, with `first_failure`) when the group fails: a
    /// child that sees it is not polled again.
    failed: AtomicBool,
    state: Mutex<State<T, E>>,
}

impl<T, E> Shared<T, E> {
    fn fail(&self, index: usize) {
        self.state.lock().fail(index, &self.failed);
    }
}

struct State<T, E> {
    /// Every child's handle, by spawn index; `None` once collected. A child
    /// resolves to `None` if it stopped because its group had failed.
    handles: Vec<Option<ChildHandle<T, E>>>,
    /// The child that failed first.
    first_failure: Option<usize>,
}

impl<T, E> State<T, E> {
    /// Records that child `index` failed; the first failure cancels every
    /// other child. Returns the index of the group's first failure.
    fn fail(&mut self, index: usize, failed: &AtomicBool) -> usize {
        if let Some(first) = self.first_failure {
            return first;
        }
        self.first_failure = Some(index);
        failed.store(true, Release);
        for (i, handle) in self.handles.iter().enumerate() {
            if let Some(handle) = handle
                && i != index
            {
                handle.cancel();
            }
        }
        index
    }
}

type ChildHandle<T, E> = JoinHandle<Option<Result<T, E>>>;

pin_project! {
    /// A child's future, watched for failure.
    struct Child<F, T, E> {
        #[pin]
        future: F,
        shared: Arc<Shared<T, E>>,
        index: usize,
    }
}

impl<F, T, E> Future for Child<F, T, E>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Option<Result<T, E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T, E>>> {
        let this = self.project();
        // Once the group has failed a child is not resumed, even if it runs
        // before its cancellation does (or was spawned after the failure).
        if this.shared.failed.load(Acquire) {
            return Poll::Ready(None);
        }
        let future = this.future;
        // The future is never polled again after a panic (the task ends),
        // so observing it in a broken state is impossible.
        match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(Err(error))) => {
                this.shared.fail(*this.index);
                Poll::Ready(Some(Err(error)))
            }
            Ok(Poll::Ready(Ok(value))) => Poll::Ready(Some(Ok(value))),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                this.shared.fail(*this.index);
                panic::resume_unwind(payload)
            }
        }
    }
}

impl<T, E> TaskGroup<T, E> {
    /// An empty group.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// let group = filch_combinators::TaskGroup::<(), ()>::new();
    /// assert_eq!(group.join().await.unwrap(), Vec::<()>::new());
    /// # });
    /// ```
    pub fn new() -> TaskGroup<T, E> {
        TaskGroup {
            shared: Arc::new(Shared {
                failed: AtomicBool::new(false),
                state: Mutex::new(State {
                    handles: Vec::new(),
                    first_failure: None,
                }),
            }),
            set: ReadySet::with_capacity(0),
            results: Vec::new(),
            error: None,
            running: 0,
        }
    }

    /// Number of children spawned so far.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// let mut group = filch_combinators::TaskGroup::<u8, ()>::new();
    /// group.spawn(async { Ok(1) });
    /// assert_eq!(group.len(), 1);
    /// # });
    /// ```
    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// True if no child was spawned.
    ///
    /// ```
    /// assert!(filch_combinators::TaskGroup::<(), ()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    /// True once a child has failed (returned `Err`, panicked, or was
    /// cancelled from outside the group): the other children have been
    /// cancelled, and `join` will return the failure.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// let mut group = filch_combinators::TaskGroup::<(), &str>::new();
    /// group.spawn(async { Err("no") });
    /// while !group.has_failed() {
    ///     filch_executor::yield_now().await;
    /// }
    /// assert!(group.join().await.is_err());
    /// # });
    /// ```
    pub fn has_failed(&self) -> bool {
        self.shared.state.lock().first_failure.is_some()
    }
}

impl<T, E> TaskGroup<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    /// Spawns `future` as a child task of the group (asyncio's
    /// `tg.create_task`) and returns the task's id.
    ///
    /// If the group has already failed, the child is cancelled at once and
    /// its future never runs.
    ///
    /// # Panics
    /// Outside a filch runtime.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(2, true);
    /// # rt.block_on(async {
    /// let mut group = filch_combinators::TaskGroup::new();
    /// for i in 0..3u32 {
    ///     group.spawn(async move { Ok::<_, std::io::Error>(i * i) });
    /// }
    /// assert_eq!(group.join().await.unwrap(), [0, 1, 4]);
    /// # });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> Id
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let index = self.results.len();
        let handle = filch_executor::spawn(Child {
            future,
            shared: self.shared.clone(),
            index,
        });
        let id = handle.id();
        {
            let mut state = self.shared.state.lock();
            if state.first_failure.is_some() {
                handle.cancel();
            }
            state.handles.push(Some(handle));
        }
        let pushed = self.set.push();
        debug_assert_eq!(pushed, index);
        self.results.push(None);
        self.running += 1;
        id
    }

    /// Waits for every child; resolves to their values in spawn order, or
    /// to the group's first failure once every child has finished.
    ///
    /// Cancel-safety: not cancel-safe, by design: dropping the
    /// `TaskGroupJoin` before it completes cancels every child still running
    /// (and loses the results).
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(2, true);
    /// # rt.block_on(async {
    /// let mut group = filch_combinators::TaskGroup::new();
    /// group.spawn(async { Ok::<_, String>("a") });
    /// group.spawn(async { Ok("b") });
    /// assert_eq!(group.join().await.unwrap(), ["a", "b"]);
    /// # });
    /// ```
    pub fn join(self) -> TaskGroupJoin<T, E> {
        TaskGroupJoin { group: Some(self) }
    }

    fn poll_join(&mut self, cx: &mut Context<'_>) -> Poll<Result<Vec<T>, TaskGroupError<E>>> {
        if self.running > 0 {
            let shared = &*self.shared;
            let mut state = shared.state.lock();
            let state = &mut *state;
            let results = &mut self.results;
            let error = &mut self.error;
            let running = &mut self.running;
            let _ = self.set.poll_round(cx, |i, cx| {
                let Some(handle) = state.handles[i].as_mut() else {
                    return ControlFlow::<()>::Continue(());
                };
                let Poll::Ready(outcome) = Pin::new(handle).poll(cx) else {
                    return ControlFlow::Continue(());
                };
                state.handles[i] = None;
                *running -= 1;
                let failure = match outcome {
                    Ok(Some(Ok(value))) => {
                        results[i] = Some(value);
                        None
                    }
                    // Stopped because the group had failed.
                    Ok(None) => None,
                    Ok(Some(Err(e))) => Some(TaskGroupError::Failed(e)),
                    Err(e) if e.is_panic() => Some(TaskGroupError::Panic(e)),
                    Err(e) => Some(TaskGroupError::Cancelled(e)),
                };
                // A failure that is not the group's first (a sibling failing
                // on its own before its cancellation took effect, or being
                // cancelled by the group) is dropped.
                if let Some(failure) = failure
                    && state.fail(i, &shared.failed) == i
                {
                    *error = Some(failure);
                }
                ControlFlow::Continue(())
            });
            if self.running > 0 {
                return Poll::Pending;
            }
        }
        match self.error.take() {
            Some(error) => Poll::Ready(Err(error)),
            None => Poll::Ready(Ok(std::mem::take(&mut self.results)
                .into_iter()
                .map(|r| r.expect("every child succeeded"))
                .collect())),
        }
    }
}

impl<T, E> Default for TaskGroup<T, E> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl<T, E> Drop for TaskGroup<T, E> {
    fn drop(&mut self) {
        if self.running > 0 {
            for handle in self.shared.state.lock().handles.iter().flatten() {
                handle.cancel();
            }
        }
    }
}

impl<T, E> fmt::Debug for TaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("children", &self.results.len())
            .field("running", &self.running)
            .field("failed", &self.has_failed())
            .finish()
    }
}

/// The future of [`TaskGroup::join`]. Dropping it before it completes
/// cancels every child still running.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// let mut group = filch_combinators::TaskGroup::<u8, ()>::new();
/// group.spawn(async { Ok(1) });
/// let join: filch_combinators::TaskGroupJoin<u8, ()> = group.join();
/// assert_eq!(join.await.unwrap(), [1]);
/// # });
/// ```
#[must_use = "futures do nothing unless awaited; dropping this cancels the group's children"]
pub struct TaskGroupJoin<T, E> {
    group: Option<TaskGroup<T, E>>,
}

// Nothing in a group is pinned: children run in their own tasks.
impl<T, E> Unpin for TaskGroupJoin<T, E> {}

impl<T, E> Future for TaskGroupJoin<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    type Output = Result<Vec<T>, TaskGroupError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let group = this
            .group
            .as_mut()
            .expect("TaskGroupJoin polled after completion");
        let out = std::task::ready!(group.poll_join(cx));
        this.group = None;
        Poll::Ready(out)
    }
}

impl<T, E> FusedFuture for TaskGroupJoin<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    fn is_terminated(&self) -> bool {
        self.group.is_none()
    }
}

impl<T, E> fmt::Debug for TaskGroupJoin<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupJoin")
            .field("group", &self.group)
            .finish()
    }
}

/// Why a [`TaskGroup`] failed: its first failing child's error or panic.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// use filch_combinators::{TaskGroup, TaskGroupError};
/// let mut group = TaskGroup::<(), std::io::Error>::new();
/// group.spawn(async { panic!("boom") });
/// let err = group.join().await.unwrap_err();
/// assert!(err.is_panic());
/// assert!(err.to_string().contains("boom"), "{err}");
/// let payload = err.into_panic(); // for std::panic::resume_unwind
/// assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
/// # });
/// ```
#[derive(Debug)]
pub enum TaskGroupError<E> {
    /// A child returned `Err(e)`.
    Failed(E),
    /// A child panicked; the error carries the payload
    /// ([`JoinError::into_panic`]).
    Panic(JoinError),
    /// A child was cancelled from outside the group (the runtime shutting
    /// down): its value is missing, so the group cannot succeed.
    Cancelled(JoinError),
}

impl<E> TaskGroupError<E> {
    /// True if a child returned `Err`.
    ///
    /// ```
    /// let e = filch_combinators::TaskGroupError::Failed("x");
    /// assert!(e.is_failed() && !e.is_panic() && !e.is_cancelled());
    /// ```
    pub fn is_failed(&self) -> bool {
        matches!(self, TaskGroupError::Failed(_))
    }

    /// True if a child panicked.
    ///
    /// ```
    /// assert!(!filch_combinators::TaskGroupError::Failed(()).is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self, TaskGroupError::Panic(_))
    }

    /// True if a child was cancelled from outside the group.
    ///
    /// ```
    /// assert!(!filch_combinators::TaskGroupError::Failed(()).is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, TaskGroupError::Cancelled(_))
    }

    /// The child's `Err` value, if that is how the group failed.
    ///
    /// ```
    /// let e = filch_combinators::TaskGroupError::Failed(7);
    /// assert_eq!(e.into_failed(), Some(7));
    /// ```
    pub fn into_failed(self) -> Option<E> {
        match self {
            TaskGroupError::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// The panic payload, to resume the child's panic with
    /// `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the group did not fail by a panic (check with
    /// [`is_panic`](Self::is_panic)).
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// let mut group = filch_combinators::TaskGroup::<(), ()>::new();
    /// group.spawn(async { panic!("child died") });
    /// let payload = group.join().await.unwrap_err().into_panic();
    /// assert_eq!(payload.downcast_ref::<&str>(), Some(&"child died"));
    /// # });
    /// ```
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self {
            TaskGroupError::Panic(e) => e.into_panic(),
            _ => panic!("TaskGroupError::into_panic called on an error that is not a panic"),
        }
    }
}

impl<E: fmt::Display> fmt::Display for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskGroupError::Failed(e) => write!(f, "a task in the group failed: {e}"),
            TaskGroupError::Panic(e) | TaskGroupError::Cancelled(e) => {
                write!(f, "a task in the group failed: {e}")
            }
        }
    }
}

impl<E: Error + 'static> Error for TaskGroupError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            TaskGroupError::Failed(e) => Some(e),
            TaskGroupError::Panic(e) | TaskGroupError::Cancelled(e) => Some(e),
        }
    }
}
