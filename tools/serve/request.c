/* request.c - parse the server's JSON request bodies into srv_request.
 *
 * Field names follow the OpenAI API (/v1/completions, /v1/chat/completions)
 * and llama.cpp's server (/completion, /tokenize, /detokenize,
 * /apply-template). Fields that are absent keep libinference's defaults
 * (greedy decoding, 256 tokens), so a bare request is deterministic. Fields
 * we do not know are ignored, as both APIs do; a known field of the wrong
 * type or out of range is an error naming it. */
#include "serve/request.h"
#include "base/str.h"

#include "base/error.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A request that does not say what the API asks for: a 400. */
static int fail(inf_error *err, const char *fmt, ...) INF_PRINTF(2, 3);
static int fail(inf_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vfail(err, INF_ERR_INVALID_ARGUMENT, fmt, ap);
    va_end(ap);
    return -1;
}

/* A number field that must be an integer in [lo, hi]; absent or null leaves
 * *out alone. */
static int get_int(const cJSON *obj, const char *name, long lo, long hi, long *out,
                   inf_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble != floor(v->valuedouble))
        return fail(err, "field \"%s\" must be an integer", name);
    if (v->valuedouble < (double)lo || v->valuedouble > (double)hi)
        return fail(err, "field \"%s\" = %.17g is outside [%ld, %ld]", name, v->valuedouble, lo, hi);
    *out = (long)v->valuedouble;
    return 0;
}

static int get_float(const cJSON *obj, const char *name, float *out, inf_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > 1e30)
        return fail(err, "field \"%s\" must be a finite number", name);
    *out = (float)v->valuedouble;
    return 0;
}

static int get_bool(const cJSON *obj, const char *name, bool *out, inf_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsBool(v)) return fail(err, "field \"%s\" must be true or false", name);
    *out = cJSON_IsTrue(v);
    return 0;
}

static int get_string(const cJSON *obj, const char *name, char **out, inf_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsString(v)) return fail(err, "field \"%s\" must be a string", name);
    *out = str_dup(v->valuestring);
    if (!*out) return err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
    return 0;
}

/* An array of token ids (ints in [0, INT32_MAX]). */
static int get_token_array(const cJSON *arr, const char *name, int32_t **out, size_t *n_out,
                           inf_error *err)
{
    int n = cJSON_GetArraySize(arr);
    if (n < 0 || n > SRV_MAX_TOKENS_IN)
        return fail(err, "field \"%s\" holds too many tokens", name);
    int32_t *ids = malloc((size_t)(n > 0 ? n : 1) * sizeof *ids);
    if (!ids) return err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) || e->valuedouble < 0 ||
            e->valuedouble > (double)INT32_MAX) {
            free(ids);
            return fail(err, "field \"%s\" element %d is not a token id", name, i);
        }
        ids[i++] = (int32_t)e->valuedouble;
    }
    *out = ids;
    *n_out = (size_t)i;
    return 0;
}

/* "stop": a string or an array of strings. */
static int parse_stop(const cJSON *obj, srv_request *r, inf_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "stop");
    if (!v || cJSON_IsNull(v)) return 0;
    if (cJSON_IsString(v)) {
        if (!v->valuestring[0]) return 0;
        r->stop = calloc(1, sizeof *r->stop);
        if (!r->stop || !(r->stop[0] = str_dup(v->valuestring))) return err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        r->n_stop = 1;
        return 0;
    }
    if (!cJSON_IsArray(v)) return fail(err, "field \"stop\" must be a string or an array of strings");
    int n = cJSON_GetArraySize(v);
    if (n > SRV_MAX_STOP_STRINGS)
        return fail(err, "field \"stop\" holds %d strings (at most %d)", n, SRV_MAX_STOP_STRINGS);
    r->stop = calloc((size_t)(n > 0 ? n : 1), sizeof *r->stop);
    if (!r->stop) return err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (!cJSON_IsString(e)) return fail(err, "field \"stop\" element %zu is not a string", r->n_stop);
        if (!e->valuestring[0]) continue; /* an empty stop string would stop at once */
        if (!(r->stop[r->n_stop] = str_dup(e->valuestring))) return err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        r->n_stop++;
    }
    return 0;
}

