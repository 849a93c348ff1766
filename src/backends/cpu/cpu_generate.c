/* cpu_generate.c - the `cpu` backend's operations that generate: the
 * Generate/Chat stream, Classify and BatchGenerate. All of them submit
 * sequences to the model's scheduler, which batches every running sequence
 * into shared forward passes; here we only turn text into ids and ids back
 * into text, whole UTF-8 characters at a time. */
#include "backends/cpu/cpu_internal.h"

#include "base/error.h"
#include "base/os.h"
#include "base/error.h"
#include "model/model.h"
#include "sched/scheduler.h"
#include "text/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- shared pieces ---------------------------------------------------------- */

inf_status cpu_encode(cpu_model *cm, const char *text, size_t len, unsigned flags, int32_t **ids, size_t *n,
                      inf_error *err)
{
    int tf = ((flags & INF_TOKENIZE_ADD_SPECIAL) ? TOK_ADD_SPECIAL : 0) |
             ((flags & INF_TOKENIZE_PARSE_SPECIAL) ? TOK_PARSE_SPECIAL : 0);
    if (tok_encode(cm->tok, text, len, tf, ids, n, err) != 0) {
        err_prefix(err, "tokenize");
        return err_status(err);
    }
    return INF_OK;
}

/* Tokens that end generation: the model's end-of-generation ids (EOS, EOT,
 * end-of-turn) and the caller's stop tokens. malloc'd. */
static int32_t *stop_ids_for(cpu_model *cm, const inf_generate_config *cfg, int *n_out)
{
    size_t n_eog = 0;
    const int32_t *eog = tok_eog_ids(cm->tok, &n_eog);
    size_t n = n_eog + cfg->n_stop_tokens;
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids) return NULL;
    if (n_eog) memcpy(ids, eog, n_eog * sizeof *ids);
    if (cfg->n_stop_tokens) memcpy(ids + n_eog, cfg->stop_tokens, cfg->n_stop_tokens * sizeof *ids);
    *n_out = (int)n;
    return ids;
}

static int poll_cancel(void *arg)
{
    return (int)inf_cancel_status(arg);
}

static struct sampler_params sampling_of(const inf_generate_config *cfg)
{
    struct sampler_params p = {
        .temperature = cfg->temperature,
        .top_k = cfg->top_k,
        .top_p = cfg->top_p,
        .min_p = cfg->min_p,
        .repeat_penalty = cfg->repeat_penalty,
        .repeat_last_n = cfg->repeat_last_n,
        .seed = cfg->seed,
    };
    return p;
}

/* Submit one sequence; its context is the model's unless `tight`, where it
 * is just what the prompt and max_tokens need (Classify, BatchGenerate).
 * keep_cache keeps its KV cache after the end (the attention inspector). */
static struct sched_seq *submit_ex(cpu_model *cm, const int32_t *ids, size_t n_ids, const inf_generate_config *cfg,
                                   int max_tokens, bool keep_logits, bool keep_cache, bool tight, inf_cancel *cancel,
                                   inf_error *err)
{
    int n_stop = 0;
    int32_t *stop = stop_ids_for(cm, cfg, &n_stop);
    if (!stop) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "out of memory");
        return NULL;
    }
    int n_ctx = cm->n_ctx;
    if (tight && (int64_t)n_ids + max_tokens < n_ctx) n_ctx = (int)n_ids + max_tokens + 1;
    struct sched_seq_params p = {
        .prompt = ids,
        .n_prompt = n_ids > (size_t)INT32_MAX ? INT32_MAX : (int)n_ids,
        .n_ctx = n_ctx,
        .max_tokens = max_tokens,
        .sampling = sampling_of(cfg),
        .stop_ids = stop,
        .n_stop_ids = n_stop,
        .keep_logits = keep_logits,
        .keep_cache = keep_cache,
        .should_stop = poll_cancel,
        .should_stop_arg = cancel,
    };
    struct sched_seq *q = sched_submit(cm->sched, &p, err);
    free(stop);
    return q;
}

static struct sched_seq *submit(cpu_model *cm, const int32_t *ids, size_t n_ids, const inf_generate_config *cfg,
                                int max_tokens, bool keep_logits, bool tight, inf_cancel *cancel, inf_error *err)
{
    return submit_ex(cm, ids, n_ids, cfg, max_tokens, keep_logits, false, tight, cancel, err);
}

