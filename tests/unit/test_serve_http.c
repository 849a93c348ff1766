/* test_serve_http.c - the HTTP server (src/server) end to end, in process,
 * over real sockets, with the deterministic "srvtest" backend: every
 * endpoint in both protocols (OpenAI and llama.cpp-native), streamed and
 * not; n_probs against the known logits; request errors (malformed JSON,
 * wrong types, body too large, unknown path, wrong method, API key);
 * /v1/classify (probabilities against the known logits) and /metrics (the
 * Prometheus format, counters moving by what a request did); the --parallel
 * limit; and that a client hanging up cancels its generation. */
#include "test_util.h"

#if defined(INF_HAVE_MHD) && defined(INF_HAVE_CURL)

#include "inference.h"
#include "serve/server.h"
#include "backends/llama_cpp/sse.h"
#include "srv_test_backend.h"
#include "srv_http_client.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>

static int port;

/* ---- helpers ---- */

typedef struct events {
    cJSON *list;   /* array of parsed data payloads */
    bool done;     /* saw data: [DONE] */
    int bad;       /* payloads that were not JSON */
} events;

static int on_ev(void *user, const char *data, size_t len, bool is_error)
{
    (void)is_error;
    events *e = user;
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) { e->done = true; return 0; }
    cJSON *j = cJSON_ParseWithLength(data, len);
    if (!j) { e->bad++; return 0; }
    cJSON_AddItemToArray(e->list, j);
    return 0;
}

static events parse_events(const http_answer *a)
{
    events e = {cJSON_CreateArray(), false, 0};
    lc_sse p;
    lc_sse_init(&p);
    inf_error err = {0};
    lc_sse_feed(&p, a->body ? a->body : "", a->len, on_ev, &e, &err);
    lc_sse_free(&p);
    return e;
}

static cJSON *post_json(const char *path, const char *body, long *status)
{
    http_answer a = {0};
    http_do(port, path, body, -1, NULL, &a);
    *status = a.status;
    cJSON *j = a.body ? cJSON_Parse(a.body) : NULL;
    http_answer_free(&a);
    return j;
}

static const char *jstr(const cJSON *o, const char *path)
{
    /* path like "choices.0.text" */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = o;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, ".")) {
        if (tok[0] >= '0' && tok[0] <= '9') cur = cJSON_GetArrayItem(cur, atoi(tok));
        else cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    }
    return cJSON_IsString(cur) ? cur->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = o;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, ".")) {
        if (tok[0] >= '0' && tok[0] <= '9') cur = cJSON_GetArrayItem(cur, atoi(tok));
        else cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    }
    return cJSON_IsNumber(cur) ? cur->valuedouble : NAN;
}

/* ---- the tests ---- */

static void test_get_endpoints(void)
{
    http_answer a = {0};
    http_do(port, "/health", NULL, 0, NULL, &a);
    CHECK(a.status == 200);
    CHECK(a.body && strstr(a.body, "\"ok\""));
    http_answer_free(&a);

    http_do(port, "/v1/models", NULL, 0, NULL, &a);
    cJSON *j = cJSON_Parse(a.body ? a.body : "");
    CHECK(a.status == 200);
    CHECK_STREQ(jstr(j, "data.0.id"), "srvtest-model");
    CHECK(jnum(j, "data.0.meta.n_vocab") == SRVT_VOCAB);
    CHECK(jnum(j, "data.0.meta.n_layer") == 2);
    cJSON_Delete(j);
    http_answer_free(&a);

    http_do(port, "/props", NULL, 0, NULL, &a);
    j = cJSON_Parse(a.body ? a.body : "");
    CHECK(a.status == 200);
    CHECK(jnum(j, "default_generation_settings.n_ctx") == 512);
    CHECK(jnum(j, "total_slots") == 2);
    CHECK_STREQ(jstr(j, "architecture"), "srvtest");
    cJSON_Delete(j);
    http_answer_free(&a);
}

