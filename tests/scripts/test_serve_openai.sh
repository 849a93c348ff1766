#!/bin/bash
# test_serve_openai.sh - the real `infer serve` (stories260K.gguf on the cpu
# backend, 127.0.0.1, a free port) driven by the official OpenAI npm client:
# tests/scripts/test_serve_openai.mjs (chat and completions, streamed and
# not, usage counts, stop sequences, errors as the client's exceptions, 16
# concurrent greedy clients). Then SIGTERM must stop the server with exit 0.
# Skips (77) without node, node_modules/openai (`npm i`), the binary or the model.
set -u
BUILD=${INF_BUILD_DIR:-build}
INFER="$BUILD/infer"
MODEL="${INF_TESTDATA:?INF_TESTDATA is not set (run through ctest)}/models/stories260K.gguf"
SRC=${INF_SOURCE_DIR:-.}
[ -x "$INFER" ] || { echo "FAIL: $INFER not built"; exit 1; }
[ -f "$MODEL" ] || { echo "FAIL: $MODEL absent"; exit 1; }
command -v node >/dev/null || { echo "FAIL: node is not installed"; exit 1; }
[ -d "$SRC/node_modules/openai" ] || { echo "FAIL: node_modules/openai is missing (run: npm i)"; exit 1; }
"$INFER" serve --help 2>/dev/null | grep -q -- "--parallel" || { echo "FAIL: infer serve is not in this build"; exit 1; }

TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

PROMPT="Once upon a time"
direct=$("$INFER" run "$MODEL" "$PROMPT" -n 24 --temperature 0 2>"$TMP/direct.err")
if [ $? -ne 0 ] || [ -z "$direct" ]; then
    echo "FAIL: the cpu backend cannot run stories260K: $(tail -1 "$TMP/direct.err")"; exit 1
fi

"$INFER" serve "$MODEL" --host 127.0.0.1 --port 0 --parallel 4 2>"$TMP/serve.err" &
SERVER_PID=$!
port=
for _ in $(seq 1 300); do
    port=$(sed -n 's/.*serving on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$TMP/serve.err")
    [ -n "$port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
[ -n "$port" ] || { echo "FAIL infer serve did not start: $(cat "$TMP/serve.err")"; exit 1; }

# The .mjs imports 'openai' from the repository's node_modules.
DIRECT_TEXT="$direct" node "$SRC/tests/scripts/test_serve_openai.mjs" "http://127.0.0.1:$port" "stories260K.gguf"
rc=$?

kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
src=$?
SERVER_PID=
if [ "$src" -ne 0 ]; then echo "FAIL infer serve exited $src after SIGTERM"; tail -5 "$TMP/serve.err"; rc=1
else echo "ok   SIGTERM: exit 0"; fi
exit $rc
