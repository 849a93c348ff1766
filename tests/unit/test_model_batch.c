/* test_model_batch.c - batch semantics, KV cache and load errors.
 *
 *  - several sequences interleaved in one batch give the logits each gets
 *    alone; mixed decode batches likewise; a batch larger than one
 *    micro-batch (FORWARD_UBATCH) equals feeding it in pieces;
 *  - thread count does not change the result (bit for bit);
 *  - kv_cache_truncate / clear, kv_cache_get_keys;
 *  - clear errors: position past the cache (both numbers named), positions
 *    that do not continue the sequence, bad token ids, missing output
 *    buffer, a cache of another model; caches untouched after an error;
 *  - load errors: missing tensor, wrong shape, unsupported tensor type,
 *    vocabulary-only GGUF, missing file;
 *  - tensor-type statistics;
 *  - the model is read-only: forward passes on one model from several
 *    threads at once, each with its own forward context and caches, give
 *    the logits of serial runs bit for bit; a context reused across calls
 *    changes nothing; a context of another model is refused. */
#include "test_util.h"

#include "model/forward.h"
#include "model/model.h"
#include "tensor/tensor_types.h"
#include "tensor/threadpool.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

static char testdata[2048];

static const char *td(const char *rel)
{
    static char buf[4][4096];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", testdata, rel);
    return buf[k];
}

static struct model *load(const char *path, int kv_type)
{
    inf_error err = {0};
    struct model_load_params lp = model_load_params_default();
    lp.kv_type = kv_type;
    struct model *m = NULL;
    if (model_load(path, &lp, &m, &err)) {
        CHECK_MSG(0, "%s", err.message);
        return NULL;
    }
    return m;
}

static double rel_diff(const float *a, const float *b, int n)
{
    float lo = b[0], hi = b[0];
    double md = 0;
    for (int i = 0; i < n; i++) {
        if (b[i] < lo) lo = b[i];
        if (b[i] > hi) hi = b[i];
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= md)) md = d;
    }
    return md / ((double)hi - lo + 1e-30);
}

static int32_t tok_of(int seq, int i, int V) { return (int32_t)((seq * 1009u + i * 7919u + 5u) % (unsigned)(V - 3) + 3u); }

/* Logits of every position of one sequence fed alone, in one batch. */
static float *alone(struct model *m, int seq, int n, struct threadpool *tp)
{
    const int V = model_hparams(m)->n_vocab;
    inf_error err = {0};
    struct kv_cache *c = kv_cache_create(m, 64, &err);
    int32_t t[64], p[64];
    uint8_t w[64];
    struct kv_cache *cs[64];
    for (int i = 0; i < n; i++) {
        t[i] = tok_of(seq, i, V);
        p[i] = i;
        w[i] = 1;
        cs[i] = c;
    }
    float *out = malloc((size_t)n * V * sizeof(float));
    struct model_batch b = { n, t, p, cs, w };
    CHECK_MSG(model_forward(m, NULL, &b, out, tp, &err) == 0, "%s", err.message);
    kv_cache_free(c);
    return out;
}

