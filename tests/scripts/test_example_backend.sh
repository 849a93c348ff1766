#!/usr/bin/env bash
# test_example_backend.sh - examples/backend.c, the minimal plug-in the
# header promises: it builds as a shared object that needs no symbol of
# libinference, loads through INFERENCE_PLUGIN_PATH, and its backend serves
# Generate (with max_tokens), Chat, and a clear "unsupported" for what it
# leaves out (Classify).
set -u
so="$INF_BUILD_DIR/example_backend.so"
infer="$INF_BUILD_DIR/infer"
[ -f "$so" ] || { echo "FAIL: $so was not built"; exit 1; }
[ -x "$infer" ] || { echo "FAIL: $infer was not built"; exit 1; }
pass=0 fail=0
check() { # name, condition result (0 = ok), detail
    if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1: $3"; fi
}
undef=$(nm -D --undefined-only "$so" | awk '{print $2}' | grep '^inf_' || true)
check "links against nothing of libinference" "$([ -z "$undef" ]; echo $?)" "$undef"
export INFERENCE_PLUGIN_PATH="$so"
out=$("$infer" run --backend shout -m any.shout "hello world" 2>&1)
check "generate" "$([ "$out" = "HELLO WORLD" ]; echo $?)" "'$out'"
out=$("$infer" run --backend shout -m any.shout -n 3 "hello world" 2>&1)
check "max_tokens" "$([ "$out" = "HEL" ]; echo $?)" "'$out'"
out=$(printf 'be loud\n' | "$infer" chat --backend shout -m any.shout 2>/dev/null)
check "chat" "$(printf '%s' "$out" | grep -q 'BE LOUD'; echo $?)" "'$out'"
err=$(printf 'abc\n' | "$infer" classify --backend shout -m any.shout 2>&1); rc=$?
check "classify is unsupported, said so" "$([ $rc -ne 0 ] && printf '%s' "$err" | grep -qi 'support'; echo $?)" "rc $rc: $err"
out=$("$infer" backends 2>&1)
check "listed among the backends" "$(printf '%s' "$out" | grep -q 'shout'; echo $?)" "$out"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
