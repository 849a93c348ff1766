/* type_traits.c - the type table (see type_traits.h) and the part of
 * tensor_types.h that is a lookup in it: names, block geometry, row sizes,
 * and the row decoder / encoder entry points. */
#include "tensor/type_traits.h"

#include "tensor/kernels_mlx.h"
#include "tensor/tensor_types.h"

#include <ctype.h>

/* A type known by name and geometry only (not readable here). */
#define NAMED(id, nm, bs, bb) [id] = {.name = nm, .block_size = bs, .block_bytes = bb}
/* A type ggml removed: its name stays reserved. */
#define REMOVED(id, nm) [id] = {.name = nm}
/* A type this library reads and writes (rows of its codecs). */
#define CODEC(id, nm, t, bs, bb) [id] = {.name = nm, .block_size = bs, .block_bytes = bb, \
                                        .to_float = row_decode_##t, .from_float = row_encode_##t
/* An MLX affine type: 4 or 8 bits per weight, a group of g, a scale and a
 * bias per group of sb bytes each (kernels_mlx.h). */
#define MLX(i, nm, bits, g, sb) [TENSOR_TYPE_MLX_FIRST + (i)] = {.name = nm, .block_size = g, \
        .block_bytes = 2 * (sb) + (g) * (bits) / 8, .to_float = tensor_mlx_dequantize_row, .weight = true, .mlx = true}
#define MLX_GROUPS(i, bits, g) \
    MLX(i, "mlx_q" #bits "_g" #g "_f16", bits, g, 2), MLX((i) + 1, "mlx_q" #bits "_g" #g "_bf16", bits, g, 2), \
    MLX((i) + 2, "mlx_q" #bits "_g" #g "_f32", bits, g, 4)

static const struct tensor_type_traits TRAITS[TENSOR_TYPE_MLX_LAST + 1] = {
    CODEC(TENSOR_TYPE_F32, "f32", f32, 1, 4), .weight = true, .act = ACT_F32},
    CODEC(TENSOR_TYPE_F16, "f16", f16, 1, 2), .weight = true, .act = ACT_F32,
          .pack_bytes = 2 * PK_ROWS, .pack_elems = 1, .pack = pk_pack_f16, .packed_row = pk_row_f16},
    CODEC(TENSOR_TYPE_BF16, "bf16", bf16, 1, 2), .weight = true, .act = ACT_F32,
          .pack_bytes = 4 * PK_ROWS, .pack_elems = 2, .pack = pk_pack_bf16, .packed_row = pk_row_bf16},
    CODEC(TENSOR_TYPE_Q4_0, "q4_0", q4_0, 32, 18), .weight = true, .act = ACT_Q8_32,
          .pack_bytes = PK_Q4_0_BLOCK, .pack_elems = 32, .pack = pk_pack_q4_0, .packed_row = pk_row_q4_0},
    CODEC(TENSOR_TYPE_Q4_1, "q4_1", q4_1, 32, 20), .weight = true, .act = ACT_Q8_32},
    REMOVED(4, "q4_2"),
    REMOVED(5, "q4_3"),
    CODEC(TENSOR_TYPE_Q5_0, "q5_0", q5_0, 32, 22), .weight = true, .act = ACT_Q8_32},
    CODEC(TENSOR_TYPE_Q5_1, "q5_1", q5_1, 32, 24), .weight = true, .act = ACT_Q8_32},
    CODEC(TENSOR_TYPE_Q8_0, "q8_0", q8_0, 32, 34), .weight = true, .act = ACT_Q8_32,
          .pack_bytes = PK_Q8_0_BLOCK, .pack_elems = 32, .pack = pk_pack_q8_0, .packed_row = pk_row_q8_0},
    /* Q8_1 and Q8_K are activation formats: read and written, never weights */
    CODEC(TENSOR_TYPE_Q8_1, "q8_1", q8_1, 32, 36)},
    CODEC(TENSOR_TYPE_Q2_K, "q2_K", q2_K, 256, 84), .weight = true, .act = ACT_Q8_K},
    CODEC(TENSOR_TYPE_Q3_K, "q3_K", q3_K, 256, 110), .weight = true, .act = ACT_Q8_K},
    CODEC(TENSOR_TYPE_Q4_K, "q4_K", q4_K, 256, 144), .weight = true, .act = ACT_Q8_K,
          .pack_bytes = PK_Q4_K_BLOCK, .pack_elems = 256, .pack = pk_pack_q4_k, .packed_row = pk_row_q4_k},
    CODEC(TENSOR_TYPE_Q5_K, "q5_K", q5_K, 256, 176), .weight = true, .act = ACT_Q8_K},
    CODEC(TENSOR_TYPE_Q6_K, "q6_K", q6_K, 256, 210), .weight = true, .act = ACT_Q8_K,
          .pack_bytes = PK_Q6_K_BLOCK, .pack_elems = 256, .pack = pk_pack_q6_k, .packed_row = pk_row_q6_k},
    CODEC(TENSOR_TYPE_Q8_K, "q8_K", q8_K, 256, 292)},
    NAMED(TENSOR_TYPE_IQ2_XXS, "iq2_xxs", 256, 66),
    NAMED(TENSOR_TYPE_IQ2_XS, "iq2_xs", 256, 74),
    NAMED(TENSOR_TYPE_IQ3_XXS, "iq3_xxs", 256, 98),
    NAMED(TENSOR_TYPE_IQ1_S, "iq1_s", 256, 50),
    NAMED(TENSOR_TYPE_IQ4_NL, "iq4_nl", 32, 18),
    NAMED(TENSOR_TYPE_IQ3_S, "iq3_s", 256, 110),
    NAMED(TENSOR_TYPE_IQ2_S, "iq2_s", 256, 82),
    NAMED(TENSOR_TYPE_IQ4_XS, "iq4_xs", 256, 136),
    NAMED(TENSOR_TYPE_I8, "i8", 1, 1),
    NAMED(TENSOR_TYPE_I16, "i16", 1, 2),
    NAMED(TENSOR_TYPE_I32, "i32", 1, 4),
    NAMED(TENSOR_TYPE_I64, "i64", 1, 8),
    NAMED(TENSOR_TYPE_F64, "f64", 1, 8),
    NAMED(TENSOR_TYPE_IQ1_M, "iq1_m", 256, 56),
    REMOVED(31, "q4_0_4_4"),
    REMOVED(32, "q4_0_4_8"),
    REMOVED(33, "q4_0_8_8"),
    NAMED(TENSOR_TYPE_TQ1_0, "tq1_0", 256, 54),
    NAMED(TENSOR_TYPE_TQ2_0, "tq2_0", 256, 66),
    REMOVED(36, "iq4_nl_4_4"),
    REMOVED(37, "iq4_nl_4_8"),
    REMOVED(38, "iq4_nl_8_8"),
    NAMED(TENSOR_TYPE_MXFP4, "mxfp4", 32, 17),
    MLX_GROUPS(0, 4, 32), MLX_GROUPS(3, 4, 64), MLX_GROUPS(6, 4, 128),
    MLX_GROUPS(9, 8, 32), MLX_GROUPS(12, 8, 64), MLX_GROUPS(15, 8, 128),
};

