# test_cli_fake.sh - every model command of `infer` end to end against the
# "clifake" test backend (tests/plugins/cli_fake_backend.c, loaded as a
# plug-in through INFERENCE_PLUGIN_PATH), whose answers are known exactly:
# output shapes, exact stdout, streaming order, stdin handling, JSONL, chat
# commands, metrics on stderr, and Ctrl-C (kill -INT) on run, chat and batch.
. "$(dirname "$0")/cli_lib.sh"

if [ ! -f "$FAKE_PLUGIN" ]; then
    echo "FAIL: $FAKE_PLUGIN not built" >&2
    exit 1
fi
export INFERENCE_PLUGIN_PATH="$FAKE_PLUGIN"
M="$TMP/model.clifake"
: >"$M"
"$INFER" backends --json >"$OUT" 2>/dev/null
if ! grep -q '"clifake"' "$OUT"; then
    echo "FAIL: the clifake plug-in does not register (plug-in loading not available)" >&2
    exit 1
fi

# run: stdout is exactly the generated text (the fake echoes the prompt).
run_infer run "$M" "Hello, world" --temperature 0 --max-tokens 100
expect_rc 0 "run"
expect_out_eq "Hello, world" "run writes exactly the generated text"
check "run is quiet on stderr" test ! -s "$ERR"
run_infer run "$M" "Hello" --max-tokens 3
expect_out_eq "Hel" "run --max-tokens"
run_infer run -m "$M" "multi
line" 
expect_out_eq "multi
line" "run -m keeps newlines of the generated text"
IN="$TMP/stdin_prompt"; printf 'from stdin\n' >"$IN"
run_infer run "$M"
expect_out_eq "from stdin" "run reads the prompt from stdin (one newline dropped)"
run_infer run "$M" -
expect_out_eq "from stdin" "run - reads stdin"
IN=
INFERENCE_MODEL="$M" run_infer run "default model"
expect_rc 0 "run with INFERENCE_MODEL"
expect_out_eq "default model" "INFERENCE_MODEL is the default model"
run_infer run "$M" "abc" --verbose
expect_out_eq "abc" "--verbose leaves stdout alone"
check "--verbose prints prefill rate" grep -q "^prefill: 3 tokens" "$ERR"
check "--verbose prints decode rate" grep -Eq "^decode: +3 tokens .*tok/s" "$ERR"
check "--verbose prints memory" grep -q "^memory:" "$ERR"
run_infer run "$M" "abc" --stop b
expect_out_eq "a" "--stop ends before the stop text"
run_infer run "$M" "abc" --seed 42 --top-k 5 --top-p 0.9 --min-p 0.05 --repeat-penalty 1.1 --temperature 0.7 --ctx 64 --threads 1 --backend clifake
expect_rc 0 "run accepts every generation option"

# Streaming: text appears while the generation is still running.
"$INFER" run "$M" "slow" --max-tokens 30 >"$TMP/stream" 2>/dev/null </dev/null &
pid=$!
sleep 0.6
partial=$(wc -c <"$TMP/stream")
if kill -0 "$pid" 2>/dev/null; then alive=1; else alive=0; fi
wait "$pid"
final=$(wc -c <"$TMP/stream")
check "run streams: partial output while running ($partial bytes)" test "$alive" = 1 -a "$partial" -gt 0 -a "$partial" -lt 30
check "run streams: complete output at the end" test "$final" = 30

# Ctrl-C stops the generation: exit 130, partial text kept, one error line.
"$INFER" run "$M" "slow" --max-tokens 1000 >"$OUT" 2>"$ERR" </dev/null &
pid=$!
sleep 0.5
kill -INT "$pid"
wait "$pid"; RC=$?
expect_rc 130 "run interrupted by SIGINT"
expect_one_error_line "run interrupted"
check "run interrupted keeps partial output" test -s "$OUT"

# chat from a pipe: one reply per line, commands, /save and /load.
IN="$TMP/chat_in"
cat >"$IN" <<EOT
hello
/system be brief
two \\
lines
"""
block
text
"""
/save $TMP/conv.json
/bogus
/reset
/save $TMP/conv2.json
/exit
never sent
EOT
run_infer chat "$M"
expect_rc 0 "chat from a pipe"
expect_out_eq "you said: hello
you said: two 
lines
you said: block
text
" "chat replies in order"
check "chat reports the unknown command" grep -q "^infer: unknown command '/bogus'" "$ERR"
cp "$OUT" "$TMP/chat_out"
OUT="$TMP/conv.json" json_check '[m["role"] for m in d["messages"]] == ["system", "user", "assistant", "user", "assistant", "user", "assistant"] and d["messages"][0]["content"] == "be brief" and d["messages"][3]["content"] == "two \nlines"' "/save writes the conversation"
OUT="$TMP/conv2.json" json_check 'd["messages"] == [{"role": "system", "content": "be brief"}]' "/reset keeps only the system message"
printf '/load %s\nagain\n' "$TMP/conv.json" >"$IN"
run_infer chat "$M"
expect_rc 0 "chat /load"
expect_out_eq "you said: again
" "chat after /load"
check "/load reports the count" grep -q "loaded 7 messages" "$ERR"
IN=

