//! `retry`: run a fallible async operation again after failures, with
//! exponential backoff, jitter, an attempt limit and an overall deadline.
//!
//! Owns the policy (its builder, its validation, the delay schedule) and the
//! retry loop. Time comes from `filch-timer`, so a test with the clock paused
//! sees the exact schedule in no real time. Must not spawn tasks.

use crate::rng::XorShift64Star;
use filch_timer::{Instant, sleep};
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::time::Duration;

/// How a delay is randomized, so that many clients failing at once do not
/// retry in lockstep. Applied to the delay after `max_delay` capped it.
///
/// ```
/// use filch_combinators::{Jitter, RetryPolicy};
/// use std::time::Duration;
/// let policy = RetryPolicy::exponential(Duration::from_millis(100)).jitter(Jitter::Full);
/// # drop(policy);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Jitter {
    /// The exact exponential schedule (the default).
    None,
    /// Uniform in `[0, delay]` ("full jitter": the best spread).
    Full,
    /// Uniform in `[delay / 2, delay]` ("equal jitter": never much shorter).
    Equal,
    /// Uniform in `[delay * (1 - r), delay * (1 + r)]` for `r` in `[0, 1]`,
    /// never above `max_delay`.
    Ratio(f64),
}

/// Decides whether an error is worth another attempt; see
/// [`RetryPolicy::retry_if`]. Implemented by closures `Fn(&E) -> bool` and
/// by [`RetryAll`].
pub trait ShouldRetry<E> {
    /// True to retry after `error`.
    fn should_retry(&self, error: &E) -> bool;
}

/// Retries after every error (the default predicate of a [`RetryPolicy`]).
///
/// ```
/// use filch_combinators::{RetryAll, ShouldRetry};
/// assert!(ShouldRetry::<std::io::Error>::should_retry(&RetryAll, &std::io::ErrorKind::Other.into()));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RetryAll;

impl<E> ShouldRetry<E> for RetryAll {
    fn should_retry(&self, _: &E) -> bool {
        true
    }
}

impl<E, F: Fn(&E) -> bool> ShouldRetry<E> for F {
    fn should_retry(&self, error: &E) -> bool {
        self(error)
    }
}

/// When and how often [`retry`] tries again.
///
/// Built from [`exponential`](Self::exponential) or [`fixed`](Self::fixed)
/// and adjusted with builder methods. The delay before attempt `k + 1` (for
/// `k` = 1, 2, ...) is `initial * factor^(k - 1)`, capped at `max_delay`,
/// then jittered. Defaults: factor 2, at most 3 attempts, no cap, no jitter,
/// no deadline, every error retried.
///
/// Values that make no sense (a factor below 1, zero attempts, a jitter
/// ratio outside `[0, 1]`) are programming errors: the builder method
/// panics, naming the value, at the line that set it.
///
/// ```
/// use filch_combinators::{Jitter, RetryPolicy};
/// use std::time::Duration;
///
/// let policy = RetryPolicy::exponential(Duration::from_millis(100))
///     .factor(3.0)
///     .max_attempts(5)
///     .max_delay(Duration::from_secs(1))
///     .jitter(Jitter::None)
///     .deadline(Duration::from_secs(10))
///     .retry_if(|e: &std::io::Error| e.kind() != std::io::ErrorKind::NotFound);
/// let delays: Vec<Duration> = policy.delays().collect();
/// assert_eq!(delays, [100, 300, 900, 1000].map(Duration::from_millis));
/// ```
#[derive(Clone)]
pub struct RetryPolicy<P = RetryAll> {
    initial: Duration,
    factor: f64,
    max_delay: Option<Duration>,
    /// `None`: unlimited.
    max_attempts: Option<u32>,
    jitter: Jitter,
    deadline: Option<Duration>,
    seed: Option<u64>,
    retry_if: P,
}

impl RetryPolicy {
    /// Exponential backoff starting at `initial` (factor 2, 3 attempts).
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = filch_combinators::RetryPolicy::exponential(Duration::from_secs(1));
    /// assert_eq!(p.delays().collect::<Vec<_>>(), [Duration::from_secs(1), Duration::from_secs(2)]);
    /// ```
    pub fn exponential(initial: Duration) -> RetryPolicy {
        RetryPolicy {
            initial,
            factor: 2.0,
            max_delay: None,
            max_attempts: Some(3),
            jitter: Jitter::None,
            deadline: None,
            seed: None,
            retry_if: RetryAll,
        }
    }

    /// The same `delay` between all attempts (factor 1, 3 attempts).
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = filch_combinators::RetryPolicy::fixed(Duration::from_millis(50)).max_attempts(4);
    /// assert_eq!(p.delays().collect::<Vec<_>>(), [Duration::from_millis(50); 3]);
    /// ```
    pub fn fixed(delay: Duration) -> RetryPolicy {
        RetryPolicy::exponential(delay).factor(1.0)
    }
}

