#!/usr/bin/env bash
# classify.sh - classification throughput, ours beside llama.cpp's, on the
# same GGUF file, the same prompts and thread count, in the same run; prints
# a markdown table with the ratio (ours / llama.cpp). Run on an idle machine.
#
#   bash bench/classify.sh [-N 256] [-l 20] [-r 3] [-t 2] MODEL.gguf...
#
# Ours: build/bench_classify sends N short prompts (about -l tokens each,
# made deterministically from a word list) through one inf_classify call.
# llama.cpp: build/llamacpp_bench --classify takes the same prompts as token
# ids (written by bench_classify with our tokenizer) and runs them one by
# one: clear the memory, decode the prompt as one batch, read the last
# logits. Both print an arg-max checksum on stderr; with -v they are shown
# (equal sums: both chose the same tokens).
set -euo pipefail
cd "$(dirname "$0")/.."
N=256 LEN=20 R=3 T=2 VERBOSE=0
usage() { echo "usage: $0 [-N PROMPTS] [-l TOKENS] [-r N] [-t N] [-v] MODEL.gguf..." >&2; exit 2; }
while getopts "N:l:r:t:v" opt; do
    case $opt in N) N=$OPTARG ;; l) LEN=$OPTARG ;; r) R=$OPTARG ;; t) T=$OPTARG ;; v) VERBOSE=1 ;; *) usage ;; esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || usage
for v in "$N" "$LEN" "$R" "$T"; do [[ $v =~ ^[0-9]+$ ]] || { echo "$0: '$v' is not a whole number" >&2; usage; }; done
BUILD=${BUILD:-build}
LIBDIR=node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
for prog in bench_classify llamacpp_bench; do
    [ -x "$BUILD/$prog" ] || { echo "build first: make ($BUILD/$prog is missing)" >&2; exit 1; }
done
[ -d "$LIBDIR" ] || { echo "npm ci first (node-llama-cpp)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "| model | prompts | tokens/prompt | threads | infer prompts/s | llama.cpp prompts/s | ratio |"
echo "|---|---|---|---|---|---|---|"
for model in "$@"; do
    ours=$("$BUILD/bench_classify" "$model" -N "$N" -l "$LEN" -r "$R" -t "$T" --write-ids "$tmp/ids" --json \
        2>"$tmp/ours.err") || { cat "$tmp/ours.err" >&2; exit 1; }
    theirs=$("$BUILD/llamacpp_bench" "$LIBDIR" "$model" --classify "$tmp/ids" -r "$R" -t "$T" 2>"$tmp/theirs.err") ||
        { cat "$tmp/theirs.err" >&2; exit 1; }
    if [ "$VERBOSE" = 1 ]; then grep -h checksum "$tmp/ours.err" "$tmp/theirs.err" >&2 || true; fi
    node -e '
        const [a, b, model] = process.argv.slice(1).map((s, i) => (i < 2 ? JSON.parse(s) : s));
        const f = (r) => `${r.prompts_per_second.toFixed(1)} ± ${r.sd.toFixed(1)}`;
        const ratio = (a.prompts_per_second / b.prompts_per_second).toFixed(2);
        console.log(`| ${model.split("/").pop()} | ${a.prompts} | ${(a.prompt_tokens / a.prompts).toFixed(1)} | ` +
            `${a.threads} | ${f(a)} | ${f(b)} | ${ratio} |`);' "$ours" "$theirs" "$model"
done
