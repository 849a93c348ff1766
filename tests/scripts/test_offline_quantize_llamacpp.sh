#!/usr/bin/env bash
# test_offline_quantize_llamacpp.sh - files written by `infer quantize` run in llama.cpp
# (node-llama-cpp 3.21.1, CPU) with the same results as in our engine:
#   1. `infer quantize` qwen3-tiny-f32 into the five 32-block types, Q2_K
#      and the mixes Q3_K_M (Q3_K..Q6_K inside) and Q4_K_M, and stories260K
#      (trained, 64-wide rows: fallback types) into two (each type's
#      byte-identity with llama-quantize is test_offline_quantize's job);
#   2. node-llama-cpp loads every file (a failed load fails the test), gives
#      its greedy continuation of a prompt and the perplexity over a text
#      computed as llama-perplexity does (test_offline_quantize_llamacpp.mjs);
#   3. `infer perplexity` on the same file and text must agree within 1 %
#      (every scored position's full distribution enters it, so this is a
#      teacher-forced logits comparison), with the same token count; the
#      greedy text of `infer run` must equal llama.cpp's for stories260K and
#      start with llama.cpp's first two tokens for the random qwen3 (whose
#      near-uniform logits have near-ties later on).
# Run from the repo root (node resolves node_modules there).
set -u
BUILD=${INF_BUILD_DIR:-build}
TD=${INF_TESTDATA:?INF_TESTDATA is not set (run through ctest)}
INFER="$BUILD/infer"
[ -x "$INFER" ] || { echo "FAIL: $INFER not built"; exit 1; }
command -v node >/dev/null || { echo "FAIL: node not installed"; exit 1; }
[ -d node_modules/node-llama-cpp ] || { echo "FAIL: node-llama-cpp not installed"; exit 1; }
F32="$TD/models/random/qwen3-tiny-f32.gguf"
ST="$TD/models/stories260K.gguf"
[ -f "$F32" ] && [ -f "$ST" ] || { echo "FAIL: test models absent"; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
# stories260K: its reference text twice (517 tokens, 8 windows of 64);
# qwen3 (8k vocab, slower in node): the text once (2 windows).
cat "$TD/models/stories260K.reference_output.txt" "$TD/models/stories260K.reference_output.txt" > "$TMP/stories.txt"
cp "$TD/models/stories260K.reference_output.txt" "$TMP/qwen3.txt"

files=()
for t in q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k_m q4_k_m; do
    if ! "$INFER" quantize "$F32" "$TMP/qwen3-$t.gguf" "$t" -t 2 2>"$TMP/err.txt"; then
        echo "FAIL: infer quantize qwen3 $t: $(cat "$TMP/err.txt")"; fail=1; continue
    fi
    files+=("$TMP/qwen3-$t.gguf")
done
for t in q8_0 q4_0; do
    if ! "$INFER" quantize "$ST" "$TMP/stories-$t.gguf" "$t" -t 2 2>"$TMP/err.txt"; then
        echo "FAIL: infer quantize stories260K $t: $(cat "$TMP/err.txt")"; fail=1; continue
    fi
    files+=("$TMP/stories-$t.gguf")
done

items=()
for f in "${files[@]}"; do
    case "$f" in *qwen3-*) items+=("$f@$TMP/qwen3.txt") ;; *) items+=("$f@$TMP/stories.txt") ;; esac
done
if ! node tests/scripts/test_offline_quantize_llamacpp.mjs 6 64 "Once upon a time" "${items[@]}" \
        >"$TMP/llama.jsonl" 2>"$TMP/node_err.txt"; then
    echo "FAIL: node-llama-cpp could not load/run the files:"; tail -5 "$TMP/node_err.txt"; exit 1
fi

for f in "${files[@]}"; do
    case "$f" in *qwen3-*) text="$TMP/qwen3.txt" ;; *) text="$TMP/stories.txt" ;; esac
    "$INFER" perplexity "$f" "$text" --ctx 64 -t 2 >"$TMP/ppl.txt" 2>"$TMP/ppl_err.txt" ||
        { echo "FAIL: infer perplexity $f: $(tail -1 "$TMP/ppl_err.txt")"; fail=1; continue; }
    "$INFER" run "$f" "Once upon a time" --temperature 0 -n 6 -t 2 >"$TMP/run.txt" 2>/dev/null ||
        { echo "FAIL: infer run $f"; fail=1; continue; }
    /usr/bin/python3 - "$f" "$TMP/llama.jsonl" "$TMP/ppl.txt" "$TMP/ppl_err.txt" "$TMP/run.txt" <<'PY' || fail=1
import json, re, sys, os
f, jl, ppl_out, ppl_err, run = sys.argv[1:]
ref = next(json.loads(l) for l in open(jl) if json.loads(l)["file"] == f)
ours = float(re.search(r"PPL = ([0-9.]+)", open(ppl_out).read()).group(1))
ntok = int(re.search(r"perplexity: (\d+) tokens", open(ppl_err).read()).group(1))
text = open(run, encoding="utf-8", errors="replace").read()
rel = abs(ours - ref["ppl"]) / ref["ppl"]
name = os.path.basename(f)
ok = rel < 0.01 and ntok == ref["n_tokens"]
if name.startswith("stories"):
    ok = ok and text == ref["text"]
else:
    ok = ok and text.startswith(ref["text2"])
print(f"{'ok  ' if ok else 'FAIL'} {name:22s} PPL ours {ours:10.4f} llama.cpp {ref['ppl']:10.4f} (rel {rel:.1e}); "
      f"tokens {ntok}/{ref['n_tokens']}; greedy {text!r} vs {ref['text']!r}")
sys.exit(0 if ok else 1)
PY
done
[ $fail -eq 0 ] && echo "all quantized files agree with llama.cpp"
exit $fail
