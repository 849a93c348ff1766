/* test_tensor_matmul.c - tensor_matmul at every CPU level against the scalar
 * reference kernels, and the scalar reference against a double-precision
 * product of the dequantised weights.
 *
 * Tolerances (stated, and why):
 *  - level vs scalar reference: both quantise the activations identically
 *    (bit-identical, checked below) and integer block sums are exact; only
 *    float accumulation order differs. |y - y_ref| <= 1e-5 * S + 1e-30,
 *    S = sum_j |W[r][j] * x[j]| (the product's absolute mass).
 *  - scalar reference vs exact (double, dequantised W, unquantised x): the
 *    activation quantisation error is bounded per element by half a step
 *    (amax_block / 254) plus the f16 rounding of the block scale (|x| *
 *    2^-11): |y_ref - y| <= sum_j |W_j| * (amax_b(j)/254 + |x_j| * 2^-11)
 *    * 1.001 + 1e-5 * S. F32/F16/BF16 weights use f32 activations: 1e-5*S.
 */
#include "test_util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/cpu_features.h"
#include "tensor/kernels.h" /* internal: kernels_select_ex, to reach every ISA variant */
#include "tensor/matmul.h"
#include "tensor/packed.h"
#include "tensor/tensor_types.h"
#include "tensor/threadpool.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd32(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}
static float frand(void) { return (float)((rnd32() & 0xffffff) / 16777216.0 * 2.0 - 1.0); }
static float gauss(void)
{
    float s = 0;
    for (int i = 0; i < 4; i++) s += frand();
    return s * 0.8660254f;
}

static const int WTYPES[] = {
    TENSOR_TYPE_F32, TENSOR_TYPE_F16, TENSOR_TYPE_BF16, TENSOR_TYPE_Q8_0, TENSOR_TYPE_Q4_0,
    TENSOR_TYPE_Q4_1, TENSOR_TYPE_Q5_0, TENSOR_TYPE_Q5_1, TENSOR_TYPE_Q2_K, TENSOR_TYPE_Q3_K,
    TENSOR_TYPE_Q4_K, TENSOR_TYPE_Q5_K, TENSOR_TYPE_Q6_K,
};
#define N_WTYPES ((int)(sizeof WTYPES / sizeof WTYPES[0]))

static int is_k(int t) { return t >= TENSOR_TYPE_Q2_K && t <= TENSOR_TYPE_Q6_K; }
static int is_float(int t) { return t == TENSOR_TYPE_F32 || t == TENSOR_TYPE_F16 || t == TENSOR_TYPE_BF16; }

/* Offsets (bytes) of the f16 scale fields of a block, -1 terminated, so
 * random-byte blocks get sane finite scales. */
static const int *half_fields(int t)
{
    static const int q4_0[] = {0, -1}, q4_1[] = {0, 2, -1}, q8_0[] = {0, -1};
    static const int q2_k[] = {80, 82, -1}, q3_k[] = {108, -1}, q4_k[] = {0, 2, -1}, q6_k[] = {208, -1};
    switch (t) {
    case TENSOR_TYPE_Q4_0: case TENSOR_TYPE_Q5_0: case TENSOR_TYPE_Q8_0: return q8_0[0] == 0 ? q4_0 : q8_0;
    case TENSOR_TYPE_Q4_1: case TENSOR_TYPE_Q5_1: return q4_1;
    case TENSOR_TYPE_Q2_K: return q2_k;
    case TENSOR_TYPE_Q3_K: return q3_k;
    case TENSOR_TYPE_Q4_K: case TENSOR_TYPE_Q5_K: return q4_k;
    case TENSOR_TYPE_Q6_K: return q6_k;
    default: return NULL;
    }
}

enum wmode { W_QUANT, W_RANDBYTES, W_ZERO, W_EXTREME };
enum xmode { X_GAUSS, X_ZERO, X_BIG, X_SPIKY };

