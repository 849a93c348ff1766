#!/usr/bin/env bash
# test_chat_jinja_reference.sh - the Jinja interpreter (src/text/jinja) against
# @huggingface/jinja, byte for byte: every chat template of the test data
# (each tokenizer_config.json's; under make conformance also the 66 llama.cpp
# ones of ../shared/testdata)
# on ~50 conversations (system or not, several turns, empty, multi-line and
# non-ASCII content, assistant last, add_generation_prompt both ways, Qwen3's
# enable_thinking, tools and tool calls, documents, bos/eos), plus thousands
# of one-construct and random snippets. Where the reference fails, we must
# fail too.
#
# Usage: bash tests/scripts/test_chat_jinja_reference.sh [TEMPLATE_OR_DIR...]
#   With arguments, only those templates (.jinja files, tokenizer_config.json
#   files, or folders of them) on the conversations.
# Environment: INF_SOURCE_DIR, INF_BUILD_DIR (default build/), INF_TESTDATA,
#   JINJA_RANDOM / JINJA_SEED (how many random snippets, which seed),
#   JINJA_VERBOSE=1 (print every mismatch).
set -u
SRC=${INF_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${INF_BUILD_DIR:-$SRC/build}
BIN=$BUILD/tests/test_chat_jinja_reference
command -v node >/dev/null || { echo "FAIL: node is not installed" >&2; exit 1; }
[ -d "$SRC/node_modules/@huggingface/jinja" ] || { echo "FAIL: node_modules/@huggingface/jinja is missing (npm ci)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "FAIL: $BIN is not built" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export TZ=UTC LC_ALL=C
node "$SRC/tests/scripts/test_chat_jinja_reference.mjs" "$TMP" "$@" || { echo "FAIL: the reference script failed" >&2; exit 1; }
args=("$TMP")
[ "${JINJA_VERBOSE:-0}" = 1 ] && args+=(-v)
"$BIN" "${args[@]}"
