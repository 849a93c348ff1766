/* os.h - what the library asks of the operating system: a monotonic
 * clock and this process's resident memory. */
#ifndef INF_BASE_OS_H
#define INF_BASE_OS_H

#include <stdint.h>

/* Monotonic clock in nanoseconds. */
int64_t os_monotonic_ns(void);
/* Resident memory of this process now and at its peak, in bytes (0 when the
 * platform does not say). */
uint64_t os_rss_bytes(void);
uint64_t os_peak_rss_bytes(void);

#endif