/* Fills rows of weights of type t with stride ws. */
static void make_weights(int t, int64_t rows, int64_t k, size_t ws, unsigned char *w, int mode)
{
    float *tmp = malloc((size_t)k * sizeof(float));
    const int64_t rb = tensor_row_bytes(t, k);
    for (int64_t r = 0; r < rows; r++) {
        unsigned char *row = w + r * ws;
        if (mode == W_ZERO) { memset(row, 0, (size_t)rb); continue; }
        if (mode == W_RANDBYTES && !is_float(t)) {
            for (int64_t i = 0; i < rb; i++) row[i] = (unsigned char)rnd32();
            const int64_t bb = (int64_t)tensor_type_block_bytes(t);
            const int *hf = half_fields(t);
            for (int64_t b = 0; b < rb / bb; b++)
                for (int i = 0; hf[i] >= 0; i++) {
                    uint16_t h = tensor_f32_to_f16(frand() * 0.05f);
                    memcpy(row + b * bb + hf[i], &h, 2);
                }
            continue;
        }
        for (int64_t j = 0; j < k; j++) {
            float v = gauss() * 0.1f;
            if (mode == W_EXTREME) v = (j % 3 == 0) ? 60000.0f * (j % 2 ? -1 : 1) : (j % 3 == 1 ? 1e-3f : -7.0f);
            tmp[j] = v;
        }
        CHECK(tensor_quantize_row(t, tmp, row, k) == rb);
    }
    free(tmp);
}

static void make_x(float *x, int64_t n, int mode)
{
    for (int64_t i = 0; i < n; i++) {
        switch (mode) {
        case X_ZERO: x[i] = 0; break;
        case X_BIG: x[i] = gauss() * 3000.0f; break;
        case X_SPIKY: x[i] = (i % 97 == 5) ? 50.0f * frand() : 0.01f * frand(); break;
        default: x[i] = gauss(); break;
        }
    }
}

static int64_t n_fail_print;

/* Compares one level's result against the scalar reference and the exact
 * product. */
