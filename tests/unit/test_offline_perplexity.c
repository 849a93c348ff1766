/* test_offline_perplexity.c - src/model/perplexity.c on stories260K:
 *   - model_perplexity over BOS + the model's own 256 greedy ids equals an
 *     independent recomputation here (token-by-token forward, our own
 *     log-softmax and llama-perplexity's window/scoring rules), including
 *     the "+/-" figure; the model predicts its own greedy text well (PPL < 2);
 *   - batch size does not change the result;
 *   - model_perplexity_text over stories260K.reference_output.txt twice with
 *     windows of 64 equals llama.cpp's value for the same procedure
 *     (1.75456, computed with node-llama-cpp 3.21.1 by
 *     tests/scripts/test_offline_quantize_llamacpp.mjs; that script test recomputes it
 *     live for several quantised files);
 *   - bad input is refused with a message. */
#include "test_util.h"

#include "model/kv_cache.h"
#include "model/model.h"
#include "offline/perplexity.h"

#include <math.h>
#include <stdint.h>

static int load_ids(const char *path, int32_t *ids, int max)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0, v;
    while (n < max && fscanf(f, "%d", &v) == 1) ids[n++] = v;
    fclose(f);
    return n;
}

/* Independent: one token per forward call, log-softmax in long double. */
static int reference_ppl(struct model *m, const int32_t *toks, int n_tokens, int n_ctx, double *ppl, double *err_out)
{
    int V = model_hparams(m)->n_vocab, n_chunks = n_tokens / n_ctx, first = n_ctx / 2;
    inf_error err = {0};
    struct kv_cache *c = kv_cache_create(m, n_ctx, &err);
    float *logits = malloc((size_t)V * sizeof *logits);
    double sum = 0, sum2 = 0;
    long count = 0;
    int rc = c && logits ? 0 : -1;
    for (int ch = 0; ch < n_chunks && rc == 0; ch++) {
        kv_cache_clear(c);
        for (int j = 0; j < n_ctx - 1 && rc == 0; j++) {
            int32_t t = j == 0 ? 1 : toks[ch * n_ctx + j]; /* BOS first */
            int32_t pos = j;
            struct kv_cache *cs[1] = {c};
            struct model_batch b = {1, &t, &pos, cs, NULL};
            rc = model_forward(m, NULL, &b, logits, NULL, &err);
            if (rc || j < first) continue;
            long double mx = logits[0], s = 0;
            for (int i = 1; i < V; i++) mx = logits[i] > mx ? logits[i] : mx;
            for (int i = 0; i < V; i++) s += expl((long double)logits[i] - mx);
            double nll = (double)(logl(s) - ((long double)logits[toks[ch * n_ctx + j + 1]] - mx));
            sum += nll;
            sum2 += nll * nll;
            count++;
        }
    }
    kv_cache_free(c);
    free(logits);
    if (rc || count < 2) return -1;
    double mean = sum / count, var = sum2 / count - mean * mean;
    *ppl = exp(mean);
    *err_out = sqrt(var / (count - 1)) * *ppl;
    return 0;
}

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = malloc(1 << 16);
    size_t n = b ? fread(b, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (b) b[n] = 0;
    *len = n;
    return b;
}

int main(void)
{
    const char *mp = test_data_path("models/stories260K.gguf");
    if (!mp) TEST_FAIL("stories260K.gguf absent");
    char model_path[4096];
    snprintf(model_path, sizeof model_path, "%s", mp);
    const char *ip = test_data_path("models/stories260K.greedy_ids.txt");
    if (!ip) TEST_FAIL("stories260K.greedy_ids.txt absent");
    int32_t toks[300];
    toks[0] = 1;
    int n = 1 + load_ids(ip, toks + 1, 256);
    CHECK(n == 257);

    inf_error err = {0};
    struct model *m = NULL;
    if (model_load(model_path, NULL, &m, &err)) TEST_FAIL("cannot load: %s", err.message);

    struct model_ppl_params p = {.n_ctx = 64, .n_threads = 2, .replace_bos = true, .bos = 1};
    struct model_ppl_result r;
    CHECK(model_perplexity(m, toks, (size_t)n, &p, &r, &err) == 0);
    CHECK(r.n_chunks == 4 && r.n_scored == 4 * 31 && r.n_ctx == 64 && r.n_tokens == 257);
    double ref = 0, ref_err = 0;
    CHECK(reference_ppl(m, toks, n, 64, &ref, &ref_err) == 0);
    printf("stories260K on its own greedy text: PPL %.6f +/- %.6f (reference %.6f +/- %.6f)\n", r.ppl, r.ppl_err, ref,
           ref_err);
    CHECK_MSG(fabs(r.ppl - ref) <= 1e-4 * ref, "ppl %.6f vs reference %.6f", r.ppl, ref);
    CHECK_MSG(fabs(r.ppl_err - ref_err) <= 1e-3 * ref_err + 1e-9, "err %.6f vs %.6f", r.ppl_err, ref_err);
    CHECK(r.ppl >= 1.0 && r.ppl < 2.0);

    struct model_ppl_result r7;
    p.n_batch = 7;
    CHECK(model_perplexity(m, toks, (size_t)n, &p, &r7, &err) == 0);
    CHECK_MSG(fabs(r7.ppl - r.ppl) <= 1e-5 * r.ppl, "batch 7: %.6f vs %.6f", r7.ppl, r.ppl);
    p.n_batch = 0;
    p.max_chunks = 2;
    CHECK(model_perplexity(m, toks, (size_t)n, &p, &r7, &err) == 0 && r7.n_chunks == 2);
    p.max_chunks = 0;

    /* llama.cpp's value for the same text and procedure */
    const char *tp = test_data_path("models/stories260K.reference_output.txt");
    if (tp) {
        size_t len = 0;
        char *one = read_text(tp, &len);
        char *two = one ? malloc(2 * len + 1) : NULL;
        if (two) {
            memcpy(two, one, len);
            memcpy(two + len, one, len);
            two[2 * len] = 0;
            struct model_ppl_result rt;
            CHECK(model_perplexity_text(m, model_path, two, 2 * len, &p, &rt, &err) == 0);
            printf("stories260K on its reference text x2, ctx 64: PPL %.5f +/- %.5f over %lld tokens (llama.cpp 1.75456)\n",
                   rt.ppl, rt.ppl_err, (long long)rt.n_tokens);
            CHECK(rt.n_tokens == 517 && rt.n_scored == 248);
            CHECK_MSG(fabs(rt.ppl - 1.7545559) <= 2e-3 * 1.7545559, "ppl %.6f vs llama.cpp 1.754556", rt.ppl);
        }
        free(one);
        free(two);
    }

    /* bad input */
    err.message[0] = 0;
    CHECK(model_perplexity(m, toks, 100, &p, &r, &err) == -1);
    CHECK(strstr(err.message, "needs at least 128") != NULL);
    int32_t bad[128];
    for (int i = 0; i < 128; i++) bad[i] = i == 77 ? 99999 : 5;
    CHECK(model_perplexity(m, bad, 128, &p, &r, &err) == -1);
    CHECK(strstr(err.message, "99999") != NULL);
    p.n_ctx = 2;
    CHECK(model_perplexity(m, toks, (size_t)n, &p, &r, &err) == -1);
    CHECK(model_perplexity(m, NULL, 10, &p, &r, &err) == -1);
    CHECK(model_perplexity_text(m, model_path, "too short", 9, &p, &r, &err) == -1);

    model_free(m);
    return TEST_DONE();
}
