/* test_core_contract.c - every rule of the contract that does not need a real
 * model: option defaults and checks, the registry (register/replace, get,
 * sorted list, Default()'s order, the three load errors, probes), streams
 * (tokens, end, errors, Err()), cancellation and deadlines, stop strings,
 * the callback form, Classify, BatchGenerate, Close with live streams. */
#include "inference.h"
#include "test_backend.h"
#include "test_util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void test_version(void)
{
    CHECK_STREQ(inf_version(), INF_VERSION);
    CHECK(inf_version_number() == INF_VERSION_NUMBER);
    CHECK(INF_VERSION_NUMBER == INF_VERSION_MAJOR * 1000000 + INF_VERSION_MINOR * 1000 + INF_VERSION_PATCH);
}

static void test_defaults(void)
{
    inf_generate_config g;
    memset(&g, 0x5a, sizeof g);
    inf_generate_config_default(&g);
    CHECK(g.max_tokens == 256);
    CHECK(g.temperature == 0.0f);
    CHECK(g.top_k == 0);
    CHECK(g.top_p == 0.0f);
    CHECK(g.min_p == 0.0f);
    CHECK(g.repeat_penalty == 0.0f);
    CHECK(g.stop_tokens == NULL && g.n_stop_tokens == 0);
    CHECK(g.stop_strings == NULL && g.n_stop_strings == 0);
    CHECK(g.logits == false);
    CHECK(g.seed == INF_SEED_RANDOM);

    inf_load_config l;
    memset(&l, 0x5a, sizeof l);
    inf_load_config_default(&l);
    CHECK(l.backend == NULL);
    CHECK(l.context_len == 0);
    CHECK(l.gpu_layers == -1);
    CHECK(l.parallel_slots == 0);
    CHECK(l.threads == 0);
}

static void test_config_checks(void)
{
    inf_generate_config g;
    inf_error e;
    inf_generate_config_default(&g);
    CHECK(inf_generate_config_check(&g, &e) == INF_OK);
    CHECK(e.status == INF_OK && e.message[0] == '\0');

    g.top_p = 1.5f;
    CHECK(inf_generate_config_check(&g, &e) == INF_ERR_INVALID_ARGUMENT);
    CHECK_MSG(strstr(e.message, "top_p") && strstr(e.message, "1.5"), "%s", e.message);
    inf_generate_config_default(&g);
    g.max_tokens = -1;
    CHECK(inf_generate_config_check(&g, &e) == INF_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "max_tokens") != NULL);
    inf_generate_config_default(&g);
    g.temperature = -0.5f;
    CHECK(inf_generate_config_check(&g, &e) == INF_ERR_INVALID_ARGUMENT);
    inf_generate_config_default(&g);
    g.temperature = 0.0f / 0.0f;
    CHECK(inf_generate_config_check(&g, &e) == INF_ERR_INVALID_ARGUMENT);
    inf_generate_config_default(&g);
    g.n_stop_strings = 1;
    CHECK(inf_generate_config_check(&g, &e) == INF_ERR_INVALID_ARGUMENT);
    const char *empty[] = {""};
    g.stop_strings = empty;
    CHECK(inf_generate_config_check(&g, &e) == INF_ERR_INVALID_ARGUMENT);
    inf_generate_config_default(&g);
    g.top_k = -3;
    CHECK(inf_generate_config_check(&g, &e) == INF_ERR_INVALID_ARGUMENT);
    inf_generate_config_default(&g);
    g.min_p = 2;
    CHECK(inf_generate_config_check(&g, &e) == INF_ERR_INVALID_ARGUMENT);
    inf_generate_config_default(&g);
    g.repeat_penalty = -1;
    CHECK(inf_generate_config_check(&g, &e) == INF_ERR_INVALID_ARGUMENT);

    CHECK(strcmp(inf_status_name(INF_ERR_CANCELLED), "cancelled") == 0);
    CHECK(strcmp(inf_status_name((inf_status)999), "unknown") == 0);
}

static void test_no_backends(void)
{
    inf_registry_shutdown();
    inf_error e;
    CHECK(inf_backend_default(&e) == NULL);
    CHECK(e.status == INF_ERR_NO_BACKEND);
    CHECK_STREQ(e.message, "inference: no backends registered (import a backend package)");
    CHECK(inf_load_model("x", NULL, &e) == NULL);
    CHECK_STREQ(e.message, "inference: no backends registered (import a backend package)");
    CHECK(inf_backend_list(NULL, 0) == 0);

    /* Registered but none available: the same error. */
    inf_backend_desc d = test_backend_desc("sleepy", false, NULL);
    CHECK(inf_register_backend(&d, &e) == INF_OK);
    CHECK(inf_backend_default(&e) == NULL && e.status == INF_ERR_NO_BACKEND);
}

