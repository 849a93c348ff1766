/* forward.c - one forward pass for every architecture (see forward.h):
 * the batch checked and cut into micro-batches; per micro-batch the
 * embeddings, a plan (RoPE tables, attention work items), then per layer
 * attention() and ffn(), as llama2.c's forward() reads; last, the logits
 * of the tokens that want them. The attention itself is in attention.c. */
#include "model/forward_internal.h"

#include "tensor/matmul.h"
#include "tensor/packed.h"
#include "tensor/tensor_types.h"
#include "tensor/threadpool.h"
#include "tensor/vec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- context */

struct forward_ctx *forward_ctx_new(const struct model *m)
{
    struct forward_ctx *fc = m ? calloc(1, sizeof *fc) : NULL;
    if (fc) fc->m = m;
    return fc;
}

void forward_ctx_free(struct forward_ctx *fc)
{
    if (!fc) return;
    free(fc->x);
    free(fc->h);
    free(fc->q);
    free(fc->k);
    free(fc->v);
    free(fc->attn);
    free(fc->gate);
    free(fc->up);
    free(fc->out_rows);
    free(fc->rope_cs);
    free(fc->chunk_idx);
    free(fc->thread_buf);
    free(fc);
}

static int grow(float **p, size_t n)
{
    float *q = realloc(*p, (n ? n : 1) * sizeof(float));
    if (!q) return -1;
    *p = q;
    return 0;
}

