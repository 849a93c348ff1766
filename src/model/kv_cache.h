/* kv_cache.h - the keys and values of one sequence, for every layer.
 *
 * Layout: per layer, K and V are [n_head_kv][n_ctx][head_dim] (one head's
 * positions contiguous, as attention reads them), stored as f32, f16 or
 * q8_0. A q8_0 row (one layer, kv head and position) is head_dim / 32 of
 * ggml's Q8_0 blocks (f16 scale amax/127, 32 int8 quants rounded to
 * nearest): 34 bytes per 32 elements against f16's 64, so q8_0 needs head
 * sizes that are multiples of 32.
 * Keys are stored after RoPE (and q/k norm), exactly as attention uses them.
 *
 * Ownership: created from a model, freed with kv_cache_free; a cache does
 * not reference the model's weights, but it must only be used with models
 * of the same shape (model_forward checks). One thread at a time. */
#ifndef INF_MODEL_KV_CACHE_H
#define INF_MODEL_KV_CACHE_H

#include "base/error.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct model;
struct kv_cache;

/* A cache of n_ctx positions with the model's default element type
 * (model_load_params.kv_type). n_ctx <= 0 means the model's training
 * context. NULL with a message on failure (too large, out of memory). */
struct kv_cache *kv_cache_create(const struct model *m, int n_ctx, inf_error *err);

/* Same with an explicit element type: TENSOR_TYPE_F32, TENSOR_TYPE_F16 or
 * TENSOR_TYPE_Q8_0 (refused, with a message naming the head size, when
 * the model's head sizes are not multiples of 32). */
struct kv_cache *kv_cache_create_typed(const struct model *m, int n_ctx, int type,
                                       inf_error *err);

/* 0 when caches of this element type can hold the model's heads; else -1
 * with a message ("... is not supported ...") naming the type, or for q8_0
 * the head size that is not a multiple of 32. */
int kv_cache_check_type(const struct model *m, int type, inf_error *err);

void kv_cache_free(struct kv_cache *c);      /* NULL is a no-op */
void kv_cache_clear(struct kv_cache *c);     /* n_pos = 0 */
/* Forget positions >= n_pos (no-op when n_pos >= the current count). */
void kv_cache_truncate(struct kv_cache *c, int n_pos);

int kv_cache_n_pos(const struct kv_cache *c); /* positions filled: 0 .. n_pos-1 */
int kv_cache_n_ctx(const struct kv_cache *c); /* capacity */
int kv_cache_type(const struct kv_cache *c);  /* TENSOR_TYPE_F32 / F16 / Q8_0 */
/* Bytes of K and V at capacity (n_ctx positions): per position, layer and
 * kv head, 4 / 2 / 34/32 bytes per element of head_dim + head_dim_v. */
size_t kv_cache_bytes(const struct kv_cache *c);

/* Copies the post-RoPE key of (layer, kv head, pos) into out (head_dim
 * floats, decoded from f16 or q8_0). Returns 0, or -1 when an index is out
 * of range or pos is not filled. For the attention inspector. */
int kv_cache_get_keys(const struct kv_cache *c, int layer, int head, int pos, float *out);
/* Same for the value vector (head_dim_v floats). */
int kv_cache_get_values(const struct kv_cache *c, int layer, int head, int pos, float *out);

#ifdef __cplusplus
}
#endif
#endif
