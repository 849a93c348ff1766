/* half_float.c - IEEE half and bfloat16 conversions, scalar and by row
 * (see tensor_types.h). */
#include "tensor/tensor_types.h"

#include "tensor/kernels.h"
#include "tensor/quant_blocks.h"

#include <string.h>

static inline uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float tensor_f16_to_f32(uint16_t h) { return fp16_to_f32_inline(h); }

/* Round-to-nearest-even f32 -> f16 by integer arithmetic (no dependence on
 * the FPU's rounding mode or contraction). */
uint16_t tensor_f32_to_f16(float f)
{
    uint32_t x = f2u(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    x &= 0x7fffffffu;
    if (x >= 0x7f800000u) { /* inf or NaN */
        if (x == 0x7f800000u) return sign | 0x7c00;
        return sign | 0x7e00 | (uint16_t)((x >> 13) & 0x3ff);
    }
    if (x >= 0x477ff000u) return sign | 0x7c00; /* >= 65520: overflow */
    if (x >= 0x38800000u) { /* normal f16 */
        uint32_t r = x + 0x0fffu + ((x >> 13) & 1); /* round mantissa to 10 bits */
        r -= (uint32_t)(127 - 15) << 23;
        return sign | (uint16_t)(r >> 13);
    }
    /* subnormal f16 or zero: value = m * 2^-24 */
    if (x < 0x33000000u) return sign; /* < 2^-25: rounds to 0 (2^-25 ties to even 0) */
    uint32_t e = x >> 23;                 /* 102..112 */
    uint32_t m = (x & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - e;             /* m * 2^(e-150) / 2^-24 = m >> (126-e) */
    uint32_t q = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    return sign | (uint16_t)q;
}

float tensor_bf16_to_f32(uint16_t h) { return u2f((uint32_t)h << 16); }

uint16_t tensor_f32_to_bf16(float f)
{
    uint32_t u = f2u(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 64); /* quiet NaN */
    return (uint16_t)((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}

void tensor_f16_to_f32_row(const uint16_t *src, float *dst, int64_t n)
{
    kernels_get()->f16_to_f32(src, dst, n);
}
void tensor_f32_to_f16_row(const float *src, uint16_t *dst, int64_t n)
{
    kernels_get()->f32_to_f16(src, dst, n);
}
void tensor_bf16_to_f32_row(const uint16_t *src, float *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dst[i] = u2f((uint32_t)rd_u16(src + i) << 16);
}
void tensor_f32_to_bf16_row(const float *src, uint16_t *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dst[i] = tensor_f32_to_bf16(src[i]);
}
