//! `JoinError`: why awaiting a task gave no value (it was cancelled, or it
//! panicked). Owns only the error value; it must not know how tasks run.

use super::Id;
use std::any::Any;
use std::fmt;

/// The task behind a [`JoinHandle`](crate::JoinHandle) did not produce a value.
///
/// Either it was cancelled ([`JoinHandle::cancel`](crate::JoinHandle::cancel),
/// or the runtime shut down), or it panicked. A panic never kills the worker
/// thread: it is caught at the poll and carried here.
///
/// ```
/// # let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
/// # rt.block_on(async {
/// let handle = filch_executor::spawn(async { panic!("boom") });
/// let err = handle.await.unwrap_err();
/// assert!(err.is_panic());
/// assert!(err.to_string().contains("boom"));
/// # });
/// ```
pub struct JoinError {
    repr: Repr,
    id: Id,
}

enum Repr {
    Cancelled,
    Panic(SyncWrapper<Box<dyn Any + Send + 'static>>),
}

/// Lets a `Send` panic payload live inside a `Sync` error: nothing can reach
/// the payload through a shared reference.
struct SyncWrapper<T>(T);

// SAFETY: `SyncWrapper` offers no `&self` access to its content (only
// `into_inner(self)`), so sharing `&SyncWrapper<T>` across threads shares
// nothing of `T`; `Sync` therefore holds for any `T`.
unsafe impl<T> Sync for SyncWrapper<T> {}

impl<T> SyncWrapper<T> {
    fn into_inner(self) -> T {
        self.0
    }
}

impl JoinError {
    pub(crate) fn cancelled(id: Id) -> JoinError {
        JoinError {
            repr: Repr::Cancelled,
            id,
        }
    }

    pub(crate) fn panic(id: Id, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            repr: Repr::Panic(SyncWrapper(payload)),
            id,
        }
    }

    /// True if the task was cancelled (asyncio's `CancelledError`).
    ///
    /// ```
    /// # let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// # rt.block_on(async {
    /// let handle = filch_executor::spawn(std::future::pending::<()>());
    /// handle.cancel();
    /// assert!(handle.await.unwrap_err().is_cancelled());
    /// # });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// True if the task panicked.
    ///
    /// ```
    /// # let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// # rt.block_on(async {
    /// let err = filch_executor::spawn(async { panic!("x") }).await.unwrap_err();
    /// assert!(err.is_panic() && !err.is_cancelled());
    /// # });
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload, to resume the panic with `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the error is not a panic (check with [`is_panic`](Self::is_panic)
    /// or use [`try_into_panic`](Self::try_into_panic)).
    ///
    /// ```
    /// # let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// # rt.block_on(async {
    /// let err = filch_executor::spawn(async { panic!("oops") }).await.unwrap_err();
    /// let payload = err.into_panic();
    /// assert_eq!(payload.downcast_ref::<&str>(), Some(&"oops"));
    /// # });
    /// ```
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("JoinError::into_panic called on an error that is not a panic")
    }

    /// The panic payload, or the error back if it is not a panic.
    ///
    /// ```
    /// # let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// # rt.block_on(async {
    /// let handle = filch_executor::spawn(std::future::pending::<()>());
    /// handle.cancel();
    /// let err = handle.await.unwrap_err();
    /// assert!(err.try_into_panic().is_err());
    /// # });
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(p) => Ok(p.into_inner()),
            Repr::Cancelled => Err(self),
        }
    }

    /// The id of the task that failed.
    ///
    /// ```
    /// # let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// # rt.block_on(async {
    /// let handle = filch_executor::spawn(async { panic!() });
    /// let id = handle.id();
    /// assert_eq!(handle.await.unwrap_err().id(), id);
    /// # });
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }
}

/// The message of a panic payload, if it is a string (what `panic!` gives).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.id),
            Repr::Panic(p) => match panic_message(&*p.0) {
                Some(msg) => write!(f, "task {} panicked with message {:?}", self.id, msg),
                None => write!(f, "task {} panicked", self.id),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({:?})", self.id),
            Repr::Panic(p) => match panic_message(&*p.0) {
                Some(msg) => write!(f, "JoinError::Panic({:?}, {:?}, ..)", self.id, msg),
                None => write!(f, "JoinError::Panic({:?}, ..)", self.id),
            },
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(err.to_string())
    }
}
