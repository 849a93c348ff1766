/* srv_test_backend.h - "srvtest", a tiny deterministic backend for the
 * server and llama_cpp tests, so that they do not depend on the engine.
 *
 * Tokens are bytes (id = byte value); 256 is BOS and 257 EOS. For a prompt P
 * the model "generates" the bytes of P reversed followed by ".", then ends
 * (EOS). Chat renders messages as "<|role|>content...<|assistant|>" and
 * generates from that, as a real model would. Classify answers the prompt's last
 * byte, with logits peaked there. Special prompts:
 *   "slow:..."  endless 'z' tokens, 20 ms apart (for cancellation tests)
 *   "fail:..."  two tokens, then a backend error
 * The counters let tests see what the backend saw (cancellations, frees).
 * Header-only (static functions) so each test program carries its own. */
#ifndef SRV_TEST_BACKEND_H
#define SRV_TEST_BACKEND_H

#include "inference.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SRVT_VOCAB 258
#define SRVT_BOS 256
#define SRVT_EOS 257

static atomic_int srvt_streams_started, srvt_streams_freed, srvt_streams_cancelled;
static atomic_int srvt_active, srvt_max_active;

typedef struct srvt_model {
    pthread_mutex_t mu; /* streams run concurrently: guards metrics */
    inf_metrics metrics;
} srvt_model;

typedef struct srvt_stream {
    char *reply;      /* bytes to emit */
    size_t len, pos;
    bool slow, fail;
    int emitted;
    int max_tokens;
    const int32_t *stop;
    size_t n_stop;
    inf_cancel *cancel;
    char text[8];
    srvt_model *m;
    size_t prompt_len;
} srvt_stream;

static void srvt_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *srvt_reverse_dot(const char *s)
{
    size_t n = strlen(s);
    char *r = malloc(n + 2);
    if (!r) return NULL;
    for (size_t i = 0; i < n; i++) r[i] = s[n - 1 - i];
    r[n] = '.';
    r[n + 1] = '\0';
    return r;
}

static int srvt_next(void *state, inf_token *tok, inf_error *err)
{
    srvt_stream *s = state;
    if (inf_cancel_status(s->cancel) != INF_OK) {
        atomic_fetch_add(&srvt_streams_cancelled, 1);
        inf_status st = inf_cancel_status(s->cancel);
        inf_error_set(err, st, "srvtest: cancelled");
        return -1;
    }
    if (s->emitted >= s->max_tokens) return 0;
    if (s->fail && s->emitted == 2) {
        inf_error_set(err, INF_ERR_BACKEND, "srvtest: failure requested by the prompt");
        return -1;
    }
    int id;
    if (s->slow) {
        srvt_sleep_ms(20);
        if (inf_cancel_status(s->cancel) != INF_OK) {
            atomic_fetch_add(&srvt_streams_cancelled, 1);
            inf_error_set(err, inf_cancel_status(s->cancel), "srvtest: cancelled");
            return -1;
        }
        id = 'z';
    } else {
        if (s->pos >= s->len) return 0; /* EOS */
        id = (unsigned char)s->reply[s->pos++];
    }
    for (size_t i = 0; i < s->n_stop; i++)
        if (s->stop[i] == id) return 0;
    s->text[0] = (char)id;
    s->text[1] = '\0';
    tok->id = id;
    tok->text = s->text;
    s->emitted++;
    pthread_mutex_lock(&s->m->mu);
    s->m->metrics.generated_tokens = s->emitted;
    pthread_mutex_unlock(&s->m->mu);
    return 1;
}

static void srvt_free(void *state)
{
    srvt_stream *s = state;
    atomic_fetch_add(&srvt_streams_freed, 1);
    atomic_fetch_sub(&srvt_active, 1);
    free(s->reply);
    free(s);
}

static const inf_stream_ops srvt_stream_ops = {.next = srvt_next, .free = srvt_free};

static char *srvt_render(const inf_message *m, size_t n)
{
    size_t total = 32;
    for (size_t i = 0; i < n; i++) total += strlen(m[i].role) + strlen(m[i].content) + 8;
    char *p = malloc(total);
    if (!p) return NULL;
    p[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strcat(p, "<|");
        strcat(p, m[i].role);
        strcat(p, "|>");
        strcat(p, m[i].content);
    }
    strcat(p, "<|assistant|>");
    return p;
}

