//! The comparison's output: the workload table, the resource table, the
//! targets with their verdicts, and the same as JSON. Owns formatting and
//! the target rules; measuring is `mod.rs`'s and `resources.rs`'s.

use super::{Kind, Outcome};
use crate::stats::{median, median_with_ci};
use std::collections::HashMap;
use std::fmt::Write as _;

/// A ratio's median over the rounds and its 95 % interval.
pub type Ratio = (f64, Option<(f64, f64)>);

/// One workload's figures, reduced.
#[derive(Debug)]
pub struct Summary {
    /// Median seconds per iteration: filch, tokio, smol, floor.
    pub median: [Option<f64>; 4],
    /// filch/tokio and filch/smol, per-round ratios.
    pub vs: [Option<Ratio>; 2],
    /// filch/floor, median of the per-round ratios.
    pub floor_multiple: Option<f64>,
}

pub fn summarize(o: &Outcome) -> Summary {
    let col = |c: usize| -> Vec<f64> { o.samples.iter().filter_map(|r| r[c]).collect() };
    let med = |c: usize| {
        let v = col(c);
        (!v.is_empty()).then(|| median(&v))
    };
    let ratios = |c: usize| -> Vec<f64> {
        o.samples
            .iter()
            .filter_map(|r| Some(r[0]? / r[c]?))
            .collect()
    };
    let ratio = |c: usize| {
        let v = ratios(c);
        (!v.is_empty()).then(|| median_with_ci(&v))
    };
    let floor = ratios(3);
    Summary {
        median: [med(0), med(1), med(2), med(3)],
        vs: [ratio(1), ratio(2)],
        floor_multiple: (!floor.is_empty()).then(|| median(&floor)),
    }
}

/// Seconds with three significant digits and a unit.
pub fn fmt_time(s: f64) -> String {
    let (v, unit) = if s >= 1.0 {
        (s, "s")
    } else if s >= 1e-3 {
        (s * 1e3, "ms")
    } else if s >= 1e-6 {
        (s * 1e6, "µs")
    } else {
        (s * 1e9, "ns")
    };
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {unit}")
}

fn fmt_ratio(r: &Option<Ratio>) -> String {
    match r {
        None => "–".into(),
        Some((m, None)) => format!("{m:.2}"),
        Some((m, Some((lo, hi)))) => format!("{m:.2} ({lo:.2}–{hi:.2})"),
    }
}

fn fmt_opt_time(t: Option<f64>) -> String {
    t.map_or("–".into(), fmt_time)
}

/// The workload table, in markdown.
pub fn workload_table(outcomes: &[Outcome]) -> String {
    let mut s = String::new();
    s.push_str(
        "| workload | one iteration | filch | tokio | smol | filch/tokio | filch/smol | floor | filch/floor |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for o in outcomes {
        if let Some(e) = &o.error {
            let _ = writeln!(s, "| {} | {} | **failed**: {e} |||||||", o.name, o.what);
            continue;
        }
        let m = summarize(o);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            o.name,
            o.what,
            fmt_opt_time(m.median[0]),
            fmt_opt_time(m.median[1]),
            fmt_opt_time(m.median[2]),
            fmt_ratio(&m.vs[0]),
            fmt_ratio(&m.vs[1]),
            fmt_opt_time(m.median[3]),
            m.floor_multiple.map_or("–".into(), |f| format!("{f:.1}x")),
        );
    }
    s
}

/// Each runtime's resource figures (`key=value` from its children), or why
/// they are missing.
pub type Resources = Vec<(&'static str, HashMap<String, f64>, Vec<String>)>;

fn get(figs: &HashMap<String, f64>, k: &str) -> Option<f64> {
    figs.get(k).copied()
}

fn fmt_bytes(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{b:.0} B")
    }
}

