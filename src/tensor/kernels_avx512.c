/* kernels_avx512.c - AVX-512 level: the 256-bit integer kernels with EVEX
 * vpdpbusd (AVX-512-VNNI + VL), and 512-bit float-weight kernels.
 *
 * (A 512-bit, two-blocks-per-zmm variant of the 32-block kernels was
 * measured: ~10% faster prefill but ~25% slower GEMV, so the 256-bit one is
 * kept: one kernel per type keeps GEMV and batched results bit-identical.) */
#define KX_NAME "avx512"
#define KX_FILL kernels_fill_avx512_q
#define KX_VNNI 2
/* The kernels silence a GCC-only warning by name; clang would warn about the name. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wunknown-warning-option"
#endif
#include "kernels_x86.h"

#if defined(__x86_64__) || defined(__i386__)
#include "cpu_features.h"

void kernels_fill_avx512_q(struct kernel_table *t);

KX_INLINE __m512 k5_load_w16(int WT, const void *w, int64_t j)
{
    if (WT == KXF_F32) return _mm512_loadu_ps((const float *)w + j);
    __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)w + j));
    if (WT == KXF_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

KX_INLINE void k5_dot_float(int WT, int NC, int64_t k, const void *w, const void *xa, size_t xs,
                            float *out, int64_t os)
{
    __m512 acc[MM_NC][2];
    const float *xc[MM_NC];
    for (int c = 0; c < NC; c++) {
        acc[c][0] = acc[c][1] = _mm512_setzero_ps();
        xc[c] = (const float *)((const char *)xa + (size_t)c * xs);
    }
    int64_t j = 0;
    for (; j + 32 <= k; j += 32) {
        const __m512 w0 = k5_load_w16(WT, w, j), w1 = k5_load_w16(WT, w, j + 16);
        for (int c = 0; c < NC; c++) {
            acc[c][0] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xc[c] + j), acc[c][0]);
            acc[c][1] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xc[c] + j + 16), acc[c][1]);
        }
    }
    for (int c = 0; c < NC; c++) {
        float s = _mm512_reduce_add_ps(_mm512_add_ps(acc[c][0], acc[c][1]));
        for (int64_t t = j; t < k; t++) s += kx_w1(WT, w, t) * xc[c][t];
        out[c * os] = s;
    }
}

#define K5_DEF_FLOAT(fname, WT) \
    static void fname(int64_t k, const void *w, const void *xa, size_t xs, int nc, float *out, int64_t os) \
    { \
        for (; nc > MM_NC; nc -= MM_NC, xa = (const char *)xa + MM_NC * xs, out += MM_NC * os) \
            k5_dot_float(WT, MM_NC, k, w, xa, xs, out, os); \
        _Pragma("GCC diagnostic push") \
        _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") \
        switch (nc) { \
        case 1: k5_dot_float(WT, 1, k, w, xa, xs, out, os); break; \
        case 2: k5_dot_float(WT, 2, k, w, xa, xs, out, os); break; \
        case 3: k5_dot_float(WT, 3, k, w, xa, xs, out, os); break; \
        default: k5_dot_float(WT, 4, k, w, xa, xs, out, os); break; \
        } \
        _Pragma("GCC diagnostic pop") \
    }

/* Two weight rows x NC columns: the activation loads are shared by both
 * rows. Each output sees exactly the operations of k5_dot_float. */
