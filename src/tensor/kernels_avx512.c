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
#include <math.h>

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

/* exp on 16 lanes: 2^n * p(r) with r = x - n*ln2 in [-ln2/2, ln2/2] and p
 * the degree-6 Taylor polynomial (relative error about 2e-7). Inputs are
 * clamped to [-87, 88]; callers mask lanes that must be exactly 0. */
KX_INLINE __m512 k5_exp(__m512 x)
{
    x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.0f)), _mm512_set1_ps(-87.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x); /* ln2 in two parts (Cody-Waite) */
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

/* Lanes of chunk c (positions 16c..16c+15) inside [s0, s1]. */
KX_INLINE __mmask16 k5_range_mask(int c, int s0, int s1)
{
    int a = s0 - 16 * c, b = s1 - 16 * c + 1;
    a = a < 0 ? 0 : a > 16 ? 16 : a;
    b = b < 0 ? 0 : b > 16 ? 16 : b;
    const uint32_t m = ((1u << b) - 1u) & ~((1u << a) - 1u);
    return (__mmask16)m;
}

/* acc = acc * corr + sum_p w[p] * v[p] for NC x 16 lanes of the output, kept
 * in registers while the positions stream by. */
KX_INLINE void k5_attn_pv(int NC, float *acc, float corr, const float *w, const float *v, int s0, int s1, int hdv)
{
    __m512 o[16];
    const __m512 vc = _mm512_set1_ps(corr);
    for (int c = 0; c < NC; c++) o[c] = _mm512_mul_ps(_mm512_loadu_ps(acc + 16 * c), vc);
    for (int p = s0; p <= s1; p++) {
        const __m512 wp = _mm512_set1_ps(w[p]);
        const float *vp = v + (size_t)p * hdv;
        for (int c = 0; c < NC; c++) o[c] = _mm512_fmadd_ps(wp, _mm512_loadu_ps(vp + 16 * c), o[c]);
    }
    for (int c = 0; c < NC; c++) _mm512_storeu_ps(acc + 16 * c, o[c]);
}

/* Two rows at once: the same positions' values feed both, so each V load
 * serves two FMA chains (one row alone leaves the FMA latency exposed). */
KX_INLINE void k5_attn_pv2(int NC, float *acc0, float corr0, const float *w0, float *acc1, float corr1,
                           const float *w1, const float *v, int p0, int p1, int hdv)
{
    __m512 o0[8], o1[8];
    const __m512 c0 = _mm512_set1_ps(corr0), c1 = _mm512_set1_ps(corr1);
    for (int c = 0; c < NC; c++) {
        o0[c] = _mm512_mul_ps(_mm512_loadu_ps(acc0 + 16 * c), c0);
        o1[c] = _mm512_mul_ps(_mm512_loadu_ps(acc1 + 16 * c), c1);
    }
    for (int p = p0; p <= p1; p++) {
        const __m512 wa = _mm512_set1_ps(w0[p]), wb = _mm512_set1_ps(w1[p]);
        const float *vp = v + (size_t)p * hdv;
        for (int c = 0; c < NC; c++) {
            const __m512 vv = _mm512_loadu_ps(vp + 16 * c);
            o0[c] = _mm512_fmadd_ps(wa, vv, o0[c]);
            o1[c] = _mm512_fmadd_ps(wb, vv, o1[c]);
        }
    }
    for (int c = 0; c < NC; c++) {
        _mm512_storeu_ps(acc0 + 16 * c, o0[c]);
        _mm512_storeu_ps(acc1 + 16 * c, o1[c]);
    }
}

/* The online-softmax step of one row: its scores sc[0 .. 16*nv) (valid in
 * [s0, s1]) become weights exp(score - new max), zero outside the range;
 * the row's running max and sum are updated. Returns the factor its output
 * sum must be scaled by. */
