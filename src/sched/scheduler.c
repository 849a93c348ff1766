/* scheduler.c - see scheduler.h.
 *
 * Every sequence keeps its whole history (prompt, then generated tokens) and
 * how much of it is already in its KV cache (n_fed). Prefill and decode are
 * then the same thing: feed history[n_fed..]. A decoding sequence has exactly
 * one unfed token; a prefilling one has many and is fed in chunks. Decoders
 * go into each batch first so that a long prompt arriving never stalls
 * sequences that are already streaming. */
#include "sched/scheduler.h"

#include "model/model.h"

#include <pthread.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum seq_state { Q_WAITING, Q_ACTIVE, Q_DONE };

struct sched_seq {
    struct sched *owner;
    int32_t *history;
    int n_history, cap_history;
    int n_prompt, n_fed, n_generated, n_read;
    int n_ctx, max_tokens;
    struct sampler *sampler;
    int32_t *stop_ids;
    int n_stop_ids;
    bool keep_logits, keep_cache;
    float *logits;
    int (*should_stop)(void *arg);
    void *should_stop_arg;
    struct kv_cache *cache;
    enum seq_state state;
    enum sched_end end;
    int stop_code;
    inf_error err;          /* SCHED_END_ERROR / CONTEXT_FULL: status and message */
    bool released, in_flight;
    double t_submit, t_first, t_end;
};

struct sched {
    const struct model *model;
    struct forward_ctx *fc; /* the worker's forward scratch */
    struct threadpool *tp;
    struct sched_options opts;
    int n_vocab;
    pthread_t worker;
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* the worker waits for work */
    pthread_cond_t out_cv;  /* consumers wait for tokens */
    struct sched_seq **seqs;
    int n_seqs, cap_seqs;
    bool stopping;

