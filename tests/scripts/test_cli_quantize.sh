#!/usr/bin/env bash
# test_cli_quantize.sh - `infer quantize` and `infer perplexity` as commands:
# help, usage errors (exit 2), runtime errors (exit 1, one "infer: ..." line
# naming the file, no output file left), the summary line, and that a
# quantized file is a working model for `infer perplexity`.
set -u
BUILD=${INF_BUILD_DIR:-build}
TD=${INF_TESTDATA:?INF_TESTDATA is not set (run through ctest)}
INFER="$BUILD/infer"
[ -x "$INFER" ] || { echo "FAIL: $INFER not built"; exit 1; }
ST="$TD/models/stories260K.gguf"
[ -f "$ST" ] || { echo "FAIL: stories260K.gguf absent"; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
expect() { # expect CODE DESCRIPTION CMD...
    local want=$1 what=$2; shift 2
    "$@" >"$TMP/out" 2>"$TMP/err"; local got=$?
    if [ "$got" -ne "$want" ]; then echo "FAIL: $what: exit $got, want $want; stderr: $(head -c 300 "$TMP/err")"; fail=1
    else echo "ok   $what"; fi
}
expect 0 "quantize --help" "$INFER" quantize --help
grep -q "q4_k_m" "$TMP/out" || { echo "FAIL: quantize help lists no types"; fail=1; }
expect 0 "perplexity --help" "$INFER" perplexity --help
expect 2 "quantize without arguments" "$INFER" quantize
expect 2 "quantize unknown type" "$INFER" quantize "$ST" "$TMP/x.gguf" q9_9
grep -q "unknown type 'q9_9'" "$TMP/err" || { echo "FAIL: no message naming the type"; fail=1; }
expect 2 "quantize unknown option" "$INFER" quantize "$ST" "$TMP/x.gguf" q8_0 --bogus
expect 2 "perplexity bad --ctx" "$INFER" perplexity "$ST" "$TD/models/stories260K.reference_output.txt" --ctx 1
expect 1 "quantize missing input" "$INFER" quantize "$TMP/nope.gguf" "$TMP/x.gguf" q8_0
grep -q "nope.gguf" "$TMP/err" || { echo "FAIL: error does not name the file"; fail=1; }
[ ! -e "$TMP/x.gguf" ] && [ ! -e "$TMP/x.gguf.tmp" ] || { echo "FAIL: output left behind"; fail=1; }
head -c 1000 "$ST" > "$TMP/trunc.gguf"
expect 1 "quantize truncated input" "$INFER" quantize "$TMP/trunc.gguf" "$TMP/x.gguf" q8_0
[ ! -e "$TMP/x.gguf" ] || { echo "FAIL: output left behind"; fail=1; }
expect 1 "perplexity text too short" "$INFER" perplexity "$ST" "$TD/models/stories260K.reference_output.txt" --ctx 512
grep -q "needs at least 1024" "$TMP/err" || { echo "FAIL: no 'needs at least' message"; fail=1; }

expect 0 "quantize stories260K q4_k_m" "$INFER" quantize "$ST" "$TMP/s.gguf" q4_k_m -t 2
grep -q "wrote .*s.gguf (Q4_K_M): 48 tensors" "$TMP/err" || { echo "FAIL: summary: $(cat "$TMP/err")"; fail=1; }
expect 0 "perplexity of the quantized file" "$INFER" perplexity "$TMP/s.gguf" "$TD/models/stories260K.reference_output.txt" --ctx 64 -t 2
grep -Eq "^Final estimate: PPL = [0-9.]+ \+/- [0-9.]+$" "$TMP/out" || { echo "FAIL: final line: $(cat "$TMP/out")"; fail=1; }
grep -q "^\[1\][0-9.]*," "$TMP/err" || { echo "FAIL: no per-window progress"; fail=1; }
exit $fail
