/* kernels_x86.h - INTERNAL: the x86 SIMD kernels (256-bit, one 32-element
 * block per ymm register), compiled once per ISA variant by
 * kernels_avx2.c (KX_VNNI 0: maddubs), kernels_avxvnni.c (KX_VNNI 1: VEX
 * vpdpbusd) and kernels_avx512.c (KX_VNNI 2: EVEX vpdpbusd on ymm).
 *
 * Integer dot products are u8 x s8: the weight quants are made unsigned
 * (nibbles etc. as stored) and the offset (-8, -16, -32, K-quant mins) is
 * applied once per block through the activation block sums. Q8_0 weights
 * are signed: |w| x sign(x, w).
 *
 * Every kernel computes each output column with the same operation sequence
 * whatever nc is (the tile width), so results do not depend on tiling. */
#if defined(__x86_64__) || defined(__i386__)

/* The kernels silence a GCC-only warning by name; clang would warn about the name. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wunknown-warning-option"
#endif
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "kernels.h"
#include "quant_blocks.h"

#define KX_INLINE static inline __attribute__((always_inline))

/* ---- helpers ---- */

KX_INLINE float kx_h2f(const void *p)
{
    return _cvtsh_ss(rd_u16(p));
}

KX_INLINE float kx_hsum_ps(__m256 v)
{
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

KX_INLINE int kx_hsum_epi32(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* u8 x s8 -> int32x8 partial sums (lane i: bytes 4i..4i+3). Requires
 * 2*u*|s| <= 32767 on the maddubs path (true for every use here). */
KX_INLINE __m256i kx_dot_us(__m256i u, __m256i s)
{
#if KX_VNNI == 1
    return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), u, s);
#elif KX_VNNI == 2
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

/* 32 bits -> 32 bytes: 0xFF where bit j of the word is set. */
KX_INLINE __m256i kx_bits_to_bytes(uint32_t bits)
{
    const __m256i idx = _mm256_set_epi64x(0x0303030303030303LL, 0x0202020202020202LL,
                                          0x0101010101010101LL, 0x0000000000000000LL);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), idx);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

/* 16 packed bytes -> 32 nibbles: low nibbles then high nibbles. */
KX_INLINE __m256i kx_nibbles(const uint8_t *q)
{
    __m128i v = _mm_loadu_si128((const __m128i *)q);
    __m256i r = _mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1);
    return _mm256_and_si256(r, _mm256_set1_epi8(0x0F));
}

/* ---- activation quantisation (bit-identical to the scalar versions) ---- */

static void kx_quant_act32(const float *x, void *dst, int64_t k)
{
    int8_t *qs = dst;
    float *d = (float *)((char *)dst + k);
    float *ds = d + k / 32;
    const __m256 signbit = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < k / 32; b++) {
        const float *xb = x + b * 32;
        __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8);
        __m256 v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(signbit, v0), _mm256_andnot_ps(signbit, v1)),
                                 _mm256_max_ps(_mm256_andnot_ps(signbit, v2), _mm256_andnot_ps(signbit, v3)));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        const float dd = amax / 127.0f;
        const float id = dd ? 1.0f / dd : 0.0f;
        const __m256 vid = _mm256_set1_ps(id);
        __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, vid));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, vid));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, vid));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, vid));
        const int sum = kx_hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)));
        __m256i p01 = _mm256_packs_epi32(i0, i1), p23 = _mm256_packs_epi32(i2, i3);
        __m256i p = _mm256_packs_epi16(p01, p23);
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(qs + b * 32), p);
        const float dh = _cvtsh_ss(_cvtss_sh(dd, _MM_FROUND_TO_NEAREST_INT));
        d[b] = dh;
        ds[b] = dh * (float)sum;
    }
}