impl<P> RetryPolicy<P> {
    /// Multiplies the delay by `factor` after each retry.
    ///
    /// # Panics
    /// If `factor` is not a finite number of at least 1.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = filch_combinators::RetryPolicy::exponential(Duration::from_secs(1)).factor(1.5);
    /// assert_eq!(p.delays().nth(1), Some(Duration::from_millis(1500)));
    /// ```
    #[track_caller]
    pub fn factor(mut self, factor: f64) -> Self {
        assert!(
            factor.is_finite() && factor >= 1.0,
            "RetryPolicy::factor: the factor must be a finite number >= 1, got {factor}"
        );
        self.factor = factor;
        self
    }

    /// At most `attempts` attempts in all (the first one included).
    ///
    /// # Panics
    /// If `attempts` is 0: the operation would never run.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = filch_combinators::RetryPolicy::exponential(Duration::from_secs(1)).max_attempts(1);
    /// assert_eq!(p.delays().count(), 0); // no retry
    /// ```
    #[track_caller]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        assert!(
            attempts > 0,
            "RetryPolicy::max_attempts: at least 1 attempt is needed, got 0"
        );
        self.max_attempts = Some(attempts);
        self
    }

    /// No limit on the number of attempts: retry until success, a
    /// non-retryable error, or the [`deadline`](Self::deadline).
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = filch_combinators::RetryPolicy::fixed(Duration::from_secs(1))
    ///     .unlimited_attempts()
    ///     .deadline(Duration::from_secs(30));
    /// assert_eq!(p.delays().take(100).count(), 100);
    /// ```
    pub fn unlimited_attempts(mut self) -> Self {
        self.max_attempts = None;
        self
    }

    /// No delay longer than `max_delay` (jitter included).
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = filch_combinators::RetryPolicy::exponential(Duration::from_secs(1))
    ///     .max_attempts(5)
    ///     .max_delay(Duration::from_secs(3));
    /// assert_eq!(p.delays().collect::<Vec<_>>(), [1, 2, 3, 3].map(Duration::from_secs));
    /// ```
    pub fn max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = Some(max_delay);
        self
    }

    /// Randomizes the delays (default [`Jitter::None`]).
    ///
    /// # Panics
    /// For a [`Jitter::Ratio`] outside `[0, 1]`.
    ///
    /// ```
    /// use filch_combinators::{Jitter, RetryPolicy};
    /// use std::time::Duration;
    /// let p = RetryPolicy::exponential(Duration::from_secs(1)).jitter(Jitter::Equal);
    /// let first = p.delays().next().unwrap();
    /// assert!(first >= Duration::from_millis(500) && first <= Duration::from_secs(1));
    /// ```
    #[track_caller]
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        if let Jitter::Ratio(r) = jitter {
            assert!(
                (0.0..=1.0).contains(&r),
                "RetryPolicy::jitter: Jitter::Ratio must be within [0, 1], got {r}"
            );
        }
        self.jitter = jitter;
        self
    }

    /// Gives up rather than start an attempt later than `deadline` after
    /// the first one started: when the next delay would end past it, `retry`
    /// returns the last error at once instead of sleeping in vain.
    ///
    /// An attempt that is running is never interrupted, so `retry` may
    /// return up to one attempt's duration after the deadline; for a hard
    /// bound, wrap the whole `retry` in `filch::time::timeout` (and each
    /// attempt too, to bound attempts).
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = filch_combinators::RetryPolicy::fixed(Duration::from_secs(1))
    ///     .unlimited_attempts()
    ///     .deadline(Duration::from_secs(30));
    /// # drop(p);
    /// ```
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Makes the jitter reproducible: the same seed gives the same delays.
    /// Without a seed each `retry` (and each [`delays`](Self::delays)) draws
    /// a fresh one. For tests.
    ///
    /// ```
    /// use filch_combinators::{Jitter, RetryPolicy};
    /// use std::time::Duration;
    /// let p = RetryPolicy::exponential(Duration::from_secs(1)).jitter(Jitter::Full).jitter_seed(42);
    /// assert_eq!(p.delays().collect::<Vec<_>>(), p.delays().collect::<Vec<_>>());
    /// ```
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Retries only after errors for which `predicate` returns true; any
    /// other error is returned at once.
    ///
    /// ```
    /// use std::io::{Error, ErrorKind};
    /// use std::time::Duration;
    /// let p = filch_combinators::RetryPolicy::exponential(Duration::from_secs(1))
    ///     .retry_if(|e: &Error| e.kind() == ErrorKind::TimedOut);
    /// # drop(p);
    /// ```
    pub fn retry_if<Q>(self, predicate: Q) -> RetryPolicy<Q> {
        RetryPolicy {
            initial: self.initial,
            factor: self.factor,
            max_delay: self.max_delay,
            max_attempts: self.max_attempts,
            jitter: self.jitter,
            deadline: self.deadline,
            seed: self.seed,
            retry_if: predicate,
        }
    }

    /// The delays `retry` sleeps between attempts under this policy: one
    /// fewer than `max_attempts` (endless with unlimited attempts). With a
    /// [`jitter_seed`](Self::jitter_seed), exactly the delays `retry` will
    /// use; without one, a fresh random draw.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = filch_combinators::RetryPolicy::exponential(Duration::from_millis(10)).max_attempts(4);
    /// assert_eq!(p.delays().collect::<Vec<_>>(), [10, 20, 40].map(Duration::from_millis));
    /// ```
    pub fn delays(&self) -> RetryDelays {
        RetryDelays {
            base: self.initial.as_nanos() as f64,
            factor: self.factor,
            cap: self.max_delay.map(|d| d.as_nanos() as f64),
            jitter: self.jitter,
            rng: match self.seed {
                Some(seed) => XorShift64Star::new(seed),
                None => XorShift64Star::from_entropy(),
            },
            remaining: self.max_attempts.map(|n| n - 1),
        }
    }
}