static void test_registry(void)
{
    inf_registry_shutdown();
    inf_error e;
    inf_backend_desc zeta = test_backend_desc("zeta", true, NULL);
    inf_backend_desc alpha = test_backend_desc("alpha", true, NULL);
    CHECK(inf_register_backend(&zeta, &e) == INF_OK);
    CHECK(inf_register_backend(&alpha, &e) == INF_OK);

    const char *names[8];
    size_t n = inf_backend_list(names, 8);
    CHECK(n == 2);
    CHECK(n == 2 && strcmp(names[0], "alpha") == 0 && strcmp(names[1], "zeta") == 0);
    CHECK(inf_backend_list(names, 1) == 2); /* total even when cap is smaller */

    const inf_backend *a = inf_backend_get("alpha");
    CHECK(a != NULL);
    CHECK_STREQ(inf_backend_name(a), "alpha");
    CHECK(inf_backend_available(a));
    CHECK(inf_backend_get("nope") == NULL);
    CHECK(inf_backend_get(NULL) == NULL);

    /* Default with no preferred backend: sorted order. */
    CHECK(inf_backend_default(&e) == a);

    /* Replacement: the same name silently replaces; the old pointer stays valid. */
    inf_backend_desc alpha2 = test_backend_desc("alpha", false, NULL);
    CHECK(inf_register_backend(&alpha2, &e) == INF_OK);
    const inf_backend *a2 = inf_backend_get("alpha");
    CHECK(a2 != NULL && a2 != a);
    CHECK(!inf_backend_available(a2));
    CHECK_STREQ(inf_backend_name(a), "alpha");
    CHECK(inf_backend_list(NULL, 0) == 2);
    /* alpha is now unavailable: Default skips it. */
    CHECK(inf_backend_default(&e) == inf_backend_get("zeta"));

    /* Preference order: metal, rocm, llama_cpp before others; unavailable skipped. */
    inf_backend_desc metal = test_backend_desc("metal", false, NULL);
    inf_backend_desc rocm = test_backend_desc("rocm", true, NULL);
    inf_backend_desc lcpp = test_backend_desc("llama_cpp", true, NULL);
    CHECK(inf_register_backend(&lcpp, &e) == INF_OK);
    CHECK(inf_backend_default(&e) == inf_backend_get("llama_cpp"));
    CHECK(inf_register_backend(&rocm, &e) == INF_OK);
    CHECK(inf_register_backend(&metal, &e) == INF_OK);
    CHECK(inf_backend_default(&e) == inf_backend_get("rocm"));
    inf_backend_desc metal2 = test_backend_desc("metal", true, NULL);
    CHECK(inf_register_backend(&metal2, &e) == INF_OK);
    CHECK(inf_backend_default(&e) == inf_backend_get("metal"));

    /* Bad descriptions. */
    inf_backend_desc bad = {0};
    CHECK(inf_register_backend(&bad, &e) == INF_ERR_INVALID_ARGUMENT);
    CHECK(inf_register_backend(NULL, &e) == INF_ERR_INVALID_ARGUMENT);

    int destroyed_before = test_backend_destroyed();
    inf_registry_shutdown();
    CHECK_MSG(test_backend_destroyed() - destroyed_before == 7, "destroyed %d",
              test_backend_destroyed() - destroyed_before);
}

