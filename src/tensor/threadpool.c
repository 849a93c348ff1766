/* threadpool.c - persistent workers; spin-then-futex wake-up and barrier;
 * the adaptive active count (how many threads a run gets under contention). */
#include "threadpool.h"
#include "base/os.h"

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

/* CPU time of the calling thread; 0 where there is no such clock. A system
 * call (about 0.5 us on a VM), so it is read on a sample of runs only. */
static inline uint64_t thread_cpu_ns(void)
{
#ifdef CLOCK_THREAD_CPUTIME_ID
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
    return 0;
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
 * asleep on the word so wakers can skip the syscall. Returns 1 when it had
 * to sleep. */
static int wait_change(atomic_int *word, int value, atomic_int *sleepers)
{
    uint64_t t0 = 0;
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(word, memory_order_acquire) != value) return 0;
        CPU_RELAX();
        if ((i & 63) == 0) {
            uint64_t t = now_ns();
            if (!t0) t0 = t;
            else if (t - t0 > SPIN_NS) break;
        }
    }
    while (atomic_load_explicit(word, memory_order_acquire) == value) {
        atomic_fetch_add(sleepers, 1); /* seq_cst: pairs with the waker's store and load */
        futex_wait(word, value);
        atomic_fetch_sub(sleepers, 1);
    }
    return 1;
}

/* The word must have been changed with a seq_cst store or RMW just before,
 * so that either the sleeper sees the new value or we see the sleeper. */
static void wake(atomic_int *word, atomic_int *sleepers)
{
    if (atomic_load(sleepers) > 0) futex_wake_all(word);
}

/* ---- adaptation policy ----
 *
 * Per judged run the caller knows the run's wall time T and its own share
 * of the work, `own` (its CPU time in fn less the CPU it spent spinning in
 * barriers; with that clock unavailable, its wall time in fn less barrier
 * waits). The rest, T - own, is time lost to the others: waiting for late
 * workers at barriers and at the end, and being preempted itself. With a
 * threads and an even split, a - 1 threads of the caller's speed would take
 * own * a / (a - 1); so one thread fewer is no slower once lost exceeds
 * own / (a - 1). Over a window we drop a worker when lost > 3/4 of that (a
 * shade early: at the break-even a single thread also leaves the scheduler
 * a free core) and when lost is at least a quarter of own (large pools). */
#define ADAPT_MIN_RUN_NS 10000ull       /* shorter runs are not judged (a run whose share
                                         * is tiny but which waited long is judged: the
                                         * wait is the news) */
#define ADAPT_SAMPLE_GAP_NS 100000ull   /* at most one measured run per 100 us (the
                                         * thread CPU clock is a system call) */
#define ADAPT_WINDOW_NS 4000000ull      /* judged run time per decision */
#define ADAPT_WINDOW_RUNS 4             /* ... and at least this many runs */
#define ADAPT_PROBE_NS 150000000ull     /* first try of the full count after a drop */
#define ADAPT_PROBE_MAX_NS 1200000000ull /* longest wait after repeated failed tries */

struct adapt {
    int on;
    int n_active;          /* threads of the next run */
    int *order;            /* [n_threads - 1] worker slots; the first n_active - 1 take part */
    uint64_t *lost_by;     /* [n_threads] lost time of the window by late slot (0: unknown) */
    uint64_t win_run, win_own;
    int win_runs;
    int probing;           /* the full count is on trial */
    uint64_t next_probe;   /* when reduced: time of the next trial */
    uint64_t interval;     /* wait before that trial */
    uint32_t rng;          /* picks the runs whose CPU time is read */
    uint64_t last_measure; /* end of the last measured run */
    struct threadpool_stats st;
};

struct worker {
    _Alignas(64) atomic_int go; /* bumped by the caller for each run this worker joins */
    atomic_int sleepers;        /* 1 while it sleeps on go */
    int ith, nth;               /* its place in that run (written before go) */
    int slot;                   /* index in tp->workers (1..n_threads-1) */
    struct threadpool *tp;
    pthread_t thread;
};

struct threadpool {
    int n_threads;
    struct worker *workers; /* [n_threads]; [0] stands for the caller and has no thread */

    /* the run, written by the caller before the workers' go */
    threadpool_fn fn;
    void *arg;
    int run_nth;
    int gen;                /* counts runs with workers, modulo 2^31 */
    atomic_int stop;

    /* completion: the last worker to finish names itself and sets done_gen */
    _Alignas(64) atomic_int n_done;
    atomic_int done_gen;
    atomic_int done_sleepers;
    int last_done;

