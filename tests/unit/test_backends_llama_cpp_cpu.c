/* test_backends_llama_cpp_cpu.c - the real engine behind HTTP: stories260K.gguf on
 * the `cpu` backend, served by our server in process, driven through the
 * llama_cpp backend in both protocols. Greedy generation over HTTP must give
 * exactly the text (and, natively, the token ids) of the direct in-process
 * generation, and both the ids of llama.cpp's greedy reference
 * (testdata/models/stories260K.greedy_ids.txt). Tokenize/detokenize
 * round-trip through the server. */
#include "test_util.h"

#if defined(INF_HAVE_MHD) && defined(INF_HAVE_CURL)

#include "inference.h"
#include "serve/server.h"
#include "srv_http_client.h"

#include <signal.h>

#define N_TOK 40

typedef struct run {
    char text[4096];
    int32_t ids[N_TOK];
    int n;
    inf_status st;
    char err[512];
} run;

static void generate(inf_model *m, const char *prompt, run *r)
{
    inf_generate_config cfg;
    inf_generate_config_default(&cfg);
    cfg.max_tokens = N_TOK;
    memset(r, 0, sizeof *r);
    inf_stream *s = inf_generate(m, prompt, &cfg, NULL);
    inf_token t;
    while (inf_stream_next(s, &t)) {
        strncat(r->text, t.text, sizeof r->text - strlen(r->text) - 1);
        if (r->n < N_TOK) r->ids[r->n] = t.id;
        r->n++;
    }
    r->st = inf_stream_status(s);
    snprintf(r->err, sizeof r->err, "%s", inf_stream_error(s));
    inf_stream_free(s);
}

static int read_golden(int32_t *ids, int cap)
{
    const char *p = test_data_path("models/stories260K.greedy_ids.txt");
    FILE *f = p ? fopen(p, "r") : NULL;
    int n = 0;
    if (!f) return 0;
    while (n < cap && fscanf(f, "%d", &ids[n]) == 1) n++;
    fclose(f);
    return n;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const char *path = test_data_path("models/stories260K.gguf");
    if (!path) TEST_FAIL("testdata/models/stories260K.gguf is absent");
    char gguf[4096];
    snprintf(gguf, sizeof gguf, "%s", path);
    inf_load_config lc;
    inf_load_config_default(&lc);
    lc.backend = "cpu";
    inf_error err;
    inf_model *direct = inf_load_model(gguf, &lc, &err);
    if (!direct) TEST_FAIL("the cpu backend cannot load stories260K yet: %s", err.message);
    run want;
    generate(direct, "Once upon a time", &want);
    if (want.st != INF_OK || want.n == 0) {
        inf_model_close(direct);
        TEST_FAIL("the cpu backend cannot generate yet: %s", want.err);
    }

    struct inf_server_options o = test_server_options(direct);
    o.model_path = gguf;
    o.parallel = 2;
    inf_server *srv = test_server_start(&o, NULL);
    if (!srv) return TEST_DONE();

    int32_t golden[N_TOK];
    int n_golden = read_golden(golden, N_TOK);
    run empty_direct;
    generate(direct, "", &empty_direct);
    bool direct_matches_golden = n_golden == N_TOK && empty_direct.n == N_TOK &&
                                 memcmp(empty_direct.ids, golden, sizeof golden) == 0;
    CHECK_MSG(direct_matches_golden, "the cpu backend's greedy ids from BOS differ from llama.cpp's");

    for (int openai = 0; openai < 2; openai++) {
        char url[128];
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", inf_server_port(srv), openai ? "/v1" : "");
        inf_model *m = inf_load_model(url, NULL, &err); /* routed to llama_cpp by the URL */
        CHECK_MSG(m != NULL, "%s: %s", url, err.message);
        if (!m) continue;
        CHECK_STREQ(inf_model_type(m), "llama");
        inf_model_info info;
        inf_model_info_get(m, &info);
        CHECK(info.vocab_size == 512);
        run got;
        generate(m, "Once upon a time", &got);
        CHECK_MSG(got.st == INF_OK, "%s", got.err);
        CHECK_MSG(strcmp(got.text, want.text) == 0, "%s:\n  http:   %s\n  direct: %s", url, got.text, want.text);
        CHECK(got.n == want.n);
        if (!openai) {
            CHECK(memcmp(got.ids, want.ids, sizeof(int32_t) * (size_t)(want.n < N_TOK ? want.n : N_TOK)) == 0);
            run g;
            generate(m, "", &g);
            CHECK(g.n == N_TOK && memcmp(g.ids, golden, sizeof golden) == 0);
            int32_t *ids = NULL;
            size_t n = 0;
            CHECK(inf_model_tokenize(m, "Once upon a time", 16, INF_TOKENIZE_ADD_SPECIAL, &ids, &n, &err) == INF_OK);
            int32_t *ids2 = NULL;
            size_t n2 = 0;
            CHECK(inf_model_tokenize(direct, "Once upon a time", 16, INF_TOKENIZE_ADD_SPECIAL, &ids2, &n2, &err) == INF_OK);
            CHECK(n == n2 && n > 0 && memcmp(ids, ids2, n * sizeof *ids) == 0);
            inf_free(ids);
            inf_free(ids2);
        }
        inf_model_close(m);
    }
    inf_server_stop(srv);
    inf_model_close(direct);
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