/* The sampling options shared by every completion endpoint. */
static int parse_sampling(const cJSON *obj, srv_request *r, inf_error *err)
{
    inf_generate_config *c = &r->cfg;
    long v;
    if (get_float(obj, "temperature", &c->temperature, err)) return -1;
    if (get_float(obj, "top_p", &c->top_p, err)) return -1;
    if (get_float(obj, "min_p", &c->min_p, err)) return -1;
    if (get_float(obj, "repeat_penalty", &c->repeat_penalty, err)) return -1;
    if (get_float(obj, "repetition_penalty", &c->repeat_penalty, err)) return -1;
    v = c->top_k;
    if (get_int(obj, "top_k", -1, INT_MAX, &v, err)) return -1;
    c->top_k = v < 0 ? 0 : (int)v; /* llama.cpp and vLLM spell "off" as <= 0 or -1 */
    v = c->repeat_last_n;
    if (get_int(obj, "repeat_last_n", -1, INT_MAX, &v, err)) return -1;
    c->repeat_last_n = (int)v;
    /* Clients say "off" with the neutral value; the library says it with 0. */
    if (c->top_p >= 1.0f) c->top_p = 0.0f;
    if (c->temperature < 0.0f) c->temperature = 0.0f;
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(obj, "seed");
    if (seed && !cJSON_IsNull(seed)) {
        if (!cJSON_IsNumber(seed) || seed->valuedouble != floor(seed->valuedouble) || seed->valuedouble < -1 ||
            seed->valuedouble > 18446744073709549568.0)
            return fail(err, "field \"seed\" must be an integer >= -1");
        c->seed = seed->valuedouble < 0 ? INF_SEED_RANDOM : (uint64_t)seed->valuedouble;
    }
    if (parse_stop(obj, r, err)) return -1;
    c->stop_strings = (const char *const *)r->stop;
    c->n_stop_strings = r->n_stop;
    if (get_bool(obj, "stream", &r->stream, err)) return -1;
    return 0;
}

/* OpenAI /v1/completions and llama.cpp /completion prompts: a string, an
 * array holding one string, or an array of token ids. */
static int parse_prompt(const cJSON *obj, srv_request *r, inf_error *err)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(obj, "prompt");
    if (!p) return fail(err, "field \"prompt\" is missing");
    if (cJSON_IsArray(p) && cJSON_GetArraySize(p) == 1 && cJSON_IsString(cJSON_GetArrayItem(p, 0)))
        p = cJSON_GetArrayItem(p, 0);
    if (cJSON_IsString(p)) {
        r->prompt = str_dup(p->valuestring);
        return r->prompt ? 0 : fail(err, "out of memory");
    }
    if (cJSON_IsArray(p)) {
        const cJSON *first = cJSON_GetArrayItem(p, 0);
        if (first && !cJSON_IsNumber(first))
            return fail(err, "field \"prompt\": only one prompt per request is supported");
        return get_token_array(p, "prompt", &r->prompt_tokens, &r->n_prompt_tokens, err);
    }
    return fail(err, "field \"prompt\" must be a string or an array of token ids");
}

/* A chat message's content: a string, null, or an array of parts of which
 * the "text" ones are joined. */
static int parse_content(const cJSON *c, size_t index, char **out, inf_error *err)
{
    if (!c || cJSON_IsNull(c)) { *out = str_dup(""); return *out ? 0 : -1; }
    if (cJSON_IsString(c)) { *out = str_dup(c->valuestring); return *out ? 0 : -1; }
    if (!cJSON_IsArray(c))
        return fail(err, "messages[%zu].content must be a string or an array of parts", index);
    size_t total = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, c) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
        if (!cJSON_IsObject(part) || (type && !cJSON_IsString(type)))
            return fail(err, "messages[%zu].content holds a part that is not an object", index);
        if (type && strcmp(type->valuestring, "text") != 0)
            return fail(err, "messages[%zu].content: part type \"%.40s\" is not supported", index,
                        type->valuestring);
        if (!cJSON_IsString(t)) return fail(err, "messages[%zu].content: a text part lacks \"text\"", index);
        total += strlen(t->valuestring);
    }
    char *s = malloc(total + 1);
    if (!s) return err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
    size_t at = 0;
    cJSON_ArrayForEach(part, c) {
        const char *t = cJSON_GetObjectItemCaseSensitive(part, "text")->valuestring;
        size_t n = strlen(t);
        memcpy(s + at, t, n);
        at += n;
    }
    s[at] = '\0';
    *out = s;
    return 0;
}

