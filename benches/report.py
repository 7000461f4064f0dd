#!/usr/bin/env python3
"""Prints the median of every criterion benchmark as a markdown table, one
row per workload, one column per runtime, with ratios against tokio.

Usage: python3 benches/report.py [target/criterion] [group-prefix]
Run it after `cargo bench -p filch-benches`; it reads each
<group>/<runtime>/new/estimates.json that criterion wrote.
"""
import json
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
prefix = sys.argv[2] if len(sys.argv) > 2 else ""
runtimes = ["filch", "filch-pool-only", "filch-debug", "tokio", "smol", "async-executor", "filch-sync-on-tokio"]


def fmt(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


rows = {}
for dirpath, dirnames, filenames in os.walk(root):
    if "estimates.json" in filenames and os.path.basename(dirpath) == "new":
        bench = os.path.relpath(os.path.dirname(dirpath), root)
        group, runtime = os.path.split(bench)
        if runtime not in runtimes or not group.startswith(prefix):
            continue
        with open(os.path.join(dirpath, "estimates.json")) as f:
            median = json.load(f)["median"]["point_estimate"]
        rows.setdefault(group, {})[runtime] = median

present = [r for r in runtimes if any(r in v for v in rows.values())]
extra = "filch-pool-only" in present and "tokio" in present
header = ["workload"] + present + [f"filch/{r}" for r in present if r != "filch"]
if extra:
    header.append("filch-pool-only/tokio")
print("| " + " | ".join(header) + " |")
print("|" + "---|" * len(header))
for group in sorted(rows):
    v = rows[group]
    cells = [group] + [fmt(v[r]) if r in v else "–" for r in present]
    for r in present:
        if r == "filch":
            continue
        cells.append(f"{v['filch'] / v[r]:.2f}" if "filch" in v and r in v else "–")
    if extra:
        p, t = v.get("filch-pool-only"), v.get("tokio")
        cells.append(f"{p / t:.2f}" if p and t else "–")
    print("| " + " | ".join(cells) + " |")
