/* tensor_types.c - type table, f16/bf16 conversions, row dequantisation and
 * the reference (llama.cpp-compatible) row quantisers. See tensor_types.h. */
#include "tensor_types.h"
#include "kernels_mlx.h"
#include "quant_blocks.h"
#include "kernels.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

struct type_info { const char *name; int64_t blck; size_t bytes; };

static const struct type_info TYPES[TENSOR_TYPE_COUNT] = {
    [TENSOR_TYPE_F32] = {"f32", 1, 4},
    [TENSOR_TYPE_F16] = {"f16", 1, 2},
    [TENSOR_TYPE_Q4_0] = {"q4_0", 32, 18},
    [TENSOR_TYPE_Q4_1] = {"q4_1", 32, 20},
    [4] = {"q4_2", 0, 0},
    [5] = {"q4_3", 0, 0},
    [TENSOR_TYPE_Q5_0] = {"q5_0", 32, 22},
    [TENSOR_TYPE_Q5_1] = {"q5_1", 32, 24},
    [TENSOR_TYPE_Q8_0] = {"q8_0", 32, 34},
    [TENSOR_TYPE_Q8_1] = {"q8_1", 32, 36},
    [TENSOR_TYPE_Q2_K] = {"q2_K", 256, 84},
    [TENSOR_TYPE_Q3_K] = {"q3_K", 256, 110},
    [TENSOR_TYPE_Q4_K] = {"q4_K", 256, 144},
    [TENSOR_TYPE_Q5_K] = {"q5_K", 256, 176},
    [TENSOR_TYPE_Q6_K] = {"q6_K", 256, 210},
    [TENSOR_TYPE_Q8_K] = {"q8_K", 256, 292},
    [TENSOR_TYPE_IQ2_XXS] = {"iq2_xxs", 256, 66},
    [TENSOR_TYPE_IQ2_XS] = {"iq2_xs", 256, 74},
    [TENSOR_TYPE_IQ3_XXS] = {"iq3_xxs", 256, 98},
    [TENSOR_TYPE_IQ1_S] = {"iq1_s", 256, 50},
    [TENSOR_TYPE_IQ4_NL] = {"iq4_nl", 32, 18},
    [TENSOR_TYPE_IQ3_S] = {"iq3_s", 256, 110},
    [TENSOR_TYPE_IQ2_S] = {"iq2_s", 256, 82},
    [TENSOR_TYPE_IQ4_XS] = {"iq4_xs", 256, 136},
    [TENSOR_TYPE_I8] = {"i8", 1, 1},
    [TENSOR_TYPE_I16] = {"i16", 1, 2},
    [TENSOR_TYPE_I32] = {"i32", 1, 4},
    [TENSOR_TYPE_I64] = {"i64", 1, 8},
    [TENSOR_TYPE_F64] = {"f64", 1, 8},
    [TENSOR_TYPE_IQ1_M] = {"iq1_m", 256, 56},
    [TENSOR_TYPE_BF16] = {"bf16", 1, 2},
    [31] = {"q4_0_4_4", 0, 0},
    [32] = {"q4_0_4_8", 0, 0},
    [33] = {"q4_0_8_8", 0, 0},
    [TENSOR_TYPE_TQ1_0] = {"tq1_0", 256, 54},
    [TENSOR_TYPE_TQ2_0] = {"tq2_0", 256, 66},
    [36] = {"iq4_nl_4_4", 0, 0},
    [37] = {"iq4_nl_4_8", 0, 0},
    [38] = {"iq4_nl_8_8", 0, 0},
    [TENSOR_TYPE_MXFP4] = {"mxfp4", 32, 17},
};

const char *tensor_type_name(int type)
{
    if (tensor_mlx_type_is(type)) return tensor_mlx_type_name(type);
    if (type < 0 || type >= TENSOR_TYPE_COUNT || !TYPES[type].name) return "unknown";
    return TYPES[type].name;
}

int tensor_type_from_name(const char *name)
{
    if (!name) return -1;
    for (int t = 0; t < TENSOR_TYPE_COUNT; t++) {
        const char *n = TYPES[t].name;
        if (!n) continue;
        size_t i = 0;
        while (n[i] && name[i] && tolower((unsigned char)n[i]) == tolower((unsigned char)name[i])) i++;
        if (!n[i] && !name[i]) return t;
    }
    return -1;
}

int tensor_type_is_known(int type)
{
    return type >= 0 && type < TENSOR_TYPE_COUNT && TYPES[type].name != NULL;
}

