/* cli_fake_backend.c - a plug-in for the `infer` CLI tests: a backend named
 * "clifake" whose "models" are any path ending in ".clifake" (the file is not
 * read) and whose behaviour is fully predictable, so the tests can check the
 * CLI's output shapes, streaming order and Ctrl-C handling without the real
 * engine. It reaches the library only through the host table.
 *
 * Behaviour (vocabulary: ids 0..255 are bytes, 256 is BOS "<s>"):
 *   Generate   emits the prompt's bytes back, one token each, then stops
 *              (end of sequence); a prompt starting with "slow" instead emits
 *              "." every 50 ms until max_tokens or cancellation.
 *   Chat       emits "you said: " + the last message's content, a byte per token;
 *              content starting with "slow" behaves like the slow prompt.
 *   Classify   token = byte (prompt length % 26) + 'a'; logits 5 there, 0 elsewhere.
 *   Batch      each prompt's bytes upper-cased, up to max_tokens; a prompt
 *              "fail" ends with INF_ERR_CONTEXT_OVERFLOW.
 *   Tokenize   BOS (with ADD_SPECIAL) then one id per byte; "<s>" is BOS
 *              with PARSE_SPECIAL.
 *   Template   "<|role|>content\n" per message, then "<|assistant|>" unless
 *              vars_json sets "add_generation_prompt": false.
 *   Metrics    token counts of the last operation, rates fixed at 100 tok/s. */
#include "inference.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FAKE_BOS 256
#define FAKE_VOCAB 257

static const inf_plugin_host *host;

typedef struct fake_model {
    inf_metrics metrics;
} fake_model;

typedef struct fake_stream {
    fake_model *model;
    char *text;      /* what to emit */
    size_t pos;
    bool slow;
    int max_tokens;
    int emitted;
    inf_cancel *cancel;
    char piece[2];
} fake_stream;

static void set_err(inf_error *err, inf_status st, const char *msg)
{
    if (!err)
        return;
    err->status = st;
    strncpy(err->message, msg, sizeof err->message - 1);
    err->message[sizeof err->message - 1] = '\0';
}

static void record(fake_model *m, size_t prompt_tokens, int generated)
{
    memset(&m->metrics, 0, sizeof m->metrics);
    m->metrics.prompt_tokens = (int64_t)prompt_tokens;
    m->metrics.generated_tokens = generated;
    m->metrics.prefill_seconds = prompt_tokens / 100.0;
    m->metrics.decode_seconds = generated / 100.0;
    m->metrics.total_seconds = m->metrics.prefill_seconds + m->metrics.decode_seconds;
    m->metrics.prefill_tokens_per_second = 100;
    m->metrics.decode_tokens_per_second = 100;
    m->metrics.peak_memory_bytes = 1 << 20;
    m->metrics.active_memory_bytes = 1 << 20;
}

static int stream_next(void *state, inf_token *tok, inf_error *err)
{
    fake_stream *s = state;
    inf_status cs = host->cancel_status(s->cancel);
    if (cs != INF_OK) {
        set_err(err, cs, cs == INF_ERR_CANCELLED ? "cancelled" : "deadline exceeded");
        return -1;
    }
    if (s->emitted >= s->max_tokens)
        return 0;
    if (s->slow) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if ((cs = host->cancel_status(s->cancel)) != INF_OK) {
            set_err(err, cs, "cancelled");
            return -1;
        }
        s->piece[0] = '.';
    } else {
        if (!s->text[s->pos])
            return 0;
        s->piece[0] = s->text[s->pos++];
    }
    s->piece[1] = '\0';
    tok->id = (unsigned char)s->piece[0];
    tok->text = s->piece;
    s->emitted++;
    record(s->model, strlen(s->text), s->emitted);
    return 1;
}

static void stream_free(void *state)
{
    fake_stream *s = state;
    free(s->text);
    free(s);
}

static const inf_stream_ops fake_stream_ops = {.next = stream_next, .free = stream_free};