static void kx_quant_actk(const float *x, void *dst, int64_t k)
{
    int8_t *qs = dst;
    float *d = (float *)((char *)dst + k);
    int16_t *bs = (int16_t *)(d + k / 256);
    const __m256 signbit = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < k / 256; b++) {
        const float *xb = x + b * 256;
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < 256; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(signbit, _mm256_loadu_ps(xb + j)));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        int8_t *q = qs + b * 256;
        if (!amax) {
            d[b] = 0;
            memset(q, 0, 256);
            memset(bs + b * 16, 0, 32);
            continue;
        }
        /* the first element of largest magnitude gives the sign (as the
         * scalar reference) */
        float max = amax;
        const __m256 va = _mm256_set1_ps(amax);
        for (int j = 0; j < 256; j += 8) {
            int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(signbit, _mm256_loadu_ps(xb + j)), va, _CMP_EQ_OQ));
            if (mask) { max = xb[j + __builtin_ctz((unsigned)mask)]; break; }
        }
        const float iscale = -127.f / max;
        const __m256 vis = _mm256_set1_ps(iscale);
        const __m256i v127 = _mm256_set1_epi32(127);
        for (int j = 0; j < 256; j += 32) {
            __m256i i0 = _mm256_min_epi32(v127, _mm256_cvtps_epi32(_mm256_mul_ps(vis, _mm256_loadu_ps(xb + j))));
            __m256i i1 = _mm256_min_epi32(v127, _mm256_cvtps_epi32(_mm256_mul_ps(vis, _mm256_loadu_ps(xb + j + 8))));
            __m256i i2 = _mm256_min_epi32(v127, _mm256_cvtps_epi32(_mm256_mul_ps(vis, _mm256_loadu_ps(xb + j + 16))));
            __m256i i3 = _mm256_min_epi32(v127, _mm256_cvtps_epi32(_mm256_mul_ps(vis, _mm256_loadu_ps(xb + j + 24))));
            bs[b * 16 + j / 16] = (int16_t)kx_hsum_epi32(_mm256_add_epi32(i0, i1));
            bs[b * 16 + j / 16 + 1] = (int16_t)kx_hsum_epi32(_mm256_add_epi32(i2, i3));
            __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
            p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256((__m256i *)(q + j), p);
        }
        d[b] = 1 / iscale;
    }
}

/* ---- float weights ---- */

enum { KXF_F32, KXF_F16, KXF_BF16 };

KX_INLINE __m256 kx_load_w8(int WT, const void *w, int64_t j)
{
    if (WT == KXF_F32) return _mm256_loadu_ps((const float *)w + j);
    __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)w + j));
    if (WT == KXF_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

KX_INLINE float kx_w1(int WT, const void *w, int64_t j)
{
    if (WT == KXF_F32) return rd_f32((const float *)w + j);
    uint16_t h = rd_u16((const uint16_t *)w + j);
    if (WT == KXF_F16) return _cvtsh_ss(h);
    return tensor_bf16_to_f32(h);
}

KX_INLINE void kx_dot_float(int WT, int NC, int64_t k, const void *w, const void *xa, size_t xs,
                            float *out, int64_t os)
{
    __m256 acc[MM_NC][2];
    const float *xc[MM_NC];
    for (int c = 0; c < NC; c++) {
        acc[c][0] = acc[c][1] = _mm256_setzero_ps();
        xc[c] = (const float *)((const char *)xa + (size_t)c * xs);
    }
    int64_t j = 0;
    for (; j + 16 <= k; j += 16) {
        const __m256 w0 = kx_load_w8(WT, w, j), w1 = kx_load_w8(WT, w, j + 8);
        for (int c = 0; c < NC; c++) {
            acc[c][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xc[c] + j), acc[c][0]);
            acc[c][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xc[c] + j + 8), acc[c][1]);
        }
    }
    for (int c = 0; c < NC; c++) {
        float s = kx_hsum_ps(_mm256_add_ps(acc[c][0], acc[c][1]));
        for (int64_t t = j; t < k; t++) s += kx_w1(WT, w, t) * xc[c][t];
        out[c * os] = s;
    }
}

#define KX_NC_SWITCH(call) \
    switch (nc) { \
    case 1: call(1); break; \
    case 2: call(2); break; \
    case 3: call(3); break; \
    default: call(4); break; \
    }

