/* forward_internal.h - INTERNAL to the forward pass (forward.c, the
 * layer loop; attention.c, the attention of one layer). */
#ifndef INF_MODEL_FORWARD_INTERNAL_H
#define INF_MODEL_FORWARD_INTERNAL_H

#include "model/forward.h"
#include "model/model_internal.h"

#include <stddef.h>

/* Per-call scratch of the forward pass, grown on demand: activations of
 * one micro-batch ([n_tokens x dim] row-major) and the attention threads'
 * buffers. Bound to one model (its shapes size the buffers). */
struct forward_ctx {
    const struct model *m;
    int cap_tokens;
    float *x;             /* the residual stream */
    float *h;             /* normed input of a block, then its output */
    float *q, *k, *v, *attn, *gate, *up, *out_rows;
    float *rope_cs;       /* [cap_tokens][2 variants][n_rot/2][cos, sin] */
    int *chunk_idx;       /* token order and groups of the attention plan */
    int cap_threads;
    size_t cap_thread_floats;
    float *thread_buf;    /* cap_threads * cap_thread_floats */
};

/* One work item: up to FORWARD_ATTN_TOKENS query tokens of one sequence
 * (indices into the micro-batch, increasing positions) and one KV head. */
struct attn_item {
    int first;   /* offset into order[] */
    int count;
    int kv_head;
};

/* One micro-batch: tokens [start, start + n) of the batch, and its
 * attention plan: the tokens grouped by sequence (order), cut into runs of
 * at most FORWARD_ATTN_TOKENS, times the KV heads (items). */
struct ubatch {
    const struct model_batch *b;
    int start, n;
    int *order;
    struct attn_item *items;
    int n_items;
};

/* Floats of one attention thread's buffer (attention.c). */
size_t attention_thread_floats(const struct model_hparams *hp);

/* Bias, head norms and RoPE of fc->q/k/v, K/V into the caches, then the
 * attention of every item into fc->attn (attention.c). */
void attention_heads(const struct model *m, struct forward_ctx *fc, const struct ubatch *u, int il,
                     struct threadpool *tp);

#endif
