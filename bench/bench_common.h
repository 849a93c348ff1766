/* bench_common.h - the small helpers every benchmark program here shares:
 * a monotonic clock, strict whole-number options, mean and sample standard
 * deviation, loading a model through the public API. Header-only: each bench program (a .c file here) stands alone. */
#ifndef INF_BENCH_COMMON_H
#define INF_BENCH_COMMON_H

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <inference.h>

/* Seconds on the monotonic clock. */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The whole number s, in [min, max], into *out; false, with a message
 * naming the program and the option, if s is anything else. */
static inline bool bench_parse_int(const char *prog, const char *opt, const char *s, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || v < min || v > max) {
        fprintf(stderr, "%s: %s wants a whole number from %ld to %ld, not '%s'\n", prog, opt, min, max, s ? s : "");
        return false;
    }
    *out = (int)v;
    return true;
}

/* Mean and sample standard deviation (0 for one sample) of x[0..n). */
static inline void bench_mean_sd(const double *x, int n, double *mean, double *sd)
{
    double m = 0, v = 0;
    for (int i = 0; i < n; i++) m += x[i] / n;
    for (int i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m);
    *mean = m;
    *sd = n > 1 ? sqrt(v / (n - 1)) : 0;
}

/* Loads a model with these load options (0: the backend's default); NULL
 * after printing the loader's message. */
static inline inf_model *bench_load_model(const char *prog, const char *path, int threads, int context_len,
                                          int parallel_slots)
{
    inf_load_config lc;
    inf_load_config_default(&lc);
    lc.threads = threads;
    lc.context_len = context_len;
    lc.parallel_slots = parallel_slots;
    inf_error err;
    inf_model *m = inf_load_model(path, &lc, &err);
    if (!m) fprintf(stderr, "%s: %s\n", prog, err.message);
    return m;
}

#endif
