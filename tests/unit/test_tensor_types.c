/* test_tensor_types.c - type table, f16/bf16 conversions (exhaustive against
 * the F16C hardware where present), row sizes, and quantise -> dequantise
 * round trips for every quantiser with per-type error bounds. */
#include "test_util.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/cpu_features.h"
#include "tensor/tensor_types.h"
#include "tensor/vec.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
__attribute__((target("f16c"))) static float hw_h2f(uint16_t h) { return _cvtsh_ss(h); }
__attribute__((target("f16c"))) static uint16_t hw_f2h(float f) { return _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT); }
#define HAVE_HW 1
#endif

static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static uint64_t rng = 12345;
static uint32_t rnd32(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)(rng >> 16); }
static float frand(void) { return (float)((rnd32() & 0xffffff) / 16777216.0 * 2.0 - 1.0); }

static void test_table(void)
{
    static const struct { int id; const char *name; int64_t bs; size_t bb; } T[] = {
        {0, "f32", 1, 4}, {1, "f16", 1, 2}, {2, "q4_0", 32, 18}, {3, "q4_1", 32, 20}, {6, "q5_0", 32, 22},
        {7, "q5_1", 32, 24}, {8, "q8_0", 32, 34}, {9, "q8_1", 32, 36}, {10, "q2_K", 256, 84},
        {11, "q3_K", 256, 110}, {12, "q4_K", 256, 144}, {13, "q5_K", 256, 176}, {14, "q6_K", 256, 210},
        {15, "q8_K", 256, 292}, {30, "bf16", 1, 2}, {16, "iq2_xxs", 256, 66}, {20, "iq4_nl", 32, 18},
        {23, "iq4_xs", 256, 136}, {24, "i8", 1, 1}, {28, "f64", 1, 8}, {35, "tq2_0", 256, 66}, {39, "mxfp4", 32, 17},
    };
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        CHECK_STREQ(tensor_type_name(T[i].id), T[i].name);
        CHECK(tensor_type_from_name(T[i].name) == T[i].id);
        CHECK(tensor_type_block_size(T[i].id) == T[i].bs);
        CHECK(tensor_type_block_bytes(T[i].id) == T[i].bb);
        CHECK(tensor_type_is_known(T[i].id));
        CHECK(tensor_row_bytes(T[i].id, T[i].bs * 7) == (int64_t)T[i].bb * 7);
    }
    CHECK(tensor_type_from_name("Q4_K") == TENSOR_TYPE_Q4_K);
    CHECK(tensor_type_from_name("BF16") == TENSOR_TYPE_BF16);
    CHECK(tensor_type_from_name("q4_k_m") == -1);
    CHECK(tensor_type_from_name(NULL) == -1);
    CHECK_STREQ(tensor_type_name(4), "q4_2"); /* removed, still named */
    CHECK(tensor_type_block_size(4) == 0);
    CHECK_STREQ(tensor_type_name(-1), "unknown");
    CHECK_STREQ(tensor_type_name(40), "unknown");
    CHECK_STREQ(tensor_type_name(1000), "unknown");
    CHECK(!tensor_type_is_known(40));
    /* supported set */
    static const int sup[] = {0, 1, 30, 2, 3, 6, 7, 8, 10, 11, 12, 13, 14};
    int nsup = 0;
    for (int t = -2; t < 45; t++) nsup += tensor_type_is_supported(t);
    CHECK(nsup == (int)(sizeof sup / sizeof sup[0]));
    for (size_t i = 0; i < sizeof sup / sizeof sup[0]; i++) CHECK(tensor_type_is_supported(sup[i]));
    CHECK(!tensor_type_is_supported(TENSOR_TYPE_IQ2_XXS));
    CHECK(tensor_type_can_quantize(TENSOR_TYPE_Q8_K) && tensor_type_can_quantize(TENSOR_TYPE_Q8_1));
    /* row bytes errors */
    CHECK(tensor_row_bytes(TENSOR_TYPE_Q4_0, 33) == -1);
    CHECK(tensor_row_bytes(TENSOR_TYPE_Q4_K, 128) == -1);
    CHECK(tensor_row_bytes(TENSOR_TYPE_Q4_K, -256) == -1);
    CHECK(tensor_row_bytes(99, 32) == -1);
    CHECK(tensor_row_bytes(5, 32) == -1);
    CHECK(tensor_row_bytes(TENSOR_TYPE_F32, 0) == 0);
    CHECK(tensor_row_bytes(TENSOR_TYPE_Q8_0, INT64_MAX / 32 * 32) == -1); /* overflow */
}

