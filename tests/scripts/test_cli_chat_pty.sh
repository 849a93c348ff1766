# test_cli_chat_pty.sh - the `infer chat` REPL in a pseudo-terminal (python3's
# pty module, tests/scripts/cli_pty.py): a typed message gets a streamed
# reply, Ctrl-C stops a reply without ending the chat and twice at the prompt
# quits, Up-arrow recalls history (libedit); and the progress bars of
# classify and batch, drawn on a terminal only. Uses the clifake test backend,
# and the real engine for one reply from stories260K.
. "$(dirname "$0")/cli_lib.sh"
PTY="$(dirname "$0")/cli_pty.py"

if ! python3 -c 'import pty' 2>/dev/null; then
    echo "FAIL: python3 with the pty module is needed" >&2
    exit 1
fi
[ -f "$FAKE_PLUGIN" ] || { echo "FAIL: $FAKE_PLUGIN is not built" >&2; exit 1; }
{
    export INFERENCE_PLUGIN_PATH="$FAKE_PLUGIN"
    M="$TMP/model.clifake"
    : >"$M"
    check "the clifake plug-in registers" sh -c "'$INFER' backends --json 2>/dev/null | grep -q '\"clifake\"'"
    {
        check "pty: typed message, streamed reply" python3 "$PTY" reply "$INFER" "$M"
        check "pty: Ctrl-C stops the reply, twice at the prompt quits" python3 "$PTY" interrupt "$INFER" "$M" -n 100000
        check "infer is linked with libedit (scripts/install-deps.sh)" sh -c "ldd '$INFER' | grep -q libedit"
        check "pty: history with Up-arrow" python3 "$PTY" history "$INFER" "$M"
        # Progress bars: drawn on a terminal only.
        for i in $(seq 1 40); do echo "prompt $i"; done >"$TMP/prompts"
        check "pty: classify draws a progress bar" python3 "$PTY" progress "$INFER" classify "$M" "$TMP/prompts" "$TMP/cls.jsonl" --chunk 4
        check "pty: classify output complete" test "$(wc -l <"$TMP/cls.jsonl")" = 40
        check "pty: batch draws a progress bar" python3 "$PTY" progress "$INFER" batch "$M" "$TMP/prompts" "$TMP/batch.jsonl" --chunk 4
        "$INFER" classify "$M" <"$TMP/prompts" >/dev/null 2>"$TMP/cls_err"
        check "no progress bar on a pipe" test ! -s "$TMP/cls_err"
        check "pty: history file written" test -s "$HOME/.infer_history"
    }
    unset INFERENCE_PLUGIN_PATH
}
check "pty: stories260K replies" python3 "$PTY" greedy "$INFER" "$STORIES" --temperature 0 -n 24
finish
