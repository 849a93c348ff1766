/* scheduler.h - continuous batching: many sequences, one model, shared
 * forward passes.
 *
 * Layer: engine. One worker thread owns the model's forward pass. Each step
 * it gathers one token from every decoding sequence and chunks of the
 * prompts still being prefilled into one batch (one matrix multiplication
 * over all of them), runs it, samples every sequence that produced logits,
 * and wakes the consumers. A sequence joining or finishing only changes the
 * next batch, so it never stalls the others.
 *
 * Sequences come from sched_submit and are read with sched_next (blocking)
 * from any thread; sched_release ends one early (its cancel) and frees it.
 * Knows nothing of text: stop conditions are token ids. */
#ifndef INF_SCHED_SCHEDULER_H
#define INF_SCHED_SCHEDULER_H

#include "base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sample/sampler.h"

struct model;
struct threadpool;
struct sched;
struct sched_seq;

struct sched_options {
    int max_active;        /* sequences holding a KV cache at once (>= 1) */
    int max_batch_tokens;  /* tokens per forward pass (>= 1) */
    int kv_type;           /* TENSOR_TYPE_F16, TENSOR_TYPE_F32 or TENSOR_TYPE_Q8_0 (see kv_cache.h) */
};

/* Why a sequence stopped (see sched_next). */
enum sched_end {
    SCHED_RUNNING = 0,
    SCHED_END_EOG,          /* an end-of-generation or stop id */
    SCHED_END_LENGTH,       /* max_tokens reached */
    SCHED_END_STOPPED,      /* should_stop returned non-zero: see stop_code */
    SCHED_END_CONTEXT_FULL, /* the KV cache filled up */
    SCHED_END_ERROR,        /* see the message */
};

struct sched_seq_params {
    const int32_t *prompt;     /* copied */
    int n_prompt;              /* >= 1 */
    int n_ctx;                 /* KV cache positions for this sequence */
    int max_tokens;            /* 0: prefill only (Classify) */
    struct sampler_params sampling;
    const int32_t *stop_ids;   /* copied; ids that end generation unemitted */
    int n_stop_ids;
    bool keep_logits;          /* keep the logits of the last prompt position */
    bool keep_cache;           /* keep the KV cache after the end (sched_cache) */
    /* Polled before each step; a non-zero return stops the sequence with
     * SCHED_END_STOPPED and that code. Called from the worker thread. */
    int (*should_stop)(void *arg);
    void *should_stop_arg;
};

/* Figures of one sequence, filled as it runs. */
struct sched_seq_stats {
    int n_prompt;
    int n_generated;
    double prefill_seconds;    /* submit -> first sampled token */
    double decode_seconds;     /* first sampled token -> end */
};

/* model and tp are borrowed and must outlive the scheduler. NULL with a
 * message on failure. */
struct sched *sched_create(const struct model *model, struct threadpool *tp, const struct sched_options *opts,
                           inf_error *err);
/* Stops the worker. Every sequence must have been released. */
void sched_free(struct sched *s);

/* Queue a sequence. NULL with a message when the prompt cannot fit n_ctx
 * (the message says both numbers) or on bad parameters / out of memory. */
struct sched_seq *sched_submit(struct sched *s, const struct sched_seq_params *p, inf_error *err);

/* Blocks until the sequence has a new token (returns 1, *id set) or has
 * ended (returns 0; *end says why, with *stop_code for SCHED_END_STOPPED and
 * *err, status and message, for SCHED_END_ERROR / CONTEXT_FULL). */
int sched_next(struct sched_seq *q, int32_t *id, enum sched_end *end, int *stop_code, inf_error *err);

/* Blocks until the sequence has ended (for prefill-only and batch users). */
void sched_wait(struct sched_seq *q);

/* After the sequence ended: the logits kept (keep_logits) or NULL, n_vocab
 * floats owned by the sequence. */
const float *sched_logits(const struct sched_seq *q);
/* All tokens generated so far (owned by the sequence) and their count. */
const int32_t *sched_tokens(const struct sched_seq *q, int *n);
void sched_stats(const struct sched_seq *q, struct sched_seq_stats *out);
/* After the end of a keep_cache sequence: its KV cache (owned by the
 * sequence), or NULL when it never got one. */
const struct kv_cache *sched_cache(const struct sched_seq *q);

/* End (if running) and free the sequence. */
void sched_release(struct sched_seq *q);

#endif
