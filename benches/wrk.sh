#!/usr/bin/env bash
# hyper 1.x HTTP/1 hello-world under wrk: filch vs tokio, 2 workers each.
#
# Installs wrk (Debian package) if missing, builds benches/examples/hyper_hello.rs
# in release mode, then for each round runs the filch server and the tokio
# server in turn on loopback (alternating which goes first, so neither always
# runs second), loads each with the same wrk command, and prints both
# requests/s and server CPU time per request, and their ratios. With 3 or more rounds it ends with the median of
# the per-round ratios and, from 10 rounds, a distribution-free 95 % interval
# for it: on a noisy VM one pair of long runs differs by more than the
# runtimes do. Loopback only; every run is bounded by DURATION. Knobs
# (environment): DURATION (10s), CONNS (64), THREADS (2), ROUNDS (1),
# WARMUP (2s).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-1}
WARMUP=${WARMUP:-2s}
PORT=${PORT:-18080}

if ! command -v wrk >/dev/null 2>&1; then
    echo "installing wrk (apt-get)..." >&2
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
    $SUDO apt-get update -qq >&2
    $SUDO apt-get install -y -qq wrk >&2
fi

cargo build --release -q -p filch-benches --example hyper_hello
BIN="${CARGO_TARGET_DIR:-target}/release/examples/hyper_hello"

server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

# run RUNTIME -> prints "requests/s server-CPU-µs-per-request" (the server's
# user + system time over the measured window, from /proc; Linux only)
run() {
    local runtime=$1
    "$BIN" "$runtime" "$PORT" 2>/dev/null &
    server_pid=$!
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
        sleep 0.1
    done
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "http://127.0.0.1:$PORT/" >/dev/null
    local out cpu0 cpu1
    cpu0=$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat")
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$PORT/")
    cpu1=$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat")
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    echo "$out" | awk -v c0="$cpu0" -v c1="$cpu1" -v hz="$(getconf CLK_TCK)" '
        /requests in/ { n = $1 }
        /Requests\/sec/ { rps = $2 }
        END { printf "%s %.2f\n", rps, (c1 - c0) / hz * 1e6 / n }'
}

# summarize WHAT < ratios -> the median (and from 10 values a distribution-free
# 95 % interval: order statistics n/2 -/+ 0.98 sqrt(n)) of the ratios on stdin
summarize() {
    sort -g | awk -v what="$1" '
        { r[NR] = $1 }
        END {
            n = NR
            med = (n % 2) ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
            line = sprintf("filch/tokio %s: median of %d per-round ratios %.3f", what, n, med)
            if (n >= 10) {
                k = int(n / 2 - 0.98 * sqrt(n))
                line = line sprintf(" (95%% interval %.3f-%.3f)", r[k + 1], r[n - k])
            }
            print line
        }'
}

echo "wrk -t$THREADS -c$CONNS -d$DURATION, hyper hello server with 2 workers; nproc=$(nproc)"
ratios=()
cpu_ratios=()
for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then
        read -r f fc <<<"$(run filch)"
        read -r t tc <<<"$(run tokio)"
    else
        read -r t tc <<<"$(run tokio)"
        read -r f fc <<<"$(run filch)"
    fi
    ratio=$(awk -v f="$f" -v t="$t" 'BEGIN { printf "%.3f", f / t }')
    cpu_ratio=$(awk -v f="$fc" -v t="$tc" 'BEGIN { printf "%.3f", f / t }')
    ratios+=("$ratio")
    cpu_ratios+=("$cpu_ratio")
    echo "round $round: filch $f req/s ($fc µs CPU/req), tokio $t req/s ($tc µs CPU/req), filch/tokio $ratio req/s, $cpu_ratio CPU/req"
done

if [ "$ROUNDS" -ge 3 ]; then
    printf '%s\n' "${ratios[@]}" | summarize "req/s (above 1: filch faster)"
    printf '%s\n' "${cpu_ratios[@]}" | summarize "server CPU per request (below 1: filch cheaper)"
fi
