/* backend.c - a complete backend plug-in, as small as one can be: the
 * "shout" backend. Its models are any path ending in ".shout" (the file is
 * never read), and a model answers a prompt with the prompt in capitals,
 * one byte per token; a chat answers the last message the same way.
 *
 * It is what include/inference.h promises a newcomer can write: a shared
 * object exporting inf_plugin_init, reaching the library only through the
 * host table (so it links against nothing), registering one backend whose
 * model implements the required operations (model_type, info, start,
 * close) and leaves the optional ones NULL (the core then answers
 * INF_ERR_UNSUPPORTED for them).
 *
 * Build:  cc -shared -fPIC -I include examples/backend.c -o shout.so
 *         (the build makes it as build/example_backend.so)
 * Use:    INFERENCE_PLUGIN_PATH=./shout.so infer run --backend shout -m any.shout "hello"
 *         -> HELLO
 * (--backend: the automatic choice would give a file path to cpu, whose
 * probe takes every path that is not a URL.) */
#include "inference.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const inf_plugin_host *host;

/* inf_error_set's work, done here: a plug-in calls no library function. */
static void fail(inf_error *err, inf_status status, const char *fmt, ...)
{
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    err->status = status;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* ---- a stream: the bytes still to send ---- */

typedef struct shout_stream {
    char *text;          /* what the answer is */
    size_t pos;
    int max_tokens;      /* from the request's config; <= 0: no limit */
    int emitted;
    inf_cancel *cancel;  /* borrowed from the request */
    char piece[2];       /* the current token's text */
} shout_stream;

static int stream_next(void *state, inf_token *tok, inf_error *err)
{
    shout_stream *s = state;
    inf_status cancelled = host->cancel_status(s->cancel);
    if (cancelled != INF_OK) {
        fail(err, cancelled, "shout: cancelled");
        return -1;
    }
    if (!s->text[s->pos] || (s->max_tokens > 0 && s->emitted >= s->max_tokens)) return 0; /* a normal end */
    s->piece[0] = s->text[s->pos++];
    s->piece[1] = '\0';
    s->emitted++;
    tok->id = (unsigned char)s->piece[0]; /* token ids are bytes */
    tok->text = s->piece;
    return 1;
}

static void stream_free(void *state)
{
    shout_stream *s = state;
    free(s->text);
    free(s);
}

static const inf_stream_ops STREAM_OPS = {stream_next, stream_free, NULL};

/* ---- a model ---- */

static const char *model_type(void *impl)
{
    (void)impl;
    return "shout";
}

static void model_info(void *impl, inf_model_info *info)
{
    (void)impl;
    info->architecture = "shout";
    info->vocab_size = 256;
    info->context_len = 4096;
}

static inf_status model_start(void *impl, const inf_request *req, const inf_stream_ops **ops, void **state,
                              inf_error *err)
{
    (void)impl;
    const char *src = req->prompt;
    if (!src) src = req->n_messages ? req->messages[req->n_messages - 1].content : "";
    shout_stream *s = calloc(1, sizeof *s);
    char *text = s ? malloc(strlen(src) + 1) : NULL;
    if (!text) {
        free(s);
        fail(err, INF_ERR_NO_MEMORY, "shout: out of memory");
        return INF_ERR_NO_MEMORY;
    }
    size_t i = 0;
    for (; src[i]; i++) text[i] = (char)toupper((unsigned char)src[i]);
    text[i] = '\0';
    s->text = text;
    s->max_tokens = req->cfg->max_tokens;
    s->cancel = req->cancel;
    *ops = &STREAM_OPS;
    *state = s;
    return INF_OK;
}

static inf_status model_close(void *impl)
{
    (void)impl;
    return INF_OK;
}

static const inf_model_ops MODEL_OPS = {
    .model_type = model_type,
    .info = model_info,
    .start = model_start,
    .close = model_close,
};

/* ---- the backend ---- */

static bool backend_available(void *user)
{
    (void)user;
    return true;
}

static bool backend_probe(void *user, const char *path)
{
    (void)user;
    size_t n = strlen(path);
    return n > 6 && strcmp(path + n - 6, ".shout") == 0;
}

static inf_model *backend_load(void *user, const char *path, const inf_load_config *cfg, inf_error *err)
{
    (void)user;
    (void)cfg;
    if (!backend_probe(NULL, path)) {
        fail(err, INF_ERR_UNSUPPORTED, "shout: %s is not a .shout model", path);
        return NULL;
    }
    static int the_model; /* no state: every model is the same */
    inf_model *m = host->model_new(&MODEL_OPS, &the_model);
    if (!m) fail(err, INF_ERR_NO_MEMORY, "shout: out of memory");
    return m;
}

/* The entry point the library looks up when it loads this file. */
inf_status inf_plugin_init(const inf_plugin_host *h, inf_error *err)
{
    if (h->abi_version != INF_PLUGIN_ABI_VERSION) {
        fail(err, INF_ERR_UNSUPPORTED, "shout: built for plug-in ABI %d, library has %d",
                      INF_PLUGIN_ABI_VERSION, h->abi_version);
        return INF_ERR_UNSUPPORTED;
    }
    host = h;
    inf_backend_desc desc = {
        .name = "shout",
        .available = backend_available,
        .probe = backend_probe,
        .load_model = backend_load,
    };
    return host->register_backend(&desc, err);
}
