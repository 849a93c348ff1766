/* test_tensor_attention.c - tensor_attn_block (vec.h) at every SIMD level
 * against an exact softmax-attention computed in double precision over the
 * same keys and values, fed block by block as the forward pass feeds it:
 * few and many queries (the two score paths), causal and windowed ranges,
 * empty ranges, large scores (the running-max rescale), soft-capping.
 * Also the SwiGLU kernel (the other user of the vector exp) against double
 * precision. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/cpu_features.h"
#include "tensor/kernels.h"
#include "tensor/vec.h"
#include "test_util.h"

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static float frand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 40) / 16777216.0 * 2.0 - 1.0);
}

/* One case: n_q queries over n_pos positions in blocks of 64; query i sees
 * positions [first[i], last[i]]. */
static void check_case(int n_q, int n_pos, int hd, int hdv, float qscale, float cap, int window)
{
    float *q = malloc(sizeof(float) * (size_t)n_q * hd);
    float *k = malloc(sizeof(float) * (size_t)n_pos * hd);
    float *v = malloc(sizeof(float) * (size_t)n_pos * hdv);
    const size_t sts = (size_t)hdv + 2;
    float *st = malloc(sizeof(float) * (size_t)n_q * sts);
    float *scratch = malloc(sizeof(float) * tensor_attn_scratch_floats(hd));
    int *first = malloc(sizeof(int) * (size_t)n_q), *last = malloc(sizeof(int) * (size_t)n_q);
    int *lo = malloc(sizeof(int) * (size_t)n_q), *hi = malloc(sizeof(int) * (size_t)n_q);
    for (int i = 0; i < n_q * hd; i++) q[i] = frand() * qscale;
    for (int i = 0; i < n_pos * hd; i++) k[i] = frand();
    for (int i = 0; i < n_pos * hdv; i++) v[i] = frand();
    for (int i = 0; i < n_q; i++) {
        last[i] = n_pos - 1 - (i * 7) % (n_pos < 9 ? 1 : 9); /* causal-like: later queries see more */
        first[i] = window ? (last[i] - window + 1 > 0 ? last[i] - window + 1 : 0) : 0;
        float *s = st + (size_t)i * sts;
        s[0] = -INFINITY;
        s[1] = 0.0f;
        memset(s + 2, 0, sizeof(float) * (size_t)hdv);
    }
    const float scale = 1.0f / sqrtf((float)hd);
    for (int b0 = 0; b0 < n_pos; b0 += TENSOR_ATTN_BLOCK_MAX) {
        const int nb = n_pos - b0 < TENSOR_ATTN_BLOCK_MAX ? n_pos - b0 : TENSOR_ATTN_BLOCK_MAX;
        for (int i = 0; i < n_q; i++) {
            lo[i] = first[i] - b0;
            hi[i] = last[i] - b0;
        }
        tensor_attn_block(q, (size_t)hd, n_q, k + (size_t)b0 * hd, v + (size_t)b0 * hdv, nb, hd, hdv, lo, hi, scale,
                          cap, st, sts, scratch);
    }
    int bad = 0;
    double *w = malloc(sizeof(double) * (size_t)n_pos);
    for (int i = 0; i < n_q && !bad; i++) {
        double mx = -INFINITY, sum = 0;
        for (int p = first[i]; p <= last[i]; p++) {
            double s = 0;
            for (int d = 0; d < hd; d++) s += (double)q[i * hd + d] * k[p * hd + d];
            s *= scale;
            if (cap > 0) s = cap * tanh(s / cap);
            w[p] = s;
            if (s > mx) mx = s;
        }
        for (int p = first[i]; p <= last[i]; p++) sum += (w[p] = exp(w[p] - mx));
        const float *s = st + (size_t)i * sts;
        for (int d = 0; d < hdv && !bad; d++) {
            double exact = 0, mag = 0;
            for (int p = first[i]; p <= last[i]; p++) {
                exact += w[p] * v[p * hdv + d];
                mag += fabs(w[p] * v[p * hdv + d]);
            }
            exact /= sum;
            mag /= sum;
            const double got = s[2 + d] / s[1];
            if (!(fabs(got - exact) <= 2e-5 * mag + 1e-6)) {
                bad = 1;
                fprintf(stderr, "  level %s n_q %d n_pos %d hd %d hdv %d qscale %g cap %g window %d: q %d d %d got %.8g exact %.8g\n",
                        cpu_level_name(cpu_level()), n_q, n_pos, hd, hdv, qscale, cap, window, i, d, got, exact);
            }
        }
    }
    CHECK_MSG(!bad, "attention at %s", cpu_level_name(cpu_level()));
    free(w);
    free(q); free(k); free(v); free(st); free(scratch); free(first); free(last); free(lo); free(hi);
}

static void check_swiglu(void)
{
    enum { N = 203 };
    float g[N], u[N], y[N];
    int bad = 0;
    for (int rep = 0; rep < 20; rep++) {
        const float mag = rep < 10 ? 4.0f : 100.0f;
        for (int i = 0; i < N; i++) {
            g[i] = frand() * mag;
            u[i] = frand();
        }
        const int n = 1 + rep * 10;
        tensor_swiglu_f32(y, g, u, n);
        for (int i = 0; i < n && !bad; i++) {
            const double exact = (double)g[i] / (1.0 + exp(-(double)g[i])) * u[i];
            if (!(fabs(y[i] - exact) <= 1e-6 * fabs(exact) + 1e-30 || fabs(y[i] - exact) <= 1e-37)) {
                bad = 1;
                fprintf(stderr, "  swiglu level %s: g %.9g u %.9g got %.9g exact %.9g\n", cpu_level_name(cpu_level()),
                        g[i], u[i], y[i], exact);
            }
        }
    }
    CHECK_MSG(!bad, "swiglu at %s", cpu_level_name(cpu_level()));
}

int main(void)
{
    printf("cpu: %s\n", cpu_features_string());
    for (int level = CPU_LEVEL_SCALAR; level <= cpu_level_max(); level++) {
        cpu_set_level(level);
        printf("level %s: kernels %s\n", cpu_level_name(level), kernels_get()->name);
        check_swiglu();
        static const int nq[] = {1, 3, 8, 20};
        static const int npos[] = {1, 17, 64, 65, 200};
        for (size_t a = 0; a < sizeof nq / sizeof nq[0]; a++)
            for (size_t b = 0; b < sizeof npos / sizeof npos[0]; b++) {
                check_case(nq[a], npos[b], 64, 64, 1.0f, 0.0f, 0);
                check_case(nq[a], npos[b], 128, 128, 4.0f, 0.0f, 0);
                check_case(nq[a], npos[b], 64, 64, 1.0f, 0.0f, 37);     /* sliding window */
                check_case(nq[a], npos[b], 256, 256, 30.0f, 0.0f, 0);   /* large scores */
                check_case(nq[a], npos[b], 64, 64, 20.0f, 5.0f, 0);     /* soft-capping */
                check_case(nq[a], npos[b], 24, 40, 1.0f, 0.0f, 0);      /* sizes not a multiple of 16 */
            }
    }
    cpu_set_level(cpu_level_max());
    return TEST_DONE();
}
