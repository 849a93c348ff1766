/* weights.c - binding source tensors to the weight struct (see weights.h). */
#include "model/weights.h"

#include "model/model.h"
#include "tensor/packed.h"
#include "tensor/tensor_types.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "FILE: message", malformed model (a missing tensor, a wrong shape). */
static int werr(inf_error *err, const char *file, const char *fmt, ...) INF_PRINTF(3, 4);
static int werr(inf_error *err, const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vfail(err, INF_ERR_FORMAT, fmt, ap);
    va_end(ap);
    err_prefix(err, "%s", file ? file : "model");
    return -1;
}

static int64_t dim_value(enum model_dim d, const struct model_hparams *hp)
{
    switch (d) {
    case DIM_NONE: return 1;
    case DIM_EMBD: return hp->n_embd;
    case DIM_Q: return (int64_t)hp->n_head * hp->head_dim;
    case DIM_KV: return (int64_t)hp->n_head_kv * hp->head_dim;
    case DIM_V: return (int64_t)hp->n_head_kv * hp->head_dim_v;
    case DIM_ATTN_OUT: return (int64_t)hp->n_head * hp->head_dim_v;
    case DIM_HEAD: return hp->head_dim;
    case DIM_FF: return hp->n_ff;
    case DIM_VOCAB: return hp->n_vocab;
    case DIM_ROT_HALF: return hp->n_rot / 2;
    }
    return -1;
}

static float *own(struct model_weights *w, size_t n)
{
    if (w->n_owned == w->cap_owned) {
        int cap = w->cap_owned ? w->cap_owned * 2 : 64;
        float **p = realloc(w->owned, (size_t)cap * sizeof *p);
        if (!p) return NULL;
        w->owned = p;
        w->cap_owned = cap;
    }
    float *buf = malloc((n ? n : 1) * sizeof(float));
    if (buf) w->owned[w->n_owned++] = buf;
    return buf;
}

static int bind_one(struct model_weights *w, struct model_weight *dst, const struct model_weight_spec *spec,
                    int il, int required, const struct model_hparams *hp, const struct weight_source *src,
                    inf_error *err)
{
    char name[128];
    if (il >= 0) snprintf(name, sizeof name, spec->name, il);
    else snprintf(name, sizeof name, "%s", spec->name);
    struct weight_tensor_desc d;
    memset(&d, 0, sizeof d);
    if (!src->get(src->ctx, name, &d)) {
        memset(dst, 0, sizeof *dst);
        if (required) return werr(err, src->file_name, "missing tensor '%s'", name);
        return 0;
    }
    int64_t e0 = dim_value(spec->ne0, hp), e1 = dim_value(spec->ne1, hp);
    /* shape: [e0] for vectors, [e0, e1] for matrices; trailing dims must be 1 */
    int ok = d.n_dims >= 1 && d.ne[0] == e0 && d.ne[1] == e1;
    for (int i = 2; i < 4; i++) ok = ok && d.ne[i] == 1;
    if (!ok) {
        char got[96];
        int n = snprintf(got, sizeof got, "[%" PRId64, d.ne[0]);
        for (int i = 1; i < d.n_dims && i < 4; i++) n += snprintf(got + n, sizeof got - (size_t)n, ", %" PRId64, d.ne[i]);
        snprintf(got + n, sizeof got - (size_t)n, "]");
        if (spec->is_vector)
            return werr(err, src->file_name, "tensor '%s' has shape %s, expected [%" PRId64 "]", name, got, e0);
        return werr(err, src->file_name, "tensor '%s' has shape %s, expected [%" PRId64 ", %" PRId64 "]",
                    name, got, e0, e1);
    }
    int64_t rb = tensor_row_bytes(d.type, d.ne[0]);
    if (rb < 0 || (uint64_t)rb * (uint64_t)d.ne[1] > d.size)
        return werr(err, src->file_name, "tensor '%s': type %s cannot hold a [%" PRId64 ", %" PRId64 "] tensor in %" PRIu64 " bytes",
                    name, tensor_type_name(d.type), d.ne[0], d.ne[1], d.size);
    if (spec->is_vector) {
        /* dequantise to an owned f32 copy */
        float *buf = own(w, (size_t)d.ne[0]);
        if (!buf) return werr(err, src->file_name, "out of memory");
        if (tensor_dequantize_row(d.type, d.data, buf, d.ne[0]) != 0)
            return werr(err, src->file_name, "tensor '%s' has type %s, which cannot be decoded",
                        name, tensor_type_name(d.type));
        dst->data = buf;
        dst->type = TENSOR_TYPE_F32;
        dst->ne[0] = d.ne[0];
        dst->ne[1] = 1;
        dst->row_stride = (size_t)d.ne[0] * sizeof(float);
        return 0;
    }
    if (!tensor_type_is_supported(d.type))
        return werr(err, src->file_name, "tensor '%s' has type %s, which this engine does not support",
                    name, tensor_type_name(d.type));
    dst->data = d.data;
    dst->type = d.type;
    dst->ne[0] = d.ne[0];
    dst->ne[1] = d.ne[1];
    dst->row_stride = (size_t)rb;
    return 0;
}

int weights_bind(struct model_weights *w, const struct model_arch_info *ai,
                 struct model_hparams *hp, const struct weight_source *src,
                 inf_error *err)
{
    memset(w, 0, sizeof *w);
    w->n_layer = hp->n_layer;
    w->layers = calloc((size_t)(hp->n_layer > 0 ? hp->n_layer : 1), sizeof *w->layers);
    if (!w->layers) return werr(err, src->file_name, "out of memory");
    for (int role = 0; role < W_ROLE_COUNT; role++) {
        uint64_t bit = UINT64_C(1) << role;
        if (!((ai->required | ai->optional) & bit)) continue;
        int required = (ai->required & bit) != 0;
        const struct model_weight_spec *spec = &model_weight_specs[role];
        if (role < W_GLOBAL_COUNT) {
            if (bind_one(w, &w->global[role], spec, -1, required, hp, src, err)) return -1;
        } else {
            for (int il = 0; il < hp->n_layer; il++)
                if (bind_one(w, &w->layers[il].w[role - W_LAYER_FIRST], spec, il, required, hp, src, err))
                    return -1;
        }
    }
    hp->tied_output = w->global[W_OUTPUT].data == NULL;
    if (hp->tied_output) w->global[W_OUTPUT] = w->global[W_TOK_EMBD];
    hp->has_rope_freqs = w->global[W_ROPE_FREQS].data != NULL;
    return 0;
}

void weights_free(struct model_weights *w)
{
    if (!w) return;
    for (int i = 0; i < w->n_owned; i++) free(w->owned[i]);
    for (int r = 0; r < W_GLOBAL_COUNT; r++) packed_free(w->global[r].packed);
    for (int il = 0; w->layers && il < w->n_layer; il++)
        for (int r = 0; r < W_LAYER_COUNT; r++) packed_free(w->layers[il].w[r].packed);
    free(w->owned);
    free(w->layers);
    memset(w, 0, sizeof *w);
}