static void test_f16(void)
{
    /* every half: f16 -> f32 exact (vs hardware), and back unchanged */
    int ok_hw = 1, ok_rt = 1;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = tensor_f16_to_f32((uint16_t)h);
        const int nan = ((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff);
#ifdef HAVE_HW
        if (cpu_features_get()->f16c) {
            float g = hw_h2f((uint16_t)h);
            if (nan ? !isnan(f) : f2u(f) != f2u(g)) ok_hw = 0;
        }
#endif
        if (nan ? !isnan(f) : tensor_f32_to_f16(f) != h) ok_rt = 0;
    }
    CHECK(ok_hw);
    CHECK(ok_rt);
    /* f32 -> f16 rounding: edges and random bit patterns vs hardware */
    static const float edges[] = {0.0f, -0.0f, 1.0f, 65504.0f, 65519.99f, 65520.0f, 1e10f, -1e10f,
                                  5.9604645e-8f /* 2^-24 */, 2.9802322e-8f /* 2^-25: tie -> 0 */,
                                  2.9802326e-8f, 8.940697e-8f /* 1.5 * 2^-24: tie -> 2 */, 6.097555e-5f,
                                  6.1035156e-5f /* min normal */, 1.0009766f /* 1 + 2^-10 */,
                                  1.00048828125f /* tie -> 1 */, 1.00146484375f /* tie -> 1+2^-9 */, INFINITY,
                                  -INFINITY, 1e-30f, FLT_MIN, FLT_MAX};
    static const uint16_t expect[] = {0x0000, 0x8000, 0x3c00, 0x7bff, 0x7bff, 0x7c00, 0x7c00, 0xfc00,
                                      0x0001, 0x0000, 0x0001, 0x0002, 0x03ff, 0x0400, 0x3c01,
                                      0x3c00, 0x3c02, 0x7c00, 0xfc00, 0x0000, 0x0000, 0x7c00};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        CHECK_MSG(tensor_f32_to_f16(edges[i]) == expect[i], "f32_to_f16(%g) = 0x%04x, want 0x%04x",
                  (double)edges[i], tensor_f32_to_f16(edges[i]), expect[i]);
    CHECK(isnan(tensor_f16_to_f32(tensor_f32_to_f16(NAN))));
#ifdef HAVE_HW
    if (cpu_features_get()->f16c) {
        int ok = 1;
        for (int i = 0; i < 2000000; i++) {
            uint32_t u = rnd32() << 16 ^ rnd32();
            if ((i & 3) == 0) u = (u & 0x87ffffffu) | 0x38000000u; /* near the f16 range */
            float f = u2f(u);
            if (isnan(f)) continue;
            if (tensor_f32_to_f16(f) != hw_f2h(f)) {
                if (ok) fprintf(stderr, "  f32_to_f16(%a): 0x%04x vs hw 0x%04x\n", (double)f, tensor_f32_to_f16(f), hw_f2h(f));
                ok = 0;
            }
        }
        CHECK(ok);
    }
#endif
    /* row conversions agree with scalar ones */
    uint16_t h[37], h2[37];
    float f[37], g[37];
    for (int i = 0; i < 37; i++) { f[i] = frand() * 100; h[i] = tensor_f32_to_f16(f[i]); }
    tensor_f32_to_f16_row(f, h2, 37);
    CHECK(!memcmp(h, h2, sizeof h));
    tensor_f16_to_f32_row(h, g, 37);
    int ok = 1;
    for (int i = 0; i < 37; i++) ok &= f2u(g[i]) == f2u(tensor_f16_to_f32(h[i]));
    CHECK(ok);
}

