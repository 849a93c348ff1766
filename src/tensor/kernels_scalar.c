/* kernels_scalar.c - the portable reference kernels for every type, and the
 * kernel-table dispatch. Every SIMD kernel is tested against these. */
#include "kernels.h"
#include "quant_blocks.h"
#include "cpu_features.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define H2F(h) fp16_to_f32_inline(rd_u16(&(h)))

/* ---- activation quantisation ---- */

static void quant_act32_scalar(const float *x, void *dst, int64_t k)
{
    int8_t *qs = dst;
    float *d = (float *)((char *)dst + k);
    float *ds = d + k / 32;
    for (int64_t b = 0; b < k / 32; b++) {
        const float *xb = x + b * 32;
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(xb[j]));
        const float dd = amax / 127.0f;
        const float id = dd ? 1.0f / dd : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            int v = nearest_int(xb[j] * id);
            qs[b * 32 + j] = (int8_t)v;
            sum += v;
        }
        const float dh = fp16_to_f32_inline(tensor_f32_to_f16(dd));
        d[b] = dh;
        ds[b] = dh * (float)sum;
    }
}

static void quant_actk_scalar(const float *x, void *dst, int64_t k)
{
    int8_t *qs = dst;
    float *d = (float *)((char *)dst + k);
    int16_t *bs = (int16_t *)(d + k / 256);
    for (int64_t b = 0; b < k / 256; b++) {
        const float *xb = x + b * 256;
        float max = 0, amax = 0;
        for (int j = 0; j < 256; ++j) {
            float ax = fabsf(xb[j]);
            if (ax > amax) { amax = ax; max = xb[j]; }
        }
        int8_t *q = qs + b * 256;
        if (!amax) {
            d[b] = 0;
            memset(q, 0, 256);
            memset(bs + b * 16, 0, 32);
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < 256; ++j) {
            int v = nearest_int(iscale * xb[j]);
            q[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < 16; ++j) {
            int sum = 0;
            for (int ii = 0; ii < 16; ++ii) sum += q[j * 16 + ii];
            bs[b * 16 + j] = (int16_t)sum;
        }
        d[b] = 1 / iscale;
    }
}

/* ---- dots: one weight row x nc activation rows ---- */

#define FOR_COLS(...) \
    for (int c = 0; c < nc; c++) { \
        const void *xc = (const char *)xa + (size_t)c * xa_stride; \
        (void)xc; __VA_ARGS__; \
    }

static void dot_f32_scalar(int64_t k, const void *w, const void *xa, size_t xa_stride,
                           int nc, float *out, int64_t os)
{
    const float *wf = w; /* any alignment is fine in C for float? use memcpy */
    FOR_COLS({
        const float *xf = xc;
        float s = 0;
        for (int64_t j = 0; j < k; j++) s += rd_f32(wf + j) * xf[j];
        out[c * os] = s;
    })
}

static void dot_f16_scalar(int64_t k, const void *w, const void *xa, size_t xa_stride,
                           int nc, float *out, int64_t os)
{
    const uint16_t *wh = w;
    FOR_COLS({
        const float *xf = xc;
        float s = 0;
        for (int64_t j = 0; j < k; j++) s += fp16_to_f32_inline(rd_u16(wh + j)) * xf[j];
        out[c * os] = s;
    })
}

static void dot_bf16_scalar(int64_t k, const void *w, const void *xa, size_t xa_stride,
                            int nc, float *out, int64_t os)
{
    const uint16_t *wh = w;
    FOR_COLS({
        const float *xf = xc;
        float s = 0;
        for (int64_t j = 0; j < k; j++) s += tensor_bf16_to_f32(rd_u16(wh + j)) * xf[j];
        out[c * os] = s;
    })
}

static void dot_q4_0_scalar(int64_t k, const void *w, const void *xa, size_t xa_stride,
                            int nc, float *out, int64_t os)
{
    const block_q4_0 *wb = w;
    FOR_COLS({
        const int8_t *q8 = ACT32_QS(xc);
        const float *d8 = ACT32_D(xc, k);
        float s = 0;
        for (int64_t b = 0; b < k / 32; b++) {
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                sumi += ((wb[b].qs[j] & 0xF) - 8) * q8[b * 32 + j];
                sumi += ((wb[b].qs[j] >> 4) - 8) * q8[b * 32 + j + 16];
            }
            s += (float)sumi * (H2F(wb[b].d) * d8[b]);
        }
        out[c * os] = s;
    })
}

