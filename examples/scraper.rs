//! Exercise 2 of "Python Async IO Basics": "Build a simple web scraper that
//! fetches and parses content from multiple web pages concurrently."
//!
//! The asyncio answer everyone writes is a crawl loop over
//! `asyncio.wait(..., return_when=FIRST_COMPLETED)` that keeps a bounded
//! number of fetches in flight:
//!
//! ```python
//! async def crawl(session, start, limit=4):
//!     seen, frontier, pending = {start}, deque([(start, 0)]), set()
//!     while frontier or pending:
//!         while frontier and len(pending) < limit:
//!             url, depth = frontier.popleft()
//!             pending.add(asyncio.create_task(scrape(session, url, depth)))
//!         done, pending = await asyncio.wait(pending, return_when=FIRST_COMPLETED)
//!         for task in done:
//!             url, depth, status, title, links = task.result()
//!             print(depth, status, url, title)
//!             for link in links:
//!                 if same_site(link) and link not in seen:
//!                     seen.add(link)
//!                     frontier.append((link, depth + 1))
//! ```
//!
//! How it maps: `create_task` is `filch::spawn` (and the parsing runs inside
//! the task, so pages are parsed in parallel on the runtime's workers);
//! `asyncio.wait(pending, return_when=FIRST_COMPLETED)` is
//! `filch::wait(pending, ReturnWhen::FirstCompleted)`, which hands back the
//! finished tasks and the handles of those still running. The frontier is a
//! FIFO queue, so the site is explored breadth-first, and at most `limit`
//! fetches are ever in flight. Titles and links are pulled out of the HTML
//! with plain string search (no HTML crate): `<title>` and every `href`.
//!
//! There is no internet here: the program serves a small mirror of the
//! Python docs itself (eleven pages, with relative, absolute, off-site,
//! fragment, `mailto:` and one broken link) on `127.0.0.1`, answering for
//! `docs.python.org` after 100 ms per page. The server counts how many
//! requests it was handling at once, which shows the limit holding.
//!
//! Usage: `cargo run --example scraper -- [--limit N]` (default 4).

use filch::ReturnWhen;
use filch::task::JoinHandle;
use filch_examples::client::{FetchError, Session};
use filch_examples::server::{self, reply};
use hyper::{StatusCode, Uri};
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

const SITE: &str = "docs.python.org";
const PAGE_DELAY: Duration = Duration::from_millis(100);
const MAX_PAGES: usize = 1_000;

/// The mirror: path, title, and the `href`s on the page, as written.
const PAGES: [(&str, &str, &[&str]); 11] = [
    (
        "/",
        "Python documentation",
        &[
            "tutorial/",
            "library/",
            "faq.html",
            "https://www.python.org/",
            "#content",
        ],
    ),
    (
        "/tutorial/",
        "The Python Tutorial",
        &[
            "intro.html",
            "coroutines.html",
            "../library/asyncio.html",
            "/",
        ],
    ),
    (
        "/tutorial/intro.html",
        "An Informal Introduction",
        &[
            "coroutines.html",
            "http://docs.python.org/tutorial/",
            "mailto:docs@python.org",
        ],
    ),
    (
        "/tutorial/coroutines.html",
        "Coroutines &amp; Tasks",
        &["../library/asyncio-task.html", "intro.html#top"],
    ),
    (
        "/library/",
        "The Python Standard Library",
        &[
            "asyncio.html",
            "asyncio-task.html",
            "asyncio-queue.html",
            "asyncio-stream.html",
        ],
    ),
    (
        "/library/asyncio.html",
        "asyncio &mdash; Asynchronous I/O",
        &[
            "asyncio-task.html",
            "asyncio-stream.html",
            "asyncio-sync.html",
            "asyncio-dev.html",
            "https://github.com/python/cpython/tree/main/Lib/asyncio/",
        ],
    ),
    (
        "/library/asyncio-task.html",
        "Coroutines and Tasks",
        &["asyncio.html", "./asyncio-queue.html"],
    ),
    (
        "/library/asyncio-queue.html",
        "Queues",
        &["asyncio-sync.html"],
    ),
    ("/library/asyncio-stream.html", "Streams", &["asyncio.html"]),
    (
        "/library/asyncio-sync.html",
        "Synchronization Primitives",
        &["asyncio-queue.html", "/faq.html"],
    ),
    (
        "/faq.html",
        "Python Frequently Asked Questions",
        &["/", "http://www.python.org/about/"],
    ),
];