static void check_case(int t, int64_t rows, int64_t k, int64_t n_x, int wmode, int xmode,
                       struct threadpool *tp, int level, int packed)
{
    const int64_t rb = tensor_row_bytes(t, k);
    const size_t ws = (size_t)rb + (rnd32() % 3) * 2; /* odd-ish strides: only 2-byte alignment */
    unsigned char *wbuf = malloc(ws * (size_t)rows + 64);
    unsigned char *w = wbuf + 2; /* misaligned on purpose */
    float *x = malloc((size_t)(k * n_x) * sizeof(float));
    float *y = malloc((size_t)(rows * n_x) * sizeof(float));
    float *yr = malloc((size_t)(rows * n_x) * sizeof(float));
    float *wd = malloc((size_t)k * sizeof(float));
    make_weights(t, rows, k, ws, w, wmode);
    make_x(x, k * n_x, xmode);
    for (int64_t i = 0; i < rows * n_x; i++) y[i] = yr[i] = NAN;
    if (packed) {
        /* the 16-row interleaved copy and its kernels (packed.h) */
        struct packed_matrix *pm = tensor_pack(w, t, rows, k, ws, tp);
        CHECK_MSG(pm != NULL, "tensor_pack %s rows %lld k %lld", tensor_type_name(t), (long long)rows, (long long)k);
        if (pm) {
            CHECK(tensor_matmul_packed(pm, x, k, n_x, y, rows, tp) == 0);
            /* each token alone gives bit-identically its batched result */
            float *y1 = malloc((size_t)rows * sizeof(float));
            for (int64_t tt = 0; tt < n_x; tt++) {
                CHECK(tensor_matmul_packed(pm, x + tt * k, k, 1, y1, rows, NULL) == 0);
                CHECK_MSG(!memcmp(y1, y + tt * rows, (size_t)rows * sizeof(float)),
                          "packed %s: token %lld alone differs from the batch", tensor_type_name(t), (long long)tt);
            }
            free(y1);
            /* a row read back from the packed copy is the dequantised row */
            float *ra = malloc((size_t)k * sizeof(float)), *rb2 = malloc((size_t)k * sizeof(float));
            for (int64_t r = 0; r < rows; r++) {
                CHECK(packed_get_row(pm, r, ra) == 0);
                CHECK(tensor_dequantize_row(t, w + r * ws, rb2, k) == 0);
                CHECK_MSG(!memcmp(ra, rb2, (size_t)k * sizeof(float)), "packed %s: row %lld read back differs",
                          tensor_type_name(t), (long long)r);
            }
            CHECK(packed_get_row(pm, rows, ra) == -1);
            free(ra);
            free(rb2);
            packed_free(pm);
        }
    } else {
        CHECK(tensor_matmul(w, t, rows, k, ws, x, n_x, y, tp) == 0);
    }
    CHECK(tensor_matmul_ref(w, t, rows, k, ws, x, n_x, yr) == 0);
    const int64_t qb = is_k(t) ? 256 : 32;
    int bad = 0;
    for (int64_t r = 0; r < rows && !bad; r++) {
        CHECK(tensor_dequantize_row(t, w + r * ws, wd, k) == 0);
        for (int64_t tt = 0; tt < n_x; tt++) {
            const float *xt = x + tt * k;
            double exact = 0, S = 0, qbound = 0;
            for (int64_t j = 0; j < k; j++) {
                exact += (double)wd[j] * xt[j];
                S += fabs((double)wd[j] * xt[j]);
            }
            if (!is_float(t)) {
                for (int64_t b = 0; b < k / qb; b++) {
                    double amax = 0;
                    for (int64_t j = b * qb; j < (b + 1) * qb; j++) amax = fmax(amax, fabs(xt[j]));
                    for (int64_t j = b * qb; j < (b + 1) * qb; j++)
                        qbound += fabs(wd[j]) * (amax / 254.0 + fabs(xt[j]) * (1.0 / 2048.0));
                }
            }
            const double got = y[tt * rows + r], ref = yr[tt * rows + r];
            /* packed BF16 rounds the activations to bf16 (8 significant
             * bits) for vdpbf16ps, as llama.cpp does */
            const double act_round = packed && t == TENSOR_TYPE_BF16 ? S / 256.0 : 0.0;
            const double tol_lv = 1e-5 * S + act_round + 1e-30;
            const double tol_ex = qbound * 1.001 + 1e-5 * S + act_round + 1e-30;
            if (!(fabs(got - ref) <= tol_lv) || !(fabs(ref - exact) <= tol_ex)) {
                bad = 1;
                if (n_fail_print++ < 20)
                    fprintf(stderr, "  %s level=%s rows=%lld k=%lld n_x=%lld wmode=%d xmode=%d r=%lld t=%lld: "
                            "%sgot %.9g ref %.9g exact %.9g (tol_lv %.3g tol_ex %.3g)\n",
                            tensor_type_name(t), cpu_level_name(level), (long long)rows, (long long)k,
                            (long long)n_x, wmode, xmode, (long long)r, (long long)tt, packed ? "packed: " : "", got, ref, exact, tol_lv, tol_ex);
            }
        }
    }
    CHECK_MSG(!bad, "%s at %s", tensor_type_name(t), cpu_level_name(level));
    free(wbuf); free(x); free(y); free(yr); free(wd);
}

/* The packed (repacked-at-load) kernels against the scalar reference and
 * the exact product: rows that are not a multiple of the 16-row group, one
 * token and many, every weight and activation mode. */
static void test_packed(struct threadpool *tp2)
{
    static const int types[] = {TENSOR_TYPE_F16, TENSOR_TYPE_BF16, TENSOR_TYPE_Q8_0, TENSOR_TYPE_Q4_0,
                                TENSOR_TYPE_Q4_K, TENSOR_TYPE_Q6_K};
    static const int64_t rows_set[] = {1, 16, 37, 70};
    static const int64_t nx_set[] = {1, 2, 7, 8, 9, 21};
    int ran = 0;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const int t = types[ti];
        if (!tensor_pack_supported(t, 512)) {
            printf("packed %s: no packed kernel on this CPU, not tested here\n", tensor_type_name(t));
            continue;
        }
        ran++;
        for (size_t ri = 0; ri < sizeof rows_set / sizeof rows_set[0]; ri++)
            for (size_t ni = 0; ni < sizeof nx_set / sizeof nx_set[0]; ni++)
                for (int wm = W_QUANT; wm <= W_EXTREME; wm++)
                    check_case(t, rows_set[ri], (ni & 1) ? 512 : 256, nx_set[ni], wm, (int)((ri + ni + wm) % 4),
                               (ni & 2) ? tp2 : NULL, cpu_level(), 1);
    }
    printf("packed kernels tested for %d types\n", ran);
}

