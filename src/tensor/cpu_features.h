/* cpu_features.h - runtime CPU feature detection and the SIMD level in force.
 *
 * Owner: tensor/kernels area.
 *
 * Detection uses cpuid and xgetbv (the OS must have enabled the YMM / ZMM
 * state). On non-x86 builds every flag is 0 and the level is "scalar".
 *
 * Levels (each includes the ones below):
 *   CPU_LEVEL_SCALAR  portable C.
 *   CPU_LEVEL_AVX2    AVX2 + FMA + F16C (AVX-VNNI used when present).
 *   CPU_LEVEL_AVX512  AVX-512 F + BW + VL + DQ (VNNI / BF16 used when present).
 *
 * The environment variable INF_CPU_LEVEL=scalar|avx2|avx512, read once on
 * first use, lowers the level (it never raises it above what the CPU has;
 * unknown values are ignored). Tests use it, or cpu_set_level().
 *
 * Thread-safety: the getters are thread-safe (the first call initialises;
 * racing first calls compute the same values). cpu_set_level is for tests
 * and tools: call it only while no kernel is running. */
#ifndef INF_TENSOR_CPU_FEATURES_H
#define INF_TENSOR_CPU_FEATURES_H

#ifdef __cplusplus
extern "C" {
#endif

enum cpu_level {
    CPU_LEVEL_SCALAR = 0,
    CPU_LEVEL_AVX2   = 1,
    CPU_LEVEL_AVX512 = 2
};

struct cpu_features {
    int sse42, avx, avx2, fma, f16c;
    int avx512f, avx512bw, avx512vl, avx512dq;
    int avx512vnni, avxvnni, avx512bf16;
    int os_ymm, os_zmm;          /* OS saves the YMM / ZMM register state */
};

/* Hardware flags as detected (not lowered by INF_CPU_LEVEL). Static. */
const struct cpu_features *cpu_features_get(void);

/* Best level the CPU and OS support. */
int cpu_level_max(void);

/* Level in force: cpu_level_max() lowered by INF_CPU_LEVEL / cpu_set_level. */
int cpu_level(void);

/* Forces the level in force (clamped to [scalar, cpu_level_max()]) and
 * re-selects every kernel table. Returns the level now in force. Test and
 * tool hook: not safe while kernels run on other threads. */
int cpu_set_level(int level);

/* "scalar", "avx2", "avx512"; "unknown" otherwise. */
const char *cpu_level_name(int level);

/* Parses "scalar" / "avx2" / "avx512" (case-insensitive); -1 otherwise. */
int cpu_level_from_name(const char *name);

/* One line describing the CPU features, e.g. for `infer --version` or
 * benchmarks: "avx512 (avx2 fma f16c avx512f ... )". Static buffer. */
const char *cpu_features_string(void);

#ifdef __cplusplus
}
#endif
#endif