KX_INLINE float k5_softmax_step(float *sc, int nv, int s0, int s1, float *sti)
{
    float mx = sti[0];
    for (int c = s0 / 16; c <= s1 / 16; c++) {
        const float m = _mm512_mask_reduce_max_ps(k5_range_mask(c, s0, s1), _mm512_loadu_ps(sc + 16 * c));
        if (m > mx) mx = m;
    }
    const float corr = sti[0] == -INFINITY ? 0.0f : expf(sti[0] - mx);
    const __m512 vmx = _mm512_set1_ps(mx);
    __m512 vsum = _mm512_setzero_ps();
    for (int c = 0; c < nv; c++) {
        const __m512 e =
            _mm512_maskz_mov_ps(k5_range_mask(c, s0, s1), k5_exp(_mm512_sub_ps(_mm512_loadu_ps(sc + 16 * c), vmx)));
        _mm512_storeu_ps(sc + 16 * c, e);
        vsum = _mm512_add_ps(vsum, e);
    }
    sti[0] = mx;
    sti[1] = sti[1] * corr + _mm512_reduce_add_ps(vsum);
    return corr;
}

/* One row's output update, acc = acc * corr + sum_p w[p] v[p]. */
static void k5_attn_pv1(float *acc, float corr, const float *w, const float *v, int s0, int s1, int hdv)
{
    switch (hdv) {
    case 64: k5_attn_pv(4, acc, corr, w, v, s0, s1, hdv); break;
    case 128: k5_attn_pv(8, acc, corr, w, v, s0, s1, hdv); break;
    case 256: k5_attn_pv(16, acc, corr, w, v, s0, s1, hdv); break;
    default:
        for (int c = 0; c < hdv; c += 16) {
            __m512 o = _mm512_mul_ps(_mm512_loadu_ps(acc + c), _mm512_set1_ps(corr));
            for (int p = s0; p <= s1; p++)
                o = _mm512_fmadd_ps(_mm512_set1_ps(w[p]), _mm512_loadu_ps(v + (size_t)p * hdv + c), o);
            _mm512_storeu_ps(acc + c, o);
        }
    }
}

/* Scores of one or two rows against the transposed keys kt (hd x 64). */
KX_INLINE void k5_scores_t(int NR, const float *q0, const float *q1, const float *kt, int hd, int nv, __m512 vscale,
                           float *sc0, float *sc1)
{
    __m512 a[2][4];
    for (int r = 0; r < NR; r++)
        for (int c = 0; c < 4; c++) a[r][c] = _mm512_setzero_ps();
    for (int d = 0; d < hd; d++) {
        const __m512 qa = _mm512_set1_ps(q0[d]);
        const __m512 qb = NR > 1 ? _mm512_set1_ps(q1[d]) : qa;
        for (int c = 0; c < nv; c++) {
            const __m512 kv = _mm512_loadu_ps(kt + (size_t)d * 64 + 16 * c);
            a[0][c] = _mm512_fmadd_ps(qa, kv, a[0][c]);
            if (NR > 1) a[1][c] = _mm512_fmadd_ps(qb, kv, a[1][c]);
        }
    }
    for (int c = 0; c < nv; c++) {
        _mm512_storeu_ps(sc0 + 16 * c, _mm512_mul_ps(a[0][c], vscale));
        if (NR > 1) _mm512_storeu_ps(sc1 + 16 * c, _mm512_mul_ps(a[1][c], vscale));
    }
}

/* tensor_attn_block (vec.h). Scores: with many queries the block's keys are
 * transposed once (hd x 64) and rows go two at a time (8 FMA chains over
 * hd); with few, one dot product per position. Softmax weights by k5_exp;
 * outputs are accumulated 16 lanes of hdv at a time over the positions,
 * two rows sharing each value load where they can. */
