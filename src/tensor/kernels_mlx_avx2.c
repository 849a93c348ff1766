/* kernels_mlx_avx2.c - AVX2/FMA/F16C row dot product over MLX affine blocks
 * (layout in kernels_mlx.h). Compiled with -mavx2 -mfma -mf16c (file-name
 * suffix); called only when cpu_level() >= CPU_LEVEL_AVX2.
 *
 * Per group: acc_g = sum_j q_j x_j as 8-lane FMAs on q widened to f32; the
 * row total is sum_g scale_g * acc_g + bias_g * xsum_g. 4-bit bytes hold
 * element 2i in the low nibble and 2i+1 in the high one, so the nibbles are
 * split and re-interleaved with unpacklo/hi_epi8 to restore element order. */
#include "tensor/kernels_mlx_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

static inline float scale_at(const unsigned char *p, int scale_kind)
{
    if (scale_kind == TENSOR_MLX_SCALE_F32) {
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, p, 2);
    if (scale_kind == TENSOR_MLX_SCALE_BF16) {
        uint32_t u = (uint32_t)h << 16;
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    return _cvtsh_ss(h);
}

static inline __m256 widen8(__m128i bytes)
{
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
}

static inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __m256 group_q4(const unsigned char *q, const float *x, int group)
{
    const __m128i mask = _mm_set1_epi8(0x0F);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (int i = 0; i < group; i += 32) {
        __m128i b = _mm_loadu_si128((const __m128i *)(q + i / 2));
        __m128i lo = _mm_and_si128(b, mask), hi = _mm_and_si128(_mm_srli_epi16(b, 4), mask);
        /* 16 elements as u16 in each half, then widened to i32 in halves */
        __m256i e0 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(lo, hi));
        __m256i e1 = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(lo, hi));
        a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(e0))),
                             _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(e0, 1))),
                             _mm256_loadu_ps(x + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(e1))),
                             _mm256_loadu_ps(x + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(e1, 1))),
                             _mm256_loadu_ps(x + i + 24), a3);
    }
    return _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
}

static inline __m256 group_q8(const unsigned char *q, const float *x, int group)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    for (int i = 0; i < group; i += 16) {
        a0 = _mm256_fmadd_ps(widen8(_mm_loadl_epi64((const __m128i *)(q + i))), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(widen8(_mm_loadl_epi64((const __m128i *)(q + i + 8))), _mm256_loadu_ps(x + i + 8), a1);
    }
    return _mm256_add_ps(a0, a1);
}

float tensor_mlx_row_dot_avx2(const unsigned char *row, const float *x, const float *xsum, int64_t groups,
                              int group, int bits, int scale_kind)
{
    const size_t sb = scale_kind == TENSOR_MLX_SCALE_F32 ? 4 : 2;
    const size_t bb = 2 * sb + (size_t)group * (size_t)bits / 8;
    __m256 acc = _mm256_setzero_ps();
    float bias_sum = 0.0f;
    for (int64_t g = 0; g < groups; g++, row += bb) {
        const float scale = scale_at(row, scale_kind), bias = scale_at(row + sb, scale_kind);
        const unsigned char *q = row + 2 * sb;
        const float *xg = x + g * group;
        __m256 d = bits == 4 ? group_q4(q, xg, group) : group_q8(q, xg, group);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(scale), d, acc);
        bias_sum += bias * xsum[g];
    }
    return hsum(acc) + bias_sum;
}
#endif
