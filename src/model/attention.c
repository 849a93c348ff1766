/* attention.c - the attention of one layer over a micro-batch, after the
 * Q/K/V products (forward.c does those and the output projection): bias,
 * q/k head norms and RoPE per token, K/V into each token's cache, then
 * attention per (sequence, KV head, run of tokens) with an online softmax
 * over the cache in blocks of FORWARD_ATTN_BLOCK positions (causal, and
 * the window on sliding-window layers). */
#include "model/forward_internal.h"

#include "tensor/tensor_types.h"
#include "tensor/threadpool.h"
#include "tensor/vec.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

size_t attention_thread_floats(const struct model_hparams *hp)
{
    int gq = hp->n_head / hp->n_head_kv;
    const size_t rows = (size_t)FORWARD_ATTN_TOKENS * (size_t)gq; /* query rows of one item */
    return (size_t)FORWARD_ATTN_BLOCK * (size_t)(hp->head_dim + hp->head_dim_v) /* K, V block in f32 */
           + tensor_attn_scratch_floats(hp->head_dim)                            /* kernel scratch */
           + rows * (size_t)(hp->head_dim_v + 2)                                 /* softmax state */
           + rows * (size_t)hp->head_dim                                         /* gathered queries */
           + 2 * rows;                                                           /* their ranges (int) */
}

static void rope_apply(float *x, int n_rot, const float *cs, enum model_rope_type type)
{
    if (type == MODEL_ROPE_NEOX) {
        int half = n_rot / 2;
        for (int i = 0; i < half; i++) {
            float c = cs[2 * i], s = cs[2 * i + 1];
            float x0 = x[i], x1 = x[i + half];
            x[i] = x0 * c - x1 * s;
            x[i + half] = x0 * s + x1 * c;
        }
    } else {
        for (int i = 0; i < n_rot / 2; i++) {
            float c = cs[2 * i], s = cs[2 * i + 1];
            float x0 = x[2 * i], x1 = x[2 * i + 1];
            x[2 * i] = x0 * c - x1 * s;
            x[2 * i + 1] = x0 * s + x1 * c;
        }
    }
}

/* ---- Q/K/V post-processing ---- */

struct qkv_job {
    const struct model *m;
    const struct model_batch *b;
    int start, n;          /* batch index range of this micro-batch */
    int il;
    int swa;               /* layer uses the sliding-window rope table */
    float *q, *k, *v;
    const float *rope_cs;  /* [n][2][n_rot] */
};

/* One head's key or value row into the cache, in the cache's type. A q8_0
 * row is ggml's Q8_0 (tensor_quantize_row: round to nearest, as llama.cpp
 * stores its q8_0 cache); n is whole blocks (kv_cache_check_type). */
static void store_row(const struct kv_cache *c, void *dst, const float *src, int n)
{
    if (c->type == TENSOR_TYPE_F32) memcpy(dst, src, (size_t)n * sizeof(float));
    else if (c->type == TENSOR_TYPE_F16) tensor_f32_to_f16_row(src, dst, n);
    else tensor_quantize_row(c->type, src, dst, n);
}

