/* packed.h - weight matrices repacked at load for the AVX-512 GEMM/GEMV.
 *
 * Owner: tensor/kernels area.
 *
 * Types: F16, BF16 (AVX-512-BF16), Q8_0, Q4_0, Q4_K, Q6_K.
 *
 * Why: a plain row-major weight matrix forces a dot-product kernel (one
 * weight row against a few activation rows, a horizontal sum at the end,
 * block scales applied one row at a time). Interleaving 16 rows lets one
 * 512-bit register hold the same k-slice of 16 rows, so a single vpdpbusd
 * (or FMA) with a broadcast activation word advances 16 outputs at once,
 * block scales are applied to 16 rows by one vector multiply, and results
 * land in y already as 16 contiguous floats. The same layout serves decode
 * (one token, bandwidth-bound: the 16-row stream is read once, in order)
 * and prefill (up to 8 tokens share every weight register).
 *
 * Layouts (rows padded with zeros to a multiple of 16; "group" = 16 rows):
 *  F16   per group, per column j: the 16 rows' f16 values (32 bytes).
 *  BF16  per group, per pair of columns: the 16 rows' two bf16 values side
 *        by side (64 bytes), for vdpbf16ps (AVX-512-BF16); the activations
 *        are rounded to bf16 for it, as llama.cpp does for BF16 weights.
 *  Q8_0  per group, per 32-block: 16 f16 scales, then 8 x 64 bytes; chunk i
 *        holds, row by row, bytes 4i..4i+3 of the block as q + 128 (u8).
 *  Q4_0  per group, per 32-block: 16 f16 scales, then 4 x 64 bytes; chunk p
 *        holds, row by row, the packed bytes 4p..4p+3 (low nibbles are
 *        elements 4p.., high nibbles 16+4p..).
 *  Q4_K  per group, per 256-block: 16 f16 d, 16 f16 dmin, the 6-bit scales
 *        as u8 [8 sub][16 rows], the 6-bit mins as u8 [4 pairs][16 rows][2],
 *        then 4 x 8 x 64 bytes: chunk (c, p) holds, row by row, bytes
 *        32c+4p..+3 of qs (low nibbles sub-block 2c, high 2c+1).
 *  Q6_K  per group, per 256-block: 16 f16 d, the int8 scales as
 *        [8 pairs][16 rows][2], then per 16-element group g: 3 x 64 bytes
 *        (two of low nibbles of steps 0|1 and 2|3, one of high 2-bit
 *        pairs of steps 0..3), values stored unsigned (0..63).
 * The packed copy has the size of the original (Q4_K, Q6_K: a few per cent
 * more for the unpacked scales). The model reports it as resident memory.
 *
 * Results are those of tensor_matmul up to float summation order, and
 * deterministic: y[t][r] depends only on W row r and x row t (not on the
 * number of tokens or threads).
 *
 * Thread-safety: a packed matrix is immutable after tensor_pack returns and
 * may be used by many threads at once. tensor_pack and
 * tensor_matmul_packed follow tensor_matmul's rule for the pool. */
#ifndef INF_TENSOR_PACKED_H
#define INF_TENSOR_PACKED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct threadpool;
struct packed_matrix;

/* 1 when this CPU (at the level in force) has a packed kernel for w_type
 * with this k. */
int tensor_pack_supported(int w_type, int64_t k);

/* Repacks `rows` rows of k elements (row r at w + r * w_row_stride).
 * Returns NULL when the type is not supported here (see above) or memory
 * is short; the caller then keeps using tensor_matmul on the original. */
struct packed_matrix *tensor_pack(const void *w, int w_type, int64_t rows, int64_t k, size_t w_row_stride,
                                  struct threadpool *tp);

void packed_free(struct packed_matrix *pm);          /* NULL is a no-op */

/* Row r (< rows) of the packed matrix as k floats, bit-identical to
 * tensor_dequantize_row on the original row: lets a tied output matrix
 * also serve the token-embedding lookups, so its mapped original can be
 * released. Returns 0, or -1 when r is out of range. */
int packed_get_row(const struct packed_matrix *pm, int64_t r, float *out);
size_t packed_bytes(const struct packed_matrix *pm); /* memory it holds */

/* y[t*ldy + r] = sum_j W[r][j] * x[t*ldx + j] for t < n_x, r < rows, as
 * tensor_matmul_ex. Returns 0, or -1 on bad arguments / no scratch. */
int tensor_matmul_packed(const struct packed_matrix *pm, const float *x, int64_t ldx, int64_t n_x, float *y,
                         int64_t ldy, struct threadpool *tp);

/* Several products of the same activations in one pass: prods[i].y gets
 * W_i x as tensor_matmul_packed would write it (bit-identical), for up to 4
 * matrices that share k and the activation format their kernels read
 * (Q4_0 with Q8_0, Q4_K with Q6_K, F16 with F16...).
 * The activations are quantised once and the threads stream the matrices'
 * weights one after the other in a single pool run (decode: the Q, K, V
 * projections, or gate and up, cost one synchronisation instead of
 * several). Returns 0, or -1 on bad arguments (nothing is computed). */
struct packed_product {
    const struct packed_matrix *pm;
    float *y;
    int64_t ldy;
};
int tensor_matmul_packed_multi(const struct packed_product *prods, int n_prods, const float *x, int64_t ldx,
                               int64_t n_x, struct threadpool *tp);

#ifdef __cplusplus
}
#endif
#endif
