/* test_backends_cpu_hf.c - Hugging Face directories through the public contract
 * (LoadModel on the cpu backend): ModelType is config.json's model_type,
 * Info reports the quantisation from config.json, and greedy generation
 * from a directory gives exactly the tokens of its GGUF conversion (the
 * tokenizer from tokenizer.json, the weights from safetensors). */
#include "inference.h"
#include "test_util.h"

#include <unistd.h>

static char td[2048];

static inf_model *load(const char *rel, inf_error *err)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/models/random/%s", td, rel);
    inf_load_config cfg;
    inf_load_config_default(&cfg);
    cfg.backend = "cpu";
    cfg.threads = 2;
    cfg.context_len = 256;
    return inf_load_model(p, &cfg, err);
}

/* Greedy ids of prompt, up to max (returns the count). */
static int greedy(inf_model *m, const char *prompt, int32_t *ids, int max)
{
    inf_generate_config g;
    inf_generate_config_default(&g);
    g.max_tokens = max;
    g.temperature = 0;
    inf_stream *s = inf_generate(m, prompt, &g, NULL);
    int n = 0;
    inf_token t;
    while (s && inf_stream_next(s, &t))
        if (n < max) ids[n++] = t.id;
    CHECK_MSG(s && inf_stream_status(s) == INF_OK, "stream: %s", s ? inf_stream_error(s) : "NULL");
    inf_stream_free(s);
    return n;
}

/* Ids of text with the model's own special-token rule. */
static size_t tokenize(inf_model *m, const char *text, int32_t *out, size_t max)
{
    int32_t *ids = NULL;
    size_t n = 0;
    inf_error err;
    if (inf_model_tokenize(m, text, strlen(text), INF_TOKENIZE_ADD_SPECIAL, &ids, &n, &err) != INF_OK) return 0;
    if (n > max) n = max;
    memcpy(out, ids, n * sizeof *ids);
    inf_free(ids);
    return n;
}

/* bos_rule_differs: the GGUF conversion has no add_bos_token key, so
 * llama.cpp's llama-bpe default (add BOS) applies to it, while the
 * directory's tokenizer.json adds none (testdata's README): the prompts
 * then differ by that BOS and only the tokenizations are compared. */
static void same_as_gguf(const char *dir, const char *gguf, const char *type, int bos_rule_differs)
{
    inf_error err;
    inf_model *h = load(dir, &err);
    CHECK_MSG(h != NULL, "%s: %s", dir, err.message);
    inf_model *g = load(gguf, &err);
    CHECK_MSG(g != NULL, "%s: %s", gguf, err.message);
    if (h && g) {
        CHECK_STREQ(inf_model_type(h), type);
        inf_model_info hi, gi;
        CHECK(inf_model_info_get(h, &hi) == INF_OK && inf_model_info_get(g, &gi) == INF_OK);
        CHECK(hi.vocab_size == gi.vocab_size && hi.num_layers == gi.num_layers && hi.hidden_size == gi.hidden_size);
        CHECK(hi.quant_bits == 0 && hi.quant_group == 0);
        int32_t ta[64], tb[64];
        size_t nta = tokenize(h, "Once upon a time", ta, 64), ntb = tokenize(g, "Once upon a time", tb, 64);
        if (bos_rule_differs) {
            CHECK(nta > 0 && ntb == nta + 1 && memcmp(ta, tb + 1, nta * sizeof *ta) == 0);
            inf_model_close(h);
            inf_model_close(g);
            return;
        }
        CHECK(nta > 0 && nta == ntb && memcmp(ta, tb, nta * sizeof *ta) == 0);
        int32_t a[16], b[16];
        int na = greedy(h, "Once upon a time", a, 16), nb = greedy(g, "Once upon a time", b, 16);
        CHECK_MSG(na == 16 && na == nb && memcmp(a, b, sizeof a) == 0, "%s: greedy ids differ from %s", dir, gguf);
        printf("%-22s greedy ids = its GGUF's: %s\n", dir, na == nb && memcmp(a, b, sizeof a) == 0 ? "yes" : "NO");
    }
    inf_model_close(h);
    inf_model_close(g);
}

int main(void)
{
    snprintf(td, sizeof td, "%s", test_data_root());
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/models/random/qwen3-tiny-hf-bf16/config.json", td);
    if (access(probe, R_OK) != 0) TEST_FAIL("test data absent");

    same_as_gguf("qwen3-tiny-hf-bf16", "qwen3-tiny-hf-bf16.gguf", "qwen3", 0);
    same_as_gguf("llama3-tiny-hf-f16", "llama3-tiny-hf-f16.gguf", "llama", 1);

    inf_error err;
    inf_model *m = load("gemma3-tiny-hf-bf16", &err);
    CHECK_MSG(m != NULL, "gemma3: %s", err.message);
    if (m) {
        CHECK_STREQ(inf_model_type(m), "gemma3_text");
        int32_t ids[8];
        CHECK(greedy(m, "Once upon a time", ids, 8) == 8);
        inf_model_close(m);
    }
    /* MLX: Info from config.json, and generation on MLX blocks. */
    m = load("qwen3-tiny-mlx4", &err);
    CHECK_MSG(m != NULL, "the MLX directory does not load: %s", err.message);
    if (m) {
        inf_model_info info;
        CHECK(inf_model_info_get(m, &info) == INF_OK && info.quant_bits == 4 && info.quant_group == 64);
        CHECK_STREQ(inf_model_type(m), "qwen3");
        int32_t ids[8];
        CHECK(greedy(m, "Once upon a time", ids, 8) == 8);
        inf_model_close(m);
    }
    /* A folder without config.json is not a model. */
    m = load("", &err);
    CHECK(m == NULL && err.status != INF_OK);
    inf_registry_shutdown();
    return TEST_DONE();
}