impl<P> fmt::Debug for RetryPolicy<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("initial", &self.initial)
            .field("factor", &self.factor)
            .field("max_delay", &self.max_delay)
            .field("max_attempts", &self.max_attempts)
            .field("jitter", &self.jitter)
            .field("deadline", &self.deadline)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

/// The delays of a [`RetryPolicy`]; see [`RetryPolicy::delays`].
///
/// ```
/// use std::time::Duration;
/// let mut d = filch_combinators::RetryPolicy::exponential(Duration::from_secs(1)).delays();
/// assert_eq!(d.next(), Some(Duration::from_secs(1)));
/// ```
#[derive(Debug, Clone)]
pub struct RetryDelays {
    /// The next delay before cap and jitter, in nanoseconds.
    base: f64,
    factor: f64,
    cap: Option<f64>,
    jitter: Jitter,
    rng: XorShift64Star,
    remaining: Option<u32>,
}

impl Iterator for RetryDelays {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if let Some(remaining) = &mut self.remaining {
            *remaining = remaining.checked_sub(1)?;
        }
        let cap = self.cap.unwrap_or(f64::INFINITY);
        let delay = self.base.min(cap);
        if self.base < cap {
            self.base *= self.factor;
        }
        let jittered = match self.jitter {
            Jitter::None => delay,
            Jitter::Full => delay * self.rng.next_f64(),
            Jitter::Equal => delay / 2.0 * (1.0 + self.rng.next_f64()),
            Jitter::Ratio(r) => (delay * (1.0 - r + 2.0 * r * self.rng.next_f64())).min(cap),
        };
        // Whole nanoseconds, rounded: 0.1 s * 3 is 300 ms, not 299.999999 ms.
        // (`as` saturates: a delay beyond u64 nanoseconds, 584 years, is
        // that.)
        Some(Duration::from_nanos(jittered.round() as u64))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.remaining {
            Some(n) => (n as usize, Some(n as usize)),
            None => (usize::MAX, None),
        }
    }
}

/// Why [`retry`] gave up.
///
/// ```
/// let reason = filch_combinators::GiveUp::Deadline;
/// assert_eq!(reason.to_string(), "the deadline would pass before the next attempt");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GiveUp {
    /// The last allowed attempt failed.
    MaxAttempts,
    /// The next attempt would have started after the policy's deadline.
    Deadline,
    /// The error was not retryable (`retry_if` returned false).
    NotRetryable,
}

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GiveUp::MaxAttempts => "no attempts left",
            GiveUp::Deadline => "the deadline would pass before the next attempt",
            GiveUp::NotRetryable => "the error is not retryable",
        })
    }
}

/// [`retry`] gave up: the last attempt's error, how many attempts were made,
/// and why it stopped.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// use filch_combinators::{GiveUp, RetryPolicy, retry};
/// use std::time::Duration;
/// let err = retry(RetryPolicy::fixed(Duration::from_secs(1)), || async { Err::<(), _>("down") })
///     .await
///     .unwrap_err();
/// assert_eq!((*err.error(), err.attempts(), err.reason()), ("down", 3, GiveUp::MaxAttempts));
/// assert!(!err.deadline_expired());
/// assert_eq!(err.to_string(), "gave up after 3 attempts (no attempts left): down");
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryError<E> {
    error: E,
    attempts: u32,
    reason: GiveUp,
}

impl<E> RetryError<E> {
    /// The last attempt's error.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// let p = filch_combinators::RetryPolicy::exponential(std::time::Duration::ZERO);
    /// let err = filch_combinators::retry(p, || async { Err::<(), u8>(4) }).await.unwrap_err();
    /// assert_eq!(err.error(), &4);
    /// # });
    /// ```
    pub fn error(&self) -> &E {
        &self.error
    }

