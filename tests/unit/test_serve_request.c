/* test_serve_request.c - the server's request parser (src/server/request.c)
 * on its own: the fields of each endpoint, the defaults, the errors naming
 * the field, and robustness: every truncation of valid bodies, and random
 * byte mutations, must parse or fail cleanly (run under ASan in CI). */
#include "test_util.h"

#ifdef INF_HAVE_MHD

#include "serve/request.h"

#include <stdint.h>

static int parse(srv_endpoint ep, const char *body, srv_request *r, inf_error *err)
{
    return srv_request_parse(ep, body, strlen(body), r, err);
}

static void test_completion_fields(void)
{
    srv_request r;
    inf_error err = {0};
    CHECK(parse(SRV_EP_OAI_COMPLETION,
                "{\"model\":\"m\",\"prompt\":\"hi\",\"max_tokens\":7,\"temperature\":0.5,\"top_p\":0.9,\"top_k\":40,"
                "\"min_p\":0.1,\"seed\":42,\"stop\":[\"a\",\"\",\"bc\"],\"stream\":true,"
                "\"stream_options\":{\"include_usage\":true},\"logprobs\":3,\"unknown\":{\"x\":[1]}}", &r, &err) == 0);
    CHECK_STREQ(r.model, "m");
    CHECK_STREQ(r.prompt, "hi");
    CHECK(r.cfg.max_tokens == 7);
    CHECK(r.cfg.temperature == 0.5f);
    CHECK(r.cfg.top_p == 0.9f);
    CHECK(r.cfg.top_k == 40);
    CHECK(r.cfg.min_p == 0.1f);
    CHECK(r.cfg.seed == 42);
    CHECK(r.n_stop == 2 && r.cfg.n_stop_strings == 2);
    CHECK_STREQ(r.cfg.stop_strings[1], "bc");
    CHECK(r.stream && r.include_usage);
    CHECK(r.n_probs == 3);
    srv_request_free(&r);

    /* Defaults: the library's (greedy, 256 tokens, random seed). */
    CHECK(parse(SRV_EP_OAI_COMPLETION, "{\"prompt\":\"hi\"}", &r, &err) == 0);
    CHECK(r.cfg.max_tokens == 256 && r.cfg.temperature == 0.0f && r.cfg.seed == INF_SEED_RANDOM && !r.stream);
    srv_request_free(&r);

    /* Neutral values mean "off"; -1 means unbounded / random. */
    CHECK(parse(SRV_EP_NATIVE_COMPLETION, "{\"prompt\":[1,2,3],\"n_predict\":-1,\"top_p\":1.0,\"top_k\":-1,\"seed\":-1,"
                "\"n_probs\":500,\"stop\":\"x\"}", &r, &err) == 0);
    CHECK(r.prompt == NULL && r.n_prompt_tokens == 3 && r.prompt_tokens[2] == 3);
    CHECK(r.cfg.max_tokens == -1 && r.cfg.top_p == 0.0f && r.cfg.top_k == 0 && r.cfg.seed == INF_SEED_RANDOM);
    CHECK(r.n_probs == SRV_MAX_N_PROBS);
    CHECK(r.n_stop == 1);
    srv_request_free(&r);

    CHECK(parse(SRV_EP_OAI_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":null},"
                "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"text\":\"b\"}]}],"
                "\"max_completion_tokens\":3,\"logprobs\":true,\"top_logprobs\":2}", &r, &err) == 0);
    CHECK(r.n_messages == 2);
    CHECK_STREQ(r.messages[0].content, "");
    CHECK_STREQ(r.messages[1].content, "ab");
    CHECK(r.cfg.max_tokens == 3 && r.n_probs == 2);
    srv_request_free(&r);

    CHECK(parse(SRV_EP_TOKENIZE, "{\"content\":\"x\",\"add_special\":true,\"with_pieces\":true}", &r, &err) == 0);
    CHECK(r.add_special && r.parse_special && r.with_pieces);
    srv_request_free(&r);
    CHECK(parse(SRV_EP_DETOKENIZE, "{\"tokens\":[]}", &r, &err) == 0);
    CHECK(r.n_tokens == 0);
    srv_request_free(&r);
}

static void expect_fail(srv_endpoint ep, const char *body, const char *needle)
{
    srv_request r;
    inf_error err = {0};
    CHECK_MSG(parse(ep, body, &r, &err) != 0, "accepted: %s", body);
    CHECK_MSG(strstr(err.message, needle) != NULL, "%s -> \"%s\" lacks \"%s\"", body, err.message, needle);
    CHECK(r.prompt == NULL && r.messages == NULL && r.stop == NULL);
}