static void dot_q4_1_scalar(int64_t k, const void *w, const void *xa, size_t xa_stride,
                            int nc, float *out, int64_t os)
{
    const block_q4_1 *wb = w;
    FOR_COLS({
        const int8_t *q8 = ACT32_QS(xc);
        const float *d8 = ACT32_D(xc, k), *s8 = ACT32_DS(xc, k);
        float s = 0;
        for (int64_t b = 0; b < k / 32; b++) {
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                sumi += (wb[b].qs[j] & 0xF) * q8[b * 32 + j];
                sumi += (wb[b].qs[j] >> 4) * q8[b * 32 + j + 16];
            }
            s += (float)sumi * (H2F(wb[b].d) * d8[b]) + H2F(wb[b].m) * s8[b];
        }
        out[c * os] = s;
    })
}

static void dot_q5_0_scalar(int64_t k, const void *w, const void *xa, size_t xa_stride,
                            int nc, float *out, int64_t os)
{
    const block_q5_0 *wb = w;
    FOR_COLS({
        const int8_t *q8 = ACT32_QS(xc);
        const float *d8 = ACT32_D(xc, k);
        float s = 0;
        for (int64_t b = 0; b < k / 32; b++) {
            const uint32_t qh = rd_u32(wb[b].qh);
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                const int x0 = ((wb[b].qs[j] & 0xF) | (((qh >> j) << 4) & 0x10)) - 16;
                const int x1 = ((wb[b].qs[j] >> 4) | ((qh >> (j + 12)) & 0x10)) - 16;
                sumi += x0 * q8[b * 32 + j] + x1 * q8[b * 32 + j + 16];
            }
            s += (float)sumi * (H2F(wb[b].d) * d8[b]);
        }
        out[c * os] = s;
    })
}

static void dot_q5_1_scalar(int64_t k, const void *w, const void *xa, size_t xa_stride,
                            int nc, float *out, int64_t os)
{
    const block_q5_1 *wb = w;
    FOR_COLS({
        const int8_t *q8 = ACT32_QS(xc);
        const float *d8 = ACT32_D(xc, k), *s8 = ACT32_DS(xc, k);
        float s = 0;
        for (int64_t b = 0; b < k / 32; b++) {
            const uint32_t qh = rd_u32(wb[b].qh);
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                const int x0 = (wb[b].qs[j] & 0xF) | (((qh >> j) << 4) & 0x10);
                const int x1 = (wb[b].qs[j] >> 4) | ((qh >> (j + 12)) & 0x10);
                sumi += x0 * q8[b * 32 + j] + x1 * q8[b * 32 + j + 16];
            }
            s += (float)sumi * (H2F(wb[b].d) * d8[b]) + H2F(wb[b].m) * s8[b];
        }
        out[c * os] = s;
    })
}

static void dot_q8_0_scalar(int64_t k, const void *w, const void *xa, size_t xa_stride,
                            int nc, float *out, int64_t os)
{
    const block_q8_0 *wb = w;
    FOR_COLS({
        const int8_t *q8 = ACT32_QS(xc);
        const float *d8 = ACT32_D(xc, k);
        float s = 0;
        for (int64_t b = 0; b < k / 32; b++) {
            int sumi = 0;
            for (int j = 0; j < 32; j++) sumi += wb[b].qs[j] * q8[b * 32 + j];
            s += (float)sumi * (H2F(wb[b].d) * d8[b]);
        }
        out[c * os] = s;
    })
}

/* K-quants: each super-block is unpacked to 256 signed integer quants and 16
 * integer scales (one per 16 elements), plus an optional min part. */

