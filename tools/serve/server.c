/* server.c - the HTTP server (see server.h): libmicrohttpd glue, routing,
 * the JSON responses of each endpoint, and token streaming as server-sent
 * events.
 *
 * libmicrohttpd runs one thread per connection, so a handler may block while
 * the model generates; a streamed response is a content-reader callback that
 * pulls the next token from the inf_stream each time the socket wants bytes.
 * When the client goes away MHD stops calling the reader and frees it; the
 * free callback cancels the generation (inf_cancel_trigger) before releasing
 * the stream, so the model stops working for nobody. */
#include "serve/server.h"
#include "base/str.h"
#include "base/error.h"
#include "serve/request.h"

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SRV_DEFAULT_PORT 8080
#define SRV_DEFAULT_MAX_BODY (1u << 20)
#define SRV_DEFAULT_QUEUE 64
#define SRV_RETRY_AFTER "1"  /* seconds a client turned away should wait */

struct inf_server {
    struct MHD_Daemon *daemon;
    inf_model *model;
    char *model_name;
    char *model_path;
    char *api_key;
    size_t max_body;
    int parallel;
    int port;
    inf_cancel *shutdown;        /* parent of every request's cancel */
    pthread_mutex_t slot_mu;     /* counting semaphore of generation slots */
    pthread_cond_t slot_cv;
    int slots_free;
    int waiting;                 /* requests waiting for a slot (guarded by slot_mu) */
    int queue_max;               /* most that may wait */
    atomic_long next_id;
    /* /metrics counters */
    atomic_long n_requests, n_errors, n_rejected;
    atomic_llong n_prompt_tokens, n_generated_tokens;
    atomic_llong gen_usec;       /* wall time spent generating, summed over requests */
    double t_started;
};

/* ---------------------------------------------------------------------- */
/* Small helpers                                                           */
/* ---------------------------------------------------------------------- */

void inf_server_options_default(struct inf_server_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->host = "127.0.0.1";
    opts->port = SRV_DEFAULT_PORT;
    opts->parallel = 1;
    opts->queue = SRV_DEFAULT_QUEUE;
    opts->max_body = SRV_DEFAULT_MAX_BODY;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Take a generation slot, waiting in the bounded queue when all are busy.
 * Returns false at once when the queue is full too (the caller sends 503). */
static bool slot_acquire(inf_server *s)
{
    pthread_mutex_lock(&s->slot_mu);
    if (s->slots_free <= 0 && s->waiting >= s->queue_max) {
        pthread_mutex_unlock(&s->slot_mu);
        atomic_fetch_add(&s->n_rejected, 1);
        return false;
    }
    s->waiting++;
    while (s->slots_free <= 0) pthread_cond_wait(&s->slot_cv, &s->slot_mu);
    s->waiting--;
    s->slots_free--;
    pthread_mutex_unlock(&s->slot_mu);
    return true;
}

static void slot_release(inf_server *s)
{
    pthread_mutex_lock(&s->slot_mu);
    s->slots_free++;
    pthread_cond_signal(&s->slot_cv);
    pthread_mutex_unlock(&s->slot_mu);
}

static int http_status_of(inf_status st)
{
    switch (st) {
    case INF_ERR_INVALID_ARGUMENT:
    case INF_ERR_CONTEXT_OVERFLOW:
    case INF_ERR_TEMPLATE:
    case INF_ERR_FORMAT: return 400;
    case INF_ERR_NOT_FOUND: return 404;
    case INF_ERR_UNSUPPORTED: return 501;
    case INF_ERR_UNAVAILABLE: return 503;
    case INF_ERR_CANCELLED:
    case INF_ERR_DEADLINE_EXCEEDED: return 499;
    default: return 500;
    }
}

static const char *error_type_of(int http_status)
{
    switch (http_status) {
    case 400: case 413: case 405: return "invalid_request_error";
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 501: return "not_supported_error";
    case 503: return "unavailable_error";
    default: return "server_error";
    }
}

/* {"error":{"code":N,"message":"...","type":"..."}} as llama.cpp sends it. */
static cJSON *error_json(int http_status, const char *message)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(root, "error");
    cJSON_AddNumberToObject(e, "code", http_status);
    cJSON_AddStringToObject(e, "message", message ? message : "");
    cJSON_AddStringToObject(e, "type", error_type_of(http_status));
    return root;
}

