/* threadpool.c - persistent workers; spin-then-futex wake-up and barrier. */
#include "threadpool.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ volatile("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

/* How long a waiting thread spins before it sleeps (the clock is read
 * every 64 pauses; a pause is 10-140 cycles depending on the CPU). Short
 * enough that an oversubscribed core is given up quickly, long enough that
 * back-to-back runs (the matmuls of a layer) rarely reach the futex. */
#define SPIN_NS 50000

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- futex (Linux) or condvar fallback ---- */
#ifdef __linux__
static void futex_wait(atomic_int *addr, int expected)
{
    syscall(SYS_futex, (int *)addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}
static void futex_wake_all(atomic_int *addr)
{
    syscall(SYS_futex, (int *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}
#else
static pthread_mutex_t g_fmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_fcv = PTHREAD_COND_INITIALIZER;
static void futex_wait(atomic_int *addr, int expected)
{
    pthread_mutex_lock(&g_fmu);
    while (atomic_load(addr) == expected) pthread_cond_wait(&g_fcv, &g_fmu);
    pthread_mutex_unlock(&g_fmu);
}
static void futex_wake_all(atomic_int *addr)
{
    (void)addr;
    pthread_mutex_lock(&g_fmu);
    pthread_cond_broadcast(&g_fcv);
    pthread_mutex_unlock(&g_fmu);
}
#endif

/* Waits until *word != value: spin, then sleep. `sleepers` counts threads
 * asleep on the word so wakers can skip the syscall. */
static void wait_change(atomic_int *word, int value, atomic_int *sleepers)
{
    uint64_t t0 = 0;
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(word, memory_order_acquire) != value) return;
        CPU_RELAX();
        if ((i & 63) == 0) {
            uint64_t t = now_ns();
            if (!t0) t0 = t;
            else if (t - t0 > SPIN_NS) break;
        }
    }
    while (atomic_load_explicit(word, memory_order_acquire) == value) {
        atomic_fetch_add(sleepers, 1); /* seq_cst: pairs with the waker's load */
        futex_wait(word, value);
        atomic_fetch_sub(sleepers, 1);
    }
}

static void wake(atomic_int *word, atomic_int *sleepers)
{
    if (atomic_load(sleepers) > 0) futex_wake_all(word);
}

struct worker {
    struct threadpool *tp;
    int ith;
};

struct threadpool {
    int n_threads;
    pthread_t *threads;
    struct worker *workers;

    /* run dispatch */
    _Alignas(64) atomic_int generation; /* bumped per run (and at free) */
    atomic_int gen_sleepers;
    threadpool_fn fn;
    void *arg;
    atomic_int stop;

    /* completion */
    _Alignas(64) atomic_int n_done;
    atomic_int done_sleepers;

    /* in-run barrier */
    _Alignas(64) atomic_int bar_count;
    atomic_int bar_phase;
    atomic_int bar_sleepers;
};

static void *worker_main(void *p)
{
    struct worker *w = p;
    struct threadpool *tp = w->tp;
    int seen = 0;
    for (;;) {
        wait_change(&tp->generation, seen, &tp->gen_sleepers);
        seen = atomic_load_explicit(&tp->generation, memory_order_acquire);
        if (atomic_load_explicit(&tp->stop, memory_order_acquire)) break;
        tp->fn(tp->arg, w->ith, tp->n_threads);
        if (atomic_fetch_add_explicit(&tp->n_done, 1, memory_order_acq_rel) + 1 == tp->n_threads - 1)
            wake(&tp->n_done, &tp->done_sleepers);
    }
    return NULL;
}

struct threadpool *threadpool_create(int n_threads)
{
    if (n_threads <= 0) n_threads = cpu_physical_cores();
    if (n_threads > 1024) n_threads = 1024;
    struct threadpool *tp = calloc(1, sizeof *tp);
    if (!tp) return NULL;
    tp->n_threads = n_threads;
    atomic_init(&tp->generation, 0);
    atomic_init(&tp->stop, 0);
    atomic_init(&tp->n_done, 0);
    atomic_init(&tp->bar_count, 0);
    atomic_init(&tp->bar_phase, 0);
    atomic_init(&tp->gen_sleepers, 0);
    atomic_init(&tp->done_sleepers, 0);
    atomic_init(&tp->bar_sleepers, 0);
    if (n_threads > 1) {
        tp->threads = calloc((size_t)n_threads, sizeof *tp->threads);
        tp->workers = calloc((size_t)n_threads, sizeof *tp->workers);
        if (!tp->threads || !tp->workers) { free(tp->threads); free(tp->workers); free(tp); return NULL; }
        for (int i = 1; i < n_threads; i++) {
            tp->workers[i].tp = tp;
            tp->workers[i].ith = i;
            if (pthread_create(&tp->threads[i], NULL, worker_main, &tp->workers[i]) != 0) {
                /* stop the ones started */
                tp->n_threads = i;
                threadpool_free(tp);
                return NULL;
            }
        }
    }
    return tp;
}

void threadpool_free(struct threadpool *tp)
{
    if (!tp) return;
    if (tp->n_threads > 1) {
        atomic_store(&tp->stop, 1);
        atomic_fetch_add(&tp->generation, 1);
        futex_wake_all(&tp->generation);
        for (int i = 1; i < tp->n_threads; i++) pthread_join(tp->threads[i], NULL);
    }
    free(tp->threads);
    free(tp->workers);
    free(tp);
}

int threadpool_n_threads(const struct threadpool *tp) { return tp ? tp->n_threads : 1; }

void threadpool_run(struct threadpool *tp, threadpool_fn fn, void *arg)
{
    if (!tp || tp->n_threads <= 1) {
        fn(arg, 0, 1);
        return;
    }
    tp->fn = fn;
    tp->arg = arg;
    atomic_store_explicit(&tp->n_done, 0, memory_order_relaxed);
    atomic_fetch_add(&tp->generation, 1); /* seq_cst: publishes fn/arg */
    wake(&tp->generation, &tp->gen_sleepers);
    fn(arg, 0, tp->n_threads);
    const int want = tp->n_threads - 1;
    for (;;) {
        int d = atomic_load_explicit(&tp->n_done, memory_order_acquire);
        if (d == want) break;
        wait_change(&tp->n_done, d, &tp->done_sleepers);
    }
}

void threadpool_barrier(struct threadpool *tp)
{
    if (!tp || tp->n_threads <= 1) return;
    const int phase = atomic_load_explicit(&tp->bar_phase, memory_order_acquire);
    if (atomic_fetch_add_explicit(&tp->bar_count, 1, memory_order_acq_rel) + 1 == tp->n_threads) {
        atomic_store_explicit(&tp->bar_count, 0, memory_order_relaxed);
        atomic_fetch_add(&tp->bar_phase, 1); /* seq_cst release */
        wake(&tp->bar_phase, &tp->bar_sleepers);
        return;
    }
    wait_change(&tp->bar_phase, phase, &tp->bar_sleepers);
}

/* ---- physical cores ---- */

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

int cpu_physical_cores(void)
{
    pthread_once(&g_cores_once, cores_init);
    return g_cores;
}