static void test_oai_completion(void)
{
    long st;
    cJSON *j = post_json("/v1/completions", "{\"model\":\"x\",\"prompt\":\"abc\",\"max_tokens\":10}", &st);
    CHECK(st == 200);
    CHECK_STREQ(jstr(j, "choices.0.text"), "cba.");
    CHECK_STREQ(jstr(j, "choices.0.finish_reason"), "stop");
    CHECK_STREQ(jstr(j, "object"), "text_completion");
    CHECK(jnum(j, "usage.completion_tokens") == 4);
    CHECK(jnum(j, "usage.prompt_tokens") == 3);
    cJSON_Delete(j);

    j = post_json("/v1/completions", "{\"prompt\":[\"abc\"],\"max_tokens\":2}", &st);
    CHECK(st == 200);
    CHECK_STREQ(jstr(j, "choices.0.text"), "cb");
    CHECK_STREQ(jstr(j, "choices.0.finish_reason"), "length");
    cJSON_Delete(j);

    /* Streamed, with the usage chunk. */
    http_answer a = {0};
    http_do(port, "/v1/completions",
            "{\"prompt\":\"abc\",\"stream\":true,\"stream_options\":{\"include_usage\":true}}", -1, NULL, &a);
    CHECK(a.status == 200);
    events e = parse_events(&a);
    CHECK(e.done);
    CHECK(e.bad == 0);
    char text[64] = "";
    int finish = 0, usage = 0;
    cJSON *ev;
    cJSON_ArrayForEach(ev, e.list) {
        const char *t = jstr(ev, "choices.0.text");
        if (t) strncat(text, t, sizeof text - strlen(text) - 1);
        if (jstr(ev, "choices.0.finish_reason")) finish++;
        if (!isnan(jnum(ev, "usage.completion_tokens"))) { usage++; CHECK(jnum(ev, "usage.completion_tokens") == 4); }
    }
    CHECK_STREQ(text, "cba.");
    CHECK(finish == 1);
    CHECK(usage == 1);
    cJSON_Delete(e.list);
    http_answer_free(&a);
}

static void test_oai_chat(void)
{
    long st;
    cJSON *j = post_json("/v1/chat/completions",
                         "{\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":\"hey\"}]}", &st);
    CHECK(st == 200);
    CHECK_STREQ(jstr(j, "choices.0.message.content"), ">|tnatsissa|<yeh>|resu|<s>|metsys|<.");
    CHECK_STREQ(jstr(j, "choices.0.message.role"), "assistant");
    CHECK_STREQ(jstr(j, "object"), "chat.completion");
    cJSON_Delete(j);

    /* Content given as parts. */
    j = post_json("/v1/chat/completions",
                  "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"ab\"},{\"type\":\"text\",\"text\":\"c\"}]}]}", &st);
    CHECK(st == 200);
    CHECK_STREQ(jstr(j, "choices.0.message.content"), ">|tnatsissa|<cba>|resu|<.");
    cJSON_Delete(j);

    http_answer a = {0};
    http_do(port, "/v1/chat/completions", "{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hey\"}]}", -1,
            NULL, &a);
    CHECK(a.status == 200);
    events e = parse_events(&a);
    CHECK(e.done);
    char text[64] = "";
    bool role_first = false;
    int i = 0;
    cJSON *ev;
    cJSON_ArrayForEach(ev, e.list) {
        if (i++ == 0) role_first = jstr(ev, "choices.0.delta.role") != NULL;
        const char *t = jstr(ev, "choices.0.delta.content");
        if (t) strncat(text, t, sizeof text - strlen(text) - 1);
        CHECK_STREQ(jstr(ev, "object"), "chat.completion.chunk");
    }
    CHECK(role_first);
    CHECK_STREQ(text, ">|tnatsissa|<yeh>|resu|<.");
    cJSON_Delete(e.list);
    http_answer_free(&a);
}

static void test_native_completion(void)
{
    long st;
    cJSON *j = post_json("/completion", "{\"prompt\":\"abc\",\"n_predict\":10}", &st);
    CHECK(st == 200);
    CHECK_STREQ(jstr(j, "content"), "cba.");
    CHECK(jnum(j, "tokens.0") == 'c' && jnum(j, "tokens.3") == '.');
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "stop")));
    CHECK_STREQ(jstr(j, "stop_type"), "eos");
    CHECK(jnum(j, "tokens_predicted") == 4);
    CHECK(!isnan(jnum(j, "timings.predicted_n")));
    cJSON_Delete(j);

    j = post_json("/completion", "{\"prompt\":\"abc\",\"n_predict\":1}", &st);
    CHECK_STREQ(jstr(j, "content"), "c");
    CHECK_STREQ(jstr(j, "stop_type"), "limit");
    cJSON_Delete(j);

    /* Prompt given as token ids. */
    j = post_json("/completion", "{\"prompt\":[120,121],\"n_predict\":5}", &st);
    CHECK(st == 200);
    CHECK_STREQ(jstr(j, "content"), "yx.");
    cJSON_Delete(j);

    http_answer a = {0};
    http_do(port, "/completion", "{\"prompt\":\"abc\",\"stream\":true}", -1, NULL, &a);
    CHECK(a.status == 200);
    events e = parse_events(&a);
    int n = cJSON_GetArraySize(e.list);
    CHECK(n == 5);
    CHECK(jnum(cJSON_GetArrayItem(e.list, 0), "tokens.0") == 'c');
    CHECK_STREQ(jstr(cJSON_GetArrayItem(e.list, 1), "content"), "b");
    cJSON *last = cJSON_GetArrayItem(e.list, n - 1);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(last, "stop")));
    CHECK(jnum(last, "timings.predicted_n") == 4);
    CHECK(!e.done); /* the native protocol has no [DONE] */
    cJSON_Delete(e.list);
    http_answer_free(&a);
}