static enum MHD_Result send_text(struct MHD_Connection *c, int status, const char *type, char *body)
{
    if (!body) {
        static const char oom[] = "{\"error\":{\"code\":500,\"message\":\"out of memory\",\"type\":\"server_error\"}}";
        struct MHD_Response *r = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        MHD_add_response_header(r, "Content-Type", "application/json");
        enum MHD_Result rc = MHD_queue_response(c, 500, r);
        MHD_destroy_response(r);
        return rc;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) { free(body); return MHD_NO; }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    if (status == 503) MHD_add_response_header(r, "Retry-After", SRV_RETRY_AFTER);
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

/* Send a JSON document (consumed). */
static enum MHD_Result send_json(struct MHD_Connection *c, int status, cJSON *doc)
{
    char *body = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    return send_text(c, status, "application/json", body);
}

static enum MHD_Result send_error(inf_server *s, struct MHD_Connection *c, int status, const char *message)
{
    atomic_fetch_add(&s->n_errors, 1);
    return send_json(c, status, error_json(status, message));
}

/* ---------------------------------------------------------------------- */
/* Token probabilities (n_probs) for one-token completions                 */
/* ---------------------------------------------------------------------- */

/* One candidate of the next-token distribution. */
typedef struct srv_prob {
    int32_t id;
    char *text;
    double logprob;
} srv_prob;

/* Top n candidates from raw logits (log-softmax), best first. */
static srv_prob *top_probs(inf_model *model, const float *logits, size_t n_logits, int n, int *n_out)
{
    if (n <= 0 || n_logits == 0) return NULL;
    if ((size_t)n > n_logits) n = (int)n_logits;
    double maxv = -INFINITY;
    for (size_t i = 0; i < n_logits; i++) if (logits[i] > maxv) maxv = logits[i];
    double sum = 0;
    for (size_t i = 0; i < n_logits; i++) sum += exp((double)logits[i] - maxv);
    double lse = maxv + log(sum);
    srv_prob *p = calloc((size_t)n, sizeof *p);
    if (!p) return NULL;
    int have = 0;
    /* Partial selection: n is small (<= SRV_MAX_N_PROBS). */
    for (size_t i = 0; i < n_logits; i++) {
        double lp = (double)logits[i] - lse;
        if (have == n && lp <= p[n - 1].logprob) continue;
        int at = have < n ? have++ : n - 1;
        while (at > 0 && p[at - 1].logprob < lp) { p[at] = p[at - 1]; at--; }
        p[at].id = (int32_t)i;
        p[at].logprob = lp;
    }
    for (int i = 0; i < have; i++) {
        char *t = NULL;
        if (inf_model_detokenize(model, &p[i].id, 1, true, &t, NULL) != INF_OK) t = NULL;
        p[i].text = str_dup_or_empty(t ? t : "");
        inf_free(t);
    }
    *n_out = have;
    return p;
}

static void free_probs(srv_prob *p, int n)
{
    if (!p) return;
    for (int i = 0; i < n; i++) free(p[i].text);
    free(p);
}

/* ---------------------------------------------------------------------- */
/* A generation: where the tokens of one completion request come from      */
/* ---------------------------------------------------------------------- */

typedef struct srv_gen {
    inf_server *srv;
    srv_request req;
    inf_stream *stream;
    inf_metrics stream_figures;   /* the stream's own figures, kept when it is freed */
    bool has_stream_figures;
    inf_cancel *cancel;
    bool slot_held;
    int max_tokens;          /* the effective limit (-1 resolved) */

    /* A token fetched ahead (the first one, fetched before answering so that
     * early failures become HTTP errors), or the one classify produced. */
    bool have_ahead;
    int32_t ahead_id;
    char *ahead_text;
    bool from_classify;      /* the whole generation is that one token */
    bool ended;
    inf_status status;
    char *error;

    srv_prob *probs;         /* top candidates of the first token (n_probs) */
    int n_probs;
    int32_t first_id;
    char *first_text;        /* the first token's text (its piece as the stream gave it) */

    size_t n_generated;
    int64_t prompt_n;        /* prompt tokens, once the timings were read */
    char *text;              /* everything generated (non-streamed answers) */
    size_t text_len, text_cap;
    int32_t *ids;
    size_t n_ids, ids_cap;
    double t_start, t_first, t_end;

    /* Streaming: the bytes of events not yet handed to MHD. */
    char *out;
    size_t out_len, out_pos, out_cap;
    int phase;               /* 0 before the first event, 1 tokens, 2 closing, 3 done */
    char id[48];
    long created;
} srv_gen;

/* Keep the stream's figures (usage, timings) before the stream goes: the
 * model-wide Metrics() may belong to another request by then. */
static void keep_stream_figures(srv_gen *g)
{
    if (!g->stream) return;
    inf_stream_metrics(g->stream, &g->stream_figures);
    g->has_stream_figures = true;
}

static void gen_free(srv_gen *g)
{
    if (!g) return;
    if (g->cancel) inf_cancel_trigger(g->cancel);
    keep_stream_figures(g);
    inf_stream_free(g->stream);
    inf_cancel_free(g->cancel);
    if (g->slot_held) slot_release(g->srv);
    if (g->t_start > 0) { /* it generated: count it for /metrics */
        double end = g->t_end > 0 ? g->t_end : now_seconds();
        atomic_fetch_add(&g->srv->n_generated_tokens, (long long)g->n_generated);
        atomic_fetch_add(&g->srv->n_prompt_tokens, (long long)g->prompt_n);
        if (end > g->t_start) atomic_fetch_add(&g->srv->gen_usec, (long long)((end - g->t_start) * 1e6));
    }
    srv_request_free(&g->req);
    free(g->ahead_text);
    free(g->error);
    free_probs(g->probs, g->n_probs);
    free(g->first_text);
    free(g->text);
    free(g->ids);
    free(g->out);
    free(g);
}

static int append_bytes(char **buf, size_t *len, size_t *cap, const void *src, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        while (*len + n + 1 > c) c *= 2;
        char *b = realloc(*buf, c);
        if (!b) return -1;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, src, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

static void gen_fail(srv_gen *g, inf_status st, const char *msg)
{
    if (g->status != INF_OK) return;
    g->status = st;
    free(g->error);
    g->error = str_dup_or_empty(msg);
}

/* Record a token (text and id) of the answer. */
static void gen_record(srv_gen *g, int32_t id, const char *text)
{
    if (g->n_generated == 0) {
        g->t_first = now_seconds();
        g->first_id = id;
        free(g->first_text);
        g->first_text = str_dup_or_empty(text);
    }
    g->n_generated++;
    if (append_bytes(&g->text, &g->text_len, &g->text_cap, text, strlen(text))) {
        gen_fail(g, INF_ERR_NO_MEMORY, "out of memory");
        return;
    }
    if (g->n_ids == g->ids_cap) {
        size_t c = g->ids_cap ? g->ids_cap * 2 : 64;
        int32_t *p = realloc(g->ids, c * sizeof *p);
        if (!p) { gen_fail(g, INF_ERR_NO_MEMORY, "out of memory"); return; }
        g->ids = p;
        g->ids_cap = c;
    }
    g->ids[g->n_ids++] = id;
}

/* The next token: returns 1 with *id and *text (owned by g, valid until the
 * next call), or 0 at the end (g->status then tells why). */
static int gen_next(srv_gen *g, int32_t *id, const char **text)
{
    if (g->have_ahead) {
        g->have_ahead = false;
        *id = g->ahead_id;
        *text = g->ahead_text;
        gen_record(g, *id, *text);
        return 1;
    }
    if (g->ended || !g->stream) { g->ended = true; return 0; }
    inf_token tok;
    if (inf_stream_next(g->stream, &tok)) {
        free(g->ahead_text);
        g->ahead_text = str_dup_or_empty(tok.text);
        if (!g->ahead_text) { gen_fail(g, INF_ERR_NO_MEMORY, "out of memory"); g->ended = true; return 0; }
        *id = tok.id;
        *text = g->ahead_text;
        gen_record(g, *id, *text);
        return 1;
    }
    g->ended = true;
    g->t_end = now_seconds();
    inf_status st = inf_stream_status(g->stream);
    if (st != INF_OK) gen_fail(g, st, inf_stream_error(g->stream));
    return 0;
}

/* Peek the first token so that failures before any output are answered with
 * an HTTP status rather than an error event. */
static void gen_fetch_ahead(srv_gen *g)
{
    if (g->from_classify || g->have_ahead || g->ended || !g->stream) return;
    inf_token tok;
    if (inf_stream_next(g->stream, &tok)) {
        g->ahead_text = str_dup_or_empty(tok.text);
        if (!g->ahead_text) { gen_fail(g, INF_ERR_NO_MEMORY, "out of memory"); g->ended = true; return; }
        g->ahead_id = tok.id;
        g->have_ahead = true;
        return;
    }
    g->ended = true;
    g->t_end = now_seconds();
    inf_status st = inf_stream_status(g->stream);
    if (st != INF_OK) gen_fail(g, st, inf_stream_error(g->stream));
}

/* n_probs with a one-token completion: classify the prompt with logits, which
 * gives both the greedy/sampled token and its distribution. Returns false
 * when the model cannot (the caller then generates normally, without probs). */
static bool gen_by_classify(srv_gen *g, const char *prompt)
{
    inf_generate_config cfg = g->req.cfg;
    cfg.logits = true;
    cfg.max_tokens = 1;
    inf_classify_result *res = NULL;
    const char *prompts[1] = {prompt};
    if (inf_classify(g->srv->model, prompts, 1, &cfg, g->cancel, &res, NULL) != INF_OK || !res) return false;
    g->from_classify = true;
    g->have_ahead = true;
    g->ahead_id = res[0].token.id;
    g->ahead_text = str_dup_or_empty(res[0].token.text ? res[0].token.text : "");
    g->probs = top_probs(g->srv->model, res[0].logits, res[0].n_logits, g->req.n_probs, &g->n_probs);
    inf_classify_results_free(res, 1);
    g->ended = true;
    if (!g->ahead_text) { g->have_ahead = false; gen_fail(g, INF_ERR_NO_MEMORY, "out of memory"); }
    return true;
}

/* Set up a generation for a parsed completion/chat request (consumed). On
 * failure returns NULL with *http_status and message. */
static srv_gen *gen_start(inf_server *s, srv_request *req, int *http_status, char *msg, size_t msg_size)
{
    srv_gen *g = calloc(1, sizeof *g);
    if (!g) { *http_status = 500; snprintf(msg, msg_size, "out of memory"); srv_request_free(req); return NULL; }
    g->srv = s;
    g->req = *req;
    memset(req, 0, sizeof *req);
    g->req.cfg.stop_strings = (const char *const *)g->req.stop;
    g->created = (long)time(NULL);
    snprintf(g->id, sizeof g->id, "%s-%ld", g->req.endpoint == SRV_EP_OAI_CHAT ? "chatcmpl" : "cmpl",
             atomic_fetch_add(&s->next_id, 1));
    g->cancel = inf_cancel_new(s->shutdown);
    if (!g->cancel) goto oom;

    if (g->req.cfg.max_tokens < 0) {
        inf_model_info info;
        memset(&info, 0, sizeof info);
        inf_model_info_get(s->model, &info);
        g->req.cfg.max_tokens = info.context_len > 0 ? info.context_len : 256;
    }
    g->max_tokens = g->req.cfg.max_tokens;
    inf_error e;
    if (inf_generate_config_check(&g->req.cfg, &e) != INF_OK) {
        *http_status = 400;
        snprintf(msg, msg_size, "%s", e.message);
        gen_free(g);
        return NULL;
    }

    char *token_prompt = NULL;
    if (g->req.prompt_tokens) {
        if (inf_model_detokenize(s->model, g->req.prompt_tokens, g->req.n_prompt_tokens, true, &token_prompt, &e)
            != INF_OK) {
            *http_status = http_status_of(e.status);
            snprintf(msg, msg_size, "prompt tokens: %s", e.message);
            gen_free(g);
            return NULL;
        }
    }
    const char *prompt = token_prompt ? token_prompt : g->req.prompt;

    if (!slot_acquire(s)) {
        inf_free(token_prompt);
        *http_status = 503;
        snprintf(msg, msg_size, "the server is busy: %d generations running and %d waiting; retry later",
                s->parallel, s->queue_max);
        gen_free(g);
        return NULL;
    }
    g->slot_held = true;
    g->t_start = now_seconds();
    bool done = false;
    if (g->req.n_probs > 0 && g->max_tokens == 1 && g->req.endpoint != SRV_EP_OAI_CHAT)
        done = gen_by_classify(g, prompt);
    if (!done) {
        if (g->req.endpoint == SRV_EP_OAI_CHAT)
            g->stream = inf_chat(s->model, g->req.messages, g->req.n_messages, &g->req.cfg, g->cancel);
        else
            g->stream = inf_generate(s->model, prompt, &g->req.cfg, g->cancel);
        inf_free(token_prompt);
        if (!g->stream) goto oom;
        gen_fetch_ahead(g);
    } else {
        inf_free(token_prompt);
    }
    if (g->n_generated == 0 && !g->have_ahead && g->status != INF_OK) {
        *http_status = http_status_of(g->status);
        snprintf(msg, msg_size, "%s", g->error ? g->error : "generation failed");
        gen_free(g);
        return NULL;
    }
    return g;
oom:
    *http_status = 500;
    snprintf(msg, msg_size, "out of memory");
    gen_free(g);
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* Response documents                                                      */
/* ---------------------------------------------------------------------- */

static const char *finish_reason(const srv_gen *g)
{
    return g->max_tokens > 0 && g->n_generated >= (size_t)g->max_tokens ? "length" : "stop";
}

static void add_timings(cJSON *obj, srv_gen *g, int64_t *prompt_n_out)
{
    inf_metrics m;
    memset(&m, 0, sizeof m);
    if (g->stream)
        inf_stream_metrics(g->stream, &m);
    else if (g->has_stream_figures)
        m = g->stream_figures;
    else
        inf_model_metrics(g->srv->model, &m);
    double end = g->t_end > 0 ? g->t_end : now_seconds();
    double first = g->t_first > 0 ? g->t_first : end;
    double prompt_ms = m.prefill_seconds > 0 ? m.prefill_seconds * 1e3 : (first - g->t_start) * 1e3;
    double predicted_ms = m.decode_seconds > 0 ? m.decode_seconds * 1e3 : (end - first) * 1e3;
    cJSON *t = cJSON_AddObjectToObject(obj, "timings");
    cJSON_AddNumberToObject(t, "prompt_n", (double)m.prompt_tokens);
    cJSON_AddNumberToObject(t, "prompt_ms", prompt_ms);
    cJSON_AddNumberToObject(t, "prompt_per_second", prompt_ms > 0 ? (double)m.prompt_tokens * 1e3 / prompt_ms : 0);
    cJSON_AddNumberToObject(t, "predicted_n", (double)g->n_generated);
    cJSON_AddNumberToObject(t, "predicted_ms", predicted_ms);
    cJSON_AddNumberToObject(t, "predicted_per_second",
                            predicted_ms > 0 ? (double)g->n_generated * 1e3 / predicted_ms : 0);
    g->prompt_n = m.prompt_tokens;
    if (prompt_n_out) *prompt_n_out = m.prompt_tokens;
}

/* llama.cpp's completion_probabilities entry for the first token. */
static const char *prob_text(const srv_gen *g, int i)
{
    /* A lone id detokenizes without its leading space (SentencePiece);
     * the sampled token's text is known exactly, so use it. */
    return g->probs[i].id == g->first_id && g->first_text ? g->first_text : g->probs[i].text;
}

static cJSON *native_probs(const srv_gen *g, const char *text)
{
    cJSON *arr = cJSON_CreateArray();
    cJSON *e = cJSON_CreateObject();
    cJSON_AddItemToArray(arr, e);
    double lp = 0;
    for (int i = 0; i < g->n_probs; i++) if (g->probs[i].id == g->first_id) lp = g->probs[i].logprob;
    cJSON_AddNumberToObject(e, "id", g->first_id);
    cJSON_AddStringToObject(e, "token", text);
    cJSON_AddNumberToObject(e, "logprob", lp);
    cJSON *top = cJSON_AddArrayToObject(e, "top_logprobs");
    for (int i = 0; i < g->n_probs; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "id", g->probs[i].id);
        cJSON_AddStringToObject(c, "token", prob_text(g, i));
        cJSON_AddNumberToObject(c, "logprob", g->probs[i].logprob);
        cJSON_AddItemToArray(top, c);
    }
    return arr;
}

/* OpenAI completions' logprobs object for the first token. */
static cJSON *oai_probs(const srv_gen *g, const char *text)
{
    cJSON *o = cJSON_CreateObject();
    double lp = 0;
    for (int i = 0; i < g->n_probs; i++) if (g->probs[i].id == g->first_id) lp = g->probs[i].logprob;
    cJSON_AddItemToObject(o, "tokens", cJSON_CreateStringArray(&text, 1));
    cJSON_AddItemToObject(o, "token_logprobs", cJSON_CreateDoubleArray(&lp, 1));
    cJSON *tops = cJSON_AddArrayToObject(o, "top_logprobs");
    cJSON *top = cJSON_CreateObject();
    for (int i = 0; i < g->n_probs; i++) cJSON_AddNumberToObject(top, prob_text(g, i), g->probs[i].logprob);
    cJSON_AddItemToArray(tops, top);
    int zero = 0;
    cJSON_AddItemToObject(o, "text_offset", cJSON_CreateIntArray(&zero, 1));
    return o;
}

static cJSON *usage_json(const srv_gen *g, int64_t prompt_n)
{
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "prompt_tokens", (double)prompt_n);
    cJSON_AddNumberToObject(u, "completion_tokens", (double)g->n_generated);
    cJSON_AddNumberToObject(u, "total_tokens", (double)(prompt_n + (int64_t)g->n_generated));
    return u;
}

static cJSON *oai_envelope(const srv_gen *g, const char *object)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", g->id);
    cJSON_AddStringToObject(o, "object", object);
    cJSON_AddNumberToObject(o, "created", (double)g->created);
    cJSON_AddStringToObject(o, "model", g->srv->model_name);
    return o;
}

