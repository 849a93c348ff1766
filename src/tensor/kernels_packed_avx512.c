/* kernels_packed_avx512.c - GEMM/GEMV kernels on 16-row interleaved weights
 * (layouts in packed.h), AVX-512 F/BW/VL with VNNI.
 *
 * One zmm lane per weight row. Integer types: each vpdpbusd multiplies the
 * 16 rows' 4 unsigned weight bytes of a k-slice by one broadcast 4-byte
 * word of a token's quantised activations, so a 32-element block of 16 rows
 * costs 8 vpdpbusd per token; the block result is converted and scaled for
 * the 16 rows by one multiply and one FMA. Unsigned weights carry an offset
 * (Q8_0: +128, Q4_0: +8, Q6_K: +32) that is taken out exactly in integers
 * through the activation block sums. F16: 16 rows of one column are
 * converted at once and FMA'd with a broadcast activation. BF16: one
 * vdpbf16ps takes two columns of 16 rows against a broadcast bf16 pair.
 *
 * A tile is 1 group x up to 8 tokens (integer types; the decoded weights
 * are shared by the tokens) or up to 2 groups x up to 8 tokens (F16, BF16). Each
 * output lane accumulates its blocks in k order whatever the tile, so the
 * result of a token does not depend on how many tokens share its tile. */
#if defined(__x86_64__) || defined(__i386__)
/* The kernels silence a GCC-only warning by name; clang would warn about the name. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wunknown-warning-option"
#endif
#include <immintrin.h>
#include <string.h>

#include "packed_internal.h"
#include "quant_blocks.h"
#include "tensor_types.h"

#define KP_INLINE static inline __attribute__((always_inline))

KP_INLINE int32_t kp_rd_i32(const void *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

KP_INLINE __m512i kp_bcast(const void *p) { return _mm512_set1_epi32(kp_rd_i32(p)); }

KP_INLINE __m512 kp_h16(const uint8_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }

/* Software prefetch of the weight stream, this many bytes ahead of the
 * block being read: decode reads each byte once from DRAM, and the hardware
 * prefetcher alone leaves bandwidth unused at this access density. */
#ifndef KP_PREFETCH_BYTES
#define KP_PREFETCH_BYTES 4096
#endif
/* Part `part` of `parts` of the prefetch of an n-byte block: the large
 * K-quant blocks spread their prefetches over their sub-blocks, so that a
 * burst of dozens of line requests does not fill the miss queue at once. */
KP_INLINE void kp_prefetch_part(const uint8_t *p, size_t n, int part, int parts)
{
    const size_t lines = (n + 63) / 64;
    for (size_t l = lines * (size_t)part / (size_t)parts; l < lines * (size_t)(part + 1) / (size_t)parts; l++)
        _mm_prefetch((const char *)p + KP_PREFETCH_BYTES + 64 * l, _MM_HINT_T0);
}

KP_INLINE void kp_prefetch(const uint8_t *p, size_t n) { kp_prefetch_part(p, n, 0, 1); }

/* Stores the valid rows of a group's 16 results. */
KP_INLINE void kp_store(float *y, __m512 v, int64_t valid)
{
    if (valid >= PK_ROWS) _mm512_storeu_ps(y, v);
    else _mm512_mask_storeu_ps(y, (__mmask16)((1u << valid) - 1u), v);
}

KP_INLINE int64_t kp_valid(const struct packed_matrix *pm, int64_t g) { return pm->rows - g * PK_ROWS; }

/* Dispatch of a tile function templated on the token count (1..8). */
#define KP_NT_SWITCH(nt, CALL) \
    switch (nt) { \
    case 1: CALL(1); break; \
    case 2: CALL(2); break; \
    case 3: CALL(3); break; \
    case 4: CALL(4); break; \
    case 5: CALL(5); break; \
    case 6: CALL(6); break; \
    case 7: CALL(7); break; \
    default: CALL(8); break; \
    }

/* ---------------------------------------------------------------- F16 */

