/* forward.c - one forward pass for every architecture (see forward.h). */
#include "model/forward.h"

#include "model/model_internal.h"
#include "tensor/matmul.h"
#include "tensor/packed.h"
#include "tensor/tensor_types.h"
#include "tensor/threadpool.h"
#include "tensor/vec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- scratch */

void forward_scratch_free(struct forward_scratch *fs)
{
    free(fs->x);
    free(fs->h);
    free(fs->q);
    free(fs->k);
    free(fs->v);
    free(fs->attn);
    free(fs->gate);
    free(fs->up);
    free(fs->out_rows);
    free(fs->rope_cs);
    free(fs->chunk_idx);
    free(fs->thread_buf);
    memset(fs, 0, sizeof *fs);
}

static int grow(float **p, size_t n)
{
    float *q = realloc(*p, (n ? n : 1) * sizeof(float));
    if (!q) return -1;
    *p = q;
    return 0;
}

static size_t thread_floats(const struct model_hparams *hp)
{
    int gq = hp->n_head / hp->n_head_kv;
    const size_t rows = (size_t)FORWARD_ATTN_TOKENS * (size_t)gq; /* query rows of one item */
    return (size_t)FORWARD_ATTN_BLOCK * (size_t)(hp->head_dim + hp->head_dim_v) /* K, V block in f32 */
           + tensor_attn_scratch_floats(hp->head_dim)                            /* kernel scratch */
           + rows * (size_t)(hp->head_dim_v + 2)                                 /* softmax state */
           + rows * (size_t)hp->head_dim                                         /* gathered queries */
           + 2 * rows;                                                           /* their ranges (int) */
}

static int scratch_reserve(struct model *m, int n_tokens, int n_threads)
{
    struct forward_scratch *fs = &m->fs;
    const struct model_hparams *hp = &m->hp;
    if (n_tokens > fs->cap_tokens) {
        size_t n = (size_t)n_tokens;
        size_t q_dim = (size_t)hp->n_head * (size_t)hp->head_dim;
        size_t kv_dim = (size_t)hp->n_head_kv * (size_t)hp->head_dim;
        size_t v_dim = (size_t)hp->n_head_kv * (size_t)hp->head_dim_v;
        size_t a_dim = (size_t)hp->n_head * (size_t)hp->head_dim_v;
        size_t h_dim = (size_t)hp->n_embd > a_dim ? (size_t)hp->n_embd : a_dim;
        if (grow(&fs->x, n * (size_t)hp->n_embd) || grow(&fs->h, n * h_dim) || grow(&fs->q, n * q_dim) ||
            grow(&fs->k, n * kv_dim) || grow(&fs->v, n * v_dim) || grow(&fs->attn, n * a_dim) ||
            grow(&fs->gate, n * (size_t)hp->n_ff) || grow(&fs->up, n * (size_t)hp->n_ff) ||
            grow(&fs->out_rows, n * (size_t)hp->n_embd) || grow(&fs->rope_cs, n * 2 * (size_t)hp->n_rot))
            return -1;
        int *ci = realloc(fs->chunk_idx, n * 4 * sizeof(int) + 16);
        if (!ci) return -1;
        fs->chunk_idx = ci;
        fs->cap_tokens = n_tokens;
    }
    size_t tf = thread_floats(hp);
    if (n_threads > fs->cap_threads || tf > fs->cap_thread_floats) {
        int nt = n_threads > fs->cap_threads ? n_threads : fs->cap_threads;
        if (grow(&fs->thread_buf, (size_t)nt * tf)) return -1;
        fs->cap_threads = nt;
        fs->cap_thread_floats = tf;
    }
    return 0;
}

/* ---------------------------------------------------------------- per-row jobs */

enum row_op { OP_NORM, OP_NORM_ADD, OP_ADD, OP_SWIGLU, OP_GEGLU, OP_SOFTCAP };

struct row_job {
    enum row_op op;
    int n_rows;
    int64_t dim;
    float *y;        /* OP_NORM: out; OP_NORM_ADD / OP_ADD: residual (+=); act: gate (in/out) */
    float *x;        /* input rows (OP_NORM*, OP_ADD; OP_NORM_ADD normalises them in place); act: up */
    const float *w;  /* norm weight */
    float eps;       /* norm eps / softcap value */
};

