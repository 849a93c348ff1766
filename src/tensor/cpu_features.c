/* cpu_features.c - cpuid/xgetbv detection and the SIMD level in force. */
#include "cpu_features.h"
#include "kernels.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define INF_X86 1
#endif

static struct cpu_features g_feat;
static int g_level_max, g_level;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

#ifdef INF_X86
static unsigned long long xgetbv0(void)
{
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
#endif

static void detect(void)
{
    struct cpu_features f;
    memset(&f, 0, sizeof f);
#ifdef INF_X86
    unsigned a, b, c, d, max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf >= 1) {
        __cpuid_count(1, 0, a, b, c, d);
        f.sse42 = (c >> 20) & 1;
        f.fma = (c >> 12) & 1;
        f.f16c = (c >> 29) & 1;
        int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
        if (osxsave) {
            unsigned long long xcr0 = xgetbv0();
            f.os_ymm = (xcr0 & 0x6) == 0x6;
            f.os_zmm = f.os_ymm && (xcr0 & 0xe0) == 0xe0;
        }
        f.avx = avx && f.os_ymm;
        if (max_leaf >= 7) {
            __cpuid_count(7, 0, a, b, c, d);
            f.avx2 = f.avx && ((b >> 5) & 1);
            f.avx512f = f.os_zmm && ((b >> 16) & 1);
            f.avx512dq = f.os_zmm && ((b >> 17) & 1);
            f.avx512bw = f.os_zmm && ((b >> 30) & 1);
            f.avx512vl = f.os_zmm && ((b >> 31) & 1);
            f.avx512vnni = f.os_zmm && ((c >> 11) & 1);
            unsigned max7 = a;
            if (max7 >= 1) {
                __cpuid_count(7, 1, a, b, c, d);
                f.avxvnni = f.os_ymm && ((a >> 4) & 1);
                f.avx512bf16 = f.os_zmm && ((a >> 5) & 1);
            }
        }
        if (!f.os_ymm) f.fma = f.f16c = 0;
    }
#endif
    g_feat = f;
    int lvl = CPU_LEVEL_SCALAR;
    if (f.avx2 && f.fma && f.f16c) lvl = CPU_LEVEL_AVX2;
    if (lvl == CPU_LEVEL_AVX2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq) lvl = CPU_LEVEL_AVX512;
    g_level_max = lvl;
    const char *env = getenv("INF_CPU_LEVEL");
    if (env && *env) {
        int want = cpu_level_from_name(env);
        if (want >= 0 && want < lvl) lvl = want;
    }
    g_level = lvl;
}

static void init(void) { pthread_once(&g_once, detect); }

const struct cpu_features *cpu_features_get(void) { init(); return &g_feat; }
int cpu_level_max(void) { init(); return g_level_max; }
int cpu_level(void) { init(); return __atomic_load_n(&g_level, __ATOMIC_ACQUIRE); }

int cpu_set_level(int level)
{
    init();
    if (level < CPU_LEVEL_SCALAR) level = CPU_LEVEL_SCALAR;
    if (level > g_level_max) level = g_level_max;
    __atomic_store_n(&g_level, level, __ATOMIC_RELEASE);
    kernels_select(level);
    return level;
}

const char *cpu_level_name(int level)
{
    switch (level) {
    case CPU_LEVEL_SCALAR: return "scalar";
    case CPU_LEVEL_AVX2: return "avx2";
    case CPU_LEVEL_AVX512: return "avx512";
    default: return "unknown";
    }
}

int cpu_level_from_name(const char *name)
{
    if (!name) return -1;
    if (!strcasecmp(name, "scalar")) return CPU_LEVEL_SCALAR;
    if (!strcasecmp(name, "avx2")) return CPU_LEVEL_AVX2;
    if (!strcasecmp(name, "avx512")) return CPU_LEVEL_AVX512;
    return -1;
}

static char g_feat_buf[256];
static pthread_once_t g_feat_buf_once = PTHREAD_ONCE_INIT;

static void fill_feat_buf(void)
{
    const struct cpu_features *f = cpu_features_get();
    size_t n = (size_t)snprintf(g_feat_buf, sizeof g_feat_buf, "%s (max %s:", cpu_level_name(cpu_level()),
                                cpu_level_name(cpu_level_max()));
    static const struct { const char *name; size_t off; } flags[] = {
#define F(x) {#x, offsetof(struct cpu_features, x)}
        F(avx2), F(fma), F(f16c), F(avx512f), F(avx512bw), F(avx512vl), F(avx512dq),
        F(avx512vnni), F(avxvnni), F(avx512bf16),
#undef F
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0] && n < sizeof g_feat_buf; i++) {
        int v;
        memcpy(&v, (const char *)f + flags[i].off, sizeof v);
        if (v) n += (size_t)snprintf(g_feat_buf + n, sizeof g_feat_buf - n, " %s", flags[i].name);
    }
    if (n < sizeof g_feat_buf) snprintf(g_feat_buf + n, sizeof g_feat_buf - n, ")");
}

/* Reflects the level at first call. */
const char *cpu_features_string(void)
{
    pthread_once(&g_feat_buf_once, fill_feat_buf);
    return g_feat_buf;
}