# chat --messages: one reply, to stdout, exactly.
printf '{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi there"}]}' >"$TMP/m.json"
run_infer chat "$M" --messages "$TMP/m.json"
expect_rc 0 "chat --messages"
expect_out_eq "you said: hi there" "chat --messages writes the reply"
IN="$TMP/m.json" run_infer chat "$M" --messages -
expect_out_eq "you said: hi there" "chat --messages - reads stdin"
IN=
printf '[{"role": "user", "content": "slow"}]' >"$TMP/slow.json"
"$INFER" chat "$M" --messages "$TMP/slow.json" -n 1000 >"$OUT" 2>"$ERR" </dev/null &
pid=$!
sleep 0.5
kill -INT "$pid"
wait "$pid"; RC=$?
expect_rc 130 "chat --messages interrupted"

# classify: JSONL, one line per prompt, in order; probability from logits.
IN="$TMP/prompts"
printf 'a\n{"prompt": "abc"}\n\n"xy"\n{"text": "four"}\n' >"$IN"
run_infer classify "$M" --top 2 --echo
expect_rc 0 "classify"
json_check 'len(lines) == 4 and [l["index"] for l in lines] == [0, 1, 2, 3]' "classify: one line per prompt"
json_check '[l["prompt"] for l in lines] == ["a", "abc", "xy", "four"]' "classify --echo"
json_check '[l["token"]["text"] for l in lines] == ["b", "d", "c", "e"] and lines[0]["token"]["id"] == 98' "classify tokens"
json_check 'all(abs(l["probability"] - 2.718281828459045**5 / (2.718281828459045**5 + 256)) < 1e-9 for l in lines)' "classify probability = softmax of the logits"
json_check 'all(len(l["top"]) == 2 and l["top"][0]["id"] == l["token"]["id"] and l["top"][0]["probability"] >= l["top"][1]["probability"] for l in lines)' "classify --top"
json_check 'all("logits" not in l for l in lines)' "classify without --logits"
run_infer classify "$M" --logits --chunk 1
json_check 'all(len(l["logits"]) == 257 and l["logits"][l["token"]["id"]] == 5 for l in lines)' "classify --logits"
IN=
run_infer classify "$M" -i "$TMP/prompts"
json_check 'len(lines) == 4' "classify --input"

# batch: JSONL with text, tokens and each prompt's status.
IN="$TMP/bprompts"
printf 'abc\nfail\nhello\n' >"$IN"
run_infer batch "$M" --max-tokens 4 --chunk 2
expect_rc 1 "batch with a failing prompt exits 1"
expect_one_error_line "batch failure summary"
json_check '[l["text"] for l in lines] == ["ABC", "FAIL", "HELL"] and [l["index"] for l in lines] == [0, 1, 2]' "batch texts in order"
json_check 'lines[0]["tokens"] == [65, 66, 67] and lines[0]["status"] == "ok" and "error" not in lines[0]' "batch tokens"
json_check 'lines[1]["status"] != "ok" and "fail" in lines[1]["error"]' "batch per-prompt error"
printf 'abc\nxyz\n' >"$IN"
run_infer batch "$M"
expect_rc 0 "batch"
IN=

# tokenize through a loaded model (the fake's tokenizer: bytes, BOS 256).
run_infer tokenize "$M" --json "a<s>b"
expect_rc 0 "tokenize --json"
expect_out_eq "[256, 97, 60, 115, 62, 98]
" "tokenize: special text is plain text by default"
run_infer tokenize "$M" --json --special --no-bos "a<s>b"
expect_out_eq "[97, 256, 98]
" "tokenize --special --no-bos"
IN="$TMP/tok_in"; printf 'x\n' >"$IN"
run_infer tokenize "$M" --json --no-bos -
expect_out_eq "[120, 10]
" "tokenize - reads stdin byte for byte"
IN=
run_infer tokenize "$M" "a
b"
expect_out_eq "   256  '<s>'
    97  'a'
    10  '\n'
    98  'b'
" "tokenize text: ids and escaped pieces"

# template: the rendered prompt exactly.
IN="$TMP/conv_in"
printf '{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}], "add_generation_prompt": true, "enable_thinking": false}' >"$IN"
run_infer template "$M"
expect_rc 0 "template"
expect_out_eq "<|system|>S
<|user|>U
<|assistant|>" "template renders exactly"
printf '{"messages": [{"role": "user", "content": "U"}], "add_generation_prompt": false}' >"$IN"
run_infer template "$M"
expect_out_eq "<|user|>U
" "template passes add_generation_prompt"
IN=
run_infer template "$M" "$TMP/conv_in"
expect_out_eq "<|user|>U
" "template FILE"

# bench --json: one object per line per test with the documented keys.
run_infer bench "$M" -p 16 -n 8 -r 3 --threads 2 --json
expect_rc 0 "bench --json"
json_check '[l["test"] for l in lines] == ["pp16", "tg8"]' "bench tests"
json_check 'all(set(l) >= {"model", "type", "threads", "test", "tokens_per_second", "sd"} for l in lines)' "bench keys"
json_check 'all(l["tokens_per_second"] == 100 and l["sd"] == 0 and l["threads"] == 2 and l["model"] == "model.clifake" for l in lines)' "bench values"
run_infer bench "$M" -p 4 -n 0 -r 1
expect_rc 0 "bench table"
check "bench table has pp4" grep -q "pp4" "$OUT"

# info through the public API for non-GGUF models.
run_infer info "$M" --json
expect_rc 0 "info on a backend model"
json_check 'd["architecture"] == "clifake" and d["vocab_size"] == 257 and d["context_length"] == 4096' "info from inf_model_info_get"

finish
