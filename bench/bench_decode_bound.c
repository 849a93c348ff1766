/* bench_decode_bound.c - decode speed as a share of the memory-bandwidth
 * bound, with the bandwidth measured at the same moment as the decoding.
 *
 * Why: on this VM the read bandwidth of two threads is not a constant of
 * the machine. Over seconds it swings between about 50 and over 75 GB/s
 * (presumably where the host places the two virtual CPUs), so a bound taken
 * from a probe run minutes before or after the decode can be off by half.
 * Here each decoded token is paired with a probe pass run just before it,
 * on the same threads, and the share is computed pair by pair:
 *
 *   share_i = (bytes read per token / probe bandwidth_i) / token time_i
 *
 * The engine's own path is timed: the cpu backend's model (weights packed
 * as at load), its thread pool, one model_forward of one token into an f16
 * KV cache. The probe is bench_bandwidth's AVX-512 read loop
 * (stream_read.h), each pool thread reading its contiguous slice of a
 * buffer larger than the caches. Bytes per token are model_bytes' count
 * (decode_bytes.h: the file's weight bytes).
 *
 *   build/bench_decode_bound MODEL.gguf [-t THREADS] [-n TOKENS] [-s MIB] [--json] [--pairs]
 *
 *   -t  threads of the pool and of the probe [the physical cores]
 *   -n  tokens decoded (pairs) [64]
 *   -s  probe buffer in MiB [512]
 *   --pairs  also print every pair to stderr
 *
 * Prints the median, lower and upper quartile of the pairs' shares and the
 * medians of tok/s and GB/s, as a markdown row (or one JSON object). Run on
 * an idle machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_common.h"
#include "decode_bytes.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "stream_read.h"
#include "tensor/threadpool.h"

struct probe {
    const unsigned char *buf;
    size_t size;
    volatile uint64_t sink[64];
};

static void probe_fn(void *arg, int ith, int nth)
{
    struct probe *p = arg;
    size_t chunk = (p->size / (size_t)nth) & ~(size_t)255;
    size_t off = chunk * (size_t)ith;
    size_t len = ith == nth - 1 ? p->size - off : chunk;
    p->sink[ith % 64] += stream_read_avx512(p->buf + off, len);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted x[0..n) (linear interpolation). */
static double quantile(const double *x, int n, double q)
{
    double pos = q * (n - 1);
    int i = (int)pos;
    return i + 1 < n ? x[i] + (x[i + 1] - x[i]) * (pos - i) : x[n - 1];
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_decode_bound MODEL.gguf [-t THREADS] [-n TOKENS] [-s MIB] [--json] [--pairs]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int threads = 0, n_tok = 64, mib = 512;
    bool json = false, pairs = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--pairs")) pairs = true;
        else if (!strcmp(a, "-t") && i + 1 < argc) {
            if (!bench_parse_int("bench_decode_bound", a, argv[++i], 1, 512, &threads)) return 2;
        } else if (!strcmp(a, "-n") && i + 1 < argc) {
            if (!bench_parse_int("bench_decode_bound", a, argv[++i], 4, 4096, &n_tok)) return 2;
        } else if (!strcmp(a, "-s") && i + 1 < argc) {
            if (!bench_parse_int("bench_decode_bound", a, argv[++i], 64, 65536, &mib)) return 2;
        } else if (a[0] == '-' || path) {
            fprintf(stderr, "bench_decode_bound: unexpected argument '%s'\n", a);
            return usage();
        } else path = a;
    }
    if (!path) return usage();
    if (!__builtin_cpu_supports("avx512f")) {
        fprintf(stderr, "bench_decode_bound: the probe needs AVX-512\n");
        return 1;
    }

    inf_error err = {0};
    struct model *m = NULL;
    if (model_load(path, NULL, &m, &err) != 0) {
        fprintf(stderr, "bench_decode_bound: %s\n", err.message);
        return 1;
    }
    const struct gguf_file *gf = model_gguf(m);
    if (!gf) {
        fprintf(stderr, "bench_decode_bound: %s is not a GGUF file\n", path);
        model_free(m);
        return 1;
    }
    const double bytes = (double)decode_bytes_of(gf).decode;
    struct threadpool *tp = threadpool_create(threads);
    struct kv_cache *kv = kv_cache_create(m, n_tok + 16, &err);
    struct forward_ctx *fc = forward_ctx_new(m);
    const size_t size = (size_t)mib << 20;
    unsigned char *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    float *logits = malloc((size_t)model_hparams(m)->n_vocab * sizeof *logits);
    double *share = malloc((size_t)n_tok * sizeof *share), *tps = malloc((size_t)n_tok * sizeof *tps),
           *gbps = malloc((size_t)n_tok * sizeof *gbps);
    int rc = 1;
    if (!tp || !kv || !fc || buf == MAP_FAILED || !logits || !share || !tps || !gbps) {
        fprintf(stderr, "bench_decode_bound: %s\n", !kv ? err.message : "out of memory");
        goto done;
    }
    model_pack_weights(m, tp);
