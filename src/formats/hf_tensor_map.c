/* hf_tensor_map.c - the Hugging Face <-> engine tensor-name table (see
 * hf_tensor_map.h). Names follow transformers' modeling_{llama,qwen2,qwen3,
 * gemma3}.py module paths and llama.cpp's GGUF tensor names. */
#include "formats/hf_tensor_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define A_LLAMA (1u << HF_ARCH_LLAMA)
#define A_QWEN2 (1u << HF_ARCH_QWEN2)
#define A_QWEN3 (1u << HF_ARCH_QWEN3)
#define A_GEMMA3 (1u << HF_ARCH_GEMMA3)
#define A_ALL (A_LLAMA | A_QWEN2 | A_QWEN3 | A_GEMMA3)
#define A_NOT_GEMMA (A_LLAMA | A_QWEN2 | A_QWEN3)

struct map_entry {
    const char *gguf;  /* "%d" = layer index */
    const char *hf;    /* relative to the stem unless HF_MAP_ROOT */
    unsigned archs;
    unsigned flags;
};

/* The table. In Llama/Qwen "post_attention_layernorm" is the norm before
 * the FFN (GGUF ffn_norm); in Gemma 3 it is the norm after attention (GGUF
 * post_attention_norm) and the FFN input norm is "pre_feedforward_layernorm". */
static const struct map_entry map_table[] = {
    {"token_embd.weight", "embed_tokens.weight", A_ALL, 0},
    {"output_norm.weight", "norm.weight", A_NOT_GEMMA, 0},
    {"output_norm.weight", "norm.weight", A_GEMMA3, HF_MAP_NORM_PLUS1},
    {"output.weight", "lm_head.weight", A_ALL, HF_MAP_ROOT},
    {"blk.%d.attn_norm.weight", "layers.%d.input_layernorm.weight", A_NOT_GEMMA, 0},
    {"blk.%d.attn_norm.weight", "layers.%d.input_layernorm.weight", A_GEMMA3, HF_MAP_NORM_PLUS1},
    {"blk.%d.attn_q.weight", "layers.%d.self_attn.q_proj.weight", A_ALL, 0},
    {"blk.%d.attn_k.weight", "layers.%d.self_attn.k_proj.weight", A_ALL, 0},
    {"blk.%d.attn_v.weight", "layers.%d.self_attn.v_proj.weight", A_ALL, 0},
    {"blk.%d.attn_output.weight", "layers.%d.self_attn.o_proj.weight", A_ALL, 0},
    {"blk.%d.attn_q.bias", "layers.%d.self_attn.q_proj.bias", A_ALL, 0},
    {"blk.%d.attn_k.bias", "layers.%d.self_attn.k_proj.bias", A_ALL, 0},
    {"blk.%d.attn_v.bias", "layers.%d.self_attn.v_proj.bias", A_ALL, 0},
    {"blk.%d.attn_output.bias", "layers.%d.self_attn.o_proj.bias", A_ALL, 0},
    {"blk.%d.attn_q_norm.weight", "layers.%d.self_attn.q_norm.weight", A_QWEN3, 0},
    {"blk.%d.attn_k_norm.weight", "layers.%d.self_attn.k_norm.weight", A_QWEN3, 0},
    {"blk.%d.attn_q_norm.weight", "layers.%d.self_attn.q_norm.weight", A_GEMMA3, HF_MAP_NORM_PLUS1},
    {"blk.%d.attn_k_norm.weight", "layers.%d.self_attn.k_norm.weight", A_GEMMA3, HF_MAP_NORM_PLUS1},
    {"blk.%d.ffn_norm.weight", "layers.%d.post_attention_layernorm.weight", A_NOT_GEMMA, 0},
    {"blk.%d.post_attention_norm.weight", "layers.%d.post_attention_layernorm.weight", A_GEMMA3, HF_MAP_NORM_PLUS1},
    {"blk.%d.ffn_norm.weight", "layers.%d.pre_feedforward_layernorm.weight", A_GEMMA3, HF_MAP_NORM_PLUS1},
    {"blk.%d.post_ffw_norm.weight", "layers.%d.post_feedforward_layernorm.weight", A_GEMMA3, HF_MAP_NORM_PLUS1},
    {"blk.%d.ffn_gate.weight", "layers.%d.mlp.gate_proj.weight", A_ALL, 0},
    {"blk.%d.ffn_up.weight", "layers.%d.mlp.up_proj.weight", A_ALL, 0},
    {"blk.%d.ffn_down.weight", "layers.%d.mlp.down_proj.weight", A_ALL, 0},
};