static void test_errors(void)
{
    expect_fail(SRV_EP_OAI_COMPLETION, "", "empty");
    expect_fail(SRV_EP_OAI_COMPLETION, "{", "not valid JSON");
    expect_fail(SRV_EP_OAI_COMPLETION, "\"x\"", "JSON object");
    expect_fail(SRV_EP_OAI_COMPLETION, "{}", "prompt");
    expect_fail(SRV_EP_OAI_COMPLETION, "{\"prompt\":5}", "prompt");
    expect_fail(SRV_EP_OAI_COMPLETION, "{\"prompt\":[\"a\",\"b\"]}", "one prompt");
    expect_fail(SRV_EP_OAI_COMPLETION, "{\"prompt\":[1,-2]}", "token id");
    expect_fail(SRV_EP_OAI_COMPLETION, "{\"prompt\":\"a\",\"max_tokens\":1e20}", "max_tokens");
    expect_fail(SRV_EP_OAI_COMPLETION, "{\"prompt\":\"a\",\"max_tokens\":2.5}", "max_tokens");
    expect_fail(SRV_EP_OAI_COMPLETION, "{\"prompt\":\"a\",\"temperature\":\"hot\"}", "temperature");
    expect_fail(SRV_EP_OAI_COMPLETION, "{\"prompt\":\"a\",\"stream\":1}", "stream");
    expect_fail(SRV_EP_OAI_COMPLETION, "{\"prompt\":\"a\",\"seed\":-7}", "seed");
    expect_fail(SRV_EP_OAI_COMPLETION, "{\"prompt\":\"a\",\"stop\":{}}", "stop");
    expect_fail(SRV_EP_OAI_CHAT, "{\"messages\":{}}", "messages");
    expect_fail(SRV_EP_OAI_CHAT, "{\"messages\":[1]}", "messages[0]");
    expect_fail(SRV_EP_OAI_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":5}]}", "content");
    expect_fail(SRV_EP_OAI_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", "image_url");
    expect_fail(SRV_EP_TOKENIZE, "{\"content\":1}", "content");
    expect_fail(SRV_EP_DETOKENIZE, "{\"tokens\":[\"a\"]}", "tokens");
    expect_fail(SRV_EP_APPLY_TEMPLATE, "{}", "messages");
}

/* Deterministic pseudo-random numbers for the mutations. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_classify_fields(void)
{
    srv_request r;
    inf_error err = {0};
    CHECK(parse(SRV_EP_CLASSIFY, "{\"prompts\":[\"a\",\"\",\"bc\"],\"logits\":true,\"temperature\":0.7,\"seed\":3}",
                &r, &err) == 0);
    CHECK(r.n_prompts == 3);
    CHECK_STREQ(r.prompts[0], "a");
    CHECK_STREQ(r.prompts[1], "");
    CHECK_STREQ(r.prompts[2], "bc");
    CHECK(r.cfg.logits && r.cfg.temperature == 0.7f && r.cfg.seed == 3);
    srv_request_free(&r);
    CHECK(parse(SRV_EP_CLASSIFY, "{\"prompts\":[\"a\"]}", &r, &err) == 0);
    CHECK(!r.cfg.logits && r.cfg.temperature == 0.0f);
    srv_request_free(&r);
    expect_fail(SRV_EP_CLASSIFY, "{}", "prompts");
    expect_fail(SRV_EP_CLASSIFY, "{\"prompts\":\"a\"}", "prompts");
    expect_fail(SRV_EP_CLASSIFY, "{\"prompts\":[]}", "empty");
    expect_fail(SRV_EP_CLASSIFY, "{\"prompts\":[\"a\",null]}", "prompts\"[1]");
    expect_fail(SRV_EP_CLASSIFY, "{\"prompts\":[\"a\"],\"logits\":1}", "logits");
    expect_fail(SRV_EP_CLASSIFY, "{\"prompts\":[\"a\"],\"stream\":true}", "stream");
}

static void test_robustness(void)
{
    static const struct { srv_endpoint ep; const char *body; } seeds[] = {
        {SRV_EP_OAI_COMPLETION, "{\"prompt\":\"hi\",\"max_tokens\":7,\"stop\":[\"a\",\"b\"],\"temperature\":0.5,\"seed\":1}"},
        {SRV_EP_NATIVE_COMPLETION, "{\"prompt\":[1,2,3],\"n_predict\":-1,\"n_probs\":5,\"stream\":true}"},
        {SRV_EP_OAI_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"}]}],\"stream\":false}"},
        {SRV_EP_TOKENIZE, "{\"content\":\"h\\u00e9llo\",\"with_pieces\":true}"},
        {SRV_EP_DETOKENIZE, "{\"tokens\":[1,2,3]}"},
        {SRV_EP_APPLY_TEMPLATE, "{\"messages\":[{\"role\":\"system\",\"content\":\"x\"}]}"},
        {SRV_EP_CLASSIFY, "{\"prompts\":[\"a\",\"bc\"],\"logits\":true,\"temperature\":0.5}"},
    };
    int parsed = 0, rejected = 0;
    inf_error err = {0};
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        size_t len = strlen(seeds[s].body);
        /* Every prefix, from a heap copy of exactly that length (no NUL
         * after it), so that reading past the end is caught. */
        for (size_t cut = 0; cut <= len; cut++) {
            char *b = malloc(cut ? cut : 1);
            memcpy(b, seeds[s].body, cut);
            srv_request r;
            if (srv_request_parse(seeds[s].ep, b, cut, &r, &err) == 0) { parsed++; srv_request_free(&r); }
            else rejected++;
            free(b);
        }
        for (int k = 0; k < 3000; k++) {
            char *b = malloc(len);
            memcpy(b, seeds[s].body, len);
            int flips = 1 + (int)(rng() % 4);
            for (int f = 0; f < flips; f++) {
                static const char pool[] = "{}[]\",:0-9e.\\ntfu";
                size_t at = rng() % len;
                b[at] = (rng() & 1) ? pool[rng() % (sizeof pool - 1)] : (char)(rng() & 0xFF);
            }
            srv_request r;
            if (srv_request_parse(seeds[s].ep, b, len, &r, &err) == 0) { parsed++; srv_request_free(&r); }
            else { rejected++; CHECK(err.message[0] != '\0'); }
            free(b);
        }
    }
    CHECK(parsed > 6 && rejected > 1000);
    printf("robustness: %d parsed, %d rejected\n", parsed, rejected);
}

int main(void)
{
    test_completion_fields();
    test_errors();
    test_classify_fields();
    test_robustness();
    return TEST_DONE();
}

#else
int main(void)
{
    (void)test_passed_count;
    (void)test_failed_count;
    TEST_FAIL("built without libmicrohttpd");
}
#endif