static void k5_attn_block(const float *q, size_t q_stride, int n_q, const float *k, const float *v, int nb, int hd,
                          int hdv, const int *lo, const int *hi, float scale, float cap, float *st, size_t st_stride,
                          float *scratch)
{
    if (hd % 16 || hdv % 16 || nb > 64 || nb <= 0 || cap > 0.0f) {
        kernels_scalar()->attn_block(q, q_stride, n_q, k, v, nb, hd, hdv, lo, hi, scale, cap, st, st_stride,
                                     scratch);
        return;
    }
    float *kt = scratch, *sc0 = scratch + (size_t)hd * 64, *sc1 = sc0 + 64;
    const int nv = (nb + 15) / 16;
    const __m512 vscale = _mm512_set1_ps(scale);
    if (n_q < 8) { /* few rows (decode): a dot product per position */
        for (int i = 0; i < n_q; i++) {
            const int s0 = lo[i] > 0 ? lo[i] : 0, s1 = hi[i] < nb - 1 ? hi[i] : nb - 1;
            if (s0 > s1) continue;
            const float *qi = q + (size_t)i * q_stride;
            float *sti = st + (size_t)i * st_stride;
            for (int p = s0; p <= s1; p++) {
                __m512 a = _mm512_setzero_ps();
                for (int d = 0; d < hd; d += 16)
                    a = _mm512_fmadd_ps(_mm512_loadu_ps(qi + d), _mm512_loadu_ps(k + (size_t)p * hd + d), a);
                sc0[p] = _mm512_reduce_add_ps(a) * scale;
            }
            const float corr = k5_softmax_step(sc0, nv, s0, s1, sti);
            k5_attn_pv1(sti + 2, corr, sc0, v, s0, s1, hdv);
        }
        return;
    }
    for (int p = 0; p < nb; p++)
        for (int d = 0; d < hd; d++) kt[(size_t)d * 64 + p] = k[(size_t)p * hd + d];
    for (int p = nb; p < 16 * nv; p++)
        for (int d = 0; d < hd; d++) kt[(size_t)d * 64 + p] = 0.0f;
    for (int i = 0; i < n_q;) {
        /* the next one or two rows with a non-empty range */
        int rows[2], n = 0;
        for (; i < n_q && n < 2; i++)
            if ((lo[i] > 0 ? lo[i] : 0) <= (hi[i] < nb - 1 ? hi[i] : nb - 1)) rows[n++] = i;
        if (n == 0) break;
        int s0[2], s1[2];
        for (int r = 0; r < n; r++) {
            s0[r] = lo[rows[r]] > 0 ? lo[rows[r]] : 0;
            s1[r] = hi[rows[r]] < nb - 1 ? hi[rows[r]] : nb - 1;
        }
        const float *q0 = q + (size_t)rows[0] * q_stride;
        float *st0 = st + (size_t)rows[0] * st_stride;
        if (n == 2 && hdv <= 128) {
            const float *q1 = q + (size_t)rows[1] * q_stride;
            float *st1 = st + (size_t)rows[1] * st_stride;
            k5_scores_t(2, q0, q1, kt, hd, nv, vscale, sc0, sc1);
            const float c0 = k5_softmax_step(sc0, nv, s0[0], s1[0], st0);
            const float c1 = k5_softmax_step(sc1, nv, s0[1], s1[1], st1);
            const int p0 = s0[0] < s0[1] ? s0[0] : s0[1], p1 = s1[0] > s1[1] ? s1[0] : s1[1];
            if (hdv == 64) k5_attn_pv2(4, st0 + 2, c0, sc0, st1 + 2, c1, sc1, v, p0, p1, hdv);
            else if (hdv == 128) k5_attn_pv2(8, st0 + 2, c0, sc0, st1 + 2, c1, sc1, v, p0, p1, hdv);
            else {
                k5_attn_pv1(st0 + 2, c0, sc0, v, s0[0], s1[0], hdv);
                k5_attn_pv1(st1 + 2, c1, sc1, v, s0[1], s1[1], hdv);
            }
        } else {
            for (int r = 0; r < n; r++) {
                const float *qr = q + (size_t)rows[r] * q_stride;
                float *str = st + (size_t)rows[r] * st_stride;
                k5_scores_t(1, qr, qr, kt, hd, nv, vscale, sc0, sc0);
                const float c = k5_softmax_step(sc0, nv, s0[r], s1[r], str);
                k5_attn_pv1(str + 2, c, sc0, v, s0[r], s1[r], hdv);
            }
        }
    }
}

static void k5_swiglu_f32(float *y, const float *gate, const float *up, int64_t n)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 g = _mm512_loadu_ps(gate + i);
        const __m512 e = k5_exp(_mm512_sub_ps(_mm512_setzero_ps(), g));
        const __m512 silu = _mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
        _mm512_storeu_ps(y + i, _mm512_mul_ps(silu, _mm512_loadu_ps(up + i)));
    }
    for (; i < n; i++) y[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

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
    t->attn_block = k5_attn_block;
    t->swiglu_f32 = k5_swiglu_f32;
}
#endif
