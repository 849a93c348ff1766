/* arch.c - architecture tables (see arch.h). */
#include "model/arch.h"

#include <string.h>

#define R(role) (UINT64_C(1) << (role))

const struct model_weight_spec model_weight_specs[W_ROLE_COUNT] = {
    [W_TOK_EMBD] = { W_TOK_EMBD, "token_embd.weight", DIM_EMBD, DIM_VOCAB, 0 },
    [W_OUTPUT_NORM] = { W_OUTPUT_NORM, "output_norm.weight", DIM_EMBD, DIM_NONE, 1 },
    [W_OUTPUT] = { W_OUTPUT, "output.weight", DIM_EMBD, DIM_VOCAB, 0 },
    [W_ROPE_FREQS] = { W_ROPE_FREQS, "rope_freqs.weight", DIM_ROT_HALF, DIM_NONE, 1 },
    [W_ATTN_NORM] = { W_ATTN_NORM, "blk.%d.attn_norm.weight", DIM_EMBD, DIM_NONE, 1 },
    [W_Q] = { W_Q, "blk.%d.attn_q.weight", DIM_EMBD, DIM_Q, 0 },
    [W_K] = { W_K, "blk.%d.attn_k.weight", DIM_EMBD, DIM_KV, 0 },
    [W_V] = { W_V, "blk.%d.attn_v.weight", DIM_EMBD, DIM_V, 0 },
    [W_BQ] = { W_BQ, "blk.%d.attn_q.bias", DIM_Q, DIM_NONE, 1 },
    [W_BK] = { W_BK, "blk.%d.attn_k.bias", DIM_KV, DIM_NONE, 1 },
    [W_BV] = { W_BV, "blk.%d.attn_v.bias", DIM_V, DIM_NONE, 1 },
    [W_O] = { W_O, "blk.%d.attn_output.weight", DIM_ATTN_OUT, DIM_EMBD, 0 },
    [W_BO] = { W_BO, "blk.%d.attn_output.bias", DIM_EMBD, DIM_NONE, 1 },
    [W_Q_NORM] = { W_Q_NORM, "blk.%d.attn_q_norm.weight", DIM_HEAD, DIM_NONE, 1 },
    [W_K_NORM] = { W_K_NORM, "blk.%d.attn_k_norm.weight", DIM_HEAD, DIM_NONE, 1 },
    [W_POST_ATTN_NORM] = { W_POST_ATTN_NORM, "blk.%d.post_attention_norm.weight", DIM_EMBD, DIM_NONE, 1 },
    [W_FFN_NORM] = { W_FFN_NORM, "blk.%d.ffn_norm.weight", DIM_EMBD, DIM_NONE, 1 },
    [W_GATE] = { W_GATE, "blk.%d.ffn_gate.weight", DIM_EMBD, DIM_FF, 0 },
    [W_UP] = { W_UP, "blk.%d.ffn_up.weight", DIM_EMBD, DIM_FF, 0 },
    [W_DOWN] = { W_DOWN, "blk.%d.ffn_down.weight", DIM_FF, DIM_EMBD, 0 },
    [W_POST_FFN_NORM] = { W_POST_FFN_NORM, "blk.%d.post_ffw_norm.weight", DIM_EMBD, DIM_NONE, 1 },
};

/* The weights every decoder block here has. */
#define BASE_REQUIRED (R(W_TOK_EMBD) | R(W_OUTPUT_NORM) | R(W_ATTN_NORM) | R(W_Q) | R(W_K) | R(W_V) | \
                       R(W_O) | R(W_FFN_NORM) | R(W_GATE) | R(W_UP) | R(W_DOWN))

static const struct model_arch_info arch_table[MODEL_ARCH_COUNT] = {
    [MODEL_ARCH_LLAMA] = {
        .arch = MODEL_ARCH_LLAMA, .name = "llama", .rope_type = MODEL_ROPE_NORM, .flags = 0,
        .required = BASE_REQUIRED,
        /* Llama 3.1+ rope scaling via rope_freqs; some fine-tunes carry biases */
        .optional = R(W_OUTPUT) | R(W_ROPE_FREQS) | R(W_BQ) | R(W_BK) | R(W_BV) | R(W_BO),
        .default_rope_base = 10000.0f,
    },
    [MODEL_ARCH_QWEN2] = {
        .arch = MODEL_ARCH_QWEN2, .name = "qwen2", .rope_type = MODEL_ROPE_NEOX, .flags = 0,
        .required = BASE_REQUIRED | R(W_BQ) | R(W_BK) | R(W_BV),
        .optional = R(W_OUTPUT),
        .default_rope_base = 10000.0f,
    },
    [MODEL_ARCH_QWEN3] = {
        .arch = MODEL_ARCH_QWEN3, .name = "qwen3", .rope_type = MODEL_ROPE_NEOX, .flags = ARCH_F_QK_NORM,
        .required = BASE_REQUIRED | R(W_Q_NORM) | R(W_K_NORM),
        .optional = R(W_OUTPUT),
        .default_rope_base = 10000.0f,
    },
    [MODEL_ARCH_GEMMA3] = {
        .arch = MODEL_ARCH_GEMMA3, .name = "gemma3", .rope_type = MODEL_ROPE_NEOX,
        .flags = ARCH_F_QK_NORM | ARCH_F_POST_NORMS | ARCH_F_EMBD_SCALE | ARCH_F_GELU | ARCH_F_SWA,
        .required = BASE_REQUIRED | R(W_Q_NORM) | R(W_K_NORM) | R(W_POST_ATTN_NORM) | R(W_POST_FFN_NORM),
        .optional = R(W_OUTPUT), /* tied to token_embd when absent (always, in practice) */
        .default_rope_base = 10000.0f,
        .default_rope_base_swa = 10000.0f,
        .default_swa_pattern = 6,
    },
};

const struct model_arch_info *model_arch_find(const char *name)
{
    if (!name) return NULL;
    for (int i = 0; i < MODEL_ARCH_COUNT; i++)
        if (strcmp(arch_table[i].name, name) == 0) return &arch_table[i];
    return NULL;
}

const struct model_arch_info *model_arch_get(enum model_arch arch)
{
    return (unsigned)arch < MODEL_ARCH_COUNT ? &arch_table[arch] : NULL;
}

const char *model_arch_list(void)
{
    return "llama, qwen2, qwen3, gemma3";
}
