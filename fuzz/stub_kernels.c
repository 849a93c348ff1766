/* stub_kernels.c - stands in for the SIMD kernel table in the fuzz build.
 *
 * The type table (linked for the GGUF reader's type sizes) names row
 * codecs and packed layouts that refer to kernels_get() and the packed
 * kernels, which no parser calls, and cpu_features.c to kernels_select(). The real table would drag every ISA
 * kernel file into the clang build (and those rely on gcc folding some
 * intrinsic immediates), so the fuzz build links these stubs instead: a
 * parser that did convert rows would crash on the NULL table and show up
 * as a finding, not go unnoticed. */
#include "tensor/kernels.h"
#include "tensor/packed_internal.h"

const struct kernel_table *kernels_get(void) { return 0; }

/* cpu_features.c (needed by the MLX type sizes) re-selects the table when
 * the level changes; nothing to select here. */
void kernels_select(int level) { (void)level; }

/* packed.c asks for the AVX-512 packed kernels: none here. */
packed_kernel_fn packed_kernel_avx512(int type)
{
    (void)type;
    return 0;
}

/* ... and for a thread's scratch (matmul.c's), which a parser never needs. */
void *tensor_thread_scratch(size_t size)
{
    (void)size;
    return 0;
}
