#!/bin/bash
# test_cli_hf.sh - the Hugging Face parts of the CLI:
#   1. `infer ls DIR` lists the HF folders of testdata/models/random with
#      their architecture (config.json model_type) and MLX quantisation;
#   2. `infer convert DIR OUT.gguf` writes a GGUF that `infer info` reads
#      back with the directory's architecture, vocabulary and tensors, for a
#      byte-level BPE (llama3) and a SentencePiece-style (gemma3) tokenizer;
#      refuses a tokenizer it cannot convert (WordPiece) with exit 1, a
#      message naming tokenizer.json and no file left, and bad usage with
#      exit 2. (Conversion correctness against llama.cpp: test_offline_convert.)
set -u
BUILD=${INF_BUILD_DIR:-build}
INFER="$BUILD/infer"
R="${INF_TESTDATA:?INF_TESTDATA is not set}/models/random"
[ -x "$INFER" ] || { echo "FAIL: $INFER not built"; exit 1; }
[ -d "$R/qwen3-tiny-mlx4" ] || { echo "FAIL: $R/qwen3-tiny-mlx4 is missing"; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
check() { # check NAME COMMAND...
    local name=$1; shift
    if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fail=1; fi
}

"$INFER" ls "$R" > "$TMP/ls.txt" 2>&1
check "ls exits 0" test $? -eq 0
check "ls: mlx4 folder, qwen3, 4-bit/64" grep -Eq "qwen3-tiny-mlx4 +qwen3 +hf +4-bit/64 +1" "$TMP/ls.txt"
check "ls: gemma3 folder by model_type" grep -Eq "gemma3-tiny-hf-bf16 +gemma3_text +hf" "$TMP/ls.txt"
check "ls: gguf with its quantisation" grep -Eq "qwen3-tiny-q4_0.gguf +qwen3 +gguf +4-bit/32" "$TMP/ls.txt"

vocab_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vocab_size"])' "$1/config.json"; }
for d in llama3-tiny-hf-f16:llama:gpt2 gemma3-tiny-hf-bf16:gemma3:llama; do
    name=${d%%:*}; rest=${d#*:}; arch=${rest%%:*}; tok=${rest#*:}
    "$INFER" convert "$R/$name" "$TMP/$name.gguf" 2>"$TMP/err.txt"
    check "convert $name exits 0" test $? -eq 0
    check "convert $name: a GGUF file" test "$(head -c 4 "$TMP/$name.gguf")" = "GGUF"
    "$INFER" info "$TMP/$name.gguf" >"$TMP/info.txt" 2>&1
    check "convert $name: info reads it back" test $? -eq 0
    check "convert $name: architecture $arch" grep -Eq "^architecture: +$arch$" "$TMP/info.txt"
    check "convert $name: vocabulary of config.json" grep -Eq "^vocab size: +$(vocab_of "$R/$name")$" "$TMP/info.txt"
    check "convert $name: tokenizer $tok" grep -Eq "^tokenizer: +$tok " "$TMP/info.txt"
done

mkdir "$TMP/wp"
cp "$R/qwen3-tiny-hf-bf16/config.json" "$R/qwen3-tiny-hf-bf16/model.safetensors" "$TMP/wp/"
printf '{"model":{"type":"WordPiece","unk_token":"[UNK]","vocab":{"[UNK]":0,"a":1}},"added_tokens":[]}' >"$TMP/wp/tokenizer.json"
"$INFER" convert "$TMP/wp" "$TMP/wp.gguf" 2>"$TMP/err.txt"
check "convert: a WordPiece tokenizer is refused (exit 1)" test $? -eq 1
check "convert: the message names tokenizer.json" grep -q "tokenizer.json" "$TMP/err.txt"
check "convert: no output left behind" test ! -e "$TMP/wp.gguf"
"$INFER" convert "$R/llama3-tiny-hf-f16" 2>/dev/null
check "convert: missing output is a usage error (exit 2)" test $? -eq 2
exit $fail