int tensor_type_is_supported(int type)
{
    if (tensor_mlx_type_is(type)) return 1;
    switch (type) {
    case TENSOR_TYPE_F32: case TENSOR_TYPE_F16: case TENSOR_TYPE_BF16:
    case TENSOR_TYPE_Q4_0: case TENSOR_TYPE_Q4_1: case TENSOR_TYPE_Q5_0:
    case TENSOR_TYPE_Q5_1: case TENSOR_TYPE_Q8_0:
    case TENSOR_TYPE_Q2_K: case TENSOR_TYPE_Q3_K: case TENSOR_TYPE_Q4_K:
    case TENSOR_TYPE_Q5_K: case TENSOR_TYPE_Q6_K:
        return 1;
    default:
        return 0;
    }
}

int tensor_type_can_quantize(int type)
{
    if (tensor_mlx_type_is(type)) return 0;
    return tensor_type_is_supported(type) || type == TENSOR_TYPE_Q8_1 || type == TENSOR_TYPE_Q8_K;
}

int64_t tensor_type_block_size(int type)
{
    if (!tensor_type_is_known(type)) return 0;
    return TYPES[type].blck;
}

size_t tensor_type_block_bytes(int type)
{
    if (!tensor_type_is_known(type)) return 0;
    return TYPES[type].bytes;
}

int64_t tensor_row_bytes(int type, int64_t n)
{
    if (tensor_mlx_type_is(type)) return tensor_mlx_row_bytes(type, n);
    int64_t bs = tensor_type_block_size(type);
    if (bs <= 0 || n < 0 || n % bs) return -1;
    int64_t nb = n / bs;
    int64_t bb = (int64_t)TYPES[type].bytes;
    if (nb > INT64_MAX / bb) return -1;
    return nb * bb;
}

/* ------------------------------------------------------------------ */
/* conversions                                                         */

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

#define H2F(h) fp16_to_f32_inline(rd_u16(&(h)))
#define F2H(f) tensor_f32_to_f16(f)

/* ------------------------------------------------------------------ */
/* dequantisation (reads any alignment: blocks are accessed byte-wise  */
/* through memcpy'd halves, so packed structs are not needed)          */

static void dq_q4_0(const block_q4_0 *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        const float d = H2F(x[i].d);
        for (int j = 0; j < 16; ++j) {
            y[i*32 + j] = ((x[i].qs[j] & 0x0F) - 8) * d;
            y[i*32 + j + 16] = ((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

static void dq_q4_1(const block_q4_1 *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        const float d = H2F(x[i].d), m = H2F(x[i].m);
        for (int j = 0; j < 16; ++j) {
            y[i*32 + j] = (x[i].qs[j] & 0x0F) * d + m;
            y[i*32 + j + 16] = (x[i].qs[j] >> 4) * d + m;
        }
    }
}

static void dq_q5_0(const block_q5_0 *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        const float d = H2F(x[i].d);
        const uint32_t qh = rd_u32(x[i].qh);
        for (int j = 0; j < 16; ++j) {
            const uint8_t xh_0 = ((qh >> (j + 0)) << 4) & 0x10;
            const uint8_t xh_1 = ((qh >> (j + 12))) & 0x10;
            y[i*32 + j] = (((x[i].qs[j] & 0x0F) | xh_0) - 16) * d;
            y[i*32 + j + 16] = (((x[i].qs[j] >> 4) | xh_1) - 16) * d;
        }
    }
}

static void dq_q5_1(const block_q5_1 *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        const float d = H2F(x[i].d), m = H2F(x[i].m);
        const uint32_t qh = rd_u32(x[i].qh);
        for (int j = 0; j < 16; ++j) {
            const uint8_t xh_0 = ((qh >> (j + 0)) << 4) & 0x10;
            const uint8_t xh_1 = ((qh >> (j + 12))) & 0x10;
            y[i*32 + j] = ((x[i].qs[j] & 0x0F) | xh_0) * d + m;
            y[i*32 + j + 16] = ((x[i].qs[j] >> 4) | xh_1) * d + m;
        }
    }
}

static void dq_q8_0(const block_q8_0 *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        const float d = H2F(x[i].d);
        for (int j = 0; j < 32; ++j) y[i*32 + j] = x[i].qs[j] * d;
    }
}

static void dq_q8_1(const block_q8_1 *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        const float d = H2F(x[i].d);
        for (int j = 0; j < 32; ++j) y[i*32 + j] = x[i].qs[j] * d;
    }
}