KP_INLINE void kp_f16_tile(int NG, int NT, const struct packed_matrix *pm, int64_t g, const char *xa, size_t xs,
                           float *y, int64_t ldy)
{
    const int64_t k = pm->k;
    __m512 acc[2][8];
    const uint8_t *w[2];
    const float *x[8];
    for (int gi = 0; gi < NG; gi++) w[gi] = pm->data + (size_t)(g + gi) * pm->group_bytes;
    for (int t = 0; t < NT; t++) x[t] = (const float *)(xa + (size_t)t * xs);
    for (int gi = 0; gi < NG; gi++)
        for (int t = 0; t < NT; t++) acc[gi][t] = _mm512_setzero_ps();
    for (int64_t j = 0; j < k; j++) {
        __m512 wv[2];
        if (!(j & 1))
            for (int gi = 0; gi < NG; gi++) _mm_prefetch((const char *)w[gi] + j * 32 + KP_PREFETCH_BYTES, _MM_HINT_T0);
        for (int gi = 0; gi < NG; gi++) wv[gi] = kp_h16(w[gi] + (size_t)j * 32);
        for (int t = 0; t < NT; t++) {
            const __m512 xb = _mm512_set1_ps(x[t][j]);
            for (int gi = 0; gi < NG; gi++) acc[gi][t] = _mm512_fmadd_ps(wv[gi], xb, acc[gi][t]);
        }
    }
    for (int gi = 0; gi < NG; gi++)
        for (int t = 0; t < NT; t++)
            kp_store(y + t * ldy + (g + gi) * PK_ROWS, acc[gi][t], kp_valid(pm, g + gi));
}

/* The float kernels' driver: tiles of two groups (two weight streams per
 * tile, and with one token still two independent accumulation chains; four
 * groups measured no faster in decode) by up to 8 tokens. */
#define KP_DEF_GROUP_PAIRS(fname) /* tiles by KP_TILE_FN, defined around it */ \
    static void fname(const struct packed_matrix *pm, int64_t g0, int64_t g1, const char *xa, size_t xs, \
                      size_t extra_off, int64_t nt, float *y, int64_t ldy) \
    { \
        (void)extra_off; \
        for (int64_t g = g0; g < g1;) { \
            const int ng = g1 - g >= 2 ? 2 : 1; \
            for (int64_t t0 = 0; t0 < nt; t0 += 8) { \
                const int n = nt - t0 < 8 ? (int)(nt - t0) : 8; \
                const char *x = xa + (size_t)t0 * xs; \
                float *yt = y + t0 * ldy; \
                if (ng == 2) { KP_NT_SWITCH(n, KP_PAIR_2) } \
                else { KP_NT_SWITCH(n, KP_PAIR_1) } \
            } \
            g += ng; \
        } \
    }
#define KP_PAIR_1(N) KP_TILE_FN(1, N, pm, g, x, xs, yt, ldy)
#define KP_PAIR_2(N) KP_TILE_FN(2, N, pm, g, x, xs, yt, ldy)

#define KP_TILE_FN kp_f16_tile
KP_DEF_GROUP_PAIRS(kp_f16)
#undef KP_TILE_FN

/* ---------------------------------------------------------------- BF16 */

/* Lane r of acc[gi][t] gets w[r][2p] x[2p] + w[r][2p+1] x[2p+1] per pair p
 * (vdpbf16ps), with x the token's bf16 activation row. */
KP_INLINE void kp_bf16_tile(int NG, int NT, const struct packed_matrix *pm, int64_t g, const char *xa, size_t xs,
                            float *y, int64_t ldy)
{
    const int64_t np = pm->k / 2;
    __m512 acc[2][8];
    const uint8_t *w[2];
    const uint32_t *x[8];
    for (int gi = 0; gi < NG; gi++) w[gi] = pm->data + (size_t)(g + gi) * pm->group_bytes;
    for (int t = 0; t < NT; t++) x[t] = (const uint32_t *)(xa + (size_t)t * xs);
    for (int gi = 0; gi < NG; gi++)
        for (int t = 0; t < NT; t++) acc[gi][t] = _mm512_setzero_ps();
    for (int64_t p = 0; p < np; p++) {
        __m512bh wv[2];
        for (int gi = 0; gi < NG; gi++) {
            _mm_prefetch((const char *)w[gi] + p * 64 + KP_PREFETCH_BYTES, _MM_HINT_T0);
            wv[gi] = (__m512bh)_mm512_load_si512(w[gi] + (size_t)p * 64);
        }
        for (int t = 0; t < NT; t++) {
            const __m512bh xb = (__m512bh)_mm512_set1_epi32((int)x[t][p]);
            for (int gi = 0; gi < NG; gi++) acc[gi][t] = _mm512_dpbf16_ps(acc[gi][t], wv[gi], xb);
        }
    }
    for (int gi = 0; gi < NG; gi++)
        for (int t = 0; t < NT; t++)
            kp_store(y + t * ldy + (g + gi) * PK_ROWS, acc[gi][t], kp_valid(pm, g + gi));
}