static void row_job_fn(void *arg, int ith, int nth)
{
    const struct row_job *j = arg;
    long long s, e;
    threadpool_split(j->n_rows, ith, nth, &s, &e);
    for (long long r = s; r < e; r++) {
        float *y = j->y + r * j->dim;
        const float *x = j->x ? j->x + r * j->dim : NULL;
        switch (j->op) {
        case OP_NORM: tensor_rmsnorm_f32(y, x, j->w, j->dim, j->eps); break;
        case OP_NORM_ADD: {
            float *t = j->x + r * j->dim;
            tensor_rmsnorm_f32(t, t, j->w, j->dim, j->eps);
            tensor_vec_add_f32(y, y, t, j->dim);
            break;
        }
        case OP_ADD: tensor_vec_add_f32(y, y, x, j->dim); break;
        case OP_SWIGLU: tensor_swiglu_f32(y, y, x, j->dim); break;
        case OP_GEGLU: tensor_geglu_f32(y, y, x, j->dim); break;
        case OP_SOFTCAP:
            for (int64_t i = 0; i < j->dim; i++) y[i] = j->eps * tanhf(y[i] / j->eps);
            break;
        }
    }
}

static void run_rows(struct threadpool *tp, enum row_op op, int n_rows, int64_t dim, float *y, float *x,
                     const float *w, float eps)
{
    struct row_job j = { op, n_rows, dim, y, x, w, eps };
    if (n_rows <= 1 || !tp) row_job_fn(&j, 0, 1);
    else threadpool_run(tp, row_job_fn, &j);
}

/* ---------------------------------------------------------------- RoPE */

/* cos/sin of every rotated pair for one position, as ggml computes them:
 * theta_i = freq_scale * pos * base^(-2i/n_rot) / factor_i, with the powers
 * obtained by repeated float multiplication. */