const struct tensor_type_traits *tensor_type_traits(int type)
{
    if (type < 0 || type > TENSOR_TYPE_MLX_LAST || !TRAITS[type].name) return NULL;
    return &TRAITS[type];
}

const char *tensor_type_name(int type)
{
    const struct tensor_type_traits *tt = tensor_type_traits(type);
    return tt ? tt->name : "unknown";
}

int tensor_type_from_name(const char *name)
{
    if (!name) return -1;
    for (int t = 0; t < TENSOR_TYPE_COUNT; t++) {
        const char *n = TRAITS[t].name;
        if (!n) continue;
        size_t i = 0;
        while (n[i] && name[i] && tolower((unsigned char)n[i]) == tolower((unsigned char)name[i])) i++;
        if (!n[i] && !name[i]) return t;
    }
    return -1;
}

int tensor_type_is_known(int type) { return type >= 0 && type < TENSOR_TYPE_COUNT && TRAITS[type].name != NULL; }

int tensor_type_is_supported(int type)
{
    const struct tensor_type_traits *tt = tensor_type_traits(type);
    return tt && tt->weight;
}

int tensor_type_can_quantize(int type)
{
    const struct tensor_type_traits *tt = tensor_type_traits(type);
    return tt && tt->from_float;
}

/* GGUF's types only: an MLX id is not a GGUF type. */
int64_t tensor_type_block_size(int type) { return tensor_type_is_known(type) ? TRAITS[type].block_size : 0; }
size_t tensor_type_block_bytes(int type) { return tensor_type_is_known(type) ? TRAITS[type].block_bytes : 0; }

int64_t tensor_row_bytes(int type, int64_t n)
{
    const struct tensor_type_traits *tt = tensor_type_traits(type);
    if (!tt || tt->block_size <= 0 || n < 0 || n % tt->block_size) return -1;
    int64_t nb = n / tt->block_size;
    int64_t bb = (int64_t)tt->block_bytes;
    if (nb > INT64_MAX / bb) return -1;
    return nb * bb;
}

int tensor_dequantize_row(int type, const void *src, float *dst, int64_t n)
{
    const struct tensor_type_traits *tt = tensor_type_traits(type);
    if (!tt || !tt->to_float || !src || !dst || tt->block_size <= 0 || n < 0 || n % tt->block_size) return -1;
    return tt->to_float(type, src, dst, n);
}

int64_t tensor_quantize_row(int type, const float *src, void *dst, int64_t n)
{
    int64_t bytes = tensor_row_bytes(type, n);
    const struct tensor_type_traits *tt = tensor_type_traits(type);
    if (bytes < 0 || !src || !dst || !tt->from_float) return -1;
    tt->from_float(src, dst, n);
    return bytes;
}

int64_t tensor_quantize_rows(int type, const float *src, void *dst, int64_t nrows, int64_t n_per_row)
{
    int64_t rb = tensor_row_bytes(type, n_per_row);
    if (rb < 0 || nrows < 0) return -1;
    for (int64_t r = 0; r < nrows; r++)
        if (tensor_quantize_row(type, src + r * n_per_row, (char *)dst + r * rb, n_per_row) < 0) return -1;
    return rb * nrows;
}