static void test_load_routing(void)
{
    inf_registry_shutdown();
    inf_error e;
    inf_backend_desc off = test_backend_desc("off", false, NULL);
    inf_backend_desc web = test_backend_desc("web", true, "http://");
    inf_backend_desc files = test_backend_desc("files", true, "/");
    CHECK(inf_register_backend(&off, &e) == INF_OK);
    CHECK(inf_register_backend(&web, &e) == INF_OK);
    CHECK(inf_register_backend(&files, &e) == INF_OK);

    inf_load_config cfg;
    inf_load_config_default(&cfg);
    cfg.backend = "ghost";
    CHECK(inf_load_model("/m", &cfg, &e) == NULL);
    CHECK(e.status == INF_ERR_NOT_FOUND);
    CHECK_STREQ(e.message, "inference: backend \"ghost\" not registered");
    cfg.backend = "off";
    CHECK(inf_load_model("/m", &cfg, &e) == NULL);
    CHECK(e.status == INF_ERR_UNAVAILABLE);
    CHECK_STREQ(e.message, "inference: backend \"off\" not available on this hardware");

    /* Named backend: used even if its probe would refuse the path. */
    cfg.backend = "web";
    inf_model *m = inf_load_model("/m", &cfg, &e);
    CHECK(m != NULL);
    inf_model_close(m);

    /* Automatic: the probe routes. */
    m = inf_load_model("http://host:8080", NULL, &e);
    CHECK(m != NULL && e.status == INF_OK);
    inf_model_close(m);
    m = inf_load_model("/models/a.gguf", NULL, &e);
    CHECK(m != NULL);
    inf_model_close(m);
    CHECK(inf_load_model("ftp://x", NULL, &e) == NULL);
    CHECK(e.status == INF_ERR_NO_BACKEND && strstr(e.message, "ftp://x") != NULL);

    /* The backend's own error reaches the caller. */
    cfg.backend = "files";
    CHECK(inf_load_model("missing", &cfg, &e) == NULL);
    CHECK_STREQ(e.message, "test backend: missing: no such model");
    CHECK(e.status == INF_ERR_NOT_FOUND);

    /* Bad load options. */
    inf_load_config_default(&cfg);
    cfg.context_len = -5;
    CHECK(inf_load_model("/m", &cfg, &e) == NULL && e.status == INF_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "context_len") != NULL);
    CHECK(inf_load_model("", NULL, &e) == NULL && e.status == INF_ERR_INVALID_ARGUMENT);
    CHECK(test_backend_open_models() == 0);
}

static char *collect(inf_stream *s)
{
    static char buf[4096];
    size_t at = 0;
    inf_token t;
    buf[0] = '\0';
    while (inf_stream_next(s, &t)) {
        size_t l = strlen(t.text);
        if (at + l < sizeof buf) {
            memcpy(buf + at, t.text, l);
            at += l;
            buf[at] = '\0';
        }
    }
    return buf;
}

static inf_model *load_test_model(void)
{
    inf_registry_shutdown();
    inf_backend_desc d = test_backend_desc("tester", true, NULL);
    inf_register_backend(&d, NULL);
    return inf_load_model("anything", NULL, NULL);
}

static void test_streams(void)
{
    inf_model *m = load_test_model();
    CHECK(m != NULL);
    if (!m) return;
    CHECK_STREQ(inf_model_type(m), "test");
    inf_model_info info;
    CHECK(inf_model_info_get(m, &info) == INF_OK && info.vocab_size == 256);
    CHECK_STREQ(info.architecture, "test");

    inf_stream *s = inf_generate(m, "hello", NULL, NULL);
    CHECK_STREQ(collect(s), "hello");
    CHECK(inf_stream_status(s) == INF_OK);
    CHECK_STREQ(inf_stream_error(s), "");
    inf_token t;
    CHECK(!inf_stream_next(s, &t)); /* stays ended */
    inf_stream_free(s);

    inf_metrics mt;
    CHECK(inf_model_metrics(m, &mt) == INF_OK && mt.generated_tokens == 5 && mt.prompt_tokens == 5);

    /* max_tokens */
    inf_generate_config g;
    inf_generate_config_default(&g);
    g.max_tokens = 3;
    s = inf_generate(m, "hello", &g, NULL);
    CHECK_STREQ(collect(s), "hel");
    inf_stream_free(s);

    /* An error mid-stream: tokens, then false, then the status and Err(). */
    s = inf_generate(m, "!error", NULL, NULL);
    CHECK_STREQ(collect(s), "!e");
    CHECK(inf_stream_status(s) == INF_ERR_BACKEND);
    CHECK_STREQ(inf_stream_error(s), "test backend: induced failure");
    inf_error e;
    CHECK(inf_model_err(m, &e) == INF_ERR_BACKEND);
    CHECK_STREQ(e.message, "test backend: induced failure");
    inf_stream_free(s);
    /* The next good stream clears Err(). */
    s = inf_generate(m, "ok", NULL, NULL);
    collect(s);
    CHECK(inf_model_err(m, &e) == INF_OK);
    inf_stream_free(s);

    /* A bad option fails the stream, not the call. */
    g.top_p = 7;
    s = inf_generate(m, "x", &g, NULL);
    CHECK(s != NULL);
    CHECK(!inf_stream_next(s, &t));
    CHECK(inf_stream_status(s) == INF_ERR_INVALID_ARGUMENT);
    CHECK(strstr(inf_stream_error(s), "top_p") != NULL);
    inf_stream_free(s);

    /* Chat reaches the backend with the messages. */
    inf_message msgs[] = {{"system", "be brief"}, {"user", "hi"}};
    s = inf_chat(m, msgs, 2, NULL, NULL);
    CHECK_STREQ(collect(s), "system: be brief\nuser: hi\n");
    inf_stream_free(s);

    /* Freeing a stream early is fine. */
    s = inf_generate(m, "abcdef", NULL, NULL);
    CHECK(inf_stream_next(s, &t) && strcmp(t.text, "a") == 0 && t.id == 'a');
    inf_stream_free(s);
    inf_stream_free(NULL);
    inf_model_close(m);
    CHECK(test_backend_open_models() == 0);
}

