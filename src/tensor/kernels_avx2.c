/* kernels_avx2.c - AVX2 + FMA + F16C kernels (no VNNI). */
#define KX_NAME "avx2"
#define KX_FILL kernels_fill_avx2
#define KX_VNNI 0
#include "kernels_x86.h"
