/* test_backends_llama_cpp.c - the llama_cpp backend against our own server
 * (src/server, in process, serving the deterministic "srvtest" backend) in
 * both protocols, for every operation: load and routing, Generate, Chat,
 * stop tokens, Classify, BatchGenerate with per-prompt errors, tokenize,
 * detokenize, render_chat, ModelType/Info/Metrics, Err. Then the failures:
 * server down, unknown model, HTTP 500, malformed / truncated / cut event
 * streams and mid-stream errors (from a scripted fake server), a slow
 * stream cancelled and one past its deadline, and managed mode with a
 * stand-in `llama-server` script on PATH (which runs this very program in
 * its --serve mode).
 *
 * `test_backends_llama_cpp --serve PORT` is that serve mode: srvtest behind
 * our server on 127.0.0.1:PORT until SIGTERM. */
#include "test_util.h"

#if defined(INF_HAVE_MHD) && defined(INF_HAVE_CURL)

#include "inference.h"
#include "serve/server.h"
#include "srv_test_backend.h"
#include "srv_http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int port;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inf_model *load_url(const char *url, int slots, inf_error *err)
{
    inf_load_config cfg;
    inf_load_config_default(&cfg);
    cfg.parallel_slots = slots;
    return inf_load_model(url, &cfg, err); /* no backend named: routing by probe */
}

/* Generate (or chat when msgs) and collect text and ids. */
static inf_status run_stream(inf_stream *s, char *text, size_t size, int32_t *ids, int *n_ids, char *errmsg)
{
    inf_token t;
    text[0] = '\0';
    int n = 0;
    while (inf_stream_next(s, &t)) {
        strncat(text, t.text, size - strlen(text) - 1);
        if (ids && n < 64) ids[n] = t.id;
        n++;
    }
    if (n_ids) *n_ids = n;
    inf_status st = inf_stream_status(s);
    if (errmsg) snprintf(errmsg, 512, "%s", inf_stream_error(s));
    inf_stream_free(s);
    return st;
}

