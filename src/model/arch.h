/* arch.h - per-architecture facts as data: hyper-parameter keys, flags,
 * weight names and shapes.
 *
 * Layer: engine/model. Knows nothing of GGUF beyond the key and tensor
 * naming convention (which llama.cpp's GGUF files define and which other
 * loaders map their own names onto).
 *
 * Everything here is static, read-only data: thread-safe. */
#ifndef INF_MODEL_ARCH_H
#define INF_MODEL_ARCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum model_arch {
    MODEL_ARCH_LLAMA = 0, /* Llama 2/3.x, TinyLlama, SmolLM, Mistral */
    MODEL_ARCH_QWEN2,
    MODEL_ARCH_QWEN3,
    MODEL_ARCH_GEMMA3,
    MODEL_ARCH_COUNT
};

/* RoPE variants, as llama.cpp names them. */
enum model_rope_type {
    MODEL_ROPE_NORM = 0, /* rotate interleaved pairs (x[2i], x[2i+1]) */
    MODEL_ROPE_NEOX = 2, /* rotate halves (x[i], x[i + n_rot/2]) */
};

/* Architecture flags. */
enum {
    ARCH_F_QK_NORM = 1u << 0,      /* RMS norm of each q / k head before RoPE */
    ARCH_F_POST_NORMS = 1u << 1,   /* post-attention and post-ffn RMS norms (Gemma) */
    ARCH_F_EMBD_SCALE = 1u << 2,   /* input embeddings scaled by sqrt(n_embd) */
    ARCH_F_GELU = 1u << 3,         /* GELU(tanh)-gated FFN (GeGLU) instead of SiLU (SwiGLU) */
    ARCH_F_SWA = 1u << 4,          /* interleaved sliding-window / global attention */
};

/* Weight roles. Global ones first, then per-layer ones. */
enum model_weight_role {
    /* global */
    W_TOK_EMBD = 0,
    W_OUTPUT_NORM,
    W_OUTPUT,
    W_ROPE_FREQS,
    W_GLOBAL_COUNT,
    /* per layer (index from W_LAYER_FIRST) */
    W_ATTN_NORM = W_GLOBAL_COUNT,
    W_Q,
    W_K,
    W_V,
    W_BQ,
    W_BK,
    W_BV,
    W_O,
    W_BO,
    W_Q_NORM,
    W_K_NORM,
    W_POST_ATTN_NORM,
    W_FFN_NORM,
    W_GATE,
    W_UP,
    W_DOWN,
    W_POST_FFN_NORM,
    W_ROLE_COUNT
};
#define W_LAYER_FIRST W_GLOBAL_COUNT
#define W_LAYER_COUNT (W_ROLE_COUNT - W_GLOBAL_COUNT)

/* Symbolic dimensions of weight shapes. */
enum model_dim {
    DIM_NONE = 0, /* dimension absent (vectors) */
    DIM_EMBD,     /* n_embd */
    DIM_Q,        /* n_head * head_dim */
    DIM_KV,       /* n_head_kv * head_dim */
    DIM_V,        /* n_head_kv * head_dim_v */
    DIM_ATTN_OUT, /* n_head * head_dim_v */
    DIM_HEAD,     /* head_dim */
    DIM_FF,       /* n_ff */
    DIM_VOCAB,    /* n_vocab */
    DIM_ROT_HALF, /* n_rot / 2 */
};

/* How one weight is named and shaped. Names follow llama.cpp's GGUF
 * convention; "%d" is the layer index. ne0 is the row length (input
 * features), ne1 the number of rows (outputs); DIM_NONE for vectors. */
struct model_weight_spec {
    enum model_weight_role role;
    const char *name;
    enum model_dim ne0, ne1;
    int is_vector; /* norms, biases, rope factors: dequantised to f32 at load */
};

/* The spec of a role (index = role). */
extern const struct model_weight_spec model_weight_specs[W_ROLE_COUNT];

/* Hyper-parameter keys, as suffixes after "<arch>." (GGUF convention). */
#define HP_KEY_CONTEXT_LENGTH "context_length"
#define HP_KEY_EMBEDDING_LENGTH "embedding_length"
#define HP_KEY_BLOCK_COUNT "block_count"
#define HP_KEY_FEED_FORWARD_LENGTH "feed_forward_length"
#define HP_KEY_HEAD_COUNT "attention.head_count"
#define HP_KEY_HEAD_COUNT_KV "attention.head_count_kv"
#define HP_KEY_KEY_LENGTH "attention.key_length"
#define HP_KEY_VALUE_LENGTH "attention.value_length"
#define HP_KEY_RMS_EPS "attention.layer_norm_rms_epsilon"
#define HP_KEY_ROPE_DIM "rope.dimension_count"
#define HP_KEY_ROPE_FREQ_BASE "rope.freq_base"
#define HP_KEY_ROPE_FREQ_BASE_SWA "rope.freq_base_swa"
#define HP_KEY_ROPE_SCALE_LINEAR "rope.scale_linear"
#define HP_KEY_ROPE_SCALING_TYPE "rope.scaling.type"
#define HP_KEY_ROPE_SCALING_FACTOR "rope.scaling.factor"
#define HP_KEY_SLIDING_WINDOW "attention.sliding_window"
#define HP_KEY_SLIDING_WINDOW_PATTERN "attention.sliding_window_pattern"
#define HP_KEY_VOCAB_SIZE "vocab_size"
#define HP_KEY_FINAL_SOFTCAP "final_logit_softcapping"
#define HP_KEY_ATTN_SOFTCAP "attn_logit_softcapping"
#define HP_KEY_QUERY_PRE_ATTN_SCALAR "attention.query_pre_attn_scalar"

/* What differs between architectures. */
struct model_arch_info {
    enum model_arch arch;
    const char *name;                 /* "llama", "qwen3", ... (GGUF general.architecture) */
    enum model_rope_type rope_type;
    uint32_t flags;                   /* ARCH_F_* */
    uint64_t required;                /* bit (1 << role): must be present */
    uint64_t optional;                /* bit (1 << role): used when present */
    float default_rope_base;          /* when rope.freq_base is absent */
    float default_rope_base_swa;      /* local layers (ARCH_F_SWA) */
    int default_swa_pattern;          /* every Nth layer is global (ARCH_F_SWA) */
};

/* The table entry of an architecture, or NULL when unsupported. */
const struct model_arch_info *model_arch_find(const char *name);
const struct model_arch_info *model_arch_get(enum model_arch arch);
/* Comma-separated list of supported architecture names (static). */
const char *model_arch_list(void);

/* Llama.cpp's layer pattern: with pattern p > 0, layer il uses the sliding
 * window unless (il + 1) % p == 0; p == 0: no layer is local. */
static inline int model_arch_layer_is_swa(int swa_pattern, int il)
{
    return swa_pattern > 0 && (il + 1) % swa_pattern != 0;
}

#ifdef __cplusplus
}
#endif
#endif