    /* in-run barrier; bar_last names the last to arrive */
    _Alignas(64) atomic_int bar_count;
    atomic_int bar_phase;
    atomic_int bar_sleepers;
    int bar_last;

    /* the caller's waits at barriers during the current run, when measured */
    _Alignas(64) int measuring;
    uint64_t bar_wait_ns, bar_spin_ns;
    int bar_culprit;

    struct adapt ad;
};

/* The worker this thread is, for barrier calls from inside fn. */
static _Thread_local struct worker *tl_worker;

static int adapt_env_default(void)
{
    const char *e = getenv("INF_THREADPOOL_ADAPT");
    return !(e && e[0] == '0' && e[1] == '\0');
}

static void adapt_reset(struct threadpool *tp, int on)
{
    struct adapt *ad = &tp->ad;
    ad->on = on;
    ad->n_active = tp->n_threads;
    for (int i = 0; i < tp->n_threads - 1; i++) ad->order[i] = i + 1;
    memset(ad->lost_by, 0, sizeof *ad->lost_by * (size_t)tp->n_threads);
    ad->win_run = ad->win_own = 0;
    ad->win_runs = 0;
    ad->probing = 0;
    ad->next_probe = 0;
    ad->interval = ADAPT_PROBE_NS;
    memset(&ad->st, 0, sizeof ad->st);
}

static void adapt_clear_window(struct adapt *ad, int n_threads)
{
    memset(ad->lost_by, 0, sizeof *ad->lost_by * (size_t)n_threads);
    ad->win_run = ad->win_own = 0;
    ad->win_runs = 0;
}

/* Before a run: the count it gets; starts a trial of the full count when
 * one is due. */
static int adapt_plan(struct threadpool *tp, uint64_t now)
{
    struct adapt *ad = &tp->ad;
    if (!ad->on) return ad->n_active;
    if (ad->n_active < tp->n_threads && now >= ad->next_probe) {
        ad->n_active = tp->n_threads;
        ad->probing = 1;
        ad->st.probes++;
        adapt_clear_window(ad, tp->n_threads);
    }
    return ad->n_active;
}

/* Leaves out the worker that lost the window most time (the last active
 * one when nothing names a culprit): it moves to the end of the active
 * part of the order. */
static void adapt_drop(struct threadpool *tp)
{
    struct adapt *ad = &tp->ad;
    const int last = ad->n_active - 2;
    int pick = last;
    uint64_t most = 0;
    for (int i = 0; i <= last; i++)
        if (ad->lost_by[ad->order[i]] > most) {
            most = ad->lost_by[ad->order[i]];
            pick = i;
        }
    int t = ad->order[pick];
    ad->order[pick] = ad->order[last];
    ad->order[last] = t;
    ad->n_active--;
    ad->st.drops++;
}

/* After a judged run of a threads: counts it into the window and decides
 * when the window is full. */
static void adapt_judge(struct threadpool *tp, uint64_t now, uint64_t run_ns, uint64_t own_ns, int culprit)
{
    struct adapt *ad = &tp->ad;
    if (own_ns > run_ns) own_ns = run_ns;
    ad->win_run += run_ns;
    ad->win_own += own_ns;
    ad->win_runs++;
    if (culprit > 0 && culprit < tp->n_threads) ad->lost_by[culprit] += run_ns - own_ns;
    else ad->lost_by[0] += run_ns - own_ns;
    ad->st.judged++;
    if (ad->win_run < ADAPT_WINDOW_NS || ad->win_runs < ADAPT_WINDOW_RUNS) return;

    const uint64_t a = (uint64_t)ad->n_active, own = ad->win_own, lost = ad->win_run - ad->win_own;
    const int late = 4 * lost * (a - 1) > 3 * own && 4 * lost > own;
    if (late) {
        if (ad->probing) {
            ad->st.probe_fails++;
            ad->interval = ad->interval * 2 > ADAPT_PROBE_MAX_NS ? ADAPT_PROBE_MAX_NS : ad->interval * 2;
        } else if (ad->n_active == tp->n_threads) {
            ad->interval = ADAPT_PROBE_NS; /* fresh contention */
        }
        ad->probing = 0;
        adapt_drop(tp);
        ad->next_probe = now + ad->interval;
    } else if (ad->probing) {
        ad->probing = 0;
        ad->interval = ADAPT_PROBE_NS;
    }
    adapt_clear_window(ad, tp->n_threads);
}

/* Picks the runs to measure: half of those that start 100 us or more after
 * the last measured one ended, at random (xorshift) so that a periodic
 * sequence of runs is not always sampled at the same places. */