static void test_protocol(bool openai)
{
    char url[128], text[256], msg[512];
    int32_t ids[64];
    int n;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, openai ? "/v1" : "");
    inf_error err;
    inf_model *m = load_url(url, 2, &err);
    CHECK_MSG(m != NULL, "%s: %s", url, err.message);
    if (!m) return;
    const char *proto = openai ? "openai" : "native";

    /* ModelType and Info from /props or /v1/models. */
    CHECK_STREQ(inf_model_type(m), "srvtest");
    inf_model_info info;
    CHECK(inf_model_info_get(m, &info) == INF_OK);
    CHECK(info.vocab_size == SRVT_VOCAB);
    CHECK(info.num_layers == 2);
    CHECK(info.hidden_size == 8);
    CHECK(info.context_len == 512);

    /* Generate. */
    inf_generate_config cfg;
    inf_generate_config_default(&cfg);
    CHECK(run_stream(inf_generate(m, "abc", &cfg, NULL), text, sizeof text, ids, &n, msg) == INF_OK);
    CHECK_MSG(strcmp(text, "cba.") == 0, "%s: \"%s\"", proto, text);
    CHECK(n == 4);
    if (!openai) CHECK(ids[0] == 'c' && ids[1] == 'b' && ids[2] == 'a' && ids[3] == '.');
    else CHECK(ids[0] == -1); /* the OpenAI protocol carries no ids */
    inf_metrics mt;
    CHECK(inf_model_metrics(m, &mt) == INF_OK);
    CHECK_MSG(mt.generated_tokens == 4 && mt.prompt_tokens == 3, "%s: metrics %lld/%lld", proto,
              (long long)mt.prompt_tokens, (long long)mt.generated_tokens);
    CHECK(mt.total_seconds > 0);

    cfg.max_tokens = 2;
    CHECK(run_stream(inf_generate(m, "abc", &cfg, NULL), text, sizeof text, NULL, NULL, NULL) == INF_OK);
    CHECK_STREQ(text, "cb");
    cfg.max_tokens = 0;
    CHECK(run_stream(inf_generate(m, "abc", &cfg, NULL), text, sizeof text, NULL, NULL, NULL) == INF_OK);
    CHECK_STREQ(text, "");
    inf_generate_config_default(&cfg);

    if (!openai) { /* stop tokens need ids */
        int32_t stop = 'a';
        cfg.stop_tokens = &stop;
        cfg.n_stop_tokens = 1;
        CHECK(run_stream(inf_generate(m, "abc", &cfg, NULL), text, sizeof text, NULL, NULL, NULL) == INF_OK);
        CHECK_STREQ(text, "cb");
        inf_generate_config_default(&cfg);
    }
    /* Stop strings are sent to the server and applied by the core. */
    const char *stops[] = {"a."};
    cfg.stop_strings = stops;
    cfg.n_stop_strings = 1;
    CHECK(run_stream(inf_generate(m, "abc", &cfg, NULL), text, sizeof text, NULL, NULL, NULL) == INF_OK);
    CHECK_STREQ(text, "cb");
    inf_generate_config_default(&cfg);

    /* Chat: the server applies the template. */
    inf_message msgs[] = {{"system", "be brief"}, {"user", "hey"}};
    CHECK(run_stream(inf_chat(m, msgs, 2, &cfg, NULL), text, sizeof text, NULL, NULL, msg) == INF_OK);
    char *want_chat = srvt_reverse_dot("<|system|>be brief<|user|>hey<|assistant|>");
    CHECK_MSG(strcmp(text, want_chat) == 0, "%s chat: \"%s\" %s", proto, text, msg);
    free(want_chat);

    /* Err after a failing stream. */
    CHECK(run_stream(inf_generate(m, "fail:x", &cfg, NULL), text, sizeof text, NULL, NULL, msg) == INF_ERR_BACKEND);
    CHECK_MSG(strstr(msg, "failure requested") != NULL, "%s: %s", proto, msg);
    CHECK_STREQ(text, "x:"); /* the tokens before the failure arrived */
    inf_error e2;
    CHECK(inf_model_err(m, &e2) == INF_ERR_BACKEND);

    /* Classify. */
    const char *prompts[] = {"ab", "xy", "q"};
    inf_classify_result *cr = NULL;
    CHECK(inf_classify(m, prompts, 3, &cfg, NULL, &cr, &err) == INF_OK);
    if (cr) {
        CHECK_STREQ(cr[0].token.text, "b");
        CHECK_STREQ(cr[1].token.text, "y");
        CHECK_STREQ(cr[2].token.text, "q");
        if (!openai) CHECK(cr[0].token.id == 'b' && cr[1].token.id == 'y');
        CHECK(cr[0].logits == NULL);
        inf_classify_results_free(cr, 3);
    }
    cfg.logits = true;
    cr = NULL;
    CHECK(inf_classify(m, prompts, 3, &cfg, NULL, &cr, &err) == INF_ERR_UNSUPPORTED);
    CHECK(strstr(err.message, "logits") != NULL);
    CHECK(cr == NULL);
    cfg.logits = false;

    /* BatchGenerate with a per-prompt failure. */
    const char *bp[] = {"abc", "hello", "fail:x", "z"};
    inf_batch_result *br = NULL;
    CHECK(inf_batch_generate(m, bp, 4, &cfg, NULL, &br, &err) == INF_OK);
    if (br) {
        const char *want[] = {"cba.", "olleh.", NULL, "z."};
        for (int i = 0; i < 4; i++) {
            char joined[64] = "";
            for (size_t k = 0; k < br[i].n_tokens; k++) strncat(joined, br[i].tokens[k].text, 60 - strlen(joined));
            if (want[i]) {
                CHECK(br[i].status == INF_OK);
                CHECK_MSG(strcmp(joined, want[i]) == 0, "%s batch %d: \"%s\"", proto, i, joined);
                if (!openai) CHECK(br[i].tokens[0].id == (unsigned char)want[i][0]);
            } else {
                CHECK(br[i].status == INF_ERR_BACKEND);
                CHECK(br[i].error && strstr(br[i].error, "failure requested"));
            }
        }
        inf_batch_results_free(br, 4);
    }

    /* Tokenizer endpoints and the chat template. */
    int32_t *tids = NULL;
    size_t nt = 0;
    CHECK(inf_model_tokenize(m, "hi!", 2, INF_TOKENIZE_ADD_SPECIAL, &tids, &nt, &err) == INF_OK);
    CHECK(nt == 3 && tids && tids[0] == SRVT_BOS && tids[1] == 'h' && tids[2] == 'i');
    char *dt = NULL;
    CHECK(inf_model_detokenize(m, tids + 1, 2, false, &dt, &err) == INF_OK);
    CHECK_STREQ(dt, "hi");
    inf_free(dt);
    inf_free(tids);
    char *rendered = NULL;
    CHECK(inf_model_render_chat(m, msgs, 2, NULL, &rendered, &err) == INF_OK);
    CHECK_STREQ(rendered, "<|system|>be brief<|user|>hey<|assistant|>");
    inf_free(rendered);

    /* A slow stream cancelled mid-way stops at once, and the server side
     * generation is released too (our server cancels on disconnect). */
    int freed0 = atomic_load(&srvt_streams_freed);
    inf_cancel *c = inf_cancel_new(NULL);
    cfg.max_tokens = 100000;
    inf_stream *s = inf_generate(m, "slow:", &cfg, c);
    inf_token t;
    int got = 0;
    while (got < 3 && inf_stream_next(s, &t)) got++;
    CHECK(got == 3);
    double t0 = now_s();
    inf_cancel_trigger(c);
    while (inf_stream_next(s, &t)) {}
    CHECK(now_s() - t0 < 1.0);
    CHECK(inf_stream_status(s) == INF_ERR_CANCELLED);
    inf_stream_free(s);
    bool released = false;
    for (int i = 0; i < 200 && !released; i++) {
        released = atomic_load(&srvt_streams_freed) > freed0;
        if (!released) srvt_sleep_ms(10);
    }
    CHECK_MSG(released, "%s: the server kept generating after the client cancelled", proto);
    inf_cancel_free(c);

    /* A deadline. */
    c = inf_cancel_new(NULL);
    inf_cancel_set_timeout(c, 150);
    t0 = now_s();
    CHECK(run_stream(inf_generate(m, "slow:", &cfg, c), text, sizeof text, NULL, NULL, NULL) == INF_ERR_DEADLINE_EXCEEDED);
    CHECK(now_s() - t0 < 1.5);
    inf_cancel_free(c);
    inf_generate_config_default(&cfg);

    CHECK(inf_model_close(m) == INF_OK);
}