/// The resource table, in markdown.
pub fn resource_table(res: &Resources) -> String {
    let mut s = String::new();
    s.push_str(
        "| runtime | bytes per pending task | idle CPU in 5 s | idle wake-ups in 5 s | threads | peak RSS, 1M timeouts |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for (rt, figs, errors) in res {
        let cell = |v: Option<String>| v.unwrap_or_else(|| "–".into());
        let _ = writeln!(
            s,
            "| {rt} | {} | {} | {} | {} | {} |{}",
            cell(get(figs, "bytes_per_task").map(|b| format!("{b:.0}"))),
            cell(get(figs, "idle_cpu_ns").map(|ns| fmt_time(ns * 1e-9))),
            cell(get(figs, "idle_wakeups").map(|w| format!("{w:.0}"))),
            cell(get(figs, "threads").map(|t| format!("{t:.0}"))),
            cell(get(figs, "peak_rss").map(fmt_bytes)),
            if errors.is_empty() {
                String::new()
            } else {
                format!(" failed: {}", errors.join("; "))
            }
        );
    }
    s
}

/// One target and its verdict.
#[derive(Debug)]
pub struct Target {
    pub what: String,
    pub value: f64,
    /// The value must be at or below this.
    pub limit: f64,
    /// Whether the 95 % interval straddles the limit (not separable).
    pub straddles: bool,
}

impl Target {
    pub fn met(&self) -> bool {
        self.value <= self.limit
    }
}

fn ratio_target(name: &str, against: &str, r: &Option<Ratio>, out: &mut Vec<Target>) {
    ratio_target_at(name, against, 1.0, r, out)
}

fn ratio_target_at(
    name: &str,
    against: &str,
    limit: f64,
    r: &Option<Ratio>,
    out: &mut Vec<Target>,
) {
    if let Some((m, ci)) = r {
        out.push(Target {
            what: format!("{name}: filch/{against} at or below {limit:.1}"),
            value: *m,
            limit,
            straddles: ci.is_some_and(|(lo, hi)| lo <= limit && hi >= limit),
        });
    }
}

/// The targets, checked against the figures.
pub fn targets(outcomes: &[Outcome], res: &Resources) -> Vec<Target> {
    let mut out = Vec::new();
    for o in outcomes.iter().filter(|o| o.error.is_none()) {
        let m = summarize(o);
        match o.kind {
            Kind::Sched | Kind::Timer | Kind::Sync => {
                ratio_target(o.name, "tokio", &m.vs[0], &mut out);
                ratio_target(o.name, "smol", &m.vs[1], &mut out);
            }
            Kind::Io => ratio_target(
                o.name,
                "tokio (time, so throughput at or above)",
                &m.vs[0],
                &mut out,
            ),
            Kind::Blocking { limit_pct } => ratio_target_at(
                o.name,
                "tokio",
                f64::from(limit_pct) / 100.0,
                &m.vs[0],
                &mut out,
            ),
        }
        if o.kind == Kind::Sched
            && let Some(f) = m.floor_multiple
        {
            out.push(Target {
                what: format!("{}: filch within 3x of its floor", o.name),
                value: f,
                limit: 3.0,
                straddles: false,
            });
        }
    }
    let tokio_bytes = res
        .iter()
        .find(|(rt, _, _)| *rt == "tokio")
        .and_then(|(_, f, _)| get(f, "bytes_per_task"));
    for (rt, figs, _) in res.iter().filter(|(rt, _, _)| *rt == "filch") {
        if let (Some(b), Some(t)) = (get(figs, "bytes_per_task"), tokio_bytes) {
            out.push(Target {
                what: format!("{rt}: bytes per pending task at or below tokio's ({t:.0})"),
                value: b,
                limit: t,
                straddles: false,
            });
        }
        if let Some(ns) = get(figs, "idle_cpu_ns") {
            out.push(Target {
                what: format!("{rt}: idle CPU in 5 s under 1 ms (in ms)"),
                value: ns * 1e-6,
                limit: 1.0,
                straddles: false,
            });
        }
        if let Some(w) = get(figs, "idle_wakeups") {
            out.push(Target {
                what: format!("{rt}: no idle wake-ups"),
                value: w,
                limit: 0.0,
                straddles: false,
            });
        }
    }
    out
}

/// The verdicts, one per line.
pub fn target_lines(targets: &[Target]) -> String {
    let mut s = String::new();
    let met = targets.iter().filter(|t| t.met()).count();
    let _ = writeln!(s, "targets: {met} of {} met", targets.len());
    for t in targets {
        let _ = writeln!(
            s,
            "  {} {} = {:.3}{}",
            if t.met() { "met   " } else { "MISSED" },
            t.what,
            t.value,
            if t.straddles {
                " (95% interval spans the limit)"
            } else {
                ""
            }
        );
    }
    s
}