/* The whole answer of a non-streamed request. */
static cJSON *final_document(srv_gen *g)
{
    int64_t prompt_n = 0;
    const char *text = g->text ? g->text : "";
    if (g->req.endpoint == SRV_EP_NATIVE_COMPLETION) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", 0);
        cJSON_AddStringToObject(o, "content", text);
        cJSON_AddItemToObject(o, "tokens", cJSON_CreateIntArray((const int *)g->ids, (int)g->n_ids));
        cJSON_AddNumberToObject(o, "id_slot", -1);
        cJSON_AddBoolToObject(o, "stop", true);
        cJSON_AddStringToObject(o, "model", g->srv->model_name);
        cJSON_AddNumberToObject(o, "tokens_predicted", (double)g->n_generated);
        add_timings(o, g, &prompt_n);
        cJSON_AddNumberToObject(o, "tokens_evaluated", (double)prompt_n);
        cJSON_AddStringToObject(o, "stop_type", strcmp(finish_reason(g), "length") == 0 ? "limit" : "eos");
        cJSON_AddStringToObject(o, "stopping_word", "");
        cJSON_AddBoolToObject(o, "truncated", false);
        if (g->probs && g->n_generated > 0)
            cJSON_AddItemToObject(o, "completion_probabilities",
                                  native_probs(g, g->first_text ? g->first_text : text));
        return o;
    }
    bool chat = g->req.endpoint == SRV_EP_OAI_CHAT;
    cJSON *o = oai_envelope(g, chat ? "chat.completion" : "text_completion");
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", 0);
    if (chat) {
        cJSON *m = cJSON_AddObjectToObject(c, "message");
        cJSON_AddStringToObject(m, "role", "assistant");
        cJSON_AddStringToObject(m, "content", text);
    } else {
        cJSON_AddStringToObject(c, "text", text);
    }
    if (g->probs && !chat) cJSON_AddItemToObject(c, "logprobs", oai_probs(g, text));
    else cJSON_AddNullToObject(c, "logprobs");
    cJSON_AddStringToObject(c, "finish_reason", finish_reason(g));
    add_timings(o, g, &prompt_n);
    cJSON_AddItemToObject(o, "usage", usage_json(g, prompt_n));
    return o;
}

