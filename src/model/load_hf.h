/* load_hf.h - load a Hugging Face model directory (config.json +
 * safetensors, single or sharded, optionally MLX affine-quantised) into the
 * engine's struct model: same weights struct, same forward pass as GGUF.
 *
 * What the loader does to match the GGUF conversion of the same directory
 * (llama.cpp's convert_hf_to_gguf.py conventions):
 *   - tensor names go through the one HF -> engine table
 *     (formats/hf_tensor_map.h);
 *   - Llama/Mistral q/k projections are NOT permuted as the GGUF converter
 *     does; instead the model runs with rotate-half (NEOX) RoPE, which is
 *     what HF's layout means (hp.rope_type = MODEL_ROPE_NEOX);
 *   - Gemma 3 norm weights are stored as w with the model computing (1 + w):
 *     the loader adds 1 (in f32) as the GGUF converter does;
 *   - tied embeddings: no output matrix is bound (the engine ties it);
 *   - Llama 3.1-style rope_scaling becomes rope_freqs factors, computed as
 *     the converter computes them;
 *   - Gemma3ForConditionalGeneration: only the text model's tensors, under
 *     language_model.model. or model.language_model.;
 *   - MLX affine weights (uint32 + scales + biases) are interleaved into the
 *     MLX block types of tensor/kernels_mlx.h and run directly.
 * bf16/f16/f32 matrices are used in place from the memory map.
 *
 * Ownership: the returned model is freed with model_free(), which must call
 * model_hf_release() (see below) so the mapping and packed buffers go too.
 * Thread-safety: loads may run concurrently. Errors name the file, key or
 * tensor; nothing prints. */
#ifndef INF_MODEL_LOAD_HF_H
#define INF_MODEL_LOAD_HF_H

#include "base/error.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct model;
struct model_load_params;
struct hf_config;

/* Load dir (a directory holding config.json and *.safetensors). params may
 * be NULL. 0 and *out, or -1 with *out = NULL and err filled. */
int model_load_hf_dir(const char *dir, const struct model_load_params *params, struct model **out,
                      inf_error *err);

/* The parsed config.json (+ generation_config.json) of an HF-loaded model
 * (model_type, eos ids, quantisation bits/group for Info), or NULL when the
 * model did not come from a directory. Lives as long as the model. */
const struct hf_config *model_hf_config(const struct model *m);

/* Release what the HF loader keeps for model m (memory maps, packed MLX
 * weights, converted norms). No-op for other models. To be called by
 * model_free() before it frees m; safe to call twice. */
void model_hf_release(struct model *m);

/* Releases the mapped pages of [p, p + n) when they belong to m's
 * safetensors files (see safetensors_set_release_range). */
void model_hf_release_range(const struct model *m, const void *p, uint64_t n);

/* 1 when path is a directory with config.json (what LoadModel routes to
 * model_load_hf_dir), else 0. */
int model_hf_is_dir(const char *path);

#ifdef __cplusplus
}
#endif
#endif