static int adapt_sample(struct adapt *ad, uint64_t now)
{
    if (now - ad->last_measure < ADAPT_SAMPLE_GAP_NS) return 0;
    uint32_t x = ad->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    ad->rng = x;
    return (x & 1) == 0;
}

/* ---- workers ---- */

static void *worker_main(void *p)
{
    struct worker *w = p;
    struct threadpool *tp = w->tp;
    tl_worker = w;
    int seen = 0;
    for (;;) {
        wait_change(&w->go, seen, &w->sleepers);
        seen = atomic_load_explicit(&w->go, memory_order_acquire);
        if (atomic_load_explicit(&tp->stop, memory_order_relaxed)) break;
        tp->fn(tp->arg, w->ith, w->nth);
        const int want = tp->run_nth - 1, gen = tp->gen;
        if (atomic_fetch_add_explicit(&tp->n_done, 1, memory_order_acq_rel) + 1 == want) {
            tp->last_done = w->slot;
            atomic_store(&tp->done_gen, gen); /* seq_cst: see wake() */
            wake(&tp->done_gen, &tp->done_sleepers);
        }
    }
    return NULL;
}

static void *aligned_zalloc(size_t n)
{
    n = (n + 63) / 64 * 64;
    void *p = aligned_alloc(64, n);
    if (p) memset(p, 0, n);
    return p;
}

static void pool_release(struct threadpool *tp)
{
    free(tp->ad.order);
    free(tp->ad.lost_by);
    free(tp->workers);
    free(tp);
}

struct threadpool *threadpool_create(int n_threads)
{
    if (n_threads <= 0) n_threads = os_physical_cores();
    if (n_threads > 1024) n_threads = 1024;
    struct threadpool *tp = aligned_zalloc(sizeof *tp);
    if (!tp) return NULL;
    tp->n_threads = n_threads;
    atomic_init(&tp->stop, 0);
    atomic_init(&tp->n_done, 0);
    atomic_init(&tp->done_gen, 0);
    atomic_init(&tp->done_sleepers, 0);
    atomic_init(&tp->bar_count, 0);
    atomic_init(&tp->bar_phase, 0);
    atomic_init(&tp->bar_sleepers, 0);
    tp->workers = aligned_zalloc(sizeof *tp->workers * (size_t)n_threads);
    tp->ad.order = calloc((size_t)n_threads, sizeof *tp->ad.order);
    tp->ad.lost_by = calloc((size_t)n_threads, sizeof *tp->ad.lost_by);
    if (!tp->workers || !tp->ad.order || !tp->ad.lost_by) {
        pool_release(tp);
        return NULL;
    }
    adapt_reset(tp, adapt_env_default());
    tp->ad.rng = (uint32_t)(uintptr_t)tp ^ 0x9e3779b9u;
    if (!tp->ad.rng) tp->ad.rng = 1;
    for (int i = 1; i < n_threads; i++) {
        struct worker *w = &tp->workers[i];
        w->tp = tp;
        w->slot = i;
        atomic_init(&w->go, 0);
        atomic_init(&w->sleepers, 0);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            /* stop the ones started */
            tp->n_threads = i;
            threadpool_free(tp);
            return NULL;
        }
    }
    return tp;
}

void threadpool_free(struct threadpool *tp)
{
    if (!tp) return;
    atomic_store(&tp->stop, 1);
    for (int i = 1; i < tp->n_threads; i++) {
        atomic_fetch_add(&tp->workers[i].go, 1);
        wake(&tp->workers[i].go, &tp->workers[i].sleepers);
    }
    for (int i = 1; i < tp->n_threads; i++) pthread_join(tp->workers[i].thread, NULL);
    pool_release(tp);
}

int threadpool_n_threads(const struct threadpool *tp) { return tp ? tp->n_threads : 1; }

int threadpool_active_threads(const struct threadpool *tp) { return tp ? tp->ad.n_active : 1; }

void threadpool_set_adaptive(struct threadpool *tp, int on)
{
    if (tp) adapt_reset(tp, on != 0);
}

void threadpool_set_active(struct threadpool *tp, int n)
{
    if (!tp) return;
    tp->ad.on = 0;
    tp->ad.n_active = n < 1 ? 1 : n > tp->n_threads ? tp->n_threads : n;
}

void threadpool_get_stats(const struct threadpool *tp, struct threadpool_stats *st)
{
    if (!st) return;
    if (tp) *st = tp->ad.st;
    else memset(st, 0, sizeof *st);
}

