/* os.c - see os.h. Resident memory: Linux reads /proc/self/status (VmRSS,
 * VmHWM); elsewhere getrusage gives the peak. */
#include "base/os.h"

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