static void test_bf16(void)
{
    CHECK(tensor_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(tensor_f32_to_bf16(u2f(0x3f808000u)) == 0x3f80); /* tie -> even */
    CHECK(tensor_f32_to_bf16(u2f(0x3f818000u)) == 0x3f82); /* tie -> even (up) */
    CHECK(tensor_f32_to_bf16(u2f(0x3f808001u)) == 0x3f81);
    CHECK(tensor_f32_to_bf16(INFINITY) == 0x7f80);
    CHECK(tensor_f32_to_bf16(u2f(0x7f7fffffu)) == 0x7f80); /* FLT_MAX rounds to inf */
    CHECK(tensor_f32_to_bf16(u2f(0x7f800001u)) == 0x7fc0); /* signalling NaN made quiet */
    CHECK(tensor_f32_to_bf16(u2f(0x00000001u)) == 0x0000); /* subnormals round, no flush */
    CHECK(tensor_f32_to_bf16(u2f(0x00008000u)) == 0x0000);
    CHECK(tensor_f32_to_bf16(u2f(0x00018000u)) == 0x0002);
    int ok = 1;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = tensor_bf16_to_f32((uint16_t)h);
        if (f2u(f) != h << 16) ok = 0;
        if (!isnan(f) && tensor_f32_to_bf16(f) != h) ok = 0;
    }
    CHECK(ok);
}

/* Round-trip error bounds (relative RMS over Gaussian-like rows) and
 * per-element worst-case bounds where the format gives one. */