/* ---------------------------------------------------------------------- */
/* Streaming                                                               */
/* ---------------------------------------------------------------------- */

/* Append "data: JSON\n\n" (doc consumed). */
static void emit_event(srv_gen *g, cJSON *doc)
{
    char *json = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!json) { gen_fail(g, INF_ERR_NO_MEMORY, "out of memory"); return; }
    if (append_bytes(&g->out, &g->out_len, &g->out_cap, "data: ", 6) ||
        append_bytes(&g->out, &g->out_len, &g->out_cap, json, strlen(json)) ||
        append_bytes(&g->out, &g->out_len, &g->out_cap, "\n\n", 2))
        gen_fail(g, INF_ERR_NO_MEMORY, "out of memory");
    free(json);
}

static void emit_raw(srv_gen *g, const char *s)
{
    if (append_bytes(&g->out, &g->out_len, &g->out_cap, s, strlen(s)))
        gen_fail(g, INF_ERR_NO_MEMORY, "out of memory");
}

static cJSON *oai_chunk(srv_gen *g, const char *text, const char *finish, bool role)
{
    bool chat = g->req.endpoint == SRV_EP_OAI_CHAT;
    cJSON *o = oai_envelope(g, chat ? "chat.completion.chunk" : "text_completion");
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", 0);
    if (chat) {
        cJSON *d = cJSON_AddObjectToObject(c, "delta");
        if (role) cJSON_AddStringToObject(d, "role", "assistant");
        if (text) cJSON_AddStringToObject(d, "content", text);
    } else {
        cJSON_AddStringToObject(c, "text", text ? text : "");
    }
    if (g->probs && !chat && text && g->n_generated == 1) cJSON_AddItemToObject(c, "logprobs", oai_probs(g, text));
    else cJSON_AddNullToObject(c, "logprobs");
    if (finish) cJSON_AddStringToObject(c, "finish_reason", finish);
    else cJSON_AddNullToObject(c, "finish_reason");
    return o;
}