/* n_probs with one token: the distribution is the softmax of the backend's
 * logits (5 at the answer, 4 at the next id, -(k mod 7) elsewhere). */
static void test_n_probs(void)
{
    double sum = 0;
    for (int k = 0; k < SRVT_VOCAB; k++) {
        double l = k == 'y' ? 5 : k == 'z' ? 4 : -(k % 7);
        sum += exp(l);
    }
    double want_lp = 5 - log(sum);
    long st;
    cJSON *j = post_json("/completion", "{\"prompt\":\"xy\",\"n_predict\":1,\"n_probs\":3}", &st);
    CHECK(st == 200);
    CHECK_STREQ(jstr(j, "content"), "y");
    CHECK(jnum(j, "completion_probabilities.0.id") == 'y');
    CHECK(jnum(j, "completion_probabilities.0.top_logprobs.0.id") == 'y');
    CHECK(jnum(j, "completion_probabilities.0.top_logprobs.1.id") == 'z');
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "completion_probabilities"), 0),
                                                 "top_logprobs")) == 3);
    CHECK_MSG(fabs(jnum(j, "completion_probabilities.0.logprob") - want_lp) < 1e-6, "%g vs %g",
              jnum(j, "completion_probabilities.0.logprob"), want_lp);
    CHECK(fabs(jnum(j, "completion_probabilities.0.top_logprobs.0.logprob") -
               jnum(j, "completion_probabilities.0.top_logprobs.1.logprob") - 1.0) < 1e-6);
    cJSON_Delete(j);

    j = post_json("/v1/completions", "{\"prompt\":\"xy\",\"max_tokens\":1,\"logprobs\":2}", &st);
    CHECK(st == 200);
    CHECK_STREQ(jstr(j, "choices.0.logprobs.tokens.0"), "y");
    CHECK(fabs(jnum(j, "choices.0.logprobs.token_logprobs.0") - want_lp) < 1e-6);
    cJSON_Delete(j);
}

static void test_tokenizer_endpoints(void)
{
    long st;
    cJSON *j = post_json("/tokenize", "{\"content\":\"hi\"}", &st);
    CHECK(st == 200);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "tokens")) == 2 && jnum(j, "tokens.0") == 'h');
    cJSON_Delete(j);
    j = post_json("/tokenize", "{\"content\":\"hi\",\"add_special\":true,\"with_pieces\":true}", &st);
    CHECK(jnum(j, "tokens.0.id") == SRVT_BOS);
    CHECK_STREQ(jstr(j, "tokens.1.piece"), "h");
    cJSON_Delete(j);
    j = post_json("/detokenize", "{\"tokens\":[104,105]}", &st);
    CHECK(st == 200);
    CHECK_STREQ(jstr(j, "content"), "hi");
    cJSON_Delete(j);
    j = post_json("/detokenize", "{\"tokens\":[99999]}", &st);
    CHECK(st == 400);
    CHECK(jstr(j, "error.message") && strstr(jstr(j, "error.message"), "99999"));
    cJSON_Delete(j);
    j = post_json("/apply-template", "{\"messages\":[{\"role\":\"user\",\"content\":\"hey\"}]}", &st);
    CHECK(st == 200);
    CHECK_STREQ(jstr(j, "prompt"), "<|user|>hey<|assistant|>");
    cJSON_Delete(j);
}