static void qkv_job_fn(void *arg, int ith, int nth)
{
    const struct qkv_job *j = arg;
    const struct model_hparams *hp = &j->m->hp;
    const struct model_weights *w = &j->m->w;
    const int hd = hp->head_dim, hdv = hp->head_dim_v;
    const int q_dim = hp->n_head * hd, kv_dim = hp->n_head_kv * hd, v_dim = hp->n_head_kv * hdv;
    const struct model_weight *bq = weights_layer(w, j->il, W_BQ), *bk = weights_layer(w, j->il, W_BK),
                              *bv = weights_layer(w, j->il, W_BV);
    const struct model_weight *qn = weights_layer(w, j->il, W_Q_NORM), *kn = weights_layer(w, j->il, W_K_NORM);
    long long s, e;
    threadpool_split(j->n, ith, nth, &s, &e);
    for (long long i = s; i < e; i++) {
        float *q = j->q + i * q_dim, *k = j->k + i * kv_dim, *v = j->v + i * v_dim;
        if (bq->data) tensor_vec_add_f32(q, q, bq->data, q_dim);
        if (bk->data) tensor_vec_add_f32(k, k, bk->data, kv_dim);
        if (bv->data) tensor_vec_add_f32(v, v, bv->data, v_dim);
        const float *cs = j->rope_cs + ((size_t)i * 2 + (size_t)j->swa) * (size_t)hp->n_rot;
        for (int h = 0; h < hp->n_head; h++) {
            float *qh = q + h * hd;
            if (qn->data) tensor_rmsnorm_f32(qh, qh, qn->data, hd, hp->norm_eps);
            rope_apply(qh, hp->n_rot, cs, hp->rope_type);
        }
        for (int h = 0; h < hp->n_head_kv; h++) {
            float *kh = k + h * hd;
            if (kn->data) tensor_rmsnorm_f32(kh, kh, kn->data, hd, hp->norm_eps);
            rope_apply(kh, hp->n_rot, cs, hp->rope_type);
        }
        const int bi = j->start + (int)i;
        const struct kv_cache *c = j->b->caches[bi];
        const int pos = j->b->pos[bi];
        for (int h = 0; h < hp->n_head_kv; h++) {
            store_row(c, kv_cache_k_row(c, j->il, h, pos), k + h * hd, hd);
            store_row(c, kv_cache_v_row(c, j->il, h, pos), v + h * hdv, hdv);
        }
    }
}

/* ---- attention ---- */

struct attn_job {
    const struct model *m;
    const struct model_batch *b;
    int start;                 /* batch index of micro-batch token 0 */
    int il;
    int swa;                   /* layer uses a sliding window */
    const float *q;            /* [n][n_head * head_dim] */
    float *out;                /* [n][n_head * head_dim_v] */
    const int *order;          /* micro-batch token indices grouped by sequence */
    const struct attn_item *items;
    int n_items;
    float *thread_buf;
    size_t thread_floats;
    struct work_ranges work;   /* items claimed as threadpool.h describes */
};

/* nb consecutive f16 or q8_0 rows of one (layer, head) into f32: the rows
 * are contiguous and a q8_0 row is whole blocks, so they decode as one run. */
static void load_block(const struct kv_cache *c, const void *src, float *dst, int64_t n)
{
    if (c->type == TENSOR_TYPE_F16) tensor_f16_to_f32_row(src, dst, n);
    else tensor_dequantize_row(c->type, src, dst, n);
}

