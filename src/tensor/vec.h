/* vec.h - f32 vector helpers for the forward pass (SIMD-dispatched).
 *
 * Owner: tensor/kernels area. Pure functions on caller-owned buffers; any
 * alignment; thread-safe. Unless said otherwise, in-place use (y == x) is
 * allowed. n may be 0. Results may differ from a naive loop by float
 * summation order (reductions use several accumulators). */
#ifndef INF_TENSOR_VEC_H
#define INF_TENSOR_VEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* sum a[i]*b[i] */
float tensor_vec_dot_f32(const float *a, const float *b, int64_t n);
/* y[i] = a[i] + b[i] */
void tensor_vec_add_f32(float *y, const float *a, const float *b, int64_t n);
/* y[i] = a[i] * b[i] */
void tensor_vec_mul_f32(float *y, const float *a, const float *b, int64_t n);
/* y[i] += a * x[i] */
void tensor_vec_axpy_f32(float *y, float a, const float *x, int64_t n);
/* x[i] *= s */
void tensor_vec_scale_f32(float *x, float s, int64_t n);
/* max x[i]; -INFINITY for n == 0 */
float tensor_vec_max_f32(const float *x, int64_t n);
/* In place: x = exp(x - max) / sum. Returns the sum of exp(x - max)
 * (before normalisation). Entries equal to -INFINITY become 0. */
float tensor_softmax_f32(float *x, int64_t n);
/* y[i] = x[i] / sqrt(mean(x^2) + eps) * (w ? w[i] : 1) */
void tensor_rmsnorm_f32(float *y, const float *x, const float *w, int64_t n, float eps);
/* y[i] = (x[i]-mean) / sqrt(var + eps) * (w ? w[i] : 1) + (b ? b[i] : 0) */
void tensor_layernorm_f32(float *y, const float *x, const float *w, const float *b,
                          int64_t n, float eps);
/* y[i] = x[i] / (1 + exp(-x[i])) */
void tensor_silu_f32(float *y, const float *x, int64_t n);
/* y[i] = silu(gate[i]) * up[i]  (SwiGLU) */
void tensor_swiglu_f32(float *y, const float *gate, const float *up, int64_t n);
/* tanh-approximation GELU (as ggml_gelu): 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3))) */
void tensor_gelu_f32(float *y, const float *x, int64_t n);
/* y[i] = gelu(gate[i]) * up[i]  (GeGLU, Gemma) */
void tensor_geglu_f32(float *y, const float *gate, const float *up, int64_t n);

/* Online-softmax attention of n_q query rows over one block of nb <= 64
 * cache positions (flash-attention style: a running max, sum and
 * unnormalised output per query, so blocks can be fed one after another).
 *   q: query i at q + i*q_stride (hd floats).
 *   k: nb rows of hd floats; v: nb rows of hdv floats (positions 0..nb-1 of
 *      the block).
 *   lo[i]..hi[i]: the block positions query i may attend to (inclusive;
 *      lo > hi: none). Scores are dot(q, k) * scale, then, when cap > 0,
 *      cap * tanh(score / cap).
 *   st: query i's state at st + i*st_stride: [0] running max (start at
 *      -INFINITY), [1] running sum (start at 0), [2 .. 2+hdv) output sum
 *      (start at 0). The attention output is st[2..] / st[1] after the
 *      last block.
 *   scratch: tensor_attn_scratch_floats(hd) floats, owned by the calling
 *      thread.
 * Thread-safe for distinct st and scratch. */
void tensor_attn_block(const float *q, size_t q_stride, int n_q, const float *k, const float *v, int nb, int hd,
                       int hdv, const int *lo, const int *hi, float scale, float cap, float *st, size_t st_stride,
                       float *scratch);
#define TENSOR_ATTN_BLOCK_MAX 64
static inline size_t tensor_attn_scratch_floats(int hd) { return (size_t)hd * TENSOR_ATTN_BLOCK_MAX + 2 * TENSOR_ATTN_BLOCK_MAX; }

#ifdef __cplusplus
}
#endif
#endif