static void test_stop_strings(void)
{
    inf_model *m = load_test_model();
    if (!m) return;
    inf_generate_config g;
    inf_generate_config_default(&g);
    const char *stops[] = {"wor", "zz"};
    g.stop_strings = stops;
    g.n_stop_strings = 2;
    inf_stream *s = inf_generate(m, "hello world", &g, NULL);
    CHECK_STREQ(collect(s), "hello ");
    CHECK(inf_stream_status(s) == INF_OK);
    inf_stream_free(s);

    /* A prefix of a stop string at the end is released. */
    s = inf_generate(m, "say wo", &g, NULL);
    CHECK_STREQ(collect(s), "say wo");
    inf_stream_free(s);

    /* Stop string at the very start: nothing emitted. */
    s = inf_generate(m, "zz top", &g, NULL);
    CHECK_STREQ(collect(s), "");
    CHECK(inf_stream_status(s) == INF_OK);
    inf_stream_free(s);

    /* Overlapping near-misses: "wowor" stops before the second "wo". */
    s = inf_generate(m, "wowor!", &g, NULL);
    CHECK_STREQ(collect(s), "wo");
    inf_stream_free(s);
    inf_model_close(m);
}

static void *cancel_later(void *arg)
{
    struct timespec ts = {0, 30000000};
    nanosleep(&ts, NULL);
    inf_cancel_trigger(arg);
    return NULL;
}

static void test_cancellation(void)
{
    inf_model *m = load_test_model();
    if (!m) return;
    inf_generate_config g;
    inf_generate_config_default(&g);
    g.max_tokens = 100000;

    CHECK(inf_cancel_status(NULL) == INF_OK);
    /* Before: the stream yields nothing and says cancelled. */
    inf_cancel *c = inf_cancel_new(NULL);
    CHECK(inf_cancel_status(c) == INF_OK);
    inf_cancel_trigger(c);
    inf_cancel_trigger(c); /* idempotent */
    CHECK(inf_cancel_status(c) == INF_ERR_CANCELLED);
    inf_stream *s = inf_generate(m, "hello", &g, c);
    CHECK_STREQ(collect(s), "");
    CHECK(inf_stream_status(s) == INF_ERR_CANCELLED);
    inf_stream_free(s);
    inf_cancel_free(c);

    /* During: another thread cancels an endless stream. */
    c = inf_cancel_new(NULL);
    pthread_t th;
    pthread_create(&th, NULL, cancel_later, c);
    s = inf_generate(m, "!slow", &g, c);
    const char *out = collect(s);
    CHECK(strlen(out) > 0 && strlen(out) < 100000);
    CHECK(inf_stream_status(s) == INF_ERR_CANCELLED);
    CHECK(strstr(inf_stream_error(s), "cancel") != NULL);
    inf_stream_free(s);
    pthread_join(th, NULL);
    inf_cancel_free(c);

    /* A child follows its parent. */
    inf_cancel *parent = inf_cancel_new(NULL);
    inf_cancel *child = inf_cancel_new(parent);
    CHECK(inf_cancel_status(child) == INF_OK);
    inf_cancel_trigger(parent);
    CHECK(inf_cancel_status(child) == INF_ERR_CANCELLED);
    inf_cancel_free(child);
    inf_cancel_free(parent);

    /* Deadline. */
    c = inf_cancel_new(NULL);
    inf_cancel_set_timeout(c, 40);
    s = inf_generate(m, "!slow", &g, c);
    collect(s);
    CHECK(inf_stream_status(s) == INF_ERR_DEADLINE_EXCEEDED);
    inf_stream_free(s);
    inf_cancel_set_timeout(c, -1);
    CHECK(inf_cancel_status(c) == INF_OK);
    inf_cancel_free(c);

    /* Close with a live stream: the stream ends cancelled, the model lives
     * until the stream is freed. */
    s = inf_generate(m, "!slow", &g, NULL);
    inf_token t;
    CHECK(inf_stream_next(s, &t));
    CHECK(inf_model_close(m) == INF_OK);
    CHECK(test_backend_open_models() == 1);
    while (inf_stream_next(s, &t)) {}
    CHECK(inf_stream_status(s) == INF_ERR_CANCELLED);
    inf_stream_free(s);
    CHECK(test_backend_open_models() == 0);
}

