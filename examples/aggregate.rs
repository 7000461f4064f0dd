//! Exercise 4 of "Python Async IO Basics": "Create an async function that
//! queries multiple API endpoints and aggregates the results."
//!
//! ```python
//! async def query(session, endpoint, timeout=0.5):
//!     try:
//!         async with asyncio.timeout(timeout):
//!             async with session.get(API + endpoint) as response:
//!                 response.raise_for_status()
//!                 return parse(await response.text())
//!     except (TimeoutError, aiohttp.ClientError) as e:
//!         return e   # a failed source is reported, not fatal
//!
//! async def main():
//!     async with aiohttp.ClientSession() as session:
//!         users, orders, inventory, reviews, payments = await asyncio.gather(
//!             *(query(session, e) for e in ENDPOINTS))
//!     print_summary(users, orders, inventory, reviews, payments)
//! ```
//!
//! How it maps: `asyncio.timeout` / `wait_for` is `filch::time::timeout`,
//! which drops the request when time is up (closing its connection);
//! `gather` over a fixed set of queries, unpacked into names, is
//! `filch::join!`, which returns a tuple. Each query returns a `Result`, so
//! a failure is a value in its slot of the tuple (Python needs
//! `return_exceptions=True` or a `try` in `query` for that) and the summary
//! is built from whatever arrived, saying what is missing.
//!
//! The API is served by the program itself on `127.0.0.1`: `/users`,
//! `/orders` and `/inventory` answer within 120 ms; `/reviews` takes 3 s,
//! past the 500 ms budget; `/payments` fails with a 500. The bodies are
//! records of `key=value` pairs, one per line (no JSON crate needed), and
//! the whole run takes about the budget, not the slowest endpoint's 3 s.

use filch_examples::client::{FetchError, Session};
use filch_examples::server::{self, reply};
use hyper::StatusCode;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

const BUDGET: Duration = Duration::from_millis(500);

/// The API: path, latency, status and body.
const ENDPOINTS: [(&str, u64, StatusCode, &str); 5] = [
    (
        "/users",
        80,
        StatusCode::OK,
        "id=1 name=Ada country=UK\nid=2 name=Grace country=US\n\
         id=3 name=Guido country=NL\nid=4 name=Linus country=FI\n",
    ),
    (
        "/orders",
        120,
        StatusCode::OK,
        "id=101 user=1 total=25.00\nid=102 user=2 total=12.50\nid=103 user=1 total=40.00\n\
         id=104 user=3 total=7.25\nid=105 user=2 total=30.00\nid=106 user=1 total=5.75\n",
    ),
    (
        "/inventory",
        60,
        StatusCode::OK,
        "sku=mug stock=12\nsku=shirt stock=3\nsku=sticker stock=250\nsku=hoodie stock=0\n",
    ),
    (
        "/reviews",
        3_000,
        StatusCode::OK,
        "order=101 stars=5\norder=103 stars=4\norder=105 stars=3\n",
    ),
    (
        "/payments",
        40,
        StatusCode::INTERNAL_SERVER_ERROR,
        "database unavailable\n",
    ),
];

/// One line of a response: its `key=value` pairs.
type Record = HashMap<String, String>;

/// Why a source is missing from the summary.
#[derive(Debug)]
enum SourceError {
    TimedOut(Duration),
    Fetch(FetchError),
    Malformed(String),
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceError::TimedOut(d) => write!(f, "timed out after {} ms", d.as_millis()),
            SourceError::Fetch(e) => write!(f, "{e}"),
            SourceError::Malformed(line) => write!(f, "malformed record {line:?}"),
        }
    }
}

type Source = Result<Vec<Record>, SourceError>;

fn parse(body: &str) -> Source {
    body.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            line.split_whitespace()
                .map(|pair| {
                    let (k, v) = pair
                        .split_once('=')
                        .ok_or_else(|| SourceError::Malformed(line.to_owned()))?;
                    Ok((k.to_owned(), v.to_owned()))
                })
                .collect()
        })
        .collect()
}