#define KP_TILE_FN kp_bf16_tile
KP_DEF_GROUP_PAIRS(kp_bf16)
#undef KP_TILE_FN

/* ---------------------------------------------------------------- Q8_0 / Q4_0 */

enum { KP_Q8_0, KP_Q4_0 };

KP_INLINE void kp_q32_tile(int T, int NT, const struct packed_matrix *pm, int64_t g, const char *xa, size_t xs,
                           size_t xo, float *y, int64_t ldy)
{
    const int64_t k = pm->k, nb = k / 32;
    const size_t bb = T == KP_Q8_0 ? PK_Q8_0_BLOCK : PK_Q4_0_BLOCK;
    const int off = T == KP_Q8_0 ? -128 : -8;
    const uint8_t *wg = pm->data + (size_t)g * pm->group_bytes;
    const int8_t *q[8];
    const float *d[8];
    const int32_t *sq[8];
    __m512 acc[8];
    for (int t = 0; t < NT; t++) {
        const char *row = xa + (size_t)t * xs;
        q[t] = ACT32_QS(row);
        d[t] = ACT32_D(row, k);
        sq[t] = (const int32_t *)(row + xo);
        acc[t] = _mm512_setzero_ps();
    }
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = wg + (size_t)b * bb;
        kp_prefetch(blk, bb);
        const __m512 dw = kp_h16(blk);
        __m512i wv[8];
        if (T == KP_Q8_0) {
            for (int i = 0; i < 8; i++) wv[i] = _mm512_loadu_si512(blk + 32 + 64 * i);
        } else {
            for (int p = 0; p < 4; p++) {
                const __m512i z = _mm512_loadu_si512(blk + 32 + 64 * p);
                wv[p] = _mm512_and_si512(z, m4);
                wv[p + 4] = _mm512_and_si512(_mm512_srli_epi16(z, 4), m4);
            }
        }
        for (int t = 0; t < NT; t++) {
            const int8_t *xq = q[t] + 32 * b;
            /* two chains when few tokens, for latency; integer sums are
             * exact, so the result is the same either way */
            __m512i s0 = _mm512_set1_epi32(off * sq[t][b]);
            if (NT >= 6) {
                for (int i = 0; i < 8; i++) s0 = _mm512_dpbusd_epi32(s0, wv[i], kp_bcast(xq + 4 * i));
            } else {
                __m512i s1 = _mm512_setzero_si512();
                for (int i = 0; i < 4; i++) {
                    s0 = _mm512_dpbusd_epi32(s0, wv[i], kp_bcast(xq + 4 * i));
                    s1 = _mm512_dpbusd_epi32(s1, wv[i + 4], kp_bcast(xq + 16 + 4 * i));
                }
                s0 = _mm512_add_epi32(s0, s1);
            }
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0), _mm512_mul_ps(dw, _mm512_set1_ps(d[t][b])), acc[t]);
        }
    }
    for (int t = 0; t < NT; t++) kp_store(y + t * ldy + g * PK_ROWS, acc[t], kp_valid(pm, g));
}

