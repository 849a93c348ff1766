/* hf_config.h - Hugging Face config.json / generation_config.json parsed
 * into one neutral hyper-parameter struct (no model code here).
 *
 * Handles the text models of LlamaForCausalLM, MistralForCausalLM,
 * Qwen2ForCausalLM, Qwen3ForCausalLM, Gemma3ForCausalLM (model_type
 * gemma3_text) and Gemma3ForConditionalGeneration (model_type gemma3, the
 * text hyper-parameters under "text_config", defaults as transformers'
 * Gemma3TextConfig for keys it omits). MLX's "quantization" {group_size,
 * bits} (or "quantization_config" with mode "affine") is read too.
 *
 * Parsers take (pointer, length); errors name the file and key. Nothing
 * here allocates beyond the call (the struct is plain data). */
#ifndef INF_FORMATS_HF_CONFIG_H
#define INF_FORMATS_HF_CONFIG_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HF_MAX_EOS 16
#define HF_MAX_LAYERS 512

/* Which family of weights and forward pass (the engine's architecture
 * names, as GGUF's general.architecture). */
enum hf_arch {
    HF_ARCH_UNKNOWN = 0,
    HF_ARCH_LLAMA,   /* llama, mistral */
    HF_ARCH_QWEN2,
    HF_ARCH_QWEN3,
    HF_ARCH_GEMMA3,  /* gemma3_text, and gemma3's text_config */
};

struct hf_config {
    char model_type[64];     /* config.json model_type, as written ("gemma3_text") */
    char architecture[96];   /* architectures[0] ("Qwen3ForCausalLM"), "" if absent */
    enum hf_arch arch;
    const char *engine_arch; /* "llama", "qwen2", "qwen3", "gemma3" (static) */
    bool multimodal_wrapper; /* Gemma3ForConditionalGeneration: text under a prefix */

    int vocab_size;
    int hidden_size;
    int intermediate_size;
    int num_layers;
    int num_heads;
    int num_kv_heads;
    int head_dim;
    int max_position_embeddings;
    float rms_norm_eps;
    float rope_theta;
    float rope_local_theta;  /* gemma3 sliding layers (rope_local_base_freq) */
    /* rope_scaling: type "llama3" (factor, low/high_freq_factor,
     * original_max_position_embeddings) or "linear" (factor); "" = none. */
    char rope_scaling_type[32];
    float rope_factor, rope_low_freq_factor, rope_high_freq_factor;
    int rope_original_ctx;
    bool tie_word_embeddings;
    bool attention_bias;     /* q/k/v biases (qwen2 always has them) */
    int sliding_window;      /* 0 = none */
    int sliding_window_pattern; /* gemma3: layer i global iff (i+1) % p == 0 */
    bool layer_sliding[HF_MAX_LAYERS]; /* per layer, from layer_types or the pattern */
    float query_pre_attn_scalar; /* gemma3; 0 = unset */
    float final_logit_softcapping, attn_logit_softcapping; /* 0 = none */
    char torch_dtype[16];

    int bos_token_id;        /* -1 when unset */
    int pad_token_id;        /* -1 when unset */
    int eos_token_ids[HF_MAX_EOS]; /* config.json's, then generation_config's added */
    int n_eos;

    int quant_bits;          /* MLX affine: 4 or 8; 0 = unquantised */
    int quant_group;         /* 32, 64, 128; 0 = unquantised */
};

/* Parse config.json text. name (e.g. the path) is used in messages.
 * Returns 0, or -1 with err naming the key (missing, wrong type, out of
 * range, unsupported model_type / quantisation). */
int hf_config_parse(const char *json, size_t len, const char *name, struct hf_config *cfg,
                    inf_error *err);

/* Merge generation_config.json: its eos_token_id (an int or a list) is
 * added to cfg->eos_token_ids (duplicates dropped); bos/pad fill unset ones. */
int hf_generation_config_parse(const char *json, size_t len, const char *name, struct hf_config *cfg,
                               inf_error *err);

/* Read dir/config.json and, when present, dir/generation_config.json. */
int hf_config_load_dir(const char *dir, struct hf_config *cfg, inf_error *err);

/* Only the facts Discover needs, tolerant of everything else:
 * model_type (or "") and quantisation bits/group (0 when none). */
int hf_config_peek(const char *json, size_t len, char *model_type, size_t mt_size, int *bits, int *group);

/* Llama 3.1 rope scaling (rope_scaling.rope_type "llama3"): the n =
 * head_dim / 2 per-frequency divisors llama.cpp reads from
 * rope_freqs.weight, computed as its converter does (defaults factor 8,
 * low 1, high 4, original context 8192). Returns n, or 0 when the config
 * has no llama3 scaling (out untouched) or n > max. */
int hf_config_rope_factors(const struct hf_config *cfg, float *out, int max);


#ifdef __cplusplus
}
#endif
#endif
