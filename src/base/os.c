/* os.c - see os.h. Resident memory: Linux reads /proc/self/status (VmRSS,
 * VmHWM); elsewhere getrusage gives the peak. */
#include "base/os.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

int64_t os_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t read_status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    size_t key_len = strlen(key);
    uint64_t kib = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, key_len) == 0 && line[key_len] == ':') {
            unsigned long long v = 0;
            if (sscanf(line + key_len + 1, "%llu", &v) == 1) kib = v;
            break;
        }
    }
    fclose(f);
    return kib;
}

uint64_t os_rss_bytes(void)
{
    return read_status_kib("VmRSS") * 1024;
}

/* The kernel updates VmHWM lazily, so it can lag VmRSS: the peak is the
 * larger of the two. */
uint64_t os_peak_rss_bytes(void)
{
    uint64_t rss = read_status_kib("VmRSS");
    uint64_t kib = read_status_kib("VmHWM");
    if (rss > kib) kib = rss;
    if (!kib) {
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0) kib = (uint64_t)ru.ru_maxrss;
    }
    return kib * 1024;
}

static int count_physical_cores(void)
{
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    int have_mask = sched_getaffinity(0, sizeof set, &set) == 0;
    int n_cpus = have_mask ? CPU_COUNT(&set) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n_cpus < 1) n_cpus = 1;
    /* (package, core) pairs of the CPUs we may run on */
    enum { MAXC = 1024 };
    static long pairs[MAXC];
    int n_pairs = 0, n_seen = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && cpu < MAXC; cpu++) {
        if (have_mask && !CPU_ISSET(cpu, &set)) continue;
        char path[128];
        long core = -1, pkg = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
        FILE *f = fopen(path, "r");
        if (!f) { if (!have_mask) break; else continue; }
        if (fscanf(f, "%ld", &core) != 1) core = -1;
        fclose(f);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
        f = fopen(path, "r");
        if (f) { if (fscanf(f, "%ld", &pkg) != 1) pkg = 0; fclose(f); }
        if (core < 0) continue;
        n_seen++;
        long key = pkg * 100000 + core;
        int dup = 0;
        for (int i = 0; i < n_pairs; i++) if (pairs[i] == key) { dup = 1; break; }
        if (!dup && n_pairs < MAXC) pairs[n_pairs++] = key;
    }
    if (n_seen == 0 || n_pairs == 0) return n_cpus;
    /* CPUs whose topology we could not read count as cores of their own */
    int n = n_pairs + (n_cpus > n_seen ? n_cpus - n_seen : 0);
    return n < 1 ? 1 : n;
#else
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
#endif
}

static int g_cores;
static pthread_once_t g_cores_once = PTHREAD_ONCE_INIT;
static void cores_init(void) { g_cores = count_physical_cores(); }

int os_physical_cores(void)
{
    pthread_once(&g_cores_once, cores_init);
    return g_cores;
}
