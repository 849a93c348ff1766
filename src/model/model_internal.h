/* model_internal.h - definitions shared by the files of src/model/ only. */
#ifndef INF_MODEL_INTERNAL_H
#define INF_MODEL_INTERNAL_H

#include "base/error.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/model.h"
#include "model/weights.h"

struct kv_cache {
    int n_layer, n_head_kv, head_dim, head_dim_v;
    int n_ctx;
    int type;        /* TENSOR_TYPE_F32 / F16 / Q8_0 */
    size_t k_row, v_row; /* bytes of one position's key / value row of one head */
    int n_pos;       /* filled positions */
    void *k, *v;     /* [n_layer][n_head_kv][n_ctx][row], rows of head_dim(_v) */
};

/* Rows of one (layer, head) are contiguous, so the rows of positions
 * pos .. pos+n-1 start here and decode as one run of n * head_dim elements
 * (a Q8_0 row is whole blocks). */
static inline void *kv_cache_k_row(const struct kv_cache *c, int layer, int head, int pos)
{
    size_t row = ((size_t)layer * (size_t)c->n_head_kv + (size_t)head) * (size_t)c->n_ctx + (size_t)pos;
    return (char *)c->k + row * c->k_row;
}

static inline void *kv_cache_v_row(const struct kv_cache *c, int layer, int head, int pos)
{
    size_t row = ((size_t)layer * (size_t)c->n_head_kv + (size_t)head) * (size_t)c->n_ctx + (size_t)pos;
    return (char *)c->v + row * c->v_row;
}

/* What the Hugging Face loader keeps for a model (load_hf.c). */
struct hf_owner;

struct model {
    struct model_hparams hp;
    const struct model_arch_info *ai;
    struct model_weights w;
    struct gguf_file *gguf; /* owned; NULL for other formats */
    char *path;
    int kv_type;
    uint8_t *layer_swa;     /* [n_layer]: 1 = sliding-window layer */
    struct hf_owner *hf;    /* owned; NULL unless loaded from a Hugging Face folder */
};

/* load_gguf.c */
int model_load_gguf(const char *path, struct model *m, inf_error *err);

/* model.c: derived per-layer data after hparams and weights are set. */
int model_finish_load(struct model *m, inf_error *err);

#endif