#ifdef MADV_HUGEPAGE
    madvise(buf, size, MADV_HUGEPAGE); /* as the packed weights */
#endif
    /* distinct words, every page touched (pages of equal content could be
     * merged by the host, and then read from cache) */
    for (size_t i = 0; i < size; i += 8) {
        uint64_t w = i / 8 + 1;
        memcpy(buf + i, &w, 8);
    }
    struct probe pr = { .buf = buf, .size = size };
    threadpool_run(tp, probe_fn, &pr); /* warm-up */

    int32_t tok = 1;
    struct kv_cache *caches[1] = { kv };
    for (int i = -4; i < n_tok; i++) { /* 4 warm-up tokens */
        double t0 = bench_now();
        threadpool_run(tp, probe_fn, &pr);
        double t1 = bench_now();
        int32_t pos = (int32_t)(i + 4);
        struct model_batch b = { 1, &tok, &pos, caches, NULL };
        if (model_forward(m, fc, &b, logits, tp, &err) != 0) {
            fprintf(stderr, "bench_decode_bound: %s\n", err.message);
            goto done;
        }
        double t2 = bench_now();
        if (i < 0) continue;
        gbps[i] = (double)size / (t1 - t0) * 1e-9;
        tps[i] = 1.0 / (t2 - t1);
        share[i] = (bytes / (gbps[i] * 1e9)) / (t2 - t1);
        if (pairs) fprintf(stderr, "pair %d: probe %.1f GB/s, %.1f tok/s, %.0f %% of bound\n", i, gbps[i], tps[i],
                           100 * share[i]);
        /* next token: the greedy choice, as decoding would */
        int best = 0;
        for (int v = 1; v < model_hparams(m)->n_vocab; v++)
            if (logits[v] > logits[best]) best = v;
        tok = best;
    }
    qsort(share, (size_t)n_tok, sizeof *share, cmp_double);
    qsort(tps, (size_t)n_tok, sizeof *tps, cmp_double);
    qsort(gbps, (size_t)n_tok, sizeof *gbps, cmp_double);
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const int nth = threadpool_n_threads(tp);
    if (json) {
        printf("{\"model\": \"%s\", \"threads\": %d, \"tokens\": %d, \"decode_bytes\": %.0f, "
               "\"share_median\": %.4f, \"share_q1\": %.4f, \"share_q3\": %.4f, \"tokens_per_second_median\": "
               "%.2f, \"probe_gbps_median\": %.2f}\n",
               name, nth, n_tok, bytes, quantile(share, n_tok, 0.5), quantile(share, n_tok, 0.25),
               quantile(share, n_tok, 0.75), quantile(tps, n_tok, 0.5), quantile(gbps, n_tok, 0.5));
    } else {
        printf("| model | threads | MB/token | tok/s (median) | probe GB/s (median) | %% of bound: median [quartiles] |\n");
        printf("|---|---|---|---|---|---|\n");
        printf("| %s | %d | %.1f | %.1f | %.1f | %.0f %% [%.0f-%.0f] |\n", name, nth, bytes / 1e6,
               quantile(tps, n_tok, 0.5), quantile(gbps, n_tok, 0.5), 100 * quantile(share, n_tok, 0.5),
               100 * quantile(share, n_tok, 0.25), 100 * quantile(share, n_tok, 0.75));
    }
    rc = 0;
done:
    free(share);
    free(tps);
    free(gbps);
    free(logits);
    if (buf != MAP_FAILED) munmap(buf, size);
    kv_cache_free(kv);
    forward_ctx_free(fc);
    threadpool_free(tp);
    model_free(m);
    return rc;
}
