/* model.c - loading, freeing and describing a model (see model.h). */
#include "model/model_internal.h"

#include "formats/gguf.h"
#include "model/load_hf.h"
#include "tensor/packed.h"
#include "tensor/tensor_types.h"

#include <stdlib.h>
#include <string.h>

struct model_load_params model_load_params_default(void)
{
    struct model_load_params p;
    memset(&p, 0, sizeof p);
    p.kv_type = TENSOR_TYPE_F16;
    return p;
}

int model_finish_load(struct model *m, inf_error *err)
{
    const struct model_hparams *hp = &m->hp;
    /* Whether the KV type fits the heads (q8_0: multiples of 32) is known
     * only now, with the hyperparameters. */
    if (kv_cache_check_type(m, m->kv_type, err) != 0) {
        err_prefix(err, "%s", m->path);
        return -1;
    }
    m->layer_swa = calloc((size_t)hp->n_layer, 1);
    if (!m->layer_swa) return err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", m->path);
    for (int il = 0; il < hp->n_layer; il++)
        m->layer_swa[il] = (uint8_t)(hp->n_swa > 0 && model_arch_layer_is_swa(hp->swa_pattern, il));
    return 0;
}

int model_load(const char *path, const struct model_load_params *params,
               struct model **out, inf_error *err)
{
    *out = NULL;
    inf_error_clear(err);
    if (model_hf_is_dir(path)) return model_load_hf_dir(path, params, out, err);
    struct model_load_params p = params ? *params : model_load_params_default();
    if (p.kv_type != TENSOR_TYPE_F32 && p.kv_type != TENSOR_TYPE_F16 && p.kv_type != TENSOR_TYPE_Q8_0)
        return err_fail(err, INF_ERR_UNSUPPORTED, "%s: KV cache type %s is not supported (f16, f32 or q8_0)", path,
                         tensor_type_name(p.kv_type));
    struct model *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        return err_fail(err, INF_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    m->kv_type = p.kv_type;
    if (model_load_gguf(path, m, err) || model_finish_load(m, err)) {
        model_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

void model_free(struct model *m)
{
    if (!m) return;
    model_hf_release(m); /* what the safetensors loader keeps (no-op otherwise) */
    weights_free(&m->w);
    gguf_close(m->gguf);
    free(m->layer_swa);
    free(m->path);
    free(m);
}

const struct model_hparams *model_hparams(const struct model *m) { return &m->hp; }

const struct gguf_file *model_gguf(const struct model *m) { return m->gguf; }

/* Every distinct matrix and vector of the model, as stored in the file. */
static void add_stat(struct model_type_stat *st, int *n, int type, uint64_t bytes)
{
    for (int i = 0; i < *n; i++)
        if (st[i].type == type) {
            st[i].n_tensors++;
            st[i].bytes += bytes;
            return;
        }
    st[*n].type = type;
    st[*n].n_tensors = 1;
    st[*n].bytes = bytes;
    (*n)++;
}

int model_type_stats(const struct model *m, struct model_type_stat *out, int max)
{
    struct model_type_stat st[TENSOR_TYPE_COUNT + 1];
    int n = 0;
    if (m->gguf) {
        for (int64_t i = 0; i < gguf_n_tensors(m->gguf); i++) {
            const struct gguf_tensor *t = gguf_tensor_at(m->gguf, i);
            int type = t->type < TENSOR_TYPE_COUNT ? (int)t->type : TENSOR_TYPE_COUNT;
            add_stat(st, &n, type, t->size);
        }
    } else {
        for (int r = 0; r < W_GLOBAL_COUNT; r++) {
            const struct model_weight *w = &m->w.global[r];
            if (w->data && !(r == W_OUTPUT && m->hp.tied_output))
                add_stat(st, &n, w->type, (uint64_t)w->row_stride * (uint64_t)w->ne[1]);
        }
        for (int il = 0; il < m->hp.n_layer; il++)
            for (int r = 0; r < W_LAYER_COUNT; r++) {
                const struct model_weight *w = &m->w.layers[il].w[r];
                if (w->data) add_stat(st, &n, w->type, (uint64_t)w->row_stride * (uint64_t)w->ne[1]);
            }
    }
    /* sort by type id */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && st[j].type < st[j - 1].type; j--) {
            struct model_type_stat t = st[j];
            st[j] = st[j - 1];
            st[j - 1] = t;
        }
    for (int i = 0; i < n && i < max; i++) out[i] = st[i];
    return n;
}

int64_t model_n_params(const struct model *m)
{
    int64_t n = 0;
    if (m->gguf) {
        for (int64_t i = 0; i < gguf_n_tensors(m->gguf); i++) {
            const struct gguf_tensor *t = gguf_tensor_at(m->gguf, i);
            n += t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        }
        return n;
    }
    for (int r = 0; r < W_GLOBAL_COUNT; r++)
        if (m->w.global[r].data && !(r == W_OUTPUT && m->hp.tied_output)) n += m->w.global[r].ne[0] * m->w.global[r].ne[1];
    for (int il = 0; il < m->hp.n_layer; il++)
        for (int r = 0; r < W_LAYER_COUNT; r++)
            if (m->w.layers[il].w[r].data) n += m->w.layers[il].w[r].ne[0] * m->w.layers[il].w[r].ne[1];
    return n;
}

/* ---- packed weights ---- */

static size_t pack_one(struct model *m, struct model_weight *w, struct threadpool *tp, bool release)
{
    if (!w->data || w->packed) return packed_bytes(w->packed);
    w->packed = tensor_pack(w->data, w->type, w->ne[1], w->ne[0], w->row_stride, tp);
    if (w->packed && release) {
        const uint64_t n = (uint64_t)w->row_stride * (uint64_t)w->ne[1];
        if (m->gguf) gguf_release_range(m->gguf, w->data, n);
        else model_hf_release_range(m, w->data, n);
    }
    return packed_bytes(w->packed);
}

size_t model_pack_weights(struct model *m, struct threadpool *tp)
{
    static const enum model_weight_role roles[] = {W_Q, W_K, W_V, W_O, W_GATE, W_UP, W_DOWN};
    size_t total = 0;
    for (int il = 0; il < m->hp.n_layer; il++)
        for (size_t r = 0; r < sizeof roles / sizeof roles[0]; r++)
            total += pack_one(m, &m->w.layers[il].w[roles[r] - W_LAYER_FIRST], tp, true);
    /* a tied output matrix is also the embedding table: once packed, the
     * lookups read the packed copy (forward.c), so the original goes too */
    total += pack_one(m, &m->w.global[W_OUTPUT], tp, true);
    return total;
}

size_t model_packed_bytes(const struct model *m)
{
    size_t total = packed_bytes(m->w.global[W_OUTPUT].packed);
    for (int il = 0; il < m->hp.n_layer; il++)
        for (int r = 0; r < W_LAYER_COUNT; r++) total += packed_bytes(m->w.layers[il].w[r].packed);
    return total;
}