static void test_multi_sequence(const char *path, struct threadpool *tp)
{
    struct model *m = load(path, TENSOR_TYPE_F32);
    if (!m) return;
    const int V = model_hparams(m)->n_vocab;
    enum { NS = 3 };
    const int len[NS] = { 5, 9, 3 };
    float *ref[NS];
    for (int s = 0; s < NS; s++) ref[s] = alone(m, s, len[s], tp);

    /* prefill of all three, interleaved round-robin, every logit wanted;
     * sequence 1 is split: its first 4 tokens now, the rest decoded below */
    inf_error err = {0};
    struct kv_cache *c[NS];
    for (int s = 0; s < NS; s++) c[s] = kv_cache_create(m, 16, &err);
    int32_t t[32], p[32];
    uint8_t w[32];
    struct kv_cache *cs[32];
    int idx_seq[32], idx_pos[32], n = 0;
    int fed[NS] = { 0 };
    const int first[NS] = { 5, 4, 3 };
    for (int round = 0; round < 9; round++)
        for (int s = 0; s < NS; s++)
            if (fed[s] < first[s]) {
                t[n] = tok_of(s, fed[s], V);
                p[n] = fed[s];
                w[n] = 1;
                cs[n] = c[s];
                idx_seq[n] = s;
                idx_pos[n] = fed[s]++;
                n++;
            }
    float *out = malloc((size_t)n * V * sizeof(float));
    struct model_batch b = { n, t, p, cs, w };
    CHECK_MSG(model_forward(m, NULL, &b, out, tp, &err) == 0, "%s", err.message);
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double d = rel_diff(out + (size_t)i * V, ref[idx_seq[i]] + (size_t)idx_pos[i] * V, V);
        if (d > worst) worst = d;
    }
    CHECK_MSG(worst < 1e-5, "interleaved prefill differs from separate runs by %.3g of the range", worst);
    for (int s = 0; s < NS; s++) CHECK(kv_cache_n_pos(c[s]) == first[s]);
    /* decode: sequence 1 continues alone for 5 steps, in batches where it
     * sits between "finished" sequences that just re-decode nothing */
    double worst_dec = 0;
    for (int step = 4; step < len[1]; step++) {
        int32_t tt = tok_of(1, step, V), pp = step;
        struct kv_cache *cc = c[1];
        struct model_batch bd = { 1, &tt, &pp, &cc, NULL };
        float *o1 = malloc((size_t)V * sizeof(float));
        CHECK_MSG(model_forward(m, NULL, &bd, o1, tp, &err) == 0, "%s", err.message);
        double d = rel_diff(o1, ref[1] + (size_t)step * V, V);
        if (d > worst_dec) worst_dec = d;
        free(o1);
    }
    CHECK_MSG(worst_dec < 1e-5, "decode after interleaved prefill differs by %.3g", worst_dec);
    /* a mixed decode batch: one token each for sequences 0 and 2 (beyond
     * their prompts, compared with a longer separate run), want only seq 2 */
    float *ref0 = alone(m, 0, 6, tp), *ref2 = alone(m, 2, 4, tp);
    int32_t tt[2] = { tok_of(0, 5, V), tok_of(2, 3, V) }, pp[2] = { 5, 3 };
    struct kv_cache *cc[2] = { c[0], c[2] };
    uint8_t ww[2] = { 1, 1 };
    float *o2 = malloc(2 * (size_t)V * sizeof(float));
    struct model_batch bm = { 2, tt, pp, cc, ww };
    CHECK_MSG(model_forward(m, NULL, &bm, o2, tp, &err) == 0, "%s", err.message);
    double d0 = rel_diff(o2, ref0 + 5 * (size_t)V, V), d2 = rel_diff(o2 + V, ref2 + 3 * (size_t)V, V);
    CHECK_MSG(d0 < 1e-5 && d2 < 1e-5, "mixed decode differs: %.3g %.3g", d0, d2);
    printf("%s: interleaved 3-sequence prefill %.2g, decode %.2g, mixed decode %.2g of the range\n",
           model_hparams(m)->arch_name, worst, worst_dec, d0 > d2 ? d0 : d2);
    free(o2);
    free(ref0);
    free(ref2);
    free(out);
    for (int s = 0; s < NS; s++) {
        free(ref[s]);
        kv_cache_free(c[s]);
    }
    model_free(m);
}