/// Queries one endpoint within `budget`; a failure is a value, and is
/// reported as soon as it happens.
async fn query(session: &Session, url: String, budget: Duration) -> Source {
    let start = Instant::now();
    let result = match filch::time::timeout(budget, session.get(&url)).await {
        Err(_elapsed) => Err(SourceError::TimedOut(budget)),
        Ok(Err(e)) => Err(SourceError::Fetch(e)),
        Ok(Ok(response)) => match response.error_for_status() {
            Ok(response) => parse(&response.text()),
            Err(e) => Err(SourceError::Fetch(e)),
        },
    };
    let took = start.elapsed().as_secs_f64();
    match &result {
        Ok(records) => println!("  {url}: {} records in {took:.2} s", records.len()),
        Err(e) => println!("  {url}: failed in {took:.2} s: {e}"),
    }
    result
}

/// A field's value; a missing one is empty.
fn field<'a>(record: &'a Record, key: &str) -> &'a str {
    record.get(key).map_or("", String::as_str)
}

/// A numeric field; a missing or unparsable one counts as 0.
fn number(record: &Record, key: &str) -> f64 {
    field(record, key).parse().unwrap_or(0.0)
}

fn list_or_none<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The summary lines, from whatever sources arrived.
fn aggregate(
    users: &Source,
    orders: &Source,
    inventory: &Source,
    reviews: &Source,
    payments: &Source,
) -> Vec<String> {
    let mut lines = Vec::new();
    let name_of = |id: &str| match users {
        Ok(users) => users
            .iter()
            .find(|u| field(u, "id") == id)
            .map_or(format!("user {id}"), |u| field(u, "name").to_owned()),
        Err(_) => format!("user {id}"),
    };

    if let Ok(users) = users {
        let countries: BTreeSet<&str> = users.iter().map(|u| field(u, "country")).collect();
        lines.push(format!(
            "users: {} from {} countries",
            users.len(),
            countries.len()
        ));
    }
    if let Ok(orders) = orders {
        let revenue: f64 = orders.iter().map(|o| number(o, "total")).sum();
        lines.push(format!("orders: {}, revenue ${revenue:.2}", orders.len()));
        let mut per_user: Vec<(String, usize, f64)> = Vec::new();
        for order in orders {
            let user = field(order, "user");
            match per_user.iter_mut().find(|(u, _, _)| u == user) {
                Some(entry) => {
                    entry.1 += 1;
                    entry.2 += number(order, "total");
                }
                None => per_user.push((user.to_owned(), 1, number(order, "total"))),
            }
        }
        per_user.sort_by(|a, b| b.2.total_cmp(&a.2));
        if let Some((user, count, spent)) = per_user.first() {
            lines.push(format!(
                "top customer: {} (${spent:.2} over {count} orders)",
                name_of(user)
            ));
        }
        if let Ok(users) = users {
            let idle: Vec<&str> = users
                .iter()
                .filter(|u| !orders.iter().any(|o| field(o, "user") == field(u, "id")))
                .map(|u| field(u, "name"))
                .collect();
            lines.push(format!("users without orders: {}", list_or_none(&idle)));
        }
    }
    if let Ok(inventory) = inventory {
        let mut low: Vec<(&str, f64)> = inventory
            .iter()
            .map(|i| (field(i, "sku"), number(i, "stock")))
            .filter(|&(_, stock)| stock < 5.0)
            .collect();
        low.sort_by(|a, b| a.1.total_cmp(&b.1));
        let low: Vec<String> = low.iter().map(|(sku, n)| format!("{sku} ({n})")).collect();
        lines.push(format!("low stock: {}", list_or_none(&low)));
    }
    if let Ok(reviews) = reviews {
        let stars: f64 = reviews.iter().map(|r| number(r, "stars")).sum();
        lines.push(format!(
            "average rating: {:.1} stars over {} reviews",
            stars / reviews.len().max(1) as f64,
            reviews.len()
        ));
    }
    if let Ok(payments) = payments {
        let paid = payments
            .iter()
            .filter(|p| field(p, "status") == "paid")
            .count();
        lines.push(format!("paid orders: {paid} of {}", payments.len()));
    }

    let sources = [
        ("users", users),
        ("orders", orders),
        ("inventory", inventory),
        ("reviews", reviews),
        ("payments", payments),
    ];
    let missing: Vec<String> = sources
        .iter()
        .filter_map(|(name, s)| s.as_ref().err().map(|e| format!("{name} ({e})")))
        .collect();
    if missing.is_empty() {
        lines.push(format!("complete: all {} sources answered", sources.len()));
    } else {
        lines.push(format!(
            "partial: {} of {} sources failed: {}",
            missing.len(),
            sources.len(),
            missing.join(", ")
        ));
    }
    lines
}

