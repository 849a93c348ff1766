/* spec.c - hyper-parameters, the tensor table and config.json of each
 * architecture make-model writes (see make_model.h).
 *
 * Sizes: tiny, small and medium are synthetic (every matrix dimension a
 * multiple of 256, so the K-quants apply); 0.6b has Qwen3-0.6B's shapes and
 * 1b Llama-3.2-1B's (Gemma-3-1B's for gemma3). Qwen3 and Gemma 3 use a
 * head size of 128 at the synthetic sizes, so the attention width differs
 * from the hidden size as in the real models. */
#include "make_model.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ARCH_NAMES[MM_ARCH_COUNT] = {"llama", "qwen2", "qwen3", "gemma3"};

int mm_arch_from_name(const char *name)
{
    for (int i = 0; i < MM_ARCH_COUNT; i++)
        if (strcmp(name, ARCH_NAMES[i]) == 0) return i;
    return -1;
}

const char *mm_arch_name(enum mm_arch a) { return (unsigned)a < MM_ARCH_COUNT ? ARCH_NAMES[a] : "?"; }

struct shape {
    const char *name;
    int hidden, layers, heads, kv_heads, head_dim, ffn; /* head_dim 0: by architecture */
};

static const struct shape SHAPES[] = {
    {"tiny", 256, 2, 4, 2, 0, 768},
    {"small", 512, 4, 8, 4, 0, 1536},
    {"medium", 1024, 8, 16, 8, 0, 3072},
    {"0.6b", 1024, 28, 16, 8, 128, 3072},  /* Qwen3-0.6B */
    {"1b", 2048, 16, 32, 8, 64, 8192},     /* Llama-3.2-1B */
};
static const struct shape GEMMA3_1B = {"1b", 1152, 26, 4, 1, 256, 6912};

int mm_spec_preset(struct mm_spec *s, enum mm_arch arch, const char *size)
{
    const struct shape *sh = NULL;
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++)
        if (strcmp(SHAPES[i].name, size) == 0) sh = &SHAPES[i];
    if (!sh) return -1;
    bool synthetic = sh->head_dim == 0;
    if (arch == MM_GEMMA3 && strcmp(size, "1b") == 0) sh = &GEMMA3_1B;
    memset(s, 0, sizeof *s);
    s->arch = arch;
    s->size = sh->name;
    s->hidden = sh->hidden;
    s->layers = sh->layers;
    s->heads = sh->heads;
    s->kv_heads = sh->kv_heads;
    s->ffn = sh->ffn;
    bool own_head_dim = arch == MM_QWEN3 || arch == MM_GEMMA3;
    s->head_dim = sh->head_dim ? sh->head_dim : own_head_dim ? 128 : sh->hidden / sh->heads;
    s->rms_eps = arch == MM_LLAMA ? 1e-5f : 1e-6f;
    s->rope_theta = arch == MM_LLAMA ? (strcmp(size, "1b") == 0 ? 500000.0f : 10000.0f) : 1000000.0f;
    s->rope_theta_local = 10000.0f;
    if (arch == MM_GEMMA3) {
        bool real = strcmp(size, "1b") == 0;
        s->sliding_window = real ? 512 : 64;
        s->swa_pattern = real ? 6 : 2;
    }
    /* Llama's synthetic sizes are untied like Llama-2/3-8B; the rest tied. */
    s->tie = !(arch == MM_LLAMA && synthetic);
    s->rope_llama3 = arch == MM_LLAMA && strcmp(size, "1b") == 0;
    s->ctx = 2048;
    s->seed = 1;
    s->bos = s->eos = s->pad = -1;
    return 0;
}

bool mm_layer_is_swa(const struct mm_spec *s, int i)
{
    return s->arch == MM_GEMMA3 && s->swa_pattern > 0 && (i + 1) % s->swa_pattern != 0;
}

static void add(struct mm_tensor *t, int *n, enum mm_kind kind, int64_t rows, int64_t cols, const char *fmt, int layer)
{
    struct mm_tensor *e = &t[(*n)++];
    snprintf(e->name, sizeof e->name, fmt, layer);
    e->kind = kind;
    e->n_dims = cols ? 2 : 1;
    e->shape[0] = rows;
    e->shape[1] = cols;
}