static void test_roundtrip(void)
{
    static const struct { int t; double rms; } R[] = {
        {TENSOR_TYPE_F32, 0}, {TENSOR_TYPE_F16, 0.0005}, {TENSOR_TYPE_BF16, 0.004}, {TENSOR_TYPE_Q8_0, 0.006},
        {TENSOR_TYPE_Q8_1, 0.006}, {TENSOR_TYPE_Q8_K, 0.008}, {TENSOR_TYPE_Q6_K, 0.025}, {TENSOR_TYPE_Q5_0, 0.05},
        {TENSOR_TYPE_Q5_1, 0.05}, {TENSOR_TYPE_Q5_K, 0.05}, {TENSOR_TYPE_Q4_0, 0.11}, {TENSOR_TYPE_Q4_1, 0.10},
        {TENSOR_TYPE_Q4_K, 0.10}, {TENSOR_TYPE_Q3_K, 0.22}, {TENSOR_TYPE_Q2_K, 0.45},
    };
    const int64_t n = 4096;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    unsigned char *q = malloc((size_t)n * 4 + 64);
    for (int64_t i = 0; i < n; i++) {
        float s = 0;
        for (int j = 0; j < 4; j++) s += frand();
        x[i] = s * 0.05f;
    }
    for (size_t i = 0; i < sizeof R / sizeof R[0]; i++) {
        const int t = R[i].t;
        const int64_t rb = tensor_row_bytes(t, n);
        CHECK(tensor_quantize_row(t, x, q, n) == rb);
        CHECK(tensor_dequantize_row(t, q, y, n) == 0);
        double e = 0, s = 0, worst_blk = 0;
        const int64_t bs = tensor_type_block_size(t) > 1 ? tensor_type_block_size(t) : 32;
        for (int64_t b = 0; b < n / bs; b++) {
            double amax = 0, emax = 0;
            for (int64_t j = b * bs; j < (b + 1) * bs; j++) {
                e += (double)(y[j] - x[j]) * (y[j] - x[j]);
                s += (double)x[j] * x[j];
                amax = fmax(amax, fabs(x[j]));
                emax = fmax(emax, fabs(y[j] - x[j]));
            }
            worst_blk = fmax(worst_blk, emax / amax);
        }
        const double rel = sqrt(e / s);
        CHECK_MSG(rel <= R[i].rms, "%s round trip rel RMS %.5f > %.5f", tensor_type_name(t), rel, R[i].rms);
        /* 8-bit formats: every element within half a step (amax/254) plus
         * the f16 rounding of the scale */
        if (t == TENSOR_TYPE_Q8_0 || t == TENSOR_TYPE_Q8_1 || t == TENSOR_TYPE_Q8_K)
            CHECK_MSG(worst_blk <= 1.0 / 254 + 1.0 / 1024, "%s worst element error %.5f of amax", tensor_type_name(t), worst_blk);
        if (t == TENSOR_TYPE_Q4_0 || t == TENSOR_TYPE_Q5_0)
            CHECK_MSG(worst_blk <= (t == TENSOR_TYPE_Q4_0 ? 1.0 / 8 : 1.0 / 16) + 1e-3, "%s worst %.5f",
                      tensor_type_name(t), worst_blk);
        printf("  %-5s round trip: rel RMS %.5f, worst element/amax %.5f\n", tensor_type_name(t), rel, worst_blk);
        /* zeros stay zeros */
        memset(y, 0, sizeof(float) * n);
        float *z = calloc((size_t)n, sizeof(float));
        CHECK(tensor_quantize_row(t, z, q, n) == rb);
        for (int64_t j = 0; j < n; j++) y[j] = 1;
        CHECK(tensor_dequantize_row(t, q, y, n) == 0);
        int zero = 1;
        for (int64_t j = 0; j < n; j++) zero &= y[j] == 0;
        CHECK_MSG(zero, "%s: zeros do not round-trip", tensor_type_name(t));
        free(z);
    }
    /* exactly representable data round-trips exactly */
    float ex[32], ey[32];
    for (int j = 0; j < 32; j++) ex[j] = (float)(j * 8 - 127 < 127 ? j * 8 - 127 : 127);
    ex[0] = -127;
    unsigned char b34[34];
    CHECK(tensor_quantize_row(TENSOR_TYPE_Q8_0, ex, b34, 32) == 34);
    CHECK(tensor_dequantize_row(TENSOR_TYPE_Q8_0, b34, ey, 32) == 0);
    CHECK(!memcmp(ex, ey, sizeof ex));
    for (int j = 0; j < 32; j++) ex[j] = (float)((j % 16) - 8);
    unsigned char b18[18];
    CHECK(tensor_quantize_row(TENSOR_TYPE_Q4_0, ex, b18, 32) == 18);
    CHECK(tensor_dequantize_row(TENSOR_TYPE_Q4_0, b18, ey, 32) == 0);
    CHECK(!memcmp(ex, ey, sizeof ex));
    /* argument errors */
    CHECK(tensor_dequantize_row(TENSOR_TYPE_Q4_0, q, y, 31) == -1);
    CHECK(tensor_dequantize_row(TENSOR_TYPE_IQ2_XXS, q, y, 256) == -1);
    CHECK(tensor_dequantize_row(TENSOR_TYPE_Q4_0, NULL, y, 32) == -1);
    CHECK(tensor_quantize_row(TENSOR_TYPE_IQ4_NL, x, q, 32) == -1);
    CHECK(tensor_quantize_row(TENSOR_TYPE_Q4_K, x, q, 255) == -1);
    CHECK(tensor_quantize_rows(TENSOR_TYPE_Q8_0, x, q, 4, 64) == 4 * 68);
    free(x); free(y); free(q);
}

