/* hf_tensor_map.h - the one table from Hugging Face tensor names to the
 * engine's (llama.cpp GGUF) tensor names, for every supported architecture.
 * Used by the HF loader (GGUF name -> HF name) and by `infer convert`
 * (HF name -> GGUF name).
 *
 * HF names are written relative to the text model's stem: "embed_tokens.weight"
 * stands for "model.embed_tokens.weight" in *ForCausalLM checkpoints, and for
 * "language_model.model.embed_tokens.weight" (transformers < 4.52) or
 * "model.language_model.embed_tokens.weight" (>= 4.52) in
 * Gemma3ForConditionalGeneration. The output matrix "lm_head.weight" sits
 * outside the stem (HF_MAP_ROOT). Static data; thread-safe. */
#ifndef INF_FORMATS_HF_TENSOR_MAP_H
#define INF_FORMATS_HF_TENSOR_MAP_H

#include <stddef.h>

#include "formats/hf_config.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    HF_MAP_ROOT = 1u << 0,      /* the HF name is not under the text stem (lm_head) */
    HF_MAP_NORM_PLUS1 = 1u << 1 /* Gemma: HF stores w, the model uses (1 + w); GGUF stores 1 + w */
};

/* The stems under which a text model's tensors may live, most likely first;
 * *n gets the count. For the root (lm_head) candidates use
 * hf_map_root_prefixes. */
const char *const *hf_map_stems(const struct hf_config *cfg, int *n);
const char *const *hf_map_root_prefixes(const struct hf_config *cfg, int *n);

/* GGUF name (e.g. "blk.3.attn_q.weight") -> HF name relative to the stem
 * ("layers.3.self_attn.q_proj.weight"). Returns 0 and fills hf (and *flags)
 * or -1 when the architecture has no such tensor. */
int hf_map_to_hf(enum hf_arch arch, const char *gguf_name, char *hf, size_t hf_size, unsigned *flags);

/* Full HF name as found in a checkpoint (any stem) -> GGUF name. Returns 0,
 * or -1 for names that are not part of the text model (vision tower,
 * rotary caches) or unknown. *flags as above; *suffix_kind (may be NULL)
 * gets 0 for ".weight"/".bias", 1 for MLX ".scales", 2 for ".biases" (the
 * GGUF name is then that of the matrix they belong to). */
int hf_map_to_gguf(const struct hf_config *cfg, const char *hf_name, char *gguf, size_t gguf_size,
                   unsigned *flags, int *suffix_kind);

#ifdef __cplusplus
}
#endif
#endif
