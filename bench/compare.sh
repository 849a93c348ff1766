#!/usr/bin/env bash
# compare.sh - our engine beside llama.cpp on the same GGUF files, the same
# machine and thread count, in the same run; prints a markdown table with the
# ratio (ours / llama.cpp) and, for tg rows, how close our decoding comes to
# the memory-bandwidth bound. Run it on an idle machine: another busy process
# ruins a 2-thread timing.
#
#   bash bench/compare.sh [-p 512] [-n 128] [-r 3] [-t 2] [-B GBPS] MODEL.gguf...
#
# llama.cpp is the prebuilt CPU library of the npm package node-llama-cpp,
# driven from C by bench/llamacpp_bench.c (no JavaScript in the timed loop).
#
# Bandwidth bound: decoding one token reads (about) every weight once, so
# tokens/s cannot exceed  bandwidth / bytes read per token.  The bytes come
# from the GGUF tensor table (build/model_bytes: all tensors, the token
# embedding table counted as one row unless the output matrix is tied to
# it); the bandwidth is the best read rate of build/bench_bandwidth at the
# same thread count, measured once per run of this script, or -B GBPS to
# give a known figure (GB/s, 10^9 bytes) instead. The column is ours / bound.
# KV-cache reads are left out (small for these short runs).
set -euo pipefail
cd "$(dirname "$0")/.."
P=512 N=128 R=3 T=2 BW=
usage() { echo "usage: $0 [-p N] [-n N] [-r N] [-t N] [-B GBPS] MODEL.gguf..." >&2; exit 2; }
while getopts "p:n:r:t:B:" opt; do
    case $opt in p) P=$OPTARG ;; n) N=$OPTARG ;; r) R=$OPTARG ;; t) T=$OPTARG ;; B) BW=$OPTARG ;; *) usage ;; esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || usage
for v in "$P" "$N" "$R" "$T"; do [[ $v =~ ^[0-9]+$ ]] || { echo "$0: '$v' is not a whole number" >&2; usage; }; done
[ -z "$BW" ] || [[ $BW =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "$0: -B wants GB/s, e.g. 61.5" >&2; usage; }
BUILD=${BUILD:-build}
LIBDIR=node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
for prog in infer llamacpp_bench model_bytes bench_bandwidth; do
    [ -x "$BUILD/$prog" ] || { echo "build first: make ($BUILD/$prog is missing)" >&2; exit 1; }
done
[ -d "$LIBDIR" ] || { echo "npm ci first (node-llama-cpp)" >&2; exit 1; }

if [ -z "$BW" ]; then
    BW=$("$BUILD/bench_bandwidth" -T "$T" -r 5 --json | node -e '
        const l = require("fs").readFileSync(0, "utf8").trim().split("\n").pop();
        console.log(JSON.parse(l).best_gbps.toFixed(2));')
    BW_SRC="bench_bandwidth, best of 5 passes over 1 GiB"
else
    BW_SRC="given with -B"
fi

echo "| model | test | threads | infer tok/s | llama.cpp tok/s | ratio | decode % of bandwidth bound |"
echo "|---|---|---|---|---|---|---|"
notes="read bandwidth with -t $T: $BW GB/s ($BW_SRC)"
for model in "$@"; do
    ours=$("$BUILD/infer" bench "$model" -p "$P" -n "$N" -r "$R" --threads "$T" --json 2>/dev/null)
    theirs=$("$BUILD/llamacpp_bench" "$LIBDIR" "$model" -p "$P" -n "$N" -r "$R" -t "$T" 2>/dev/null)
    bytes=$("$BUILD/model_bytes" "$model")
    out=$(node -e '
        const [ours, theirs, model, bw, bytes] = process.argv.slice(1);
        const parse = (s) => s.split("\n").filter(Boolean).map((l) => JSON.parse(l));
        const a = parse(ours), b = parse(theirs);
        const decodeBytes = Number(bytes.split(" ")[0]);
        const bound = (Number(bw) * 1e9) / decodeBytes; /* tokens per second */
        const name = model.split("/").pop();
        for (const x of a) {
            const y = b.find((z) => z.test === x.test);
            const f = (r) => `${r.tokens_per_second.toFixed(1)} ± ${r.sd.toFixed(1)}`;
            const ratio = y ? (x.tokens_per_second / y.tokens_per_second).toFixed(2) : "n/a";
            const pct = x.test.startsWith("tg") ? `${((100 * x.tokens_per_second) / bound).toFixed(1)} %` : "";
            console.log(`| ${name} | ${x.test} | ${x.threads} | ${f(x)} | ${y ? f(y) : "n/a"} | ${ratio} | ${pct} |`);
        }
        console.log(`#NOTE ${name}: ${(decodeBytes / 1e6).toFixed(1)} MB read per token, bound ${bound.toFixed(1)} tok/s`);
        ' "$ours" "$theirs" "$model" "$BW" "$bytes")
    grep -v '^#NOTE ' <<<"$out" || true
    notes+=$'\n'"$(grep '^#NOTE ' <<<"$out" | sed 's/^#NOTE //')"
done
echo
echo "$notes"
