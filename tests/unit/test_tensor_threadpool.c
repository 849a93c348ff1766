/* test_tensor_threadpool.c - the persistent pool: many runs, odd thread
 * counts, in-run barriers, NULL pool, results identical to one thread, no
 * collapse when oversubscribed (more threads than free cores), and the
 * adaptive active count: runs of fewer threads than the pool (results,
 * barriers), the policy on made-up timings (drop, probe, back-off, graded
 * threshold), and two real cases: workers made late by their work, and all
 * of the pool's threads pinned to one CPU. */
#include "base/os.h"
#include "test_util.h"

#include <pthread.h>
#include <sched.h>
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


/* Each run: every thread fills its split of out[] with f(i, round) and
 * records which ith it was given and the run's nth. */
struct job {
    int64_t n;
    uint64_t *out;
    int round;
    atomic_int calls;
    atomic_ullong mask;  /* ith seen in this run */
    atomic_int nth_run;  /* nth of this run (0 before the first call) */
    atomic_int bad_nth;  /* calls whose nth differed within a run or was out of range */
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
    if (ith < 64) __atomic_fetch_add(&j->seen[ith], 1, __ATOMIC_RELAXED);
    int expect = 0;
    if (!atomic_compare_exchange_strong(&j->nth_run, &expect, nth) && expect != nth) atomic_fetch_add(&j->bad_nth, 1);
    if (ith < 0 || ith >= nth || nth > 64) atomic_fetch_add(&j->bad_nth, 1);
    else atomic_fetch_or(&j->mask, 1ull << ith);
    atomic_fetch_add(&j->calls, 1);
}

/* One run of fill_fn, checked: every i filled right, each ith 0..nth-1 met
 * once, nth within the pool. Returns the run's nth, or 0 on a failure. */
static int checked_fill(struct threadpool *tp, struct job *j, uint64_t *ref, int r)
{
    j->round = r;
    memset(j->out, 0, sizeof *j->out * (size_t)j->n);
    atomic_store(&j->calls, 0);
    atomic_store(&j->mask, 0);
    atomic_store(&j->nth_run, 0);
    threadpool_run(tp, fill_fn, j);
    const int nth = atomic_load(&j->nth_run);
    for (int64_t i = 0; i < j->n; i++) ref[i] = mix((uint64_t)i * 1315423911u + (uint64_t)r);
    if (memcmp(ref, j->out, sizeof *ref * (size_t)j->n)) return 0;
    if (nth < 1 || nth > threadpool_n_threads(tp) || atomic_load(&j->calls) != nth) return 0;
    if (atomic_load(&j->mask) != (nth == 64 ? ~0ull : (1ull << nth) - 1)) return 0;
    return nth;
}

static void job_init(struct job *j, int64_t n)
{
    memset(j, 0, sizeof *j);
    j->n = n;
    j->out = calloc((size_t)n, sizeof *j->out);
}

/* adaptive = 0: every run has every thread (the pool's old contract);
 * adaptive = 1: whatever count the pool picks, results are right. */
static void test_runs(int n_threads, int n_runs, int adaptive)
{
    struct threadpool *tp = threadpool_create(n_threads);
    CHECK(tp != NULL);
    if (!tp) return;
    threadpool_set_adaptive(tp, adaptive);
    CHECK(threadpool_n_threads(tp) == n_threads);
    struct job j;
    job_init(&j, 1001);
    uint64_t *ref = calloc((size_t)j.n, sizeof *ref);
    int ok = 1, all = 1;
    for (int r = 0; r < n_runs; r++) {
        int nth = checked_fill(tp, &j, ref, r);
        if (!nth) ok = 0;
        if (nth != n_threads) all = 0;
    }
    CHECK_MSG(ok, "%d threads (adaptive %d): a run differs from single-threaded", n_threads, adaptive);
    CHECK(atomic_load(&j.bad_nth) == 0);
    if (!adaptive) {
        CHECK_MSG(all, "%d threads, adaptation off: a run had fewer threads", n_threads);
        for (int t = 0; t < n_threads && t < 64; t++) CHECK(j.seen[t] == n_runs);
    }
    CHECK(threadpool_n_threads(tp) == n_threads);
    free(j.out); free(ref);
    threadpool_free(tp);
}

/* In-run barrier: phase p writes slot[ith] = p, after the barrier every
 * thread checks every slot of the run holds p. */
