/* weights.h - the model's weights, independent of the file format.
 *
 * A loader (load_gguf.c now; a safetensors loader later) provides a
 * weight_source: a function that finds a tensor by its canonical name
 * (llama.cpp's GGUF names, see arch.h) and describes it. weights_bind()
 * then walks the architecture's table, checks presence and shapes with
 * clear errors, and fills struct model_weights.
 *
 * Matrices are used in place (memory-mapped, any supported tensor type);
 * vectors (norms, biases, rope factors) are converted to f32 copies owned
 * by the weights. */
#ifndef INF_MODEL_WEIGHTS_H
#define INF_MODEL_WEIGHTS_H

#include "base/error.h"

#include <stddef.h>
#include <stdint.h>

#include "model/arch.h"

#ifdef __cplusplus
extern "C" {
#endif

struct model_hparams;

/* One weight. A matrix has ne[1] rows of ne[0] elements; row r starts at
 * (const char *)data + r * row_stride. A vector has ne[1] == 1 and (after
 * binding) type TENSOR_TYPE_F32. data == NULL: absent (optional). */
struct packed_matrix;

struct model_weight {
    const void *data;
    int type;
    int64_t ne[2];
    size_t row_stride;
    /* A copy in the packed GEMM layout of this CPU (tensor/packed.h), owned
     * by the weights, or NULL: matmuls then read data directly. */
    struct packed_matrix *packed;
};

struct model_layer_weights {
    struct model_weight w[W_LAYER_COUNT]; /* index: role - W_LAYER_FIRST */
};

struct model_weights {
    struct model_weight global[W_GLOBAL_COUNT];
    int n_layer;
    struct model_layer_weights *layers;
    /* f32 copies of vectors (owned); freed by weights_free */
    float **owned;
    int n_owned, cap_owned;
};

static inline const struct model_weight *weights_layer(const struct model_weights *w, int il,
                                                       enum model_weight_role role)
{
    return &w->layers[il].w[role - W_LAYER_FIRST];
}

/* Description of one source tensor. */
struct weight_tensor_desc {
    const void *data;
    int type;                 /* tensor type id */
    int n_dims;
    int64_t ne[4];            /* ne[0] innermost */
    uint64_t size;            /* bytes */
};

/* get(): 1 and *out when the named tensor exists, 0 when it does not. */
struct weight_source {
    void *ctx;
    int (*get)(void *ctx, const char *name, struct weight_tensor_desc *out);
    const char *file_name;    /* for messages */
};

/* Binds every weight the architecture needs (hp must be complete; sets
 * hp->tied_output and hp->has_rope_freqs). Returns 0, or -1 with e.g.
 * "model.gguf: missing tensor 'blk.3.attn_q.weight'" or
 * "model.gguf: tensor 'blk.0.attn_k.weight' has shape [256, 512], expected [256, 256]". */
int weights_bind(struct model_weights *w, const struct model_arch_info *ai,
                 struct model_hparams *hp, const struct weight_source *src,
                 inf_error *err);

void weights_free(struct model_weights *w);

#ifdef __cplusplus
}
#endif
#endif