struct mm_tensor *mm_tensor_table(const struct mm_spec *s, int *n_out)
{
    struct mm_tensor *t = calloc((size_t)s->layers * 20 + 4, sizeof *t);
    if (!t) return NULL;
    int n = 0;
    const int64_t q = (int64_t)s->heads * s->head_dim, kv = (int64_t)s->kv_heads * s->head_dim;
    const bool bias = s->arch == MM_QWEN2, qk_norm = s->arch == MM_QWEN3 || s->arch == MM_GEMMA3;
    const bool gemma = s->arch == MM_GEMMA3;
    add(t, &n, MM_EMBED, s->vocab, s->hidden, "model.embed_tokens.weight", 0);
    for (int i = 0; i < s->layers; i++) {
        add(t, &n, MM_NORM, s->hidden, 0, "model.layers.%d.input_layernorm.weight", i);
        add(t, &n, MM_MATRIX, q, s->hidden, "model.layers.%d.self_attn.q_proj.weight", i);
        if (bias) add(t, &n, MM_BIAS, q, 0, "model.layers.%d.self_attn.q_proj.bias", i);
        add(t, &n, MM_MATRIX, kv, s->hidden, "model.layers.%d.self_attn.k_proj.weight", i);
        if (bias) add(t, &n, MM_BIAS, kv, 0, "model.layers.%d.self_attn.k_proj.bias", i);
        add(t, &n, MM_MATRIX, kv, s->hidden, "model.layers.%d.self_attn.v_proj.weight", i);
        if (bias) add(t, &n, MM_BIAS, kv, 0, "model.layers.%d.self_attn.v_proj.bias", i);
        add(t, &n, MM_MATRIX, s->hidden, q, "model.layers.%d.self_attn.o_proj.weight", i);
        if (qk_norm) {
            add(t, &n, MM_NORM, s->head_dim, 0, "model.layers.%d.self_attn.q_norm.weight", i);
            add(t, &n, MM_NORM, s->head_dim, 0, "model.layers.%d.self_attn.k_norm.weight", i);
        }
        add(t, &n, MM_NORM, s->hidden, 0, "model.layers.%d.post_attention_layernorm.weight", i);
        if (gemma) {
            add(t, &n, MM_NORM, s->hidden, 0, "model.layers.%d.pre_feedforward_layernorm.weight", i);
            add(t, &n, MM_NORM, s->hidden, 0, "model.layers.%d.post_feedforward_layernorm.weight", i);
        }
        add(t, &n, MM_MATRIX, s->ffn, s->hidden, "model.layers.%d.mlp.gate_proj.weight", i);
        add(t, &n, MM_MATRIX, s->ffn, s->hidden, "model.layers.%d.mlp.up_proj.weight", i);
        add(t, &n, MM_MATRIX, s->hidden, s->ffn, "model.layers.%d.mlp.down_proj.weight", i);
    }
    add(t, &n, MM_NORM, s->hidden, 0, "model.norm.weight", 0);
    if (!s->tie) add(t, &n, MM_MATRIX, s->vocab, s->hidden, "lm_head.weight", 0);
    *n_out = n;
    return t;
}

/* ---- config.json ---- */

static void add_id(cJSON *c, const char *key, int id)
{
    if (id >= 0) cJSON_AddNumberToObject(c, key, id);
    else cJSON_AddNullToObject(c, key);
}

static void add_eos(cJSON *c, const struct mm_spec *s, bool list)
{
    if (list && s->n_eog > 1) {
        cJSON *a = cJSON_AddArrayToObject(c, "eos_token_id");
        for (int i = 0; i < s->n_eog; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(s->eog[i]));
    } else {
        add_id(c, "eos_token_id", s->eos);
    }
}

static void add_common(cJSON *c, const struct mm_spec *s)
{
    cJSON_AddNumberToObject(c, "head_dim", s->head_dim);
    cJSON_AddStringToObject(c, "hidden_act", "silu");
    cJSON_AddNumberToObject(c, "hidden_size", s->hidden);
    cJSON_AddNumberToObject(c, "initializer_range", 0.02);
    cJSON_AddNumberToObject(c, "intermediate_size", s->ffn);
    cJSON_AddNumberToObject(c, "max_position_embeddings", s->ctx);
}

static void add_heads(cJSON *c, const struct mm_spec *s)
{
    cJSON_AddNumberToObject(c, "num_attention_heads", s->heads);
    cJSON_AddNumberToObject(c, "num_hidden_layers", s->layers);
    cJSON_AddNumberToObject(c, "num_key_value_heads", s->kv_heads);
}

static void llama_config(cJSON *c, const struct mm_spec *s)
{
    cJSON_AddItemToObject(c, "architectures", cJSON_CreateStringArray((const char *[]){"LlamaForCausalLM"}, 1));
    cJSON_AddStringToObject(c, "model_type", "llama");
    cJSON_AddFalseToObject(c, "attention_bias");
    cJSON_AddNumberToObject(c, "attention_dropout", 0.0);
    add_id(c, "bos_token_id", s->bos);
    add_eos(c, s, false);
    add_common(c, s);
    cJSON_AddFalseToObject(c, "mlp_bias");
    add_heads(c, s);
    cJSON_AddNumberToObject(c, "pretraining_tp", 1);
    cJSON_AddNumberToObject(c, "rms_norm_eps", s->rms_eps);
    if (s->rope_llama3) {
        cJSON *r = cJSON_AddObjectToObject(c, "rope_scaling");
        cJSON_AddNumberToObject(r, "factor", 32.0);
        cJSON_AddNumberToObject(r, "high_freq_factor", 4.0);
        cJSON_AddNumberToObject(r, "low_freq_factor", 1.0);
        cJSON_AddNumberToObject(r, "original_max_position_embeddings", 8192);
        cJSON_AddStringToObject(r, "rope_type", "llama3");
    } else {
        cJSON_AddNullToObject(c, "rope_scaling");
    }
    cJSON_AddNumberToObject(c, "rope_theta", s->rope_theta);
}

