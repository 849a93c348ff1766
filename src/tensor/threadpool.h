/* threadpool.h - a persistent pool of worker threads for the CPU engine.
 *
 * Owner: tensor/kernels area.
 *
 * Model: threadpool_run(tp, fn, arg) calls fn(arg, ith, nth) once on each of
 * the nth threads of the run, ith = 0..nth-1, and returns when all have
 * returned. The calling thread is ith 0; the workers are created once by
 * threadpool_create and reused. Between runs the workers spin briefly (a few
 * tens of microseconds, so back-to-back runs such as the matmuls of one layer
 * start fast) and then sleep on a futex, so an idle pool costs no CPU and an
 * oversubscribed machine does not collapse.
 *
 * Adaptation: nth is the run's *active* count, 1 <= nth <=
 * threadpool_n_threads(tp); fn must split its work by the (ith, nth) it is
 * given, never by the pool size. The pool watches how long the caller waits
 * for the others (after its own share, at in-run barriers, and while it is
 * itself preempted, seen with the thread CPU clock). When, over a window of
 * a few milliseconds of runs, that waiting shows the late threads cost more
 * than they add (another process busy on their core, or two of ours sharing
 * one), it leaves the worker it waited for longest out of the following
 * runs; left-out workers sleep. It tries the full count again
 * after 150 ms and keeps it if the lag is gone (each failed try doubles the
 * wait, up to 1.2 s). Runs under 10 microseconds in all are not judged (one
 * with a tiny share that waited long is). Cost: one clock read per run, and
 * on at most one run per 100 us two reads of the thread CPU clock and two of
 * the wall clock. The estimate assumes thread 0 gets at least as much work
 * as any other (threadpool_split and ith-strided loops both do this).
 * threadpool_set_adaptive(tp, 0), or INF_THREADPOOL_ADAPT=0 in the
 * environment at creation, turns it off: every run then uses every thread
 * (threadpool_set_active: a fixed count).
 *
 * A NULL pool is valid everywhere and means "single-threaded": run calls
 * fn(arg, 0, 1) directly, n_threads is 1, barrier is a no-op.
 *
 * Thread-safety: one pool serves one caller at a time. threadpool_run must
 * not be called concurrently on the same pool, nor from inside fn (nested
 * runs on the same pool deadlock; fn may use a *different* pool or NULL).
 * Different pools are independent. threadpool_free, set_adaptive,
 * set_active, get_stats and adapt_feed must not race with run (call them
 * from the caller's thread between runs).
 *
 * Memory: the pool owns its threads; threadpool_free joins them. */
#ifndef INF_TENSOR_THREADPOOL_H
#define INF_TENSOR_THREADPOOL_H

#include <stdatomic.h>

