#!/usr/bin/env bash
# check_data.sh - make conformance's first test: $INF_TESTDATA must hold
# every file of the manifest (paths relative to it, one per line, '#'
# comments). Fails naming each missing file.
set -u
MANIFEST=$1
DIR=${INF_TESTDATA:-}
[ -n "$DIR" ] || { echo "FAIL: INF_TESTDATA is not set (run make conformance TESTDATA=DIR)" >&2; exit 1; }
[ -d "$DIR" ] || { echo "FAIL: the conformance data directory $DIR does not exist (make conformance TESTDATA=DIR)" >&2; exit 1; }
missing=0
total=0
while IFS= read -r line; do
    case $line in ''|'#'*) continue ;; esac
    total=$((total + 1))
    if [ ! -e "$DIR/$line" ]; then
        echo "FAIL: missing conformance data $DIR/$line" >&2
        missing=$((missing + 1))
    fi
done <"$MANIFEST"
echo "$((total - missing)) of $total conformance files present in $DIR"
[ "$missing" = 0 ]