struct bjob { struct threadpool *tp; int phases; int slot[64]; atomic_int errors; atomic_int last_nth; };

static void barrier_fn(void *arg, int ith, int nth)
{
    struct bjob *b = arg;
    if (ith == 0) atomic_store(&b->last_nth, nth);
    for (int p = 1; p <= b->phases; p++) {
        __atomic_store_n(&b->slot[ith], p, __ATOMIC_RELAXED);
        threadpool_barrier(b->tp);
        for (int t = 0; t < nth; t++)
            if (__atomic_load_n(&b->slot[t], __ATOMIC_RELAXED) != p) atomic_fetch_add(&b->errors, 1);
        threadpool_barrier(b->tp);
    }
}

static void test_barrier(int n_threads, int adaptive)
{
    struct bjob b;
    memset(&b, 0, sizeof b);
    b.tp = threadpool_create(n_threads);
    threadpool_set_adaptive(b.tp, adaptive);
    b.phases = n_threads > os_physical_cores() ? 40 : 200;
    for (int r = 0; r < 20; r++) threadpool_run(b.tp, barrier_fn, &b);
    CHECK_MSG(atomic_load(&b.errors) == 0, "%d threads: barrier let a thread through early", n_threads);
    threadpool_free(b.tp);
}

/* Made-up late runs (1 ms, of which the caller's share 0.3 ms, the rest
 * lost to worker `culprit`) until the pool is down to `want` threads; the
 * clock is `*t`, advanced per run. Returns the active count reached. */
static int feed_late_until(struct threadpool *tp, unsigned long long *t, int want, int culprit)
{
    for (int i = 0; i < 1000 && threadpool_active_threads(tp) > want; i++) {
        threadpool_adapt_feed(tp, *t, 1000000, 300000, culprit);
        *t += 1000000;
    }
    return threadpool_active_threads(tp);
}

/* Records which thread ran each ith. */
struct who_job { pthread_t th[64]; int nth; };

static void who_fn(void *arg, int ith, int nth)
{
    struct who_job *w = arg;
    if (ith < 64) w->th[ith] = pthread_self();
    if (ith == 0) w->nth = nth;
}

/* Shrinking and growing between real runs. The policy hook leaves out the
 * workers it is told were late (first worker 1, then worker 3), then
 * threadpool_set_active holds each count for the real runs so that no
 * decision of the pool's own can interfere. Checks results, counts,
 * barriers with the reduced count, and that the left-out workers are the
 * ones that do not run. */
static void test_shrink_grow(void)
{
    const int n = 4;
    struct threadpool *tp = threadpool_create(n);
    CHECK(tp && threadpool_active_threads(tp) == n);
    if (!tp) return;
    struct job j;
    job_init(&j, 997);
    uint64_t *ref = calloc((size_t)j.n, sizeof *ref);
    struct bjob b;
    memset(&b, 0, sizeof b);
    b.tp = tp;
    b.phases = 30;
    /* the threads of workers 1..3 (creation order = ith with the full count) */
    struct who_job all, now;
    memset(&all, 0, sizeof all);
    threadpool_set_active(tp, n);
    threadpool_run(tp, who_fn, &all);
    CHECK(all.nth == n);
    unsigned long long t = 1000000000ull;
    int ok = 1, r = 0;
    for (int want = n; want >= 1; want--) {
        /* from the full count: worker 1 late first, then worker 3 */
        threadpool_set_adaptive(tp, 1);
        if (want <= 3) CHECK(feed_late_until(tp, &t, 3, 1) == 3);
        if (want <= 2) CHECK(feed_late_until(tp, &t, 2, 3) == 2);
        if (want <= 1) CHECK(feed_late_until(tp, &t, 1, 0) == 1);
        threadpool_set_active(tp, want);
        CHECK(threadpool_active_threads(tp) == want);
        for (int k = 0; k < 50; k++)
            if (checked_fill(tp, &j, ref, r++) != want) ok = 0;
        atomic_store(&b.last_nth, 0);
        threadpool_run(tp, barrier_fn, &b);
        CHECK_MSG(atomic_load(&b.last_nth) == want, "barrier run had %d threads, want %d", atomic_load(&b.last_nth),
                  want);
        memset(&now, 0, sizeof now);
        threadpool_run(tp, who_fn, &now);
        CHECK(now.nth == want);
        /* at 3 the thread of worker 1 is gone, at 2 also worker 3's */
        for (int i = 1; i < want; i++) {
            if (want <= 3) CHECK(!pthread_equal(now.th[i], all.th[1]));
            if (want <= 2) CHECK(!pthread_equal(now.th[i], all.th[3]));
        }
    }
    CHECK_MSG(ok, "shrinking pool: a run differs or had the wrong count");
    CHECK(threadpool_n_threads(tp) == n);
    /* growing: adaptation back on starts from the full count */
    threadpool_set_adaptive(tp, 1);
    CHECK(threadpool_active_threads(tp) == n);
    threadpool_set_active(tp, n);
    for (int k = 0; k < 50; k++)
        if (checked_fill(tp, &j, ref, r++) != n) ok = 0;
    threadpool_run(tp, barrier_fn, &b);
    CHECK(atomic_load(&b.last_nth) == n);
    /* and a probe restores it too: down to 1, then a run after the wait */
    threadpool_set_adaptive(tp, 1);
    CHECK(feed_late_until(tp, &t, 1, 0) == 1);
    CHECK(threadpool_adapt_feed(tp, t + 2000000000ull, 1000000, 1000000, 0) == n);
    CHECK(threadpool_active_threads(tp) == n);
    CHECK_MSG(ok, "grown pool: a run differs or had the wrong count");
    CHECK(atomic_load(&b.errors) == 0);
    CHECK(atomic_load(&j.bad_nth) == 0);
    free(j.out); free(ref);
    threadpool_free(tp);
}

