/* test_core_hostile_model.c - hostile model files through the public API:
 * copies of stories260K.gguf, generated here, with non-finite weights,
 * absurd hyper-parameters, a missing tensor, or cut short.
 *
 * NaN/Inf weights must give a clear run-time error from the stream ("the
 * model produced NaN logits"), never tokens made from garbage. The
 * others must fail inf_load_model with a message (or, where the engine
 * caps a value, load and generate normally), without crashing and without
 * trying to allocate what the file claims. */
#include "inference.h"
#include "formats/gguf.h"
#include "test_util.h"

#include <math.h>
#include <unistd.h>

static unsigned char *orig;
static size_t orig_size;
static char tmp_path[4096];

static int read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    orig = malloc((size_t)n);
    orig_size = fread(orig, 1, (size_t)n, f);
    fclose(f);
    return orig_size == (size_t)n ? 0 : -1;
}

static int write_tmp(const unsigned char *data, size_t n)
{
    FILE *f = fopen(tmp_path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

/* A copy of the original with tensor `name`'s data filled by fill(i). */
static unsigned char *with_tensor_values(const char *name, float (*fill)(size_t i))
{
    struct gguf_file *g = NULL;
    inf_error err = {0};
    if (gguf_open_memory(orig, orig_size, "stories260K.gguf", &g, &err) != 0) return NULL;
    const struct gguf_tensor *t = gguf_get_tensor(g, name);
    unsigned char *c = NULL;
    if (t && t->type == 0) {
        c = malloc(orig_size);
        memcpy(c, orig, orig_size);
        for (size_t i = 0; i < t->size / 4; i++) {
            float v = fill(i);
            memcpy(c + t->file_offset + 4 * i, &v, 4);
        }
    }
    gguf_close(g);
    return c;
}

static float all_nan(size_t i) { (void)i; return NAN; }
static float all_inf(size_t i) { (void)i; return INFINITY; }
static float one_nan(size_t i) { return i == 100 ? NAN : 0.01f * (float)(i % 7); }

/* Loads tmp_path and generates; returns the stream status, the number of
 * tokens in *n_tokens and the message in msg. Load failures return the load
 * status with *loaded = 0. */
static inf_status load_and_generate(int *loaded, int *n_tokens, char *msg, size_t msg_size)
{
    inf_load_config lc;
    inf_load_config_default(&lc);
    lc.backend = "cpu";
    lc.threads = 1;
    inf_error e;
    *n_tokens = 0;
    inf_model *m = inf_load_model(tmp_path, &lc, &e);
    *loaded = m != NULL;
    if (!m) {
        snprintf(msg, msg_size, "%s", e.message);
        return e.status;
    }
    inf_generate_config cfg;
    inf_generate_config_default(&cfg);
    cfg.max_tokens = 16;
    cfg.temperature = 0;
    inf_stream *s = inf_generate(m, "Once upon a time", &cfg, NULL);
    inf_token tok;
    while (s && inf_stream_next(s, &tok)) (*n_tokens)++;
    inf_status st = s ? inf_stream_status(s) : INF_ERR_NO_MEMORY;
    snprintf(msg, msg_size, "%s", s ? inf_stream_error(s) : "no stream");
    inf_stream_free(s);
    inf_model_close(m);
    return st;
}

static void expect_nan_error(const char *what, unsigned char *data)
{
    CHECK_MSG(data != NULL, "%s: could not build the file", what);
    if (!data) return;
    CHECK(write_tmp(data, orig_size) == 0);
    free(data);
    int loaded, n;
    char msg[512];
    inf_status st = load_and_generate(&loaded, &n, msg, sizeof msg);
    CHECK_MSG(loaded, "%s: load failed: %s", what, msg);
    CHECK_MSG(st == INF_ERR_BACKEND, "%s: stream status %s (%s), want backend error", what, inf_status_name(st), msg);
    CHECK_MSG(strstr(msg, "NaN") != NULL, "%s: message '%s' does not say NaN", what, msg);
    CHECK_MSG(n == 0, "%s: %d tokens generated from non-finite weights", what, n);
    printf("%-28s -> %s: %s\n", what, inf_status_name(st), msg);
}

/* Offset of the u32 value of metadata key `key` in the original. */
static size_t u32_value_offset(const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 8; i + kl + 8 <= orig_size && i < (1u << 20); i++) {
        uint64_t len;
        memcpy(&len, orig + i - 8, 8);
        if (len == kl && memcmp(orig + i, key, kl) == 0) return i + kl + 4;
    }
    return 0;
}

/* Patches a u32 key and loads; the load must fail with a message or the
 * model must generate normally. */
static void expect_clean_outcome(const char *what, const char *key, uint32_t value)
{
    size_t off = u32_value_offset(key);
    CHECK_MSG(off != 0, "%s: key %s not found", what, key);
    if (!off) return;
    unsigned char *c = malloc(orig_size);
    memcpy(c, orig, orig_size);
    memcpy(c + off, &value, 4);
    CHECK(write_tmp(c, orig_size) == 0);
    free(c);
    int loaded, n;
    char msg[512];
    inf_status st = load_and_generate(&loaded, &n, msg, sizeof msg);
    if (!loaded) CHECK_MSG(st != INF_OK && msg[0], "%s: load failed without a message", what);
    else CHECK_MSG(st == INF_OK || msg[0], "%s: stream failed without a message", what);
    printf("%-28s -> %s %s: %s\n", what, loaded ? "loaded, stream" : "load", inf_status_name(st), msg);
}

static void expect_load_error(const char *what, const unsigned char *data, size_t n, const char *want)
{
    CHECK(write_tmp(data, n) == 0);
    int loaded, nt;
    char msg[512];
    inf_status st = load_and_generate(&loaded, &nt, msg, sizeof msg);
    CHECK_MSG(!loaded, "%s: loaded", what);
    CHECK_MSG(st != INF_OK && msg[0], "%s: no error message", what);
    if (want) CHECK_MSG(strstr(msg, want) != NULL, "%s: message '%s' lacks '%s'", what, msg, want);
    printf("%-28s -> %s: %s\n", what, inf_status_name(st), msg);
}

/* Load-time limits asked by the caller: absurd context lengths and slot
 * counts must be refused or capped with the model still working, never
 * attempted (a 2^31-token KV cache) or crash. */
static void test_resource_limits(const char *path)
{
    const int contexts[] = {0x7fffffff, 1 << 24, -5};
    for (size_t i = 0; i < sizeof contexts / sizeof contexts[0]; i++) {
        inf_load_config lc;
        inf_load_config_default(&lc);
        lc.backend = "cpu";
        lc.threads = 1;
        lc.context_len = contexts[i];
        inf_error e;
        inf_model *m = inf_load_model(path, &lc, &e);
        if (m) {
            inf_model_info info;
            CHECK(inf_model_info_get(m, &info) == INF_OK);
            CHECK_MSG(info.context_len > 0,
                      "context_len %d loaded as %d", contexts[i], info.context_len);
            inf_model_close(m);
        } else {
            CHECK_MSG(e.status != INF_OK && e.message[0], "context_len %d: failed without a message", contexts[i]);
        }
        printf("context_len %-10d -> %s\n", contexts[i], m ? "loaded (capped)" : e.message);
    }
    const int slots[] = {100000, -1};
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        inf_load_config lc;
        inf_load_config_default(&lc);
        lc.backend = "cpu";
        lc.threads = 1;
        lc.parallel_slots = slots[i];
        inf_error e;
        inf_model *m = inf_load_model(path, &lc, &e);
        if (!m) CHECK_MSG(e.message[0], "parallel_slots %d: failed without a message", slots[i]);
        printf("parallel_slots %-7d -> %s\n", slots[i], m ? "loaded" : e.message);
        inf_model_close(m);
    }
    /* a prompt longer than the context is reported by the stream */
    inf_load_config lc;
    inf_load_config_default(&lc);
    lc.backend = "cpu";
    lc.threads = 1;
    lc.context_len = 32;
    inf_error e;
    inf_model *m = inf_load_model(path, &lc, &e);
    CHECK_MSG(m != NULL, "context_len 32: %s", e.message);
    if (!m) return;
    char prompt[2048] = "";
    for (int i = 0; i < 100; i++) strcat(prompt, "Once upon ");
    inf_generate_config cfg;
    inf_generate_config_default(&cfg);
    cfg.max_tokens = 8;
    inf_stream *s = inf_generate(m, prompt, &cfg, NULL);
    inf_token tok;
    int n = 0;
    while (s && inf_stream_next(s, &tok)) n++;
    CHECK_MSG(s && inf_stream_status(s) == INF_ERR_CONTEXT_OVERFLOW, "over-long prompt: %s (%s)",
              s ? inf_status_name(inf_stream_status(s)) : "no stream", s ? inf_stream_error(s) : "");
    printf("prompt over the context   -> %s\n", s ? inf_stream_error(s) : "");
    inf_stream_free(s);
    inf_model_close(m);
}

