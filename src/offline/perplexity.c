/* perplexity.c - llama-perplexity's windowed perplexity over a token
 * sequence or a text (see perplexity.h for the exact procedure). */
#include "offline/perplexity.h"
#include "base/os.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/kv_cache.h"
#include "model/model.h"
#include "tensor/threadpool.h"
#include "text/tokenizer.h"

/* -log p(target) from one row of logits: log-sum-exp in double around the
 * maximum. */
static double token_nll(const float *logits, int n_vocab, int32_t target)
{
    float mx = logits[0];
    for (int i = 1; i < n_vocab; i++)
        if (logits[i] > mx) mx = logits[i];
    double sum = 0;
    for (int i = 0; i < n_vocab; i++) sum += exp((double)logits[i] - mx);
    return log(sum) - ((double)logits[target] - mx);
}

struct ppl_state {
    struct model *m;
    struct forward_ctx *fc;
    struct kv_cache *cache;
    struct threadpool *tp;
    int n_vocab, n_ctx, n_batch;
    int32_t *tok, *pos;
    uint8_t *want;
    struct kv_cache **caches;
    float *logits;
    double nll, nll2;
    int64_t count;
};

/* Evaluates one window (tokens w[0..n_ctx)) and adds the scores of its
 * second half. */
static int eval_window(struct ppl_state *s, const int32_t *w, inf_error *err)
{
    int first = s->n_ctx / 2;
    kv_cache_clear(s->cache);
    for (int b0 = 0; b0 < s->n_ctx; b0 += s->n_batch) {
        int n = s->n_ctx - b0 < s->n_batch ? s->n_ctx - b0 : s->n_batch;
        int n_want = 0;
        for (int i = 0; i < n; i++) {
            int j = b0 + i;
            s->tok[i] = w[j];
            s->pos[i] = j;
            s->caches[i] = s->cache;
            s->want[i] = j >= first && j < s->n_ctx - 1;
            n_want += s->want[i];
        }
        struct model_batch batch = {
            .n_tokens = n, .tokens = s->tok, .pos = s->pos, .caches = s->caches, .want_logits = s->want};
        if (model_forward(s->m, s->fc, &batch, n_want ? s->logits : NULL, s->tp, err) != 0) return -1;
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (!s->want[i]) continue;
            double v = token_nll(s->logits + (size_t)k * (size_t)s->n_vocab, s->n_vocab, w[b0 + i + 1]);
            s->nll += v;
            s->nll2 += v * v;
            s->count++;
            k++;
        }
    }
    return 0;
}

static void summarise(const struct ppl_state *s, struct model_ppl_result *out)
{
    double mean = s->nll / (double)s->count, mean2 = s->nll2 / (double)s->count;
    out->nll = mean;
    out->ppl = exp(mean);
    double var = mean2 - mean * mean;
    out->ppl_err = (var > 0 && s->count > 1) ? sqrt(var / (double)(s->count - 1)) * out->ppl : 0;
    out->n_scored = s->count;
}

static int check_tokens(const int32_t *tokens, size_t n, int n_vocab, inf_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= n_vocab) {
            err_fail(err, INF_ERR_FORMAT, "token %d at index %zu is outside the vocabulary (%d)", tokens[i], i, n_vocab);
            return -1;
        }
    return 0;
}

int model_perplexity(struct model *m, const int32_t *tokens, size_t n_tokens, const struct model_ppl_params *params,
                     struct model_ppl_result *out, inf_error *err)
{
    if (!m || !params || !out || (!tokens && n_tokens)) {
        err_fail(err, INF_ERR_FORMAT, "model_perplexity: missing argument");
        return -1;
    }
    memset(out, 0, sizeof *out);
    struct ppl_state s = {.m = m, .n_vocab = model_hparams(m)->n_vocab};
    s.n_ctx = params->n_ctx > 0 ? params->n_ctx : 512;
    s.n_batch = params->n_batch > 0 ? params->n_batch : 512;
    if (s.n_batch > s.n_ctx) s.n_batch = s.n_ctx;
    if (s.n_ctx < 4) {
        err_fail(err, INF_ERR_FORMAT, "context length %d is too small (need at least 4)", s.n_ctx);
        return -1;
    }
    if (n_tokens < 2 * (size_t)s.n_ctx) {
        err_fail(err, INF_ERR_FORMAT, "the text has %zu tokens; perplexity with a context of %d needs at least %d", n_tokens,
                s.n_ctx, 2 * s.n_ctx);
        return -1;
    }
    if (check_tokens(tokens, n_tokens, s.n_vocab, err)) return -1;
    int n_chunks = (int)(n_tokens / (size_t)s.n_ctx);
    if (params->max_chunks > 0 && n_chunks > params->max_chunks) n_chunks = params->max_chunks;