KX_INLINE void k5_dot2_float(int WT, int NC, int64_t k, const void *w, size_t ws, const void *xa, size_t xs,
                             float *out, int64_t os)
{
    __m512 acc[2][MM_NC][2];
    const float *xc[MM_NC];
    const void *w1 = (const char *)w + ws;
    for (int c = 0; c < NC; c++) {
        acc[0][c][0] = acc[0][c][1] = acc[1][c][0] = acc[1][c][1] = _mm512_setzero_ps();
        xc[c] = (const float *)((const char *)xa + (size_t)c * xs);
    }
    int64_t j = 0;
    for (; j + 32 <= k; j += 32) {
        const __m512 a0 = k5_load_w16(WT, w, j), a1 = k5_load_w16(WT, w, j + 16);
        const __m512 b0 = k5_load_w16(WT, w1, j), b1 = k5_load_w16(WT, w1, j + 16);
        for (int c = 0; c < NC; c++) {
            const __m512 x0 = _mm512_loadu_ps(xc[c] + j), x1 = _mm512_loadu_ps(xc[c] + j + 16);
            acc[0][c][0] = _mm512_fmadd_ps(a0, x0, acc[0][c][0]);
            acc[0][c][1] = _mm512_fmadd_ps(a1, x1, acc[0][c][1]);
            acc[1][c][0] = _mm512_fmadd_ps(b0, x0, acc[1][c][0]);
            acc[1][c][1] = _mm512_fmadd_ps(b1, x1, acc[1][c][1]);
        }
    }
    for (int r = 0; r < 2; r++) {
        const void *wr = r ? w1 : w;
        for (int c = 0; c < NC; c++) {
            float s = _mm512_reduce_add_ps(_mm512_add_ps(acc[r][c][0], acc[r][c][1]));
            for (int64_t t = j; t < k; t++) s += kx_w1(WT, wr, t) * xc[c][t];
            out[c * os + r] = s;
        }
    }
}

#define K5_DEF_FLOAT2(fname, WT) \
    static void fname(int64_t k, const void *w, size_t ws, const void *xa, size_t xs, int nc, float *out, int64_t os) \
    { \
        for (; nc > MM_NC; nc -= MM_NC, xa = (const char *)xa + MM_NC * xs, out += MM_NC * os) \
            k5_dot2_float(WT, MM_NC, k, w, ws, xa, xs, out, os); \
        _Pragma("GCC diagnostic push") \
        _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") \
        switch (nc) { \
        case 1: k5_dot2_float(WT, 1, k, w, ws, xa, xs, out, os); break; \
        case 2: k5_dot2_float(WT, 2, k, w, ws, xa, xs, out, os); break; \
        case 3: k5_dot2_float(WT, 3, k, w, ws, xa, xs, out, os); break; \
        default: k5_dot2_float(WT, 4, k, w, ws, xa, xs, out, os); break; \
        } \
        _Pragma("GCC diagnostic pop") \
    }

K5_DEF_FLOAT2(k5_dot2_f32, KXF_F32)
K5_DEF_FLOAT2(k5_dot2_f16, KXF_F16)
K5_DEF_FLOAT2(k5_dot2_bf16, KXF_BF16)

K5_DEF_FLOAT(k5_dot_f32, KXF_F32)
K5_DEF_FLOAT(k5_dot_f16, KXF_F16)
K5_DEF_FLOAT(k5_dot_bf16, KXF_BF16)

static float k5_vec_dot_f32(const float *a, const float *b, int64_t n)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    if (i < n) {
        for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        if (i < n) {
            __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
            s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
        }
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static float k5_vec_sumsq_f32(const float *a, int64_t n) { return k5_vec_dot_f32(a, a, n); }

void kernels_fill_avx512(struct kernel_table *t, int allow_vnni)
{
    const struct cpu_features *f = cpu_features_get();
    /* integer kernels need VNNI at this level; without it the AVX2 ones
     * (already in the table) stay */
    const int vnni = f->avx512vnni && allow_vnni;
    if (vnni) kernels_fill_avx512_q(t);
    t->name = vnni ? "avx512+vnni" : "avx512";
    t->dot[TENSOR_TYPE_F32] = k5_dot_f32;
    t->dot[TENSOR_TYPE_F16] = k5_dot_f16;
    t->dot[TENSOR_TYPE_BF16] = k5_dot_bf16;
    t->dot2[TENSOR_TYPE_F32] = k5_dot2_f32;
    t->dot2[TENSOR_TYPE_F16] = k5_dot2_f16;
    t->dot2[TENSOR_TYPE_BF16] = k5_dot2_bf16;
    t->vec_dot_f32 = k5_vec_dot_f32;
    t->vec_sumsq_f32 = k5_vec_sumsq_f32;
}
#endif