static void rope_table(float *cs, int n_rot, float pos, float base, float freq_scale, const float *factors)
{
    const float theta_scale = powf(base, -2.0f / (float)n_rot);
    float theta = pos;
    for (int i = 0; i < n_rot / 2; i++) {
        float ff = factors ? factors[i] : 1.0f;
        float th = freq_scale * (theta / ff);
        cs[2 * i] = cosf(th);
        cs[2 * i + 1] = sinf(th);
        theta *= theta_scale;
    }
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

/* ---------------------------------------------------------------- Q/K/V post-processing */

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

/* ---------------------------------------------------------------- attention */

/* One work item: up to FORWARD_ATTN_TOKENS query tokens of one sequence
 * (indices into the micro-batch, increasing positions) and one KV head. */
struct attn_item {
    int first;   /* offset into order[] */
    int count;
    int kv_head;
};

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

/* ---------------------------------------------------------------- embedding */

struct embd_job {
    const struct model *m;
    const int32_t *tokens;
    int n;
    float *x;
    int failed;
};

static void embd_job_fn(void *arg, int ith, int nth)
{
    struct embd_job *j = arg;
    const struct model_weight *te = &j->m->w.global[W_TOK_EMBD];
    /* a tied output matrix that was packed also serves the lookups (its
     * mapped original has been released, see model_pack_weights) */
    const struct packed_matrix *pk = j->m->hp.tied_output ? j->m->w.global[W_OUTPUT].packed : NULL;
    const int64_t d = j->m->hp.n_embd;
    long long s, e;
    threadpool_split(j->n, ith, nth, &s, &e);
    for (long long i = s; i < e; i++) {
        const char *row = (const char *)te->data + (size_t)j->tokens[i] * te->row_stride;
        if (pk ? packed_get_row(pk, j->tokens[i], j->x + i * d) != 0
               : tensor_dequantize_row(te->type, row, j->x + i * d, d) != 0)
            j->failed = 1;
        if (j->m->hp.embd_scale != 1.0f) tensor_vec_scale_f32(j->x + i * d, j->m->hp.embd_scale, d);
    }
}

/* ---------------------------------------------------------------- one micro-batch */

static int matmul(const struct model_weight *w, const float *x, int n, float *y, struct threadpool *tp,
                  const char *what, int il, inf_error *err)
{
    const int rc = w->packed ? tensor_matmul_packed(w->packed, x, w->ne[0], n, y, w->ne[1], tp)
                             : tensor_matmul(w->data, w->type, w->ne[1], w->ne[0], w->row_stride, x, n, y, tp);
    if (rc != 0)
        return err_fail(err, INF_ERR_FORMAT, "matrix multiplication failed (%s, layer %d, type %s)", what, il,
                         tensor_type_name(w->type));
    return 0;
}

/* Products of the same activations x with several matrices (Q, K, V; gate,
 * up). When all are packed they go through one pool run (one activation
 * quantisation, one synchronisation; tensor/packed.h), which refuses
 * matrices it cannot combine; then, or when one is not packed, one matmul
 * each. Results are the same either way. */
static int matmul_shared_input(const struct model_weight *const *ws, float *const *ys, int count, const float *x,
                               int n, struct threadpool *tp, const char *const *what, int il, inf_error *err)
{
    struct packed_product prods[4];
    int all_packed = count <= 4;
    for (int i = 0; i < count && all_packed; i++) {
        all_packed = ws[i]->packed != NULL;
        prods[i] = (struct packed_product){ ws[i]->packed, ys[i], ws[i]->ne[1] };
    }
    if (all_packed && tensor_matmul_packed_multi(prods, count, x, ws[0]->ne[0], n, tp) == 0) return 0;
    for (int i = 0; i < count; i++)
        if (matmul(ws[i], x, n, ys[i], tp, what[i], il, err)) return -1;
    return 0;
}

static int forward_ubatch(struct model *m, const struct model_batch *b, int start, int n, float *logits,
                          struct threadpool *tp, inf_error *err)
{
    const struct model_hparams *hp = &m->hp;
    const struct model_weights *w = &m->w;
    struct forward_scratch *fs = &m->fs;
    const int64_t E = hp->n_embd;

    /* embeddings */
    struct embd_job ej = { m, b->tokens + start, n, fs->x, 0 };
    if (n > 1 && tp) threadpool_run(tp, embd_job_fn, &ej);
    else embd_job_fn(&ej, 0, 1);
    if (ej.failed) return err_fail(err, INF_ERR_FORMAT, "cannot decode token_embd.weight rows");

    /* RoPE tables: variant 0 global, 1 sliding-window (local base, no linear scaling) */
    const float *factors = hp->has_rope_freqs ? w->global[W_ROPE_FREQS].data : NULL;
    for (int i = 0; i < n; i++) {
        float p = (float)b->pos[start + i];
        float *cs = fs->rope_cs + (size_t)i * 2 * (size_t)hp->n_rot;
        rope_table(cs, hp->n_rot, p, hp->rope_freq_base, hp->rope_freq_scale, factors);
        if (hp->n_swa > 0) rope_table(cs + hp->n_rot, hp->n_rot, p, hp->rope_freq_base_swa, 1.0f, factors);
    }

    /* attention work items: tokens grouped by sequence (stable), split into
     * runs of FORWARD_ATTN_TOKENS, times the KV heads */
    int *order = fs->chunk_idx;          /* n */
    int *group = order + n;              /* n: group id per token */
    int n_groups = 0;
    {
        int *first_of_group = group + n; /* n */
        for (int i = 0; i < n; i++) {
            int g = 0;
            for (; g < n_groups; g++)
                if (b->caches[start + first_of_group[g]] == b->caches[start + i]) break;
            if (g == n_groups) first_of_group[n_groups++] = i;
            group[i] = g;
        }
        int k = 0;
        for (int g = 0; g < n_groups; g++)
            for (int i = 0; i < n; i++)
                if (group[i] == g) order[k++] = i;
    }
    int n_items = 0;
    struct attn_item *items = NULL;
    {
        int runs = 0;
        for (int i = 0; i < n;) {
            int g = group[order[i]], len = 0;
            while (i + len < n && group[order[i + len]] == g && len < FORWARD_ATTN_TOKENS) len++;
            runs++;
            i += len;
        }
        items = malloc((size_t)runs * (size_t)hp->n_head_kv * sizeof *items);
        if (!items) return err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        for (int i = 0; i < n;) {
            int g = group[order[i]], len = 0;
            while (i + len < n && group[order[i + len]] == g && len < FORWARD_ATTN_TOKENS) len++;
            for (int h = 0; h < hp->n_head_kv; h++) items[n_items++] = (struct attn_item){ i, len, h };
            i += len;
        }
    }

    int rc = 0;
    for (int il = 0; il < hp->n_layer && rc == 0; il++) {
        const int swa = m->layer_swa[il];
        /* attention block */
        run_rows(tp, OP_NORM, n, E, fs->h, fs->x, weights_layer(w, il, W_ATTN_NORM)->data, hp->norm_eps);
        const struct model_weight *qkv_w[3] = { weights_layer(w, il, W_Q), weights_layer(w, il, W_K),
                                                weights_layer(w, il, W_V) };
        float *const qkv_y[3] = { fs->q, fs->k, fs->v };
        static const char *const qkv_what[3] = { "attn_q", "attn_k", "attn_v" };
        if (matmul_shared_input(qkv_w, qkv_y, 3, fs->h, n, tp, qkv_what, il, err)) {
            rc = -1;
            break;
        }
        struct qkv_job qj = { m, b, start, n, il, swa, fs->q, fs->k, fs->v, fs->rope_cs };
        if (n > 1 && tp) threadpool_run(tp, qkv_job_fn, &qj);
        else qkv_job_fn(&qj, 0, 1);

        struct attn_job aj = { .m = m, .b = b, .start = start, .il = il, .swa = swa, .q = fs->q,
                               .out = fs->attn, .order = order, .items = items, .n_items = n_items,
                               .thread_buf = fs->thread_buf, .thread_floats = fs->cap_thread_floats };
        work_ranges_init(&aj.work, n_items, threadpool_n_threads(tp));
        if (tp && n_items > 1) threadpool_run(tp, attn_job_fn, &aj);
        else attn_job_fn(&aj, 0, 1);

        if (matmul(weights_layer(w, il, W_O), fs->attn, n, fs->h, tp, "attn_output", il, err)) {
            rc = -1;
            break;
        }
        const struct model_weight *bo = weights_layer(w, il, W_BO);
        if (bo->data)
            for (int i = 0; i < n; i++) tensor_vec_add_f32(fs->h + (size_t)i * E, fs->h + (size_t)i * E, bo->data, E);
        const struct model_weight *pan = weights_layer(w, il, W_POST_ATTN_NORM);
        if (pan->data) run_rows(tp, OP_NORM_ADD, n, E, fs->x, fs->h, pan->data, hp->norm_eps);
        else run_rows(tp, OP_ADD, n, E, fs->x, fs->h, NULL, 0.0f);

        /* feed-forward block */
        run_rows(tp, OP_NORM, n, E, fs->h, fs->x, weights_layer(w, il, W_FFN_NORM)->data, hp->norm_eps);
        const struct model_weight *gu_w[2] = { weights_layer(w, il, W_GATE), weights_layer(w, il, W_UP) };
        float *const gu_y[2] = { fs->gate, fs->up };
        static const char *const gu_what[2] = { "ffn_gate", "ffn_up" };
        if (matmul_shared_input(gu_w, gu_y, 2, fs->h, n, tp, gu_what, il, err)) {
            rc = -1;
            break;
        }
        run_rows(tp, (hp->arch_flags & ARCH_F_GELU) ? OP_GEGLU : OP_SWIGLU, n, hp->n_ff, fs->gate, fs->up, NULL,
                 0.0f);
        if (matmul(weights_layer(w, il, W_DOWN), fs->gate, n, fs->h, tp, "ffn_down", il, err)) {
            rc = -1;
            break;
        }
        const struct model_weight *pfn = weights_layer(w, il, W_POST_FFN_NORM);
        if (pfn->data) run_rows(tp, OP_NORM_ADD, n, E, fs->x, fs->h, pfn->data, hp->norm_eps);
        else run_rows(tp, OP_ADD, n, E, fs->x, fs->h, NULL, 0.0f);
    }
    free(items);
    if (rc) return rc;

    /* output: only the rows that want logits */
    int n_out = 0;
    for (int i = 0; i < n; i++) {
        int bi = start + i;
        int want = b->want_logits ? b->want_logits[bi] != 0 : bi == b->n_tokens - 1;
        if (want) memcpy(fs->h + (size_t)n_out++ * E, fs->x + (size_t)i * E, (size_t)E * sizeof(float));
    }
    if (n_out == 0) return 0;
    run_rows(tp, OP_NORM, n_out, E, fs->out_rows, fs->h, w->global[W_OUTPUT_NORM].data, hp->norm_eps);
    if (matmul(&w->global[W_OUTPUT], fs->out_rows, n_out, logits, tp, "output", -1, err)) return -1;
    if (hp->final_logit_softcap > 0.0f)
        run_rows(tp, OP_SOFTCAP, n_out, hp->n_vocab, logits, NULL, NULL, hp->final_logit_softcap);
    return 0;
}

/* ---------------------------------------------------------------- batch validation */

struct cache_slot {
    struct kv_cache *cache;
    int next_pos;
};

static struct cache_slot *slot_of(struct cache_slot *tab, size_t cap, struct kv_cache *c)
{
    size_t h = ((uintptr_t)c >> 4) * 0x9E3779B97F4A7C15ull;
    for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (tab[i].cache == c) return &tab[i];
        if (!tab[i].cache) {
            tab[i].cache = c;
            tab[i].next_pos = c->n_pos;
            return &tab[i];
        }
    }
}

