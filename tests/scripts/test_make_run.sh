#!/usr/bin/env bash
# test_make_run.sh - the README's first command: `make run` generates from
# the bundled default model (models/stories260K.gguf) and prints a story,
# llama.cpp's greedy continuation of the default prompt (the golden of
# testdata/golden/stories260K/0.json, "Once upon a time"), with nothing else
# on stdout.
. "$(dirname "$0")/cli_lib.sh"
SRC="${INF_SOURCE_DIR:-.}"
G="$TESTDATA/golden/stories260K/0.json"
[ -f "$G" ] || { echo "FAIL: $G is missing" >&2; exit 1; }
make -s -C "$SRC" run BUILD="${INF_BUILD_DIR:-build}" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "make run"
check "make run printed the story llama.cpp tells from the default prompt" python3 - "$G" "$OUT" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
out = open(sys.argv[2], encoding="utf-8").read()
ok = g["prompt"] == "Once upon a time" and g["stop"] == "limit" and out.startswith(g["greedy_text"]) \
     and len(out) > len(g["greedy_text"])
if not ok: print("make run printed:", repr(out[:200]), "\nllama.cpp:", repr(g["greedy_text"]))
sys.exit(0 if ok else 1)
PY
finish