/* More tokens than one micro-batch in one call == fed in pieces. */
static void test_big_batch(struct threadpool *tp)
{
    struct model *m = load(td("models/stories260K.gguf"), TENSOR_TYPE_F16);
    if (!m) return;
    const int V = model_hparams(m)->n_vocab, N = FORWARD_UBATCH + 188;
    inf_error err = {0};
    struct kv_cache *c1 = kv_cache_create(m, N, &err), *c2 = kv_cache_create(m, N, &err);
    int32_t *t = malloc(N * sizeof *t), *p = malloc(N * sizeof *p);
    uint8_t *w = calloc(N, 1);
    struct kv_cache **cs = malloc(N * sizeof *cs);
    for (int i = 0; i < N; i++) {
        t[i] = tok_of(0, i, V);
        p[i] = i;
        cs[i] = c1;
    }
    const int wanted[] = { 0, 100, FORWARD_UBATCH - 1, FORWARD_UBATCH, N - 1 };
    const int nw = (int)(sizeof wanted / sizeof wanted[0]);
    for (int k = 0; k < nw; k++) w[wanted[k]] = 1;
    float *big = malloc((size_t)nw * V * sizeof(float));
    struct model_batch b = { N, t, p, cs, w };
    CHECK_MSG(model_forward(m, NULL, &b, big, tp, &err) == 0, "%s", err.message);
    CHECK(kv_cache_n_pos(c1) == N);
    /* pieces of 97 tokens */
    float *piece = malloc((size_t)nw * V * sizeof(float));
    int k = 0;
    for (int s = 0; s < N; s += 97) {
        int n = N - s < 97 ? N - s : 97;
        for (int i = 0; i < n; i++) cs[s + i] = c2;
        struct model_batch bp = { n, t + s, p + s, cs + s, w + s };
        int nwp = 0;
        for (int i = 0; i < n; i++) nwp += w[s + i];
        CHECK_MSG(model_forward(m, NULL, &bp, piece + (size_t)k * V, tp, &err) == 0, "%s", err.message);
        k += nwp;
    }
    double worst = 0;
    for (int i = 0; i < nw; i++) {
        double d = rel_diff(big + (size_t)i * V, piece + (size_t)i * V, V);
        if (d > worst) worst = d;
    }
    CHECK_MSG(worst < 1e-5, "%d-token batch differs from pieces by %.3g", N, worst);
    printf("stories260K: one %d-token batch vs pieces of 97: %.2g of the range\n", N, worst);

    /* threads: the same batch with and without the pool, bit for bit */
    struct kv_cache *c3 = kv_cache_create(m, N, &err);
    for (int i = 0; i < N; i++) cs[i] = c3;
    float *single = malloc((size_t)nw * V * sizeof(float));
    struct threadpool *tp3 = threadpool_create(3);
    CHECK_MSG(model_forward(m, NULL, &b, single, tp3, &err) == 0, "%s", err.message);
    threadpool_free(tp3);
    kv_cache_clear(c3);
    float *st = malloc((size_t)nw * V * sizeof(float));
    CHECK_MSG(model_forward(m, NULL, &b, st, NULL, &err) == 0, "%s", err.message);
    CHECK_MSG(memcmp(single, st, (size_t)nw * V * sizeof(float)) == 0, "3 threads and 1 thread differ");

    /* truncate: rewind to 300 and re-feed; same last logits */
    kv_cache_truncate(c3, 300);
    CHECK(kv_cache_n_pos(c3) == 300);
    for (int i = 0; i < N; i++) w[i] = i == N - 1;
    struct model_batch br = { N - 300, t + 300, p + 300, cs + 300, w + 300 };
    float *last = malloc((size_t)V * sizeof(float));
    CHECK_MSG(model_forward(m, NULL, &br, last, tp, &err) == 0, "%s", err.message);
    CHECK_MSG(rel_diff(last, big + (size_t)(nw - 1) * V, V) < 1e-5, "after truncate: %.3g",
              rel_diff(last, big + (size_t)(nw - 1) * V, V));
    /* keys: post-RoPE, readable for filled positions only */
    float key[256];
    CHECK(kv_cache_get_keys(c3, 0, 0, 0, key) == 0);
    CHECK(kv_cache_get_keys(c3, 0, 0, N - 1, key) == 0);
    CHECK(kv_cache_get_keys(c3, 0, 0, N, key) == -1);
    CHECK(kv_cache_get_keys(c3, model_hparams(m)->n_layer, 0, 0, key) == -1);
    CHECK(kv_cache_get_keys(c3, 0, model_hparams(m)->n_head_kv, 0, key) == -1);
    kv_cache_clear(c3);
    CHECK(kv_cache_n_pos(c3) == 0 && kv_cache_get_keys(c3, 0, 0, 0, key) == -1);

    free(last);
    free(st);
    free(single);
    kv_cache_free(c3);
    free(piece);
    free(big);
    free(t);
    free(p);
    free(w);
    free(cs);
    kv_cache_free(c1);
    kv_cache_free(c2);
    model_free(m);
}

