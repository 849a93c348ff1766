/* bench_bandwidth.c - memory read bandwidth of this machine, the ceiling of
 * token-by-token decoding (every weight is read once per token).
 *
 * A buffer (1 GiB by default, far larger than any cache) is filled once,
 * then read end to end by 1, 2, ... N threads at once, each thread summing
 * its own contiguous slice with wide loads (AVX-512 or AVX2 when the CPU has
 * them, else a plain 64-bit sum loop; the AVX-512 reader also prefetches
 * 4 KiB ahead, which a lone core needs to reach the limit). The sums are stored where the
 * compiler must assume they are used, so no read can be left out. Each thread
 * count runs once to warm up, then -r timed passes between two barriers;
 * the rate is bytes read / wall time of the pass, in GB/s (10^9 bytes).
 *
 *   build/bench_bandwidth [-s MIB] [-t N | -T N] [-r REPS] [--kernel K] [--pin] [--no-huge] [--json]
 *
 *   -s, --size MIB     buffer size in MiB [1024]
 *   -t, --threads N    measure 1, 2, ... N threads [the online CPUs]
 *   -T, --only N       measure N threads only
 *   -r, --reps N       timed passes per thread count [5]
 *       --kernel K     avx512, avx2 or scalar [the widest the CPU has]
 *       --pin          pin thread i to CPU i
 *       --no-huge      do not ask for transparent huge pages
 *       --json         one JSON object per thread count instead of a table
 *
 * Markdown table: | threads | best GB/s | mean GB/s | sd |. JSON keys:
 * "threads", "size_bytes", "repetitions", "kernel", "best_gbps",
 * "mean_gbps", "sd_gbps". Run on an idle machine. */
#include <errno.h>
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "stream_read.h"

typedef uint64_t (*read_fn)(const unsigned char *p, size_t n);

/* Plain sum of 64-bit words: the compiler may vectorise it as it likes. */
static uint64_t read_scalar(const unsigned char *p, size_t n)
{
    const uint64_t *w = (const uint64_t *)p;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t words = n / 8, i = 0;
    for (; i + 4 <= words; i += 4) {
        s0 += w[i];
        s1 += w[i + 1];
        s2 += w[i + 2];
        s3 += w[i + 3];
    }
    for (; i < words; i++) s0 += w[i];
    return s0 + s1 + s2 + s3;
}

/* 256 bytes per iteration, four independent accumulators (n is a multiple
 * of 256: slices are). */
__attribute__((target("avx2"))) static uint64_t read_avx2(const unsigned char *p, size_t n)
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    __m256i b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (size_t i = 0; i < n; i += 256) {
        a0 = _mm256_add_epi64(a0, _mm256_load_si256((const __m256i *)(p + i)));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256((const __m256i *)(p + i + 32)));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256((const __m256i *)(p + i + 64)));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256((const __m256i *)(p + i + 96)));
        b0 = _mm256_add_epi64(b0, _mm256_load_si256((const __m256i *)(p + i + 128)));
        b1 = _mm256_add_epi64(b1, _mm256_load_si256((const __m256i *)(p + i + 160)));
        b2 = _mm256_add_epi64(b2, _mm256_load_si256((const __m256i *)(p + i + 192)));
        b3 = _mm256_add_epi64(b3, _mm256_load_si256((const __m256i *)(p + i + 224)));
    }
    __m256i s = _mm256_add_epi64(_mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)),
                                 _mm256_add_epi64(_mm256_add_epi64(b0, b1), _mm256_add_epi64(b2, b3)));
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, s);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

typedef struct shared_state {
    const unsigned char *buf;
    size_t size;
    int threads;    /* readers in this round */
    int passes;     /* passes each reader makes (warm-up + timed) */
    bool pin;
    read_fn fn;
    pthread_barrier_t start, done;
} shared_state;

typedef struct reader {
    shared_state *s;
    int index;
    volatile uint64_t sink; /* the sums land here: the reads cannot be elided */
} reader;

static void *reader_main(void *arg)
{
    reader *r = arg;
    shared_state *s = r->s;
    if (s->pin) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(r->index % CPU_SETSIZE, &set);
        sched_setaffinity(0, sizeof set, &set); /* best effort */
    }
    /* Equal slices, multiples of 256 bytes; the last takes the remainder. */
    size_t chunk = (s->size / (size_t)s->threads) & ~(size_t)255;
    size_t off = chunk * (size_t)r->index;
    size_t len = r->index == s->threads - 1 ? s->size - off : chunk;
    for (int pass = 0; pass < s->passes; pass++) {
        pthread_barrier_wait(&s->start);
        r->sink += s->fn(s->buf + off, len);
        pthread_barrier_wait(&s->done);
    }
    return NULL;
}

static int usage(const char *argv0, const char *why)
{
    if (why) fprintf(stderr, "bench_bandwidth: %s\n", why);
    fprintf(stderr,
            "usage: %s [-s MIB] [-t N | -T N] [-r REPS] [--kernel avx512|avx2|scalar] [--pin] [--no-huge] "
            "[--json]\n",
            argv0);
    return 2;
}

/* Run `threads` readers over the buffer: one warm-up pass, then reps timed
 * passes; rates[] gets GB/s per pass. 0 on success. */