#define N_MAP (sizeof map_table / sizeof map_table[0])

static const char *const stems_causal[] = {"model."};
static const char *const stems_wrapper[] = {"language_model.model.", "model.language_model.", "model."};
static const char *const roots_causal[] = {""};
static const char *const roots_wrapper[] = {"", "language_model."};

const char *const *hf_map_stems(const struct hf_config *cfg, int *n)
{
    if (cfg->multimodal_wrapper) {
        *n = 3;
        return stems_wrapper;
    }
    *n = 1;
    return stems_causal;
}

const char *const *hf_map_root_prefixes(const struct hf_config *cfg, int *n)
{
    if (cfg->multimodal_wrapper) {
        *n = 2;
        return roots_wrapper;
    }
    *n = 1;
    return roots_causal;
}

/* Match name against a pattern with at most one "%d"; *layer gets the
 * number (-1 when the pattern has none). */
static int pattern_match(const char *pat, const char *name, int *layer)
{
    const char *pd = strstr(pat, "%d");
    *layer = -1;
    if (!pd) return strcmp(pat, name) == 0;
    size_t pre = (size_t)(pd - pat);
    if (strncmp(pat, name, pre) != 0) return 0;
    const char *p = name + pre;
    if (*p < '0' || *p > '9') return 0;
    long v = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p - '0');
        if (v > 1000000) return 0;
        p++;
    }
    if (strcmp(p, pd + 2) != 0) return 0;
    /* Reject leading zeros ("layers.01") so the mapping is one-to-one. */
    if (name[pre] == '0' && p - (name + pre) > 1) return 0;
    *layer = (int)v;
    return 1;
}

static void pattern_fill(const char *pat, int layer, char *out, size_t size)
{
    const char *pd = strstr(pat, "%d");
    if (!pd) {
        snprintf(out, size, "%s", pat);
        return;
    }
    snprintf(out, size, "%.*s%d%s", (int)(pd - pat), pat, layer, pd + 2);
}

int hf_map_to_hf(enum hf_arch arch, const char *gguf_name, char *hf, size_t hf_size, unsigned *flags)
{
    for (size_t i = 0; i < N_MAP; i++) {
        if (!(map_table[i].archs & (1u << arch))) continue;
        int layer;
        if (!pattern_match(map_table[i].gguf, gguf_name, &layer)) continue;
        pattern_fill(map_table[i].hf, layer, hf, hf_size);
        if (flags) *flags = map_table[i].flags;
        return 0;
    }
    return -1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int hf_map_to_gguf(const struct hf_config *cfg, const char *hf_name, char *gguf, size_t gguf_size,
                   unsigned *flags, int *suffix_kind)
{
    /* MLX companions: X.scales / X.biases belong to X.weight. */
    char base[512];
    int kind = 0;
    snprintf(base, sizeof base, "%s", hf_name);
    if (ends_with(base, ".scales")) kind = 1;
    else if (ends_with(base, ".biases")) kind = 2;
    if (kind) snprintf(base + strlen(base) - 7, sizeof base - (strlen(base) - 7), ".weight");
    if (suffix_kind) *suffix_kind = kind;

    int n_stems, n_roots;
    const char *const *stems = hf_map_stems(cfg, &n_stems);
    const char *const *roots = hf_map_root_prefixes(cfg, &n_roots);
    for (size_t i = 0; i < N_MAP; i++) {
        if (!(map_table[i].archs & (1u << cfg->arch))) continue;
        int root = (map_table[i].flags & HF_MAP_ROOT) != 0;
        const char *const *pre = root ? roots : stems;
        int n_pre = root ? n_roots : n_stems;
        for (int s = 0; s < n_pre; s++) {
            size_t pl = strlen(pre[s]);
            if (strncmp(base, pre[s], pl) != 0) continue;
            int layer;
            if (!pattern_match(map_table[i].hf, base + pl, &layer)) continue;
            if (layer >= cfg->num_layers) return -1;
            pattern_fill(map_table[i].gguf, layer, gguf, gguf_size);
            if (flags) *flags = map_table[i].flags;
            return 0;
        }
    }
    return -1;
}