static void expect_error(const char *method_path, const char *body, long want, const char *needle)
{
    http_answer a = {0};
    bool get = strncmp(method_path, "GET ", 4) == 0;
    http_do(port, method_path + (get ? 4 : 5), get ? NULL : body, -1, NULL, &a);
    CHECK_MSG(a.status == want, "%s: HTTP %ld, wanted %ld", method_path, a.status, want);
    cJSON *j = a.body ? cJSON_Parse(a.body) : NULL;
    const char *msg = jstr(j, "error.message");
    CHECK_MSG(msg != NULL, "%s: no JSON error body: %s", method_path, a.body ? a.body : "(none)");
    CHECK(jnum(j, "error.code") == want);
    if (needle) CHECK_MSG(msg && strstr(msg, needle), "%s: \"%s\" lacks \"%s\"", method_path, msg ? msg : "", needle);
    cJSON_Delete(j);
    http_answer_free(&a);
}

static void test_errors(void)
{
    expect_error("POST /v1/completions", "{\"prompt\": \"abc\", ", 400, "JSON");
    expect_error("POST /v1/completions", "[1,2]", 400, "object");
    expect_error("POST /v1/completions", "", 400, "empty");
    expect_error("POST /v1/completions", "{\"prompt\":\"a\",\"max_tokens\":\"x\"}", 400, "max_tokens");
    expect_error("POST /v1/completions", "{\"max_tokens\":3}", 400, "prompt");
    expect_error("POST /completion", "{\"prompt\":\"a\",\"n_predict\":-5}", 400, "n_predict");
    expect_error("POST /v1/chat/completions", "{\"messages\":[{\"content\":\"x\"}]}", 400, "role");
    expect_error("POST /v1/chat/completions", "{\"messages\":[]}", 400, "messages");
    expect_error("POST /v1/completions", "{\"prompt\":\"a\",\"top_k\":1.5}", 400, "top_k");
    expect_error("POST /v1/completions", "{\"prompt\":\"a\",\"stop\":[1]}", 400, "stop");
    expect_error("POST /nope", "{}", 404, NULL);
    expect_error("GET /v1/completions", NULL, 405, NULL);
    expect_error("POST /health", "{}", 405, NULL);
    expect_error("POST /v1/completions", "{\"prompt\":\"fail:x\"}", 500, "failure requested");
    /* Body over the limit (4096 in this test). */
    char *big = malloc(10001);
    memset(big, ' ', 10000);
    big[0] = '{';
    big[9999] = '}';
    big[10000] = '\0';
    expect_error("POST /v1/completions", big, 413, "limit");
    free(big);

    /* A failure after some tokens: the stream ends with an error event. */
    http_answer a = {0};
    http_do(port, "/completion", "{\"prompt\":\"fail:x\",\"stream\":true}", -1, NULL, &a);
    CHECK(a.status == 200);
    events e = parse_events(&a);
    cJSON *last = cJSON_GetArrayItem(e.list, cJSON_GetArraySize(e.list) - 1);
    CHECK(cJSON_GetArraySize(e.list) == 3);
    CHECK(jstr(last, "error.message") && strstr(jstr(last, "error.message"), "failure requested"));
    cJSON_Delete(e.list);
    http_answer_free(&a);
}

static void *slow_request(void *arg)
{
    (void)arg;
    http_answer a = {0};
    http_do(port, "/completion", "{\"prompt\":\"slow:\",\"n_predict\":5}", -1, NULL, &a);
    int ok = a.status == 200 && a.body && strstr(a.body, "\"zzzzz\"") != NULL;
    http_answer_free(&a);
    return (void *)(intptr_t)ok;
}

static void test_parallel_limit(void)
{
    atomic_store(&srvt_max_active, 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, slow_request, NULL);
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        ok += (int)(intptr_t)r;
    }
    CHECK(ok == 4);
    CHECK_MSG(atomic_load(&srvt_max_active) == 2, "max concurrent generations %d, --parallel 2",
              atomic_load(&srvt_max_active));
}

static void test_disconnect_cancels(void)
{
    int freed0 = atomic_load(&srvt_streams_freed);
    http_answer a = {0};
    a.chunks_left = 3; /* hang up after three pieces of the stream */
    http_do(port, "/completion", "{\"prompt\":\"slow:\",\"n_predict\":100000,\"stream\":true}", -1, NULL, &a);
    http_answer_free(&a);
    bool cancelled = false;
    for (int i = 0; i < 200 && !cancelled; i++) {
        /* 100000 slow tokens would take half an hour: a stream released
         * within two seconds was stopped because the client went away. */
        cancelled = atomic_load(&srvt_streams_freed) > freed0;
        if (!cancelled) srvt_sleep_ms(10);
    }
    CHECK_MSG(cancelled, "the generation was not cancelled after the client hung up");

    /* The same for a non-streamed answer: the client gives up after 200 ms. */
    freed0 = atomic_load(&srvt_streams_freed);
    a.timeout_ms = 200;
    http_do(port, "/completion", "{\"prompt\":\"slow:\",\"n_predict\":100000}", -1, NULL, &a);
    http_answer_free(&a);
    cancelled = false;
    for (int i = 0; i < 200 && !cancelled; i++) {
        cancelled = atomic_load(&srvt_streams_freed) > freed0;
        if (!cancelled) srvt_sleep_ms(10);
    }
    CHECK_MSG(cancelled, "the non-streamed generation was not cancelled after the client hung up");
}

