/* matmul.h - y = x * W^T on the CPU, for every supported weight type.
 *
 * Owner: tensor/kernels area.
 *
 *   y[t*ldy + r] = sum_{j<k} W[r][j] * x[t*ldx + j]     t < n_x, r < rows
 *
 * W: `rows` rows of k elements of type w_type (enum tensor_type), row r at
 *    (const char *)w + r * w_row_stride. w_row_stride >= tensor_row_bytes(
 *    w_type, k). Any alignment (memory-mapped GGUF data is fine). Read only.
 * x: n_x activation rows of k floats (f32), row-major. Read only.
 * y: n_x output rows of `rows` floats. Written, never read. Must not
 *    overlap x or W.
 *
 * How (as llama.cpp does it):
 *  - Quantised weights: each activation row is first quantised on the fly
 *    to 8 bits per 32-element block with an f16-rounded scale amax/127 (as
 *    llama.cpp's Q8_0 / Q8_1; for Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 weights) or per
 *    256-element block as Q8_K (for Q2_K..Q6_K), rounding to nearest even,
 *    then integer dot products (AVX-512-VNNI / AVX-VNNI vpdpbusd, or AVX2
 *    maddubs) with one float multiply per block. So results equal
 *    llama.cpp's CPU results up to float summation order, and differ from
 *    an f32 reference by the activation quantisation error (per element at
 *    most half a step, amax_block/254).
 *  - F16 / BF16 weights: converted to f32 in registers (F16C / shifts),
 *    f32 FMA against f32 activations (activations are NOT rounded, unlike
 *    llama.cpp which rounds them to f16/bf16; so slightly more accurate).
 *  - F32: plain FMA.
 *  Work is split across the pool's threads by rows; for n_x > 1 (prefill)
 *  the rows x tokens space is tiled (register tiles of 1-2 rows x 4 tokens;
 *  a ~128 KiB chunk of weight rows stays in L2 while all tokens pass over
 *  it). Decode (n_x == 1) is bandwidth-bound. Products smaller than 2^17
 *  multiply-adds run on the calling thread (pool dispatch would cost more).
 *
 * Returns 0, or -1 when: the type is not supported for matmul, k is not a
 *  multiple of the block size, w_row_stride is too small, a count is
 *  negative, or scratch memory cannot be allocated. y is unspecified then.
 *
 * Determinism: for a given CPU level, y[t][r] depends only on W row r and
 *  x row t: not on the number of threads, on n_x, or on the tiling (a token
 *  multiplied alone gives bit-identically the result it gets in a batch).
 *  Different levels differ by float rounding only.
 *
 * Thread-safety: may be called from several threads at once provided they
 *  pass different pools (or NULL). Runs `tp` (see threadpool.h): do not call
 *  it from inside a run of that same pool; from inside a pool run pass
 *  tp = NULL. Scratch for the quantised activations is a per-calling-thread
 *  buffer reused across calls (freed at thread exit). */
#ifndef INF_TENSOR_MATMUL_H
#define INF_TENSOR_MATMUL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct threadpool;

int tensor_matmul(const void *w, int w_type, int64_t rows, int64_t k,
                  size_t w_row_stride, const float *x, int64_t n_x,
                  float *y, struct threadpool *tp);

/* As tensor_matmul with explicit row strides (in floats) for x and y:
 *   y[t*ldy + r] = sum_j W[r][j] * x[t*ldx + j];  ldx >= k, ldy >= rows.
 * Lets the caller read activations from, or write outputs into, a slice of
 * a wider buffer. */
int tensor_matmul_ex(const void *w, int w_type, int64_t rows, int64_t k,
                     size_t w_row_stride, const float *x, int64_t ldx,
                     int64_t n_x, float *y, int64_t ldy, struct threadpool *tp);

/* Reference implementation (scalar C at every level, single thread, same
 * arithmetic as the scalar level). For tests and debugging. */
int tensor_matmul_ref(const void *w, int w_type, int64_t rows, int64_t k,
                      size_t w_row_stride, const float *x, int64_t n_x,
                      float *y);

#ifdef __cplusplus
}
#endif
#endif