static void dq_q2_K(const block_q2_K *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        const float d = H2F(x[i].d), min = H2F(x[i].dmin);
        const uint8_t *q = x[i].qs;
        int is = 0;
        for (int n = 0; n < QK_K; n += 128) {
            int shift = 0;
            for (int j = 0; j < 4; ++j) {
                uint8_t sc = x[i].scales[is++];
                float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                for (int l = 0; l < 16; ++l) *y++ = dl * ((int8_t)((q[l] >> shift) & 3)) - ml;
                sc = x[i].scales[is++];
                dl = d * (sc & 0xF); ml = min * (sc >> 4);
                for (int l = 0; l < 16; ++l) *y++ = dl * ((int8_t)((q[l + 16] >> shift) & 3)) - ml;
                shift += 2;
            }
            q += 32;
        }
    }
}

/* Unpacks the 16 6-bit signed-offset scales of a Q3_K block (value - 32 not
 * applied). */
void q3k_unpack_scales(const uint8_t *s12, int8_t out[16])
{
    uint32_t aux[4];
    const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
    memcpy(aux, s12, 12);
    uint32_t tmp = aux[2];
    aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
    aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
    aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
    aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
    memcpy(out, aux, 16);
}

static void dq_q3_K(const block_q3_K *x, float *y, int64_t nb)
{
    int8_t scales[16];
    for (int64_t i = 0; i < nb; i++) {
        const float d_all = H2F(x[i].d);
        const uint8_t *q = x[i].qs, *hm = x[i].hmask;
        uint8_t m = 1;
        q3k_unpack_scales(x[i].scales, scales);
        int is = 0;
        for (int n = 0; n < QK_K; n += 128) {
            int shift = 0;
            for (int j = 0; j < 4; ++j) {
                float dl = d_all * (scales[is++] - 32);
                for (int l = 0; l < 16; ++l)
                    *y++ = dl * ((int8_t)((q[l + 0] >> shift) & 3) - ((hm[l + 0] & m) ? 0 : 4));
                dl = d_all * (scales[is++] - 32);
                for (int l = 0; l < 16; ++l)
                    *y++ = dl * ((int8_t)((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) ? 0 : 4));
                shift += 2;
                m <<= 1;
            }
            q += 32;
        }
    }
}

void get_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m)
{
    if (j < 4) {
        *d = q[j] & 63; *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
    }
}

static void dq_q4_K(const block_q4_K *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *q = x[i].qs;
        const float d = H2F(x[i].d), min = H2F(x[i].dmin);
        int is = 0;
        uint8_t sc, m;
        for (int j = 0; j < QK_K; j += 64) {
            get_scale_min_k4(is + 0, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
            q += 32; is += 2;
        }
    }
}

static void dq_q5_K(const block_q5_K *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *ql = x[i].qs, *qh = x[i].qh;
        const float d = H2F(x[i].d), min = H2F(x[i].dmin);
        int is = 0;
        uint8_t sc, m, u1 = 1, u2 = 2;
        for (int j = 0; j < QK_K; j += 64) {
            get_scale_min_k4(is + 0, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
            ql += 32; is += 2;
            u1 <<= 2; u2 <<= 2;
        }
    }
}

