/* test_backend.c - see test_backend.h. */
#include "test_backend.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int open_models;
static atomic_int destroyed;

int test_backend_open_models(void) { return atomic_load(&open_models); }
int test_backend_destroyed(void) { return atomic_load(&destroyed); }

typedef struct test_user {
    bool available;
    const char *accept_prefix;
} test_user;

typedef struct test_model {
    char *path;
    inf_metrics last;
} test_model;

typedef struct test_stream {
    test_model *model;
    char *text;      /* what to stream, one byte per token */
    size_t at, len;
    int emitted, max_tokens;
    int mode;        /* 0 echo, 1 error after two, 2 slow endless */
    inf_cancel *cancel;
    char piece[2];
} test_stream;

static const char *tm_type(void *impl) { (void)impl; return "test"; }

static void tm_info(void *impl, inf_model_info *info)
{
    (void)impl;
    info->architecture = "test";
    info->vocab_size = 256;
    info->num_layers = 1;
    info->hidden_size = 4;
    info->context_len = 64;
}

static int ts_next(void *state, inf_token *tok, inf_error *err)
{
    test_stream *s = state;
    inf_status st = inf_cancel_status(s->cancel);
    if (st != INF_OK) {
        inf_error_set(err, st, st == INF_ERR_CANCELLED ? "operation cancelled" : "deadline exceeded");
        return -1;
    }
    if (s->emitted >= s->max_tokens) return 0;
    if (s->mode == 1 && s->emitted == 2) {
        inf_error_set(err, INF_ERR_BACKEND, "test backend: induced failure");
        return -1;
    }
    if (s->mode == 2) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
        s->piece[0] = 'x';
    } else {
        if (s->at >= s->len) return 0;
        s->piece[0] = s->text[s->at++];
    }
    s->piece[1] = '\0';
    tok->id = (unsigned char)s->piece[0];
    tok->text = s->piece;
    s->emitted++;
    s->model->last.generated_tokens = s->emitted;
    return 1;
}

static void ts_free(void *state)
{
    test_stream *s = state;
    free(s->text);
    free(s);
}

static const inf_stream_ops test_stream_ops = {.next = ts_next, .free = ts_free};

static char *chat_text(const inf_message *m, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++) len += strlen(m[i].role) + strlen(m[i].content) + 3;
    char *out = malloc(len);
    if (!out) return NULL;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strcat(out, m[i].role);
        strcat(out, ": ");
        strcat(out, m[i].content);
        strcat(out, "\n");
    }
    return out;
}

static inf_status tm_start(void *impl, const inf_request *req, const inf_stream_ops **ops, void **state,
                           inf_error *err)
{
    test_stream *s = calloc(1, sizeof *s);
    if (!s) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "test backend: out of memory");
        return INF_ERR_NO_MEMORY;
    }
    s->model = impl;
    s->cancel = req->cancel;
    s->max_tokens = req->cfg->max_tokens;
    if (req->prompt) {
        if (strncmp(req->prompt, "!error", 6) == 0) s->mode = 1;
        if (strncmp(req->prompt, "!slow", 5) == 0) s->mode = 2;
        s->text = strdup(req->prompt);
    } else {
        s->text = chat_text(req->messages, req->n_messages);
    }
    if (!s->text) {
        free(s);
        inf_error_set(err, INF_ERR_NO_MEMORY, "test backend: out of memory");
        return INF_ERR_NO_MEMORY;
    }
    s->len = strlen(s->text);
    s->model->last.prompt_tokens = (int64_t)s->len;
    *ops = &test_stream_ops;
    *state = s;
    return INF_OK;
}

static inf_status tm_classify(void *impl, const char *const *prompts, size_t n, const inf_generate_config *cfg,
                              inf_cancel *cancel, inf_classify_result *results, inf_error *err)
{
    (void)impl;
    for (size_t i = 0; i < n; i++) {
        inf_status st = inf_cancel_status(cancel);
        if (st != INF_OK) {
            inf_error_set(err, st, "operation cancelled");
            return st;
        }
        char piece[2] = {prompts[i][0], 0};
        results[i].token.id = (unsigned char)prompts[i][0];
        results[i].token.text = strdup(piece);
        if (cfg->logits) {
            results[i].logits = malloc(4 * sizeof(float));
            if (!results[i].logits) return INF_ERR_NO_MEMORY;
            for (int k = 0; k < 4; k++) results[i].logits[k] = (float)k;
            results[i].n_logits = 4;
        }
    }
    return INF_OK;
}

static inf_status tm_batch(void *impl, const char *const *prompts, size_t n, const inf_generate_config *cfg,
                           inf_cancel *cancel, inf_batch_result *results, inf_error *err)
{
    (void)impl;
    (void)err;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(prompts[i], "!error", 6) == 0) {
            results[i].status = INF_ERR_BACKEND;
            results[i].error = strdup("test backend: induced failure");
            continue;
        }
        size_t len = strlen(prompts[i]);
        if ((int)len > cfg->max_tokens) len = (size_t)cfg->max_tokens;
        results[i].tokens = calloc(len ? len : 1, sizeof(inf_token));
        for (size_t t = 0; t < len; t++) {
            if (inf_cancel_status(cancel) != INF_OK) {
                results[i].status = INF_ERR_CANCELLED;
                results[i].error = strdup("operation cancelled");
                break;
            }
            char piece[2] = {prompts[i][t], 0};
            results[i].tokens[t].id = (unsigned char)prompts[i][t];
            results[i].tokens[t].text = strdup(piece);
            results[i].n_tokens++;
        }
    }
    return INF_OK;
}

static void tm_metrics(void *impl, inf_metrics *m)
{
    *m = ((test_model *)impl)->last;
}

static inf_status tm_close(void *impl)
{
    test_model *m = impl;
    free(m->path);
    free(m);
    atomic_fetch_sub(&open_models, 1);
    return INF_OK;
}

static const inf_model_ops test_model_ops = {
    .model_type = tm_type,
    .info = tm_info,
    .start = tm_start,
    .classify = tm_classify,
    .batch_generate = tm_batch,
    .metrics = tm_metrics,
    .close = tm_close,
};

static bool tb_available(void *user) { return ((test_user *)user)->available; }

static bool tb_probe(void *user, const char *path)
{
    const char *prefix = ((test_user *)user)->accept_prefix;
    return strncmp(path, prefix, strlen(prefix)) == 0;
}

static inf_model *tb_load(void *user, const char *path, const inf_load_config *cfg, inf_error *err)
{
    (void)user;
    (void)cfg;
    if (strcmp(path, "missing") == 0) {
        inf_error_set(err, INF_ERR_NOT_FOUND, "test backend: %s: no such model", path);
        return NULL;
    }
    test_model *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        inf_error_set(err, INF_ERR_NO_MEMORY, "test backend: out of memory");
        return NULL;
    }
    inf_model *model = inf_model_new(&test_model_ops, m);
    if (!model) {
        free(m->path);
        free(m);
        return NULL;
    }
    atomic_fetch_add(&open_models, 1);
    return model;
}

static void tb_destroy(void *user)
{
    free(user);
    atomic_fetch_add(&destroyed, 1);
}

inf_backend_desc test_backend_desc(const char *name, bool available, const char *accept_prefix)
{
    test_user *u = calloc(1, sizeof *u);
    if (u) {
        u->available = available;
        u->accept_prefix = accept_prefix;
    }
    inf_backend_desc d = {
        .name = name,
        .available = tb_available,
        .probe = accept_prefix ? tb_probe : NULL,
        .load_model = tb_load,
        .destroy = tb_destroy,
        .user = u,
    };
    return d;
}