static int parse_messages(const cJSON *obj, srv_request *r, inf_error *err)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "messages");
    if (!m) return fail(err, "field \"messages\" is missing");
    if (!cJSON_IsArray(m)) return fail(err, "field \"messages\" must be an array");
    int n = cJSON_GetArraySize(m);
    if (n == 0) return fail(err, "field \"messages\" is empty");
    if (n > SRV_MAX_MESSAGES) return fail(err, "field \"messages\" holds more than %d messages", SRV_MAX_MESSAGES);
    r->messages = calloc((size_t)n, sizeof *r->messages);
    if (!r->messages) return err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
    const cJSON *e;
    cJSON_ArrayForEach(e, m) {
        size_t i = r->n_messages;
        if (!cJSON_IsObject(e)) return fail(err, "messages[%zu] is not an object", i);
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(e, "role");
        if (!cJSON_IsString(role)) return fail(err, "messages[%zu].role must be a string", i);
        char *content = NULL;
        if (parse_content(cJSON_GetObjectItemCaseSensitive(e, "content"), i, &content, err)) {
            if (!content && err && err->status == INF_OK) err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
            return -1;
        }
        char *role_copy = str_dup(role->valuestring);
        if (!role_copy) { free(content); return err_fail(err, INF_ERR_NO_MEMORY, "out of memory"); }
        r->messages[i].role = role_copy;
        r->messages[i].content = content;
        r->n_messages++;
    }
    return 0;
}

/* The number of tokens to generate: max_tokens (OpenAI; chat also accepts
 * max_completion_tokens) or n_predict (llama.cpp, where -1 is unbounded). */
static int parse_max_tokens(const cJSON *obj, srv_request *r, inf_error *err)
{
    long v = r->cfg.max_tokens;
    if (r->endpoint == SRV_EP_NATIVE_COMPLETION) {
        if (get_int(obj, "n_predict", -1, INT_MAX, &v, err)) return -1;
    } else {
        if (get_int(obj, "max_tokens", -1, INT_MAX, &v, err)) return -1;
        if (get_int(obj, "max_completion_tokens", -1, INT_MAX, &v, err)) return -1;
    }
    r->cfg.max_tokens = (int)v;
    return 0;
}

/* Token probabilities: llama.cpp's n_probs; OpenAI completions' integer
 * logprobs; chat's logprobs (bool) with top_logprobs. */
static int parse_probs(const cJSON *obj, srv_request *r, inf_error *err)
{
    long n = 0;
    if (r->endpoint == SRV_EP_NATIVE_COMPLETION) {
        if (get_int(obj, "n_probs", 0, INT_MAX, &n, err)) return -1;
    } else if (r->endpoint == SRV_EP_OAI_COMPLETION) {
        const cJSON *lp = cJSON_GetObjectItemCaseSensitive(obj, "logprobs");
        if (cJSON_IsBool(lp)) n = cJSON_IsTrue(lp) ? 1 : 0;
        else if (get_int(obj, "logprobs", 0, INT_MAX, &n, err)) return -1;
    } else {
        bool want = false;
        if (get_bool(obj, "logprobs", &want, err)) return -1;
        if (want) {
            n = 1;
            if (get_int(obj, "top_logprobs", 0, INT_MAX, &n, err)) return -1;
            if (n == 0) n = 1;
        }
    }
    r->n_probs = n > SRV_MAX_N_PROBS ? SRV_MAX_N_PROBS : (int)n;
    return 0;
}

static int parse_completion_like(const cJSON *obj, srv_request *r, inf_error *err)
{
    if (get_string(obj, "model", &r->model, err)) return -1;
    if (r->endpoint == SRV_EP_OAI_CHAT) {
        if (parse_messages(obj, r, err)) return -1;
    } else if (parse_prompt(obj, r, err)) {
        return -1;
    }
    if (parse_max_tokens(obj, r, err)) return -1;
    if (parse_sampling(obj, r, err)) return -1;
    if (parse_probs(obj, r, err)) return -1;
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(obj, "stream_options");
    if (cJSON_IsObject(so) && get_bool(so, "include_usage", &r->include_usage, err)) return -1;
    return 0;
}