static void dq_q6_K(const block_q6_K *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        const float d = H2F(x[i].d);
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *sc = x[i].scales;
        for (int n = 0; n < QK_K; n += 128) {
            for (int l = 0; l < 32; ++l) {
                int is = l / 16;
                const int8_t q1 = (int8_t)((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int8_t q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int8_t q3 = (int8_t)((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int8_t q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l + 0] = d * sc[is + 0] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
            y += 128; ql += 64; qh += 32; sc += 8;
        }
    }
}

static void dq_q8_K(const block_q8_K *x, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        const float d = rd_f32(&x[i].d);
        for (int j = 0; j < QK_K; ++j) *y++ = d * x[i].qs[j];
    }
}

int tensor_dequantize_row(int type, const void *src, float *dst, int64_t n)
{
    if (tensor_mlx_type_is(type)) return tensor_mlx_dequantize_row(type, src, dst, n);
    int64_t bs = tensor_type_block_size(type);
    if (!src || !dst || bs <= 0 || n < 0 || n % bs) return -1;
    int64_t nb = n / bs;
    switch (type) {
    case TENSOR_TYPE_F32: memcpy(dst, src, (size_t)n * 4); return 0;
    case TENSOR_TYPE_F16: kernels_get()->f16_to_f32(src, dst, n); return 0;
    case TENSOR_TYPE_BF16: tensor_bf16_to_f32_row(src, dst, n); return 0;
    case TENSOR_TYPE_Q4_0: dq_q4_0(src, dst, nb); return 0;
    case TENSOR_TYPE_Q4_1: dq_q4_1(src, dst, nb); return 0;
    case TENSOR_TYPE_Q5_0: dq_q5_0(src, dst, nb); return 0;
    case TENSOR_TYPE_Q5_1: dq_q5_1(src, dst, nb); return 0;
    case TENSOR_TYPE_Q8_0: dq_q8_0(src, dst, nb); return 0;
    case TENSOR_TYPE_Q8_1: dq_q8_1(src, dst, nb); return 0;
    case TENSOR_TYPE_Q2_K: dq_q2_K(src, dst, nb); return 0;
    case TENSOR_TYPE_Q3_K: dq_q3_K(src, dst, nb); return 0;
    case TENSOR_TYPE_Q4_K: dq_q4_K(src, dst, nb); return 0;
    case TENSOR_TYPE_Q5_K: dq_q5_K(src, dst, nb); return 0;
    case TENSOR_TYPE_Q6_K: dq_q6_K(src, dst, nb); return 0;
    case TENSOR_TYPE_Q8_K: dq_q8_K(src, dst, nb); return 0;
    default: return -1;
    }
}

/* ------------------------------------------------------------------ */
/* reference quantisers (same arithmetic as llama.cpp's *_ref, so the  */
/* bytes are identical; compiled without FP contraction: ISO C mode)    */

#define GROUP_MAX_EPS 1e-15f

static void q_q4_0(const float *x, block_q4_0 *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 32; j++) {
            const float v = x[i*32 + j];
            if (amax < fabsf(v)) { amax = fabsf(v); max = v; }
        }
        const float d = max / -8;
        const float id = d ? 1.0f / d : 0.0f;
        uint16_t dh = F2H(d); memcpy(&y[i].d, &dh, 2);
        for (int j = 0; j < 16; ++j) {
            const float x0 = x[i*32 + j] * id, x1 = x[i*32 + 16 + j] * id;
            const uint8_t xi0 = MIN(15, (int8_t)(x0 + 8.5f));
            const uint8_t xi1 = MIN(15, (int8_t)(x1 + 8.5f));
            y[i].qs[j] = xi0 | (uint8_t)(xi1 << 4);
        }
    }
}

static void q_q4_1(const float *x, block_q4_1 *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < 32; j++) {
            const float v = x[i*32 + j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        const float d = (max - min) / ((1 << 4) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        uint16_t h = F2H(d); memcpy(&y[i].d, &h, 2);
        h = F2H(min); memcpy(&y[i].m, &h, 2);
        for (int j = 0; j < 16; ++j) {
            const float x0 = (x[i*32 + j] - min) * id, x1 = (x[i*32 + 16 + j] - min) * id;
            const uint8_t xi0 = MIN(15, (int8_t)(x0 + 0.5f));
            const uint8_t xi1 = MIN(15, (int8_t)(x1 + 0.5f));
            y[i].qs[j] = xi0 | (uint8_t)(xi1 << 4);
        }
    }
}

static void q_q5_0(const float *x, block_q5_0 *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 32; j++) {
            const float v = x[i*32 + j];
            if (amax < fabsf(v)) { amax = fabsf(v); max = v; }
        }
        const float d = max / -16;
        const float id = d ? 1.0f / d : 0.0f;
        uint16_t dh = F2H(d); memcpy(&y[i].d, &dh, 2);
        uint32_t qh = 0;
        for (int j = 0; j < 16; ++j) {
            const float x0 = x[i*32 + j] * id, x1 = x[i*32 + 16 + j] * id;
            const uint8_t xi0 = MIN(31, (int8_t)(x0 + 16.5f));
            const uint8_t xi1 = MIN(31, (int8_t)(x1 + 16.5f));
            y[i].qs[j] = (xi0 & 0x0F) | ((xi1 & 0x0F) << 4);
            qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
            qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
        }
        memcpy(y[i].qh, &qh, 4);
    }
}