static void test_routing_and_lookup(void)
{
    const inf_backend *b = inf_backend_get("llama_cpp");
    CHECK(b != NULL);
    if (!b) return;
    CHECK(inf_backend_available(b));
    CHECK(inf_backend_accepts(b, "http://127.0.0.1:1"));
    CHECK(inf_backend_accepts(b, "https://example.com:8000#Qwen/Qwen3-8B"));
    CHECK(!inf_backend_accepts(b, "model.gguf"));
    CHECK(!inf_backend_accepts(b, "/models/qwen3"));

    char url[128];
    inf_error err;
    snprintf(url, sizeof url, "http://127.0.0.1:%d#srvtest-model", port);
    inf_model *m = load_url(url, 0, &err);
    CHECK_MSG(m != NULL, "%s", err.message);
    inf_model_close(m);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1#no-such-model", port);
    m = load_url(url, 0, &err);
    CHECK(m == NULL);
    CHECK(err.status == INF_ERR_NOT_FOUND);
    CHECK_MSG(strstr(err.message, "no-such-model") && strstr(err.message, "srvtest-model"), "%s", err.message);

    /* Server down: a port nobody listens on. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    m = load_url(url, 0, &err);
    CHECK(m == NULL);
    CHECK(err.status == INF_ERR_UNAVAILABLE);
    CHECK_MSG(strstr(err.message, "down") != NULL, "%s", err.message);
}

/* BatchGenerate and Classify keep at most parallel_slots requests in flight
 * (the server allows 4 here; the backend's limit must be what bounds it). */
static void test_slots_limit(void)
{
    for (int slots = 1; slots <= 3; slots += 2) {
        char url[128];
        snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
        inf_error err;
        inf_model *m = load_url(url, slots, &err);
        CHECK_MSG(m != NULL, "%s", err.message);
        if (!m) return;
        inf_generate_config cfg;
        inf_generate_config_default(&cfg);
        cfg.max_tokens = 4;
        const char *prompts[] = {"slow:1", "slow:2", "slow:3", "slow:4", "slow:5", "slow:6"};
        /* Streams cancelled earlier end on the server side a moment later. */
        for (int i = 0; i < 200 && atomic_load(&srvt_active) > 0; i++) srvt_sleep_ms(10);
        CHECK(atomic_load(&srvt_active) == 0);
        atomic_store(&srvt_max_active, 0);
        inf_batch_result *br = NULL;
        CHECK(inf_batch_generate(m, prompts, 6, &cfg, NULL, &br, &err) == INF_OK);
        for (int i = 0; br && i < 6; i++) CHECK(br[i].status == INF_OK && br[i].n_tokens == 4);
        inf_batch_results_free(br, 6);
        CHECK_MSG(atomic_load(&srvt_max_active) == slots, "parallel_slots %d: %d requests at once", slots,
                  atomic_load(&srvt_max_active));

        /* Cancelling a batch keeps what was made and marks every prompt. */
        inf_cancel *c = inf_cancel_new(NULL);
        inf_cancel_set_timeout(c, 100);
        cfg.max_tokens = 100000;
        br = NULL;
        double t0 = now_s();
        CHECK(inf_batch_generate(m, prompts, 6, &cfg, c, &br, &err) == INF_OK);
        CHECK(now_s() - t0 < 1.5);
        for (int i = 0; br && i < 6; i++) CHECK(br[i].status == INF_ERR_DEADLINE_EXCEEDED && br[i].error);
        inf_batch_results_free(br, 6);
        inf_cancel_free(c);
        inf_model_close(m);
    }
}

/* INFERENCE_API_KEY is sent as a bearer token. */
static void test_api_key(inf_model *served)
{
    struct inf_server_options o = test_server_options(served);
    o.api_key = "k3y";
    inf_server *s = test_server_start(&o, NULL);
    if (!s) return;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", inf_server_port(s));
    inf_error err;
    unsetenv("INFERENCE_API_KEY");
    inf_model *m = load_url(url, 0, &err);
    CHECK(m == NULL);
    CHECK_MSG(strstr(err.message, "API key") != NULL, "%s", err.message);
    setenv("INFERENCE_API_KEY", "k3y", 1);
    m = load_url(url, 0, &err);
    CHECK_MSG(m != NULL, "%s", err.message);
    if (m) {
        inf_generate_config cfg;
        inf_generate_config_default(&cfg);
        char text[64];
        CHECK(run_stream(inf_generate(m, "ab", &cfg, NULL), text, sizeof text, NULL, NULL, NULL) == INF_OK);
        CHECK_STREQ(text, "ba.");
        inf_model_close(m);
    }
    unsetenv("INFERENCE_API_KEY");
    inf_server_stop(s);
}

/* ---------------------------------------------------------------------- */
/* A scripted fake server for the broken answers                          */
/* ---------------------------------------------------------------------- */

static _Atomic(const char *) fake_completion; /* the raw HTTP answer to POST /completion */
static _Atomic(const char *) fake_props;      /* the JSON answer to GET /props */
static int fake_fd = -1;
static atomic_int fake_stop;

static void fake_reply(int c, const char *status, const char *type, const char *body)
{
    char head[256];
    snprintf(head, sizeof head, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
             status, type, strlen(body));
    (void)!write(c, head, strlen(head));
    (void)!write(c, body, strlen(body));
}

static void *fake_server(void *arg)
{
    (void)arg;
    while (!atomic_load(&fake_stop)) {
        int c = accept(fake_fd, NULL, NULL);
        if (c < 0) continue;
        char req[8192];
        size_t n = 0;
        ssize_t r;
        while (n < sizeof req - 1 && (r = read(c, req + n, sizeof req - 1 - n)) > 0) {
            n += (size_t)r;
            req[n] = '\0';
            char *end = strstr(req, "\r\n\r\n");
            if (!end) continue;
            char *cl = strcasestr(req, "Content-Length:");
            size_t want = cl ? (size_t)atol(cl + 15) : 0;
            if (n >= (size_t)(end + 4 - req) + want) break;
        }
        req[n] = '\0';
        if (!strncmp(req, "GET /health", 11)) fake_reply(c, "200 OK", "application/json", "{\"status\":\"ok\"}");
        else if (!strncmp(req, "GET /props", 10))
            fake_reply(c, "200 OK", "application/json", atomic_load(&fake_props));
        else if (!strncmp(req, "GET /v1/models", 14)) fake_reply(c, "404 Not Found", "text/plain", "nope");
        else if (!strncmp(req, "POST /completion", 16)) {
            const char *answer = atomic_load(&fake_completion);
            (void)!write(c, answer, strlen(answer));
        }
        else fake_reply(c, "404 Not Found", "text/plain", "nope");
        shutdown(c, SHUT_WR);
        close(c);
    }
    return NULL;
}

#define SSE_HEAD "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"

static void fake_case(inf_model *m, const char *answer, inf_status want, const char *needle, const char *want_text)
{
    atomic_store(&fake_completion, answer);
    inf_generate_config cfg;
    inf_generate_config_default(&cfg);
    char text[256], msg[512];
    inf_status st = run_stream(inf_generate(m, "p", &cfg, NULL), text, sizeof text, NULL, NULL, msg);
    CHECK_MSG(st == want, "status %s, wanted %s (%s)", inf_status_name(st), inf_status_name(want), msg);
    if (needle) CHECK_MSG(strstr(msg, needle) != NULL, "\"%s\" lacks \"%s\"", msg, needle);
    if (want_text) CHECK_MSG(strcmp(text, want_text) == 0, "text \"%s\", wanted \"%s\"", text, want_text);
}

static void test_broken_servers(void)
{
    fake_fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fake_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(fake_fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fake_fd, (struct sockaddr *)&a, &len);
    listen(fake_fd, 8);
    pthread_t th;
    atomic_store(&fake_props, "{\"default_generation_settings\":{\"n_ctx\":64},\"total_slots\":1,"
                              "\"model_path\":\"/m/qwen3-0.6b.gguf\"}");
    pthread_create(&th, NULL, fake_server, NULL);

    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    inf_error err;
    inf_model *m = load_url(url, 0, &err);
    CHECK_MSG(m != NULL, "%s", err.message);
    if (m) {
        CHECK_STREQ(inf_model_type(m), "qwen3"); /* guessed from model_path */
        /* A well-formed stream with CRLF lines, comments, a multi-token event. */
        fake_case(m, SSE_HEAD ": keep-alive\r\n\r\ndata: {\"content\":\"He\",\"tokens\":[1,2],\"stop\":false}\r\n\r\n"
                     "data: {\"content\":\"llo\",\"tokens\":[3],\"stop\":false}\n\n"
                     "data: {\"content\":\"\",\"stop\":true,\"timings\":{\"prompt_n\":1,\"predicted_n\":3}}\n\n",
                  INF_OK, NULL, "Hello");
        fake_case(m, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 56\r\n"
                     "Connection: close\r\n\r\n{\"error\":{\"code\":500,\"message\":\"boom from the server\"}}",
                  INF_ERR_BACKEND, "boom from the server", "");
        fake_case(m, SSE_HEAD "data: {\"content\":\"a\",\"tokens\":[5],\"stop\":false}\n\ndata: {not json\n\n",
                  INF_ERR_FORMAT, "not a JSON object", "a");
        fake_case(m, SSE_HEAD "data: {\"content\":\"a\",\"tokens\":[5],\"stop\":false}\n\n", INF_ERR_FORMAT,
                  "ended before its final event", "a");
        fake_case(m, SSE_HEAD "data: {\"content\":\"a\",\"tokens\":[5],\"stop\":false}\n\ndata: {\"content\":\"b\",\"tok",
                  INF_ERR_FORMAT, "cut mid-event", "a");
        fake_case(m, SSE_HEAD "data: {\"content\":\"a\",\"tokens\":[5],\"stop\":false}\n\n"
                     "error: {\"code\":500,\"message\":\"slot crashed\",\"type\":\"server_error\"}\n\n",
                  INF_ERR_BACKEND, "slot crashed", "a");
        fake_case(m, SSE_HEAD "data: {\"content\":7,\"stop\":false}\n\n", INF_ERR_FORMAT, "wrong type", "");
        fake_case(m, SSE_HEAD "data: [1,2]\n\n", INF_ERR_FORMAT, "not a JSON object", "");
        fake_case(m, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n", INF_ERR_FORMAT,
                  "ended before", "");
        inf_model_close(m);
    }
    /* A llama.cpp server on this host: the architecture comes from the GGUF
     * header of its model_path (llama.cpp's API does not report it). */
    const char *gguf = test_data_path("models/stories260K.gguf");
    if (gguf && gguf[0] == '/') {
        static char props[4608];
        snprintf(props, sizeof props, "{\"default_generation_settings\":{\"n_ctx\":64},\"model_path\":\"%s\"}", gguf);
        atomic_store(&fake_props, props);
        m = load_url(url, 0, &err);
        CHECK_MSG(m != NULL, "%s", err.message);
        if (m) {
            CHECK_STREQ(inf_model_type(m), "llama");
            inf_model_info info;
            inf_model_info_get(m, &info);
            CHECK(info.vocab_size == 512 && info.num_layers == 5 && info.hidden_size == 64 && info.context_len == 64);
            inf_model_close(m);
        }
    }
    atomic_store(&fake_stop, 1);
    shutdown(fake_fd, SHUT_RDWR);
    close(fake_fd);
    pthread_join(th, NULL);
}

/* ---------------------------------------------------------------------- */
/* Managed mode                                                            */
/* ---------------------------------------------------------------------- */

static void test_managed(void)
{
    char dir[] = "/tmp/inf-lc-test-XXXXXX";
    if (!mkdtemp(dir)) { CHECK(0); return; }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) { CHECK(0); return; }
    self[n] = '\0';
    char script[4200], gguf[4200], args_file[4200];
    snprintf(script, sizeof script, "%s/llama-server", dir);
    snprintf(gguf, sizeof gguf, "%s/tiny.gguf", dir);
    snprintf(args_file, sizeof args_file, "%s/args", dir);
    FILE *f = fopen(script, "w");
    fprintf(f, "#!/bin/sh\n# stand-in llama-server: serve the srvtest backend on the port asked for\n"
               "echo \"$@\" > '%s'\nport=\nwhile [ $# -gt 0 ]; do case \"$1\" in --port) port=$2; shift;; esac; shift; done\n"
               "exec '%s' --serve \"$port\"\n", args_file, self);
    fclose(f);
    chmod(script, 0755);
    f = fopen(gguf, "w");
    fputs("GGUF", f);
    fclose(f);

    const char *old_path = getenv("PATH");
    char *saved = strdup(old_path ? old_path : "/usr/bin:/bin");
    char newpath[8400];
    snprintf(newpath, sizeof newpath, "%s:%s", dir, saved);
    setenv("PATH", newpath, 1);

    inf_load_config cfg;
    inf_load_config_default(&cfg);
    cfg.backend = "llama_cpp";
    cfg.context_len = 256;
    cfg.parallel_slots = 3;
    cfg.kv_cache_type = "f16";
    inf_error err;
    inf_model *m = inf_load_model(gguf, &cfg, &err);
    CHECK_MSG(m != NULL, "managed start: %s", err.message);
    if (m) {
        inf_generate_config g;
        inf_generate_config_default(&g);
        char text[64];
        int32_t ids[64];
        int nn;
        CHECK(run_stream(inf_generate(m, "abc", &g, NULL), text, sizeof text, ids, &nn, NULL) == INF_OK);
        CHECK_STREQ(text, "cba.");
        CHECK(ids[0] == 'c');
        f = fopen(args_file, "r");
        char args[512] = "";
        if (f) { if (!fgets(args, sizeof args, f)) args[0] = '\0'; fclose(f); }
        CHECK_MSG(strstr(args, "-m ") && strstr(args, "tiny.gguf") && strstr(args, "--host 127.0.0.1") &&
                  strstr(args, "-c 256") && strstr(args, "-np 3") && strstr(args, "-ngl 999") &&
                  strstr(args, "-ctk f16 -ctv f16"), "args: %s", args);
        /* Close stops the server: its port no longer answers. */
        char root[64] = "";
        char *p = strstr(args, "--port ");
        int mport = p ? atoi(p + 7) : 0;
        snprintf(root, sizeof root, "/health");
        CHECK(inf_model_close(m) == INF_OK);
        http_answer a = {0};
        CHECK(mport > 0 && http_do(mport, root, NULL, 0, NULL, &a) != 0);
        http_answer_free(&a);
    }
    /* Automatic choice never starts a process: a .gguf does not go to llama_cpp. */
    CHECK(!inf_backend_accepts(inf_backend_get("llama_cpp"), gguf));

    /* A stand-in that dies at once: its last words are reported. */
    f = fopen(script, "w");
    fprintf(f, "#!/bin/sh\necho 'error: failed to load model' >&2\nexit 3\n");
    fclose(f);
    m = inf_load_model(gguf, &cfg, &err);
    CHECK(m == NULL);
    CHECK_MSG(err.status == INF_ERR_UNAVAILABLE && strstr(err.message, "failed to load model"), "%s", err.message);

    /* Without the binary: a clear error. */
    setenv("PATH", "/nonexistent", 1);
    m = inf_load_model(gguf, &cfg, &err);
    CHECK(m == NULL);
    CHECK_MSG(err.status == INF_ERR_UNAVAILABLE && strstr(err.message, "llama-server"), "%s", err.message);
    setenv("PATH", saved, 1);
    free(saved);

    unlink(script);
    unlink(gguf);
    unlink(args_file);
    rmdir(dir);
}

