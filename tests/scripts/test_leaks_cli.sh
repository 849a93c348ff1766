#!/usr/bin/env bash
# test_leaks_cli.sh - the CLI's main commands under valgrind memcheck:
# no invalid access, no use of uninitialised memory, no definite or
# indirect leak, on the success paths and on the error paths.
#
# Skipped (exit 1) when the infer binary or valgrind is missing, or when
# the test model is absent. The kernels are held at AVX2
# (INF_CPU_LEVEL=avx2) because valgrind does not decode AVX-512.
set -uo pipefail
BUILD=${INF_BUILD_DIR:-build}
INFER=$BUILD/infer
TESTDATA=${INF_TESTDATA:?INF_TESTDATA is not set (run through ctest)}
MODEL=$TESTDATA/models/stories260K.gguf

[ -x "$INFER" ] || { echo "FAIL: $INFER does not exist yet"; exit 1; }
command -v valgrind >/dev/null || { echo "FAIL: valgrind is not installed (apt-get install valgrind)"; exit 1; }
[ -f "$MODEL" ] || { echo "FAIL: $MODEL is missing"; exit 1; }

export INF_CPU_LEVEL=avx2
export INFERENCE_MODEL=$MODEL
LOG_DIR=$(mktemp -d)
trap 'rm -rf "$LOG_DIR"' EXIT
passed=0
failed=0

# check NAME WANT_EXIT -- ARGS...: runs infer ARGS under memcheck; the
# command must exit WANT_EXIT ("any" for either 0 or 1) and memcheck must
# report nothing.
check() {
    local name=$1 want=$2
    shift 3
    local log="$LOG_DIR/$name.log"
    timeout 300 valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
        --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
        --track-origins=no --num-callers=30 --log-file="$log" \
        "$INFER" "$@" >"$LOG_DIR/$name.out" 2>"$LOG_DIR/$name.err" </dev/null
    local rc=$?
    local ok=1
    if [ $rc -eq 99 ]; then
        ok=0; echo "FAIL $name: memcheck errors:"; grep -A30 'ERROR SUMMARY\|Invalid\|uninitialised\|definitely lost\|indirectly lost' "$log" | head -60
    elif [ $rc -eq 124 ]; then
        ok=0; echo "FAIL $name: timed out"
    elif [ "$want" != any ] && [ $rc -ne "$want" ]; then
        ok=0; echo "FAIL $name: exit $rc, want $want; stderr:"; head -5 "$LOG_DIR/$name.err"
    elif [ "$want" = any ] && [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
        ok=0; echo "FAIL $name: exit $rc (crash?); stderr:"; head -5 "$LOG_DIR/$name.err"
    fi
    if [ $ok = 1 ]; then
        passed=$((passed + 1))
        echo "ok   $name (exit $rc; $(grep -o 'ERROR SUMMARY: [0-9]* errors' "$log"))"
    else
        failed=$((failed + 1))
    fi
}

# success paths
check run_greedy 0 -- run "$MODEL" "Once upon a time" --temperature 0 --max-tokens 12
check run_sampled 0 -- run "$MODEL" "Lily" --temperature 0.8 --top-k 40 --top-p 0.9 --seed 7 --max-tokens 8 --stop "." -v
check tokenize_json 0 -- tokenize "$MODEL" --json --no-bos --special "<s>Once upon</s> a time"
check info 0 -- info "$MODEL"
check tokenize_hf_dir 0 -- tokenize "$TESTDATA/tokenizers/llama2" --json "Hello world"
# error paths must release everything too
check run_missing_model 1 -- run /nonexistent/model.gguf "x" --max-tokens 4
check run_bad_option 2 -- run "$MODEL" "x" --top-p 7
check info_not_gguf any -- info "$TESTDATA/models/stories260K.greedy_ids.txt"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