/* The policy alone, on a made-up clock (times in microseconds). */
#define US 1000ull
static void test_policy(void)
{
    struct threadpool *tp = threadpool_create(2);
    struct threadpool_stats st;
    unsigned long long t = 1000000 * US;
    /* balanced runs: no change */
    for (int i = 0; i < 200; i++, t += 500 * US) threadpool_adapt_feed(tp, t, 500 * US, 480 * US, 0);
    CHECK(threadpool_active_threads(tp) == 2);
    /* tiny runs are not judged, even where the caller did almost nothing */
    for (int i = 0; i < 2000; i++, t += 8 * US) threadpool_adapt_feed(tp, t, 8 * US, 1 * US, 0);
    CHECK(threadpool_active_threads(tp) == 2);
    threadpool_get_stats(tp, &st);
    CHECK(st.drops == 0 && st.judged == 200);
    /* mildly late (lost 60 % of own): two threads still pay */
    for (int i = 0; i < 200; i++, t += 800 * US) threadpool_adapt_feed(tp, t, 800 * US, 500 * US, 0);
    CHECK(threadpool_active_threads(tp) == 2);
    /* late: the window is 4 ms of judged runs, so the 4th 1 ms run decides */
    for (int i = 0; i < 3; i++, t += 1000 * US) threadpool_adapt_feed(tp, t, 1000 * US, 400 * US, 0);
    CHECK(threadpool_active_threads(tp) == 2);
    threadpool_adapt_feed(tp, t, 1000 * US, 400 * US, 0);
    t += 1000 * US;
    CHECK(threadpool_active_threads(tp) == 1);
    /* no probe before 150 ms */
    unsigned long long dropped = t;
    for (; t < dropped + 149000 * US; t += 1000 * US) CHECK(threadpool_adapt_feed(tp, t, 1000 * US, 1000 * US, 0) == 1);
    /* the probe: full count; still late: back to 1 and the wait doubles */
    t = dropped + 150000 * US;
    CHECK(threadpool_adapt_feed(tp, t, 1000 * US, 400 * US, 0) == 2);
    for (int i = 0; i < 3; i++) threadpool_adapt_feed(tp, t += 1000 * US, 1000 * US, 400 * US, 0);
    CHECK(threadpool_active_threads(tp) == 1);
    threadpool_get_stats(tp, &st);
    CHECK(st.probes == 1 && st.probe_fails == 1 && st.drops == 2);
    dropped = t + 1000 * US;
    CHECK(threadpool_adapt_feed(tp, dropped + 299000 * US, 1000 * US, 1000 * US, 0) == 1);
    CHECK(threadpool_adapt_feed(tp, dropped + 300000 * US, 1000 * US, 1000 * US, 0) == 2);
    for (int i = 0; i < 3; i++) threadpool_adapt_feed(tp, dropped + 300000 * US + i * US, 1000 * US, 400 * US, 0);
    CHECK(threadpool_active_threads(tp) == 1);
    /* back-off stops at 1.2 s: fail probes until it would pass that */
    for (int k = 0; k < 6; k++) {
        t = dropped + 5000000 * US * (unsigned long long)(k + 1);
        CHECK(threadpool_adapt_feed(tp, t, 1000 * US, 400 * US, 0) == 2);
        for (int i = 0; i < 3; i++) threadpool_adapt_feed(tp, t + (i + 1) * US, 1000 * US, 400 * US, 0);
        CHECK(threadpool_active_threads(tp) == 1);
    }
    dropped = t + 1003 * US; /* the last late run ended then */
    CHECK(threadpool_adapt_feed(tp, dropped + 1199000 * US, 1000 * US, 1000 * US, 0) == 1);
    /* a probe that finds the lag gone keeps the full count, and the wait
     * starts again from 150 ms at the next drop */
    t = dropped + 1200000 * US;
    for (int i = 0; i < 20; i++, t += 1000 * US) CHECK(threadpool_adapt_feed(tp, t, 1000 * US, 950 * US, 0) == 2);
    CHECK(threadpool_active_threads(tp) == 2);
    feed_late_until(tp, &t, 1, 0);
    CHECK(threadpool_active_threads(tp) == 1);
    CHECK(threadpool_adapt_feed(tp, t + 149000 * US, 1000 * US, 1000 * US, 0) == 1);
    CHECK(threadpool_adapt_feed(tp, t + 151000 * US, 1000 * US, 1000 * US, 0) == 2);
    /* adaptation off: full count, nothing judged */
    threadpool_set_adaptive(tp, 0);
    CHECK(threadpool_active_threads(tp) == 2);
    feed_late_until(tp, &t, 1, 0);
    CHECK(threadpool_active_threads(tp) == 2);
    threadpool_get_stats(tp, &st);
    CHECK(st.drops == 0 && st.judged == 0);
    threadpool_free(tp);

    /* a tiny share that waited long is judged: the wait is the news */
    tp = threadpool_create(2);
    t = 1000000 * US;
    for (int i = 0; i < 4; i++, t += 1000 * US) threadpool_adapt_feed(tp, t, 1000 * US, 2 * US, 0);
    CHECK(threadpool_active_threads(tp) == 1);
    threadpool_free(tp);

    /* graded threshold: with 4 threads a worker that loses 30 % of the
     * caller's share is worth leaving out, with 2 it is not */
    tp = threadpool_create(4);
    t = 1000000 * US;
    for (int i = 0; i < 40; i++, t += 1000 * US) threadpool_adapt_feed(tp, t, 1000 * US, 850 * US, 0);
    CHECK(threadpool_active_threads(tp) == 4);
    for (int i = 0; i < 40; i++, t += 1000 * US) threadpool_adapt_feed(tp, t, 1000 * US, 700 * US, 0);
    CHECK(threadpool_active_threads(tp) == 2);
    threadpool_get_stats(tp, &st);
    CHECK(st.drops == 2);
    threadpool_free(tp);

    /* the environment switch */
    setenv("INF_THREADPOOL_ADAPT", "0", 1);
    tp = threadpool_create(2);
    unsetenv("INF_THREADPOOL_ADAPT");
    t = 1000000 * US;
    feed_late_until(tp, &t, 1, 0);
    CHECK(threadpool_active_threads(tp) == 2);
    threadpool_free(tp);

    CHECK(threadpool_active_threads(NULL) == 1);
    threadpool_set_adaptive(NULL, 1);
    threadpool_get_stats(NULL, &st);
    CHECK(st.runs == 0);
    CHECK(threadpool_adapt_feed(NULL, 0, 1000 * US, 1 * US, 0) == 1);
}