int threadpool_adapt_feed(struct threadpool *tp, unsigned long long now_ns, unsigned long long run_ns,
                          unsigned long long own_ns, int late_worker)
{
    if (!tp || tp->n_threads <= 1) return 1;
    const int nth = adapt_plan(tp, now_ns);
    if (tp->ad.on && nth > 1 && run_ns >= ADAPT_MIN_RUN_NS)
        adapt_judge(tp, now_ns + run_ns, run_ns, own_ns, late_worker);
    return nth;
}

/* Hands the run to the active workers: their place, then their go. */
static void dispatch(struct threadpool *tp, int nth)
{
    for (int k = 1; k < nth; k++) {
        struct worker *w = &tp->workers[tp->ad.order[k - 1]];
        w->ith = k;
        w->nth = nth;
        atomic_fetch_add(&w->go, 1); /* seq_cst: publishes fn, arg, ith, nth; see wake() */
        wake(&w->go, &w->sleepers);
    }
}

void threadpool_run(struct threadpool *tp, threadpool_fn fn, void *arg)
{
    if (!tp || tp->n_threads <= 1) {
        fn(arg, 0, 1);
        return;
    }
    struct adapt *ad = &tp->ad;
    uint64_t t0 = ad->on ? now_ns() : 0, cpu0 = 0;
    const int nth = adapt_plan(tp, t0);
    ad->st.runs++;
    if (nth <= 1) {
        ad->st.reduced++;
        tp->run_nth = 1;
        fn(arg, 0, 1);
        return;
    }
    if (nth < tp->n_threads) ad->st.reduced++;
    tp->fn = fn;
    tp->arg = arg;
    tp->run_nth = nth;
    const int gen = tp->gen = (tp->gen + 1) & INT_MAX;
    tp->bar_wait_ns = tp->bar_spin_ns = 0;
    tp->bar_culprit = 0;
    atomic_store_explicit(&tp->n_done, 0, memory_order_relaxed);
    const int measure = tp->measuring = ad->on && adapt_sample(ad, t0);
    if (measure) {
        cpu0 = thread_cpu_ns();
        t0 = now_ns();
    }
    dispatch(tp, nth);
    fn(arg, 0, nth);
    const uint64_t t_fn = measure ? now_ns() : 0;
    const uint64_t cpu1 = measure ? thread_cpu_ns() : 0;
    int d, waited = 0;
    while ((d = atomic_load_explicit(&tp->done_gen, memory_order_acquire)) != gen) {
        wait_change(&tp->done_gen, d, &tp->done_sleepers);
        waited = 1;
    }
    if (!measure) return;
    const uint64_t t_end = waited ? now_ns() : t_fn;
    ad->last_measure = t_end;
    if (t_end - t0 < ADAPT_MIN_RUN_NS) return;
    uint64_t own;
    if (cpu0 && cpu1 >= cpu0) own = cpu1 - cpu0 > tp->bar_spin_ns ? cpu1 - cpu0 - tp->bar_spin_ns : 0;
    else own = t_fn - t0 > tp->bar_wait_ns ? t_fn - t0 - tp->bar_wait_ns : 0;
    adapt_judge(tp, t_end, t_end - t0, own, waited ? tp->last_done : tp->bar_culprit);
}

void threadpool_barrier(struct threadpool *tp)
{
    if (!tp || tp->run_nth <= 1) return;
    const int nth = tp->run_nth;
    const struct worker *me = tl_worker;
    const int slot = me && me->tp == tp ? me->slot : 0;
    const int phase = atomic_load_explicit(&tp->bar_phase, memory_order_acquire);
    if (atomic_fetch_add_explicit(&tp->bar_count, 1, memory_order_acq_rel) + 1 == nth) {
        tp->bar_last = slot;
        atomic_store_explicit(&tp->bar_count, 0, memory_order_relaxed);
        atomic_fetch_add(&tp->bar_phase, 1); /* seq_cst release */
        wake(&tp->bar_phase, &tp->bar_sleepers);
        return;
    }
    if (slot != 0 || !tp->measuring) {
        wait_change(&tp->bar_phase, phase, &tp->bar_sleepers);
        return;
    }
    /* the caller: the wait is time lost to the others (spinning shows as
     * CPU time, so it is taken off the caller's own share) */
    const uint64_t t = now_ns();
    const int slept = wait_change(&tp->bar_phase, phase, &tp->bar_sleepers);
    const uint64_t dt = now_ns() - t;
    tp->bar_wait_ns += dt;
    tp->bar_spin_ns += slept && dt > SPIN_NS ? SPIN_NS : dt;
    tp->bar_culprit = tp->bar_last;
}
