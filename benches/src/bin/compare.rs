//! `cargo run --release -p filch-benches --bin compare`: every workload on
//! filch, tokio and smol, interleaved, in one table (see
//! `filch_benches::compare` for the method and `docs/benchmarks.md` for the
//! reading). This file owns the command line only.

use filch_benches::compare::{self, Settings, blocking, report, resources};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: compare [--workers N] [--rounds N] [--filter WORD] [--json FILE] [--sample-ms N] [--list]

  --workers N    worker threads per runtime (default 2)
  --rounds N     alternating rounds per workload (default 20; 6 or more for an interval)
  --filter WORD  only the workloads (and resource rows) whose name contains WORD
  --json FILE    also write the results as JSON
  --sample-ms N  length of the slowest runtime's sample per round (default 25)
  --list         print the workload names and exit";

struct Args {
    settings: Settings,
    json: Option<String>,
    list: bool,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        settings: Settings {
            workers: 2,
            rounds: 20,
            filter: None,
            sample: Duration::from_millis(25),
            hang_after: Duration::from_secs(60),
        },
        json: None,
        list: false,
    };
    fn num(flag: &str, v: Option<String>) -> Result<usize, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
        match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{flag} {v:?}: expected a whole number above 0")),
        }
    }
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--workers" => a.settings.workers = num("--workers", args.next())?,
            "--rounds" => a.settings.rounds = num("--rounds", args.next())?,
            "--sample-ms" => {
                a.settings.sample = Duration::from_millis(num("--sample-ms", args.next())? as u64)
            }
            "--filter" => {
                a.settings.filter = Some(args.next().ok_or("--filter needs a word")?);
            }
            "--json" => a.json = Some(args.next().ok_or("--json needs a file name")?),
            "--list" => a.list = true,
            // `cargo bench` style arguments some wrappers pass: ignored.
            "--bench" => {}
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

fn first_line(path: &str) -> Option<String> {
    Some(
        std::fs::read_to_string(path)
            .ok()?
            .lines()
            .next()?
            .trim()
            .to_string(),
    )
}

fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn main() {
    let mut argv = std::env::args().skip(1).peekable();
    if argv.peek().map(String::as_str) == Some("--child") {
        // Hidden: `--child PROBE RUNTIME --workers N`, a fresh process per
        // resource measurement (see compare/resources.rs).
        argv.next();
        let (probe, runtime) = (
            argv.next().unwrap_or_default(),
            argv.next().unwrap_or_default(),
        );
        let workers = match parse(argv) {
            Ok(a) => a.settings.workers,
            Err(e) => {
                eprintln!("compare --child: {e}");
                std::process::exit(2);
            }
        };
        if let Err(e) = resources::child(&probe, &runtime, workers) {
            eprintln!("compare --child: {e}");
            std::process::exit(2);
        }
        return;
    }
    if argv.peek().map(String::as_str) == Some(blocking::CHILD_ARG) {
        // Hidden: `--blocking-child --workers N`, smol's instance of the
        // capped blocking row (see compare/blocking.rs).
        argv.next();
        let run = parse(argv).and_then(|a| blocking::child(a.settings.workers));
        if let Err(e) = run {
            eprintln!("compare {}: {e}", blocking::CHILD_ARG);
            std::process::exit(2);
        }
        return;
    }
    let args = match parse(argv) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("compare: {e}");
            }
            eprintln!("{USAGE}");
            std::process::exit(if e.is_empty() { 0 } else { 2 });
        }
    };
    let s = &args.settings;
    let specs: Vec<_> = compare::all_specs()
        .into_iter()
        .filter(|spec| compare::selected(spec.name, s))
        .collect();
    let probes: Vec<&str> = resources::PROBES
        .into_iter()
        .filter(|p| compare::selected(p, s))
        .collect();
    if args.list {
        for spec in compare::all_specs() {
            println!("{:24} {:10} {}", spec.name, spec.family, spec.what);
        }
        for p in resources::PROBES {
            println!("{p:24} resources");
        }
        return;
    }
    if specs.is_empty() && probes.is_empty() {
        eprintln!("compare: no workload matches {:?} (see --list)", s.filter);
        std::process::exit(2);
    }

    let start = Instant::now();
    let load_before = first_line("/proc/loadavg").unwrap_or_default();
    compare::start_watchdog(s.hang_after);
    let mut failed = false;

    // The idle probes overlap the timed rounds (see resources.rs).
    let idle = if probes.contains(&"idle") {
        match resources::start("idle", s.workers) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("compare: {e}");
                failed = true;
                None
            }
        }
    } else {
        None
    };

    let mut outcomes = Vec::new();
    for (n, spec) in specs.iter().enumerate() {
        eprint!("[{:2}/{}] {:22} ", n + 1, specs.len(), spec.name);
        let o = compare::run_spec(spec, s);
        match &o.error {
            Some(e) => {
                failed = true;
                eprintln!("FAILED: {e}");
            }
            None => {
                let m = report::summarize(&o);
                let cells: Vec<String> = ["filch", "tokio", "smol", "floor"]
                    .iter()
                    .zip(m.median)
                    .filter_map(|(name, t)| Some(format!("{name} {}", report::fmt_time(t?))))
                    .collect();
                eprintln!(
                    "{}  ({} rounds x {} iterations, {:.1} s)",
                    cells.join(", "),
                    o.samples.len(),
                    o.iters,
                    o.elapsed.as_secs_f64()
                );
            }
        }
        outcomes.push(o);
    }

    let mut res: report::Resources = compare::RUNTIMES
        .iter()
        .map(|rt| (*rt, HashMap::new(), Vec::new()))
        .collect();
    let mut absorb = |results: Vec<(&'static str, resources::Figures)>| {
        for (rt, r) in results {
            let entry = res.iter_mut().find(|e| e.0 == rt).expect("a known runtime");
            match r {
                Ok(figs) => entry.1.extend(figs),
                Err(e) => {
                    failed = true;
                    entry.2.push(e);
                }
            }
        }
    };
    for (probe, child) in [
        ("task_memory", "tasks"),
        ("timeouts_peak_rss", "timeouts_rss"),
    ] {
        if probes.contains(&probe) {
            eprint!("[resources] {probe:22} ");
            let t = Instant::now();
            match resources::start(child, s.workers) {
                Ok(r) => absorb(resources::finish(r)),
                Err(e) => absorb(vec![("filch", Err(e))]),
            }
            eprintln!("({:.1} s)", t.elapsed().as_secs_f64());
        }
    }
    if let Some(r) = idle {
        eprint!("[resources] {:22} ", "idle");
        let t = Instant::now();
        absorb(resources::finish(r));
        eprintln!("(waited {:.1} s more)", t.elapsed().as_secs_f64());
    }

    let header = vec![
        ("commit", git_commit()),
        ("workers", s.workers.to_string()),
        ("rounds", s.rounds.to_string()),
        (
            "nproc",
            std::thread::available_parallelism()
                .map_or(0, |n| n.get())
                .to_string(),
        ),
        ("cpu", cpu_model()),
        (
            "kernel",
            first_line("/proc/sys/kernel/osrelease").unwrap_or_default(),
        ),
        ("loadavg_before", load_before),
        (
            "loadavg_after",
            first_line("/proc/loadavg").unwrap_or_default(),
        ),
        ("seconds", format!("{:.1}", start.elapsed().as_secs_f64())),
    ];
    let targets = report::targets(&outcomes, &res);

    println!(
        "filch compare: commit {}, {} workers per runtime, {} rounds, nproc {}, {}, Linux {}, \
         load {} before / {} after, {} s",
        header[0].1,
        s.workers,
        s.rounds,
        header[3].1,
        header[4].1,
        header[5].1,
        header[6].1.split_whitespace().next().unwrap_or("?"),
        header[7].1.split_whitespace().next().unwrap_or("?"),
        header[8].1,
    );
    println!("Time per iteration, median of the rounds; ratios are the median of the per-round");
    println!(
        "filch/other time ratios with a distribution-free 95 % interval (below 1: filch faster).\n"
    );
    if !outcomes.is_empty() {
        println!("{}", report::workload_table(&outcomes));
    }
    if !probes.is_empty() {
        println!("{}", report::resource_table(&res));
    }
    print!("{}", report::target_lines(&targets));

    if let Some(path) = &args.json
        && let Err(e) = std::fs::write(path, report::json(&header, &outcomes, &res, &targets))
    {
        eprintln!("compare: write {path}: {e}");
        failed = true;
    }
    if failed {
        eprintln!("compare: some workloads or probes failed (see above)");
        std::process::exit(1);
    }
}
