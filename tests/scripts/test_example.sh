#!/usr/bin/env bash
# test_example.sh - the README's example, built against the public header and
# the shared library only, runs on the real stories260K model and prints text.
set -u
model="$INF_TESTDATA/models/stories260K.gguf"
[ -f "$model" ] || { echo "FAIL: $model is missing"; exit 1; }
exe="$INF_BUILD_DIR/example_stream"
[ -x "$exe" ] || { echo "FAIL: $exe was not built"; exit 1; }
out=$("$exe" "$model" "Once upon a time" 2>&1) || { echo "FAIL: example exited $?: $out"; exit 1; }
if [ "${#out}" -lt 20 ]; then echo "FAIL: too little text: '$out'"; exit 1; fi
# A missing model gives a clear error and a non-zero status.
if err=$("$exe" /nonexistent.gguf 2>&1); then echo "FAIL: missing model accepted"; exit 1; fi
case "$err" in *nonexistent.gguf*) ;; *) echo "FAIL: unclear error: $err"; exit 1 ;; esac
echo "1 passed, 0 failed"