static void q_q5_1(const float *x, block_q5_1 *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < 32; j++) {
            const float v = x[i*32 + j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        const float d = (max - min) / ((1 << 5) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        uint16_t h = F2H(d); memcpy(&y[i].d, &h, 2);
        h = F2H(min); memcpy(&y[i].m, &h, 2);
        uint32_t qh = 0;
        for (int j = 0; j < 16; ++j) {
            const float x0 = (x[i*32 + j] - min) * id, x1 = (x[i*32 + 16 + j] - min) * id;
            const uint8_t xi0 = (uint8_t)(x0 + 0.5f);
            const uint8_t xi1 = (uint8_t)(x1 + 0.5f);
            y[i].qs[j] = (xi0 & 0x0F) | ((xi1 & 0x0F) << 4);
            qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
            qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
        }
        memcpy(y[i].qh, &qh, 4);
    }
}

static void q_q8_0(const float *x, block_q8_0 *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = MAX(amax, fabsf(x[i*32 + j]));
        const float d = amax / ((1 << 7) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        uint16_t dh = F2H(d); memcpy(&y[i].d, &dh, 2);
        for (int j = 0; j < 32; ++j) y[i].qs[j] = (int8_t)roundf(x[i*32 + j] * id);
    }
}

static void q_q8_1(const float *x, block_q8_1 *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = MAX(amax, fabsf(x[i*32 + j]));
        const float d = amax / ((1 << 7) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        uint16_t h = F2H(d); memcpy(&y[i].d, &h, 2);
        int sum = 0;
        for (int j = 0; j < 16; ++j) {
            y[i].qs[j] = (int8_t)roundf(x[i*32 + j] * id);
            y[i].qs[16 + j] = (int8_t)roundf(x[i*32 + 16 + j] * id);
            sum += y[i].qs[j] + y[i].qs[16 + j];
        }
        h = F2H(sum * d); memcpy(&y[i].s, &h, 2);
    }
}

static void q_q8_K(const float *x, block_q8_K *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        float max = 0, amax = 0;
        for (int j = 0; j < QK_K; ++j) {
            float ax = fabsf(x[j]);
            if (ax > amax) { amax = ax; max = x[j]; }
        }
        block_q8_K b;
        memset(&b, 0, sizeof b);
        if (amax) {
            const float iscale = -127.f / max;
            for (int j = 0; j < QK_K; ++j) {
                int v = nearest_int(iscale * x[j]);
                b.qs[j] = (int8_t)MIN(127, v);
            }
            for (int j = 0; j < QK_K / 16; ++j) {
                int sum = 0;
                for (int ii = 0; ii < 16; ++ii) sum += b.qs[j*16 + ii];
                b.bsums[j] = (int16_t)sum;
            }
            b.d = 1 / iscale;
        }
        memcpy(&y[i], &b, sizeof b);
        x += QK_K;
    }
}

/* ---- K-quant scale searches (llama.cpp's, without importance matrix) ---- */

static float make_qx_quants(int n, int nmax, const float *x, int8_t *L, int rmse_type)
{
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        float ax = fabsf(x[i]);
        if (ax > amax) { amax = ax; max = x[i]; }
    }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    if (rmse_type == 0) {
        for (int i = 0; i < n; ++i) {
            int l = nearest_int(iscale * x[i]);
            L[i] = (int8_t)(nmax + MAX(-nmax, MIN(nmax - 1, l)));
        }
        return 1 / iscale;
    }
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * x[i]);
        l = MAX(-nmax, MIN(nmax - 1, l));
        L[i] = (int8_t)(l + nmax);
        float w = rmse_type == 1 ? x[i] * x[i] : rmse_type == 2 ? 1 : rmse_type == 3 ? fabsf(x[i]) : sqrtf(fabsf(x[i]));
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearest_int(iscale * x[i]);
            l = MAX(-nmax, MIN(nmax - 1, l));
            float w = rmse_type == 1 ? x[i] * x[i] : rmse_type == 2 ? 1 : rmse_type == 3 ? fabsf(x[i]) : sqrtf(fabsf(x[i]));
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) {
                int l = nearest_int(iscale * x[i]);
                L[i] = (int8_t)(nmax + MAX(-nmax, MIN(nmax - 1, l)));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

static float make_q3_quants(int n, int nmax, const float *x, int8_t *L)
{
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        float ax = fabsf(x[i]);
        if (ax > amax) { amax = ax; max = x[i]; }
    }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * x[i]);
        l = MAX(-nmax, MIN(nmax - 1, l));
        L[i] = (int8_t)l;
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int itry = 0; itry < 5; ++itry) {
        int n_changed = 0;
        for (int i = 0; i < n; ++i) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * L[i];
            if (slx > 0) {
                float sl2 = suml2 - w * L[i] * L[i];
                int new_l = nearest_int(x[i] * sl2 / slx);
                new_l = MAX(-nmax, MIN(nmax - 1, new_l));
                if (new_l != L[i]) {
                    slx += w * x[i] * new_l;
                    sl2 += w * new_l * new_l;
                    if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (int8_t)new_l; sumlx = slx; suml2 = sl2;
                        ++n_changed;
                    }
                }
            }
        }
        if (!n_changed) break;
    }
    for (int i = 0; i < n; ++i) L[i] = (int8_t)(L[i] + nmax);
    return sumlx / suml2;
}

