/* routes.c - the route table and the endpoints that are one call of the
 * contract (health, models, props, metrics, tokenize, detokenize,
 * apply-template, classify). A new endpoint is one row of ROUTES and its
 * handler; the generation endpoints live in generation.c. */
#include "serve/server_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum MHD_Result answer_health(inf_server *s, struct MHD_Connection *c, srv_request *req)
{
    (void)s;
    (void)req;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    return send_json(c, 200, o);
}

static enum MHD_Result answer_models(inf_server *s, struct MHD_Connection *c, srv_request *req)
{
    (void)req;
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

static enum MHD_Result answer_props(inf_server *s, struct MHD_Connection *c, srv_request *req)
{
    (void)req;
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
        busy_message(s, msg, sizeof msg);
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
    double t0 = srv_now();
    inf_status st = cancel ? inf_classify(s->model, (const char *const *)req->prompts, req->n_prompts, &cfg, cancel,
                                          &res, &e)
                           : INF_ERR_NO_MEMORY;
    inf_cancel_free(cancel);
    slot_release(s);
    atomic_fetch_add(&s->gen_usec, (long long)((srv_now() - t0) * 1e6));
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
static enum MHD_Result answer_metrics(inf_server *s, struct MHD_Connection *c, srv_request *req)
{
    (void)req;
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
             srv_now() - s->t_started);
    return send_text(c, 200, "text/plain; version=0.0.4; charset=utf-8", body);
}

typedef enum MHD_Result (*route_handler)(inf_server *s, struct MHD_Connection *c, srv_request *req);

/* One endpoint: method, path, handler; POST routes also name how their
 * body is parsed (request.h). */
struct route {
    const char *method;
    const char *path;
    route_handler handler;
    srv_endpoint body;
};

static const struct route ROUTES[] = {
    {"GET", "/health", answer_health, 0},
    {"GET", "/v1/health", answer_health, 0},
    {"GET", "/v1/models", answer_models, 0},
    {"GET", "/models", answer_models, 0},
    {"GET", "/props", answer_props, 0},
    {"GET", "/metrics", answer_metrics, 0},
    {"POST", "/v1/completions", answer_generation, SRV_EP_OAI_COMPLETION},
    {"POST", "/completions", answer_generation, SRV_EP_OAI_COMPLETION},
    {"POST", "/v1/chat/completions", answer_generation, SRV_EP_OAI_CHAT},
    {"POST", "/chat/completions", answer_generation, SRV_EP_OAI_CHAT},
    {"POST", "/completion", answer_generation, SRV_EP_NATIVE_COMPLETION},
    {"POST", "/tokenize", answer_tokenize, SRV_EP_TOKENIZE},
    {"POST", "/detokenize", answer_detokenize, SRV_EP_DETOKENIZE},
    {"POST", "/apply-template", answer_apply_template, SRV_EP_APPLY_TEMPLATE},
    {"POST", "/v1/classify", answer_classify, SRV_EP_CLASSIFY},
    {"POST", "/classify", answer_classify, SRV_EP_CLASSIFY},
};

/* The route of (method, path); NULL with *other_method set when the path
 * exists for another method only. */
static const struct route *find_route(const char *method, const char *url, const struct route **other_method)
{
    *other_method = NULL;
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
        if (strcmp(url, ROUTES[i].path) != 0) continue;
        if (!strcmp(method, ROUTES[i].method)) return &ROUTES[i];
        *other_method = &ROUTES[i];
    }
    return NULL;
}

static bool authorized(inf_server *s, struct MHD_Connection *c, const char *url)
{
    if (!s->api_key || !strcmp(url, "/health") || !strcmp(url, "/v1/health")) return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    return h && strncmp(h, "Bearer ", 7) == 0 && strcmp(h + 7, s->api_key) == 0;
}

enum MHD_Result srv_route(inf_server *s, struct MHD_Connection *c, const char *url, const char *method,
                          const char *body, size_t len, bool too_big)
{
    if (!authorized(s, c, url)) return send_error(s, c, 401, "invalid or missing API key");
    const struct route *other, *r = find_route(method, url, &other);
    if (!r) {
        if (!other) return send_error(s, c, 404, "no such endpoint");
        if (!strcmp(method, "GET") || !strcmp(method, "POST")) {
            char msg[64];
            snprintf(msg, sizeof msg, "this endpoint takes %s", other->method);
            return send_error(s, c, 405, msg);
        }
        return send_error(s, c, 405, "method not allowed");
    }
    if (strcmp(r->method, "POST") != 0) return r->handler(s, c, NULL);
    if (too_big) {
        char msg[96];
        snprintf(msg, sizeof msg, "the request body exceeds the limit of %zu bytes", s->max_body);
        return send_error(s, c, 413, msg);
    }
    srv_request req;
    inf_error perr = {0};
    if (srv_request_parse(r->body, body, len, &req, &perr) != 0) return send_error(s, c, 400, perr.message);
    enum MHD_Result rc = r->handler(s, c, &req); /* a generation takes req's contents */
    srv_request_free(&req);
    return rc;
}