int main(void)
{
    const char *path = test_data_path("models/stories260K.gguf");
    if (!path) TEST_FAIL("models/stories260K.gguf is missing");
    CHECK(read_file(path) == 0);
    const char *tmpdir = getenv("TMPDIR");
    snprintf(tmp_path, sizeof tmp_path, "%s/inf_hostile_%d.gguf", tmpdir ? tmpdir : "/tmp", (int)getpid());

    /* the unmodified copy must work, or nothing below means anything */
    CHECK(write_tmp(orig, orig_size) == 0);
    int loaded, n;
    char msg[512];
    inf_status st = load_and_generate(&loaded, &n, msg, sizeof msg);
    if (!loaded) { unlink(tmp_path); TEST_FAIL("the cpu backend cannot load stories260K yet: %s", msg); }
    CHECK_MSG(st == INF_OK && n > 0, "unmodified copy: %s, %d tokens", msg, n);

    expect_nan_error("NaN output.weight", with_tensor_values("output.weight", all_nan));
    expect_nan_error("Inf token_embd.weight", with_tensor_values("token_embd.weight", all_inf));
    expect_nan_error("one NaN in blk.0.attn_q", with_tensor_values("blk.0.attn_q.weight", one_nan));
    expect_nan_error("NaN output_norm.weight", with_tensor_values("output_norm.weight", all_nan));

    expect_clean_outcome("block_count 1000000", "llama.block_count", 1000000);
    expect_clean_outcome("block_count 0", "llama.block_count", 0);
    expect_clean_outcome("context_length 2^31-1", "llama.context_length", 0x7fffffffu);
    expect_clean_outcome("context_length 0", "llama.context_length", 0);
    expect_clean_outcome("embedding_length 65", "llama.embedding_length", 65);
    expect_clean_outcome("embedding_length 2^31", "llama.embedding_length", 0x80000000u);
    expect_clean_outcome("head_count 0", "llama.attention.head_count", 0);
    expect_clean_outcome("head_count 7", "llama.attention.head_count", 7);
    expect_clean_outcome("head_count_kv 0", "llama.attention.head_count_kv", 0);
    expect_clean_outcome("head_count_kv 3", "llama.attention.head_count_kv", 3);
    expect_clean_outcome("feed_forward_length huge", "llama.feed_forward_length", 0xffffffffu);
    expect_clean_outcome("rope dims 1000", "llama.rope.dimension_count", 1000);
    expect_clean_outcome("bos id out of range", "tokenizer.ggml.bos_token_id", 100000);
    expect_clean_outcome("eos id out of range", "tokenizer.ggml.eos_token_id", 0x7fffffffu);

    /* a required tensor missing (its name changed) */
    unsigned char *c = malloc(orig_size);
    memcpy(c, orig, orig_size);
    unsigned char *p = memmem(c, 1 << 20, "output_norm.weight", 18);
    CHECK(p != NULL);
    if (p) memcpy(p, "outpux_norm", 11);
    expect_load_error("missing output_norm", c, orig_size, "output_norm");
    /* cut short in the tensor data, and in the header */
    expect_load_error("truncated data", orig, orig_size - 1000, NULL);
    expect_load_error("truncated header", orig, 4096, NULL);
    memcpy(c, orig, orig_size);
    memcpy(c, "GGUF\x07\x00\x00\x00", 8);
    expect_load_error("version 7", c, orig_size, "version");
    free(c);

    test_resource_limits(path);

    unlink(tmp_path);
    free(orig);
    inf_registry_shutdown();
    return TEST_DONE();
}