static int measure(shared_state *s, int threads, int reps, double *rates)
{
    pthread_t tid[512];
    reader *rd = calloc((size_t)threads, sizeof *rd);
    if (!rd) return -1;
    s->threads = threads;
    s->passes = reps + 1;
    if (pthread_barrier_init(&s->start, NULL, (unsigned)threads + 1) ||
        pthread_barrier_init(&s->done, NULL, (unsigned)threads + 1)) {
        free(rd);
        return -1;
    }
    int started = 0;
    for (; started < threads; started++) {
        rd[started].s = s;
        rd[started].index = started;
        if (pthread_create(&tid[started], NULL, reader_main, &rd[started])) break;
    }
    if (started < threads) {
        /* Cannot run this count: nothing else to do but report it. */
        fprintf(stderr, "bench_bandwidth: cannot start %d threads\n", threads);
        exit(1);
    }
    for (int pass = 0; pass <= reps; pass++) {
        pthread_barrier_wait(&s->start);
        double t0 = bench_now();
        pthread_barrier_wait(&s->done);
        double dt = bench_now() - t0;
        if (pass > 0) rates[pass - 1] = (double)s->size / dt / 1e9;
    }
    uint64_t total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        total += rd[i].sink;
    }
    pthread_barrier_destroy(&s->start);
    pthread_barrier_destroy(&s->done);
    free(rd);
    /* The sum of a buffer of known content: a check that every byte was read. */
    return total == 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    int size_mib = 1024, max_threads = (int)sysconf(_SC_NPROCESSORS_ONLN), only = 0, reps = 5;
    bool json = false, pin = false, huge = true;
    const char *kernel = NULL;
    if (max_threads < 1) max_threads = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (!strcmp(a, "-s") || !strcmp(a, "--size")) {
            if (!bench_parse_int("bench_bandwidth", a, v, 1, 1L << 20, &size_mib)) return usage(argv[0], NULL);
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!bench_parse_int("bench_bandwidth", a, v, 1, 512, &max_threads)) return usage(argv[0], NULL);
        } else if (!strcmp(a, "-T") || !strcmp(a, "--only")) {
            if (!bench_parse_int("bench_bandwidth", a, v, 1, 512, &only)) return usage(argv[0], NULL);
        } else if (!strcmp(a, "-r") || !strcmp(a, "--reps")) {
            if (!bench_parse_int("bench_bandwidth", a, v, 1, 100000, &reps)) return usage(argv[0], NULL);
        } else if (!strcmp(a, "--kernel")) {
            if (!v) return usage(argv[0], "--kernel wants avx512, avx2 or scalar");
            kernel = v;
        } else {
            takes = false;
            if (!strcmp(a, "--json")) json = true;
            else if (!strcmp(a, "--pin")) pin = true;
            else if (!strcmp(a, "--no-huge")) huge = false;
            else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
                usage(argv[0], NULL);
                return 0;
            } else {
                char why[300];
                snprintf(why, sizeof why, "unknown argument '%s'", a);
                return usage(argv[0], why);
            }
        }
        if (takes) i++;
    }

    __builtin_cpu_init();
    read_fn fn;
    if (!kernel) kernel = __builtin_cpu_supports("avx512f") ? "avx512" : __builtin_cpu_supports("avx2") ? "avx2" : "scalar";
    if (!strcmp(kernel, "avx512") && __builtin_cpu_supports("avx512f")) fn = stream_read_avx512;
    else if (!strcmp(kernel, "avx2") && __builtin_cpu_supports("avx2")) fn = read_avx2;
    else if (!strcmp(kernel, "scalar")) fn = read_scalar;
    else {
        char why[300];
        snprintf(why, sizeof why, "kernel '%s' is unknown or this CPU lacks it", kernel);
        return usage(argv[0], why);
    }

    size_t size = (size_t)size_mib << 20;
    unsigned char *buf = NULL;
    size_t align = (size_t)2 << 20; /* huge-page aligned */
    if (posix_memalign((void **)&buf, align, size) != 0) {
        fprintf(stderr, "bench_bandwidth: cannot allocate %d MiB\n", size_mib);
        return 1;
    }
#ifdef MADV_HUGEPAGE
    if (huge) madvise(buf, size, MADV_HUGEPAGE);
#else
    (void)huge;
#endif
    /* Non-zero content, and every page touched before timing. */
    for (size_t i = 0; i < size; i += 8) {
        uint64_t w = i / 8 + 1;
        memcpy(buf + i, &w, 8);
    }

    shared_state s = {.buf = buf, .size = size, .pin = pin, .fn = fn};
    double *rates = calloc((size_t)reps, sizeof *rates);
    if (!rates) return 1;
    if (!json) {
        printf("| threads | best GB/s | mean GB/s | sd |\n");
        printf("|---|---|---|---|\n");
    }
    int first = only ? only : 1, last = only ? only : max_threads;
    for (int t = first; t <= last; t++) {
        if (measure(&s, t, reps, rates) != 0) {
            fprintf(stderr, "bench_bandwidth: the measurement at %d threads failed\n", t);
            return 1;
        }
        double best = 0, mean, sd;
        for (int r = 0; r < reps; r++)
            if (rates[r] > best) best = rates[r];
        bench_mean_sd(rates, reps, &mean, &sd);
        if (json)
            printf("{\"threads\": %d, \"size_bytes\": %zu, \"repetitions\": %d, \"kernel\": \"%s\", "
                   "\"best_gbps\": %.3f, \"mean_gbps\": %.3f, \"sd_gbps\": %.3f}\n",
                   t, size, reps, kernel, best, mean, sd);
        else
            printf("| %d | %.1f | %.1f | %.1f |\n", t, best, mean, sd);
        fflush(stdout);
    }
    free(rates);
    free(buf);
    return 0;
}
