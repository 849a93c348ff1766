/* bench_matmul.c - tensor_matmul throughput per weight type, decode (GEMV,
 * n_x = 1: reported in GB/s of weights streamed) and prefill (n_x tokens:
 * GFLOP/s), on 1 and N threads. Not a test.
 *
 *   bench_matmul [rows k n_prefill threads]   (defaults 4096 4096 64 ncores)
 *   INF_CPU_LEVEL=scalar|avx2|avx512 picks the kernel level.
 * Types with a packed kernel (packed.h) get a second line, "+pk".
 * Times are the best of several repetitions (robust to a busy machine). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/os.h"
#include "tensor/cpu_features.h"
#include "tensor/matmul.h"
#include "tensor/packed.h"
#include "tensor/tensor_types.h"
#include "tensor/threadpool.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const struct packed_matrix *g_pm; /* when set, time the packed kernels instead */

static double best_time(const void *w, int t, int64_t rows, int64_t k, size_t ws, const float *x, int64_t n_x,
                        float *y, struct threadpool *tp, double min_total)
{
    double best = 1e30, total = 0;
    int reps = 0;
    while ((total < min_total || reps < 3) && reps < 1000) {
        double t0 = now_s();
        int rc = g_pm ? tensor_matmul_packed(g_pm, x, k, n_x, y, rows, tp) : tensor_matmul(w, t, rows, k, ws, x, n_x, y, tp);
        if (rc != 0) { fprintf(stderr, "matmul failed\n"); exit(1); }
        double dt = now_s() - t0;
        if (dt < best) best = dt;
        total += dt;
        reps++;
    }
    return best;
}

int main(int argc, char **argv)
{
    int64_t rows = argc > 1 ? atoll(argv[1]) : 4096;
    int64_t k = argc > 2 ? atoll(argv[2]) : 4096;
    int64_t np = argc > 3 ? atoll(argv[3]) : 64;
    int nthr = argc > 4 ? atoi(argv[4]) : os_physical_cores();
    if (k % 256) k = (k + 255) / 256 * 256;
    static const int types[] = {TENSOR_TYPE_Q8_0, TENSOR_TYPE_F16, TENSOR_TYPE_Q4_0, TENSOR_TYPE_Q4_K,
                                TENSOR_TYPE_Q6_K, TENSOR_TYPE_BF16, TENSOR_TYPE_F32, TENSOR_TYPE_Q4_1,
                                TENSOR_TYPE_Q5_0, TENSOR_TYPE_Q5_1, TENSOR_TYPE_Q2_K, TENSOR_TYPE_Q3_K,
                                TENSOR_TYPE_Q5_K};
    printf("bench_matmul: W %lld x %lld, prefill n_x = %lld; cpu %s\n", (long long)rows, (long long)k,
           (long long)np, cpu_features_string());
    printf("%-6s | %-22s | %-22s | %-22s\n", "", "decode n_x=1  GB/s", "decode n_x=1  GFLOP/s", "prefill  GFLOP/s");
    printf("%-6s | %10s %11s | %10s %11s | %10s %11s\n", "type", "1 thread", "threads", "1 thread", "threads", "1 thread",
           "threads");
    struct threadpool *tp = threadpool_create(nthr);
    float *x = malloc(sizeof(float) * (size_t)(k * np));
    float *y = malloc(sizeof(float) * (size_t)(rows * np));
    float *wf = malloc(sizeof(float) * (size_t)k);
    uint64_t s = 88172645463325252ULL;
    for (int64_t i = 0; i < k * np; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        x[i] = (float)((s >> 40) / 16777216.0 - 0.5);
    }
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const int t = types[ti];
        const size_t ws = (size_t)tensor_row_bytes(t, k);
        unsigned char *w = malloc(ws * (size_t)rows);
        for (int64_t r = 0; r < rows; r++) {
            for (int64_t j = 0; j < k; j++) {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                wf[j] = (float)((s >> 40) / 16777216.0 - 0.5) * 0.1f;
            }
            tensor_quantize_row(t, wf, w + r * ws, k);
        }
        const double bytes = (double)ws * rows, flop1 = 2.0 * rows * k, flopp = flop1 * np;
        struct packed_matrix *pm = tensor_pack(w, t, rows, k, ws, tp);
        for (int pass = 0; pass < (pm ? 2 : 1); pass++) {
        g_pm = pass ? pm : NULL;
        double d1 = best_time(w, t, rows, k, ws, x, 1, y, NULL, 0.3);
        double dn = best_time(w, t, rows, k, ws, x, 1, y, tp, 0.3);
        double p1 = best_time(w, t, rows, k, ws, x, np, y, NULL, 0.5);
        double pn = best_time(w, t, rows, k, ws, x, np, y, tp, 0.5);
        char name[32];
        snprintf(name, sizeof name, "%s%s", tensor_type_name(t), pass ? "+pk" : "");
        printf("%-9s | %10.2f %8.2f x%d | %10.2f %8.2f x%d | %10.2f %8.2f x%d\n", name, bytes / d1 * 1e-9,
               bytes / dn * 1e-9, nthr, flop1 / d1 * 1e-9, flop1 / dn * 1e-9, nthr, flopp / p1 * 1e-9,
               flopp / pn * 1e-9, nthr);
        fflush(stdout);
        }
        g_pm = NULL;
        packed_free(pm);
        free(w);
    }
    threadpool_free(tp);
    free(x); free(y); free(wf);
    return 0;
}