static void emit_token_event(srv_gen *g, int32_t id, const char *text)
{
    if (g->req.endpoint == SRV_EP_NATIVE_COMPLETION) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", 0);
        cJSON_AddStringToObject(o, "content", text);
        int one = id;
        cJSON_AddItemToObject(o, "tokens", cJSON_CreateIntArray(&one, 1));
        cJSON_AddBoolToObject(o, "stop", false);
        cJSON_AddNumberToObject(o, "id_slot", -1);
        cJSON_AddNumberToObject(o, "tokens_predicted", (double)g->n_generated);
        if (g->probs && g->n_generated == 1) cJSON_AddItemToObject(o, "completion_probabilities", native_probs(g, text));
        emit_event(g, o);
    } else {
        emit_event(g, oai_chunk(g, text, NULL, false));
    }
}

static void emit_error_event(srv_gen *g)
{
    int http = http_status_of(g->status);
    emit_event(g, error_json(http, g->error ? g->error : "generation failed"));
}

static void emit_closing_events(srv_gen *g)
{
    if (g->status != INF_OK) {
        emit_error_event(g);
        if (g->req.endpoint != SRV_EP_NATIVE_COMPLETION) emit_raw(g, "data: [DONE]\n\n");
        return;
    }
    if (g->req.endpoint == SRV_EP_NATIVE_COMPLETION) {
        int64_t prompt_n = 0;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", 0);
        cJSON_AddStringToObject(o, "content", "");
        cJSON_AddItemToObject(o, "tokens", cJSON_CreateArray());
        cJSON_AddBoolToObject(o, "stop", true);
        cJSON_AddNumberToObject(o, "id_slot", -1);
        cJSON_AddStringToObject(o, "model", g->srv->model_name);
        cJSON_AddNumberToObject(o, "tokens_predicted", (double)g->n_generated);
        add_timings(o, g, &prompt_n);
        cJSON_AddNumberToObject(o, "tokens_evaluated", (double)prompt_n);
        cJSON_AddStringToObject(o, "stop_type", strcmp(finish_reason(g), "length") == 0 ? "limit" : "eos");
        cJSON_AddStringToObject(o, "stopping_word", "");
        cJSON_AddBoolToObject(o, "truncated", false);
        emit_event(g, o);
        return;
    }
    int64_t prompt_n = 0;
    cJSON *last = oai_chunk(g, g->req.endpoint == SRV_EP_OAI_CHAT ? NULL : "", finish_reason(g), false);
    add_timings(last, g, &prompt_n);
    emit_event(g, last);
    if (g->req.include_usage) {
        cJSON *u = oai_envelope(g, g->req.endpoint == SRV_EP_OAI_CHAT ? "chat.completion.chunk" : "text_completion");
        cJSON_AddArrayToObject(u, "choices");
        cJSON_AddItemToObject(u, "usage", usage_json(g, prompt_n));
        emit_event(g, u);
    }
    emit_raw(g, "data: [DONE]\n\n");
}

/* Produce the next piece of the event stream into g->out. */
static void stream_produce(srv_gen *g)
{
    if (g->phase == 0) {
        g->phase = 1;
        if (g->req.endpoint == SRV_EP_OAI_CHAT) { emit_event(g, oai_chunk(g, "", NULL, true)); return; }
    }
    if (g->phase == 1) {
        int32_t id;
        const char *text;
        if (g->status == INF_OK && gen_next(g, &id, &text)) {
            emit_token_event(g, id, text);
            return;
        }
        if (g->t_end == 0) g->t_end = now_seconds();
        g->phase = 2;
    }
    if (g->phase == 2) {
        g->phase = 3;
        /* Release the slot and the stream now: the closing events need only
         * figures, and the next request may start. */
        keep_stream_figures(g);
        inf_stream_free(g->stream);
        g->stream = NULL;
        if (g->slot_held) { slot_release(g->srv); g->slot_held = false; }
        emit_closing_events(g);
    }
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    srv_gen *g = cls;
    while (g->out_pos >= g->out_len) {
        g->out_pos = g->out_len = 0;
        if (g->phase == 3) return MHD_CONTENT_READER_END_OF_STREAM;
        stream_produce(g);
    }
    size_t n = g->out_len - g->out_pos;
    if (n > max) n = max;
    memcpy(buf, g->out + g->out_pos, n);
    g->out_pos += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    gen_free(cls);
}

/* Whether the client has gone away (closed or reset its connection): a
 * non-streamed answer checks it between tokens, since nothing is written to
 * the socket until the end. */
