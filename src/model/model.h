/* model.h - a loaded decoder-only transformer and its forward pass.
 *
 * Layer: engine/model. Uses formats/ (GGUF), tensor/ (types, matmul,
 * threadpool); knows nothing of tokenizers, samplers or the public contract.
 *
 * Supported architectures: llama (Llama 2/3.x incl. Llama-3 rope scaling,
 * TinyLlama, SmolLM, Mistral), qwen2, qwen3, gemma3 (see arch.h).
 *
 * Ownership: model_load returns a model the caller frees with model_free.
 * Weights stay memory-mapped in their file layout for the model's lifetime;
 * pointers returned by model_hparams / model_gguf live as long as the model.
 *
 * Threads: a model is read-only once loaded (and packed: model_pack_weights
 * is the last step of loading), so any number of model_forward calls may
 * run on it at once, each with its own forward context (the per-call
 * scratch) and its own caches. A context or a cache serves one call at a
 * time.
 * Nothing here prints or aborts; failures return -1 with a message. */
#ifndef INF_MODEL_MODEL_H
#define INF_MODEL_MODEL_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/arch.h"
#include "model/kv_cache.h"

#ifdef __cplusplus
extern "C" {
#endif

struct model;
struct forward_ctx;
struct gguf_file;
struct threadpool;

struct model_load_params {
    /* Element type of KV caches made by kv_cache_create(): TENSOR_TYPE_F16,
     * TENSOR_TYPE_F32 or TENSOR_TYPE_Q8_0 (loading fails when the model's
     * head sizes are not multiples of 32). Start from
     * model_load_params_default(). */
    int kv_type;
};

/* Defaults: kv_type = TENSOR_TYPE_F16. */
struct model_load_params model_load_params_default(void);

struct model_hparams {
    char arch_name[32];          /* "llama", "qwen3", ... */
    enum model_arch arch;
    enum model_rope_type rope_type;
    uint32_t arch_flags;         /* ARCH_F_* */
    int n_vocab;
    int n_layer;
    int n_embd;
    int n_head;
    int n_head_kv;
    int head_dim;                /* key/query length per head */
    int head_dim_v;              /* value length per head */
    int n_ff;
    int n_ctx_train;
    int n_rot;                   /* dimensions rotated by RoPE (<= head_dim) */
    float rope_freq_base;        /* global layers */
    float rope_freq_base_swa;    /* sliding-window layers */
    float rope_freq_scale;       /* 1 / linear scaling factor */
    bool has_rope_freqs;         /* per-frequency divisors (Llama 3.1+ scaling) */
    float norm_eps;              /* RMS norm epsilon */
    int n_swa;                   /* sliding window (0 = none) */
    int swa_pattern;             /* every Nth layer global (0 = none local) */
    float attn_scale;            /* multiplies q.k */
    float embd_scale;            /* multiplies input embeddings (1 = none) */
    float final_logit_softcap;   /* 0 = off */
    float attn_logit_softcap;    /* 0 = off */
    bool tied_output;            /* output matrix is token_embd */
};

/* One batch for model_forward. Token i belongs to the sequence whose KV
 * cache is caches[i] and sits at position pos[i] of it. Per cache, the
 * batch's tokens must be in increasing position order and continue the
 * cache exactly: the first at kv_cache_n_pos(cache), then +1 each (use
 * kv_cache_truncate to rewind). All arrays have n_tokens entries and are
 * only read. want_logits[i] != 0 asks for token i's logits; want_logits ==
 * NULL means only the last token's. */
struct model_batch {
    int n_tokens;
    const int32_t *tokens;
    const int32_t *pos;
    struct kv_cache *const *caches;
    const uint8_t *want_logits;
};

/* Loads a GGUF model (or, for a directory with config.json, a Hugging Face
 * model via load_hf.h). params may be NULL (defaults). On failure returns -1,
 * *out = NULL and err names the file and the problem (missing tensor, bad
 * shape, unsupported architecture or tensor type ...). */
int model_load(const char *path, const struct model_load_params *params,
               struct model **out, inf_error *err);

/* NULL is a no-op. Caches created from the model must be freed too (before
 * or after; they do not reference the weights). */
void model_free(struct model *m);

const struct model_hparams *model_hparams(const struct model *m);

/* The GGUF file the model was loaded from (for building the tokenizer from
 * the same metadata), or NULL for a model from another format. Owned by
 * the model. */
const struct gguf_file *model_gguf(const struct model *m);

/* Per tensor type: number of tensors and bytes of the model's weights. */
struct model_type_stat {
    int type;        /* tensor type id (tensor_types.h) */
    int64_t n_tensors;
    uint64_t bytes;
};
/* Fills up to max entries (sorted by type id) and returns how many types
 * the model uses (may exceed max). */
int model_type_stats(const struct model *m, struct model_type_stat *out, int max);
/* Total number of weight elements. */
int64_t model_n_params(const struct model *m);

/* Repacks every matrix that goes through a matmul (attention, feed-forward,
 * output) into the packed GEMM layout of this CPU (tensor/packed.h), using
 * tp's threads; the mapped originals then leave resident memory (the token
 * embedding stays mapped for row lookups, unless it is the tied output
 * matrix: then lookups read the packed copy). Types or CPUs without a packed
 * kernel keep the mapped weights. Idempotent. Returns the bytes now held
 * by packed copies (0 when nothing was packed); -1 never: a matrix that
 * cannot be packed (memory short) simply stays unpacked. */
size_t model_pack_weights(struct model *m, struct threadpool *tp);

/* Bytes held by packed copies (see model_pack_weights). */
size_t model_packed_bytes(const struct model *m);

/* The scratch of model_forward for model m: activations of a micro-batch
 * and the attention threads' buffers, grown on first use and kept for the
 * next call. NULL when memory is short. Free with forward_ctx_free (NULL
 * is a no-op) before or after the model. */
struct forward_ctx *forward_ctx_new(const struct model *m);
void forward_ctx_free(struct forward_ctx *fc);

/* Runs the batch through the model. Writes n_vocab floats per wanted token
 * into logits_out, in batch order (logits_out may be NULL when no token
 * wants logits). fc is a context made for m, or NULL for a temporary one
 * (allocated and freed in the call: for tests and one-off calls). tp may be
 * NULL (single-threaded). On failure returns -1 with a message (bad token
 * id, position past a cache, non-contiguous positions...); caches are then
 * left as before the call. */
int model_forward(const struct model *m, struct forward_ctx *fc, const struct model_batch *batch, float *logits_out,
                  struct threadpool *tp, inf_error *err);

#ifdef __cplusplus
}
#endif
#endif