/* The probability srvtest's classify gives its chosen token: logits are
 * -(k % 7), with 5 at the chosen id and 4 at the next. */
static double srvt_expected_prob(int id)
{
    double sum = 0;
    for (int k = 0; k < SRVT_VOCAB; k++) {
        double l = k == id ? 5.0 : k == (id + 1) % SRVT_VOCAB ? 4.0 : -(double)(k % 7);
        sum += exp(l);
    }
    return exp(5.0) / sum;
}

static void test_classify(void)
{
    long st;
    cJSON *j = post_json("/v1/classify", "{\"prompts\":[\"ab\",\"xyz\"],\"temperature\":0}", &st);
    CHECK(st == 200);
    CHECK_STREQ(jstr(j, "object"), "list");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "data")) == 2);
    CHECK(jnum(j, "data.0.token") == 'b');
    CHECK_STREQ(jstr(j, "data.0.text"), "b");
    CHECK(jnum(j, "data.1.token") == 'z');
    CHECK_STREQ(jstr(j, "data.1.text"), "z");
    CHECK(jnum(j, "data.1.index") == 1);
    CHECK_MSG(fabs(jnum(j, "data.0.probability") - srvt_expected_prob('b')) < 1e-9, "probability %g, want %g",
              jnum(j, "data.0.probability"), srvt_expected_prob('b'));
    CHECK(fabs(jnum(j, "data.1.probability") - srvt_expected_prob('z')) < 1e-9);
    CHECK(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "data"), 0),
                                           "logits") == NULL);
    cJSON_Delete(j);

    j = post_json("/v1/classify", "{\"prompts\":[\"ab\"],\"logits\":true}", &st);
    CHECK(st == 200);
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "data"), 0), "logits");
    CHECK(cJSON_GetArraySize(l) == SRVT_VOCAB);
    CHECK(cJSON_GetArrayItem(l, 'b') && cJSON_GetArrayItem(l, 'b')->valuedouble == 5.0);
    CHECK(cJSON_GetArrayItem(l, 'c') && cJSON_GetArrayItem(l, 'c')->valuedouble == 4.0);
    CHECK(cJSON_GetArrayItem(l, 7) && cJSON_GetArrayItem(l, 7)->valuedouble == 0.0);
    CHECK(cJSON_GetArrayItem(l, 9) && cJSON_GetArrayItem(l, 9)->valuedouble == -2.0);
    cJSON_Delete(j);

    expect_error("POST /v1/classify", "{\"prompts\":\"ab\"}", 400, "prompts");
    expect_error("POST /v1/classify", "{\"prompts\":[]}", 400, "empty");
    expect_error("POST /v1/classify", "{\"prompts\":[\"a\",3]}", 400, "prompts");
    expect_error("POST /v1/classify", "{\"prompts\":[\"a\"],\"logits\":\"yes\"}", 400, "logits");
    expect_error("POST /v1/classify", "{\"prompts\":[\"a\"],\"temperature\":\"hot\"}", 400, "temperature");
    expect_error("GET /v1/classify", NULL, 405, "POST");
}

/* One sample's value from a Prometheus text body, or NAN. */
static double prom_value(const char *body, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, name, n) == 0 && p[n] == ' ') return strtod(p + n + 1, NULL);
    return NAN;
}

static double metrics_value(const char *name)
{
    http_answer a = {0};
    http_do(port, "/metrics", NULL, 0, NULL, &a);
    double v = a.status == 200 ? prom_value(a.body, name) : NAN;
    http_answer_free(&a);
    return v;
}

