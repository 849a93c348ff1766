# test_cli_basics.sh - `infer` without a working engine: help for every
# command, exit codes (0 / 1 runtime / 2 usage), one-line errors, missing
# files, `info` read from the GGUF header (checked against the file's own
# facts in testdata/PROVENANCE.md), `ls`, `backends`.
. "$(dirname "$0")/cli_lib.sh"

COMMANDS="run chat classify batch info ls tokenize template bench backends quantize perplexity convert serve"

# --help everywhere: exit 0, usage on stdout, nothing on stderr.
run_infer --help
expect_rc 0 "infer --help"
for c in $COMMANDS; do
    check "infer --help lists $c" grep -q "^  $c " "$OUT"
done
for c in $COMMANDS; do
    run_infer "$c" --help
    expect_rc 0 "infer $c --help"
    check "infer $c --help prints usage" grep -q "^usage: infer $c" "$OUT"
    check "infer $c --help is quiet on stderr" test ! -s "$ERR"
done
run_infer help run
expect_rc 0 "infer help run"
check "infer help run shows run's usage" grep -q "^usage: infer run" "$OUT"
run_infer --version
expect_rc 0 "infer --version"
check "version line" grep -Eq '^infer [0-9]+\.[0-9]+\.[0-9]+$' "$OUT"
# The stable forms are documented in --help.
run_infer run --help
check "run --help documents the stable form" grep -q "infer run MODEL PROMPT --temperature 0 --max-tokens N" "$OUT"
run_infer tokenize --help
check "tokenize --help documents --json" grep -q "infer tokenize MODEL --json \[--no-bos\] \[--special | --no-special\] TEXT" "$OUT"
check "tokenize --help says which special-token default applies where" grep -q "Default: recognised for a tokenizer.json folder" "$OUT"
run_infer bench --help
check "bench --help documents the keys" grep -q '"tokens_per_second"' "$OUT"

# Usage errors: exit 2, one line.
run_infer
expect_rc 2 "no command"; expect_one_error_line "no command"
run_infer frobnicate
expect_rc 2 "unknown command"; expect_one_error_line "unknown command"
check "unknown command is named" grep -q "frobnicate" "$ERR"
run_infer --frob
expect_rc 2 "unknown global option"; expect_one_error_line "unknown global option"
for c in run chat classify batch info ls tokenize template bench backends; do
    run_infer "$c" --no-such-option
    expect_rc 2 "$c --no-such-option"
    expect_one_error_line "$c --no-such-option"
done
run_infer run "$STORIES" hi --temperature abc
expect_rc 2 "bad --temperature"; expect_one_error_line "bad --temperature"
check "bad value is named" grep -q "abc" "$ERR"
run_infer run "$STORIES" hi --top-p 1.5
expect_rc 2 "--top-p out of range"; expect_one_error_line "--top-p out of range"
run_infer run "$STORIES" hi --max-tokens
expect_rc 2 "--max-tokens without value"; expect_one_error_line "--max-tokens without value"
run_infer run "$STORIES" hi --max-tokens -3
expect_rc 2 "negative --max-tokens"
run_infer run "$STORIES" hi extra
expect_rc 2 "too many arguments"; expect_one_error_line "too many arguments"
run_infer tokenize "$STORIES"
expect_rc 2 "tokenize without text"; expect_one_error_line "tokenize without text"
run_infer bench "$STORIES" -p 0 -n 0
expect_rc 2 "bench with nothing to do"
run_infer classify "$STORIES" --top x
expect_rc 2 "classify --top x"