int model_forward(struct model *m, const struct model_batch *b, float *logits_out, struct threadpool *tp,
                  inf_error *err)
{
    const struct model_hparams *hp = &m->hp;
    inf_error_clear(err);
    if (!b || b->n_tokens < 0) return err_fail(err, INF_ERR_FORMAT, "invalid batch");
    if (b->n_tokens == 0) return 0;
    if (!b->tokens || !b->pos || !b->caches)
        return err_fail(err, INF_ERR_FORMAT, "batch of %d tokens lacks tokens, positions or caches", b->n_tokens);

    size_t cap = 16;
    while (cap < (size_t)b->n_tokens * 2) cap *= 2;
    struct cache_slot *tab = calloc(cap, sizeof *tab);
    if (!tab) return err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
    int n_want = 0, rc = 0;
    for (int i = 0; i < b->n_tokens && rc == 0; i++) {
        int32_t tok = b->tokens[i], pos = b->pos[i];
        struct kv_cache *c = b->caches[i];
        if (tok < 0 || tok >= hp->n_vocab) {
            rc = err_fail(err, INF_ERR_FORMAT, "token %d: id %d is out of range (vocabulary of %d)", i, (int)tok, hp->n_vocab);
            break;
        }
        if (!c) {
            rc = err_fail(err, INF_ERR_FORMAT, "token %d: no KV cache", i);
            break;
        }
        if (c->n_layer != hp->n_layer || c->n_head_kv != hp->n_head_kv || c->head_dim != hp->head_dim ||
            c->head_dim_v != hp->head_dim_v) {
            rc = err_fail(err, INF_ERR_FORMAT, "token %d: KV cache was made for a model of another shape", i);
            break;
        }
        if (pos < 0 || pos >= c->n_ctx) {
            rc = err_fail(err, INF_ERR_FORMAT, "token %d: position %d is past the end of its KV cache (size %d)", i,
                           (int)pos, c->n_ctx);
            break;
        }
        struct cache_slot *s = slot_of(tab, cap, c);
        if (pos != s->next_pos) {
            rc = err_fail(err, INF_ERR_FORMAT, "token %d: position %d does not continue its sequence (next position is %d)", i, (int)pos,
                           s->next_pos);
            break;
        }
        s->next_pos++;
        if (b->want_logits ? b->want_logits[i] != 0 : i == b->n_tokens - 1) n_want++;
    }
    if (rc == 0 && n_want > 0 && !logits_out) rc = err_fail(err, INF_ERR_FORMAT, "logits wanted but no output buffer");
    int nth = threadpool_n_threads(tp);
    int ub = b->n_tokens < FORWARD_UBATCH ? b->n_tokens : FORWARD_UBATCH;
    if (rc == 0 && scratch_reserve(m, ub, nth)) rc = err_fail(err, INF_ERR_NO_MEMORY, "out of memory for activations");

    float *out = logits_out;
    for (int s = 0; rc == 0 && s < b->n_tokens; s += FORWARD_UBATCH) {
        int n = b->n_tokens - s < FORWARD_UBATCH ? b->n_tokens - s : FORWARD_UBATCH;
        rc = forward_ubatch(m, b, s, n, out, tp, err);
        for (int i = s; i < s + n; i++)
            if (b->want_logits ? b->want_logits[i] != 0 : i == b->n_tokens - 1) out += hp->n_vocab;
    }
    if (rc == 0)
        for (size_t i = 0; i < cap; i++)
            if (tab[i].cache) tab[i].cache->n_pos = tab[i].next_pos;
    free(tab);
    return rc;
}
