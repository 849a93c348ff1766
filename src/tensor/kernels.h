/* kernels.h - INTERNAL to src/tensor: the per-CPU-level kernel table.
 *
 * One table per level (kernels_scalar.c, kernels_avx2.c / kernels_avxvnni.c,
 * kernels_avx512.c); kernels_get() returns the one chosen once at startup
 * from cpu_level() (re-chosen by cpu_set_level, for tests). Entries a level
 * does not accelerate are copied from the scalar table. */
#ifndef INF_TENSOR_KERNELS_H
#define INF_TENSOR_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "tensor_types.h"
#include "type_traits.h"

/* Max activation rows one dot call handles (register tile width). */
#define MM_NC 4

/* f32 activation row of k -> its quantised form (ACT32 / ACTK layouts,
 * quant_blocks.h). */
typedef void (*act_quant_fn)(const float *x, void *dst, int64_t k);

/* One weight row `w` (k elements of the weight type) against nc <= MM_NC
 * activation rows xa, xa + xa_stride, ... (bytes; in the weight type's
 * activation format). out[c * out_stride] = dot(w, xa_c) for c < nc.
 * The result for a column must not depend on nc (determinism). */
typedef void (*dot_fn)(int64_t k, const void *w, const void *xa, size_t xa_stride,
                       int nc, float *out, int64_t out_stride);

/* Optional two-row variant: rows w and w + w_stride; out[c*out_stride] and
 * out[c*out_stride + 1]. Must give bit-identical results to two dot calls. */
typedef void (*dot2_fn)(int64_t k, const void *w, size_t w_stride, const void *xa, size_t xa_stride,
                        int nc, float *out, int64_t out_stride);

struct kernel_table {
    const char *name;
    act_quant_fn quant_act32;
    act_quant_fn quant_actk;
    dot_fn dot[TENSOR_TYPE_COUNT];
    dot2_fn dot2[TENSOR_TYPE_COUNT]; /* may be NULL */
    void (*f16_to_f32)(const void *src, float *dst, int64_t n);
    void (*f32_to_f16)(const float *src, uint16_t *dst, int64_t n);
    /* vec helpers (vec.h) */
    float (*vec_dot_f32)(const float *a, const float *b, int64_t n);
    float (*vec_sumsq_f32)(const float *a, int64_t n);
    void (*vec_scale_mul_f32)(float *y, const float *x, float s, const float *w, int64_t n);
    void (*vec_add_f32)(float *y, const float *a, const float *b, int64_t n);
    void (*vec_mul_f32)(float *y, const float *a, const float *b, int64_t n);
    void (*vec_axpy_f32)(float *y, float a, const float *x, int64_t n);
    /* y[i] = silu(gate[i]) * up[i] (vec.h, tensor_swiglu_f32) */
    void (*swiglu_f32)(float *y, const float *gate, const float *up, int64_t n);
    /* attention over one block of cache positions (vec.h, tensor_attn_block) */
    void (*attn_block)(const float *q, size_t q_stride, int n_q, const float *k, const float *v, int nb, int hd,
                       int hdv, const int *lo, const int *hi, float scale, float cap, float *st, size_t st_stride,
                       float *scratch);
};

/* The activation format of a weight type's dot kernels (type_traits.h). */
static inline int act_format_of(int type) { return (int)tensor_type_traits(type)->act; }

/* The table in force (never NULL). */
const struct kernel_table *kernels_get(void);
/* The scalar reference table. */
const struct kernel_table *kernels_scalar(void);
/* Re-selects the table for a level (called by cpu_set_level). */
void kernels_select(int level);
/* Test hook: as kernels_select, with optional ISA extensions withheld, so
 * a test on a VNNI machine can also run the plain-AVX2 (maddubs) and
 * AVX-512-without-VNNI variants. Returns the table's name. */
#define KERNELS_NO_AVXVNNI 1u
#define KERNELS_NO_AVX512VNNI 2u
const char *kernels_select_ex(int level, unsigned disable);

/* Fill functions of each level: start from a copy of the scalar table and
 * override what they accelerate. Defined only on x86 builds. */
void kernels_fill_avx2(struct kernel_table *t);
void kernels_fill_avxvnni(struct kernel_table *t);
void kernels_fill_avx512(struct kernel_table *t, int allow_vnni);

/* A per-calling-thread scratch buffer of at least `size` bytes, 64-byte
 * aligned, reused by the next call on the same thread (matmul.c; freed at
 * thread exit). NULL when memory is short. */
void *tensor_thread_scratch(size_t size);

/* Shared scalar helpers (dequant_rows.c). */
void get_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m);
void q3k_unpack_scales(const uint8_t *s12, int8_t out[16]);

#endif