static int count_tokens(const inf_token *tok, void *user)
{
    (void)tok;
    int *n = user;
    return ++*n >= 3; /* stop after three */
}

static void test_callback_and_batches(void)
{
    inf_model *m = load_test_model();
    if (!m) return;
    int n = 0;
    inf_error e;
    CHECK(inf_generate_each(m, "abcdef", NULL, NULL, count_tokens, &n, &e) == INF_OK);
    CHECK(n == 3);
    n = 0;
    CHECK(inf_generate_each(m, "!error", NULL, NULL, NULL, NULL, &e) == INF_ERR_BACKEND);
    CHECK_STREQ(e.message, "test backend: induced failure");
    inf_message msg = {"user", "x"};
    n = 0;
    CHECK(inf_chat_each(m, &msg, 1, NULL, NULL, count_tokens, &n, &e) == INF_OK && n == 3);

    const char *prompts[] = {"alpha", "!error", "beta"};
    inf_classify_result *cr = NULL;
    inf_generate_config g;
    inf_generate_config_default(&g);
    CHECK(inf_classify(m, prompts, 3, &g, NULL, &cr, &e) == INF_OK);
    CHECK(cr && cr[0].token.id == 'a' && strcmp(cr[2].token.text, "b") == 0 && cr[0].logits == NULL);
    inf_classify_results_free(cr, 3);
    g.logits = true;
    CHECK(inf_classify(m, prompts, 3, &g, NULL, &cr, &e) == INF_OK);
    CHECK(cr && cr[1].n_logits == 4 && cr[1].logits[3] == 3.0f);
    inf_classify_results_free(cr, 3);
    inf_cancel *c = inf_cancel_new(NULL);
    inf_cancel_trigger(c);
    CHECK(inf_classify(m, prompts, 3, &g, c, &cr, &e) == INF_ERR_CANCELLED && cr == NULL);
    inf_cancel_free(c);
    const char *with_null[] = {"a", NULL};
    CHECK(inf_classify(m, with_null, 2, &g, NULL, &cr, &e) == INF_ERR_INVALID_ARGUMENT);

    inf_batch_result *br = NULL;
    g.max_tokens = 4;
    CHECK(inf_batch_generate(m, prompts, 3, &g, NULL, &br, &e) == INF_OK);
    CHECK(br && br[0].n_tokens == 4 && br[0].status == INF_OK && br[0].error == NULL);
    CHECK(br && br[1].status == INF_ERR_BACKEND && br[1].error && strstr(br[1].error, "induced"));
    CHECK(br && br[2].n_tokens == 4 && strcmp(br[2].tokens[3].text, "a") == 0);
    inf_batch_results_free(br, 3);
    CHECK(inf_batch_generate(m, prompts, 0, &g, NULL, &br, &e) == INF_OK);
    inf_batch_results_free(br, 0);

    /* Optional operations the backend lacks: a clear unsupported error. */
    int32_t *ids = NULL;
    size_t n_ids = 0;
    CHECK(inf_model_tokenize(m, "x", 1, 0, &ids, &n_ids, &e) == INF_ERR_UNSUPPORTED);
    CHECK(strstr(e.message, "tokenize") != NULL);
    inf_model_close(m);
    CHECK(inf_model_close(NULL) == INF_OK);
}

int main(void)
{
    setenv("INFERENCE_NO_BUILTIN_BACKENDS", "1", 1);
    unsetenv("INFERENCE_PLUGIN_PATH");
    test_version();
    test_defaults();
    test_config_checks();
    test_no_backends();
    test_registry();
    test_load_routing();
    test_streams();
    test_stop_strings();
    test_cancellation();
    test_callback_and_batches();
    inf_registry_shutdown();
    return TEST_DONE();
}