/* Several products of one activation matrix in one run
 * (tensor_matmul_packed_multi, used for Q/K/V and gate/up): each output
 * bit-identical to its own tensor_matmul_packed, with mixed types that
 * share an activation format (Q4_K with Q6_K, as Q4_K_M files mix them)
 * and row counts that are not multiples of 16; mismatches are refused. */
static void test_packed_multi(struct threadpool *tp2)
{
    static const int sets[][3] = {
        {TENSOR_TYPE_Q4_0, TENSOR_TYPE_Q4_0, TENSOR_TYPE_Q8_0},
        {TENSOR_TYPE_Q4_K, TENSOR_TYPE_Q4_K, TENSOR_TYPE_Q6_K},
        {TENSOR_TYPE_F16, TENSOR_TYPE_F16, TENSOR_TYPE_F16},
    };
    static const int64_t rows[3] = {70, 16, 37};
    const int64_t k = 512;
    int ran = 0;
    for (size_t si = 0; si < sizeof sets / sizeof sets[0]; si++) {
        int ok = 1;
        for (int i = 0; i < 3; i++) ok = ok && tensor_pack_supported(sets[si][i], k);
        if (!ok) continue;
        ran++;
        struct packed_matrix *pm[3];
        unsigned char *w[3];
        for (int i = 0; i < 3; i++) {
            const size_t ws = (size_t)tensor_row_bytes(sets[si][i], k);
            w[i] = malloc(ws * (size_t)rows[i]);
            make_weights(sets[si][i], rows[i], k, ws, w[i], W_QUANT);
            pm[i] = tensor_pack(w[i], sets[si][i], rows[i], k, ws, tp2);
            CHECK(pm[i] != NULL);
        }
        for (int64_t n_x = 1; n_x <= 21; n_x += 10) {
            float *x = malloc((size_t)(n_x * k) * sizeof *x);
            make_x(x, n_x * k, X_GAUSS);
            float *ya[3], *yb[3];
            struct packed_product prods[3];
            for (int i = 0; i < 3; i++) {
                ya[i] = calloc((size_t)(n_x * rows[i]), sizeof(float));
                yb[i] = calloc((size_t)(n_x * rows[i]), sizeof(float));
                prods[i] = (struct packed_product){ pm[i], ya[i], rows[i] };
            }
            CHECK(tensor_matmul_packed_multi(prods, 3, x, k, n_x, tp2) == 0);
            for (int i = 0; i < 3; i++) {
                CHECK(tensor_matmul_packed(pm[i], x, k, n_x, yb[i], rows[i], NULL) == 0);
                CHECK_MSG(!memcmp(ya[i], yb[i], (size_t)(n_x * rows[i]) * sizeof(float)),
                          "packed multi %s: product %d differs from its own run", tensor_type_name(sets[si][i]), i);
            }
            for (int i = 0; i < 3; i++) {
                free(ya[i]);
                free(yb[i]);
            }
            free(x);
        }
        for (int i = 0; i < 3; i++) {
            packed_free(pm[i]);
            free(w[i]);
        }
    }
    /* refused, each alone: a different activation format (same k), a
     * different k (same type), too many matrices, none */
    if (tensor_pack_supported(TENSOR_TYPE_Q4_0, 256) && tensor_pack_supported(TENSOR_TYPE_Q4_K, 256)) {
        const size_t ws4 = (size_t)tensor_row_bytes(TENSOR_TYPE_Q4_0, 512);
        const size_t wsk = (size_t)tensor_row_bytes(TENSOR_TYPE_Q4_K, 256);
        unsigned char *wa = malloc(ws4 * 16), *wb = malloc(wsk * 16);
        make_weights(TENSOR_TYPE_Q4_0, 16, 512, ws4, wa, W_QUANT);
        make_weights(TENSOR_TYPE_Q4_K, 16, 256, wsk, wb, W_QUANT);
        /* a Q4_0 matrix of k 256 reads the first halves of wa's rows */
        struct packed_matrix *q4_256 = tensor_pack(wa, TENSOR_TYPE_Q4_0, 16, 256, ws4, NULL);
        struct packed_matrix *q4_512 = tensor_pack(wa, TENSOR_TYPE_Q4_0, 16, 512, ws4, NULL);
        struct packed_matrix *qk = tensor_pack(wb, TENSOR_TYPE_Q4_K, 16, 256, wsk, NULL);
        CHECK(q4_256 && q4_512 && qk);
        float x[512] = {0}, y[2][16];
        struct packed_product fmt[2] = { { q4_256, y[0], 16 }, { qk, y[1], 16 } };
        CHECK(tensor_matmul_packed_multi(fmt, 2, x, 512, 1, NULL) == -1);
        struct packed_product ks[2] = { { q4_256, y[0], 16 }, { q4_512, y[1], 16 } };
        CHECK(tensor_matmul_packed_multi(ks, 2, x, 512, 1, NULL) == -1);
        struct packed_product five[5] = { { qk, y[0], 16 }, { qk, y[1], 16 }, { qk, y[0], 16 }, { qk, y[1], 16 },
                                          { qk, y[0], 16 } };
        CHECK(tensor_matmul_packed_multi(five, 5, x, 256, 1, NULL) == -1);
        CHECK(tensor_matmul_packed_multi(five, 0, x, 256, 1, NULL) == -1);
        CHECK(tensor_matmul_packed_multi(five, 4, x, 256, 1, NULL) == 0);
        packed_free(q4_256);
        packed_free(q4_512);
        packed_free(qk);
        free(wa);
        free(wb);
    }
    printf("packed multi-product runs tested for %d type sets\n", ran);
}

