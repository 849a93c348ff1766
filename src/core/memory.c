/* memory.c - the process's resident memory, for Metrics. Linux reads
 * /proc/self/status (VmRSS, VmHWM); elsewhere getrusage gives the peak. */
#include "core/internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

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

uint64_t inf_process_rss_bytes(void)
{
    return read_status_kib("VmRSS") * 1024;
}

/* The kernel updates VmHWM lazily, so it can lag VmRSS: the peak is the
 * larger of the two. */
uint64_t inf_process_peak_rss_bytes(void)
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