/// Renders a page of the mirror (tag case varies, as on the real web).
fn render(title: &str, links: &[&str]) -> String {
    let mut html = format!(
        "<!DOCTYPE html>\n<html>\n<HEAD><meta charset=\"utf-8\">\n<Title>{title}</Title></HEAD>\n<body>\n\
         <h1 id=\"content\">{title}</h1>\n<ul>\n"
    );
    for (i, href) in links.iter().enumerate() {
        // Alternate the quoting styles a parser meets in the wild.
        if i % 2 == 0 {
            html.push_str(&format!(
                "  <li><a class=\"ref\" href=\"{href}\">link {i}</a></li>\n"
            ));
        } else {
            html.push_str(&format!("  <li><A HREF='{href}'>link {i}</A></li>\n"));
        }
    }
    html.push_str("</ul>\n</body>\n</html>\n");
    html
}

/// The text of the first `<title>` element, entities decoded.
fn title_of(html: &str) -> Option<String> {
    // ASCII lowercasing keeps every byte offset, so positions found in
    // `lower` index `html` too.
    let lower = html.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    Some(decode_entities(html[start..end].trim()))
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&mdash;", "\u{2014}")
        .replace("&amp;", "&")
}

/// Every `href` attribute's value, in document order.
fn hrefs(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find("href=") {
        let value_start = at + i + "href=".len();
        let rest = &html[value_start..];
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
            _ => rest
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or(""),
        };
        found.push(decode_entities(value));
        at = value_start;
    }
    found
}

/// Where a link leads.
#[derive(Debug, PartialEq)]
enum Target {
    /// A page of the site being crawled (absolute, no fragment).
    Page(String),
    /// A web page elsewhere.
    OffSite(String),
    /// `mailto:`, `javascript:`, ...
    NotWeb,
}