static void test_level(int level, struct threadpool *tp2)
{
    static const int64_t shapes[][3] = { /* rows, k-blocks-of-256, n_x */
        {1, 1, 1}, {37, 1, 1}, {64, 2, 3}, {7, 4, 5}, {130, 3, 8}, {33, 2, 13}, {5, 1, 17},
    };
    for (int ti = 0; ti < N_WTYPES; ti++) {
        const int t = WTYPES[ti];
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            int64_t k = shapes[s][1] * 256;
            check_case(t, shapes[s][0], k, shapes[s][2], W_QUANT, X_GAUSS, s % 2 ? tp2 : NULL, level, 0);
        }
        /* k of one 32-block for the 32-block and float types; odd k for floats */
        if (!is_k(t)) {
            check_case(t, 9, 32, 3, W_QUANT, X_GAUSS, NULL, level, 0);
            check_case(t, 9, 64, 6, W_QUANT, X_GAUSS, tp2, level, 0);
        }
        if (is_float(t)) {
            check_case(t, 11, 1, 2, W_QUANT, X_GAUSS, NULL, level, 0);
            check_case(t, 11, 47, 5, W_QUANT, X_GAUSS, tp2, level, 0);
            check_case(t, 3, 1000, 4, W_QUANT, X_GAUSS, NULL, level, 0);
        }
        /* edge cases */
        check_case(t, 19, 512, 3, W_RANDBYTES, X_GAUSS, tp2, level, 0);
        check_case(t, 19, 512, 5, W_RANDBYTES, X_SPIKY, NULL, level, 0);
        check_case(t, 8, 256, 2, W_ZERO, X_GAUSS, NULL, level, 0);
        check_case(t, 8, 256, 2, W_QUANT, X_ZERO, tp2, level, 0);
        check_case(t, 8, 256, 3, W_EXTREME, X_BIG, NULL, level, 0);
        check_case(t, 8, 256, 6, W_QUANT, X_BIG, tp2, level, 0);
    }
}

/* Results must not depend on the thread count (each output is computed by
 * one thread with the same kernel). */