static inf_status srvt_start(void *impl, const inf_request *req, const inf_stream_ops **ops, void **state,
                             inf_error *err)
{
    srvt_stream *s = calloc(1, sizeof *s);
    if (!s) { inf_error_set(err, INF_ERR_NO_MEMORY, "oom"); return INF_ERR_NO_MEMORY; }
    char *rendered = req->prompt ? NULL : srvt_render(req->messages, req->n_messages);
    const char *src = req->prompt ? req->prompt : rendered ? rendered : "";
    s->slow = strncmp(src, "slow:", 5) == 0;
    s->fail = strncmp(src, "fail:", 5) == 0;
    s->reply = srvt_reverse_dot(src);
    s->len = s->reply ? strlen(s->reply) : 0;
    s->max_tokens = req->cfg->max_tokens;
    s->stop = req->cfg->stop_tokens;
    s->n_stop = req->cfg->n_stop_tokens;
    s->cancel = req->cancel;
    s->m = impl;
    s->prompt_len = strlen(src);
    free(rendered);
    pthread_mutex_lock(&s->m->mu);
    memset(&s->m->metrics, 0, sizeof s->m->metrics);
    s->m->metrics.prompt_tokens = (int64_t)s->prompt_len;
    pthread_mutex_unlock(&s->m->mu);
    atomic_fetch_add(&srvt_streams_started, 1);
    int a = atomic_fetch_add(&srvt_active, 1) + 1;
    int mx = atomic_load(&srvt_max_active);
    while (a > mx && !atomic_compare_exchange_weak(&srvt_max_active, &mx, a)) {}
    *ops = &srvt_stream_ops;
    *state = s;
    return INF_OK;
}

static inf_status srvt_classify(void *impl, const char *const *prompts, size_t n, const inf_generate_config *cfg,
                                inf_cancel *cancel, inf_classify_result *results, inf_error *err)
{
    (void)impl; (void)cancel; (void)err;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(prompts[i]);
        int id = len ? (unsigned char)prompts[i][len - 1] : SRVT_EOS;
        char *t = malloc(2);
        if (!t) return INF_ERR_NO_MEMORY;
        t[0] = id < 256 ? (char)id : '\0';
        t[1] = '\0';
        results[i].token.id = id;
        results[i].token.text = t;
        if (cfg->logits) {
            results[i].logits = malloc(SRVT_VOCAB * sizeof(float));
            if (!results[i].logits) return INF_ERR_NO_MEMORY;
            for (int k = 0; k < SRVT_VOCAB; k++) results[i].logits[k] = (float)(-(k % 7));
            results[i].logits[id] = 5.0f;
            results[i].logits[(id + 1) % SRVT_VOCAB] = 4.0f;
            results[i].n_logits = SRVT_VOCAB;
        }
    }
    return INF_OK;
}

static inf_status srvt_batch(void *impl, const char *const *prompts, size_t n, const inf_generate_config *cfg,
                             inf_cancel *cancel, inf_batch_result *results, inf_error *err)
{
    (void)impl; (void)cancel; (void)err;
    for (size_t i = 0; i < n; i++) {
        char *r = srvt_reverse_dot(prompts[i]);
        size_t len = r ? strlen(r) : 0;
        if ((int)len > cfg->max_tokens) len = (size_t)cfg->max_tokens;
        results[i].tokens = calloc(len ? len : 1, sizeof(inf_token));
        for (size_t k = 0; k < len && results[i].tokens; k++) {
            char *t = malloc(2);
            t[0] = r[k];
            t[1] = 0;
            results[i].tokens[k].id = (unsigned char)r[k];
            results[i].tokens[k].text = t;
        }
        results[i].n_tokens = len;
        free(r);
    }
    return INF_OK;
}

static const char *srvt_type(void *impl) { (void)impl; return "srvtest"; }