static inf_status fake_start(void *impl, const inf_request *req, const inf_stream_ops **ops, void **state,
                             inf_error *err)
{
    fake_stream *s = calloc(1, sizeof *s);
    const char *src;
    if (!s) {
        set_err(err, INF_ERR_NO_MEMORY, "out of memory");
        return INF_ERR_NO_MEMORY;
    }
    if (req->prompt) {
        src = req->prompt;
        s->text = strdup(src);
    } else {
        src = req->n_messages ? req->messages[req->n_messages - 1].content : "";
        size_t n = strlen(src) + 16;
        s->text = malloc(n);
        if (s->text) {
            strcpy(s->text, "you said: ");
            strcat(s->text, src);
        }
    }
    if (!s->text) {
        free(s);
        set_err(err, INF_ERR_NO_MEMORY, "out of memory");
        return INF_ERR_NO_MEMORY;
    }
    s->slow = strncmp(src, "slow", 4) == 0;
    s->model = impl;
    s->max_tokens = req->cfg->max_tokens;
    s->cancel = req->cancel;
    *ops = &fake_stream_ops;
    *state = s;
    return INF_OK;
}

static inf_status fake_classify(void *impl, const char *const *prompts, size_t n, const inf_generate_config *cfg,
                                inf_cancel *cancel, inf_classify_result *results, inf_error *err)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (host->cancel_status(cancel) != INF_OK) {
            set_err(err, INF_ERR_CANCELLED, "cancelled");
            return INF_ERR_CANCELLED;
        }
        char c = (char)('a' + strlen(prompts[i]) % 26);
        char *text = malloc(2);
        if (!text) {
            set_err(err, INF_ERR_NO_MEMORY, "out of memory");
            return INF_ERR_NO_MEMORY;
        }
        text[0] = c;
        text[1] = '\0';
        results[i].token.id = (unsigned char)c;
        results[i].token.text = text;
        if (cfg->logits) {
            results[i].logits = calloc(FAKE_VOCAB, sizeof(float));
            if (!results[i].logits) {
                set_err(err, INF_ERR_NO_MEMORY, "out of memory");
                return INF_ERR_NO_MEMORY;
            }
            results[i].logits[(unsigned char)c] = 5.0f;
            results[i].n_logits = FAKE_VOCAB;
        }
        total += strlen(prompts[i]);
    }
    record(impl, total, 0);
    return INF_OK;
}

static inf_status fake_batch(void *impl, const char *const *prompts, size_t n, const inf_generate_config *cfg,
                             inf_cancel *cancel, inf_batch_result *results, inf_error *err)
{
    int generated = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(prompts[i]);
        if (len > (size_t)cfg->max_tokens)
            len = (size_t)cfg->max_tokens;
        results[i].tokens = calloc(len ? len : 1, sizeof(inf_token));
        if (!results[i].tokens) {
            set_err(err, INF_ERR_NO_MEMORY, "out of memory");
            return INF_ERR_NO_MEMORY;
        }
        for (size_t k = 0; k < len; k++) {
            char *t = malloc(2);
            if (!t)
                break;
            t[0] = (char)toupper((unsigned char)prompts[i][k]);
            t[1] = '\0';
            results[i].tokens[k].id = (unsigned char)t[0];
            results[i].tokens[k].text = t;
            results[i].n_tokens++;
            generated++;
        }
        if (strcmp(prompts[i], "fail") == 0) {
            results[i].status = INF_ERR_CONTEXT_OVERFLOW;
            results[i].error = strdup("clifake: prompt 'fail' does not fit");
        } else if (host->cancel_status(cancel) != INF_OK) {
            results[i].status = INF_ERR_CANCELLED;
            results[i].error = strdup("cancelled");
        }
    }
    record(impl, n, generated);
    return INF_OK;
}

static inf_status fake_tokenize(void *impl, const char *text, size_t len, unsigned flags, int32_t **ids,
                                size_t *n_ids, inf_error *err)
{
    (void)impl;
    int32_t *out = malloc((len + 1) * sizeof *out);
    size_t n = 0;
    if (!out) {
        set_err(err, INF_ERR_NO_MEMORY, "out of memory");
        return INF_ERR_NO_MEMORY;
    }
    if (flags & INF_TOKENIZE_ADD_SPECIAL)
        out[n++] = FAKE_BOS;
    for (size_t i = 0; i < len; i++) {
        if ((flags & INF_TOKENIZE_PARSE_SPECIAL) && i + 3 <= len && memcmp(text + i, "<s>", 3) == 0) {
            out[n++] = FAKE_BOS;
            i += 2;
            continue;
        }
        out[n++] = (unsigned char)text[i];
    }
    *ids = out;
    *n_ids = n;
    return INF_OK;
}