static bool client_gone(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return false;
    struct pollfd p = {.fd = ci->connect_fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

static enum MHD_Result answer_generation(inf_server *s, struct MHD_Connection *c, srv_request *req)
{
    int http = 500;
    char msg[INF_ERROR_MESSAGE_MAX + 64];
    msg[0] = '\0';
    bool stream = req->stream;
    srv_gen *g = gen_start(s, req, &http, msg, sizeof msg);
    if (!g) return send_error(s, c, http, msg);
    if (!stream) {
        int32_t id;
        const char *text;
        while (gen_next(g, &id, &text))
            if (client_gone(c)) inf_cancel_trigger(g->cancel);
        if (g->status != INF_OK) {
            enum MHD_Result rc = send_error(s, c, http_status_of(g->status), g->error);
            gen_free(g);
            return rc;
        }
        cJSON *doc = final_document(g);
        gen_free(g);
        return send_json(c, 200, doc);
    }
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_reader, g, stream_free);
    if (!r) { gen_free(g); return send_error(s, c, 500, "out of memory"); }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    enum MHD_Result rc = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* The other endpoints                                                     */
/* ---------------------------------------------------------------------- */

static enum MHD_Result answer_health(struct MHD_Connection *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    return send_json(c, 200, o);
}

static enum MHD_Result answer_models(inf_server *s, struct MHD_Connection *c)
{
    inf_model_info info;
    memset(&info, 0, sizeof info);
    inf_model_info_get(s->model, &info);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(o, "data");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddItemToArray(data, m);
    cJSON_AddStringToObject(m, "id", s->model_name);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddNumberToObject(m, "created", (double)time(NULL));
    cJSON_AddStringToObject(m, "owned_by", "libinference");
    cJSON *meta = cJSON_AddObjectToObject(m, "meta");
    cJSON_AddNumberToObject(meta, "n_vocab", info.vocab_size);
    cJSON_AddNumberToObject(meta, "n_ctx_train", info.context_len);
    cJSON_AddNumberToObject(meta, "n_embd", info.hidden_size);
    cJSON_AddNumberToObject(meta, "n_layer", info.num_layers);
    cJSON_AddStringToObject(meta, "architecture", info.architecture ? info.architecture : inf_model_type(s->model));
    cJSON_AddNumberToObject(meta, "quant_bits", info.quant_bits);
    cJSON_AddNumberToObject(meta, "quant_group", info.quant_group);
    return send_json(c, 200, o);
}

static enum MHD_Result answer_props(inf_server *s, struct MHD_Connection *c)
{
    inf_model_info info;
    memset(&info, 0, sizeof info);
    inf_model_info_get(s->model, &info);
    cJSON *o = cJSON_CreateObject();
    cJSON *d = cJSON_AddObjectToObject(o, "default_generation_settings");
    cJSON_AddNumberToObject(d, "n_ctx", info.context_len);
    cJSON *p = cJSON_AddObjectToObject(d, "params");
    cJSON_AddNumberToObject(p, "n_predict", -1);
    cJSON_AddNumberToObject(p, "temperature", 0);
    cJSON_AddNumberToObject(p, "top_k", 0);
    cJSON_AddNumberToObject(p, "top_p", 1);
    cJSON_AddNumberToObject(o, "total_slots", s->parallel);
    cJSON_AddStringToObject(o, "model_path", s->model_path);
    cJSON_AddStringToObject(o, "model_alias", s->model_name);
    cJSON_AddStringToObject(o, "architecture", info.architecture ? info.architecture : inf_model_type(s->model));
    cJSON_AddNumberToObject(o, "n_vocab", info.vocab_size);
    cJSON_AddNumberToObject(o, "n_layer", info.num_layers);
    cJSON_AddNumberToObject(o, "n_embd", info.hidden_size);
    cJSON_AddStringToObject(o, "build_info", "libinference " INF_VERSION);
    cJSON *mod = cJSON_AddObjectToObject(o, "modalities");
    cJSON_AddBoolToObject(mod, "vision", false);
    return send_json(c, 200, o);
}

/* A piece's text as llama.cpp shows it: a string when it is valid UTF-8,
 * else its bytes. */
static cJSON *piece_json(const char *t)
{
    const unsigned char *p = (const unsigned char *)t;
    size_t n = strlen(t), i = 0;
    bool ok = true;
    while (i < n && ok) {
        unsigned c = p[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n) { ok = false; break; }
        for (size_t k = 1; k < len; k++) if ((p[i + k] & 0xC0) != 0x80) ok = false;
        i += len;
    }
    if (ok) return cJSON_CreateString(t);
    cJSON *a = cJSON_CreateArray();
    for (i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(p[i]));
    return a;
}

static enum MHD_Result answer_tokenize(inf_server *s, struct MHD_Connection *c, srv_request *req)
{
    int32_t *ids = NULL;
    size_t n = 0;
    inf_error e;
    unsigned flags = (req->add_special ? INF_TOKENIZE_ADD_SPECIAL : 0) | (req->parse_special ? INF_TOKENIZE_PARSE_SPECIAL : 0);
    if (inf_model_tokenize(s->model, req->content, strlen(req->content), flags, &ids, &n, &e) != INF_OK)
        return send_error(s, c, http_status_of(e.status), e.message);
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "tokens");
    for (size_t i = 0; i < n; i++) {
        if (!req->with_pieces) { cJSON_AddItemToArray(arr, cJSON_CreateNumber(ids[i])); continue; }
        cJSON *t = cJSON_CreateObject();
        cJSON_AddNumberToObject(t, "id", ids[i]);
        char *piece = NULL;
        if (inf_model_detokenize(s->model, &ids[i], 1, true, &piece, NULL) != INF_OK) piece = NULL;
        cJSON_AddItemToObject(t, "piece", piece_json(piece ? piece : ""));
        inf_free(piece);
        cJSON_AddItemToArray(arr, t);
    }
    inf_free(ids);
    return send_json(c, 200, o);
}

static enum MHD_Result answer_detokenize(inf_server *s, struct MHD_Connection *c, srv_request *req)
{
    char *text = NULL;
    inf_error e;
    if (inf_model_detokenize(s->model, req->tokens, req->n_tokens, false, &text, &e) != INF_OK)
        return send_error(s, c, http_status_of(e.status), e.message);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "content", text ? text : "");
    inf_free(text);
    return send_json(c, 200, o);
}

static enum MHD_Result answer_apply_template(inf_server *s, struct MHD_Connection *c, srv_request *req)
{
    char *prompt = NULL;
    inf_error e;
    if (inf_model_render_chat(s->model, req->messages, req->n_messages, NULL, &prompt, &e) != INF_OK)
        return send_error(s, c, http_status_of(e.status), e.message);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "prompt", prompt ? prompt : "");
    inf_free(prompt);
    return send_json(c, 200, o);
}

/* POST /v1/classify: one Classify over the prompts (it takes a generation
 * slot like any other generation). Each result carries the chosen token, its
 * probability (softmax of the logits at that token, when the backend returned
 * logits, else null) and, on request, the raw logits. */
