//! Exercise 5 of "Python Async IO Basics": "Extend the URL fetching example
//! to handle errors gracefully and implement retries" — against a real
//! (local) HTTP server that misbehaves.
//!
//! ```python
//! async def fetch_url(url, session, attempts=5, base=0.1, per_try=0.3, deadline=3):
//!     start = time.monotonic()
//!     for attempt in range(1, attempts + 1):
//!         try:
//!             async with asyncio.timeout(per_try):
//!                 async with session.get(url) as response:
//!                     response.raise_for_status()
//!                     return await response.text()
//!         except (aiohttp.ClientError, TimeoutError) as e:
//!             print(f"{url}: attempt {attempt} failed: {e}")
//!             if not transient(e) or attempt == attempts:
//!                 raise
//!             delay = random.uniform(0, base * 2 ** (attempt - 1))  # full jitter
//!             if time.monotonic() + delay - start > deadline:
//!                 raise
//!             await asyncio.sleep(delay)
//!
//! async def main():
//!     async with aiohttp.ClientSession() as session:
//!         results = await asyncio.gather(*(fetch_url(u, session) for u in urls),
//!                                        return_exceptions=True)
//! ```
//!
//! How it maps: the loop is `filch::retry` with a `RetryPolicy`
//! (exponential backoff from 100 ms, full jitter, at most 5 attempts, a 3 s
//! deadline, and `retry_if` to retry only transient errors); `asyncio.timeout`
//! around each attempt is `filch::time::timeout`; `gather(...,
//! return_exceptions=True)` is `filch::join_all` over `Result`s.
//!
//! The sites of the `fetch` example are served locally, each failing in its
//! own way: `pypi.org` answers 503 twice before it works, `docs.python.org`
//! drops the connection without answering twice (aiohttp's
//! `ServerDisconnectedError`), `github.com` takes 2 s the first time (past
//! the 300 ms per-attempt timeout), `stackoverflow.com` is down for good,
//! and `python.org/missing` is a 404, which no retry will fix.

use filch::{Jitter, RetryPolicy};
use filch_examples::client::{FetchError, Session};
use filch_examples::server::{self, HangUp, Reply, reply};
use hyper::StatusCode;
use hyper::header::HOST;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PER_ATTEMPT: Duration = Duration::from_millis(300);

/// How each site misbehaves.
#[derive(Clone, Copy)]
enum Behaviour {
    Fine,
    /// Answers 503 to the first `n` requests.
    Unavailable(u32),
    /// Drops the connection without answering the first `n` requests.
    HangsUp(u32),
    /// Takes 2 s to answer the first request.
    SlowFirst,
    /// Answers 503, always.
    Down,
    /// Has no such page.
    Missing,
}

const SITES: [(&str, &str, Behaviour); 6] = [
    ("python.org", "/", Behaviour::Fine),
    ("pypi.org", "/", Behaviour::Unavailable(2)),
    ("docs.python.org", "/", Behaviour::HangsUp(2)),
    ("github.com", "/", Behaviour::SlowFirst),
    ("stackoverflow.com", "/", Behaviour::Down),
    ("python.org", "/missing", Behaviour::Missing),
];

/// Serves `SITES`, counting the requests each URL received.
async fn misbehave(seen: Arc<Mutex<HashMap<String, u32>>>, host: String, path: String) -> Reply {
    let Some(&(_, _, behaviour)) = SITES.iter().find(|s| s.0 == host && s.1 == path) else {
        return reply(StatusCode::NOT_FOUND, "text/plain", "no such page");
    };
    let nth = {
        let mut seen = seen.lock().unwrap();
        let n = seen.entry(format!("{host}{path}")).or_insert(0);
        *n += 1;
        *n
    };
    let latency = match behaviour {
        Behaviour::SlowFirst if nth == 1 => Duration::from_secs(2),
        _ => Duration::from_millis(20),
    };
    filch::time::sleep(latency).await;
    let ok = || reply(StatusCode::OK, "text/plain", format!("Welcome to {host}\n"));
    match behaviour {
        Behaviour::Unavailable(n) if nth <= n => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "try again later",
        ),
        Behaviour::HangsUp(n) if nth <= n => Err(HangUp),
        Behaviour::Down => reply(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "down"),
        Behaviour::Missing => reply(StatusCode::NOT_FOUND, "text/plain", "no such page"),
        _ => ok(),
    }
}