static void test_thread_independence(void)
{
    struct threadpool *pools[3] = {NULL, threadpool_create(2), threadpool_create(3)};
    const int64_t rows = 301, k = 512, n_x = 11;
    for (int ti = 0; ti < N_WTYPES; ti++) {
        const int t = WTYPES[ti];
        const size_t ws = (size_t)tensor_row_bytes(t, k);
        unsigned char *w = malloc(ws * rows);
        float *x = malloc(sizeof(float) * k * n_x), *y[3];
        make_weights(t, rows, k, ws, w, W_QUANT);
        make_x(x, k * n_x, X_GAUSS);
        for (int p = 0; p < 3; p++) {
            y[p] = malloc(sizeof(float) * rows * n_x);
            CHECK(tensor_matmul(w, t, rows, k, ws, x, n_x, y[p], pools[p]) == 0);
        }
        CHECK_MSG(!memcmp(y[0], y[1], sizeof(float) * rows * n_x) && !memcmp(y[0], y[2], sizeof(float) * rows * n_x),
                  "%s differs with thread count", tensor_type_name(t));
        /* and with n_x = 1 per token (GEMV path) */
        float *y1 = malloc(sizeof(float) * rows);
        int same = 1;
        for (int64_t tt = 0; tt < n_x; tt++) {
            CHECK(tensor_matmul(w, t, rows, k, ws, x + tt * k, 1, y1, pools[1]) == 0);
            if (memcmp(y1, y[0] + tt * rows, sizeof(float) * rows)) same = 0;
        }
        CHECK_MSG(same, "%s: GEMV differs from the batched result", tensor_type_name(t));
        free(y1);
        for (int p = 0; p < 3; p++) free(y[p]);
        free(w); free(x);
    }
    for (int p = 0; p < 3; p++) threadpool_free(pools[p]);
}

static void test_ex_and_errors(void)
{
    const int64_t rows = 10, k = 64, n_x = 3, ldx = 80, ldy = 17;
    const int t = TENSOR_TYPE_Q8_0;
    const size_t ws = (size_t)tensor_row_bytes(t, k);
    unsigned char *w = malloc(ws * rows);
    float x[3 * 80], y[3 * 17], yc[3 * 10], xc[3 * 64];
    make_weights(t, rows, k, ws, w, W_QUANT);
    make_x(x, 3 * 80, X_GAUSS);
    for (int i = 0; i < 3; i++) memcpy(xc + i * k, x + i * ldx, sizeof(float) * k);
    for (int i = 0; i < 3 * 17; i++) y[i] = -12345.0f;
    CHECK(tensor_matmul_ex(w, t, rows, k, ws, x, ldx, n_x, y, ldy, NULL) == 0);
    CHECK(tensor_matmul(w, t, rows, k, ws, xc, n_x, yc, NULL) == 0);
    int ok = 1;
    for (int i = 0; i < 3; i++) {
        if (memcmp(y + i * ldy, yc + i * rows, sizeof(float) * rows)) ok = 0;
        for (int r = rows; r < ldy; r++) if (y[i * ldy + r] != -12345.0f) ok = 0;
    }
    CHECK(ok);
    /* errors */
    CHECK(tensor_matmul(w, t, rows, 48, ws, xc, n_x, yc, NULL) == -1);          /* k not a block multiple */
    CHECK(tensor_matmul(w, TENSOR_TYPE_IQ2_XXS, rows, 256, ws, xc, 1, yc, NULL) == -1); /* unsupported */
    CHECK(tensor_matmul(w, TENSOR_TYPE_Q8_K, rows, 256, 292, xc, 1, yc, NULL) == -1);   /* activation type */
    CHECK(tensor_matmul(w, t, rows, k, ws - 1, xc, n_x, yc, NULL) == -1);       /* stride too small */
    CHECK(tensor_matmul(w, 99, rows, k, ws, xc, n_x, yc, NULL) == -1);
    CHECK(tensor_matmul(w, t, 0, k, ws, xc, n_x, yc, NULL) == 0);
    CHECK(tensor_matmul(w, t, rows, k, ws, xc, 0, yc, NULL) == 0);
    free(w);
}

int main(void)
{
    const int max = cpu_level_max();
    printf("cpu: %s\n", cpu_features_string());
    struct threadpool *tp2 = threadpool_create(2);
    CHECK(tp2 != NULL);
    /* every level the CPU has, and each ISA variant within a level */
    static const unsigned variants[] = {KERNELS_NO_AVXVNNI | KERNELS_NO_AVX512VNNI, KERNELS_NO_AVX512VNNI, 0};
    for (int level = CPU_LEVEL_SCALAR; level <= max; level++) {
        const char *last = "";
        for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
            const char *name = kernels_select_ex(level, variants[v]);
            if (!strcmp(name, last) && v) continue;
            last = name;
            printf("level %s: kernels %s\n", cpu_level_name(level), name);
            test_level(level, tp2);
            test_thread_independence();
        }
    }
    cpu_set_level(max);
    test_packed(tp2);
    test_packed_multi(tp2);
    test_ex_and_errors();
    threadpool_free(tp2);
    return TEST_DONE();
}
