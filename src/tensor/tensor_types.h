/* tensor_types.h - tensor element types, block formats, conversions,
 * (de)quantisation of rows.
 *
 * Owner: tensor/kernels area. Layer: engine/tensor (knows nothing of models,
 * formats or the contract).
 *
 * Type ids are ggml's (GGUF's on-disk "type" field) so a GGUF tensor's type
 * can be passed straight through. Every block format here is bit-exact with
 * llama.cpp's (ggml-common.h): same bytes, same decoded floats.
 *
 * Thread-safety: every function here is pure (no global state besides
 * read-only tables) and may be called from any thread concurrently.
 * Memory: callers own every buffer; nothing here allocates or keeps
 * pointers. Source pointers need no alignment beyond 1 byte (GGUF data is
 * 32-byte aligned per tensor but rows may start anywhere in a block row).
 * Errors: functions return -1 (or 0 / NULL where documented); they never
 * print and never abort. */
#ifndef INF_TENSOR_TYPES_H
#define INF_TENSOR_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum tensor_type {
    TENSOR_TYPE_F32     = 0,
    TENSOR_TYPE_F16     = 1,
    TENSOR_TYPE_Q4_0    = 2,
    TENSOR_TYPE_Q4_1    = 3,
    /* 4, 5: Q4_2, Q4_3 (removed from ggml long ago) */
    TENSOR_TYPE_Q5_0    = 6,
    TENSOR_TYPE_Q5_1    = 7,
    TENSOR_TYPE_Q8_0    = 8,
    TENSOR_TYPE_Q8_1    = 9,
    TENSOR_TYPE_Q2_K    = 10,
    TENSOR_TYPE_Q3_K    = 11,
    TENSOR_TYPE_Q4_K    = 12,
    TENSOR_TYPE_Q5_K    = 13,
    TENSOR_TYPE_Q6_K    = 14,
    TENSOR_TYPE_Q8_K    = 15,
    /* Known by name (and block size) only: not decodable here. */
    TENSOR_TYPE_IQ2_XXS = 16,
    TENSOR_TYPE_IQ2_XS  = 17,
    TENSOR_TYPE_IQ3_XXS = 18,
    TENSOR_TYPE_IQ1_S   = 19,
    TENSOR_TYPE_IQ4_NL  = 20,
    TENSOR_TYPE_IQ3_S   = 21,
    TENSOR_TYPE_IQ2_S   = 22,
    TENSOR_TYPE_IQ4_XS  = 23,
    TENSOR_TYPE_I8      = 24,
    TENSOR_TYPE_I16     = 25,
    TENSOR_TYPE_I32     = 26,
    TENSOR_TYPE_I64     = 27,
    TENSOR_TYPE_F64     = 28,
    TENSOR_TYPE_IQ1_M   = 29,
    TENSOR_TYPE_BF16    = 30,
    /* 31..33: Q4_0_4_4, Q4_0_4_8, Q4_0_8_8 (removed; names kept) */
    TENSOR_TYPE_TQ1_0   = 34,
    TENSOR_TYPE_TQ2_0   = 35,
    /* 36..38: IQ4_NL_4_4, IQ4_NL_4_8, IQ4_NL_8_8 (removed; names kept) */
    TENSOR_TYPE_MXFP4   = 39,
    TENSOR_TYPE_COUNT   = 40
};

/* Block geometry constants (llama.cpp's QK4_0 ... QK_K). */
#define TENSOR_QK    32   /* elements per block of Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/Q8_1 */
#define TENSOR_QK_K  256  /* elements per super-block of the K-quants */

/* ggml's name of a type: "f32", "f16", "bf16", "q4_0", "q8_0", "q4_K",
 * "iq2_xxs", ... For an id ggml never defined returns "unknown" (never NULL).
 * The string is static. */
const char *tensor_type_name(int type);

/* Inverse of tensor_type_name (case-insensitive: "Q4_K" and "q4_k" both
 * work). Returns the id, or -1 for an unknown name. */
int tensor_type_from_name(const char *name);

/* 1 when the id is one ggml defines (including removed ones), else 0. */
int tensor_type_is_known(int type);

/* 1 when this library can dequantise it AND multiply by it (tensor_matmul):
 * F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K,
 * Q6_K. (Q8_1 and Q8_K are activation formats: quantisable and
 * dequantisable, but not weight types for tensor_matmul.) */
int tensor_type_is_supported(int type);

/* 1 when tensor_quantize_row can produce this type. */
int tensor_type_can_quantize(int type);

/* Elements per block (1 for F32/F16/BF16/I*, 32 or 256 for quants);
 * 0 for an unknown or removed id. */
int64_t tensor_type_block_size(int type);

/* Bytes per block; 0 for an unknown or removed id. */
size_t tensor_type_block_bytes(int type);

/* Bytes of a row of n elements: n / block_size * block_bytes.
 * -1 when the type is unknown/removed, n < 0 or n is not a multiple of the
 * block size. (Equally the bytes of any n-element tensor.) */
int64_t tensor_row_bytes(int type, int64_t n);

/* ---- scalar conversions (IEEE half and bfloat16 stored as uint16_t) ---- */

/* Exact (every f16/bf16 is representable in f32). */
float tensor_f16_to_f32(uint16_t h);
float tensor_bf16_to_f32(uint16_t h);
/* Round to nearest even, as F16C's vcvtps2ph with mode 0 and as ggml does:
 * overflow gives inf, NaN stays NaN. */
uint16_t tensor_f32_to_f16(float f);
/* ggml's f32->bf16: round to nearest even; NaN made quiet. */
uint16_t tensor_f32_to_bf16(float f);

/* Row conversions (SIMD where available; same results as the scalar ones). */
void tensor_f16_to_f32_row(const uint16_t *src, float *dst, int64_t n);
void tensor_f32_to_f16_row(const float *src, uint16_t *dst, int64_t n);
void tensor_bf16_to_f32_row(const uint16_t *src, float *dst, int64_t n);
void tensor_f32_to_bf16_row(const float *src, uint16_t *dst, int64_t n);

/* ---- rows ----
 * Decode n elements (n a multiple of the type's block size) from src
 * (tensor_row_bytes(type, n) bytes, any alignment) into dst (n floats).
 * Types: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K,
 * Q4_K, Q5_K, Q6_K, Q8_K. Bit-exact with llama.cpp's dequantize_row_*.
 * Returns 0, or -1 for an unsupported type / bad n (dst untouched). */
int tensor_dequantize_row(int type, const void *src, float *dst, int64_t n);

/* Encode n floats (n a multiple of the block size) into dst
 * (tensor_row_bytes(type, n) bytes). Returns the bytes written, or -1 for a
 * type it cannot produce or bad n.
 * Types and the rule each follows:
 *   F32, F16, BF16: conversion (round to nearest even).
 *   Q8_0, Q8_1, Q8_K, Q4_0, Q4_1, Q5_0, Q5_1: llama.cpp's reference
 *     round-to-nearest (quantize_row_*_ref): byte-identical output.
 *   Q2_K, Q3_K, Q4_K, Q5_K, Q6_K: llama.cpp's reference scale search
 *     (the same as llama-quantize without an importance matrix).
 * The input must be finite. Thread-safe; no allocation. */
int64_t tensor_quantize_row(int type, const float *src, void *dst, int64_t n);

/* Quantise `nrows` rows of n_per_row floats (rows contiguous in src and in
 * dst). Returns total bytes written or -1. Same rules as above. */
int64_t tensor_quantize_rows(int type, const float *src, void *dst,
                             int64_t nrows, int64_t n_per_row);

#ifdef __cplusplus
}
#endif
#endif