# Runtime errors: exit 1, one line, naming the file.
run_infer run "$TMP/missing.gguf" "hello"
expect_rc 1 "run on a missing model"; expect_one_error_line "run on a missing model"
check "missing model is named" grep -q "missing.gguf" "$ERR"
run_infer info "$TMP/missing.gguf"
expect_rc 1 "info on a missing model"; expect_one_error_line "info on a missing model"
printf 'not a gguf file at all' >"$TMP/bad.gguf"
printf 'GGUF\003\000\000\000garbage' >"$TMP/trunc.gguf"
run_infer info "$TMP/trunc.gguf"
expect_rc 1 "info on a truncated GGUF"; expect_one_error_line "info on a truncated GGUF"
run_infer run "$TMP/bad.gguf" hello
expect_rc 1 "run on a malformed model"; expect_one_error_line "run on a malformed model"
run_infer classify "$STORIES" --input "$TMP/no-such-prompts.txt"
expect_rc 1 "classify with a missing --input"; expect_one_error_line "classify with a missing --input"
run_infer chat "$STORIES" --messages "$TMP/no-such.json"
expect_rc 1 "chat with a missing --messages"; expect_one_error_line "chat with a missing --messages"
printf '{"messages": 3}' >"$TMP/badconv.json"
run_infer chat "$STORIES" --messages "$TMP/badconv.json"
expect_rc 1 "chat with a malformed --messages"; expect_one_error_line "chat with a malformed --messages"
IN="$TMP/badconv.json" run_infer template "$STORIES"
expect_rc 1 "template with malformed input"; expect_one_error_line "template with malformed input"
printf '{not json' >"$TMP/notjson.json"
IN="$TMP/notjson.json" run_infer template "$STORIES"
expect_rc 1 "template with invalid JSON"; expect_one_error_line "template with invalid JSON"
printf '{"prompt": 5}\n' >"$TMP/badprompts.jsonl"
run_infer batch "$STORIES" -i "$TMP/badprompts.jsonl"
expect_rc 1 "batch with a bad JSONL line"; expect_one_error_line "batch with a bad JSONL line"
check "the bad line is named" grep -q "line 1" "$ERR"
run_infer run "$STORIES" hello --backend no_such_backend
expect_rc 1 "unknown backend"; expect_one_error_line "unknown backend"
check "unknown backend message is the contract's" grep -q 'backend "no_such_backend" not registered' "$ERR"
run_infer ls "$TMP/no-such-dir"
expect_rc 1 "ls on a missing folder"; expect_one_error_line "ls on a missing folder"
for c in quantize perplexity convert serve; do
    run_infer "$c" x
    if [ "$RC" = 1 ]; then expect_one_error_line "$c placeholder"; else pass; fi
done