static void test_errors(void)
{
    struct model *m = load(td("models/stories260K.gguf"), TENSOR_TYPE_F16);
    struct model *q = load(td("models/random/qwen3-tiny-q8_0.gguf"), TENSOR_TYPE_F16);
    if (!m || !q) {
        model_free(m);
        model_free(q);
        return;
    }
    inf_error err = {0};
    struct kv_cache *c = kv_cache_create(m, 8, &err);
    float *out = malloc((size_t)model_hparams(m)->n_vocab * 4 * sizeof(float));
    int32_t t[12], p[12];
    struct kv_cache *cs[12];
    for (int i = 0; i < 12; i++) {
        t[i] = 5 + i;
        p[i] = i;
        cs[i] = c;
    }
    struct model_batch b = { 9, t, p, cs, NULL };
    CHECK(model_forward(m, NULL, &b, out, NULL, &err) == -1);
    CHECK_MSG(strstr(err.message, "position 8") && strstr(err.message, "size 8"), "%s", err.message);
    printf("  past the cache      -> %s\n", err.message);
    CHECK(kv_cache_n_pos(c) == 0);
    struct model_batch b2 = { 2, t, p + 2, cs, NULL };
    CHECK(model_forward(m, NULL, &b2, out, NULL, &err) == -1 && strstr(err.message, "next position is 0"));
    printf("  gap in positions    -> %s\n", err.message);
    t[1] = 100000;
    struct model_batch b3 = { 3, t, p, cs, NULL };
    CHECK(model_forward(m, NULL, &b3, out, NULL, &err) == -1 && strstr(err.message, "id 100000"));
    printf("  bad token           -> %s\n", err.message);
    t[1] = 6;
    CHECK(model_forward(m, NULL, &b3, NULL, NULL, &err) == -1 && strstr(err.message, "output buffer"));
    struct kv_cache *cq = kv_cache_create(q, 8, &err);
    struct kv_cache *csq[1] = { cq };
    struct model_batch b4 = { 1, t, p, csq, NULL };
    CHECK(model_forward(m, NULL, &b4, out, NULL, &err) == -1 && strstr(err.message, "another shape"));
    printf("  foreign cache       -> %s\n", err.message);
    CHECK(kv_cache_n_pos(c) == 0);
    /* a valid call after the errors still works; the same cache twice in
     * one batch continues itself */
    struct model_batch b5 = { 8, t, p, cs, NULL };
    CHECK_MSG(model_forward(m, NULL, &b5, out, NULL, &err) == 0, "%s", err.message);
    CHECK(kv_cache_n_pos(c) == 8);
    struct model_batch b6 = { 0, t, p, cs, NULL };
    CHECK(model_forward(m, NULL, &b6, out, NULL, &err) == 0);
    kv_cache_free(c);
    kv_cache_free(cq);
    free(out);

    /* statistics */
    struct model_type_stat st[8];
    int n = model_type_stats(q, st, 8);
    CHECK(n == 2 && st[0].type == TENSOR_TYPE_F32 && st[1].type == TENSOR_TYPE_Q8_0);
    CHECK(model_n_params(q) > 0);
    model_free(q);
    q = load(td("models/random/qwen3-tiny-q4_k_m.gguf"), TENSOR_TYPE_F16);
    if (q) {
        n = model_type_stats(q, st, 8);
        printf("  qwen3-tiny-q4_k_m types:");
        for (int i = 0; i < n && i < 8; i++)
            printf(" %s x%lld (%llu bytes)", tensor_type_name(st[i].type), (long long)st[i].n_tensors,
                   (unsigned long long)st[i].bytes);
        printf("\n");
        CHECK(n >= 3);
        model_free(q);
    }
    model_free(m);
}

/* A copy of stories260K with one header field changed. */
static void load_broken(const char *what, const char *tensor, int field, uint64_t value, const char *want)
{
    size_t n;
    FILE *f = fopen(td("models/stories260K.gguf"), "rb");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n);
    CHECK(fread(buf, 1, n, f) == n);
    fclose(f);
    /* find the tensor-info record: u64 length + name */
    size_t L = strlen(tensor);
    uint8_t *rec = NULL;
    for (size_t i = 0; i + 8 + L < n && i < 20000; i++) {
        uint64_t len;
        memcpy(&len, buf + i, 8);
        if (len == L && memcmp(buf + i + 8, tensor, L) == 0) {
            rec = buf + i;
            break;
        }
    }
    CHECK(rec != NULL);
    if (rec) {
        uint8_t *after = rec + 8 + L; /* n_dims u32, ne[n_dims] u64, type u32, offset u64 */
        uint32_t nd;
        memcpy(&nd, after, 4);
        if (field == 0) rec[8 + 7] = 'x';                     /* rename: blk.2.attn_q -> blk.2.axtn_q */
        if (field == 1) memcpy(after + 4 + 8, &value, 8);     /* ne[1] */
        if (field == 2) {
            uint32_t ty = (uint32_t)value;
            memcpy(after + 4 + 8 * nd, &ty, 4);
        }
        char tmpl[] = "/tmp/test_model_XXXXXX";
        int fd = mkstemp(tmpl);
        CHECK(fd >= 0 && write(fd, buf, n) == (ssize_t)n);
        close(fd);
        inf_error err = {0};
        struct model *m = NULL;
        CHECK(model_load(tmpl, NULL, &m, &err) == -1 && m == NULL);
        CHECK_MSG(strstr(err.message, want) != NULL, "%s: '%s' lacks '%s'", what, err.message, want);
        printf("  %-19s -> %s\n", what, err.message);
        unlink(tmpl);
    }
    free(buf);
}

/* One thread's share of test_concurrent: a whole sequence, its own
 * context and cache, run twice (the second time reusing the context). */
struct conc_job {
    const struct model *m;
    int seq, n;
    float *out;
    int rc;
};

