/* dequant_rows.c - the row decoders of every block type this library
 * reads, bit-exact with llama.cpp's dequantize_row_*. Blocks are read
 * byte-wise through memcpy'd halves: any alignment will do. */
#include "tensor/quant_rows.h"

#include "tensor/kernels.h"
#include "tensor/quant_blocks.h"

#include <string.h>

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


/* The decoders as the type table calls them: n elements. */
int row_decode_f32(int type, const void *src, float *dst, int64_t n)
{
    (void)type;
    memcpy(dst, src, (size_t)n * 4);
    return 0;
}
int row_decode_f16(int type, const void *src, float *dst, int64_t n)
{
    (void)type;
    kernels_get()->f16_to_f32(src, dst, n);
    return 0;
}
int row_decode_bf16(int type, const void *src, float *dst, int64_t n)
{
    (void)type;
    tensor_bf16_to_f32_row(src, dst, n);
    return 0;
}
#define BLOCK_DECODER(t, qk) \
    int row_decode_##t(int type, const void *src, float *dst, int64_t n) \
    { \
        (void)type; \
        dq_##t(src, dst, n / (qk)); \
        return 0; \
    }
BLOCK_DECODER(q4_0, QK4_0)
BLOCK_DECODER(q4_1, QK4_1)
BLOCK_DECODER(q5_0, QK5_0)
BLOCK_DECODER(q5_1, QK5_1)
BLOCK_DECODER(q8_0, QK8_0)
BLOCK_DECODER(q8_1, QK8_1)
BLOCK_DECODER(q2_K, QK_K)
BLOCK_DECODER(q3_K, QK_K)
BLOCK_DECODER(q4_K, QK_K)
BLOCK_DECODER(q5_K, QK_K)
BLOCK_DECODER(q6_K, QK_K)
BLOCK_DECODER(q8_K, QK_K)
