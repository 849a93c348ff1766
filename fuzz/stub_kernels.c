/* stub_kernels.c - stands in for the SIMD kernel table in the fuzz build.
 *
 * tensor_types.c (linked for the GGUF reader's type sizes) refers to
 * kernels_get() for its row conversions, which no parser calls. The real
 * table would drag every ISA kernel file into the clang build (and those
 * rely on gcc folding some intrinsic immediates), so the fuzz build links
 * this stub instead: a parser that did convert rows would crash on the
 * NULL table and show up as a finding, not go unnoticed. */
#include "tensor/kernels.h"

const struct kernel_table *kernels_get(void) { return 0; }
