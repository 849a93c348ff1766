#!/usr/bin/env bash
# compare.sh - our engine beside llama.cpp on the same GGUF files, the same
# machine and thread count, in the same run; prints a markdown table with the
# ratio (ours / llama.cpp). Run it on an idle machine: another busy process
# ruins a 2-thread timing.
#
#   bash bench/compare.sh [-p 512] [-n 128] [-r 3] [-t 2] MODEL.gguf...
#
# llama.cpp is the prebuilt CPU library of the npm package node-llama-cpp,
# driven from C by bench/llamacpp_bench.c (no JavaScript in the timed loop).
set -euo pipefail
cd "$(dirname "$0")/.."
P=512 N=128 R=3 T=2
while getopts "p:n:r:t:" opt; do
    case $opt in p) P=$OPTARG ;; n) N=$OPTARG ;; r) R=$OPTARG ;; t) T=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "usage: $0 [-p N] [-n N] [-r N] [-t N] MODEL.gguf..." >&2; exit 2; }
BUILD=${BUILD:-build}
LIBDIR=node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
[ -x "$BUILD/infer" ] && [ -x "$BUILD/llamacpp_bench" ] || { echo "build first: make" >&2; exit 1; }
[ -d "$LIBDIR" ] || { echo "npm ci first (node-llama-cpp)" >&2; exit 1; }

echo "| model | test | threads | infer tok/s | llama.cpp tok/s | ratio |"
echo "|---|---|---|---|---|---|"
for model in "$@"; do
    ours=$("$BUILD/infer" bench "$model" -p "$P" -n "$N" -r "$R" --threads "$T" --json 2>/dev/null)
    theirs=$("$BUILD/llamacpp_bench" "$LIBDIR" "$model" -p "$P" -n "$N" -r "$R" -t "$T" 2>/dev/null)
    node -e '
        const [ours, theirs, model] = process.argv.slice(1);
        const parse = (s) => s.split("\n").filter(Boolean).map((l) => JSON.parse(l));
        const a = parse(ours), b = parse(theirs);
        for (const x of a) {
            const y = b.find((z) => z.test === x.test);
            const f = (r) => `${r.tokens_per_second.toFixed(1)} ± ${r.sd.toFixed(1)}`;
            const ratio = y ? (x.tokens_per_second / y.tokens_per_second).toFixed(2) : "n/a";
            console.log(`| ${model.split("/").pop()} | ${x.test} | ${x.threads} | ${f(x)} | ${y ? f(y) : "n/a"} | ${ratio} |`);
        }' "$ours" "$theirs" "$model"
done
