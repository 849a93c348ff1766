#!/usr/bin/env bash
# contention.sh - decoding speed when another process keeps one core busy.
# Our 1-thread decode on an idle machine is the yardstick; then, with a busy
# loop pinned to CPU 1 (taskset; our process is not pinned), the 2-thread
# decode of our engine and of llama.cpp. Prints a markdown table: engine,
# threads, condition, tg tok/s and the ratio to our 1-thread idle figure.
# The target: our contended 2-thread ratio stays >= 1 (the thread pool drops
# to the threads that keep pace, src/tensor/threadpool.h), where a spinning
# barrier collapses.
#
#   bash bench/contention.sh [-n 64] [-r 2] [-S 300] [-f] MODEL.gguf
#
#   -n N   tokens per tg run [64]          -r N   rounds [2] (one run of each test per round)
#   -S S   bound on each busy loop, seconds [300] (it is also killed on exit)
#   -f     also the idle 2-thread rows of both engines and llama.cpp's idle
#          1-thread row
#
# Needs 2+ CPUs, `make` (build/infer, build/llamacpp_bench) and npm ci
# (node-llama-cpp's prebuilt library). Start it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
N=64 R=2 SPIN_S=300 FULL=0
usage() { echo "usage: $0 [-n N] [-r N] [-S SECONDS] [-f] MODEL.gguf" >&2; exit 2; }
while getopts "n:r:S:f" opt; do
    case $opt in n) N=$OPTARG ;; r) R=$OPTARG ;; S) SPIN_S=$OPTARG ;; f) FULL=1 ;; *) usage ;; esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
MODEL=$1
for v in "$N" "$R" "$SPIN_S"; do [[ $v =~ ^[0-9]+$ && $v -gt 0 ]] || { echo "$0: '$v' is not a positive whole number" >&2; usage; }; done
[ -f "$MODEL" ] || { echo "$0: no such model: $MODEL" >&2; exit 1; }
BUILD=${BUILD:-build}
LIBDIR=node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
for prog in infer llamacpp_bench; do
    [ -x "$BUILD/$prog" ] || { echo "build first: make ($BUILD/$prog is missing)" >&2; exit 1; }
done
[ -d "$LIBDIR" ] || { echo "npm ci first (node-llama-cpp)" >&2; exit 1; }
command -v taskset >/dev/null || { echo "$0: taskset (util-linux) is needed" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "$0: needs 2 CPUs or more (CPU 1 gets the busy loop)" >&2; exit 1; }
read -r load1 _ </proc/loadavg
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
    echo "warning: load average $load1: the idle figures will be low" >&2
fi

# The busy loop: a shell spinning on CPU 1, bounded by timeout, killed on
# exit whatever happens (timeout passes our TERM on to the shell).
SPIN_PID=
stop_spinner() {
    if [ -n "$SPIN_PID" ]; then
        kill "$SPIN_PID" 2>/dev/null || true
        wait "$SPIN_PID" 2>/dev/null || true
        SPIN_PID=
    fi
}
trap stop_spinner EXIT
trap 'stop_spinner; exit 130' INT TERM
start_spinner() {
    taskset -c 1 timeout "$SPIN_S" sh -c 'while :; do :; done' &
    SPIN_PID=$!
    sleep 0.3 # let it take the core
}

# One JSON line -> tokens per second of its tg test ("" when absent).
tg_rate() {
    node -e '
        const lines = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l.startsWith("{"));
        const r = lines.map((l) => JSON.parse(l)).find((x) => String(x.test).startsWith("tg"));
        console.log(r ? r.tokens_per_second.toFixed(2) : "");'
}
ours() { "$BUILD/infer" bench "$MODEL" -p 0 -n "$N" -r 1 --threads "$1" --json 2>/dev/null | tg_rate; }
theirs() { "$BUILD/llamacpp_bench" "$LIBDIR" "$MODEL" -p 0 -n "$N" -r 1 -t "$1" 2>/dev/null | tg_rate; }

# R rounds, each: our 1-thread idle run, then with CPU 1 busy our 2-thread
# run and llama.cpp's. A round's ratios are taken against the idle run of
# the same round, so a drift of the machine's speed during the script (this
# VM's is large) falls on both sides of each ratio.
base=() ours2=() theirs2=() ours2_idle=() theirs1_idle=() theirs2_idle=()
for ((round = 1; round <= R; round++)); do
    b=$(ours 1)
    [ -n "$b" ] || { echo "$0: infer bench gave no tg figure" >&2; exit 1; }
    base+=("$b")
    if [ "$FULL" = 1 ]; then
        ours2_idle+=("$(ours 2)")
        theirs1_idle+=("$(theirs 1)")
        theirs2_idle+=("$(theirs 2)")
    fi
    start_spinner
    ours2+=("$(ours 2)")
    theirs2+=("$(theirs 2)")
    stop_spinner
done

# "mean ± sd" of rates, and "mean [min-max]" of their ratios to base[i].
summary() {
    node -e '
        const [rates, base] = process.argv.slice(1).map((s) => s.split(" ").filter(Boolean).map(Number));
        if (!rates.length || rates.some(isNaN)) { console.log("n/a|n/a"); process.exit(0); }
        const stats = (v) => {
            const m = v.reduce((a, x) => a + x, 0) / v.length;
            const sd = v.length > 1 ? Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / (v.length - 1)) : 0;
            return [m, sd];
        };
        const [m, sd] = stats(rates);
        const ratios = rates.map((r, i) => r / base[i]);
        const [rm] = stats(ratios);
        console.log(`${m.toFixed(2)} ± ${sd.toFixed(2)}|${rm.toFixed(2)} [${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}]`);
        ' "$1" "$2"
}

echo "$(basename "$MODEL"), tg$N, $R rounds; ratio = tok/s / infer's 1-thread idle tok/s of the same round: mean [min-max]"
echo
echo "| engine | threads | condition | tg tok/s | ratio |"
echo "|---|---|---|---|---|"
row() { IFS='|' read -r rate ratio <<<"$(summary "$4" "${base[*]}")"; echo "| $1 | $2 | $3 | $rate | $ratio |"; }
row infer 1 idle "${base[*]}"
if [ "$FULL" = 1 ]; then
    row infer 2 idle "${ours2_idle[*]}"
    row llama.cpp 1 idle "${theirs1_idle[*]}"
    row llama.cpp 2 idle "${theirs2_idle[*]}"
fi
row infer 2 "contended (CPU 1 busy)" "${ours2[*]}"
row llama.cpp 2 "contended (CPU 1 busy)" "${theirs2[*]}"
