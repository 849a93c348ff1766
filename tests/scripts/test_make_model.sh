#!/usr/bin/env bash
# test_make_model.sh - build/make-model, the random-weight model generator
# the test suite makes its models with (tools/make-model):
#   - --help and the README document every option;
#   - the same command gives the same bytes (GGUF and directories);
#   - every architecture (llama, qwen2, qwen3, gemma3) in every kind of
#     tensor type loads in llama.cpp (node-llama-cpp) and in our engine,
#     with the architecture and file type asked for;
#   - Hugging Face directories: f32/f16/bf16 (torch_dtype), sharded with an
#     index whose map and total size match the shards, MLX 4/8-bit
#     (quantization in config.json, .scales/.biases beside each weight);
#   - the built-in tokenizer: llama.cpp on the GGUF tokenizes as Hugging Face
#     tokenizers on the directory's tokenizer.json, and its chat template
#     renders through infer template;
#   - bad options are usage errors (exit 2) naming the option, a missing
#     tokenizer a runtime error (exit 1) naming the file.
# Under make conformance (INF_CONFORMANCE=1): the models of
# ../shared/testdata/models/random that make_model.py wrote (and llama.cpp was
# verified on) are made again byte for byte, or with equal metadata and
# tensors where llama-quantize's key order differs.
set -u
. "$(dirname "$0")/cli_lib.sh"
M="${INF_BUILD_DIR:-build}/make-model"
SRC="${INF_SOURCE_DIR:-.}"
[ -x "$M" ] || { echo "FAIL: $M is not built" >&2; exit 1; }
COMPARE="python3 $(dirname "$0")/gguf_compare.py"

if [ "${INF_CONFORMANCE:-0}" = 1 ]; then
    R="$TESTDATA/models/random"; T="$TESTDATA/tokenizers"; SPM="$TESTDATA/vocab/ggml-vocab-llama-spm.gguf"
    for f in "$R/qwen3-tiny-f32.gguf" "$R/qwen3-tiny-f16.gguf" "$SPM"; do
        [ -f "$f" ] || { echo "FAIL: missing conformance data $f" >&2; exit 1; }
    done
    for dt in f32 f16; do
        "$M" --arch qwen3 --tokenizer "$T/qwen3" --vocab-limit 8192 --type $dt -o "$TMP/q.gguf" 2>/dev/null
        check "qwen3-tiny-$dt.gguf byte for byte" cmp -s "$TMP/q.gguf" "$R/qwen3-tiny-$dt.gguf"
    done
    for a in "qwen3 --tokenizer $T/qwen3 --vocab-limit 8192:qwen3" "llama --tie --tokenizer $SPM:llama" \
             "gemma3 --tokenizer $SPM:gemma3"; do
        n=${a##*:}
        "$M" --arch ${a%:*} --type q8_0 -o "$TMP/$n.gguf" 2>/dev/null
        check "$n-tiny-q8_0.gguf: same metadata and tensors" $COMPARE "$TMP/$n.gguf" "$R/$n-tiny-q8_0.gguf"
    done
    "$M" --arch qwen3 --tokenizer "$T/qwen3" --vocab-limit 8192 --type bf16 -o "$TMP/qhf" 2>/dev/null
    check "qwen3-tiny-hf-bf16 safetensors byte for byte" cmp -s "$TMP/qhf/model.safetensors" "$R/qwen3-tiny-hf-bf16/model.safetensors"
    "$M" --arch llama --tokenizer "$T/llama3" --vocab-limit 8192 --type f16 -o "$TMP/lhf" 2>/dev/null
    check "llama3-tiny-hf-f16 safetensors byte for byte" cmp -s "$TMP/lhf/model.safetensors" "$R/llama3-tiny-hf-f16/model.safetensors"
    "$M" --arch qwen3 --tokenizer "$T/qwen3" --vocab-limit 8192 --type mlx4 --mlx-group 64 -o "$TMP/qmlx" 2>/dev/null
    check "qwen3-tiny-mlx4 safetensors byte for byte" cmp -s "$TMP/qmlx/model.safetensors" "$R/qwen3-tiny-mlx4/model.safetensors"
    finish
fi

# --help and the README document every option.
"$M" --help >"$TMP/help" 2>&1
check "--help exits 0" test $? -eq 0
for o in --arch --size --layers --dim --ffn --heads --kv-heads --head-dim --ctx --tie --untie --sliding-window \
         --swa-pattern --rope-scaling --seed --norm-noise --embed-std --matrix-std --name --tokenizer --vocab-limit \
         --pre --vocab-only --type --mlx-group --shards; do
    check "--help documents $o" grep -q -- "$o" "$TMP/help"
    check "the README documents $o" grep -q -- "\`$o" "$SRC/README.md"
done

# Determinism.
for i in 1 2; do
    "$M" --arch qwen3 --tokenizer "$TESTDATA/tokenizers/qwen3" --vocab-limit 2048 --type q4_k_m -o "$TMP/d$i.gguf" 2>/dev/null
    "$M" --arch gemma3 --tokenizer "$TESTDATA/tokenizers/gemma3" --vocab-limit 2048 --type bf16 --shards 2 -o "$TMP/h$i" 2>/dev/null
done
check "the same GGUF twice" cmp -s "$TMP/d1.gguf" "$TMP/d2.gguf"
check "the same directory twice" diff -r "$TMP/h1" "$TMP/h2"
"$M" --arch qwen3 --tokenizer "$TESTDATA/tokenizers/qwen3" --vocab-limit 2048 --type q4_k_m --seed 2 -o "$TMP/d3.gguf" 2>/dev/null
check "another seed, other weights" sh -c "! cmp -s '$TMP/d1.gguf' '$TMP/d3.gguf'"

# Every architecture in each kind of type: our engine and llama.cpp load it.
items=()
for a in llama qwen2 qwen3 gemma3; do
    for t in f32 bf16 q8_0 q4_1 q5_k_m; do
        f="$TMP/$a-$t.gguf"
        "$M" --arch $a --layers 1 --dim 256 --ffn 512 --type $t -o "$f" 2>"$ERR"
        check "make-model --arch $a --type $t" test -s "$f"
        run_infer info "$f" --json
        json_check "d['architecture'] == '$a' and d['layers'] == 1 and d['hidden_size'] == 256" "info: $a $t shape"
        case $t in
            f32) json_check "d['quantization']['type'] == 'f32'" "info: $a f32" ;;
            q5_k_m) json_check "d['quantization']['type'] == 'q5_K'" "info: $a Q5_K_M mix" ;;
            *) json_check "d['quantization']['type'] == '$t'" "info: $a $t" ;;
        esac
        run_infer run "$f" "Hello" --max-tokens 4 --temperature 0
        expect_rc 0 "our engine runs $a $t"
        items+=("$f@1,2,3,4,5")
    done
