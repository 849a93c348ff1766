/* quant_blocks.h - INTERNAL to src/tensor: ggml block layouts (bit-exact with
 * llama.cpp's ggml-common.h), the on-the-fly activation formats of the
 * matmul, and small shared helpers. Not for use outside src/tensor. */
#ifndef INF_TENSOR_QUANT_BLOCKS_H
#define INF_TENSOR_QUANT_BLOCKS_H

#include <stdint.h>
#include <string.h>
#include "tensor_types.h"

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define QK_K 256
#define K_SCALE_SIZE 12

typedef uint16_t ggml_half;

typedef struct { ggml_half d; uint8_t qs[QK4_0 / 2]; } block_q4_0;              /* 18 */
typedef struct { ggml_half d; ggml_half m; uint8_t qs[QK4_1 / 2]; } block_q4_1; /* 20 */
typedef struct { ggml_half d; uint8_t qh[4]; uint8_t qs[QK5_0 / 2]; } block_q5_0; /* 22 */
typedef struct { ggml_half d; ggml_half m; uint8_t qh[4]; uint8_t qs[QK5_1 / 2]; } block_q5_1; /* 24 */
typedef struct { ggml_half d; int8_t qs[QK8_0]; } block_q8_0;                   /* 34 */
typedef struct { ggml_half d; ggml_half s; int8_t qs[QK8_1]; } block_q8_1;      /* 36 */
typedef struct { uint8_t scales[QK_K / 16]; uint8_t qs[QK_K / 4]; ggml_half d; ggml_half dmin; } block_q2_K; /* 84 */
typedef struct { uint8_t hmask[QK_K / 8]; uint8_t qs[QK_K / 4]; uint8_t scales[12]; ggml_half d; } block_q3_K; /* 110 */
typedef struct { ggml_half d; ggml_half dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qs[QK_K / 2]; } block_q4_K; /* 144 */
typedef struct { ggml_half d; ggml_half dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qh[QK_K / 8]; uint8_t qs[QK_K / 2]; } block_q5_K; /* 176 */
typedef struct { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; ggml_half d; } block_q6_K; /* 210 */
typedef struct { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; } block_q8_K; /* 292 */

_Static_assert(sizeof(block_q4_0) == 18, "q4_0");
_Static_assert(sizeof(block_q4_1) == 20, "q4_1");
_Static_assert(sizeof(block_q5_0) == 22, "q5_0");
_Static_assert(sizeof(block_q5_1) == 24, "q5_1");
_Static_assert(sizeof(block_q8_0) == 34, "q8_0");
_Static_assert(sizeof(block_q8_1) == 36, "q8_1");
_Static_assert(sizeof(block_q2_K) == 84, "q2_K");
_Static_assert(sizeof(block_q3_K) == 110, "q3_K");
_Static_assert(sizeof(block_q4_K) == 144, "q4_K");
_Static_assert(sizeof(block_q5_K) == 176, "q5_K");
_Static_assert(sizeof(block_q6_K) == 210, "q6_K");
_Static_assert(sizeof(block_q8_K) == 292, "q8_K");

/* Weight pointers come from memory-mapped files at any 2-byte offset: read
 * multi-byte fields with these (memcpy compiles to a plain load). */
static inline uint16_t rd_u16(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t rd_u32(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline float rd_f32(const void *p) { float v; memcpy(&v, p, 4); return v; }

/* Fast exact f16 -> f32 (table-free bit manipulation). */
static inline float fp16_to_f32_inline(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else { /* subnormal: normalise */
            int e = -1;
            do { man <<= 1; e++; } while (!(man & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7f800000u | (man << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    float f; memcpy(&f, &bits, 4); return f;
}

/* ggml's nearest_int: round half to even, for |f| <= 4194303. */
static inline int nearest_int(float fval)
{
    float val = fval + 12582912.f;
    int i; memcpy(&i, &val, sizeof(int));
    return (i & 0x007fffff) - 0x00400000;
}

/* ---- activation formats used inside tensor_matmul ----
 * ACT32 (for Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 weights), one row of k = 32*nb:
 *   int8_t qs[k]; float d[nb]; float ds[nb];
 *   x[j] ~= d[j/32] * qs[j]; ds[b] = d[b] * sum(qs of block b).
 *   d is the f16-rounded scale amax/127 (as llama.cpp's Q8_0/Q8_1), qs
 *   rounded to nearest even.
 * ACTK (for the K-quants), one row of k = 256*nb:
 *   int8_t qs[k]; float d[nb]; int16_t bsums[k/16];
 *   exactly llama.cpp's block_q8_K content, struct-of-arrays.
 * Rows are padded to 64 bytes. */
static inline size_t act32_row_bytes(int64_t k)
{
    size_t b = (size_t)k + 8 * (size_t)(k / 32);
    return (b + 63) & ~(size_t)63;
}
static inline size_t actk_row_bytes(int64_t k)
{
    size_t b = (size_t)k + 4 * (size_t)(k / 256) + 2 * (size_t)(k / 16);
    return (b + 63) & ~(size_t)63;
}
#define ACT32_QS(row) ((const int8_t *)(row))
#define ACT32_D(row, k) ((const float *)((const char *)(row) + (k)))
#define ACT32_DS(row, k) ((const float *)((const char *)(row) + (k) + 4 * ((k) / 32)))
#define ACTK_QS(row) ((const int8_t *)(row))
#define ACTK_D(row, k) ((const float *)((const char *)(row) + (k)))
#define ACTK_BS(row, k) ((const int16_t *)((const char *)(row) + (k) + 4 * ((k) / 256)))

#endif