/* Known bytes decode to known values (hand-built blocks). */
static void test_known_blocks(void)
{
    float y[256];
    /* Q4_0: d = 2.0, nibbles j (low) and 15-j (high) */
    unsigned char q40[18];
    uint16_t d2 = 0x4000;
    memcpy(q40, &d2, 2);
    for (int j = 0; j < 16; j++) q40[2 + j] = (unsigned char)(j | ((15 - j) << 4));
    tensor_dequantize_row(TENSOR_TYPE_Q4_0, q40, y, 32);
    int ok = 1;
    for (int j = 0; j < 16; j++) ok &= y[j] == 2.0f * (j - 8) && y[16 + j] == 2.0f * (7 - j);
    CHECK(ok);
    /* Q5_0: d = 1, qh bit 31 set: element 31 = (0 | 16) - 16 ... */
    unsigned char q50[22] = {0};
    uint16_t d1 = 0x3c00;
    memcpy(q50, &d1, 2);
    uint32_t qh = 0x80000001u;
    memcpy(q50 + 2, &qh, 4);
    tensor_dequantize_row(TENSOR_TYPE_Q5_0, q50, y, 32);
    CHECK(y[0] == 0.0f && y[1] == -16.0f && y[31] == 0.0f && y[16] == -16.0f);
    /* Q6_K: all quants 32 (value 0) except element 0 = 63 (-> 31); scale 2, d 0.5 */
    unsigned char q6[210] = {0};
    for (int i = 0; i < 128; i++) q6[i] = 0x00;
    for (int i = 0; i < 64; i++) q6[128 + i] = 0xAA; /* high 2 bits = 2 -> 32 */
    for (int i = 0; i < 16; i++) q6[192 + i] = 2;
    uint16_t dh = 0x3800; /* 0.5 */
    memcpy(q6 + 208, &dh, 2);
    q6[0] = 0x0F; q6[128] = 0xAB; /* element 0: low 15, high bits 3 -> 63 */
    tensor_dequantize_row(TENSOR_TYPE_Q6_K, q6, y, 256);
    ok = y[0] == 31.0f;
    for (int j = 1; j < 256; j++) ok &= y[j] == 0.0f;
    CHECK(ok);
}

static void test_vec(void)
{
    float a[103], b[103], c[103];
    for (int i = 0; i < 103; i++) { a[i] = frand(); b[i] = frand(); }
    double d = 0;
    for (int i = 0; i < 103; i++) d += (double)a[i] * b[i];
    CHECK(fabs(tensor_vec_dot_f32(a, b, 103) - d) < 1e-5);
    memcpy(c, a, sizeof a);
    float sum = tensor_softmax_f32(c, 103);
    double tot = 0;
    for (int i = 0; i < 103; i++) tot += c[i];
    CHECK(fabs(tot - 1.0) < 1e-5 && sum > 0);
    tensor_rmsnorm_f32(c, a, NULL, 103, 1e-6f);
    double ss = 0;
    for (int i = 0; i < 103; i++) ss += (double)c[i] * c[i];
    CHECK(fabs(ss / 103 - 1.0) < 1e-4);
    float m[3] = {-INFINITY, 0.0f, -INFINITY};
    tensor_softmax_f32(m, 3);
    CHECK(m[0] == 0.0f && m[1] == 1.0f && m[2] == 0.0f);
    CHECK(tensor_vec_max_f32(a, 0) == -INFINITY);
    /* element-wise helpers are bit-identical to the naive loops */
    float r[103], e[103];
    int same = 1;
    tensor_vec_add_f32(r, a, b, 103);
    for (int i = 0; i < 103; i++) same &= r[i] == a[i] + b[i];
    tensor_vec_mul_f32(r, a, b, 103);
    for (int i = 0; i < 103; i++) same &= r[i] == a[i] * b[i];
    memcpy(r, a, sizeof a); memcpy(e, a, sizeof a);
    tensor_vec_axpy_f32(r, 0.37f, b, 103);
    for (int i = 0; i < 103; i++) { e[i] += 0.37f * b[i]; same &= r[i] == e[i]; }
    memcpy(r, a, sizeof a);
    tensor_vec_scale_f32(r, -1.7f, 101);
    for (int i = 0; i < 101; i++) same &= r[i] == a[i] * -1.7f;
    same &= r[101] == a[101] && r[102] == a[102];
    tensor_vec_add_f32(r, r, r, 7); /* in place */
    CHECK(same);
}

int main(void)
{
    test_table();
    test_f16();
    test_bf16();
    test_roundtrip();
    test_known_blocks();
    for (int lv = 0; lv <= cpu_level_max(); lv++) {
        cpu_set_level(lv);
        test_vec();
        test_f16();
    }
    return TEST_DONE();
}
