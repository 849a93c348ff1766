/* test_serve_queue.c - the server's bounded wait queue, in process, with
 * the deterministic "srvtest" backend made slow ("slow:" prompts emit a token
 * every 20 ms): with --parallel 1 and --queue 1, one request generates, one
 * waits, and the next is turned away at once with 503, a Retry-After header
 * and an OpenAI-shaped JSON error; /metrics shows the busy slot and the
 * queue length meanwhile; once the queue drains, requests succeed again. */
#include "test_util.h"

#if defined(INF_HAVE_MHD) && defined(INF_HAVE_CURL)

#include "inference.h"
#include "serve/server.h"
#include "srv_test_backend.h"
#include "srv_http_client.h"

#include <cjson/cJSON.h>
#include <pthread.h>

static int port;

/* A slow generation of n tokens ("z" each), answered 200 with n z's. */
static void *slow_request(void *arg)
{
    int n = (int)(intptr_t)arg;
    char body[128];
    snprintf(body, sizeof body, "{\"prompt\":\"slow:\",\"max_tokens\":%d}", n);
    http_answer a = {0};
    http_do(port, "/v1/completions", body, -1, NULL, &a);
    cJSON *j = a.body ? cJSON_Parse(a.body) : NULL;
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0), "text");
    int ok = a.status == 200 && cJSON_IsString(text) && (int)strlen(text->valuestring) == n;
    cJSON_Delete(j);
    http_answer_free(&a);
    return (void *)(intptr_t)ok;
}

/* The value of one sample line of /metrics, or -1. */
static double metric(const char *name)
{
    http_answer a = {0};
    http_do(port, "/metrics", NULL, 0, NULL, &a);
    double v = -1;
    size_t n = strlen(name);
    for (const char *p = a.body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == ' ') { v = strtod(p + n + 1, NULL); break; }
    }
    http_answer_free(&a);
    return v;
}

static bool wait_for(const char *name, double want)
{
    for (int i = 0; i < 300; i++) {
        if (metric(name) == want) return true;
        srvt_sleep_ms(10);
    }
    return false;
}

static void test_queue_full(void)
{
    pthread_t running, waiting;
    /* 60 tokens at 20 ms: the first holds the slot for about 1.2 s. */
    pthread_create(&running, NULL, slow_request, (void *)(intptr_t)60);
    CHECK_MSG(wait_for("infer_slots_busy", 1), "the first request never took the slot");
    pthread_create(&waiting, NULL, slow_request, (void *)(intptr_t)5);
    CHECK_MSG(wait_for("infer_queue_length", 1), "the second request never queued");
    CHECK(metric("infer_queue_capacity") == 1);
    CHECK(metric("infer_slots_total") == 1);

    /* The third finds the slot busy and the queue full: 503 at once. */
    for (int k = 0; k < 2; k++) {
        http_answer a = {0};
        http_do(port, k ? "/v1/chat/completions" : "/v1/completions",
                k ? "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" : "{\"prompt\":\"abc\"}", -1, NULL, &a);
        CHECK_MSG(a.status == 503, "status %ld, want 503", a.status);
        CHECK_MSG(a.headers && strstr(a.headers, "Retry-After: 1"), "no Retry-After header in: %s",
                  a.headers ? a.headers : "(none)");
        cJSON *j = a.body ? cJSON_Parse(a.body) : NULL;
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "type");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
        CHECK(cJSON_IsString(msg) && strstr(msg->valuestring, "busy"));
        CHECK(cJSON_IsString(type) && !strcmp(type->valuestring, "unavailable_error"));
        CHECK(cJSON_IsNumber(code) && code->valueint == 503);
        cJSON_Delete(j);
        http_answer_free(&a);
    }
    /* Classify takes a slot too. */
    http_answer a = {0};
    http_do(port, "/v1/classify", "{\"prompts\":[\"ab\"]}", -1, NULL, &a);
    CHECK(a.status == 503);
    http_answer_free(&a);
    /* Endpoints that do not generate keep answering. */
    http_do(port, "/health", NULL, 0, NULL, &a);
    CHECK(a.status == 200);
    http_answer_free(&a);

    void *r1, *r2;
    pthread_join(running, &r1);
    pthread_join(waiting, &r2);
    CHECK_MSG(r1 && r2, "the running and the queued request should both succeed");
    CHECK(metric("infer_rejected_total") == 3);
    CHECK(metric("infer_queue_length") == 0);
    CHECK(wait_for("infer_slots_busy", 0));
    CHECK(atomic_load(&srvt_max_active) == 1);

    /* Drained: a request is served again. */
    http_do(port, "/v1/completions", "{\"prompt\":\"abc\"}", -1, NULL, &a);
    CHECK(a.status == 200 && a.body && strstr(a.body, "cba."));
    http_answer_free(&a);
}

/* --queue 0: nothing waits; a second request while one runs gets 503. */
static void test_queue_zero(inf_model *model)
{
    struct inf_server_options o = test_server_options(model);
    o.queue = 0;
    int saved = port;
    inf_server *s = test_server_start(&o, &port);
    if (!s) return;
    pthread_t running;
    pthread_create(&running, NULL, slow_request, (void *)(intptr_t)30);
    CHECK(wait_for("infer_slots_busy", 1));
    http_answer a = {0};
    http_do(port, "/v1/completions", "{\"prompt\":\"abc\"}", -1, NULL, &a);
    CHECK(a.status == 503);
    http_answer_free(&a);
    void *r;
    pthread_join(running, &r);
    CHECK(r != NULL);
    port = saved;
    inf_server_stop(s);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    inf_model *model = srvt_load_model();
    CHECK(model != NULL);
    if (!model) return TEST_DONE();
    struct inf_server_options o;
    inf_server_options_default(&o);
    CHECK(o.queue == 64);
    o = test_server_options(model);
    o.parallel = 1;
    o.queue = 1;
    inf_server *s = test_server_start(&o, &port);
    if (!s) return TEST_DONE();

    test_queue_full();
    test_queue_zero(model);

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
