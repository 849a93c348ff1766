#!/usr/bin/env bash
# compare.sh - our engine beside llama.cpp on the same GGUF files, the same
# machine and thread count, in the same run; prints a markdown table with the
# ratio (ours / llama.cpp) and, for tg rows, how close our decoding comes to
# the memory-bandwidth bound. Run it on an idle machine: another busy process
# ruins a 2-thread timing.
#
#   bash bench/compare.sh [-p 512] [-n 128] [-r 3] [-t 2] [-B GBPS] MODEL.gguf...
#
# Columns: mean ± sd of tok/s over the R runs of each engine, the ratio of
# the means, and for tg rows our decode as a share of the bandwidth bound:
# median [quartiles] over the paired tokens (or, with -B, at that fixed
# bandwidth).
#
# llama.cpp is the prebuilt CPU library of the npm package node-llama-cpp,
# driven from C by bench/llamacpp_bench.c (no JavaScript in the timed loop).
#
# Repetitions alternate between the engines (ours, llama.cpp, llama.cpp,
# ours, ...), each a fresh process with its own warm-up, so that a change in
# the machine's speed during the run (this VM's memory bandwidth swings by
# half within seconds) falls on both alike. Mean ± sd over the R runs.
#
# Bandwidth bound: decoding one token reads (about) every weight once, so
# tokens/s cannot exceed  bandwidth / bytes read per token.  The bytes come
# from the GGUF tensor table (decode_bytes.h: all tensors, the token
# embedding table counted as one row unless the output matrix is tied to
# it). The bandwidth is measured at the same moment as the decoding: the
# column is build/bench_decode_bound's median over N decoded tokens, each
# paired with a read-bandwidth probe just before it (see that program).
# -B GBPS instead divides our tg mean by the bound at a fixed bandwidth
# (GB/s, 10^9 bytes). KV-cache reads are left out of the bytes (small for
# these short runs), which counts against us.
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
for prog in infer llamacpp_bench model_bytes bench_decode_bound; do
    [ -x "$BUILD/$prog" ] || { echo "build first: make ($BUILD/$prog is missing)" >&2; exit 1; }
done
[ -d "$LIBDIR" ] || { echo "npm ci first (node-llama-cpp)" >&2; exit 1; }

if [ -z "$BW" ]; then
    BW_SRC="the probe paired with each decoded token (bench_decode_bound, median over $N tokens)"
else
    BW_SRC="given with -B: $BW GB/s"
fi

echo "| model | test | threads | infer tok/s | llama.cpp tok/s | ratio | decode % of bandwidth bound |"
echo "|---|---|---|---|---|---|---|"
notes="bandwidth bound with -t $T: $BW_SRC"
for model in "$@"; do
    ours= theirs=
    for ((rep = 1; rep <= R; rep++)); do
        run_ours() { "$BUILD/infer" bench "$model" -p "$P" -n "$N" -r 1 --threads "$T" --json 2>/dev/null; }
        run_theirs() { "$BUILD/llamacpp_bench" "$LIBDIR" "$model" -p "$P" -n "$N" -r 1 -t "$T" 2>/dev/null; }
        if ((rep % 2)); then ours+=$(run_ours)$'\n'; theirs+=$(run_theirs)$'\n'
        else theirs+=$(run_theirs)$'\n'; ours+=$(run_ours)$'\n'; fi
    done
    share=
    [ -n "$BW" ] || [ "$N" -lt 4 ] || share=$("$BUILD/bench_decode_bound" "$model" -t "$T" -n "$N" --json)
    bytes=$("$BUILD/model_bytes" "$model")
    out=$(node -e '
        const [ours, theirs, model, bw, bytes, share] = process.argv.slice(1);
        const parse = (s) => s.split("\n").filter(Boolean).map((l) => JSON.parse(l));
        /* per test, the R single-run rates */
        const byTest = (rows) => {
            const m = new Map();
            for (const r of rows) m.set(r.test, [...(m.get(r.test) || []), r.tokens_per_second]);
            return m;
        };
        const a = byTest(parse(ours)), b = byTest(parse(theirs));
        const stats = (v) => {
            const mean = v.reduce((s, x) => s + x, 0) / v.length;
            const sd = v.length > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1)) : 0;
            return { mean, sd };
        };
        const decodeBytes = Number(bytes.split(" ")[0]);
        const name = model.split("/").pop();
        const sh = share ? JSON.parse(share) : null;
        for (const [test, v] of a) {
            const x = stats(v), w = b.get(test), y = w ? stats(w) : null;
            const f = (r) => `${r.mean.toFixed(1)} ± ${r.sd.toFixed(1)}`;
            const ratio = y ? (x.mean / y.mean).toFixed(2) : "n/a";
            let pct = "";
            if (test.startsWith("tg")) {
                if (bw) pct = `${((100 * x.mean * decodeBytes) / (Number(bw) * 1e9)).toFixed(1)} %`;
                else if (sh) pct = `${(100 * sh.share_median).toFixed(0)} % [${(100 * sh.share_q1).toFixed(0)}-${(100 * sh.share_q3).toFixed(0)}]`;
            }
            console.log(`| ${name} | ${test} | ${"'"$T"'"} | ${f(x)} | ${y ? f(y) : "n/a"} | ${ratio} | ${pct} |`);
        }
        let note = `${name}: ${(decodeBytes / 1e6).toFixed(1)} MB read per token`;
        if (sh) note += `; paired probe median ${sh.probe_gbps_median.toFixed(1)} GB/s, decode median ${sh.tokens_per_second_median.toFixed(1)} tok/s`;
        console.log(`#NOTE ${note}`);
        ' "$ours" "$theirs" "$model" "$BW" "$bytes" "$share")
    grep -v '^#NOTE ' <<<"$out" || true
    notes+=$'\n'"$(grep '^#NOTE ' <<<"$out" | sed 's/^#NOTE //')"
done
echo
echo "$notes"
