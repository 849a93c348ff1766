/* packed_internal.h - INTERNAL to src/tensor: the packed matrix and the
 * kernel interface between packed.c (layout, driver) and
 * kernels_packed_avx512.c (the compute). See packed.h for the layouts. */
#ifndef INF_TENSOR_PACKED_INTERNAL_H
#define INF_TENSOR_PACKED_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define PK_ROWS 16 /* rows per interleaved group */

struct packed_matrix {
    int type;             /* TENSOR_TYPE_* of the source */
    int64_t rows, k;
    int64_t n_groups;     /* ceil(rows / 16) */
    size_t group_bytes;   /* bytes of one group */
    uint8_t *data;        /* n_groups * group_bytes, 64-byte aligned */
    size_t mapped_bytes;  /* > 0: data is an mmap of this length */
};

/* Bytes per group and per block of each layout. */
#define PK_Q8_0_BLOCK (32 + 8 * 64)
#define PK_Q4_0_BLOCK (32 + 4 * 64)
#define PK_Q4_K_BLOCK (64 + 128 + 128 + 32 * 64)
#define PK_Q6_K_BLOCK (32 + 256 + 16 * 3 * 64)

/* The rows a packer reads: rows rows of k elements, ws bytes apart. */
struct pack_src {
    const uint8_t *w;
    size_t ws;
    int64_t rows, k;
};

/* Packs group g (rows 16g .. 16g+15, zeros past the last row) into dst. */
typedef void (*pack_group_fn)(const struct pack_src *s, int64_t g, uint8_t *dst);
/* Row rr (0..15) of a packed group of k columns, decoded into out. */
typedef void (*packed_row_fn)(const uint8_t *group, int rr, int64_t k, float *out);

/* The packers and row readers of each layout (packed.c), referenced by the
 * type table (type_traits.c). */
#define PACKED_LAYOUTS(X) X(f16) X(bf16) X(q8_0) X(q4_0) X(q4_k) X(q6_k)
#define DECLARE_LAYOUT(t) void pk_pack_##t(const struct pack_src *s, int64_t g, uint8_t *dst); \
    void pk_row_##t(const uint8_t *group, int rr, int64_t k, float *out);
PACKED_LAYOUTS(DECLARE_LAYOUT)
#undef DECLARE_LAYOUT

/* Extra per-block activation data the packed kernels need, stored after
 * the ACT32 / ACTK row (quant_blocks.h) in the packed driver's scratch:
 *  ACT32: int32 sq[nb]      sum of the block's quants
 *  ACTK:  int16 bp[nb][8]   sums of each 32-element sub-block (for Q4_K's
 *                           mins, taken in pairs by vpdpwssd) */
static inline size_t pk_act32_extra(int64_t k) { return (size_t)(k / 32) * 4; }
static inline size_t pk_actk_extra(int64_t k) { return (size_t)(k / 256) * 16; }

/* Computes groups [g0, g1) for tokens [0, nt): y[t*ldy + r] for every valid
 * row r of those groups. xa: nt activation rows, xs bytes apart, each in
 * the type's format followed at offset `extra_off` by its extra data. */
typedef void (*packed_kernel_fn)(const struct packed_matrix *pm, int64_t g0, int64_t g1, const char *xa, size_t xs,
                                 size_t extra_off, int64_t nt, float *y, int64_t ldy);

/* Kernels for a type, or NULL (kernels_packed_avx512.c; NULL off x86 or
 * without AVX-512 VNNI). */
packed_kernel_fn packed_kernel_avx512(int type);

#endif
