#!/usr/bin/env bash
# serve_load.sh - a bounded load run of `infer serve` on loopback: starts the
# server on a free 127.0.0.1 port, warms it up, then runs ROUNDS rounds of N
# requests from C concurrent clients (bench/serve_load.mjs, node's fetch, no
# dependencies), printing requests/s, latency p50/p90/p99 and errors per
# round and the server's resident memory (VmRSS) before and after each round.
#
#   bash bench/serve_load.sh [-n 200] [-c 8] [-t 32] [-r 2] [-p PARALLEL] [MODEL.gguf]
set -euo pipefail
cd "$(dirname "$0")/.."
N=200 C=8 T=32 R=2 P=4
while getopts "n:c:t:r:p:" opt; do
    case $opt in n) N=$OPTARG ;; c) C=$OPTARG ;; t) T=$OPTARG ;; r) R=$OPTARG ;; p) P=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
MODEL=${1:-models/stories260K.gguf}
BUILD=${BUILD:-build}
[ -x "$BUILD/infer" ] || { echo "build first: make" >&2; exit 1; }
[ -f "$MODEL" ] || { echo "no model: $MODEL" >&2; exit 1; }
command -v node >/dev/null || { echo "node is needed" >&2; exit 1; }

ERR=$(mktemp)
"$BUILD/infer" serve "$MODEL" --host 127.0.0.1 --port 0 --parallel "$P" 2>"$ERR" &
PID=$!
trap 'kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; rm -f "$ERR"' EXIT
port=
for _ in $(seq 1 300); do
    port=$(sed -n 's/.*serving on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$ERR")
    [ -n "$port" ] && break
    kill -0 "$PID" 2>/dev/null || { cat "$ERR" >&2; exit 1; }
    sleep 0.1
done
[ -n "$port" ] || { echo "the server did not start" >&2; exit 1; }
URL=http://127.0.0.1:$port
rss() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }

echo "model $(basename "$MODEL"), --parallel $P, $N requests x $R rounds, concurrency $C, max_tokens $T"
node bench/serve_load.mjs "$URL" 16 "$C" "$T" >/dev/null   # warm-up
for r in $(seq 1 "$R"); do
    before=$(rss)
    out=$(node bench/serve_load.mjs "$URL" "$N" "$C" "$T")
    after=$(rss)
    echo "round $r: $out rss_kib_before=$before rss_kib_after=$after"
done
curl -s "$URL/metrics" 2>/dev/null | grep -E '^infer_(requests|errors|rejected)_total' || true
