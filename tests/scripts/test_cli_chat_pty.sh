# test_cli_chat_pty.sh - the `infer chat` REPL in a pseudo-terminal (python3's
# pty module, tests/scripts/cli_pty.py): a typed message gets a streamed
# reply, Ctrl-C stops a reply without ending the chat and twice at the prompt
# quits, Up-arrow recalls history (libedit); and the progress bars of
# classify and batch, drawn on a terminal only. Uses the clifake test backend;
# with the real engine, also one reply from stories260K.
. "$(dirname "$0")/cli_lib.sh"
PTY="$(dirname "$0")/cli_pty.py"

if ! python3 -c 'import pty' 2>/dev/null; then
    echo "SKIP: python3 with the pty module is needed" >&2
    exit 77
fi
ran=0
if [ -f "$FAKE_PLUGIN" ]; then
    export INFERENCE_PLUGIN_PATH="$FAKE_PLUGIN"
    M="$TMP/model.clifake"
    : >"$M"
    if "$INFER" backends --json 2>/dev/null | grep -q '"clifake"'; then
        ran=1
        check "pty: typed message, streamed reply" python3 "$PTY" reply "$INFER" "$M"
        check "pty: Ctrl-C stops the reply, twice at the prompt quits" python3 "$PTY" interrupt "$INFER" "$M" -n 100000
        if "$INFER" --help >/dev/null && ldd "$INFER" 2>/dev/null | grep -q libedit; then
            check "pty: history with Up-arrow" python3 "$PTY" history "$INFER" "$M"
        fi
        # Progress bars: drawn on a terminal only.
        for i in $(seq 1 40); do echo "prompt $i"; done >"$TMP/prompts"
        check "pty: classify draws a progress bar" python3 "$PTY" progress "$INFER" classify "$M" "$TMP/prompts" "$TMP/cls.jsonl" --chunk 4
        check "pty: classify output complete" test "$(wc -l <"$TMP/cls.jsonl")" = 40
        check "pty: batch draws a progress bar" python3 "$PTY" progress "$INFER" batch "$M" "$TMP/prompts" "$TMP/batch.jsonl" --chunk 4
        "$INFER" classify "$M" <"$TMP/prompts" >/dev/null 2>"$TMP/cls_err"
        check "no progress bar on a pipe" test ! -s "$TMP/cls_err"
        check "pty: history file written" test -s "$HOME/.infer_history" -o -z "$(ldd "$INFER" 2>/dev/null | grep libedit)"
    fi
    unset INFERENCE_PLUGIN_PATH
fi
if engine_works; then
    ran=1
    check "pty: stories260K replies" python3 "$PTY" greedy "$INFER" "$STORIES" --temperature 0 -n 24
else
    echo "note: the cpu engine cannot run stories260K yet: $(head -c 200 "$TMP/engine_err")" >&2
fi
if [ "$ran" = 0 ]; then
    echo "SKIP: neither the clifake plug-in nor the cpu engine is available" >&2
    exit 77
fi
finish