    /* The batch being built, sized max_batch_tokens. */
    int32_t *b_tokens, *b_pos;
    struct kv_cache **b_caches;
    uint8_t *b_want;
    struct sched_seq **b_want_seq; /* the sequence of each wanted row */
    float *b_logits;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void seq_free(struct sched_seq *q)
{
    if (!q) return;
    kv_cache_free(q->cache);
    sampler_free(q->sampler);
    free(q->history);
    free(q->stop_ids);
    free(q->logits);
    free(q);
}

static void seq_end(struct sched_seq *q, enum sched_end end, const inf_error *why)
{
    if (q->state == Q_DONE) return;
    q->state = Q_DONE;
    q->end = end;
    q->t_end = now_seconds();
    if (!q->t_first) q->t_first = q->t_end;
    if (why) q->err = *why;
    /* The cache is no longer needed: give its memory back now, unless the
     * forward pass running right now uses it (run_step frees it after). */
    if (!q->in_flight && !q->keep_cache) {
        kv_cache_free(q->cache);
        q->cache = NULL;
    }
}

/* Ends q with a failure of the given status. */
static void seq_fail(struct sched_seq *q, enum sched_end end, inf_status status, const char *fmt, ...) INF_PRINTF(4, 5);
static void seq_fail(struct sched_seq *q, enum sched_end end, inf_status status, const char *fmt, ...)
{
    inf_error e;
    va_list ap;
    va_start(ap, fmt);
    err_vfail(&e, status, fmt, ap);
    va_end(ap);
    seq_end(q, end, &e);
}


static bool is_stop_id(const struct sched_seq *q, int32_t id)
{
    for (int i = 0; i < q->n_stop_ids; i++)
        if (q->stop_ids[i] == id) return true;
    return false;
}

static bool push_history(struct sched_seq *q, int32_t id)
{
    if (q->n_history == q->cap_history) {
        int cap = q->cap_history * 2;
        int32_t *grown = realloc(q->history, (size_t)cap * sizeof *grown);
        if (!grown) return false;
        q->history = grown;
        q->cap_history = cap;
    }
    q->history[q->n_history++] = id;
    return true;
}

/* A sequence's logits arrived: sample and decide whether it goes on. */
static void accept_logits(struct sched *s, struct sched_seq *q, const float *logits)
{
    if (q->keep_logits && !q->logits && q->n_generated == 0) {
        q->logits = malloc((size_t)s->n_vocab * sizeof *q->logits);
        if (q->logits) memcpy(q->logits, logits, (size_t)s->n_vocab * sizeof *logits);
    }
    int32_t id = sampler_sample(q->sampler, logits, q->history, (size_t)q->n_history);
    if (!q->t_first) q->t_first = now_seconds();
    if (id < 0) {
        seq_fail(q, SCHED_END_ERROR, INF_ERR_BACKEND, "the model produced NaN logits (are its weights finite?)");
        return;
    }
    if (q->max_tokens > 0 && is_stop_id(q, id)) {
        seq_end(q, SCHED_END_EOG, NULL);
        return;
    }
    if (!push_history(q, id)) {
        seq_fail(q, SCHED_END_ERROR, INF_ERR_NO_MEMORY, "out of memory growing the token history");
        return;
    }
    q->n_generated++;
    if (q->n_generated >= q->max_tokens) seq_end(q, SCHED_END_LENGTH, NULL);
}

/* Remove released sequences that the worker is not using. */
static void reap(struct sched *s)
{
    int kept = 0;
    for (int i = 0; i < s->n_seqs; i++) {
        struct sched_seq *q = s->seqs[i];
        if (q->released && !q->in_flight)
            seq_free(q);
        else
            s->seqs[kept++] = q;
    }
    s->n_seqs = kept;
}

static void poll_stops(struct sched *s)
{
    for (int i = 0; i < s->n_seqs; i++) {
        struct sched_seq *q = s->seqs[i];
        if (q->state == Q_DONE) continue;
        int code = q->should_stop ? q->should_stop(q->should_stop_arg) : 0;
        if (code) {
            q->stop_code = code;
            seq_end(q, SCHED_END_STOPPED, NULL);
        }
    }
}

/* Give waiting sequences a KV cache while slots are free, oldest first. */
static void activate(struct sched *s)
{
    int active = 0;
    for (int i = 0; i < s->n_seqs; i++) active += s->seqs[i]->state == Q_ACTIVE;
    for (int i = 0; i < s->n_seqs && active < s->opts.max_active; i++) {
        struct sched_seq *q = s->seqs[i];
        if (q->state != Q_WAITING) continue;
        inf_error err = {0};
        q->cache = kv_cache_create_typed(s->model, q->n_ctx, s->opts.kv_type, &err);
        if (!q->cache) {
            err_prefix(&err, "cannot allocate the KV cache");
            seq_end(q, SCHED_END_ERROR, &err);
            continue;
        }
        q->state = Q_ACTIVE;
        active++;
    }
}

static int add_tokens(struct sched *s, struct sched_seq *q, int n_batch, int count, int *n_want)
{
    for (int k = 0; k < count; k++) {
        int at = q->n_fed + k;
        s->b_tokens[n_batch] = q->history[at];
        s->b_pos[n_batch] = at;
        s->b_caches[n_batch] = q->cache;
        bool last = at == q->n_history - 1;
        s->b_want[n_batch] = last;
        if (last) s->b_want_seq[(*n_want)++] = q;
        n_batch++;
    }
    q->in_flight = true;
    return n_batch;
}

/* Decoders first (one token each), then prompt chunks in the budget left. */
static int build_batch(struct sched *s, int *n_want)
{
    int n = 0;
    *n_want = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < s->n_seqs && n < s->opts.max_batch_tokens; i++) {
            struct sched_seq *q = s->seqs[i];
            if (q->state != Q_ACTIVE || q->released) continue;
            int unfed = q->n_history - q->n_fed;
            if (unfed <= 0 || (pass == 0) != (unfed == 1)) continue;
            if (q->n_fed + unfed > q->n_ctx) {
                seq_fail(q, SCHED_END_CONTEXT_FULL, INF_ERR_CONTEXT_OVERFLOW, "the context of %d tokens is full",
                         q->n_ctx);
                continue;
            }
            int count = unfed < s->opts.max_batch_tokens - n ? unfed : s->opts.max_batch_tokens - n;
            n = add_tokens(s, q, n, count, n_want);
        }
    }
    return n;
}

