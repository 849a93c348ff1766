# test_cli_model.sh - `infer` with the real cpu engine on stories260K,
# against llama.cpp's goldens (testdata/golden/stories260K: greedy
# continuations and last-position log-probabilities): run, batch and
# classify must give the same tokens; plus bench's JSON lines, chat
# --messages and template rendering (checked with @huggingface/jinja) on
# qwen3-tiny.
. "$(dirname "$0")/cli_lib.sh"
ORACLE="$(dirname "$0")/cli_oracles.mjs"
G="$TESTDATA/golden/stories260K"

[ -f "$STORIES" ] && [ -d "$G" ] || { echo "FAIL: stories260K or its goldens missing" >&2; exit 1; }
if ! engine_works; then
    echo "FAIL: the engine cannot run stories260K yet: $(head -c 300 "$TMP/engine_err")" >&2
    exit 1
fi

field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; sys.stdout.write(v if isinstance(v,str) else json.dumps(v))' "$1" "$2"; }

# run: greedy, 32 tokens, exactly llama.cpp's text (stdout holds nothing else).
: >"$TMP/batch_in"
for i in 0 1 2; do
    prompt=$(field "$G/$i.json" prompt)
    want=$(field "$G/$i.json" greedy_text)
    [ "$(field "$G/$i.json" stop)" = limit ] || continue
    run_infer run "$STORIES" "$prompt" --temperature 0 --max-tokens 32
    expect_rc 0 "run golden $i"
    expect_out_eq "$want" "run golden $i: the greedy text of llama.cpp"
    check "run golden $i: nothing on stderr" test ! -s "$ERR"
    python3 -c 'import json,sys; print(json.dumps({"prompt": sys.argv[1]}))' "$prompt" >>"$TMP/batch_in"
done
# The same from stdin, and --verbose adds metrics on stderr only.
prompt=$(field "$G/0.json" prompt)
printf '%s\n' "$prompt" >"$TMP/p0"
IN="$TMP/p0" run_infer run "$STORIES" --temperature 0 -n 32 --verbose
expect_out_eq "$(field "$G/0.json" greedy_text)" "run from stdin"
check "run --verbose: decode rate" grep -Eq "^decode: +32 tokens" "$ERR"
check "run --verbose: prefill of 5 tokens" grep -q "^prefill: 5 tokens" "$ERR"
IN=

# The README's command: no model named, it is found in the test data.
(cd "${INF_SOURCE_DIR:-.}" && "$INFER" run "Once upon a time" --temperature 0 -n 32) >"$OUT" 2>"$ERR" </dev/null
RC=$?
expect_rc 0 "run with the default model"
expect_out_eq "$(field "$G/0.json" greedy_text)" "default model is stories260K"

# Ctrl-C during a long real generation: exit 130, the text so far kept.
"$INFER" run "$STORIES" "Once upon a time" --max-tokens 100000 --temperature 0.8 --seed 1 >"$OUT" 2>"$ERR" </dev/null &
pid=$!
sleep 0.3
if kill -INT "$pid" 2>/dev/null; then
    wait "$pid"; RC=$?
    if [ "$RC" = 0 ]; then
        echo "note: the generation ended before Ctrl-C arrived" >&2; pass
    else
        expect_rc 130 "run stories260K interrupted"
        expect_one_error_line "run stories260K interrupted"
    fi
else
    wait "$pid"; pass
fi

# batch: the three goldens together.
IN="$TMP/batch_in" run_infer batch "$STORIES" --temperature 0 --max-tokens 32
expect_rc 0 "batch goldens"
for i in 0 1 2; do
    want=$(field "$G/$i.json" greedy_ids)
    json_check "lines[$i]['tokens'] == $want and lines[$i]['status'] == 'ok'" "batch golden $i ids"
    OUT2="$OUT"
done
json_check "[l['text'] for l in lines] == [json.load(open('$G/%d.json' % i))['greedy_text'] for i in range(3)]" "batch golden texts"

# classify: the greedy token at the last position, and the logits of llama.cpp.
printf '%s\n' "$(field "$G/0.json" prompt)" "$(field "$G/1.json" prompt)" >"$TMP/cls_in"
IN="$TMP/cls_in" run_infer classify "$STORIES" --logits --top 3
expect_rc 0 "classify goldens"
for i in 0 1; do
    first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["greedy_ids"][0])' "$G/$i.json")
    json_check "lines[$i]['token']['id'] == $first and lines[$i]['top'][0]['id'] == $first and 0 < lines[$i]['probability'] <= 1" "classify golden $i token"
    # llama.cpp's raw logits (conformance data) or log-probabilities (ours): compare log-softmax
    gold="$G/$i.logprobs.f32"; [ -f "$G/$i.logits.f32" ] && gold="$G/$i.logits.f32"
    json_check "(lambda ls, ref, got: len(got) == len(ref) and max(abs(a - b) for a, b in zip(ls(ref), ls(got))) < 2e-2)(lambda v: (lambda m: [x - m - __import__('math').log(sum(__import__('math').exp(y - m) for y in v)) for x in v])(max(v)), __import__('struct').unpack('<%df' % (__import__('os').path.getsize('$gold') // 4), open('$gold', 'rb').read()), lines[$i]['logits'])" "classify golden $i log-probabilities within 2e-2 of llama.cpp"
done

# bench: JSON lines with the documented keys.
run_infer bench "$STORIES" -p 32 -n 16 -r 2 --threads 1 --json
expect_rc 0 "bench stories260K"
json_check '[l["test"] for l in lines] == ["pp32", "tg16"] and all(l["tokens_per_second"] > 0 and l["sd"] >= 0 and l["threads"] == 1 and l["model"] == "stories260K.gguf" for l in lines)' "bench JSON lines"

# Template and chat on a model with a chat template (random weights).
Q="$TESTDATA/models/random/qwen3-tiny-f16.gguf"
check "qwen3-tiny-f16 runs" "$INFER" run "$Q" "x" -n 1 </dev/null
{
    printf '{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Why?"}], "add_generation_prompt": true, "enable_thinking": false}' >"$TMP/conv.json"
    IN="$TMP/conv.json" run_infer template "$Q"
    expect_rc 0 "template qwen3"
    cp "$OUT" "$TMP/rendered"
    "$INFER" info "$Q" --template >"$TMP/tmpl" 2>/dev/null
    check "@huggingface/jinja renders the template" sh -c "cd '${INF_SOURCE_DIR:-.}' && node '$ORACLE' jinja '$TMP/tmpl' '$TMP/conv.json' >'$TMP/want'"
    check "template matches @huggingface/jinja" cmp -s "$TMP/want" "$TMP/rendered"
    check "template ends with the generation prompt" grep -q "<|im_start|>assistant" "$TMP/rendered"
    printf '{"messages": [{"role": "user", "content": "Hi"}]}' >"$TMP/chat.json"
    run_infer chat "$Q" --messages "$TMP/chat.json" --temperature 0 -n 8
    expect_rc 0 "chat --messages qwen3"
}

finish