#define KP_DEF_TOKENS(fname, TILE, ...) \
    static void fname(const struct packed_matrix *pm, int64_t g0, int64_t g1, const char *xa, size_t xs, \
                      size_t xo, int64_t nt, float *y, int64_t ldy) \
    { \
        for (int64_t g = g0; g < g1; g++) \
            for (int64_t t0 = 0; t0 < nt; t0 += 8) { \
                const int n = nt - t0 < 8 ? (int)(nt - t0) : 8; \
                const char *x = xa + (size_t)t0 * xs; \
                float *yt = y + t0 * ldy; \
                _Pragma("GCC diagnostic push") \
                _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") \
                KP_NT_SWITCH(n, TILE) \
                _Pragma("GCC diagnostic pop") \
            } \
    }

#define KP_Q8_0_T(N) kp_q32_tile(KP_Q8_0, N, pm, g, x, xs, xo, yt, ldy)
#define KP_Q4_0_T(N) kp_q32_tile(KP_Q4_0, N, pm, g, x, xs, xo, yt, ldy)
KP_DEF_TOKENS(kp_q8_0, KP_Q8_0_T)
KP_DEF_TOKENS(kp_q4_0, KP_Q4_0_T)

/* ---------------------------------------------------------------- Q4_K */

KP_INLINE void kp_q4k_tile(int NT, const struct packed_matrix *pm, int64_t g, const char *xa, size_t xs, size_t xo,
                           float *y, int64_t ldy)
{
    const int64_t k = pm->k, nb = k / 256;
    const uint8_t *wg = pm->data + (size_t)g * pm->group_bytes;
    const int8_t *q[8];
    const float *d8[8];
    const int16_t *bp[8];
    __m512 acc[8];
    for (int t = 0; t < NT; t++) {
        const char *row = xa + (size_t)t * xs;
        q[t] = ACTK_QS(row);
        d8[t] = ACTK_D(row, k);
        bp[t] = (const int16_t *)(row + xo);
        acc[t] = _mm512_setzero_ps();
    }
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = wg + (size_t)b * PK_Q4_K_BLOCK;
        __m512i tot[8];
        for (int t = 0; t < NT; t++) tot[t] = _mm512_setzero_si512();
        for (int s = 0; s < 8; s++) {
            const int c = s / 2, hi = s & 1;
            kp_prefetch_part(blk, PK_Q4_K_BLOCK, s, 8);
            __m512i wv[8];
            for (int p = 0; p < 8; p++) {
                const __m512i z = _mm512_load_si512(blk + 320 + (c * 8 + p) * 64);
                wv[p] = _mm512_and_si512(hi ? _mm512_srli_epi16(z, 4) : z, m4);
            }
            const __m512i sc = _mm512_cvtepu8_epi32(_mm_load_si128((const __m128i *)(blk + 64 + 16 * s)));
            for (int t = 0; t < NT; t++) {
                const int8_t *xq = q[t] + 256 * b + 32 * s;
                __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
                for (int p = 0; p < 4; p++) {
                    s0 = _mm512_dpbusd_epi32(s0, wv[p], kp_bcast(xq + 4 * p));
                    s1 = _mm512_dpbusd_epi32(s1, wv[p + 4], kp_bcast(xq + 16 + 4 * p));
                }
                tot[t] = _mm512_add_epi32(tot[t], _mm512_mullo_epi32(_mm512_add_epi32(s0, s1), sc));
            }
        }
        const __m512 dd = kp_h16(blk), dm = kp_h16(blk + 32);
        __m512i mins[4];
        for (int i = 0; i < 4; i++)
            mins[i] = _mm512_cvtepu8_epi16(_mm256_load_si256((const __m256i *)(blk + 192 + 32 * i)));
        for (int t = 0; t < NT; t++) {
            __m512i mn = _mm512_setzero_si512();
            for (int i = 0; i < 4; i++) mn = _mm512_dpwssd_epi32(mn, mins[i], kp_bcast(bp[t] + 8 * b + 2 * i));
            const __m512 dx = _mm512_set1_ps(d8[t][b]);
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(tot[t]), _mm512_mul_ps(dd, dx), acc[t]);
            acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mn), _mm512_mul_ps(dm, dx), acc[t]);
        }
    }
    for (int t = 0; t < NT; t++) kp_store(y + t * ldy + g * PK_ROWS, acc[t], kp_valid(pm, g));
}

/* ---------------------------------------------------------------- Q6_K */

