/* os.h - what the library asks of the operating system: a monotonic
 * clock, this process's resident memory and the physical cores it may use. */
#ifndef INF_BASE_OS_H
#define INF_BASE_OS_H

#include <stdint.h>

/* Monotonic clock in nanoseconds. */
int64_t os_monotonic_ns(void);
/* Resident memory of this process now and at its peak, in bytes (0 when the
 * platform does not say). */
uint64_t os_rss_bytes(void);
uint64_t os_peak_rss_bytes(void);
/* Number of physical CPU cores available to this process (hyper-threads of
 * one core count once; respects the affinity mask / cgroup CPU set as far
 * as Linux reports it). Always >= 1. Cached after the first call;
 * thread-safe. The default thread count for the engine. */
int os_physical_cores(void);

#endif