static enum MHD_Result answer_classify(inf_server *s, struct MHD_Connection *c, srv_request *req)
{
    if (!slot_acquire(s)) {
        char msg[128];
        snprintf(msg, sizeof msg, "the server is busy: %d generations running and %d waiting; retry later",
                 s->parallel, s->queue_max);
        return send_error(s, c, 503, msg);
    }
    bool want_logits = req->cfg.logits;
    inf_generate_config cfg = req->cfg;
    cfg.logits = true; /* the probability needs them */
    cfg.max_tokens = 1;
    inf_classify_result *res = NULL;
    inf_error e;
    memset(&e, 0, sizeof e);
    inf_cancel *cancel = inf_cancel_new(s->shutdown);
    double t0 = now_seconds();
    inf_status st = cancel ? inf_classify(s->model, (const char *const *)req->prompts, req->n_prompts, &cfg, cancel,
                                          &res, &e)
                           : INF_ERR_NO_MEMORY;
    inf_cancel_free(cancel);
    slot_release(s);
    atomic_fetch_add(&s->gen_usec, (long long)((now_seconds() - t0) * 1e6));
    if (st != INF_OK || !res)
        return send_error(s, c, http_status_of(st), e.message[0] ? e.message : "classify failed");
    atomic_fetch_add(&s->n_generated_tokens, (long long)req->n_prompts);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    cJSON_AddStringToObject(o, "model", s->model_name);
    cJSON *data = cJSON_AddArrayToObject(o, "data");
    for (size_t i = 0; i < req->n_prompts; i++) {
        const inf_classify_result *r = &res[i];
        cJSON *d = cJSON_CreateObject();
        cJSON_AddItemToArray(data, d);
        cJSON_AddNumberToObject(d, "index", (double)i);
        cJSON_AddNumberToObject(d, "token", r->token.id);
        cJSON_AddStringToObject(d, "text", r->token.text ? r->token.text : "");
        if (r->logits && r->n_logits > 0 && r->token.id >= 0 && (size_t)r->token.id < r->n_logits) {
            double maxv = -INFINITY, sum = 0;
            for (size_t k = 0; k < r->n_logits; k++) if (r->logits[k] > maxv) maxv = r->logits[k];
            for (size_t k = 0; k < r->n_logits; k++) sum += exp((double)r->logits[k] - maxv);
            cJSON_AddNumberToObject(d, "probability", exp((double)r->logits[r->token.id] - maxv) / sum);
        } else {
            cJSON_AddNullToObject(d, "probability");
        }
        if (want_logits && r->logits) {
            cJSON *l = cJSON_AddArrayToObject(d, "logits");
            for (size_t k = 0; k < r->n_logits && l; k++)
                cJSON_AddItemToArray(l, cJSON_CreateNumber(isfinite(r->logits[k]) ? r->logits[k] : -1e30));
        }
    }
    inf_classify_results_free(res, req->n_prompts);
    return send_json(c, 200, o);
}

/* GET /metrics in Prometheus' text exposition format. */
static enum MHD_Result answer_metrics(inf_server *s, struct MHD_Connection *c)
{
    pthread_mutex_lock(&s->slot_mu);
    int busy = s->parallel - s->slots_free, waiting = s->waiting;
    pthread_mutex_unlock(&s->slot_mu);
    long long gen = atomic_load(&s->n_generated_tokens), usec = atomic_load(&s->gen_usec);
    double tps = usec > 0 ? (double)gen * 1e6 / (double)usec : 0;
    char *body = malloc(4096);
    if (!body) return send_text(c, 500, "application/json", NULL);
    snprintf(body, 4096,
             "# HELP infer_requests_total HTTP requests received.\n# TYPE infer_requests_total counter\n"
             "infer_requests_total %ld\n"
             "# HELP infer_errors_total Requests answered with an error status.\n# TYPE infer_errors_total counter\n"
             "infer_errors_total %ld\n"
             "# HELP infer_rejected_total Requests turned away with 503 because the queue was full.\n"
             "# TYPE infer_rejected_total counter\ninfer_rejected_total %ld\n"
             "# HELP infer_prompt_tokens_total Prompt tokens processed.\n# TYPE infer_prompt_tokens_total counter\n"
             "infer_prompt_tokens_total %lld\n"
             "# HELP infer_generated_tokens_total Tokens generated.\n# TYPE infer_generated_tokens_total counter\n"
             "infer_generated_tokens_total %lld\n"
             "# HELP infer_tokens_per_second Generated tokens per second of generation time (per request, averaged).\n"
             "# TYPE infer_tokens_per_second gauge\ninfer_tokens_per_second %.3f\n"
             "# HELP infer_slots_busy Generation slots in use.\n# TYPE infer_slots_busy gauge\ninfer_slots_busy %d\n"
             "# HELP infer_slots_total Generation slots (--parallel).\n# TYPE infer_slots_total gauge\n"
             "infer_slots_total %d\n"
             "# HELP infer_queue_length Requests waiting for a slot.\n# TYPE infer_queue_length gauge\n"
             "infer_queue_length %d\n"
             "# HELP infer_queue_capacity Most requests that may wait (--queue).\n# TYPE infer_queue_capacity gauge\n"
             "infer_queue_capacity %d\n"
             "# HELP infer_uptime_seconds Seconds since the server started.\n# TYPE infer_uptime_seconds gauge\n"
             "infer_uptime_seconds %.3f\n",
             atomic_load(&s->n_requests), atomic_load(&s->n_errors), atomic_load(&s->n_rejected),
             atomic_load(&s->n_prompt_tokens), gen, tps, busy, s->parallel, waiting, s->queue_max,
             now_seconds() - s->t_started);
    return send_text(c, 200, "text/plain; version=0.0.4; charset=utf-8", body);
}

/* ---------------------------------------------------------------------- */
/* Routing                                                                 */
/* ---------------------------------------------------------------------- */

/* Per-connection upload state. */
typedef struct srv_upload {
    char *body;
    size_t len, cap;
    bool too_big;
} srv_upload;

static bool route_post(const char *url, srv_endpoint *ep)
{
    static const struct { const char *url; srv_endpoint ep; } routes[] = {
        {"/v1/completions", SRV_EP_OAI_COMPLETION}, {"/completions", SRV_EP_OAI_COMPLETION},
        {"/v1/chat/completions", SRV_EP_OAI_CHAT}, {"/chat/completions", SRV_EP_OAI_CHAT},
        {"/completion", SRV_EP_NATIVE_COMPLETION},
        {"/tokenize", SRV_EP_TOKENIZE}, {"/detokenize", SRV_EP_DETOKENIZE},
        {"/apply-template", SRV_EP_APPLY_TEMPLATE},
        {"/v1/classify", SRV_EP_CLASSIFY}, {"/classify", SRV_EP_CLASSIFY},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(url, routes[i].url) == 0) { *ep = routes[i].ep; return true; }
    return false;
}

static bool is_get_route(const char *url)
{
    return !strcmp(url, "/health") || !strcmp(url, "/v1/health") || !strcmp(url, "/v1/models") ||
           !strcmp(url, "/models") || !strcmp(url, "/props") || !strcmp(url, "/metrics");
}

static bool authorized(inf_server *s, struct MHD_Connection *c, const char *url)
{
    if (!s->api_key || !strcmp(url, "/health") || !strcmp(url, "/v1/health")) return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    return h && strncmp(h, "Bearer ", 7) == 0 && strcmp(h + 7, s->api_key) == 0;
}

