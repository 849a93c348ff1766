/* kernels_avxvnni.c - the AVX2 kernels with AVX-VNNI (VEX vpdpbusd). */
#define KX_NAME "avx2+avxvnni"
#define KX_FILL kernels_fill_avxvnni
#define KX_VNNI 1
#include "kernels_x86.h"
