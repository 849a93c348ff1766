/* xfer.c - one streamed generation request of the llama_cpp backend: the
 * request body in either protocol, and the parsing of the server's event
 * stream into a queue of tokens.
 *
 * Native (llama.cpp /completion): each event is
 *   {"content":"text","tokens":[id,...],"stop":false,...}
 * and the last has "stop":true with "timings". We send return_tokens so that
 * llama.cpp fills "tokens"; when one event carries several ids (llama.cpp
 * holds back text that may begin a stop string or ends mid-character), the
 * first id gets the text and the others "" so that the texts still join up.
 * OpenAI: chunks with choices[0].text (completions) or choices[0].delta.content
 * (chat), finish_reason on the last, an optional usage chunk, then
 * "data: [DONE]". There are no token ids: tokens get id -1.
 * Either protocol may report a failure mid-stream as an event holding
 * "error" (llama.cpp also uses an "error:" field line). */
#include "backends/llama_cpp/lc_internal.h"
#include "base/os.h"
#include "base/error.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LC_MAX_ERR_BODY 65536

/* ---- request bodies ---------------------------------------------------- */

static void add_sampling(cJSON *o, const inf_generate_config *cfg, lc_protocol proto)
{
    /* Send every option explicitly: llama.cpp's own defaults (top_k 40,
     * top_p 0.95, min_p 0.05, temperature 0.8) differ from the contract's. */
    cJSON_AddNumberToObject(o, "temperature", cfg->temperature);
    cJSON_AddNumberToObject(o, "top_p", cfg->top_p > 0 ? cfg->top_p : 1.0);
    if (proto == LC_PROTO_NATIVE) {
        cJSON_AddNumberToObject(o, "top_k", cfg->top_k);
        cJSON_AddNumberToObject(o, "min_p", cfg->min_p);
        cJSON_AddNumberToObject(o, "repeat_penalty", cfg->repeat_penalty > 0 ? cfg->repeat_penalty : 1.0);
        cJSON_AddNumberToObject(o, "repeat_last_n", cfg->repeat_last_n);
    } else {
        /* vLLM rejects top_k 0; send the extensions only when in use. */
        if (cfg->top_k > 0) cJSON_AddNumberToObject(o, "top_k", cfg->top_k);
        if (cfg->min_p > 0) cJSON_AddNumberToObject(o, "min_p", cfg->min_p);
        if (cfg->repeat_penalty > 0) {
            cJSON_AddNumberToObject(o, "repeat_penalty", cfg->repeat_penalty);
            cJSON_AddNumberToObject(o, "repetition_penalty", cfg->repeat_penalty);
        }
    }
    if (cfg->seed != INF_SEED_RANDOM) cJSON_AddNumberToObject(o, "seed", (double)(cfg->seed & 0xFFFFFFFFu));
    if (cfg->n_stop_strings > 0) {
        cJSON *stop = cJSON_AddArrayToObject(o, "stop");
        for (size_t i = 0; i < cfg->n_stop_strings; i++)
            if (cfg->stop_strings[i] && cfg->stop_strings[i][0])
                cJSON_AddItemToArray(stop, cJSON_CreateString(cfg->stop_strings[i]));
    }
}

static char *build_body(const lc_model *m, lc_protocol proto, const char *prompt, const inf_message *messages,
                        size_t n_messages, const inf_generate_config *cfg, int n_probs)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    if (proto == LC_PROTO_NATIVE) {
        cJSON_AddStringToObject(o, "prompt", prompt);
        cJSON_AddNumberToObject(o, "n_predict", cfg->max_tokens);
        cJSON_AddBoolToObject(o, "stream", true);
        cJSON_AddBoolToObject(o, "return_tokens", true);
        cJSON_AddBoolToObject(o, "cache_prompt", true);
        if (n_probs > 0) cJSON_AddNumberToObject(o, "n_probs", n_probs);
    } else {
        if (m->model_name && m->model_name[0]) cJSON_AddStringToObject(o, "model", m->model_name);
        if (messages) {
            cJSON *arr = cJSON_AddArrayToObject(o, "messages");
            for (size_t i = 0; i < n_messages; i++) {
                cJSON *msg = cJSON_CreateObject();
                cJSON_AddStringToObject(msg, "role", messages[i].role ? messages[i].role : "user");
                cJSON_AddStringToObject(msg, "content", messages[i].content ? messages[i].content : "");
                cJSON_AddItemToArray(arr, msg);
            }
        } else {
            cJSON_AddStringToObject(o, "prompt", prompt);
            if (n_probs > 0) cJSON_AddNumberToObject(o, "logprobs", n_probs);
        }
        cJSON_AddNumberToObject(o, "max_tokens", cfg->max_tokens);
        cJSON_AddBoolToObject(o, "stream", true);
        cJSON *so = cJSON_AddObjectToObject(o, "stream_options");
        cJSON_AddBoolToObject(so, "include_usage", true);
    }
    add_sampling(o, cfg, proto);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* ---- the token queue ---------------------------------------------------- */