static enum MHD_Result dispatch(inf_server *s, struct MHD_Connection *c, const char *url, const char *method,
                                srv_upload *up)
{
    if (!authorized(s, c, url)) return send_error(s, c, 401, "invalid or missing API key");
    srv_endpoint ep = SRV_EP_OAI_COMPLETION;
    bool is_post_route = route_post(url, &ep);
    if (!strcmp(method, "GET")) {
        if (!strcmp(url, "/health") || !strcmp(url, "/v1/health")) return answer_health(c);
        if (!strcmp(url, "/v1/models") || !strcmp(url, "/models")) return answer_models(s, c);
        if (!strcmp(url, "/props")) return answer_props(s, c);
        if (!strcmp(url, "/metrics")) return answer_metrics(s, c);
        if (is_post_route) return send_error(s, c, 405, "this endpoint takes POST");
        return send_error(s, c, 404, "no such endpoint");
    }
    if (strcmp(method, "POST") != 0) {
        if (is_post_route || is_get_route(url)) return send_error(s, c, 405, "method not allowed");
        return send_error(s, c, 404, "no such endpoint");
    }
    if (!is_post_route) {
        if (is_get_route(url)) return send_error(s, c, 405, "this endpoint takes GET");
        return send_error(s, c, 404, "no such endpoint");
    }
    if (up->too_big) {
        char msg[96];
        snprintf(msg, sizeof msg, "the request body exceeds the limit of %zu bytes", s->max_body);
        return send_error(s, c, 413, msg);
    }
    srv_request req;
    inf_error perr = {0};
    if (srv_request_parse(ep, up->body, up->len, &req, &perr) != 0) return send_error(s, c, 400, perr.message);
    enum MHD_Result rc;
    switch (ep) {
    case SRV_EP_TOKENIZE: rc = answer_tokenize(s, c, &req); break;
    case SRV_EP_DETOKENIZE: rc = answer_detokenize(s, c, &req); break;
    case SRV_EP_APPLY_TEMPLATE: rc = answer_apply_template(s, c, &req); break;
    case SRV_EP_CLASSIFY: rc = answer_classify(s, c, &req); break;
    default: return answer_generation(s, c, &req); /* consumes req */
    }
    srv_request_free(&req);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    inf_server *s = cls;
    srv_upload *up = *con_cls;
    if (!up) {
        up = calloc(1, sizeof *up);
        if (!up) return MHD_NO;
        *con_cls = up;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end = NULL;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno == 0 && end != cl && n > s->max_body) up->too_big = true;
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (up->too_big || up->len + n > s->max_body) {
            up->too_big = true; /* keep reading to the end, keep nothing */
            return MHD_YES;
        }
        if (up->len + n + 1 > up->cap) {
            size_t cap = up->cap ? up->cap : 4096;
            while (cap < up->len + n + 1) cap *= 2;
            char *b = realloc(up->body, cap);
            if (!b) { up->too_big = true; return MHD_YES; }
            up->body = b;
            up->cap = cap;
        }
        memcpy(up->body + up->len, upload_data, n);
        up->len += n;
        up->body[up->len] = '\0';
        return MHD_YES;
    }
    atomic_fetch_add(&s->n_requests, 1);
    return dispatch(s, c, url, method, up);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls; (void)c; (void)toe;
    srv_upload *up = *con_cls;
    if (up) { free(up->body); free(up); }
    *con_cls = NULL;
}

/* ---------------------------------------------------------------------- */
/* Start and stop                                                          */
/* ---------------------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

static void server_release(inf_server *s)
{
    if (!s) return;
    if (s->shutdown) inf_cancel_trigger(s->shutdown);
    if (s->daemon) MHD_stop_daemon(s->daemon);
    inf_cancel_free(s->shutdown);
    pthread_mutex_destroy(&s->slot_mu);
    pthread_cond_destroy(&s->slot_cv);
    free(s->model_name);
    free(s->model_path);
    free(s->api_key);
    free(s);
}

int inf_server_start(const struct inf_server_options *opts, inf_server **out, inf_error *err)
{
    *out = NULL;
    if (!opts || !opts->model) { err_fail(err, INF_ERR_INVALID_ARGUMENT, "server: no model to serve"); return -1; }
    if (opts->port < 0 || opts->port > 65535) { err_fail(err, INF_ERR_INVALID_ARGUMENT, "server: port %d is out of range", opts->port); return -1; }
    inf_server *s = calloc(1, sizeof *s);
    if (!s) { err_fail(err, INF_ERR_NO_MEMORY, "server: out of memory"); return -1; }
    pthread_mutex_init(&s->slot_mu, NULL);
    pthread_cond_init(&s->slot_cv, NULL);
    s->model = opts->model;
    s->parallel = opts->parallel > 0 ? opts->parallel : 1;
    s->slots_free = s->parallel;
    s->queue_max = opts->queue >= 0 ? opts->queue : SRV_DEFAULT_QUEUE;
    s->t_started = now_seconds();
    s->max_body = opts->max_body ? opts->max_body : SRV_DEFAULT_MAX_BODY;
    const char *path = opts->model_path ? opts->model_path : "";
    s->model_path = str_dup_or_empty(path);
    s->model_name = str_dup_or_empty(opts->model_name && opts->model_name[0] ? opts->model_name
                            : path[0] ? base_name(path) : inf_model_type(opts->model));
    s->api_key = opts->api_key && opts->api_key[0] ? str_dup_or_empty(opts->api_key) : NULL;
    s->shutdown = inf_cancel_new(NULL);
    atomic_init(&s->next_id, 1);
    if (!s->model_path || !s->model_name || !s->shutdown || (opts->api_key && opts->api_key[0] && !s->api_key)) {
        server_release(s);
        err_fail(err, INF_ERR_NO_MEMORY, "server: out of memory");
        return -1;
    }

    const char *host = opts->host && opts->host[0] ? opts->host : "127.0.0.1";
    char port_str[16];
    snprintf(port_str, sizeof port_str, "%d", opts->port);
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, port_str, &hints, &ai);
    if (gai != 0 || !ai) {
        err_fail(err, INF_ERR_FORMAT, "server: cannot resolve host \"%s\": %s", host, gai_strerror(gai));
        server_release(s);
        return -1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(flags, (uint16_t)opts->port, NULL, NULL, on_request, s,
                                 MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)(s->parallel + s->queue_max + 256),
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)600,
                                 MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->daemon) {
        err_fail(err, INF_ERR_FORMAT, "server: cannot listen on %s:%d (address in use or not allowed)", host, opts->port);
        server_release(s);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : opts->port;
    *out = s;
    return 0;
}

int inf_server_port(const inf_server *server)
{
    return server ? server->port : 0;
}

void inf_server_stop(inf_server *server)
{
    server_release(server);
}

int inf_server_run(const struct inf_server_options *opts, void (*on_ready)(int port, void *user), void *user,
                   inf_error *err)
{
    inf_server *s = NULL;
    if (inf_server_start(opts, &s, err) != 0) return -1;
    if (on_ready) on_ready(s->port, user);
    while (inf_cancel_status(opts->stop) == INF_OK) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    inf_server_stop(s);
    return 0;
}
