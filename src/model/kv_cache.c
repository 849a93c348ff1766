/* kv_cache.c - per-sequence key/value storage (see kv_cache.h). */
#include "model/model_internal.h"

#include "tensor/tensor_types.h"

#include <stdlib.h>
#include <string.h>

struct kv_cache *kv_cache_create_typed(const struct model *m, int n_ctx, int type, char *err, size_t err_size)
{
    const struct model_hparams *hp = &m->hp;
    if (err && err_size) err[0] = 0;
    if (n_ctx <= 0) n_ctx = hp->n_ctx_train;
    if (type != TENSOR_TYPE_F32 && type != TENSOR_TYPE_F16) {
        model_err(err, err_size, "KV cache type %s is not supported (f32 or f16)", tensor_type_name(type));
        return NULL;
    }
    size_t elem = type == TENSOR_TYPE_F32 ? 4 : 2;
    /* elements per K (and per V) buffer, with overflow checks */
    unsigned __int128 nk = (unsigned __int128)hp->n_layer * (unsigned)hp->n_head_kv * (unsigned)n_ctx * (unsigned)hp->head_dim;
    unsigned __int128 nv = (unsigned __int128)hp->n_layer * (unsigned)hp->n_head_kv * (unsigned)n_ctx * (unsigned)hp->head_dim_v;
    if ((nk + nv) * elem > ((unsigned __int128)1 << 46)) {
        model_err(err, err_size, "KV cache of %d positions is too large (%.1f GiB)", n_ctx,
                  (double)((nk + nv) * elem) / (1024.0 * 1024.0 * 1024.0));
        return NULL;
    }
    struct kv_cache *c = calloc(1, sizeof *c);
    if (!c) {
        model_err(err, err_size, "out of memory");
        return NULL;
    }
    c->n_layer = hp->n_layer;
    c->n_head_kv = hp->n_head_kv;
    c->head_dim = hp->head_dim;
    c->head_dim_v = hp->head_dim_v;
    c->n_ctx = n_ctx;
    c->type = type;
    c->elem = elem;
    /* calloc: untouched pages stay unallocated until used */
    c->k = calloc((size_t)nk, elem);
    c->v = calloc((size_t)nv, elem);
    if (!c->k || !c->v) {
        model_err(err, err_size, "out of memory for a KV cache of %d positions (%.1f MiB)", n_ctx,
                  (double)((nk + nv) * elem) / (1024.0 * 1024.0));
        kv_cache_free(c);
        return NULL;
    }
    return c;
}

struct kv_cache *kv_cache_create(const struct model *m, int n_ctx, char *err, size_t err_size)
{
    return kv_cache_create_typed(m, n_ctx, m->kv_type, err, err_size);
}

void kv_cache_free(struct kv_cache *c)
{
    if (!c) return;
    free(c->k);
    free(c->v);
    free(c);
}

void kv_cache_clear(struct kv_cache *c) { c->n_pos = 0; }

void kv_cache_truncate(struct kv_cache *c, int n_pos)
{
    if (n_pos < 0) n_pos = 0;
    if (n_pos < c->n_pos) c->n_pos = n_pos;
}

int kv_cache_n_pos(const struct kv_cache *c) { return c->n_pos; }
int kv_cache_n_ctx(const struct kv_cache *c) { return c->n_ctx; }
int kv_cache_type(const struct kv_cache *c) { return c->type; }

size_t kv_cache_bytes(const struct kv_cache *c)
{
    return (size_t)c->n_layer * (size_t)c->n_head_kv * (size_t)c->n_ctx *
           (size_t)(c->head_dim + c->head_dim_v) * c->elem;
}

static void load_row(const struct kv_cache *c, const void *src, float *out, int n)
{
    if (c->type == TENSOR_TYPE_F32) memcpy(out, src, (size_t)n * sizeof(float));
    else tensor_f16_to_f32_row(src, out, n);
}

int kv_cache_get_keys(const struct kv_cache *c, int layer, int head, int pos, float *out)
{
    if (layer < 0 || layer >= c->n_layer || head < 0 || head >= c->n_head_kv || pos < 0 || pos >= c->n_pos) return -1;
    load_row(c, kv_cache_k_row(c, layer, head, pos), out, c->head_dim);
    return 0;
}

int kv_cache_get_values(const struct kv_cache *c, int layer, int head, int pos, float *out)
{
    if (layer < 0 || layer >= c->n_layer || head < 0 || head >= c->n_head_kv || pos < 0 || pos >= c->n_pos) return -1;
    load_row(c, kv_cache_v_row(c, layer, head, pos), out, c->head_dim_v);
    return 0;
}
