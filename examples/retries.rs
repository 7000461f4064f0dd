//! Handling errors and retrying, on filch: fetch from a flaky service with
//! exponential backoff, jitter, an attempt limit and a deadline.
//!
//! ```python
//! async def fetch_data(url, retries=3):
//!     for attempt in range(retries):
//!         try:
//!             return await fetch(url)
//!         except ServiceError as e:
//!             print(f"Attempt {attempt + 1} failed: {e}")
//!             await asyncio.sleep(2 ** attempt)
//!     raise Exception("All retries failed")
//! ```
//!
//! There is no network here: the "service" is simulated in-process. It
//! answers each URL after a short latency, failing the first few requests
//! with a 503, and it never finds `/missing` (a 404, which is not worth
//! retrying).

use filch::{Jitter, RetryPolicy};
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
enum ServiceError {
    Unavailable,
    NotFound,
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceError::Unavailable => f.write_str("503 Service Unavailable"),
            ServiceError::NotFound => f.write_str("404 Not Found"),
        }
    }
}

impl std::error::Error for ServiceError {}

/// A service that fails the first `failures[url]` requests for each URL.
struct FlakyService {
    failures: Mutex<HashMap<&'static str, u32>>,
}

impl FlakyService {
    async fn fetch(&self, url: &'static str) -> Result<String, ServiceError> {
        filch::time::sleep(Duration::from_millis(30)).await; // latency
        if url == "/missing" {
            return Err(ServiceError::NotFound);
        }
        let mut failures = self.failures.lock().unwrap();
        let left = failures.entry(url).or_insert(0);
        if *left > 0 {
            *left -= 1;
            return Err(ServiceError::Unavailable);
        }
        Ok(format!("<contents of {url}>"))
    }
}

async fn fetch_data(service: &FlakyService, url: &'static str) -> Result<String, String> {
    let policy = RetryPolicy::exponential(Duration::from_millis(100))
        .max_attempts(4)
        .max_delay(Duration::from_secs(1))
        .jitter(Jitter::Equal)
        .deadline(Duration::from_secs(10))
        .retry_if(|e: &ServiceError| matches!(e, ServiceError::Unavailable));
    let mut attempt = 0;
    let start = Instant::now();
    filch::retry(policy, || {
        attempt += 1;
        let n = attempt;
        async move {
            let result = service.fetch(url).await;
            if let Err(e) = &result {
                println!(
                    "  {url}: attempt {n} failed at {:.2?}: {e}",
                    start.elapsed()
                );
            }
            result
        }
    })
    .await
    .map_err(|e| format!("All retries failed for {url}: {e}"))
}

#[filch::main]
async fn main() {
    let service = FlakyService {
        failures: Mutex::new(HashMap::from([("/flaky", 2), ("/down", 100)])),
    };
    for url in ["/stable", "/flaky", "/down", "/missing"] {
        println!("fetching {url}");
        match fetch_data(&service, url).await {
            Ok(body) => println!("  got {body}"),
            Err(e) => println!("  {e}"),
        }
    }
}