/* Map how a sequence ended to the contract's status (why: the scheduler's
 * error for SCHED_END_ERROR and CONTEXT_FULL). */
static inf_status end_status(enum sched_end end, int stop_code, const inf_error *why, inf_error *err)
{
    switch (end) {
    case SCHED_END_STOPPED:
        if (stop_code == INF_ERR_DEADLINE_EXCEEDED) {
            inf_error_set(err, INF_ERR_DEADLINE_EXCEEDED, "deadline exceeded");
            return INF_ERR_DEADLINE_EXCEEDED;
        }
        inf_error_set(err, INF_ERR_CANCELLED, "operation cancelled");
        return INF_ERR_CANCELLED;
    case SCHED_END_CONTEXT_FULL:
    case SCHED_END_ERROR:
        if (err) *err = *why;
        return err_status(why);
    default:
        return INF_OK;
    }
}

static void metrics_of(int64_t n_prompt, int64_t n_generated, double prefill_s, double decode_s, inf_metrics *out);

void cpu_record_metrics(cpu_model *cm, int64_t n_prompt, int64_t n_generated, double prefill_s, double decode_s)
{
    inf_metrics m;
    metrics_of(n_prompt, n_generated, prefill_s, decode_s, &m);
    pthread_mutex_lock(&cm->metrics_mu);
    cm->last_metrics = m;
    pthread_mutex_unlock(&cm->metrics_mu);
}

static void metrics_of(int64_t n_prompt, int64_t n_generated, double prefill_s, double decode_s, inf_metrics *out)
{
    inf_metrics m = {0};
    m.prompt_tokens = n_prompt;
    m.generated_tokens = n_generated;
    m.prefill_seconds = prefill_s;
    m.decode_seconds = decode_s;
    m.total_seconds = prefill_s + decode_s;
    m.prefill_tokens_per_second = prefill_s > 0 ? (double)n_prompt / prefill_s : 0;
    /* The first generated token comes from the prefill's logits. */
    m.decode_tokens_per_second = decode_s > 0 && n_generated > 1 ? (double)(n_generated - 1) / decode_s : 0;
    m.active_memory_bytes = os_rss_bytes();
    m.peak_memory_bytes = os_peak_rss_bytes();
    /* Other threads may grow the process between the two readings. */
    if (m.peak_memory_bytes < m.active_memory_bytes) m.peak_memory_bytes = m.active_memory_bytes;
    *out = m;
}

/* Longest token piece we render, and the room its text may need: invalid
 * bytes become U+FFFD (3 bytes each), with up to 3 bytes held from before. */
#define PIECE_MAX 256
#define PIECE_TEXT_MAX (3 * (PIECE_MAX + 3) + 1)

/* Text of one token appended to a UTF-8 holdback stream; returns bytes in out
 * (out must hold PIECE_TEXT_MAX). */
static int piece_text(cpu_model *cm, struct tok_utf8_stream *u, int32_t id, char *out, size_t cap)
{
    char piece[PIECE_MAX];
    int len = tok_token_to_piece(cm->tok, id, 0, piece, sizeof piece);
    if (len < 0) len = 0;
    if ((size_t)len > sizeof piece) len = (int)sizeof piece; /* longer pieces do not exist in real vocabularies */
    int n = tok_utf8_stream_push(u, piece, (size_t)len, out, cap);
    return n < 0 ? 0 : n;
}

/* --- Generate and Chat ------------------------------------------------------ */

typedef struct cpu_stream {
    cpu_model *cm;
    struct sched_seq *seq;
    struct tok_utf8_stream utf8;
    char text[PIECE_TEXT_MAX];
    bool flushed;
    bool recorded; /* this stream's figures are the model's Metrics() */
} cpu_stream;

/* Publish the stream's figures as the model's last operation, once: at its
 * end, or when it is freed early (a stop string, a caller that stops). */
static void record_once(cpu_stream *s)
{
    if (s->recorded || !s->seq) return;
    s->recorded = true;
    struct sched_seq_stats st;
    sched_stats(s->seq, &st);
    cpu_record_metrics(s->cm, st.n_prompt, st.n_generated, st.prefill_seconds, st.decode_seconds);
}