static int parse_tokenize(const cJSON *obj, srv_request *r, inf_error *err)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, "content");
    if (!cJSON_IsString(c)) return fail(err, "field \"content\" must be a string");
    if (!(r->content = str_dup(c->valuestring))) return err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
    r->add_special = false;
    r->parse_special = true; /* llama.cpp's /tokenize default */
    if (get_bool(obj, "add_special", &r->add_special, err)) return -1;
    if (get_bool(obj, "parse_special", &r->parse_special, err)) return -1;
    if (get_bool(obj, "with_pieces", &r->with_pieces, err)) return -1;
    return 0;
}

static int parse_detokenize(const cJSON *obj, srv_request *r, inf_error *err)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "tokens");
    if (!cJSON_IsArray(t)) return fail(err, "field \"tokens\" must be an array of token ids");
    return get_token_array(t, "tokens", &r->tokens, &r->n_tokens, err);
}

/* /v1/classify: {"prompts":[strings], "logits":bool, sampling fields}. */
static int parse_classify(const cJSON *obj, srv_request *r, inf_error *err)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(obj, "prompts");
    if (!cJSON_IsArray(p)) return fail(err, "field \"prompts\" must be an array of strings");
    int n = cJSON_GetArraySize(p);
    if (n <= 0) return fail(err, "field \"prompts\" is empty");
    if (n > SRV_MAX_CLASSIFY_PROMPTS)
        return fail(err, "field \"prompts\" holds %d prompts, more than %d", n, SRV_MAX_CLASSIFY_PROMPTS);
    r->prompts = calloc((size_t)n, sizeof *r->prompts);
    if (!r->prompts) return err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
    const cJSON *e;
    cJSON_ArrayForEach(e, p) {
        if (!cJSON_IsString(e))
            return fail(err, "field \"prompts\"[%zu] must be a string", r->n_prompts);
        if (!(r->prompts[r->n_prompts] = str_dup(e->valuestring))) return err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        r->n_prompts++;
    }
    if (get_bool(obj, "logits", &r->cfg.logits, err)) return -1;
    if (parse_sampling(obj, r, err)) return -1;
    if (r->stream) return fail(err, "field \"stream\": /v1/classify does not stream");
    return 0;
}

int srv_request_parse(srv_endpoint endpoint, const char *body, size_t len, srv_request *out,
                      inf_error *err)
{
    memset(out, 0, sizeof *out);
    out->endpoint = endpoint;
    inf_generate_config_default(&out->cfg);
    inf_error_clear(err);
    if (!body || len == 0) return fail(err, "the request body is empty (a JSON object was expected)");
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, false);
    if (!root) {
        size_t at = end && end >= body && end <= body + len ? (size_t)(end - body) : 0;
        return fail(err, "the request body is not valid JSON (error near byte %zu)", at);
    }
    int rc;
    if (!cJSON_IsObject(root)) {
        rc = fail(err, "the request body must be a JSON object");
    } else {
        switch (endpoint) {
        case SRV_EP_TOKENIZE: rc = parse_tokenize(root, out, err); break;
        case SRV_EP_DETOKENIZE: rc = parse_detokenize(root, out, err); break;
        case SRV_EP_APPLY_TEMPLATE: rc = parse_messages(root, out, err); break;
        case SRV_EP_CLASSIFY: rc = parse_classify(root, out, err); break;
        default: rc = parse_completion_like(root, out, err); break;
        }
    }
    cJSON_Delete(root);
    if (rc) {
        if (err && err->status == INF_OK) err_fail(err, INF_ERR_NO_MEMORY, "out of memory");
        srv_request_free(out);
        out->endpoint = endpoint;
    }
    return rc;
}

void srv_request_free(srv_request *r)
{
    if (!r) return;
    free(r->model);
    free(r->prompt);
    free(r->prompt_tokens);
    for (size_t i = 0; i < r->n_messages; i++) {
        free((char *)r->messages[i].role);
        free((char *)r->messages[i].content);
    }
    free(r->messages);
    for (size_t i = 0; i < r->n_stop; i++) free(r->stop[i]);
    free(r->stop);
    free(r->content);
    free(r->tokens);
    for (size_t i = 0; i < r->n_prompts; i++) free(r->prompts[i]);
    free(r->prompts);
    memset(r, 0, sizeof *r);
}