// ---- JSON ------------------------------------------------------------------

fn jstr(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn jnum(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:e}"),
        _ => "null".into(),
    }
}

fn jratio(r: &Option<Ratio>) -> String {
    match r {
        None => "null".into(),
        Some((m, ci)) => format!(
            "{{\"median\": {}, \"lo\": {}, \"hi\": {}}}",
            jnum(Some(*m)),
            jnum(ci.map(|c| c.0)),
            jnum(ci.map(|c| c.1))
        ),
    }
}

/// Everything as one JSON document.
pub fn json(
    header: &[(&str, String)],
    outcomes: &[Outcome],
    res: &Resources,
    targets: &[Target],
) -> String {
    let mut s = String::from("{\n");
    for (k, v) in header {
        let _ = writeln!(s, "  {}: {},", jstr(k), jstr(v));
    }
    s.push_str("  \"workloads\": [\n");
    for (i, o) in outcomes.iter().enumerate() {
        let m = summarize(o);
        let per_iter = |c: usize| jnum(m.median[c]);
        let per_op = |c: usize| jnum(m.median[c].map(|t| t / o.ops as f64));
        let _ = write!(
            s,
            "    {{\"name\": {}, \"family\": {}, \"what\": {}, \"ops\": {}, \"iters\": {}, \"rounds\": {}, \
             \"error\": {}, \"seconds\": {:.3},\n     \"median_s\": {{\"filch\": {}, \"tokio\": {}, \"smol\": {}, \"floor\": {}}},\n     \
             \"per_op_s\": {{\"filch\": {}, \"tokio\": {}, \"smol\": {}, \"floor\": {}}},\n     \
             \"filch_vs_tokio\": {}, \"filch_vs_smol\": {}, \"filch_vs_floor\": {},\n     \"samples_s\": [",
            jstr(o.name),
            jstr(o.family),
            jstr(o.what),
            o.ops,
            o.iters,
            o.samples.len(),
            o.error.as_deref().map_or("null".into(), jstr),
            o.elapsed.as_secs_f64(),
            per_iter(0),
            per_iter(1),
            per_iter(2),
            per_iter(3),
            per_op(0),
            per_op(1),
            per_op(2),
            per_op(3),
            jratio(&m.vs[0]),
            jratio(&m.vs[1]),
            jnum(m.floor_multiple),
        );
        for (j, r) in o.samples.iter().enumerate() {
            let cells: Vec<String> = r.iter().map(|v| jnum(*v)).collect();
            let _ = write!(s, "{}[{}]", if j > 0 { ", " } else { "" }, cells.join(", "));
        }
        let _ = writeln!(s, "]}}{}", if i + 1 < outcomes.len() { "," } else { "" });
    }
    s.push_str("  ],\n  \"resources\": [\n");
    for (i, (rt, figs, errors)) in res.iter().enumerate() {
        let mut keys: Vec<_> = figs.iter().collect();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        let fields: Vec<String> = keys
            .iter()
            .map(|(k, v)| format!("{}: {}", jstr(k), jnum(Some(**v))))
            .collect();
        let errs: Vec<String> = errors.iter().map(|e| jstr(e)).collect();
        let _ = writeln!(
            s,
            "    {{\"runtime\": {}, {}{}\"errors\": [{}]}}{}",
            jstr(rt),
            fields.join(", "),
            if fields.is_empty() { "" } else { ", " },
            errs.join(", "),
            if i + 1 < res.len() { "," } else { "" }
        );
    }
    s.push_str("  ],\n  \"targets\": [\n");
    for (i, t) in targets.iter().enumerate() {
        let _ = writeln!(
            s,
            "    {{\"what\": {}, \"value\": {}, \"limit\": {}, \"met\": {}, \"interval_spans_limit\": {}}}{}",
            jstr(&t.what),
            jnum(Some(t.value)),
            jnum(Some(t.limit)),
            t.met(),
            t.straddles,
            if i + 1 < targets.len() { "," } else { "" }
        );
    }
    s.push_str("  ]\n}\n");
    s
}
