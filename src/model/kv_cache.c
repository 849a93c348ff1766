/* kv_cache.c - per-sequence key/value storage (see kv_cache.h). */
#include "model/model_internal.h"

#include "tensor/tensor_types.h"

#include <stdlib.h>
#include <string.h>

static int type_is_supported(int type)
{
    return type == TENSOR_TYPE_F32 || type == TENSOR_TYPE_F16 || type == TENSOR_TYPE_Q8_0;
}

int kv_cache_check_type(const struct model *m, int type, inf_error *err)
{
    const struct model_hparams *hp = &m->hp;
    if (!type_is_supported(type))
        return err_fail(err, INF_ERR_UNSUPPORTED, "KV cache type %s is not supported (f16, f32 or q8_0)",
                         tensor_type_name(type));
    /* Q8_0 rows are whole blocks of 32: a head size must divide into them. */
    if (type == TENSOR_TYPE_Q8_0 && (hp->head_dim % TENSOR_QK || hp->head_dim_v % TENSOR_QK)) {
        int bad = hp->head_dim % TENSOR_QK ? hp->head_dim : hp->head_dim_v;
        return err_fail(err, INF_ERR_UNSUPPORTED, "KV cache type q8_0 is not supported for %s head size %d: q8_0 stores blocks of %d, "
                         "so it needs a multiple of %d (use f16 or f32)",
                         hp->head_dim % TENSOR_QK ? "key" : "value", bad, TENSOR_QK, TENSOR_QK);
    }
    return 0;
}

struct kv_cache *kv_cache_create_typed(const struct model *m, int n_ctx, int type, inf_error *err)
{
    const struct model_hparams *hp = &m->hp;
    inf_error_clear(err);
    if (n_ctx <= 0) n_ctx = hp->n_ctx_train;
    if (kv_cache_check_type(m, type, err) != 0) return NULL;
    /* bytes per row of one head at one position (whole blocks: checked above) */
    size_t k_row = (size_t)tensor_row_bytes(type, hp->head_dim);
    size_t v_row = (size_t)tensor_row_bytes(type, hp->head_dim_v);
    /* rows per K (and per V) buffer, with overflow checks */
    unsigned __int128 rows = (unsigned __int128)hp->n_layer * (unsigned)hp->n_head_kv * (unsigned)n_ctx;
    unsigned __int128 total = rows * (k_row + v_row);
    if (total > ((unsigned __int128)1 << 46)) {
        err_fail(err, INF_ERR_FORMAT, "KV cache of %d positions is too large (%.1f GiB)", n_ctx,
                  (double)total / (1024.0 * 1024.0 * 1024.0));
        return NULL;
    }
    struct kv_cache *c = calloc(1, sizeof *c);
    if (!c) {
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        return NULL;
    }
    c->n_layer = hp->n_layer;
    c->n_head_kv = hp->n_head_kv;
    c->head_dim = hp->head_dim;
    c->head_dim_v = hp->head_dim_v;
    c->n_ctx = n_ctx;
    c->type = type;
    c->k_row = k_row;
    c->v_row = v_row;
    /* calloc: untouched pages stay unallocated until used */
    c->k = calloc((size_t)rows, k_row);
    c->v = calloc((size_t)rows, v_row);
    if (!c->k || !c->v) {
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory for a KV cache of %d positions (%.1f MiB)", n_ctx,
                  (double)total / (1024.0 * 1024.0));
        kv_cache_free(c);
        return NULL;
    }
    return c;
}

struct kv_cache *kv_cache_create(const struct model *m, int n_ctx, inf_error *err)
{
    return kv_cache_create_typed(m, n_ctx, m->kv_type, err);
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
    return (size_t)c->n_layer * (size_t)c->n_head_kv * (size_t)c->n_ctx * (c->k_row + c->v_row);
}

static void load_row(const struct kv_cache *c, const void *src, float *out, int n)
{
    if (c->type == TENSOR_TYPE_F32) memcpy(out, src, (size_t)n * sizeof(float));
    else if (c->type == TENSOR_TYPE_F16) tensor_f16_to_f32_row(src, out, n);
    else tensor_dequantize_row(c->type, src, out, n); /* Q8_0: n is whole blocks (kv_cache_check_type) */
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