#define KX_DEF_FLOAT(fname, WT) \
    static void fname(int64_t k, const void *w, const void *xa, size_t xs, int nc, float *out, int64_t os) \
    { \
        _Pragma("GCC diagnostic push") \
        _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") \
        for (; nc > MM_NC; nc -= MM_NC, xa = (const char *)xa + MM_NC * xs, out += MM_NC * os) \
            kx_dot_float(WT, MM_NC, k, w, xa, xs, out, os); \
        _Pragma("GCC diagnostic pop") \
        _Pragma("GCC diagnostic push") \
        _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") \
        KX_NC_SWITCH(KX_CALLF_##WT) \
        _Pragma("GCC diagnostic pop") \
    }
#define KX_CALLF_KXF_F32(N) kx_dot_float(KXF_F32, N, k, w, xa, xs, out, os)
#define KX_CALLF_KXF_F16(N) kx_dot_float(KXF_F16, N, k, w, xa, xs, out, os)
#define KX_CALLF_KXF_BF16(N) kx_dot_float(KXF_BF16, N, k, w, xa, xs, out, os)

KX_DEF_FLOAT(kx_dot_f32, KXF_F32)
KX_DEF_FLOAT(kx_dot_f16, KXF_F16)
KX_DEF_FLOAT(kx_dot_bf16, KXF_BF16)

/* ---- 32-element block types ---- */

/* Unpacks block b of a 32-block weight row to unsigned bytes; returns its
 * scale, and sets *corr_mul: per-block correction = corr_mul * ds (ds =
 * d_x * sum(x quants)), i.e. -8*d, -16*d, or +m. For Q8_0 the bytes are
 * |w| and *sgn the raw signed quants. */
KX_INLINE __m256i kx_unpack32(int T, const uint8_t *w, int64_t b, float *dw, float *corr, __m256i *sgn)
{
    switch (T) {
    case TENSOR_TYPE_Q4_0: {
        const block_q4_0 *x = (const block_q4_0 *)w + b;
        *dw = kx_h2f(&x->d);
        *corr = -8.0f * *dw;
        return kx_nibbles(x->qs);
    }
    case TENSOR_TYPE_Q4_1: {
        const block_q4_1 *x = (const block_q4_1 *)w + b;
        *dw = kx_h2f(&x->d);
        *corr = kx_h2f(&x->m);
        return kx_nibbles(x->qs);
    }
    case TENSOR_TYPE_Q5_0: {
        const block_q5_0 *x = (const block_q5_0 *)w + b;
        *dw = kx_h2f(&x->d);
        *corr = -16.0f * *dw;
        __m256i h = _mm256_and_si256(kx_bits_to_bytes(rd_u32(x->qh)), _mm256_set1_epi8(0x10));
        return _mm256_or_si256(kx_nibbles(x->qs), h);
    }
    case TENSOR_TYPE_Q5_1: {
        const block_q5_1 *x = (const block_q5_1 *)w + b;
        *dw = kx_h2f(&x->d);
        *corr = kx_h2f(&x->m);
        __m256i h = _mm256_and_si256(kx_bits_to_bytes(rd_u32(x->qh)), _mm256_set1_epi8(0x10));
        return _mm256_or_si256(kx_nibbles(x->qs), h);
    }
    default: { /* Q8_0 */
        const block_q8_0 *x = (const block_q8_0 *)w + b;
        *dw = kx_h2f(&x->d);
        *corr = 0.0f;
        __m256i q = _mm256_loadu_si256((const __m256i *)x->qs);
        *sgn = q;
        return _mm256_sign_epi8(q, q);
    }
    }
}

KX_INLINE void kx_dot_q32(int T, int NC, int64_t k, const void *w, const void *xa, size_t xs,
                          float *out, int64_t os)
{
    const int64_t nb = k / 32;
    __m256 acc[MM_NC];
    float corr[MM_NC];
    const int8_t *q8[MM_NC];
    const float *d8[MM_NC], *s8[MM_NC];
    for (int c = 0; c < NC; c++) {
        const char *xc = (const char *)xa + (size_t)c * xs;
        acc[c] = _mm256_setzero_ps();
        corr[c] = 0.0f;
        q8[c] = ACT32_QS(xc);
        d8[c] = ACT32_D(xc, k);
        s8[c] = ACT32_DS(xc, k);
    }
    for (int64_t b = 0; b < nb; b++) {
        float dw, cm;
        __m256i sgn = _mm256_setzero_si256();
        const __m256i u = kx_unpack32(T, (const uint8_t *)w, b, &dw, &cm, &sgn);
        for (int c = 0; c < NC; c++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(q8[c] + b * 32));
            if (T == TENSOR_TYPE_Q8_0) xv = _mm256_sign_epi8(xv, sgn);
            const __m256i p = kx_dot_us(u, xv);
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * d8[c][b]), acc[c]);
            if (T != TENSOR_TYPE_Q8_0) corr[c] += cm * s8[c][b];
        }
    }
    for (int c = 0; c < NC; c++) out[c * os] = kx_hsum_ps(acc[c]) + corr[c];
}

