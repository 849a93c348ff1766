/* test_sample_sampler.c - the sampler's greedy choice and NaN rule against
 * a plain reference loop: every length around the 16-wide blocks of its
 * vectorised arg-max, ties (the lowest id wins), -INFINITY, huge values,
 * NaN anywhere (in a block or in the tail: -1); the repeat penalty moving
 * the greedy choice; and a seeded draw that stays inside top-k. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "sample/sampler.h"
#include "test_util.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

/* The specification: first index of the largest value, -1 on any NaN. */
static int32_t reference_argmax(const float *x, int n)
{
    int32_t best = 0;
    for (int i = 0; i < n; i++) {
        if (isnan(x[i])) return -1;
        if (x[i] > x[best]) best = i;
    }
    return best;
}

static void fill(float *x, int n, int mode)
{
    for (int i = 0; i < n; i++) {
        switch (mode) {
        case 0: x[i] = (float)(rnd() % 2000000) / 1000.0f - 1000.0f; break; /* spread */
        case 1: x[i] = (float)(rnd() % 4); break;                            /* many ties */
        case 2: x[i] = rnd() % 3 ? -INFINITY : (float)(rnd() % 5); break;    /* masked */
        case 3: x[i] = -INFINITY; break;                                     /* all masked */
        default: x[i] = (rnd() & 1 ? 1 : -1) * 3.0e38f * (float)(rnd() % 100) / 100.0f; break;
        }
    }
}

static void test_greedy(void)
{
    struct sampler_params p = { 0 };
    p.seed = 1;
    const int max_n = 300;
    float *x = malloc((size_t)max_n * sizeof *x);
    int cases = 0;
    for (int n = 1; n <= max_n; n += (n < 40 ? 1 : 13)) {
        struct sampler *s = sampler_create(&p, n);
        CHECK(s != NULL);
        for (int mode = 0; mode < 5; mode++) {
            fill(x, n, mode);
            const int32_t want = reference_argmax(x, n);
            CHECK_MSG(sampler_sample(s, x, NULL, 0) == want, "n %d mode %d: want %d", n, mode, want);
            /* a NaN at every position class: start, inside a block, tail */
            const int at[3] = { 0, n / 2, n - 1 };
            for (int k = 0; k < 3; k++) {
                const float keep = x[at[k]];
                x[at[k]] = NAN;
                CHECK_MSG(sampler_sample(s, x, NULL, 0) == -1, "n %d: NaN at %d not seen", n, at[k]);
                x[at[k]] = keep;
            }
            cases++;
        }
        /* the maximum placed last, and a tie between the first and last */
        fill(x, n, 0);
        x[n - 1] = 5000.0f;
        CHECK(sampler_sample(s, x, NULL, 0) == n - 1);
        x[0] = 5000.0f;
        CHECK(sampler_sample(s, x, NULL, 0) == 0);
        sampler_free(s);
    }
    free(x);
    printf("greedy arg-max checked on %d arrays\n", cases);
}

static void test_penalty_and_draw(void)
{
    enum { N = 100 };
    float x[N];
    for (int i = 0; i < N; i++) x[i] = (float)i / 100.0f;
    x[7] = 10.0f;
    x[8] = 9.0f;
    struct sampler_params p = { 0 };
    p.seed = 42;
    p.repeat_penalty = 2.0f;
    p.repeat_last_n = 4;
    struct sampler *s = sampler_create(&p, N);
    const int32_t recent[2] = { 3, 7 };
    CHECK(sampler_sample(s, x, NULL, 0) == 7);
    CHECK(sampler_sample(s, x, recent, 2) == 8); /* 10 / 2 < 9 */
    sampler_free(s);

    p.repeat_penalty = 1.0f;
    p.temperature = 1.0f;
    p.top_k = 2;
    s = sampler_create(&p, N);
    int seen7 = 0, seen8 = 0;
    for (int r = 0; r < 200; r++) {
        const int32_t id = sampler_sample(s, x, NULL, 0);
        CHECK(id == 7 || id == 8);
        seen7 += id == 7;
        seen8 += id == 8;
    }
    CHECK(seen7 > seen8 && seen8 > 0); /* e^1 : 1 odds */
    x[50] = NAN;
    CHECK(sampler_sample(s, x, NULL, 0) == -1);
    sampler_free(s);
}

int main(void)
{
    test_greedy();
    test_penalty_and_draw();
    return TEST_DONE();
}
