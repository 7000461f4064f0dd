#!/usr/bin/env bash
# Runs the stress, fault, shutdown and memory suites (crate filch-stress)
# under valgrind's memcheck: no memory error and no definite leak allowed.
#
#   scripts/valgrind.sh            # at STRESS_SCALE=0.01 (what CI runs)
#   scripts/valgrind.sh 0.05       # larger (about five times longer)
#   scripts/valgrind.sh 0.01 faults  # one test binary only
#
# Installs valgrind with apt-get if it is missing. Valgrind runs a program
# about 50 times slower and one thread at a time, so the suites run at a
# fraction of their size (STRESS_SCALE) with their watchdogs stretched
# (STRESS_VALGRIND=1). Prints, per binary, the wall time and valgrind's
# error and leak summary, and each scenario's figures.
set -euo pipefail
cd "$(dirname "$0")/.."

scale="${1:-${STRESS_SCALE:-0.01}}"
only="${2:-}"

if ! command -v valgrind >/dev/null; then
    echo "==> installing valgrind"
    apt-get install -y valgrind >/dev/null || { apt-get update -qq && apt-get install -y valgrind >/dev/null; }
fi

echo "==> building the suites"
bins=$(cargo test -p filch-stress --no-run 2>&1 |
    sed -n 's/^ *Executable tests\/\([a-z_]*\)\.rs (\(.*\))$/\1 \2/p')
[ -n "$bins" ] || { echo "no test binaries found" >&2; exit 1; }

status=0
while read -r name bin; do
    [ -z "$only" ] || [ "$only" = "$name" ] || continue
    log="target/valgrind-$name.log"
    echo "==> valgrind: $name (STRESS_SCALE=$scale)"
    start=$(date +%s)
    if STRESS_SCALE="$scale" STRESS_VALGRIND=1 valgrind \
        --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
        --show-leak-kinds=definite --fair-sched=yes --log-file="$log" \
        "$bin" --test-threads=1 --nocapture >"$log.out" 2>&1; then
        result=ok
    else
        result=FAILED
        status=1
    fi
    secs=$(( $(date +%s) - start ))
    summary=$(grep -E "ERROR SUMMARY|definitely lost|in use at exit" "$log" | sed 's/^==[0-9]*== *//' | paste -sd ';' -)
    tests=$(grep -E "^test result" "$log.out" || true)
    echo "    $result in ${secs}s: $tests"
    echo "    $summary"
    grep -o "\[stress\].*" "$log.out" | sed 's/^/    /' || true
    if [ "$result" = FAILED ]; then
        tail -n 40 "$log.out"
        grep -B2 -A25 -E "Invalid|uninitialised|definitely lost in" "$log" | head -n 120 || true
    fi
done <<<"$bins"
exit $status
