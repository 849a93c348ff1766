#!/bin/bash
# test_backends_llama_cpp_serve.sh - `infer serve` and the llama_cpp backend through
# the CLI, on the real engine (stories260K.gguf on the cpu backend):
#   1. `infer serve MODEL --port 0` answers /health, /v1/models, /completion;
#   2. `infer run http://127.0.0.1:PORT PROMPT` (no backend named: routed to
#      llama_cpp by the URL) prints exactly what `infer run MODEL PROMPT`
#      prints, in both protocols (URL and URL/v1);
#   3. managed mode: with a stand-in `llama-server` script on PATH that execs
#      `infer serve` with the translated options, `infer run --backend
#      llama_cpp MODEL PROMPT` starts it, prints the same text, and stops it.
# Skips (77) while `infer serve` is not wired in or the engine cannot run.
set -u
BUILD=${INF_BUILD_DIR:-build}
INFER="$BUILD/infer"
MODEL="${INF_TESTDATA:?INF_TESTDATA is not set (run through ctest)}/models/stories260K.gguf"
[ -x "$INFER" ] || { echo "FAIL: $INFER not built"; exit 1; }
[ -f "$MODEL" ] || { echo "FAIL: $MODEL absent"; exit 1; }
"$INFER" serve --help 2>/dev/null | grep -q "/completion" || { echo "FAIL: infer serve is not wired in yet"; exit 1; }
command -v curl >/dev/null || { echo "FAIL: curl (the command) is absent"; exit 1; }

TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
fail=0
check() { # check NAME COND...
    local name=$1; shift
    if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fail=$((fail + 1)); fi
}

PROMPT="Once upon a time"
direct=$("$INFER" run "$MODEL" "$PROMPT" -n 24 --temperature 0 2>"$TMP/direct.err")
if [ $? -ne 0 ] || [ -z "$direct" ]; then
    echo "FAIL: the cpu backend cannot run stories260K yet: $(tail -1 "$TMP/direct.err")"; exit 1
fi

"$INFER" serve "$MODEL" --port 0 --parallel 2 2>"$TMP/serve.err" &
SERVER_PID=$!
port=
for _ in $(seq 1 200); do
    port=$(sed -n 's/.*serving on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$TMP/serve.err")
    [ -n "$port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
[ -n "$port" ] || { echo "FAIL infer serve did not start: $(cat "$TMP/serve.err")"; exit 1; }
URL="http://127.0.0.1:$port"

check "GET /health" bash -c "curl -sf $URL/health | grep -q '\"ok\"'"
check "GET /v1/models names the file" bash -c "curl -sf $URL/v1/models | grep -q 'stories260K.gguf'"
check "POST /completion streams token ids" bash -c \
    "curl -sfN $URL/completion -d '{\"prompt\":\"Once\",\"n_predict\":3,\"stream\":true}' | grep -q '\"tokens\":\[[0-9]'"
check "malformed JSON is a 400" bash -c \
    "[ \$(curl -s -o /dev/null -w '%{http_code}' $URL/v1/completions -d '{oops') = 400 ]"

for suffix in "" "/v1"; do
    via=$("$INFER" run "$URL$suffix" "$PROMPT" -n 24 --temperature 0 2>"$TMP/via.err")
    check "infer run $URL$suffix == infer run MODEL" [ "$via" = "$direct" ]
    [ "$via" = "$direct" ] || { echo "  http:   $via"; echo "  direct: $direct"; tail -2 "$TMP/via.err"; }
done
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=

# Managed mode with a stand-in llama-server that runs `infer serve`.
mkdir -p "$TMP/bin"
cat >"$TMP/bin/llama-server" <<SCRIPT
#!/bin/bash
# stand-in llama-server: translate its options to infer serve's
model= host=127.0.0.1 port=8080 args=()
while [ \$# -gt 0 ]; do
    case "\$1" in
        -m|--model) model=\$2; shift ;;
        --host) host=\$2; shift ;;
        --port) port=\$2; shift ;;
        -c|--ctx-size) args+=(--ctx "\$2"); shift ;;
        -np|--parallel) args+=(--parallel "\$2"); shift ;;
        -t|--threads) args+=(--threads "\$2"); shift ;;
        -ngl|--n-gpu-layers) shift ;;
    esac
    shift
done
exec "$(cd "$(dirname "$INFER")" && pwd)/infer" serve "\$model" --host "\$host" --port "\$port" "\${args[@]}"
SCRIPT
chmod +x "$TMP/bin/llama-server"
managed=$(PATH="$TMP/bin:$PATH" "$INFER" run --backend llama_cpp "$MODEL" "$PROMPT" -n 24 --temperature 0 --parallel 2 2>"$TMP/managed.err")
check "managed mode (stand-in llama-server) == direct" [ "$managed" = "$direct" ]
[ "$managed" = "$direct" ] || { echo "  managed: $managed"; tail -3 "$TMP/managed.err"; }
check "managed server stopped on close" bash -c "! pgrep -f \"[i]nfer serve $MODEL --host\" >/dev/null"
nolib=$(PATH="/nonexistent" "$INFER" run --backend llama_cpp "$MODEL" "$PROMPT" -n 4 2>&1 >/dev/null)
check "managed mode without llama-server: clear error" bash -c "grep -q 'llama-server' <<<\"\$0\"" "$nolib"

echo "$fail failed"
[ "$fail" -eq 0 ]