# info reads the GGUF header: stories260K is llama, 5 layers, dim 64, 48 F32
# tensors, vocabulary 512 (PROVENANCE.md).
{
    run_infer info "$STORIES" --json
    expect_rc 0 "info --json"
    json_check 'd["architecture"] == "llama" and d["layers"] == 5 and d["hidden_size"] == 64' "info arch/layers/hidden"
    json_check 'd["vocab_size"] == 512 and d["tensor_count"] == 48' "info vocab/tensors"
    json_check 'd["tensors_by_type"] == {"f32": {"count": 48, "bytes": d["tensors_by_type"]["f32"]["bytes"], "parameters": d["parameters"]}}' "info tensors by type"
    json_check 'd["quantization"]["type"] == "f32" and d["quantization"]["bits"] == 32' "info quantization"
    json_check 'isinstance(d["context_length"], int) and d["context_length"] > 0' "info context length"
    json_check 'd["tokenizer"]["model"] == "llama" and d["tokenizer"]["bos_id"] == 1' "info tokenizer"
    run_infer info "$STORIES"
    expect_rc 0 "info text"
    check "info text names the architecture" grep -q "^architecture: *llama" "$OUT"
    check "info text has a tensor table" grep -Eq "^  f32 +48 " "$OUT"
    Q="$TESTDATA/models/random/qwen3-tiny-f16.gguf"
    run_infer info "$Q" --json
    json_check 'd["architecture"] == "qwen3" and set(d["tensors_by_type"]) == {"f32", "f16"} and d["quantization"]["type"] == "f16"' "info qwen3 f16"
    json_check 'd["chat_template"].count("<|im_start|>") > 0' "info has the chat template"
    run_infer info "$Q" --template
    expect_rc 0 "info --template"
    check "info --template prints the template" grep -q "add_generation_prompt" "$OUT"
    # A Hugging Face folder is described from config.json and the safetensors
    # headers; its GGUF conversion must agree.
    H="$TESTDATA/models/random/qwen3-tiny-hf-bf16"
    run_infer info "$H" --json
    expect_rc 0 "info on a Hugging Face folder"
    cp "$OUT" "$TMP/hf.json"
    run_infer info "$H.gguf" --json
    json_check '(lambda h: all(h[k] == d[k] for k in ("architecture", "vocab_size", "layers", "hidden_size", "context_length", "heads", "kv_heads", "tensor_count", "parameters", "chat_template")))(json.load(open("'"$TMP/hf.json"'")))' "info: HF folder and its GGUF agree"
    OUT="$TMP/hf.json" json_check 'd["tensors_by_type"]["bf16"]["count"] == d["tensor_count"] and d["quantization"]["bits"] == 16' "info HF tensors by type"
    run_infer info "$STORIES" --template
    expect_rc 1 "info --template without a template"; expect_one_error_line "info --template without a template"

    # The default model: ./models of the repository root (as ctest runs).
    (cd "${INF_SOURCE_DIR:-.}" && "$INFER" info --json) >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "info with the default model"
    json_check 'd["path"] == "models/stories260K.gguf"' "default model is ./models/stories260K.gguf"
    INFERENCE_MODEL="$TMP/from-env.gguf" run_infer info
    expect_rc 1 "INFERENCE_MODEL is used"
    check "INFERENCE_MODEL path named" grep -q "from-env.gguf" "$ERR"
    # The user's model folder comes before ./models and the bundled model.
    mkdir -p "$TMP/xdg/infer/models" "$TMP/empty"
    cp "$TESTDATA/models/random/qwen3-tiny-q4_0.gguf" "$TMP/xdg/infer/models/"
    (cd "${INF_SOURCE_DIR:-.}" && "$INFER" info --json) >"$OUT" 2>"$ERR" </dev/null
    json_check 'd["path"].endswith("/xdg/infer/models/qwen3-tiny-q4_0.gguf")' "the user's model folder comes first"
    rm -r "$TMP/xdg/infer/models"
    # From a folder with no models: the bundled model (found from the
    # executable: build/infer -> the source tree's models/), never ../shared.
    (cd "$TMP/empty" && "$INFER" info --json) >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    expect_rc 0 "bundled default model from an empty folder"
    json_check 'd["path"].endswith("/models/stories260K.gguf") and "shared" not in d["path"]' "the bundled model is stories260K"
    # An executable with no bundled model anywhere: a clear error.
    cp "$INFER" "$TMP/empty/infer-alone"
    (cd "$TMP/empty" && ./infer-alone info) >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    if [ -d "$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "${INF_BUILD_DIR:-build}/CMakeCache.txt")/share/inference/models" ]; then
        pass # installed on this machine: the compiled-in prefix finds it
    else
        expect_rc 1 "no default model"; expect_one_error_line "no default model"
        check "no default model: the message says what to do" grep -q "INFERENCE_MODEL" "$ERR"
    fi
}

# ls: Discover over a folder.
{
    run_infer ls "$TESTDATA/models" --json
    expect_rc 0 "ls --json"
    json_check 'isinstance(d, list) and any(m["path"].endswith("stories260K.gguf") and m["format"] == "gguf" for m in d)' "ls finds stories260K"
    json_check 'all(set(m) >= {"path", "architecture", "format", "quant_bits", "files"} for m in d)' "ls keys"
    run_infer ls "$TESTDATA/models"
    expect_rc 0 "ls text"
    check "ls text lists stories260K" grep -q "stories260K.gguf" "$OUT"
}
mkdir -p "$TMP/nomodels"
run_infer ls "$TMP/nomodels" --json
expect_rc 0 "ls on an empty folder"
json_check 'd == []' "ls on an empty folder is []"

# The man page renders without warnings.
MAN="${INF_SOURCE_DIR:-.}/docs/infer.1"
check "docs/infer.1 exists" test -f "$MAN"
check "groff is installed (scripts/install-deps.sh)" command -v groff
check "man page renders cleanly" test -z "$(groff -man -Tutf8 -ww -z "$MAN" 2>&1)"
for c in $COMMANDS; do
    check "man page mentions $c" grep -q "$c" "$MAN"
done

# backends: JSON shape.
run_infer backends --json
expect_rc 0 "backends --json"
json_check 'isinstance(d["backends"], list) and all(set(b) == {"name", "available"} for b in d["backends"]) and "default" in d' "backends keys"
json_check '[b["name"] for b in d["backends"]] == sorted(b["name"] for b in d["backends"])' "backends sorted"
run_infer backends extra
expect_rc 2 "backends with an argument"

finish