static int stream_next(void *state, inf_token *tok, inf_error *err)
{
    cpu_stream *s = state;
    if (!s->seq) return 0; /* max_tokens 0 */
    int32_t id;
    enum sched_end end = SCHED_RUNNING;
    int stop_code = 0;
    inf_error why = {0};
    if (sched_next(s->seq, &id, &end, &stop_code, &why) == 1) {
        int n = piece_text(s->cm, &s->utf8, id, s->text, sizeof s->text - 1);
        s->text[n] = '\0';
        tok->id = id;
        tok->text = s->text;
        return 1;
    }
    record_once(s);
    /* Bytes of an incomplete character at the very end come out as U+FFFD in
     * a last token with id -1, so the texts still add up to the decoding. */
    if (!s->flushed) {
        s->flushed = true;
        int n = tok_utf8_stream_flush(&s->utf8, s->text, sizeof s->text - 1);
        if (n > 0) {
            s->text[n] = '\0';
            tok->id = -1;
            tok->text = s->text;
            return 1;
        }
    }
    return end_status(end, stop_code, &why, err) == INF_OK ? 0 : -1;
}

static void stream_free(void *state)
{
    cpu_stream *s = state;
    record_once(s);
    sched_release(s->seq);
    free(s);
}

static void stream_metrics(void *state, inf_metrics *m)
{
    cpu_stream *s = state;
    memset(m, 0, sizeof *m);
    if (!s->seq) return;
    struct sched_seq_stats st;
    sched_stats(s->seq, &st);
    metrics_of(st.n_prompt, st.n_generated, st.prefill_seconds, st.decode_seconds, m);
}

static const inf_stream_ops cpu_stream_ops = {stream_next, stream_free, stream_metrics};

inf_status cpu_start(void *impl, const inf_request *req, const inf_stream_ops **ops, void **state, inf_error *err)
{
    cpu_model *cm = impl;
    char *prompt = NULL;
    const char *text = req->prompt;
    unsigned flags = INF_TOKENIZE_ADD_SPECIAL | INF_TOKENIZE_PARSE_SPECIAL;
    if (req->messages || !req->prompt) {
        inf_status st = cpu_render_chat(cm, req->messages, req->n_messages, NULL, &prompt, err);
        if (st != INF_OK) return st;
        text = prompt;
    }
    int32_t *ids = NULL;
    size_t n_ids = 0;
    inf_status st = cpu_encode(cm, text, strlen(text), flags, &ids, &n_ids, err);
    /* A template that writes BOS itself must not get a second one. */
    if (st == INF_OK && prompt && n_ids >= 2 && ids[0] == tok_bos(cm->tok) && ids[1] == ids[0]) {
        memmove(ids, ids + 1, (n_ids - 1) * sizeof *ids);
        n_ids--;
    }
    free(prompt);
    if (st != INF_OK) return st;

    cpu_stream *s = calloc(1, sizeof *s);
    if (!s) {
        free(ids);
        inf_error_set(err, INF_ERR_NO_MEMORY, "out of memory");
        return INF_ERR_NO_MEMORY;
    }
    s->cm = cm;
    tok_utf8_stream_init(&s->utf8, true);
    if (req->cfg->max_tokens > 0) {
        s->seq = submit(cm, ids, n_ids, req->cfg, req->cfg->max_tokens, false, false, req->cancel, err);
        if (!s->seq) {
            free(ids);
            free(s);
            return err ? err->status : INF_ERR_BACKEND;
        }
    }
    free(ids);
    *ops = &cpu_stream_ops;
    *state = s;
    return INF_OK;
}

/* --- Classify ----------------------------------------------------------------- */