static void run_step(struct sched *s, int n, int n_want)
{
    struct model_batch batch = {
        .n_tokens = n,
        .tokens = s->b_tokens,
        .pos = s->b_pos,
        .caches = s->b_caches,
        .want_logits = s->b_want,
    };
    inf_error err = {0};
    pthread_mutex_unlock(&s->mu);
    int rc = model_forward(s->model, s->fc, &batch, s->b_logits, s->tp, &err);
    pthread_mutex_lock(&s->mu);

    /* Advance n_fed of every sequence in the batch, then sample. */
    for (int i = 0; i < n; i++) {
        struct sched_seq *q = NULL;
        for (int j = 0; j < s->n_seqs && !q; j++)
            if (s->seqs[j]->cache == s->b_caches[i]) q = s->seqs[j];
        if (q && rc == 0) q->n_fed = s->b_pos[i] + 1;
    }
    for (int w = 0; w < n_want; w++) {
        struct sched_seq *q = s->b_want_seq[w];
        if (rc != 0) {
            seq_end(q, SCHED_END_ERROR, &err);
            continue;
        }
        if (q->state == Q_ACTIVE && !q->released) accept_logits(s, q, s->b_logits + (size_t)w * s->n_vocab);
    }
    for (int i = 0; i < s->n_seqs; i++) {
        struct sched_seq *q = s->seqs[i];
        if (rc != 0 && q->in_flight) seq_end(q, SCHED_END_ERROR, &err);
        q->in_flight = false;
        if (q->state == Q_DONE && q->cache && !q->keep_cache) {
            kv_cache_free(q->cache);
            q->cache = NULL;
        }
    }
}

static void *worker_main(void *arg)
{
    struct sched *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        reap(s);
        poll_stops(s);
        activate(s);
        int n_want = 0;
        int n = build_batch(s, &n_want);
        if (n == 0) {
            pthread_cond_broadcast(&s->out_cv);
            /* Sleep until work arrives; wake now and then to poll deadlines. */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 20 * 1000000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&s->work_cv, &s->mu, &until);
            continue;
        }
        run_step(s, n, n_want);
        pthread_cond_broadcast(&s->out_cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

struct sched *sched_create(const struct model *model, struct threadpool *tp, const struct sched_options *opts, inf_error *err)
{
    if (!model || !opts || opts->max_active < 1 || opts->max_batch_tokens < 1) {
        err_fail(err, INF_ERR_INVALID_ARGUMENT, "scheduler: bad options");
        return NULL;
    }
    struct sched *s = calloc(1, sizeof *s);
    if (!s) {
        err_fail(err, INF_ERR_NO_MEMORY, "scheduler: out of memory");
        return NULL;
    }
    s->model = model;
    s->tp = tp;
    s->opts = *opts;
    s->n_vocab = model_hparams(model)->n_vocab;
    size_t nb = (size_t)opts->max_batch_tokens;
    s->b_tokens = malloc(nb * sizeof *s->b_tokens);
    s->b_pos = malloc(nb * sizeof *s->b_pos);
    s->b_caches = malloc(nb * sizeof *s->b_caches);
    s->b_want = malloc(nb * sizeof *s->b_want);
    s->b_want_seq = malloc(nb * sizeof *s->b_want_seq);
    s->b_logits = malloc(nb * (size_t)s->n_vocab * sizeof *s->b_logits);
    s->fc = forward_ctx_new(model);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    pthread_cond_init(&s->out_cv, NULL);
    if (!s->b_tokens || !s->b_pos || !s->b_caches || !s->b_want || !s->b_want_seq || !s->b_logits || !s->fc ||
        pthread_create(&s->worker, NULL, worker_main, s) != 0) {
        err_fail(err, INF_ERR_NO_MEMORY, "scheduler: out of memory for a batch of %d tokens", opts->max_batch_tokens);
        free(s->b_tokens);
        free(s->b_pos);
        free(s->b_caches);
        free(s->b_want);
        free(s->b_want_seq);
        free(s->b_logits);
        forward_ctx_free(s->fc);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->work_cv);
        pthread_cond_destroy(&s->out_cv);
        free(s);
        return NULL;
    }
    return s;
}

void sched_free(struct sched *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->worker, NULL);
    for (int i = 0; i < s->n_seqs; i++) seq_free(s->seqs[i]);
    free(s->seqs);
    free(s->b_tokens);
    free(s->b_pos);
    free(s->b_caches);
    free(s->b_want);
    free(s->b_want_seq);
    free(s->b_logits);
    forward_ctx_free(s->fc);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->work_cv);
    pthread_cond_destroy(&s->out_cv);
    free(s);
}

