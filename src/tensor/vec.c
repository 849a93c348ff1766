/* vec.c - f32 vector helpers (vec.h). */
#include "vec.h"
#include "kernels.h"

#include <math.h>

float tensor_vec_dot_f32(const float *a, const float *b, int64_t n)
{
    return kernels_get()->vec_dot_f32(a, b, n);
}

void tensor_vec_add_f32(float *y, const float *a, const float *b, int64_t n)
{
    kernels_get()->vec_add_f32(y, a, b, n);
}

void tensor_vec_mul_f32(float *y, const float *a, const float *b, int64_t n)
{
    kernels_get()->vec_mul_f32(y, a, b, n);
}

void tensor_vec_axpy_f32(float *y, float a, const float *x, int64_t n)
{
    kernels_get()->vec_axpy_f32(y, a, x, n);
}

void tensor_vec_scale_f32(float *x, float s, int64_t n)
{
    kernels_get()->vec_scale_mul_f32(x, x, s, NULL, n);
}

float tensor_vec_max_f32(const float *x, int64_t n)
{
    float m = -INFINITY;
    for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

float tensor_softmax_f32(float *x, int64_t n)
{
    if (n <= 0) return 0.0f;
    const float m = tensor_vec_max_f32(x, n);
    if (m == -INFINITY) { /* all masked: define as uniform zeros */
        for (int64_t i = 0; i < n; i++) x[i] = 0.0f;
        return 0.0f;
    }
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        float e = x[i] == -INFINITY ? 0.0f : expf(x[i] - m);
        x[i] = e;
        sum += e;
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
    return (float)sum;
}

void tensor_rmsnorm_f32(float *y, const float *x, const float *w, int64_t n, float eps)
{
    if (n <= 0) return;
    const struct kernel_table *kt = kernels_get();
    const float ss = kt->vec_sumsq_f32(x, n);
    const float scale = 1.0f / sqrtf(ss / (float)n + eps);
    kt->vec_scale_mul_f32(y, x, scale, w, n);
}

void tensor_layernorm_f32(float *y, const float *x, const float *w, const float *b, int64_t n, float eps)
{
    if (n <= 0) return;
    double mean = 0.0;
    for (int64_t i = 0; i < n; i++) mean += x[i];
    mean /= (double)n;
    double var = 0.0;
    for (int64_t i = 0; i < n; i++) { double d = x[i] - mean; var += d * d; }
    var /= (double)n;
    const float scale = (float)(1.0 / sqrt(var + eps));
    const float fm = (float)mean;
    for (int64_t i = 0; i < n; i++) {
        float v = (x[i] - fm) * scale;
        if (w) v *= w[i];
        if (b) v += b[i];
        y[i] = v;
    }
}

static inline float silu1(float v) { return v / (1.0f + expf(-v)); }

static inline float gelu1(float v)
{
    const float c = 0.7978845608028654f; /* sqrt(2/pi) */
    return 0.5f * v * (1.0f + tanhf(c * v * (1.0f + 0.044715f * v * v)));
}

void tensor_silu_f32(float *y, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = silu1(x[i]);
}

void tensor_swiglu_f32(float *y, const float *gate, const float *up, int64_t n)
{
    kernels_get()->swiglu_f32(y, gate, up, n);
}

void tensor_gelu_f32(float *y, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = gelu1(x[i]);
}

void tensor_geglu_f32(float *y, const float *gate, const float *up, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = gelu1(gate[i]) * up[i];
}

void tensor_attn_block(const float *q, size_t q_stride, int n_q, const float *k, const float *v, int nb, int hd,
                       int hdv, const int *lo, const int *hi, float scale, float cap, float *st, size_t st_stride,
                       float *scratch)
{
    kernels_get()->attn_block(q, q_stride, n_q, k, v, nb, hd, hdv, lo, hi, scale, cap, st, st_stride, scratch);
}
