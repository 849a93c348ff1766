/* test_tensor_threadpool.c - the persistent pool: many runs, odd thread
 * counts, in-run barriers, NULL pool, results identical to one thread, and
 * no collapse when oversubscribed (more threads than free cores). */
#include "test_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tensor/threadpool.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Each run: every thread fills its split of out[] with f(i, round). */
struct job {
    int64_t n;
    uint64_t *out;
    int round;
    atomic_int calls;
    int seen[64];
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL; x ^= x >> 33;
    return x;
}

static void fill_fn(void *arg, int ith, int nth)
{
    struct job *j = arg;
    long long s, e;
    threadpool_split(j->n, ith, nth, &s, &e);
    for (long long i = s; i < e; i++) j->out[i] = mix((uint64_t)i * 1315423911u + (uint64_t)j->round);
    if (ith < 64) j->seen[ith]++;
    atomic_fetch_add(&j->calls, 1);
}

static void test_runs(int n_threads, int n_runs)
{
    struct threadpool *tp = threadpool_create(n_threads);
    CHECK(tp != NULL);
    if (!tp) return;
    CHECK(threadpool_n_threads(tp) == n_threads);
    struct job j;
    memset(&j, 0, sizeof j);
    j.n = 1001;
    j.out = calloc((size_t)j.n, sizeof *j.out);
    uint64_t *ref = calloc((size_t)j.n, sizeof *ref);
    int ok = 1;
    for (int r = 0; r < n_runs; r++) {
        j.round = r;
        memset(j.out, 0, sizeof *j.out * (size_t)j.n);
        threadpool_run(tp, fill_fn, &j);
        for (int64_t i = 0; i < j.n; i++) ref[i] = mix((uint64_t)i * 1315423911u + (uint64_t)r);
        if (memcmp(ref, j.out, sizeof *ref * (size_t)j.n)) ok = 0;
    }
    CHECK_MSG(ok, "%d threads: results differ from single-threaded", n_threads);
    CHECK(atomic_load(&j.calls) == n_runs * n_threads);
    for (int t = 0; t < n_threads && t < 64; t++) CHECK(j.seen[t] == n_runs);
    free(j.out); free(ref);
    threadpool_free(tp);
}

/* In-run barrier: phase p writes slot[ith] = p, after the barrier every
 * thread checks every slot holds p. */
struct bjob { struct threadpool *tp; int phases; int slot[64]; atomic_int errors; };

static void barrier_fn(void *arg, int ith, int nth)
{
    struct bjob *b = arg;
    for (int p = 1; p <= b->phases; p++) {
        __atomic_store_n(&b->slot[ith], p, __ATOMIC_RELAXED);
        threadpool_barrier(b->tp);
        for (int t = 0; t < nth; t++)
            if (__atomic_load_n(&b->slot[t], __ATOMIC_RELAXED) != p) atomic_fetch_add(&b->errors, 1);
        threadpool_barrier(b->tp);
    }
}

static void test_barrier(int n_threads)
{
    struct bjob b;
    memset(&b, 0, sizeof b);
    b.tp = threadpool_create(n_threads);
    b.phases = n_threads > cpu_physical_cores() ? 40 : 200;
    for (int r = 0; r < 20; r++) threadpool_run(b.tp, barrier_fn, &b);
    CHECK_MSG(atomic_load(&b.errors) == 0, "%d threads: barrier let a thread through early", n_threads);
    threadpool_free(b.tp);
}

static void single_fn(void *arg, int ith, int nth)
{
    int *p = arg;
    p[0] = ith;
    p[1] = nth;
}

/* A thread that keeps a core busy. */
static atomic_int g_stop_busy;
static void *busy(void *arg)
{
    (void)arg;
    volatile uint64_t x = 0;
    while (!atomic_load_explicit(&g_stop_busy, memory_order_relaxed)) x++;
    return NULL;
}