static void qwen_config(cJSON *c, const struct mm_spec *s)
{
    bool q2 = s->arch == MM_QWEN2;
    const char *arch = q2 ? "Qwen2ForCausalLM" : "Qwen3ForCausalLM";
    cJSON_AddItemToObject(c, "architectures", cJSON_CreateStringArray(&arch, 1));
    cJSON_AddStringToObject(c, "model_type", q2 ? "qwen2" : "qwen3");
    if (!q2) cJSON_AddFalseToObject(c, "attention_bias");
    cJSON_AddNumberToObject(c, "attention_dropout", 0.0);
    add_id(c, "bos_token_id", s->bos);
    add_eos(c, s, false);
    add_common(c, s);
    cJSON_AddNumberToObject(c, "max_window_layers", s->layers);
    add_heads(c, s);
    cJSON_AddNumberToObject(c, "rms_norm_eps", s->rms_eps);
    cJSON_AddNullToObject(c, "rope_scaling");
    cJSON_AddNumberToObject(c, "rope_theta", s->rope_theta);
    cJSON_AddNullToObject(c, "sliding_window");
    cJSON_AddFalseToObject(c, "use_sliding_window");
}

static void gemma3_config(cJSON *c, const struct mm_spec *s)
{
    cJSON_AddItemToObject(c, "architectures", cJSON_CreateStringArray((const char *[]){"Gemma3ForCausalLM"}, 1));
    cJSON_AddStringToObject(c, "model_type", "gemma3_text");
    cJSON_AddFalseToObject(c, "attention_bias");
    cJSON_AddNumberToObject(c, "attention_dropout", 0.0);
    cJSON_AddNullToObject(c, "attn_logit_softcapping");
    add_id(c, "bos_token_id", s->bos);
    add_eos(c, s, true);
    cJSON_AddNullToObject(c, "final_logit_softcapping");
    cJSON_AddNumberToObject(c, "head_dim", s->head_dim);
    cJSON_AddStringToObject(c, "hidden_activation", "gelu_pytorch_tanh");
    cJSON_AddNumberToObject(c, "hidden_size", s->hidden);
    cJSON_AddNumberToObject(c, "initializer_range", 0.02);
    cJSON_AddNumberToObject(c, "intermediate_size", s->ffn);
    cJSON *lt = cJSON_AddArrayToObject(c, "layer_types");
    for (int i = 0; i < s->layers; i++)
        cJSON_AddItemToArray(lt, cJSON_CreateString(mm_layer_is_swa(s, i) ? "sliding_attention" : "full_attention"));
    cJSON_AddNumberToObject(c, "max_position_embeddings", s->ctx);
    add_heads(c, s);
    add_id(c, "pad_token_id", s->pad);
    cJSON_AddNumberToObject(c, "query_pre_attn_scalar", s->head_dim);
    cJSON_AddNumberToObject(c, "rms_norm_eps", s->rms_eps);
    cJSON_AddNumberToObject(c, "rope_local_base_freq", s->rope_theta_local);
    cJSON_AddNullToObject(c, "rope_scaling");
    cJSON_AddNumberToObject(c, "rope_theta", s->rope_theta);
    cJSON_AddNumberToObject(c, "sliding_window", s->sliding_window);
    cJSON_AddNumberToObject(c, "sliding_window_pattern", s->swa_pattern);
}

char *mm_config_json(const struct mm_spec *s, const char *torch_dtype, int mlx_bits, int mlx_group)
{
    cJSON *c = cJSON_CreateObject();
    if (!c) return NULL;
    if (s->arch == MM_LLAMA) llama_config(c, s);
    else if (s->arch == MM_GEMMA3) gemma3_config(c, s);
    else qwen_config(c, s);
    cJSON_AddBoolToObject(c, "tie_word_embeddings", s->tie);
    cJSON_AddStringToObject(c, "torch_dtype", torch_dtype);
    cJSON_AddStringToObject(c, "transformers_version", "4.53.0");
    cJSON_AddTrueToObject(c, "use_cache");
    cJSON_AddNumberToObject(c, "vocab_size", s->vocab);
    if (mlx_bits) {
        for (int k = 0; k < 2; k++) {
            cJSON *q = cJSON_AddObjectToObject(c, k ? "quantization_config" : "quantization");
            cJSON_AddNumberToObject(q, "group_size", mlx_group);
            cJSON_AddNumberToObject(q, "bits", mlx_bits);
            cJSON_AddStringToObject(q, "mode", "affine");
        }
    }
    char *text = cJSON_Print(c);
    cJSON_Delete(c);
    return text;
}

char *mm_generation_config_json(const struct mm_spec *s)
{
    cJSON *g = cJSON_CreateObject();
    if (!g) return NULL;
    add_id(g, "bos_token_id", s->bos);
    add_eos(g, s, true);
    if (s->pad >= 0) cJSON_AddNumberToObject(g, "pad_token_id", s->pad);
    cJSON_AddFalseToObject(g, "do_sample");
    cJSON_AddStringToObject(g, "transformers_version", "4.53.0");
    char *text = cJSON_Print(g);
    cJSON_Delete(g);
    return text;
}
