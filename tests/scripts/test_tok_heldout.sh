#!/bin/bash
# test_tok_heldout.sh - the tokenizer comparisons of test_tok_hf and
# test_tok_llama on a second, differently seeded corpus (TOK_SEED, default
# 20261125): Hugging Face tokenizers (tok_hf_ref.mjs) for every tokenizer.json
# in shared/testdata, and llama.cpp (tok_llama_ref.mjs, node-llama-cpp) for
# every GGUF vocabulary. Exit 77 when node or the npm packages are missing.
set -u
SRC=${INF_SOURCE_DIR:-.}
BUILD=${INF_BUILD_DIR:-build}
DATA=${INF_TESTDATA:-../shared/testdata}
SEED=${TOK_SEED:-20261125}
command -v node >/dev/null || { echo "SKIP: node not installed" >&2; exit 77; }
[ -d "$SRC/node_modules/@anush008/tokenizers" ] || { echo "SKIP: npm packages missing (npm ci)" >&2; exit 77; }
[ -f "$DATA/tokenizers/qwen3/tokenizer.json" ] || { echo "SKIP: no shared/testdata" >&2; exit 77; }
find_bin() { for p in "$BUILD/tests/$1" "$BUILD/$1"; do [ -x "$p" ] && { echo "$p"; return; }; done; }
HF_BIN=$(find_bin test_tok_hf)
LL_BIN=$(find_bin test_tok_llama)
[ -n "$HF_BIN" ] && [ -n "$LL_BIN" ] || { echo "SKIP: build test_tok_hf and test_tok_llama first" >&2; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
status=0
dirs=()
for d in "$DATA"/tokenizers/*/ "$DATA"/models/random/*-hf-*/; do
    d=${d%/}
    [ -f "$d/tokenizer.json" ] && dirs+=("$d")
done
if INF_SOURCE_DIR="$SRC" node "$SRC/tests/scripts/tok_hf_ref.mjs" "$TMP/hf.jsonl" "$SEED" "${dirs[@]}"; then
    "$HF_BIN" "$TMP/hf.jsonl" || status=1
else
    echo "FAIL: Hugging Face reference generation" >&2
    status=1
fi
ggufs=("$DATA"/vocab/*.gguf "$DATA"/models/stories260K.gguf)
for g in "$DATA"/models/random/*-hf-*.gguf "$DATA"/models/random/gemma3-tiny-q8_0.gguf; do [ -f "$g" ] && ggufs+=("$g"); done
INF_SOURCE_DIR="$SRC" node "$SRC/tests/scripts/tok_llama_ref.mjs" "$TMP/ll.jsonl" "$SEED" "${ggufs[@]}" 2>/dev/null
rc=$?
if [ $rc -eq 0 ]; then
    "$LL_BIN" "$TMP/ll.jsonl" || status=1
elif [ $rc -eq 77 ]; then
    echo "llama.cpp reference unavailable: skipped that half" >&2
else
    echo "FAIL: llama.cpp reference generation" >&2
    status=1
fi
exit $status