static int ctx_reserve(struct forward_ctx *fc, const struct model_hparams *hp, int n_tokens, int n_threads)
{
    if (n_tokens > fc->cap_tokens) {
        size_t n = (size_t)n_tokens;
        size_t q_dim = (size_t)hp->n_head * (size_t)hp->head_dim;
        size_t kv_dim = (size_t)hp->n_head_kv * (size_t)hp->head_dim;
        size_t v_dim = (size_t)hp->n_head_kv * (size_t)hp->head_dim_v;
        size_t a_dim = (size_t)hp->n_head * (size_t)hp->head_dim_v;
        size_t h_dim = (size_t)hp->n_embd > a_dim ? (size_t)hp->n_embd : a_dim;
        if (grow(&fc->x, n * (size_t)hp->n_embd) || grow(&fc->h, n * h_dim) || grow(&fc->q, n * q_dim) ||
            grow(&fc->k, n * kv_dim) || grow(&fc->v, n * v_dim) || grow(&fc->attn, n * a_dim) ||
            grow(&fc->gate, n * (size_t)hp->n_ff) || grow(&fc->up, n * (size_t)hp->n_ff) ||
            grow(&fc->out_rows, n * (size_t)hp->n_embd) || grow(&fc->rope_cs, n * 2 * (size_t)hp->n_rot))
            return -1;
        int *ci = realloc(fc->chunk_idx, n * 4 * sizeof(int) + 16);
        if (!ci) return -1;
        fc->chunk_idx = ci;
        fc->cap_tokens = n_tokens;
    }
    size_t tf = attention_thread_floats(hp);
    if (n_threads > fc->cap_threads || tf > fc->cap_thread_floats) {
        int nt = n_threads > fc->cap_threads ? n_threads : fc->cap_threads;
        if (grow(&fc->thread_buf, (size_t)nt * tf)) return -1;
        fc->cap_threads = nt;
        fc->cap_thread_floats = tf;
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

static int embed(const struct model *m, struct forward_ctx *fc, const struct ubatch *u, struct threadpool *tp,
                 inf_error *err)
{
    struct embd_job ej = { m, u->b->tokens + u->start, u->n, fc->x, 0 };
    if (u->n > 1 && tp) threadpool_run(tp, embd_job_fn, &ej);
    else embd_job_fn(&ej, 0, 1);
    return ej.failed ? err_fail(err, INF_ERR_FORMAT, "cannot decode token_embd.weight rows") : 0;
}

/* ---------------------------------------------------------------- the plan */

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

/* Per token: variant 0 for global layers, 1 for sliding-window ones
 * (their own base, no linear scaling). */
static void rope_tables(const struct model *m, struct forward_ctx *fc, const struct ubatch *u)
{
    const struct model_hparams *hp = &m->hp;
    const float *factors = hp->has_rope_freqs ? m->w.global[W_ROPE_FREQS].data : NULL;
    for (int i = 0; i < u->n; i++) {
        float p = (float)u->b->pos[u->start + i];
        float *cs = fc->rope_cs + (size_t)i * 2 * (size_t)hp->n_rot;
        rope_table(cs, hp->n_rot, p, hp->rope_freq_base, hp->rope_freq_scale, factors);
        if (hp->n_swa > 0) rope_table(cs + hp->n_rot, hp->n_rot, p, hp->rope_freq_base_swa, 1.0f, factors);
    }
}

/* The tokens grouped by sequence (stable): order[] and group[] of u->n. */
static void group_by_sequence(struct ubatch *u, int *group, int *first_of_group)
{
    const struct model_batch *b = u->b;
    int n_groups = 0;
    for (int i = 0; i < u->n; i++) {
        int g = 0;
        for (; g < n_groups; g++)
            if (b->caches[u->start + first_of_group[g]] == b->caches[u->start + i]) break;
        if (g == n_groups) first_of_group[n_groups++] = i;
        group[i] = g;
    }
    int k = 0;
    for (int g = 0; g < n_groups; g++)
        for (int i = 0; i < u->n; i++)
            if (group[i] == g) u->order[k++] = i;
}

/* Attention work items: runs of FORWARD_ATTN_TOKENS tokens of one
 * sequence, times the KV heads. */
static int plan_attention(const struct model *m, struct forward_ctx *fc, struct ubatch *u, inf_error *err)
{
    const int n = u->n;
    u->order = fc->chunk_idx;
    int *group = u->order + n;
    group_by_sequence(u, group, group + n);
    int runs = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && !(u->items = malloc((size_t)runs * (size_t)m->hp.n_head_kv * sizeof *u->items)))
            return err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        for (int i = 0; i < n;) {
            int g = group[u->order[i]], len = 0;
            while (i + len < n && group[u->order[i + len]] == g && len < FORWARD_ATTN_TOKENS) len++;
            if (pass == 0) runs++;
            else
                for (int h = 0; h < m->hp.n_head_kv; h++) u->items[u->n_items++] = (struct attn_item){ i, len, h };
            i += len;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- the layers */

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

/* x += attention(norm(x)), with the optional post-attention norm. */
static int attention(const struct model *m, struct forward_ctx *fc, const struct ubatch *u, int il,
                     struct threadpool *tp, inf_error *err)
{
    const struct model_hparams *hp = &m->hp;
    const struct model_weights *w = &m->w;
    const int n = u->n;
    const int64_t E = hp->n_embd;
    run_rows(tp, OP_NORM, n, E, fc->h, fc->x, weights_layer(w, il, W_ATTN_NORM)->data, hp->norm_eps);
    const struct model_weight *qkv_w[3] = { weights_layer(w, il, W_Q), weights_layer(w, il, W_K),
                                            weights_layer(w, il, W_V) };
    float *const qkv_y[3] = { fc->q, fc->k, fc->v };
    static const char *const qkv_what[3] = { "attn_q", "attn_k", "attn_v" };
    if (matmul_shared_input(qkv_w, qkv_y, 3, fc->h, n, tp, qkv_what, il, err)) return -1;
    attention_heads(m, fc, u, il, tp);
    if (matmul(weights_layer(w, il, W_O), fc->attn, n, fc->h, tp, "attn_output", il, err)) return -1;
    const struct model_weight *bo = weights_layer(w, il, W_BO);
    if (bo->data)
        for (int i = 0; i < n; i++) tensor_vec_add_f32(fc->h + (size_t)i * E, fc->h + (size_t)i * E, bo->data, E);
    const struct model_weight *pan = weights_layer(w, il, W_POST_ATTN_NORM);
    if (pan->data) run_rows(tp, OP_NORM_ADD, n, E, fc->x, fc->h, pan->data, hp->norm_eps);
    else run_rows(tp, OP_ADD, n, E, fc->x, fc->h, NULL, 0.0f);
    return 0;
}

/* x += down(act(gate(norm(x))) * up(norm(x))), with the optional post-FFN
 * norm; act is SiLU (SwiGLU) or GELU (GeGLU). */
static int ffn(const struct model *m, struct forward_ctx *fc, const struct ubatch *u, int il, struct threadpool *tp,
               inf_error *err)
{
    const struct model_hparams *hp = &m->hp;
    const struct model_weights *w = &m->w;
    const int n = u->n;
    const int64_t E = hp->n_embd;
    run_rows(tp, OP_NORM, n, E, fc->h, fc->x, weights_layer(w, il, W_FFN_NORM)->data, hp->norm_eps);
    const struct model_weight *gu_w[2] = { weights_layer(w, il, W_GATE), weights_layer(w, il, W_UP) };
    float *const gu_y[2] = { fc->gate, fc->up };
    static const char *const gu_what[2] = { "ffn_gate", "ffn_up" };
    if (matmul_shared_input(gu_w, gu_y, 2, fc->h, n, tp, gu_what, il, err)) return -1;
    run_rows(tp, (hp->arch_flags & ARCH_F_GELU) ? OP_GEGLU : OP_SWIGLU, n, hp->n_ff, fc->gate, fc->up, NULL, 0.0f);
    if (matmul(weights_layer(w, il, W_DOWN), fc->gate, n, fc->h, tp, "ffn_down", il, err)) return -1;
    const struct model_weight *pfn = weights_layer(w, il, W_POST_FFN_NORM);
    if (pfn->data) run_rows(tp, OP_NORM_ADD, n, E, fc->x, fc->h, pfn->data, hp->norm_eps);
    else run_rows(tp, OP_ADD, n, E, fc->x, fc->h, NULL, 0.0f);
    return 0;
}

/* Final norm and output projection for the tokens that want logits. */
static int output(const struct model *m, struct forward_ctx *fc, const struct ubatch *u, float *logits,
                  struct threadpool *tp, inf_error *err)
{
    const struct model_hparams *hp = &m->hp;
    const struct model_batch *b = u->b;
    const int64_t E = hp->n_embd;
    int n_out = 0;
    for (int i = 0; i < u->n; i++) {
        int bi = u->start + i;
        int want = b->want_logits ? b->want_logits[bi] != 0 : bi == b->n_tokens - 1;
        if (want) memcpy(fc->h + (size_t)n_out++ * E, fc->x + (size_t)i * E, (size_t)E * sizeof(float));
    }
    if (n_out == 0) return 0;
    run_rows(tp, OP_NORM, n_out, E, fc->out_rows, fc->h, m->w.global[W_OUTPUT_NORM].data, hp->norm_eps);
    if (matmul(&m->w.global[W_OUTPUT], fc->out_rows, n_out, logits, tp, "output", -1, err)) return -1;
    if (hp->final_logit_softcap > 0.0f)
        run_rows(tp, OP_SOFTCAP, n_out, hp->n_vocab, logits, NULL, NULL, hp->final_logit_softcap);
    return 0;
}

static int forward_ubatch(const struct model *m, struct forward_ctx *fc, const struct model_batch *b, int start, int n,
                          float *logits, struct threadpool *tp, inf_error *err)
{
    struct ubatch u = { .b = b, .start = start, .n = n };
    if (embed(m, fc, &u, tp, err) || plan_attention(m, fc, &u, err)) return -1;
    rope_tables(m, fc, &u);
    int rc = 0;
    for (int il = 0; il < m->hp.n_layer && rc == 0; il++)
        if (attention(m, fc, &u, il, tp, err) || ffn(m, fc, &u, il, tp, err)) rc = -1;
    free(u.items);
    return rc ? rc : output(m, fc, &u, logits, tp, err);
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

int model_forward(const struct model *m, struct forward_ctx *fc, const struct model_batch *b, float *logits_out,
                  struct threadpool *tp, inf_error *err)
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
    struct forward_ctx *own = NULL;
    if (rc == 0 && !fc && !(fc = own = forward_ctx_new(m))) rc = err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
    if (rc == 0 && fc->m != m) rc = err_fail(err, INF_ERR_INVALID_ARGUMENT, "forward context made for another model");
    if (rc == 0 && ctx_reserve(fc, hp, ub, nth)) rc = err_fail(err, INF_ERR_NO_MEMORY, "out of memory for activations");

    float *out = logits_out;
    for (int s = 0; rc == 0 && s < b->n_tokens; s += FORWARD_UBATCH) {
        int n = b->n_tokens - s < FORWARD_UBATCH ? b->n_tokens - s : FORWARD_UBATCH;
        rc = forward_ubatch(m, fc, b, s, n, out, tp, err);
        for (int i = s; i < s + n; i++)
            if (b->want_logits ? b->want_logits[i] != 0 : i == b->n_tokens - 1) out += hp->n_vocab;
    }
    if (rc == 0)
        for (size_t i = 0; i < cap; i++)
            if (tab[i].cache) tab[i].cache->n_pos = tab[i].next_pos;
    free(tab);
    forward_ctx_free(own);
    return rc;
}