static void test_metrics(void)
{
    http_answer a = {0};
    http_do(port, "/metrics", NULL, 0, NULL, &a);
    CHECK(a.status == 200);
    CHECK(a.headers && strstr(a.headers, "text/plain"));
    CHECK(a.body && strstr(a.body, "# TYPE infer_requests_total counter\n"));
    CHECK(a.body && strstr(a.body, "# TYPE infer_slots_busy gauge\n"));
    const char *names[] = {"infer_requests_total", "infer_errors_total", "infer_prompt_tokens_total",
                           "infer_generated_tokens_total", "infer_tokens_per_second", "infer_slots_busy",
                           "infer_queue_length"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK_MSG(!isnan(prom_value(a.body, names[i])), "/metrics lacks %s", names[i]);
    /* Every line is a comment or "name value". */
    int bad = 0;
    for (const char *p = a.body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (*p == '#') continue;
        const char *sp = strchr(p, ' '), *nl = strchr(p, '\n');
        if (!sp || (nl && sp > nl)) bad++;
    }
    CHECK(bad == 0);
    http_answer_free(&a);

    /* The counters move by what one request did. */
    double req0 = metrics_value("infer_requests_total"), err0 = metrics_value("infer_errors_total");
    double gen0 = metrics_value("infer_generated_tokens_total");
    double prm0 = metrics_value("infer_prompt_tokens_total");
    long st;
    cJSON *j = post_json("/v1/completions", "{\"prompt\":\"abcd\"}", &st);
    CHECK(st == 200);
    cJSON_Delete(j);
    j = post_json("/v1/completions", "{\"prompt\":", &st);
    CHECK(st == 400);
    cJSON_Delete(j);
    a = (http_answer){0};
    http_do(port, "/v1/completions", "{\"prompt\":\"ab\",\"stream\":true}", -1, NULL, &a);
    CHECK(a.status == 200 && a.body && strstr(a.body, "[DONE]"));
    http_answer_free(&a);
    /* 3 GETs after req0's own, 3 POSTs, and the GET that reads the total */
    double req1 = metrics_value("infer_requests_total");
    CHECK_MSG(req1 == req0 + 7, "requests %g, before %g", req1, req0);
    CHECK(metrics_value("infer_errors_total") == err0 + 1);
    /* "dcba." and, streamed, "ba." */
    CHECK_MSG(metrics_value("infer_generated_tokens_total") == gen0 + 8, "generated %g, before %g",
              metrics_value("infer_generated_tokens_total"), gen0);
    CHECK(metrics_value("infer_prompt_tokens_total") == prm0 + 6);
    CHECK(metrics_value("infer_tokens_per_second") > 0);
    CHECK(metrics_value("infer_slots_busy") == 0);
    CHECK(metrics_value("infer_queue_length") == 0);
}

static void test_api_key(inf_model *model)
{
    struct inf_server_options o = test_server_options(model);
    o.api_key = "sekrit";
    int p = 0;
    inf_server *s = test_server_start(&o, &p);
    if (!s) return;
    http_answer a = {0};
    http_do(p, "/v1/models", NULL, 0, NULL, &a);
    CHECK(a.status == 401);
    http_answer_free(&a);
    http_do(p, "/v1/models", NULL, 0, "Authorization: Bearer sekrit", &a);
    CHECK(a.status == 200);
    http_answer_free(&a);
    http_do(p, "/health", NULL, 0, NULL, &a);
    CHECK(a.status == 200);
    http_answer_free(&a);
    inf_server_stop(s);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    inf_model *model = srvt_load_model();
    CHECK(model != NULL);
    if (!model) return TEST_DONE();
    struct inf_server_options o = test_server_options(model);
    o.model_name = "srvtest-model";
    o.parallel = 2;
    o.max_body = 4096;
    inf_server *s = test_server_start(&o, &port);
    if (!s) return TEST_DONE();
    inf_error err = {0};
    CHECK(port > 0);

    /* A port in use is reported, not fatal. */
    struct inf_server_options o2 = o;
    o2.port = port;
    inf_server *s2 = NULL;
    CHECK(inf_server_start(&o2, &s2, &err) != 0 && strstr(err.message, "cannot listen"));

    test_get_endpoints();
    test_oai_completion();
    test_oai_chat();
    test_native_completion();
    test_n_probs();
    test_tokenizer_endpoints();
    test_errors();
    test_classify();
    test_metrics();
    test_parallel_limit();
    test_disconnect_cancels();
    test_api_key(model);

    inf_server_stop(s);
    inf_model_close(model);
    CHECK(atomic_load(&srvt_streams_started) == atomic_load(&srvt_streams_freed));
    inf_registry_shutdown();
    curl_global_cleanup();
    return TEST_DONE();
}

#else
int main(void)
{
    (void)test_passed_count;
    (void)test_failed_count;
    TEST_FAIL("built without libmicrohttpd or libcurl");
}
#endif