static void attn_job_fn(void *arg, int ith, int nth)
{
    struct attn_job *j = arg;
    const struct model_hparams *hp = &j->m->hp;
    const int hd = hp->head_dim, hdv = hp->head_dim_v;
    const int gq = hp->n_head / hp->n_head_kv;
    const int q_dim = hp->n_head * hd, a_dim = hp->n_head * hdv;
    const size_t max_rows = (size_t)FORWARD_ATTN_TOKENS * (size_t)gq;
    float *buf = j->thread_buf + (size_t)ith * j->thread_floats;
    float *kblk = buf;                                        /* BLOCK x hd */
    float *vblk = kblk + (size_t)FORWARD_ATTN_BLOCK * hd;     /* BLOCK x hdv */
    float *kscratch = vblk + (size_t)FORWARD_ATTN_BLOCK * hdv;
    float *state = kscratch + tensor_attn_scratch_floats(hd); /* per query row: max, sum, acc[hdv] */
    float *qrows = state + max_rows * (size_t)(hdv + 2);      /* the item's query rows, gathered */
    int *lo = (int *)(qrows + max_rows * (size_t)hd), *hi = lo + max_rows;
    const size_t st_stride = (size_t)hdv + 2;

    (void)nth;
    for (long long it; (it = work_ranges_next(&j->work, ith)) >= 0;) {
        const struct attn_item *item = &j->items[it];
        const int *tok = j->order + item->first;
        const int kvh = item->kv_head;
        const int n_rows = item->count * gq; /* row t*gq + g: token t, query head kvh*gq + g */
        const struct kv_cache *c = j->b->caches[j->start + tok[0]];
        /* position range covered by this item */
        int lo_all = INT32_MAX, hi_all = -1;
        for (int t = 0; t < item->count; t++) {
            int p = j->b->pos[j->start + tok[t]];
            int l = j->swa ? (p - hp->n_swa + 1 > 0 ? p - hp->n_swa + 1 : 0) : 0;
            if (l < lo_all) lo_all = l;
            if (p > hi_all) hi_all = p;
            memcpy(qrows + (size_t)t * gq * hd, j->q + (size_t)tok[t] * q_dim + (size_t)kvh * gq * hd,
                   (size_t)gq * hd * sizeof(float));
        }
        for (int r = 0; r < n_rows; r++) {
            float *st = state + (size_t)r * st_stride;
            st[0] = -INFINITY;
            st[1] = 0.0f;
            memset(st + 2, 0, (size_t)hdv * sizeof(float));
        }
        for (int b0 = lo_all; b0 <= hi_all; b0 += FORWARD_ATTN_BLOCK) {
            const int b1 = b0 + FORWARD_ATTN_BLOCK - 1 < hi_all ? b0 + FORWARD_ATTN_BLOCK - 1 : hi_all;
            const int nb = b1 - b0 + 1;
            const float *K, *V;
            if (c->type == TENSOR_TYPE_F32) {
                K = kv_cache_k_row(c, j->il, kvh, b0);
                V = kv_cache_v_row(c, j->il, kvh, b0);
            } else {
                load_block(c, kv_cache_k_row(c, j->il, kvh, b0), kblk, (int64_t)nb * hd);
                load_block(c, kv_cache_v_row(c, j->il, kvh, b0), vblk, (int64_t)nb * hdv);
                K = kblk;
                V = vblk;
            }
            /* each row's visible positions, relative to the block (causal,
             * and the window on sliding-window layers) */
            for (int t = 0; t < item->count; t++) {
                const int p = j->b->pos[j->start + tok[t]];
                const int l = j->swa ? (p - hp->n_swa + 1 > 0 ? p - hp->n_swa + 1 : 0) : 0;
                for (int g = 0; g < gq; g++) {
                    lo[t * gq + g] = l - b0;
                    hi[t * gq + g] = p - b0;
                }
            }
            tensor_attn_block(qrows, (size_t)hd, n_rows, K, V, nb, hd, hdv, lo, hi, hp->attn_scale,
                              hp->attn_logit_softcap, state, st_stride, kscratch);
        }
        for (int t = 0; t < item->count; t++)
            for (int g = 0; g < gq; g++) {
                const int h = kvh * gq + g;
                const float *st = state + ((size_t)t * gq + g) * st_stride;
                float *o = j->out + (size_t)tok[t] * a_dim + (size_t)h * hdv;
                float inv = st[1] > 0.0f ? 1.0f / st[1] : 0.0f;
                for (int d = 0; d < hdv; d++) o[d] = st[2 + d] * inv;
            }
    }
}

void attention_heads(const struct model *m, struct forward_ctx *fc, const struct ubatch *u, int il,
                     struct threadpool *tp)
{
    const int swa = m->layer_swa[il];
    struct qkv_job qj = { m, u->b, u->start, u->n, il, swa, fc->q, fc->k, fc->v, fc->rope_cs };
    if (u->n > 1 && tp) threadpool_run(tp, qkv_job_fn, &qj);
    else qkv_job_fn(&qj, 0, 1);

    struct attn_job aj = { .m = m, .b = u->b, .start = u->start, .il = il, .swa = swa, .q = fc->q,
                           .out = fc->attn, .order = u->order, .items = u->items, .n_items = u->n_items,
                           .thread_buf = fc->thread_buf, .thread_floats = fc->cap_thread_floats };
    work_ranges_init(&aj.work, u->n_items, threadpool_n_threads(tp));
    if (tp && u->n_items > 1) threadpool_run(tp, attn_job_fn, &aj);
    else attn_job_fn(&aj, 0, 1);
}