inf_status cpu_classify(void *impl, const char *const *prompts, size_t n, const inf_generate_config *cfg,
                        inf_cancel *cancel, inf_classify_result *results, inf_error *err)
{
    cpu_model *cm = impl;
    struct sched_seq **seqs = calloc(n, sizeof *seqs);
    if (!seqs) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "classify: out of memory");
        return INF_ERR_NO_MEMORY;
    }
    inf_status st = INF_OK;
    double t0 = (double)os_monotonic_ns() * 1e-9;
    int64_t n_prompt_tokens = 0;
    for (size_t i = 0; i < n && st == INF_OK; i++) {
        int32_t *ids = NULL;
        size_t n_ids = 0;
        st = cpu_encode(cm, prompts[i], strlen(prompts[i]), INF_TOKENIZE_ADD_SPECIAL | INF_TOKENIZE_PARSE_SPECIAL,
                        &ids, &n_ids, err);
        if (st != INF_OK) break;
        n_prompt_tokens += (int64_t)n_ids;
        seqs[i] = submit(cm, ids, n_ids, cfg, 0, cfg->logits, true, cancel, err);
        free(ids);
        if (!seqs[i]) {
            st = err ? err->status : INF_ERR_BACKEND;
            char why[INF_ERROR_MESSAGE_MAX];
            snprintf(why, sizeof why, "%s", err ? err->message : "");
            inf_error_set(err, st, "classify: prompt %zu: %s", i, why);
        }
    }
    for (size_t i = 0; i < n && st == INF_OK; i++) {
        int32_t id;
        enum sched_end end = SCHED_RUNNING;
        int code = 0;
        inf_error why = {0};
        sched_wait(seqs[i]);
        if (sched_next(seqs[i], &id, &end, &code, &why) != 1) {
            st = end_status(end, code, &why, err);
            if (st == INF_OK) {
                inf_error_set(err, INF_ERR_INTERNAL, "classify: prompt %zu produced no token", i);
                st = INF_ERR_INTERNAL;
            }
            break;
        }
        char piece[256];
        int len = tok_token_to_piece(cm->tok, id, 0, piece, sizeof piece);
        if (len < 0) len = 0;
        if ((size_t)len >= sizeof piece) len = (int)sizeof piece - 1;
        results[i].token.id = id;
        results[i].token.text = strndup(piece, (size_t)len);
        const float *logits = sched_logits(seqs[i]);
        if (cfg->logits && logits) {
            results[i].logits = malloc((size_t)cm->n_vocab * sizeof(float));
            if (results[i].logits) {
                memcpy(results[i].logits, logits, (size_t)cm->n_vocab * sizeof(float));
                results[i].n_logits = (size_t)cm->n_vocab;
            }
        }
        if (!results[i].token.text || (cfg->logits && !results[i].logits)) {
            inf_error_set(err, INF_ERR_NO_MEMORY, "classify: out of memory");
            st = INF_ERR_NO_MEMORY;
        }
    }
    for (size_t i = 0; i < n; i++) sched_release(seqs[i]);
    free(seqs);
    double t1 = (double)os_monotonic_ns() * 1e-9;
    if (st == INF_OK) cpu_record_metrics(cm, n_prompt_tokens, (int64_t)n, t1 - t0, 0);
    return st;
}

/* --- BatchGenerate ------------------------------------------------------------ */

/* Turn one finished sequence into its result: tokens with whole-character
 * texts, and its status. */
static void collect_batch_result(cpu_model *cm, struct sched_seq *q, inf_batch_result *r)
{
    int n_tokens = 0;
    const int32_t *ids = sched_tokens(q, &n_tokens);
    r->tokens = calloc((size_t)n_tokens + 1, sizeof *r->tokens);
    if (!r->tokens) {
        r->status = INF_ERR_NO_MEMORY;
        r->error = strdup("out of memory");
        return;
    }
    struct tok_utf8_stream u;
    tok_utf8_stream_init(&u, true);
    char text[PIECE_TEXT_MAX];
    for (int t = 0; t < n_tokens; t++) {
        int len = piece_text(cm, &u, ids[t], text, sizeof text - 1);
        r->tokens[t].id = ids[t];
        r->tokens[t].text = strndup(text, (size_t)len);
        r->n_tokens++;
    }
    int len = tok_utf8_stream_flush(&u, text, sizeof text - 1);
    if (len > 0) {
        r->tokens[r->n_tokens].id = -1;
        r->tokens[r->n_tokens].text = strndup(text, (size_t)len);
        r->n_tokens++;
    }
    int32_t id;
    enum sched_end end = SCHED_RUNNING;
    int code = 0;
    inf_error why = {0};
    while (sched_next(q, &id, &end, &code, &why) == 1) {}
    inf_error e;
    inf_error_clear(&e);
    r->status = end_status(end, code, &why, &e);
    if (r->status != INF_OK) r->error = strdup(e.message);
}