/// Resolves `href` against the page at `base` (Python's `urljoin`) and
/// says whether it belongs to `base`'s site.
fn resolve(base: &Uri, href: &str) -> Target {
    let href = href.split('#').next().unwrap_or("");
    let host = base.host().unwrap_or_default();
    let scheme_end = href.find(':').filter(|&i| {
        href[..i]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    let absolute = match scheme_end {
        Some(i) if !matches!(&href[..i], "http" | "https") => return Target::NotWeb,
        Some(_) => href.to_owned(),
        None if href.starts_with("//") => format!("http:{href}"),
        None => {
            let base_path = base.path();
            let path = if href.starts_with('/') {
                href.to_owned()
            } else if href.is_empty() {
                base_path.to_owned()
            } else {
                let dir = &base_path[..=base_path.rfind('/').unwrap_or(0)];
                format!("{dir}{href}")
            };
            format!("http://{host}{}", normalize(&path))
        }
    };
    match absolute.parse::<Uri>() {
        Ok(uri) if uri.scheme_str() == Some("http") && uri.host() == Some(host) => {
            Target::Page(absolute)
        }
        _ => Target::OffSite(absolute),
    }
}

/// Removes `.` and `..` segments from an absolute path.
fn normalize(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let parts: Vec<&str> = path.split('/').skip(1).collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        match *part {
            "." | ".." => {
                if *part == ".." {
                    segments.pop();
                }
                if last {
                    segments.push(""); // "a/.." names the directory: keep the slash
                }
            }
            _ => segments.push(part),
        }
    }
    format!("/{}", segments.join("/"))
}

/// What scraping one URL found.
struct Scraped {
    url: String,
    depth: usize,
    result: Result<(StatusCode, Option<String>, Vec<String>), FetchError>,
}

async fn scrape(session: Session, url: String, depth: usize) -> Scraped {
    let result = session.get(&url).await.map(|response| {
        let html = response.text();
        (response.status(), title_of(&html), hrefs(&html))
    });
    Scraped { url, depth, result }
}

#[derive(Default)]
struct Report {
    pages: usize,
    broken: usize,
    errors: usize,
    off_site: HashSet<String>,
    not_web: usize,
}

async fn crawl(session: &Session, start: &str, limit: usize) -> Report {
    let mut report = Report::default();
    let mut referrer: HashMap<String, String> = HashMap::new();
    let mut seen = HashSet::from([start.to_owned()]);
    let mut frontier = VecDeque::from([(start.to_owned(), 0)]);
    let mut pending: Vec<JoinHandle<Scraped>> = Vec::new();
    while !frontier.is_empty() || !pending.is_empty() {
        while pending.len() < limit {
            let Some((url, depth)) = frontier.pop_front() else {
                break;
            };
            // A spawned task must own what it uses ('static): it gets a clone
            // of the session, which shares the connection pool.
            pending.push(filch::spawn(scrape(session.clone(), url, depth)));
        }
        let (done, still_running) = filch::wait(pending, ReturnWhen::FirstCompleted).await;
        pending = still_running
            .into_iter()
            .map(|(_, handle)| handle)
            .collect();
        for (_, finished) in done {
            let Scraped { url, depth, result } = finished.expect("scrape does not panic");
            let (status, title, links) = match result {
                Ok(found) => found,
                Err(e) => {
                    report.errors += 1;
                    println!("[depth {depth}] error {url}: {e}");
                    continue;
                }
            };
            if !status.is_success() {
                report.broken += 1;
                let from = referrer.get(&url).map_or("?", String::as_str);
                println!(
                    "[depth {depth}] {} {url} (broken link on {from})",
                    status.as_u16()
                );
                continue;
            }
            report.pages += 1;
            let title = title.unwrap_or_else(|| "(no title)".into());
            println!(
                "[depth {depth}] {} {url} \"{title}\" ({})",
                status.as_u16(),
                count(links.len(), "link")
            );
            let base: Uri = url.parse().expect("we only fetch valid URLs");
            for href in links {
                match resolve(&base, &href) {
                    Target::Page(link) => {
                        // A site can have endless links (calendars, search
                        // pages): a real crawler stops somewhere.
                        if seen.len() < MAX_PAGES && seen.insert(link.clone()) {
                            referrer.insert(link.clone(), url.clone());
                            frontier.push_back((link, depth + 1));
                        }
                    }
                    Target::OffSite(link) => {
                        report.off_site.insert(link);
                    }
                    Target::NotWeb => report.not_web += 1,
                }
            }
        }
    }
    report
}

/// "1 link", "2 links".
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

#[filch::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let limit = match args.iter().position(|a| a == "--limit") {
        Some(i) => match args.get(i + 1).and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n > 0 => n,
            _ => {
                eprintln!("--limit needs a positive number");
                std::process::exit(2);
            }
        },
        None => 4,
    };

    let server = server::serve(|req| async move {
        let page = PAGES.iter().find(|p| p.0 == req.uri().path());
        filch::time::sleep(PAGE_DELAY).await;
        match page {
            Some((_, title, links)) => reply(
                StatusCode::OK,
                "text/html; charset=utf-8",
                render(title, links),
            ),
            None => reply(
                StatusCode::NOT_FOUND,
                "text/html",
                "<title>Not Found</title>",
            ),
        }
    })
    .await
    .expect("cannot start the local server");
    let session = Session::new().resolve(SITE, server.addr());
    println!(
        "Crawling http://{SITE}/ (served on {}), at most {limit} requests at once",
        server.addr()
    );

    let start = Instant::now();
    let report = crawl(&session, &format!("http://{SITE}/"), limit).await;
    let elapsed = start.elapsed();
    println!(
        "Crawled {}, {}, {} in {:.2} s (one at a time: at least {:.2} s)",
        count(report.pages, "page"),
        count(report.broken, "broken link"),
        count(report.errors, "error"),
        elapsed.as_secs_f64(),
        (PAGE_DELAY * server.requests() as u32).as_secs_f64()
    );
    println!(
        "Skipped {} and {}",
        count(report.off_site.len(), "off-site link"),
        count(report.not_web, "non-web link")
    );
    println!(
        "{} requests, at most {} at once (limit {limit})",
        server.requests(),
        server.peak_in_flight()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_titles_and_links_in_any_case_and_quoting() {
        let html = render("Coroutines &amp; Tasks", &["a.html", "/b/", "c.html#x"]);
        assert_eq!(title_of(&html).as_deref(), Some("Coroutines & Tasks"));
        assert_eq!(hrefs(&html), ["a.html", "/b/", "c.html#x"]);
        assert_eq!(hrefs("<a href=plain.html>x</a>"), ["plain.html"]);
        assert_eq!(title_of("<p>no title</p>"), None);
    }

    #[test]
    fn resolves_links_like_urljoin() {
        let base: Uri = "http://docs.python.org/tutorial/intro.html"
            .parse()
            .unwrap();
        let page = |p: &str| Target::Page(format!("http://docs.python.org{p}"));
        assert_eq!(resolve(&base, "tasks.html"), page("/tutorial/tasks.html"));
        assert_eq!(resolve(&base, "../library/"), page("/library/"));
        assert_eq!(resolve(&base, "./a/../b.html"), page("/tutorial/b.html"));
        assert_eq!(resolve(&base, "/"), page("/"));
        assert_eq!(resolve(&base, "#top"), page("/tutorial/intro.html"));
        assert_eq!(resolve(&base, "x.html#top"), page("/tutorial/x.html"));
        assert_eq!(resolve(&base, ".."), page("/"));
        assert_eq!(
            resolve(&base, "http://docs.python.org/faq.html"),
            page("/faq.html")
        );
        assert_eq!(
            resolve(&base, "//www.python.org/"),
            Target::OffSite("http://www.python.org/".into())
        );
        assert_eq!(
            resolve(&base, "https://docs.python.org/"),
            Target::OffSite("https://docs.python.org/".into())
        );
        assert_eq!(resolve(&base, "mailto:docs@python.org"), Target::NotWeb);
    }
}