static void dot_q2_K_scalar(int64_t k, const void *w, const void *xa, size_t xa_stride,
                            int nc, float *out, int64_t os)
{
    const block_q2_K *wb = w;
    FOR_COLS({
        const int8_t *q8 = ACTK_QS(xc);
        const float *d8 = ACTK_D(xc, k);
        const int16_t *bs = ACTK_BS(xc, k);
        float s = 0;
        for (int64_t b = 0; b < k / 256; b++) {
            const uint8_t *sc = wb[b].scales;
            const int8_t *qx = q8 + b * 256;
            int summs = 0, isum = 0;
            for (int j = 0; j < 16; j++) summs += (sc[j] >> 4) * bs[b * 16 + j];
            for (int e = 0; e < 256; e += 16) {
                int isuml = 0;
                for (int l = 0; l < 16; l++) {
                    const int ee = e + l, n = ee / 128, j = (ee % 128) / 32, ll = ee % 32;
                    isuml += qx[ee] * ((wb[b].qs[n * 32 + ll] >> (2 * j)) & 3);
                }
                isum += (sc[e / 16] & 0xF) * isuml;
            }
            const float dall = d8[b] * H2F(wb[b].d), dmin = d8[b] * H2F(wb[b].dmin);
            s += dall * (float)isum - dmin * (float)summs;
        }
        out[c * os] = s;
    })
}

static void dot_q3_K_scalar(int64_t k, const void *w, const void *xa, size_t xa_stride,
                            int nc, float *out, int64_t os)
{
    const block_q3_K *wb = w;
    int8_t scales[16];
    FOR_COLS({
        const int8_t *q8 = ACTK_QS(xc);
        const float *d8 = ACTK_D(xc, k);
        float s = 0;
        for (int64_t b = 0; b < k / 256; b++) {
            const int8_t *qx = q8 + b * 256;
            q3k_unpack_scales(wb[b].scales, scales);
            int isum = 0;
            for (int e = 0; e < 256; e += 16) {
                int isuml = 0;
                for (int l = 0; l < 16; l++) {
                    const int ee = e + l, n = ee / 128, j = (ee % 128) / 32, ll = ee % 32;
                    int v = (wb[b].qs[n * 32 + ll] >> (2 * j)) & 3;
                    if (!(wb[b].hmask[ll] & (1 << (n * 4 + j)))) v -= 4;
                    isuml += qx[ee] * v;
                }
                isum += (scales[e / 16] - 32) * isuml;
            }
            s += d8[b] * H2F(wb[b].d) * (float)isum;
        }
        out[c * os] = s;
    })
}

static void dot_q4_K_scalar(int64_t k, const void *w, const void *xa, size_t xa_stride,
                            int nc, float *out, int64_t os)
{
    const block_q4_K *wb = w;
    FOR_COLS({
        const int8_t *q8 = ACTK_QS(xc);
        const float *d8 = ACTK_D(xc, k);
        const int16_t *bs = ACTK_BS(xc, k);
        float s = 0;
        for (int64_t b = 0; b < k / 256; b++) {
            const int8_t *qx = q8 + b * 256;
            int isum = 0, summs = 0;
            for (int sb = 0; sb < 8; sb++) {
                uint8_t sc, m;
                get_scale_min_k4(sb, wb[b].scales, &sc, &m);
                const uint8_t *q = wb[b].qs + (sb / 2) * 32;
                const int shift = (sb & 1) * 4;
                int isuml = 0;
                for (int l = 0; l < 32; l++) isuml += qx[sb * 32 + l] * ((q[l] >> shift) & 0xF);
                isum += sc * isuml;
                summs += m * (bs[b * 16 + 2 * sb] + bs[b * 16 + 2 * sb + 1]);
            }
            s += d8[b] * H2F(wb[b].d) * (float)isum - d8[b] * H2F(wb[b].dmin) * (float)summs;
        }
        out[c * os] = s;
    })
}

static void dot_q5_K_scalar(int64_t k, const void *w, const void *xa, size_t xa_stride,
                            int nc, float *out, int64_t os)
{
    const block_q5_K *wb = w;
    FOR_COLS({
        const int8_t *q8 = ACTK_QS(xc);
        const float *d8 = ACTK_D(xc, k);
        const int16_t *bs = ACTK_BS(xc, k);
        float s = 0;
        for (int64_t b = 0; b < k / 256; b++) {
            const int8_t *qx = q8 + b * 256;
            int isum = 0, summs = 0;
            for (int sb = 0; sb < 8; sb++) {
                uint8_t sc, m;
                get_scale_min_k4(sb, wb[b].scales, &sc, &m);
                const uint8_t *q = wb[b].qs + (sb / 2) * 32;
                const int shift = (sb & 1) * 4;
                int isuml = 0;
                for (int l = 0; l < 32; l++) {
                    int v = ((q[l] >> shift) & 0xF) | (((wb[b].qh[l] >> sb) & 1) << 4);
                    isuml += qx[sb * 32 + l] * v;
                }
                isum += sc * isuml;
                summs += m * (bs[b * 16 + 2 * sb] + bs[b * 16 + 2 * sb + 1]);
            }
            s += d8[b] * H2F(wb[b].d) * (float)isum - d8[b] * H2F(wb[b].dmin) * (float)summs;
        }
        out[c * os] = s;
    })
}