#[filch::main]
async fn main() {
    let server = server::serve(|req| async move {
        match ENDPOINTS.iter().find(|e| e.0 == req.uri().path()) {
            Some(&(_, latency_ms, status, body)) => {
                filch::time::sleep(Duration::from_millis(latency_ms)).await;
                reply(status, "text/plain", body)
            }
            None => reply(StatusCode::NOT_FOUND, "text/plain", "no such endpoint\n"),
        }
    })
    .await
    .expect("cannot start the local API server");
    let api = format!("http://{}", server.addr());
    let session = Session::new();

    println!(
        "Querying {} endpoints on {api}, {} ms each at most",
        ENDPOINTS.len(),
        BUDGET.as_millis()
    );
    let start = Instant::now();
    let (users, orders, inventory, reviews, payments) = filch::join!(
        query(&session, format!("{api}/users"), BUDGET),
        query(&session, format!("{api}/orders"), BUDGET),
        query(&session, format!("{api}/inventory"), BUDGET),
        query(&session, format!("{api}/reviews"), BUDGET),
        query(&session, format!("{api}/payments"), BUDGET),
    );
    let elapsed = start.elapsed();
    println!("Summary:");
    for line in aggregate(&users, &orders, &inventory, &reviews, &payments) {
        println!("  {line}");
    }
    println!("Completed in {:.2} seconds", elapsed.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(i: usize) -> Source {
        parse(ENDPOINTS[i].3)
    }

    #[test]
    fn every_source_present_makes_a_complete_summary() {
        let payments = parse("order=101 status=paid\norder=102 status=refunded\n");
        let lines = aggregate(&source(0), &source(1), &source(2), &source(3), &payments);
        assert_eq!(
            lines,
            [
                "users: 4 from 4 countries",
                "orders: 6, revenue $120.50",
                "top customer: Ada ($70.75 over 3 orders)",
                "users without orders: Linus",
                "low stock: hoodie (0), shirt (3)",
                "average rating: 4.0 stars over 3 reviews",
                "paid orders: 1 of 2",
                "complete: all 5 sources answered",
            ]
        );
    }

    #[test]
    fn missing_sources_leave_their_lines_out_and_are_named() {
        let users = Err(SourceError::TimedOut(Duration::from_millis(500)));
        let bad = parse("id=1 oops\n");
        assert!(matches!(&bad, Err(SourceError::Malformed(l)) if l == "id=1 oops"));
        let lines = aggregate(&users, &source(1), &bad, &source(3), &source(3));
        assert_eq!(lines[1], "top customer: user 1 ($70.75 over 3 orders)");
        assert!(!lines.iter().any(|l| l.starts_with("users")), "{lines:?}");
        assert_eq!(
            lines.last().unwrap(),
            "partial: 2 of 5 sources failed: users (timed out after 500 ms), \
             inventory (malformed record \"id=1 oops\")"
        );
    }
}