#define KX_DEF_Q32(fname, T) \
    static void fname(int64_t k, const void *w, const void *xa, size_t xs, int nc, float *out, int64_t os) \
    { \
        for (; nc > MM_NC; nc -= MM_NC, xa = (const char *)xa + MM_NC * xs, out += MM_NC * os) \
            kx_dot_q32(T, MM_NC, k, w, xa, xs, out, os); \
        _Pragma("GCC diagnostic push") \
        _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") \
        switch (nc) { \
        case 1: kx_dot_q32(T, 1, k, w, xa, xs, out, os); break; \
        case 2: kx_dot_q32(T, 2, k, w, xa, xs, out, os); break; \
        case 3: kx_dot_q32(T, 3, k, w, xa, xs, out, os); break; \
        default: kx_dot_q32(T, 4, k, w, xa, xs, out, os); break; \
        } \
        _Pragma("GCC diagnostic pop") \
    }

KX_DEF_Q32(kx_dot_q4_0, TENSOR_TYPE_Q4_0)
KX_DEF_Q32(kx_dot_q4_1, TENSOR_TYPE_Q4_1)
KX_DEF_Q32(kx_dot_q5_0, TENSOR_TYPE_Q5_0)
KX_DEF_Q32(kx_dot_q5_1, TENSOR_TYPE_Q5_1)
KX_DEF_Q32(kx_dot_q8_0, TENSOR_TYPE_Q8_0)

/* ---- K-quants ----
 * Per super-block of 256: 8 groups of 32 unsigned quants u (elements
 * 32g..32g+31) and one int16 scale per 16 elements; value = d * scale *
 * (u - off) - dmin * min. The integer sum of a column is, lane-wise,
 *   sum_g madd(maddubs(u_g, x_g), scale_g) + madd(bsums, offcoef)
 * and the mins part is madd(bsums, mincoef) * (-dmin * dx); both fold into
 * vector accumulators (one horizontal sum per row, at the end).
 * maddubs + madd (2 uops) beats vpdpbusd + vpmulld (3) here, so the K-quant
 * kernels are the same at every x86 level. */

/* Shuffle masks: from a 128-bit lane holding 8 int16 s0..s7 (broadcast to
 * both lanes), make [s_{2i} x 8 | s_{2i+1} x 8] (per16) or [s_i x 16]
 * (per32). */
KX_INLINE __m256i kx_bcast_pair16(__m256i s, int i)
{
    const char lo = (char)(4 * i), hi = (char)(4 * i + 2);
    const __m256i idx = _mm256_setr_epi8(lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1,
                                         lo, lo + 1, lo, lo + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1,
                                         hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1);
    return _mm256_shuffle_epi8(s, idx);
}
KX_INLINE __m256i kx_bcast_one16(__m256i s, int i)
{
    const char lo = (char)(2 * i);
    const __m256i idx = _mm256_setr_epi8(lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1,
                                         lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1,
                                         lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1);
    return _mm256_shuffle_epi8(s, idx);
}

KX_INLINE void kx_dot_k(int T, int NC, int64_t k, const void *w, const void *xa, size_t xs,
                        float *out, int64_t os)
{
    const int64_t nb = k / 256;
    __m256 acc[MM_NC];
    const int8_t *q8[MM_NC];
    const float *d8[MM_NC];
    const int16_t *b8[MM_NC];
    for (int c = 0; c < NC; c++) {
        const char *xc = (const char *)xa + (size_t)c * xs;
        acc[c] = _mm256_setzero_ps();
        q8[c] = ACTK_QS(xc);
        d8[c] = ACTK_D(xc, k);
        b8[c] = ACTK_BS(xc, k);
    }
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    for (int64_t b = 0; b < nb; b++) {
        __m256i isum[MM_NC];
        for (int c = 0; c < NC; c++) isum[c] = _mm256_setzero_si256();
        float d, dmin = 0.0f;
        __m256i offc = _mm256_setzero_si256(), minc = _mm256_setzero_si256();
        const int has_off = T == TENSOR_TYPE_Q3_K || T == TENSOR_TYPE_Q6_K;
        const int has_min = T == TENSOR_TYPE_Q2_K || T == TENSOR_TYPE_Q4_K || T == TENSOR_TYPE_Q5_K;
        const int64_t eo = b * 256;

#define KX_GROUP(g, u, sv) \
        do { \
            for (int c = 0; c < NC; c++) { \
                const __m256i xv = _mm256_loadu_si256((const __m256i *)(q8[c] + eo + 32 * (g))); \
                isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(_mm256_maddubs_epi16((u), xv), (sv))); \
            } \
        } while (0)

        if (T == TENSOR_TYPE_Q4_K || T == TENSOR_TYPE_Q5_K) {
            const uint8_t *scales, *qs, *qh = NULL;
            if (T == TENSOR_TYPE_Q4_K) {
                const block_q4_K *x = (const block_q4_K *)w + b;
                d = kx_h2f(&x->d); dmin = kx_h2f(&x->dmin);
                scales = x->scales; qs = x->qs;
            } else {
                const block_q5_K *x = (const block_q5_K *)w + b;
                d = kx_h2f(&x->d); dmin = kx_h2f(&x->dmin);
                scales = x->scales; qs = x->qs; qh = x->qh;
            }
            uint32_t utmp[4];
            memcpy(utmp, scales, 12);
            utmp[3] = ((utmp[2] >> 4) & 0x0f0f0f0fu) | (((utmp[1] >> 6) & 0x03030303u) << 4);
            const uint32_t uaux = utmp[1] & 0x3f3f3f3fu;
            utmp[1] = (utmp[2] & 0x0f0f0f0fu) | (((utmp[0] >> 6) & 0x03030303u) << 4);
            utmp[2] = uaux;
            utmp[0] &= 0x3f3f3f3fu;
            /* bytes 0-7: scales, 8-15: mins */
            const __m128i sm = _mm_loadu_si128((const __m128i *)utmp);
            const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
            const __m128i mn = _mm_cvtepu8_epi16(_mm_unpackhi_epi64(sm, sm));
            minc = _mm256_setr_m128i(_mm_unpacklo_epi16(mn, mn), _mm_unpackhi_epi16(mn, mn));
            const __m256i hv = qh ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
            for (int p = 0; p < 4; p++) {
                const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * p));
                __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                if (T == TENSOR_TYPE_Q5_K) {
                    lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hv, 2 * p), one), 4));
                    hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hv, 2 * p + 1), one), 4));
                }
                KX_GROUP(2 * p, lo, kx_bcast_one16(sc, 2 * p));
                KX_GROUP(2 * p + 1, hi, kx_bcast_one16(sc, 2 * p + 1));
            }
        } else if (T == TENSOR_TYPE_Q6_K) {
            const block_q6_K *x = (const block_q6_K *)w + b;
            d = kx_h2f(&x->d);
            const __m128i s8 = _mm_loadu_si128((const __m128i *)x->scales);
            const __m256i s16 = _mm256_cvtepi8_epi16(s8); /* 16 scales */
            offc = _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(s16, 5)); /* -32 * scale */
            for (int n = 0; n < 2; n++) {
                const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16((n ? _mm_unpackhi_epi64(s8, s8) : s8)));
                const __m256i l0 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * n));
                const __m256i l1 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * n + 32));
                const __m256i h = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * n));
                const __m256i u0 = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m3), 4));
                const __m256i u1 = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m3), 4));
                const __m256i u2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m3), 4));
                const __m256i u3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m3), 4));
                KX_GROUP(4 * n + 0, u0, kx_bcast_pair16(sc, 0));
                KX_GROUP(4 * n + 1, u1, kx_bcast_pair16(sc, 1));
                KX_GROUP(4 * n + 2, u2, kx_bcast_pair16(sc, 2));
                KX_GROUP(4 * n + 3, u3, kx_bcast_pair16(sc, 3));
            }
        } else if (T == TENSOR_TYPE_Q2_K) {
            const block_q2_K *x = (const block_q2_K *)w + b;
            d = kx_h2f(&x->d);
            dmin = kx_h2f(&x->dmin);
            const __m128i s8 = _mm_loadu_si128((const __m128i *)x->scales);
            minc = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s8, 4), _mm_set1_epi8(0x0F)));
            const __m128i sl = _mm_and_si128(s8, _mm_set1_epi8(0x0F));
            for (int n = 0; n < 2; n++) {
                const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16((n ? _mm_unpackhi_epi64(sl, sl) : sl)));
                const __m256i q = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * n));
                KX_GROUP(4 * n + 0, _mm256_and_si256(q, m3), kx_bcast_pair16(sc, 0));
                KX_GROUP(4 * n + 1, _mm256_and_si256(_mm256_srli_epi16(q, 2), m3), kx_bcast_pair16(sc, 1));
                KX_GROUP(4 * n + 2, _mm256_and_si256(_mm256_srli_epi16(q, 4), m3), kx_bcast_pair16(sc, 2));
                KX_GROUP(4 * n + 3, _mm256_and_si256(_mm256_srli_epi16(q, 6), m3), kx_bcast_pair16(sc, 3));
            }
        } else { /* Q3_K */
            const block_q3_K *x = (const block_q3_K *)w + b;
            d = kx_h2f(&x->d);
            int8_t scv[16];
            q3k_unpack_scales(x->scales, scv);
            const __m128i s8 = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)scv), _mm_set1_epi8(32));
            offc = _mm256_slli_epi16(_mm256_sub_epi16(_mm256_setzero_si256(), _mm256_cvtepi8_epi16(s8)), 2);
            const __m256i hm = _mm256_loadu_si256((const __m256i *)x->hmask);
            for (int n = 0; n < 2; n++) {
                const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16((n ? _mm_unpackhi_epi64(s8, s8) : s8)));
                const __m256i q = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * n));
                for (int j = 0; j < 4; j++) {
                    const int g = 4 * n + j;
                    const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), m3);
                    const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, g), one);
                    KX_GROUP(g, _mm256_or_si256(lo, _mm256_slli_epi16(hb, 2)), kx_bcast_pair16(sc, j));
                }
            }
        }