struct sched_seq *sched_submit(struct sched *s, const struct sched_seq_params *p, inf_error *err)
{
    if (p->n_prompt < 1) {
        err_fail(err, INF_ERR_INVALID_ARGUMENT, "the prompt is empty (0 tokens)");
        return NULL;
    }
    if (p->n_prompt > p->n_ctx) {
        err_fail(err, INF_ERR_CONTEXT_OVERFLOW, "the prompt of %d tokens does not fit the context of %d tokens", p->n_prompt,
                 p->n_ctx);
        return NULL;
    }
    struct sched_seq *q = calloc(1, sizeof *q);
    if (!q) goto oom;
    q->owner = s;
    q->cap_history = p->n_prompt + (p->max_tokens > 0 ? (p->max_tokens < 256 ? p->max_tokens : 256) : 1) + 1;
    q->history = malloc((size_t)q->cap_history * sizeof *q->history);
    q->sampler = sampler_create(&p->sampling, s->n_vocab);
    if (p->n_stop_ids > 0) q->stop_ids = malloc((size_t)p->n_stop_ids * sizeof *q->stop_ids);
    if (!q->history || !q->sampler || (p->n_stop_ids > 0 && !q->stop_ids)) goto oom;
    memcpy(q->history, p->prompt, (size_t)p->n_prompt * sizeof *q->history);
    if (p->n_stop_ids > 0) memcpy(q->stop_ids, p->stop_ids, (size_t)p->n_stop_ids * sizeof *q->stop_ids);
    q->n_stop_ids = p->n_stop_ids;
    q->n_history = q->n_prompt = p->n_prompt;
    q->n_ctx = p->n_ctx;
    q->max_tokens = p->max_tokens;
    q->keep_logits = p->keep_logits;
    q->keep_cache = p->keep_cache;
    q->should_stop = p->should_stop;
    q->should_stop_arg = p->should_stop_arg;
    q->state = Q_WAITING;
    q->t_submit = now_seconds();

    pthread_mutex_lock(&s->mu);
    if (s->n_seqs == s->cap_seqs) {
        int cap = s->cap_seqs ? s->cap_seqs * 2 : 16;
        struct sched_seq **grown = realloc(s->seqs, (size_t)cap * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&s->mu);
            goto oom;
        }
        s->seqs = grown;
        s->cap_seqs = cap;
    }
    s->seqs[s->n_seqs++] = q;
    pthread_cond_signal(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
    return q;
oom:
    seq_free(q);
    err_fail(err, INF_ERR_NO_MEMORY, "out of memory queueing a sequence of %d tokens", p->n_prompt);
    return NULL;
}

int sched_next(struct sched_seq *q, int32_t *id, enum sched_end *end, int *stop_code, inf_error *err)
{
    struct sched *s = q->owner;
    pthread_mutex_lock(&s->mu);
    while (q->n_read == q->n_generated && q->state != Q_DONE) pthread_cond_wait(&s->out_cv, &s->mu);
    int r;
    if (q->n_read < q->n_generated) {
        *id = q->history[q->n_prompt + q->n_read++];
        r = 1;
    } else {
        *end = q->end;
        if (stop_code) *stop_code = q->stop_code;
        if (err) *err = q->err;
        r = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

void sched_wait(struct sched_seq *q)
{
    struct sched *s = q->owner;
    pthread_mutex_lock(&s->mu);
    while (q->state != Q_DONE) pthread_cond_wait(&s->out_cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

const float *sched_logits(const struct sched_seq *q)
{
    return q->logits;
}

const int32_t *sched_tokens(const struct sched_seq *q, int *n)
{
    *n = q->n_generated;
    return q->history + q->n_prompt;
}

void sched_stats(const struct sched_seq *q, struct sched_seq_stats *out)
{
    /* The worker updates these while the sequence runs. */
    pthread_mutex_lock(&q->owner->mu);
    out->n_prompt = q->n_prompt;
    out->n_generated = q->n_generated;
    double end = q->t_end ? q->t_end : now_seconds();
    double first = q->t_first ? q->t_first : end;
    out->prefill_seconds = first - q->t_submit;
    out->decode_seconds = end - first;
    pthread_mutex_unlock(&q->owner->mu);
}

const struct kv_cache *sched_cache(const struct sched_seq *q)
{
    return q->cache;
}

void sched_release(struct sched_seq *q)
{
    if (!q) return;
    struct sched *s = q->owner;
    pthread_mutex_lock(&s->mu);
    q->released = true;
    if (q->state != Q_DONE) {
        q->stop_code = 0;
        seq_end(q, SCHED_END_STOPPED, NULL);
    }
    pthread_cond_signal(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
}