/// Why one attempt failed.
#[derive(Debug)]
enum AttemptError {
    Fetch(FetchError),
    TimedOut,
}

impl fmt::Display for AttemptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttemptError::Fetch(e) => write!(f, "{e}"),
            AttemptError::TimedOut => write!(f, "no answer within {} ms", PER_ATTEMPT.as_millis()),
        }
    }
}

/// Worth another attempt: timeouts, broken or refused connections, and
/// 5xx or 429 answers. A 4xx or a bad URL will fail the same way again.
fn transient(e: &AttemptError) -> bool {
    match e {
        AttemptError::TimedOut => true,
        AttemptError::Fetch(FetchError::Status(s)) => {
            s.is_server_error() || *s == StatusCode::TOO_MANY_REQUESTS
        }
        AttemptError::Fetch(FetchError::Connect(_) | FetchError::Http(_)) => true,
        AttemptError::Fetch(FetchError::InvalidUrl(_)) => false,
    }
}

async fn fetch_url(url: &str, session: &Session, start: Instant) -> Result<String, String> {
    let policy = RetryPolicy::exponential(Duration::from_millis(100))
        .max_attempts(5)
        .max_delay(Duration::from_secs(1))
        .jitter(Jitter::Full)
        .deadline(Duration::from_secs(3))
        .retry_if(transient);
    let mut attempt = 0;
    let outcome = filch::retry(policy, || {
        attempt += 1;
        let n = attempt;
        async move {
            let result = match filch::time::timeout(PER_ATTEMPT, session.get(url)).await {
                Err(_elapsed) => Err(AttemptError::TimedOut),
                Ok(fetched) => fetched
                    .and_then(|r| r.error_for_status())
                    .map(|r| r.text())
                    .map_err(AttemptError::Fetch),
            };
            if let Err(e) = &result {
                println!(
                    "  {url}: attempt {n} failed at {:.2} s: {e}",
                    start.elapsed().as_secs_f64()
                );
            }
            result
        }
    })
    .await;
    match outcome {
        Ok(text) => {
            let s = if attempt == 1 { "" } else { "s" };
            Ok(format!("{} bytes after {attempt} attempt{s}", text.len()))
        }
        Err(e) => Err(e.to_string()),
    }
}

#[filch::main]
async fn main() {
    let seen = Arc::new(Mutex::new(HashMap::new()));
    let server = server::serve({
        let seen = seen.clone();
        move |req| {
            let host = req
                .headers()
                .get(HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("")
                .to_owned();
            misbehave(seen.clone(), host, req.uri().path().to_owned())
        }
    })
    .await
    .expect("cannot start the local server");
    let session = SITES
        .iter()
        .fold(Session::new(), |s, site| s.resolve(site.0, server.addr()));
    let urls: Vec<String> = SITES
        .iter()
        .map(|(host, path, _)| format!("http://{host}{}", path.trim_end_matches('/')))
        .collect();

    println!("Fetching {} URLs concurrently, with retries", urls.len());
    let start = Instant::now();
    let results = filch::join_all(urls.iter().map(|url| fetch_url(url, &session, start))).await;
    let elapsed = start.elapsed();
    for (url, result) in urls.iter().zip(&results) {
        match result {
            Ok(what) => println!("{url}: {what}"),
            Err(e) => println!("{url}: {e}"),
        }
    }
    let fetched = results.iter().filter(|r| r.is_ok()).count();
    println!(
        "Fetched {fetched} of {} URLs with {} requests in {:.2} seconds",
        urls.len(),
        server.requests(),
        elapsed.as_secs_f64()
    );
}
