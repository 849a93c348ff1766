/* type_traits.h - one row per tensor type: what the type is (name, block
 * geometry) and what the engine does with it (row decoder and encoder,
 * whether it multiplies, the activation format its dot kernels take, its
 * 16-row packed layout). ggml's type_traits is the model. The rest of
 * src/tensor looks a type up here instead of switching on it; adding a
 * type is one row here plus its kernels (a decoder, maybe an encoder, a dot
 * kernel registered in each CPU level's table in kernels_*.c, maybe a
 * packed layout).
 *
 * Rows exist for every id ggml defines (removed ones with block size 0)
 * and for the library's own MLX affine types (TENSOR_TYPE_MLX_FIRST..LAST).
 * Read-only after compilation: thread-safe. */
#ifndef INF_TENSOR_TYPE_TRAITS_H
#define INF_TENSOR_TYPE_TRAITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor/packed_internal.h"
#include "tensor/quant_rows.h"

/* Activation format a weight type is multiplied against (the dot
 * kernels' second operand; quant_blocks.h's ACT32 / ACTK layouts). */
enum act_format { ACT_F32 = 0, ACT_Q8_32 = 1, ACT_Q8_K = 2 };

struct tensor_type_traits {
    const char *name;          /* ggml's name, "unknown" never (NULL: no such id) */
    int64_t block_size;        /* elements per block; 0 for an id ggml removed */
    size_t block_bytes;        /* bytes per block */
    tensor_decode_fn to_float; /* NULL: this library cannot read it */
    tensor_encode_fn from_float; /* NULL: this library cannot write it */
    bool weight;               /* tensor_matmul multiplies by it */
    bool mlx;                  /* an MLX affine type (kernels_mlx.h computes it) */
    enum act_format act;       /* for weight types with dot kernels */
    /* The 16-row interleaved layout of packed.h, when the type has one:
     * bytes of a packed block of pack_elems columns, the packer of one
     * group of rows and the reader of one row back out. */
    size_t pack_bytes;
    int64_t pack_elems;
    pack_group_fn pack;
    packed_row_fn packed_row;
};

/* The row of a type id, or NULL for an id that names no type. */
const struct tensor_type_traits *tensor_type_traits(int type);

#endif