#undef KX_GROUP
        for (int c = 0; c < NC; c++) {
            const float dx = d8[c][b];
            __m256i is = isum[c];
            if (has_off || has_min) {
                const __m256i bs = _mm256_loadu_si256((const __m256i *)(b8[c] + b * 16));
                if (has_off) is = _mm256_add_epi32(is, _mm256_madd_epi16(bs, offc));
                if (has_min)
                    acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(bs, minc)),
                                             _mm256_set1_ps(-dmin * dx), acc[c]);
            }
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_set1_ps(d * dx), acc[c]);
        }
    }
    for (int c = 0; c < NC; c++) out[c * os] = kx_hsum_ps(acc[c]);
}

#define KX_DEF_K(fname, T) \
    static void fname(int64_t k, const void *w, const void *xa, size_t xs, int nc, float *out, int64_t os) \
    { \
        for (; nc > MM_NC; nc -= MM_NC, xa = (const char *)xa + MM_NC * xs, out += MM_NC * os) \
            kx_dot_k(T, MM_NC, k, w, xa, xs, out, os); \
        _Pragma("GCC diagnostic push") \
        _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") \
        switch (nc) { \
        case 1: kx_dot_k(T, 1, k, w, xa, xs, out, os); break; \
        case 2: kx_dot_k(T, 2, k, w, xa, xs, out, os); break; \
        case 3: kx_dot_k(T, 3, k, w, xa, xs, out, os); break; \
        default: kx_dot_k(T, 4, k, w, xa, xs, out, os); break; \
        } \
        _Pragma("GCC diagnostic pop") \
    }

KX_DEF_K(kx_dot_q2_K, TENSOR_TYPE_Q2_K)
KX_DEF_K(kx_dot_q3_K, TENSOR_TYPE_Q3_K)
KX_DEF_K(kx_dot_q4_K, TENSOR_TYPE_Q4_K)
KX_DEF_K(kx_dot_q5_K, TENSOR_TYPE_Q5_K)
KX_DEF_K(kx_dot_q6_K, TENSOR_TYPE_Q6_K)

/* ---- conversions, vec helpers ---- */

static void kx_f16_to_f32(const void *src, float *dst, int64_t n)
{
    const uint16_t *h = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    for (; i < n; i++) dst[i] = _cvtsh_ss(rd_u16(h + i));
}

static void kx_f32_to_f16(const float *src, uint16_t *dst, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT);
}

