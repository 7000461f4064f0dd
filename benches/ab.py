#!/usr/bin/env python3
"""Interleaved A/B comparison of criterion benchmark ids, for changes whose
effect is smaller than the drift between criterion's back-to-back windows on
a noisy machine.

Two forms:

  ab.py BIN_A BIN_B GROUP/ID [GROUP/ID ...]
      the same benchmark id in two builds of one bench binary (before/after
      a change): e.g. the rt_multi_threaded binary of the base commit and of
      this one, ids spawn_many_local/filch, chained_spawn/filch, ...

  ab.py BIN GROUP/ID_A=GROUP/ID_B [...]
      two ids of one binary (e.g. spawn_many_local/filch-debug=spawn_many_local/filch)

Each round runs every pair once, A and B in alternating order, with short
criterion windows (ROUND_SECS, default 1.5 s, after 0.5 s of warm-up), and
records the ratio of the two medians. The result per pair is the median of
the per-round ratios B / A with a distribution-free 95 % interval (order
statistics of the binomial(n, 1/2)), so a ratio below 1 means B is faster.

Environment: ROUNDS (default 10), ROUND_SECS.
"""
import json
import math
import os
import subprocess
import sys
import tempfile

ROUNDS = int(os.environ.get("ROUNDS", "10"))
SECS = os.environ.get("ROUND_SECS", "1.5")


def run(binary, bench_id, home):
    group, rid = bench_id.split("/", 1)
    env = dict(os.environ, CRITERION_HOME=home)
    subprocess.run(
        [binary, "--bench", f"^{group}/{rid}$", "--warm-up-time", "0.5",
         "--measurement-time", SECS, "--noplot"],
        check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(home, group, rid, "new", "estimates.json")) as f:
        return json.load(f)["median"]["point_estimate"]


def interval(n):
    """0-based indices (lo, hi) of the widest-margin order statistics whose
    interval [x_(j), x_(n+1-j)] covers the median with probability >= 95 %:
    1 - 2 P(X <= j - 1) for X ~ binomial(n, 1/2). The whole range when n is
    too small for 95 %."""
    best = (0, n - 1)
    for j in range(1, n // 2 + 1):
        cover = 1 - 2 * sum(math.comb(n, i) for i in range(j)) / 2 ** n
        if cover < 0.95:
            break
        best = (j - 1, n - j)
    return best


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    if os.path.isfile(argv[2]) and os.access(argv[2], os.X_OK):
        a_bin, b_bin, ids = argv[1], argv[2], argv[3:]
        pairs = [((a_bin, i), (b_bin, i), i) for i in ids]
    else:
        b = argv[1]
        pairs = []
        for spec in argv[2:]:
            x, y = spec.split("=")
            pairs.append(((b, y), (b, x), spec))
    homes = [tempfile.mkdtemp(prefix="ab-a-"), tempfile.mkdtemp(prefix="ab-b-")]
    ratios = {label: [] for _, _, label in pairs}
    for r in range(ROUNDS):
        for (a, b, label) in pairs:
            order = [(0, a), (1, b)] if r % 2 == 0 else [(1, b), (0, a)]
            t = {}
            for side, (binary, bid) in order:
                t[side] = run(binary, bid, homes[side])
            ratios[label].append(t[1] / t[0])
            print(f"round {r + 1}/{ROUNDS} {label}: B/A {t[1] / t[0]:.3f} "
                  f"(A {t[0] / 1e3:.1f} us, B {t[1] / 1e3:.1f} us)", file=sys.stderr)
    print(f"| benchmark | B / A median | 95 % interval | rounds |")
    print(f"|---|---|---|---|")
    for _, _, label in pairs:
        xs = sorted(ratios[label])
        lo, hi = interval(len(xs))
        print(f"| {label} | {median(xs):.3f} | {xs[lo]:.3f}–{xs[hi]:.3f} | {len(xs)} |")


if __name__ == "__main__":
    main(sys.argv)