static void dot_q6_K_scalar(int64_t k, const void *w, const void *xa, size_t xa_stride,
                            int nc, float *out, int64_t os)
{
    const block_q6_K *wb = w;
    FOR_COLS({
        const int8_t *q8 = ACTK_QS(xc);
        const float *d8 = ACTK_D(xc, k);
        float s = 0;
        for (int64_t b = 0; b < k / 256; b++) {
            const int8_t *qx = q8 + b * 256;
            int isum = 0;
            for (int e = 0; e < 256; e += 16) {
                int isuml = 0;
                for (int l = 0; l < 16; l++) {
                    const int ee = e + l, n = ee / 128, g = (ee % 128) / 32, ll = ee % 32;
                    const uint8_t *ql = wb[b].ql + n * 64, *qh = wb[b].qh + n * 32;
                    const int lo = (g & 1) ? ql[ll + 32] : ql[ll];
                    const int v = (((g & 2) ? lo >> 4 : lo & 0xF) | (((qh[ll] >> (2 * g)) & 3) << 4)) - 32;
                    isuml += qx[ee] * v;
                }
                isum += wb[b].scales[e / 16] * isuml;
            }
            s += d8[b] * H2F(wb[b].d) * (float)isum;
        }
        out[c * os] = s;
    })
}

/* ---- conversions and vec helpers ---- */

static void f16_to_f32_scalar(const void *src, float *dst, int64_t n)
{
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++) dst[i] = fp16_to_f32_inline(rd_u16(h + i));
}

static void f32_to_f16_scalar(const float *src, uint16_t *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dst[i] = tensor_f32_to_f16(src[i]);
}