KP_INLINE void kp_q6k_tile(int NT, const struct packed_matrix *pm, int64_t g, const char *xa, size_t xs, size_t xo,
                           float *y, int64_t ldy)
{
    (void)xo;
    const int64_t k = pm->k, nb = k / 256;
    const uint8_t *wg = pm->data + (size_t)g * pm->group_bytes;
    const int8_t *q[8];
    const float *d8[8];
    const int16_t *bs[8];
    __m512 acc[8];
    for (int t = 0; t < NT; t++) {
        const char *row = xa + (size_t)t * xs;
        q[t] = ACTK_QS(row);
        d8[t] = ACTK_D(row, k);
        bs[t] = ACTK_BS(row, k);
        acc[t] = _mm512_setzero_ps();
    }
    const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = wg + (size_t)b * PK_Q6_K_BLOCK;
        __m512i tot[8];
        for (int t = 0; t < NT; t++) tot[t] = _mm512_setzero_si512();
        for (int gp = 0; gp < 8; gp++) {
            kp_prefetch_part(blk, PK_Q6_K_BLOCK, gp, 8);
            /* lane r: int16 pair (scale 2gp, scale 2gp+1) of row r */
            const __m512i scp = _mm512_cvtepi8_epi16(_mm256_load_si256((const __m256i *)(blk + 32 + 32 * gp)));
            for (int e = 0; e < 2; e++) {
                const int gi = 2 * gp + e;
                const __m512i sc = e ? _mm512_srai_epi32(scp, 16) : _mm512_srai_epi32(_mm512_slli_epi32(scp, 16), 16);
                const uint8_t *qb = blk + 288 + (size_t)gi * 192;
                const __m512i n0 = _mm512_loadu_si512(qb), n1 = _mm512_loadu_si512(qb + 64);
                const __m512i h = _mm512_loadu_si512(qb + 128);
                const __m512i u0 = _mm512_or_si512(_mm512_and_si512(n0, m4),
                                                   _mm512_and_si512(_mm512_slli_epi16(h, 4), m30));
                const __m512i u1 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(n0, 4), m4),
                                                   _mm512_and_si512(_mm512_slli_epi16(h, 2), m30));
                const __m512i u2 = _mm512_or_si512(_mm512_and_si512(n1, m4), _mm512_and_si512(h, m30));
                const __m512i u3 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(n1, 4), m4),
                                                   _mm512_and_si512(_mm512_srli_epi16(h, 2), m30));
                for (int t = 0; t < NT; t++) {
                    const int8_t *xq = q[t] + 256 * b + 16 * gi;
                    __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u0, kp_bcast(xq));
                    __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u1, kp_bcast(xq + 4));
                    s0 = _mm512_dpbusd_epi32(s0, u2, kp_bcast(xq + 8));
                    s1 = _mm512_dpbusd_epi32(s1, u3, kp_bcast(xq + 12));
                    tot[t] = _mm512_add_epi32(tot[t], _mm512_mullo_epi32(_mm512_add_epi32(s0, s1), sc));
                }
            }
            /* the +32 offset of the stored values: -32 * scale * block sum */
            const __m512i neg = _mm512_sub_epi16(_mm512_setzero_si512(), _mm512_slli_epi16(scp, 5));
            for (int t = 0; t < NT; t++)
                tot[t] = _mm512_dpwssd_epi32(tot[t], neg, kp_bcast(bs[t] + 16 * b + 2 * gp));
        }
        const __m512 dd = kp_h16(blk);
        for (int t = 0; t < NT; t++)
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(tot[t]), _mm512_mul_ps(dd, _mm512_set1_ps(d8[t][b])), acc[t]);
    }
    for (int t = 0; t < NT; t++) kp_store(y + t * ldy + g * PK_ROWS, acc[t], kp_valid(pm, g));
}

#define KP_Q4_K_T(N) kp_q4k_tile(N, pm, g, x, xs, xo, yt, ldy)
#define KP_Q6_K_T(N) kp_q6k_tile(N, pm, g, x, xs, xo, yt, ldy)
KP_DEF_TOKENS(kp_q4_k, KP_Q4_K_T)
KP_DEF_TOKENS(kp_q6_k, KP_Q6_K_T)

packed_kernel_fn packed_kernel_avx512(int type)
{
    switch (type) {
    case TENSOR_TYPE_F16: return kp_f16;
    case TENSOR_TYPE_BF16: return kp_bf16;
    case TENSOR_TYPE_Q8_0: return kp_q8_0;
    case TENSOR_TYPE_Q4_0: return kp_q4_0;
    case TENSOR_TYPE_Q4_K: return kp_q4_k;
    case TENSOR_TYPE_Q6_K: return kp_q6_k;
    default: return NULL;
    }
}

#else
#include "packed_internal.h"
packed_kernel_fn packed_kernel_avx512(int type)
{
    (void)type;
    return NULL;
}
#endif