static void fail(lc_xfer *x, inf_status st, const char *fmt, const char *detail)
{
    if (x->status != INF_OK) return;
    x->status = st;
    snprintf(x->message, sizeof x->message, fmt, detail);
}

static bool is_stop_token(const lc_xfer *x, int32_t id)
{
    for (size_t i = 0; i < x->cfg->n_stop_tokens; i++)
        if (x->cfg->stop_tokens[i] == id) return true;
    return false;
}

/* Queue a token; returns false when the stream must stop here. */
static bool push_token(lc_xfer *x, int32_t id, const char *text)
{
    if (x->stop_local || (x->max_tokens >= 0 && x->n_tokens >= (size_t)x->max_tokens)) return false;
    if (id >= 0 && is_stop_token(x, id)) { x->stop_local = true; return false; }
    if (x->q_len == x->q_cap) {
        if (x->q_head > 0) { /* slide taken tokens out first */
            memmove(x->q, x->q + x->q_head, (x->q_len - x->q_head) * sizeof *x->q);
            x->q_len -= x->q_head;
            x->q_head = 0;
        }
        if (x->q_len == x->q_cap) {
            size_t cap = x->q_cap ? x->q_cap * 2 : 16;
            lc_tok *q = realloc(x->q, cap * sizeof *q);
            if (!q) { fail(x, INF_ERR_NO_MEMORY, "llama_cpp: %s", "out of memory"); return false; }
            x->q = q;
            x->q_cap = cap;
        }
    }
    size_t n = strlen(text);
    char *t = malloc(n + 1);
    if (!t) { fail(x, INF_ERR_NO_MEMORY, "llama_cpp: %s", "out of memory"); return false; }
    memcpy(t, text, n + 1);
    x->q[x->q_len].id = id;
    x->q[x->q_len].text = t;
    x->q_len++;
    x->n_tokens++;
    return true;
}

bool lc_xfer_pop(lc_xfer *x, lc_tok *tok)
{
    if (x->q_head >= x->q_len) return false;
    *tok = x->q[x->q_head++];
    if (x->q_head == x->q_len) x->q_head = x->q_len = 0;
    return true;
}

/* ---- events --------------------------------------------------------------- */

static double num_or(const cJSON *o, const char *name, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static void read_timings(lc_xfer *x, const cJSON *t)
{
    if (!cJSON_IsObject(t)) return;
    x->have_timings = true;
    x->prompt_n = (int64_t)num_or(t, "prompt_n", 0);
    x->prompt_ms = num_or(t, "prompt_ms", 0);
    x->predicted_n = (int64_t)num_or(t, "predicted_n", 0);
    x->predicted_ms = num_or(t, "predicted_ms", 0);
}

static bool event_error(lc_xfer *x, const cJSON *ev)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(ev, "error");
    if (!e) return false;
    const cJSON *msg = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "message") : e;
    fail(x, INF_ERR_BACKEND, "llama_cpp: the server reported an error mid-stream: %s",
         cJSON_IsString(msg) ? msg->valuestring : "(no message)");
    return true;
}

