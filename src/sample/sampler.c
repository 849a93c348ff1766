/* sampler.c - see sampler.h. */
#include "sample/sampler.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct candidate {
    int32_t id;
    float logit;
    float p;
} candidate;

struct sampler {
    struct sampler_params params;
    int n_vocab;
    uint64_t rng;
    float *work;          /* logits after the penalty */
    candidate *cand;
};

/* splitmix64: small, fast, and good enough to draw one number per token. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *state)
{
    return (double)(next_random(state) >> 11) * (1.0 / 9007199254740992.0);
}

struct sampler *sampler_create(const struct sampler_params *p, int n_vocab)
{
    if (!p || n_vocab <= 0) return NULL;
    struct sampler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->params = *p;
    s->n_vocab = n_vocab;
    s->work = malloc((size_t)n_vocab * sizeof *s->work);
    s->cand = malloc((size_t)n_vocab * sizeof *s->cand);
    if (!s->work || !s->cand) {
        sampler_free(s);
        return NULL;
    }
    if (p->seed == UINT64_MAX) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s->rng = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)(uintptr_t)s;
    } else {
        s->rng = p->seed;
    }
    return s;
}

void sampler_free(struct sampler *s)
{
    if (!s) return;
    free(s->work);
    free(s->cand);
    free(s);
}

/* llama.cpp's penalty: a seen token's positive logit is divided by the
 * penalty, a negative one multiplied, once however often it was seen. */
static void apply_repeat_penalty(struct sampler *s, const int32_t *recent, size_t n_recent)
{
    float penalty = s->params.repeat_penalty;
    if (penalty == 0.0f || penalty == 1.0f || s->params.repeat_last_n <= 0) return;
    size_t window = (size_t)s->params.repeat_last_n;
    size_t start = n_recent > window ? n_recent - window : 0;
    for (size_t i = start; i < n_recent; i++) {
        int32_t id = recent[i];
        if (id < 0 || id >= s->n_vocab) continue;
        bool seen_before = false;
        for (size_t j = start; j < i && !seen_before; j++) seen_before = recent[j] == id;
        if (seen_before) continue;
        float *l = &s->work[id];
        *l = *l > 0 ? *l / penalty : *l * penalty;
    }
}

static int by_logit_desc(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->logit > y->logit) return -1;
    if (x->logit < y->logit) return 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Softmax of cand[0..n) (sorted, so cand[0] holds the maximum) into .p. */
static void softmax(candidate *cand, size_t n, float temperature)
{
    double sum = 0;
    float max = cand[0].logit;
    for (size_t i = 0; i < n; i++) {
        cand[i].p = expf((cand[i].logit - max) / temperature);
        sum += cand[i].p;
    }
    for (size_t i = 0; i < n; i++) cand[i].p = (float)(cand[i].p / sum);
}

/* Index of the largest of x[0..n) (the first of equals), or -1 when one is
 * NaN. A plain running arg-max is a serial compare chain (2.9 % of the
 * profile samples of a 0.6B model's 2-thread decode, 150k vocabulary), so:
 * lane-wise maxima in 4 x 4 lanes of GCC/Clang 16-byte vector types (plain
 * SSE2 or NEON compares, no CPU dispatch needed), then one search for the
 * first position holding the maximum. NaN: v != v is true in its lane. */
#if defined(__GNUC__)
typedef float argmax_vf __attribute__((vector_size(16)));
typedef int32_t argmax_vi __attribute__((vector_size(16)));

/* lane-wise: m = v > m ? v : m, and nan |= (v != v) */
static inline void argmax_step(argmax_vf *m, argmax_vi *nan, const float *x)
{
    argmax_vf v;
    memcpy(&v, x, sizeof v);
    const argmax_vi gt = v > *m;
    *nan |= v != v;
    *m = (argmax_vf)(((argmax_vi)v & gt) | ((argmax_vi)*m & ~gt));
}
#endif

static int32_t argmax_or_nan(const float *x, int n)
{
    float best = -INFINITY;
    int nan_seen = 0, i = 0;
#if defined(__GNUC__)
    const argmax_vf ninf = { -INFINITY, -INFINITY, -INFINITY, -INFINITY };
    argmax_vf m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
    argmax_vi nan = { 0, 0, 0, 0 };
    for (; i + 16 <= n; i += 16) {
        argmax_step(&m0, &nan, x + i);
        argmax_step(&m1, &nan, x + i + 4);
        argmax_step(&m2, &nan, x + i + 8);
        argmax_step(&m3, &nan, x + i + 12);
    }
    for (int j = 0; j < 4; j++) {
        const float l = m0[j] > m1[j] ? m0[j] : m1[j], r = m2[j] > m3[j] ? m2[j] : m3[j];
        best = l > best ? l : best;
        best = r > best ? r : best;
        nan_seen |= nan[j];
    }
#endif
    for (; i < n; i++) {
        nan_seen |= x[i] != x[i];
        best = x[i] > best ? x[i] : best;
    }
    if (nan_seen) return -1;
    for (i = 0; i < n; i++)
        if (x[i] == best) return i;
    return 0; /* n == 0 */
}

int32_t sampler_sample(struct sampler *s, const float *logits, const int32_t *recent, size_t n_recent)
{
    int n = s->n_vocab;
    const float penalty = s->params.repeat_penalty;
    const bool penalised = penalty != 0.0f && penalty != 1.0f && s->params.repeat_last_n > 0 && n_recent > 0;
    const bool greedy = s->params.temperature <= 0.0f;
    /* Greedy without a penalty reads the logits as they are: no copy of the
     * whole row per token. */
    const float *work = logits;
    if (penalised || !greedy) {
        memcpy(s->work, logits, (size_t)n * sizeof *logits);
        apply_repeat_penalty(s, recent, n_recent);
        work = s->work;
    }

    const int32_t best = argmax_or_nan(work, n);
    if (best < 0 || greedy) return best;

    /* Tokens more than 30 (in temperature-scaled logits) below the best have
     * relative probability under 1e-13: dropping them before the sort changes
     * no draw in practice and spares sorting the whole vocabulary. */
    float max_logit = s->work[best];
    float cutoff = max_logit - 30.0f * (s->params.temperature > 1.0f ? s->params.temperature : 1.0f);
    size_t kept = 0;
    for (int i = 0; i < n; i++)
        if (s->work[i] >= cutoff) s->cand[kept++] = (candidate){i, s->work[i], 0};
    qsort(s->cand, kept, sizeof *s->cand, by_logit_desc);
    if (s->params.top_k > 0 && (size_t)s->params.top_k < kept) kept = (size_t)s->params.top_k;

    if (s->params.top_p > 0.0f && s->params.top_p < 1.0f) {
        softmax(s->cand, kept, 1.0f);
        double cum = 0;
        for (size_t i = 0; i < kept; i++) {
            cum += s->cand[i].p;
            if (cum >= s->params.top_p) {
                kept = i + 1;
                break;
            }
        }
    }
    if (s->params.min_p > 0.0f) {
        softmax(s->cand, kept, 1.0f);
        float floor_p = s->params.min_p * s->cand[0].p;
        size_t i = 1;
        while (i < kept && s->cand[i].p >= floor_p) i++;
        kept = i;
    }
    softmax(s->cand, kept, s->params.temperature);
    double r = uniform01(&s->rng), cum = 0;
    for (size_t i = 0; i < kept; i++) {
        cum += s->cand[i].p;
        if (r < cum) return s->cand[i].id;
    }
    return s->cand[kept - 1].id;
}
