/* kernels_mlx_internal.h - what kernels_mlx.c shares with its SIMD
 * versions (kernels_mlx_avx2.c). Not for use outside src/tensor/. */
#ifndef INF_TENSOR_KERNELS_MLX_INTERNAL_H
#define INF_TENSOR_KERNELS_MLX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/kernels_mlx.h"

/* sum over one packed row of `groups` blocks: sum_g scale_g * sum_j q_j x_j
 * + bias_g * xsum[g]. scale_kind: enum tensor_mlx_scale. Needs AVX2+FMA+F16C. */
float tensor_mlx_row_dot_avx2(const unsigned char *row, const float *x, const float *xsum, int64_t groups,
                              int group, int bits, int scale_kind);

#endif