static void srvt_info(void *impl, inf_model_info *info)
{
    (void)impl;
    memset(info, 0, sizeof *info);
    info->architecture = "srvtest";
    info->vocab_size = SRVT_VOCAB;
    info->num_layers = 2;
    info->hidden_size = 8;
    info->context_len = 512;
}

static void srvt_metrics(void *impl, inf_metrics *m)
{
    srvt_model *sm = impl;
    pthread_mutex_lock(&sm->mu);
    *m = sm->metrics;
    pthread_mutex_unlock(&sm->mu);
}

static inf_status srvt_tokenize(void *impl, const char *text, size_t len, unsigned flags, int32_t **ids, size_t *n,
                                inf_error *err)
{
    (void)impl; (void)err;
    size_t extra = (flags & INF_TOKENIZE_ADD_SPECIAL) ? 1 : 0;
    int32_t *out = malloc((len + extra + 1) * sizeof *out);
    if (!out) return INF_ERR_NO_MEMORY;
    if (extra) out[0] = SRVT_BOS;
    for (size_t i = 0; i < len; i++) out[extra + i] = (unsigned char)text[i];
    *ids = out;
    *n = len + extra;
    return INF_OK;
}

static inf_status srvt_detokenize(void *impl, const int32_t *ids, size_t n, bool keep_special, char **text,
                                  inf_error *err)
{
    (void)impl;
    char *out = malloc(n * 4 + 1);
    if (!out) return INF_ERR_NO_MEMORY;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= SRVT_VOCAB) {
            free(out);
            inf_error_set(err, INF_ERR_INVALID_ARGUMENT, "srvtest: token id %d is outside the vocabulary", ids[i]);
            return INF_ERR_INVALID_ARGUMENT;
        }
        if (ids[i] < 256) out[at++] = (char)ids[i];
        else if (keep_special) { memcpy(out + at, ids[i] == SRVT_BOS ? "<s>" : "</s>", ids[i] == SRVT_BOS ? 3 : 4); at += ids[i] == SRVT_BOS ? 3 : 4; }
    }
    out[at] = '\0';
    *text = out;
    return INF_OK;
}

static inf_status srvt_render_chat(void *impl, const inf_message *m, size_t n, const char *vars, char **prompt,
                                   inf_error *err)
{
    (void)impl; (void)vars; (void)err;
    *prompt = srvt_render(m, n);
    return *prompt ? INF_OK : INF_ERR_NO_MEMORY;
}

static inf_status srvt_close(void *impl)
{
    pthread_mutex_destroy(&((srvt_model *)impl)->mu);
    free(impl);
    return INF_OK;
}

static const inf_model_ops srvt_ops = {
    .model_type = srvt_type, .info = srvt_info, .start = srvt_start, .classify = srvt_classify,
    .batch_generate = srvt_batch, .metrics = srvt_metrics, .tokenize = srvt_tokenize,
    .detokenize = srvt_detokenize, .render_chat = srvt_render_chat, .close = srvt_close,
};

static bool srvt_available(void *user) { (void)user; return true; }
static bool srvt_probe(void *user, const char *path) { (void)user; return strncmp(path, "srvtest:", 8) == 0; }

static inf_model *srvt_load(void *user, const char *path, const inf_load_config *cfg, inf_error *err)
{
    (void)user; (void)path; (void)cfg;
    srvt_model *m = calloc(1, sizeof *m);
    if (!m) { inf_error_set(err, INF_ERR_NO_MEMORY, "oom"); return NULL; }
    pthread_mutex_init(&m->mu, NULL);
    inf_model *model = inf_model_new(&srvt_ops, m);
    if (!model) srvt_close(m);
    return model;
}

static inf_status srvt_register(void)
{
    inf_backend_desc d = {.name = "srvtest", .available = srvt_available, .probe = srvt_probe, .load_model = srvt_load};
    return inf_register_backend(&d, NULL);
}

/* A loaded srvtest model (registering the backend first). */
static inf_model *srvt_load_model(void)
{
    srvt_register();
    inf_load_config cfg;
    inf_load_config_default(&cfg);
    cfg.backend = "srvtest";
    return inf_load_model("srvtest:model", &cfg, NULL);
}

#endif