/* ---------------------------------------------------------------------- */

static volatile sig_atomic_t serve_stop;
static void on_term(int sig) { (void)sig; serve_stop = 1; }

static int serve_mode(int p)
{
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    inf_model *m = srvt_load_model();
    if (!m) return 1;
    struct inf_server_options o = test_server_options(m);
    o.model_name = "srvtest-model";
    o.port = p;
    o.parallel = 4;
    inf_server *s = test_server_start(&o, NULL);
    if (!s) return 1;
    while (!serve_stop) srvt_sleep_ms(20);
    inf_server_stop(s);
    inf_model_close(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--serve") == 0) return serve_mode(atoi(argv[2]));
    signal(SIGPIPE, SIG_IGN);
    inf_model *model = srvt_load_model();
    CHECK(model != NULL);
    if (!model) return TEST_DONE();
    struct inf_server_options o = test_server_options(model);
    o.model_name = "srvtest-model";
    o.parallel = 4;
    inf_server *s = test_server_start(&o, &port);
    if (!s) return TEST_DONE();

    test_routing_and_lookup();
    test_protocol(false);
    test_protocol(true);
    test_slots_limit();
    test_api_key(model);
    test_broken_servers();
    test_managed();

    inf_server_stop(s);
    inf_model_close(model);
    inf_registry_shutdown();
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