#ifdef __cplusplus
extern "C" {
#endif

struct threadpool;

typedef void (*threadpool_fn)(void *arg, int ith, int nth);

/* Creates a pool of n_threads threads in all (the caller counts as one, so
 * n_threads - 1 workers are started). n_threads <= 0 means
 * os_physical_cores(). Returns NULL when threads cannot be created. A pool
 * of 1 thread is valid (no workers). */
struct threadpool *threadpool_create(int n_threads);

/* Joins the workers and frees the pool. NULL is a no-op. */
void threadpool_free(struct threadpool *tp);

/* Size of the pool (workers + caller), the most threads a run can have:
 * size per-thread scratch with it. 1 for NULL. */
int threadpool_n_threads(const struct threadpool *tp);

/* Threads the next run will use as things stand (a probe of the full count
 * may still raise it at the start of that run); with adaptation off, the
 * fixed count (n_threads, or what threadpool_set_active set); 1 for NULL. */
int threadpool_active_threads(const struct threadpool *tp);

/* Runs fn(arg, ith, nth) on the nth active threads (the caller and nth-1
 * workers) and waits for all. Memory written by any thread before it
 * returns from fn is visible to the caller after threadpool_run returns
 * (and vice versa for what the caller wrote before calling). */
void threadpool_run(struct threadpool *tp, threadpool_fn fn, void *arg);

/* A barrier among the nth threads of the current run: every thread of the
 * run must call it the same number of times (from inside fn). Memory
 * written before the barrier by any thread is visible after it to all.
 * NULL pool, or a run of one thread: no-op. */
void threadpool_barrier(struct threadpool *tp);

/* Turns adaptation on (1, the default) or off (0). Either way the pool
 * starts again from its full count, with its workers in creation order and
 * a clean record. NULL: no-op. */
void threadpool_set_adaptive(struct threadpool *tp, int on);

/* Turns adaptation off and makes every run use n threads (clamped to
 * 1..n_threads): the caller and the first n-1 workers of the pool's order,
 * which keeps whatever adaptation decided (left-out workers last). For
 * tests and for callers that know better. NULL: no-op. */
void threadpool_set_active(struct threadpool *tp, int n);

/* What adaptation has done since creation (or the last set_adaptive). */
struct threadpool_stats {
    long long runs;        /* threadpool_run calls with a pool of 2+ threads */
    long long reduced;     /* of those, runs on fewer threads than the pool */
    long long judged;      /* runs measured and counted into a window */
    long long drops;       /* times a worker was left out */
    long long probes;      /* tries of the full count after a drop */
    long long probe_fails; /* tries that ended in a drop again */
};
void threadpool_get_stats(const struct threadpool *tp, struct threadpool_stats *st);

/* For tests of the policy alone: accounts one run as if it had started at
 * now_ns (monotonic nanoseconds, the pool's own clock or a made-up one),
 * taken run_ns in all of which the caller's own share was own_ns, the rest
 * lost to worker late_worker (1..n_threads-1, numbered in creation order;
 * 0: unknown). Nothing is executed. Returns the count the run would have
 * used; threadpool_active_threads() then gives the decision. A run the
 * pool would not judge (one thread, under 10 us in all, adaptation off)
 * only moves the clock. */
int threadpool_adapt_feed(struct threadpool *tp, unsigned long long now_ns, unsigned long long run_ns,
                          unsigned long long own_ns, int late_worker);

/* Splits n items among nth threads: thread ith gets [*start, *end).
 * Contiguous, balanced to within one item. */
static inline void threadpool_split(long long n, int ith, int nth,
                                    long long *start, long long *end)
{
    long long per = n / nth, rem = n % nth;
    long long s = (long long)ith * per + (ith < rem ? ith : rem);
    *start = s;
    *end = s + per + (ith < rem ? 1 : 0);
}

/* Work claiming inside a run: n items cut into one contiguous range per
 * pool thread. A thread takes its own range front to back, then helps the
 * others from their fronts. Contiguous ranges keep each thread's memory
 * stream sequential (interleaving items between threads cost about a tenth
 * of the decode bandwidth here), and a thread slowed down by another
 * process, or left out of the run by the pool, simply has the rest of its
 * range taken. Initialise before threadpool_run with n_ranges =
 * threadpool_n_threads(tp); then each fn(arg, ith, nth) loops on
 * work_ranges_next(w, ith) until it returns -1. */
#define WORK_RANGES_MAX 64 /* larger pools share ranges */
struct work_ranges {
    int n;
    atomic_llong front[WORK_RANGES_MAX];
    long long end[WORK_RANGES_MAX];
};

static inline void work_ranges_init(struct work_ranges *w, long long n_items, int n_ranges)
{
    w->n = n_ranges < 1 ? 1 : n_ranges > WORK_RANGES_MAX ? WORK_RANGES_MAX : n_ranges;
    for (int r = 0; r < w->n; r++) {
        long long s, e;
        threadpool_split(n_items, r, w->n, &s, &e);
        atomic_init(&w->front[r], s);
        w->end[r] = e;
    }
}

/* The next item for thread ith, or -1 when every range is done. */
static inline long long work_ranges_next(struct work_ranges *w, int ith)
{
    for (int v = 0; v < w->n; v++) {
        const int r = (ith + v) % w->n;
        if (atomic_load_explicit(&w->front[r], memory_order_relaxed) >= w->end[r]) continue;
        const long long it = atomic_fetch_add_explicit(&w->front[r], 1, memory_order_relaxed);
        if (it < w->end[r]) return it;
    }
    return -1;
}

#ifdef __cplusplus
}
#endif
#endif