static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                              float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
                              bool use_mad)
{
    float min = x[0], max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)MAX(0, MIN(nmax, l));
        float diff = scale * L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += weights[i] * diff;
    }
    if (nstep < 1) {
        *the_min = -min;
        return scale;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearest_int(iscale * (x[i] - min));
            l = MAX(0, MIN(nmax, l));
            Laux[i] = (uint8_t)l;
            float w = weights[i];
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; ++i) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                cur_error += weights[i] * diff;
            }
            if (cur_error < best_error) {
                for (int i = 0; i < n; ++i) L[i] = Laux[i];
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

static void set_h(ggml_half *dst, float f) { uint16_t h = F2H(f); memcpy(dst, &h, 2); }

static void q_q2_K(const float *x, block_q2_K *y, int64_t nb)
{
    uint8_t L[QK_K], Laux[16];
    float weights[16], mins[QK_K / 16], scales[QK_K / 16];
    const float q4scale = 15.f;
    for (int64_t i = 0; i < nb; i++) {
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < QK_K / 16; ++j) {
            for (int l = 0; l < 16; ++l) weights[l] = fabsf(x[16*j + l]);
            scales[j] = make_qkx2_quants(16, 3, x + 16*j, weights, L + 16*j, &mins[j], Laux, -0.5f, 0.1f, 15, true);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        if (max_scale > 0) {
            float iscale = q4scale / max_scale;
            for (int j = 0; j < QK_K / 16; ++j) y[i].scales[j] = (uint8_t)nearest_int(iscale * scales[j]);
            set_h(&y[i].d, max_scale / q4scale);
        } else {
            for (int j = 0; j < QK_K / 16; ++j) y[i].scales[j] = 0;
            set_h(&y[i].d, 0.f);
        }
        if (max_min > 0) {
            float iscale = q4scale / max_min;
            for (int j = 0; j < QK_K / 16; ++j) {
                int l = nearest_int(iscale * mins[j]);
                y[i].scales[j] |= (uint8_t)(l << 4);
            }
            set_h(&y[i].dmin, max_min / q4scale);
        } else {
            set_h(&y[i].dmin, 0.f);
        }
        for (int j = 0; j < QK_K / 16; ++j) {
            const float d = H2F(y[i].d) * (y[i].scales[j] & 0xF);
            if (!d) continue;
            const float dm = H2F(y[i].dmin) * (y[i].scales[j] >> 4);
            for (int ii = 0; ii < 16; ++ii) {
                int l = nearest_int((x[16*j + ii] + dm) / d);
                L[16*j + ii] = (uint8_t)MAX(0, MIN(3, l));
            }
        }
        for (int j = 0; j < QK_K; j += 128)
            for (int l = 0; l < 32; ++l)
                y[i].qs[j/4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
        x += QK_K;
    }
}

static void q_q3_K(const float *x, block_q3_K *y, int64_t nb)
{
    int8_t L[QK_K];
    float scales[QK_K / 16];
    for (int64_t i = 0; i < nb; i++) {
        float max_scale = 0, amax = 0;
        for (int j = 0; j < QK_K / 16; ++j) {
            scales[j] = make_q3_quants(16, 4, x + 16*j, L + 16*j);
            float scale = fabsf(scales[j]);
            if (scale > amax) { amax = scale; max_scale = scales[j]; }
        }
        memset(y[i].scales, 0, 12);
        if (max_scale) {
            float iscale = -32.f / max_scale;
            for (int j = 0; j < QK_K / 16; ++j) {
                int8_t l = (int8_t)nearest_int(iscale * scales[j]);
                l = (int8_t)(MAX(-32, MIN(31, l)) + 32);
                if (j < 8) y[i].scales[j] = l & 0xF;
                else y[i].scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
                l >>= 4;
                y[i].scales[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
            }
            set_h(&y[i].d, 1 / iscale);
        } else {
            set_h(&y[i].d, 0.f);
        }
        for (int j = 0; j < QK_K / 16; ++j) {
            int8_t sc = j < 8 ? y[i].scales[j] & 0xF : y[i].scales[j - 8] >> 4;
            sc = (int8_t)((sc | (((y[i].scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
            float d = H2F(y[i].d) * sc;
            if (!d) continue;
            for (int ii = 0; ii < 16; ++ii) {
                int l = nearest_int(x[16*j + ii] / d);
                l = MAX(-4, MIN(3, l));
                L[16*j + ii] = (int8_t)(l + 4);
            }
        }
        memset(y[i].hmask, 0, QK_K / 8);
        int m = 0;
        uint8_t hm = 1;
        for (int j = 0; j < QK_K; ++j) {
            if (L[j] > 3) { y[i].hmask[m] |= hm; L[j] -= 4; }
            if (++m == QK_K / 8) { m = 0; hm <<= 1; }
        }
        for (int j = 0; j < QK_K; j += 128)
            for (int l = 0; l < 32; ++l)
                y[i].qs[j/4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
        x += QK_K;
    }
}

/* Q4_K and Q5_K share the scale search and the 6-bit scale packing. */
static void qk_scales_mins(const float *x, int nmax, float rmin, int nstep, uint8_t *L,
                           uint8_t s12[12], ggml_half *d, ggml_half *dmin)
{
    uint8_t Laux[32];
    float weights[32], mins[QK_K / 32], scales[QK_K / 32];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < QK_K / 32; ++j) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l) sum_x2 += x[32*j + l] * x[32*j + l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) weights[l] = av_x + fabsf(x[32*j + l]);
        scales[j] = make_qkx2_quants(32, nmax, x + 32*j, weights, L + 32*j, &mins[j], Laux, rmin, 0.1f, nstep, false);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < QK_K / 32; ++j) {
        uint8_t ls = (uint8_t)nearest_int(inv_scale * scales[j]);
        uint8_t lm = (uint8_t)nearest_int(inv_min * mins[j]);
        ls = MIN(63, ls);
        lm = MIN(63, lm);
        if (j < 4) {
            s12[j] = ls;
            s12[j + 4] = lm;
        } else {
            s12[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
            s12[j - 4] |= (uint8_t)((ls >> 4) << 6);
            s12[j - 0] |= (uint8_t)((lm >> 4) << 6);
        }
    }
    set_h(d, max_scale / 63.f);
    set_h(dmin, max_min / 63.f);
    uint8_t sc, m;
    for (int j = 0; j < QK_K / 32; ++j) {
        get_scale_min_k4(j, s12, &sc, &m);
        const float dd = H2F(*d) * sc;
        if (!dd) continue;
        const float dm = H2F(*dmin) * m;
        for (int ii = 0; ii < 32; ++ii) {
            int l = nearest_int((x[32*j + ii] + dm) / dd);
            L[32*j + ii] = (uint8_t)MAX(0, MIN(nmax, l));
        }
    }
}

static void q_q4_K(const float *x, block_q4_K *y, int64_t nb)
{
    uint8_t L[QK_K];
    for (int64_t i = 0; i < nb; i++) {
        memset(y[i].scales, 0, 12);
        qk_scales_mins(x, 15, -1.f, 20, L, y[i].scales, &y[i].d, &y[i].dmin);
        uint8_t *q = y[i].qs;
        for (int j = 0; j < QK_K; j += 64) {
            for (int l = 0; l < 32; ++l) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
            q += 32;
        }
        x += QK_K;
    }
}

static void q_q5_K(const float *x, block_q5_K *y, int64_t nb)
{
    uint8_t L[QK_K];
    for (int64_t i = 0; i < nb; i++) {
        memset(y[i].scales, 0, 12);
        qk_scales_mins(x, 31, -0.5f, 15, L, y[i].scales, &y[i].d, &y[i].dmin);
        uint8_t *qh = y[i].qh, *ql = y[i].qs;
        memset(qh, 0, QK_K / 8);
        uint8_t m1 = 1, m2 = 2;
        for (int n = 0; n < QK_K; n += 64) {
            for (int j = 0; j < 32; ++j) {
                int l1 = L[n + j];
                if (l1 > 15) { l1 -= 16; qh[j] |= m1; }
                int l2 = L[n + j + 32];
                if (l2 > 15) { l2 -= 16; qh[j] |= m2; }
                ql[j] = (uint8_t)(l1 | (l2 << 4));
            }
            m1 <<= 2; m2 <<= 2;
            ql += 32;
        }
        x += QK_K;
    }
}

static void q_q6_K(const float *x, block_q6_K *y, int64_t nb)
{
    int8_t L[QK_K];
    float scales[QK_K / 16];
    for (int64_t i = 0; i < nb; i++) {
        float max_scale = 0, max_abs_scale = 0;
        for (int ib = 0; ib < QK_K / 16; ++ib) {
            const float scale = make_qx_quants(16, 32, x + 16*ib, L + 16*ib, 1);
            scales[ib] = scale;
            const float abs_scale = fabsf(scale);
            if (abs_scale > max_abs_scale) { max_abs_scale = abs_scale; max_scale = scale; }
        }
        if (max_abs_scale < GROUP_MAX_EPS) {
            memset(&y[i], 0, sizeof(block_q6_K));
            x += QK_K;
            continue;
        }
        float iscale = -128.f / max_scale;
        set_h(&y[i].d, 1 / iscale);
        for (int ib = 0; ib < QK_K / 16; ++ib) y[i].scales[ib] = (int8_t)MIN(127, nearest_int(iscale * scales[ib]));
        for (int j = 0; j < QK_K / 16; ++j) {
            float d = H2F(y[i].d) * y[i].scales[j];
            if (!d) continue;
            for (int ii = 0; ii < 16; ++ii) {
                int l = nearest_int(x[16*j + ii] / d);
                l = MAX(-32, MIN(31, l));
                L[16*j + ii] = (int8_t)(l + 32);
            }
        }
        uint8_t *ql = y[i].ql, *qh = y[i].qh;
        for (int j = 0; j < QK_K; j += 128) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t q1 = L[j + l + 0] & 0xF, q2 = L[j + l + 32] & 0xF;
                const uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                ql[l + 0] = (uint8_t)(q1 | (q3 << 4));
                ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
                qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
            }
            ql += 64; qh += 32;
        }
        x += QK_K;
    }
}

int64_t tensor_quantize_row(int type, const float *src, void *dst, int64_t n)
{
    int64_t bytes = tensor_row_bytes(type, n);
    if (bytes < 0 || !src || !dst || !tensor_type_can_quantize(type)) return -1;
    int64_t nb = n / tensor_type_block_size(type);
    switch (type) {
    case TENSOR_TYPE_F32: memcpy(dst, src, (size_t)n * 4); break;
    case TENSOR_TYPE_F16: {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = tensor_f32_to_f16(src[i]);
        break;
    }
    case TENSOR_TYPE_BF16: tensor_f32_to_bf16_row(src, dst, n); break;
    case TENSOR_TYPE_Q4_0: q_q4_0(src, dst, nb); break;
    case TENSOR_TYPE_Q4_1: q_q4_1(src, dst, nb); break;
    case TENSOR_TYPE_Q5_0: q_q5_0(src, dst, nb); break;
    case TENSOR_TYPE_Q5_1: q_q5_1(src, dst, nb); break;
    case TENSOR_TYPE_Q8_0: q_q8_0(src, dst, nb); break;
    case TENSOR_TYPE_Q8_1: q_q8_1(src, dst, nb); break;
    case TENSOR_TYPE_Q8_K: q_q8_K(src, dst, nb); break;
    case TENSOR_TYPE_Q2_K: q_q2_K(src, dst, nb); break;
    case TENSOR_TYPE_Q3_K: q_q3_K(src, dst, nb); break;
    case TENSOR_TYPE_Q4_K: q_q4_K(src, dst, nb); break;
    case TENSOR_TYPE_Q5_K: q_q5_K(src, dst, nb); break;
    case TENSOR_TYPE_Q6_K: q_q6_K(src, dst, nb); break;
    default: return -1;
    }
    return bytes;
}

int64_t tensor_quantize_rows(int type, const float *src, void *dst, int64_t nrows, int64_t n_per_row)
{
    int64_t rb = tensor_row_bytes(type, n_per_row);
    if (rb < 0 || nrows < 0) return -1;
    for (int64_t r = 0; r < nrows; r++)
        if (tensor_quantize_row(type, src + r * n_per_row, (char *)dst + r * rb, n_per_row) < 0) return -1;
    return rb * nrows;
}