static inf_status fake_detokenize(void *impl, const int32_t *ids, size_t n, bool keep_special, char **text,
                                  inf_error *err)
{
    (void)impl;
    char *out = malloc(n * 3 + 1), *p = out;
    if (!out) {
        set_err(err, INF_ERR_NO_MEMORY, "out of memory");
        return INF_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == FAKE_BOS) {
            if (keep_special)
                memcpy(p, "<s>", 3), p += 3;
        } else if (ids[i] >= 0 && ids[i] < 256) {
            *p++ = (char)ids[i];
        }
    }
    *p = '\0';
    *text = out;
    return INF_OK;
}

static inf_status fake_render(void *impl, const inf_message *messages, size_t n, const char *vars_json,
                              char **prompt, inf_error *err)
{
    (void)impl;
    size_t len = 32;
    for (size_t i = 0; i < n; i++)
        len += strlen(messages[i].role) + strlen(messages[i].content) + 8;
    char *out = malloc(len), *p = out;
    if (!out) {
        set_err(err, INF_ERR_NO_MEMORY, "out of memory");
        return INF_ERR_NO_MEMORY;
    }
    *p = '\0';
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "<|%s|>%s\n", messages[i].role, messages[i].content);
    if (!(vars_json && strstr(vars_json, "\"add_generation_prompt\":false")))
        strcpy(p, "<|assistant|>");
    *prompt = out;
    return INF_OK;
}

static const char *fake_type(void *impl)
{
    (void)impl;
    return "clifake";
}

static void fake_info(void *impl, inf_model_info *info)
{
    (void)impl;
    memset(info, 0, sizeof *info);
    info->architecture = "clifake";
    info->vocab_size = FAKE_VOCAB;
    info->num_layers = 1;
    info->hidden_size = 8;
    info->context_len = 4096;
}

static void fake_metrics(void *impl, inf_metrics *m)
{
    *m = ((fake_model *)impl)->metrics;
}

static inf_status fake_close(void *impl)
{
    free(impl);
    return INF_OK;
}

static const inf_model_ops fake_ops = {
    .model_type = fake_type,
    .info = fake_info,
    .start = fake_start,
    .classify = fake_classify,
    .batch_generate = fake_batch,
    .metrics = fake_metrics,
    .tokenize = fake_tokenize,
    .detokenize = fake_detokenize,
    .render_chat = fake_render,
    .close = fake_close,
};

static bool fake_available(void *user)
{
    (void)user;
    return true;
}

static bool fake_probe(void *user, const char *path)
{
    (void)user;
    size_t n = strlen(path);
    return n > 8 && strcmp(path + n - 8, ".clifake") == 0;
}

static inf_model *fake_load(void *user, const char *path, const inf_load_config *cfg, inf_error *err)
{
    (void)user;
    (void)cfg;
    if (!fake_probe(NULL, path)) {
        set_err(err, INF_ERR_FORMAT, "clifake: not a .clifake path");
        return NULL;
    }
    fake_model *m = calloc(1, sizeof *m);
    if (!m) {
        set_err(err, INF_ERR_NO_MEMORY, "out of memory");
        return NULL;
    }
    inf_model *model = host->model_new(&fake_ops, m);
    if (!model) {
        free(m);
        set_err(err, INF_ERR_NO_MEMORY, "out of memory");
    }
    return model;
}

__attribute__((visibility("default"))) inf_status inf_plugin_init(const inf_plugin_host *h, inf_error *err)
{
    if (h->abi_version != INF_PLUGIN_ABI_VERSION)
        return INF_ERR_UNSUPPORTED;
    host = h;
    inf_backend_desc desc = {
        .name = "clifake",
        .available = fake_available,
        .probe = fake_probe,
        .load_model = fake_load,
    };
    return h->register_backend(&desc, err);
}
