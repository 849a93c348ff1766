#!/usr/bin/env bash
# test_layering.sh - the house rules hold: no #include points up the layer
# order of CONTRIBUTING.md (scripts/check_layers.py), and no function outside
# the SIMD kernels grows past 80 lines unless scripts/function_size_budget.txt
# allows it (scripts/function_sizes.py). Each checker is first shown to catch
# a violation in a small made-up tree, so a checker that passes everything
# fails here.
set -u
root="${INF_SOURCE_DIR:-.}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# a tree where formats/ includes model/ (above it) and core/ includes text/
mkdir -p "$tmp/src/formats" "$tmp/src/model" "$tmp/src/core" "$tmp/src/text" "$tmp/tools/infer" "$tmp/scripts"
cp "$root/CONTRIBUTING.md" "$tmp/"
echo '#include "model/model.h"' > "$tmp/src/formats/a.c"
echo '#include "text/tokenizer.h"' > "$tmp/src/core/b.c"
echo '#include "formats/gguf.h"' > "$tmp/src/model/ok.c"
if out=$(python3 "$root/scripts/check_layers.py" "$tmp" 2>&1); then bad "check_layers passed a tree with violations"; else
    case "$out" in *"src/formats/a.c:1"*"src/core/b.c:1"*|*"src/core/b.c:1"*"src/formats/a.c:1"*) ok ;; *) bad "check_layers missed one: $out" ;; esac
fi
case "$out" in *"src/model/ok.c"*) bad "check_layers flagged an allowed include: $out" ;; *) ok ;; esac

# a 90-line function with no allowance
{ echo "int long_one(void)"; echo "{"; for i in $(seq 88); do echo "    x++;"; done; echo "}"; } > "$tmp/src/model/c.c"
: > "$tmp/scripts/function_size_budget.txt"
if out=$(python3 "$root/scripts/function_sizes.py" "$tmp" 2>&1); then bad "function_sizes passed a 90-line function"; else
    case "$out" in *"long_one() has 90 lines"*) ok ;; *) bad "function_sizes said: $out" ;; esac
fi

# the repository itself
if out=$(python3 "$root/scripts/check_layers.py" "$root" 2>&1); then ok; else bad "layering: $out"; fi
echo "$out" | tail -1
if out=$(python3 "$root/scripts/function_sizes.py" "$root" 2>&1); then ok; else bad "function sizes: $out"; fi
echo "$out" | tail -1
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
