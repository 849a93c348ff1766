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
 *   - the tokenizer as offline/hf_tokenizer_convert.h writes it (byte-level
 *     BPE as "gpt2", SentencePiece-style BPE as "llama"), or copied from
 *     another GGUF file (vocab_from).
 * The output is written to a temporary file beside out_path and renamed
 * into place on success. Errors name the file, key or tensor; nothing
 * prints. */
#ifndef INF_OFFLINE_HF_CONVERT_H
#define INF_OFFLINE_HF_CONVERT_H

#include "base/error.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hf_convert_options {
    const char *name; /* general.name; NULL: the directory's base name */
    const char *pre;  /* tokenizer.ggml.pre; NULL: detect */
    const char *vocab_from; /* a GGUF whose tokenizer.* pairs are copied instead; NULL: tokenizer.json */
};

/* Returns 0, or -1 with err filled (out_path is then not created). */
int hf_convert_to_gguf(const char *dir, const char *out_path, const struct hf_convert_options *opts,
                       inf_error *err);

#ifdef __cplusplus
}
#endif
#endif
