//! Fetching web pages: the aiohttp examples of the tutorials, on hyper and
//! filch.
//!
//! "Building a Simple HTTP Requester" (Mastering Asyncio in Python):
//!
//! ```python
//! async def fetch(session, url):
//!     async with session.get(url) as response:
//!         return await response.text()
//!
//! async def main():
//!     async with aiohttp.ClientSession() as session:
//!         html = await fetch(session, 'http://python.org')
//!         print(html[:100])  # print first 100 characters of the response
//! ```
//!
//! and "Real-World Example: Fetching Multiple URLs" (Python Async IO
//! Basics):
//!
//! ```python
//! async def main():
//!     urls = ["https://python.org", "https://pypi.org", "https://docs.python.org",
//!             "https://github.com", "https://stackoverflow.com"]
//!     start = time.time()
//!     async with aiohttp.ClientSession() as session:
//!         tasks = []
//!         for url in urls:
//!             tasks.append(fetch_url(url, session))
//!         results = await asyncio.gather(*tasks)
//!         for i, result in enumerate(results):
//!             print(f"{urls[i]}: {len(result)} bytes")
//!     print(f"Completed in {time.time() - start:.2f} seconds")
//! ```
//!
//! How it maps: `aiohttp.ClientSession` is `filch_examples::client::Session`
//! (hyper's HTTP/1 client on filch sockets, keeping connections alive like
//! aiohttp's); `asyncio.gather(*tasks)` is `filch::try_join_all`, which
//! like `gather` returns the results in input order and fails as soon as
//! one fetch fails. The program then fetches the same pages one after
//! another, to show what the concurrency bought.
//!
//! There is no internet here, so by default the program serves the five
//! sites itself: a local HTTP server on `127.0.0.1` answers for
//! `python.org`, `pypi.org`, ... (the session resolves those names to it,
//! like curl's `--resolve`) with pages of the sizes in the tutorial's
//! sample output, each after a different delay standing for the distance to
//! the real site. The URLs are `http://`: TLS is out of scope.
//!
//! Usage: `cargo run --example fetch -- [http://URL ...]` — with URLs, it
//! fetches those instead (plain HTTP only; an `https://` URL is refused).

use filch_examples::client::{FetchError, Session};
use filch_examples::server::{self, Server, reply};
use hyper::StatusCode;
use hyper::header::HOST;
use std::time::{Duration, Instant};

/// The sites served locally: name, page title, page size (the tutorial's
/// sample output) and how long the "site" takes to answer.
const SITES: [(&str, &str, usize, u64); 5] = [
    ("python.org", "Welcome to Python.org", 49_237, 200),
    ("pypi.org", "PyPI - The Python Package Index", 15_283, 150),
    ("docs.python.org", "3.13 Documentation", 12_568, 180),
    (
        "github.com",
        "GitHub - Build and ship software",
        278_965,
        200,
    ),
    ("stackoverflow.com", "Stack Overflow", 257_062, 170),
];

/// An HTML page of exactly `size` bytes.
fn page(title: &str, size: usize) -> String {
    let mut html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n</head>\n<body>\n"
    );
    let end = "</body>\n</html>\n";
    let paragraph =
        "<p>Asynchronous programming lets one program wait for many things at once.</p>\n";
    while html.len() + end.len() < size {
        let room = size - html.len() - end.len();
        html.push_str(&paragraph[..room.min(paragraph.len())]);
    }
    html.push_str(end);
    html
}

/// Serves `SITES`, routing on the `Host` header.
async fn serve_sites() -> std::io::Result<Server> {
    server::serve(|req| async move {
        let host = req
            .headers()
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| h.split(':').next().unwrap_or(h).to_owned());
        let site = SITES.iter().find(|s| Some(s.0) == host.as_deref());
        match site {
            Some(&(_, title, size, delay_ms)) if req.uri().path() == "/" => {
                filch::time::sleep(Duration::from_millis(delay_ms)).await;
                reply(
                    StatusCode::OK,
                    "text/html; charset=utf-8",
                    page(title, size),
                )
            }
            _ => reply(StatusCode::NOT_FOUND, "text/plain", "no such page"),
        }
    })
    .await
}

async fn fetch_url(url: &str, session: &Session) -> Result<String, FetchError> {
    Ok(session.get(url).await?.text())
}

async fn fetch_all(urls: &[String], session: &Session) -> Result<(), FetchError> {
    println!("Fetching {} URLs concurrently", urls.len());
    let start = Instant::now();
    let results = filch::try_join_all(urls.iter().map(|url| fetch_url(url, session))).await?;
    for (url, result) in urls.iter().zip(&results) {
        println!("{url}: {} bytes", result.len());
    }
    println!("Completed in {:.2} seconds", start.elapsed().as_secs_f64());

    println!("Fetching them one after another");
    let start = Instant::now();
    for url in urls {
        let result = fetch_url(url, session).await?;
        println!("{url}: {} bytes", result.len());
    }
    println!(
        "Sequential: completed in {:.2} seconds",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        return Ok(fetch_all(&args, &Session::new()).await?);
    }

    let server = serve_sites().await?;
    let names: Vec<&str> = SITES.iter().map(|s| s.0).collect();
    println!("Serving {} on {}", names.join(", "), server.addr());
    let session = SITES
        .iter()
        .fold(Session::new(), |s, site| s.resolve(site.0, server.addr()));

    let html = fetch_url("http://python.org", &session).await?;
    println!("{}", html.chars().take(100).collect::<String>()); // first 100 characters

    let urls: Vec<String> = names.iter().map(|n| format!("http://{n}")).collect();
    fetch_all(&urls, &session).await?;
    println!(
        "{} requests over {} connections (kept alive and reused)",
        server.requests(),
        session.connections_opened()
    );
    Ok(())
}

#[filch::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("fetch failed: {e}");
        std::process::exit(1);
    }
}