static float kx_vec_dot_f32(const float *a, const float *b, int64_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    float s = kx_hsum_ps(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static float kx_vec_sumsq_f32(const float *a, int64_t n) { return kx_vec_dot_f32(a, a, n); }

static void kx_vec_scale_mul_f32(float *y, const float *x, float s, const float *w, int64_t n)
{
    const __m256 vs = _mm256_set1_ps(s);
    int64_t i = 0;
    if (w) {
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs), _mm256_loadu_ps(w + i)));
        for (; i < n; i++) y[i] = x[i] * s * w[i];
    } else {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
        for (; i < n; i++) y[i] = x[i] * s;
    }
}

static void kx_vec_add_f32(float *y, const float *a, const float *b, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    for (; i < n; i++) y[i] = a[i] + b[i];
}

static void kx_vec_mul_f32(float *y, const float *a, const float *b, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    for (; i < n; i++) y[i] = a[i] * b[i];
}

/* y += a*x with a separate multiply and add (no FMA), so the result is
 * bit-identical to the scalar loop at every level. */
static void kx_vec_axpy_f32(float *y, float a, const float *x, int64_t n)
{
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_mul_ps(va, _mm256_loadu_ps(x + i))));
    for (; i < n; i++) y[i] += a * x[i];
}

void KX_FILL(struct kernel_table *t)
{
    t->name = KX_NAME;
    t->quant_act32 = kx_quant_act32;
    t->quant_actk = kx_quant_actk;
    t->dot[TENSOR_TYPE_F32] = kx_dot_f32;
    t->dot[TENSOR_TYPE_F16] = kx_dot_f16;
    t->dot[TENSOR_TYPE_BF16] = kx_dot_bf16;
    t->dot[TENSOR_TYPE_Q4_0] = kx_dot_q4_0;
    t->dot[TENSOR_TYPE_Q4_1] = kx_dot_q4_1;
    t->dot[TENSOR_TYPE_Q5_0] = kx_dot_q5_0;
    t->dot[TENSOR_TYPE_Q5_1] = kx_dot_q5_1;
    t->dot[TENSOR_TYPE_Q8_0] = kx_dot_q8_0;
    t->dot[TENSOR_TYPE_Q2_K] = kx_dot_q2_K;
    t->dot[TENSOR_TYPE_Q3_K] = kx_dot_q3_K;
    t->dot[TENSOR_TYPE_Q4_K] = kx_dot_q4_K;
    t->dot[TENSOR_TYPE_Q5_K] = kx_dot_q5_K;
    t->dot[TENSOR_TYPE_Q6_K] = kx_dot_q6_K;
    t->f16_to_f32 = kx_f16_to_f32;
    t->f32_to_f16 = kx_f32_to_f16;
    t->vec_dot_f32 = kx_vec_dot_f32;
    t->vec_sumsq_f32 = kx_vec_sumsq_f32;
    t->vec_scale_mul_f32 = kx_vec_scale_mul_f32;
    t->vec_add_f32 = kx_vec_add_f32;
    t->vec_mul_f32 = kx_vec_mul_f32;
    t->vec_axpy_f32 = kx_vec_axpy_f32;
}

#endif /* x86 */