/* ---- real lateness ---- */

/* A fixed amount of arithmetic, not a clock: time on a shared CPU then
 * shows as the thread's own CPU time, as real work does. */
static atomic_ullong g_sink; /* keeps the arithmetic from being dropped */
static void work(long iters)
{
    uint64_t x = 1;
    for (long i = 0; i < iters; i++) x = mix(x + (uint64_t)i);
    atomic_fetch_add_explicit(&g_sink, x, memory_order_relaxed);
}

static long g_iters_100us; /* calibrated */

static void calibrate(void)
{
    long n = 1000;
    for (;;) {
        double t0 = now_s();
        work(n);
        double dt = now_s() - t0;
        if (dt > 0.002 || n > (1L << 30)) {
            g_iters_100us = (long)(n * 1e-4 / dt);
            if (g_iters_100us < 100) g_iters_100us = 100;
            return;
        }
        n *= 2;
    }
}

struct lag_job {
    long iters_own;    /* each thread's share */
    double worker_extra_s; /* ith > 0 also wait this long (made late) */
};

static void lag_fn(void *arg, int ith, int nth)
{
    const struct lag_job *l = arg;
    (void)nth;
    work(l->iters_own);
    if (ith > 0 && l->worker_extra_s > 0) {
        double t0 = now_s();
        while (now_s() - t0 < l->worker_extra_s) {}
    }
}