/* Returns false to stop the transfer. */
static bool native_event(lc_xfer *x, const cJSON *ev)
{
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(ev, "content");
    const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(ev, "tokens");
    const cJSON *stop = cJSON_GetObjectItemCaseSensitive(ev, "stop");
    if ((content && !cJSON_IsString(content)) || (tokens && !cJSON_IsArray(tokens)) || (stop && !cJSON_IsBool(stop))) {
        fail(x, INF_ERR_FORMAT, "llama_cpp: malformed /completion event: %s", "a field has the wrong type");
        return false;
    }
    if (!content && !stop) {
        fail(x, INF_ERR_FORMAT, "llama_cpp: malformed /completion event: %s", "neither \"content\" nor \"stop\"");
        return false;
    }
    const cJSON *probs = cJSON_GetObjectItemCaseSensitive(ev, "completion_probabilities");
    if (x->first_prob_id < 0 && cJSON_IsArray(probs)) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(probs, 0), "id");
        if (cJSON_IsNumber(id)) x->first_prob_id = (int32_t)id->valuedouble;
    }
    const char *text = content ? content->valuestring : "";
    int n_ids = tokens ? cJSON_GetArraySize(tokens) : 0;
    bool go_on = true;
    if (n_ids > 0) {
        int i = 0;
        const cJSON *t;
        cJSON_ArrayForEach(t, tokens) {
            if (!cJSON_IsNumber(t)) {
                fail(x, INF_ERR_FORMAT, "llama_cpp: malformed /completion event: %s", "a token id is not a number");
                return false;
            }
            if (go_on) go_on = push_token(x, (int32_t)t->valuedouble, i == 0 ? text : "");
            i++;
        }
    } else if (text[0]) {
        go_on = push_token(x, -1, text);
    }
    if (cJSON_IsTrue(stop)) {
        x->got_final = true;
        read_timings(x, cJSON_GetObjectItemCaseSensitive(ev, "timings"));
        if (!x->have_timings) {
            x->predicted_n = (int64_t)num_or(ev, "tokens_predicted", 0);
            x->prompt_n = (int64_t)num_or(ev, "tokens_evaluated", 0);
        }
        return false;
    }
    (void)go_on; /* a token past max_tokens is dropped; the server ends the stream itself */
    return x->status == INF_OK;
}

static bool openai_event(lc_xfer *x, const cJSON *ev)
{
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(ev, "choices");
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(ev, "usage");
    if (cJSON_IsObject(usage)) {
        x->prompt_n = (int64_t)num_or(usage, "prompt_tokens", 0);
        x->predicted_n = (int64_t)num_or(usage, "completion_tokens", 0);
    }
    read_timings(x, cJSON_GetObjectItemCaseSensitive(ev, "timings"));
    if (!cJSON_IsArray(choices)) {
        if (cJSON_IsObject(usage)) return true;
        fail(x, INF_ERR_FORMAT, "llama_cpp: malformed OpenAI stream chunk: %s", "no \"choices\"");
        return false;
    }
    const cJSON *c = cJSON_GetArrayItem(choices, 0);
    if (!c) return true; /* the usage chunk has no choices */
    const cJSON *text = x->chat ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "delta"), "content")
                                : cJSON_GetObjectItemCaseSensitive(c, "text");
    if (text && !cJSON_IsString(text) && !cJSON_IsNull(text)) {
        fail(x, INF_ERR_FORMAT, "llama_cpp: malformed OpenAI stream chunk: %s", "the text is not a string");
        return false;
    }
    if (cJSON_IsString(text) && text->valuestring[0] && !push_token(x, -1, text->valuestring) && x->status != INF_OK)
        return false;
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(c, "finish_reason");
    if (cJSON_IsString(fr)) x->got_finish = true;
    return true;
}

static int on_event(void *user, const char *data, size_t len, bool is_error)
{
    lc_xfer *x = user;
    if (x->proto == LC_PROTO_OPENAI && len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        x->got_final = true;
        return 1;
    }
    cJSON *ev = cJSON_ParseWithLength(data, len);
    if (!ev || !cJSON_IsObject(ev)) {
        char snippet[80];
        snprintf(snippet, sizeof snippet, "%.60s", data);
        fail(x, INF_ERR_FORMAT, "llama_cpp: the server sent an event that is not a JSON object: %s", snippet);
        cJSON_Delete(ev);
        return 1;
    }
    bool go_on;
    if (event_error(x, ev)) go_on = false;
    else if (is_error) { fail(x, INF_ERR_BACKEND, "llama_cpp: the server reported an error: %s", data); go_on = false; }
    else go_on = x->proto == LC_PROTO_NATIVE ? native_event(x, ev) : openai_event(x, ev);
    cJSON_Delete(ev);
    if (x->stop_local) return 1;
    return go_on ? 0 : 1;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *user)
{
    lc_xfer *x = user;
    size_t n = size * nmemb;
    if (x->http_status == 0) curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->http_status);
    if (x->http_status >= 300) { /* keep the error body for its message */
        size_t keep = x->err_len + n > LC_MAX_ERR_BODY ? LC_MAX_ERR_BODY - x->err_len : n;
        if (keep && x->err_len + keep + 1 > x->err_cap) {
            char *b = realloc(x->err_body, LC_MAX_ERR_BODY + 1);
            if (!b) return 0;
            x->err_body = b;
            x->err_cap = LC_MAX_ERR_BODY + 1;
        }
        if (keep) {
            memcpy(x->err_body + x->err_len, ptr, keep);
            x->err_len += keep;
            x->err_body[x->err_len] = '\0';
        }
        return n;
    }
    if (x->got_final || x->stop_local || x->status != INF_OK) return 0; /* stop reading */
    inf_error e = {0};
    int rc = lc_sse_feed(&x->sse, ptr, n, on_event, x, &e);
    if (rc < 0) { fail(x, e.status, "llama_cpp: %.480s", e.message); return 0; }
    if (rc > 0 && (x->status != INF_OK || x->stop_local)) return 0;
    return n;
}