static void *conc_main(void *arg)
{
    struct conc_job *j = arg;
    const int V = model_hparams(j->m)->n_vocab;
    inf_error err = {0};
    struct forward_ctx *fc = forward_ctx_new(j->m);
    j->rc = -1;
    for (int round = 0; round < 2 && fc; round++) {
        struct kv_cache *c = kv_cache_create(j->m, 64, &err);
        int32_t t[64], p[64];
        uint8_t w[64];
        struct kv_cache *cs[64];
        for (int i = 0; i < j->n; i++) {
            t[i] = tok_of(j->seq, i, V);
            p[i] = i;
            w[i] = 1;
            cs[i] = c;
        }
        struct model_batch b = { j->n, t, p, cs, w };
        j->rc = c ? model_forward(j->m, fc, &b, j->out + (size_t)round * j->n * V, NULL, &err) : -1;
        kv_cache_free(c);
        if (j->rc) break;
    }
    forward_ctx_free(fc);
    return NULL;
}

static void test_concurrent(const char *path)
{
    struct model *m = load(path, TENSOR_TYPE_F16);
    if (!m) return;
    const int V = model_hparams(m)->n_vocab, n = 24, T = 4;
    struct conc_job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < T; i++) {
        jobs[i] = (struct conc_job){ m, i, n, malloc((size_t)2 * n * V * sizeof(float)), -1 };
        CHECK(pthread_create(&th[i], NULL, conc_main, &jobs[i]) == 0);
    }
    for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
    int same = 1;
    for (int i = 0; i < T; i++) {
        float *serial = alone(m, i, n, NULL);
        CHECK_MSG(jobs[i].rc == 0, "thread %d failed", i);
        same &= serial && memcmp(serial, jobs[i].out, (size_t)n * V * sizeof(float)) == 0 &&
                memcmp(jobs[i].out, jobs[i].out + (size_t)n * V, (size_t)n * V * sizeof(float)) == 0;
        free(serial);
        free(jobs[i].out);
    }
    CHECK_MSG(same, "%d concurrent forward passes differ from serial ones", T);
    printf("  %d threads at once on one model: %s\n", T, same ? "same logits as serial" : "DIFFERENT");

    /* a context belongs to the model it was made for */
    struct model *other = load(path, TENSOR_TYPE_F16);
    struct forward_ctx *fc = other ? forward_ctx_new(other) : NULL;
    inf_error err = {0};
    struct kv_cache *c = kv_cache_create(m, 8, &err);
    int32_t t0 = 1, p0 = 0;
    struct kv_cache *cs[1] = { c };
    struct model_batch b = { 1, &t0, &p0, cs, NULL };
    float *out = malloc((size_t)V * sizeof(float));
    CHECK(fc && c && model_forward(m, fc, &b, out, NULL, &err) == -1 && strstr(err.message, "another model"));
    CHECK(kv_cache_n_pos(c) == 0);
    free(out);
    kv_cache_free(c);
    forward_ctx_free(fc);
    model_free(other);
    model_free(m);
}

int main(void)
{
    snprintf(testdata, sizeof testdata, "%s", test_data_root());
    if (!test_data_path("models/stories260K.gguf")) TEST_FAIL("testdata absent");
    struct threadpool *tp = threadpool_create(0);
    test_multi_sequence(td("models/random/qwen3-tiny-f32.gguf"), tp);
    test_multi_sequence(td("models/random/gemma3-tiny-q8_0.gguf"), tp);
    test_multi_sequence(td("models/stories260K.gguf"), tp);
    test_big_batch(tp);
    printf("concurrency:\n");
    test_concurrent(td("models/random/qwen3-tiny-f32.gguf"));
    printf("errors:\n");
    test_errors();
    load_broken("missing tensor", "blk.2.attn_q.weight", 0, 0, "missing tensor 'blk.2.attn_q.weight'");
    load_broken("wrong shape", "blk.1.attn_k.weight", 1, 16, "'blk.1.attn_k.weight' has shape [64, 16], expected [64, 32]");
    load_broken("unsupported type", "blk.1.attn_k.weight", 2, TENSOR_TYPE_I8, "type i8");
    inf_error err = {0};
    struct model *m = NULL;
    CHECK(model_load(td("vocab/ggml-vocab-llama2.gguf"), NULL, &m, &err) == -1);
    printf("  vocabulary only     -> %s\n", err.message);
    CHECK(strstr(err.message, "ggml-vocab-llama2.gguf: ") != NULL && strstr(err.message, "vocabulary-only") != NULL &&
          !strstr(err.message, "cannot open"));
    CHECK(model_load("/nonexistent.gguf", NULL, &m, &err) == -1 && strstr(err.message, "/nonexistent.gguf"));
    threadpool_free(tp);
    return TEST_DONE();
}
