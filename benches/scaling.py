#!/usr/bin/env python3
"""Compares `compare --json` results taken with different --workers: per
workload and runtime, the time per operation relative to the first file,
flagging any that is more than 2x worse (the issue's "nothing collapses"
rule).

Usage:
  cargo run --release -p filch-benches --bin compare -- --workers 2 --json w2.json
  cargo run --release -p filch-benches --bin compare -- --workers 16 --json w16.json
  python3 benches/scaling.py w2.json w8.json w16.json
"""
import json
import sys

if len(sys.argv) < 3:
    sys.exit(__doc__)
runs = [json.load(open(p)) for p in sys.argv[1:]]
base = runs[0]
names = [w["name"] for w in base["workloads"]]
runtimes = ["filch", "tokio", "smol"]
head = ["workload"] + [
    f"{rt} x{r['workers']}/x{base['workers']}" for r in runs[1:] for rt in runtimes
]
print("| " + " | ".join(head) + " |")
print("|---" * len(head) + "|")
worst = []
for name in names:
    row = [name]
    b = next(w for w in base["workloads"] if w["name"] == name)
    for r in runs[1:]:
        w = next((w for w in r["workloads"] if w["name"] == name), None)
        for rt in runtimes:
            x = b["per_op_s"][rt]
            y = w["per_op_s"][rt] if w else None
            if x and y:
                ratio = y / x
                flag = " **>2x**" if ratio > 2 else ""
                if ratio > 2:
                    worst.append(f"{name} on {rt} at {r['workers']} workers: {ratio:.2f}x")
                row.append(f"{ratio:.2f}{flag}")
            else:
                row.append("–")
    print("| " + " | ".join(row) + " |")
print()
print("more than 2x worse per operation: " + ("; ".join(worst) if worst else "none"))
