#!/usr/bin/env bash
# test_leaks_server.sh - the HTTP server's request cycle under valgrind
# memcheck: `infer serve` answers a round of requests (completions, streamed
# and not, chat, tokenize, detokenize, and the error paths: malformed JSON,
# wrong types, a body over --max-body, an unknown path), then stops on
# SIGINT; memcheck must report no error and no definite/indirect leak.
#
# Skipped (exit 1) without the infer binary, valgrind, curl or the model.
set -uo pipefail
BUILD=${INF_BUILD_DIR:-build}
INFER=$BUILD/infer
TESTDATA=${INF_TESTDATA:?INF_TESTDATA is not set (run through ctest)}
MODEL=$TESTDATA/models/stories260K.gguf

[ -x "$INFER" ] || { echo "FAIL: $INFER does not exist yet"; exit 1; }
command -v valgrind >/dev/null || { echo "FAIL: valgrind is not installed"; exit 1; }
command -v curl >/dev/null || { echo "FAIL: curl is not installed"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 is not installed"; exit 1; }
[ -f "$MODEL" ] || { echo "FAIL: $MODEL is missing"; exit 1; }
"$INFER" serve --help 2>&1 | grep -q -- '--port' || { echo "FAIL: infer serve is not in this build"; exit 1; }

export INF_CPU_LEVEL=avx2  # valgrind does not decode AVX-512
TMP=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --num-callers=30 --log-file="$TMP/vg.log" \
    "$INFER" serve "$MODEL" --port "$PORT" --parallel 2 --max-body 4096 --threads 1 \
    >"$TMP/out" 2>"$TMP/err" &
PID=$!
cleanup() { kill -9 "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

URL=http://127.0.0.1:$PORT
for _ in $(seq 1 240); do
    curl -s -o /dev/null "$URL/health" && break
    kill -0 "$PID" 2>/dev/null || { echo "FAIL: the server exited early:"; cat "$TMP/err"; exit 1; }
    sleep 0.5
done

failed=0
# req NAME WANT_STATUS PATH [BODY]
req() {
    local name=$1 want=$2 path=$3 body=${4-}
    local code
    if [ -n "$body" ]; then
        code=$(curl -s -o "$TMP/$name.body" -w '%{http_code}' -m 120 -H 'Content-Type: application/json' \
               --data-binary "$body" "$URL$path")
    else
        code=$(curl -s -o "$TMP/$name.body" -w '%{http_code}' -m 120 "$URL$path")
    fi
    if [ "$code" != "$want" ]; then
        echo "FAIL $name: HTTP $code, want $want: $(head -c 300 "$TMP/$name.body")"; failed=$((failed + 1))
    else
        echo "ok   $name (HTTP $code)"
    fi
}
BIG=$(python3 -c 'print("{\"prompt\":\"" + "x" * 8000 + "\"}")')
req health 200 /health
req models 200 /v1/models
req completion 200 /v1/completions '{"prompt":"Once upon a time","max_tokens":8,"temperature":0}'
req completion_stream 200 /v1/completions '{"prompt":"Lily","max_tokens":8,"stream":true,"stop":["."]}'
req native 200 /completion '{"prompt":"Once","n_predict":6,"n_probs":3}'
req chat_no_template 200 /v1/chat/completions '{"messages":[{"role":"user","content":"Hi"}],"max_tokens":4}'
req tokenize 200 /tokenize '{"content":"Hello world","with_pieces":true}'
req detokenize 200 /detokenize '{"tokens":[1,403,407]}'
req detokenize_bad 400 /detokenize '{"tokens":[1,-5]}'
req malformed 400 /v1/completions '{"prompt": "x", '
req wrong_type 400 /v1/completions '{"prompt": 42, "max_tokens": "many"}'
req too_large 413 /v1/completions "$BIG"
req unknown_path 404 /nope
kill -INT "$PID"
wait "$PID"
rc=$?
if [ $rc -eq 99 ]; then
    echo "FAIL: memcheck errors:"; grep -A30 'Invalid\|uninitialised\|definitely lost\|indirectly lost' "$TMP/vg.log" | head -80
    failed=$((failed + 1))
elif [ $rc -ne 0 ]; then
    echo "FAIL: infer serve exited $rc after SIGINT:"; tail -5 "$TMP/err"; failed=$((failed + 1))
else
    echo "ok   shutdown ($(grep -o 'ERROR SUMMARY: [0-9]* errors' "$TMP/vg.log"))"
fi
echo "$failed failed"
[ $failed -eq 0 ]