    int rc = -1;
    int32_t *window = malloc((size_t)s.n_ctx * sizeof *window);
    s.tok = malloc((size_t)s.n_batch * sizeof *s.tok);
    s.pos = malloc((size_t)s.n_batch * sizeof *s.pos);
    s.want = malloc((size_t)s.n_batch);
    s.caches = malloc((size_t)s.n_batch * sizeof *s.caches);
    s.logits = malloc((size_t)s.n_batch * (size_t)s.n_vocab * sizeof(float));
    if (!window || !s.tok || !s.pos || !s.want || !s.caches || !s.logits) {
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    if (!(s.cache = kv_cache_create(m, s.n_ctx, err))) goto done;
    if (!(s.fc = forward_ctx_new(m))) {
        err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    int nt = params->n_threads > 0 ? params->n_threads : os_physical_cores();
    if (nt > 1) s.tp = threadpool_create(nt);

    for (int c = 0; c < n_chunks; c++) {
        memcpy(window, tokens + (size_t)c * (size_t)s.n_ctx, (size_t)s.n_ctx * sizeof *window);
        if (params->replace_bos && params->bos >= 0 && params->bos < s.n_vocab) window[0] = params->bos;
        if (eval_window(&s, window, err)) goto done;
        summarise(&s, out);
        if (params->progress) params->progress(params->progress_user, c + 1, n_chunks, out->ppl);
    }
    out->n_ctx = s.n_ctx;
    out->n_chunks = n_chunks;
    out->n_tokens = (int64_t)n_tokens;
    rc = 0;
done:
    threadpool_free(s.tp);
    forward_ctx_free(s.fc);
    kv_cache_free(s.cache);
    free(window);
    free(s.tok);
    free(s.pos);
    free(s.want);
    free(s.caches);
    free(s.logits);
    return rc;
}

static int load_tokenizer(struct model *m, const char *model_path, struct tokenizer **tok, inf_error *err)
{
    const struct gguf_file *g = model_gguf(m);
    if (g) return tok_load_gguf(g, tok, err);
    if (!model_path) {
        err_fail(err, INF_ERR_FORMAT, "the model has no GGUF metadata and no directory was given for its tokenizer");
        return -1;
    }
    return tok_load_hf_dir(model_path, tok, err);
}

int model_perplexity_text(struct model *m, const char *model_path, const char *text, size_t len,
                          const struct model_ppl_params *params, struct model_ppl_result *out, inf_error *err)
{
    if (!m || !params || !out || (!text && len)) {
        err_fail(err, INF_ERR_FORMAT, "model_perplexity_text: missing argument");
        return -1;
    }
    struct tokenizer *tok = NULL;
    if (load_tokenizer(m, model_path, &tok, err)) return -1;
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = tok_encode(tok, text ? text : "", len, TOK_ADD_SPECIAL, &ids, &n, err);
    if (rc == 0) {
        struct model_ppl_params p = *params;
        p.replace_bos = tok_add_bos(tok);
        p.bos = tok_bos(tok);
        rc = model_perplexity(m, ids, n, &p, out, err);
    }
    free(ids);
    tok_free(tok);
    return rc;
}

int model_perplexity_file(const char *model_path, const char *text, size_t len, const struct model_ppl_params *params,
                          struct model_ppl_result *out, inf_error *err)
{
    struct model *m = NULL;
    if (model_load(model_path, NULL, &m, err) != 0) return -1;
    int rc = model_perplexity_text(m, model_path, text, len, params, out, err);
    model_free(m);
    return rc;
}