inf_status cpu_batch_generate(void *impl, const char *const *prompts, size_t n, const inf_generate_config *cfg,
                              inf_cancel *cancel, inf_batch_result *results, inf_error *err)
{
    cpu_model *cm = impl;
    struct sched_seq **seqs = calloc(n, sizeof *seqs);
    if (!seqs) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "batch_generate: out of memory");
        return INF_ERR_NO_MEMORY;
    }
    double t0 = (double)os_monotonic_ns() * 1e-9;
    int64_t n_prompt_tokens = 0, n_generated = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t *ids = NULL;
        size_t n_ids = 0;
        inf_error e;
        inf_error_clear(&e);
        if (cpu_encode(cm, prompts[i], strlen(prompts[i]), INF_TOKENIZE_ADD_SPECIAL | INF_TOKENIZE_PARSE_SPECIAL,
                       &ids, &n_ids, &e) == INF_OK) {
            n_prompt_tokens += (int64_t)n_ids;
            if (cfg->max_tokens > 0) seqs[i] = submit(cm, ids, n_ids, cfg, cfg->max_tokens, false, true, cancel, &e);
        }
        free(ids);
        if (!seqs[i] && e.status != INF_OK) {
            results[i].status = e.status;
            results[i].error = strdup(e.message);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!seqs[i]) continue;
        sched_wait(seqs[i]);
        collect_batch_result(cm, seqs[i], &results[i]);
        int k = 0;
        sched_tokens(seqs[i], &k);
        n_generated += k;
        sched_release(seqs[i]);
    }
    free(seqs);
    double t1 = (double)os_monotonic_ns() * 1e-9;
    cpu_record_metrics(cm, n_prompt_tokens, n_generated, 0, t1 - t0);
    return INF_OK;
}

/* --- the attention inspector ------------------------------------------------- */

inf_status cpu_attention_keys(void *impl, const char *prompt, inf_cancel *cancel, inf_attention_keys *out,
                              inf_error *err)
{
    cpu_model *cm = impl;
    int32_t *ids = NULL;
    size_t n_ids = 0;
    inf_status st = cpu_encode(cm, prompt, strlen(prompt), INF_TOKENIZE_ADD_SPECIAL | INF_TOKENIZE_PARSE_SPECIAL,
                               &ids, &n_ids, err);
    if (st != INF_OK) return st;
    inf_generate_config cfg;
    inf_generate_config_default(&cfg);
    struct sched_seq *q = submit_ex(cm, ids, n_ids, &cfg, 0, false, true, true, cancel, err);
    if (!q) {
        free(ids);
        return err ? err->status : INF_ERR_BACKEND;
    }
    sched_wait(q);
    int32_t id;
    enum sched_end end = SCHED_RUNNING;
    int code = 0;
    inf_error why = {0};
    while (sched_next(q, &id, &end, &code, &why) == 1) {}
    st = end_status(end, code, &why, err);
    const struct kv_cache *cache = sched_cache(q);
    const struct model_hparams *hp = model_hparams(cm->model);
    if (st == INF_OK && !cache) {
        inf_error_set(err, INF_ERR_INTERNAL, "attention_keys: the prefill kept no cache");
        st = INF_ERR_INTERNAL;
    }
    if (st == INF_OK) {
        size_t n_pos = n_ids, per_head = n_pos * (size_t)hp->head_dim;
        out->n_layers = hp->n_layer;
        out->n_heads = hp->n_head_kv;
        out->n_positions = (int)n_pos;
        out->head_dim = hp->head_dim;
        out->token_ids = ids;
        ids = NULL;
        out->keys = malloc((size_t)hp->n_layer * (size_t)hp->n_head_kv * per_head * sizeof(float));
        if (!out->keys) {
            inf_error_set(err, INF_ERR_NO_MEMORY, "attention_keys: out of memory");
            st = INF_ERR_NO_MEMORY;
        }
        for (int l = 0; st == INF_OK && l < hp->n_layer; l++)
            for (int h = 0; st == INF_OK && h < hp->n_head_kv; h++)
                for (size_t p = 0; p < n_pos; p++) {
                    float *dst = out->keys + ((size_t)l * (size_t)hp->n_head_kv + (size_t)h) * per_head +
                                 p * (size_t)hp->head_dim;
                    if (kv_cache_get_keys(cache, l, h, (int)p, dst) != 0) {
                        inf_error_set(err, INF_ERR_INTERNAL, "attention_keys: position %zu of layer %d missing", p, l);
                        st = INF_ERR_INTERNAL;
                        break;
                    }
                }
    }
    sched_release(q);
    free(ids);
    return st;
}
