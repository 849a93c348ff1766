/* generation.c - one completion request from slot to last token: the
 * bounded queue of generation slots, the token source (a stream of the
 * contract, or one Classify for a one-token answer with probabilities),
 * the figures of the answer, and the non-streamed reply. */
#include "serve/server_internal.h"

#include "base/str.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool slot_acquire(inf_server *s)
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

void slot_release(inf_server *s)
{
    pthread_mutex_lock(&s->slot_mu);
    s->slots_free++;
    pthread_cond_signal(&s->slot_cv);
    pthread_mutex_unlock(&s->slot_mu);
}

void busy_message(const inf_server *s, char *msg, size_t size)
{
    snprintf(msg, size, "the server is busy: %d generations running and %d waiting; retry later", s->parallel,
             s->queue_max);
}

/* Top n candidates from raw logits (log-softmax), best first. */
srv_prob *top_probs(inf_model *model, const float *logits, size_t n_logits, int n, int *n_out)
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

void free_probs(srv_prob *p, int n)
{
    if (!p) return;
    for (int i = 0; i < n; i++) free(p[i].text);
    free(p);
}

/* Keep the stream's figures (usage, timings) before the stream goes: the
 * model-wide Metrics() may belong to another request by then. */
void keep_stream_figures(srv_gen *g)
{
    if (!g->stream) return;
    inf_stream_metrics(g->stream, &g->stream_figures);
    g->has_stream_figures = true;
}

void gen_free(srv_gen *g)
{
    if (!g) return;
    if (g->cancel) inf_cancel_trigger(g->cancel);
    keep_stream_figures(g);
    inf_stream_free(g->stream);
    inf_cancel_free(g->cancel);
    if (g->slot_held) slot_release(g->srv);
    if (g->t_start > 0) { /* it generated: count it for /metrics */
        double end = g->t_end > 0 ? g->t_end : srv_now();
        atomic_fetch_add(&g->srv->n_generated_tokens, (long long)g->n_generated);
        atomic_fetch_add(&g->srv->n_prompt_tokens, (long long)g->prompt_n);
        if (end > g->t_start) atomic_fetch_add(&g->srv->gen_usec, (long long)((end - g->t_start) * 1e6));
    }
    srv_request_free(&g->req);
    free(g->ahead_text);
    free(g->error);
    free_probs(g->probs, g->n_probs);
    free(g->first_text);
    buf_free(&g->text);
    free(g->ids);
    buf_free(&g->out);
    free(g);
}

void gen_fail(srv_gen *g, inf_status st, const char *msg)
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
        g->t_first = srv_now();
        g->first_id = id;
        free(g->first_text);
        g->first_text = str_dup_or_empty(text);
    }
    g->n_generated++;
    buf_puts(&g->text, text);
    if (g->text.oom) {
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

int gen_next(srv_gen *g, int32_t *id, const char **text)
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
    g->t_end = srv_now();
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
    g->t_end = srv_now();
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
        busy_message(s, msg, msg_size);
        gen_free(g);
        return NULL;
    }
    g->slot_held = true;
    g->t_start = srv_now();
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

const char *finish_reason(const srv_gen *g)
{
    return g->max_tokens > 0 && g->n_generated >= (size_t)g->max_tokens ? "length" : "stop";
}

void add_timings(cJSON *obj, srv_gen *g, int64_t *prompt_n_out)
{
    inf_metrics m;
    memset(&m, 0, sizeof m);
    if (g->stream)
        inf_stream_metrics(g->stream, &m);
    else if (g->has_stream_figures)
        m = g->stream_figures;
    else
        inf_model_metrics(g->srv->model, &m);
    double end = g->t_end > 0 ? g->t_end : srv_now();
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
const char *prob_text(const srv_gen *g, int i)
{
    /* A lone id detokenizes without its leading space (SentencePiece);
     * the sampled token's text is known exactly, so use it. */
    return g->probs[i].id == g->first_id && g->first_text ? g->first_text : g->probs[i].text;
}

enum MHD_Result answer_generation(inf_server *s, struct MHD_Connection *c, srv_request *req)
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
        cJSON *doc = g->req.endpoint == SRV_EP_NATIVE_COMPLETION ? native_final_document(g) : oai_final_document(g);
        gen_free(g);
        return send_json(c, 200, doc);
    }
    return sse_respond(s, c, g);
}
