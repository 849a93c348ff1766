#!/bin/bash
# test_text_tok_heldout.sh - the tokenizer comparisons of test_text_tok_hf and
# test_text_tok_llama on a second, differently seeded corpus (TOK_SEED, default
# 20261125): Hugging Face tokenizers (tok_hf_ref.mjs) for every tokenizer.json
# of the test data, and llama.cpp (tok_llama_ref.mjs, node-llama-cpp) for
# every GGUF vocabulary; then, for each Hugging Face directory with a GGUF
# conversion beside it (infer convert's engine), llama.cpp on the GGUF must
# tokenize every text as Hugging Face tokenizes it on the directory.
set -u
SRC=${INF_SOURCE_DIR:-.}
BUILD=${INF_BUILD_DIR:-build}
DATA=${INF_TESTDATA:?INF_TESTDATA is not set (run through ctest)}
SEED=${TOK_SEED:-20261125}
command -v node >/dev/null || { echo "FAIL: node not installed" >&2; exit 1; }
[ -d "$SRC/node_modules/@anush008/tokenizers" ] || { echo "FAIL: npm packages missing (npm ci)" >&2; exit 1; }
[ -f "$DATA/tokenizers/qwen3/tokenizer.json" ] || { echo "FAIL: no test data at $DATA" >&2; exit 1; }
find_bin() { for p in "$BUILD/tests/$1" "$BUILD/$1"; do [ -x "$p" ] && { echo "$p"; return; }; done; }
HF_BIN=$(find_bin test_text_tok_hf)
LL_BIN=$(find_bin test_text_tok_llama)
[ -n "$HF_BIN" ] && [ -n "$LL_BIN" ] || { echo "FAIL: build test_text_tok_hf and test_text_tok_llama first" >&2; exit 1; }
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
if INF_SOURCE_DIR="$SRC" node "$SRC/tests/scripts/tok_llama_ref.mjs" "$TMP/ll.jsonl" "$SEED" "${ggufs[@]}" 2>/dev/null; then
    "$LL_BIN" "$TMP/ll.jsonl" || status=1
else
    echo "FAIL: llama.cpp reference generation" >&2
    status=1
fi
# The converter: HF tokenizers on DIR = llama.cpp on DIR.gguf (added tokens
# matched on both sides), text by text. Texts that Unicode NFC changes are
# left out: Qwen's tokenizer.json normalises to NFC and llama.cpp has no
# normaliser for its vocabularies (a GGUF cannot ask for one).
python3 - "$TMP/hf.jsonl" "$TMP/ll.jsonl" <<'PY' || status=1
import json, sys, unicodedata
def nfc_stable(h):
    try: t = bytes.fromhex(h).decode("utf-8")
    except UnicodeDecodeError: return True
    return unicodedata.normalize("NFC", t) == t
hf, ll = {}, {}
for line in open(sys.argv[1]):
    j = json.loads(line)
    if "hex" in j: hf[(j["tok"], j["hex"])] = j["plain"]
for line in open(sys.argv[2]):
    j = json.loads(line)
    if "hex" in j: ll[(j["gguf"], j["hex"])] = j["special"]
dirs = sorted({d for d, _ in hf})
pairs, bad = 0, 0
for d in dirs:
    g = d + ".gguf"
    same = [(h, ids) for (dd, h), ids in hf.items() if dd == d and (g, h) in ll and nfc_stable(h)]
    if not same: continue
    diff = [h for h, ids in same if ll[(g, h)] != ids]
    pairs += 1
    bad += len(diff)
    print(f"{d.split('/')[-1]:28s} HF tokenizers vs llama.cpp on its conversion: {len(same) - len(diff)}/{len(same)} NFC-stable texts identical")
    for h in diff[:3]: print("  differs:", bytes.fromhex(h)[:60])
if pairs < 3: print(f"FAIL: only {pairs} directories with a GGUF conversion"); sys.exit(1)
sys.exit(1 if bad else 0)
PY
exit $status
