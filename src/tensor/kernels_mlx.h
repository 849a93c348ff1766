/* kernels_mlx.h - MLX affine quantisation as a block format the engine can
 * run directly: packing, row dequantisation and matmul.
 *
 * MLX (mlx.core.quantize, mode "affine") stores a weight W [rows, k] as
 *   weight  uint32 [rows, k * bits / 32]: word w of a row packs elements
 *           w * (32 / bits) + j at bit offset j * bits (little end first);
 *   scales, biases [rows, k / group] in the model dtype (bf16, f16 or f32);
 *   value = scale * q + bias, q in [0, 2^bits - 1] (scales may be negative).
 *
 * The engine keeps one pointer and a row stride per weight, so at load the
 * three arrays are interleaved (a lossless copy, no dequantisation) into
 * blocks of one group each:
 *   [scale][bias][group * bits / 8 bytes of packed q, bytes as in the file]
 * scale and bias keep their source dtype (2 bytes for bf16/f16, 4 for f32).
 * A row of k elements is k / group blocks. Each (bits, group, scale dtype)
 * combination has its own type id, outside ggml's id range (>= 64), so it
 * can travel in the same `int type` fields as ggml types.
 *
 * How tensor_matmul should dispatch (owner of matmul.c): when
 * tensor_mlx_type_is(w_type), call tensor_mlx_matmul_ex with the same
 * arguments; likewise tensor_dequantize_row -> tensor_mlx_dequantize_row,
 * tensor_row_bytes -> tensor_mlx_row_bytes, tensor_type_is_supported -> 1,
 * tensor_type_name -> tensor_mlx_type_name.
 *
 * Arithmetic: per group, sum_j (s q_j + b) x_j = s * sum_j q_j x_j +
 * b * sum_j x_j, in f32 (activations are not quantised). Same results for
 * any thread count. Pure functions; thread-safe; no allocation except the
 * matmul's per-call group-sum scratch. */
#ifndef INF_TENSOR_KERNELS_MLX_H
#define INF_TENSOR_KERNELS_MLX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct threadpool;

#define TENSOR_TYPE_MLX_FIRST 64
#define TENSOR_TYPE_MLX_LAST (TENSOR_TYPE_MLX_FIRST + 17)

/* Scale/bias dtypes. */
enum tensor_mlx_scale { TENSOR_MLX_SCALE_F16 = 0, TENSOR_MLX_SCALE_BF16 = 1, TENSOR_MLX_SCALE_F32 = 2 };

/* The type id of bits (4, 8), group (32, 64, 128) and scale dtype; -1 when
 * not supported. */
int tensor_mlx_type(int bits, int group, enum tensor_mlx_scale scale);
/* 1 when type is an MLX type id. */
int tensor_mlx_type_is(int type);
/* Parameters of an MLX type id; -1 when not one. */
int tensor_mlx_type_params(int type, int *bits, int *group, enum tensor_mlx_scale *scale);
/* "mlx_q4_g64_bf16" etc.; "unknown" when not one (static string). */
const char *tensor_mlx_type_name(int type);
/* Bytes of one block (one group). 0 when not an MLX type. */
size_t tensor_mlx_block_bytes(int type);
/* Bytes of a row of k elements; -1 when k is not a multiple of the group. */
int64_t tensor_mlx_row_bytes(int type, int64_t k);

/* Interleave MLX's three arrays (rows x k elements; any alignment) into
 * rows * tensor_mlx_row_bytes(type, k) bytes at dst. Returns 0 or -1 (bad
 * type or k). */
int tensor_mlx_pack(int type, const void *q_words, const void *scales, const void *biases,
                    int64_t rows, int64_t k, void *dst);

/* Decode n elements (a multiple of the group) of one packed row. 0 or -1. */
int tensor_mlx_dequantize_row(int type, const void *src, float *dst, int64_t n);

/* y[t*ldy + r] = sum_j W[r][j] x[t*ldx + j], as tensor_matmul_ex (see
 * matmul.h for the contract). Returns 0 or -1 (bad type, k, stride). */
int tensor_mlx_matmul_ex(const void *w, int w_type, int64_t rows, int64_t k, size_t w_row_stride,
                         const float *x, int64_t ldx, int64_t n_x, float *y, int64_t ldy,
                         struct threadpool *tp);

#ifdef __cplusplus
}
#endif
#endif