done
(cd "$SRC" && node tests/scripts/hf_llamacpp_greedy.mjs 4 "${items[@]}") >"$TMP/llama" 2>"$TMP/llama.err"
check "llama.cpp loads and runs all ${#items[@]} files" test "$(grep -c '^[0-9]*,[0-9]*,[0-9]*,[0-9]*$' "$TMP/llama")" = ${#items[@]}

# Hugging Face directories.
for t in f32 f16 bf16; do
    "$M" --arch llama --layers 1 --type $t -o "$TMP/hf-$t" 2>/dev/null
    OUT="$TMP/hf-$t/config.json" json_check "d['torch_dtype'] == {'f32': 'float32', 'f16': 'float16', 'bf16': 'bfloat16'}['$t'] and d['architectures'] == ['LlamaForCausalLM']" "directory $t: config.json"
done
"$M" --arch qwen3 --type bf16 --shards 3 -o "$TMP/sh" 2>/dev/null
check "3 shards" test "$(ls "$TMP/sh"/model-0000?-of-00003.safetensors | wc -l)" = 3
check "the index maps every tensor of the shards, total_size their bytes" python3 - "$TMP/sh" <<'PY'
import json, os, struct, sys
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "model.safetensors.index.json")))
names, total = {}, 0
for f in sorted(os.listdir(d)):
    if not f.endswith(".safetensors"): continue
    b = open(os.path.join(d, f), "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    for k, v in h.items():
        if k == "__metadata__": continue
        names[k] = f
        total += v["data_offsets"][1] - v["data_offsets"][0]
sys.exit(0 if idx["weight_map"] == names and idx["metadata"]["total_size"] == total else 1)
PY
"$M" --arch qwen3 --type bf16 -o "$TMP/one" 2>/dev/null
run_infer info "$TMP/sh" --json; cp "$OUT" "$TMP/sh.json"
run_infer info "$TMP/one" --json
json_check "(lambda s: all(s[k] == d[k] for k in ('parameters', 'tensor_count', 'vocab_size')))(json.load(open('$TMP/sh.json')))" "sharded and single-file directories hold the same model"
for b in 4 8; do
    "$M" --arch qwen3 --type mlx$b --mlx-group 32 -o "$TMP/mlx$b" 2>/dev/null
    OUT="$TMP/mlx$b/config.json" json_check "d['quantization'] == {'group_size': 32, 'bits': $b, 'mode': 'affine'}" "MLX $b-bit: config.json"
    check "MLX $b-bit: scales and biases beside the weights" python3 - "$TMP/mlx$b/model.safetensors" $b <<'PY'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
h = json.loads(b[8:8 + struct.unpack("<Q", b[:8])[0]])
bits = int(sys.argv[2])
w = h["model.layers.0.self_attn.q_proj.weight"]
ok = w["dtype"] == "U32" and w["shape"][1] * 32 // bits == 256 and "model.layers.0.self_attn.q_proj.scales" in h \
     and h["model.layers.0.self_attn.q_proj.biases"]["shape"] == [w["shape"][0], 256 // 32] and h["__metadata__"]["format"] == "mlx"
sys.exit(0 if ok else 1)
PY
    run_infer run "$TMP/mlx$b" "Hello" --max-tokens 4 --temperature 0
    expect_rc 0 "our engine runs the MLX $b-bit directory"
done

# The built-in tokenizer.
"$M" --arch qwen3 -o "$TMP/bt" 2>/dev/null
"$M" --arch qwen3 -o "$TMP/bt.gguf" 2>/dev/null
check "built-in tokenizer: llama.cpp on the GGUF = HF tokenizers on tokenizer.json" \
    sh -c "cd '$SRC' && node tests/oracles/tok_agree.mjs '$TMP/bt.gguf' '$TMP/bt' 'Once upon a time, there was a robot.' \
    'def add(a, b):\n    return a + b' ' leading  spaces and 12345 digits' '<|im_start|>user\nhi<|im_end|>' 'naïve café 東京' >'$TMP/agree'"
printf '{"messages": [{"role": "user", "content": "Hi"}], "add_generation_prompt": true}' >"$TMP/conv.json"
IN="$TMP/conv.json" run_infer template "$TMP/bt.gguf"
printf '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n' >"$TMP/chatml"
check "built-in tokenizer: the ChatML template renders" cmp -s "$OUT" "$TMP/chatml"

# Errors.
mm() { "$M" "$@" >"$OUT" 2>"$ERR"; RC=$?; }
mm --arch nope -o "$TMP/x.gguf"; expect_rc 2 "unknown architecture"; check "names the architecture" grep -q "nope" "$ERR"
mm --arch qwen3 --type q9_9 -o "$TMP/x.gguf"; expect_rc 2 "unknown type"; check "names the type" grep -q "q9_9" "$ERR"
mm --arch qwen3 --type q4_0 -o "$TMP/xdir"; expect_rc 2 "a quantised type for a directory"
mm --arch qwen3 --heads 3 --kv-heads 2 -o "$TMP/x.gguf"; expect_rc 2 "heads not a multiple of kv heads"
mm --arch qwen3 --layers 0 -o "$TMP/x.gguf"; expect_rc 2 "zero layers"; check "names --layers" grep -q -- "--layers" "$ERR"
mm --arch qwen3; expect_rc 2 "no output"
mm --arch qwen3 --vocab-only -o "$TMP/xdir"; expect_rc 2 "--vocab-only to a directory"
mm --arch qwen3 --frobnicate 1 -o "$TMP/x.gguf"; expect_rc 2 "unknown option"
mm --arch qwen3 --tokenizer "$TMP/no-such-dir" -o "$TMP/x.gguf"; expect_rc 1 "missing tokenizer"
check "names the missing file" grep -q "no-such-dir/tokenizer.json" "$ERR"
check "nothing written on failure" test ! -e "$TMP/x.gguf"
finish
