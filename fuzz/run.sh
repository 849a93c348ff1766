#!/usr/bin/env bash
# fuzz/run.sh - builds the libFuzzer harnesses (fuzz/build.sh) and runs each
# for SECONDS seconds (default 60) on a seed corpus generated from
# ../shared/testdata (fuzz/gen_seeds.py) plus fuzz/seeds/.
#
#   bash fuzz/run.sh [SECONDS]          what `make fuzz` runs
#   FUZZ_TARGETS="gguf jinja" bash fuzz/run.sh 600   a subset, longer
#
# Exits non-zero when any harness reports a finding (crash, sanitizer
# report, leak, timeout or out-of-memory); the reproducer is kept in
# build-fuzz/artifacts/ and the log in build-fuzz/logs/<target>.log. Each
# target's executions and coverage are printed at the end.
# Environment: INF_TESTDATA (default ../shared/testdata), FUZZ_DIR
# (default build-fuzz), FUZZ_TARGETS, FUZZ_JOBS (compile jobs, default 2).
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
OUT=${FUZZ_DIR:-build-fuzz}
TESTDATA=${INF_TESTDATA:-$PWD/../shared/testdata}
[ -d "$TESTDATA" ] || TESTDATA=/work/shared/testdata
export INF_TESTDATA=$TESTDATA

bash fuzz/build.sh "$OUT" || { echo "fuzz/run.sh: build failed" >&2; exit 1; }
python3 fuzz/gen_seeds.py "$TESTDATA" "$OUT/seeds" || { echo "fuzz/run.sh: seed generation failed" >&2; exit 1; }
mkdir -p "$OUT/corpus" "$OUT/artifacts" "$OUT/logs"

# Per-target options: -max_len for targets whose seeds are large documents
extra_opts() {
    case $1 in
        gguf) echo "-max_len=1048576" ;;
        tokenizer_json) echo "-max_len=262144 -timeout=20" ;;
        tokenizer_gguf) echo "-max_len=524288 -timeout=20" ;;
        jinja) echo "-max_len=32768" ;;
        *) echo "" ;;
    esac
}

targets=${FUZZ_TARGETS:-$(ls fuzz/fuzz_*.c | sed 's#.*/fuzz_##; s#\.c$##')}
failed=0
summary=""
for t in $targets; do
    bin="$OUT/fuzz_$t"
    if [ ! -x "$bin" ]; then
        summary+=$(printf '\n  %-15s NOT BUILT (no fuzz/fuzz_%s.c?)' "$t" "$t")
        failed=$((failed + 1))
        continue
    fi
    # The working corpus grows across runs; the seeds are read each time.
    mkdir -p "$OUT/corpus/$t" "$OUT/seeds/$t"
    log="$OUT/logs/$t.log"
    echo "fuzz/run.sh: fuzzing $t for ${SECONDS_PER_TARGET}s"
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$bin" "$OUT/corpus/$t" "$OUT/seeds/$t" \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2560 -malloc_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$t-" $(extra_opts "$t") >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
    if [ $rc -ne 0 ]; then
        failed=$((failed + 1))
        echo "fuzz/run.sh: FINDING in $t (exit $rc); log $log; reproducer(s):" >&2
        ls "$OUT/artifacts/$t-"* 2>/dev/null >&2
        grep -m1 -A25 'ERROR: \|runtime error\|==ERROR\|deadly signal\|Timeout\|out-of-memory' "$log" >&2
        summary+=$(printf '\n  %-15s FINDING (exit %d), %s execs' "$t" "$rc" "${execs:-?}")
    else
        summary+=$(printf '\n  %-15s ok: %s execs, cov %s, ft %s' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}")
    fi
done
echo "fuzz/run.sh: summary (${SECONDS_PER_TARGET}s per target):$summary"
[ $failed -eq 0 ] || { echo "fuzz/run.sh: $failed target(s) with findings" >&2; exit 1; }