lc_xfer *lc_xfer_new(const lc_model *m, lc_protocol proto, const char *prompt, const inf_message *messages,
                     size_t n_messages, const inf_generate_config *cfg, int n_probs, inf_error *err)
{
    lc_xfer *x = calloc(1, sizeof *x);
    if (!x) goto oom;
    lc_sse_init(&x->sse);
    x->proto = proto;
    x->chat = messages != NULL;
    x->cfg = cfg;
    x->max_tokens = cfg->max_tokens;
    x->first_prob_id = -1;
    x->t_start_ns = lc_now_ns();
    x->body = build_body(m, proto, prompt, messages, n_messages, cfg, n_probs);
    if (!x->body) goto oom;
    const char *path = proto == LC_PROTO_NATIVE ? "/completion" : x->chat ? "/v1/chat/completions" : "/v1/completions";
    x->easy = lc_easy_new(m, path, &x->headers);
    if (!x->easy) goto oom;
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, (char *)x);
    curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
    return x;
oom:
    lc_xfer_free(x);
    inf_error_set(err, INF_ERR_NO_MEMORY, "llama_cpp: out of memory");
    return NULL;
}

void lc_xfer_free(lc_xfer *x)
{
    if (!x) return;
    if (x->easy) curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x->body);
    lc_sse_free(&x->sse);
    free(x->err_body);
    for (size_t i = x->q_head; i < x->q_len; i++) free(x->q[i].text);
    free(x->q);
    free(x);
}

inf_status lc_xfer_outcome(lc_xfer *x, const lc_model *m, inf_error *err)
{
    if (x->http_status == 0) curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->http_status);
    if (x->status != INF_OK) {
        inf_error_set(err, x->status, "%s", x->message);
        return x->status;
    }
    if (x->http_status >= 300) {
        char msg[400];
        lc_server_message(x->err_body, x->err_len, msg, sizeof msg);
        inf_status st = x->http_status == 404 ? INF_ERR_NOT_FOUND : x->http_status == 400 ? INF_ERR_INVALID_ARGUMENT
                        : INF_ERR_BACKEND;
        inf_error_set(err, st, "llama_cpp: %s answered HTTP %ld: %s", m->root, x->http_status, msg);
        return st;
    }
    if (x->stop_local || x->got_final) { inf_error_clear(err); return INF_OK; }
    if (x->finished && x->result != CURLE_OK && x->result != CURLE_WRITE_ERROR) {
        inf_error_set(err, INF_ERR_UNAVAILABLE, "llama_cpp: the transfer from %s failed: %s", m->root,
                      x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result));
        return INF_ERR_UNAVAILABLE;
    }
    if (x->proto == LC_PROTO_OPENAI && x->got_finish) { inf_error_clear(err); return INF_OK; }
    inf_error_set(err, INF_ERR_FORMAT, "llama_cpp: the event stream from %s ended before its final event%s", m->root,
                  lc_sse_pending(&x->sse) ? " (cut mid-event)" : "");
    return INF_ERR_FORMAT;
}

void lc_record_metrics(lc_model *m, const lc_xfer *x)
{
    inf_metrics mt;
    memset(&mt, 0, sizeof mt);
    mt.prompt_tokens = x->prompt_n;
    mt.generated_tokens = x->predicted_n > 0 ? x->predicted_n : (int64_t)x->n_tokens;
    mt.prefill_seconds = x->prompt_ms / 1e3;
    mt.decode_seconds = x->predicted_ms / 1e3;
    mt.total_seconds = (double)(lc_now_ns() - x->t_start_ns) / 1e9;
    if (mt.prefill_seconds > 0) mt.prefill_tokens_per_second = (double)mt.prompt_tokens / mt.prefill_seconds;
    if (mt.decode_seconds > 0) mt.decode_tokens_per_second = (double)mt.generated_tokens / mt.decode_seconds;
    mt.peak_memory_bytes = os_peak_rss_bytes();
    mt.active_memory_bytes = os_rss_bytes();
    pthread_mutex_lock(&m->mu);
    m->metrics = mt;
    pthread_mutex_unlock(&m->mu);
}
