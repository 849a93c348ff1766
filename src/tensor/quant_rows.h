/* quant_rows.h - INTERNAL to src/tensor: the row codecs of each block
 * type, referenced by the type table (type_traits.c). A decoder turns n
 * elements (a multiple of the block size) of src into floats; an encoder
 * does the reverse with llama.cpp's reference arithmetic. Both trust their
 * arguments: tensor_dequantize_row / tensor_quantize_row check them. */
#ifndef INF_TENSOR_QUANT_ROWS_H
#define INF_TENSOR_QUANT_ROWS_H

#include <stdint.h>

#include "tensor/tensor_types.h"

#define H2F(h) fp16_to_f32_inline(rd_u16(&(h)))
#define F2H(f) tensor_f32_to_f16(f)

/* The type argument lets one codec serve a family of types (MLX). */
typedef int (*tensor_decode_fn)(int type, const void *src, float *dst, int64_t n);
typedef void (*tensor_encode_fn)(const float *src, void *dst, int64_t n);

#define ROW_CODECS(X) X(f32) X(f16) X(bf16) X(q4_0) X(q4_1) X(q5_0) X(q5_1) X(q8_0) X(q8_1) \
    X(q2_K) X(q3_K) X(q4_K) X(q5_K) X(q6_K) X(q8_K)
#define DECLARE_CODEC(t) int row_decode_##t(int type, const void *src, float *dst, int64_t n); \
    void row_encode_##t(const float *src, void *dst, int64_t n);
ROW_CODECS(DECLARE_CODEC)
#undef DECLARE_CODEC

#endif
