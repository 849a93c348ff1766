# cli_lib.sh - helpers shared by the tests/scripts/test_cli_*.sh tests of the
# `infer` program: where the binary and data are, a temporary folder, and
# small assertions that count passes and failures and print "N passed, N
# failed" at the end. Source it; it is not a test itself.

INFER="${INF_BUILD_DIR:-build}/infer"
TESTDATA="${INF_TESTDATA:?INF_TESTDATA is not set (run through ctest)}"
STORIES="$TESTDATA/models/stories260K.gguf"
FAKE_PLUGIN="${INF_BUILD_DIR:-build}/plugins/cli_fake_backend.so"
PASSED=0
FAILED=0

if [ ! -x "$INFER" ]; then
    echo "FAIL: $INFER is not built" >&2
    exit 1
fi
TMP="$(mktemp -d "${TMPDIR:-/tmp}/infer-cli-test.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
# Keep the user's history, config and model folders out of the tests.
export HOME="$TMP/home"
export XDG_DATA_HOME="$TMP/xdg"
mkdir -p "$HOME"
unset INFERENCE_MODEL INFERENCE_PLUGIN_PATH

pass() { PASSED=$((PASSED + 1)); }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*" >&2; }

# check DESC COMMAND...: passes when COMMAND succeeds.
check() {
    local desc="$1"; shift
    if "$@"; then pass; else fail "$desc"; fi
}

# run_infer ARGS...: runs infer with stdin from $IN (default /dev/null);
# sets RC, OUT (stdout file), ERR (stderr file).
OUT="$TMP/out"
ERR="$TMP/err"
run_infer() {
    "$INFER" "$@" <"${IN:-/dev/null}" >"$OUT" 2>"$ERR"
    RC=$?
}

# expect_rc CODE DESC: RC must be CODE.
expect_rc() {
    if [ "$RC" = "$1" ]; then pass; else fail "$2: exit $RC, expected $1 (stderr: $(head -c 300 "$ERR"))"; fi
}

# expect_one_error_line DESC: stderr is exactly one line "infer: ...".
expect_one_error_line() {
    local lines
    lines=$(wc -l <"$ERR")
    if [ "$lines" = 1 ] && grep -q '^infer: ' "$ERR"; then pass
    else fail "$1: stderr is not one 'infer: ' line: $(cat "$ERR")"; fi
}

# expect_out_eq TEXT DESC: stdout is exactly TEXT (no added newline).
expect_out_eq() {
    local want="$TMP/want"
    printf '%s' "$1" >"$want"
    if cmp -s "$want" "$OUT"; then pass
    else fail "$2: stdout $(od -c "$OUT" | head -5) expected $(od -c "$want" | head -5)"; fi
}

# json_check PYTHON_EXPR DESC: evaluates the expression with `d` bound to the
# JSON of stdout (or `lines`, the list of JSON lines); passes when it is true.
json_check() {
    if python3 - "$OUT" "$1" <<'PY'
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
try:
    d = json.loads(text)
except Exception:
    d = None
lines = [json.loads(l) for l in text.splitlines() if l.strip()] if d is None else [d]
ok = eval(sys.argv[2])
sys.exit(0 if ok else 1)
PY
    then pass; else fail "$2: $(head -c 400 "$OUT")"; fi
}

# The CPU engine may not be there yet: skip tests that need it.
engine_works() {
    [ -f "$STORIES" ] || return 1
    "$INFER" run "$STORIES" "Once" -n 1 --temperature 0 >/dev/null 2>"$TMP/engine_err" </dev/null
}

finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" = 0 ]
    exit $?
}
