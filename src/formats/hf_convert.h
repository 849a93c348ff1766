/* hf_convert.h - convert a Hugging Face model directory to a GGUF file that
 * llama.cpp loads and runs (the `infer convert` engine).
 *
 * Follows llama.cpp's convert_hf_to_gguf.py conventions:
 *   - tensor names through the one table (formats/hf_tensor_map.h);
 *   - Llama/Mistral q/k rows permuted per head to llama.cpp's interleaved
 *     RoPE layout (GGUF row 2j = HF row j, row 2j+1 = HF row j + d/2);
 *   - Gemma 3 norms written as 1 + w; every vector (norms, biases) as f32;
 *   - matrices keep their dtype (f32, f16, bf16); MLX affine matrices are
 *     dequantised to f32 (exact: value = scale * q + bias in f32);
 *   - tied embeddings: no output.weight; Llama 3.1 rope scaling as
 *     rope_freqs.weight;
 *   - the tokenizer: byte-level BPE tokenizer.json (Qwen, Llama 3, GPT-2
 *     style) as tokenizer.ggml.model "gpt2" with pre "qwen2" or
 *     "llama-bpe" detected from the split regex (or given), tokens in id
 *     order with "[PAD<i>]" fillers, token types, merges, special ids
 *     (tokenizer_config.json's <x>_token, else config.json's <x>_token_id),
 *     add_bos_token, and the chat template. SentencePiece-style
 *     tokenizer.json files are refused with a clear error.
 * The output is written to a temporary file beside out_path and renamed
 * into place on success. Errors name the file, key or tensor; nothing
 * prints. */
#ifndef INF_FORMATS_HF_CONVERT_H
#define INF_FORMATS_HF_CONVERT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hf_convert_options {
    const char *name; /* general.name; NULL: the directory's base name */
    const char *pre;  /* tokenizer.ggml.pre; NULL: detect */
};

/* Returns 0, or -1 with err filled (out_path is then not created). */
int hf_convert_to_gguf(const char *dir, const char *out_path, const struct hf_convert_options *opts,
                       char *err, size_t err_size);

#ifdef __cplusplus
}
#endif
#endif