/* Runs lag_fn until the pool's active count is `want` or `limit_s` passed.
 * Returns the count reached. */
static int run_until(struct threadpool *tp, struct lag_job *l, int want, double limit_s)
{
    double t0 = now_s();
    while (threadpool_active_threads(tp) != want && now_s() - t0 < limit_s)
        threadpool_run(tp, lag_fn, l);
    return threadpool_active_threads(tp);
}

/* Workers that finish 1 ms after a 200 us share: the pool drops to the
 * caller alone; once they keep pace a probe brings them back. Bounds are
 * seconds where the decisions take milliseconds. */
static void test_late_workers(void)
{
    struct threadpool *tp = threadpool_create(2);
    struct lag_job l = { 2 * g_iters_100us, 0.001 };
    double t0 = now_s();
    int a = run_until(tp, &l, 1, 5.0);
    CHECK_MSG(a == 1, "late workers: still %d threads after %.1f s", a, now_s() - t0);
    printf("late workers: down to %d thread(s) after %.0f ms\n", a, (now_s() - t0) * 1e3);
    l.worker_extra_s = 0;
    t0 = now_s();
    a = run_until(tp, &l, 2, 20.0);
    struct threadpool_stats st;
    threadpool_get_stats(tp, &st);
    CHECK_MSG(a == 2, "workers keep pace again: still %d thread(s) after %.1f s (%lld probes)", a, now_s() - t0,
              st.probes);
    printf("workers keep pace: back to %d threads after %.0f ms (%lld probes, %lld failed)\n", a,
           (now_s() - t0) * 1e3, st.probes, st.probe_fails);
    threadpool_free(tp);
}

/* Real contention: every thread of a 2-thread pool pinned to one CPU (the
 * pinning run has adaptation off so that both threads take part). Two
 * threads then share one core and the caller waits for each other's share:
 * the pool must drop to one. */
struct pin_job { cpu_set_t set; atomic_int failed; };

static void pin_fn(void *arg, int ith, int nth)
{
    struct pin_job *p = arg;
    (void)ith; (void)nth;
    if (sched_setaffinity(0, sizeof p->set, &p->set) != 0) atomic_fetch_add(&p->failed, 1);
}

