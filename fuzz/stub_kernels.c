/* stub_kernels.c - stands in for the SIMD kernel table in the fuzz build.
 *
 * tensor_types.c (linked for the GGUF reader's type sizes) refers to
 * kernels_get() for its row conversions, which no parser calls, and
 * cpu_features.c to kernels_select(). The real table would drag every ISA
 * kernel file into the clang build (and those rely on gcc folding some
 * intrinsic immediates), so the fuzz build links these stubs instead: a
 * parser that did convert rows would crash on the NULL table and show up
 * as a finding, not go unnoticed. */
#include "tensor/kernels.h"

const struct kernel_table *kernels_get(void) { return 0; }

/* cpu_features.c (needed by the MLX type sizes) re-selects the table when
 * the level changes; nothing to select here. */
void kernels_select(int level) { (void)level; }
