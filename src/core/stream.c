/* stream.c - the pull stream of Generate and Chat (prepare: inf_generate /
 * inf_chat, step: inf_stream_next, finalize: inf_stream_free), its callback
 * form, and stop strings.
 *
 * Stop strings are applied here, for every backend: a token whose text might
 * begin a stop string is held back until the following text rules that out;
 * once a stop string appears, the text before it is emitted (the token where
 * it starts is cut) and the stream ends normally. */
#include "inference.h"
#include "base/error.h"
#include "core/internal.h"
#include "core/model_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct held_token {
    int32_t id;
    char *text;
} held_token;

struct inf_stream {
    inf_model *model;
    inf_cancel *cancel;            /* child of the caller's: fired by free/close */
    const inf_stream_ops *ops;
    void *state;                   /* the backend's stream; NULL if start failed */
    inf_error error;               /* the final status once ended */
    bool ended;

    /* The request, owned: backends borrow it until the stream is freed. */
    inf_generate_config cfg;
    int32_t *stop_tokens;
    char **stop_strings;
    char *prompt;
    inf_message *messages;
    size_t n_messages;

    /* Stop-string state: tokens not yet released, and how many of them may go. */
    held_token *held;
    size_t n_held, cap_held, n_releasable;
    bool stop_found;               /* no more tokens will be pulled */
    char *current_text;            /* text of the token last returned, owned */
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static bool copy_config(inf_stream *s, const inf_generate_config *cfg)
{
    s->cfg = *cfg;
    s->cfg.stop_tokens = NULL;
    s->cfg.stop_strings = NULL;
    if (cfg->n_stop_tokens) {
        s->stop_tokens = malloc(cfg->n_stop_tokens * sizeof *s->stop_tokens);
        if (!s->stop_tokens) return false;
        memcpy(s->stop_tokens, cfg->stop_tokens, cfg->n_stop_tokens * sizeof *s->stop_tokens);
        s->cfg.stop_tokens = s->stop_tokens;
    }
    if (cfg->n_stop_strings) {
        s->stop_strings = calloc(cfg->n_stop_strings, sizeof *s->stop_strings);
        if (!s->stop_strings) return false;
        for (size_t i = 0; i < cfg->n_stop_strings; i++)
            if (!(s->stop_strings[i] = strdup(cfg->stop_strings[i]))) return false;
        s->cfg.stop_strings = (const char *const *)s->stop_strings;
    }
    return true;
}

static bool copy_messages(inf_stream *s, const inf_message *messages, size_t n)
{
    s->messages = calloc(n ? n : 1, sizeof *s->messages);
    if (!s->messages) return false;
    s->n_messages = n;
    for (size_t i = 0; i < n; i++) {
        s->messages[i].role = dup_or_null(messages[i].role ? messages[i].role : "");
        s->messages[i].content = dup_or_null(messages[i].content ? messages[i].content : "");
        if (!s->messages[i].role || !s->messages[i].content) return false;
    }
    return true;
}

static void release_request(inf_stream *s)
{
    free(s->stop_tokens);
    if (s->stop_strings)
        for (size_t i = 0; i < s->cfg.n_stop_strings; i++) free(s->stop_strings[i]);
    free(s->stop_strings);
    free(s->prompt);
    for (size_t i = 0; i < s->n_messages; i++) {
        free((char *)s->messages[i].role);
        free((char *)s->messages[i].content);
    }
    free(s->messages);
}

/* End the stream once, recording its status for inf_model_err. */
static void finish(inf_stream *s, const inf_error *e)
{
    if (s->ended) return;
    s->ended = true;
    if (e) s->error = *e;
    inf_model_record_error(s->model, &s->error);
}

static inf_stream *start(inf_model *model, const char *prompt, const inf_message *messages, size_t n_messages,
                         bool is_chat, const inf_generate_config *cfg, inf_cancel *cancel)
{
    inf_stream *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    inf_error_clear(&s->error);
    if (!model) {
        s->ended = true;
        inf_error_set(&s->error, INF_ERR_INVALID_ARGUMENT, "generate: model is NULL");
        return s;
    }
    s->cancel = inf_cancel_new(cancel);
    if (!s->cancel || !inf_model_track_stream(model, s->cancel)) {
        inf_cancel_free(s->cancel);
        free(s);
        return NULL;
    }
    s->model = model;

    inf_generate_config defaults;
    if (!cfg) {
        inf_generate_config_default(&defaults);
        cfg = &defaults;
    }
    inf_error e;
    if (inf_generate_config_check(cfg, &e) != INF_OK) {
        finish(s, &e);
        return s;
    }
    if (is_chat && n_messages && !messages) {
        inf_error_set(&e, INF_ERR_INVALID_ARGUMENT, "chat: %zu messages but the array is NULL", n_messages);
        finish(s, &e);
        return s;
    }
    bool copied = copy_config(s, cfg) && (is_chat ? copy_messages(s, messages, n_messages)
                                                   : (s->prompt = strdup(prompt ? prompt : "")) != NULL);
    if (!copied) {
        inf_error_set(&e, INF_ERR_NO_MEMORY, "generate: out of memory copying the request");
        finish(s, &e);
        return s;
    }
    if (err_cancelled(inf_cancel_status(s->cancel), &e) != INF_OK) {
        finish(s, &e);
        return s;
    }
    inf_request req = {
        .prompt = is_chat ? NULL : s->prompt,
        .messages = is_chat ? s->messages : NULL,
        .n_messages = is_chat ? s->n_messages : 0,
        .cfg = &s->cfg,
        .cancel = s->cancel,
    };
    inf_error_clear(&e);
    inf_status st = model->ops->start(model->impl, &req, &s->ops, &s->state, &e);
    if (st != INF_OK || !s->ops || !s->state) {
        if (e.status == INF_OK) inf_error_set(&e, st != INF_OK ? st : INF_ERR_INTERNAL, "generate: backend failed to start");
        s->ops = NULL;
        s->state = NULL;
        finish(s, &e);
    }
    return s;
}

inf_stream *inf_generate(inf_model *model, const char *prompt, const inf_generate_config *cfg, inf_cancel *cancel)
{
    return start(model, prompt, NULL, 0, false, cfg, cancel);
}

inf_stream *inf_chat(inf_model *model, const inf_message *messages, size_t n_messages,
                     const inf_generate_config *cfg, inf_cancel *cancel)
{
    return start(model, NULL, messages, n_messages, true, cfg, cancel);
}

/* --- stop strings --------------------------------------------------------- */

static bool hold(inf_stream *s, int32_t id, const char *text)
{
    if (s->n_held == s->cap_held) {
        size_t cap = s->cap_held ? s->cap_held * 2 : 8;
        held_token *grown = realloc(s->held, cap * sizeof *grown);
        if (!grown) return false;
        s->held = grown;
        s->cap_held = cap;
    }
    char *copy = strdup(text ? text : "");
    if (!copy) return false;
    s->held[s->n_held++] = (held_token){id, copy};
    return true;
}

/* The held text, concatenated (caller frees). */
static char *held_text(const inf_stream *s, size_t *len_out)
{
    size_t len = 0;
    for (size_t i = 0; i < s->n_held; i++) len += strlen(s->held[i].text);
    char *buf = malloc(len + 1);
    if (!buf) return NULL;
    size_t at = 0;
    for (size_t i = 0; i < s->n_held; i++) {
        size_t l = strlen(s->held[i].text);
        memcpy(buf + at, s->held[i].text, l);
        at += l;
    }
    buf[at] = '\0';
    *len_out = len;
    return buf;
}

/* Length of the longest suffix of text[0..len) that is a proper prefix of a
 * stop string: those bytes may still grow into a stop string. */
static size_t risky_suffix(const inf_stream *s, const char *text, size_t len)
{
    size_t best = 0;
    for (size_t k = 0; k < s->cfg.n_stop_strings; k++) {
        const char *stop = s->cfg.stop_strings[k];
        size_t stop_len = strlen(stop);
        for (size_t l = stop_len - 1; l > best; l--)
            if (l <= len && memcmp(text + len - l, stop, l) == 0) {
                best = l;
                break;
            }
    }
    return best;
}

/* Decide what may be released after a new token arrived (or the end). */
static bool update_releasable(inf_stream *s, bool at_end)
{
    size_t len = 0;
    char *text = held_text(s, &len);
    if (!text) return false;
    size_t match_at = len;
    for (size_t k = 0; k < s->cfg.n_stop_strings; k++) {
        const char *found = strstr(text, s->cfg.stop_strings[k]);
        if (found && (size_t)(found - text) < match_at) match_at = (size_t)(found - text);
    }
    size_t safe = len;
    if (match_at < len) {
        s->stop_found = true;
        safe = match_at;
    } else if (!at_end) {
        safe = len - risky_suffix(s, text, len);
    }
    free(text);

    /* Release whole tokens inside [0, safe); when a stop string was found, cut
     * the token that straddles it and drop everything after. */
    size_t at = 0, i = 0;
    for (; i < s->n_held; i++) {
        size_t l = strlen(s->held[i].text);
        if (at + l <= safe) {
            at += l;
            continue;
        }
        if (s->stop_found && at < safe) {
            s->held[i].text[safe - at] = '\0';
            i++;
        }
        break;
    }
    if (s->stop_found) {
        for (size_t j = i; j < s->n_held; j++) free(s->held[j].text);
        s->n_held = i;
    }
    s->n_releasable = i;
    return true;
}

static void pop_releasable(inf_stream *s, inf_token *tok)
{
    free(s->current_text);
    s->current_text = s->held[0].text;
    tok->id = s->held[0].id;
    tok->text = s->current_text;
    memmove(s->held, s->held + 1, (s->n_held - 1) * sizeof *s->held);
    s->n_held--;
    s->n_releasable--;
}

/* --- stepping --------------------------------------------------------------- */

/* 1 token, 0 end, -1 error (e set). A cancelled stream ends here even when
 * the backend has tokens generated ahead of the reader: after a cancel
 * (or deadline) no further token is delivered. */
static int pull(inf_stream *s, inf_token *tok, inf_error *e)
{
    inf_error_clear(e);
    if (err_cancelled(inf_cancel_status(s->cancel), e) != INF_OK) return -1;
    int r = s->ops->next(s->state, tok, e);
    if (r < 0 && e->status == INF_OK) inf_error_set(e, INF_ERR_BACKEND, "generate: backend failed");
    return r;
}

bool inf_stream_next(inf_stream *s, inf_token *tok)
{
    if (!s || !tok) return false;
    tok->id = -1;
    tok->text = "";
    if (s->cfg.n_stop_strings == 0) {
        if (s->ended) return false;
        inf_error e;
        int r = pull(s, tok, &e);
        if (r == 1) return true;
        finish(s, r < 0 ? &e : NULL);
        return false;
    }
    for (;;) {
        if (s->n_releasable) {
            pop_releasable(s, tok);
            return true;
        }
        if (s->ended || s->stop_found) {
            finish(s, NULL);
            return false;
        }
        inf_token next;
        inf_error e;
        int r = pull(s, &next, &e);
        if (r == 1) {
            if (!hold(s, next.id, next.text) || !update_releasable(s, false)) {
                inf_error_set(&e, INF_ERR_NO_MEMORY, "generate: out of memory holding stop-string text");
                finish(s, &e);
            }
            continue;
        }
        /* The backend ended: release what is held (it cannot become a stop string). */
        update_releasable(s, true);
        finish(s, r < 0 ? &e : NULL);
    }
}

inf_status inf_stream_status(const inf_stream *s)
{
    return s ? s->error.status : INF_ERR_INVALID_ARGUMENT;
}

const char *inf_stream_error(const inf_stream *s)
{
    return s ? s->error.message : "stream is NULL";
}

inf_status inf_stream_metrics(const inf_stream *s, inf_metrics *metrics)
{
    if (!metrics) return INF_ERR_INVALID_ARGUMENT;
    memset(metrics, 0, sizeof *metrics);
    if (!s || !s->model) return INF_ERR_INVALID_ARGUMENT;
    if (s->ops && s->state && s->ops->metrics)
        s->ops->metrics(s->state, metrics);
    else
        inf_model_metrics(s->model, metrics);
    return INF_OK;
}

void inf_stream_free(inf_stream *s)
{
    if (!s) return;
    if (s->cancel) inf_cancel_trigger(s->cancel);
    if (s->ops && s->state) s->ops->free(s->state);
    for (size_t i = 0; i < s->n_held; i++) free(s->held[i].text);
    free(s->held);
    free(s->current_text);
    release_request(s);
    if (s->model) inf_model_untrack_stream(s->model, s->cancel, NULL);
    inf_cancel_free(s->cancel);
    free(s);
}

/* --- callback form ---------------------------------------------------------- */

static inf_status drain(inf_stream *s, inf_token_callback cb, void *user, inf_error *err)
{
    inf_error_clear(err);
    if (!s) {
        inf_error_set(err, INF_ERR_NO_MEMORY, "generate: out of memory creating the stream");
        return INF_ERR_NO_MEMORY;
    }
    inf_token tok;
    while (inf_stream_next(s, &tok))
        if (cb && cb(&tok, user) != 0) break;
    inf_status st = inf_stream_status(s);
    if (st != INF_OK) inf_error_set(err, st, "%s", inf_stream_error(s));
    inf_stream_free(s);
    return st;
}

inf_status inf_generate_each(inf_model *model, const char *prompt, const inf_generate_config *cfg,
                             inf_cancel *cancel, inf_token_callback cb, void *user, inf_error *err)
{
    return drain(inf_generate(model, prompt, cfg, cancel), cb, user, err);
}

inf_status inf_chat_each(inf_model *model, const inf_message *messages, size_t n_messages,
                         const inf_generate_config *cfg, inf_cancel *cancel, inf_token_callback cb, void *user,
                         inf_error *err)
{
    return drain(inf_chat(model, messages, n_messages, cfg, cancel), cb, user, err);
}