    /// The last attempt's error, by value.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// let p = filch_combinators::RetryPolicy::exponential(std::time::Duration::ZERO);
    /// let err = filch_combinators::retry(p, || async { Err::<(), u8>(4) }).await.unwrap_err();
    /// assert_eq!(err.into_error(), 4);
    /// # });
    /// ```
    pub fn into_error(self) -> E {
        self.error
    }

    /// How many attempts were made (at least 1).
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// let p = filch_combinators::RetryPolicy::exponential(std::time::Duration::ZERO).max_attempts(2);
    /// let err = filch_combinators::retry(p, || async { Err::<(), ()>(()) }).await.unwrap_err();
    /// assert_eq!(err.attempts(), 2);
    /// # });
    /// ```
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Why `retry` stopped.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// use filch_combinators::{GiveUp, RetryPolicy, retry};
    /// let p = RetryPolicy::exponential(std::time::Duration::ZERO).retry_if(|e: &u8| *e < 10);
    /// let err = retry(p, || async { Err::<(), u8>(99) }).await.unwrap_err();
    /// assert_eq!((err.reason(), err.attempts()), (GiveUp::NotRetryable, 1));
    /// # });
    /// ```
    pub fn reason(&self) -> GiveUp {
        self.reason
    }

    /// True if `retry` stopped because of the policy's deadline.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// use std::time::Duration;
    /// let p = filch_combinators::RetryPolicy::fixed(Duration::from_secs(2))
    ///     .unlimited_attempts()
    ///     .deadline(Duration::from_secs(5));
    /// let err = filch_combinators::retry(p, || async { Err::<(), ()>(()) }).await.unwrap_err();
    /// assert!(err.deadline_expired());
    /// assert_eq!(err.attempts(), 3); // at 0 s, 2 s and 4 s; 6 s is past the deadline
    /// # });
    /// ```
    pub fn deadline_expired(&self) -> bool {
        self.reason == GiveUp::Deadline
    }
}

impl<E: fmt::Display> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.attempts == 1 { "" } else { "s" };
        write!(
            f,
            "gave up after {} attempt{s} ({}): {}",
            self.attempts, self.reason, self.error
        )
    }
}

impl<E: Error + 'static> Error for RetryError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.error)
    }
}

/// Runs `operation` until it succeeds or `policy` says to give up (the
/// "handle errors and retry" pattern): the first `Ok`, or a [`RetryError`]
/// with the last error.
///
/// `operation` is called once per attempt and returns a future of
/// `Result<T, E>`. After a failure, `retry` asks the policy's `retry_if`,
/// checks the attempt limit and the deadline, then sleeps the next delay
/// with `filch::time::sleep` (so with the clock paused, a test sees the
/// exact schedule instantly).
///
/// Cancel-safety: dropping the future cancels the attempt in flight (its
/// future is dropped) or the sleep; no further attempt starts.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// use filch_combinators::{RetryPolicy, retry};
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
///
/// let calls = AtomicU32::new(0);
/// let start = filch_timer::Instant::now();
/// let body = retry(RetryPolicy::exponential(Duration::from_secs(1)).max_attempts(5), || async {
///     match calls.fetch_add(1, Ordering::Relaxed) {
///         0..=2 => Err("503 Service Unavailable"),
///         _ => Ok("200 OK"),
///     }
/// })
/// .await;
/// assert_eq!(body, Ok("200 OK"));
/// assert_eq!(start.elapsed(), Duration::from_secs(1 + 2 + 4));
/// # });
/// ```
pub async fn retry<T, E, P, Op, Fut>(
    policy: RetryPolicy<P>,
    mut operation: Op,
) -> Result<T, RetryError<E>>
where
    P: ShouldRetry<E>,
    Op: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = policy
        .deadline
        .map(|d| Instant::now().checked_add(d).unwrap_or_else(far_future));
    let mut delays = policy.delays();
    let mut attempts = 0u32;
    loop {
        attempts = attempts.saturating_add(1);
        let error = match operation().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let give_up = |error, reason| {
            Err(RetryError {
                error,
                attempts,
                reason,
            })
        };
        if !policy.retry_if.should_retry(&error) {
            return give_up(error, GiveUp::NotRetryable);
        }
        let Some(delay) = delays.next() else {
            return give_up(error, GiveUp::MaxAttempts);
        };
        if let Some(deadline) = deadline {
            let next_start = Instant::now().checked_add(delay);
            if next_start.is_none_or(|t| t > deadline) {
                return give_up(error, GiveUp::Deadline);
            }
        }
        drop(error);
        sleep(delay).await;
    }
}

/// An instant no deadline reaches (about 30 years ahead).
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}
