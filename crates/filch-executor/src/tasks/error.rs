//! `JoinError`: why awaiting a task gave no value (it was cancelled, or it
//! panicked). Owns only the error value; it must not know how tasks run.

use super::Id;
use crate::diag::Reporter;
use std::any::Any;
use std::fmt;
use std::sync::Arc;

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
    /// Boxed: panics are rare, and this keeps `JoinError` (and so every
    /// task's output slot) at two words.
    Panic(Box<Panicked>),
}

struct Panicked {
    payload: Box<dyn Any + Send + 'static>,
    /// Set while nobody has observed the panic: whoever drops the error
    /// unobserved reports it here (asyncio's "Task exception was never
    /// retrieved"). Cleared when a `JoinHandle` hands the error out.
    watch: Option<Arc<Reporter>>,
}

// SAFETY: the only access to a `Panicked` through `&self` is `message`,
// which calls `type_id` through the payload's vtable (that reads no data of
// the payload) and reads the payload only when it is a `&'static str` or a
// `String`, both `Sync`; `watch` is an `Arc` of a `Sync` type. Everything
// else takes `&mut self` or `self`. So sharing `&Panicked` between threads
// is sound although the payload itself need not be `Sync`.
unsafe impl Sync for Panicked {}

impl Panicked {
    fn message(&self) -> Option<&str> {
        panic_message(&*self.payload)
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
            repr: Repr::Panic(Box::new(Panicked {
                payload,
                watch: None,
            })),
            id,
        }
    }

    /// Marks a panic as not yet observed: dropping it through
    /// [`take_unobserved`](Self::take_unobserved) reports it to `reporter`.
    pub(crate) fn watch(&mut self, reporter: Arc<Reporter>) {
        if let Repr::Panic(p) = &mut self.repr {
            p.watch = Some(reporter);
        }
    }

    /// The error is handed to user code: nothing to report any more.
    pub(crate) fn observe(&mut self) {
        if let Repr::Panic(p) = &mut self.repr {
            p.watch = None;
        }
    }

    /// For an unobserved, watched panic: its reporter and message.
    pub(crate) fn take_unobserved(&mut self) -> Option<(Arc<Reporter>, String)> {
        let Repr::Panic(p) = &mut self.repr else {
            return None;
        };
        let reporter = p.watch.take()?;
        let message = p
            .message()
            .unwrap_or("(a panic payload that is not a string)")
            .to_string();
        Some((reporter, message))
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
            Repr::Panic(p) => Ok(p.payload),
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
            Repr::Panic(p) => match p.message() {
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
            Repr::Panic(p) => match p.message() {
                Some(msg) => write!(f, "JoinError::Panic({:?}, {:?}, ..)", self.id, msg),
                None => write!(f, "JoinError::Panic({:?}, ..)", self.id),
            },
        }
    }
}

impl std::error::Error for JoinError {}

#[cfg(not(loom))]
const _: () = assert!(
    std::mem::size_of::<JoinError>() == 16,
    "a JoinError is two words: every task's output slot holds one"
);

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(err.to_string())
    }
}