static void test_shared_cpu(void)
{
    struct pin_job orig, one;
    memset(&orig, 0, sizeof orig);
    memset(&one, 0, sizeof one);
    if (sched_getaffinity(0, sizeof orig.set, &orig.set) != 0) {
        printf("shared CPU: no affinity mask, skipped\n");
        return;
    }
    int cpu = -1;
    for (int c = 0; c < CPU_SETSIZE && cpu < 0; c++)
        if (CPU_ISSET(c, &orig.set)) cpu = c;
    if (cpu < 0) return;
    CPU_ZERO(&one.set);
    CPU_SET(cpu, &one.set);
    struct threadpool *tp = threadpool_create(2);
    threadpool_set_adaptive(tp, 0);
    threadpool_run(tp, pin_fn, &one);
    threadpool_set_adaptive(tp, 1);
    if (atomic_load(&one.failed)) {
        printf("shared CPU: sched_setaffinity refused, skipped\n");
    } else {
        struct lag_job l = { 3 * g_iters_100us, 0 };
        double t0 = now_s();
        int a = run_until(tp, &l, 1, 5.0);
        CHECK_MSG(a == 1, "two threads on one CPU: still %d threads after %.1f s", a, now_s() - t0);
        printf("two threads on CPU %d: down to %d thread(s) after %.0f ms\n", cpu, a, (now_s() - t0) * 1e3);
    }
    threadpool_set_adaptive(tp, 0);
    threadpool_run(tp, pin_fn, &orig);
    CHECK(atomic_load(&orig.failed) == 0);
    threadpool_free(tp);
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

/* counts[0] += 1 per call; counts[1] += nth per run (from thread 0) */
static void noop_fn(void *arg, int ith, int nth)
{
    atomic_int *c = arg;
    atomic_fetch_add(&c[0], 1);
    if (ith == 0) atomic_fetch_add(&c[1], nth);
}

static void test_oversubscribed(void)
{
    /* pool of cores+1 threads plus one busy thread per core: a pure spin
     * barrier needs a scheduler time slice per run (milliseconds); ours
     * sleeps after a few microseconds of spinning */
    const int cores = os_physical_cores();
    pthread_t th[64];
    int nb = cores < 64 ? cores : 64;
    atomic_store(&g_stop_busy, 0);
    for (int i = 0; i < nb; i++) pthread_create(&th[i], NULL, busy, NULL);
    struct threadpool *tp = threadpool_create(cores + 1);
    atomic_int count[2];
    atomic_init(&count[0], 0);
    atomic_init(&count[1], 0);
    const int runs = 500;
    double t0 = now_s();
    for (int r = 0; r < runs; r++) {
        threadpool_run(tp, noop_fn, count);
        threadpool_run(tp, noop_fn, count);
    }
    double dt = now_s() - t0;
    atomic_store(&g_stop_busy, 1);
    for (int i = 0; i < nb; i++) pthread_join(th[i], NULL);
    threadpool_free(tp);
    CHECK(atomic_load(&count[0]) == atomic_load(&count[1]));
    CHECK(atomic_load(&count[0]) >= 2 * runs);
    printf("oversubscribed: %d runs of %d threads beside %d busy threads: %.1f us/run\n", 2 * runs, cores + 1, nb,
           dt / (2 * runs) * 1e6);
    CHECK_MSG(dt < 30.0, "oversubscribed pool collapsed: %.1f s for %d runs", dt, 2 * runs);
}

static void test_latency(void)
{
    struct threadpool *tp = threadpool_create(2);
    atomic_int count[2];
    atomic_init(&count[0], 0);
    atomic_init(&count[1], 0);
    const int runs = 20000;
    double t0 = now_s();
    for (int r = 0; r < runs; r++) threadpool_run(tp, noop_fn, count);
    double dt = now_s() - t0;
    CHECK(atomic_load(&count[0]) == atomic_load(&count[1]));
    printf("back-to-back runs, 2 threads: %.2f us/run\n", dt / runs * 1e6);
    threadpool_free(tp);
}

int main(void)
{
    CHECK(os_physical_cores() >= 1);
    printf("os_physical_cores: %d\n", os_physical_cores());
    /* NULL pool = single-threaded */
    int got[2] = {-1, -1};
    threadpool_run(NULL, single_fn, got);
    CHECK(got[0] == 0 && got[1] == 1);
    CHECK(threadpool_n_threads(NULL) == 1);
    threadpool_barrier(NULL);
    threadpool_free(NULL);
    /* default size */
    struct threadpool *d = threadpool_create(0);
    CHECK(d && threadpool_n_threads(d) == os_physical_cores());
    CHECK(threadpool_active_threads(d) == os_physical_cores());
    threadpool_free(d);
    /* many runs, odd counts, with and without adaptation */
    static const int counts[] = {1, 2, 3, 5, 7};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        int over = counts[i] > os_physical_cores();
        test_runs(counts[i], over ? 300 : 3000, 0);
        test_runs(counts[i], over ? 300 : 3000, 1);
        test_barrier(counts[i], 0);
        test_barrier(counts[i], 1);
    }
    /* create/free churn */
    atomic_int churn[2];
    atomic_init(&churn[0], 0);
    atomic_init(&churn[1], 0);
    for (int i = 0; i < 50; i++) {
        struct threadpool *tp = threadpool_create(1 + i % 4);
        if (i % 2) threadpool_run(tp, noop_fn, churn);
        threadpool_free(tp);
    }
    CHECK(atomic_load(&churn[0]) == atomic_load(&churn[1]) && atomic_load(&churn[0]) > 0);
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
    test_policy();
    test_shrink_grow();
    calibrate();
    test_late_workers();
    test_shared_cpu();
    test_latency();
    test_oversubscribed();
    return TEST_DONE();
}