static float vec_dot_f32_scalar(const float *a, const float *b, int64_t n)
{
    float s[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int j = 0; j < 4; j++) s[j] += a[i + j] * b[i + j];
    for (; i < n; i++) s[0] += a[i] * b[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

static float vec_sumsq_f32_scalar(const float *a, int64_t n)
{
    return vec_dot_f32_scalar(a, a, n);
}

static void vec_scale_mul_f32_scalar(float *y, const float *x, float s, const float *w, int64_t n)
{
    if (w) for (int64_t i = 0; i < n; i++) y[i] = x[i] * s * w[i];
    else for (int64_t i = 0; i < n; i++) y[i] = x[i] * s;
}

static void vec_add_f32_scalar(float *y, const float *a, const float *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

static void vec_mul_f32_scalar(float *y, const float *a, const float *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}

static void swiglu_f32_scalar(float *y, const float *gate, const float *up, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

/* The reference for every level: plain loops and libm's expf. */
static void attn_block_scalar(const float *q, size_t q_stride, int n_q, const float *k, const float *v, int nb,
                              int hd, int hdv, const int *lo, const int *hi, float scale, float cap, float *st,
                              size_t st_stride, float *scratch)
{
    float *sc = scratch;
    for (int i = 0; i < n_q; i++) {
        const int s0 = lo[i] > 0 ? lo[i] : 0, s1 = hi[i] < nb - 1 ? hi[i] : nb - 1;
        if (s0 > s1) continue;
        const float *qi = q + (size_t)i * q_stride;
        float *sti = st + (size_t)i * st_stride;
        float mx = sti[0];
        for (int p = s0; p <= s1; p++) {
            float s = 0;
            for (int d = 0; d < hd; d++) s += qi[d] * k[(size_t)p * hd + d];
            s *= scale;
            if (cap > 0.0f) s = cap * tanhf(s / cap);
            sc[p] = s;
            if (s > mx) mx = s;
        }
        const float corr = sti[0] == -INFINITY ? 0.0f : expf(sti[0] - mx);
        float sum = sti[1] * corr;
        float *acc = sti + 2;
        for (int d = 0; d < hdv; d++) acc[d] *= corr;
        for (int p = s0; p <= s1; p++) {
            const float e = expf(sc[p] - mx);
            sum += e;
            for (int d = 0; d < hdv; d++) acc[d] += e * v[(size_t)p * hdv + d];
        }
        sti[0] = mx;
        sti[1] = sum;
    }
}

static void vec_axpy_f32_scalar(float *y, float a, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

static const struct kernel_table SCALAR = {
    .name = "scalar",
    .quant_act32 = quant_act32_scalar,
    .quant_actk = quant_actk_scalar,
    .dot = {
        [TENSOR_TYPE_F32] = dot_f32_scalar,
        [TENSOR_TYPE_F16] = dot_f16_scalar,
        [TENSOR_TYPE_BF16] = dot_bf16_scalar,
        [TENSOR_TYPE_Q4_0] = dot_q4_0_scalar,
        [TENSOR_TYPE_Q4_1] = dot_q4_1_scalar,
        [TENSOR_TYPE_Q5_0] = dot_q5_0_scalar,
        [TENSOR_TYPE_Q5_1] = dot_q5_1_scalar,
        [TENSOR_TYPE_Q8_0] = dot_q8_0_scalar,
        [TENSOR_TYPE_Q2_K] = dot_q2_K_scalar,
        [TENSOR_TYPE_Q3_K] = dot_q3_K_scalar,
        [TENSOR_TYPE_Q4_K] = dot_q4_K_scalar,
        [TENSOR_TYPE_Q5_K] = dot_q5_K_scalar,
        [TENSOR_TYPE_Q6_K] = dot_q6_K_scalar,
    },
    .f16_to_f32 = f16_to_f32_scalar,
    .f32_to_f16 = f32_to_f16_scalar,
    .vec_dot_f32 = vec_dot_f32_scalar,
    .vec_sumsq_f32 = vec_sumsq_f32_scalar,
    .vec_scale_mul_f32 = vec_scale_mul_f32_scalar,
    .vec_add_f32 = vec_add_f32_scalar,
    .vec_mul_f32 = vec_mul_f32_scalar,
    .vec_axpy_f32 = vec_axpy_f32_scalar,
    .attn_block = attn_block_scalar,
    .swiglu_f32 = swiglu_f32_scalar,
};

const struct kernel_table *kernels_scalar(void) { return &SCALAR; }

/* ---- dispatch ---- */

static struct kernel_table g_tables[3];
static _Atomic(const struct kernel_table *) g_current;

static struct kernel_table g_table_ex;

static void fill_level(struct kernel_table *t, int level, unsigned disable)
{
    *t = SCALAR;
#if defined(__x86_64__) || defined(__i386__)
    const struct cpu_features *f = cpu_features_get();
    if (level > cpu_level_max()) level = cpu_level_max();
    if (level >= CPU_LEVEL_AVX2) {
        kernels_fill_avx2(t);
        if (f->avxvnni && !(disable & KERNELS_NO_AVXVNNI)) kernels_fill_avxvnni(t);
    }
    if (level >= CPU_LEVEL_AVX512) kernels_fill_avx512(t, !(disable & KERNELS_NO_AVX512VNNI));
#else
    (void)level; (void)disable;
#endif
}

void kernels_select(int level)
{
    struct kernel_table *t = &g_tables[level < 0 ? 0 : level > 2 ? 2 : level];
    fill_level(t, level, 0);
    atomic_store(&g_current, t);
}

const char *kernels_select_ex(int level, unsigned disable)
{
    fill_level(&g_table_ex, level, disable);
    atomic_store(&g_current, &g_table_ex);
    return g_table_ex.name;
}

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static void kernels_init_once(void) { kernels_select(cpu_level()); }

const struct kernel_table *kernels_get(void)
{
    const struct kernel_table *t = atomic_load_explicit(&g_current, memory_order_acquire);
    if (t) return t;
    pthread_once(&g_once, kernels_init_once);
    return atomic_load(&g_current);
}