static void noop_fn(void *arg, int ith, int nth)
{
    (void)ith; (void)nth;
    atomic_fetch_add((atomic_int *)arg, 1);
}

static void test_oversubscribed(void)
{
    /* pool of cores+1 threads plus one busy thread per core: a pure spin
     * barrier needs a scheduler time slice per run (milliseconds); ours
     * sleeps after a few microseconds of spinning */
    const int cores = cpu_physical_cores();
    pthread_t th[64];
    int nb = cores < 64 ? cores : 64;
    atomic_store(&g_stop_busy, 0);
    for (int i = 0; i < nb; i++) pthread_create(&th[i], NULL, busy, NULL);
    struct threadpool *tp = threadpool_create(cores + 1);
    atomic_int count;
    atomic_init(&count, 0);
    const int runs = 500;
    double t0 = now_s();
    for (int r = 0; r < runs; r++) {
        threadpool_run(tp, noop_fn, &count);
        threadpool_run(tp, noop_fn, &count);
    }
    double dt = now_s() - t0;
    atomic_store(&g_stop_busy, 1);
    for (int i = 0; i < nb; i++) pthread_join(th[i], NULL);
    threadpool_free(tp);
    CHECK(atomic_load(&count) == 2 * runs * (cores + 1));
    printf("oversubscribed: %d runs of %d threads beside %d busy threads: %.1f us/run\n", 2 * runs, cores + 1, nb,
           dt / (2 * runs) * 1e6);
    CHECK_MSG(dt < 30.0, "oversubscribed pool collapsed: %.1f s for %d runs", dt, 2 * runs);
}

static void test_latency(void)
{
    struct threadpool *tp = threadpool_create(2);
    atomic_int count;
    atomic_init(&count, 0);
    const int runs = 20000;
    double t0 = now_s();
    for (int r = 0; r < runs; r++) threadpool_run(tp, noop_fn, &count);
    double dt = now_s() - t0;
    CHECK(atomic_load(&count) == 2 * runs);
    printf("back-to-back runs, 2 threads: %.2f us/run\n", dt / runs * 1e6);
    threadpool_free(tp);
}

int main(void)
{
    CHECK(cpu_physical_cores() >= 1);
    printf("cpu_physical_cores: %d\n", cpu_physical_cores());
    /* NULL pool = single-threaded */
    int got[2] = {-1, -1};
    threadpool_run(NULL, single_fn, got);
    CHECK(got[0] == 0 && got[1] == 1);
    CHECK(threadpool_n_threads(NULL) == 1);
    threadpool_barrier(NULL);
    threadpool_free(NULL);
    /* default size */
    struct threadpool *d = threadpool_create(0);
    CHECK(d && threadpool_n_threads(d) == cpu_physical_cores());
    threadpool_free(d);
    /* many runs, odd counts */
    static const int counts[] = {1, 2, 3, 5, 7};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        test_runs(counts[i], counts[i] > cpu_physical_cores() ? 300 : 3000);
        test_barrier(counts[i]);
    }
    /* create/free churn */
    atomic_int churn;
    atomic_init(&churn, 0);
    int expect = 0;
    for (int i = 0; i < 50; i++) {
        struct threadpool *tp = threadpool_create(1 + i % 4);
        if (i % 2) { threadpool_run(tp, noop_fn, &churn); expect += 1 + i % 4; }
        threadpool_free(tp);
    }
    CHECK(atomic_load(&churn) == expect);
    /* split covers [0, n) exactly */
    int split_ok = 1;
    for (int n = 0; n < 50; n++)
        for (int nth = 1; nth < 9; nth++) {
            long long prev = 0;
            for (int i = 0; i < nth; i++) {
                long long s, e;
                threadpool_split(n, i, nth, &s, &e);
                if (s != prev || e < s || e - s > n / nth + 1) split_ok = 0;
                prev = e;
            }
            if (prev != n) split_ok = 0;
        }
    CHECK(split_ok);
    test_latency();
    test_oversubscribed();
    return TEST_DONE();
}
