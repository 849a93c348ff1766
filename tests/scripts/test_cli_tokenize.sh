# test_cli_tokenize.sh - `infer tokenize --json` against independent
# references: the prompt ids llama.cpp evaluated for every GGUF model of
# testdata/golden (its README), and the Rust tokenizers crate
# (@anush008/tokenizers) for folders holding only tokenizer.json, which the
# CLI must tokenize without any weights: by default matching added tokens as
# Hugging Face does, and as plain text with --no-special.
. "$(dirname "$0")/cli_lib.sh"
ORACLE="$(dirname "$0")/cli_oracles.mjs"

[ -d "$TESTDATA/golden" ] || { echo "FAIL: no golden data" >&2; exit 1; }

# GGUF: the llama.cpp prompt_ids (BOS included when the metadata asks). One
# python run writes, per golden case, the prompt and the expected array in
# the CLI's format ("[1, 2, 3]").
mkdir -p "$TMP/golden"
python3 - "$TESTDATA" "$TMP/golden" <<'PY'
import glob, json, os, sys
root, out = sys.argv[1], sys.argv[2]
n = 0
seen = {}
with open(os.path.join(out, "cases"), "w") as cases:
    for path in sorted(glob.glob(os.path.join(root, "golden", "*", "[0-9].json"))):
        g = json.load(open(path))
        if not g["model"].endswith(".gguf") or not os.path.exists(os.path.join(root, g["model"])):
            continue
        # The quantised variants of one model share its tokenizer: one each
        # of qwen3-tiny, llama-tiny, ... is enough (keeps the test quick).
        family = os.path.basename(g["model"]).split("-tiny")[0]
        if family in seen and seen[family] != g["model"]:
            continue
        seen[family] = g["model"]
        open(os.path.join(out, "%d.prompt" % n), "w").write(g["prompt"])
        open(os.path.join(out, "%d.want" % n), "w").write(json.dumps(g["prompt_ids"]) + "\n")
        cases.write("%d %s\n" % (n, g["model"]))
        n += 1
PY
n_gguf=0
while read -r n model; do
    IN="$TMP/golden/$n.prompt" run_infer tokenize "$TESTDATA/$model" --json -
    if [ "$RC" = 0 ] && cmp -s "$OUT" "$TMP/golden/$n.want"; then pass
    else fail "tokenize $model '$(cat "$TMP/golden/$n.prompt")': rc $RC got $(cat "$OUT") want $(cat "$TMP/golden/$n.want") $(head -c 200 "$ERR")"; fi
    n_gguf=$((n_gguf + 1))
done <"$TMP/golden/cases"
echo "compared $n_gguf GGUF prompts with llama.cpp" >&2
[ "$n_gguf" -gt 0 ] && pass || fail "no GGUF golden prompt found"

# The text form: one line per id, the same ids.
run_infer tokenize "$STORIES" "Once upon a time"
expect_rc 0 "tokenize text form"
check "text form has one line per token" test "$(wc -l <"$OUT")" = 5
check "text form shows the piece" grep -q "^   403  ' Once'$" "$OUT"

# tokenizer.json folders: no weights there at all; compare with the
# tokenizers crate (which always recognises special-token text: --special).
python3 - "$TMP" <<'PY'
import json, sys
texts = ["Hello  leading spaces, \u00e9mojis \U0001F389 na\u00efve caf\u00e9",
         "line one\nline two\ttab; 123456 + 7.5e-3 = x, don't",
         "<|im_start|>user\n<start_of_turn><|begin_of_text|><s></s><\uff5cend\u2581of\u2581sentence\uff5c> hi"]
json.dump(texts, open(sys.argv[1] + "/texts.json", "w"))
for i, t in enumerate(texts):
    open("%s/text%d" % (sys.argv[1], i), "w").write(t)
PY
{
    n_hf=0
    for dir in "$TESTDATA"/tokenizers/*/; do
        dir=${dir%/}
        [ -f "$dir/tokenizer.json" ] || continue
        name=$(basename "$dir")
        # A folder holding only the tokenizer files.
        mkdir -p "$TMP/tok_$name"
        cp "$dir/tokenizer.json" "$TMP/tok_$name/"
        [ -f "$dir/tokenizer_config.json" ] && cp "$dir/tokenizer_config.json" "$TMP/tok_$name/"
        (cd "${INF_SOURCE_DIR:-.}" && node "$ORACLE" hf-tokenize "$TMP/tok_$name" "$TMP/texts.json") >"$TMP/oracle_$name" 2>"$TMP/node_err" || {
            fail "the tokenizers oracle cannot load $name: $(head -c 200 "$TMP/node_err")"; continue; }
        # Oracle lines [[with special], [without]] into the CLI's format.
        python3 - "$TMP/oracle_$name" "$TMP/want_$name" <<'PY'
import json, sys
for i, line in enumerate(open(sys.argv[1])):
    add, plain = json.loads(line)
    open("%s_add%d" % (sys.argv[2], i), "w").write(json.dumps(add) + "\n")
    open("%s_plain%d" % (sys.argv[2], i), "w").write(json.dumps(plain) + "\n")
PY
        # (Loading a big tokenizer.json takes a while: three runs each.)
        for i in 0 1 2; do
            IN="$TMP/text$i" run_infer tokenize "$TMP/tok_$name" --json -
            if [ "$RC" = 0 ] && cmp -s "$OUT" "$TMP/want_${name}_add$i"; then pass
            else fail "tokenize $name text $i: rc $RC got $(cat "$OUT") want $(cat "$TMP/want_${name}_add$i") $(head -c 200 "$ERR")"; fi
        done
        IN="$TMP/text0" run_infer tokenize "$TMP/tok_$name" --json --special --no-bos -
        if [ "$RC" = 0 ] && cmp -s "$OUT" "$TMP/want_${name}_plain0"; then pass
        else fail "tokenize --no-bos $name: got $(cat "$OUT") want $(cat "$TMP/want_${name}_plain0")"; fi
        # --no-special: the special-token text is not one token any more.
        IN="$TMP/text2" run_infer tokenize "$TMP/tok_$name" --json --no-special --no-bos -
        if [ "$RC" = 0 ] && ! cmp -s "$OUT" "$TMP/want_${name}_plain2"; then pass
        else fail "tokenize --no-special $name: special-token text still matched as added tokens"; fi
        n_hf=$((n_hf + 1))
    done
    echo "compared $n_hf tokenizer.json folders with the tokenizers crate" >&2
    [ "$n_hf" -ge 5 ] && pass || fail "only $n_hf tokenizer.json folders compared"
}

# A folder without a tokenizer: one clear error.
mkdir -p "$TMP/empty_model"
run_infer tokenize "$TMP/empty_model" --json "x"
expect_rc 1 "tokenize on a folder without tokenizer.json"; expect_one_error_line "tokenize on an empty folder"

finish
