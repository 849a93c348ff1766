/* threadpool.h - a persistent pool of worker threads for the CPU engine.
 *
 * Owner: tensor/kernels area.
 *
 * Model: threadpool_run(tp, fn, arg) calls fn(arg, ith, nth) once on each of
 * nth = threadpool_n_threads(tp) threads, ith = 0..nth-1, and returns when
 * all have returned. The calling thread is ith 0; the nth-1 workers are
 * created once by threadpool_create and reused. Between runs the workers
 * spin briefly (a few microseconds, so back-to-back runs such as the
 * matmuls of one layer start fast) and then sleep on a futex, so an idle
 * pool costs no CPU and an oversubscribed machine does not collapse.
 *
 * A NULL pool is valid everywhere and means "single-threaded": run calls
 * fn(arg, 0, 1) directly, n_threads is 1, barrier is a no-op.
 *
 * Thread-safety: one pool serves one caller at a time. threadpool_run must
 * not be called concurrently on the same pool, nor from inside fn (nested
 * runs on the same pool deadlock; fn may use a *different* pool or NULL).
 * Different pools are independent. threadpool_free must not race with run.
 *
 * Memory: the pool owns its threads; threadpool_free joins them. */
#ifndef INF_TENSOR_THREADPOOL_H
#define INF_TENSOR_THREADPOOL_H

#ifdef __cplusplus
extern "C" {
#endif

struct threadpool;

typedef void (*threadpool_fn)(void *arg, int ith, int nth);

/* Creates a pool of n_threads threads in all (the caller counts as one, so
 * n_threads - 1 workers are started). n_threads <= 0 means
 * cpu_physical_cores(). Returns NULL when threads cannot be created. A pool
 * of 1 thread is valid (no workers). */
struct threadpool *threadpool_create(int n_threads);

/* Joins the workers and frees the pool. NULL is a no-op. */
void threadpool_free(struct threadpool *tp);

/* Total threads of a run (workers + caller); 1 for NULL. */
int threadpool_n_threads(const struct threadpool *tp);

/* Runs fn(arg, ith, nth) on every thread of the pool and waits for all.
 * Memory written by any thread before it returns from fn is visible to the
 * caller after threadpool_run returns (and vice versa for what the caller
 * wrote before calling). */
void threadpool_run(struct threadpool *tp, threadpool_fn fn, void *arg);

/* A barrier among the nth threads of the current run: every thread of the
 * run must call it the same number of times (from inside fn). Memory
 * written before the barrier by any thread is visible after it to all.
 * NULL pool: no-op. */
void threadpool_barrier(struct threadpool *tp);

/* Number of physical CPU cores available to this process (hyper-threads of
 * one core count once; respects the affinity mask / cgroup CPU set as far
 * as Linux reports it). Always >= 1. Cached after the first call;
 * thread-safe. The default thread count for the engine. */
int cpu_physical_cores(void);

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

#ifdef __cplusplus
}
#endif
#endif
